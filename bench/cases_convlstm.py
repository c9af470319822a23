"""ConvLSTM2D(16, 3, padding="same") forward+backward on (8, 10, 32, 32, 8), the
last output, with Keras-layout weights.

The PyTorch baseline is the ConvLSTM cell PyTorch users write: per step one
``conv2d`` of ``cat([x_t, h])`` (NCHW) into the four gates, which equals Keras's
two convolutions for ``"same"`` padding and stride 1; the module takes the same
channels-last input and permutes it once.

Measured (``bench/run.py -k convlstm --threads 1``, this 2-core machine, quiet):
lamina 190 ms, Keras 267 ms, torch 154 ms (lamina/keras 0.71x, lamina/torch
1.23x; in CPU time 1.04-1.1x torch). Tried and dropped: running the steps in
torch's layout (contiguous gate blocks) costs more in the two 21 MB transpositions
than it saves in the gate arithmetic; one ``cat([x_t, h])`` convolution per step
in channels-last is within noise of the one input convolution over batch * time.
With 32 input channels and 16 filters lamina is 0.9x torch (1.08x with 32
filters): the input convolution over 8 channels is what oneDNN runs least well.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from bench.cases_core import layer_case
from bench.registry import Workload

SEQUENCES = (8, 10, 32, 32, 8)  # (batch, time, rows, cols, channels)
FILTERS, KERNEL = 16, 3


def convlstm_setup(rng: np.random.Generator) -> Workload:
    channels = SEQUENCES[-1]
    shapes = [
        (KERNEL, KERNEL, channels, 4 * FILTERS),
        (KERNEL, KERNEL, FILTERS, 4 * FILTERS),
        (4 * FILTERS,),
    ]
    weights = [rng.uniform(-0.2, 0.2, shape).astype(np.float32) for shape in shapes]
    return {"x": rng.standard_normal(SEQUENCES, dtype=np.float32), "weights": weights}


class TorchConvLSTM(nn.Module):
    """ConvLSTM as written in PyTorch: ``conv2d(cat([x_t, h]), W) -> i, f, g, o``."""

    def __init__(self, kernel: np.ndarray, recurrent: np.ndarray, bias: np.ndarray):
        super().__init__()
        joint = np.concatenate([kernel, recurrent], axis=2)  # (k, k, in + F, 4F)
        self.weight = nn.Parameter(torch.from_numpy(joint).permute(3, 2, 0, 1))
        self.bias = nn.Parameter(torch.from_numpy(bias))

    def forward(self, x):
        x = x.permute(0, 1, 4, 2, 3)  # (batch, time, channels, rows, cols)
        batch, steps, _, rows, cols = x.shape
        h = x.new_zeros(batch, FILTERS, rows, cols)
        c = torch.zeros_like(h)
        for t in range(steps):
            z = F.conv2d(torch.cat([x[:, t], h], 1), self.weight, self.bias, padding=1)
            i, f, g, o = z.chunk(4, 1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
        return h.permute(0, 2, 3, 1)


layer_case(
    "convlstm2d_fwd_bwd",
    SEQUENCES,
    lambda k: k.layers.ConvLSTM2D(FILTERS, KERNEL, padding="same"),
    lambda w: TorchConvLSTM(*w["weights"]),
    setup=convlstm_setup,
)

"""Recurrent and embedding cases, forward+backward.

LSTM(128) and GRU(128) on (64, 100, 64), last output, with Keras-layout weights;
the same LSTM on right-padded sequences (a mask); Embedding(10000, 128) on (64,
100) indices. The PyTorch baselines are what a PyTorch user writes: ``nn.LSTM`` /
``nn.GRU`` with the Keras weights loaded (GRU gates reordered from Keras's z, r, h
to torch's r, z, n; the Keras bias as ``bias_ih`` with a zero ``bias_hh``), packed
sequences for the mask, ``nn.Embedding``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from bench.cases_core import FRAMEWORKS, fwd_bwd_step, layer_case
from bench.registry import Case, Workload, register

SEQUENCES = (64, 100, 64)
UNITS = 128
VOCABULARY, DIM = 10000, 128


def recurrent_setup(gates: int, bias_shape):
    def setup(rng: np.random.Generator) -> Workload:
        features = SEQUENCES[-1]
        scale = 1 / np.sqrt(UNITS)
        weights = [
            rng.uniform(-scale, scale, (features, gates * UNITS)),
            rng.uniform(-scale, scale, (UNITS, gates * UNITS)),
            rng.uniform(-scale, scale, bias_shape),
        ]
        lengths = rng.integers(SEQUENCES[1] // 2, SEQUENCES[1] + 1, SEQUENCES[0])
        mask = np.arange(SEQUENCES[1])[None, :] < lengths[:, None]
        return {
            "x": rng.standard_normal(SEQUENCES, dtype=np.float32),
            "weights": [w.astype(np.float32) for w in weights],
            "mask": mask,
        }

    return setup


def _gates_to_torch(weight: np.ndarray, order, axis: int) -> torch.Tensor:
    blocks = np.split(weight, len(order), axis=axis)
    return torch.from_numpy(np.concatenate([blocks[i] for i in order], axis=axis))


class LastOutput(nn.Module):
    """A torch RNN returning its last output, optionally over packed sequences."""

    def __init__(self, rnn: nn.Module, mask: np.ndarray | None = None):
        super().__init__()
        self.rnn = rnn
        self.lengths = None if mask is None else torch.from_numpy(mask.sum(axis=1))

    def forward(self, x):
        if self.lengths is None:
            return self.rnn(x)[0][:, -1]
        packed = pack_padded_sequence(
            x, self.lengths, batch_first=True, enforce_sorted=False
        )
        hidden = self.rnn(packed)[1]
        return (hidden[0] if isinstance(hidden, tuple) else hidden)[0]


def torch_rnn(kind: str, masked: bool = False):
    def make(w: Workload) -> nn.Module:
        kernel, recurrent, bias = w["weights"]
        cls, order = (nn.LSTM, (0, 1, 2, 3)) if kind == "lstm" else (nn.GRU, (1, 0, 2))
        rnn = cls(SEQUENCES[-1], UNITS, batch_first=True)
        biases = (bias, np.zeros_like(bias)) if bias.ndim == 1 else bias
        with torch.no_grad():
            rnn.weight_ih_l0.copy_(_gates_to_torch(kernel, order, 1).T)
            rnn.weight_hh_l0.copy_(_gates_to_torch(recurrent, order, 1).T)
            rnn.bias_ih_l0.copy_(_gates_to_torch(biases[0], order, 0))
            rnn.bias_hh_l0.copy_(_gates_to_torch(biases[1], order, 0))
        return LastOutput(rnn, w["mask"] if masked else None)

    return make


layer_case(
    "lstm_fwd_bwd",
    SEQUENCES,
    lambda k: k.layers.LSTM(UNITS),
    torch_rnn("lstm"),
    setup=recurrent_setup(4, (4 * UNITS,)),
)
layer_case(
    "gru_fwd_bwd",
    SEQUENCES,
    lambda k: k.layers.GRU(UNITS),
    torch_rnn("gru"),
    setup=recurrent_setup(3, (2, 3 * UNITS)),
)


def masked_lstm(impl: str):
    """LSTM over right-padded sequences: lamina and Keras get the boolean mask."""

    def build(w: Workload):
        if impl == "torch":
            module = torch_rnn("lstm", masked=True)(w)
            x = torch.tensor(w["x"], requires_grad=True)
            return fwd_bwd_step(module, module, x)
        layer = FRAMEWORKS[impl].layers.LSTM(UNITS)
        layer.build(SEQUENCES)
        layer.set_weights(w["weights"])
        mask = torch.from_numpy(w["mask"])
        x = torch.tensor(w["x"], requires_grad=True)
        return fwd_bwd_step(layer, lambda inputs: layer(inputs, mask=mask), x)

    return build


register(
    Case(
        name="lstm_masked_fwd_bwd",
        setup=recurrent_setup(4, (4 * UNITS,)),
        lamina=masked_lstm("lamina"),
        keras=masked_lstm("keras"),
        torch=masked_lstm("torch"),
    )
)


# ----------------------------------------------------------------- Embedding
def embedding_setup(rng: np.random.Generator) -> Workload:
    return {
        "indices": rng.integers(0, VOCABULARY, (64, 100)),
        "table": rng.uniform(-0.05, 0.05, (VOCABULARY, DIM)).astype(np.float32),
    }


def embedding_step(impl: str):
    """Forward, ``sum().backward()``; returns the output and the table's gradient."""

    def build(w: Workload):
        indices = torch.from_numpy(w["indices"])
        if impl == "torch":
            layer = nn.Embedding(VOCABULARY, DIM, _weight=torch.from_numpy(w["table"]))
            table = layer.weight
        else:
            layer = FRAMEWORKS[impl].layers.Embedding(VOCABULARY, DIM)
            layer.build((64, 100))
            layer.set_weights([w["table"]])
            table = layer.weights[0] if impl == "lamina" else layer.weights[0].value

        def step():
            table.grad = None
            out = layer(indices)
            out.sum().backward()
            return out, table.grad

        return step

    return build


register(
    Case(
        name="embedding_fwd_bwd",
        setup=embedding_setup,
        lamina=embedding_step("lamina"),
        keras=embedding_step("keras"),
        torch=embedding_step("torch"),
    )
)

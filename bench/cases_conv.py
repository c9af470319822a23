"""Convolution cases: forward+backward of Conv1D/2D/3D, a strided ``same`` Conv2D,
DepthwiseConv2D, SeparableConv2D and Conv2DTranspose, each on channels_last data
(``[nhwc]``) and on the same workload in channels_first (``[nchw]``), so the two
layouts' times compare directly.

The PyTorch baseline is what a PyTorch user writes for the same data layout and the
same numbers: ``nn.Conv*d`` modules, called for channels_last data on permuted
views of the input (``x.permute(0, 3, 1, 2)``) whose result is permuted back;
explicit ``F.pad`` where Keras's ``same`` padding is asymmetric; the transposed
convolution computed in full and cropped to TensorFlow's window (torch's own
``padding=1, output_padding=1`` would shift it by one pixel).
"""

from __future__ import annotations

from functools import partial

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from bench.cases_core import layer_case
from bench.registry import Workload

TO_CHANNELS_FIRST = {r: (0, r + 1, *range(1, r + 1)) for r in (1, 2, 3)}
TO_CHANNELS_LAST = {r: (0, *range(2, r + 2), 1) for r in (1, 2, 3)}
KERNEL_TO_TORCH = {r: (r + 1, r, *range(r)) for r in (1, 2, 3)}
TORCH_CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}


class Baseline(nn.Module):
    """Torch modules with an optional ``F.pad`` before and crop after; for
    channels_last data, on a permuted view of the input, permuted back."""

    def __init__(self, rank, *modules, channels_last=True, pad=None, crop=None):
        super().__init__()
        self.rank, self.channels_last = rank, channels_last
        self.pad, self.crop = pad, crop
        self.body = nn.Sequential(*modules)

    def forward(self, x):
        if self.channels_last:
            x = x.permute(TO_CHANNELS_FIRST[self.rank])
        if self.pad:
            x = F.pad(x, self.pad)
        y = self.body(x)
        if self.crop:
            y = y[self.crop]
        return y.permute(TO_CHANNELS_LAST[self.rank]) if self.channels_last else y


LAYOUTS = {"nhwc": "channels_last", "nchw": "channels_first"}


def in_layout(shape, data_format):
    """A channels_last ``shape`` in ``data_format``."""
    if data_format == "channels_last":
        return shape
    return (shape[0], shape[-1], *shape[1:-1])


def both_layouts(name, shape, make_layer, make_torch, weight_shapes, layouts=LAYOUTS):
    """Register ``name[nhwc]`` and ``name[nchw]``: ``make_layer(k, data_format)``
    and ``make_torch(weights, channels_last)`` build the two sides."""
    for tag, data_format in layouts.items():
        layer_case(
            f"{name}[{tag}]",
            in_layout(shape, data_format),
            partial(make_layer, data_format=data_format),
            partial(make_torch, channels_last=data_format == "channels_last"),
            setup=setup_with(in_layout(shape, data_format), weight_shapes),
        )


def load(module: nn.Module, weight: np.ndarray, bias: np.ndarray | None = None):
    """Copy torch-layout ``weight`` (and ``bias``) into ``module``."""
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(np.ascontiguousarray(weight)))
        if bias is not None:
            module.bias.copy_(torch.from_numpy(bias))
    return module


def to_torch(kernel: np.ndarray) -> np.ndarray:
    """Keras ``(*k, a, b)`` -> torch ``(b, a, *k)``."""
    return kernel.transpose(KERNEL_TO_TORCH[kernel.ndim - 2])


def setup_with(shape, weight_shapes):
    """Input of ``shape`` and Keras-layout weights of ``weight_shapes``, scaled
    like a fan-in initializer so that outputs stay O(1)."""

    def setup(rng: np.random.Generator) -> Workload:
        weights = []
        for weight_shape in weight_shapes:
            fan_in = int(np.prod(weight_shape[:-1])) or 1
            w = rng.standard_normal(weight_shape) / np.sqrt(fan_in)
            weights.append(w.astype(np.float32))
        x = rng.standard_normal(shape, dtype=np.float32)
        return {"x": x, "weights": weights}

    return setup


def conv_case(name, rank, shape, filters, kernel, strides=1, pad=None, layouts=LAYOUTS):
    """Conv{rank}D(filters, kernel, strides, padding="same")."""
    channels = shape[-1]
    torch_padding = 0 if pad else kernel // 2

    def make_torch(w, channels_last):
        conv = TORCH_CONV[rank](channels, filters, kernel, strides, torch_padding)
        load(conv, to_torch(w["weights"][0]), w["weights"][1])
        return Baseline(rank, conv, channels_last=channels_last, pad=pad)

    both_layouts(
        name,
        shape,
        lambda k, data_format: getattr(k.layers, f"Conv{rank}D")(
            filters, kernel, strides=strides, padding="same", data_format=data_format
        ),
        make_torch,
        [(*(kernel,) * rank, channels, filters), (filters,)],
        layouts,
    )


# channels_first variants of the 2D layers only (the smoke test runs every case;
# ``python -m bench.cases_conv`` compares the layouts of every op and rank).
NHWC = {"nhwc": "channels_last"}
conv_case("conv1d_fwd_bwd", 1, (32, 256, 32), 64, 5, layouts=NHWC)
conv_case("conv2d_fwd_bwd", 2, (32, 32, 32, 16), 32, 3)
# stride 2 on even sizes: Keras pads (0, 1), so both sides pad explicitly.
conv_case(
    "conv2d_s2_fwd_bwd", 2, (32, 32, 32, 16), 32, 3, 2, pad=(0, 1, 0, 1), layouts=NHWC
)
conv_case("conv3d_fwd_bwd", 3, (4, 16, 16, 16, 8), 16, 3, layouts=NHWC)


IMAGES = (32, 32, 32, 32)  # channels_last, 32 channels


def depthwise_torch(w, channels_last):
    kernel, bias = w["weights"]
    channels, multiplier = kernel.shape[-2:]
    conv = nn.Conv2d(channels, channels * multiplier, 3, padding=1, groups=channels)
    load(conv, to_torch(kernel.reshape(3, 3, 1, channels * multiplier)), bias)
    return Baseline(2, conv, channels_last=channels_last)


both_layouts(
    "depthwise_conv2d_fwd_bwd",
    IMAGES,
    lambda k, data_format: k.layers.DepthwiseConv2D(
        3, padding="same", data_format=data_format
    ),
    depthwise_torch,
    [(3, 3, 32, 1), (32,)],
)


def separable_torch(w, channels_last):
    depthwise, pointwise, bias = w["weights"]
    channels, filters = pointwise.shape[-2:]
    dw = nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False)
    pw = nn.Conv2d(channels, filters, 1)
    load(dw, to_torch(depthwise.reshape(3, 3, 1, channels)))
    load(pw, to_torch(pointwise), bias)
    return Baseline(2, dw, pw, channels_last=channels_last)


both_layouts(
    "separable_conv2d_fwd_bwd",
    IMAGES,
    lambda k, data_format: k.layers.SeparableConv2D(
        64, 3, padding="same", data_format=data_format
    ),
    separable_torch,
    [(3, 3, 32, 1), (1, 1, 32, 64), (64,)],
)


SMALL_IMAGES = (32, 16, 16, 32)


def transpose_torch(w, channels_last):
    kernel, bias = w["weights"]
    filters, channels = kernel.shape[-2:]
    conv = nn.ConvTranspose2d(channels, filters, 3, stride=2)
    load(conv, to_torch(kernel), bias)
    # TensorFlow's `same` window of the full (33 x 33) result: the first 32 cells.
    crop = (..., slice(0, 32), slice(0, 32))
    return Baseline(2, conv, channels_last=channels_last, crop=crop)


both_layouts(
    "conv2d_transpose_s2_fwd_bwd",
    SMALL_IMAGES,
    lambda k, data_format: k.layers.Conv2DTranspose(
        16, 3, strides=2, padding="same", data_format=data_format
    ),
    transpose_torch,
    [(3, 3, 16, 32), (16,)],
)


# ------------------------------------------------- layout study (python -m)
# The measurement behind lamina.ops.convolution's layout choices: for every op and rank,
# channels_last data run as channels-last views (lamina's way; 1D lifted to 2D)
# vs copied to contiguous NCHW, and channels_first data run natively (lamina's
# way) vs converted to channels-last. fwd+bwd at the current torch threads, min
# CPU time over the rounds (robust to other processes' load).
STUDY_SPATIAL = {1: (512,), 2: (32, 32), 3: (12, 12, 12)}
STUDY_BATCH = {1: 32, 2: 16, 3: 4}
STUDY_CHANNELS = 32
CHANNELS_LAST_FORMAT = {4: torch.channels_last, 5: torch.channels_last_3d}


def _torch_op(x, weight, transpose=False, **kwargs):
    """conv/conv_transpose of a (possibly lifted-to-2D) input: a 1D weight gets
    a unit height and 1D arguments a leading identity entry when ``x`` is 4D."""
    if x.ndim == weight.ndim + 1:
        weight = weight.unsqueeze(2)
        neutral = {"padding": 0, "stride": 1, "groups": None}
        kwargs = {k: v if k == "groups" else (neutral[k], v) for k, v in kwargs.items()}
    table = TORCH_FUNCTIONAL_TRANSPOSE if transpose else TORCH_FUNCTIONAL
    return table[x.ndim](x, weight, **kwargs)


TORCH_FUNCTIONAL = {3: F.conv1d, 4: F.conv2d, 5: F.conv3d}
TORCH_FUNCTIONAL_TRANSPOSE = {
    3: F.conv_transpose1d,
    4: F.conv_transpose2d,
    5: F.conv_transpose3d,
}


def _study_ops(rank, channels=STUDY_CHANNELS):
    """name -> (fn(x, *weights), weights, input spatial size)."""
    k = (3,) * rank
    conv_w = torch.randn(2 * channels, channels, *k)
    ops = {
        "conv": (partial(_torch_op, padding=1), [conv_w], STUDY_SPATIAL[rank]),
        "transpose": (
            partial(_torch_op, transpose=True, stride=2),
            [torch.randn(channels, channels, *k)],
            tuple(n // 2 for n in STUDY_SPATIAL[rank]),
        ),
    }
    if rank < 3:
        depthwise = partial(_torch_op, padding=1, groups=channels)

        def separable(x, dw, pw):
            return _torch_op(depthwise(x, dw), pw)

        dw_w = torch.randn(channels, 1, *k)
        pw_w = torch.randn(2 * channels, channels, *(1,) * rank)
        ops["depthwise"] = (depthwise, [dw_w], STUDY_SPATIAL[rank])
        ops["separable"] = (separable, [dw_w, pw_w], STUDY_SPATIAL[rank])
    return ops


def _study_layouts(rank):
    """layout -> (data layout, into torch's layout, back)."""
    first, last = TO_CHANNELS_FIRST[rank], TO_CHANNELS_LAST[rank]

    def lift(x):
        return x.unsqueeze(2) if rank == 1 else x

    def unlift(y):
        return y.squeeze(2) if rank == 1 else y

    def views(x):
        return lift(x.permute(first))

    def views_back(y):
        return unlift(y).permute(last)

    def to_channels_last(x):
        x = lift(x)
        return x.contiguous(memory_format=CHANNELS_LAST_FORMAT[x.ndim])

    return {
        "nhwc views": ("nhwc", views, views_back),
        "nhwc->nchw copy": (
            "nhwc",
            lambda x: x.permute(first).contiguous(),
            lambda y: y.permute(last).contiguous(),
        ),
        "nchw native": ("nchw", lambda x: x, lambda y: y),
        "nchw->nhwc copy": ("nchw", to_channels_last, unlift),
        "nchw->nhwc->nchw": (
            "nchw",
            to_channels_last,
            lambda y: unlift(y).contiguous(),
        ),
    }


def _study_step(fn, weights, x, into, back):
    x = x.clone().requires_grad_()
    weights = [w.clone().requires_grad_() for w in weights]

    def run():
        x.grad = None
        for w in weights:
            w.grad = None
        back(fn(into(x), *weights)).sum().backward()

    return run


def layout_study(rounds: int = 15) -> None:
    import time

    for rank in (1, 2, 3):
        for name, (fn, weights, size) in _study_ops(rank).items():
            batch, channels = STUDY_BATCH[rank], STUDY_CHANNELS
            data = {
                "nhwc": torch.randn(batch, *size, channels),
                "nchw": torch.randn(batch, channels, *size),
            }
            steps = {
                label: _study_step(fn, weights, data[layout], into, back)
                for label, (layout, into, back) in _study_layouts(rank).items()
            }
            best = dict.fromkeys(steps, float("inf"))
            for _ in range(rounds):
                for label, run in steps.items():
                    start = time.thread_time()
                    run()
                    best[label] = min(best[label], time.thread_time() - start)
            cells = "  ".join(f"{k} {v * 1e3:7.2f} ms" for k, v in best.items())
            print(f"{rank}D {name:10s} {cells}", flush=True)


if __name__ == "__main__":  # python -m bench.cases_conv [threads]
    import sys

    torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
    layout_study()

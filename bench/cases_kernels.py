"""The slow kernels of issue 17 at the issue's own shapes, forward+backward:
Conv2DTranspose(32, 3, strides 2) of (32, 32, 32, 64), DepthwiseConv2D(3) of
(32, 64, 64, 32), MaxPooling2D(2) of (32, 64, 64, 32) in channels_first,
Embedding(10000, 128) of (256, 100) and Dense(1024) of (1024, 1024); and small
Dense/Conv2D training steps in float32 vs mixed_bfloat16 (item 4). The issue's
other rows are already cases at its shapes: ``lstm_fwd_bwd`` (LSTM(128) of (64,
100, 64)) and ``max_pooling2d_fwd_bwd`` (channels_last).

The spatial layers run on channels_last data (``[nhwc]``; plain torch on
permuted views, i.e. torch's channels-last kernels) and on the same workload in
channels_first (``[nchw]``; plain torch in its native NCHW layout), so one run
gives lamina, Keras 3, plain torch channels_last and plain torch NCHW side by
side::

    .venv/bin/python bench/run.py -k issue17 --threads 1
    .venv/bin/python bench/run.py -k max_pooling2d_fwd_bwd
    .venv/bin/python bench/run.py -k lstm_fwd_bwd
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from bench.cases_conv import Baseline, both_layouts, load, to_torch
from bench.cases_core import (
    FRAMEWORKS,
    dense_weights,
    fwd_bwd_step,
    layer_case,
    torch_linear,
)
from bench.cases_pooling import pooling_case
from bench.cases_rnn import embedding_step
from bench.registry import Case, CaseMismatch, Workload, register
from lamina.ops.convolution import conv_transpose

IMAGES = (32, 64, 64, 32)  # channels_last
TRANSPOSE_IMAGES = (32, 32, 32, 64)


def transpose_torch(w, channels_last):
    """ConvTranspose2d(3, stride 2) computed in full and cropped to TensorFlow's
    ``same`` window: the first 2n cells of the 2n + 1."""
    kernel, bias = w["weights"]
    filters, channels = kernel.shape[-2:]
    conv = nn.ConvTranspose2d(channels, filters, 3, stride=2)
    load(conv, to_torch(kernel), bias)
    size = 2 * TRANSPOSE_IMAGES[1]
    crop = (..., slice(0, size), slice(0, size))
    return Baseline(2, conv, channels_last=channels_last, crop=crop)


both_layouts(
    "issue17_conv2d_transpose_fwd_bwd",
    TRANSPOSE_IMAGES,
    lambda k, data_format: k.layers.Conv2DTranspose(
        32, 3, strides=2, padding="same", data_format=data_format
    ),
    transpose_torch,
    [(3, 3, 32, 64), (32,)],
)


def depthwise_torch(w, channels_last):
    kernel, bias = w["weights"]
    channels = kernel.shape[-2]
    conv = nn.Conv2d(channels, channels, 3, padding=1, groups=channels)
    load(conv, to_torch(kernel.reshape(3, 3, 1, channels)), bias)
    return Baseline(2, conv, channels_last=channels_last)


both_layouts(
    "issue17_depthwise_conv2d_fwd_bwd",
    IMAGES,
    lambda k, data_format: k.layers.DepthwiseConv2D(
        3, padding="same", data_format=data_format
    ),
    depthwise_torch,
    [(3, 3, 32, 1), (32,)],
)


POOLED = (IMAGES[0], IMAGES[1] // 2, IMAGES[2] // 2, IMAGES[3])
pooling_case(
    "issue17_max_pooling2d_fwd_bwd[nchw]",
    (IMAGES[0], IMAGES[3], *IMAGES[1:3]),
    (POOLED[0], POOLED[3], *POOLED[1:3]),
    lambda k: k.layers.MaxPooling2D(2, data_format="channels_first"),
    lambda x: F.max_pool2d(x, 2),
)


def embedding_setup(rng: np.random.Generator) -> Workload:
    return {
        "indices": rng.integers(0, 10000, (256, 100)),
        "table": rng.uniform(-0.05, 0.05, (10000, 128)).astype(np.float32),
    }


register(
    Case(
        name="issue17_embedding_fwd_bwd",
        setup=embedding_setup,
        lamina=embedding_step("lamina"),
        keras=embedding_step("keras"),
        torch=embedding_step("torch"),
    )
)


def dense_setup(rng: np.random.Generator) -> Workload:
    return {
        "x": rng.standard_normal((1024, 1024), dtype=np.float32),
        "weights": dense_weights(rng, (1024, 1024)),
    }


layer_case(
    "issue17_dense_fwd_bwd",
    (1024, 1024),
    lambda k: k.layers.Dense(1024),
    torch_linear,
    setup=dense_setup,
)


# ------------------------------------------------------- mixed precision (item 4)
# Dense and Conv2D forward+backward in float32 and in mixed_bfloat16 (torch: the
# same module under torch.autocast), at shapes small enough for CPUs whose
# bfloat16 products take a slow fallback (lamina/mixed_precision.py).
MIXED_SHAPES = {"dense": (128, 256), "conv2d": (8, 16, 16, 16)}
MIXED_UNITS = 32  # Dense units = 8x this; Conv2D filters


def mixed_layer(k, kind):
    if kind == "dense":
        return k.layers.Dense(8 * MIXED_UNITS)
    return k.layers.Conv2D(MIXED_UNITS, 3, padding="same")


class Autocast(nn.Module):
    """``module`` under CPU bfloat16 autocast (or not), answering float32."""

    def __init__(self, module, enabled):
        super().__init__()
        self.module, self.enabled = module, enabled

    def forward(self, x):
        with torch.autocast("cpu", torch.bfloat16, enabled=self.enabled):
            return self.module(x).float()


def mixed_torch(kind, w, enabled):
    kernel, bias = w["weights"]
    if kind == "dense":
        module = torch_linear(w)
    else:
        module = load(nn.Conv2d(16, MIXED_UNITS, 3, padding=1), to_torch(kernel), bias)
        module = Baseline(2, module)
    return Autocast(module, enabled)


def mixed_case(kind, policy):
    shape = MIXED_SHAPES[kind]
    bf16 = policy == "mixed_bfloat16"

    def setup(rng: np.random.Generator) -> Workload:
        dense = kind == "dense"
        units = 8 * MIXED_UNITS if dense else MIXED_UNITS
        kernel_shape = (shape[-1], units) if dense else (3, 3, 16, units)
        fan_in = int(np.prod(kernel_shape[:-1]))
        kernel = rng.standard_normal(kernel_shape) / np.sqrt(fan_in)
        return {
            "x": rng.standard_normal(shape, dtype=np.float32),
            "weights": [
                kernel.astype(np.float32),
                np.zeros(units, np.float32),
            ],
        }

    def framework(impl):
        def build(w: Workload):
            k = FRAMEWORKS[impl]
            k.mixed_precision.set_global_policy(policy)
            try:
                layer = mixed_layer(k, kind)
            finally:
                k.mixed_precision.set_global_policy("float32")
            layer.build(shape)
            layer.set_weights(w["weights"])
            x = torch.tensor(w["x"], requires_grad=True)
            return fwd_bwd_step(layer, lambda inputs: layer(inputs).float(), x)

        return build

    def torch_build(w: Workload):
        module = mixed_torch(kind, w, bf16)
        return fwd_bwd_step(module, module, torch.tensor(w["x"], requires_grad=True))

    register(
        Case(
            name=f"issue17_{kind}_fwd_bwd[{policy}]",
            setup=setup,
            lamina=framework("lamina"),
            keras=framework("keras"),
            torch=torch_build,
            check=check_close(5e-2 if bf16 else 1e-5),
        )
    )


def check_close(atol):
    """All implementations agree with torch within ``atol`` (bfloat16 keeps 8
    bits of mantissa: outputs of size ~1 agree to a few 1e-2)."""

    def check(w: Workload, outputs) -> None:
        reference = outputs["torch"]
        for impl, arrays in outputs.items():
            for got, want in zip(arrays, reference):
                if got.shape != want.shape or not np.allclose(got, want, atol=atol):
                    raise CaseMismatch(f"{impl} differs from torch beyond {atol}")

    return check


for _kind in MIXED_SHAPES:
    for _policy in ("float32", "mixed_bfloat16"):
        mixed_case(_kind, _policy)


# ------------------------------------------------ formulation study (python -m)
# The measurements behind keeping torch's kernels for these layers: each row is
# one workload of the issue, each cell a formulation computing the same numbers
# (forward + backward of a fixed random upstream gradient; min CPU time over the
# rounds on 1 thread, robust to other processes' load).
def _subpixel_transpose(x, kernel):
    """Conv2DTranspose(3, strides 2, "same") on NHWC ``x`` as one 2x2 convolution
    with 4x the filters (one per output phase) and a pixel shuffle."""
    taps = torch.tensor([[2, 0], [3, 1]])  # [phase, offset] -> tap; 3: a zero tap
    padded = F.pad(kernel, (0, 0, 0, 0, 0, 1, 0, 1))
    weight = padded[taps[:, None, :, None], taps[None, :, None, :]]
    filters, channels = kernel.shape[-2:]
    weight = weight.permute(0, 1, 4, 5, 2, 3).reshape(4 * filters, channels, 2, 2)
    z = F.conv2d(F.pad(x.permute(0, 3, 1, 2), (1, 0, 1, 0)), weight)
    n, _, h, w = z.shape
    z = z.permute(0, 2, 3, 1).reshape(n, h, w, 2, 2, filters)
    return z.transpose(2, 3).reshape(n, 2 * h, 2 * w, filters)


def _pairs_max(x):
    """MaxPooling2D(2) on NHWC as two max-with-index reductions (first maximum in
    row-major order, as torch and TensorFlow route the gradient)."""
    n, h, w, c = x.shape
    return x.view(n, h // 2, 2, w // 2, 2, c).max(4).values.max(2).values


def _study_rows():
    x = torch.randn(32, 32, 32, 64)
    kernel = torch.randn(3, 3, 32, 64) * 0.05

    images = torch.randn(32, 64, 64, 32)
    table = torch.randn(10000, 128)
    indices = torch.randint(0, 10000, (256 * 100,))
    return {
        "Conv2DTranspose": (
            [x, kernel],
            {
                "lamina (torch, views)": lambda x, k: conv_transpose(
                    x, k, 2, "same", data_format="channels_last"
                ),
                "sub-pixel": _subpixel_transpose,
            },
        ),
        "MaxPooling2D": (
            [images],
            {
                "lamina (torch, views)": lambda x: F.max_pool2d(
                    x.permute(0, 3, 1, 2), 2
                ).permute(0, 2, 3, 1),
                "pairwise max": _pairs_max,
            },
        ),
        "Embedding": (
            [table],
            {
                "index_select/index_add_": lambda t: _lookup_with(t, indices, "index"),
                "index_select/scatter_add_": lambda t: _lookup_with(
                    t, indices, "scatter"
                ),
                "F.embedding": lambda t: F.embedding(indices, t),
            },
        ),
    }


class _AddRows(torch.autograd.Function):
    @staticmethod
    def forward(ctx, table, indices, how):
        ctx.save_for_backward(indices)
        ctx.rows, ctx.how = table.shape[0], how
        return table.index_select(0, indices)

    @staticmethod
    def backward(ctx, grad):
        (indices,) = ctx.saved_tensors
        out = grad.new_zeros(ctx.rows, grad.shape[1])
        if ctx.how == "index":
            return out.index_add_(0, indices, grad), None, None
        index = indices.unsqueeze(1).expand(-1, grad.shape[1])
        return out.scatter_add_(0, index, grad), None, None


def _lookup_with(table, indices, how):
    return _AddRows.apply(table, indices, how)


def _close(a, b) -> bool:
    """Equal to float32 rounding, relative to the largest value."""
    return bool((a - b).abs().max() <= 1e-5 * b.abs().max().clamp(min=1))


def study(rounds: int = 9) -> None:
    import time

    for row, (inputs, formulations) in _study_rows().items():
        first = next(iter(formulations.values()))
        upstream = torch.randn_like(first(*inputs))
        best = dict.fromkeys(formulations, float("inf"))
        reference = None
        for _ in range(rounds):
            for label, fn in formulations.items():
                leaves = [t.clone().requires_grad_() for t in inputs]
                start = time.thread_time()
                out = fn(*leaves)
                out.backward(upstream)
                best[label] = min(best[label], time.thread_time() - start)
                grads = [out.detach(), *(t.grad for t in leaves)]
                if reference is None:
                    reference = grads
                elif not all(map(_close, grads, reference)):
                    raise AssertionError(f"{row}: {label} computes something else")
            reference = None
        cells = "  ".join(f"{k} {v * 1e3:7.2f} ms" for k, v in best.items())
        print(f"{row:16s} {cells}", flush=True)


if __name__ == "__main__":  # python -m bench.cases_kernels [threads]
    import sys

    torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
    study()

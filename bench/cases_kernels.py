"""The slow kernels of issue 17 at the issue's own shapes, forward+backward:
Conv2DTranspose(32, 3, strides 2), DepthwiseConv2D(3), MaxPooling2D(2),
Embedding(10000, 128), LSTM(128) and Dense(1024); and Dense/Conv2D training
steps in float32 vs mixed_bfloat16 (item 4).

The spatial layers run twice: on channels_last data (``[nhwc]``; plain torch on
permuted views, i.e. torch's channels-last kernels) and on the same workload in
channels_first (``[nchw]``; plain torch in its native NCHW layout), so one run
gives lamina, Keras 3, plain torch channels_last and plain torch NCHW side by
side. (The smaller shapes of the other families' files stay as they are.)

    .venv/bin/python bench/run.py -k issue17
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
from bench.cases_pooling import nchw, pooling_case
from bench.cases_rnn import embedding_step, recurrent_setup, torch_rnn
from bench.registry import Case, CaseMismatch, Workload, register

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
    "issue17_max_pooling2d_fwd_bwd[nhwc]",
    IMAGES,
    POOLED,
    lambda k: k.layers.MaxPooling2D(2),
    nchw(lambda x: F.max_pool2d(x, 2)),
)
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

layer_case(
    "issue17_lstm_fwd_bwd",
    (64, 100, 64),
    lambda k: k.layers.LSTM(128),
    torch_rnn("lstm"),
    setup=recurrent_setup(4, (4 * 128,)),
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
MIXED_SHAPES = {"dense": (256, 512), "conv2d": (32, 32, 32, 16)}


def mixed_layer(k, kind):
    if kind == "dense":
        return k.layers.Dense(512)
    return k.layers.Conv2D(32, 3, padding="same")


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
        module = load(nn.Conv2d(16, 32, 3, padding=1), to_torch(kernel), bias)
        module = Baseline(2, module)
    return Autocast(module, enabled)


def mixed_case(kind, policy):
    shape = MIXED_SHAPES[kind]
    bf16 = policy == "mixed_bfloat16"

    def setup(rng: np.random.Generator) -> Workload:
        kernel_shape = (512, 512) if kind == "dense" else (3, 3, 16, 32)
        fan_in = int(np.prod(kernel_shape[:-1]))
        kernel = rng.standard_normal(kernel_shape) / np.sqrt(fan_in)
        return {
            "x": rng.standard_normal(shape, dtype=np.float32),
            "weights": [
                kernel.astype(np.float32),
                np.zeros(32 if kind != "dense" else 512, np.float32),
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

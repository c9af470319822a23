"""Pooling and spatial reshaping cases: forward+backward of MaxPooling1D/2D,
AveragePooling2D/3D, GlobalAveragePooling2D, GlobalMaxPooling2D, UpSampling2D
(nearest, bilinear), ZeroPadding2D and Cropping2D on channels_last images.

The backward pass receives a fixed random upstream gradient (what the next layer
of a network hands back), except in the ``[sum]`` variant of MaxPooling2D, which
backpropagates ``out.sum()`` as the other benchmark families do: its broadcast
(stride-0) gradient is where torch's channels-last pooling backward falls off its
fast path and lamina's gradient-layout guard pays.

The PyTorch baseline is what a PyTorch user writes for channels_last data: the
``torch.nn.functional`` op on the permuted view ``x.permute(0, 3, 1, 2)``, permuted
back (torch's channels-last kernels then run); ``amax``/``mean`` for global
pooling; slicing for cropping.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from bench.cases_core import FRAMEWORKS, Lambda
from bench.registry import Case, Workload, register

IMAGES = (32, 64, 64, 32)  # channels_last, 16 MiB of float32
SMALL_IMAGES = (32, 32, 32, 32)  # for upsampling: a 16 MiB output
SEQUENCES = (64, 512, 64)
VOLUMES = (8, 16, 32, 32, 32)


def nchw(fn):
    """``fn`` applied to the channels-first view of a channels_last image batch."""
    return lambda x: fn(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)


def setup_for(shape, output_shape):
    def setup(rng: np.random.Generator) -> Workload:
        return {
            "x": rng.standard_normal(shape, dtype=np.float32),
            "g": rng.standard_normal(output_shape, dtype=np.float32),
        }

    return setup


def step_for(fn, w: Workload, upstream: str):
    """Forward, then backward of a fixed upstream gradient (``"random"``) or of
    ``out.sum()`` (``"sum"``); returns the output and the input gradient."""
    x = torch.tensor(w["x"], requires_grad=True)
    g = torch.from_numpy(w["g"])

    def step():
        x.grad = None
        out = fn(x)
        if upstream == "sum":
            out.sum().backward()
        else:
            out.backward(g)
        return out, x.grad

    return step


def pooling_case(name, shape, output_shape, make_layer, torch_fn, upstream="random"):
    """Register ``name``: ``make_layer(k)`` builds the layer with lamina or Keras,
    ``torch_fn`` is the hand-written PyTorch function."""

    def framework(impl):
        def build(w: Workload):
            return step_for(make_layer(FRAMEWORKS[impl]), w, upstream)

        return build

    register(
        Case(
            name=name,
            setup=setup_for(shape, output_shape),
            lamina=framework("lamina"),
            keras=framework("keras"),
            torch=lambda w: step_for(Lambda(torch_fn), w, upstream),
        )
    )


def pooled(shape):
    return (shape[0], *(n // 2 for n in shape[1:-1]), shape[-1])


def upsampled(shape):
    return (shape[0], *(n * 2 for n in shape[1:-1]), shape[-1])


pooling_case(
    "max_pooling2d_fwd_bwd",
    IMAGES,
    pooled(IMAGES),
    lambda k: k.layers.MaxPooling2D(2),
    nchw(lambda x: F.max_pool2d(x, 2)),
)
pooling_case(
    "max_pooling2d_fwd_bwd[sum]",
    IMAGES,
    pooled(IMAGES),
    lambda k: k.layers.MaxPooling2D(2),
    nchw(lambda x: F.max_pool2d(x, 2)),
    upstream="sum",
)
pooling_case(
    "max_pooling2d_3s2_same_fwd_bwd",
    IMAGES,
    pooled(IMAGES),
    lambda k: k.layers.MaxPooling2D(3, strides=2, padding="same"),
    # TensorFlow's window for even sizes: one -inf cell after, none before.
    nchw(lambda x: F.max_pool2d(F.pad(x, (0, 1, 0, 1), value=-float("inf")), 3, 2)),
)
pooling_case(
    "average_pooling2d_fwd_bwd",
    IMAGES,
    pooled(IMAGES),
    lambda k: k.layers.AveragePooling2D(2),
    nchw(lambda x: F.avg_pool2d(x, 2)),
)
pooling_case(
    "max_pooling1d_fwd_bwd",
    SEQUENCES,
    pooled(SEQUENCES),
    lambda k: k.layers.MaxPooling1D(2),
    lambda x: F.max_pool1d(x.permute(0, 2, 1), 2).permute(0, 2, 1),
)
pooling_case(
    "average_pooling3d_fwd_bwd",
    VOLUMES,
    pooled(VOLUMES),
    lambda k: k.layers.AveragePooling3D(2),
    lambda x: F.avg_pool3d(x.permute(0, 4, 1, 2, 3), 2).permute(0, 2, 3, 4, 1),
)
pooling_case(
    "global_average_pooling2d_fwd_bwd",
    IMAGES,
    (IMAGES[0], IMAGES[-1]),
    lambda k: k.layers.GlobalAveragePooling2D(),
    lambda x: x.mean((1, 2)),
)
pooling_case(
    "global_max_pooling2d_fwd_bwd",
    IMAGES,
    (IMAGES[0], IMAGES[-1]),
    lambda k: k.layers.GlobalMaxPooling2D(),
    lambda x: x.amax((1, 2)),
)
pooling_case(
    "up_sampling2d_nearest_fwd_bwd",
    SMALL_IMAGES,
    upsampled(SMALL_IMAGES),
    lambda k: k.layers.UpSampling2D(2),
    nchw(lambda x: F.interpolate(x, scale_factor=2, mode="nearest")),
)
pooling_case(
    "up_sampling2d_bilinear_fwd_bwd",
    SMALL_IMAGES,
    upsampled(SMALL_IMAGES),
    lambda k: k.layers.UpSampling2D(2, interpolation="bilinear"),
    nchw(lambda x: F.interpolate(x, scale_factor=2, mode="bilinear")),
)
pooling_case(
    "zero_padding2d_fwd_bwd",
    IMAGES,
    (IMAGES[0], IMAGES[1] + 2, IMAGES[2] + 2, IMAGES[3]),
    lambda k: k.layers.ZeroPadding2D(1),
    lambda x: F.pad(x, (0, 0, 1, 1, 1, 1)),
)
pooling_case(
    "cropping2d_fwd_bwd",
    IMAGES,
    (IMAGES[0], IMAGES[1] - 4, IMAGES[2] - 8, IMAGES[3]),
    lambda k: k.layers.Cropping2D(((2, 2), (4, 4))),
    lambda x: x[:, 2:-2, 4:-4],
)

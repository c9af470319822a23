"""Convolution cases: forward+backward of Conv1D/2D/3D, a strided ``same`` Conv2D,
DepthwiseConv2D, SeparableConv2D and Conv2DTranspose on channels_last data.

The PyTorch baseline is what a PyTorch user writes for the same data layout and the
same numbers: ``nn.Conv*d`` modules called on permuted views of the channels_last
input (``x.permute(0, 3, 1, 2)``), whose result is permuted back; explicit
``F.pad`` where Keras's ``same`` padding is asymmetric; the transposed convolution
computed in full and cropped to TensorFlow's window (torch's own ``padding=1,
output_padding=1`` would shift it by one pixel).
"""

from __future__ import annotations

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


class ChannelsLast(nn.Module):
    """Torch modules applied to channels_last data: permuted views in and out, an
    optional ``F.pad`` before and crop after (both in torch's layout)."""

    def __init__(self, rank, *modules, pad=None, crop=None):
        super().__init__()
        self.rank, self.pad, self.crop = rank, pad, crop
        self.body = nn.Sequential(*modules)

    def forward(self, x):
        x = x.permute(TO_CHANNELS_FIRST[self.rank])
        if self.pad:
            x = F.pad(x, self.pad)
        y = self.body(x)
        if self.crop:
            y = y[self.crop]
        return y.permute(TO_CHANNELS_LAST[self.rank])


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


def conv_case(name, rank, shape, filters, kernel, strides=1, pad=None):
    """Conv{rank}D(filters, kernel, strides, padding="same")."""
    channels = shape[-1]
    torch_padding = 0 if pad else kernel // 2

    def make_torch(w):
        conv = TORCH_CONV[rank](channels, filters, kernel, strides, torch_padding)
        load(conv, to_torch(w["weights"][0]), w["weights"][1])
        return ChannelsLast(rank, conv, pad=pad)

    layer_case(
        name,
        shape,
        lambda k: getattr(k.layers, f"Conv{rank}D")(
            filters, kernel, strides=strides, padding="same"
        ),
        make_torch,
        setup=setup_with(shape, [(*(kernel,) * rank, channels, filters), (filters,)]),
    )


conv_case("conv1d_fwd_bwd", 1, (32, 256, 32), 64, 5)
conv_case("conv2d_fwd_bwd", 2, (32, 32, 32, 16), 32, 3)
# stride 2 on even sizes: Keras pads (0, 1), so both sides pad explicitly.
conv_case("conv2d_s2_fwd_bwd", 2, (32, 32, 32, 16), 32, 3, 2, pad=(0, 1, 0, 1))
conv_case("conv3d_fwd_bwd", 3, (4, 16, 16, 16, 8), 16, 3)


IMAGES = (32, 32, 32, 32)  # channels_last, 32 channels


def depthwise_torch(w):
    kernel, bias = w["weights"]
    channels, multiplier = kernel.shape[-2:]
    conv = nn.Conv2d(channels, channels * multiplier, 3, padding=1, groups=channels)
    load(conv, to_torch(kernel.reshape(3, 3, 1, channels * multiplier)), bias)
    return ChannelsLast(2, conv)


layer_case(
    "depthwise_conv2d_fwd_bwd",
    IMAGES,
    lambda k: k.layers.DepthwiseConv2D(3, padding="same"),
    depthwise_torch,
    setup=setup_with(IMAGES, [(3, 3, 32, 1), (32,)]),
)


def separable_torch(w):
    depthwise, pointwise, bias = w["weights"]
    channels, filters = pointwise.shape[-2:]
    dw = nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False)
    pw = nn.Conv2d(channels, filters, 1)
    load(dw, to_torch(depthwise.reshape(3, 3, 1, channels)))
    load(pw, to_torch(pointwise), bias)
    return ChannelsLast(2, dw, pw)


layer_case(
    "separable_conv2d_fwd_bwd",
    IMAGES,
    lambda k: k.layers.SeparableConv2D(64, 3, padding="same"),
    separable_torch,
    setup=setup_with(IMAGES, [(3, 3, 32, 1), (1, 1, 32, 64), (64,)]),
)


SMALL_IMAGES = (32, 16, 16, 32)


def transpose_torch(w):
    kernel, bias = w["weights"]
    filters, channels = kernel.shape[-2:]
    conv = nn.ConvTranspose2d(channels, filters, 3, stride=2)
    load(conv, to_torch(kernel), bias)
    # TensorFlow's `same` window of the full (33 x 33) result: the first 32 cells.
    return ChannelsLast(2, conv, crop=(..., slice(0, 32), slice(0, 32)))


layer_case(
    "conv2d_transpose_s2_fwd_bwd",
    SMALL_IMAGES,
    lambda k: k.layers.Conv2DTranspose(16, 3, strides=2, padding="same"),
    transpose_torch,
    setup=setup_with(SMALL_IMAGES, [(3, 3, 16, 32), (16,)]),
)

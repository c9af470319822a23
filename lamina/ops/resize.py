"""Upsampling by integer factors with TensorFlow/JAX resize semantics (half-pixel
centres, no antialiasing), for 1D, 2D and 3D inputs in either data format.

- ``nearest`` repeats each cell ``size`` times (torch's ``interpolate`` in
  ``nearest`` mode, exact for integer factors). ``area`` is the same thing here:
  each output cell lies inside one input cell.
- ``bilinear`` samples input position ``(i + 0.5) / size - 0.5`` for output cell
  ``i`` and clamps at the edges: torch's ``interpolate`` with
  ``align_corners=False`` computes exactly TensorFlow's ``resize_bilinear``.
- ``bicubic`` (Keys' kernel with a = -0.5), ``lanczos3`` and ``lanczos5``: one
  matrix per axis, ``out = M @ in`` along it, whose taps falling outside the input
  are dropped and the rest renormalized, as TensorFlow and JAX do. torch's own
  bicubic uses a = -0.75 and clamped taps, so Keras 3's torch backend gives other
  numbers there (and has no Lanczos).

channels_last inputs reach torch's kernels as channels-last views, as in
``lamina.ops.pooling``.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch
import torch.nn.functional as F

from lamina.ops import shapes
from lamina.ops.pooling import (
    from_torch_layout,
    guard_gradient_layout,
    is_channels_last,
    spatial_axes,
    to_torch_layout,
)

__all__ = ["INTERPOLATIONS", "resize_matrix", "upsample"]


def _keys_cubic(x):
    """Keys' cubic convolution kernel with a = -0.5 (TensorFlow's and JAX's)."""
    x = np.abs(x)
    near = ((1.5 * x - 2.5) * x) * x + 1.0
    far = ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0
    return np.where(x < 1.0, near, np.where(x < 2.0, far, 0.0))


def _lanczos(radius: int):
    def kernel(x):
        x = np.abs(x)
        safe = np.where(x == 0, 1.0, x)
        value = radius * np.sin(np.pi * safe) * np.sin(np.pi * safe / radius)
        value = value / (np.pi**2 * safe**2)
        return np.where(x == 0, 1.0, np.where(x < radius, value, 0.0))

    return kernel


KERNELS = {"bicubic": _keys_cubic, "lanczos3": _lanczos(3), "lanczos5": _lanczos(5)}
TORCH_MODES = {"nearest": "nearest", "area": "nearest", "bilinear": "bilinear"}
INTERPOLATIONS = (*TORCH_MODES, *KERNELS)


@functools.lru_cache(maxsize=256)
def resize_matrix(n: int, factor: int, method: str) -> np.ndarray:
    """The ``(n * factor, n)`` float64 matrix upsampling one axis by ``factor``
    with ``method``'s kernel: output cell ``i`` samples input position
    ``(i + 0.5) / factor - 0.5``; each row is normalized to sum to 1."""
    centres = (np.arange(n * factor) + 0.5) / factor - 0.5
    weights = KERNELS[method](centres[:, None] - np.arange(n)[None, :])
    return weights / weights.sum(axis=1, keepdims=True)


def _upsample_by_matrices(inputs, size, method, axes):
    x = inputs
    for axis, factor in zip(axes, size):
        if factor == 1:
            continue
        shape = x.shape
        n = shape[axis]
        matrix = torch.from_numpy(resize_matrix(n, factor, method))
        matrix = matrix.to(dtype=x.dtype, device=x.device)
        outer, inner = math.prod(shape[:axis]), math.prod(shape[axis + 1 :])
        x = torch.matmul(matrix, x.reshape(outer, n, inner))
        x = x.reshape(*shape[:axis], n * factor, *shape[axis + 1 :])
    return x


def upsample(inputs, size, interpolation="nearest", data_format=None):
    """Upsample every spatial axis of ``inputs`` by its integer factor in ``size``.

    ``inputs``: ``(batch, *spatial, channels)`` or ``(batch, channels, *spatial)``;
    each spatial length ``n`` becomes ``n * size`` (``shapes.upsampled_length``).
    ``interpolation``: one of ``INTERPOLATIONS`` (see the module docstring);
    ``bilinear`` needs 2 spatial axes, the matrix methods work for any number.
    """
    rank = inputs.ndim - 2
    size = (size,) * rank if isinstance(size, int) else tuple(size)
    channels_last = is_channels_last(data_format)
    if interpolation in KERNELS:
        axes = spatial_axes(inputs.ndim, channels_last)
        return _upsample_by_matrices(inputs, size, interpolation, axes)
    x = to_torch_layout(inputs, rank, channels_last)
    factors = (1, *size) if rank == 1 else size  # 1D runs lifted to 2D
    lengths = tuple(shapes.upsampled_length(n, f) for n, f in zip(x.shape[2:], factors))
    mode = TORCH_MODES[interpolation]
    options = {"align_corners": False} if mode == "bilinear" else {}
    outputs = F.interpolate(x, size=lengths, mode=mode, **options)
    outputs = guard_gradient_layout(outputs, channels_last)
    return from_torch_layout(outputs, rank, channels_last)

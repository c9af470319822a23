"""Resampling with TensorFlow/JAX semantics (half-pixel centres): upsampling by
integer factors for 1D, 2D and 3D inputs in either data format (the UpSampling
layers), and the per-axis weight matrices of ``ops.image.resize`` and
``ops.image.scale_and_translate``.

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

__all__ = [
    "INTERPOLATIONS",
    "KERNELS",
    "apply_matrix",
    "area_matrix",
    "resize_matrix",
    "upsample",
    "weight_matrix",
]


def _triangle(x):
    return torch.clamp(1.0 - x, min=0.0)


def _keys_cubic(x):
    """Keys' cubic convolution kernel with a = -0.5 (TensorFlow's and JAX's)."""
    near = ((1.5 * x - 2.5) * x) * x + 1.0
    far = ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0
    return torch.where(x < 1.0, near, torch.where(x < 2.0, far, 0.0))


def _lanczos(radius: int):
    def kernel(x):
        safe = torch.where(x > 1e-3, x, 1.0)
        value = radius * torch.sin(math.pi * safe) * torch.sin(math.pi * safe / radius)
        value = torch.where(x > 1e-3, value / (math.pi**2 * safe**2), 1.0)
        return torch.where(x > radius, 0.0, value)

    return kernel


KERNELS = {
    "linear": _triangle,
    "bicubic": _keys_cubic,
    "lanczos3": _lanczos(3),
    "lanczos5": _lanczos(5),
}
TORCH_MODES = {"nearest": "nearest", "area": "nearest", "bilinear": "bilinear"}
INTERPOLATIONS = (*TORCH_MODES, "bicubic", "lanczos3", "lanczos5")


def weight_matrix(in_size, out_size, method, scale, translation=0.0, antialias=False):
    """The ``(out_size, in_size)`` matrix resampling one axis, as JAX's and
    TensorFlow's ``scale_and_translate``.

    Output cell ``i`` samples input position ``(i + 0.5 - translation) / scale -
    0.5`` with ``method``'s kernel (``KERNELS``), stretched by ``1 / scale`` when
    ``antialias`` and downsampling; each row is normalized to sum to 1 (taps
    outside the input are dropped), and rows sampling outside ``[-0.5, in_size -
    0.5]`` are 0. ``scale`` and ``translation`` may be tensors; the matrix has
    their float dtype.
    """
    scale = torch.as_tensor(scale)
    dtype = scale.dtype if scale.is_floating_point() else torch.float32
    scale = scale.to(dtype)
    translation = torch.as_tensor(translation, dtype=dtype, device=scale.device)
    inverse = 1.0 / scale
    stretch = torch.clamp(inverse, min=1.0) if antialias else 1.0
    out = torch.arange(out_size, dtype=dtype, device=scale.device)
    sample = (out + 0.5 - translation) * inverse - 0.5
    taps = torch.arange(in_size, dtype=dtype, device=scale.device)
    weights = KERNELS[method](torch.abs(sample[:, None] - taps[None, :]) / stretch)
    total = weights.sum(dim=1, keepdim=True)
    tiny = 1000.0 * float(np.finfo(np.float32).eps)
    weights = torch.where(
        torch.abs(total) > tiny, weights / torch.where(total != 0, total, 1.0), 0.0
    )
    inside = (sample >= -0.5) & (sample <= in_size - 0.5)
    return torch.where(inside[:, None], weights, 0.0)


def area_matrix(in_size: int, out_size: int) -> torch.Tensor:
    """The ``(out_size, in_size)`` float64 matrix of TensorFlow's ``area`` resize:
    output cell ``i`` averages the input over ``[i, i + 1] * in_size / out_size``,
    each input cell weighted by the length it overlaps."""
    ratio = in_size / out_size
    low = torch.arange(out_size, dtype=torch.float64)[:, None] * ratio
    cells = torch.arange(in_size, dtype=torch.float64)[None, :]
    overlap = torch.minimum(low + ratio, cells + 1) - torch.maximum(low, cells)
    return torch.clamp(overlap, min=0.0) / ratio


@functools.lru_cache(maxsize=256)
def resize_matrix(n: int, factor: int, method: str) -> torch.Tensor:
    """The ``(n * factor, n)`` float64 matrix upsampling one axis by ``factor``
    with ``method``'s kernel (``weight_matrix`` at scale ``factor``)."""
    scale = torch.tensor(float(factor), dtype=torch.float64)
    return weight_matrix(n, n * factor, method, scale)


def apply_matrix(x, matrix, axis):
    """``matrix @ x`` along ``axis`` (``matrix`` is ``(out, in)``)."""
    shape = x.shape
    n = shape[axis]
    outer, inner = math.prod(shape[:axis]), math.prod(shape[axis + 1 :])
    matrix = matrix.to(dtype=x.dtype, device=x.device)
    x = torch.matmul(matrix, x.reshape(outer, n, inner))
    return x.reshape(*shape[:axis], matrix.shape[0], *shape[axis + 1 :])


def _upsample_by_matrices(inputs, size, method, axes):
    x = inputs
    for axis, factor in zip(axes, size):
        if factor != 1:
            x = apply_matrix(x, resize_matrix(x.shape[axis], factor, method), axis)
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
    if interpolation not in TORCH_MODES:
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

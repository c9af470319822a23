"""Image ``keras.ops`` functions (``keras.ops.image``): colour spaces, resizing,
geometric transforms and sampling, patches, padding and cropping, filters and
SSIM.

Images are ``(height, width, channels)`` or ``(batch, height, width, channels)``
for ``data_format="channels_last"`` (channels first otherwise; ``None`` reads
``keras.config.image_data_format()``). Numbers follow Keras 3 on torch where it
keeps its documented (TensorFlow/JAX) semantics; where it does not, lamina
follows TensorFlow/JAX and says so in the function's docstring.
"""

from __future__ import annotations

import functools
import itertools
import operator

import torch
import torch.nn.functional as F

from lamina import config
from lamina.ops import resize as resampling
from lamina.ops import shapes
from lamina.ops.dtypes import (
    as_tensor,
    as_tensors,
    is_int_or_bool,
    result_type,
    standardize_dtype,
    to_floatx_if_int,
    to_torch_dtype,
)
from lamina.random import SeedGenerator

__all__ = [
    "affine_transform",
    "crop_images",
    "elastic_transform",
    "extract_patches",
    "extract_patches_3d",
    "gaussian_blur",
    "hsv_to_rgb",
    "map_coordinates",
    "pad_images",
    "perspective_transform",
    "resize",
    "rgb_to_grayscale",
    "rgb_to_hsv",
    "scale_and_translate",
    "sobel_edges",
    "ssim",
]

# ---------------------------------------------------------------------------------
# Layouts
# ---------------------------------------------------------------------------------


def _channels_last(data_format) -> bool:
    return config.standardize_data_format(data_format) == "channels_last"


def _images(fn, images, arg="images", ranks=(3, 4)):
    images = as_tensor(images)
    if images.ndim not in ranks:
        expected = " or ".join(str(r) for r in ranks)
        raise ValueError(
            f"{fn}: `{arg}` must have rank {expected} (one image or a batch); got "
            f"{arg} of shape {tuple(images.shape)}."
        )
    return images


def _to_nchw(images, channels_last):
    """A 4-D channels-first view of one image or a batch, and how to undo it."""
    batched = images.ndim == 4
    x = images if batched else images.unsqueeze(0)
    if channels_last:
        x = x.permute(0, 3, 1, 2)

    def back(y):
        if channels_last:
            y = y.permute(0, 2, 3, 1)
        return y if batched else y.squeeze(0)

    return x, back


def _to_nhwc(images, channels_last):
    """A 4-D channels-last view of one image or a batch, and how to undo it."""
    batched = images.ndim == 4
    x = images if batched else images.unsqueeze(0)
    if not channels_last:
        x = x.permute(0, 2, 3, 1)

    def back(y):
        if not channels_last:
            y = y.permute(0, 3, 1, 2)
        return y if batched else y.squeeze(0)

    return x, back


def _cast_back(x, dtype):
    """``x`` in ``dtype``: integers are rounded and clamped to their range."""
    if x.dtype == dtype:
        return x
    if dtype.is_floating_point or dtype.is_complex:
        return x.to(dtype)
    if dtype == torch.bool:
        return x != 0
    info = torch.iinfo(dtype)
    return torch.clamp(torch.round(x), info.min, info.max).to(dtype)


def _float(x):
    """``x`` in a float dtype torch's image kernels take (float32 for ints)."""
    return x if x.is_floating_point() else x.to(torch.float32)


# ---------------------------------------------------------------------------------
# Colour spaces
# ---------------------------------------------------------------------------------


def rgb_to_grayscale(images, data_format=None):
    """Luma ``0.2989 R + 0.587 G + 0.114 B`` of RGB images (one channel kept);
    1-channel images are returned as they are. Integer images are truncated
    back to their dtype, as Keras on torch."""
    images = _images("rgb_to_grayscale", images)
    axis = -1 if _channels_last(data_format) else -3
    if images.shape[axis] not in (1, 3):
        raise ValueError(
            "rgb_to_grayscale: `images` must have 1 or 3 channels; got images of "
            f"shape {tuple(images.shape)}."
        )
    if images.shape[axis] == 1:
        return images.clone()
    r, g, b = images.unbind(dim=axis)
    return (0.2989 * r + 0.587 * g + 0.114 * b).to(images.dtype).unsqueeze(axis)


def _float_images(fn, images):
    images = _images(fn, images)
    if not images.is_floating_point():
        raise ValueError(
            f"{fn}: `images` must be a float tensor; got images of dtype "
            f"{standardize_dtype(images.dtype)!r}."
        )
    return images


def rgb_to_hsv(images, data_format=None):
    """RGB images (values in [0, 1]) to HSV, each channel in [0, 1]."""
    images = _float_images("rgb_to_hsv", images)
    axis = -1 if _channels_last(data_format) else -3
    eps = torch.finfo(images.dtype).eps
    images = torch.where(torch.abs(images) < eps, 0.0, images)
    r, g, b = images.unbind(dim=axis)
    value = torch.maximum(torch.maximum(r, g), b)
    spread = value - torch.minimum(torch.minimum(r, g), b)
    saturation = torch.where(
        value > 0, spread / torch.where(value > 0, value, 1.0), 0.0
    )
    norm = 1.0 / (6.0 * torch.where(spread > 0, spread, 1.0))
    hue = torch.where(
        value == g, norm * (b - r) + 2.0 / 6.0, norm * (r - g) + 4.0 / 6.0
    )
    hue = torch.where(value == r, norm * (g - b), hue)
    hue = torch.where(spread > 0, hue, 0.0) + (hue < 0.0).to(hue.dtype)
    return torch.stack([hue, saturation, value], dim=axis)


def hsv_to_rgb(images, data_format=None):
    """HSV images (each channel in [0, 1]) to RGB."""
    images = _float_images("hsv_to_rgb", images)
    axis = -1 if _channels_last(data_format) else -3
    hue, saturation, value = images.unbind(dim=axis)
    sextant = torch.remainder(hue, 1.0) * 6.0
    dr = torch.clamp(torch.abs(sextant - 3.0) - 1.0, 0.0, 1.0)
    dg = torch.clamp(2.0 - torch.abs(sextant - 2.0), 0.0, 1.0)
    db = torch.clamp(2.0 - torch.abs(sextant - 4.0), 0.0, 1.0)
    grey = 1.0 - saturation
    channels = [value * (grey + saturation * d) for d in (dr, dg, db)]
    return torch.stack(channels, dim=axis)


# ---------------------------------------------------------------------------------
# Resizing
# ---------------------------------------------------------------------------------

RESIZE_INTERPOLATIONS = (
    "bilinear",
    "nearest",
    "bicubic",
    "lanczos3",
    "lanczos5",
    "area",
)


def _check_resize(size, interpolation, fill_mode, crop, pad):
    if (
        not isinstance(size, (tuple, list))
        or len(size) != 2
        or any(not isinstance(s, int) or s <= 0 for s in size)
    ):
        raise ValueError(
            f"resize: `size` must be (height, width), two positive integers; got "
            f"size={size!r}."
        )
    if interpolation not in RESIZE_INTERPOLATIONS:
        rule = "one of " + ", ".join(map(repr, RESIZE_INTERPOLATIONS))
        raise ValueError(
            f"resize: `interpolation` must be {rule}; got "
            f"interpolation={interpolation!r}."
        )
    if fill_mode != "constant":
        raise ValueError(
            f"resize: `fill_mode` must be 'constant'; got fill_mode={fill_mode!r}."
        )
    if crop and pad:
        raise ValueError(
            "resize: `crop_to_aspect_ratio` and `pad_to_aspect_ratio` cannot both "
            "be True."
        )


def _crop_to_aspect(x, size):
    height, width = x.shape[-2:]
    crop_h = max(min(height, int(float(width * size[0]) / size[1])), 1)
    crop_w = max(min(width, int(float(height * size[1]) / size[0])), 1)
    top, left = int(float(height - crop_h) / 2), int(float(width - crop_w) / 2)
    return x[..., top : top + crop_h, left : left + crop_w]


def _pad_to_aspect(x, size, fill_value):
    height, width = x.shape[-2:]
    pad_h = max(height, int(float(width * size[0]) / size[1]))
    pad_w = max(width, int(float(height * size[1]) / size[0]))
    top, left = int(float(pad_h - height) / 2), int(float(pad_w - width) / 2)
    return F.pad(x, (left, left, top, top), value=float(fill_value))


def _resize_nchw(x, size, interpolation, antialias):
    if interpolation in ("bilinear", "nearest"):
        mode = "bilinear" if interpolation == "bilinear" else "nearest-exact"
        options = {"align_corners": False, "antialias": antialias}
        return F.interpolate(
            x, size, mode=mode, **(options if mode == "bilinear" else {})
        )
    for axis, (n, m) in zip((2, 3), zip(x.shape[2:], size)):
        if interpolation == "area":
            matrix = resampling.area_matrix(n, m)
        else:
            scale = torch.tensor(m / n, dtype=torch.float64)
            matrix = resampling.weight_matrix(
                n, m, interpolation, scale, 0.0, antialias
            )
        x = resampling.apply_matrix(x, matrix, axis)
    return x


def resize(
    images,
    size,
    interpolation="bilinear",
    antialias=False,
    crop_to_aspect_ratio=False,
    pad_to_aspect_ratio=False,
    fill_mode="constant",
    fill_value=0.0,
    data_format=None,
):
    """Images resized to ``size = (height, width)``.

    ``bilinear`` and ``nearest`` sample half-pixel centres (torch's
    ``interpolate``, the same numbers as TensorFlow and Keras on torch);
    ``antialias`` widens the bilinear filter when downsampling. ``bicubic``
    (Keys' a = -0.5), ``lanczos3``, ``lanczos5`` and ``area`` follow TensorFlow
    and JAX (Keras on torch uses torch's a = -0.75 bicubic and has no Lanczos or
    area). ``crop_to_aspect_ratio`` first crops the centre to the target aspect
    ratio; ``pad_to_aspect_ratio`` pads it with ``fill_value`` instead. Integer
    images are resized in float32, rounded and clamped back to their dtype.
    """
    _check_resize(
        size, interpolation, fill_mode, crop_to_aspect_ratio, pad_to_aspect_ratio
    )
    images = _images("resize", images)
    x, back = _to_nchw(images, _channels_last(data_format))
    x = x if x.dtype in (torch.float32, torch.float64) else x.to(torch.float32)
    if crop_to_aspect_ratio:
        x = _crop_to_aspect(x, size)
    elif pad_to_aspect_ratio:
        x = _pad_to_aspect(x, size, fill_value)
    out = _resize_nchw(x, tuple(size), interpolation, antialias)
    return _cast_back(back(out), images.dtype)


_SCALE_METHODS = {
    "linear": "linear",
    "bilinear": "linear",
    "trilinear": "linear",
    "cubic": "bicubic",
    "bicubic": "bicubic",
    "tricubic": "bicubic",
    "lanczos3": "lanczos3",
    "lanczos5": "lanczos5",
}


def scale_and_translate(
    images,
    output_shape,
    scale,
    translation,
    spatial_dims,
    method,
    antialias=True,
):
    """Resamples ``images`` along ``spatial_dims`` to ``output_shape``: output
    cell ``i`` of axis ``d`` reads input position ``(i + 0.5 - translation[d]) /
    scale[d] - 0.5``, as ``jax.image.scale_and_translate``. ``method``: linear,
    cubic or lanczos3/5 kernels (their ``bi``/``tri`` spellings too). Integer
    images are rounded and clipped to their input range."""
    if method not in _SCALE_METHODS:
        rule = "one of " + ", ".join(map(repr, _SCALE_METHODS))
        raise ValueError(
            f"scale_and_translate: `method` must be {rule}; got method={method!r}."
        )
    images, scale, translation = as_tensors(images, scale, translation)
    dtype = to_torch_dtype(result_type(scale, translation))
    scale, translation = scale.to(dtype), translation.to(dtype)
    x = images if images.is_floating_point() else images.to(torch.float32)
    for i, d in enumerate(spatial_dims):
        d = d % images.ndim
        matrix = resampling.weight_matrix(
            images.shape[d],
            output_shape[d],
            _SCALE_METHODS[method],
            scale[i],
            translation[i],
            antialias,
        )
        x = resampling.apply_matrix(x, matrix, d)
    if images.is_floating_point():
        return x
    return torch.clamp(torch.round(x), images.min(), images.max()).to(images.dtype)


# ---------------------------------------------------------------------------------
# Sampling at coordinates
# ---------------------------------------------------------------------------------


def _mirror(index, size):
    period = size - 1
    return torch.abs(torch.remainder(index + period, 2 * period) - period)


def _reflect(index, size):
    return torch.div(_mirror(2 * index + 1, 2 * size + 1) - 1, 2, rounding_mode="floor")


_INDEX_FIXERS = {
    "constant": lambda index, size: torch.clamp(index, 0, size - 1),
    "nearest": lambda index, size: torch.clamp(index, 0, size - 1),
    "wrap": torch.remainder,
    "mirror": _mirror,
    "reflect": _reflect,
}


def _nodes(coordinate, order):
    """``[(index, weight), ...]``: the input cells ``coordinate`` interpolates."""
    if order == 0:
        rounded = coordinate if is_int_or_bool(coordinate) else torch.round(coordinate)
        return [(rounded.to(torch.int64), 1.0)]
    lower = torch.floor(coordinate)
    upper_weight = coordinate - lower
    index = lower.to(torch.int64)
    return [(index, 1.0 - upper_weight), (index + 1, upper_weight)]


def _check_sampling(fn, order, fill_mode):
    if order not in (0, 1):
        raise ValueError(f"{fn}: `order` must be 0 or 1; got order={order!r}.")
    if fill_mode not in _INDEX_FIXERS:
        rule = "one of " + ", ".join(map(repr, _INDEX_FIXERS))
        raise ValueError(
            f"{fn}: `fill_mode` must be {rule}; got fill_mode={fill_mode!r}."
        )


def _interpolate(read, coordinates, sizes, order, fill_mode, fill_value):
    """``sum over nodes of weight * read(indices)``; ``read`` takes one index
    tensor per sampled axis. ``constant`` mode reads ``fill_value`` outside."""
    fix = _INDEX_FIXERS[fill_mode]
    per_axis = [
        [(fix(i, n), (i >= 0) & (i < n), w) for i, w in _nodes(c, order)]
        for c, n in zip(coordinates, sizes)
    ]
    total = None
    for combination in itertools.product(*per_axis):
        indices, valid, weights = zip(*combination)
        value = read(indices)
        if fill_mode == "constant":
            inside = functools.reduce(operator.and_, valid)
            value = torch.where(_expand_like(inside, value), value, fill_value)
        term = _expand_like(functools.reduce(operator.mul, weights), value) * value
        total = term if total is None else total + term
    return total


def _expand_like(mask, value):
    if not isinstance(mask, torch.Tensor):
        return mask
    return mask.reshape(mask.shape + (1,) * (value.ndim - mask.ndim))


def map_coordinates(inputs, coordinates, order, fill_mode="constant", fill_value=0):
    """``inputs`` sampled at ``coordinates`` (one array of positions per input
    axis) by nearest (``order=0``) or linear (``order=1``) interpolation, as
    ``scipy.ndimage.map_coordinates``. ``fill_mode``: constant (``fill_value``
    outside), nearest, wrap, mirror or reflect."""
    _check_sampling("map_coordinates", order, fill_mode)
    inputs = as_tensor(inputs)
    coordinates = [as_tensor(c, inputs.device) for c in coordinates]
    if len(coordinates) != inputs.ndim:
        raise ValueError(
            "map_coordinates: `coordinates` must give one array per axis of "
            f"`inputs` ({inputs.ndim}); got {len(coordinates)}."
        )
    if coordinates[0].ndim < 1:
        raise ValueError(
            "map_coordinates: `coordinates` must have rank >= 2 (axis, positions); "
            f"got rank {coordinates[0].ndim + 1}."
        )
    if is_int_or_bool(inputs) and isinstance(fill_value, float):
        fill_value = int(fill_value)
    out = _interpolate(
        lambda idx: inputs[idx], coordinates, inputs.shape, order, fill_mode, fill_value
    )
    if is_int_or_bool(inputs) and (out.is_floating_point()):
        out = torch.round(out)
    return out.to(inputs.dtype)


# fill_mode -> (grid_sample padding, align_corners). Reflecting the coordinate
# and interpolating equals interpolating the reflected pixels: the extended image
# is symmetric about the reflection line (-0.5 for reflect: edges, align_corners
# False; 0 for mirror: pixel centres, align_corners True), and so is its linear
# interpolant.
_GRID_MODES = {
    "constant": ("zeros", True),
    "nearest": ("border", True),
    "reflect": ("reflection", False),
    "mirror": ("reflection", True),
}


def _grid_sample(images, coords, fill_mode, fill_value):
    """Bilinear sampling by ``F.grid_sample`` (one fused kernel): the same numbers
    as the per-tap formula for ``constant`` (shifted by ``fill_value``, since
    zero padding blends with 0), ``nearest`` (border clamping), ``reflect`` and
    ``mirror`` fill modes."""
    height, width = images.shape[1:3]
    padding, corners = _GRID_MODES[fill_mode]
    size = coords.new_tensor([width, height])
    # Pixel coordinates to grid_sample's [-1, 1]: 2c / (n - 1) - 1 with
    # align_corners, (2c + 1) / n - 1 without.
    if corners:
        grid = torch.addcdiv(coords.new_tensor(-1.0), coords, size - 1, value=2)
    else:
        grid = torch.addcdiv(1 / size - 1, coords, size, value=2)
    shift = float(fill_value) if fill_mode == "constant" else 0.0
    # NHWC memory seen as NCHW: torch's channels-last kernel, the fastest here.
    source = (images - shift if shift else images).permute(0, 3, 1, 2)
    out = F.grid_sample(
        source,
        grid.to(images.dtype),
        mode="bilinear",
        padding_mode=padding,
        align_corners=corners,
    ).permute(0, 2, 3, 1)
    return out + shift if shift else out


def _sample_nhwc(images, coords, order, fill_mode, fill_value):
    """``images`` (``(N, H, W, C)``) read at ``coords`` (``(N, H', W', 2)``,
    ``(column, row)`` pixel positions), every channel at once; integer images
    are rounded back."""
    if (
        order == 1
        and fill_mode in _GRID_MODES
        and images.dtype in (torch.float32, torch.float64)
        and min(images.shape[1:3]) > 1
    ):
        return _grid_sample(images, coords, fill_mode, fill_value)
    batch = torch.arange(images.shape[0], device=images.device)
    batch = batch.reshape(-1, *(1,) * (coords.ndim - 2))
    source = images if images.is_floating_point() else images.to(torch.float32)
    out = _interpolate(
        lambda idx: source[batch, idx[0], idx[1]],
        [coords[..., 1], coords[..., 0]],
        images.shape[1:3],
        order,
        fill_mode,
        fill_value,
    )
    return _cast_back(out, images.dtype)


_TRANSFORM_ORDERS = {"nearest": 0, "bilinear": 1}


def _check_interpolation(fn, interpolation):
    if interpolation not in _TRANSFORM_ORDERS:
        raise ValueError(
            f"{fn}: `interpolation` must be 'nearest' or 'bilinear'; got "
            f"interpolation={interpolation!r}."
        )


def _pixels(height, width, dtype, device):
    """``(H, 1, 1)`` rows and ``(1, W, 1)`` columns of the pixel grid."""
    rows = torch.arange(height, dtype=dtype, device=device).reshape(-1, 1, 1)
    cols = torch.arange(width, dtype=dtype, device=device).reshape(1, -1, 1)
    return rows, cols


def _projective_coords(transform, height, width):
    """``(N, H, W, 2)``: where each output pixel reads the input, ``(column,
    row)``, under ``(N, 8)`` projective transforms. Broadcast from per-row and
    per-column terms (an affine transform costs two full-size adds); the
    division by ``k = c0 x + c1 y + 1`` only when some ``c`` is nonzero."""
    rows, cols = _pixels(height, width, transform.dtype, transform.device)
    t = transform.reshape(-1, 1, 1, 1, 8)
    x_terms, y_terms = t[..., (0, 3)], t[..., (1, 4)]
    # Summed in TensorFlow's order, (a0 x + a1 y) + a2: the rounding that
    # integer images are rounded after.
    coords = cols * x_terms + rows * y_terms + t[..., (2, 5)]
    if bool(torch.any(transform[:, 6:] != 0)):
        k = cols * t[..., 6:7] + rows * t[..., 7:8] + 1.0
        coords = coords / k
    return coords.reshape(-1, height, width, 2)


def affine_transform(
    images,
    transform,
    interpolation="bilinear",
    fill_mode="constant",
    fill_value=0,
    data_format=None,
):
    """Images warped by projective transforms ``[a0, a1, a2, b0, b1, b2, c0, c1]``
    (one, or one per image): output pixel ``(x, y)`` reads the input at
    ``((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k)`` with ``k = c0 x + c1 y +
    1``, as TensorFlow (Keras on torch and JAX drop ``k``, which only matters for
    non-affine ``c0, c1``). ``fill_mode``: constant, nearest, wrap, mirror or
    reflect."""
    _check_interpolation("affine_transform", interpolation)
    _check_sampling("affine_transform", 1, fill_mode)
    images = _images("affine_transform", images)
    transform = as_tensor(transform, images.device)
    if transform.ndim not in (1, 2) or transform.shape[-1] != 8:
        raise ValueError(
            "affine_transform: `transform` must be (8,) or (batch, 8); got "
            f"transform of shape {tuple(transform.shape)}."
        )
    x, back = _to_nhwc(images, _channels_last(data_format))
    t = transform.reshape(-1, 8).to(to_torch_dtype(result_type(transform, float)))
    t = t.expand(x.shape[0], 8)
    coords = _projective_coords(t, x.shape[1], x.shape[2])
    order = _TRANSFORM_ORDERS[interpolation]
    return back(_sample_nhwc(x, coords, order, fill_mode, fill_value))


def _homography(start_points, end_points):
    """The ``(batch, 8)`` projective transforms mapping ``end_points`` to
    ``start_points`` (each ``(batch, 4, 2)``, ``(x, y)`` corners)."""
    x, y = end_points[..., 0], end_points[..., 1]
    u, v = start_points[..., 0], start_points[..., 1]
    zeros, ones = torch.zeros_like(x), torch.ones_like(x)
    rows_u = torch.stack([x, y, ones, zeros, zeros, zeros, -u * x, -u * y], -1)
    rows_v = torch.stack([zeros, zeros, zeros, x, y, ones, -v * x, -v * y], -1)
    system = torch.stack([rows_u, rows_v], dim=2).reshape(-1, 8, 8)
    target = torch.stack([u, v], dim=2).reshape(-1, 8, 1)
    compute = torch.float64 if system.dtype == torch.float64 else torch.float32
    solution = torch.linalg.solve(system.to(compute), target.to(compute))
    return solution.reshape(-1, 8).to(system.dtype)


def _corners(fn, arg, points):
    if points.shape[-2:] != (4, 2) or points.ndim not in (2, 3):
        raise ValueError(
            f"{fn}: `{arg}` must be (4, 2) or (batch, 4, 2) corner points; got "
            f"{arg} of shape {tuple(points.shape)}."
        )
    return points.reshape(-1, 4, 2)


def perspective_transform(
    images,
    start_points,
    end_points,
    interpolation="bilinear",
    fill_value=0,
    data_format=None,
):
    """Images warped so that the quadrilateral ``start_points`` (``(x, y)``
    corners, ``(4, 2)`` or one per image) lands on ``end_points``; pixels from
    outside the input are ``fill_value``."""
    _check_interpolation("perspective_transform", interpolation)
    images = _images("perspective_transform", images)
    dtype = images.dtype if images.is_floating_point() else torch.float32
    start = _corners(
        "perspective_transform",
        "start_points",
        as_tensor(start_points, images.device).to(dtype),
    )
    end = _corners(
        "perspective_transform",
        "end_points",
        as_tensor(end_points, images.device).to(dtype),
    )
    if start.shape != end.shape:
        raise ValueError(
            "perspective_transform: `start_points` and `end_points` must have the "
            f"same shape; got {tuple(start.shape)} and {tuple(end.shape)}."
        )
    x, back = _to_nhwc(images, _channels_last(data_format))
    t = _homography(start, end).expand(x.shape[0], 8)
    coords = _projective_coords(t, x.shape[1], x.shape[2])
    order = _TRANSFORM_ORDERS[interpolation]
    return back(_sample_nhwc(x, coords, order, "constant", fill_value))


def elastic_transform(
    images,
    alpha=20.0,
    sigma=5.0,
    interpolation="bilinear",
    fill_mode="reflect",
    fill_value=0.0,
    seed=None,
    data_format=None,
):
    """Images distorted by a random smooth displacement field: standard normal
    noise (one field per image, shared by its channels) scaled by ``sigma``,
    blurred by a Gaussian of standard deviation ``sigma`` (kernel ``int(6 sigma)
    | 1``) and scaled by ``alpha`` pixels. ``seed``: an int or a
    ``keras.random.SeedGenerator`` for reproducible fields."""
    _check_interpolation("elastic_transform", interpolation)
    _check_sampling("elastic_transform", 1, fill_mode)
    images = _images("elastic_transform", images)
    x, back = _to_nhwc(images, _channels_last(data_format))
    batch, height, width, _ = x.shape
    dtype = x.dtype if x.is_floating_point() else torch.float32
    generator = seed if isinstance(seed, SeedGenerator) else SeedGenerator(seed)
    noise = generator.normal(
        (batch, height, width, 2), torch.empty(0, dtype=dtype, device=x.device)
    )
    size = int(6 * float(sigma)) | 1
    field = gaussian_blur(noise * sigma, (size, size), (sigma, sigma), "channels_last")
    rows, cols = _pixels(height, width, dtype, x.device)
    pixels = torch.cat(
        [cols.expand(height, width, 1), rows.expand(height, width, 1)], -1
    )
    coords = pixels + alpha * field
    order = _TRANSFORM_ORDERS[interpolation]
    return back(_sample_nhwc(x, coords, order, fill_mode, fill_value))


# ---------------------------------------------------------------------------------
# Patches, padding and cropping
# ---------------------------------------------------------------------------------


def _patches(fn, x, size, strides, dilation_rate, padding, channels_last):
    """Patches of the spatial axes of ``x`` (``(N, *spatial, C)`` or ``(N, C,
    *spatial)``): ``(N, *out_spatial, prod(size) * C)`` (or channels first), each
    patch flattened as ``(*size, C)``, as Keras's identity-kernel convolution."""
    rank = x.ndim - 2
    size = (size,) * rank if isinstance(size, int) else tuple(size)
    strides = size if not strides else strides
    strides = (strides,) * rank if isinstance(strides, int) else tuple(strides)
    dilation = (
        (dilation_rate,) * rank
        if isinstance(dilation_rate, int)
        else tuple(dilation_rate)
    )
    if len(size) != rank or len(strides) != rank or len(dilation) != rank:
        raise ValueError(
            f"{fn}: `size`, `strides` and `dilation_rate` must have {rank} entries; "
            f"got size={size!r}, strides={strides!r}, dilation_rate={dilation!r}."
        )
    if padding not in ("valid", "same"):
        raise ValueError(
            f"{fn}: `padding` must be 'valid' or 'same'; got padding={padding!r}."
        )
    if not channels_last:
        x = torch.movedim(x, 1, -1)
    spatial = range(1, rank + 1)
    if padding == "same":
        pairs = [
            shapes.same_padding(x.shape[a], k, s, d)
            for a, k, s, d in zip(spatial, size, strides, dilation)
        ]
        x = F.pad(x, [0, 0] + [w for pair in reversed(pairs) for w in pair])
    for axis, k, s, d in zip(spatial, size, strides, dilation):
        x = x.unfold(axis, shapes.dilated_kernel(k, d), s)[..., ::d]
    # x: (N, *out_spatial, C, *size) -> (N, *out_spatial, *size, C)
    x = torch.movedim(x, rank + 1, -1).flatten(rank + 1)
    return x if channels_last else torch.movedim(x, -1, 1)


def extract_patches(
    images,
    size,
    strides=None,
    dilation_rate=1,
    padding="valid",
    data_format=None,
):
    """Patches of ``size = (h, w)`` (a 3-tuple: 3-D patches of volumes) every
    ``strides`` (default ``size``) pixels, flattened into the channel axis as
    ``(h, w, channels)``: ``(batch, out_h, out_w, h * w * channels)``."""
    if not isinstance(size, int) and (
        not isinstance(size, (tuple, list)) or len(size) not in (2, 3)
    ):
        raise ValueError(
            "extract_patches: `size` must be an int or a tuple of 2 (or 3) ints; "
            f"got size={size!r}."
        )
    rank = 2 if isinstance(size, int) else len(size)
    images = _images("extract_patches", images, ranks=(rank + 1, rank + 2))
    batched = images.ndim == rank + 2
    x = images if batched else images.unsqueeze(0)
    out = _patches(
        "extract_patches",
        x,
        size,
        strides,
        dilation_rate,
        padding,
        _channels_last(data_format),
    )
    return out if batched else out.squeeze(0)


def extract_patches_3d(
    volumes,
    size,
    strides=None,
    dilation_rate=1,
    padding="valid",
    data_format=None,
):
    """3-D patches of ``size = (d, h, w)`` of volumes ``(batch, depth, height,
    width, channels)``, flattened as ``(d, h, w, channels)``."""
    size = (size,) * 3 if isinstance(size, int) else tuple(size)
    return extract_patches(volumes, size, strides, dilation_rate, padding, data_format)


def _box(fn, names, values):
    """The one of three ``names`` left None, checking the other two are >= 0."""
    if sum(v is None for v in values) != 1:
        given = ", ".join(f"{n}={v!r}" for n, v in zip(names, values))
        raise ValueError(f"{fn}: give exactly two of {', '.join(names)}; got {given}.")
    for name, value in zip(names, values):
        if value is not None and value < 0:
            raise ValueError(f"{fn}: `{name}` must be >= 0; got {name}={value!r}.")


def _hw_axes(images, data_format):
    return (-3, -2) if _channels_last(data_format) else (-2, -1)


def pad_images(
    images,
    top_padding=None,
    left_padding=None,
    bottom_padding=None,
    right_padding=None,
    target_height=None,
    target_width=None,
    data_format=None,
):
    """Images zero-padded; give two of top/bottom padding and ``target_height``,
    and two of left/right padding and ``target_width``."""
    images = _images("pad_images", images)
    _box(
        "pad_images",
        ("top_padding", "bottom_padding", "target_height"),
        (top_padding, bottom_padding, target_height),
    )
    _box(
        "pad_images",
        ("left_padding", "right_padding", "target_width"),
        (left_padding, right_padding, target_width),
    )
    h_axis, w_axis = _hw_axes(images, data_format)
    height, width = images.shape[h_axis], images.shape[w_axis]
    if top_padding is None:
        top_padding = target_height - bottom_padding - height
    if bottom_padding is None:
        bottom_padding = target_height - top_padding - height
    if left_padding is None:
        left_padding = target_width - right_padding - width
    if right_padding is None:
        right_padding = target_width - left_padding - width
    _require_non_negative(
        "pad_images: the target size is smaller than the image",
        images,
        top_padding=top_padding,
        bottom_padding=bottom_padding,
        left_padding=left_padding,
        right_padding=right_padding,
    )
    widths = [left_padding, right_padding, top_padding, bottom_padding]
    if w_axis == -2:
        widths = [0, 0] + widths
    return F.pad(images, widths)


def _require_non_negative(problem, images, **sizes):
    """Raise ``problem`` naming the first of ``sizes`` that came out negative."""
    for name, value in sizes.items():
        if value < 0:
            raise ValueError(
                f"{problem}: `{name}` would be {value}; got images of shape "
                f"{tuple(images.shape)}."
            )


def crop_images(
    images,
    top_cropping=None,
    left_cropping=None,
    bottom_cropping=None,
    right_cropping=None,
    target_height=None,
    target_width=None,
    data_format=None,
):
    """Images cropped; give two of top/bottom cropping and ``target_height``, and
    two of left/right cropping and ``target_width``."""
    images = _images("crop_images", images)
    _box(
        "crop_images",
        ("top_cropping", "bottom_cropping", "target_height"),
        (top_cropping, bottom_cropping, target_height),
    )
    _box(
        "crop_images",
        ("left_cropping", "right_cropping", "target_width"),
        (left_cropping, right_cropping, target_width),
    )
    h_axis, w_axis = _hw_axes(images, data_format)
    height, width = images.shape[h_axis], images.shape[w_axis]
    if top_cropping is None:
        top_cropping = height - target_height - bottom_cropping
    if target_height is None:
        target_height = height - bottom_cropping - top_cropping
    if left_cropping is None:
        left_cropping = width - target_width - right_cropping
    if target_width is None:
        target_width = width - right_cropping - left_cropping
    _require_non_negative(
        "crop_images: the crop does not fit the image",
        images,
        top_cropping=top_cropping,
        target_height=target_height,
        left_cropping=left_cropping,
        target_width=target_width,
    )
    out = images.narrow(h_axis, top_cropping, target_height)
    return out.narrow(w_axis, left_cropping, target_width)


# ---------------------------------------------------------------------------------
# Filters and image quality
# ---------------------------------------------------------------------------------


def _gaussian_1d(size, sigma, dtype, device):
    x = torch.arange(size, dtype=dtype, device=device) - (size - 1) / 2
    kernel = torch.exp(-0.5 * (x / sigma) ** 2)
    return kernel / kernel.sum()


def _depthwise(x, kernel):
    """Each channel of ``x`` (NCHW) convolved with the 2-D ``kernel``, "same"
    (TensorFlow's padding)."""
    channels = x.shape[1]
    kh, kw = kernel.shape
    (top, bottom), (left, right) = (
        shapes.same_padding(x.shape[2], kh, 1, 1),
        shapes.same_padding(x.shape[3], kw, 1, 1),
    )
    x = F.pad(x, (left, right, top, bottom))
    weight = kernel.to(x.dtype).expand(channels, 1, kh, kw)
    return F.conv2d(x, weight, groups=channels)


def gaussian_blur(images, kernel_size=(3, 3), sigma=(1.0, 1.0), data_format=None):
    """Images blurred by a Gaussian window, zero-padded to keep their size.

    ``kernel_size`` and ``sigma`` are ``(along width, along height)``: the order
    every Keras backend computes (``kernel1d_x`` from the first entries, and
    JAX's kernel of shape ``(kernel_size[1], kernel_size[0])``), although
    Keras's docstring says ``(height, width)``; a square kernel with equal
    sigmas is the same either way. (Keras on torch and TensorFlow also reshape
    a non-square kernel into the wrong shape; lamina follows JAX there.)
    """
    images = _images("gaussian_blur", images)
    x, back = _to_nchw(to_floatx_if_int(images), _channels_last(data_format))
    compute = torch.float64 if x.dtype == torch.float64 else torch.float32
    sigma = as_tensor(sigma, x.device).to(compute).reshape(-1).expand(2)
    kernel = torch.outer(
        _gaussian_1d(kernel_size[1], sigma[1], compute, x.device),
        _gaussian_1d(kernel_size[0], sigma[0], compute, x.device),
    )
    return back(_depthwise(x, kernel))


def sobel_edges(images, data_format=None):
    """Sobel gradients of each channel of a batch of images: ``(..., 2)`` with
    the vertical (``dy``) then horizontal (``dx``) response, zero-padded."""
    images = _images("sobel_edges", images, ranks=(4,))
    x, _ = _to_nchw(_float(images), _channels_last(data_format))
    sobel_x = torch.tensor(
        [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=x.dtype, device=x.device
    )
    edges = torch.stack([_depthwise(x, sobel_x.T), _depthwise(x, sobel_x)], dim=-1)
    return edges.permute(0, 2, 3, 1, 4) if _channels_last(data_format) else edges


def ssim(
    image1,
    image2,
    max_val=1.0,
    filter_size=11,
    filter_sigma=1.5,
    k1=0.01,
    k2=0.03,
    data_format=None,
):
    """Structural similarity of two (batches of) images, averaged over pixels
    (valid Gaussian windows of ``filter_size``) and channels: one value per
    image."""
    image1 = _images("ssim", image1, "image1")
    image2 = _images("ssim", image2, "image2")
    dtype = to_torch_dtype(result_type(image1, float))
    x1, _ = _to_nchw(image1.to(dtype), _channels_last(data_format))
    x2, _ = _to_nchw(image2.to(dtype), _channels_last(data_format))
    batch, channels, height, width = x1.shape
    window = _gaussian_1d(filter_size, filter_sigma, dtype, x1.device)
    kernel = torch.outer(window, window)[None, None]

    def blur(v):
        return F.conv2d(v.reshape(-1, 1, height, width), kernel)

    mu1, mu2 = blur(x1), blur(x2)
    var1 = blur(x1 * x1) - mu1 * mu1
    var2 = blur(x2 * x2) - mu2 * mu2
    covar = blur(x1 * x2) - mu1 * mu2
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    ratio = ((2 * mu1 * mu2 + c1) * (2 * covar + c2)) / (
        (mu1 * mu1 + mu2 * mu2 + c1) * (var1 + var2 + c2)
    )
    out = ratio.mean(dim=(1, 2, 3)).reshape(batch, channels).mean(-1)
    return (out if image1.ndim == 4 else out.squeeze(0)).to(image1.dtype)

"""Deterministic contrast layers: ``AutoContrast`` (per image and channel) and
``Equalization`` (histogram equalization, Keras's per-channel rule)."""

from __future__ import annotations

import torch

from lamina.layers.docs import fill_docs
from lamina.layers.preprocessing.image import transforms
from lamina.layers.preprocessing.image.base import BaseImagePreprocessingLayer
from lamina.layers.preprocessing.image.color import check_value_range
from lamina.layers.preprocessing.image.docs import IMAGE_ARGS
from lamina.utils.validation import check_int


@fill_docs(IMAGE_ARGS)
class AutoContrast(BaseImagePreprocessingLayer):
    """Stretches each channel of each image to the full ``value_range`` (its
    minimum to ``low``, its maximum to ``high``), in training and at inference;
    constant channels are kept.

    Args:
        {value_range}
        {kwargs}

    {image_shapes}

    Example:
    >>> import numpy as np, lamina as keras
    >>> keras.layers.AutoContrast()(np.array([[[[50.0]], [[100.0]]]])).tolist()
    [[[[0.0]], [[255.0]]]]
    """

    _USE_BASE_FACTOR = False
    _KEEPS_GEOMETRY = True

    def __init__(self, value_range=(0, 255), **kwargs):
        super().__init__(**kwargs)
        self.value_range = check_value_range(self, value_range)

    def transform_images(self, images, transformation=None, training=True):
        return self._on_batch(self._stretch, torch.as_tensor(images))

    def _stretch(self, original):
        images = transforms.transform_value_range(
            original, self.value_range, (0, 255)
        ).to(self._compute_torch_dtype)
        axes = (1, 2) if self._channels_last else (2, 3)
        low = images.amin(dim=axes, keepdim=True)
        high = images.amax(dim=axes, keepdim=True)
        scale = 255.0 / (high - low)
        out = (images * scale + (-low * scale)).clamp(0.0, 255.0)
        out = transforms.transform_value_range(out, (0, 255), self.value_range)
        return torch.where(out.isnan(), original.to(out.dtype), out)

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range}


@fill_docs(IMAGE_ARGS)
class Equalization(BaseImagePreprocessingLayer):
    """Equalizes the histogram of each channel (in training: a direct call, or
    a model in training). As Keras 3 does, one histogram per channel is taken
    over the whole batch.

    Args:
        {value_range}
        bins: int, the number of histogram bins (default 256).
        {data_format}
        {kwargs}

    {image_shapes}

    Example:
    >>> import numpy as np, lamina as keras
    >>> images = np.array([[[[10.0], [20.0]], [[20.0], [30.0]]]])
    >>> keras.layers.Equalization()(images).reshape(-1).tolist()
    [0.0, 170.0, 170.0, 255.0]
    """

    _KEEPS_GEOMETRY = True

    def __init__(self, value_range=(0, 255), bins=256, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.bins = check_int(self, "bins", bins, minimum=2)
        self.value_range = check_value_range(self, value_range)

    def transform_images(self, images, transformation=None, training=True):
        images = self._cast(images)
        if not training:
            return images
        axis = -1 if self._channels_last else -3
        channels = [self._equalize(c) for c in images.unbind(axis)]
        return torch.stack(channels, axis).to(images.dtype)

    def _equalize(self, channel):
        low, high = self.value_range
        channel = (channel - low) * (255.0 / (high - low))
        indices = ((channel.to(torch.float32) * (self.bins - 1) / 255.0).to(torch.int32)
                   .clamp(0, self.bins - 1))  # fmt: skip
        histogram = torch.bincount(indices.reshape(-1).long(), minlength=self.bins)
        if torch.count_nonzero(histogram) <= 1:
            equalized = channel
        else:
            cdf = histogram.cumsum(0)
            cdf_min = cdf[cdf.nonzero()[0, 0]]
            denominator = cdf[-1] - cdf_min
            denominator = torch.where(denominator == 0, 1, denominator)
            table = ((cdf - cdf_min) * 255 / denominator).round().clamp(0, 255)
            scaled = (channel / 255.0 * (self.bins - 1)).clamp(0, self.bins - 1)
            equalized = table[scaled.to(torch.int32).long()].to(channel.dtype)
        return equalized * ((high - low) / 255.0) + low

    def get_config(self):
        return {**super().get_config(), "bins": self.bins,
                "value_range": self.value_range}  # fmt: skip


def _symmetric_pad(images, rows, cols):
    """``(N, H, W, C)`` images padded at the bottom and right by mirroring with
    the edge repeated (NumPy's ``"symmetric"``)."""
    if rows:
        images = torch.cat([images, images.flip(1)[:, :rows]], dim=1)
    if cols:
        images = torch.cat([images, images.flip(2)[:, :, :cols]], dim=2)
    return images


def _tile_cdfs(padded, grid, tile, clip_limit):
    """``(N, gh + 2, gw + 2, C, 256)`` equalization tables of each tile (edges
    repeated around the grid), histograms clipped at ``clip_limit``."""
    (batch, _, _, channels), (gh, gw), (th, tw) = padded.shape, grid, tile
    tiles = padded.reshape(batch, gh, th, gw, tw, channels).permute(0, 1, 3, 5, 2, 4)
    values = tiles.reshape(batch, gh, gw, channels, th * tw).to(torch.int32)
    values = values.clamp(0, 255).long()
    hist = torch.zeros(batch, gh, gw, channels, 256, dtype=torch.float32)
    hist.scatter_add_(-1, values, torch.ones(values.shape, dtype=torch.float32))
    if clip_limit > 0:
        clipped = hist.clamp(0, clip_limit * (th * tw) / 256.0)
        hist = clipped + (hist - clipped).sum(-1, keepdim=True) / 256.0
    cdf = hist.cumsum(-1)
    cdf_min = cdf.amin(-1, keepdim=True)
    denominator = th * tw - cdf_min
    denominator = torch.where(
        denominator == 0, torch.ones_like(denominator), denominator
    )
    tables = ((cdf - cdf_min) * 255.0 / denominator).clamp(0, 255)
    tables = torch.cat([tables[:, :1], tables, tables[:, -1:]], dim=1)
    return torch.cat([tables[:, :, :1], tables, tables[:, :, -1:]], dim=2)


def _neighbours(length, tile, grid):
    """Per pixel row (or column): the two tile-table indices and the weight of
    the second (tables are centred on their tiles)."""
    position = (torch.arange(length, dtype=torch.float32) - tile / 2.0) / tile + 1.0
    first = position.floor()
    weight = position - first
    first_index = first.clamp(0, grid + 1).to(torch.int64)
    second_index = (first + 1.0).clamp(0, grid + 1).to(torch.int64)
    return first_index, second_index, weight


def clahe(images, clip_limit, grid):
    """Contrast-limited adaptive histogram equalization of ``(N, H, W, C)``
    float images in ``[0, 255]``: per-tile tables, bilinearly blended."""
    batch, height, width, channels = images.shape
    tile = (-(-height // grid[0]), -(-width // grid[1]))
    padded = _symmetric_pad(images, tile[0] * grid[0] - height,
                            tile[1] * grid[1] - width)  # fmt: skip
    tables = _tile_cdfs(padded, grid, tile, clip_limit)
    y0, y1, wy = _neighbours(padded.shape[1], tile[0], grid[0])
    x0, x1, wx = _neighbours(padded.shape[2], tile[1], grid[1])
    pixels = padded.clamp(0, 255).to(torch.int32).long()
    b = torch.arange(batch).reshape(-1, 1, 1, 1)
    c = torch.arange(channels).reshape(1, 1, 1, -1)

    def read(rows, cols):
        return tables[
            b, rows.reshape(1, -1, 1, 1), cols.reshape(1, 1, -1, 1), c, pixels
        ]

    wx, wy = wx.reshape(1, 1, -1, 1), wy.reshape(1, -1, 1, 1)
    top = read(y0, x0) * (1.0 - wx) + read(y0, x1) * wx
    bottom = read(y1, x0) * (1.0 - wx) + read(y1, x1) * wx
    return (top * (1.0 - wy) + bottom * wy)[:, :height, :width]


@fill_docs(IMAGE_ARGS)
class ContrastLimitedAdaptiveHistogramEqualization(BaseImagePreprocessingLayer):
    """Equalizes each image's histogram per tile of a ``tile_grid_size`` grid,
    with histograms clipped at ``clip_limit`` times their mean and the tiles'
    tables blended bilinearly (CLAHE), in training and at inference.

    Args:
        {value_range}
        clip_limit: float, the clip level relative to a flat histogram
            (default 4.0; 0 turns clipping off).
        tile_grid_size: ``(rows, cols)`` of tiles (default ``(8, 8)``).
        {data_format}
        {kwargs}

    {image_shapes}

    Example:
    >>> import numpy as np, lamina as keras
    >>> layer = keras.layers.ContrastLimitedAdaptiveHistogramEqualization(
    ...     tile_grid_size=(2, 2))
    >>> tuple(layer(np.random.rand(1, 8, 8, 3) * 255).shape)
    (1, 8, 8, 3)
    """

    _USE_BASE_FACTOR = False

    def __init__(self, value_range=(0, 255), clip_limit=4.0, tile_grid_size=(8, 8),
                 data_format=None, **kwargs):  # fmt: skip
        super().__init__(data_format=data_format, **kwargs)
        self.value_range = value_range
        self.clip_limit = clip_limit
        self.tile_grid_size = tuple(tile_grid_size)

    def transform_images(self, images, transformation=None, training=True):
        images = torch.as_tensor(images)
        return self._on_batch(self._equalize, images)

    def _equalize(self, images):
        x = images if self._channels_last else images.permute(0, 2, 3, 1)
        x = transforms.transform_value_range(x, self.value_range, (0, 255))
        x = clahe(x.to(torch.float32), self.clip_limit, self.tile_grid_size)
        x = transforms.transform_value_range(x, (0, 255), self.value_range)
        x = x if self._channels_last else x.permute(0, 3, 1, 2)
        return x.to(images.dtype)

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range,
                "clip_limit": self.clip_limit,
                "tile_grid_size": self.tile_grid_size}  # fmt: skip

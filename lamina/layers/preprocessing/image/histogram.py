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

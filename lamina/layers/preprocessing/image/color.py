"""Colour augmentation: ``RandomBrightness``, ``RandomContrast``,
``RandomSaturation``, ``RandomHue``, ``RandomColorDegeneration``,
``RandomGrayscale``, ``RandomInvert``, ``RandomPosterization``,
``RandomSharpness``, ``RandomGaussianBlur`` and ``Solarization``. Each draws
per-image parameters (Keras's transformation keys) and applies one of the
shared functions of ``transforms`` (blends, value ranges, HSV)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from lamina import config
from lamina.layers.docs import fill_docs
from lamina.layers.preprocessing.image import transforms
from lamina.layers.preprocessing.image.base import BaseImagePreprocessingLayer
from lamina.layers.preprocessing.image.docs import IMAGE_ARGS
from lamina.ops.image import gaussian_blur, hsv_to_rgb, rgb_to_grayscale, rgb_to_hsv
from lamina.utils.validation import arg_error, check_float

per_image = transforms.per_image


class ColorLayer(BaseImagePreprocessingLayer):
    """A colour layer: ``value_range`` and ``seed``, per-image draws; bounding
    boxes and segmentation masks pass through (as in Keras)."""

    _KEEPS_GEOMETRY = True

    def _init_color(self, value_range, seed) -> None:
        self.value_range = check_value_range(self, value_range)
        self._init_seed(seed)

    def _images_of(self, data):
        return data["images"] if isinstance(data, dict) else data

    def _draw(self, data, low, high, seed, rank=1):
        """One uniform draw per image in ``[low, high)``, shaped ``(batch,)``
        (``rank`` 1) or ``(batch, 1, 1, 1)`` (``rank`` 4)."""
        images = self._images_of(data)
        shape = (self._batch_size(images.shape),) + (1,) * (rank - 1)
        return self._uniform(shape, low, high, seed, images.device)

    def _clip(self, images):
        return images.clamp(*self.value_range)

    def _spatial_mean(self, images):
        axes = (1, 2) if self._channels_last else (2, 3)
        return images.mean(dim=axes, keepdim=True)

    def _color_config(self) -> dict:
        return {"value_range": self.value_range, "seed": self.seed}


def check_value_range(owner, value_range) -> list:
    if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
        raise arg_error(owner, "value_range", "a pair of numbers (low, high)",
                        value_range)  # fmt: skip
    return sorted(value_range)


@fill_docs(IMAGE_ARGS)
class RandomBrightness(ColorLayer):
    """Adds a random brightness delta to each image: ``delta = x * (high -
    low)`` for ``x`` drawn from ``factor``, then clips to ``value_range``.

    Args:
        factor: ``f`` (``x`` in ``[-f, f]``) or ``(lower, upper)``, in ``[-1, 1]``.
        {value_range}
        {seed}
        {kwargs}

    {image_shapes}

    Example:
    >>> import numpy as np, lamina as keras
    >>> layer = keras.layers.RandomBrightness(0.2, seed=1)
    >>> tuple(layer(np.zeros((2, 4, 4, 3)), training=True).shape)
    (2, 4, 4, 3)
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(factor=factor, **kwargs)
        self._init_color(value_range, seed)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        delta = self._draw(data, *self.factor, seed, rank=4)
        return {"rgb_delta": delta * (self.value_range[1] - self.value_range[0])}

    def _transform_images(self, images, transformation, interpolation):
        delta = torch.as_tensor(transformation["rgb_delta"], device=images.device)
        return self._clip(images + per_image(delta, 4).to(images.dtype))

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, **self._color_config()}


@fill_docs(IMAGE_ARGS)
class RandomContrast(ColorLayer):
    """Scales each image's deviations from its mean (per channel) by a random
    factor drawn from ``[1 - lower, 1 + upper]``, then clips to ``value_range``.

    Args:
        factor: ``f`` (the range ``[0, f]``, so ``[1, 1 + f]``, as Keras 3) or
            ``(lower, upper)``, in ``[0, 1]``.
        {value_range}
        {seed}
        {kwargs}

    {image_shapes}

    Example:
    >>> import numpy as np, lamina as keras
    >>> layer = keras.layers.RandomContrast(0.2, seed=1)
    >>> tuple(layer(np.zeros((2, 4, 4, 3)), training=True).shape)
    (2, 4, 4, 3)
    """

    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(factor=factor, **kwargs)
        self._init_color(value_range, seed)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        low, high = 1.0 - self.factor[0], 1.0 + self.factor[1]
        return {"contrast_factor": self._draw(data, low, high, seed, rank=4)}

    def _transform_images(self, images, transformation, interpolation):
        factor = torch.as_tensor(
            transformation["contrast_factor"], device=images.device
        )
        mean = self._spatial_mean(images)
        return self._clip((images - mean) * per_image(factor, 4) + mean)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, **self._color_config()}


class _HSVLayer(ColorLayer):
    """Saturation and hue: edit one HSV channel of the images."""

    def _edit_hsv(self, images, channel, edit):
        axis = -1 if self._channels_last else 1
        hsv = list(rgb_to_hsv(images, self.data_format).unbind(axis))
        hsv[channel] = edit(hsv[channel])
        return hsv_to_rgb(torch.stack(hsv, axis), self.data_format)


@fill_docs(IMAGE_ARGS)
class RandomSaturation(_HSVLayer):
    """Scales each image's saturation by ``x / (1 - x)`` for ``x`` drawn from
    ``factor`` (Keras 3's rule: ``x = 0.5`` keeps it, ``x = 1`` saturates fully).

    Args:
        factor: ``f`` (``x`` in ``[-f, f]``) or ``(lower, upper)``, in ``[-1, 1]``.
        {value_range}
        {data_format}
        {seed}
        {kwargs}

    {image_shapes}

    Example:
    >>> import numpy as np, lamina as keras
    >>> layer = keras.layers.RandomSaturation(0.5, seed=1)
    >>> tuple(layer(np.zeros((2, 4, 4, 3)), training=True).shape)
    (2, 4, 4, 3)
    """

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None,
                 **kwargs):  # fmt: skip
        super().__init__(factor=factor, data_format=data_format, **kwargs)
        self._init_color(value_range, seed)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        x = self._draw(data, *self.factor, seed)
        return {"factor": x / (1 - x + config.epsilon())}

    def _transform_images(self, images, transformation, interpolation):
        factor = torch.as_tensor(transformation["factor"], device=images.device)
        factor = per_image(factor, 3).to(images.dtype)
        return self._edit_hsv(
            images, 1, lambda s: (s * factor).clamp(*self.value_range)
        )

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, **self._color_config()}


@fill_docs(IMAGE_ARGS)
class RandomHue(_HSVLayer):
    """Rotates each image's hue by ``±x / 2`` of a turn, ``x`` drawn from
    ``factor`` and the sign at random.

    Args:
        factor: ``f`` (``x`` in ``[0, f]``) or ``(lower, upper)``, in ``[0, 1]``.
        {value_range}
        {data_format}
        {seed}
        {kwargs}

    {image_shapes}

    Example:
    >>> import numpy as np, lamina as keras
    >>> layer = keras.layers.RandomHue(0.5, seed=1)
    >>> tuple(layer(np.zeros((2, 4, 4, 3)), training=True).shape)
    (2, 4, 4, 3)
    """

    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None,
                 **kwargs):  # fmt: skip
        super().__init__(factor=factor, data_format=data_format, **kwargs)
        self._init_color(value_range, seed)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        sign = torch.where(self._draw(data, 0.0, 1.0, seed) > 0.5, -1.0, 1.0)
        return {"factor": sign * self._draw(data, *self.factor, seed) * 0.5}

    def _transform_images(self, images, transformation, interpolation):
        shift = torch.as_tensor(transformation["factor"], device=images.device)
        shift = per_image(shift, 3).to(images.dtype)

        def rotate(hue):
            hue = hue + shift
            hue = torch.where(hue > 1.0, hue - 1.0, hue)
            return torch.where(hue < 0.0, hue + 1.0, hue)

        unit = transforms.transform_value_range(images, self.value_range, (0, 1))
        unit = self._edit_hsv(unit.to(images.dtype), 0, rotate).clamp(0, 1)
        out = transforms.transform_value_range(unit, (0, 1), self.value_range)
        return out.to(images.dtype)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, **self._color_config()}


@fill_docs(IMAGE_ARGS)
class RandomColorDegeneration(ColorLayer):
    """Blends each image towards its grayscale version by ``x`` drawn from
    ``factor``.

    Args:
        factor: ``f`` (``x`` in ``[-f, f]``) or ``(lower, upper)``, in ``[-1, 1]``.
        {value_range}
        {data_format}
        {seed}
        {kwargs}

    {image_shapes}

    Example:
    >>> import numpy as np, lamina as keras
    >>> layer = keras.layers.RandomColorDegeneration(0.5, seed=1)
    >>> tuple(layer(np.zeros((2, 4, 4, 3)), training=True).shape)
    (2, 4, 4, 3)
    """

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None,
                 **kwargs):  # fmt: skip
        super().__init__(factor=factor, data_format=data_format, **kwargs)
        self._init_color(value_range, seed)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        return {"factor": self._draw(data, *self.factor, seed, rank=4)}

    def _transform_images(self, images, transformation, interpolation):
        factor = torch.as_tensor(transformation["factor"], device=images.device)
        gray = rgb_to_grayscale(images, self.data_format)
        return self._clip(transforms.blend(images, gray, per_image(factor, 4)))

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, **self._color_config()}


@fill_docs(IMAGE_ARGS)
class RandomGrayscale(ColorLayer):
    """Turns each image to grayscale (kept in 3 channels) with probability
    ``factor``.

    Args:
        factor: float in ``[0, 1]``, the probability (default 0.5).
        {data_format}
        {seed}
        {kwargs}

    {image_shapes}

    Example:
    >>> import numpy as np, lamina as keras
    >>> layer = keras.layers.RandomGrayscale(1.0, seed=1)
    >>> out = layer(np.random.rand(2, 4, 4, 3), training=True)
    >>> bool((out[..., 0] == out[..., 1]).all())
    True
    """

    _USE_BASE_FACTOR = False

    def __init__(self, factor=0.5, data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.factor = check_float(self, "factor", factor, 0.0, 1.0)
        self._init_seed(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        return self._draw(data, 0.0, 1.0, seed, rank=4) < self.factor

    def _transform_images(self, images, transformation, interpolation):
        apply = per_image(torch.as_tensor(transformation, device=images.device), 4)
        return torch.where(apply, rgb_to_grayscale(images, self.data_format), images)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@fill_docs(IMAGE_ARGS)
class RandomInvert(ColorLayer):
    """Inverts each image (``high - x``) with a probability drawn from
    ``factor``.

    Args:
        factor: ``f`` (probabilities in ``[0, f]``) or ``(lower, upper)``, in
            ``[0, 1]`` (default 1.0).
        {value_range}
        {seed}
        {data_format}
        {kwargs}

    {image_shapes}

    Example:
    >>> import numpy as np, lamina as keras
    >>> layer = keras.layers.RandomInvert(seed=1)
    >>> tuple(layer(np.zeros((2, 4, 4, 3)), training=True).shape)
    (2, 4, 4, 3)
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor=1.0, value_range=(0, 255), seed=None, data_format=None,
                 **kwargs):  # fmt: skip
        super().__init__(data_format=data_format, **kwargs)
        self.factor = self._check_factor("factor", factor)
        self._init_seed(seed)
        self.value_range = value_range

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        probability = self._draw(data, *self.factor, seed)
        return {"apply_inversion": self._draw(data, 0.0, 1.0, seed) < probability}

    def _transform_images(self, images, transformation, interpolation):
        apply = torch.as_tensor(transformation["apply_inversion"], device=images.device)
        inverted = self.value_range[1] - images
        return torch.where(per_image(apply, 4), inverted, images)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, **self._color_config()}


@fill_docs(IMAGE_ARGS)
class RandomPosterization(ColorLayer):
    """Keeps ``bits`` bits of each 8-bit colour value, ``bits`` drawn per image
    from ``[lower, upper)`` (or exactly ``upper`` when both are equal).

    Args:
        factor: ``f`` (``[1, f]``) or ``(lower, upper)``, in ``[1, 8]``.
        {value_range}
        {data_format}
        {seed}
        {kwargs}

    {image_shapes}

    Example:
    >>> import numpy as np, lamina as keras
    >>> layer = keras.layers.RandomPosterization((2, 2), seed=1)
    >>> layer(np.full((1, 1, 1, 3), 255.0), training=True).tolist()
    [[[[192.0, 192.0, 192.0]]]]
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (1, 8)

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None,
                 **kwargs):  # fmt: skip
        super().__init__(data_format=data_format, **kwargs)
        self.factor = self._check_factor("factor", factor)
        self._init_color(value_range, seed)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        low, high = self.factor
        bits = self._draw(data, 0.0, 1.0, seed)
        if low != high:
            bits = (bits * (high - low) + low).floor()
        else:
            bits = torch.full_like(bits, low)
        return {"shift_factor": (8 - bits).to(torch.uint8)}

    def _transform_images(self, images, transformation, interpolation):
        shift = torch.as_tensor(transformation["shift_factor"], device=images.device)
        shift = per_image(shift.to(torch.uint8), 4)
        bytes_ = transforms.transform_value_range(images, self.value_range, (0, 255))
        bytes_ = bytes_.to(images.dtype).to(torch.uint8)
        kept = ((bytes_ >> shift) << shift).to(images.dtype)
        return transforms.transform_value_range(kept, (0, 255), self.value_range)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, **self._color_config()}


@fill_docs(IMAGE_ARGS)
class RandomSharpness(ColorLayer):
    """Sharpens (or blurs) each image: ``x + (1 - 2s) * (smooth(x) - x)`` with
    ``s`` drawn from ``factor`` and ``smooth`` a 3x3 box-like filter (PIL's
    ``SMOOTH``), then clips to ``value_range``.

    Args:
        factor: ``f`` (``[0, f]``) or ``(lower, upper)``, in ``[0, 1]``; 0.5
            keeps the image.
        {value_range}
        {data_format}
        {seed}
        {kwargs}

    {image_shapes}

    Example:
    >>> import numpy as np, lamina as keras
    >>> layer = keras.layers.RandomSharpness(0.5, seed=1)
    >>> tuple(layer(np.zeros((2, 4, 4, 3)), training=True).shape)
    (2, 4, 4, 3)
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None,
                 **kwargs):  # fmt: skip
        super().__init__(data_format=data_format, **kwargs)
        self.factor = self._check_factor("factor", factor)
        self._init_color(value_range, seed)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        return {"factor": self._draw(data, *self.factor, seed)}

    def _transform_images(self, images, transformation, interpolation):
        factor = torch.as_tensor(transformation["factor"], device=images.device)
        factor = per_image(factor * 2, 4).to(images.dtype)
        x = images.movedim(-1, 1) if self._channels_last else images
        channels = x.shape[1]
        kernel = torch.full((3, 3), 1.0 / 13.0, dtype=x.dtype, device=x.device)
        kernel[1, 1] = 5.0 / 13.0
        kernel = kernel.expand(channels, 1, 3, 3)
        smooth = F.conv2d(x, kernel, padding=1, groups=channels)
        smooth = smooth.movedim(1, -1) if self._channels_last else smooth
        return self._clip(images + (1.0 - factor) * (smooth - images))

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, **self._color_config()}


@fill_docs(IMAGE_ARGS)
class RandomGaussianBlur(ColorLayer):
    """Blurs each image with probability drawn from ``factor``, by a Gaussian of
    ``kernel_size`` and standard deviations drawn from ``sigma`` (one pair per
    batch).

    Args:
        factor: ``f`` (probabilities in ``[0, f]``) or ``(lower, upper)`` in
            ``[0, 1]`` (default 1.0).
        kernel_size: odd int or pair of odd ints (default 3).
        sigma: ``s`` (``[0, s]``) or ``(lower, upper)`` (default 1.0).
        {value_range}
        {data_format}
        {seed}
        {kwargs}

    {image_shapes}

    Example:
    >>> import numpy as np, lamina as keras
    >>> layer = keras.layers.RandomGaussianBlur(seed=1)
    >>> tuple(layer(np.zeros((2, 4, 4, 3)), training=True).shape)
    (2, 4, 4, 3)
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor=1.0, kernel_size=3, sigma=1.0, value_range=(0, 255),
                 data_format=None, seed=None, **kwargs):  # fmt: skip
        super().__init__(data_format=data_format, **kwargs)
        self.factor = self._check_factor("factor", factor)
        self.kernel_size = self._check_kernel_size(kernel_size)
        self.sigma = self._check_factor("sigma", sigma)
        self.value_range = value_range
        self._init_seed(seed)

    def _check_kernel_size(self, kernel_size):
        sizes = tuple(kernel_size) if isinstance(kernel_size, (tuple, list)) else (
            kernel_size, kernel_size)  # fmt: skip
        if len(sizes) != 2 or not all(isinstance(k, int) and k % 2 for k in sizes):
            raise arg_error(self, "kernel_size", "an odd int or a pair of odd ints",
                            kernel_size)  # fmt: skip
        return sizes

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        probability = self._draw(data, *self.factor, seed)
        apply = self._draw(data, 0.0, 1.0, seed) < probability
        sigma = self._uniform((2,), *self.sigma, seed) + 1e-6
        return {"should_apply_blur": apply, "blur_factor": sigma}

    def _transform_images(self, images, transformation, interpolation):
        apply = torch.as_tensor(
            transformation["should_apply_blur"], device=images.device
        )
        sigma = torch.as_tensor(transformation["blur_factor"])
        blurred = gaussian_blur(images, self.kernel_size, sigma, self.data_format)
        out = torch.where(per_image(apply, 4), blurred, images)
        return out.clamp(*self.value_range)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor,
                "kernel_size": self.kernel_size, "sigma": self.sigma,
                **self._color_config()}  # fmt: skip


@fill_docs(IMAGE_ARGS)
class Solarization(ColorLayer):
    """Adds a random amount to each image, then inverts (``255 - x``, in a 0-255
    scale) the values above a random threshold. With the defaults (no addition,
    threshold 0) it inverts every image; like the random layers it acts in
    training only.

    Args:
        addition_factor: ``f`` or ``(lower, upper)`` in ``[0, 1]``: additions
            drawn from ``[lower, upper * 255]`` (Keras's rule; ``f`` means
            ``(0, f)``).
        threshold_factor: the same for the thresholds.
        {value_range}
        {seed}
        {kwargs}

    {image_shapes}

    Example:
    >>> import numpy as np, lamina as keras
    >>> keras.layers.Solarization()(np.array([[[[0.0, 100.0, 255.0]]]]),
    ...                             training=True).tolist()
    [[[[255.0, 155.0, 0.0]]]]
    """

    _USE_BASE_FACTOR = False

    def __init__(self, addition_factor=0.0, threshold_factor=0.0,
                 value_range=(0, 255), seed=None, **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        self.addition_factor = self._check_unit("addition_factor", addition_factor)
        self.threshold_factor = self._check_unit("threshold_factor", threshold_factor)
        self._init_color(value_range, seed)

    def _check_unit(self, arg, factor):
        return self._check_factor(arg, factor, bounds=(0, 1))

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        low, high = self.addition_factor
        additions = self._draw(data, low, high * 255, seed, rank=4)
        low, high = self.threshold_factor
        thresholds = self._draw(data, low, high * 255, seed, rank=4)
        return {"additions": additions, "thresholds": thresholds}

    def _transform_images(self, images, transformation, interpolation):
        additions, thresholds = (
            per_image(torch.as_tensor(transformation[key], device=images.device), 4)
            for key in ("additions", "thresholds")
        )
        x = transforms.transform_value_range(images, self.value_range, (0, 255))
        x = (x + additions).clamp(0, 255)
        x = torch.where(x < thresholds, x, 255 - x)
        out = transforms.transform_value_range(x, (0, 255), self.value_range)
        return out.to(images.dtype)

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range,
                "addition_factor": self.addition_factor,
                "threshold_factor": self.threshold_factor, "seed": self.seed}  # fmt: skip

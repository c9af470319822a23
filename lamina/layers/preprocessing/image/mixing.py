"""Augmentations that mix images of a batch or paint over them: ``MixUp``,
``CutMix`` and ``RandomErasing``."""

from __future__ import annotations

import torch

from lamina.layers.docs import fill_docs
from lamina.layers.preprocessing.image import transforms
from lamina.layers.preprocessing.image.base import BaseImagePreprocessingLayer
from lamina.layers.preprocessing.image.color import ColorLayer
from lamina.layers.preprocessing.image.docs import IMAGE_ARGS
from lamina.random import beta
from lamina.utils.validation import arg_error, check_float

per_image = transforms.per_image


def _mix_labels(labels, transformation):
    """Labels blended like their images (``mix_weight`` of the image's own)."""
    labels = torch.as_tensor(labels)
    order = torch.as_tensor(transformation["permutation_order"]).long()
    weight = torch.as_tensor(transformation["mix_weight"]).reshape(-1, 1)
    weight = weight.to(labels.device, labels.dtype)
    return weight * labels + (1.0 - weight) * labels[order]


def box_mask(shape, corners, channels_last) -> torch.Tensor:
    """``(batch, H, W, C)`` (or channels first) booleans: inside the per-image
    boxes ``corners = (x0, x1, y0, y1)`` (each ``(batch,)``, half-open)."""
    height, width = (shape[-3], shape[-2]) if channels_last else shape[-2:]
    x0, x1, y0, y1 = (c.reshape(-1, 1, 1) for c in corners)
    rows = torch.arange(height, dtype=x0.dtype).reshape(1, -1, 1)
    cols = torch.arange(width, dtype=x0.dtype).reshape(1, 1, -1)
    inside = (cols >= x0) & (cols < x1) & (rows >= y0) & (rows < y1)
    axis = -1 if channels_last else 1
    return inside.unsqueeze(axis).expand(inside.shape[0], *shape[1:])


@fill_docs(IMAGE_ARGS)
class MixUp(BaseImagePreprocessingLayer):
    """Blends each image (and its labels) with another of the batch: ``w x +
    (1 - w) x'``, ``w`` drawn from ``Beta(alpha, alpha)`` (MixUp, Zhang et al.).

    Args:
        alpha: float > 0, the Beta concentration (default 0.2).
        {data_format}
        {seed}
        {kwargs}

    {image_shapes}

    Example:
    >>> import numpy as np, lamina as keras
    >>> layer = keras.layers.MixUp(seed=1)
    >>> out = layer({"images": np.random.rand(4, 3, 3, 3),
    ...              "labels": np.eye(4)}, training=True)
    >>> tuple(out["labels"].shape)
    (4, 4)
    """

    _USE_BASE_FACTOR = False

    def __init__(self, alpha=0.2, data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.alpha = check_float(self, "alpha", alpha, 0.0)
        self._init_seed(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = data["images"] if isinstance(data, dict) else data
        batch = self._batch_size(images.shape)
        order = self._permutation(batch, seed)
        weight = beta((batch,), self.alpha, self.alpha, seed=self._draw_seed(seed))
        return {"mix_weight": weight, "permutation_order": order}

    def _transform_images(self, images, transformation, interpolation):
        order = torch.as_tensor(transformation["permutation_order"]).long()
        weight = per_image(torch.as_tensor(transformation["mix_weight"]), 4)
        weight = weight.to(images.device, images.dtype)
        return weight * images + (1.0 - weight) * images[order]

    def transform_labels(self, labels, transformation, training=True):
        if not training or transformation is None:
            return labels
        return _mix_labels(labels, transformation)

    def transform_segmentation_masks(self, segmentation_masks, transformation,
                                     training=True):  # fmt: skip
        if not training or transformation is None:
            return segmentation_masks
        masks = torch.as_tensor(segmentation_masks)
        return self._transform_images(masks, transformation, None)

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        """Each image keeps its boxes and gains those of its partner."""
        if not training or transformation is None:
            return bounding_boxes
        order = torch.as_tensor(transformation["permutation_order"]).long()
        boxes, labels = bounding_boxes["boxes"], bounding_boxes["labels"]
        return {"boxes": torch.cat([boxes, boxes[order]], dim=1),
                "labels": torch.cat([labels, labels[order]], dim=1)}  # fmt: skip

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha, "seed": self.seed}


@fill_docs(IMAGE_ARGS)
class CutMix(BaseImagePreprocessingLayer):
    """Pastes a random box of another image of the batch into each image; the
    labels mix by the pasted area (CutMix, Yun et al.). Batches only.

    Args:
        factor: ``f`` or ``(lower, upper)`` in ``[0, 1]``: the Beta
            concentration is drawn from it (default 1.0).
        {seed}
        {data_format}
        {kwargs}

    Input shape: 4D images, or a dict with ``"images"`` and ``"labels"``.

    Example:
    >>> import numpy as np, lamina as keras
    >>> layer = keras.layers.CutMix(seed=1)
    >>> tuple(layer(np.random.rand(4, 8, 8, 3), training=True).shape)
    (4, 8, 8, 3)
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor=1.0, seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.factor = self._check_factor("factor", factor)
        self._init_seed(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        images = data["images"] if isinstance(data, dict) else data
        if not training or images.ndim == 3:
            return None
        batch = images.shape[0]
        height, width = self._image_size(images.shape)
        alpha = float(self._uniform((), *self.factor, seed)) + 1e-6
        weight = beta((batch,), alpha, alpha, seed=self._draw_seed(seed))
        ratio = torch.sqrt(1.0 - weight)
        x0, x1 = self._bounds(batch, width, ratio, seed)
        y0, y1 = self._bounds(batch, height, ratio, seed)
        masks = box_mask(images.shape, (x0, x1, y0, y1), self._channels_last)
        weight = 1.0 - (x1 - x0) * (y1 - y0) / (width * height)
        order = self._permutation(batch, seed)
        return {"permutation_order": order, "batch_masks": masks, "mix_weight": weight}

    def _bounds(self, batch, length, ratio, seed):
        size = ratio * length
        start = self._uniform((batch,), seed=seed) * (length - size)
        return start, start + size

    def transform_images(self, images, transformation=None, training=True):
        images = self._cast(images)
        if not training or transformation is None:
            return images
        order = torch.as_tensor(transformation["permutation_order"]).long()
        masks = torch.as_tensor(transformation["batch_masks"], device=images.device)
        return torch.where(masks, images[order], images)

    def transform_labels(self, labels, transformation, training=True):
        if not training or transformation is None:
            return labels
        return _mix_labels(labels, transformation)

    def transform_segmentation_masks(self, segmentation_masks, transformation,
                                     training=True):  # fmt: skip
        return self.transform_images(segmentation_masks, transformation, training)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "seed": self.seed}


@fill_docs(IMAGE_ARGS)
class RandomErasing(ColorLayer):
    """Erases a random box of each image (with probability drawn from
    ``factor``), filling it with ``fill_value`` or, by default, clipped Gaussian
    noise scaled to ``value_range`` (Zhong et al.).

    Args:
        factor: ``f`` or ``(lower, upper)`` in ``[0, 1]``: the probability
            (default 1.0).
        scale: ``s`` or ``(lower, upper)`` in ``[0, 1]``: the erased fraction of
            each side's square (default ``(0.02, 0.33)``).
        fill_value: None (noise), a number, or three numbers (one per channel).
        {value_range}
        {seed}
        {data_format}
        {kwargs}

    {image_shapes}

    Example:
    >>> import numpy as np, lamina as keras
    >>> layer = keras.layers.RandomErasing(fill_value=0.0, seed=1)
    >>> tuple(layer(np.ones((2, 8, 8, 3)), training=True).shape)
    (2, 8, 8, 3)
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor=1.0, scale=(0.02, 0.33), fill_value=None,
                 value_range=(0, 255), seed=None, data_format=None, **kwargs):  # fmt: skip
        super().__init__(data_format=data_format, **kwargs)
        self.factor = self._check_factor("factor", factor)
        self.scale = self._check_factor("scale", scale)
        if fill_value is not None and not (
            isinstance(fill_value, (int, float))
            or (isinstance(fill_value, (tuple, list)) and len(fill_value) == 3)
        ):
            raise arg_error(self, "fill_value", "None, a number or three numbers",
                            fill_value)  # fmt: skip
        self.fill_value = fill_value
        self.value_range = value_range
        self._init_seed(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = data["images"] if isinstance(data, dict) else data
        batch = self._batch_size(images.shape)
        height, width = self._image_size(images.shape)
        sides = torch.sqrt(self._uniform((batch, 2), *self.scale, seed))
        corners = []
        for length, side in ((width, sides[:, 0]), (height, sides[:, 1])):
            size = side * length
            start = self._uniform((batch,), seed=seed) * (length - size)
            corners += [start, start + size]
        shape = images.shape if images.ndim == 4 else (1, *images.shape)
        masks = box_mask(shape, corners, self._channels_last)
        probability = self._uniform((batch,), *self.factor, seed)
        apply = self._uniform((batch,), seed=seed) < probability
        return {"apply_erasing": apply, "batch_masks": masks,
                "fill_value": self._fill(shape, seed)}  # fmt: skip

    def _fill(self, shape, seed):
        if self.fill_value is None:
            generator = torch.Generator().manual_seed(self._draw_seed(seed))
            fill = torch.randn(shape, generator=generator) * self.value_range[1]
        elif isinstance(self.fill_value, (tuple, list)):
            fill = torch.tensor(self.fill_value, dtype=torch.float32).expand(shape)
        else:
            fill = torch.full(shape, float(self.fill_value))
        return fill.clamp(*self.value_range)

    def _transform_images(self, images, transformation, interpolation):
        masks = torch.as_tensor(transformation["batch_masks"], device=images.device)
        fill = torch.as_tensor(transformation["fill_value"], device=images.device)
        erased = torch.where(masks, fill.to(images.dtype), images)
        apply = torch.as_tensor(transformation["apply_erasing"], device=images.device)
        return torch.where(per_image(apply, 4), erased, images)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "scale": self.scale,
                "fill_value": self.fill_value, **self._color_config()}  # fmt: skip

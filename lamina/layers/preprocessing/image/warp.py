"""Non-affine warps: ``RandomPerspective`` (a random homography per image) and
``RandomElasticTransform`` (a random smooth displacement field), on
``lamina.ops.image.perspective_transform`` and ``elastic_transform``."""

from __future__ import annotations

import torch

from lamina.layers.docs import fill_docs
from lamina.layers.preprocessing.image import transforms
from lamina.layers.preprocessing.image.base import BaseImagePreprocessingLayer
from lamina.layers.preprocessing.image.docs import IMAGE_ARGS

# The solver behind perspective_transform, shared so boxes follow the images.
from lamina.ops.image import _homography as homography
from lamina.ops.image import elastic_transform, perspective_transform
from lamina.utils.validation import check_choice, check_float

per_image = transforms.per_image
ELASTIC_FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")


class _RandomWarp(BaseImagePreprocessingLayer):
    """Applied to each image with a probability drawn from ``factor``."""

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)

    def _draw_apply(self, batch, seed):
        probability = self._uniform((batch,), *self.factor, seed)
        return self._uniform((batch,), seed=seed) < probability

    def _where_applied(self, transformation, key, warped, images):
        apply = torch.as_tensor(transformation[key], device=images.device)
        return torch.where(per_image(apply, 4), warped, images)


@fill_docs(IMAGE_ARGS)
class RandomPerspective(_RandomWarp):
    """Moves each image's corners by up to ``scale / 2`` of their coordinates
    and warps the image accordingly, with probability drawn from ``factor``.

    Args:
        factor: ``f`` or ``(lower, upper)`` in ``[0, 1]``: the probability
            (default 1.0).
        scale: float in ``[0, 1]``, the strength (default 1.0).
        {interpolation}
        fill_value: the value outside the input (default 0.0).
        {seed}
        {data_format}
        {kwargs}

    {image_shapes}

    Example:
    >>> import numpy as np, lamina as keras
    >>> layer = keras.layers.RandomPerspective(scale=0.3, seed=1)
    >>> tuple(layer(np.ones((2, 8, 8, 3)), training=True).shape)
    (2, 8, 8, 3)
    """

    def __init__(self, factor=1.0, scale=1.0, interpolation="bilinear",
                 fill_value=0.0, seed=None, data_format=None, **kwargs):  # fmt: skip
        super().__init__(data_format=data_format, **kwargs)
        self.factor = self._check_factor("factor", factor)
        self.scale = check_float(self, "scale", scale, 0.0, 1.0)
        self.interpolation = check_choice(self, "interpolation", interpolation,
                                          ("nearest", "bilinear"))  # fmt: skip
        self.fill_value = fill_value
        self._init_seed(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = data["images"] if isinstance(data, dict) else data
        batch = self._batch_size(images.shape)
        height, width = self._image_size(images.shape)
        apply = self._draw_apply(batch, seed)
        moves = self._uniform((batch, 4, 2), -0.5 * self.scale, 0.5 * self.scale, seed)
        start = torch.tensor([[0.0, 0.0], [width - 1, 0.0], [0.0, height - 1],
                              [width - 1, height - 1]]).expand(batch, 4, 2)  # fmt: skip
        return {"apply_perspective": apply, "start_points": start,
                "end_points": start + start * moves,
                "input_shape": tuple(images.shape)}  # fmt: skip

    def _transform_images(self, images, transformation, interpolation):
        start, end = transformation["start_points"], transformation["end_points"]
        warped = perspective_transform(images, start, end, interpolation,
                                       self.fill_value, self.data_format)  # fmt: skip
        return self._where_applied(transformation, "apply_perspective", warped, images)

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        if not training or transformation is None:
            return bounding_boxes
        height, width = self._image_size(transformation["input_shape"])
        start = torch.as_tensor(transformation["start_points"], dtype=torch.float32)
        end = torch.as_tensor(transformation["end_points"], dtype=torch.float32)
        warp = transforms.corners_mover(homography(start, end))
        apply = torch.as_tensor(transformation["apply_perspective"]).reshape(-1, 1, 1)

        def move(boxes):
            return torch.where(apply, warp(boxes), boxes)

        return transforms.boxes_through(bounding_boxes, self.bounding_box_format,
                                        height, width, move)  # fmt: skip

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "scale": self.scale,
                "interpolation": self.interpolation, "fill_value": self.fill_value,
                "seed": self.seed}  # fmt: skip


@fill_docs(IMAGE_ARGS)
class RandomElasticTransform(_RandomWarp):
    """Displaces each image's pixels by a random smooth field (Gaussian-blurred
    noise, ``alpha = 0.1 s max(H, W)`` pixels, ``sigma = 0.05 s min(H, W)``, ``s``
    drawn from ``scale``), with probability drawn from ``factor``.

    Args:
        factor: ``f`` or ``(lower, upper)`` in ``[0, 1]``: the probability
            (default 1.0).
        scale: ``s`` or ``(lower, upper)`` in ``[0, 1]``, the strength (default
            1.0).
        {interpolation}
        fill_mode: ``"reflect"`` (default), ``"wrap"``, ``"constant"``,
            ``"nearest"`` or ``"mirror"``.
        {fill_value}
        {value_range}
        {seed}
        {data_format}
        {kwargs}

    {image_shapes}

    Example:
    >>> import numpy as np, lamina as keras
    >>> layer = keras.layers.RandomElasticTransform(seed=1)
    >>> tuple(layer(np.ones((2, 8, 8, 3)), training=True).shape)
    (2, 8, 8, 3)
    """

    def __init__(self, factor=1.0, scale=1.0, interpolation="bilinear",
                 fill_mode="reflect", fill_value=0.0, value_range=(0, 255),
                 seed=None, data_format=None, **kwargs):  # fmt: skip
        super().__init__(data_format=data_format, **kwargs)
        self.factor = self._check_factor("factor", factor)
        self.scale = self._check_factor("scale", scale)
        self.interpolation = check_choice(self, "interpolation", interpolation,
                                          ("nearest", "bilinear"))  # fmt: skip
        self.fill_mode = check_choice(self, "fill_mode", fill_mode, ELASTIC_FILL_MODES)
        self.fill_value = fill_value
        self.value_range = value_range
        self._init_seed(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training or self.scale[1] == 0 or self.factor[1] == 0:
            return None
        images = data["images"] if isinstance(data, dict) else data
        apply = self._draw_apply(self._batch_size(images.shape), seed)
        return {"apply_transform": apply,
                "distortion_factor": self._uniform((), *self.scale, seed),
                "seed": self._draw_seed(seed)}  # fmt: skip

    def _transform_images(self, images, transformation, interpolation):
        height, width = self._image_size(images.shape)
        factor = float(transformation["distortion_factor"])
        alpha, sigma = (
            max(height, width) * 0.1 * factor,
            min(height, width) * 0.05 * factor,
        )
        warped = elastic_transform(images, alpha, sigma, interpolation, self.fill_mode,
                                   self.fill_value, transformation["seed"],
                                   self.data_format)  # fmt: skip
        out = self._where_applied(transformation, "apply_transform", warped, images)
        return out.clamp(*self.value_range)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "scale": self.scale,
                "interpolation": self.interpolation, "fill_mode": self.fill_mode,
                "fill_value": self.fill_value, "value_range": self.value_range,
                "seed": self.seed}  # fmt: skip

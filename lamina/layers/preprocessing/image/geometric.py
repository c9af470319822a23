"""Geometric augmentation: ``RandomFlip``, ``RandomRotation``, ``RandomZoom``,
``RandomTranslation``, ``RandomShear`` and ``RandomCrop``. Each draws its
parameters; the warps are ``lamina.ops.image.affine_transform`` with matrices
from ``transforms``; bounding boxes follow the same matrices."""

from __future__ import annotations

import torch

from lamina.layers.docs import fill_docs
from lamina.layers.preprocessing.image import transforms
from lamina.layers.preprocessing.image.base import BaseImagePreprocessingLayer
from lamina.layers.preprocessing.image.docs import IMAGE_ARGS
from lamina.ops.image import affine_transform
from lamina.utils.bounding_boxes.converters import affine_transform as move_boxes
from lamina.utils.validation import check_choice, check_int

FLIP_MODES = ("horizontal", "vertical", "horizontal_and_vertical")


@fill_docs(IMAGE_ARGS)
class RandomFlip(BaseImagePreprocessingLayer):
    """Flips each image horizontally and/or vertically with probability 1/2.

    Args:
        mode: ``"horizontal"``, ``"vertical"`` or ``"horizontal_and_vertical"``
            (default; one draw per image decides both flips).
        {seed}
        {data_format}
        {kwargs}

    {image_shapes}

    Output shape: the input's.

    Example:
    >>> import numpy as np, lamina as keras
    >>> layer = keras.layers.RandomFlip("horizontal", seed=1)
    >>> tuple(layer(np.zeros((2, 4, 4, 3)), training=True).shape)
    (2, 4, 4, 3)
    """

    _USE_BASE_FACTOR = False

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None,
                 **kwargs):  # fmt: skip
        super().__init__(data_format=data_format, **kwargs)
        self.mode = check_choice(self, "mode", mode, FLIP_MODES)
        self._init_seed(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = data["images"] if isinstance(data, dict) else data
        shape = tuple(images.shape)
        draw = self._uniform((self._batch_size(shape), 1, 1, 1), seed=seed,
                             device=images.device)  # fmt: skip
        return {"flips": draw <= 0.5, "input_shape": shape}

    def _flip_axes(self) -> tuple:
        axes = ()
        if self.mode != "vertical":
            axes += (-2 if self._channels_last else -1,)
        if self.mode != "horizontal":
            axes += (-3 if self._channels_last else -2,)
        return axes

    def _transform_images(self, images, transformation, interpolation):
        flips = torch.as_tensor(transformation["flips"], device=images.device)
        return torch.where(flips, images.flip(self._flip_axes()), images)

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        if not training:
            return bounding_boxes
        flips = torch.as_tensor(transformation["flips"]).reshape(-1, 1, 1)
        height, width = self._image_size(transformation["input_shape"])

        def flip(boxes):
            x1, y1, x2, y2 = boxes.unbind(-1)
            if self.mode != "vertical":
                x1, x2 = 1 - x2, 1 - x1
            if self.mode != "horizontal":
                y1, y2 = 1 - y2, 1 - y1
            return torch.where(flips, torch.stack([x1, y1, x2, y2], -1), boxes)

        return transforms.boxes_through(bounding_boxes, self.bounding_box_format,
                                        height, width, flip, relative=True)  # fmt: skip

    def get_config(self):
        return {**super().get_config(), "seed": self.seed, "mode": self.mode}


class _AffineLayer(BaseImagePreprocessingLayer):
    """A random warp: subclasses give ``_matrix(transformation, height, width)``
    (``(batch, 8)``)."""

    def _transform_images(self, images, transformation, interpolation):
        height, width = self._image_size(images.shape)
        matrix = self._matrix(transformation, height, width).to(images.device)
        return affine_transform(images, matrix, interpolation, self.fill_mode,
                                self.fill_value, self.data_format)  # fmt: skip

    def _sampling_config(self) -> dict:
        return {
            "fill_mode": self.fill_mode,
            "fill_value": self.fill_value,
            "interpolation": self.interpolation,
            "seed": self.seed,
        }


@fill_docs(IMAGE_ARGS)
class RandomRotation(_AffineLayer):
    """Rotates each image by a random angle about its centre.

    Args:
        factor: a fraction of a full turn: ``f`` draws angles in ``[-f * 360,
            f * 360]`` degrees, ``(lower, upper)`` in ``[lower * 360, upper *
            360]`` (counter-clockwise for positive values).
        {fill_mode}
        {interpolation}
        {seed}
        {fill_value}
        {data_format}
        {kwargs}

    {image_shapes}

    Output shape: the input's.

    Example:
    >>> import numpy as np, lamina as keras
    >>> layer = keras.layers.RandomRotation(0.1, seed=1)
    >>> tuple(layer(np.zeros((2, 4, 4, 3)), training=True).shape)
    (2, 4, 4, 3)
    """

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear",
                 seed=None, fill_value=0.0, data_format=None, **kwargs):  # fmt: skip
        super().__init__(factor=factor, data_format=data_format, **kwargs)
        self._init_sampling(fill_mode, interpolation, fill_value)
        self._init_seed(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = data["images"] if isinstance(data, dict) else data
        height, width = self._image_size(images.shape)
        batch = self._batch_size(images.shape)
        low, high = self.factor[0] * 360.0, self.factor[1] * 360.0
        angle = self._uniform((batch,), low, high, seed, images.device)
        matrix = transforms.affine_matrix(angle, 0.0, 0.0, 1.0, 0.0, 0.0, height,
                                          width)  # fmt: skip
        if images.ndim == 3:
            matrix = matrix.squeeze(0)
        return {"angle": angle, "rotation_matrix": matrix, "image_height": height,
                "image_width": width, "batch_size": batch}  # fmt: skip

    def _matrix(self, transformation, height, width):
        return torch.as_tensor(transformation["rotation_matrix"]).reshape(-1, 8)

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        if not training:
            return bounding_boxes
        angle = torch.as_tensor(transformation["angle"], dtype=torch.float32)
        height, width = transformation["image_height"], transformation["image_width"]
        zeros, ones = torch.zeros_like(angle), torch.ones_like(angle)

        def rotate(boxes):  # xyxy (Keras 3.15 reads boxes of any format as xyxy)
            return move_boxes(boxes, angle, zeros, zeros, ones, zeros, zeros, height,
                              width)  # fmt: skip

        return transforms.boxes_through(
            bounding_boxes, self.bounding_box_format, height, width, rotate
        )

    def get_config(self):
        return {**super().get_config(), "factor": self.factor,
                **self._sampling_config()}  # fmt: skip


@fill_docs(IMAGE_ARGS)
class RandomZoom(_AffineLayer):
    """Zooms each image in or out by a random factor about its centre.

    Args:
        height_factor: ``f`` or ``(lower, upper)``, in ``(-1, 1]``: the vertical
            zoom is ``1 + x`` for ``x`` drawn from ``[-f, f]`` (or ``[lower,
            upper]``); positive values zoom out, negative ones zoom in.
        width_factor: the same for the horizontal zoom; None (default) keeps
            the aspect ratio (the vertical zoom is used for both).
        {fill_mode}
        {interpolation}
        {seed}
        {fill_value}
        {data_format}
        {kwargs}

    {image_shapes}

    Output shape: the input's.

    Example:
    >>> import numpy as np, lamina as keras
    >>> layer = keras.layers.RandomZoom(0.2, seed=1)
    >>> tuple(layer(np.zeros((2, 4, 4, 3)), training=True).shape)
    (2, 4, 4, 3)
    """

    _USE_BASE_FACTOR = False

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0,
                 data_format=None, **kwargs):  # fmt: skip
        super().__init__(data_format=data_format, **kwargs)
        self.height_factor = height_factor
        self.width_factor = width_factor
        self._height_range = self._check_zoom("height_factor", height_factor)
        self._width_range = None
        if width_factor is not None:
            self._width_range = self._check_zoom("width_factor", width_factor)
        self._init_sampling(fill_mode, interpolation, fill_value)
        self._init_seed(seed)

    def _check_zoom(self, arg, factor):
        low, high = self._check_factor(arg, factor)
        if low <= -1.0:  # a zoom of 1 + low must stay > 0
            self._check_factor(arg, factor, bounds=(-0.999999, 1))
        return low, high

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = data["images"] if isinstance(data, dict) else data
        shape = (self._batch_size(images.shape), 1)
        low, high = self._height_range
        height_zoom = self._uniform(shape, 1 + low, 1 + high, seed, images.device)
        width_zoom = height_zoom
        if self._width_range is not None:
            low, high = self._width_range
            width_zoom = self._uniform(shape, 1 + low, 1 + high, seed, images.device)
        return {"height_zoom": height_zoom, "width_zoom": width_zoom,
                "input_shape": tuple(images.shape)}  # fmt: skip

    def _matrix(self, transformation, height, width):
        zoom_x = torch.as_tensor(transformation["width_zoom"], dtype=torch.float32)
        zoom_y = torch.as_tensor(transformation["height_zoom"], dtype=torch.float32)
        zoom_x, zoom_y = zoom_x.reshape(-1), zoom_y.reshape(-1)
        shift_x = (width - 1.0) / 2.0 * (1.0 - zoom_x)
        shift_y = (height - 1.0) / 2.0 * (1.0 - zoom_y)
        return transforms.scale_shift_matrix(zoom_x, zoom_y, shift_x, shift_y)

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        if not training:
            return bounding_boxes
        height, width = self._image_size(transformation["input_shape"])
        matrix = self._matrix(transformation, height, width)
        corners = transforms.apply_to_point(matrix, 0.0, 0.0)
        corners += transforms.apply_to_point(matrix, float(width), float(height))
        return transforms.boxes_in_window(bounding_boxes, self.bounding_box_format,
                                          height, width, corners)  # fmt: skip

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor,
                "width_factor": self.width_factor, **self._sampling_config()}  # fmt: skip


@fill_docs(IMAGE_ARGS)
class RandomTranslation(_AffineLayer):
    """Shifts each image by a random fraction of its height and width.

    Args:
        height_factor: ``f`` or ``(lower, upper)`` in ``[-1, 1]``: the vertical
            shift is drawn from ``[-f, f]`` (or ``[lower, upper]``) times the
            height; positive values move the image down.
        width_factor: the same for the horizontal shift (positive: right).
        {fill_mode}
        {interpolation}
        {seed}
        {fill_value}
        {data_format}
        {kwargs}

    {image_shapes}

    Output shape: the input's.

    Example:
    >>> import numpy as np, lamina as keras
    >>> layer = keras.layers.RandomTranslation(0.2, 0.2, seed=1)
    >>> tuple(layer(np.zeros((2, 4, 4, 3)), training=True).shape)
    (2, 4, 4, 3)
    """

    _USE_BASE_FACTOR = False

    def __init__(self, height_factor, width_factor, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0,
                 data_format=None, **kwargs):  # fmt: skip
        super().__init__(data_format=data_format, **kwargs)
        self.height_factor = height_factor
        self.width_factor = width_factor
        self._height_range = self._check_factor("height_factor", height_factor)
        self._width_range = self._check_factor("width_factor", width_factor)
        self._init_sampling(fill_mode, interpolation, fill_value)
        self._init_seed(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = data["images"] if isinstance(data, dict) else data
        height, width = self._image_size(images.shape)
        shape, device = (self._batch_size(images.shape), 1), images.device
        shift_y = self._uniform(shape, *self._height_range, seed, device) * height
        shift_x = self._uniform(shape, *self._width_range, seed, device) * width
        return {"translations": torch.cat([shift_x, shift_y], dim=1),
                "input_shape": tuple(images.shape)}  # fmt: skip

    def _matrix(self, transformation, height, width):
        shifts = torch.as_tensor(transformation["translations"], dtype=torch.float32)
        ones = torch.ones_like(shifts[:, 0])
        return transforms.scale_shift_matrix(ones, ones, -shifts[:, 0], -shifts[:, 1])

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        if not training:
            return bounding_boxes
        height, width = self._image_size(transformation["input_shape"])
        shifts = torch.as_tensor(transformation["translations"], dtype=torch.float32)
        shift = torch.cat([shifts, shifts], dim=-1)[:, None, :]
        return transforms.boxes_through(bounding_boxes, self.bounding_box_format,
                                        height, width, lambda b: b + shift)  # fmt: skip

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor,
                "width_factor": self.width_factor, **self._sampling_config()}  # fmt: skip


@fill_docs(IMAGE_ARGS)
class RandomShear(_AffineLayer):
    """Shears each image by random amounts along x and y.

    Args:
        x_factor: ``f`` or ``(lower, upper)`` in ``[0, 1]``: the horizontal shear
            is drawn from ``[lower, upper]`` (``[-f, f]``) with a random sign.
        y_factor: the same for the vertical shear.
        {interpolation}
        {fill_mode}
        {fill_value}
        {data_format}
        {seed}
        {kwargs}

    {image_shapes}

    Output shape: the input's.

    Bounding boxes become the boxes around their four corners moved as the
    image's pixels move, clipped to the image. Keras 3.15 shears boxes in
    relative coordinates, x then y: the same boxes for a square image sheared
    along one axis, not otherwise (its boxes then leave the sheared objects).

    Example:
    >>> import numpy as np, lamina as keras
    >>> layer = keras.layers.RandomShear(0.2, 0.2, seed=1)
    >>> tuple(layer(np.zeros((2, 4, 4, 3)), training=True).shape)
    (2, 4, 4, 3)
    """

    _USE_BASE_FACTOR = False

    def __init__(self, x_factor=0.0, y_factor=0.0, interpolation="bilinear",
                 fill_mode="reflect", fill_value=0.0, data_format=None, seed=None,
                 **kwargs):  # fmt: skip
        super().__init__(data_format=data_format, **kwargs)
        self.x_factor = self._check_shear("x_factor", x_factor)
        self.y_factor = self._check_shear("y_factor", y_factor)
        self._arguments = {"x_factor": x_factor, "y_factor": y_factor}
        self._init_sampling(fill_mode, interpolation, fill_value)
        self._init_seed(seed)

    def _check_shear(self, arg, factor):
        if isinstance(factor, (tuple, list)):
            return self._check_factor(arg, factor, bounds=(0, 1))
        self._check_factor(arg, factor, bounds=(0, 1))
        return -abs(factor), abs(factor)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = data["images"] if isinstance(data, dict) else data
        shape, device = (self._batch_size(images.shape), 1), images.device
        sign = torch.where(self._uniform(shape, seed=seed, device=device) > 0.5,
                           -1.0, 1.0)  # fmt: skip
        shear_y = self._uniform(shape, *self.y_factor, seed, device)
        shear_x = self._uniform(shape, *self.x_factor, seed, device)
        return {"shear_factor": torch.cat([shear_x, shear_y], dim=1) * sign,
                "input_shape": tuple(images.shape)}  # fmt: skip

    def _matrix(self, transformation, height, width):
        shear = torch.as_tensor(transformation["shear_factor"], dtype=torch.float32)
        ones, zeros = torch.ones_like(shear[:, 0]), torch.zeros_like(shear[:, 0])
        return torch.stack([ones, shear[:, 0], zeros, shear[:, 1], ones, zeros,
                            zeros, zeros], dim=1)  # fmt: skip

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        if not training:
            return bounding_boxes
        height, width = self._image_size(transformation["input_shape"])
        matrix = self._matrix(transformation, height, width)
        return transforms.boxes_through(bounding_boxes, self.bounding_box_format,
                                        height, width,
                                        transforms.corners_mover(matrix))  # fmt: skip

    def get_config(self):
        # The arguments as given: Keras writes the ranges, which its own
        # from_config refuses for a number factor (negative lower bound).
        return {**super().get_config(), **self._arguments, **self._sampling_config()}


@fill_docs(IMAGE_ARGS)
class RandomCrop(BaseImagePreprocessingLayer):
    """Crops a random ``height x width`` window (the same for the whole batch) in
    training; at inference, and for inputs smaller than the window, crops the
    centre to the target aspect ratio and resizes.

    Args:
        height: int, the output height.
        width: int, the output width.
        {seed}
        {data_format}
        {kwargs}

    {image_shapes}

    Output shape: the input's with height and width replaced by ``height`` and
    ``width``.

    Example:
    >>> import numpy as np, lamina as keras
    >>> layer = keras.layers.RandomCrop(2, 3, seed=1)
    >>> tuple(layer(np.zeros((2, 4, 4, 3)), training=True).shape)
    (2, 2, 3, 3)
    """

    _USE_BASE_FACTOR = False

    def __init__(self, height, width, seed=None, data_format=None, name=None,
                 **kwargs):  # fmt: skip
        super().__init__(data_format=data_format, name=name, **kwargs)
        self.height = check_int(self, "height", height, minimum=1)
        self.width = check_int(self, "width", width, minimum=1)
        self._init_seed(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        images = data["images"] if isinstance(data, dict) else data
        height, width = self._image_size(images.shape)
        if training and height > self.height and width > self.width:
            top = self._uniform((), 0, float(height - self.height + 1), seed)
            left = self._uniform((), 0, float(width - self.width + 1), seed)
            return int(top), int(left)
        return transforms.centre_crop_window(height, width, self.height,
                                             self.width)[:2]  # fmt: skip

    def transform_images(self, images, transformation, training=True):
        if not training:
            return self._cast(images)
        return transforms.crop_and_resize(self._cast(images), transformation,
                                          (self.height, self.width),
                                          self._channels_last)  # fmt: skip

    def transform_segmentation_masks(self, segmentation_masks, transformation,
                                     training=True):  # fmt: skip
        return self.transform_images(segmentation_masks, transformation, training)

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        if not training:
            return bounding_boxes
        top, left = transformation

        def shift(boxes):
            x1, y1, x2, y2 = boxes.unbind(-1)
            return torch.stack([x1 - left, y1 - top, x2 - left, y2 - top], -1)

        return transforms.boxes_through(bounding_boxes, self.bounding_box_format,
                                        self.height, self.width, shift)  # fmt: skip

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        axes = (-3, -2) if self._channels_last else (-2, -1)
        shape[axes[0]], shape[axes[1]] = self.height, self.width
        return tuple(shape)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width,
                "seed": self.seed}  # fmt: skip

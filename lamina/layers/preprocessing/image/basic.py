"""The deterministic image layers: ``Rescaling``, ``Resizing`` and
``CenterCrop``."""

from __future__ import annotations

import torch

from lamina import config
from lamina.layers.docs import fill_docs
from lamina.layers.preprocessing.base import PreprocessingLayer
from lamina.layers.preprocessing.image import transforms
from lamina.layers.preprocessing.image.base import BaseImagePreprocessingLayer
from lamina.layers.preprocessing.image.docs import IMAGE_ARGS
from lamina.ops.image import resize
from lamina.utils.validation import arg_error, check_choice, check_int

RESIZE_INTERPOLATIONS = (
    "bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5",
)  # fmt: skip


@fill_docs()
class Rescaling(PreprocessingLayer):
    """Multiplies the inputs by ``scale`` and adds ``offset``, in training and
    at inference: ``scale=1/255`` maps ``[0, 255]`` to ``[0, 1]``,
    ``scale=1/127.5, offset=-1`` to ``[-1, 1]``. Integer inputs give floats.

    Args:
        scale: float, or one float per channel (a list or array).
        offset: float, or one float per channel (default 0.0).
        {kwargs}

    Input shape: any. Output shape: the input's.

    Example:
    >>> import numpy as np, lamina as keras
    >>> keras.layers.Rescaling(1 / 127.5, offset=-1)(np.array([[0, 255]])).tolist()
    [[-1.0, 1.0]]
    """

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale
        self.offset = offset
        self.supports_masking = True

    def _per_channel(self, value, like):
        value = torch.as_tensor(value, dtype=like.dtype, device=like.device)
        if value.ndim > 0 and config.image_data_format() == "channels_first":
            value = value.reshape(*value.shape, *([1] * (3 - value.ndim)))
        return value

    def call(self, inputs):
        x = torch.as_tensor(inputs).to(self._compute_torch_dtype)
        return x * self._per_channel(self.scale, x) + self._per_channel(self.offset, x)

    def get_config(self):
        return {**super().get_config(), "scale": _plain(self.scale),
                "offset": _plain(self.offset)}  # fmt: skip


def _plain(value):
    """Numbers as they serialize (a NumPy array as a list)."""
    return value.tolist() if hasattr(value, "tolist") else value


def _output_size(shape, height, width, channels_last) -> tuple:
    shape = list(shape)
    axes = (-3, -2) if channels_last else (-2, -1)
    shape[axes[0]], shape[axes[1]] = height, width
    return tuple(shape)


@fill_docs(IMAGE_ARGS)
class Resizing(BaseImagePreprocessingLayer):
    """Resizes images to ``height x width``.

    Args:
        height: int, the output height.
        width: int, the output width.
        interpolation: ``"bilinear"`` (default), ``"nearest"``, ``"bicubic"``,
            ``"area"``, ``"lanczos3"`` or ``"lanczos5"``. ``bicubic`` and the
            Lanczos filters follow TensorFlow and JAX (Keras on torch runs
            torch's bicubic, whose a = -0.75 differs, and lacks the others).
        crop_to_aspect_ratio: crop the centre to the target aspect ratio first
            (no distortion).
        pad_to_aspect_ratio: pad to the target aspect ratio first, with
            ``fill_value`` (no distortion).
        fill_mode: ``"constant"``, the padding with ``pad_to_aspect_ratio``.
        fill_value: float, the padding value (default 0.0).
        antialias: widen the filter when downsampling (default False).
        {data_format}
        {kwargs}

    {image_shapes}

    Output shape: the input's with height and width replaced. Integer images
    stay integers (rounded and clamped to their range), as in Keras.

    Example:
    >>> import numpy as np, lamina as keras
    >>> tuple(keras.layers.Resizing(2, 3)(np.zeros((1, 4, 4, 3))).shape)
    (1, 2, 3, 3)
    """

    _USE_BASE_FACTOR = False

    def __init__(self, height, width, interpolation="bilinear",
                 crop_to_aspect_ratio=False, pad_to_aspect_ratio=False,
                 fill_mode="constant", fill_value=0.0, antialias=False,
                 data_format=None, **kwargs):  # fmt: skip
        super().__init__(data_format=data_format, **kwargs)
        self.height = check_int(self, "height", height, minimum=1)
        self.width = check_int(self, "width", width, minimum=1)
        self.interpolation = check_choice(
            self, "interpolation", interpolation, RESIZE_INTERPOLATIONS
        )
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise arg_error(self, "pad_to_aspect_ratio",
                            "False when `crop_to_aspect_ratio=True`",
                            pad_to_aspect_ratio)  # fmt: skip
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
        self.pad_to_aspect_ratio = bool(pad_to_aspect_ratio)
        self.fill_mode = check_choice(self, "fill_mode", fill_mode, ("constant",))
        self.fill_value = fill_value
        self.antialias = bool(antialias)

    def get_random_transformation(self, data, training=True, seed=None):
        images = data["images"] if isinstance(data, dict) else data
        return self._image_size(images.shape)

    def transform_images(self, images, transformation=None, training=True):
        return self._resize(torch.as_tensor(images), self.interpolation)

    def transform_segmentation_masks(self, segmentation_masks, transformation=None,
                                     training=True):  # fmt: skip
        return self._resize(torch.as_tensor(segmentation_masks), "nearest")

    def _resize(self, images, interpolation):
        if images.is_floating_point() and images.dtype != self._compute_torch_dtype:
            images = images.to(self._compute_torch_dtype)
        return resize(images, (self.height, self.width), interpolation,
                      self.antialias, self.crop_to_aspect_ratio,
                      self.pad_to_aspect_ratio, self.fill_mode, self.fill_value,
                      self.data_format)  # fmt: skip

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        height, width = transformation
        scale_x, scale_y = self.width / width, self.height / height
        left = top = 0.0
        if self.pad_to_aspect_ratio:
            scale_x = scale_y = min(scale_x, scale_y)
            left = (self.width - width * scale_x) // 2
            top = (self.height - height * scale_y) // 2
        elif self.crop_to_aspect_ratio:
            wider = width / height > self.width / self.height
            new_width = self.height * width / height if wider else self.width
            new_height = self.height if wider else self.width * height / width
            scale_x, scale_y = new_width / width, new_height / height
            left, top = (
                -((new_width - self.width) // 2),
                -((new_height - self.height) // 2),
            )

        def move(boxes):
            x1, y1, x2, y2 = boxes.unbind(-1)
            return torch.stack([x1 * scale_x + left, y1 * scale_y + top,
                                x2 * scale_x + left, y2 * scale_y + top], -1)  # fmt: skip

        return transforms.resized_boxes(bounding_boxes, self.bounding_box_format,
                                        (height, width), (self.height, self.width),
                                        move)  # fmt: skip

    def compute_output_shape(self, input_shape):
        return _output_size(input_shape, self.height, self.width, self._channels_last)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width,
                "interpolation": self.interpolation,
                "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                "pad_to_aspect_ratio": self.pad_to_aspect_ratio,
                "fill_mode": self.fill_mode, "fill_value": self.fill_value,
                "antialias": self.antialias}  # fmt: skip


@fill_docs(IMAGE_ARGS)
class CenterCrop(BaseImagePreprocessingLayer):
    """Crops the centre ``height x width`` of images; images smaller than that
    are centre-cropped to the target aspect ratio and resized up (bilinear).

    Args:
        height: int, the output height.
        width: int, the output width.
        {data_format}
        {kwargs}

    {image_shapes}

    Output shape: the input's with height and width replaced.

    Example:
    >>> import numpy as np, lamina as keras
    >>> tuple(keras.layers.CenterCrop(2, 3)(np.zeros((1, 4, 4, 3))).shape)
    (1, 2, 3, 3)
    """

    _USE_BASE_FACTOR = False

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.height = check_int(self, "height", height, minimum=1)
        self.width = check_int(self, "width", width, minimum=1)

    def get_random_transformation(self, data, training=True, seed=None):
        images = data["images"] if isinstance(data, dict) else data
        return {"input_shape": tuple(images.shape)}

    def transform_images(self, images, transformation=None, training=True):
        images = self._cast(images)
        height, width = self._image_size(images.shape)
        if height >= self.height and width >= self.width:
            corner = ((height - self.height) // 2, (width - self.width) // 2)
            size = (self.height, self.width)
        else:
            top, left, crop_h, crop_w = transforms.centre_crop_window(
                height, width, self.height, self.width
            )
            corner, size = (top, left), (crop_h, crop_w)
        out = transforms.crop_and_resize(images, corner, size, self._channels_last)
        return transforms.crop_and_resize(out, (0, 0), (self.height, self.width),
                                          self._channels_last)  # fmt: skip

    def transform_segmentation_masks(self, segmentation_masks, transformation,
                                     training=True):  # fmt: skip
        return self.transform_images(segmentation_masks, transformation, training)

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        height, width = self._image_size(transformation["input_shape"])
        if height >= self.height and width >= self.width:
            top, left = int((height - self.height) / 2), int((width - self.width) / 2)
            crop_h, crop_w = self.height, self.width
        else:
            top, left, crop_h, crop_w = transforms.centre_crop_window(
                height, width, self.height, self.width
            )
        scale_x, scale_y = self.width / crop_w, self.height / crop_h

        def move(boxes):
            x1, y1, x2, y2 = boxes.unbind(-1)
            xs = [(v.clamp(left, left + crop_w) - left) * scale_x for v in (x1, x2)]
            ys = [(v.clamp(top, top + crop_h) - top) * scale_y for v in (y1, y2)]
            return torch.stack([xs[0], ys[0], xs[1], ys[1]], -1)

        return transforms.resized_boxes(bounding_boxes, self.bounding_box_format,
                                        (height, width), (self.height, self.width),
                                        move)  # fmt: skip

    def compute_output_shape(self, input_shape):
        return _output_size(input_shape, self.height, self.width, self._channels_last)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}

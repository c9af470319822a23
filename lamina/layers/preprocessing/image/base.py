"""``BaseImagePreprocessingLayer``: what every image preprocessing and augmentation
layer shares (Keras's API of the same name).

A call draws one transformation for the batch (``get_random_transformation``)
and applies it to whatever the input holds: images alone, or a dict with
``"images"`` and any of ``"labels"``, ``"bounding_boxes"`` (a dict of
``"boxes"`` in ``bounding_box_format`` and ``"labels"``) and
``"segmentation_masks"`` (``transform_images``, ``transform_labels``,
``transform_bounding_boxes``, ``transform_segmentation_masks``). Images are a
batch ``(batch, height, width, channels)`` or one image ``(height, width,
channels)`` (channels first with ``data_format="channels_first"``); one image is
handled as a batch of one. A transformation is a dict of tensors with Keras's
keys, so one drawn by Keras's layer can be applied by lamina's and the other way
round. At inference (``training=False``) the random layers return their input
(cast to the layer's dtype).

The maths is written once, vectorized over the batch, in
``lamina.layers.preprocessing.image.transforms``; each layer only draws its
parameters.
"""

from __future__ import annotations

import numbers

import torch

from lamina.layers.call_context import call_context
from lamina.layers.input_spec import InputSpec
from lamina.layers.keras_tensor import any_symbolic
from lamina.layers.preprocessing.base import PreprocessingLayer
from lamina.layers.shape_inference import infer_symbolic_outputs
from lamina.layers.spatial import SpatialLayer
from lamina.random import SeedGenerator
from lamina.utils.bounding_boxes.converters import SUPPORTED_FORMATS, as_boxes
from lamina.utils.validation import arg_error, check_choice, check_int, shape_error

FILL_MODES = ("reflect", "wrap", "constant", "nearest")
INTERPOLATIONS = ("nearest", "bilinear")


class TrainsByDefault(PreprocessingLayer):
    """Keras's data layers' call signature defaults to ``training=True``: a
    direct call augments; inside a model (or a call with ``training``) the flag
    decides. A symbolic call records no flag, so the model's own decides when
    it runs (``predict`` does not augment)."""

    def __call__(self, *args, **kwargs):
        if (
            kwargs.get("training") is None
            and call_context.training is None
            and not (args and any_symbolic(args[0]))
        ):
            kwargs["training"] = True
        return super().__call__(*args, **kwargs)

    def _as_array(self, inputs):
        if isinstance(inputs, dict):  # images with boxes, labels, masks
            return {key: self._as_array(value) for key, value in inputs.items()}
        return self._as_array_leaf(inputs)


class BaseImagePreprocessingLayer(TrainsByDefault, SpatialLayer):
    """Base of the image preprocessing layers (see the module docstring).

    Args:
        factor: the layer's strength, a number ``f`` (the range ``[-f, f]``) or a
            ``(lower, upper)`` pair within ``_FACTOR_BOUNDS``; only layers with
            ``_USE_BASE_FACTOR`` take it here.
        bounding_box_format: the format of ``"bounding_boxes"`` inputs
            (``"xyxy"``, ``"yxyx"``, ``"xywh"``, ``"center_xywh"``, ...).
        data_format: ``"channels_last"`` or ``"channels_first"``.
        **kwargs: ``Layer``'s arguments.
    """

    _USE_BASE_FACTOR = True
    _FACTOR_BOUNDS = (-1, 1)
    # Layers that change pixel values only: boxes and masks pass through.
    _KEEPS_GEOMETRY = False
    _promotes_integer_inputs = False  # transform_images casts, as Keras's
    interpolation = "bilinear"

    def __init__(self, factor=None, bounding_box_format=None, data_format=None,
                 **kwargs):  # fmt: skip
        super().__init__(rank=2, data_format=data_format, **kwargs)
        if bounding_box_format is not None:
            bounding_box_format = check_choice(
                self, "bounding_box_format", bounding_box_format, SUPPORTED_FORMATS
            )
        self.bounding_box_format = bounding_box_format
        if self._USE_BASE_FACTOR:
            self.factor = self._check_factor("factor", factor or 0.0)
        elif factor is not None:
            raise arg_error(self, "factor", "absent (this layer takes none)", factor)

    def _input_spec(self, axes=None) -> InputSpec:
        return InputSpec(min_ndim=3, max_ndim=4, name=self._image_layout())

    def _image_layout(self) -> str:
        if self._channels_last:
            return "([batch,] height, width, channels)"
        return "([batch,] channels, height, width)"

    # ------------------------------------------------------------ arguments
    def _check_factor(self, arg, factor, bounds=None) -> tuple:
        """``(lower, upper)`` from a number ``f`` (``[-f, f]`` clipped to the
        bounds) or a pair, all within ``bounds``."""
        low, high = bounds or self._FACTOR_BOUNDS
        rule = f"a number or a pair of numbers in [{low}, {high}]"
        if isinstance(factor, (tuple, list)):
            if len(factor) != 2 or not all(_is_number(v) for v in factor):
                raise arg_error(self, arg, rule, factor)
            if factor[0] > high or factor[1] < low:
                raise arg_error(self, arg, rule, factor)
            return tuple(sorted(factor))
        if not _is_number(factor) or not low <= factor <= high:
            raise arg_error(self, arg, rule, factor)
        return max(-abs(factor), low), abs(factor)

    def _init_seed(self, seed) -> None:
        self.seed = check_int(self, "seed", seed, allow_none=True)
        self.generator = SeedGenerator(self.seed)

    def _init_sampling(self, fill_mode, interpolation, fill_value) -> None:
        self.fill_mode = check_choice(self, "fill_mode", fill_mode, FILL_MODES)
        self.interpolation = check_choice(
            self, "interpolation", interpolation, INTERPOLATIONS
        )
        self.fill_value = fill_value

    # ------------------------------------------------------------ randomness
    def _uniform(self, shape, low=0.0, high=1.0, seed=None, device=None):
        """float32 draws in ``[low, high)`` from the layer's generator (or from
        ``seed``: an int or a ``SeedGenerator``)."""
        if isinstance(seed, numbers.Integral):
            generator = torch.Generator(device=device or "cpu").manual_seed(int(seed))
        elif isinstance(seed, SeedGenerator):
            generator = seed.generator(torch.device(device or "cpu"))
        else:
            generator = self.generator.generator(torch.device(device or "cpu"))
        values = torch.rand(shape, generator=generator, device=device)
        return values * (high - low) + low

    def _draw_seed(self, seed=None) -> int:
        """An int seed drawn from the layer's generator, for the draws torch
        makes without a generator (``keras.random.beta``, noise fields)."""
        return int(self._uniform((), 0.0, 2.0**31 - 1, seed))

    def _permutation(self, batch, seed=None, device=None):
        order = self._uniform((batch,), seed=seed, device=device).argsort()
        return order.to(torch.int64)

    # ----------------------------------------------------------------- shapes
    def _image_size(self, shape) -> tuple:
        """``(height, width)`` of an image or batch shape."""
        if self._channels_last:
            return shape[-3], shape[-2]
        return shape[-2], shape[-1]

    def _batch_size(self, shape) -> int:
        return shape[0] if len(shape) == 4 else 1

    def _is_batched(self, images) -> bool:
        if images.ndim not in (3, 4):
            raise shape_error(self, f"images {self._image_layout()}", images.shape)
        return images.ndim == 4

    # ---------------------------------------------------------------- the API
    def get_random_transformation(self, data, training=True, seed=None):
        return None

    def transform_images(self, images, transformation, training=True):
        images = self._cast(images)
        if training and transformation is not None:
            return self._on_batch(self._transform_images, images, transformation,
                                  self.interpolation)  # fmt: skip
        return images

    def _transform_images(self, images, transformation, interpolation):
        raise NotImplementedError

    def transform_labels(self, labels, transformation, training=True):
        return labels

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        if self._KEEPS_GEOMETRY:
            return bounding_boxes
        raise NotImplementedError(
            f"{type(self).__name__} does not transform bounding boxes (as in Keras)."
        )

    def transform_segmentation_masks(self, segmentation_masks, transformation,
                                     training=True):  # fmt: skip
        if self._KEEPS_GEOMETRY:
            return segmentation_masks
        if training and transformation is not None:
            return self._on_batch(self._transform_images, segmentation_masks,
                                  transformation, "nearest")  # fmt: skip
        return segmentation_masks

    def _on_batch(self, fn, images, *args):
        """``fn`` on a batch; one image goes through as a batch of one."""
        if images.ndim == 3:
            return fn(images.unsqueeze(0), *args).squeeze(0)
        return fn(images, *args)

    def _cast(self, images):
        images = torch.as_tensor(images)
        return images.to(self._compute_torch_dtype)

    # ------------------------------------------------------------------ call
    def call(self, data, training=True):
        transformation = self.get_random_transformation(data, training=training)
        if not isinstance(data, dict):
            self._is_batched(data)
            return self.transform_images(data, transformation, training=training)
        data = dict(data)
        batched = self._is_batched(data["images"])
        data["images"] = self.transform_images(
            data["images"], transformation, training=training
        )
        if "bounding_boxes" in data:
            data["bounding_boxes"] = self._call_boxes(
                data["bounding_boxes"], transformation, training, batched
            )
        if "labels" in data:
            labels = torch.as_tensor(data["labels"])
            data["labels"] = self._on_rank(self.transform_labels, labels, batched,
                                           transformation, training)  # fmt: skip
        if "segmentation_masks" in data:
            masks = torch.as_tensor(data["segmentation_masks"])
            data["segmentation_masks"] = self.transform_segmentation_masks(
                masks, transformation, training=training
            )
        return data

    @staticmethod
    def _on_rank(fn, value, batched, *args):
        if batched:
            return fn(value, *args)
        return fn(value.unsqueeze(0), *args).squeeze(0)

    def _call_boxes(self, bounding_boxes, transformation, training, batched):
        if not self.bounding_box_format:
            raise ValueError(
                f"{type(self).__name__}: an input with 'bounding_boxes' needs the "
                "layer's `bounding_box_format` (e.g. bounding_box_format='xyxy'); "
                "got bounding_box_format=None."
            )
        boxes = {key: as_boxes(value) for key, value in bounding_boxes.items()}
        boxes["boxes"] = boxes["boxes"].to(torch.float32)
        if batched:
            return self.transform_bounding_boxes(boxes, transformation, training)
        boxes = {key: value.unsqueeze(0) for key, value in boxes.items()}
        out = self.transform_bounding_boxes(boxes, transformation, training)
        return {key: value.squeeze(0) for key, value in out.items()}

    def _build_for(self, inputs) -> None:
        super()._build_for(inputs["images"] if isinstance(inputs, dict) else inputs)

    def _check_spec(self, inputs) -> None:
        super()._check_spec(inputs["images"] if isinstance(inputs, dict) else inputs)

    def compute_output_spec(self, inputs, *args, **kwargs):
        if not isinstance(inputs, dict):
            return super().compute_output_spec(inputs, *args, **kwargs)
        # Images with boxes, labels and masks: what `call` itself returns in
        # training (the shapes `compute_output_shape` gives), run on stand-ins.
        return infer_symbolic_outputs(self, (inputs,), {"training": True})

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = {**super().get_config(), "data_format": self.data_format}
        if self.bounding_box_format is not None:
            config["bounding_box_format"] = self.bounding_box_format
        return config


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)

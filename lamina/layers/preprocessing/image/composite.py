"""Layers made of other layers: ``Pipeline`` (a sequence), ``RandomColorJitter``
(brightness, contrast, saturation, hue), ``RandAugment`` and ``AugMix``
(policies over the augmentation layers), and ``MaxNumBoundingBoxes``. The
policies hold the same sub-layers as Keras's (same attribute names), so their
nested transformations are interchangeable with Keras's."""

from __future__ import annotations

import torch

from lamina.layers.docs import fill_docs
from lamina.layers.preprocessing.image.base import (
    BaseImagePreprocessingLayer,
    TrainsByDefault,
)
from lamina.layers.preprocessing.image.color import (
    RandomBrightness,
    RandomColorDegeneration,
    RandomContrast,
    RandomHue,
    RandomPosterization,
    RandomSaturation,
    RandomSharpness,
    Solarization,
)
from lamina.layers.preprocessing.image.docs import IMAGE_ARGS
from lamina.layers.preprocessing.image.geometric import (
    RandomRotation,
    RandomShear,
    RandomTranslation,
)
from lamina.layers.preprocessing.image.histogram import AutoContrast, Equalization
from lamina.layers.serialization import deserialize, serialize_nested
from lamina.random import gamma
from lamina.utils.validation import check_int

# Keras's orders: a drawn index picks the layer at that position.
RAND_AUGMENT_LAYERS = (
    "random_shear", "random_translation", "random_rotation", "random_brightness",
    "random_color_degeneration", "random_contrast", "random_sharpness",
    "random_posterization", "solarization", "auto_contrast", "equalization",
)  # fmt: skip
AUG_MIX_LAYERS = (
    "random_shear", "random_translation", "random_rotation", "random_posterization",
    "solarization", "auto_contrast", "equalization",
)  # fmt: skip
AUG_MIX_LAYERS_ALL = AUG_MIX_LAYERS + (
    "random_brightness", "random_color_degeneration", "random_contrast",
    "random_sharpness",
)  # fmt: skip


def augmentation_layers(names, factor, value_range, interpolation, seed,
                        data_format, bounding_box_format=None) -> dict:  # fmt: skip
    """The named sub-layers of RandAugment and AugMix, built as Keras builds
    them from one ``factor``."""
    common = {"data_format": data_format, "bounding_box_format": bounding_box_format}
    geometry = {"interpolation": interpolation, "seed": seed, **common}
    color = {"value_range": value_range, "seed": seed, **common}
    plain = {"value_range": value_range, **common}
    makers = {
        "random_shear": lambda: RandomShear(factor, factor, **geometry),
        "random_translation": lambda: RandomTranslation(factor, factor, **geometry),
        "random_rotation": lambda: RandomRotation(factor, **geometry),
        "random_brightness": lambda: RandomBrightness(factor, **color),
        "random_color_degeneration": lambda: RandomColorDegeneration(factor, **color),
        "random_contrast": lambda: RandomContrast(factor, **color),
        "random_sharpness": lambda: RandomSharpness(factor, **color),
        "random_posterization": lambda: RandomPosterization(
            max(1, int(8 * factor[1])), **color
        ),
        "solarization": lambda: Solarization(factor, factor, **color),
        "auto_contrast": lambda: AutoContrast(**plain),
        "equalization": lambda: Equalization(**plain),
    }
    return {name: makers[name]() for name in names}


@fill_docs()
class Pipeline(TrainsByDefault):
    """Applies ``layers`` in order, passing ``training`` on (default True, as
    Keras's: a direct call augments).

    Args:
        layers: a list of layers.
        name: the layer's name.

    Example:
    >>> import numpy as np, lamina as keras
    >>> pipeline = keras.layers.Pipeline(
    ...     [keras.layers.Rescaling(0.5), keras.layers.CenterCrop(2, 2)])
    >>> pipeline(np.full((1, 4, 4, 1), 8.0)).reshape(-1).tolist()
    [4.0, 4.0, 4.0, 4.0]
    """

    def __init__(self, layers, name=None):
        super().__init__(name=name)
        self._pipeline_layers = torch.nn.ModuleList(layers)

    @property
    def layers(self) -> list:
        return list(self._pipeline_layers)

    def call(self, inputs, training=True):
        for layer in self._pipeline_layers:
            if layer._call_info.has_training:
                inputs = layer(inputs, training=training)
            else:
                inputs = layer(inputs)
        return inputs

    def compute_output_spec(self, inputs, *args, **kwargs):
        if not isinstance(inputs, dict):
            return super().compute_output_spec(inputs, *args, **kwargs)
        for layer in self._pipeline_layers:  # images with boxes, labels, masks
            inputs = layer.compute_output_spec(inputs)
        return inputs

    def compute_output_shape(self, input_shape):
        for layer in self._pipeline_layers:
            input_shape = layer.compute_output_shape(input_shape)
        return input_shape

    def get_config(self):
        return {"layers": [serialize_nested(layer) for layer in self._pipeline_layers],
                "name": self.name}  # fmt: skip

    @classmethod
    def from_config(cls, config, custom_objects=None):
        layers = [deserialize(layer, custom_objects) for layer in config["layers"]]
        return cls(layers, name=config.get("name"))


@fill_docs(IMAGE_ARGS)
class RandomColorJitter(BaseImagePreprocessingLayer):
    """Random brightness, contrast, saturation and hue, in that order, each
    where its factor is given (the draws happen in ``transform_images``, as in
    Keras).

    Args:
        {value_range}
        brightness_factor: ``RandomBrightness``'s factor, or None.
        contrast_factor: ``RandomContrast``'s factor, or None.
        saturation_factor: ``RandomSaturation``'s factor, or None.
        hue_factor: ``RandomHue``'s factor, or None.
        {seed}
        {data_format}
        {kwargs}

    {image_shapes}

    Example:
    >>> import numpy as np, lamina as keras
    >>> layer = keras.layers.RandomColorJitter(brightness_factor=0.2, seed=1)
    >>> tuple(layer(np.ones((2, 4, 4, 3)), training=True).shape)
    (2, 4, 4, 3)
    """

    _USE_BASE_FACTOR = False
    _KEEPS_GEOMETRY = True

    def __init__(self, value_range=(0, 255), brightness_factor=None,
                 contrast_factor=None, saturation_factor=None, hue_factor=None,
                 seed=None, data_format=None, **kwargs):  # fmt: skip
        super().__init__(data_format=data_format, **kwargs)
        self.value_range = value_range
        self._init_seed(seed)
        factors = (brightness_factor, contrast_factor, saturation_factor, hue_factor)
        self.brightness_factor, self.contrast_factor = factors[:2]
        self.saturation_factor, self.hue_factor = factors[2:]
        kinds = (RandomBrightness, RandomContrast, RandomSaturation, RandomHue)
        common = {"value_range": value_range, "seed": seed}
        self._jitters = torch.nn.ModuleList(
            [kind(factor, data_format=data_format, **common)
             for kind, factor in zip(kinds, factors) if factor is not None]
        )  # fmt: skip

    def transform_images(self, images, transformation=None, training=True):
        images = self._cast(images)
        if not training:
            return images
        for jitter in self._jitters:
            drawn = jitter.get_random_transformation(images, seed=self.generator)
            images = jitter.transform_images(images, drawn)
        return images

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range,
                "brightness_factor": self.brightness_factor,
                "contrast_factor": self.contrast_factor,
                "saturation_factor": self.saturation_factor,
                "hue_factor": self.hue_factor, "seed": self.seed}  # fmt: skip


class _Policy(BaseImagePreprocessingLayer):
    """RandAugment and AugMix: sub-layers set as attributes, named as Keras's."""

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)

    def _init_policy(self, names, value_range, factor, interpolation, seed):
        self.value_range = value_range
        self.factor = self._check_factor("factor", factor)
        self.interpolation = interpolation
        self._init_seed(seed)
        self._names = names
        made = augmentation_layers(names, self.factor, value_range, interpolation,
                                   seed, self.data_format,
                                   self.bounding_box_format)  # fmt: skip
        for name, layer in made.items():
            setattr(self, name, layer)

    def _sub_transformation(self, name, data, seed):
        return getattr(self, name).get_random_transformation(data, seed=seed)

    def _choose(self, count, seed=None) -> torch.Tensor:
        """``count`` indices in ``[0, count)`` of the policy's layers."""
        draws = self._uniform((count,), 0.0, float(len(self._names)), seed)
        return draws.floor().to(torch.int64)


@fill_docs(IMAGE_ARGS)
class RandAugment(_Policy):
    """Applies ``num_ops`` augmentations chosen at random (one choice per batch)
    from shear, translation, rotation, brightness, colour degeneration,
    contrast, sharpness, posterization, solarization, auto-contrast and
    equalization, all of strength ``factor`` (RandAugment, Cubuk et al.).

    Args:
        {value_range}
        num_ops: int, how many augmentations (default 2).
        factor: ``f`` or ``(lower, upper)`` in ``[0, 1]`` (default 0.5).
        {interpolation}
        {seed}
        {data_format}
        {kwargs}

    {image_shapes}

    Bounding boxes and segmentation masks follow the chosen steps in order, as
    the images do (the colour steps leave them as they are). Keras 3.15 moves
    boxes through the chosen layers in its layer order, and once per layer
    even when a layer is chosen twice: the same boxes whenever the chosen
    layers are distinct and in that order.

    Example:
    >>> import numpy as np, lamina as keras
    >>> layer = keras.layers.RandAugment(seed=1)
    >>> tuple(layer(np.ones((2, 8, 8, 3)), training=True).shape)
    (2, 8, 8, 3)
    """

    def __init__(self, value_range=(0, 255), num_ops=2, factor=0.5,
                 interpolation="bilinear", seed=None, data_format=None,
                 **kwargs):  # fmt: skip
        super().__init__(data_format=data_format, **kwargs)
        self.num_ops = check_int(self, "num_ops", num_ops, minimum=0)
        self._init_policy(RAND_AUGMENT_LAYERS, value_range, factor, interpolation,
                          seed)  # fmt: skip

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        chosen = self._choose(self.num_ops, seed)
        drawn = {name: self._sub_transformation(name, data, self.generator)
                 for name in self._names}  # fmt: skip
        return {"transforms": drawn, "layer_idxes": chosen}

    def _apply(self, images, transformation, method):
        for index in torch.as_tensor(transformation["layer_idxes"]).tolist():
            name = self._names[index]
            images = getattr(getattr(self, name), method)(
                images, transformation["transforms"][name]
            )
        return images

    def transform_images(self, images, transformation, training=True):
        images = self._cast(images)
        if not training or transformation is None:
            return images
        return self._apply(images, transformation, "transform_images")

    def transform_segmentation_masks(self, segmentation_masks, transformation,
                                     training=True):  # fmt: skip
        if not training or transformation is None:
            return segmentation_masks
        return self._apply(segmentation_masks, transformation,
                           "transform_segmentation_masks")  # fmt: skip

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        if not training or transformation is None:
            return bounding_boxes
        return self._apply(bounding_boxes, transformation, "transform_bounding_boxes")

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range,
                "num_ops": self.num_ops, "factor": self.factor,
                "interpolation": self.interpolation, "seed": self.seed}  # fmt: skip


@fill_docs(IMAGE_ARGS)
class AugMix(_Policy):
    """Mixes ``num_chains`` chains of up to ``chain_depth`` random augmentations
    with Dirichlet weights, then blends the mix with the image by a
    ``Beta(alpha, alpha)`` weight (AugMix, Hendrycks et al.).

    Args:
        {value_range}
        num_chains: int, the number of chains (default 3).
        chain_depth: int, the most augmentations per chain (default 3; each
            step may be skipped).
        factor: ``f`` or ``(lower, upper)`` in ``[0, 1]`` (default 0.3).
        alpha: float, the Dirichlet and Beta concentration (default 1.0).
        all_ops: also use brightness, colour degeneration, contrast and
            sharpness (default True).
        {interpolation}
        {seed}
        {data_format}
        {kwargs}

    {image_shapes}

    Bounding boxes pass through unchanged, as in Keras: the output blends the
    image with copies warped in different ways, which no one set of boxes
    fits. Segmentation masks are mixed as the images are (as in Keras).

    Example:
    >>> import numpy as np, lamina as keras
    >>> layer = keras.layers.AugMix(seed=1)
    >>> tuple(layer(np.ones((2, 8, 8, 3)), training=True).shape)
    (2, 8, 8, 3)
    """

    def __init__(self, value_range=(0, 255), num_chains=3, chain_depth=3,
                 factor=0.3, alpha=1.0, all_ops=True, interpolation="bilinear",
                 seed=None, data_format=None, **kwargs):  # fmt: skip
        super().__init__(data_format=data_format, **kwargs)
        self.num_chains = check_int(self, "num_chains", num_chains, minimum=1)
        self.chain_depth = check_int(self, "chain_depth", chain_depth, minimum=1)
        self.alpha = alpha
        self.all_ops = all_ops
        names = AUG_MIX_LAYERS_ALL if all_ops else AUG_MIX_LAYERS
        self._init_policy(names, value_range, factor, interpolation, seed)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        draws = gamma((self.num_chains,), self.alpha, seed=self._draw_seed(seed))
        weight = gamma((2,), self.alpha, seed=self._draw_seed(seed))
        chains = []
        for _ in range(self.num_chains):
            # One more choice than layers: "skip this step".
            picks = self._uniform((self.chain_depth,), 0, len(self._names) + 1, seed)
            chains.append([
                {"layer_name": self._names[pick],
                 "transformation": self._sub_transformation(
                     self._names[pick], data, self.generator)}
                for pick in picks.floor().to(torch.int64).tolist()
                if pick < len(self._names)
            ])  # fmt: skip
        return {"chain_mixing_weights": draws / draws.sum(),
                "weight_sample": weight[0] / weight.sum(),
                "chain_transforms": chains}  # fmt: skip

    def _mix(self, images, transformation, method, clip):
        weights = torch.as_tensor(transformation["chain_mixing_weights"])
        weight = torch.as_tensor(transformation["weight_sample"]).to(images.dtype)
        mixed = torch.zeros_like(images)
        for index, chain in enumerate(transformation["chain_transforms"]):
            chained = images.clone()
            for step in chain:
                layer = getattr(self, step["layer_name"])
                chained = getattr(layer, method)(chained, step["transformation"])
            mixed = mixed + chained * weights[index].to(images.dtype)
        out = weight * images + (1 - weight) * mixed
        return out.clamp(*self.value_range) if clip else out

    def transform_images(self, images, transformation, training=True):
        images = self._cast(images)
        if not training or transformation is None:
            return images
        return self._mix(images, transformation, "transform_images", True)

    def transform_segmentation_masks(self, segmentation_masks, transformation,
                                     training=True):  # fmt: skip
        if not training or transformation is None:
            return segmentation_masks
        return self._mix(torch.as_tensor(segmentation_masks), transformation,
                         "transform_segmentation_masks", False)  # fmt: skip

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        return bounding_boxes  # see the class docstring

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range,
                "num_chains": self.num_chains, "chain_depth": self.chain_depth,
                "factor": self.factor, "alpha": self.alpha, "all_ops": self.all_ops,
                "interpolation": self.interpolation, "seed": self.seed}  # fmt: skip


@fill_docs(IMAGE_ARGS)
class MaxNumBoundingBoxes(BaseImagePreprocessingLayer):
    """Pads (with ``fill_value``) or truncates the bounding boxes of each image
    to ``max_number``, so batches of boxes have one shape. Images, labels and
    masks pass unchanged.

    Args:
        max_number: int, the number of boxes per image.
        fill_value: int, the coordinates and label of padding boxes (default -1).
        {kwargs}

    Input shape: a dict with ``"images"`` and ``"bounding_boxes"`` (the layer
    needs a ``bounding_box_format``, as every box-taking layer).

    Example:
    >>> import numpy as np, lamina as keras
    >>> layer = keras.layers.MaxNumBoundingBoxes(3, bounding_box_format="xyxy")
    >>> out = layer({"images": np.zeros((1, 4, 4, 3)), "bounding_boxes": {
    ...     "boxes": np.ones((1, 1, 4)), "labels": np.ones((1, 1))}})
    >>> out["bounding_boxes"]["labels"].tolist()
    [[1.0, -1.0, -1.0]]
    """

    def __init__(self, max_number, fill_value=-1, **kwargs):
        super().__init__(**kwargs)
        self.max_number = check_int(self, "max_number", max_number, minimum=1)
        self.fill_value = int(fill_value)

    def transform_images(self, images, transformation=None, training=True):
        return images

    def transform_segmentation_masks(self, segmentation_masks, transformation=None,
                                     training=True):  # fmt: skip
        return segmentation_masks

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        out = dict(bounding_boxes)
        for key, trailing in (("boxes", (0, 0)), ("labels", ())):
            value = torch.as_tensor(bounding_boxes[key])[:, : self.max_number]
            missing = self.max_number - value.shape[1]
            out[key] = torch.nn.functional.pad(
                value, (*trailing, 0, missing), value=self.fill_value
            )
        return out

    def get_config(self):
        return {**super().get_config(), "max_number": self.max_number}

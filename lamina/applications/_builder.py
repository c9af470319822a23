"""What every application shares: the argument checks, the image input, the
classifier or pooling on top, the model and its weights (Keras's file names and
hashes in Keras's cache, ``~/.keras/models`` or ``$KERAS_HOME/models``).

An application is ``build(request, body, ...)``: ``request`` holds the public
function's arguments, ``body(x)`` adds the family's layers to the image input.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from typing import Any

from lamina import activations, config, layers
from lamina.applications import imagenet_utils
from lamina.models import Functional
from lamina.utils import get_file, get_source_inputs
from lamina.utils.validation import arg_error

WEIGHTS_ROOT = "https://storage.googleapis.com/tensorflow/keras-applications/"
COMMON = (
    "include_top",
    "weights",
    "input_tensor",
    "input_shape",
    "pooling",
    "classes",
    "classifier_activation",
    "name",
)


@dataclasses.dataclass
class Request:
    """The arguments of one application call; ``owner`` names it in errors."""

    owner: str
    include_top: bool = True
    weights: Any = "imagenet"
    input_tensor: Any = None
    input_shape: Any = None
    pooling: str | None = None
    classes: int = 1000
    classifier_activation: Any = "softmax"
    name: str | None = None
    extras: dict = dataclasses.field(default_factory=dict)

    @property
    def channels_last(self) -> bool:
        return config.image_data_format() == "channels_last"

    @property
    def channel_axis(self) -> int:
        return -1 if self.channels_last else 1

    @property
    def positive_channel_axis(self) -> int:
        """The channel axis as ResNet and DenseNet write it in their configs."""
        return 3 if self.channels_last else 1


def request(owner: str, arguments: dict) -> Request:
    """The public function's ``locals()`` as a ``Request`` (the family's own
    arguments, ``alpha``, ``dropout``..., go to ``extras``)."""
    common = {k: v for k, v in arguments.items() if k in COMMON}
    extras = {k: v for k, v in arguments.items() if k not in COMMON}
    return Request(owner, **common, extras=extras)


@dataclasses.dataclass(frozen=True)
class WeightFile:
    """Keras's ImageNet weight files for one model: names in the cache, hashes
    (``None`` where Keras checks none) and the download folder under
    ``WEIGHTS_ROOT`` (or a full URL folder)."""

    top: str
    notop: str
    folder: str
    top_hash: str | None = None
    notop_hash: str | None = None
    sources: tuple[str, str] | None = None  # names at the URL, where they differ

    def pick(self, include_top: bool) -> tuple[str, str, str | None]:
        """``(name in the cache, URL, hash)``."""
        index = 0 if include_top else 1
        name = (self.top, self.notop)[index]
        source = self.sources[index] if self.sources else name
        root = "" if "://" in self.folder else WEIGHTS_ROOT
        return (
            name,
            f"{root}{self.folder}{source}",
            (self.top_hash, self.notop_hash)[index],
        )


# ------------------------------------------------------------------ checks
def check_arguments(req: Request, data_formats=("channels_last", "channels_first")):
    """Keras's argument rules, raised in the standard template."""
    owner, weights = req.owner, req.weights
    if config.image_data_format() not in data_formats:
        raise arg_error(owner, "image_data_format()", "'channels_last' (the only "
                        "layout this model is defined for)",
                        config.image_data_format())  # fmt: skip
    if not (weights in (None, "imagenet") or _is_file(weights)):
        raise arg_error(owner, "weights", "None (random initialization), "
                        "'imagenet' or the path of an existing weights file",
                        weights)  # fmt: skip
    if weights == "imagenet" and req.include_top and req.classes != 1000:
        raise arg_error(owner, "classes", "1000 with weights='imagenet' and "
                        "include_top=True (the ImageNet classifier)",
                        req.classes)  # fmt: skip
    if req.pooling not in (None, "avg", "max"):
        raise arg_error(owner, "pooling", "None, 'avg' or 'max'", req.pooling)
    if req.include_top and weights is not None:
        activation = activations.get(req.classifier_activation)
        if activation not in (activations.get("softmax"), activations.get(None)):
            raise arg_error(owner, "classifier_activation", "None or 'softmax' "
                            "when loading pretrained weights",
                            req.classifier_activation)  # fmt: skip


def _is_file(weights) -> bool:
    return isinstance(weights, (str, os.PathLike)) and os.path.isfile(weights)


# ------------------------------------------------------------------- input
def image_input(req: Request, default_size: int, min_size: int, shape_rule=None):
    """``(x, model_inputs)``: the image tensor the body starts from and the
    model's inputs (``input_tensor``'s source inputs when one is given).
    ``shape_rule(req)`` replaces Keras's usual input-shape rules."""
    shape = (
        shape_rule(req)
        if shape_rule
        else imagenet_utils.obtain_input_shape(
            req.input_shape,
            default_size=default_size,
            min_size=min_size,
            data_format=config.image_data_format(),
            require_flatten=req.include_top,
            weights=req.weights,
            owner=req.owner,
        )
    )
    req.input_shape = shape
    tensor = req.input_tensor
    if tensor is None:
        image = layers.Input(shape=shape)
        return image, image
    if not isinstance(tensor, layers.KerasTensor):
        kind = f"{type(tensor).__module__}.{type(tensor).__name__}"
        raise arg_error(req.owner, "input_tensor", "a KerasTensor (from "
                        "keras.Input() or a layer), as in Keras 3",
                        kind)  # fmt: skip
    return tensor, get_source_inputs(tensor)


def spatial_size(req: Request) -> tuple:
    """``(rows, cols)`` of the resolved input shape."""
    shape = req.input_shape
    return tuple(shape[:2]) if req.channels_last else tuple(shape[1:])


# --------------------------------------------------------------------- top
def pooled(x, pooling, names=(None, None)):
    """``pooling`` ('avg', 'max' or None) over the spatial axes."""
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name=names[0])(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name=names[1])(x)
    return x


def dense_top(req: Request, x, top_pool=None, pool_names=(None, None)):
    """The usual head: global average pooling and the ``predictions`` Dense with
    ``include_top``, else ``pooled``."""
    if req.include_top:
        x = layers.GlobalAveragePooling2D(name=top_pool)(x)
        return layers.Dense(
            req.classes, activation=req.classifier_activation, name="predictions"
        )(x)
    return pooled(x, req.pooling, pool_names)


# ----------------------------------------------------------------- the model
def build(
    req: Request,
    body: Callable,
    top: Callable = dense_top,
    *,
    default_size: int = 224,
    min_size: int = 32,
    weight_file: WeightFile | Callable | None = None,
    data_formats=("channels_last", "channels_first"),
    name: Callable | None = None,
    shape_rule: Callable | None = None,
):
    """Check ``req``, run ``body`` then ``top`` on the image input, make the
    ``Functional`` model (named ``req.name``, else ``name()`` once the body is
    built) and load its weights."""
    check_arguments(req, data_formats)
    x, inputs = image_input(req, default_size, min_size, shape_rule)
    x = top(req, body(x))
    model_name = req.name if req.name is not None or name is None else name()
    model = Functional(inputs, x, name=model_name)
    load_weights(req, model, weight_file)
    return model


def load_weights(req: Request, model, weight_file) -> None:
    """``weights='imagenet'``: Keras's file from Keras's cache (downloaded with
    Keras's hash check when absent and online); a path: that file."""
    if req.weights is None:
        return
    if req.weights != "imagenet":
        model.load_weights(req.weights)
        return
    if callable(weight_file):
        weight_file = weight_file(req)
    fname, origin, file_hash = weight_file.pick(req.include_top)
    try:
        path = get_file(fname, origin, cache_subdir="models", file_hash=file_hash)
    except OSError as error:
        target = os.path.join(config.keras_dir(), "models", fname)
        raise OSError(
            f"{req.owner}: weights='imagenet' needs Keras's weight file {fname!r}, "
            f"which is not in the cache and could not be downloaded from {origin}. "
            f"To work offline, place that file at {target} (the cache folder is "
            "$KERAS_HOME/models, else ~/.keras/models)."
        ) from error
    model.load_weights(path)

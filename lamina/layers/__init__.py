"""Keras layers on PyTorch: every class here is a ``torch.nn.Module``.

Every layer family lives in its own subpackage, which lists its public layers in
``__all__``; this module gathers them (``lamina.layers.Dense``, ...).
"""

from lamina.layers import (
    convolutional,
    core,
    locally_connected,
    pooling,
    regularization,
    reshaping,
    rnn,
)
from lamina.layers.convolutional import *  # noqa: F403
from lamina.layers.core import *  # noqa: F403
from lamina.layers.input_layer import Input, InputLayer
from lamina.layers.input_spec import InputSpec
from lamina.layers.keras_tensor import KerasTensor
from lamina.layers.layer import Layer
from lamina.layers.locally_connected import *  # noqa: F403
from lamina.layers.pooling import *  # noqa: F403
from lamina.layers.regularization import *  # noqa: F403
from lamina.layers.reshaping import *  # noqa: F403
from lamina.layers.rnn import *  # noqa: F403

_FAMILIES = (
    convolutional,
    core,
    regularization,
    reshaping,
    locally_connected,
    rnn,
    pooling,
)

# Keras 1/2 names, argument spellings and module paths (after the families, whose
# classes it wraps; see lamina/layers/legacy.py).
from lamina.layers import legacy as _legacy  # noqa: E402

globals().update(_legacy.install())

__all__ = [
    "Input",
    "InputLayer",
    "InputSpec",
    "KerasTensor",
    "Layer",
    "deserialize",
    "serialize",
    *[name for family in _FAMILIES for name in family.__all__],
]


def _module_objects() -> dict:
    from lamina.models.functional import Functional
    from lamina.models.model import Model
    from lamina.models.sequential import Sequential

    objects = {
        name: obj
        for name, obj in globals().items()
        if isinstance(obj, type) and issubclass(obj, Layer)
    }
    objects.update(Functional=Functional, Model=Model, Sequential=Sequential)
    return objects


def serialize(layer) -> dict:
    """A layer's Keras 3 serialization dict (module, class_name, config, ...)."""
    from lamina.saving.serialization import serialize_keras_object

    return serialize_keras_object(layer)


def deserialize(config, custom_objects=None):
    """A layer (or model) from its Keras 2 or 3 serialization dict."""
    from lamina.saving.serialization import deserialize_keras_object

    layer_config = dict(config)
    build_config = layer_config.pop("build_config", None)
    cls = _resolve_class(layer_config, custom_objects)
    inner = layer_config.get("config", {})
    if "custom_objects" in _from_config_params(cls):
        layer = cls.from_config(inner, custom_objects=custom_objects)
    else:
        layer = deserialize_keras_object(
            layer_config,
            module_objects=_module_objects(),
            custom_objects=custom_objects,
            printable_module_name="layer",
        )
    if build_config and not layer.built:
        layer.build_from_config(build_config)
    return layer


def _resolve_class(config, custom_objects):
    from lamina.saving.serialization import get_registered_object

    key = config.get("registered_name") or config.get("class_name")
    cls = get_registered_object(key, custom_objects, _module_objects())
    if cls is None:
        cls = get_registered_object(
            config.get("class_name"), custom_objects, _module_objects()
        )
    if cls is None:
        known = ", ".join(sorted(_module_objects()))
        raise ValueError(
            f"Unknown layer: {config.get('class_name')!r}. Register custom "
            "layers with `lamina.saving.register_keras_serializable` or pass "
            f"`custom_objects`. Known layers: {known}."
        )
    return cls


def _from_config_params(cls):
    import inspect

    try:
        return inspect.signature(cls.from_config).parameters
    except (TypeError, ValueError):
        return {}

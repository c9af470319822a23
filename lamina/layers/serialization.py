"""Layers to and from Keras 3 serialization dicts (``keras.layers.serialize`` /
``deserialize``).

Classes are found by name in ``lamina.saving.registry``'s ``"layers"`` table, which
the layer families and the models package fill when they are imported, so this
module imports neither. Entries whose ``module`` is one of Keras's ops modules
(``keras.src.ops.numpy``) are the nodes of ``ops.*`` calls: they are found by module
and class name among Keras's operations (``layers.Add`` and ``ops.add``'s ``Add``
share a class name).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping

from lamina.layers.operation import operation_class
from lamina.saving import registry
from lamina.saving.serialization import (
    deserialize_keras_object,
    serialize_keras_object,
    unsafe_entry_reason,
)


def serialize(layer) -> dict:
    """A layer's Keras 3 serialization dict (module, class_name, config, ...)."""
    return serialize_keras_object(layer)


def deserialize(config, custom_objects=None):
    """A layer (or model) from its Keras 2 or 3 serialization dict."""
    if not isinstance(config, Mapping) or "class_name" not in config:
        text = repr(config)
        raise ValueError(
            "a layer entry must be a dict with 'class_name' and 'config'; got "
            f"{text if len(text) < 80 else text[:77] + '...'}."
        )
    layer_config = dict(config)
    build_config = layer_config.pop("build_config", None)
    cls = _resolve_class(layer_config, custom_objects)
    inner = layer_config.get("config", {})
    if _is_operation(layer_config):
        layer = cls.from_config(dict(inner))
    elif "custom_objects" in _from_config_params(cls):
        layer = cls.from_config(inner, custom_objects=custom_objects)
    else:
        layer = deserialize_keras_object(
            layer_config,
            module_objects=registry.built_in("layers"),
            custom_objects=custom_objects,
            printable_module_name="layer",
        )
    if build_config and not layer.built:
        layer.build_from_config(build_config)
    return layer


def serialize_nested(layer) -> dict:
    """A layer inside a layer (an RNN's cell, a wrapped layer) as Keras writes it:
    its serialization dict plus its ``build_config`` once built."""
    config = serialize_keras_object(layer)
    get_build_config = getattr(layer, "get_build_config", None)
    build_config = get_build_config() if get_build_config is not None else None
    if build_config:
        config["build_config"] = build_config
    return config


def _is_operation(config) -> bool:
    return str(config.get("module") or "").startswith("keras.src.ops.")


def _resolve_class(config, custom_objects):
    if _is_operation(config):
        return operation_class(f"{config['module']}.{config.get('class_name')}")
    known = registry.built_in("layers")
    key = config.get("registered_name") or config.get("class_name")
    cls = registry.get_registered_object(key, custom_objects, known)
    if cls is None:
        cls = registry.get_registered_object(
            config.get("class_name"), custom_objects, known
        )
    if cls is None:
        unsafe = unsafe_entry_reason(config)
        if unsafe is not None:
            raise ValueError(
                f"Unknown layer: {config.get('class_name')!r} (module "
                f"{config.get('module')!r}) was refused as unsafe: {unsafe}. "
                "lamina never imports a module or calls a function named in a "
                "file; a custom layer must be registered with "
                "`lamina.saving.register_keras_serializable` or passed in "
                "`custom_objects`."
            )
        raise ValueError(
            f"Unknown layer: {config.get('class_name')!r}. Register custom "
            "layers with `lamina.saving.register_keras_serializable` or pass "
            f"`custom_objects`. Known layers: {', '.join(sorted(known))}."
        )
    return cls


def _from_config_params(cls):
    try:
        return inspect.signature(cls.from_config).parameters
    except (TypeError, ValueError):
        return {}

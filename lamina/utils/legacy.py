"""``keras.utils.legacy``: the Keras 2 (``tf.keras``) serialization format.

``{"class_name": ..., "config": ...}`` without Keras 3's ``module`` and
``registered_name`` keys; nested objects in a config carry
``"__passive_serialization__": True`` and are rebuilt before their owner, as
Keras 2 did.
"""

from __future__ import annotations

import inspect

from lamina.saving import serialization

PASSIVE = "__passive_serialization__"


def serialize_keras_object(instance):
    """``instance`` in the Keras 2 format (a function or class: its registered
    name).

    Example:
    >>> import lamina as keras
    >>> keras.utils.legacy.serialize_keras_object(keras.layers.Dense(3))["class_name"]
    'Dense'
    """
    instance = inspect.unwrap(instance) if callable(instance) else instance
    if instance is None:
        return None
    if hasattr(instance, "get_config") and not inspect.isclass(instance):
        config = {}
        for key, item in instance.get_config().items():
            if isinstance(item, str) or not _serializable(item):
                config[key] = item
                continue
            value = serialize_keras_object(item)
            if isinstance(value, dict) and not isinstance(item, dict):
                value[PASSIVE] = True
            config[key] = value
        name = serialization.get_registered_name(type(instance))
        return {"class_name": name, "config": config}
    if hasattr(instance, "__name__"):
        return serialization.get_registered_name(instance)
    raise ValueError(
        "legacy.serialize_keras_object: `instance` must have a get_config() method "
        f"or a name; got {instance!r}."
    )


def _serializable(item):
    return hasattr(item, "get_config") or inspect.isfunction(item)


def _revive(value, module_objects, custom_objects):
    if isinstance(value, dict) and value.get(PASSIVE):
        value = {k: v for k, v in value.items() if k != PASSIVE}
        return deserialize_keras_object(value, module_objects, custom_objects)
    return value


def deserialize_keras_object(
    identifier, module_objects=None, custom_objects=None, printable_module_name="object"
):
    """The object described by a Keras 2 dict or name (nested passive objects
    first).

    Example:
    >>> import lamina as keras
    >>> config = keras.utils.legacy.serialize_keras_object(keras.layers.Dense(3))
    >>> keras.utils.legacy.deserialize_keras_object(
    ...     config, custom_objects={"Dense": keras.layers.Dense}).units
    3
    """
    if isinstance(identifier, dict) and isinstance(identifier.get("config"), dict):
        inner = {
            k: _revive(v, module_objects, custom_objects)
            for k, v in identifier["config"].items()
        }
        identifier = {**identifier, "config": inner}
    return serialization.deserialize_keras_object(
        identifier, module_objects, custom_objects, printable_module_name
    )

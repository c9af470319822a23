"""Serialization and model files: ``.keras`` (Keras 3), ``.weights.h5``, Keras 1/2
``.h5``, JSON configs. Loading is safe by default: no pickle, no marshal unless the
user opts out of safe mode, no imports of modules named in a file."""

from lamina.saving.serialization import (
    CustomObjectScope,
    SafeModeScope,
    custom_object_scope,
    deserialize_keras_object,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
    serialize_keras_object,
)

__all__ = [
    "CustomObjectScope",
    "FileFormatError",
    "SafeModeScope",
    "custom_object_scope",
    "deserialize_keras_object",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "load_model",
    "load_weights",
    "model_from_json",
    "register_keras_serializable",
    "save_model",
    "save_weights",
    "serialize_keras_object",
]

# The file formats need the layer classes, which import this package first: load
# them on first use.
_LAZY = {
    "FileFormatError": "lamina.saving.file_io",
    "model_from_json": "lamina.saving.model_config",
    "load_model": "lamina.saving.saving_api",
    "load_weights": "lamina.saving.saving_api",
    "save_model": "lamina.saving.saving_api",
    "save_weights": "lamina.saving.saving_api",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'lamina.saving' has no attribute {name!r}")

"""Keras 3 object serialization: ``{"module", "class_name", "config", "registered_name"}``.

Deserialization only looks names up in tables lamina owns (a module's public objects,
the custom-object registry, ``custom_objects=``); it never imports a module named in
a config, so a config cannot reach arbitrary code.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch

from lamina import config
from lamina import dtype_policies as policies
from lamina.saving.registry import (
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
    registered_name_of,
)
from lamina.utils.validation import arg_error

__all__ = [
    "CustomObjectScope",
    "SafeModeScope",
    "custom_object_scope",
    "deserialize_keras_object",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "module_api",
    "register_keras_serializable",
    "serialize_keras_object",
]


class SafeModeScope:
    """Inside the ``with`` block, deserialization runs with ``safe_mode``.

    ``SafeModeScope(False)`` lets a load the user trusts rebuild Lambda bytecode;
    ``SafeModeScope(True)`` (or ``None``: no override) keeps it refused. The global
    ``lamina.config.enable_unsafe_deserialization()`` also allows it, as in Keras.
    The scope is thread-local and restored on exit, so nothing read from a file can
    leave safe mode switched off.
    """

    def __init__(self, safe_mode: bool | None = True):
        self.safe_mode = None if safe_mode is None else bool(safe_mode)

    def __enter__(self):
        self._previous = config.scoped_safe_mode()
        if self.safe_mode is not None:
            config.set_scoped_safe_mode(self.safe_mode)
        return self

    def __exit__(self, *exc_info):
        config.set_scoped_safe_mode(self._previous)
        return False


def serialize_keras_object(obj: Any) -> Any:
    """Keras 3 dict for objects with ``get_config``; names for functions; plain data as
    is; slices, ``...``, arrays and tensors as Keras's tagged dicts (see
    ``serialize_value``)."""
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if isinstance(obj, (list, tuple)):
        return [serialize_keras_object(o) for o in obj]
    if isinstance(obj, dict):
        return {k: serialize_keras_object(v) for k, v in obj.items()}
    value = serialize_value(obj)
    if value is not obj:
        return value
    if inspect.isfunction(obj) or inspect.isbuiltin(obj):
        return registered_name_of(obj) or obj.__name__
    if not hasattr(obj, "get_config"):
        raise TypeError(
            f"serialize_keras_object: cannot serialize {obj!r}: it has no "
            "`get_config()` method."
        )
    cls = type(obj)
    registered = registered_name_of(cls)
    return {
        "module": _module_of(cls),
        "class_name": getattr(cls, "_keras_class_name", cls.__name__),
        "config": obj.get_config(),
        # Keras writes the class name here for its own unexported classes (ops).
        "registered_name": registered or getattr(cls, "_keras_registered_name", None),
    }


def _module_of(cls) -> str:
    """Keras's module for lamina's own classes; a user's class (a subclass of ours,
    registered or not) is written with its defining module, as Keras does."""
    if cls.__module__.split(".")[0] != "lamina":
        return cls.__module__
    return getattr(cls, "_keras_module", cls.__module__)


# ------------------------------------------------ values as Keras tags them
# The constant arguments of a graph's calls (``x[:, ::-1]``, ``x + np.ones(3)``)
# are written as Keras writes them: ``{"class_name": "__slice__", "config": ...}``.
def serialize_value(obj: Any) -> Any:
    """Keras's tagged dict for a slice, ``...``, bytes, a NumPy array or scalar, or a
    torch tensor; ``obj`` itself for anything else."""
    if isinstance(obj, slice):
        return {
            "class_name": "__slice__",
            "config": {
                "start": serialize_keras_object(obj.start),
                "stop": serialize_keras_object(obj.stop),
                "step": serialize_keras_object(obj.step),
            },
        }
    if obj is Ellipsis:
        return {"class_name": "__ellipsis__", "config": {}}
    if isinstance(obj, bytes):
        return {"class_name": "__bytes__", "config": {"value": obj.decode("utf-8")}}
    if isinstance(obj, torch.Tensor):
        return _array_dict("__tensor__", obj.detach().cpu().numpy(), obj.dtype)
    if isinstance(obj, np.ndarray) and obj.ndim > 0:
        return _array_dict("__numpy__", obj, obj.dtype)
    if isinstance(obj, (np.generic, np.ndarray)):
        return obj.item()
    return obj


def _array_dict(tag: str, array: np.ndarray, dtype) -> dict:
    name = policies.dtype_name(dtype) if isinstance(dtype, torch.dtype) else dtype.name
    return {"class_name": tag, "config": {"value": array.tolist(), "dtype": name}}


def _deserialize_value(class_name: str, inner: Mapping) -> Any:
    if class_name == "__slice__":
        parts = (inner.get(k) for k in ("start", "stop", "step"))
        return slice(
            *(
                deserialize_keras_object(p) if isinstance(p, Mapping) else p
                for p in parts
            )
        )
    if class_name == "__ellipsis__":
        return Ellipsis
    if class_name == "__bytes__":
        return inner["value"].encode("utf-8")
    if class_name == "__numpy__":
        return np.array(inner["value"], dtype=inner["dtype"])
    return torch.tensor(
        inner["value"],
        dtype=policies.to_torch_dtype(inner["dtype"]),
        device=config.get_device(),
    )


_VALUE_TAGS = ("__slice__", "__ellipsis__", "__bytes__", "__numpy__", "__tensor__")


def deserialize_keras_object(
    config: Any,
    module_objects: Mapping[str, Any] | None = None,
    custom_objects: Mapping[str, Any] | None = None,
    printable_module_name: str = "object",
    instantiate_strings: bool = True,
) -> Any:
    """Rebuild an object from a name or a Keras (2 or 3) serialization dict."""
    if config is None:
        return None
    if isinstance(config, str):
        obj = get_registered_object(config, custom_objects, module_objects)
        if obj is None:
            raise _unknown(config, printable_module_name, module_objects)
        return obj() if instantiate_strings and inspect.isclass(obj) else obj
    if not isinstance(config, Mapping) or "class_name" not in config:
        raise ValueError(
            f"deserialize_keras_object: cannot deserialize {printable_module_name}: "
            f"expected a name or a dict with 'class_name' and 'config'; got {config!r}."
        )
    class_name = config["class_name"]
    if class_name in _VALUE_TAGS:
        return _deserialize_value(class_name, config.get("config") or {})
    key = config.get("registered_name") or class_name
    obj = get_registered_object(key, custom_objects, module_objects)
    if obj is None and key != class_name:
        obj = get_registered_object(class_name, custom_objects, module_objects)
    if obj is None:
        raise _unknown(class_name, printable_module_name, module_objects)
    inner = config.get("config", {})
    if inspect.isclass(obj):
        from_config: Callable = getattr(obj, "from_config", None) or (
            lambda c: obj(**c)
        )
        return from_config(dict(inner) if isinstance(inner, Mapping) else inner)
    return obj


def _unknown(name, printable_module_name, module_objects):
    known = sorted(k for k in (module_objects or {}) if not k.startswith("_"))
    hint = f" Known names: {', '.join(known)}." if known else ""
    return ValueError(
        f"Unknown {printable_module_name}: {name!r}. Register custom objects with "
        f"`lamina.saving.register_keras_serializable` or pass `custom_objects`.{hint}"
    )


def module_api(module_objects: Mapping[str, Any], kind: str):
    """``serialize``, ``deserialize`` and ``get`` for a module of Keras objects
    (constraints, regularizers): names and configs resolve in ``module_objects``."""

    def serialize(obj) -> dict:
        return serialize_keras_object(obj)

    def deserialize(config, custom_objects=None):
        return deserialize_keras_object(
            config,
            module_objects=module_objects,
            custom_objects=custom_objects,
            printable_module_name=kind,
        )

    def get(identifier):
        if identifier is None:
            return None
        if isinstance(identifier, (str, Mapping)):
            identifier = deserialize(identifier)
        if inspect.isclass(identifier):
            return identifier()
        if callable(identifier):
            return identifier
        raise arg_error(
            f"{kind}s.get",
            "identifier",
            f"None, a {kind} name, a dict or a callable",
            identifier,
        )

    serialize.__doc__ = f"The Keras 3 serialization dict of a {kind}."
    deserialize.__doc__ = (
        f"A {kind} from a name or a Keras (2 or 3) serialization "
        "dict; an unknown name raises ValueError listing the known "
        "ones."
    )
    get.__doc__ = f"A {kind} from None, a name, a dict, a class or a callable."
    return serialize, deserialize, get

"""Keras 3 object serialization: ``{"module", "class_name", "config", "registered_name"}``.

Deserialization only looks names up in tables lamina owns (a module's public objects,
the custom-object registry, ``custom_objects=``); it never imports a module named in
a config, so a config cannot reach arbitrary code.
"""

from __future__ import annotations

import builtins
import contextlib
import inspect
import math
import os
import threading
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
    "AllocationBudget",
    "ConfigError",
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


# ------------------------------------------------- loading hostile configs
class ConfigError(ValueError):
    """A config (from a file or JSON) that cannot be rebuilt: the message names
    where it came from and the layer entry at fault."""


# Exceptions that a damaged config makes Python or torch raise deep inside a
# constructor, a graph rebuild or a shape inference.
_CONFIG_FAULTS = (
    ValueError,
    TypeError,
    KeyError,
    AttributeError,
    IndexError,
    RecursionError,
    OverflowError,
    RuntimeError,
    MemoryError,
)


def _fault_text(error: BaseException) -> str:
    if isinstance(error, (ValueError, RuntimeError)) or not str(error):
        text = str(error) or type(error).__name__
    else:
        text = f"{type(error).__name__}: {error}"
    return text if len(text) < 2000 else text[:1997] + "..."


@contextlib.contextmanager
def layer_entry_errors(entry):
    """Inside the block, any fault rebuilding the layer entry ``entry`` (a
    serialization dict) becomes a ``ConfigError`` naming the entry."""
    try:
        yield
    except ConfigError:
        raise
    except _CONFIG_FAULTS as e:
        raise ConfigError(f"layer {describe_entry(entry)}: {_fault_text(e)}") from e


@contextlib.contextmanager
def config_errors(source: str):
    """Inside the block, a fault rebuilding a config becomes a ``ConfigError``
    that starts ``Cannot load {source}:``."""
    try:
        yield
    except _CONFIG_FAULTS as e:
        if str(e).startswith("Cannot load "):
            raise
        raise ConfigError(f"Cannot load {source}: {_fault_text(e)}") from e


def describe_entry(entry) -> str:
    """``'name' (ClassName)`` for a layer entry, whatever shape it is in."""
    if not isinstance(entry, Mapping):
        return f"entry {_preview(entry)}"
    inner = entry.get("config")
    name = entry.get("name")
    if name is None and isinstance(inner, Mapping):
        name = inner.get("name")
    class_name = str(entry.get("class_name"))[:80]
    if name is None:
        return f"of class {class_name!r}"
    return f"{_preview(name)} ({class_name})"


def _preview(value) -> str:
    text = repr(value)
    return text if len(text) < 80 else text[:77] + "..."


_SAFE_MODULE_ROOTS = ("keras", "lamina", "tf_keras", "tensorflow")


def unsafe_entry_reason(entry: Mapping) -> str | None:
    """Why an entry that names no known layer looks like an attempt to reach
    other code (a builtin, a function, a module outside Keras); None when it is
    just an unknown (perhaps unregistered custom) layer."""
    class_name = str(entry.get("class_name"))
    module = entry.get("module")
    if class_name == "function" or entry.get("registered_name") == "function":
        return "'function' names a Python function, not a layer class"
    if class_name in vars(builtins) or class_name.startswith("__"):
        return f"{class_name!r} is a Python builtin, not a layer class"
    root = str(module).split(".")[0] if module else None
    if root and root not in _SAFE_MODULE_ROOTS and root != "__main__":
        return f"module {module!r} is not part of Keras"
    return None


class AllocationBudget:
    """Inside the ``with`` block, weights created in this thread may take at most
    ``limit`` bytes in all: a config read from a file cannot make lamina try to
    allocate terabytes (``Dense(units=10**12)``). Thread-local; nests (the
    innermost scope counts)."""

    _local = threading.local()

    def __init__(self, limit: int | None = None, reason: str = "loading a config"):
        self.limit = default_allocation_limit() if limit is None else int(limit)
        self.reason = reason
        self.used = 0

    def __enter__(self):
        self._previous = getattr(self._local, "budget", None)
        self._local.budget = self
        return self

    def __exit__(self, *exc_info):
        self._local.budget = self._previous
        return False

    @classmethod
    def charge(cls, owner: str, name: str, shape: tuple, itemsize: int) -> None:
        """Count a weight about to be created; ``ConfigError`` over budget."""
        budget = getattr(cls._local, "budget", None)
        if budget is None:
            return
        nbytes = math.prod(shape) * itemsize
        budget.used += nbytes
        if budget.used > budget.limit:
            raise ConfigError(
                f"{owner}: weight {name!r} of shape {shape} needs {nbytes:,} bytes; "
                f"refusing to allocate more than {budget.limit:,} bytes while "
                f"{budget.reason} (the sizes in the config are implausible)."
            )


def default_allocation_limit() -> int:
    """Half the machine's memory (8 GiB where it cannot be read)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not Linux
        return 8 << 30


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

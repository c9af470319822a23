"""Names -> objects: lamina's built-in classes per kind, and the user's custom
objects. A leaf: it imports nothing of lamina.

Each package registers its public objects when it is imported
(``register("layers", {...})``), so code below a package finds a class by name
here instead of importing upward (``layers.deserialize`` finds ``Functional``,
which lives in ``models``). Lookups read the tables at call time.

Custom objects, Keras's way: ``register_keras_serializable`` (global, under
``"package>name"``), ``custom_object_scope`` (thread-local, for a ``with``
block) and the ``custom_objects=`` argument of every loader.
"""

from __future__ import annotations

import contextlib
import inspect
import threading
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

_BUILT_IN: dict[str, dict[str, Any]] = {}
_GLOBAL_CUSTOM_OBJECTS: dict[str, Any] = {}
_GLOBAL_CUSTOM_NAMES: dict[Any, str] = {}
_SCOPE = threading.local()


# ---------------------------------------------------------------- built-ins
def register(kind: str, objects: Mapping[str, Any]) -> None:
    """Add lamina's own ``objects`` (name -> class or function) to ``kind``."""
    _BUILT_IN.setdefault(kind, {}).update(objects)


def built_in(kind: str) -> Mapping[str, Any]:
    """The built-in objects of ``kind`` (a read-only live view; empty if none)."""
    return MappingProxyType(_BUILT_IN.setdefault(kind, {}))


def lookup(kind: str, name: str) -> Any:
    """The built-in object ``name`` of ``kind``; ``KeyError`` if there is none."""
    return _BUILT_IN[kind][name]


# ------------------------------------------------------------ custom objects
def register_keras_serializable(package: str = "Custom", name: str | None = None):
    """Decorator registering a class or function under ``"package>name"``."""

    def decorator(obj):
        registered = f"{package}>{name or obj.__name__}"
        if inspect.isclass(obj) and not hasattr(obj, "get_config"):
            raise ValueError(
                f"register_keras_serializable: cannot register {obj.__name__!r}: a "
                "serializable class must define `get_config()`."
            )
        _GLOBAL_CUSTOM_OBJECTS[registered] = obj
        _GLOBAL_CUSTOM_NAMES[obj] = registered
        return obj

    return decorator


def get_registered_name(obj) -> str:
    return _GLOBAL_CUSTOM_NAMES.get(obj, getattr(obj, "__name__", type(obj).__name__))


def registered_name_of(obj) -> str | None:
    """The ``"package>name"`` ``obj`` was registered under, or None."""
    return _GLOBAL_CUSTOM_NAMES.get(obj)


def get_registered_object(name, custom_objects=None, module_objects=None):
    """Find ``name`` in scoped, explicit, registered and module objects, in that order."""
    for table in (
        getattr(_SCOPE, "objects", None),
        custom_objects,
        _GLOBAL_CUSTOM_OBJECTS,
        module_objects,
    ):
        if table and name in table:
            return table[name]
    return None


def get_custom_objects() -> dict[str, Any]:
    """The global registry (mutable, like ``keras.saving.get_custom_objects()``)."""
    return _GLOBAL_CUSTOM_OBJECTS


@contextlib.contextmanager
def custom_object_scope(*scopes: Mapping[str, Any]):
    """Make objects resolvable by name inside the ``with`` block."""
    previous = getattr(_SCOPE, "objects", None)
    merged = dict(previous or {})
    for scope in scopes:
        merged.update(scope or {})
    _SCOPE.objects = merged
    try:
        yield merged
    finally:
        _SCOPE.objects = previous


CustomObjectScope = custom_object_scope

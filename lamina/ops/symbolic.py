"""Ops on symbolic tensors: a ``lamina.ops`` function called with a ``KerasTensor``
anywhere in its arguments records a graph node instead of computing.

Keras 3 writes this into every op function (``if any_symbolic_tensors((x,)):
return Mean(axis=axis, keepdims=keepdims).symbolic_call(x)``). lamina wraps each
function of the ops namespaces once, when ``lamina.ops`` is imported
(``install``), with one generic dispatcher, so functions added later are covered
too. How the arguments split between the node's config and its arguments is
Keras's, read from a table (``lamina.ops.operation_specs``).

The node is an ``Operation`` layer (``lamina.layers.operation``), found by name in
``lamina.saving.registry`` since ``ops`` sits below ``layers``; its shape and dtype
come from running the same lamina function on stand-in tensors, as for every
layer (``lamina.layers.shape_inference``).

Eager calls pay one look at each argument's type (about 0.15 µs for two tensors
on this machine): only a KerasTensor, list, tuple or dict argument leads to a
closer look.

Example:

>>> import lamina as keras
>>> x = keras.Input((4, 5))
>>> y = keras.ops.mean(x[:, 1:] + 1, axis=1)
>>> y.shape
(None, 5)
>>> node = y._keras_history.layer
>>> type(node).__name__, node.get_config()
('Mean', {'name': 'mean...', 'axis': 1, 'keepdims': False})
"""

from __future__ import annotations

import functools
import inspect

from lamina.keras_tensor import KerasTensor
from lamina.ops import operation_specs as specs
from lamina.saving import registry

_NAMESPACES = ("core", "einops", "image", "linalg", "math", "nn", "numpy")
_SUSPECT_TYPES = frozenset({KerasTensor, list, tuple, dict})
_wrapped: dict[int, object] = {}

# What the ops that record no node answer for a KerasTensor (as Keras's do).
_ANSWERS = {
    "shape": lambda x: x.shape,
    "dtype": lambda x: x.dtype,
    "is_tensor": lambda x: False,
}


def has_symbolic(args: tuple, kwargs: dict) -> bool:
    """Whether any argument is (or holds) a KerasTensor. Arguments of other types
    are dismissed by one C-level scan, so eager calls stay cheap; a list (of
    tensors, say) costs one more scan per level."""
    return _holds_symbolic(args) or (bool(kwargs) and _holds_symbolic(kwargs.values()))


def _holds_symbolic(values) -> bool:
    if _SUSPECT_TYPES.isdisjoint(map(type, values)):
        return False
    for value in values:
        kind = type(value)
        if kind is KerasTensor:
            return True
        if kind is dict:
            if _holds_symbolic(value.values()):
                return True
        elif kind in (list, tuple) and _holds_symbolic(value):
            return True
    return False


def wrap(name: str, fn):
    """``fn`` (``lamina.ops.<name>``) made to record a node for symbolic inputs;
    ``fn`` itself if Keras's ``name`` records none."""
    if id(fn) in _wrapped:
        return _wrapped[id(fn)]
    if specs.function_entry(name) is None and name not in _ANSWERS:
        return fn
    op = _dispatcher(name, fn)
    specs.lamina_functions.setdefault(name, fn)
    _wrapped[id(fn)] = _wrapped[id(op)] = op
    return op


def _dispatcher(name: str, fn):
    answer = _ANSWERS.get(name)
    suspect = _SUSPECT_TYPES

    @functools.wraps(fn)
    def op(*args, **kwargs):
        # The eager fast path, inlined: no argument is of a type that can be or
        # hold a KerasTensor (a plain loop is the fastest check for a few).
        for value in args:
            if type(value) in suspect:
                break
        else:
            if not kwargs:
                return fn(*args)
            for value in kwargs.values():
                if type(value) in suspect:
                    break
            else:
                return fn(*args, **kwargs)
        if has_symbolic(args, kwargs):
            if answer is not None:
                return answer(*args, **kwargs)
            return record(name, fn, args, kwargs)
        return fn(*args, **kwargs)

    return op


def install(package) -> None:
    """Wrap every function ``package`` (``lamina.ops``) exports, in the package and
    in its Keras namespaces (``ops.numpy``, ``ops.nn``...), and register the ops
    for ``KerasTensor``'s operators (``x + y`` is ``ops.add(x, y)``)."""
    modules = [package] + [
        getattr(package, n) for n in _NAMESPACES if hasattr(package, n)
    ]
    for module in modules:
        for name in getattr(module, "__all__", ()):
            fn = getattr(module, name, None)
            if inspect.isfunction(fn):
                setattr(module, name, wrap(name, fn))
    ops = {n: getattr(package, n) for n in package.__all__}
    registry.register("ops", {n: fn for n, fn in ops.items() if callable(fn)})
    registry.register("ops", _stand_ins())


def _stand_ins() -> dict:
    """Keras functions lamina lacks but can record and compute through another
    function of the same Operation (``absolute`` through ``abs``), so that the
    operators find them (``abs(x)`` records Keras's ``Absolute``)."""
    stand_ins = {}
    for name in specs.FUNCTIONS:
        entry = specs.function_entry(name)
        if entry is None or name in specs.lamina_functions:
            continue
        found = specs.lamina_function(entry["operation"])
        if found is not None:
            stand_ins[name] = _dispatcher(name, found[1])
    return stand_ins


def record(name: str, fn, args: tuple, kwargs: dict):
    """Call ``ops.<name>`` on symbolic arguments: make its Operation and call it."""
    spec, op_config, call_args, call_kwargs = specs.split_arguments(
        name, fn, args, kwargs
    )
    operation = registry.lookup("layers", "KerasOperation").from_spec(spec, op_config)
    return operation(*call_args, **call_kwargs)

"""Keras's Operation classes as data: how each ``keras.ops`` function's arguments
split between its Operation's constructor (the node's config) and its call (the
node's arguments), and back.

``keras_operations.json`` is read from Keras's source by
``tests/fixtures/keras_ops_table.py``: for ``mean(x, axis=None, keepdims=False)``
Keras builds ``Mean(axis=axis, keepdims=keepdims)`` and calls it on ``x``, so the
node's config is ``{"name": "mean", "axis": 1, "keepdims": False}`` and its
arguments ``[x]``. ``split_arguments`` does that split for a call of a lamina
function; ``runner`` undoes it, calling the lamina function of an Operation (read
from a file, say) with its config and a node's arguments.

lamina's functions are matched to Keras's by name. Where a lamina function names
a positional parameter differently (``x1`` for Keras's ``x``), parameters are
matched by position.
"""

from __future__ import annotations

import functools
import inspect
import json
import pathlib
from typing import Any, NamedTuple

from lamina import config
from lamina.ops.dtypes import standardize_dtype

_TABLE = json.loads(
    pathlib.Path(__file__).with_name("keras_operations.json").read_text()
)
KERAS_VERSION: str = _TABLE["keras_version"]
FUNCTIONS: dict[str, dict] = _TABLE["functions"]
OPERATIONS: dict[str, dict] = _TABLE["operations"]
REQUIRED = "__required__"  # a constructor parameter without a default

# lamina's own (unwrapped) ops functions by name; lamina.ops.symbolic fills it.
lamina_functions: dict[str, Any] = {}

# Functions Keras documents as the same computation under another name, for an
# Operation whose own function lamina lacks.
SYNONYMS = {"true_divide": "divide", "divide": "true_divide"}


class OpSpec(NamedTuple):
    """One Keras Operation class: where it lives, its constructor's parameters with
    their defaults, the keys of its own ``get_config`` (None: automatic) and the
    ops function that computes it."""

    key: str  # "keras.src.ops.numpy.Mean"
    module: str
    class_name: str
    function: str
    init: tuple
    config_keys: tuple | None


@functools.cache
def operation_spec(key: str) -> OpSpec | None:
    """The spec of Keras's Operation ``module.ClassName``; None if Keras has none."""
    entry = OPERATIONS.get(key)
    if entry is None:
        return None
    module, class_name = key.rsplit(".", 1)
    keys = entry.get("config")
    return OpSpec(
        key,
        module,
        class_name,
        entry["function"],
        tuple((name, default) for name, default in entry["init"]),
        tuple(keys) if keys is not None else None,
    )


def function_entry(name: str) -> dict | None:
    """How ``ops.<name>`` records its node (aliases followed); None if it records
    none (``zeros``, ``shape``) or Keras has no such function."""
    entry = FUNCTIONS.get(name)
    while entry is not None and "alias" in entry:
        entry = FUNCTIONS.get(entry["alias"])
    if entry is None or entry.get("operation") is None:
        return None
    return entry


@functools.cache
def _functions_of(key: str) -> tuple:
    """The Keras functions whose node is Operation ``key``, its own one first."""
    names = [n for n in FUNCTIONS if (function_entry(n) or {}).get("operation") == key]
    own = OPERATIONS[key]["function"]
    return (own, *sorted(n for n in names if n != own))


def lamina_function(key: str) -> tuple[str, Any] | None:
    """``(Keras function name, lamina function)`` that computes Operation ``key``:
    its own function, another that records the same Operation (``abs`` for
    ``absolute``), or a documented synonym; None if lamina has none."""
    for name in _functions_of(key):
        for candidate in (name, SYNONYMS.get(name)):
            if candidate in lamina_functions:
                return name, lamina_functions[candidate]
    return None


# ---------------------------------------------------- call -> config + node
@functools.cache
def _signature(fn) -> inspect.Signature:
    return inspect.signature(fn)


def _var_keyword(signature) -> str | None:
    for p in signature.parameters.values():
        if p.kind is p.VAR_KEYWORD:
            return p.name
    return None


@functools.cache
def _keras_names(name: str, fn) -> dict:
    """lamina parameter name -> Keras's, for positional parameters named
    differently at the same position."""
    keras_params = function_entry(name)["params"]
    renames = {}
    for i, p in enumerate(_signature(fn).parameters.values()):
        if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            break
        if i < len(keras_params) and not keras_params[i].startswith("*"):
            if keras_params[i] != p.name:
                renames[p.name] = keras_params[i]
    return renames


def _normalize(how: str, value):
    """Rewrite an argument as Keras's function does before building its op
    (``"dtype"``: None is floatx; ``"dtype_or_none"``: None stays None)."""
    if how == "data_format":
        return config.image_data_format() if value is None else str(value).lower()
    if how == "dtype" or (how == "dtype_or_none" and value is not None):
        return standardize_dtype(value)
    return value.lower() if isinstance(value, str) else value


def split_arguments(name: str, fn, args: tuple, kwargs: dict):
    """``(spec, config, call_args, call_kwargs)`` of ``ops.<name>(*args,
    **kwargs)`` (``fn`` is lamina's function), split as Keras splits them."""
    entry = function_entry(name)
    spec = operation_spec(entry["operation"])
    signature = _signature(fn)
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as e:
        raise TypeError(f"ops.{name}: {e}") from None
    bound.apply_defaults()
    renames = _keras_names(name, fn)
    values = {renames.get(k, k): v for k, v in bound.arguments.items()}
    extra = values.get(_var_keyword(signature), {})

    def value(param, default=REQUIRED):
        if param in values:
            return values[param]
        if param in extra or default != REQUIRED:
            return extra.get(param, default)
        raise TypeError(
            f"ops.{name}: lamina's signature {signature} has no parameter "
            f"{param!r}, which Keras's `{name}` passes to its {spec.class_name} "
            "operation."
        )

    normalize = entry.get("normalize", {})
    op_config = {}
    for init_name, default in spec.init:
        param = entry["init"].get(init_name)
        op_config[init_name] = default if param is None else value(param, default)
        if param in normalize:
            op_config[init_name] = _normalize(normalize[param], op_config[init_name])
    call_args = []
    for param in entry["args"]:
        if param.startswith("*"):
            call_args.extend(value(param[1:]))
        else:
            call_args.append(value(param))
    call_kwargs = {}
    for key, param in entry["kwargs"].items():
        if key == "**":
            call_kwargs.update(value(param))
        else:
            call_kwargs[key] = value(param)
    return spec, op_config, tuple(call_args), call_kwargs


def complete_config(spec: OpSpec, given: dict) -> dict:
    """The constructor arguments of ``spec``'s Operation: ``given`` (from a file or
    ``from_config``) with the defaults filled in, in the constructor's order."""
    known = [name for name, _ in spec.init]
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise TypeError(
            f"{spec.class_name}: unexpected argument(s) {unknown}; its arguments "
            f"are {known} (Keras's {spec.key})."
        )
    op_config = {}
    for name, default in spec.init:
        if name not in given and default == REQUIRED:
            raise TypeError(
                f"{spec.class_name}: `{name}` is required (Keras's {spec.key})."
            )
        op_config[name] = given.get(name, default)
    return op_config


# ---------------------------------------------------- config + node -> call
def runner(spec: OpSpec, op_config: dict):
    """A callable that runs ``spec``'s Operation with ``op_config`` on a node's
    arguments: lamina's function, called with each argument where Keras's function
    takes it. Most ops get ``functools.partial(fn, **constructor arguments)``."""
    found = lamina_function(spec.key)
    if found is None:
        raise NotImplementedError(
            f"lamina.ops has no `{spec.function}` yet, which Keras's "
            f"{spec.class_name} operation ({spec.key}) needs."
        )
    name, fn = found
    entry = function_entry(name)
    signature = _signature(fn)
    lamina_names = {v: k for k, v in _keras_names(name, fn).items()}
    takes_any = _var_keyword(signature) is not None
    fixed = {}
    for init_name, param in entry["init"].items():
        param = lamina_names.get(param, param)
        if init_name in op_config and (param in signature.parameters or takes_any):
            fixed[param] = op_config[init_name]
    arg_names = [lamina_names.get(a, a) for a in entry["args"]]
    direct = _direct(arg_names, entry["kwargs"], signature)
    adapter = _CALL_ADAPTERS.get(spec.key)
    if direct and adapter is None:
        run = _Runner(fn, **fixed)
    else:
        inner = (
            functools.partial(fn, **fixed)
            if direct
            else _general_runner(fn, signature, fixed, arg_names, entry["kwargs"])
        )
        run = _Runner(adapter(inner) if adapter is not None else inner)
    run.key, run.op_config = spec.key, op_config
    return run


def runner_of(key: str, op_config: dict):
    """``runner`` of Keras's Operation ``key``: how a pickled runner is rebuilt."""
    return runner(operation_spec(key), op_config)


class _Runner(functools.partial):
    """A runner: a partial (called at C speed) that pickles and copies as the
    operation's key and config, since lamina's functions are reachable by name
    only through their wrappers."""

    def __reduce__(self):
        return runner_of, (self.key, self.op_config)


def _direct(arg_names, keywords, signature) -> bool:
    """Whether a node's arguments are the function's first positional ones and its
    keyword arguments the function's own names."""
    positional = [
        n
        for n, p in signature.parameters.items()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    return (
        not any(n.startswith("*") for n in arg_names)
        and positional[: len(arg_names)] == arg_names
        and all(k == v for k, v in keywords.items() if k != "**")
    )


def _general_runner(fn, signature, fixed, arg_names, keywords):
    keyword_of = {k: v for k, v in keywords.items() if k != "**"}

    def run(*args, **kwargs):
        values = dict(fixed)
        position = 0
        for name in arg_names:
            if name.startswith("*"):
                values[name[1:]] = args[position:]
                position = len(args)
            elif position < len(args):
                values[name] = args[position]
                position += 1
        for key, value in kwargs.items():
            values[keyword_of.get(key, key)] = value
        return _call_with(fn, signature, values)

    return run


def _call_with(fn, signature, values: dict):
    """``fn`` called with ``values`` (parameter name -> value); parameters up to a
    ``*args`` are passed by position."""
    params = list(signature.parameters.values())
    if not any(p.kind is p.VAR_POSITIONAL for p in params):
        return fn(**values)
    positional = []
    for p in params:
        if p.kind is p.VAR_POSITIONAL:
            positional.extend(values.pop(p.name, ()))
            break
        positional.append(values.pop(p.name, p.default))
    return fn(*positional, **values)


# ------------------------------------------ what Operation.call does first
def _numpy_indexing(run):
    """Keras's GetItem: a list key is read as a tuple (files store tuples as
    lists), and negative slice steps select as in NumPy (as on TensorFlow and
    JAX; Keras on torch raises, torch slices take positive steps only)."""

    def get_item(x, key):
        key = tuple(key) if isinstance(key, list) else key
        if _has_negative_step(key):
            x, key = _flip_negative_steps(x, key)
        return run(x, key)

    return get_item


def _has_negative_step(key) -> bool:
    entries = key if isinstance(key, tuple) else (key,)
    return any(
        isinstance(e, slice) and e.step is not None and e.step < 0 for e in entries
    )


def _flip_negative_steps(x, key):
    """``x`` flipped along each axis a negative-step slice reads, and the key with
    those slices rewritten as positive-step slices of the flipped axes."""
    entries = list(key) if isinstance(key, tuple) else [key]
    consumed = sum(_axes_read(e) for e in entries if e is not Ellipsis)
    axis, flipped = 0, []
    for i, entry in enumerate(entries):
        if entry is Ellipsis:
            axis += x.ndim - consumed
            continue
        if isinstance(entry, slice) and entry.step is not None and entry.step < 0:
            start, stop, step = entry.indices(x.shape[axis])
            last = x.shape[axis] - 1
            entries[i] = slice(last - start, last - stop, -step)
            flipped.append(axis)
        axis += _axes_read(entry)
    return x.flip(flipped), tuple(entries)


def _axes_read(entry) -> int:
    """How many axes of the indexed tensor one key entry reads."""
    if entry is None:
        return 0
    if str(getattr(entry, "dtype", "")).endswith("bool"):
        return entry.ndim  # a boolean mask reads as many axes as it has
    return 1


_CALL_ADAPTERS = {"keras.src.ops.numpy.GetItem": _numpy_indexing}

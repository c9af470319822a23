"""Model configs in and out of files and JSON, with safe mode enforced up front.

Every loader (``.keras``, legacy ``.h5``, JSON) goes through ``model_from_config``:
the config is scanned for Python bytecode (Keras 3 ``__lambda__`` entries and
Keras 2 Lambda ``function_type: "lambda"``) and refused in safe mode *before* any
object is built; legacy (Keras 1/2) configs are upgraded to Keras 3's layout;
then names are resolved only in lamina's own tables and the user's custom
objects -- never by importing a module named in the file.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping

import numpy as np

from lamina import config as lamina_config
from lamina.layers.keras_tensor import KerasTensor
from lamina.layers.layer import Layer
from lamina.layers.serialization import deserialize
from lamina.saving import file_io, legacy_config, registry, serialization

_UNSAFE_HINT = (
    "It can run arbitrary code when loaded. If you trust the source of this file, "
    "pass `safe_mode=False` or call `lamina.config.enable_unsafe_deserialization()`."
)


def effective_safe_mode(safe_mode) -> bool:
    """Safe unless the caller passed ``safe_mode=False`` or unsafe deserialization
    was enabled globally (as in Keras, the global switch wins)."""
    if lamina_config.is_unsafe_deserialization_enabled():
        return False
    return safe_mode is None or bool(safe_mode)


def refuse_bytecode(config, source: str, safe_mode) -> None:
    """Raise ``ValueError`` naming the layer if ``config`` carries Python bytecode
    and loading is in safe mode."""
    if not effective_safe_mode(safe_mode):
        return
    found = _find_bytecode(config, owner=None)
    if found is not None:
        name, class_name = found
        raise ValueError(
            f"Refusing to load {source}: layer {name!r} ({class_name}) contains "
            f"Python bytecode (a lambda). {_UNSAFE_HINT}"
        )


def _find_bytecode(node, owner):
    if isinstance(node, Mapping):
        if node.get("class_name") == "__lambda__":
            return owner or ("?", "Lambda")
        if "lambda" in (node.get("function_type"), node.get("output_shape_type")):
            return (node.get("name", owner and owner[0]), owner and owner[1])
        inner = node.get("config")
        if "class_name" in node and isinstance(inner, Mapping):
            owner = (inner.get("name", owner and owner[0]), node["class_name"])
        for value in node.values():
            found = _find_bytecode(value, owner)
            if found is not None:
                return found
    elif isinstance(node, (list, tuple)):
        for value in node:
            found = _find_bytecode(value, owner)
            if found is not None:
                return found
    return None


def model_from_config(
    config,
    custom_objects=None,
    safe_mode=True,
    source="the config",
    keras2=False,
    allocation_limit=None,
):
    """A model (or layer) from a Keras 1, 2 or 3 serialization dict.

    Args:
        config: the dict (``class_name``/``config``, optionally ``module``,
            ``registered_name``, ``build_config``).
        custom_objects: dict of names to classes/functions the config uses.
        safe_mode: refuse Python bytecode (default True).
        source: how to name the origin in error messages.
        keras2: the config comes from a Keras 1/2 file, so Keras 2 semantics
            apply where they differ (e.g. ``hard_sigmoid``).
        allocation_limit: the most bytes the weights built from the config may
            take (default: half the machine's memory), so a hostile config
            cannot make lamina allocate terabytes.

    Raises:
        ConfigError: (a ``ValueError``) for a config that cannot be rebuilt:
            unknown or unsafe names, wrong types, missing keys, implausible
            sizes, a broken graph. The message names ``source`` and the layer.
        FileFormatError: for a config nested implausibly deep.
    """
    check_depth(config, source)
    refuse_bytecode(config, source, safe_mode)
    if not isinstance(config, Mapping) or "class_name" not in config:
        raise ValueError(
            f"Cannot load {source}: expected a model config with 'class_name' and "
            f"'config'; got {_preview(config)}."
        )
    safe = effective_safe_mode(safe_mode)
    with (
        serialization.config_errors(source),
        serialization.custom_object_scope(custom_objects or {}),
        serialization.SafeModeScope(safe),
        serialization.AllocationBudget(allocation_limit, f"loading {source}"),
    ):
        config = legacy_config.upgrade(dict(config), keras2=keras2)
        config.pop("compile_config", None)
        build_config = config.pop("build_config", None)
        with serialization.layer_entry_errors(config):
            model = deserialize(config, custom_objects=custom_objects)
            if build_config:
                build_from_config(model, build_config, source)
    return model


# Deeper than any model's config (a nested model adds about 4 levels); deeper
# JSON would only exhaust the stack of the code that walks it.
MAX_CONFIG_DEPTH = 128


def check_depth(config, source: str) -> None:
    """``FileFormatError`` when ``config`` nests deeper than ``MAX_CONFIG_DEPTH``
    (checked without recursion)."""
    stack = [(config, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_CONFIG_DEPTH:
            raise file_io.FileFormatError(
                f"Cannot load {source}: the config nests deeper than "
                f"{MAX_CONFIG_DEPTH} levels; refused."
            )
        if isinstance(node, Mapping):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, (list, tuple)):
            stack.extend((v, depth + 1) for v in node)


def build_from_config(model, build_config, source="the config") -> None:
    """Create the model's weights from its ``build_config``.

    A model whose ``build`` is Keras's default (a subclassed model that creates
    its layers' weights on first call) is built as Keras does: by calling it on
    symbolic inputs of the recorded shapes.
    """
    default_build = type(model).build in (Layer.build, _model_class("Model").build)
    own_reader = type(model).build_from_config is not Layer.build_from_config
    graph_models = (_model_class("Functional"), _model_class("Sequential"))
    if isinstance(model, graph_models) or not default_build or own_reader:
        if not model.built:
            model.build_from_config(build_config)
        return
    shapes = build_config.get("input_shape")
    if shapes is None or model.weights:
        return
    try:
        model(_symbolic(shapes, model))
    except Exception as e:  # noqa: BLE001 - reported, then weights loading says more
        warnings.warn(
            f"Loading {source}: could not build {type(model).__name__} "
            f"'{model.name}' by calling it on inputs of shape {shapes} ({e}). "
            "Give the class a `build(input_shape)` or `build_from_config()`.",
            stacklevel=3,
        )


def _model_class(name: str) -> type:
    """A model class; models sit above saving, so it is found by name."""
    return registry.lookup("layers", name)


def _symbolic(shapes, model):
    if isinstance(shapes, Mapping):
        return {k: _symbolic(v, model) for k, v in shapes.items()}
    if isinstance(shapes, (list, tuple)) and all(
        d is None or isinstance(d, int) for d in shapes
    ):
        return KerasTensor(tuple(shapes), dtype=model.compute_dtype)
    return [_symbolic(s, model) for s in shapes]


def _preview(value) -> str:
    text = repr(value)
    return text if len(text) < 80 else text[:77] + "..."


def model_to_config(model) -> dict:
    """Keras 3's top-level dict for a model: the serialization plus
    ``build_config`` and (for a compiled model) ``compile_config``."""
    config = serialization.serialize_keras_object(model)
    build_config = model.get_build_config()
    if build_config:
        config["build_config"] = build_config
    get_compile_config = getattr(model, "get_compile_config", None)
    compile_config = get_compile_config() if callable(get_compile_config) else None
    if compile_config:
        config["compile_config"] = compile_config
    return config


def dumps(config, **kwargs) -> str:
    return json.dumps(config, default=_json_default, **kwargs)


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if hasattr(value, "get_config"):
        return serialization.serialize_keras_object(value)
    raise TypeError(
        f"to_json: cannot write {type(value).__name__} {value!r} to JSON (a config "
        "value must be a number, string, list, dict, None or an object with "
        "`get_config()`)."
    )


def loads(text, source: str):
    try:
        return json.loads(text)
    except RecursionError:
        raise file_io.FileFormatError(
            f"Cannot load {source}: its JSON nests too deeply; refused."
        ) from None
    except (ValueError, UnicodeDecodeError) as e:
        raise file_io.FileFormatError(
            f"Cannot load {source}: it is not valid JSON ({e})."
        ) from None


def to_json(model, **kwargs) -> str:
    """The model's Keras 3 serialization as a JSON string (``model.to_json()``)."""
    return dumps(model_to_config(model), **kwargs)


def model_from_json(json_string, custom_objects=None, safe_mode=True):
    """A model from ``model.to_json()`` output (Keras 1, 2 or 3)."""
    config = loads(json_string, "the JSON string")
    keras2 = isinstance(config, Mapping) and str(
        config.get("keras_version", "3")
    ).startswith(("1", "2"))
    return model_from_config(
        config, custom_objects, safe_mode, source="the JSON string", keras2=keras2
    )

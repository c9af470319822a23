"""Keras 1/2 (and tf.keras) model configs upgraded to Keras 3's layout.

Applied to every config before it is deserialized; a Keras 3 config passes through
unchanged. Argument spellings of Keras 1 layers (``nb_filter``, ``border_mode``,
...) are not handled here: the layer classes translate those themselves
(``lamina.layers.legacy``), so code and configs share one table.
"""

from __future__ import annotations

from collections.abc import Mapping

from lamina.layers.legacy import KERAS2_HARD_SIGMOID

# Keras 2 class names that became other classes, with the config changes they need.
_RENAMED = {
    "CuDNNLSTM": (
        "LSTM",
        {"activation": "tanh", "recurrent_activation": "sigmoid", "use_bias": True},
    ),
    "CuDNNGRU": (
        "GRU",
        {
            "activation": "tanh",
            "recurrent_activation": "sigmoid",
            "use_bias": True,
            "reset_after": True,
        },
    ),
}
_RNN_CLASSES = {"SimpleRNN", "LSTM", "GRU", "SimpleRNNCell", "LSTMCell", "GRUCell"}
# Keys Keras 2 configs carry and Keras 3 constructors reject (class -> keys).
_GROUPLESS = (
    "DepthwiseConv1D",
    "DepthwiseConv2D",
    "SeparableConv1D",
    "SeparableConv2D",
    "Conv1DTranspose",
    "Conv2DTranspose",
    "Conv3DTranspose",
)
_DROPPED = {
    **{name: ("groups",) for name in _GROUPLESS},  # tf.keras writes groups=1
    # tf.keras separable convolutions inherit unused kernel_* settings from Conv.
    **{
        name: (
            "groups",
            "kernel_initializer",
            "kernel_regularizer",
            "kernel_constraint",
        )
        for name in ("SeparableConv1D", "SeparableConv2D")
    },
    **{name: ("time_major", "implementation") for name in _RNN_CLASSES},
    "Bidirectional": ("num_constants",),
    "BatchNormalization": ("fused", "virtual_batch_size", "adjustment"),
}
# Keys dropped only while off (BatchNormalization's renorm is a Keras 3 argument,
# which a Keras 3 file with renorm=True needs).
_DROPPED_WHEN_OFF = {
    "BatchNormalization": ("renorm", ("renorm", "renorm_clipping", "renorm_momentum")),
}
_ACTIVATION_RENAMES = {"softmax_v2": "softmax"}


def upgrade(config: dict, keras2: bool = False) -> dict:
    """The Keras 3 form of a serialized layer or model (a new dict).

    Args:
        config: ``{"class_name": ..., "config": ...}`` as found in a file.
        keras2: the file was written by Keras 1/2, so names whose meaning changed
            keep their old meaning (``hard_sigmoid`` is ``clip(0.2 x + 0.5)``).
    """
    config = dict(config)
    class_name = config.get("class_name")
    inner = config.get("config")
    if class_name == "Sequential" and isinstance(inner, list):
        inner = {"layers": inner}  # Keras 1 and early Keras 2
    if class_name in _RENAMED:
        class_name, forced = _RENAMED[class_name]
        config["class_name"] = class_name
        inner = {**inner, **forced}
        config.pop("module", None)
        config.pop("registered_name", None)
    if isinstance(inner, Mapping):
        inner = _upgrade_inner(class_name, dict(inner), keras2)
    config["config"] = inner
    return config


def _upgrade_inner(class_name, inner: dict, keras2: bool) -> dict:
    for key in _DROPPED.get(class_name, ()):
        if key != "groups" or inner.get(key) in (None, 1):
            inner.pop(key, None)
    switch, keys = _DROPPED_WHEN_OFF.get(class_name, (None, ()))
    if not inner.get(switch, False):
        for key in keys:
            inner.pop(key, None)
    if class_name == "Embedding" and "input_length" in inner:
        length = inner.pop("input_length")
        if length is not None and "batch_input_shape" not in inner:
            inner["batch_input_shape"] = [None, *_as_list(length)]
    if class_name == "GRU" and keras2 and "reset_after" not in inner:
        inner["reset_after"] = False  # Keras <= 2.1.4 had only this variant
    if class_name == "Lambda":
        inner = _upgrade_lambda(inner)
    for key, value in list(inner.items()):
        if key.endswith("activation") and isinstance(value, str):
            inner[key] = _activation_name(value, keras2)
    for key in ("layer", "backward_layer", "cell"):
        if isinstance(inner.get(key), Mapping):
            inner[key] = upgrade(inner[key], keras2)
    if isinstance(inner.get("cells"), list):
        inner["cells"] = [upgrade(c, keras2) for c in inner["cells"]]
    if isinstance(inner.get("layers"), list):
        if "output_layers" in inner:
            inner["layers"] = _drop_dangling_ops(
                inner["layers"], inner["output_layers"]
            )
        offsets = _node_offsets(inner["layers"])
        inner["layers"] = [
            _upgrade_entry(entry, keras2, offsets) for entry in inner["layers"]
        ]
        for key in ("input_layers", "output_layers"):
            if key in inner and offsets:
                inner[key] = _shift_refs(inner[key], offsets)
    return inner


def _referenced_names(value, names: set) -> None:
    if isinstance(value, Mapping):
        history = value.get("keras_history")
        if isinstance(history, list) and history:
            names.add(history[0])
        for item in value.values():
            _referenced_names(item, names)
    elif isinstance(value, (list, tuple)):
        if len(value) >= 3 and isinstance(value[0], str) and isinstance(value[1], int):
            names.add(value[0])
        for item in value:
            _referenced_names(item, names)


def _drop_dangling_ops(entries, output_layers):
    """Keras 3 records the mask computations of a functional graph (``NotEqual``,
    ``Any``, ... from ``keras.ops``) as graph nodes and passes their results as
    ``mask=`` arguments. lamina's masks travel with the tensors, so those
    arguments and the nodes that only fed them are dropped. Operation nodes that
    feed an output stay (and are reported as unknown)."""
    ops = {
        entry.get("name")
        for entry in entries
        if isinstance(entry, Mapping)
        and str(entry.get("module") or "").startswith("keras.src.ops")
    }
    entries = [_without_op_masks(entry, ops) for entry in entries] if ops else entries
    while True:
        used: set = set()
        _referenced_names(output_layers, used)
        for entry in entries:
            if isinstance(entry, Mapping):
                _referenced_names(entry.get("inbound_nodes", []), used)
        dangling = [
            entry
            for entry in entries
            if isinstance(entry, Mapping)
            and str(entry.get("module") or "").startswith("keras.src.ops")
            and entry.get("name") not in used
        ]
        if not dangling:
            return entries
        entries = [entry for entry in entries if entry not in dangling]


def _without_op_masks(entry, ops):
    if not isinstance(entry, Mapping) or not entry.get("inbound_nodes"):
        return entry
    nodes = []
    for node in entry["inbound_nodes"]:
        if isinstance(node, Mapping) and "mask" in (node.get("kwargs") or {}):
            names: set = set()
            _referenced_names(node["kwargs"]["mask"], names)
            if names and names <= ops:
                kwargs = {k: v for k, v in node["kwargs"].items() if k != "mask"}
                node = {**node, "kwargs": kwargs}
        nodes.append(node)
    return {**entry, "inbound_nodes": nodes}


def _node_offsets(entries) -> dict[str, int]:
    """Keras 2 numbers the calls of a nested model that has its own Input from 1
    (node 0 is the model's own graph); Keras 3 and lamina number them from 0."""
    legacy = any(
        isinstance(node, list)
        for entry in entries
        if isinstance(entry, Mapping)
        for node in entry.get("inbound_nodes", [])
    )
    if not legacy:
        return {}
    offsets = {}
    for entry in entries:
        inner = entry.get("config") if isinstance(entry, Mapping) else None
        layers = inner.get("layers") if isinstance(inner, Mapping) else inner
        if (
            entry.get("class_name") in ("Functional", "Model", "Sequential")
            and isinstance(layers, list)
            and layers
            and layers[0].get("class_name") == "InputLayer"
        ):
            offsets[entry.get("name") or inner.get("name")] = 1
    return offsets


def _shift_refs(refs, offsets):
    if (
        isinstance(refs, list)
        and len(refs) == 3
        and isinstance(refs[0], str)
        and isinstance(refs[1], int)
    ):
        return [refs[0], refs[1] - offsets.get(refs[0], 0), refs[2]]
    if isinstance(refs, list):
        return [_shift_refs(r, offsets) for r in refs]
    if isinstance(refs, Mapping):
        return {k: _shift_refs(v, offsets) for k, v in refs.items()}
    return refs


def _upgrade_entry(entry, keras2: bool, offsets):
    if not isinstance(entry, Mapping):
        return entry
    upgraded = upgrade(entry, keras2)
    if "inbound_nodes" in entry:
        upgraded["inbound_nodes"] = [
            _node_to_keras3(node, offsets) for node in entry["inbound_nodes"]
        ]
    return upgraded


def _node_to_keras3(node, offsets):
    """Keras 2 ``[[layer, node_index, tensor_index, kwargs], ...]`` -> Keras 3
    ``{"args": [...], "kwargs": {...}}``."""
    if not isinstance(node, list):
        return node
    refs, kwargs = [], {}
    for item in node:
        history = _shift_refs([item[0], item[1], item[2]], offsets)
        refs.append(
            {"class_name": "__keras_tensor__", "config": {"keras_history": history}}
        )
        if len(item) > 3 and item[3]:
            kwargs.update(item[3])
    return {"args": [refs[0] if len(refs) == 1 else refs], "kwargs": kwargs}


def _activation_name(name: str, keras2: bool) -> str:
    name = _ACTIVATION_RENAMES.get(name, name)
    if keras2 and name == "hard_sigmoid":
        return KERAS2_HARD_SIGMOID
    return name


def _upgrade_lambda(inner: dict) -> dict:
    """Keras 2 Lambda (``function``/``function_type``/``module``) -> Keras 3."""
    inner = dict(inner)
    for key, kind_key, module_key in (
        ("function", "function_type", "module"),
        ("output_shape", "output_shape_type", "output_shape_module"),
    ):
        kind = inner.pop(kind_key, None)
        module = inner.pop(module_key, None)
        value = inner.get(key)
        if kind == "lambda" and isinstance(value, (list, tuple)):
            code, defaults, closure = (list(value) + [None, None])[:3]
            inner[key] = {
                "class_name": "__lambda__",
                "config": {"code": code, "defaults": defaults, "closure": closure},
            }
        elif kind == "function" and isinstance(value, str):
            inner[key] = {
                "module": module,
                "class_name": "function",
                "config": value,
                "registered_name": "function",
            }
    return inner


def _as_list(value):
    return list(value) if isinstance(value, (list, tuple)) else [value]

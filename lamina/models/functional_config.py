"""Functional-model configs in Keras 3's layout (``layers`` with ``inbound_nodes``,
``input_layers``, ``output_layers``), so configs and files interoperate with Keras."""

from __future__ import annotations

from lamina.layers.keras_tensor import KerasTensor
from lamina.layers.serialization import deserialize
from lamina.saving import serialization
from lamina.utils import tree


def _node_index_map(model) -> dict[tuple[int, int], int]:
    """(id(layer), original node index) -> index among the model's own nodes."""
    mapping = {}
    for layer in model.operations:
        kept = [
            i
            for i, node in enumerate(layer._inbound_nodes)
            if id(node) in model._graph_node_ids
        ]
        for new, old in enumerate(kept):
            mapping[(id(layer), old)] = new
    return mapping


def _tensor_ref(t: KerasTensor, mapping) -> list:
    layer, node_index, tensor_index = t._keras_history
    return [layer.name, mapping.get((id(layer), node_index), node_index), tensor_index]


def _serialize_arg(x, mapping):
    if isinstance(x, KerasTensor):
        return {
            "class_name": "__keras_tensor__",
            "config": {
                "shape": x.shape,
                "dtype": x.dtype,
                "keras_history": _tensor_ref(x, mapping),
            },
        }
    if isinstance(x, (list, tuple)):
        return [_serialize_arg(v, mapping) for v in x]
    if isinstance(x, dict):
        return {k: _serialize_arg(v, mapping) for k, v in x.items()}
    return serialization.serialize_keras_object(x)


def _io_refs(struct, mapping):
    """A model's inputs or outputs as tensor references, nested as given."""
    if isinstance(struct, KerasTensor):
        return _tensor_ref(struct, mapping)
    if isinstance(struct, dict):
        return {k: _io_refs(v, mapping) for k, v in struct.items()}
    return [_io_refs(v, mapping) for v in struct]


def functional_config(model) -> dict:
    mapping = _node_index_map(model)
    layers = []
    for layer in model.operations:
        entry = serialization.serialize_keras_object(layer)
        build_config = layer.get_build_config()
        if build_config and type(layer).__name__ != "InputLayer":
            entry["build_config"] = build_config
        entry["name"] = layer.name
        entry["inbound_nodes"] = [
            {
                "args": _serialize_arg(list(node.call_args), mapping),
                "kwargs": _serialize_arg(node.call_kwargs, mapping),
            }
            for node in layer._inbound_nodes
            if id(node) in model._graph_node_ids and not node.is_input
        ]
        layers.append(entry)
    return {
        "name": model.name,
        "trainable": model.trainable,
        "layers": layers,
        "input_layers": _io_refs(model._inputs_struct, mapping),
        "output_layers": _io_refs(model._outputs_struct, mapping),
    }


def functional_from_config(cls, config, custom_objects=None):
    """A functional model from its config; a damaged config raises ``ConfigError``
    naming the layer entry at fault (``serialization.layer_entry_errors``)."""
    layers, pending, entries = {}, [], {}
    for entry in _checked(config, "layers", list):
        with serialization.layer_entry_errors(entry):
            layer = deserialize(entry, custom_objects=custom_objects)
            name = entry.get("name", layer.name)
            nodes = entry.get("inbound_nodes") or []
            if name in layers or not isinstance(name, str):
                raise ValueError(f"layer names must be unique strings; got {name!r}.")
            if not isinstance(nodes, list):
                raise ValueError(f"`inbound_nodes` must be a list; got {nodes!r}.")
        layers[name], entries[id(layer)] = layer, entry
        pending.extend((layer, i, node) for i, node in enumerate(nodes))
    produced = _run_nodes(layers, pending, entries)

    def lookup(ref):
        name, node_index, tensor_index = ref
        try:
            return produced[(name, node_index)][tensor_index]
        except (KeyError, IndexError):
            raise ValueError(
                f"the model's inputs/outputs refer to tensor {list(ref)}, which no "
                "layer call produces."
            ) from None

    inputs = _refs_to_tensors(_checked(config, "input_layers", (list, dict)), lookup)
    outputs = _refs_to_tensors(_checked(config, "output_layers", (list, dict)), lookup)
    return cls(
        inputs=inputs,
        outputs=outputs,
        name=config.get("name"),
        trainable=config.get("trainable", True),
    )


def _checked(config, key, kind):
    if not isinstance(config, dict) or not isinstance(config.get(key), kind):
        got = config.get(key) if isinstance(config, dict) else config
        raise ValueError(
            f"a functional model's config must have `{key}` of type "
            f"{getattr(kind, '__name__', 'list or dict')}; got {got!r:.80}."
        )
    return config[key]


def _run_nodes(layers, pending, entries) -> dict[tuple, list]:
    """Call each layer on its recorded inputs, in dependency order; returns the
    tensors of each (layer name, call index)."""
    produced: dict[tuple, list] = {}
    for name, layer in layers.items():
        if type(layer).__name__ == "InputLayer":
            produced[(name, 0)] = [layer._input_tensor]
    node_counts: dict[str, int] = {}
    while pending:
        progressed = False
        remaining = []
        for layer, position, node in pending:
            if (
                node_counts.get(layer.name, 0) != position
            ):  # a layer's calls stay in order
                remaining.append((layer, position, node))
                continue
            with serialization.layer_entry_errors(entries[id(layer)]):
                if not isinstance(node, dict):
                    raise ValueError(f"an inbound node must be a dict; got {node!r}.")
                try:
                    args = _resolve(node.get("args", []), produced)
                    kwargs = _resolve(node.get("kwargs", {}), produced)
                except _NotYetProduced:
                    remaining.append((layer, position, node))
                    continue
                if not isinstance(args, list) or not isinstance(kwargs, dict):
                    raise ValueError("a node's `args` must be a list, `kwargs` a dict.")
                outputs = layer(*args, **kwargs)
            index = node_counts.get(layer.name, 0)
            node_counts[layer.name] = index + 1
            produced[(layer.name, index)] = tree.flatten(outputs)
            progressed = True
        if not progressed:
            names = sorted({layer.name for layer, _, _ in remaining})
            raise ValueError(
                f"Cannot rebuild the model graph: the inputs of layers "
                f"{names} are never produced (a dangling or cyclic `inbound_nodes`)."
            )
        pending = remaining
    return produced


def _is_ref(x) -> bool:
    return (
        isinstance(x, (list, tuple))
        and len(x) == 3
        and isinstance(x[0], str)
        and isinstance(x[1], int)
        and isinstance(x[2], int)
    )


def _refs_to_tensors(refs, lookup):
    if _is_ref(refs):
        return lookup(refs)
    if isinstance(refs, dict):
        return {k: _refs_to_tensors(v, lookup) for k, v in refs.items()}
    if isinstance(refs, list) and refs:
        return [_refs_to_tensors(r, lookup) for r in refs]
    raise ValueError(
        "the model's inputs/outputs must be [layer name, node index, tensor "
        f"index] references; got {refs!r:.80}."
    )


class _NotYetProduced(Exception):
    """A node's input tensor is not produced yet (its layer runs later)."""


def _resolve(x, produced):
    if isinstance(x, dict) and x.get("class_name") == "__keras_tensor__":
        history = (x.get("config") or {}).get("keras_history")
        if not _is_ref(history):
            raise ValueError(f"a tensor reference is malformed: {history!r:.80}.")
        name, node_index, tensor_index = history
        outputs = produced.get((name, node_index))
        if outputs is None:
            raise _NotYetProduced
        if not -len(outputs) <= tensor_index < len(outputs):
            raise ValueError(
                f"tensor reference {history!r} asks for output {tensor_index} of a "
                f"call that has {len(outputs)}."
            )
        return outputs[tensor_index]
    if isinstance(x, dict) and "class_name" in x and "config" in x:
        return serialization.deserialize_keras_object(x)
    if isinstance(x, list):
        return [_resolve(v, produced) for v in x]
    if isinstance(x, tuple):
        return tuple(_resolve(v, produced) for v in x)
    if isinstance(x, dict):
        return {k: _resolve(v, produced) for k, v in x.items()}
    return x

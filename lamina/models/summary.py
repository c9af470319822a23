"""``model.summary()``: Keras's table of layers, output shapes and parameter counts."""

from __future__ import annotations

import io

from rich import box
from rich.console import Console
from rich.table import Table

from lamina.layers.input_layer import InputLayer
from lamina.layers.layer import Layer


def readable_size(num_bytes: float) -> str:
    """``60.00 B``, ``8.25 KB``, ... (powers of 1024, two decimals, like Keras)."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if num_bytes < 1024:
            return f"{num_bytes:.2f} {unit}"
        num_bytes /= 1024
    return f"{num_bytes:.2f} PB"


def _format_shape(shape) -> str:
    if isinstance(shape, list):
        return "[" + ", ".join(_format_shape(s) for s in shape) + "]"
    return str(tuple(shape))


def _model_nodes(model, layer: Layer) -> list:
    """The nodes of ``layer`` that belong to ``model``'s graph (all of them if unknown)."""
    plan_nodes = getattr(model, "_graph_node_ids", None)
    nodes = [n for n in layer._inbound_nodes if type(n).__name__ != "_OwnGraphNode"]
    if plan_nodes is not None:
        nodes = [n for n in nodes if id(n) in plan_nodes]
    return nodes


def _output_shape(model, layer: Layer) -> str:
    nodes = _model_nodes(model, layer)
    if not nodes:
        return "?"
    shapes = {_format_shape(n.output_shapes) for n in nodes}
    return shapes.pop() if len(shapes) == 1 else "multiple"


def _param_count(layer: Layer) -> str:
    if not layer.built:
        return "0 (unbuilt)"
    return f"{layer.count_params():,}"


def _connections(model, layer: Layer) -> str:
    links = []
    for node in _model_nodes(model, layer):
        for t in node.input_tensors:
            history = t._keras_history
            if history is not None:
                links.append(
                    f"{history.layer.name}[{history.node_index}]"
                    f"[{history.tensor_index}]"
                )
    return ", ".join(links) or "-"


def graph_layers(model) -> list[Layer]:
    """The rows of a model's summary or plot: a functional model's ``operations``
    (its ``ops.*`` nodes too, as Keras lists them), any other model's ``layers``."""
    operations = getattr(model, "operations", None)
    return operations if operations is not None else model.layers


def _is_chain(model) -> bool:
    layers = [
        layer for layer in graph_layers(model) if not isinstance(layer, InputLayer)
    ]
    inputs = getattr(model, "inputs", None) or []
    for layer in layers:
        nodes = _model_nodes(model, layer)
        if len(nodes) > 1 or any(len(n.input_tensors) > 1 for n in nodes):
            return False
    return len(inputs) <= 1 and len(getattr(model, "outputs", None) or []) <= 1


def _weights_size(weights) -> tuple[int, int]:
    count = sum(w.numel() for w in weights)
    return count, sum(w.numel() * w.element_size() for w in weights)


def print_summary(
    model,
    line_length=None,
    positions=None,
    print_fn=None,
    expand_nested=False,
    show_trainable=False,
    layer_range=None,
) -> None:
    chain = _is_chain(model)
    layers = graph_layers(model)
    if layer_range is not None:
        names = [layer.name for layer in layers]
        start, end = names.index(layer_range[0]), names.index(layer_range[1]) + 1
        layers = layers[start:end]
    line_length = line_length or 78
    table = _empty_table(chain, positions, show_trainable, line_length)
    for layer in layers:
        _add_rows(table, model, layer, chain, show_trainable, expand_nested, depth=0)
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=line_length + 4,
        force_terminal=False,
        color_system=None,
        highlight=False,
    )
    console.print(f'Model: "{model.name}"')
    console.print(table)
    for line in _totals(model):
        console.print(line)
    text = buffer.getvalue().rstrip("\n")
    (print_fn or print)(text)


def _empty_table(chain, positions, show_trainable, line_length) -> Table:
    """The table's columns: Keras's headers, widths from ``positions``."""
    headers = ["Layer (type)", "Output Shape", "Param #"]
    positions = positions or ([0.45, 0.80, 1.0] if chain else [0.3, 0.55, 0.7, 1.0])
    if not chain:
        headers.append("Connected to")
    if show_trainable:
        headers.append("Trainable")
        positions = list(positions) + [positions[-1] + 0.1]
    scale = positions[-1]
    bounds = [0] + [int(p / scale * line_length) for p in positions]
    justify = {"Param #": "right", "Trainable": "center"}
    table = Table(box=box.HEAVY_HEAD, show_lines=True, width=line_length)
    for i, header in enumerate(headers):
        table.add_column(
            header,
            justify=justify.get(header, "left"),
            no_wrap=False,
            width=max(bounds[i + 1] - bounds[i] - 3, 5),
        )
    return table


def _totals(model) -> list[str]:
    total, total_bytes = (
        _weights_size(model.weights) if model.built or model.weights else (0, 0)
    )
    trainable, trainable_bytes = _weights_size(model.trainable_weights)
    frozen, frozen_bytes = total - trainable, total_bytes - trainable_bytes
    return [
        f" Total params: {total:,} ({readable_size(total_bytes)})",
        f" Trainable params: {trainable:,} ({readable_size(trainable_bytes)})",
        f" Non-trainable params: {frozen:,} ({readable_size(frozen_bytes)})",
    ]


def _add_rows(table, model, layer, chain, show_trainable, expand_nested, depth) -> None:
    indent = "  " * depth
    row = [
        f"{indent}{layer.name} ({type(layer).__name__})",
        _output_shape(model, layer),
        _param_count(layer),
    ]
    if not chain:
        row.append(_connections(model, layer))
    if show_trainable:
        row.append(
            "Y"
            if layer.trainable and layer.weights
            else ("N" if layer.weights else "-")
        )
    table.add_row(*row)
    if expand_nested and hasattr(layer, "summary"):
        for inner in layer.layers:
            _add_rows(
                table, layer, inner, chain, show_trainable, expand_nested, depth + 1
            )

"""``plot_model`` / ``model_to_dot``: a model's graph in Graphviz's DOT language.

The DOT text is written by lamina itself (``model_to_dot_source``), so it needs
nothing installed and a ``.dot`` file can always be written. Rendering to an
image (``.png``, ``.svg``, ``.pdf``, ...) needs the optional ``pydot`` package
(``pip install lamina[plot]``) and the Graphviz programs.
"""

from __future__ import annotations

import html
import os

from lamina.models.summary import _model_nodes, graph_layers


def _layers_with_edges(model, expand_nested, prefix=""):
    """(node id, layer, nested model or None) rows and (from, to) edges."""
    rows, edges = [], []
    for layer in graph_layers(model):
        node_id = f"{prefix}{layer.name}"
        nested = expand_nested and hasattr(layer, "layers") and layer.layers
        rows.append((node_id, layer, layer if nested else None))
        for node in _model_nodes(model, layer):
            for tensor in node.input_tensors:
                history = tensor._keras_history
                if history is not None:
                    edges.append((f"{prefix}{history.layer.name}", node_id))
    ids = [row[0] for row in rows]
    if not edges and type(model).__name__ == "Sequential":  # not built: a stack
        edges = list(zip(ids, ids[1:]))
    known = set(ids)  # a Sequential's InputLayer is not one of its layers
    return rows, [(a, b) for a, b in edges if a in known and b in known]


def _shape_text(layer, what: str) -> str:
    try:
        shape = getattr(layer, what)
    except (AttributeError, ValueError):
        return "?"
    return str(shape).replace("None", "?")


def _label(
    layer, show_shapes, show_dtype, show_layer_names, show_activations, show_trainable
) -> str:
    title = (
        f"{layer.name} ({type(layer).__name__})"
        if show_layer_names
        else type(layer).__name__
    )
    cells = [f"<b>{html.escape(title)}</b>"]
    if show_activations and hasattr(layer, "activation"):
        name = getattr(layer.activation, "__name__", str(layer.activation))
        cells.append(f"Activation: {html.escape(name)}")
    if show_dtype:
        cells.append(f"dtype: {html.escape(str(layer.dtype))}")
    if show_shapes:
        cells.append(
            f"Input shape: {html.escape(_shape_text(layer, 'input_shape'))}<br/>"
            f"Output shape: {html.escape(_shape_text(layer, 'output_shape'))}"
        )
    if show_trainable:
        cells.append(f"Trainable: {'yes' if layer.trainable else 'no'}")
    rows = "".join(f"<tr><td>{cell}</td></tr>" for cell in cells)
    return f'<<table border="0" cellborder="1" cellspacing="0">{rows}</table>>'


def model_to_dot_source(
    model,
    show_shapes=False,
    show_dtype=False,
    show_layer_names=True,
    rankdir="TB",
    expand_nested=False,
    dpi=200,
    show_layer_activations=False,
    show_trainable=False,
) -> str:
    """The DOT text of ``model``'s layer graph (no packages needed)."""
    options = (
        show_shapes,
        show_dtype,
        show_layer_names,
        show_layer_activations,
        show_trainable,
    )
    lines = [
        "digraph G {",
        f'  graph [rankdir="{rankdir}", dpi={int(dpi)}, concentrate=true];',
        '  node [shape="plaintext", fontname="Helvetica"];',
    ]
    edges = _emit(model, expand_nested, options, lines, prefix="", indent="  ")
    lines += [f'  "{a}" -> "{b}";' for a, b in edges]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _emit(model, expand_nested, options, lines, prefix, indent):
    rows, edges = _layers_with_edges(model, expand_nested, prefix)
    for node_id, layer, nested in rows:
        if nested is None:
            lines.append(f'{indent}"{node_id}" [label={_label(layer, *options)}];')
            continue
        lines.append(f'{indent}subgraph "cluster_{node_id}" {{')
        lines.append(f'{indent}  label="{html.escape(layer.name)}";')
        inner = _emit(nested, True, options, lines, f"{node_id}/", indent + "  ")
        lines.append(f"{indent}}}")
        edges = _rewire(edges, node_id, nested, inner)
    return edges


def _rewire(edges, node_id, nested, inner):
    """Edges into/out of a nested model go to its first/last inner layers."""
    first = f"{node_id}/{nested.layers[0].name}"
    last = f"{node_id}/{nested.layers[-1].name}"
    rewired = [
        (last if a == node_id else a, first if b == node_id else b) for a, b in edges
    ]
    return rewired + inner


def model_to_dot(model, **kwargs):
    """The graph as a ``pydot.Dot`` (needs ``pydot``: ``pip install lamina[plot]``)."""
    pydot = _import_pydot()
    (graph,) = pydot.graph_from_dot_data(model_to_dot_source(model, **kwargs))
    return graph


def plot_model(model, to_file="model.png", **kwargs):
    """Draw ``model``'s graph into ``to_file``; its extension picks the format.

    ``.dot`` files are written directly; images need ``pydot`` and Graphviz.
    Takes Keras's options: ``show_shapes``, ``show_dtype``, ``show_layer_names``,
    ``rankdir``, ``expand_nested``, ``dpi``, ``show_layer_activations``,
    ``show_trainable``.

    Raises:
        ImportError: for an image format when pydot or Graphviz is missing; the
            message says what to install (a ``.dot`` file needs neither).
    """
    to_file = os.fspath(to_file)
    extension = os.path.splitext(to_file)[1][1:].lower() or "png"
    source = model_to_dot_source(model, **kwargs)
    if extension in ("dot", "gv"):
        with open(to_file, "w", encoding="utf-8") as f:
            f.write(source)
        return None
    graph = model_to_dot(model, **kwargs)
    try:
        graph.write(to_file, format=extension)
    except FileNotFoundError as e:  # pydot runs Graphviz's `dot` program
        raise ImportError(
            "plot_model: Graphviz's `dot` program was not found; install Graphviz "
            "(e.g. `apt-get install graphviz`), or save to a `.dot` file."
        ) from e
    return None


def _import_pydot():
    try:
        import pydot
    except ImportError:
        raise ImportError(
            "plot_model: drawing images needs `pydot` (`pip install lamina[plot]`) "
            "and Graphviz; a `.dot` file can be written without them."
        ) from None
    return pydot

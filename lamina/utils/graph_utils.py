"""``get_source_inputs``: the inputs a symbolic tensor was computed from."""

from __future__ import annotations


def get_source_inputs(tensor):
    """The list of input tensors (``keras.Input``) needed to compute ``tensor``,
    each once, in the order they are reached; a tensor without history is
    returned as is.

    Example:
    >>> import lamina as keras
    >>> a, b = keras.Input((2,)), keras.Input((2,))
    >>> out = keras.layers.Lambda(lambda t: t[0] + t[1])([keras.layers.Dense(2)(a), b])
    >>> [t is s for t, s in zip(keras.utils.get_source_inputs(out), (a, b))]
    [True, True]
    """
    history = getattr(tensor, "_keras_history", None)
    if not hasattr(tensor, "_keras_history"):
        return tensor
    if history is None or not history[0]._inbound_nodes:
        return [tensor]
    layer, node_index, _ = history
    node = layer._inbound_nodes[node_index]
    if node.is_input:
        return list(node.output_tensors)
    sources = []
    for parent in node.input_tensors:
        for x in get_source_inputs(parent):
            if all(x is not s for s in sources):
                sources.append(x)
    return sources

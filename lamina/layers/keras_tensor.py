"""The nodes that connect layers into a graph.

A ``KerasTensor`` (``lamina.keras_tensor``) is a shape and a dtype, plus the
history of which layer call produced it. Calling a layer on KerasTensors records a
``Node``: that is the whole graph; a functional ``Model`` is built by walking nodes
back from its outputs.
"""

from __future__ import annotations

from lamina.keras_tensor import (
    KerasHistory,
    KerasTensor,
    any_symbolic,
    is_keras_tensor,
)
from lamina.utils import tree

# KerasTensor and its helpers are re-exported from their historic home.
__all__ = [
    "KerasHistory",
    "KerasTensor",
    "Node",
    "any_symbolic",
    "is_keras_tensor",
    "shape_of",
]


def shape_of(structure):
    """The Keras-2 style shape of a node's tensors: a tuple, or a list of tuples."""
    flat = [t.shape for t in tree.flatten(structure) if isinstance(t, KerasTensor)]
    return flat[0] if len(flat) == 1 else flat


class Node:
    """One call of ``layer``: the KerasTensors it consumed and produced."""

    def __init__(self, layer, call_args=(), call_kwargs=None, outputs=None):
        self.layer = layer
        self.call_args = tuple(call_args)
        self.call_kwargs = dict(call_kwargs or {})
        self.input_tensors = [
            t
            for t in tree.flatten((self.call_args, self.call_kwargs))
            if isinstance(t, KerasTensor)
        ]
        self.outputs = outputs
        self.output_tensors = tree.flatten(outputs) if outputs is not None else []
        self.parent_nodes = []
        for t in self.input_tensors:
            history = t._keras_history
            if history is not None:
                parent = history.layer._inbound_nodes[history.node_index]
                self.parent_nodes.append(parent)
                history.layer._outbound_nodes.append(self)
        layer._inbound_nodes.append(self)
        node_index = len(layer._inbound_nodes) - 1
        for i, t in enumerate(self.output_tensors):
            t._keras_history = KerasHistory(layer, node_index, i)

    @property
    def is_input(self) -> bool:
        return not self.input_tensors

    @property
    def input_structure(self):
        """The first call argument (the layer's ``inputs``), as given."""
        return self.call_args[0] if self.call_args else self.call_kwargs.get("inputs")

    @property
    def input_shapes(self):
        return (
            shape_of(self.input_structure)
            if not self.is_input
            else shape_of(self.outputs)
        )

    @property
    def output_shapes(self):
        return shape_of(self.outputs)

    def __repr__(self):
        return (
            f"<Node of {self.layer.name}: {self.input_shapes} -> {self.output_shapes}>"
        )

"""Symbolic tensors and the nodes that connect layers into a graph.

A ``KerasTensor`` is a shape (``None`` for unknown sizes) and a dtype, plus the
history of which layer call produced it. Calling a layer on KerasTensors records a
``Node``: that is the whole graph; a functional ``Model`` is built by walking nodes
back from its outputs.
"""

from __future__ import annotations

import itertools
from typing import Any, NamedTuple

from lamina.utils import tree

_tensor_ids = itertools.count()


class KerasHistory(NamedTuple):
    layer: Any
    node_index: int
    tensor_index: int


class KerasTensor:
    """A symbolic tensor: ``shape`` is a tuple that may hold ``None``; ``dtype`` a name."""

    def __init__(
        self, shape, dtype="float32", sparse=False, name=None, record_history=None
    ):
        self._shape = tuple(None if d is None else int(d) for d in shape)
        self._dtype = dtype
        self.sparse = bool(sparse)
        self.name = name or f"keras_tensor_{next(_tensor_ids)}"
        self._keras_history: KerasHistory | None = None
        self._keras_mask: KerasTensor | None = None

    @property
    def shape(self) -> tuple:
        return self._shape

    @property
    def dtype(self) -> str:
        return self._dtype

    @property
    def ndim(self) -> int:
        return len(self._shape)

    def __len__(self):
        if not self._shape or self._shape[0] is None:
            raise TypeError(
                f"len() of a KerasTensor with unknown first dimension "
                f"(shape {self._shape}) is undefined."
            )
        return self._shape[0]

    def __iter__(self):
        raise TypeError(
            f"A KerasTensor (shape {self._shape}) is symbolic: it has no values to iterate. "
            "Pass it to a layer or a `lamina.ops` function to compute with it."
        )

    def __bool__(self):
        raise TypeError(
            "A KerasTensor is symbolic: it cannot be used as a Python bool."
        )

    def __array__(self, *args, **kwargs):
        raise TypeError(
            f"A KerasTensor (shape {self._shape}) is symbolic and cannot be converted to a "
            "NumPy array. Build a Model from it and call the model on data instead."
        )

    def __repr__(self):
        return (
            f"<KerasTensor shape={self._shape}, dtype={self._dtype}, "
            f"sparse={self.sparse}, name={self.name}>"
        )


def is_keras_tensor(x) -> bool:
    return isinstance(x, KerasTensor)


def any_symbolic(structure) -> bool:
    if type(structure) is KerasTensor:
        return True
    if isinstance(structure, (list, tuple, dict)):
        return any(isinstance(leaf, KerasTensor) for leaf in tree.flatten(structure))
    return False


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

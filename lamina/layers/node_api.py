"""The Keras 2 node API of layers: ``input``, ``output``, ``input_shape``,
``output_shape`` and, for layers called several times, ``get_*_at(node_index)``.

A layer gains one node per call on symbolic inputs. The single-node properties
raise a clear error when the answer would be ambiguous instead of silently
answering for node 0; shapes are answered when every node agrees (Keras 2).
"""

from __future__ import annotations

from lamina.layers.keras_tensor import Node
from lamina.utils import tree
from lamina.utils.validation import describe


class NodeAPI:
    """Mixin for ``Layer``: reads ``self._inbound_nodes`` / ``self._outbound_nodes``."""

    @property
    def inbound_nodes(self) -> list[Node]:
        return self._inbound_nodes

    @property
    def outbound_nodes(self) -> list[Node]:
        return self._outbound_nodes

    def _node_at(self, node_index: int, what: str) -> Node:
        nodes = self._inbound_nodes
        if not nodes:
            raise ValueError(
                f"{describe(self)} has never been called on a symbolic input "
                f"(Input or another layer's output), so it has no {what}."
            )
        if not isinstance(node_index, int) or not -len(nodes) <= node_index < len(
            nodes
        ):
            raise ValueError(
                f"{describe(self)}: `node_index` must be in [0, {len(nodes) - 1}] (the "
                f"layer has {len(nodes)} inbound node(s)); got node_index={node_index!r}."
            )
        return nodes[node_index]

    def _single_node(self, what: str) -> Node:
        node = self._node_at(0, what)
        if len(self._inbound_nodes) > 1:
            raise ValueError(
                f"{describe(self)} has been called {len(self._inbound_nodes)} times "
                f"(it has {len(self._inbound_nodes)} inbound nodes), so its `{what}` is "
                f"ambiguous. Use `get_{what}_at(node_index)` instead."
            )
        return node

    def _common_shape(self, what: str, shape_of_node):
        node = self._node_at(0, what)
        shapes = [shape_of_node(n) for n in self._inbound_nodes]
        if any(s != shapes[0] for s in shapes):
            raise ValueError(
                f"{describe(self)} has {len(shapes)} inbound nodes with different "
                f"{what}s ({', '.join(map(str, shapes))}), so `{what}` is ambiguous. "
                f"Use `get_{what}_at(node_index)` instead."
            )
        return shape_of_node(node)

    @property
    def input(self):
        """The symbolic input of the layer's only call (Keras 2 semantics)."""
        node = self._single_node("input")
        return node.input_structure if not node.is_input else node.outputs

    @property
    def output(self):
        return self._single_node("output").outputs

    @property
    def input_shape(self):
        return self._common_shape("input_shape", lambda n: n.input_shapes)

    @property
    def output_shape(self):
        return self._common_shape("output_shape", lambda n: n.output_shapes)

    def get_input_at(self, node_index: int):
        node = self._node_at(node_index, "input")
        return node.input_structure if not node.is_input else node.outputs

    def get_output_at(self, node_index: int):
        return self._node_at(node_index, "output").outputs

    def get_input_shape_at(self, node_index: int):
        return self._node_at(node_index, "input_shape").input_shapes

    def get_output_shape_at(self, node_index: int):
        return self._node_at(node_index, "output_shape").output_shapes

    def get_input_mask_at(self, node_index: int):
        node = self._node_at(node_index, "input_mask")
        return tree.map_structure(
            lambda t: getattr(t, "_keras_mask", None), node.input_structure
        )

    def get_output_mask_at(self, node_index: int):
        node = self._node_at(node_index, "output_mask")
        return tree.map_structure(
            lambda t: getattr(t, "_keras_mask", None), node.outputs
        )

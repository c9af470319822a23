"""``Sequential``: a plain stack of layers, one input and one output."""

from __future__ import annotations

from lamina.layers import run_plan
from lamina.layers.call_context import call_context as _ctx
from lamina.layers.input_layer import InputLayer
from lamina.layers.keras_tensor import KerasTensor
from lamina.layers.layer import (
    Layer,
    call_in_model,
    model_call_is_plain,
    no_output_mask,
)
from lamina.layers.serialization import deserialize
from lamina.models.functional import _OwnGraphNode, map_graph
from lamina.models.model import Model, conform_input
from lamina.saving import serialization
from lamina.utils.validation import describe


class Sequential(Model):
    """A linear stack of layers.

    The input shape comes from an ``Input``/``InputLayer`` first, from
    ``input_shape``/``input_dim``/``batch_input_shape`` on the first layer, from
    ``build(input_shape)``, or from the first batch of data (deferred build).

    Example:
    >>> import lamina as keras
    >>> model = keras.Sequential([keras.layers.Dense(32, input_dim=32),
    ...                           keras.layers.RepeatVector(3)])
    >>> model.output_shape
    (None, 3, 32)
    """

    _keras_module = "keras"

    def __init__(self, layers=None, trainable=True, name=None):
        super().__init__(trainable=trainable, name=name)
        self._stack: list[Layer] = []
        self._input_layer: InputLayer | None = None
        self._output_tensor: KerasTensor | None = None
        for layer in layers or []:
            self.add(layer)

    # ------------------------------------------------------------ building
    def add(self, layer) -> None:
        """Append ``layer`` (a Layer, an ``InputLayer`` or an ``Input`` tensor)."""
        if isinstance(layer, KerasTensor) and layer._keras_history is not None:
            layer = layer._keras_history.layer
        if not isinstance(layer, Layer):
            raise TypeError(
                f"{describe(self)}: add() expects a Layer instance; got "
                f"{type(layer).__name__} {layer!r}."
            )
        if isinstance(layer, InputLayer):
            if self._stack or self._input_layer is not None:
                raise ValueError(
                    f"{describe(self)}: an InputLayer can only be the first "
                    "layer of a Sequential model."
                )
            self._set_input_layer(layer)
            return
        if any(existing.name == layer.name for existing in self._stack):
            raise ValueError(
                f"{describe(self)}: all layers need unique names; "
                f"'{layer.name}' is already in the model."
            )
        if not self._stack and self._input_layer is None and layer._batch_input_shape:
            self._set_input_layer(InputLayer(batch_shape=layer._batch_input_shape))
        self._stack.append(layer)
        run_plan.invalidate()
        self.add_module(self._free_module_key(layer.name), layer)
        if self._output_tensor is not None:
            self._output_tensor = layer(self._output_tensor)
            self._refresh_own_node()

    def _set_input_layer(self, input_layer: InputLayer) -> None:
        self._input_layer = input_layer
        tensor = input_layer._input_tensor
        for layer in self._stack:
            tensor = layer(tensor)
        self._output_tensor = tensor
        self._build_shapes = input_layer.batch_shape
        self.built = True
        self._refresh_own_node()

    def _refresh_own_node(self) -> None:
        node = _OwnGraphNode(self, self._input_layer._input_tensor, self._output_tensor)
        if self._inbound_nodes and isinstance(self._inbound_nodes[0], _OwnGraphNode):
            self._inbound_nodes[0] = node
        else:
            self._inbound_nodes.insert(0, node)

    def pop(self) -> Layer:
        """Remove and return the last layer."""
        if not self._stack:
            raise IndexError(f"{describe(self)}: pop() on a model with no layers.")
        layer = self._stack.pop()
        run_plan.invalidate()
        for key, module in list(self._modules.items()):
            if module is layer:
                del self._modules[key]
        if self._input_layer is not None:
            node = layer._inbound_nodes[-1] if layer._inbound_nodes else None
            for parent in node.parent_nodes if node else []:
                if node in parent.layer._outbound_nodes:
                    parent.layer._outbound_nodes.remove(node)
            self._output_tensor = (
                self._stack[-1]._inbound_nodes[-1].outputs
                if self._stack
                else self._input_layer._input_tensor
            )
            self._refresh_own_node()
        return layer

    def build(self, input_shape=None) -> None:
        if self._input_layer is not None:
            return
        if input_shape is None:
            raise ValueError(
                f"{describe(self)}: build() needs `input_shape` when the "
                "model has no Input."
            )
        shape = tuple(input_shape)
        self._set_input_layer(InputLayer(batch_shape=(None, *shape[1:])))

    def _build_for(self, inputs) -> None:
        shape = tuple(inputs.shape) if hasattr(inputs, "shape") else None
        if shape is None:
            raise ValueError(
                f"{describe(self)}: a Sequential model takes one tensor input; "
                f"got {type(inputs).__name__}."
            )
        self.build(shape)

    # ------------------------------------------------------------- running
    def call(self, inputs, training=None, mask=None):
        if self._input_layer is not None:
            spec = self._input_layer._input_tensor
            inputs = conform_input(self, inputs, spec.shape, spec.name)
        if mask is not None:
            # on a view: the caller's own tensor must not keep the mask
            if not isinstance(inputs, KerasTensor):
                inputs = inputs.view_as(inputs)
            inputs._keras_mask = mask
        if not model_call_is_plain():
            for layer in self._stack:
                inputs = layer(inputs)
            return inputs
        training = _ctx.training
        key = run_plan.signature((inputs,), training)
        runners = run_plan.find(self, key)
        if runners is not None:
            for run in runners:
                inputs = run(inputs)
            return inputs
        return self._record(inputs, training, key)

    def _follows_chain_plans(self) -> bool:
        return type(self).call is Sequential.call

    def _record(self, inputs, training, key):
        """Run the layers one by one (``call_in_model``), and keep a run plan for
        ``key`` if every layer took the direct path."""
        made_in, shapes = run_plan.epoch(), []
        for layer in self._stack:
            if shapes is not None and run_plan.calls_directly(layer, inputs):
                shapes.append(inputs.shape)
                inputs = run_plan.call_directly(layer, inputs, training)
            else:
                shapes = None
                inputs = call_in_model(layer, inputs, training)
        if shapes is not None and run_plan.epoch() == made_in:
            runners = run_plan.chain(self._stack, shapes, training)
            run_plan.keep(self, key, made_in, runners)
        return inputs

    @no_output_mask
    def compute_mask(self, inputs, previous_mask=None):
        return None  # the last layer attached the output mask

    # ------------------------------------------------------------- graph
    @property
    def layers(self) -> list[Layer]:
        return list(self._stack)

    @property
    def _graph_node_ids(self) -> set[int]:
        if self._output_tensor is None:
            return set()
        graph = map_graph([self._input_layer._input_tensor], [self._output_tensor])
        return {id(n) for n in graph.nodes}

    @property
    def inputs(self):
        return [self._input_layer._input_tensor] if self._input_layer else None

    @property
    def outputs(self):
        return [self._output_tensor] if self._output_tensor is not None else None

    @property
    def input(self):
        self._require_graph("input")
        return self._input_layer._input_tensor

    @property
    def output(self):
        self._require_graph("output")
        return self._output_tensor

    def _require_graph(self, what: str) -> None:
        if self._input_layer is None:
            raise ValueError(
                f"{describe(self)} has no defined {what} yet: give the first layer an "
                "`input_shape`, start with an `Input`, call `build(input_shape)`, or call "
                "the model on data."
            )

    # ------------------------------------------------------------- config
    def get_config(self) -> dict:
        layers = [serialization.serialize_keras_object(layer) for layer in self._stack]
        for entry, layer in zip(layers, self._stack):
            build_config = layer.get_build_config()
            if build_config:
                entry["build_config"] = build_config
        if self._input_layer is not None:
            layers.insert(0, serialization.serialize_keras_object(self._input_layer))
        config = {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": super().get_config()["dtype"],
            "layers": layers,
        }
        if self._build_shapes is not None:
            config["build_input_shape"] = self._build_shapes
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        entries = config.get("layers") or []
        if not isinstance(entries, list):
            raise ValueError(
                f"a Sequential's `layers` must be a list; got {entries!r:.80}."
            )
        for layer_config in entries:
            with serialization.layer_entry_errors(layer_config):
                model.add(deserialize(layer_config, custom_objects=custom_objects))
        if model._input_layer is None and config.get("build_input_shape"):
            model.build(tuple(config["build_input_shape"]))
        return model

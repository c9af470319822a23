"""Functional models: a graph of layer calls, found by walking nodes back from outputs.

The graph is compiled once into a flat plan of ``(layer, input slots, output
slots)`` steps over a list of value slots, so running it costs one Python loop
over layers with no dictionary lookups by tensor.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import torch

from lamina import dtype_policies as policies
from lamina.layers import run_plan
from lamina.layers.call_context import call_context as _ctx
from lamina.layers.input_layer import InputLayer
from lamina.layers.keras_tensor import KerasTensor, Node, any_symbolic
from lamina.layers.layer import (
    Layer,
    call_in_model,
    model_call_is_plain,
    no_output_mask,
)
from lamina.layers.operation import Operation
from lamina.models.functional_config import functional_config
from lamina.models.model import Model, conform_input
from lamina.utils import tree
from lamina.utils.validation import describe


class GraphMap(NamedTuple):
    nodes: list[Node]  # execution order (inputs first)
    layers: list[Layer]  # Keras order: decreasing depth, then traversal order


def map_graph(inputs: list[KerasTensor], outputs: list[KerasTensor]) -> GraphMap:
    """The nodes between ``inputs`` and ``outputs`` and the layers in Keras's order."""
    input_ids = {id(t) for t in inputs}
    finished: set[int] = set()
    in_progress: set[int] = set()
    ordered: list[Node] = []  # parents before children
    layer_index: dict[int, int] = {}
    layers_by_id: dict[int, Layer] = {}

    def visit(tensor: KerasTensor) -> None:
        history = tensor._keras_history
        if history is None:
            raise ValueError(
                f"Model outputs must come from layers called on the model's Input(s); "
                f"tensor {tensor.name} (shape {tensor.shape}) was not produced by a layer."
            )
        node = history.layer._inbound_nodes[history.node_index]
        if id(node) in finished:
            return
        if id(tensor) in input_ids and not node.is_input:
            finished.add(id(node))
            return
        if id(node) in in_progress:
            raise ValueError(f"Layer '{node.layer.name}' is part of a cycle.")
        layer_index.setdefault(id(node.layer), len(layer_index))
        layers_by_id[id(node.layer)] = node.layer
        in_progress.add(id(node))
        if not (node.is_input or id(tensor) in input_ids):
            for parent_tensor in node.input_tensors:
                visit(parent_tensor)
        finished.add(id(node))
        in_progress.discard(id(node))
        ordered.append(node)

    for tensor in outputs:
        visit(tensor)
    _check_inputs_reached(inputs, ordered)

    node_depth: dict[int, int] = {}
    layer_depth: dict[int, int] = {}
    for node in reversed(ordered):
        depth = max(
            node_depth.setdefault(id(node), 0), layer_depth.get(id(node.layer), 0)
        )
        layer_depth[id(node.layer)] = depth
        node_depth[id(node)] = depth
        for parent in node.parent_nodes:
            node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
    for tensor in inputs:  # inputs that no output depends on
        layer = tensor._keras_history.layer
        if id(layer) not in layer_depth:
            layer_depth[id(layer)], layer_index[id(layer)] = 0, -1
            layers_by_id[id(layer)] = layer
    layers = sorted(
        layers_by_id.values(),
        key=lambda layer: (-layer_depth[id(layer)], layer_index[id(layer)]),
    )
    position = {id(n): i for i, n in enumerate(ordered)}
    nodes = sorted(ordered, key=lambda n: (-node_depth[id(n)], position[id(n)]))
    return GraphMap(nodes, layers)


def _check_inputs_reached(inputs, ordered) -> None:
    input_ids = {id(t) for t in inputs}
    for node in ordered:
        if node.is_input and not any(id(t) in input_ids for t in node.output_tensors):
            tensor = node.output_tensors[0]
            raise ValueError(
                f"Graph disconnected: the outputs depend on input '{node.layer.name}' "
                f"(shape {tensor.shape}), which is not among the model inputs "
                f"{[t.name for t in inputs]}."
            )
    produced = {id(t) for node in ordered for t in node.output_tensors}
    for node in ordered:
        for t in node.input_tensors:
            if id(t) not in produced and t not in inputs:
                raise ValueError(
                    f"Graph disconnected: layer '{node.layer.name}' needs tensor "
                    f"{t.name} (shape {t.shape}), which cannot be computed from the "
                    f"model inputs {[i.name for i in inputs]}."
                )


class _Step(NamedTuple):
    layer: Layer
    call: Any  # the layer, or an operation's function (no per-call checks)
    single_slot: int | None  # fast path: one positional tensor, no kwargs
    flat_args: tuple | None  # next fastest: slots and constants, constant kwargs
    kwargs: dict
    template: Any  # (args, kwargs) with slot markers, when not single_slot
    out_slots: tuple[int, ...]


class _Slot(NamedTuple):
    index: int


def _is_chain(steps, input_slots, output_slots) -> bool:
    """Whether the graph is one input through single-input layers one after
    the other to one output, each result used by the next layer only."""
    if len(input_slots) != 1 or len(output_slots) != 1 or not steps:
        return False
    slot = input_slots[0]
    for step in steps:
        if step.single_slot != slot or step.call is not step.layer:
            return False
        if len(step.out_slots) != 1:
            return False
        slot = step.out_slots[0]
    return slot == output_slots[0]


def _fill(template, values):
    def fill(x):
        return values[x.index] if isinstance(x, _Slot) else x

    if isinstance(template, _Slot):
        return values[template.index]
    if isinstance(template, (list, tuple)):
        return type(template)(_fill(t, values) for t in template)
    if isinstance(template, dict):
        return {k: _fill(v, values) for k, v in template.items()}
    return fill(template)


def _without_recorded_flags(kwargs: dict) -> dict:
    """Call kwargs less what Keras 3 files record that is not the graph's own: a
    layer's resolved ``training`` flag (Dropout False, augmentation True; the
    model's flag decides, as in Keras's functional models) and masks that are
    all None."""
    drop = {"training"}
    if "mask" in kwargs and all(m is None for m in tree.flatten(kwargs["mask"])):
        drop.add("mask")
    if drop.isdisjoint(kwargs):
        return kwargs
    return {k: v for k, v in kwargs.items() if k not in drop}


class Functional(Model):
    """A model defined by ``Model(inputs, outputs)``: several inputs and outputs,
    shared layers and nested models are all supported."""

    _keras_module = "keras.src.models.functional"

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._init_graph(inputs, outputs)

    def _init_graph(self, inputs, outputs) -> None:
        if isinstance(inputs, KerasTensor) or isinstance(inputs, dict):
            self._inputs_struct = inputs
        else:
            self._inputs_struct = list(inputs)
        self._outputs_struct = (
            outputs if not isinstance(outputs, tuple) else list(outputs)
        )
        flat_inputs = tree.flatten(self._inputs_struct)
        flat_outputs = tree.flatten(self._outputs_struct)
        for t in flat_inputs + flat_outputs:
            if not isinstance(t, KerasTensor):
                raise TypeError(
                    f"{describe(self)}: inputs and outputs must be KerasTensors (from "
                    f"`Input(...)` and layer calls); got {type(t).__name__}."
                )
        graph = map_graph(flat_inputs, flat_outputs)
        self._graph_layers = graph.layers
        self._graph_node_ids = {id(n) for n in graph.nodes}
        self._input_tensors = flat_inputs
        self._output_tensors = flat_outputs
        names = set()
        for layer in graph.layers:
            if layer.name in names:
                raise ValueError(
                    f"{describe(self)}: all layers in a model need unique names; "
                    f"'{layer.name}' is used more than once."
                )
            names.add(layer.name)
            if not isinstance(layer, (InputLayer, Operation)):
                self.add_module(self._free_module_key(layer.name), layer)
        self._compile_plan(graph.nodes, flat_inputs, flat_outputs)
        # String inputs (preprocessing layers) stay NumPy: torch has no strings.
        self._input_dtypes = [
            None if t.dtype == "string" else policies.to_torch_dtype(t.dtype)
            for t in flat_inputs
        ]
        self.built = True
        self._build_shapes = self._shapes_of_struct(self._inputs_struct)
        # Keras 2: node 0 of a model is its own graph (inputs -> outputs). It does not
        # rewrite the outputs' history, so the same tensors can build other models.
        self._inbound_nodes.append(
            _OwnGraphNode(self, self._inputs_struct, self._outputs_struct)
        )

    @staticmethod
    def _shapes_of_struct(struct):
        return (
            tree.map_structure(lambda t: t.shape, struct)
            if not isinstance(struct, KerasTensor)
            else struct.shape
        )

    def _compile_plan(self, nodes, flat_inputs, flat_outputs) -> None:
        slots: dict[int, int] = {}

        def slot_of(t: KerasTensor) -> int:
            return slots.setdefault(id(t), len(slots))

        self._input_slots = [slot_of(t) for t in flat_inputs]
        steps = []
        for node in nodes:
            if node.is_input:
                continue
            steps.append(self._compile_step(node, slot_of))
        self._plan = steps
        self._output_slots = [slot_of(t) for t in flat_outputs]
        self._n_slots = len(slots)
        self._is_chain = _is_chain(steps, self._input_slots, self._output_slots)

    @staticmethod
    def _compile_step(node, slot_of) -> _Step:
        args, kwargs = node.call_args, node.call_kwargs
        if not isinstance(node.layer, Operation):
            kwargs = _without_recorded_flags(kwargs)
        single = flat = None
        if len(args) == 1 and not kwargs and isinstance(args[0], KerasTensor):
            single = slot_of(args[0])
        elif not any_symbolic(kwargs) and all(
            isinstance(a, KerasTensor) or not any_symbolic(a) for a in args
        ):
            flat = tuple(
                _Slot(slot_of(a)) if isinstance(a, KerasTensor) else a for a in args
            )
        template = tree.map_structure(
            lambda x: _Slot(slot_of(x)) if isinstance(x, KerasTensor) else x,
            (list(args), kwargs),
        )
        layer = node.layer
        call = layer.graph_call if isinstance(layer, Operation) else layer
        out_slots = tuple(slot_of(t) for t in node.output_tensors)
        return _Step(layer, call, single, flat, kwargs, template, out_slots)

    # --------------------------------------------------------------- running
    def _input_values(self, inputs, mask) -> list:
        """The slot table, with the inputs conformed, converted and masked."""
        flat = tree.flatten(inputs)
        if len(flat) != len(self._input_slots):
            raise ValueError(
                f"{describe(self)}: expected {len(self._input_slots)} input(s) "
                f"{[t.shape for t in self._input_tensors]}, got {len(flat)}."
            )
        masks = tree.flatten(mask) if mask is not None else [None] * len(flat)
        values: list = [None] * self._n_slots
        for slot, x, dtype, m, spec in zip(
            self._input_slots, flat, self._input_dtypes, masks, self._input_tensors
        ):
            x = conform_input(self, x, spec.shape, spec.name)
            if dtype is None:
                x = np.asarray(x) if x is not None else x
            elif x is not None and not isinstance(x, torch.Tensor):
                x = torch.as_tensor(x)
            if x is not None and dtype is not None and x.dtype is not dtype:
                x = x.to(dtype)
            if m is not None:
                x._keras_mask = m
            values[slot] = x
        return values

    def _runners(self, record, training) -> list:
        """A run plan from a recording call's ``(step index, input shape)`` for
        each step that ran directly: one runner per step (None for the steps
        that run as usual), or, for a chain of layers, ``run_plan.chain``'s."""
        if self._is_chain and len(record) == len(self._plan):
            layers = [step.layer for step in self._plan]
            return run_plan.chain(layers, [shape for _, shape in record], training)
        planned = [None] * len(self._plan)
        for i, shape in record:
            planned[i] = self._plan[i].layer._plan_runner(shape, training)
        return planned

    def _follows_chain_plans(self) -> bool:
        return self._is_chain and type(self).call is Functional.call

    def _chain_plan_output(self, x):
        return tree.pack_sequence_as(self._outputs_struct, [x])

    @staticmethod
    def _run_generic(step, values):
        """A step of several inputs or keyword arguments (or an operation)."""
        if step.flat_args is not None:
            args = [
                values[a.index] if a.__class__ is _Slot else a for a in step.flat_args
            ]
            return step.call(*args, **step.kwargs)
        args, kwargs = _fill(step.template, values)
        return step.call(*args, **kwargs)

    def call(self, inputs, training=None, mask=None):
        """Run the graph's steps on the slot table. With ``call_in_model``'s
        direct path for every single-input layer, the run is recorded as a run
        plan (``run_plan``) that later calls of the same signature follow."""
        values = self._input_values(inputs, mask)
        training = _ctx.training if model_call_is_plain() else None
        runners = record = None
        if training is not None:
            key = run_plan.signature([values[s] for s in self._input_slots], training)
            runners = run_plan.find(self, key)
            if runners is not None and self._is_chain:  # Sequential's way
                x = values[self._input_slots[0]]
                for run in runners:
                    x = run(x)
                return tree.pack_sequence_as(self._outputs_struct, [x])
            if runners is None and key is not None:
                record, made_in = [], run_plan.epoch()
        for i, step in enumerate(self._plan):
            run = runners[i] if runners is not None else None
            if run is not None:
                x = values[step.single_slot]
                if getattr(x, "_keras_mask", None) is None:
                    out = run(x)
                else:  # a mask from a multi-input layer: the checked path
                    out = call_in_model(step.layer, x, training)
            elif step.single_slot is not None:
                x = values[step.single_slot]
                if training is None or step.call is not step.layer:
                    out = step.call(x)
                elif run_plan.calls_directly(step.layer, x):
                    if record is not None:
                        record.append((i, x.shape))
                    out = run_plan.call_directly(step.layer, x, training)
                else:
                    record = None
                    out = step.layer(x)
            else:
                out = self._run_generic(step, values)
            if len(step.out_slots) == 1:
                values[step.out_slots[0]] = out
            else:
                for slot, value in zip(step.out_slots, tree.flatten(out)):
                    values[slot] = value
        if record and run_plan.epoch() == made_in:  # nothing changed meanwhile
            run_plan.keep(self, key, made_in, self._runners(record, training))
        flat_out = [values[s] for s in self._output_slots]
        return tree.pack_sequence_as(self._outputs_struct, flat_out)

    @no_output_mask
    def compute_mask(self, inputs, previous_mask=None):
        return None  # outputs carry the masks their own layers attached

    # ---------------------------------------------------------------- graph
    @property
    def layers(self) -> list[Layer]:
        """The graph's layers (as in Keras, not its ``operations``' op nodes)."""
        return [op for op in self._graph_layers if not isinstance(op, Operation)]

    @property
    def operations(self) -> list[Layer]:
        """Every node's layer or operation (``ops.*`` calls too), in graph order."""
        return list(self._graph_layers)

    @property
    def inputs(self) -> list[KerasTensor]:
        return list(self._input_tensors)

    @property
    def outputs(self) -> list[KerasTensor]:
        return list(self._output_tensors)

    @property
    def input(self):
        return self._inputs_struct

    @property
    def output(self):
        return self._outputs_struct

    def get_config(self) -> dict:
        return functional_config(self)


# Model(inputs, outputs) builds a Functional; Model cannot import this subclass.
Model._functional_class = Functional


class _OwnGraphNode(Node):
    """Node 0 of a model: its own inputs and outputs (Keras 2 semantics). Unlike a
    call node it links no parents and leaves the tensors' history alone, so the same
    tensors can build other models."""

    def __init__(self, model, inputs, outputs):
        self.layer = model
        self.call_args = (inputs,)
        self.call_kwargs = {}
        self.input_tensors = tree.flatten(inputs)
        self.outputs = outputs
        self.output_tensors = tree.flatten(outputs)
        self.parent_nodes = []

"""``clone_model``: the same architecture with new layers (fresh weights)."""

from __future__ import annotations

from lamina.layers.input_layer import Input, InputLayer
from lamina.layers.keras_tensor import KerasTensor
from lamina.models.functional import Functional, _fill
from lamina.models.sequential import Sequential
from lamina.utils import tree
from lamina.utils.validation import describe


def _default_clone(layer):
    return type(layer).from_config(layer.get_config())


def clone_model(
    model,
    input_tensors=None,
    clone_function=None,
    call_function=None,
    recursive=False,
    **kwargs,
):
    """A new model with the architecture of ``model`` and newly created layers.

    As in Keras 3: the weights are freshly initialized (copy them with
    ``clone.set_weights(model.get_weights())``); layer names are kept.

    Args:
        model: a Sequential or functional model.
        input_tensors: optional KerasTensor(s) to build the clone on, instead of
            new ``Input``s like the original's.
        clone_function: ``layer -> new layer``; default rebuilds each layer from
            its config.
        call_function: ``(layer, *args, **kwargs) -> outputs``, to change how each
            cloned layer is called (functional models); default calls it.
        recursive: also clone the layers inside nested models with
            ``clone_function`` (otherwise a nested model is one layer).

    Raises:
        ValueError: for a subclassed model (its graph is Python code) or
            unexpected arguments.
    """
    if kwargs:
        raise ValueError(f"clone_model: unexpected argument(s) {sorted(kwargs)}.")
    clone_function = clone_function or _default_clone

    def clone_layer(layer):
        if recursive and isinstance(layer, (Sequential, Functional)):
            return clone_model(
                layer,
                clone_function=clone_function,
                call_function=call_function,
                recursive=True,
            )
        return clone_function(layer)

    if isinstance(model, Sequential):
        return _clone_sequential(model, input_tensors, clone_layer)
    if isinstance(model, Functional):
        return _clone_functional(model, input_tensors, clone_layer, call_function)
    raise ValueError(
        f"clone_model: {describe(model)} is a subclassed model, whose graph is its "
        "Python `call`; only Sequential and functional models can be cloned. Use "
        "`type(model).from_config(model.get_config())` instead."
    )


def _clone_sequential(model, input_tensors, clone_layer):
    layers = [clone_layer(layer) for layer in model.layers]
    if input_tensors is not None:
        start = tree.flatten(input_tensors)[0]
        return Sequential([InputLayer(input_tensor=start), *layers], name=model.name)
    if model._input_layer is not None:
        first = model._input_layer
        layers.insert(
            0,
            InputLayer(
                batch_shape=first.batch_shape, dtype=first.dtype, name=first.name
            ),
        )
    clone = Sequential(layers, name=model.name, trainable=model.trainable)
    if not clone.built and model._build_shapes is not None:
        clone.build(model._build_shapes)
    return clone


def _clone_functional(model, input_tensors, clone_layer, call_function):
    if input_tensors is None:
        new_inputs = [
            Input(
                batch_shape=t.shape,
                dtype=t.dtype,
                name=t._keras_history.layer.name,
            )
            for t in model._input_tensors
        ]
    else:
        new_inputs = tree.flatten(input_tensors)
        if len(new_inputs) != len(model._input_tensors):
            raise ValueError(
                f"clone_model: {describe(model)} has {len(model._input_tensors)} "
                f"input(s); got {len(new_inputs)} input tensor(s)."
            )
        new_inputs = [
            t if isinstance(t, KerasTensor) else Input(tensor=t) for t in new_inputs
        ]
    values: list = [None] * model._n_slots
    for slot, tensor in zip(model._input_slots, new_inputs):
        values[slot] = tensor
    clones = {}
    for step in model._plan:
        layer = clones.get(id(step.layer))
        if layer is None:
            layer = clones[id(step.layer)] = clone_layer(step.layer)
        if step.single_slot is not None:
            args, kwargs = [values[step.single_slot]], {}
        else:
            args, kwargs = _fill(step.template, values)
        outputs = (call_function or _call)(layer, *args, **kwargs)
        for slot, value in zip(step.out_slots, tree.flatten(outputs)):
            values[slot] = value
    inputs = tree.pack_sequence_as(model._inputs_struct, new_inputs)
    outputs = tree.pack_sequence_as(
        model._outputs_struct, [values[s] for s in model._output_slots]
    )
    return Functional(inputs, outputs, name=model.name, trainable=model.trainable)


def _call(layer, *args, **kwargs):
    return layer(*args, **kwargs)

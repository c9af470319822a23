"""Keras 3 as the oracle: build the same layer in lamina and Keras, share weights, and
compare everything a user can observe.

Writing cases
-------------
Each family module ``tests/cases_<family>.py`` lists ``CASES`` and ``ERROR_CASES``
(``tests/test_layers_oracle.py`` collects them)::

    Case("Dense", {"units": 4}, (3, 5))                       # one float input
    Case("Embedding", {"input_dim": 9, "output_dim": 2}, (3, 5), "int32", data="ints:9")
    Case("Add", inputs=[Input((2, 3)), Input((2, 3))])        # layer([a, b])
    Case("MultiHeadAttention", {"num_heads": 2, "key_dim": 4},
         Input((2, 5, 8)), call_kwargs={"value": Input((2, 7, 8))})  # layer(q, value=v)
    Case("LSTM", {"units": 3, "return_state": True}, (2, 6, 4),
         call_kwargs={"initial_state": [Input((2, 3)), Input((2, 3))]})
    Case("StringLookup", {"output_mode": "int"}, Input((3, 4), "string"),
         adapt=Input((20,), "string"), symbolic=False)
    Case("BatchNormalization", {}, (4, 3), train_call=True)
    Case("Dropout", {"rate": 0.5, "seed": 1}, (4, 6),
         checks=("inference_identity", "seed", "shapes"))
    ErrorCase("Dense", {"units": 0}, r"`units` must be an integer >= 1")

**Inputs** (``inputs=``, the third argument) take three forms:

- one shape, or one ``Input`` spec: called as ``layer(x)``. With a shape, ``dtype``
  and ``data`` (a recipe) describe its values;
- a list of specs: one positional list, ``layer([a, b])`` (merge layers);
- a dict of specs: keyword arguments, ``layer(query=q, value=v)``.

``Input(shape, dtype="float32", recipe=None)`` (tests/oracle_inputs.py lists the
recipes: normal, uniform, ints:N, padded, bool, words, sentences). Specs may also
sit anywhere in ``call_kwargs`` (masks, ``initial_state=[...]``, a second tensor
argument). Every spec becomes fresh data for each call, the same for both
libraries (seeds 0, 1, ... in order of appearance); float ones get their gradients
compared; in the symbolic step each becomes a ``keras.Input``/``lamina.Input``.
Other call kwargs (flags, constant mask tensors) pass unchanged. Strings
(``"string"`` dtype) reach both libraries as NumPy arrays (torch holds none).

**Beyond one call.** ``adapt=`` (a spec or an array) runs ``layer.adapt(data)`` on
both sides first; their non-trainable weights are compared before Keras's weights
are copied into ours, and the outputs after. ``train_call=True`` adds one
``training=True`` call compared like the first (outputs, masks, losses,
gradients), then the non-trainable weights it updated (moving statistics).
``build=lambda L: L.RNN(L.LSTMCell(4))`` makes layers around other layers from
``lamina.layers`` or ``keras.layers`` (list inner classes in ``also_covers``).

**Several outputs** (tuples, lists, dicts: ``return_state``, attention scores) are
flattened and compared one by one, with their masks; gradients come from a fixed
random projection of every float output, summed.

**checks=** (default ``("values",)``) names what is compared after each call:

- ``"values"``: outputs, masks, losses, input and weight gradients vs Keras;
- ``"shapes"``: output structure, shapes, dtypes and masks' presence vs Keras;
- ``"inference_identity"``: ``training=False`` returns the input, in both;
- ``"seed"``: two layers from the same config (same ``seed``) give the same
  ``training=True`` output, a layer with another seed a different one;
- a callable ``check(ours, theirs, feed)``: anything else. ``feed.call(layer,
  training=True)`` calls a layer on fresh copies of the case's inputs.

Random layers drop ``"values"``; the weights round trip then compares weights only.
``symbolic=False`` skips the symbolic step (say why in a comment).

**ErrorCase(layer, kwargs, match, error=ValueError, inputs=None,
keras_raises=True)**: lamina raises ``error`` matching ``match`` at construction
(or when called on ``inputs``), and Keras raises for the same thing an error of the
same family: our class is Keras's or a subclass of one of its bases (a ValueError
where Keras raises TypeError fails). A deliberate difference says so, with a
comment: ``keras_raises=False`` (Keras accepts it, or has no such layer) or
``keras_raises=TypeError`` (Keras raises that class instead). The test fails when
the flag is no longer true.

Steps
-----
``check_layer(case)`` runs small named steps, each one assertion family: weights
(names, shapes, order) and ``count_params``; state after ``adapt``; the checks
above with Keras's weights copied in; the training call; symbolic vs real output
shapes (and Keras's symbolic shapes and ``compute_output_shape``); config keys,
values, JSON round trip and cross-loading in both directions; weights round trip
through a rebuilt layer, by ``set_weights`` and through a ``.weights.h5`` file.
"""

from __future__ import annotations

import inspect
import json
import math
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
import torch

import lamina
from lamina.saving import weights_h5
from tests.oracle_inputs import Feed, Input, call, flatten, mask_of, to_numpy

__all__ = ["ATOL", "Case", "ErrorCase", "Input", "check_error", "check_layer"]

ATOL = 1e-5
RTOL = 1e-5


@dataclass
class Case:
    layer: str
    kwargs: dict = field(default_factory=dict)
    inputs: Any = (2, 3)  # a shape, an Input, a list or a dict of Inputs
    dtype: str = "float32"  # of a shape given as `inputs`
    call_kwargs: dict = field(default_factory=dict)
    id: str | None = None
    grads: bool = True  # compare input/weight gradients
    atol: float = ATOL
    data: str | None = None  # recipe of a shape given as `inputs` (see Input)
    config_skip: tuple = ()  # config keys whose values legitimately differ
    # For layers built around other layers (RNN(cell), Bidirectional(layer), ...):
    # build(layers_module) makes the layer from `lamina.layers` or `keras.layers`.
    build: Callable[[Any], Any] | None = None
    also_covers: tuple = ()  # inner layer classes this case exercises too
    adapt: Any = None  # an Input or an array given to `layer.adapt` first
    train_call: bool = False  # compare one training=True call and its updates
    checks: tuple = ("values",)
    symbolic: bool = True  # compare symbolic shapes

    def __str__(self):
        return self.id or f"{self.layer}-{_stable(self.kwargs)}-{self.inputs}"

    def feed(self) -> Feed:
        return make_feed(self.inputs, self.call_kwargs, self.dtype, self.data)


@dataclass
class ErrorCase:
    layer: str
    kwargs: dict
    match: str
    error: type = ValueError
    inputs: Any = None  # set: the error comes at build/call time (forms of Case)
    call_kwargs: dict = field(default_factory=dict)
    # True: Keras raises the same family. False, or another class: a deliberate
    # difference, explained in a comment next to the case.
    keras_raises: bool | type = True
    id: str | None = None

    def __str__(self):
        return self.id or f"{self.layer}-{_stable(self.kwargs)}"


def make_feed(inputs, call_kwargs: dict, dtype="float32", data=None) -> Feed:
    """The data of a case; a shape becomes ``Input(shape, dtype, data)``."""
    if isinstance(inputs, tuple) and all(isinstance(n, int) for n in inputs):
        inputs = Input(inputs, dtype, data)
    return Feed(inputs, call_kwargs)


def _stable(kwargs: dict) -> str:
    """kwargs as a test id without memory addresses (pytest-xdist workers must agree)."""
    return str(
        {k: getattr(v, "__name__", v) if callable(v) else v for k, v in kwargs.items()}
    )


# ------------------------------------------------------------------ helpers
def build_pair(case: Case):
    if case.build is not None:
        return case.build(lamina.layers), case.build(keras.layers)
    ours = getattr(lamina.layers, case.layer)(**case.kwargs)
    theirs = getattr(keras.layers, case.layer)(**case.kwargs)
    return ours, theirs


def _from_config(cls, config):
    """Rebuild from a config; a Lambda holding Python bytecode needs safe_mode=False
    (safe mode's refusal is tested in test_core_layers)."""
    if "safe_mode" in inspect.signature(cls.from_config).parameters:
        return cls.from_config(config, safe_mode=False)
    return cls.from_config(config)


def _inference_outputs(layer, feed: Feed):
    with torch.no_grad():
        return flatten(feed.call(layer))


def _close(actual, expected, atol=ATOL, message=""):
    np.testing.assert_allclose(
        to_numpy(actual), to_numpy(expected), atol=atol, rtol=RTOL, err_msg=message
    )


# ------------------------------------------------------------------- steps
def check_weights(ours, theirs):
    assert [w.name for w in ours.weights] == [w.name for w in theirs.weights]
    assert [tuple(w.shape) for w in ours.weights] == [
        tuple(w.shape) for w in theirs.weights
    ]
    assert [w.trainable for w in ours.weights] == [w.trainable for w in theirs.weights]
    assert ours.count_params() == theirs.count_params()
    assert len(ours.trainable_weights) == len(theirs.trainable_weights)


def check_weight_values(ours, theirs, atol=ATOL):
    """Same values in ``ours`` and ``theirs`` (lists of weights), by name."""
    assert [w.name for w in ours] == [w.name for w in theirs]
    for w_ours, w_theirs in zip(ours, theirs):
        _close(w_ours.value, w_theirs.value, atol, w_ours.path)


def adapt_both(ours, theirs, case: Case):
    data = case.adapt
    if isinstance(data, Input):
        data = data.make(seed=100)  # not the seeds of the call inputs
    ours.adapt(data)
    theirs.adapt(data)


def check_outputs(out_ours, out_theirs, atol=ATOL):
    """Flattened outputs agree: paths, shapes, dtypes, values and masks."""
    assert [p for p, _ in out_ours] == [p for p, _ in out_theirs]
    for (path, a), (_, b) in zip(out_ours, out_theirs):
        assert tuple(a.shape) == tuple(b.shape), path
        assert str(to_numpy(a).dtype) == str(to_numpy(b).dtype), path
        _close(a, b, atol, path)
        mask_a, mask_b = mask_of(a), mask_of(b)
        assert (mask_a is None) == (mask_b is None), path
        if mask_a is not None:
            np.testing.assert_array_equal(mask_a, mask_b, err_msg=path)


def check_losses(ours, theirs):
    ours_total = sum(float(to_numpy(loss)) for loss in ours.losses)
    theirs_total = sum(float(to_numpy(loss)) for loss in theirs.losses)
    assert len(ours.losses) == len(theirs.losses)
    assert math.isclose(ours_total, theirs_total, rel_tol=1e-5, abs_tol=1e-6)


def check_values(ours, theirs, case: Case, feed: Feed, **extra):
    """Outputs, output masks and losses agree; then gradients of a fixed projection
    of every float output, for every float input and trainable weight."""
    calls = []
    for layer in (ours, theirs):
        inputs, kwargs, leaves = feed.tensors(grad=case.grads)
        calls.append((flatten(call(layer, inputs, kwargs, **extra)), leaves))
    check_outputs(calls[0][0], calls[1][0], case.atol)
    check_losses(ours, theirs)
    if case.grads:
        check_gradients(ours, theirs, calls, case.atol)


def _backward(layer, outputs: list, projections: list) -> None:
    for weight in layer.trainable_weights:
        weight.value.grad = None  # an earlier step's call may have left some
    sum((t * p.to(t.dtype)).sum() for t, p in zip(outputs, projections)).backward()


def check_gradients(ours, theirs, calls, atol=ATOL):
    (out_ours, leaves_ours), (out_theirs, leaves_theirs) = calls
    differentiable = [i for i, (_, t) in enumerate(out_theirs) if t.requires_grad]
    if not differentiable:
        return
    rng = np.random.default_rng(1)
    projections = [
        torch.tensor(rng.standard_normal(tuple(out_theirs[i][1].shape)))
        for i in differentiable
    ]
    _backward(ours, [out_ours[i][1] for i in differentiable], projections)
    _backward(theirs, [out_theirs[i][1] for i in differentiable], projections)
    for i, (a, b) in enumerate(zip(leaves_ours, leaves_theirs)):
        assert (a.grad is None) == (b.grad is None), f"input {i}"
        if b.grad is not None:
            _close(a.grad, b.grad, atol, f"gradient of input {i}")
    for w_ours, w_theirs in zip(ours.trainable_weights, theirs.trainable_weights):
        g_theirs = w_theirs.value.grad
        assert (w_ours.grad is None) == (g_theirs is None), w_ours.path
        if g_theirs is not None:
            _close(w_ours.grad, g_theirs, atol, w_ours.path)


def check_output_shapes(ours, theirs, case: Case, feed: Feed):
    """Output structure, shapes, dtypes and masks' presence agree (random values)."""
    with torch.no_grad():
        out_ours, out_theirs = flatten(feed.call(ours)), flatten(feed.call(theirs))
    assert [p for p, _ in out_ours] == [p for p, _ in out_theirs]
    for (path, a), (_, b) in zip(out_ours, out_theirs):
        assert tuple(a.shape) == tuple(b.shape), path
        assert str(to_numpy(a).dtype) == str(to_numpy(b).dtype), path
        assert (mask_of(a) is None) == (mask_of(b) is None), path


def check_inference_identity(ours, theirs, case: Case, feed: Feed):
    """At ``training=False`` the layer returns its input unchanged, as Keras's does."""
    for layer in (ours, theirs):
        with torch.no_grad():
            output = feed.call(layer, training=False)
        np.testing.assert_array_equal(to_numpy(output), feed.first)


def check_seed(ours, theirs, case: Case, feed: Feed):
    """Layers made from one config (one ``seed``) draw the same ``training=True``
    output; a layer with another seed draws a different one."""
    config = ours.get_config()
    if config.get("seed") is None:
        raise ValueError(f"{case}: checks=('seed',) needs a `seed` in the config.")
    outputs = []
    for seed in (config["seed"], config["seed"], config["seed"] + 1):
        twin = _from_config(type(ours), {**config, "seed": seed})
        _inference_outputs(twin, feed)  # builds it
        twin.set_weights(ours.get_weights())
        with torch.no_grad():
            outputs.append(to_numpy(flatten(feed.call(twin, training=True))[0][1]))
    np.testing.assert_array_equal(outputs[0], outputs[1])
    assert not np.array_equal(outputs[0], outputs[2]), "another seed, same draw"


CHECKS = {
    "values": check_values,
    "shapes": check_output_shapes,
    "inference_identity": check_inference_identity,
    "seed": check_seed,
}


def run_checks(ours, theirs, case: Case, feed: Feed):
    for check in case.checks:
        if callable(check):
            check(ours, theirs, feed)
        elif check in CHECKS:
            CHECKS[check](ours, theirs, case, feed)
        else:
            raise ValueError(f"{case}: unknown check {check!r}; known: {list(CHECKS)}")


def check_train_call(ours, theirs, case: Case, feed: Feed):
    """One ``training=True`` call agrees, and so do the non-trainable weights it
    updated (BatchNormalization's moving statistics)."""
    check_values(ours, theirs, case, feed, training=True)
    check_weight_values(ours.non_trainable_weights, theirs.non_trainable_weights)


def _lists(structure):
    """Shapes and structures of shapes with every tuple as a list, to compare."""
    if isinstance(structure, (list, tuple)):
        return [_lists(item) for item in structure]
    return structure


def check_symbolic_shape(ours, theirs, feed: Feed, real: list):
    """A fresh layer called on Inputs reports the shapes real data produces, Keras's
    symbolic call agrees, and so does ``compute_output_shape`` where it applies."""
    fresh = _from_config(type(ours), ours.get_config())
    inputs, kwargs = feed.symbolic(lamina)
    out_ours = flatten(call(fresh, inputs, kwargs))
    out_theirs = flatten(call(theirs, *feed.symbolic(keras)))
    shapes = [(path, tuple(t.shape)) for path, t in out_ours]
    real_shapes = [(path, (None, *t.shape[1:])) for path, t in real]
    assert shapes == real_shapes, f"symbolic {shapes}, real {real_shapes}"
    # Leaves only: Keras's symbolic call may nest states differently from its own
    # eager call (a cell's one state as a tensor, not a list); lamina's nests
    # like the eager calls, whose paths check_values compares.
    keras_shapes = [tuple(t.shape) for _, t in out_theirs]
    assert [s for _, s in shapes] == keras_shapes, f"{shapes}, Keras {keras_shapes}"
    single = len(out_ours) == 1
    assert _lists(fresh.output_shape) == _lists(
        shapes[0][1] if single else [s for _, s in shapes]
    )
    input_shapes = feed.positional_shapes()
    if input_shapes is not None:
        assert _lists(fresh.input_shape) == _lists(input_shapes)
        assert _lists(fresh.compute_output_shape(input_shapes)) == _lists(
            theirs.compute_output_shape(input_shapes)
        )


def _normalize(value):
    """JSON view of a config value (tuples become lists, numbers compared loosely)."""
    return json.loads(json.dumps(value, default=str))


def _assert_config_equal(a, b, path=""):
    if isinstance(a, dict) and isinstance(b, dict):
        assert sorted(a) == sorted(b), f"config keys differ at {path or 'top'}"
        for key in a:
            _assert_config_equal(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_config_equal(x, y, f"{path}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert math.isclose(float(a), float(b), rel_tol=1e-6), f"{path}: {a} != {b}"
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


def check_config(ours, theirs, case: Case):
    config_ours = _normalize(ours.get_config())
    config_theirs = _normalize(theirs.get_config())
    for key in ("name", *case.config_skip):
        config_ours.pop(key, None)
        config_theirs.pop(key, None)
    _assert_config_equal(config_ours, config_theirs)
    # JSON round trip and cross-loading in both directions.
    config = json.loads(json.dumps(ours.get_config()))
    again = _normalize(_from_config(type(ours), config).get_config())
    expected = _normalize(ours.get_config())
    for key in case.config_skip:
        again.pop(key, None)
        expected.pop(key, None)
    assert again == expected
    if "__lambda__" in json.dumps(config, default=str):
        return  # cross-loading bytecode needs unsafe mode on both sides
    keras_copy = keras.layers.deserialize(_normalize(lamina.layers.serialize(ours)))
    assert type(keras_copy).__name__ == type(ours).__name__
    lamina_copy = lamina.layers.deserialize(_normalize(keras.layers.serialize(theirs)))
    assert type(lamina_copy).__name__ == type(theirs).__name__


def check_weights_round_trip(ours, case: Case, feed: Feed, tmp_dir: str):
    """Weights survive ``set_weights`` and a ``.weights.h5`` file into a rebuilt twin
    (and so do the outputs, unless they are random)."""
    expected = _inference_outputs(ours, feed)
    path = os.path.join(tmp_dir, "layer.weights.h5")
    weights_h5.save_weights(ours, path)
    for load in ("set_weights", "file"):
        twin = _from_config(type(ours), ours.get_config())
        _inference_outputs(twin, feed)  # builds it
        if load == "file":
            weights_h5.load_weights(twin, path)
        else:
            twin.set_weights(ours.get_weights())
        # A file may hold weights merged (LoRA's): what must survive it is the
        # outputs; random layers compare weights instead.
        if load == "set_weights" or "values" not in case.checks:
            for a, b in zip(twin.get_weights(), ours.get_weights()):
                np.testing.assert_array_equal(a, b, err_msg=load)
        if "values" in case.checks:
            for (_, a), (_, b) in zip(_inference_outputs(twin, feed), expected):
                np.testing.assert_allclose(
                    to_numpy(a), to_numpy(b), atol=1e-6, err_msg=load
                )


def check_layer(case: Case) -> None:
    ours, theirs = build_pair(case)
    feed = case.feed()
    if case.adapt is not None:
        adapt_both(ours, theirs, case)
    real = _inference_outputs(ours, feed)  # builds both on real data
    _inference_outputs(theirs, feed)
    check_weights(ours, theirs)
    if case.adapt is not None:
        check_weight_values(ours.non_trainable_weights, theirs.non_trainable_weights)
    ours.set_weights([to_numpy(w.value) for w in theirs.weights])
    run_checks(ours, theirs, case, feed)
    if case.train_call:
        check_train_call(ours, theirs, case, feed)
    if case.symbolic:
        check_symbolic_shape(ours, theirs, feed, real)
    check_config(ours, theirs, case)
    with tempfile.TemporaryDirectory() as tmp_dir:
        check_weights_round_trip(ours, case, feed, tmp_dir)


# ------------------------------------------------------------------ errors
def _make_and_call(library, case: ErrorCase) -> None:
    layer = getattr(library.layers, case.layer)(**case.kwargs)
    if case.inputs is not None:
        make_feed(case.inputs, case.call_kwargs).call(layer)


def _same_family(ours: type, theirs: type) -> bool:
    """Our class is Keras's or a subclass of one of its bases (not Exception)."""
    bases = [c for c in theirs.__mro__ if c not in (Exception, BaseException, object)]
    return any(issubclass(ours, base) for base in bases)


def check_keras_raises(case: ErrorCase) -> None:
    """Keras raises for the same arguments and inputs, unless the case says not."""
    raised = None
    if hasattr(keras.layers, case.layer):
        try:
            _make_and_call(keras, case)
        except Exception as error:  # noqa: BLE001 - any class, compared below
            raised = error
    if case.keras_raises is False:
        assert raised is None, f"Keras raises {raised!r} too: drop keras_raises=False"
    elif case.keras_raises is True:
        assert raised is not None, "Keras accepts this: mark keras_raises=False, why"
        assert _same_family(case.error, type(raised)), (
            f"lamina raises {case.error.__name__}, Keras {type(raised).__name__}"
        )
    else:
        assert isinstance(raised, case.keras_raises), f"Keras raises {raised!r}"


def check_error(case: ErrorCase, pytest_module: Any) -> None:
    with pytest_module.raises(case.error, match=case.match):
        _make_and_call(lamina, case)
    check_keras_raises(case)

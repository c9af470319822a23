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

**Inputs** (``inputs=``, the third argument; ``input_shape=`` is its older
spelling) take three forms:

- one shape, or one ``Input`` spec: called as ``layer(x)``. With a shape, ``dtype``
  and ``data`` (a recipe) describe its values;
- a list of specs: one positional list, ``layer([a, b])`` (merge layers);
- a dict of specs: keyword arguments, ``layer(query=q, value=v)``.

There is no form for several positional tensors: give the first as ``inputs`` and
the others by name in ``call_kwargs`` (``layer(q, value=v)``, as above).

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

import json
import math
import os
import tempfile
from collections.abc import Callable
from dataclasses import InitVar, dataclass, field
from typing import Any

import keras
import numpy as np
from keras.src.utils import naming as keras_naming

import lamina
from lamina.saving import weights_h5
from lamina.utils import naming as lamina_naming
from tests.oracle_checks import (
    ATOL,
    check_train_call,
    check_weight_values,
    from_config,
    inference_outputs,
    run_checks,
)
from tests.oracle_inputs import Feed, Input, call, flatten, to_numpy

__all__ = ["ATOL", "Case", "ErrorCase", "Input", "check_error", "check_layer"]


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
    input_shape: InitVar[tuple | None] = None  # the older spelling of `inputs`

    def __post_init__(self, input_shape):
        if input_shape is not None:
            self.inputs = input_shape

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
    input_shape: InitVar[tuple | None] = None  # the older spelling of `inputs`

    def __post_init__(self, input_shape):
        if input_shape is not None:
            self.inputs = input_shape

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


def build_pair(case: Case):
    # Both libraries' automatic names restart, so that the names of nested
    # layers and cells (compared in the configs) do not depend on which tests
    # ran before in the same worker.
    lamina_naming.reset_uids()
    keras_naming.reset_uids()
    if case.build is not None:
        return case.build(lamina.layers), case.build(keras.layers)
    ours = getattr(lamina.layers, case.layer)(**case.kwargs)
    theirs = getattr(keras.layers, case.layer)(**case.kwargs)
    return ours, theirs


# ------------------------------------------------------------------- steps
def check_weights(ours, theirs):
    assert [w.name for w in ours.weights] == [w.name for w in theirs.weights]
    assert [tuple(w.shape) for w in ours.weights] == [
        tuple(w.shape) for w in theirs.weights
    ]
    assert [w.trainable for w in ours.weights] == [w.trainable for w in theirs.weights]
    assert ours.count_params() == theirs.count_params()
    assert len(ours.trainable_weights) == len(theirs.trainable_weights)


def adapt_both(ours, theirs, case: Case):
    data = case.adapt
    if isinstance(data, Input):
        data = data.make(seed=100)  # not the seeds of the call inputs
    ours.adapt(data)
    theirs.adapt(data)


def _shape_leaves(structure) -> list:
    """The shapes in a shape, or in a (nested list/tuple/dict) structure of them."""
    if isinstance(structure, dict):
        return [s for key in sorted(structure) for s in _shape_leaves(structure[key])]
    if all(dim is None or isinstance(dim, int) for dim in structure):
        return [tuple(structure)]
    return [s for item in structure for s in _shape_leaves(item)]


def check_symbolic_shape(ours, theirs, feed: Feed, real: list):
    """A fresh layer called on Inputs reports the shapes real data produces, and
    Keras's symbolic call agrees."""
    fresh = from_config(type(ours), ours.get_config())
    out_ours = flatten(call(fresh, *feed.symbolic(lamina)))
    out_theirs = flatten(call(theirs, *feed.symbolic(keras)))
    shapes = [(path, tuple(t.shape)) for path, t in out_ours]
    real_shapes = [(path, (None, *t.shape[1:])) for path, t in real]
    assert shapes == real_shapes, f"symbolic {shapes}, real {real_shapes}"
    # Leaves only: Keras's symbolic call may nest states differently from its own
    # eager call (a cell's one state as a tensor, not a list); lamina's nests
    # like the eager calls, whose paths check_values compares.
    keras_shapes = [tuple(t.shape) for _, t in out_theirs]
    assert [s for _, s in shapes] == keras_shapes, f"{shapes}, Keras {keras_shapes}"
    check_shape_methods(fresh, theirs, feed, keras_shapes)


def check_shape_methods(fresh, theirs, feed: Feed, shapes: list):
    """``output_shape``, ``input_shape`` and ``compute_output_shape`` (where the
    inputs are positional) agree with the symbolic call, and with Keras's answer
    where Keras has one (its base Layer leaves it to the author)."""
    assert _shape_leaves(fresh.output_shape) == shapes
    input_shapes = feed.positional_shapes()
    if input_shapes is None:
        return
    assert _shape_leaves(fresh.input_shape) == _shape_leaves(input_shapes)
    computed = fresh.compute_output_shape(input_shapes)
    try:
        expected = theirs.compute_output_shape(input_shapes)
    except NotImplementedError:
        assert _shape_leaves(computed) == shapes
    else:
        assert _lists(computed) == _lists(expected), f"{computed} != {expected}"


def _lists(structure):
    """A structure of shapes with every tuple as a list, to compare."""
    if isinstance(structure, (list, tuple)):
        return [_lists(item) for item in structure]
    return structure


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
    again = _normalize(from_config(type(ours), config).get_config())
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
    expected = inference_outputs(ours, feed)
    path = os.path.join(tmp_dir, "layer.weights.h5")
    weights_h5.save_weights(ours, path)
    for load in ("set_weights", "file"):
        twin = from_config(type(ours), ours.get_config())
        inference_outputs(twin, feed)  # builds it
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
            for (_, a), (_, b) in zip(inference_outputs(twin, feed), expected):
                np.testing.assert_allclose(
                    to_numpy(a), to_numpy(b), atol=1e-6, err_msg=load
                )


def check_layer(case: Case) -> None:
    ours, theirs = build_pair(case)
    feed = case.feed()
    if case.adapt is not None:
        adapt_both(ours, theirs, case)
    real = inference_outputs(ours, feed)  # builds both on real data
    inference_outputs(theirs, feed)
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

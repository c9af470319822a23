"""Ops on symbolic tensors: graph nodes, summaries, configs and ``.keras`` files,
against Keras 3 (the same graph built in both, weights shared)."""

import copy
import importlib.util
import inspect
import json
import pathlib
import pickle
import re

import keras
import numpy as np
import pytest
import torch

import lamina
from lamina.layers import operation
from lamina.ops import operation_specs, symbolic

_TABLE_SCRIPT = pathlib.Path(__file__).parent / "fixtures" / "keras_ops_table.py"


@pytest.fixture(autouse=True)
def _fresh_names():
    """Both libraries start naming from scratch (``add``, not ``add_7``), so the
    graphs' names agree whatever ran before."""
    lamina.backend.clear_session()
    keras.backend.clear_session(free_memory=False)  # names only: fast


# ------------------------------------------------------------------ graphs
def _operators(lib):
    """Every KerasTensor operator, slicing and ``ops`` calls with keywords, on a
    dict of inputs."""
    ops = lib.ops
    x = lib.Input((3, 4), name="x")
    y = lib.Input((1, 4), name="y")
    positive = ops.abs(x) + 1.0
    outputs = {
        "abs": abs(x),
        "add": 1 + x + y,
        "sub": 1 - x - y,
        "mul": 2.0 * x * y,
        "div": x / 2,
        "rdiv": 2 / positive,
        "floordiv": x // 0.5,
        "rfloordiv": 3.0 // positive,
        "mod": positive % 0.3,
        "rmod": 3.0 % positive,
        "pow": positive**0.5,
        "rpow": 2**x,
        "neg": -x,
        "matmul": x @ ops.ones((4, 2)),
        "compare": ops.cast((x < y) & (x <= 0) | (x > 0.5) ^ (x >= y), "int32"),
        "not": ~(x != y),
        "round": round(x, 1),
        "index": x[:, 0],
        "slices": x[:, 1:, ::2],
        "ellipsis": x[..., None, 1:3],
        "reshape": x.reshape((-1, 12)),
        "squeeze": y.squeeze(1),
        "take": ops.take(x, ops.argmax(y[:, 0, :3], axis=-1), axis=1),
        "mean": ops.mean(x, axis=1, keepdims=True),
        "einsum": ops.einsum("bij,bkj->bik", x, y),
        "transpose": ops.transpose(x, axes=(0, 2, 1)),
        "clip": ops.clip(x, x_min=-0.5, x_max=0.5),
        "where": ops.where(x > 0, x, 0.0),
        "softmax": ops.nn.softmax(x, axis=1),
        "pad": ops.pad(x, pad_width=((0, 0), (1, 0), (0, 2)), constant_values=1.0),
        "split": ops.split(x, 2, axis=-1)[1],  # several outputs
        "unstack": ops.unstack(x, axis=1)[2],
    }
    return lib.Model({"x": x, "y": y}, outputs, name="operators")


def _with_layers(lib):
    """Ops between layers: a list of inputs, an op whose output feeds two layers,
    a layer shared by two op outputs, an op instance called twice, and an op
    stack from a list of tensors."""
    ops, layers = lib.ops, lib.layers
    a, b = lib.Input((6,), name="a"), lib.Input((6,), name="b")
    both = ops.concatenate([a, b], axis=-1)
    left = layers.Dense(4, name="left")(both)
    right = layers.Dense(4, activation="tanh", name="right")(both)
    shared = layers.Dense(3, name="shared")
    add = _add_operation(lib)
    first, second = add(left, right), add(left, 1.0)
    h1, h2 = shared(ops.nn.relu(first)), shared(ops.sigmoid(second))
    stacked = ops.stack([h1, h2], axis=1)
    out = ops.sum(stacked * ops.expand_dims(a[:, :2], -1), axis=1)
    return lib.Model([a, b], [out, ops.max(stacked, axis=-1)], name="with_layers")


def _add_operation(lib):
    if lib is keras:
        from keras.src.ops.numpy import Add

        return Add()
    return operation.operation_class("keras.src.ops.numpy.Add")()


def _nested(lib):
    """A model with ops inside a model, on nested dict/list inputs."""
    ops = lib.ops
    inner_in = lib.Input((5,), name="inner_in")
    inner = lib.Model(inner_in, ops.square(inner_in[:, ::2]) * 0.5, name="inner")
    p, q = lib.Input((5,), name="p"), lib.Input((5,), name="q")
    r = lib.Input((3,), name="r", dtype="int32")
    out = inner(p - q) + ops.cast(r, "float32")
    return lib.Model({"pair": [p, q], "r": r}, out, name="outer")


GRAPHS = [_operators, _with_layers, _nested]


def _inputs(model, seed=0):
    rng = np.random.default_rng(seed)

    def make(t):
        shape = (3, *t.shape[1:])
        if t.dtype == "int32":
            return rng.integers(0, 3, size=shape).astype("int32")
        return rng.standard_normal(shape).astype("float32")

    return keras.tree.map_structure(make, model.input)


def _assert_same_outputs(got, want, atol=1e-5):
    got, want = keras.tree.flatten(got), keras.tree.flatten(want)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        g, w = np.asarray(g), keras.ops.convert_to_numpy(w)
        assert g.dtype == w.dtype
        np.testing.assert_allclose(g, w, atol=atol)


def _config(model) -> dict:
    return json.loads(json.dumps(model.get_config()))


def _graph_config(model) -> list:
    """The op nodes' entries (nested models' too) and the models' input and output
    references: what lamina writes for a graph with ops."""
    config = _config(model)
    found = [config["input_layers"], config["output_layers"]]
    for entry in config["layers"]:
        if entry["module"].startswith("keras.src.ops."):
            found.append(entry)
        elif "layers" in entry["config"]:
            found += _graph_config(lamina.Model.from_config(entry["config"]))
    return found


@pytest.mark.parametrize("graph", GRAPHS, ids=lambda g: g.__name__)
def test_graph_matches_keras(graph):
    ours, theirs = graph(lamina), graph(keras)
    ours.set_weights(theirs.get_weights())
    assert _graph_config(ours) == _graph_config(theirs)
    assert [op.name for op in ours.operations] == [op.name for op in theirs.operations]
    assert [layer.name for layer in ours.layers] == [
        layer.name for layer in theirs.layers
    ]
    for got, want in zip(
        keras.tree.flatten(ours.output), keras.tree.flatten(theirs.output)
    ):
        assert (got.shape, got.dtype) == (tuple(want.shape), want.dtype)
    x = _inputs(theirs)
    _assert_same_outputs(ours.predict(x, verbose=0), theirs.predict(x, verbose=0))


@pytest.mark.parametrize("graph", GRAPHS, ids=lambda g: g.__name__)
def test_keras_files_both_ways(graph, tmp_path):
    ours, theirs = graph(lamina), graph(keras)
    ours.set_weights(theirs.get_weights())
    ours.save(tmp_path / "lamina.keras")
    theirs.save(tmp_path / "keras.keras")
    x = _inputs(theirs, seed=1)
    want = theirs.predict(x, verbose=0)
    from_keras = lamina.models.load_model(tmp_path / "keras.keras")
    _assert_same_outputs(from_keras.predict(x, verbose=0), want)
    in_keras = keras.models.load_model(tmp_path / "lamina.keras")
    _assert_same_outputs(in_keras.predict(x, verbose=0), want)
    assert _graph_config(from_keras) == _graph_config(theirs)


def test_gradients_flow_through_op_nodes():
    ours, theirs = _with_layers(lamina), _with_layers(keras)
    ours.set_weights(theirs.get_weights())
    x = [torch.tensor(v, requires_grad=True) for v in _inputs(theirs)]
    sum(o.sum() for o in ours(x)).backward()
    x_keras = [v.detach().clone().requires_grad_() for v in x]
    sum(o.sum() for o in theirs(x_keras)).backward()
    for got, want in zip(x, x_keras):
        np.testing.assert_allclose(got.grad.numpy(), want.grad.numpy(), atol=1e-5)


def _summary_rows(model) -> list[list[str]]:
    """The summary table's cells (wrapped lines joined), row by row."""
    lines = []
    model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line))
    rows, current = [], None
    for line in "\n".join(lines).splitlines():
        if line.startswith("│"):
            cells = [c.strip() for c in line.strip("│").split("│")]
            if current is None:
                current = cells
            else:
                current = [f"{a} {b}".strip() for a, b in zip(current, cells)]
        elif current is not None:
            rows.append(current)
            current = None
    return rows


def test_summary_lists_ops_as_keras_does():
    ours, theirs = _with_layers(lamina), _with_layers(keras)
    rows = _summary_rows(ours)
    assert rows == _summary_rows(theirs)
    # One row per operation; the op called twice lists both calls' inputs.
    add = ["add (Add)", "(None, 4)", "0", "left[0][0], right[0][0], left[0][0]"]
    assert add in rows


def test_model_layers_exclude_ops_like_keras():
    model = _operators(lamina)
    assert [layer.name for layer in model.layers] == ["x", "y"]
    get_item = next(op for op in model.operations if type(op).__name__ == "GetItem")
    with pytest.raises(ValueError, match=get_item.name):
        model.get_layer(get_item.name)
    assert not list(model.parameters())


# ---------------------------------------------------------------- behaviour
def test_negative_slice_steps_select_as_numpy():
    # Keras on torch raises here; TensorFlow and JAX (and NumPy) do this.
    x = lamina.Input((4, 5))
    keys = [
        (slice(None), slice(None, None, -1)),
        (Ellipsis, slice(3, 0, -2)),
        (slice(None), slice(None, None, -1), None, slice(1, None, -3)),
        (slice(None), 2, slice(None, 1, -1)),
    ]
    model = lamina.Model(x, [x[key] for key in keys])
    data = np.arange(2 * 4 * 5, dtype="float32").reshape(2, 4, 5)
    for key, got, out in zip(keys, model.predict(data), model.outputs):
        np.testing.assert_array_equal(got, data[key])
        assert out.shape == (None, *data[key].shape[1:])


def test_list_keys_from_files_read_as_tuples():
    x = lamina.Input((3, 4))
    get_item = operation.operation_class("keras.src.ops.numpy.GetItem")()
    data = torch.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(get_item(data, [0, 1]), data[0, 1])
    assert get_item(x, [slice(None), 1]).shape == (None, 4)


def test_symbolic_calls_of_mixed_arguments():
    x = lamina.Input((4,))
    ops = lamina.ops
    assert ops.add(torch.ones(4), x).shape == (None, 4)
    assert (np.ones(4, "float32") + x).shape == (None, 4)  # NumPy defers to x
    assert ops.where(torch.ones(4) > 0, x, 0.0).shape == (None, 4)
    assert ops.concatenate([x, x], axis=-1).shape == (None, 8)
    assert ops.shape(x) == (None, 4) and ops.dtype(x) == "float32"
    assert not ops.is_tensor(x)
    assert ops.numpy.mean(x, axis=-1).shape == (None,)
    assert (x == 1) is False  # `==` is identity, as in Keras: tensors stay hashable
    with pytest.raises(TypeError, match="bad operand type for unary"):
        _ = +x


def test_data_dependent_sizes_are_unknown():
    x = lamina.Input((3, 4))
    assert x[x > 0].shape == (None,)
    assert lamina.ops.nonzero(x).shape[-1] is None
    model = lamina.Model(x, x[x > 0])
    data = np.array([[[1, -1, 2, 0]] * 3], dtype="float32")
    np.testing.assert_array_equal(model.predict(data), data[data > 0])


def test_eager_calls_do_not_record_nodes():
    t = torch.ones(2, 3)
    out = lamina.ops.mean(t, axis=1)
    assert isinstance(out, torch.Tensor) and not hasattr(out, "_keras_history")
    assert symbolic.has_symbolic((t, [t, 1]), {"axis": 1}) is False


def test_errors_name_the_operation_and_the_shapes():
    a, b = lamina.Input((3,)), lamina.Input((4,))
    with pytest.raises(
        Exception, match=r"Add 'add\w*' cannot be applied to .*\(None, 3\), \(None, 4\)"
    ):
        _ = a + b
    with pytest.raises(
        ValueError, match="Unknown operation: 'keras.src.ops.numpy.Nope'"
    ):
        operation.operation_class("keras.src.ops.numpy.Nope")
    with pytest.raises(TypeError, match=r"Mean: unexpected argument\(s\) \['axes'\]"):
        operation.operation_class("keras.src.ops.numpy.Mean")(axes=1)


def test_an_operation_lamina_cannot_compute_says_so(monkeypatch):
    monkeypatch.delitem(operation_specs.lamina_functions, "logaddexp")
    entry = {
        "module": "keras.src.ops.numpy",
        "class_name": "Logaddexp",
        "config": {"name": "logaddexp"},
    }
    with pytest.raises(NotImplementedError, match="lamina.ops has no `logaddexp`"):
        lamina.layers.deserialize(entry)


def test_op_and_layer_with_the_same_class_name_are_told_apart_by_module():
    class Add(lamina.layers.Layer):  # stands for the merge layer keras.layers.Add
        def call(self, inputs):
            return inputs[0] + inputs[1]

    op_entry = {
        "module": "keras.src.ops.numpy",
        "class_name": "Add",
        "config": {"name": "plus"},
        "registered_name": "Add",
    }
    layer_entry = {"module": "keras.layers", "class_name": "Add", "config": {}}
    custom = {"Add": Add}
    op = lamina.layers.deserialize(op_entry, custom_objects=custom)
    assert isinstance(op, operation.KerasOperation) and op.name == "plus"
    assert type(lamina.layers.deserialize(layer_entry, custom_objects=custom)) is Add


def test_user_operation_subclass():
    class Scale(lamina.Operation):
        def __init__(self, factor=2.0, name=None):
            super().__init__(name=name)
            self.factor = factor

        def call(self, x):
            return x * self.factor

    x = lamina.Input((3,))
    y = Scale(3.0)(x)
    assert y.shape == (None, 3) and y._keras_history.layer.name == "scale"
    assert Scale(0.5, name="half").get_config() == {"name": "half", "factor": 0.5}
    np.testing.assert_allclose(lamina.Model(x, y).predict(np.ones((1, 3))), 3.0)


def test_clone_and_deepcopy_keep_op_nodes():
    model = _with_layers(lamina)
    x = _inputs(model)
    want = model.predict(x, verbose=0)
    clone = lamina.models.clone_model(model)
    clone.set_weights(model.get_weights())
    _assert_same_outputs(clone.predict(x, verbose=0), want)
    _assert_same_outputs(copy.deepcopy(model).predict(x, verbose=0), want)
    _assert_same_outputs(pickle.loads(pickle.dumps(model)).predict(x, verbose=0), want)
    assert [op.name for op in clone.operations] == [op.name for op in model.operations]


# ------------------------------------------------------------------- table
def test_keras_operations_table_is_current():
    """The committed table is what the generator reads from the installed Keras:
    a Keras upgrade that changes any op's arguments fails here (rerun
    ``python tests/fixtures/keras_ops_table.py``)."""
    spec = importlib.util.spec_from_file_location("keras_ops_table", _TABLE_SCRIPT)
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    committed = generator.TABLE.read_text()
    assert generator.dumps(generator.build_table()) == committed


def test_keras_tensor_operators_are_keras_ones():
    ours = set(lamina.keras_tensor._OPERATORS) | {"__round__"}
    ours |= set(lamina.keras_tensor._UNARY_OPERATORS)
    python2_only = {"__div__", "__rdiv__"}
    theirs = {
        name
        for name, fn in vars(keras.KerasTensor).items()
        if name.startswith("__")
        and callable(fn)
        and re.search(r"ops\.[A-Z]\w*\(", inspect.getsource(fn))
        and name not in python2_only
    }
    assert theirs == ours
    assert hasattr(lamina.KerasTensor, "reshape") and hasattr(
        lamina.KerasTensor, "squeeze"
    )


def test_every_lamina_op_records_a_keras_node():
    """Each lamina op function with a Keras Operation records it: its parameters
    map onto Keras's (by name, or by position where lamina names them apart)."""
    checked = 0
    for name, fn in sorted(operation_specs.lamina_functions.items()):
        entry = operation_specs.function_entry(name)
        if entry is None:
            continue
        params = inspect.signature(fn).parameters
        renames = operation_specs._keras_names(name, fn)
        known = {renames.get(p, p) for p in params}
        takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
        needed = {p.lstrip("*") for p in entry["args"]} | set(entry["kwargs"].values())
        needed |= set(entry["init"].values())
        assert takes_any or needed <= known | set(entry["init"]), (name, needed)
        checked += 1
    assert checked > 200


def test_operation_names_match_keras():
    for key in operation_specs.OPERATIONS:
        class_name = key.rsplit(".", 1)[1]
        assert lamina.utils.naming.to_snake_case(class_name) == re.sub(
            r"\W", "", keras.src.utils.naming.to_snake_case(class_name)
        )


# ------------------------------------------------------- each op vs Keras
def _keras_function(name):
    for namespace in ("numpy", "nn", "linalg", "image"):
        fn = getattr(getattr(keras.ops, namespace), name, None)
        if fn is not None:
            return fn
    return getattr(keras.ops, name)


def _tensor_arguments(name):
    """The names of Keras's ``ops.<name>`` parameters without defaults."""
    params = inspect.signature(_keras_function(name)).parameters.values()
    return [p.name for p in params if p.default is p.empty and p.kind <= 1]


# Every lamina op Keras calls with one or two tensors only (elementwise maths,
# reductions, activations, linear algebra...) is checked on float inputs.
ELEMENTARY = sorted(
    name
    for name in operation_specs.lamina_functions
    if operation_specs.function_entry(name) is not None
    and _tensor_arguments(name) in (["x"], ["x1", "x2"], ["x", "y"])
)
# Ops whose inputs need other shapes or dtypes (checked in the graphs above, or
# valid on integers only): Keras refuses two (None, 3, 4) float tensors there.
NOT_FOR_FLOATS = {"bincount", "cross", "diag", "dot", "matmul", "stack", "unstack"}
NOT_FOR_FLOATS |= {"tensordot"}
# Known differences, each checked to still be one.
DIFFERENT = {
    # Two stand-in sizes cannot tell min(None, 3) from 3 (Keras says None).
    "diagonal": "shape",
    # lamina's ops: `imag` refuses real inputs; `ndim`/`size` return Python ints
    # (a node needs a tensor); `nonzero` returns one (ndim, n) tensor, not a tuple.
    "imag": "error",
    "ndim": "error",
    "size": "error",
    "nonzero": "shape",
    # Keras's symbolic specs that differ from what its own call returns; lamina's
    # match the call: corrcoef of (rows, n) is (rows, rows), eig's values are
    # complex, lu_factor's pivots int32, slogdet's results one per matrix.
    "corrcoef": "shape",
    "eig": "shape",
    "lu_factor": "shape",
    "slogdet": "shape",
}


# Ops that need inputs of another shape or dtype than (None, 3, 4) float32:
# (per-sample shape, dtype) of each tensor argument.
SQUARE = [((3, 3), "float32")]
INPUTS = {
    **dict.fromkeys(
        ["cholesky", "cholesky_inverse", "det", "eig", "eigh", "inv", "logdet"],
        SQUARE,
    ),
    **dict.fromkeys(["lu_factor", "slogdet"], SQUARE),
    "corrcoef": [((4,), "float32")],  # (None, 4): variables x observations
    # 1-D sequences of known lengths (Keras cannot infer from unknown ones)
    "correlate": [((), "float32", 5), ((), "float32", 3)],
    "histogram": [((), "float32")],
    "vander": [((), "float32")],
    "ldexp": [((3, 4), "float32"), ((3, 4), "int32")],
    "view_as_complex": [((3, 2), "float32")],
}
# Keras's FFTs take `x` as a (real, imaginary) pair.
PAIRED = {"fft", "fft2", "ifft2", "irfft"}


def _call_symbolically(lib, fn, arity, name=None):
    specs = INPUTS.get(name, [((3, 4), "float32")] * arity)
    inputs = [
        lib.Input(
            spec[0], dtype=spec[1], batch_size=(spec[2:] or (None,))[0], name=f"in{i}"
        )
        for i, spec in enumerate(specs)
    ]
    if name in PAIRED:
        return fn((inputs[0], lib.Input((3, 4), name="imag")))
    return fn(*inputs)


@pytest.mark.parametrize("name", sorted(set(ELEMENTARY) - NOT_FOR_FLOATS))
def test_op_node_matches_keras(name):
    keras_fn = _keras_function(name)
    arity = len(_tensor_arguments(name))
    want = _call_symbolically(keras, keras_fn, arity, name)
    want_specs = [(tuple(t.shape), t.dtype) for t in keras.tree.flatten(want)]
    want_op = keras.tree.flatten(want)[0]._keras_history.operation
    if DIFFERENT.get(name) == "error":
        with pytest.raises(Exception, match=f"'{name}"):
            _call_symbolically(lamina, getattr(lamina.ops, name), arity, name)
        return
    got = _call_symbolically(lamina, getattr(lamina.ops, name), arity, name)
    got_specs = [(t.shape, t.dtype) for t in keras.tree.flatten(got)]
    if DIFFERENT.get(name) == "shape":
        assert got_specs != want_specs
        return
    assert got_specs == want_specs
    got_op = keras.tree.flatten(got)[0]._keras_history.layer
    assert type(got_op).__name__ == type(want_op).__name__
    assert type(got_op)._keras_module == type(want_op).__module__
    without_name = lambda config: {k: v for k, v in config.items() if k != "name"}  # noqa: E731
    assert without_name(got_op.get_config()) == without_name(want_op.get_config())


def _kernel(lib, shape):
    return lib.ops.convert_to_tensor(np.full(shape, 0.1, dtype="float32"))


# Ops taking more than tensors, each called as Keras code calls it.
CALLS = {
    "arange": lambda k, x: k.ops.arange(0, 6, 2, dtype="float32") + x[:, 0, :3],
    "broadcast_to": lambda k, x: k.ops.broadcast_to(x[:1, :1], (2, 3, 4)),
    "cast": lambda k, x: k.ops.cast(x, np.int32),
    "clip": lambda k, x: k.ops.clip(x, -1, 1),
    "conv": lambda k, x: k.ops.conv(x, _kernel(k, (2, 4, 5)), padding="SAME"),
    "depthwise_conv": lambda k, x: k.ops.depthwise_conv(x, _kernel(k, (2, 4, 1))),
    "expand_dims": lambda k, x: k.ops.expand_dims(x, axis=(1, -1)),
    "max_pool": lambda k, x: k.ops.max_pool(x, 2, padding="Valid"),
    "average_pool": lambda k, x: k.ops.average_pool(x, 2, strides=1),
    "moments": lambda k, x: k.ops.moments(x, axes=[1], keepdims=True),
    "moveaxis": lambda k, x: k.ops.moveaxis(x, 1, -1),
    "one_hot": lambda k, x: k.ops.one_hot(k.ops.argmax(x, axis=-1), 5),
    "repeat": lambda k, x: k.ops.repeat(x, 2, axis=1),
    "reshape": lambda k, x: k.ops.reshape(x, (-1, 2, 6)),
    "roll": lambda k, x: k.ops.roll(x, shift=1, axis=2),
    "swapaxes": lambda k, x: k.ops.swapaxes(x, 1, 2),
    "take_along_axis": lambda k, x: k.ops.take_along_axis(
        x, k.ops.argsort(x, axis=-1), axis=-1
    ),
    "tile": lambda k, x: k.ops.tile(x, (1, 2, 1)),
    "top_k": lambda k, x: k.ops.top_k(x, k=2),
    "split": lambda k, x: k.ops.split(x, [1, 3], axis=-1),
    "stack": lambda k, x: k.ops.stack([x, x], axis=1),
    "matmul": lambda k, x: k.ops.matmul(x, k.ops.transpose(x, (0, 2, 1))),
    "full_like": lambda k, x: k.ops.full_like(x, 2.0, dtype="int32"),
    "segment_sum": lambda k, x: k.ops.segment_sum(x[0], np.array([0, 0, 1]), 2),
    "dot_product_attention": lambda k, x: k.ops.dot_product_attention(
        x[:, :, None], x[:, :, None], x[:, :, None], is_causal=True
    ),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_op_with_arguments_matches_keras(name):
    call = CALLS[name]
    want = call(keras, keras.Input((3, 4), batch_size=2))
    got = call(lamina, lamina.Input((3, 4), batch_size=2))
    want_flat, got_flat = keras.tree.flatten(want), keras.tree.flatten(got)
    assert [(t.shape, t.dtype) for t in got_flat] == [
        (tuple(t.shape), t.dtype) for t in want_flat
    ]
    want_op = want_flat[0]._keras_history.operation
    got_op = got_flat[0]._keras_history.layer
    without_name = lambda config: {k: v for k, v in config.items() if k != "name"}  # noqa: E731
    assert json.loads(json.dumps(without_name(got_op.get_config()))) == json.loads(
        json.dumps(without_name(want_op.get_config()))
    )

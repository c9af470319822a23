"""Sequential, functional and subclassed models, against Keras 3 where it can judge."""

import json

import keras
import numpy as np
import pytest
import torch

import lamina
from lamina import layers


def _graph(lib, names=True):
    """The same branching graph in lamina or Keras: shared layer, two inputs and
    two outputs, a nested model."""
    ls = lib.layers
    a = lib.Input((4,), name="a")
    b = lib.Input((4,), name="b")
    shared = ls.Dense(5, activation="tanh", name="shared")
    inner_in = lib.Input((5,), name="inner_in")
    inner = lib.Model(inner_in, ls.Dense(3, name="inner_dense")(inner_in), name="inner")
    ha, hb = shared(a), shared(b)
    merged = ls.Lambda(lambda t: t[0] - t[1], name="diff")([ha, hb])
    out1 = inner(merged)
    out2 = ls.Dense(2, name="head")(ha)
    return lib.Model([a, b], [out1, out2], name="graph")


def test_documented_shape_examples():
    model = lamina.Sequential([layers.Permute((2, 1), input_shape=(10, 64))])
    assert model.output_shape == (None, 64, 10)
    model = lamina.Sequential([layers.Dense(32, input_dim=32), layers.RepeatVector(3)])
    assert model.output_shape == (None, 3, 32)
    model = lamina.Sequential()
    model.add(layers.Reshape((3, 4), input_shape=(12,)))
    assert model.output_shape == (None, 3, 4)
    model.add(layers.Reshape((6, 2)))
    assert model.output_shape == (None, 6, 2)
    model.add(layers.Reshape((-1, 2, 2)))
    assert model.output_shape == (None, 3, 2, 2)


def test_functional_graph_matches_keras():
    ours, theirs = _graph(lamina), _graph(keras)
    assert [layer.name for layer in ours.layers] == [
        layer.name for layer in theirs.layers
    ]
    assert [w.name for w in ours.weights] == [w.name for w in theirs.weights]
    assert [tuple(w.shape) for w in ours.weights] == [
        tuple(w.shape) for w in theirs.weights
    ]
    ours.set_weights(theirs.get_weights())
    rng = np.random.default_rng(0)
    x = [rng.standard_normal((7, 4)).astype("float32") for _ in range(2)]
    for got, want in zip(ours.predict(x, batch_size=3), theirs.predict(x, verbose=0)):
        np.testing.assert_allclose(got, want, atol=1e-5)
    assert ours.count_params() == theirs.count_params()
    assert [t.shape for t in ours.outputs] == [tuple(t.shape) for t in theirs.outputs]


def test_functional_config_round_trip_and_cross_loading():
    ours, theirs = _graph(lamina), _graph(keras)
    ours.set_weights(theirs.get_weights())
    assert [entry["name"] for entry in ours.get_config()["layers"]] == [
        entry["name"] for entry in theirs.get_config()["layers"]
    ]
    a = lamina.Input((4,), name="x")
    h = layers.Dense(3, name="h")(a)
    o = layers.Dense(2, name="o")(layers.Dropout(0.1, name="drop")(h))
    model = lamina.Model(a, o, name="small")
    config = json.loads(json.dumps(model.get_config()))
    again = lamina.Model.from_config(config)
    assert [layer.name for layer in again.layers] == ["x", "h", "drop", "o"]
    keras_model = keras.Model.from_config(config)
    keras_model.set_weights(model.get_weights())
    x = np.random.default_rng(1).standard_normal((5, 4)).astype("float32")
    np.testing.assert_allclose(
        model.predict(x), keras_model.predict(x, verbose=0), atol=1e-5
    )
    from_keras = lamina.Model.from_config(
        json.loads(json.dumps(keras_model.get_config()))
    )
    from_keras.set_weights(keras_model.get_weights())
    np.testing.assert_allclose(from_keras.predict(x), model.predict(x), atol=1e-6)


def test_sequential_config_cross_loads_with_keras():
    model = lamina.Sequential(
        [lamina.Input((6,)), layers.Dense(4, activation="relu"), layers.Dense(1)],
        name="seq",
    )
    config = json.loads(json.dumps(model.get_config()))
    theirs = keras.Sequential.from_config(config)
    theirs.set_weights(model.get_weights())
    x = np.random.default_rng(2).standard_normal((3, 6)).astype("float32")
    np.testing.assert_allclose(
        model.predict(x), theirs.predict(x, verbose=0), atol=1e-5
    )
    back = lamina.Sequential.from_config(json.loads(json.dumps(theirs.get_config())))
    assert back.output_shape == (None, 1) and len(back.layers) == 2


def test_sequential_deferred_build_add_pop():
    model = lamina.Sequential([layers.Dense(4), layers.Dense(2)])
    with pytest.raises(ValueError, match=r"has no defined output yet"):
        _ = model.output
    out = model(np.ones((3, 5), dtype="float32"))
    assert tuple(out.shape) == (3, 2) and model.input_shape == (None, 5)
    popped = model.pop()
    assert popped.name.startswith("dense") and model.output_shape == (None, 4)
    model.add(layers.Dense(7))
    assert model.output_shape == (None, 7)
    assert tuple(model(np.ones((1, 5))).shape) == (1, 7)


def test_sequential_build_and_errors():
    model = lamina.Sequential([layers.Dense(3)])
    model.build((None, 8))
    assert model.count_params() == 27
    with pytest.raises(TypeError, match=r"add\(\) expects a Layer instance; got int"):
        model.add(3)
    with pytest.raises(
        ValueError, match=r"all layers need unique names; 'x' is already"
    ):
        lamina.Sequential([layers.Dense(1, name="x"), layers.Dense(1, name="x")])


def test_sequential_with_input_and_batch_input_shape():
    model = lamina.Sequential([lamina.Input((3,)), layers.Dense(2)])
    assert model.input_shape == (None, 3)
    model = lamina.Sequential([layers.Dense(2, batch_input_shape=(8, 3))])
    assert model.input_shape == (8, 3) and model.output_shape == (8, 2)


def test_nested_models_and_model_as_layer():
    inner = lamina.Sequential([layers.Dense(3, input_shape=(4,))])
    x = lamina.Input((4,))
    outer = lamina.Model(x, layers.Dense(1)(inner(x)))
    assert outer.output_shape == (None, 1)
    assert inner.get_input_shape_at(0) == (None, 4)  # node 0: its own graph
    assert inner.get_output_shape_at(1) == (None, 3)  # node 1: the call in `outer`
    out = outer(torch.ones(2, 4))
    assert tuple(out.shape) == (2, 1)
    assert len(outer.weights) == 4


def test_subclassed_model():
    class MLP(lamina.Model):
        def __init__(self):
            super().__init__(name="mlp")
            self.hidden = layers.Dense(8, activation="relu")
            self.blocks = [layers.Dense(8), layers.Dense(8)]
            self.out = layers.Dense(2)

        def call(self, x):
            x = self.hidden(x)
            for block in self.blocks:
                x = block(x)
            return self.out(x)

    model = MLP()
    y = model.predict(np.ones((5, 3), dtype="float32"))
    assert y.shape == (5, 2)
    assert len(model.weights) == 8  # list-held layers are tracked
    assert len(list(model.parameters())) == 8
    assert [layer.name for layer in model.layers][0].startswith("dense")


def test_functional_subclass_with_inputs_and_outputs():
    class Wrapped(lamina.Model):
        def __init__(self):
            x = lamina.Input((3,))
            super().__init__(inputs=x, outputs=layers.Dense(2)(x))

        def describe(self):
            return "wrapped"

    model = Wrapped()
    assert model.describe() == "wrapped" and model.output_shape == (None, 2)
    assert isinstance(model, lamina.models.Functional)
    assert tuple(model(torch.ones(4, 3)).shape) == (4, 2)


def test_get_layer_by_name_and_index():
    model = _graph(lamina)
    assert model.get_layer("head").name == "head"
    assert model.get_layer(index=0).name == "a"
    with pytest.raises(ValueError, match=r"no layer named 'nope'"):
        model.get_layer("nope")
    with pytest.raises(ValueError, match=r"`index` must be in \[0, 5\]"):
        model.get_layer(index=99)


def test_model_input_properties():
    model = _graph(lamina)
    assert [t.shape for t in model.input] == [(None, 4), (None, 4)]
    assert model.input_shape == [(None, 4), (None, 4)]
    assert model.output_shape == [(None, 3), (None, 2)]


def test_graph_errors():
    a, b = lamina.Input((2,)), lamina.Input((2,))
    y = layers.Dense(1)(b)
    with pytest.raises(ValueError, match=r"Graph disconnected"):
        lamina.Model(a, y)
    with pytest.raises(TypeError, match=r"inputs and outputs must be KerasTensors"):
        lamina.Model(a, torch.ones(1))


def test_masks_flow_through_models():
    class Count(layers.Layer):
        def __init__(self):
            super().__init__()
            self.supports_masking = True

        def call(self, x, mask=None):
            return mask.sum(dim=1, keepdim=True).to(x.dtype)

        def compute_mask(self, inputs, previous_mask=None):
            return None

    x = np.zeros((2, 4, 3), "float32")
    x[0, :2] = 1.0
    x[1, :3] = 1.0
    seq = lamina.Sequential([lamina.Input((4, 3)), layers.Masking(), Count()])
    np.testing.assert_array_equal(seq.predict(x), [[2.0], [3.0]])
    inp = lamina.Input((4, 3))
    fun = lamina.Model(inp, Count()(layers.Masking()(inp)))
    np.testing.assert_array_equal(fun.predict(x), [[2.0], [3.0]])


def test_an_explicit_mask_does_not_stay_on_the_callers_tensor():
    class Count(layers.Layer):
        def __init__(self):
            super().__init__()
            self.supports_masking = True

        def call(self, x, mask=None):
            if mask is None:
                return x.sum(dim=(1, 2))
            return mask.sum(dim=1).to(x.dtype)

    seq = lamina.Sequential([lamina.Input((4, 3)), Count()])
    x = torch.ones(2, 4, 3)
    mask = torch.tensor([[True, True, False, False], [True, False, False, False]])
    np.testing.assert_array_equal(seq(x, mask=mask).numpy(), [2.0, 1.0])
    assert getattr(x, "_keras_mask", None) is None
    np.testing.assert_array_equal(seq(x).numpy(), [12.0, 12.0])


def test_predict_batches_and_returns_numpy():
    model = lamina.Sequential([layers.Dense(2, input_shape=(3,))])
    x = np.random.default_rng(3).standard_normal((70, 3)).astype("float32")
    full = model.predict(x, batch_size=100)
    batched = model.predict(x, batch_size=8)
    assert isinstance(batched, np.ndarray) and batched.shape == (70, 2)
    np.testing.assert_allclose(full, batched, atol=1e-6)


def test_summary_matches_keras_totals(capsys):
    ours = lamina.Sequential([layers.Dense(64, input_shape=(32,)), layers.Dense(10)])
    theirs = keras.Sequential(
        [keras.Input((32,)), keras.layers.Dense(64), keras.layers.Dense(10)]
    )
    lines = []
    ours.summary(print_fn=lines.append)
    text = "\n".join(lines)
    keras_lines = []
    theirs.summary(print_fn=lambda line, line_break=True: keras_lines.append(line))
    keras_text = "\n".join(keras_lines)
    for total in (
        "Total params: 2,762 (10.79 KB)",
        "Trainable params: 2,762 (10.79 KB)",
        "Non-trainable params: 0 (0.00 B)",
    ):
        assert total in text and total in keras_text
    assert "(None, 64)" in text and "(Dense)" in text and "Layer (type)" in text
    functional = _graph(lamina)
    functional.summary(print_fn=lines.append)
    assert "Connected to" in lines[-1] and "a[0][0], b[0][0]" in lines[-1]


def test_antirectifier_keras3_subclass_example():
    """keras.io's Antirectifier layer, written with keras.ops, runs unchanged."""
    ops = lamina.ops

    class Antirectifier(layers.Layer):
        def __init__(self, initializer="he_normal", **kwargs):
            super().__init__(**kwargs)
            self.initializer = lamina.initializers.get(initializer)

        def build(self, input_shape):
            output_dim = input_shape[-1]
            self.kernel = self.add_weight(
                shape=(output_dim * 2, output_dim),
                initializer=self.initializer,
                name="kernel",
                trainable=True,
            )

        def call(self, inputs):
            inputs -= ops.mean(inputs, axis=-1, keepdims=True)
            pos = ops.relu(inputs)
            neg = ops.relu(-inputs)
            concatenated = ops.concatenate([pos, neg], axis=-1)
            return ops.matmul(concatenated, self.kernel)

        def get_config(self):
            base_config = super().get_config()
            config = {"initializer": lamina.initializers.serialize(self.initializer)}
            return dict(list(base_config.items()) + list(config.items()))

    model = lamina.Sequential(
        [lamina.Input((6,)), layers.Dense(6), Antirectifier(), layers.Dense(2)]
    )
    x = np.random.default_rng(4).standard_normal((5, 6)).astype("float32")
    assert model.predict(x).shape == (5, 2)
    assert model.layers[1].get_config()["initializer"]["class_name"] == "HeNormal"

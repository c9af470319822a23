"""The Layer contract: naming, build, weights, training flag, masks, losses, dtypes,
shape inference, configs and nodes."""

import copy

import numpy as np
import pytest
import torch

import lamina
from lamina import layers
from lamina.utils import naming


class Scale(layers.Layer):
    """A custom layer written the Keras way."""

    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")
        self.count = self.add_weight(
            shape=(), initializer="zeros", trainable=False, name="count"
        )

    def call(self, inputs):
        return inputs * self.w * self.factor


def test_auto_names_are_unique_and_keras_style():
    naming.reset_uids()
    assert [layers.Dense(1).name for _ in range(3)] == ["dense", "dense_1", "dense_2"]
    assert layers.SpatialDropout2D(0.1).name == "spatial_dropout2d"
    assert layers.ActivityRegularization().name == "activity_regularization"
    assert layers.Dense(1, name="head").name == "head"


def test_build_on_first_call_creates_keras_layout_weights():
    layer = layers.Dense(3)
    assert not layer.built and layer.weights == []
    out = layer(np.ones((2, 5), dtype="float32"))
    assert layer.built and tuple(out.shape) == (2, 3)
    assert [(w.name, tuple(w.shape)) for w in layer.weights] == [
        ("kernel", (5, 3)),
        ("bias", (3,)),
    ]
    assert layer.kernel.path == f"{layer.name}/kernel"
    assert isinstance(layer.kernel, torch.nn.Parameter)
    assert {n for n, _ in layer.named_parameters()} == {"kernel", "bias"}
    assert np.all(layer.get_weights()[1] == 0)  # Keras default: zero bias


def test_numpy_float64_input_is_cast_to_the_compute_dtype():
    out = layers.Dense(2)(np.ones((1, 3)))
    assert out.dtype == torch.float32


def test_weight_order_trainable_then_non_trainable_then_sublayers():
    class Outer(layers.Layer):
        def __init__(self):
            super().__init__()
            self.inner = layers.Dense(2)

        def build(self, input_shape):
            self.frozen = self.add_weight(shape=(1,), trainable=False, name="frozen")
            self.own = self.add_weight(shape=(1,), name="own")

        def call(self, x):
            return self.inner(x) + self.own + self.frozen

    layer = Outer()
    layer(torch.ones(1, 3))
    assert [w.name for w in layer.weights] == ["own", "frozen", "kernel", "bias"]
    assert [w.name for w in layer.trainable_weights] == ["own", "kernel", "bias"]
    assert [w.name for w in layer.non_trainable_weights] == ["frozen"]


def test_set_weights_errors_name_layer_weight_and_shapes():
    layer = layers.Dense(3, name="d")
    layer(torch.ones(1, 4))
    with pytest.raises(
        ValueError,
        match=r"Dense 'd': set_weights expected a list of 2 "
        r"arrays \(kernel, bias\), got 1 arrays\.",
    ):
        layer.set_weights([np.zeros((4, 3))])
    before = layer.get_weights()
    with pytest.raises(
        ValueError,
        match=r"Dense 'd': weight 'd/bias' has shape \(3,\), "
        r"but set_weights was given an array of shape \(4,\)\.",
    ):
        layer.set_weights([np.ones((4, 3)), np.ones(4)])
    # Nothing was half-written.
    np.testing.assert_array_equal(layer.get_weights()[0], before[0])


def test_get_weights_returns_copies():
    layer = layers.Dense(2)
    layer(torch.ones(1, 2))
    snapshot = layer.get_weights()
    with torch.no_grad():
        layer.kernel.add_(1.0)
    assert not np.allclose(snapshot[0], layer.get_weights()[0])


def test_count_params_needs_a_built_layer():
    with pytest.raises(
        ValueError,
        match=r"Dense 'dense\w*': count_params\(\) needs the "
        r"layer built",
    ):
        layers.Dense(2).count_params()


def test_trainable_freezes_and_restores_requires_grad():
    layer = Scale()
    layer(torch.ones(2, 3))
    layer.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 2
    assert not layer.w.requires_grad
    layer.trainable = True
    assert layer.w.requires_grad and not layer.count.requires_grad
    assert [w.name for w in layer.trainable_weights] == ["w"]


def test_keras2_add_weight_positional_name():
    class Old(layers.Layer):
        def build(self, input_shape):
            self.k = self.add_weight("k", (input_shape[-1], 2))

        def call(self, x):
            return x @ self.k

    layer = Old()
    layer(torch.ones(1, 3))
    assert layer.k.name == "k" and tuple(layer.k.shape) == (3, 2)


def test_manual_build_marks_built_once():
    layer = Scale()
    layer.build((None, 4))
    assert layer.built
    layer(torch.ones(2, 4))
    assert len(layer.weights) == 2  # not rebuilt on call


def test_initial_weights_argument_is_applied_after_build():
    kernel, bias = np.full((2, 3), 0.5, "float32"), np.arange(3, dtype="float32")
    layer = layers.Dense(3, weights=[kernel, bias])
    out = layer(torch.ones(1, 2))
    np.testing.assert_allclose(out.detach().numpy(), [[1.0, 2.0, 3.0]])


# ------------------------------------------------------------------ training flag
class Noisy(layers.Layer):
    def __init__(self):
        super().__init__()
        self.drop = layers.Dropout(0.5)
        self.seen = []

    def call(self, x, training=None):
        self.seen.append(training)
        return self.drop(x)


def test_training_flag_is_passed_down_to_sublayers():
    layer = Noisy()
    x = torch.ones(64, 64)
    assert torch.equal(layer(x), x)  # Keras default: inference
    out = layer(x, training=True)
    assert (out == 0).any() and layer.seen == [False, True]


def test_torch_train_mode_is_the_default_training_flag():
    layer = Noisy()
    x = torch.ones(64, 64)
    layer.train()
    assert (layer(x) == 0).any()
    assert torch.equal(layer(x, training=False), x)
    layer.eval()
    assert torch.equal(layer(x), x)


# ------------------------------------------------------------------------ masks
class MaskEcho(layers.Layer):
    def __init__(self):
        super().__init__()
        self.supports_masking = True
        self.received = None

    def call(self, x, mask=None):
        self.received = mask
        return x


def test_mask_flows_from_masking_to_a_layer_that_takes_it():
    x = torch.tensor([[[1.0], [0.0], [2.0]]])
    echo = MaskEcho()
    out = echo(layers.Masking()(x))
    assert echo.received.tolist() == [[True, False, True]]
    assert out._keras_mask.tolist() == [[True, False, True]]


def test_layer_without_mask_support_refuses_a_mask_instead_of_dropping_it():
    masked = layers.Masking()(torch.tensor([[[1.0], [0.0]]]))
    with pytest.raises(
        ValueError,
        match=r"Reshape 'reshape\w*' received a mask from "
        r"an upstream layer .* does not support masking",
    ):
        layers.Reshape((2,))(masked)
    with pytest.raises(ValueError, match=r"Lambda\(lambda x: x\)"):  # at graph build
        layers.Flatten()(layers.Masking()(lamina.Input((2, 1))))
    # The remedy the message names: a Lambda drops the mask explicitly.
    unmasked = layers.Lambda(lambda x: x)(masked)
    assert getattr(unmasked, "_keras_mask", None) is None
    assert tuple(layers.Reshape((2,))(unmasked).shape) == (1, 2)


# ----------------------------------------------------------------------- losses
def test_activity_regularizer_and_add_loss_reset_each_call():
    layer = layers.Dense(2, activity_regularizer="l2", kernel_regularizer="l1")
    x = torch.ones(4, 3)
    layer(x)
    assert len(layer.losses) == 2
    layer(x)
    assert len(layer.losses) == 2  # the activity loss of the last call only
    expected_activity = 0.01 * (layer(x) ** 2).sum() / 4
    torch.testing.assert_close(layer.losses[0], expected_activity)


def test_symbolic_calls_add_no_losses():
    layer = layers.ActivityRegularization(l1=0.1)
    layer(lamina.Input((3,)))
    assert layer.losses == []


# ----------------------------------------------------------------------- dtypes
def test_dtype_policy_float64():
    layer = layers.Dense(2, dtype="float64")
    out = layer(torch.ones(1, 3))
    assert layer.kernel.dtype == torch.float64 and out.dtype == torch.float64
    assert layer.dtype == "float64" and layer.compute_dtype == "float64"


def test_mixed_bfloat16_keeps_float32_weights_and_computes_in_bf16():
    layer = layers.Dense(4, dtype="mixed_bfloat16")
    out = layer(torch.ones(2, 3))
    assert layer.kernel.dtype == torch.float32
    assert out.dtype == torch.bfloat16
    assert layer.dtype_policy.name == "mixed_bfloat16"


def test_floatx_sets_the_weight_dtype():
    lamina.config.set_floatx("float64")
    try:
        layer = layers.Dense(2)
        layer(torch.ones(1, 2, dtype=torch.float64))
        assert layer.kernel.dtype == torch.float64
    finally:
        lamina.config.set_floatx("float32")


# --------------------------------------------------------------- shape inference
def test_compute_output_shape_runs_call_on_fake_tensors():
    class Halve(layers.Layer):
        def call(self, x):
            return x[:, ::2] * 2

    assert Halve().compute_output_shape((None, 10, 3)) == (None, 5, 3)
    assert Halve().compute_output_shape((None, None, 3)) == (None, None, 3)


def test_symbolic_call_reports_dtype():
    out = layers.Lambda(lambda x: x > 0)(lamina.Input((3,)))
    assert out.dtype == "bool" and out.shape == (None, 3)


def test_data_dependent_shape_falls_back_to_real_tensors():
    class Nonzero(layers.Layer):
        def call(self, x):
            return x[x.sum(dim=1) >= 0]  # all rows of zeros: keeps every row

    out = Nonzero()(lamina.Input((4,)))
    assert out.shape == (None, 4)


# ----------------------------------------------------------------------- config
def test_custom_layer_without_get_config_gets_its_arguments():
    config = Scale(factor=3.0, name="scale_a").get_config()
    assert config["factor"] == 3.0 and config["name"] == "scale_a"
    assert Scale.from_config(config).factor == 3.0


def test_unknown_constructor_argument_is_rejected():
    with pytest.raises(
        ValueError,
        match=r"Dense: unrecognized keyword argument\(s\) "
        r"\['units_'\]",
    ):
        layers.Dense(2, units_=3)


# ------------------------------------------------------------------------ nodes
def test_shared_layer_node_api():
    a, b = lamina.Input((4,)), lamina.Input((6, 4))
    shared = layers.Dense(3)
    out_a, out_b = shared(a), shared(b)
    assert shared.get_input_shape_at(0) == (None, 4)
    assert shared.get_input_shape_at(1) == (None, 6, 4)
    assert shared.get_output_shape_at(1) == (None, 6, 3)
    assert shared.get_input_at(0) is a and shared.get_output_at(1) is out_b
    for prop in ("input", "output", "input_shape", "output_shape"):
        with pytest.raises(ValueError, match=r"Use `get_\w+_at\(node_index\)` instead"):
            getattr(shared, prop)
    with pytest.raises(ValueError, match=r"`node_index` must be in \[0, 1\]"):
        shared.get_input_at(2)
    assert out_a.shape == (None, 3)


def test_same_shape_nodes_answer_input_shape():
    shared = layers.Dense(3)
    shared(lamina.Input((4,)))
    shared(lamina.Input((4,)))
    assert shared.input_shape == (None, 4) and shared.output_shape == (None, 3)


def test_uncalled_layer_has_no_input():
    with pytest.raises(ValueError, match=r"has never been called on a symbolic input"):
        _ = layers.Dense(2).input


def test_single_call_node_api():
    x = lamina.Input((5,))
    dense = layers.Dense(2)
    y = dense(x)
    assert dense.input is x and dense.output is y
    assert dense.input_shape == (None, 5) and dense.output_shape == (None, 2)


# ------------------------------------------------------------------- torch interop
def test_layers_are_plain_torch_modules():
    model = lamina.Sequential(
        [
            layers.Dense(8, activation="relu", input_shape=(4,), name="a"),
            layers.Dense(2, name="b"),
        ]
    )
    state = model.state_dict()
    assert list(state) == ["a.kernel", "a.bias", "b.kernel", "b.bias"]
    clone = copy.deepcopy(model)
    x = torch.randn(3, 4)
    torch.testing.assert_close(clone(x), model(x))
    assert clone.layers[0].kernel.name == "kernel"
    model.to(torch.float64)
    assert model.layers[0].kernel.dtype == torch.float64
    assert isinstance(model.layers[0].kernel, lamina.Variable)


def test_torch_compile_fullgraph():
    model = lamina.Sequential(
        [
            layers.Dense(8, activation="relu", input_shape=(4,)),
            layers.Dropout(0.2),
            layers.Dense(2),
        ]
    )
    compiled = torch.compile(model, fullgraph=True)
    x = torch.randn(3, 4)
    torch.testing.assert_close(compiled(x), model(x))


def test_forward_hooks_still_fire():
    layer = layers.Dense(2)
    seen = []
    layer.register_forward_hook(lambda module, args, out: seen.append(out.shape))
    layer(torch.ones(1, 3))
    assert seen == [torch.Size([1, 2])]


def test_symbolic_shape_with_a_window_longer_than_the_stand_in_size():
    layer = layers.Lambda(lambda x: x[:, 70:])  # needs more than 70 steps
    assert layer(lamina.Input((None, 3))).shape == (None, None, 3)
    pool = layers.MaxPooling1D(pool_size=64)
    assert pool(lamina.Input((None, 3))).shape == (None, None, 3)


# ------------------------------------------------- inputs as Keras users pass them
def _same_weights(ours, theirs):
    ours.set_weights([np.asarray(w.numpy()) for w in theirs.weights])


@pytest.mark.parametrize(
    "make, x",
    [
        # keras.io's addition-RNN example feeds one-hot rows as dtype=bool
        (
            lambda m: m.LSTM(4),
            np.eye(3, dtype=bool)[[0, 2, 1, 1, 0]][None].repeat(2, 0),
        ),
        (lambda m: m.Dense(3), np.arange(6).reshape(2, 3)),
        (lambda m: m.GRU(2), np.arange(12, dtype="int32").reshape(2, 3, 2) % 2 == 0),
    ],
    ids=["lstm-bool", "dense-int64", "gru-bool"],
)
def test_bool_and_integer_inputs_compute_in_float_as_in_keras(make, x):
    import keras

    theirs, ours = make(keras.layers), make(layers)
    expected = keras.ops.convert_to_numpy(theirs(x))
    ours(x)
    _same_weights(ours, theirs)
    actual = ours(x)
    assert actual.dtype == torch.float32
    np.testing.assert_allclose(actual.detach().numpy(), expected, atol=1e-5)


def test_integer_inputs_to_convolutions_compute_in_float():
    # Keras's torch backend fails here (torch's conv refuses int32 inputs);
    # lamina promotes them as for every layer with floating-point weights.
    x = np.arange(12, dtype="int32").reshape(2, 3, 2)
    conv = layers.Conv1D(2, 2)
    np.testing.assert_allclose(
        conv(x).detach().numpy(), conv(x.astype("float32")).detach().numpy()
    )


def test_layers_without_float_weights_keep_integer_dtypes_as_in_keras():
    import keras

    for dtype in ("int32", "int64"):
        x = np.arange(6, dtype=dtype).reshape(2, 3)
        ours = layers.Reshape((3, 1))(x)
        theirs = keras.layers.Reshape((3, 1))(x)
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    ids = np.array([[1, 2, 0]])
    assert layers.Embedding(4, 2)(ids).dtype == torch.float32  # indices, not values


def test_a_sequential_model_fed_bool_arrays_trains():
    x = np.zeros((8, 5, 12), dtype=bool)
    x[:, :, 3] = True
    y = np.zeros((8, 4, 12), dtype=bool)
    y[:, :, 1] = True
    model = lamina.Sequential(
        [
            lamina.Input((5, 12)),
            layers.LSTM(8),
            layers.RepeatVector(4),
            layers.LSTM(8, return_sequences=True),
            layers.Dense(12, activation="softmax"),
        ]
    )
    model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert model.predict(x, verbose=0).shape == (8, 4, 12)


def test_compute_mask_accepts_numpy_like_keras():
    import keras

    x = np.array([[[0.0, 0.0], [1.0, 0.0]], [[2.0, 2.0], [0.0, 0.0]]])
    ours = layers.Masking().compute_mask(x)
    theirs = keras.layers.Masking().compute_mask(x)
    np.testing.assert_array_equal(ours.numpy(), keras.ops.convert_to_numpy(theirs))
    ids = np.array([[0, 3, 1]])
    ours = layers.Embedding(4, 2, mask_zero=True).compute_mask(ids)
    theirs = keras.layers.Embedding(4, 2, mask_zero=True).compute_mask(ids)
    np.testing.assert_array_equal(ours.numpy(), keras.ops.convert_to_numpy(theirs))
    rnn = layers.LSTM(2, return_sequences=True)
    mask = rnn.compute_mask(np.ones((1, 3, 2)), np.array([[True, False, True]]))
    np.testing.assert_array_equal(mask.numpy(), [[True, False, True]])


def test_every_public_submodule_is_an_attribute_right_after_import():
    import subprocess
    import sys

    code = (
        "import lamina as keras\n"
        "keras.backend.clear_session()\n"
        "for name in ('activations', 'backend', 'callbacks', 'config', 'constraints',"
        " 'datasets', 'dtype_policies', 'initializers', 'layers', 'losses', 'metrics',"
        " 'mixed_precision', 'models', 'ops', 'optimizers', 'random', 'regularizers',"
        " 'saving', 'utils'):\n"
        "    assert hasattr(keras, name), name\n"
        "print(keras.version())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == lamina.__version__


def test_the_first_call_argument_may_be_given_by_its_own_name():
    """`layer(query=q, value=v)`: Keras accepts the first argument of `call` by name
    (attention layers are called this way)."""
    import keras

    def make(base):
        class Gate(base):
            def call(self, query, value):
                return query * value

        return Gate()

    q, v = np.ones((2, 3), "float32"), np.full((2, 3), 3.0, "float32")
    ours = make(layers.Layer)(query=torch.as_tensor(q), value=torch.as_tensor(v))
    theirs = make(keras.layers.Layer)(query=q, value=v)
    np.testing.assert_allclose(ours.numpy(), keras.ops.convert_to_numpy(theirs))
    symbolic = make(layers.Layer)(query=lamina.Input((3,)), value=lamina.Input((3,)))
    assert symbolic.shape == (None, 3)
    with pytest.raises(TypeError, match="called without inputs"):
        make(layers.Layer)(value=torch.as_tensor(v))

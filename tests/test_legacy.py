"""Keras 1/2 assets: tf.keras ``.h5`` files (made by tests/fixtures/
make_legacy_fixtures.py) and Keras 1 spellings in code."""

import json
import pathlib
import warnings

import numpy as np
import pytest

import lamina

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
EXPECTED = np.load(FIXTURES / "expected.npz")


def _expected(name):
    xs = [EXPECTED[k] for k in sorted(EXPECTED.files) if k.startswith(f"{name}_x")]
    ys = [EXPECTED[k] for k in sorted(EXPECTED.files) if k.startswith(f"{name}_y")]
    return xs, ys


def _check_predictions(model, name, atol=1e-5, rtol=1e-5):
    xs, ys = _expected(name)
    got = model.predict(xs if len(xs) > 1 else xs[0])
    got = got if isinstance(got, list) else [got]
    assert len(got) == len(ys)
    for g, y in zip(got, ys):
        np.testing.assert_allclose(g, y, atol=atol, rtol=rtol)


@pytest.mark.parametrize(
    "name, fixture",
    [
        ("mlp", "keras2_mlp.h5"),
        ("functional", "keras2_functional.h5"),
        ("cnn", "keras2_cnn.h5"),
        ("rnn", "keras2_rnn.h5"),
        ("cudnn", "cudnn.h5"),
        ("local", "keras2_local.h5"),
        ("tfk", "tf_keras_mlp.keras"),
    ],
)
def test_tf_keras_files_load_with_equal_predictions(name, fixture):
    model = lamina.models.load_model(FIXTURES / fixture, compile=False)
    _check_predictions(model, name)


# ------------------------------------------------------------ weights files
def _mlp(lib=lamina, names=("dense", "dense_1")):
    return lib.Sequential(
        [
            lib.Input((6,)),
            lib.layers.Dense(8, activation="relu", name=names[0]),
            lib.layers.Dropout(0.25),
            lib.layers.Dense(3, activation="softmax", name=names[1]),
        ]
    )


def test_keras2_weights_file_by_order_and_by_name():
    model = _mlp(names=("first", "second"))  # other names: matched by order
    model.load_weights(FIXTURES / "keras2_mlp_weights.h5")
    _check_predictions(model, "mlp")
    renamed = _mlp(names=("first", "dense_1"))
    before = renamed.get_weights()
    renamed.load_weights(FIXTURES / "keras2_mlp_weights.h5", by_name=True)
    after = renamed.get_weights()
    np.testing.assert_array_equal(after[0], before[0])  # 'first' is not in the file
    assert not np.array_equal(after[2], before[2])  # 'dense_1' is


def test_keras2_weights_that_do_not_fit():
    wrong = lamina.Sequential(
        [lamina.Input((6,)), lamina.layers.Dense(5), lamina.layers.Dense(3)]
    )
    with pytest.raises(
        ValueError, match=r"Dense 'dense.*\(6, 5\) in the model but \(6, 8\)"
    ):
        wrong.load_weights(FIXTURES / "keras2_mlp_weights.h5")
    with pytest.warns(UserWarning, match="Skipped loading"):
        wrong.load_weights(FIXTURES / "keras2_mlp_weights.h5", skip_mismatch=True)
    short = lamina.Sequential([lamina.Input((6,)), lamina.layers.Dense(8)])
    with pytest.raises(ValueError, match=r"1 layers with weights .* the file 2"):
        short.load_weights(FIXTURES / "keras2_mlp_weights.h5")


def test_keras2_model_file_restores_its_compile_settings():
    with pytest.warns(UserWarning, match="optimizer state .* not restored"):
        model = lamina.models.load_model(FIXTURES / "keras2_mlp.h5")
    assert model.compiled and type(model.optimizer).__name__ == "Adam"
    assert model.optimizer.learning_rate == pytest.approx(0.01)
    xs, ys = _expected("mlp")
    model.fit(xs[0], ys[0], epochs=1, verbose=0)


def test_h5_written_by_lamina_loads_back_and_in_keras(tmp_path):
    import keras

    model = _mlp()
    model.compile(optimizer="adam", loss="mse")
    model.save(tmp_path / "m.h5")
    model.save_weights(tmp_path / "w.h5")
    again = lamina.models.load_model(tmp_path / "m.h5")
    x = np.random.default_rng(1).standard_normal((3, 6)).astype("float32")
    np.testing.assert_allclose(again.predict(x), model.predict(x), atol=1e-6)
    fresh = _mlp()
    fresh.load_weights(tmp_path / "w.h5")
    np.testing.assert_allclose(fresh.predict(x), model.predict(x), atol=1e-6)
    theirs = _mlp(keras)
    theirs.load_weights(tmp_path / "w.h5")
    np.testing.assert_allclose(
        theirs.predict(x, verbose=0), model.predict(x), atol=1e-6
    )


def test_cudnn_gru_needs_reset_after():
    model = lamina.Sequential(
        [
            lamina.Input((6, 3)),
            lamina.layers.LSTM(4, return_sequences=True, name="lstm"),
            lamina.layers.GRU(2, reset_after=False, name="gru"),
        ]
    )
    with pytest.raises(
        ValueError, match="CuDNNGRU weights need GRU\\(reset_after=True\\)"
    ):
        model.load_weights(FIXTURES / "cudnn.h5")


# ---------------------------------------------------------- Keras 1 spellings
CALLS = [
    (
        "Dense",
        dict(output_dim=4, init="uniform", W_regularizer="l2", bias=False),
        dict(
            units=4,
            kernel_initializer="uniform",
            kernel_regularizer="l2",
            use_bias=False,
        ),
    ),
    ("Dropout", dict(p=0.3), dict(rate=0.3)),
    ("GaussianNoise", dict(sigma=0.2), dict(stddev=0.2)),
    (
        "SpatialDropout2D",
        dict(p=0.2, dim_ordering="th"),
        dict(rate=0.2, data_format="channels_first"),
    ),
    (
        "Conv1D",
        dict(nb_filter=3, filter_length=2, subsample_length=2, border_mode="same"),
        dict(filters=3, kernel_size=2, strides=2, padding="same"),
    ),
    (
        "Conv2D",
        dict(nb_filter=3, nb_row=2, nb_col=3, subsample=(2, 1), dim_ordering="tf"),
        dict(
            filters=3, kernel_size=(2, 3), strides=(2, 1), data_format="channels_last"
        ),
    ),
    (
        "Conv3D",
        dict(nb_filter=2, kernel_dim1=1, kernel_dim2=2, kernel_dim3=3),
        dict(filters=2, kernel_size=(1, 2, 3)),
    ),
    (
        "MaxPooling1D",
        dict(pool_length=3, stride=2, border_mode="same"),
        dict(pool_size=3, strides=2, padding="same"),
    ),
    (
        "MaxPooling2D",
        dict(pool_length=(2, 2), border_mode="valid", dim_ordering="th"),
        dict(pool_size=(2, 2), padding="valid", data_format="channels_first"),
    ),
    (
        "AveragePooling2D",
        dict(pool_size=(2, 2), border_mode="same"),
        dict(pool_size=(2, 2), padding="same"),
    ),
    (
        "GlobalAveragePooling2D",
        dict(dim_ordering="th"),
        dict(data_format="channels_first"),
    ),
    ("UpSampling1D", dict(length=3), dict(size=3)),
    (
        "ZeroPadding2D",
        dict(padding=(1, 2), dim_ordering="th"),
        dict(padding=(1, 2), data_format="channels_first"),
    ),
    (
        "Embedding",
        dict(input_dim=10, output_dim=4, init="uniform", W_constraint="non_neg"),
        dict(
            input_dim=10,
            output_dim=4,
            embeddings_initializer="uniform",
            embeddings_constraint="non_neg",
        ),
    ),
    (
        "SimpleRNN",
        dict(output_dim=3, dropout_W=0.1, dropout_U=0.2, U_regularizer="l1"),
        dict(units=3, dropout=0.1, recurrent_dropout=0.2, recurrent_regularizer="l1"),
    ),
    (
        "GRU",
        dict(output_dim=3, init="glorot_normal", inner_init="orthogonal"),
        dict(
            units=3,
            kernel_initializer="glorot_normal",
            recurrent_initializer="orthogonal",
        ),
    ),
    (
        "LSTM",
        dict(
            output_dim=3,
            forget_bias_init="one",
            consume_less="gpu",
            inner_activation="sigmoid",
        ),
        dict(units=3, unit_forget_bias=True, recurrent_activation="sigmoid"),
    ),
    (
        "LocallyConnected1D",
        dict(nb_filter=2, filter_length=3, subsample_length=1),
        dict(filters=2, kernel_size=3, strides=1),
    ),
]


def _config(layer):
    config = layer.get_config()
    config.pop("name")
    return config


@pytest.mark.parametrize("name, old, new", CALLS, ids=[c[0] for c in CALLS])
def test_keras1_spellings_build_the_modern_layer(name, old, new):
    cls = getattr(lamina.layers, name)
    with pytest.warns(
        DeprecationWarning,
        match=rf"{name}\(.*\) is Keras 1/2 code; the Keras 3 call is {name}\(",
    ):
        legacy = cls(**old)
    modern = cls(**new)
    assert type(legacy) is type(modern)
    assert _config(legacy) == _config(modern)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_keras1_positional_forms_and_old_names():
    with pytest.warns(
        DeprecationWarning, match=r"Conv2D\(64, \(3, 3\), .*padding='same'"
    ):
        conv = lamina.layers.Convolution2D(64, 3, 3, border_mode="same")
    assert type(conv) is lamina.layers.Conv2D and conv.kernel_size == (3, 3)
    assert lamina.layers.Convolution3D(2, 1, 2, 3).kernel_size == (1, 2, 3)
    assert lamina.layers.Convolution2D(8, (3, 3), strides=2).strides == (2, 2)
    atrous = lamina.layers.AtrousConvolution2D(4, 3, 3, atrous_rate=(2, 2))
    assert type(atrous) is lamina.layers.Conv2D and atrous.dilation_rate == (2, 2)
    assert lamina.layers.AtrousConvolution1D(4, 3, atrous_rate=2).dilation_rate == (2,)
    deconv = lamina.layers.Deconvolution2D(3, 3, 3, (None, 3, 14, 14), subsample=(2, 2))
    assert type(deconv) is lamina.layers.Conv2DTranspose and deconv.strides == (2, 2)
    assert lamina.layers.SeparableConvolution2D(4, 3, 3).kernel_size == (3, 3)


def test_old_dim_ordering_example_from_the_keras1_docs():
    model = lamina.Sequential()
    with pytest.warns(DeprecationWarning):
        model.add(
            lamina.layers.Convolution2D(
                64, 3, 3, border_mode="same", input_shape=(3, 32, 32), dim_ordering="th"
            )
        )
    assert model.output_shape == (None, 64, 32, 32)


def test_old_module_paths():
    from lamina.layers.embeddings import Embedding
    from lamina.layers.recurrent import GRU, LSTM
    from lamina.layers.wrappers import Bidirectional, TimeDistributed

    from lamina.layers.convolutional import UpSampling2D, ZeroPadding2D
    from lamina.layers.core import Dense, Dropout, Flatten
    from lamina.layers.pooling import MaxPooling2D

    layers = lamina.layers
    assert (Dense, Dropout, Flatten, Embedding) == (
        layers.Dense,
        layers.Dropout,
        layers.Flatten,
        layers.Embedding,
    )
    assert (UpSampling2D, ZeroPadding2D, MaxPooling2D) == (
        layers.UpSampling2D,
        layers.ZeroPadding2D,
        layers.MaxPooling2D,
    )
    assert (LSTM, GRU, TimeDistributed, Bidirectional) == (
        layers.LSTM,
        layers.GRU,
        layers.TimeDistributed,
        layers.Bidirectional,
    )


def test_old_spellings_that_cannot_be_translated():
    with pytest.raises(
        ValueError, match="`border_mode='full'` has no Keras 3 equivalent"
    ):
        lamina.layers.Convolution2D(4, 3, 3, border_mode="full")
    with pytest.raises(ValueError, match="both the Keras 1 argument `p` and .*`rate`"):
        lamina.layers.Dropout(p=0.1, rate=0.2)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_keras2_hard_sigmoid_where_the_old_spelling_asks_for_it():
    import torch

    old = lamina.layers.LSTM(2, inner_activation="hard_sigmoid")
    new = lamina.layers.LSTM(2, recurrent_activation="hard_sigmoid")
    x = torch.linspace(-4, 4, 9)
    np.testing.assert_allclose(
        old.cell.recurrent_activation(x).numpy(), np.clip(0.2 * x.numpy() + 0.5, 0, 1)
    )
    np.testing.assert_allclose(  # Keras 3's hard_sigmoid: relu6(x + 3) / 6
        new.cell.recurrent_activation(x).numpy(), np.clip(x.numpy() / 6 + 0.5, 0, 1)
    )


def test_keras1_json_config_loads():
    config = {
        "class_name": "Sequential",
        "keras_version": "1.2.2",
        "config": [
            {
                "class_name": "Convolution2D",
                "config": {
                    "name": "conv",
                    "nb_filter": 4,
                    "nb_row": 3,
                    "nb_col": 3,
                    "border_mode": "same",
                    "subsample": [1, 1],
                    "dim_ordering": "tf",
                    "init": "glorot_uniform",
                    "activation": "relu",
                    "W_regularizer": None,
                    "b_regularizer": None,
                    "activity_regularizer": None,
                    "W_constraint": None,
                    "b_constraint": None,
                    "bias": True,
                    "batch_input_shape": [None, 8, 8, 1],
                    "trainable": True,
                },
            },
            {
                "class_name": "MaxPooling2D",
                "config": {
                    "name": "pool",
                    "pool_size": [2, 2],
                    "strides": None,
                    "border_mode": "valid",
                    "dim_ordering": "tf",
                },
            },
            {
                "class_name": "Reshape",
                "config": {"name": "seq", "target_shape": [16, 4]},
            },
            {
                "class_name": "LSTM",
                "config": {
                    "name": "lstm",
                    "output_dim": 3,
                    "inner_activation": "hard_sigmoid",
                    "forget_bias_init": "one",
                    "return_sequences": False,
                },
            },
            {"class_name": "Dense", "config": {"name": "out", "output_dim": 2}},
        ],
    }

    with pytest.warns(DeprecationWarning):
        model = lamina.models.model_from_json(json.dumps(config))
    assert [layer.name for layer in model.layers] == [
        "conv",
        "pool",
        "seq",
        "lstm",
        "out",
    ]
    assert model.output_shape == (None, 2)
    assert model.get_layer("lstm").cell.unit_forget_bias


def test_a_keras1_script_builds_trains_and_predicts():
    """Keras 1 code as written in 2016, run unchanged (DeprecationWarnings only)."""
    from lamina.layers import LSTM, Convolution2D, Dense, Dropout, Flatten, MaxPooling2D
    from lamina.models import Sequential

    rng = np.random.default_rng(0)
    images = rng.standard_normal((32, 1, 8, 8)).astype("float32")
    labels = np.eye(3, dtype="float32")[rng.integers(0, 3, 32)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        cnn = Sequential()
        cnn.add(
            Convolution2D(
                8,
                3,
                3,
                border_mode="same",
                input_shape=(1, 8, 8),
                dim_ordering="th",
                activation="relu",
                init="he_normal",
            )
        )
        cnn.add(MaxPooling2D(pool_size=(2, 2), dim_ordering="th"))
        cnn.add(Flatten())
        cnn.add(Dense(output_dim=16, activation="relu"))
        cnn.add(Dropout(p=0.5))
        cnn.add(Dense(output_dim=3, activation="softmax"))
        cnn.compile(
            loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"]
        )
        history = cnn.fit(images, labels, batch_size=8, nb_epoch=3, verbose=0)

        sequences = rng.standard_normal((32, 5, 4)).astype("float32")
        rnn = Sequential()
        rnn.add(
            LSTM(
                output_dim=6,
                input_dim=4,
                input_length=5,
                inner_activation="hard_sigmoid",
                return_sequences=False,
            )
        )
        rnn.add(Dense(output_dim=3, activation="softmax"))
        rnn.compile(loss="categorical_crossentropy", optimizer="rmsprop")
        rnn.fit(sequences, labels, nb_epoch=2, verbose=0)
    assert len(history.history["loss"]) == 3
    assert history.history["loss"][-1] < history.history["loss"][0]
    probabilities = cnn.predict(images[:4])
    assert probabilities.shape == (4, 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert rnn.predict(sequences[:2]).shape == (2, 3)
    assert cnn.layers[0].output_shape == (None, 8, 8, 8)


def test_keras1_functional_model_keywords():
    inputs = lamina.Input((3,))
    outputs = lamina.layers.Dense(2)(inputs)
    with pytest.warns(
        DeprecationWarning, match=r"Model\(inputs=\.\.\., outputs=\.\.\.\)"
    ):
        model = lamina.models.Model(input=inputs, output=outputs)
    assert model.inputs == [inputs] and model.output_shape == (None, 2)


# ------------------------------------------- Keras 1/2 merge and activations
MERGES = [
    ("sum", {}, "Add", {}),
    ("mul", {}, "Multiply", {}),
    ("ave", {}, "Average", {}),
    ("max", {}, "Maximum", {}),
    ("concat", {"concat_axis": 1}, "Concatenate", {"axis": 1}),
    ("dot", {"dot_axes": [1, 1]}, "Dot", {"axes": [1, 1]}),
    ("dot", {"dot_axes": [[1], [1]]}, "Dot", {"axes": [1, 1]}),
    ("cos", {}, "Dot", {"axes": -1, "normalize": True}),
]


@pytest.mark.parametrize("mode, old, name, new", MERGES, ids=[m[0] for m in MERGES])
def test_keras1_merge_modes_build_the_keras3_layers(mode, old, name, new):
    a, b = lamina.Input((3,)), lamina.Input((3,))
    with pytest.warns(DeprecationWarning, match=rf"the Keras 3 call is {name}\("):
        merged = lamina.layers.merge([a, b], mode=mode, name="m", **old)
    layer = merged._keras_history.layer
    modern = getattr(lamina.layers, name)(name="m", **new)
    assert type(layer) is type(modern) and layer.get_config() == modern.get_config()
    with pytest.warns(DeprecationWarning, match=r"Merge\(mode="):
        assert type(lamina.layers.Merge(mode=mode, **old)) is type(modern)


def test_keras1_merge_with_a_function_and_what_cannot_be_translated():
    a, b = lamina.Input((3,)), lamina.Input((3,))
    product = lamina.layers.merge(
        [a, b], mode=lambda xs: xs[0] * xs[1], output_shape=(3,)
    )
    assert type(product._keras_history.layer) is lamina.layers.Lambda
    assert product.shape == (None, 3)
    with pytest.raises(
        ValueError, match=r"`mode` must be one of 'sum', .*got mode='x'"
    ):
        lamina.layers.merge([a, b], mode="x")
    with pytest.raises(ValueError, match=r"Keras 1's `layers=` .* functional model"):
        lamina.layers.Merge([lamina.layers.Dense(2), lamina.layers.Dense(2)])


def test_keras1_functional_config_with_a_merge_loads():
    config = {
        "class_name": "Model",
        "keras_version": "1.2.2",
        "config": {
            "name": "model",
            "layers": [
                {
                    "class_name": "InputLayer",
                    "name": "a",
                    "config": {"batch_input_shape": [None, 3], "name": "a"},
                    "inbound_nodes": [],
                },
                {
                    "class_name": "InputLayer",
                    "name": "b",
                    "config": {"batch_input_shape": [None, 3], "name": "b"},
                    "inbound_nodes": [],
                },
                {
                    "class_name": "Merge",
                    "name": "merged",
                    "config": {
                        "name": "merged",
                        "mode": "concat",
                        "mode_type": "raw",
                        "concat_axis": -1,
                        "dot_axes": -1,
                        "output_shape": None,
                        "output_shape_type": "raw",
                        "output_mask": None,
                        "output_mask_type": "raw",
                        "arguments": {},
                    },
                    "inbound_nodes": [[["a", 0, 0], ["b", 0, 0]]],
                },
            ],
            "input_layers": [["a", 0, 0], ["b", 0, 0]],
            "output_layers": [["merged", 0, 0]],
        },
    }
    with pytest.warns(DeprecationWarning):
        model = lamina.models.model_from_json(json.dumps(config))
    assert type(model.get_layer("merged")) is lamina.layers.Concatenate
    assert model.output_shape == (None, 6)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_keras2_activation_spellings():
    layers = lamina.layers
    assert layers.LeakyReLU(alpha=0.1).negative_slope == 0.1
    assert layers.LeakyReLU(0.2).negative_slope == 0.2
    assert type(layers.PReLU(init="zero").alpha_initializer).__name__ == "Zeros"
    with pytest.warns(DeprecationWarning, match=r"ReLU\(threshold=1.0\)"):
        thresholded = layers.ThresholdedReLU()
    assert type(thresholded) is layers.ReLU and thresholded.threshold == 1.0
    x = lamina.ops.convert_to_tensor([0.5, 1.0, 1.5])
    assert layers.ThresholdedReLU(theta=1.0)(x).tolist() == [0.0, 0.0, 1.5]
    config = {"class_name": "ThresholdedReLU", "config": {"name": "t", "theta": 0.5}}
    assert layers.deserialize(config).threshold == 0.5


def test_keras2_module_paths_of_merge_activation_and_noise_layers():
    from lamina.layers.advanced_activations import ELU, PReLU, ThresholdedReLU
    from lamina.layers.merge import Add, Concatenate, concatenate
    from lamina.layers.noise import AlphaDropout

    layers = lamina.layers
    assert (ELU, PReLU, ThresholdedReLU) == (
        layers.ELU,
        layers.PReLU,
        layers.ThresholdedReLU,
    )
    assert (Add, Concatenate, concatenate, AlphaDropout) == (
        layers.Add,
        layers.Concatenate,
        layers.concatenate,
        layers.AlphaDropout,
    )
    assert layers.merge.__name__ == "merge"  # Keras 1's function keeps the name

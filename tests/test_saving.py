"""Model files both ways with Keras 3: ``.keras``, ``.weights.h5``, JSON configs,
custom objects, cloning, damaged files and atomic saves."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import warnings
import zipfile

import h5py
import keras
import numpy as np
import pytest

import lamina
from lamina.saving import FileFormatError

RNG = np.random.default_rng(0)


# ------------------------------------------------- one block per layer family
def _core(L, x):
    x = L.Dense(6, activation="relu", name="core_dense")(x)
    x = L.Activation("tanh", name="core_act")(x)
    return L.Identity(name="core_id")(x)


def _embedding(L, tokens):
    x = L.Embedding(10, 3, mask_zero=True, name="core_embedding")(tokens)
    x = L.Masking(0.0, name="core_masking")(x)  # Keras adds NotEqual/Any nodes
    return L.GlobalAveragePooling1D(name="core_tokens_mean")(x)  # masked mean


def _regularization(L, x):
    x = L.Dropout(0.3, name="reg_drop")(x)
    x = L.GaussianNoise(0.1, name="reg_noise")(x)
    x = L.GaussianDropout(0.1, name="reg_gdrop")(x)
    return L.ActivityRegularization(l2=0.01, name="reg_act")(x)


def _reshaping(L, x):
    x = L.RepeatVector(4, name="rs_repeat")(x)
    x = L.Permute((2, 1), name="rs_permute")(x)
    x = L.Reshape((6, 2, 2), name="rs_reshape")(x)
    return L.Flatten(name="rs_flatten")(x)


def _image_reshaping(L, image):
    x = L.ZeroPadding2D(1, name="rs_zero_pad")(image)
    x = L.Cropping2D(((1, 0), (0, 2)), name="rs_crop")(x)
    x = L.UpSampling2D(2, name="rs_upsample")(x)
    x = L.Reshape((-1, 3), name="rs_image_seq")(x)
    x = L.Cropping1D((1, 2), name="rs_crop1d")(x)
    x = L.ZeroPadding1D(1, name="rs_pad1d")(x)
    x = L.UpSampling1D(2, name="rs_up1d")(x)
    return L.Flatten(name="rs_flat")(x)


def _convolutional(L, image):
    x = L.Conv2D(4, 3, padding="same", name="cv_conv2d")(image)
    x = L.DepthwiseConv2D(3, depth_multiplier=2, name="cv_depthwise")(x)
    x = L.SeparableConv2D(3, 2, name="cv_separable")(x)
    x = L.Conv2DTranspose(2, 3, strides=2, name="cv_transpose")(x)
    x = L.Reshape((-1, 2), name="cv_to_seq")(x)
    x = L.Conv1D(3, 2, dilation_rate=2, name="cv_conv1d")(x)
    x = L.SeparableConv1D(2, 2, name="cv_separable1d")(x)
    return L.Flatten(name="cv_flatten")(x)


def _locally_connected(L, image):
    x = L.LocallyConnected2D(2, 3, strides=2, implementation=1, name="lc_2d")(image)
    x = L.Reshape((9, 2), name="lc_to_seq")(x)
    x = L.LocallyConnected1D(3, 2, implementation=2, name="lc_1d")(x)
    return L.Flatten(name="lc_flatten")(x)


def _pooling(L, image):
    x = L.MaxPooling2D(2, name="pl_max2d")(image)
    x = L.AveragePooling2D(3, strides=1, padding="same", name="pl_avg2d")(x)
    x = L.Reshape((16, 3), name="pl_to_seq")(x)
    x = L.MaxPooling1D(2, name="pl_max1d")(x)
    x = L.AveragePooling1D(2, name="pl_avg1d")(x)
    return L.GlobalMaxPooling1D(name="pl_gmax")(x)


def _rnn(L, sequence):
    x = L.LSTM(4, return_sequences=True, name="rnn_lstm")(sequence)
    x = L.Bidirectional(L.GRU(3, return_sequences=True), name="rnn_bi")(x)
    x = L.TimeDistributed(L.Dense(2), name="rnn_td")(x)
    return L.SimpleRNN(3, name="rnn_simple")(x)


def _normalization(L, image):
    x = L.BatchNormalization(name="nm_batch")(image)
    x = L.GroupNormalization(groups=3, name="nm_group")(x)
    x = L.LayerNormalization(name="nm_layer")(x)
    x = L.RMSNormalization(name="nm_rms")(x)
    x = L.UnitNormalization(axis=[1, 2], name="nm_unit")(x)
    x = L.Flatten(name="nm_flatten")(x)
    return L.SpectralNormalization(L.Dense(3, name="nm_dense"), name="nm_spectral")(x)


def _attention(L, tokens):
    embed = L.ReversibleEmbedding(10, 8, mask_zero=True, name="at_embedding")
    x = embed(tokens)
    x = L.MultiHeadAttention(2, 4, name="at_mha")(x, x)  # the embedding's masks
    x = L.Attention(name="at_dot")([x, x])
    x = L.AdditiveAttention(name="at_additive")([x, x])
    x = L.GlobalAveragePooling1D(name="at_mean")(x)
    x = L.EinsumDense("ab,bc->ac", 8, bias_axes="c", name="at_einsum")(x)
    return embed(x, reverse=True)


def _preprocessing(L, vector):
    x = L.Normalization(mean=0.5, variance=2.0, name="pp_given")(vector)
    x = L.Normalization(name="pp_weights")(x)
    bins = L.Discretization([-1.0, 0.0, 1.0], output_mode="count", name="pp_bins")
    return bins(x)


def _merging(L, sequence):
    x = L.Dense(4, name="mg_dense")(sequence)
    last = L.Dense(4, name="mg_last")(L.Flatten(name="mg_flat")(sequence))
    x = L.Add(name="mg_add")([x, last])  # (5, 4) + (4,): ranks differ
    x = L.Concatenate(axis=1, name="mg_concat")([x, L.Maximum(name="mg_max")([x, x])])
    x = L.Dot(axes=(2, 2), normalize=True, name="mg_dot")([x, sequence])
    x = L.Average(name="mg_avg")([L.Subtract(name="mg_sub")([x, x]), x])
    x = L.Minimum(name="mg_min")([L.Multiply(name="mg_mul")([x, x]), x])
    return L.Flatten(name="mg_out")(x)


def _activations(L, x):
    x = L.ReLU(6.0, negative_slope=0.1, threshold=0.2, name="act_relu")(x)
    x = L.LeakyReLU(0.2, name="act_leaky")(x)
    x = L.PReLU(alpha_initializer="random_uniform", name="act_prelu")(x)
    x = L.ELU(0.5, name="act_elu")(x)
    x = L.AlphaDropout(0.2, name="act_alpha_dropout")(x)
    return L.Softmax(name="act_softmax")(x)


FAMILY_BLOCKS = {
    "attention": [("tokens", _attention)],
    "core": [("vector", _core), ("tokens", _embedding)],
    "regularization": [("vector", _regularization)],
    "reshaping": [("vector", _reshaping), ("image", _image_reshaping)],
    "convolutional": [("image", _convolutional)],
    "locally_connected": [("image", _locally_connected)],
    "pooling": [("image", _pooling)],
    "rnn": [("sequence", _rnn)],
    "normalization": [("image", _normalization)],
    "preprocessing": [("vector", _preprocessing)],
    "merging": [("sequence", _merging)],
    "activations": [("vector", _activations)],
}
KERAS_FREE_FAMILIES = {"locally_connected"}  # Keras 3 has no such layers
INPUT_SHAPES = {"vector": (6,), "image": (8, 8, 3), "sequence": (5, 4), "tokens": (4,)}


def _families():
    return [f.__name__.rsplit(".", 1)[-1] for f in lamina.layers._FAMILIES]


def every_family_model(lib, keras_free=False):
    """A functional model with one output per layer family lamina has (those
    Keras 3 also has, unless ``keras_free``)."""
    inputs = {
        kind: lib.Input(shape, name=kind, dtype="int32" if kind == "tokens" else None)
        for kind, shape in INPUT_SHAPES.items()
    }
    outputs = [
        block(lib.layers, inputs[kind])
        for family, blocks in FAMILY_BLOCKS.items()
        for kind, block in blocks
        if family in _families() and (keras_free or family not in KERAS_FREE_FAMILIES)
    ]
    return lib.Model(list(inputs.values()), outputs, name="every_family")


def _inputs(n=3):
    return [
        RNG.integers(0, 10, (n, *shape)).astype("int32")
        if kind == "tokens"
        else RNG.standard_normal((n, *shape)).astype("float32")
        for kind, shape in INPUT_SHAPES.items()
    ]


def test_round_trip_model_covers_every_layer_family():
    assert sorted(set(_families()) - set(FAMILY_BLOCKS)) == []


def test_keras_file_from_keras_loads_in_lamina(tmp_path):
    theirs = every_family_model(keras)
    theirs.save(tmp_path / "k.keras")
    ours = lamina.models.load_model(tmp_path / "k.keras")
    assert ours.count_params() == theirs.count_params()
    x = _inputs()
    for got, want in zip(ours.predict(x), theirs.predict(x, verbose=0)):
        np.testing.assert_allclose(got, want, atol=1e-6)


def test_keras_file_from_lamina_loads_in_keras(tmp_path):
    ours = every_family_model(lamina)
    ours.save(tmp_path / "l.keras")
    with zipfile.ZipFile(tmp_path / "l.keras") as archive:
        assert archive.namelist() == [
            "metadata.json",
            "config.json",
            "model.weights.h5",
        ]
        config = json.loads(archive.read("config.json"))
    assert config["class_name"] == "Functional" and "build_config" in config
    theirs = keras.saving.load_model(tmp_path / "l.keras")
    x = _inputs()
    for got, want in zip(ours.predict(x), theirs.predict(x, verbose=0)):
        np.testing.assert_allclose(got, want, atol=1e-6)
    again = lamina.saving.load_model(tmp_path / "l.keras")
    for got, want in zip(ours.predict(x), again.predict(x)):
        np.testing.assert_array_equal(got, want)


def test_keras_file_round_trip_of_every_family_in_lamina(tmp_path):
    model = every_family_model(lamina, keras_free=True)
    model.save(tmp_path / "all.keras")
    again = lamina.models.load_model(tmp_path / "all.keras")
    x = _inputs()
    for got, want in zip(again.predict(x), model.predict(x)):
        np.testing.assert_array_equal(got, want)


def _sequential(lib):
    return lib.Sequential(
        [lib.Input((5,)), lib.layers.Dense(4, activation="relu"), lib.layers.Dense(2)],
        name="seq",
    )


def test_sequential_keras_file_both_ways(tmp_path):
    ours = _sequential(lamina)
    ours.save(tmp_path / "s.keras")
    theirs = keras.models.load_model(tmp_path / "s.keras")
    x = RNG.standard_normal((4, 5)).astype("float32")
    np.testing.assert_allclose(ours.predict(x), theirs.predict(x, verbose=0), atol=1e-6)
    theirs.save(tmp_path / "k.keras")
    back = lamina.models.load_model(tmp_path / "k.keras")
    assert isinstance(back, lamina.Sequential)
    np.testing.assert_allclose(back.predict(x), ours.predict(x), atol=1e-6)


def test_weights_h5_both_ways_with_nested_models(tmp_path):
    def nested(lib):
        inner = _sequential(lib)
        inp = lib.Input((5,))
        out = lib.layers.Dense(3, name="head")(lib.layers.RepeatVector(2)(inner(inp)))
        return lib.Model(inp, out)

    ours, theirs = nested(lamina), nested(keras)
    theirs.save_weights(tmp_path / "k.weights.h5")
    ours.load_weights(tmp_path / "k.weights.h5")
    x = RNG.standard_normal((3, 5)).astype("float32")
    np.testing.assert_allclose(ours.predict(x), theirs.predict(x, verbose=0), atol=1e-6)
    fresh = nested(keras)
    ours.save_weights(tmp_path / "l.weights.h5")
    fresh.load_weights(tmp_path / "l.weights.h5")
    np.testing.assert_allclose(fresh.predict(x, verbose=0), ours.predict(x), atol=1e-6)


def test_weights_h5_of_subclassed_models_match_keras_paths(tmp_path):
    def make(lib):
        class Tower(lib.Model):
            def __init__(self):
                super().__init__()
                self.zeta = lib.layers.Dense(3)
                self.blocks = [lib.layers.Dense(3), lib.layers.Dense(3)]
                self.alpha = lib.layers.Dense(2)

            def call(self, x):
                x = self.zeta(x)
                for block in self.blocks:
                    x = block(x)
                return self.alpha(x)

        model = Tower()
        model(np.zeros((1, 4), "float32"))
        return model

    ours, theirs = make(lamina), make(keras)
    theirs.save_weights(tmp_path / "k.weights.h5")
    ours.save_weights(tmp_path / "l.weights.h5")

    def datasets(path):
        with h5py.File(path) as f:
            names = []
            f.visititems(
                lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None
            )
            return sorted(names)

    assert datasets(tmp_path / "l.weights.h5") == datasets(tmp_path / "k.weights.h5")
    ours.load_weights(tmp_path / "k.weights.h5")
    x = RNG.standard_normal((2, 4)).astype("float32")
    np.testing.assert_allclose(ours.predict(x), theirs.predict(x, verbose=0), atol=1e-6)


def _registered_tower(lib):
    @lib.saving.register_keras_serializable(package="test_saving")
    class Tower(lib.Model):
        def __init__(self, units=3, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.hidden = lib.layers.Dense(units, activation="relu")
            self.head = lib.layers.Dense(2)

        def call(self, x):
            return self.head(self.hidden(x))

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    model = Tower(units=5)
    model(np.zeros((1, 4), "float32"))
    return model


def test_subclassed_model_keras_file_both_ways(tmp_path):
    ours, theirs = _registered_tower(lamina), _registered_tower(keras)
    ours.save(tmp_path / "l.keras")
    theirs.save(tmp_path / "k.keras")
    x = RNG.standard_normal((3, 4)).astype("float32")
    from_keras = lamina.models.load_model(tmp_path / "k.keras")
    assert from_keras.units == 5
    np.testing.assert_allclose(
        from_keras.predict(x), theirs.predict(x, verbose=0), atol=1e-6
    )
    from_lamina = keras.models.load_model(tmp_path / "l.keras")
    np.testing.assert_allclose(
        from_lamina.predict(x, verbose=0), ours.predict(x), atol=1e-6
    )
    again = lamina.models.load_model(tmp_path / "l.keras")
    np.testing.assert_allclose(again.predict(x), ours.predict(x), atol=1e-6)


def test_mismatched_weights_name_layer_weight_shapes_and_layout(tmp_path):
    small = lamina.Sequential([lamina.Input((8, 8, 3)), lamina.layers.Conv2D(4, 3)])
    path = tmp_path / "w.weights.h5"
    small.save_weights(path)
    with h5py.File(path, "r+") as f:  # a PyTorch-layout (out, in, kh, kw) kernel
        kernel = f["layers/conv2d/vars/0"][()]
        del f["layers/conv2d/vars/0"]
        f["layers/conv2d/vars/0"] = kernel.transpose(3, 2, 0, 1)
    with pytest.raises(ValueError) as info:
        small.load_weights(path)
    message = str(info.value)
    for part in (
        "w.weights.h5",
        "Conv2D 'conv2d",
        "'kernel'",
        "(3, 3, 3, 4)",
        "(4, 3, 3, 3)",
        "PyTorch-layout",
        "np.transpose(w, (2, 3, 1, 0))",
    ):
        assert part in message
    other = lamina.Sequential([lamina.Input((8, 8, 3)), lamina.layers.Conv2D(5, 3)])
    with pytest.raises(
        ValueError, match=r"\(3, 3, 3, 5\) in the model but \(4, 3, 3, 3\)"
    ):
        other.load_weights(path)
    before = [w.copy() for w in other.get_weights()]
    with pytest.warns(UserWarning, match="Skipped loading Conv2D"):
        other.load_weights(path, skip_mismatch=True)
    for got, want in zip(other.get_weights(), before):
        np.testing.assert_array_equal(got, want)


def test_weight_count_mismatch_lists_both_sides(tmp_path):
    model = lamina.Sequential(
        [lamina.Input((5, 3)), lamina.layers.Conv1D(2, 2, name="c")]
    )
    model.save_weights(tmp_path / "w.weights.h5")
    no_bias = lamina.Sequential(
        [lamina.Input((5, 3)), lamina.layers.Conv1D(2, 2, use_bias=False, name="c")]
    )
    with pytest.raises(
        ValueError,
        match=r"has 1 weight\(s\) \[kernel \(2, 3, 2\)\] but the file holds 2",
    ):
        no_bias.load_weights(tmp_path / "w.weights.h5")


# ------------------------------------------------------ configs and objects
@lamina.saving.register_keras_serializable(package="tests")
class Scale(lamina.layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")

    def call(self, x):
        return x * self.w * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


class Shift(lamina.layers.Layer):  # not registered: needs custom_objects
    def call(self, x):
        return x + 1.0


def _custom_model():
    inp = lamina.Input((3,))
    return lamina.Model(inp, Shift(name="shift")(Scale(3.0, name="scale")(inp)))


def test_custom_objects_registered_passed_and_scoped(tmp_path):
    model = _custom_model()
    model.save(tmp_path / "c.keras")
    with pytest.raises(ValueError, match="Unknown layer: 'Shift'.*custom_objects"):
        lamina.models.load_model(tmp_path / "c.keras")
    x = RNG.standard_normal((2, 3)).astype("float32")
    loaded = lamina.models.load_model(
        tmp_path / "c.keras", custom_objects={"Shift": Shift}
    )
    np.testing.assert_allclose(loaded.predict(x), model.predict(x), atol=1e-6)
    assert isinstance(loaded.get_layer("scale"), Scale)
    with lamina.saving.CustomObjectScope({"Shift": Shift}):
        again = lamina.models.model_from_json(model.to_json())
    assert again.get_layer("scale").factor == 3.0


def test_json_both_ways_with_keras():
    ours = every_family_model(lamina)
    theirs = keras.models.model_from_json(ours.to_json())
    back = lamina.models.model_from_json(theirs.to_json())
    # Keras orders layers counting the mask ops it records, so compare as sets.
    assert {layer.name for layer in back.layers} == {
        layer.name for layer in theirs.layers
    }
    assert back.count_params() == ours.count_params()


def test_clone_model_keeps_architecture_with_fresh_layers():
    model = every_family_model(lamina)
    clone = lamina.models.clone_model(model)
    assert [layer.name for layer in clone.layers] == [
        layer.name for layer in model.layers
    ]
    assert all(a is not b for a, b in zip(clone.layers, model.layers))
    clone.set_weights(model.get_weights())
    x = _inputs()
    for got, want in zip(clone.predict(x), model.predict(x)):
        np.testing.assert_allclose(got, want, atol=1e-6)
    original = _sequential(lamina)

    def renamed(layer):
        return type(layer).from_config(
            {**layer.get_config(), "name": "c_" + layer.name}
        )

    seq = lamina.models.clone_model(original, clone_function=renamed)
    assert [layer.name for layer in seq.layers] == [
        "c_" + layer.name for layer in original.layers
    ]
    assert seq.output_shape == original.output_shape


# ------------------------------------------------------------- damaged files
@pytest.fixture
def saved(tmp_path):
    model = _sequential(lamina)
    path = tmp_path / "m.keras"
    model.save(path)
    return model, path


def test_truncated_archive_names_the_file(saved, tmp_path):
    _, path = saved
    data = path.read_bytes()
    cut = tmp_path / "cut.keras"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(
        FileFormatError,
        match=r"cut.keras'.*not a valid zip archive \(truncated or corrupted",
    ):
        lamina.models.load_model(cut)


def test_missing_weights_entry(saved, tmp_path):
    _, path = saved
    broken = tmp_path / "no_weights.keras"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(broken, "w") as dst:
        for name in ("metadata.json", "config.json"):
            dst.writestr(name, src.read(name))
    with pytest.raises(
        FileFormatError, match="no_weights.keras'.*no 'model.weights.h5' entry"
    ):
        lamina.models.load_model(broken)


def test_corrupted_entries(saved, tmp_path):
    _, path = saved
    bad_json = tmp_path / "bad_json.keras"
    bad_h5 = tmp_path / "bad_h5.keras"
    with zipfile.ZipFile(path) as src:
        with zipfile.ZipFile(bad_json, "w") as dst:
            dst.writestr("config.json", src.read("config.json")[:-10])
            dst.writestr("model.weights.h5", src.read("model.weights.h5"))
        with zipfile.ZipFile(bad_h5, "w") as dst:
            dst.writestr("config.json", src.read("config.json"))
            weights = src.read("model.weights.h5")
            dst.writestr("model.weights.h5", weights[: len(weights) // 2])
    with pytest.raises(
        FileFormatError, match=r"bad_json.keras' \(config.json\).*not valid JSON"
    ):
        lamina.models.load_model(bad_json)
    with pytest.raises(
        FileFormatError,
        match=r"bad_h5.keras \(model.weights.h5\).*(truncated|corrupted)",
    ):
        lamina.models.load_model(bad_h5)


def test_not_a_model_file(tmp_path):
    text = tmp_path / "notes.keras"
    text.write_text("hello")
    with pytest.raises(FileFormatError, match="notes.keras'.*not a model file"):
        lamina.models.load_model(text)
    empty = tmp_path / "empty.h5"
    empty.write_bytes(b"")
    with pytest.raises(FileFormatError, match="empty.h5'.*empty"):
        lamina.models.load_model(empty)
    with pytest.raises(FileNotFoundError, match="missing.keras"):
        lamina.models.load_model(tmp_path / "missing.keras")
    weights_only = tmp_path / "w.weights.h5"
    _sequential(lamina).save_weights(weights_only)
    with pytest.raises(FileFormatError, match="holds weights only"):
        lamina.models.load_model(weights_only)
    with pytest.raises(
        FileFormatError, match="notes.keras'.*not a valid zip|not a weights file"
    ):
        _sequential(lamina).load_weights(text)


def test_truncated_weights_file(tmp_path):
    model = _sequential(lamina)
    path = tmp_path / "w.weights.h5"
    model.save_weights(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(FileFormatError, match=r"w.weights.h5'.*truncated"):
        model.load_weights(path)


# ------------------------------------------------------------- atomic saves
def test_failed_save_keeps_the_previous_file(saved, monkeypatch):
    model, path = saved
    before = path.read_bytes()
    from lamina.saving import weights_h5

    def explode(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(weights_h5, "write_model_state", explode)
    with pytest.raises(KeyboardInterrupt):
        model.save(path)
    assert path.read_bytes() == before
    assert os.listdir(path.parent) == ["m.keras"]  # no temporary file left behind


def test_killed_save_leaves_the_old_file_loadable(saved):
    """A process killed (SIGKILL) in the middle of writing the archive."""
    model, path = saved
    script = textwrap.dedent(
        f"""
        import os, signal, zipfile
        import lamina
        real = zipfile.ZipFile.writestr
        def writestr(self, name, data, *a, **k):
            real(self, name, data, *a, **k)
            if name == "config.json":  # half-written archive on disk
                self.fp.flush()
                os.kill(os.getpid(), signal.SIGKILL)
        zipfile.ZipFile.writestr = writestr
        model = lamina.Sequential([lamina.Input((5,)), lamina.layers.Dense(7)])
        model.save({str(path)!r})
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert result.returncode == -signal.SIGKILL
    loaded = lamina.models.load_model(path)
    x = RNG.standard_normal((2, 5)).astype("float32")
    np.testing.assert_allclose(loaded.predict(x), model.predict(x), atol=1e-6)


def test_save_refuses_bad_names_and_overwrite(tmp_path, saved):
    model, path = saved
    with pytest.raises(
        ValueError, match="`filepath` must be a file name ending in `.keras`"
    ):
        model.save(tmp_path / "m.zip")
    with pytest.raises(ValueError, match=r"`.weights.h5`.*or `.h5`"):
        model.save_weights(tmp_path / "w.bin")
    with pytest.raises(FileExistsError, match="save_model: .* exists and overwrite"):
        model.save(path, overwrite=False)
    with pytest.raises(FileExistsError, match="save_model: .* exists and overwrite"):
        model.save(tmp_path / "m.h5")
        model.save(tmp_path / "m.h5", overwrite=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.save(path)


# ------------------------------------------------- compile state and training
def _trained(lib, optimizer="adam"):
    model = _sequential(lib)
    model.compile(optimizer=optimizer, loss="mse", metrics=["mae"])
    x = np.random.default_rng(3).standard_normal((16, 5)).astype("float32")
    y = np.random.default_rng(4).standard_normal((16, 2)).astype("float32")
    model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    return model, x, y


def _optimizer_values(model):
    return [keras.ops.convert_to_numpy(v) for v in model.optimizer.variables]


def test_training_resumes_from_a_lamina_file(tmp_path):
    model, x, y = _trained(lamina)
    model.save(tmp_path / "t.keras")
    loaded = lamina.models.load_model(tmp_path / "t.keras")
    assert loaded.get_compile_config() == model.get_compile_config()
    for got, want in zip(_optimizer_values(loaded), _optimizer_values(model)):
        np.testing.assert_array_equal(got, want)
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    loaded.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for got, want in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_allclose(got, want, atol=1e-6)


def test_optimizer_state_moves_both_ways_with_keras(tmp_path):
    theirs, x, y = _trained(keras)
    theirs.save(tmp_path / "k.keras")
    ours = lamina.models.load_model(tmp_path / "k.keras")
    assert ours.optimizer.name == theirs.optimizer.name
    for got, want in zip(_optimizer_values(ours), _optimizer_values(theirs)):
        np.testing.assert_allclose(got, want, atol=1e-7)
    ours.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    theirs.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for got, want in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(got, want, atol=1e-5)
    ours.save(tmp_path / "l.keras")
    back = keras.models.load_model(tmp_path / "l.keras")
    for got, want in zip(_optimizer_values(back), _optimizer_values(ours)):
        np.testing.assert_allclose(got, want, atol=1e-7)


def test_load_without_compile_skips_the_optimizer(tmp_path):
    model, _, _ = _trained(lamina)
    model.save(tmp_path / "t.keras")
    loaded = lamina.models.load_model(tmp_path / "t.keras", compile=False)
    assert not loaded.compiled
    np.testing.assert_array_equal(loaded.get_weights()[0], model.get_weights()[0])


# ------------------------------------------------------- plot_model, summary
def test_model_graph_as_dot_without_graphviz(tmp_path):
    model = every_family_model(lamina)
    lamina.utils.plot_model(model, tmp_path / "g.dot", show_shapes=True, rankdir="LR")
    source = (tmp_path / "g.dot").read_text()
    assert source.startswith("digraph G {") and 'rankdir="LR"' in source
    assert '"vector" -> "core_dense";' in source
    assert '"cv_conv2d" -> "cv_depthwise";' in source
    assert "Output shape: (?, 8, 8, 4)" in source  # cv_conv2d
    inner = _sequential(lamina)
    inp = lamina.Input((5,), name="x")
    nested = lamina.Model(inp, inner(inp), name="outer")
    expanded = lamina.utils.model_to_dot_source(nested, expand_nested=True)
    first, second = (layer.name for layer in inner.layers)
    assert 'subgraph "cluster_seq"' in expanded
    assert f'"x" -> "seq/{first}";' in expanded
    assert f'"seq/{first}" -> "seq/{second}";' in expanded


def test_plot_model_image_needs_pydot(tmp_path):
    model = _sequential(lamina)
    try:
        import pydot  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match=r"pip install lamina\[plot\]"):
            lamina.utils.plot_model(model, tmp_path / "g.png")
        return
    graph = lamina.utils.model_to_dot(model)
    assert {n.get_name().strip('"') for n in graph.get_nodes()} >= {"dense", "dense_1"}


def test_summary_command(tmp_path, capsys):
    from lamina.cli import main

    model = _sequential(lamina)
    model.save(tmp_path / "s.keras")
    assert main(["summary", str(tmp_path / "s.keras")]) == 0
    out = capsys.readouterr().out
    assert 'Model: "seq"' in out and "Total params: 34" in out
    (tmp_path / "bad.keras").write_text("nope")
    assert main(["summary", str(tmp_path / "bad.keras")]) == 1
    assert "bad.keras'" in capsys.readouterr().err


def test_serialization_errors_name_their_function():
    with pytest.raises(TypeError, match="serialize_keras_object: cannot serialize"):
        lamina.saving.serialize_keras_object(object())
    with pytest.raises(
        ValueError, match="deserialize_keras_object: cannot deserialize"
    ):
        lamina.saving.deserialize_keras_object(3)
    with pytest.raises(
        ValueError, match="register_keras_serializable: cannot register"
    ):
        lamina.saving.register_keras_serializable()(type("NoConfig", (), {}))
    with pytest.raises(TypeError, match="to_json: cannot write object"):
        lamina.saving.model_config.dumps({"x": object()})


def test_keras_functional_files_recorded_training_flags_yield_to_the_model(tmp_path):
    # Keras 3 records each layer's resolved flag in its functional files
    # (Dropout training=False, RandomFlip training=True); its models let their
    # own flag decide, so lamina's must: predict does not augment, fit drops.
    inputs = keras.Input((4, 4, 3))
    x = keras.layers.RandomFlip(seed=1)(inputs)
    outputs = keras.layers.Dropout(0.5)(x)
    path = str(tmp_path / "flags.keras")
    keras.Model(inputs, outputs).save(path)
    model = lamina.saving.load_model(path)
    images = np.arange(2 * 16 * 3, dtype="float32").reshape(2, 4, 4, 3) + 1
    np.testing.assert_array_equal(model.predict(images, verbose=0), images)
    assert (model(images, training=True).numpy() == 0).any()

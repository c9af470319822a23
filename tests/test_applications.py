"""``lamina.applications`` against Keras 3: the same networks (layer names,
classes, order, parameter counts, output shapes), the same predictions with
Keras's weights, Keras's files both ways, the weight cache and the argument
checks.

Building a network is slow in both libraries, so each family is represented by
one small variant, here or (the Inception and NASNet families) in
``tests/test_applications_variants.py``, which also builds the other variants
(structure only) and runs beside this file under ``pytest -n 2 --dist loadfile``."""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import os
import urllib.error
import urllib.request

import h5py
import keras
import numpy as np
import pytest
import torch
from keras.src.applications import efficientnet as keras_efficientnet
from keras.src.applications import efficientnet_v2 as keras_efficientnet_v2
from keras.src.applications import nasnet as keras_nasnet
from keras.src.legacy.saving import legacy_h5_format

import lamina
from lamina.applications import _builder, efficientnet, efficientnet_v2, imagenet_utils
from lamina.applications.convnext import LayerScale, StochasticDepth

DATA = os.path.join(os.path.dirname(__file__), "data")


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Building a network is thousands of small kernels (weight initializers,
    shape probes): on a shared machine torch's thread pool only adds contention
    (builds 3-4x slower under load), and ``-n 2`` already uses both cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _public(module) -> set[str]:
    return {name for name in dir(module) if not name.startswith("_")}


def test_every_keras_name_exists():
    theirs = _public(keras.applications)
    assert theirs - _public(lamina.applications) == set()
    for sub in sorted(theirs):
        module = getattr(keras.applications, sub)
        assert _public(module) - _public(getattr(lamina.applications, sub)) == set()


# ------------------------------------------------------------ same network
def _build(library, fn, kwargs):
    library.backend.clear_session()
    if library is keras and fn == "NASNetMobile":  # refused on torch by Keras 3
        shape = kwargs.get("input_shape")
        return keras_nasnet.NASNet(
            shape, 1056, 4, 32, False, 2, weights=None, default_size=224,
            name="nasnet_mobile",
            **{k: v for k, v in kwargs.items() if k != "input_shape"},
        )  # fmt: skip
    return getattr(library.applications, fn)(weights=None, **kwargs)


def assert_same_network(theirs, ours):
    assert ours.name == theirs.name
    assert [(type(layer).__name__, layer.name) for layer in ours.layers] == [
        (type(layer).__name__, layer.name) for layer in theirs.layers
    ]
    assert ours.count_params() == theirs.count_params()
    assert tuple(ours.output.shape) == tuple(theirs.output.shape)
    assert [tuple(w.shape) for w in ours.weights] == [
        tuple(w.shape) for w in theirs.weights
    ]


# The families whose layer configs equal Keras's too (ConvNeXt differs in the
# nested Sequential's layers).
SAME_CONFIGS = ("EfficientNet", "VGG", "ResNet", "DenseNet", "Xception", "MobileNet")


def assert_same_layer_configs(theirs, ours):
    def configs(model):
        return [
            (layer["name"], layer["config"]) for layer in model.get_config()["layers"]
        ]

    assert configs(ours) == configs(theirs)


def calibrated(model, x):
    """``model`` with each BatchNormalization's moving statistics set to those
    of ``x`` (one training pass with momentum 0), so that a network with random
    weights neither loses nor blows up its signal and its outputs depend on the
    input (Keras's initial statistics, mean 0 and variance 1, do not fit).
    Dropout is off in that pass, so that the statistics are those of the
    inference path (EfficientNet drops residual branches between its norms)."""
    norms = [layer for layer in _all_layers(model)
             if isinstance(layer, keras.layers.BatchNormalization)]  # fmt: skip
    drops = [layer for layer in _all_layers(model)
             if isinstance(layer, keras.layers.Dropout)]  # fmt: skip
    momenta, rates = [layer.momentum for layer in norms], [d.rate for d in drops]
    for layer in norms:
        layer.momentum = 0.0
    for layer in drops:
        layer.rate = 0.0
    model(x, training=True)
    for layer, rate in zip(drops, rates):
        layer.rate = rate
    for layer, momentum in zip(norms, momenta):
        layer.momentum = momentum
        # A floor under the variances: a nearly constant channel would otherwise
        # scale float32 rounding up by 1/sqrt(epsilon) at each layer.
        variance = layer.moving_variance
        floor = 0.1 * keras.ops.mean(variance)
        variance.assign(variance + floor)
    return model


def _all_layers(model):
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from _all_layers(layer)


def _images(model, batch=2, seed=0):
    shape = [batch] + [64 if d is None else d for d in model.input.shape[1:]]
    return np.random.default_rng(seed).uniform(-1.0, 1.0, shape).astype("float32")


def assert_same_predictions(theirs, ours):
    x = _images(theirs)
    calibrated(theirs, _images(theirs, batch=8, seed=1))
    ours.set_weights(theirs.get_weights())
    expected = np.asarray(theirs.predict(x, verbose=0))
    assert np.ptp(expected, axis=0).max() > 1e-4, "the inputs must matter"
    # 1e-4 of the outputs' scale: probabilities to 1e-4; the unbounded features
    # of a headless network to 1e-4 of their largest value (BatchNormalization
    # folded into x * scale + shift, as lamina runs it in inference, rounds
    # differently from Keras's (x - mean) * scale + beta when |mean| >> std).
    scale = max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected, atol=1e-4 * scale)


FAMILIES = [
    ("VGG16", {"input_shape": (32, 32, 3), "include_top": False, "pooling": "max"}),
    ("ResNet50", {"input_shape": (32, 32, 3), "include_top": False, "pooling": "avg"}),
    ("ResNet50V2", {"input_shape": (32, 32, 3), "classes": 5}),
    ("DenseNet121", {"input_shape": (32, 32, 3), "include_top": False, "pooling": "max"}),
    ("Xception", {"input_shape": (71, 71, 3), "include_top": False}),
    ("MobileNet", {"input_shape": (32, 32, 3), "alpha": 0.5, "classes": 6}),
    ("MobileNetV2", {"input_shape": (33, 33, 3), "alpha": 0.35, "include_top": False}),
    ("ConvNeXtTiny", {"input_shape": (32, 32, 3), "include_top": False, "pooling": "avg"}),
    ("MobileNetV3Small", {"input_shape": (32, 32, 3), "include_preprocessing": False,
                          "classes": 5}),
    # 64x64: at 32x32 the last stages are 1x1, their statistics come from 8
    # values per channel and the random network amplifies rounding chaotically.
    ("EfficientNetB0", {"input_shape": (64, 64, 3), "classes": 5}),
    ("EfficientNetV2B0", {"input_shape": (64, 64, 3), "include_top": False,
                          "pooling": "avg"}),
]  # fmt: skip


@pytest.mark.parametrize("fn,kwargs", FAMILIES, ids=[f for f, _ in FAMILIES])
def test_same_network_and_predictions_as_keras(fn, kwargs):
    theirs = _build(keras, fn, kwargs)
    ours = _build(lamina, fn, kwargs)
    assert_same_network(theirs, ours)
    if fn.startswith(SAME_CONFIGS):
        assert_same_layer_configs(theirs, ours)
    assert_same_predictions(theirs, ours)


@pytest.fixture(scope="module")
def small_mobilenets():
    """MobileNet(alpha=0.25, 32x32) without top, for each pooling, in both."""
    built = {}
    for pooling in (None, "avg", "max"):
        kwargs = {"input_shape": (32, 32, 3), "alpha": 0.25, "include_top": False,
                  "pooling": pooling}  # fmt: skip
        built[pooling] = (_build(keras, "MobileNet", kwargs),
                          _build(lamina, "MobileNet", kwargs))  # fmt: skip
    return built


@pytest.mark.parametrize("pooling", [None, "avg", "max"])
def test_include_top_false_with_each_pooling(small_mobilenets, pooling):
    theirs, ours = small_mobilenets[pooling]
    assert_same_network(theirs, ours)
    assert ours.output.shape == ((None, 1, 1, 256) if pooling is None else (None, 256))


def test_input_tensor_downstream_of_other_layers():
    def build(library):
        library.backend.clear_session()
        image = library.Input((32, 32, 3))
        tensor = library.layers.Activation("linear")(image)
        return library.applications.MobileNetV2(
            input_tensor=tensor, alpha=0.35, include_top=False, weights=None
        )

    theirs, ours = build(keras), build(lamina)
    assert_same_network(theirs, ours)
    assert len(ours.inputs) == 1 and tuple(ours.inputs[0].shape) == (None, 32, 32, 3)


def test_input_tensor_must_be_symbolic():
    with pytest.raises(ValueError, match="MobileNet: `input_tensor` must be a "
                       "KerasTensor .*; got input_tensor='torch.Tensor'"):  # fmt: skip
        lamina.applications.MobileNet(
            input_tensor=torch.zeros(1, 32, 32, 3),
            weights=None,
            input_shape=(32, 32, 3),
        )


# ------------------------------------------------------------- argument checks
ERRORS = [
    ("VGG16", {"weights": "nowhere.h5"}, ValueError, "VGG16: `weights` must be None"),
    ("ResNet50", {"weights": "imagenet", "classes": 10}, ValueError,
     r"ResNet50: `classes` must be 1000 with weights='imagenet' and include_top"),
    ("MobileNet", {"weights": None, "include_top": False, "pooling": "mean"},
     ValueError, "MobileNet: `pooling` must be None, 'avg' or 'max'; got pooling='mean'"),
    ("Xception", {"weights": "imagenet", "classifier_activation": "relu"}, ValueError,
     "Xception: `classifier_activation` must be None or 'softmax'"),
    ("InceptionV3", {"weights": None, "include_top": False, "input_shape": (64, 64, 3)},
     ValueError, r"InceptionV3: `input_shape` must be at least 75x75 pixels"),
    ("VGG19", {"weights": "imagenet", "input_shape": (64, 64, 3)}, ValueError,
     r"VGG19: `input_shape` must be \(224, 224, 3\) \(or None\) with include_top"),
    ("VGG19", {"weights": None, "include_top": False, "input_shape": (64, 64)},
     ValueError, r"VGG19: `input_shape` must be a tuple of 3 integers"),
    ("ResNet50", {"weights": "imagenet", "include_top": False, "input_shape": (64, 64, 1)},
     ValueError, "ResNet50: `input_shape` must be 3 channels with weights='imagenet'"),
    ("MobileNet", {"weights": "imagenet", "alpha": 0.3}, ValueError,
     "MobileNet: `alpha` must be one of 0.25, 0.5, 0.75, 1.0"),
    ("MobileNet", {"weights": "imagenet", "depth_multiplier": 2}, ValueError,
     "MobileNet: `depth_multiplier` must be 1 with weights='imagenet'"),
    ("MobileNetV2", {"weights": "imagenet", "alpha": 0.6}, ValueError,
     "MobileNetV2: `alpha` must be one of 0.35"),
    ("ConvNeXtTiny", {"weights": "imagenet", "name": "mine"}, ValueError,
     "ConvNeXtTiny: `name` must be a name containing 'convnext_tiny'"),
    ("NASNetLarge", {"weights": "imagenet", "include_top": False,
                     "input_shape": (None, None, 3)}, ValueError,
     r"NASNetLarge: `input_shape` must be static \(no None\) with weights='imagenet'"),
]  # fmt: skip


@pytest.mark.parametrize("fn,kwargs,error,match", ERRORS, ids=[e[0] for e in ERRORS])
def test_bad_arguments_raise_with_the_rule(fn, kwargs, error, match):
    with pytest.raises(error, match=match):
        getattr(lamina.applications, fn)(**kwargs)


@pytest.mark.parametrize("fn", ["DenseNet121", "NASNetMobile", "ConvNeXtTiny"])
def test_channels_last_only_families_refuse_channels_first(fn):
    previous = lamina.config.image_data_format()
    lamina.config.set_image_data_format("channels_first")
    try:
        with pytest.raises(ValueError, match=f"{fn}: `image_data_format\\(\\)` must"):
            getattr(lamina.applications, fn)(weights=None)
    finally:
        lamina.config.set_image_data_format(previous)


# ------------------------------------------------------------- weight files
@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    """An empty Keras cache and no network."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network in tests")

    monkeypatch.setattr(urllib.request, "urlretrieve", offline)
    return tmp_path


SMALL = {"alpha": 0.25, "input_shape": (128, 128, 3), "include_top": False}


def test_imagenet_weights_offline_name_the_file_and_where_to_put_it(keras_home):
    target = os.path.join(str(keras_home), "models", "mobilenet_2_5_128_tf_no_top.h5")
    with pytest.raises(OSError, match="MobileNet: weights='imagenet' needs Keras's "
                       "weight file 'mobilenet_2_5_128_tf_no_top.h5'") as info:  # fmt: skip
        lamina.applications.MobileNet(weights="imagenet", **SMALL)
    assert f"place that file at {target}" in str(info.value)


def test_imagenet_weights_load_from_keras_cache(keras_home):
    """Keras's (legacy ``.h5``) file, placed under Keras's name, is loaded."""
    keras.backend.clear_session()
    theirs = keras.applications.MobileNet(weights=None, **SMALL)
    rng = np.random.default_rng(1)
    theirs.set_weights([rng.normal(0, 0.3, w.shape) for w in theirs.get_weights()])
    (keras_home / "models").mkdir()
    path = keras_home / "models" / "mobilenet_2_5_128_tf_no_top.h5"
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, theirs)
    ours = lamina.applications.MobileNet(weights="imagenet", **SMALL)
    x = rng.uniform(-1, 1, (1, 128, 128, 3)).astype("float32")
    np.testing.assert_allclose(
        ours.predict(x, verbose=0), theirs.predict(x, verbose=0), atol=1e-4
    )


def test_weights_path_loads_that_file(tmp_path, small_mobilenets):
    theirs, _ = small_mobilenets["avg"]
    rng = np.random.default_rng(2)
    theirs.set_weights([rng.normal(0, 0.3, w.shape) for w in theirs.get_weights()])
    path = str(tmp_path / "mine.weights.h5")
    theirs.save_weights(path)
    ours = lamina.applications.MobileNet(
        weights=path, alpha=0.25, input_shape=(32, 32, 3), include_top=False,
        pooling="avg",
    )  # fmt: skip
    x = rng.uniform(-1, 1, (2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(
        ours.predict(x, verbose=0), theirs.predict(x, verbose=0), atol=1e-4
    )


# ------------------------------------------------------------ files both ways
ROUND_TRIPS = [
    ("MobileNetV2", {"input_shape": (32, 32, 3), "alpha": 0.35, "classes": 7}),
    ("ConvNeXtTiny", {"input_shape": (32, 32, 3), "include_top": False}),
]


@pytest.mark.parametrize("fn,kwargs", ROUND_TRIPS, ids=[f for f, _ in ROUND_TRIPS])
def test_keras_files_both_ways(tmp_path, fn, kwargs):
    theirs = _build(keras, fn, kwargs)
    x = _images(theirs)
    calibrated(theirs, _images(theirs, batch=8, seed=1))
    expected = np.asarray(theirs.predict(x, verbose=0))
    assert np.ptp(expected, axis=0).max() > 1e-4
    theirs.save(tmp_path / "keras.keras")
    ours = lamina.models.load_model(tmp_path / "keras.keras")
    assert_same_network(theirs, ours)
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected, atol=1e-4)
    ours.save(tmp_path / "lamina.keras")
    again = keras.models.load_model(tmp_path / "lamina.keras")
    np.testing.assert_allclose(again.predict(x, verbose=0), expected, atol=1e-4)


def test_keras2_h5_made_by_tf_keras_loads():
    """``tests/data/make_tf_keras_applications.py`` wrote it with tf-keras."""
    model = lamina.models.load_model(os.path.join(DATA, "tf_keras_mobilenet.h5"))
    expected = np.load(os.path.join(DATA, "tf_keras_mobilenet.npz"))
    assert model.name == "mobilenet_0.25_32"
    (predictions,) = model.predict(expected["x"], verbose=0)  # Keras 2's [output]
    assert np.ptp(expected["y"], axis=0).max() > 0.01  # the inputs matter
    np.testing.assert_allclose(predictions, expected["y"], atol=1e-4)


# ---------------------------------------------------- preprocess and decode
MODES = ["caffe", "tf", "torch"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("rank", [3, 4])
def test_preprocess_input_matches_keras(mode, data_format, rank):
    shape = (
        (2, 4, 5, 3)[-rank:] if data_format == "channels_last" else (2, 3, 4, 5)[-rank:]
    )
    x = np.random.default_rng(5).uniform(0, 255, shape).astype("float32")
    expected = keras.applications.imagenet_utils.preprocess_input(
        x.copy(), data_format, mode
    )
    ours = imagenet_utils.preprocess_input(x.copy(), data_format, mode)
    np.testing.assert_allclose(ours, expected, rtol=1e-6, atol=1e-5)
    tensor = imagenet_utils.preprocess_input(torch.from_numpy(x), data_format, mode)
    np.testing.assert_allclose(tensor.numpy(), expected, rtol=1e-6, atol=1e-5)


def test_preprocess_input_on_a_symbolic_input_and_integers():
    image = lamina.Input((4, 4, 3))
    model = lamina.Model(image, lamina.applications.resnet.preprocess_input(image))
    x = np.random.default_rng(6).integers(0, 255, (1, 4, 4, 3))
    expected = keras.applications.resnet.preprocess_input(x.astype("float32"))
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, atol=1e-4)
    np.testing.assert_allclose(
        lamina.applications.resnet.preprocess_input(x), expected, atol=1e-4
    )


FAMILY_MODULES = [
    "convnext", "densenet", "efficientnet", "efficientnet_v2", "inception_resnet_v2",
    "inception_v3", "mobilenet",
    "mobilenet_v2", "mobilenet_v3", "nasnet", "resnet", "resnet50", "resnet_v2", "vgg16", "vgg19",
    "xception",
]  # fmt: skip


@pytest.mark.parametrize("module", FAMILY_MODULES)
def test_each_family_preprocesses_as_keras(module):
    x = np.random.default_rng(7).uniform(0, 255, (1, 3, 3, 3)).astype("float32")
    expected = getattr(keras.applications, module).preprocess_input(x.copy())
    ours = getattr(lamina.applications, module).preprocess_input(x.copy())
    np.testing.assert_allclose(ours, expected, rtol=1e-6, atol=1e-5)


def test_preprocess_input_bad_mode():
    with pytest.raises(ValueError, match="preprocess_input: `mode` must be one of"):
        imagenet_utils.preprocess_input(np.zeros((1, 2, 2, 3)), mode="caffee")


@pytest.fixture
def class_index(keras_home, monkeypatch):
    """A generated 1000-class index placed in the temporary Keras cache."""
    index = {str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}
    (keras_home / "models").mkdir(exist_ok=True)
    path = keras_home / "models" / "imagenet_class_index.json"
    path.write_text(json.dumps(index))
    digest = hashlib.md5(path.read_bytes()).hexdigest()
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX_HASH", digest)
    return index


def test_decode_predictions_reads_the_index_from_keras_cache(class_index):
    preds = np.zeros((2, 1000), "float32")
    preds[0, [3, 7, 5]] = [0.5, 0.3, 0.2]
    preds[1, 999] = 1.0
    decoded = lamina.applications.vgg16.decode_predictions(preds, top=2)
    assert decoded[0] == [("n00000003", "class_3", 0.5), ("n00000007", "class_7", 0.3)]
    assert decoded[1][0] == ("n00000999", "class_999", 1.0)


def test_decode_predictions_offline_and_bad_shape(keras_home):
    with pytest.raises(ValueError, match=r"`preds.shape` must be \(samples, 1000\)"):
        imagenet_utils.decode_predictions(np.zeros((2, 10)))
    target = os.path.join(str(keras_home), "models", "imagenet_class_index.json")
    with pytest.raises(OSError, match="decode_predictions: needs Keras's ImageNet "
                       "class index") as info:  # fmt: skip
        imagenet_utils.decode_predictions(np.zeros((1, 1000)))
    assert target in str(info.value)


# ------------------------------------------------------------- custom layers
def test_layer_scale_and_stochastic_depth():
    scale = LayerScale(0.5, 3, name="scale")
    x = torch.ones(2, 3)
    np.testing.assert_allclose(scale(x).detach().numpy(), 0.5 * np.ones((2, 3)))
    assert [w.name for w in scale.weights] == ["variable"]
    drop = StochasticDepth(0.5)
    torch.manual_seed(0)
    y = drop(torch.ones(64, 2), training=True).numpy()
    assert set(np.unique(y)) <= {0.0, 2.0} and (y[:, 0] == y[:, 1]).all()
    assert 0 < (y == 0).mean() < 1
    assert drop(x).data_ptr() == x.data_ptr()
    config = lamina.saving.serialize_keras_object(scale)
    assert config["module"] == "keras.src.applications.convnext"
    assert keras.saving.deserialize_keras_object(config).init_values == 0.5


def test_mobilenet_v3_preprocessing_is_keras_rescaling():
    kwargs = {"input_shape": (32, 32, 3), "alpha": 0.75, "include_top": False}
    theirs = _build(keras, "MobileNetV3Small", kwargs)
    ours = _build(lamina, "MobileNetV3Small", kwargs)
    assert_same_network(theirs, ours)
    assert_same_predictions(theirs, ours)


# ---------------------------------------------------------------- EfficientNet
@pytest.mark.parametrize("ours,theirs", [(efficientnet, keras_efficientnet),
                                         (efficientnet_v2, keras_efficientnet_v2)])  # fmt: skip
def test_efficientnet_tables_are_keras(ours, theirs):
    """The blocks of every variant and the weight files' hashes and folder."""
    assert ours.DEFAULT_BLOCKS_ARGS == theirs.DEFAULT_BLOCKS_ARGS
    assert ours.WEIGHTS_HASHES == theirs.WEIGHTS_HASHES
    folder = ours.WEIGHTS_FOLDER
    assert (folder if "://" in folder else _builder.WEIGHTS_ROOT + folder) == (
        theirs.BASE_WEIGHTS_PATH
    )


def test_efficientnet_imagenet_weights_file_name_hash_and_layers(
    keras_home, monkeypatch
):
    """``weights="imagenet"`` adds Keras's second ``Rescaling`` and reads
    Keras's file (same name and hash as Keras asks for) from the cache."""
    asked = []
    monkeypatch.setattr(keras_efficientnet.file_utils, "get_file",
                        lambda *args, **kwargs: asked.append((args, kwargs)))  # fmt: skip
    monkeypatch.setattr(keras_efficientnet.Functional, "load_weights",
                        lambda self, path: None)  # fmt: skip
    kwargs = {"input_shape": (64, 64, 3), "include_top": False, "pooling": "max"}
    keras.backend.clear_session()
    theirs = keras.applications.EfficientNetB0(weights="imagenet", **kwargs)
    calibrated(theirs, _images(theirs, batch=8, seed=1))
    (fname, origin), options = asked[0]
    (keras_home / "models").mkdir()
    with h5py.File(keras_home / "models" / fname, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, theirs)
    name, url, file_hash = _builder.WeightFile(
        "efficientnetb0.h5", "efficientnetb0_notop.h5", efficientnet.WEIGHTS_FOLDER,
        *efficientnet.WEIGHTS_HASHES["b0"],
    ).pick(include_top=False)  # fmt: skip
    assert (name, url, file_hash) == (fname, origin, options["file_hash"])
    digest = hashlib.md5((keras_home / "models" / fname).read_bytes()).hexdigest()
    monkeypatch.setitem(efficientnet.WEIGHTS_HASHES, "b0", ("unused", digest))
    lamina.backend.clear_session()
    ours = lamina.applications.EfficientNetB0(weights="imagenet", **kwargs)
    assert_same_network(theirs, ours)
    assert [layer.name for layer in ours.layers[1:4]] == [
        "rescaling",
        "normalization",
        "rescaling_1",
    ]
    x = _images(theirs)
    expected = np.asarray(theirs.predict(x, verbose=0))
    assert np.ptp(expected, axis=0).max() > 1e-4
    scale = max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected, atol=1e-4 * scale)


EFFICIENTNET_ERRORS = [
    (efficientnet.EfficientNet, {"blocks_args": [{"repeats": 0}]},
     r"EfficientNet: `blocks_args\[...\]\['repeats'\]` must be > 0 .*; got "
     r"blocks_args\[...\]\['repeats'\]=0"),
    (efficientnet.EfficientNet, {"weights": "imagenet"},
     r"EfficientNet: `weights_name` must be one of 'b0', .* 'b7' with "
     r"weights='imagenet'; got weights_name=None"),
    (efficientnet_v2.EfficientNetV2, {"weights": None},
     r"EfficientNetV2: `blocks_args` must be a list of block dicts unless `name` "
     r"or `weights_name` names a Keras variant; got blocks_args='default'"),
    (efficientnet_v2.EfficientNetV2, {"weights": None, "blocks_args": [
        {"num_repeat": -1}]}, r"EfficientNetV2: `blocks_args\[...\]\['num_repeat'\]` "
     r"must be > 0"),
]  # fmt: skip


@pytest.mark.parametrize("fn,kwargs,match", EFFICIENTNET_ERRORS)
def test_efficientnet_builder_checks(fn, kwargs, match):
    with pytest.raises(ValueError, match=match):
        fn(1.0, 1.0, 224, input_shape=(32, 32, 3), **kwargs)


def test_efficientnet_v2_custom_name_keeps_the_variant():
    """Keras picks V2's blocks by ``name`` and so raises a KeyError for any
    other name; lamina falls back to the variant of the function called."""
    model = lamina.applications.EfficientNetV2B0(
        weights=None, include_top=False, input_shape=(32, 32, 3), name="mine"
    )
    assert model.name == "mine" and model.count_params() == 5919312
    assert type(model.layers[2]).__name__ == "Normalization"  # B0's preprocessing


@pytest.mark.parametrize(
    "ours,theirs,builder",
    [(efficientnet, keras_efficientnet, "EfficientNet"),
     (efficientnet_v2, keras_efficientnet_v2, "EfficientNetV2")],
)  # fmt: skip
def test_efficientnet_variants_pass_keras_scaling(monkeypatch, ours, theirs, builder):
    """Every variant gives the builder Keras's coefficients, default size,
    dropout rate, name and weights (recorded, nothing built): what the
    structure-only tests at a fixed input size cannot see."""
    keras_calls, our_calls = [], []
    signature = inspect.signature(getattr(theirs, builder))

    def record_keras(*args, **kwargs):
        keras_calls.append(dict(signature.bind(*args, **kwargs).arguments))

    monkeypatch.setattr(theirs, builder, record_keras)
    monkeypatch.setattr(ours, "build", lambda req: our_calls.append(req))
    for fn in sorted(
        n for n in theirs.__dict__ if n.startswith(builder) and n != builder
    ):
        getattr(theirs, fn)(weights=None)
        getattr(ours, fn)(weights=None)
    assert len(our_calls) == len(keras_calls) == (8 if builder == "EfficientNet" else 7)
    for req, expected in zip(our_calls, keras_calls):
        full = {**{k: p.default for k, p in signature.parameters.items()}, **expected}
        got = {**dataclasses.asdict(req), **req.extras}
        for key, value in full.items():
            assert got[key] == value, (req.owner, key)


@pytest.fixture
def channels_first():
    previous = lamina.config.image_data_format(), keras.config.image_data_format()
    lamina.config.set_image_data_format("channels_first")
    keras.config.set_image_data_format("channels_first")
    yield
    lamina.config.set_image_data_format(previous[0])
    keras.config.set_image_data_format(previous[1])


@pytest.mark.parametrize("fn", ["EfficientNetB0", "EfficientNetV2B0"])
def test_efficientnet_channels_first(channels_first, fn):
    """Channel axis 1: the input normalization, the squeeze-excite reshape and
    the stride-2 padding."""
    kwargs = {"input_shape": (3, 64, 64), "include_top": False}
    theirs, ours = _build(keras, fn, kwargs), _build(lamina, fn, kwargs)
    assert_same_network(theirs, ours)
    assert_same_layer_configs(theirs, ours)
    assert_same_predictions(theirs, ours)

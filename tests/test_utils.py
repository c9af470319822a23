"""lamina.utils against Keras 3: every public name, the array helpers, files,
image helpers, split_dataset, bounding boxes, legacy serialization, get_source_inputs.
(The dataset-from-directory utilities: tests/test_dataset_utils.py.)"""

from __future__ import annotations

import hashlib
import os
import tarfile
import zipfile

import keras
import numpy as np
import pytest
import torch

import lamina
from lamina import config
from lamina.utils import file_utils

# deliberate exceptions: name -> reason
PENDING = {
    "utils": {},
    "datasets": {},
    "config": {},
}


def _public(module):
    return {n for n in dir(module) if not n.startswith("_")}


@pytest.mark.parametrize("namespace", ["utils", "datasets", "config"])
def test_every_public_keras_name_exists(namespace):
    keras_names = _public(getattr(keras, namespace))
    ours = _public(getattr(lamina, namespace))
    missing = keras_names - ours - set(PENDING[namespace])
    assert not missing, f"lamina.{namespace} lacks {sorted(missing)}"
    assert set(PENDING[namespace]) <= keras_names  # no stale exception


@pytest.mark.parametrize("name", ["bounding_boxes", "legacy"])
def test_utils_submodules_have_keras_names(name):
    missing = _public(getattr(keras.utils, name)) - _public(getattr(lamina.utils, name))
    assert not missing


def test_preprocessing_and_dataset_modules_have_keras_names():
    for path in ("preprocessing", "preprocessing.image", "preprocessing.sequence"):
        k, ours = keras, lamina
        for part in path.split("."):
            k, ours = getattr(k, part), getattr(ours, part)
        assert _public(k) <= _public(ours), path
    for name in _public(keras.datasets):
        assert _public(getattr(keras.datasets, name)) <= _public(
            getattr(lamina.datasets, name)
        ), name


def test_utils_dir_lists_the_lazy_names():
    assert {"plot_model", "PyDataset", "image_dataset_from_directory"} <= set(
        dir(lamina.utils)
    )
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        lamina.utils.nope  # noqa: B018


# ------------------------------------------------------------ array helpers
@pytest.mark.parametrize(
    "labels, num_classes",
    [([0, 2, 1], None), ([[1], [3]], 5), (np.array([[0, 1], [2, 0]]), 3)],
)
def test_to_categorical_matches_keras(labels, num_classes):
    expected = keras.utils.to_categorical(labels, num_classes)
    got = lamina.utils.to_categorical(labels, num_classes)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


def test_to_categorical_tensor_and_errors():
    out = lamina.utils.to_categorical(torch.tensor([[0], [2]]), 3)
    expected = keras.utils.to_categorical(torch.tensor([[0], [2]]), 3)
    assert out.dtype == torch.float32
    np.testing.assert_array_equal(out.numpy(), expected.cpu().numpy())
    with pytest.raises(ValueError, match=r"`x` must hold class ids in \[0, 3\)"):
        lamina.utils.to_categorical([0, 3], 3)
    with pytest.raises(ValueError, match="`num_classes` must be None or an integer"):
        lamina.utils.to_categorical([0], num_classes=0)


def test_normalize_matches_keras():
    x = np.array([[3.0, 4.0], [0.0, 0.0], [1.0, -2.0]])
    for order, axis in ((2, -1), (1, 1)):
        np.testing.assert_allclose(
            lamina.utils.normalize(x, axis, order),
            keras.utils.normalize(x, axis, order),
        )
    # Keras's NumPy branch breaks for axis=0 (it uses `axis or -1`)
    expected = x / np.linalg.norm(x, 2, 0, keepdims=True)
    np.testing.assert_allclose(lamina.utils.normalize(x, 0), expected)
    t = torch.tensor(x, dtype=torch.float32)
    np.testing.assert_allclose(
        lamina.utils.normalize(t).numpy(),
        keras.utils.normalize(t).cpu().numpy(),
        rtol=1e-6,
    )


SEQUENCES = [[1], [2, 3], [4, 5, 6, 7], []]


@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("truncating", ["pre", "post"])
@pytest.mark.parametrize("maxlen", [None, 2, 5])
def test_pad_sequences_matches_keras(padding, truncating, maxlen):
    kwargs = dict(maxlen=maxlen, padding=padding, truncating=truncating, value=-1)
    expected = keras.utils.pad_sequences(SEQUENCES, **kwargs)
    got = lamina.utils.pad_sequences(SEQUENCES, **kwargs)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


def test_pad_sequences_other_dtypes_and_errors():
    seqs = [np.ones((2, 3)), np.zeros((1, 3))]
    np.testing.assert_array_equal(
        lamina.preprocessing.sequence.pad_sequences(seqs, dtype="float32"),
        keras.preprocessing.sequence.pad_sequences(seqs, dtype="float32"),
    )
    words = [["a", "b"], ["c"]]
    np.testing.assert_array_equal(
        lamina.utils.pad_sequences(words, dtype=object, value="_"),
        keras.utils.pad_sequences(words, dtype=object, value="_"),
    )
    with pytest.raises(ValueError, match="`padding` must be one of 'pre', 'post'"):
        lamina.utils.pad_sequences(SEQUENCES, padding="middle")
    with pytest.raises(ValueError, match="`dtype` must be `object` or a string"):
        lamina.utils.pad_sequences(words, value="_")
    with pytest.raises(ValueError, match="steps must have the shape"):
        lamina.utils.pad_sequences([np.ones((2, 3)), np.ones((2, 2))])


def test_set_random_seed_seeds_python_numpy_and_torch():
    import random

    lamina.utils.set_random_seed(5)
    draws = (random.random(), np.random.rand(), torch.rand(1).item())
    lamina.utils.set_random_seed(5)
    assert draws == (random.random(), np.random.rand(), torch.rand(1).item())
    with pytest.raises(ValueError, match="`seed` must be an integer; got seed=1.5"):
        lamina.utils.set_random_seed(1.5)


def test_config_behaves_like_keras():
    ours, theirs = lamina.utils.Config(rate=1), keras.utils.Config(rate=1)
    for c in (ours, theirs):
        c.b = 2
        c["c"] = 3
    assert ours.as_dict() == theirs.as_dict() and list(ours) == list(theirs)
    assert ours.to_json() == theirs.to_json() and len(ours) == 3 and "b" in ours
    ours.freeze()
    with pytest.raises(ValueError, match="frozen"):
        ours.d = 4
    with pytest.raises(AttributeError, match="Did you mean 'rate'"):
        ours.rat  # noqa: B018


def test_pack_unpack_and_reexports():
    x, y = np.ones(2), np.zeros(2)
    for lib in (lamina, keras):
        assert lib.utils.unpack_x_y_sample_weight((x, y))[1] is y
        assert len(lib.utils.pack_x_y_sample_weight(x, y)) == 2
    assert lamina.utils.standardize_dtype(torch.float32) == "float32"
    assert lamina.utils.get_registered_object is lamina.saving.get_registered_object
    assert lamina.utils.Sequence is lamina.utils.PyDataset
    assert lamina.utils.is_keras_tensor(lamina.Input((2,)))
    assert not lamina.utils.is_keras_tensor(np.ones(2))


def test_get_source_inputs_walks_to_the_inputs():
    a, b = lamina.Input((2,)), lamina.Input((2,))
    mid = lamina.layers.Dense(2)(a)
    total = lamina.layers.Lambda(lambda ts: ts[0] + ts[1] + ts[2])
    out = total([mid, lamina.layers.Dense(2)(b), mid])
    sources = lamina.utils.get_source_inputs(out)
    assert len(sources) == 2 and sources[0] is a and sources[1] is b
    assert lamina.utils.get_source_inputs(a) == [a]


def test_legacy_serialization_round_trips_and_matches_keras_layout():
    layer = lamina.layers.Dense(3, kernel_initializer="ones", name="d")
    ours = lamina.utils.legacy.serialize_keras_object(layer)
    theirs = keras.utils.legacy.serialize_keras_object(
        keras.layers.Dense(3, kernel_initializer="ones", name="d")
    )
    assert ours["class_name"] == theirs["class_name"] == "Dense"
    assert set(ours) == {"class_name", "config"}
    assert set(ours["config"]) == set(theirs["config"])
    assert (
        ours["config"]["kernel_initializer"] == theirs["config"]["kernel_initializer"]
    )
    clone = lamina.utils.legacy.deserialize_keras_object(
        ours, custom_objects={"Dense": lamina.layers.Dense}
    )
    assert clone.units == 3 and clone.get_config()["kernel_initializer"][
        "class_name"
    ] == ("Ones")


# ------------------------------------------------------------------ get_file
def _sha256(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def test_get_file_downloads_caches_and_checks_hashes(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    source = tmp_path / "data.bin"
    source.write_bytes(b"lamina" * 100)
    sha, md5 = _sha256(source), hashlib.md5(source.read_bytes()).hexdigest()
    path = lamina.utils.get_file(origin=source.as_uri(), file_hash=sha)
    assert path == str(tmp_path / "home" / "datasets" / "data.bin")
    assert open(path, "rb").read() == source.read_bytes()
    # cached: found even when the origin is gone, with an md5 hash too
    source.unlink()
    assert lamina.utils.get_file("data.bin", source.as_uri(), md5_hash=md5) == path
    assert lamina.utils.get_file("data.bin", source.as_uri(), file_hash=md5) == path
    # Keras reads lamina's cache and vice versa
    home = str(tmp_path / "home")  # Keras reads KERAS_HOME once, at import
    assert keras.utils.get_file("data.bin", "x", file_hash=sha, cache_dir=home) == path


def test_get_file_offline_error_names_url_and_path(tmp_path):
    origin = (tmp_path / "missing.npz").as_uri()
    with pytest.raises(OSError) as info:
        lamina.utils.get_file(
            origin=origin, cache_dir=tmp_path / "cache", file_hash="ab"
        )
    message = str(info.value)
    assert origin in message
    assert str(tmp_path / "cache" / "datasets" / "missing.npz") in message
    assert not os.path.exists(tmp_path / "cache" / "datasets" / "missing.npz")


def test_get_file_wrong_hash_raises_and_keeps_nothing(tmp_path):
    source = tmp_path / "x.txt"
    source.write_text("x")
    with pytest.raises(ValueError, match="must have the sha256 hash 0{64}; got"):
        lamina.utils.get_file(
            origin=source.as_uri(), cache_dir=tmp_path, file_hash="0" * 64
        )
    assert not os.path.exists(tmp_path / "datasets" / "x.txt")


@pytest.mark.parametrize("kind", ["tar.gz", "zip"])
def test_get_file_extracts_like_keras(tmp_path, kind):
    inner = tmp_path / "inner.txt"
    inner.write_text("hi")
    archive = tmp_path / f"pack.{kind}"
    if kind == "zip":
        with zipfile.ZipFile(archive, "w") as z:
            z.write(inner, "folder/inner.txt")
    else:
        with tarfile.open(archive, "w:gz") as t:
            t.add(inner, "folder/inner.txt")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()  # Keras falls back to /tmp/.keras for a missing cache_dir
    for fname in (f"pack.{kind}", "packdir"):
        ours = lamina.utils.get_file(fname, archive.as_uri(), extract=True,
                                     cache_dir=tmp_path / "a")  # fmt: skip
        theirs = keras.utils.get_file(fname, archive.as_uri(), extract=True,
                                      cache_dir=tmp_path / "b")  # fmt: skip
        assert os.path.relpath(ours, tmp_path / "a") == os.path.relpath(
            theirs, tmp_path / "b"
        )
        assert open(os.path.join(ours, "folder", "inner.txt")).read() == "hi"


def test_extract_archive_skips_members_outside_the_folder(tmp_path):
    archive = tmp_path / "evil.tar"
    payload = tmp_path / "p.txt"
    payload.write_text("x")
    with tarfile.open(archive, "w") as t:
        t.add(payload, "../escaped.txt")
        t.add(payload, "ok.txt")
    with pytest.warns(UserWarning, match="outside"):
        assert file_utils.extract_archive(archive, tmp_path / "out")
    assert (tmp_path / "out" / "ok.txt").exists()
    assert not (tmp_path / "escaped.txt").exists()


# ------------------------------------------------------------ image helpers
def test_image_helpers_match_keras(tmp_path):
    rng = np.random.default_rng(0)
    array = rng.random((6, 8, 3)) * 255
    for fmt in ("channels_last", "channels_first"):
        x = array if fmt == "channels_last" else array.transpose(2, 0, 1)
        ours = lamina.utils.array_to_img(x, data_format=fmt)
        theirs = keras.utils.array_to_img(x, data_format=fmt)
        assert ours.mode == theirs.mode
        np.testing.assert_array_equal(
            lamina.utils.img_to_array(ours, data_format=fmt),
            keras.utils.img_to_array(theirs, data_format=fmt),
        )
    path = str(tmp_path / "x.png")
    lamina.utils.save_img(path, array)
    for kwargs in (
        {}, {"color_mode": "grayscale"}, {"color_mode": "rgba"},
        {"target_size": (3, 5), "interpolation": "bilinear"},
        {"target_size": (4, 4), "keep_aspect_ratio": True},
    ):  # fmt: skip
        np.testing.assert_array_equal(
            np.asarray(lamina.utils.load_img(path, **kwargs)),
            np.asarray(keras.utils.load_img(path, **kwargs)),
        )
    with pytest.raises(ValueError, match="`color_mode` must be one of"):
        lamina.utils.load_img(path, color_mode="cmyk")


def test_smart_resize_bicubic_is_the_one_resize_op():
    """Bicubic follows TensorFlow (keras.ops.image.resize, tested there against
    TensorFlow's kernel); Keras on torch uses torch's a=-0.75 kernel instead."""
    x = np.random.default_rng(1).random((2, 9, 14, 3)).astype("float32")
    ours = lamina.preprocessing.image.smart_resize(x, (6, 6), "bicubic")
    crop = x[:, :, 2:11]  # the centred 9x9 crop of the 9x14 images
    expected = lamina.ops.image.resize(crop, (6, 6), "bicubic").numpy()
    np.testing.assert_allclose(ours, expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_smart_resize_matches_keras(interpolation):
    x = np.random.default_rng(1).random((2, 9, 14, 3)).astype("float32")
    for size in ((5, 5), (12, 4)):
        np.testing.assert_allclose(
            lamina.preprocessing.image.smart_resize(x, size, interpolation),
            keras.preprocessing.image.smart_resize(x, size, interpolation),
            rtol=1e-5,
            atol=1e-5,
        )


# ------------------------------------------------------------ split_dataset
def test_split_dataset_sizes_and_orders():
    data = (np.arange(10), np.arange(10) * 2)
    left, right = lamina.utils.split_dataset(data, left_size=0.7)
    assert [int(a) for a, _ in left] == list(range(7))
    assert [int(a) for a, _ in right] == [7, 8, 9]
    # shuffled: Keras's torch backend split (random_split with a seeded generator)
    ours = lamina.utils.split_dataset(np.arange(10), left_size=6, shuffle=True, seed=3)
    theirs = keras.utils.split_dataset(np.arange(10), left_size=6, shuffle=True, seed=3)
    for a, b in zip(ours, theirs):
        assert [int(x[0]) for x in a] == [int(x[0]) for x in b]
    with pytest.raises(ValueError, match="`left_size` must be a count in"):
        lamina.utils.split_dataset(np.arange(10), left_size=10)
    with pytest.raises(ValueError, match="`left_size` or `right_size` must be given"):
        lamina.utils.split_dataset(np.arange(10))


# ------------------------------------------------------------ bounding boxes
FORMATS = ["xyxy", "yxyx", "xywh", "center_xywh", "center_yxhw", "rel_xyxy",
           "rel_yxyx", "rel_xywh", "rel_center_xywh"]  # fmt: skip


@pytest.mark.parametrize("source", FORMATS)
def test_convert_format_matches_keras(source):
    boxes = np.random.default_rng(2).random((2, 3, 4)).astype("float32") * 10
    for target in FORMATS:
        kwargs = dict(height=20, width=30)
        ours = lamina.utils.bounding_boxes.convert_format(
            boxes, source, target, **kwargs
        )
        theirs = keras.utils.bounding_boxes.convert_format(
            boxes, source, target, **kwargs
        )
        np.testing.assert_allclose(
            ours.numpy(), theirs.cpu().numpy(), rtol=1e-5, atol=1e-5
        )


def test_box_transforms_and_iou_match_keras():
    bb_ours, bb_keras = lamina.utils.bounding_boxes, keras.utils.bounding_boxes
    rng = np.random.default_rng(3)
    xy = rng.random((2, 4, 2)) * 20
    boxes = np.concatenate([xy, xy + rng.random((2, 4, 2)) * 15], -1).astype("float32")
    boxes[0, 0] = -1.0

    def same(a, b):
        if isinstance(a, dict):
            return [same(a[k], b[k]) for k in b]
        np.testing.assert_allclose(np.asarray(a), b.cpu().numpy(), rtol=1e-4, atol=1e-4)

    for fn, args, kwargs in [
        ("clip_to_image_size", ({"boxes": boxes, "labels": np.arange(8).reshape(2, 4)},),
         dict(height=18, width=25)),
        ("crop", (boxes, 2, 3, 10, 12), {}),
        ("pad", (boxes, 2, 3), {}),
        ("compute_iou", (boxes, boxes[:, :3], "xyxy"), {}),
        ("compute_iou", (boxes[0], boxes[1], "xyxy"), dict(use_masking=True)),
        ("compute_ciou", (boxes, boxes[:, ::-1], "xyxy"), {}),
        ("encode_box_to_deltas", (boxes[1], boxes[0], "xyxy", "xyxy"), dict(variance=[0.1, 0.1, 0.2, 0.2])),
        ("decode_deltas_to_boxes", (torch.tensor(boxes[1]), torch.tensor(boxes[0] / 50), "xyxy", "center_xywh"), {}),
    ]:  # fmt: skip
        same(
            getattr(bb_ours, fn)(*args, **kwargs),
            getattr(bb_keras, fn)(*args, **kwargs),
        )
    params = [np.array(v, "float32") for v in ([10.0, -30.0], [0.1, 0.0], [0.0, -0.2],
                                               [1.0, 1.5], [5.0, 0.0], [0.0, 10.0])]  # fmt: skip
    same(
        bb_ours.affine_transform(boxes, *params, height=30, width=40),
        bb_keras.affine_transform(
            boxes, *[torch.tensor(p) for p in params], height=30, width=40
        ),
    )


def test_config_functions():
    assert (
        lamina.config.max_epochs() is None and lamina.config.is_nnx_enabled() is False
    )
    lamina.config.set_max_steps_per_epoch(2)
    assert lamina.config.max_steps_per_epoch() == 2
    lamina.config.disable_traceback_filtering()
    assert not lamina.config.is_traceback_filtering_enabled()
    lamina.config.disable_flash_attention()
    assert lamina.config.is_flash_attention_enabled() is False
    lamina.config.enable_flash_attention()
    assert lamina.config.is_flash_attention_enabled() is None  # Keras's "auto"
    lamina.config.set_backend("torch")
    with pytest.raises(ValueError, match="`backend` must be 'torch'"):
        lamina.config.set_backend("jax")
    with pytest.raises(
        ValueError, match="`max_epochs` must be None or an integer >= 1"
    ):
        lamina.config.set_max_epochs(0)
    assert config.backend() == "torch"

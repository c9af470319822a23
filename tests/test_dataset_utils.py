"""The dataset utilities against Keras 3: image/text/audio folders, timeseries
windows, PyDataset workers, tf.data-like inputs, fit's caps, keras.datasets files.

Keras's own datasets need tf.data (or grain), which are not installed here: the
tests compare with Keras's file indexing (``dataset_utils.index_directory`` and
the subset split) and with its torch-backend image loader
(``image_dataset_utils._load_image_grain``), and with NumPy references.
"""

from __future__ import annotations

import gzip
import json
import multiprocessing
import os
import pickle
import tarfile
import threading
import time
import wave

import keras
import numpy as np
import pytest
import torch
from keras.src.utils import dataset_utils as keras_dataset_utils
from keras.src.utils import image_dataset_utils as keras_image_utils

import lamina
from lamina.datasets import safe_pickle


@pytest.fixture(scope="module")
def image_tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    for cls, count in (("b_dogs", 4), ("a_cats", 5), (".hidden", 1)):
        (root / cls).mkdir()
        for i in range(count):
            size = (9 + i, 13 - i, 3)
            ext = "png" if i % 2 else "bmp"
            lamina.utils.save_img(
                str(root / cls / f"{i}.{ext}"), rng.random(size) * 255
            )
    (root / "a_cats" / "notes.txt").write_text("not an image")
    return root


def _keras_index(root, shuffle, seed, labels="inferred", class_names=None):
    return keras_dataset_utils.index_directory(
        str(root), labels, keras_image_utils.ALLOWLIST_FORMATS, class_names,
        shuffle, seed, False, False,
    )  # fmt: skip


@pytest.mark.parametrize("shuffle, seed", [(False, None), (True, 7)])
def test_class_names_file_order_and_splits_are_keras(image_tree, shuffle, seed):
    paths, labels, classes = _keras_index(image_tree, shuffle, seed)
    kwargs = dict(image_size=(6, 5), shuffle=shuffle, seed=seed, verbose=False)
    ds = lamina.utils.image_dataset_from_directory(str(image_tree), **kwargs)
    assert ds.class_names == classes == ["a_cats", "b_dogs"]
    assert ds.file_paths == paths
    train, val = lamina.utils.image_dataset_from_directory(
        str(image_tree), validation_split=0.34, subset="both", **kwargs
    )
    for subset, part in (("training", train), ("validation", val)):
        expected, _ = keras_dataset_utils.get_training_or_validation_split(
            paths, labels, 0.34, subset
        )
        assert part.file_paths == expected
    assert len(train.file_paths) + len(val.file_paths) == 9


@pytest.mark.parametrize(
    "options",
    [
        dict(),
        dict(interpolation="nearest", color_mode="grayscale"),
        # bicubic follows TensorFlow's kernel (keras.ops.image.resize), which Keras
        # on torch does not use: tests/test_utils.py checks it through smart_resize
        dict(interpolation="bilinear", color_mode="rgba", crop_to_aspect_ratio=True),
        dict(pad_to_aspect_ratio=True, data_format="channels_first"),
    ],
)
def test_images_and_labels_match_keras_loader(image_tree, options):
    size = (7, 8)
    ds = lamina.utils.image_dataset_from_directory(
        str(image_tree), image_size=size, shuffle=False, batch_size=4,
        label_mode="categorical", verbose=False, **options,
    )  # fmt: skip
    channels = {"grayscale": 1, "rgba": 4}.get(options.get("color_mode"), 3)
    fmt = options.get("data_format", "channels_last")
    images, labels = zip(*ds)
    images, labels = torch.cat(images), torch.cat(labels)
    paths, ids, _ = _keras_index(image_tree, False, None)
    expected = np.stack([
        keras_image_utils._load_image_grain(
            p, size, channels, options.get("interpolation", "bilinear"), fmt,
            options.get("crop_to_aspect_ratio", False),
            options.get("pad_to_aspect_ratio", False),
        ).cpu().numpy()
        for p in paths
    ])  # fmt: skip
    assert images.dtype == torch.float32 and tuple(images.shape) == expected.shape
    np.testing.assert_allclose(images.numpy(), expected, rtol=1e-5, atol=1e-3)
    np.testing.assert_array_equal(labels.numpy(), np.eye(2, dtype="float32")[ids])
    assert len(ds) == 3


def test_label_modes_batching_and_errors(image_tree):
    root = str(image_tree)
    kw = dict(image_size=(4, 4), verbose=False, shuffle=False)
    _, y = next(
        iter(lamina.utils.image_dataset_from_directory(root, label_mode="binary", **kw))
    )
    assert y.dtype == torch.float32 and tuple(y.shape) == (9, 1)
    x = next(iter(lamina.utils.image_dataset_from_directory(root, labels=None, **kw)))
    assert isinstance(x, torch.Tensor) and tuple(x.shape) == (
        10,
        4,
        4,
        3,
    )  # .hidden too
    single = lamina.utils.image_dataset_from_directory(root, batch_size=None, **kw)
    image, label = next(iter(single))
    assert tuple(image.shape) == (4, 4, 3) and label.dtype == torch.int32
    assert len(single.take(2)) == 2 and len(list(single.take(2))) == 2
    only = lamina.utils.image_dataset_from_directory(root, class_names=["b_dogs"], **kw)
    assert only.class_names == ["b_dogs"] and len(only.file_paths) == 4
    errors = [
        (
            dict(validation_split=0.2, subset="training", shuffle=True),
            "`seed` must be given",
        ),
        (dict(validation_split=0.2), "`subset` and `validation_split` must be given"),
        (dict(color_mode="cmyk"), "`color_mode` must be one of"),
        (dict(interpolation="gaussian"), "`interpolation` must be one of"),
        (dict(label_mode="binary", labels=[0, 1, 2] * 3 + [0]), "exactly 2 classes"),
        (dict(labels=[0, 1]), "`labels` must have one label per file; got 2"),
        (dict(image_size=(0, 3)), "`image_size` must be a tuple of 2 positive"),
    ]
    for extra, match in errors:
        with pytest.raises(ValueError, match=match):
            lamina.utils.image_dataset_from_directory(root, **{**kw, **extra})


def test_fit_evaluate_predict_consume_the_dataset_with_workers(image_tree):
    ds = lamina.utils.image_dataset_from_directory(
        str(image_tree), image_size=(6, 6), batch_size=4, seed=3, verbose=False,
        num_workers=2,
    )  # fmt: skip
    model = lamina.Sequential(
        [lamina.Input((6, 6, 3)), lamina.layers.Flatten(), lamina.layers.Dense(2)]
    )
    model.compile("sgd", lamina.losses.SparseCategoricalCrossentropy(from_logits=True))
    assert len(model.fit(ds, epochs=2, verbose=0).history["loss"]) == 2
    assert np.isfinite(model.evaluate(ds, verbose=0))
    assert model.predict(ds, verbose=0).shape == (9, 2)


def test_text_dataset_matches_keras_index(tmp_path):
    for cls, texts in (("neg", ["bad\r\nfilm", "awful"]), ("pos", ["great", "fine ü"])):
        (tmp_path / cls).mkdir()
        for i, text in enumerate(texts):
            (tmp_path / cls / f"{i}.txt").write_bytes(text.encode())
    ds = lamina.utils.text_dataset_from_directory(
        str(tmp_path), batch_size=3, shuffle=True, seed=2, max_length=4, verbose=False
    )
    paths, labels, classes = keras_dataset_utils.index_directory(
        str(tmp_path), "inferred", (".txt",), None, True, 2, False, False
    )
    assert ds.file_paths == paths and ds.class_names == classes
    texts, ids = zip(*[(t, y) for x, yb in ds for t, y in zip(x, yb.tolist())])
    expected = {p: open(p, "rb").read().decode()[:4] for p in paths}
    assert sorted(texts) == sorted(expected.values())
    assert sorted(ids) == sorted(labels.tolist())
    assert isinstance(texts[0], str)


def _write_wav(path, values, rate=8000, width=2):
    with wave.open(str(path), "wb") as f:
        f.setnchannels(values.shape[1])
        f.setsampwidth(width)
        f.setframerate(rate)
        f.writeframes(values.astype("<i2").tobytes())


def test_audio_dataset_decodes_pads_and_resamples(tmp_path):
    (tmp_path / "tone").mkdir()
    clips = [np.arange(10 * k * 2).reshape(-1, 2) * 100 for k in (1, 3)]
    for i, clip in enumerate(clips):
        _write_wav(tmp_path / "tone" / f"{i}.wav", clip)
    kw = dict(shuffle=False, verbose=False)
    audio, labels = next(
        iter(lamina.utils.audio_dataset_from_directory(str(tmp_path), **kw))
    )
    assert tuple(audio.shape) == (2, 30, 2) and labels.tolist() == [0, 0]
    np.testing.assert_allclose(audio[0, :10].numpy(), clips[0] / 32768.0)
    assert float(audio[0, 10:].abs().sum()) == 0.0  # padded to the longest
    cut = lamina.utils.audio_dataset_from_directory(
        str(tmp_path), output_sequence_length=5, **kw
    )
    assert tuple(next(iter(cut))[0].shape) == (2, 5, 2)
    ragged, _ = next(
        iter(
            lamina.utils.audio_dataset_from_directory(str(tmp_path), ragged=True, **kw)
        )
    )
    assert [tuple(r.shape) for r in ragged] == [(10, 2), (30, 2)]
    half = lamina.utils.audio_dataset_from_directory(
        str(tmp_path), sampling_rate=4000, **kw
    )
    assert tuple(next(iter(half))[0].shape) == (2, 15, 2)
    with pytest.raises(ValueError, match="`ragged` and `output_sequence_length`"):
        lamina.utils.audio_dataset_from_directory(
            str(tmp_path), ragged=True, output_sequence_length=3
        )


def _windows_reference(data, targets, length, stride, rate, start, end):
    """Keras's timeseries rule, written out in NumPy."""
    start, end = start or 0, len(data) if end is None else end
    count = end - start - (length - 1) * rate
    if targets is not None:
        count = min(count, len(targets))
    positions = np.arange(0, count, stride)
    x = np.stack([data[start:end][p + np.arange(length) * rate] for p in positions])
    y = None if targets is None else targets[start:end][positions]
    return x, y


@pytest.mark.parametrize(
    "length, stride, rate, start, end, batch",
    [(3, 1, 1, None, None, 4), (4, 2, 2, 3, 40, 5), (5, 3, 1, 2, None, None)],
)
def test_timeseries_windows_are_keras(length, stride, rate, start, end, batch):
    data = np.arange(100 * 2, dtype="float32").reshape(100, 2)
    targets = np.arange(100) * 10
    ds = lamina.utils.timeseries_dataset_from_array(
        data, targets, length, stride, rate, batch_size=batch, start_index=start,
        end_index=end,
    )  # fmt: skip
    pairs = list(ds)
    if batch is None:
        x = np.stack([p[0].numpy() for p in pairs])
        y = np.stack([p[1].numpy() for p in pairs])
    else:
        x = np.concatenate([p[0].numpy() for p in pairs])
        y = np.concatenate([p[1].numpy() for p in pairs])
    ref_x, ref_y = _windows_reference(data, targets, length, stride, rate, start, end)
    np.testing.assert_array_equal(x, ref_x)
    np.testing.assert_array_equal(y, ref_y)
    shuffled = lamina.utils.timeseries_dataset_from_array(
        data, None, length, stride, rate, batch_size=7, shuffle=True, seed=1,
        start_index=start, end_index=end,
    )  # fmt: skip
    got = np.concatenate([b.numpy() for b in shuffled])
    assert sorted(map(tuple, got.reshape(len(got), -1))) == sorted(
        map(tuple, ref_x.reshape(len(ref_x), -1))
    )
    with pytest.raises(ValueError, match="`sampling_rate` must be an integer >= 1"):
        lamina.utils.timeseries_dataset_from_array(data, None, 3, sampling_rate=0)


# ------------------------------------------------------------ PyDataset workers
class Rendezvous(lamina.utils.PyDataset):
    """Batches 0 and 1 wait for each other: only two workers reading at the same
    time get past the barrier (a lone worker times out)."""

    def __init__(self, barrier, **kwargs):
        super().__init__(**kwargs)
        self.barrier = barrier

    def __len__(self):
        return 7

    def __getitem__(self, index):
        if index < 2:
            self.barrier.wait()
        if index == 3:
            time.sleep(0.05)  # a slow batch must not be overtaken
        return np.full((2, 1), index, "float32"), np.full((2, 1), index, "float32")


@pytest.mark.parametrize("use_multiprocessing", [False, True])
def test_py_dataset_workers_run_at_once_and_lose_no_batch(use_multiprocessing):
    context = multiprocessing.get_context("fork")
    barrier = (context if use_multiprocessing else threading).Barrier(2, timeout=20)
    dataset = Rendezvous(barrier, workers=2, use_multiprocessing=use_multiprocessing,
                         max_queue_size=3)  # fmt: skip
    adapter = lamina.trainers.data_adapters.SequenceAdapter(dataset)
    seen = [int(x[0, 0]) for x, _ in adapter]
    assert seen == list(range(7))
    alone = Rendezvous(threading.Barrier(2, timeout=0.2))
    with pytest.raises(threading.BrokenBarrierError):
        list(lamina.trainers.data_adapters.SequenceAdapter(alone))


def test_py_dataset_with_workers_trains():
    dataset = Rendezvous(threading.Barrier(2, timeout=20), workers=2)
    model = lamina.Sequential([lamina.Input((1,)), lamina.layers.Dense(1)])
    model.compile("sgd", "mse")
    assert len(model.fit(dataset, epochs=2, verbose=0).history["loss"]) == 2
    with pytest.raises(ValueError, match="`workers` must be an integer >= 1"):
        Rendezvous(None, workers=0)


# ------------------------------------------------------------ tf.data, caps
class FakeTFDataset:
    """The methods lamina uses of a ``tf.data.Dataset`` (TensorFlow is not
    installed here): ``as_numpy_iterator`` and ``cardinality``."""

    def __init__(self, batches):
        self.batches = batches

    def as_numpy_iterator(self):
        return iter(self.batches)

    def cardinality(self):
        return np.int64(len(self.batches))


def test_tf_dataset_like_input_is_read_batch_by_batch():
    rng = np.random.default_rng(0)
    batches = [(rng.random((4, 3), dtype="float32"), rng.random((4, 1), dtype="float32"))
               for _ in range(3)]  # fmt: skip
    model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(1)])
    model.compile("sgd", "mse")
    history = model.fit(FakeTFDataset(batches), epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    x = np.concatenate([b[0] for b in batches])
    np.testing.assert_allclose(
        model.predict(FakeTFDataset([(b[0],) for b in batches]), verbose=0),
        model.predict(x, verbose=0), rtol=1e-6,
    )  # fmt: skip
    with pytest.raises(ValueError, match="`y` must be None when `x` is a tf.data"):
        model.fit(FakeTFDataset(batches), np.ones(12), verbose=0)


def test_max_epochs_and_steps_cap_fit():
    model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(1)])
    model.compile("sgd", "mse")
    x, y = np.ones((40, 3), "float32"), np.ones((40, 1), "float32")
    lamina.config.set_max_epochs(2)
    lamina.config.set_max_steps_per_epoch(3)
    seen = []
    callback = lamina.callbacks.LambdaCallback(
        on_train_batch_end=lambda b, logs: seen.append(b)
    )
    with pytest.warns(UserWarning, match="limiting epochs to 2"):
        history = model.fit(
            x, y, epochs=5, batch_size=4, verbose=0, callbacks=[callback]
        )
    assert len(history.history["loss"]) == 2 and seen == [0, 1, 2, 0, 1, 2]


def test_interactive_logging_switch_sends_progress_to_logging(capsys, caplog):
    model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(1)])
    model.compile("sgd", "mse")
    lamina.utils.disable_interactive_logging()
    assert not lamina.config.is_interactive_logging_enabled()
    with caplog.at_level("INFO", logger="lamina"):
        model.fit(np.ones((8, 3)), np.ones((8, 1)), epochs=2, verbose=1)
    assert "Epoch 2/2" in caplog.text and "loss" in caplog.text
    assert "Epoch" not in capsys.readouterr().out


# ------------------------------------------------------------ keras.datasets
def _skip_hash(monkeypatch, *modules):
    """Both libraries read the fixture files instead of the real downloads (their
    hashes are the real files')."""
    for module in modules:
        original = module.get_file
        monkeypatch.setattr(
            module, "get_file",
            lambda *a, _f=original, **k: _f(*a, **{**k, "file_hash": None}),
        )  # fmt: skip


def _ragged(rng, n, top):
    seqs = np.empty(n, dtype=object)
    seqs[:] = [rng.integers(1, top, rng.integers(2, 9)).tolist() for _ in range(n)]
    return seqs


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """Keras's cache folder in tmp (Keras's datasets read ``keras_home()``,
    fixed at import: patched to the same folder)."""
    from keras.src.backend import config as keras_config

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(keras_config, "_KERAS_DIR", str(tmp_path))
    (tmp_path / "datasets").mkdir()
    return tmp_path / "datasets"


def test_sequence_datasets_match_keras(cache, monkeypatch):
    from keras.src.datasets import imdb as k_imdb
    from keras.src.datasets import reuters as k_reuters

    _skip_hash(
        monkeypatch, k_imdb, k_reuters, lamina.datasets.imdb, lamina.datasets.reuters
    )
    rng = np.random.default_rng(0)
    np.savez(cache / "imdb.npz", x_train=_ragged(rng, 30, 40), y_train=rng.integers(0, 2, 30),
             x_test=_ragged(rng, 20, 40), y_test=rng.integers(0, 2, 20))  # fmt: skip
    np.savez(cache / "reuters.npz", x=_ragged(rng, 40, 50), y=rng.integers(0, 46, 40))
    (cache / "imdb_word_index.json").write_text(json.dumps({"good": 1, "bad": 2}))
    for kwargs in ({}, dict(num_words=20, skip_top=2, maxlen=8, seed=4),
                   dict(oov_char=None, start_char=None, index_from=0)):  # fmt: skip
        for ours, theirs in ((lamina.datasets.imdb, keras.datasets.imdb),
                             (lamina.datasets.reuters, keras.datasets.reuters)):  # fmt: skip
            got, expected = ours.load_data(**kwargs), theirs.load_data(**kwargs)
            for (gx, gy), (ex, ey) in zip(got, expected):
                assert [list(s) for s in gx] == [list(s) for s in ex]
                np.testing.assert_array_equal(gy, ey)
    assert lamina.datasets.imdb.get_word_index() == {"good": 1, "bad": 2}
    assert (
        lamina.datasets.reuters.get_label_names()
        == keras.datasets.reuters.get_label_names()
    )


def test_array_datasets_match_keras(cache, monkeypatch):
    from keras.src.datasets import boston_housing, california_housing, mnist

    modules = [boston_housing, california_housing, mnist, lamina.datasets.mnist,
               lamina.datasets.boston_housing, lamina.datasets.california_housing]  # fmt: skip
    _skip_hash(monkeypatch, *modules)
    rng = np.random.default_rng(1)
    images = lambda n: rng.integers(0, 255, (n, 28, 28), dtype="uint8")  # noqa: E731
    np.savez(cache / "mnist.npz", x_train=images(6), y_train=np.arange(6, dtype="uint8"),
             x_test=images(3), y_test=np.arange(3, dtype="uint8"))  # fmt: skip
    for name in ("boston_housing", "california_housing"):
        np.savez(cache / f"{name}.npz", x=rng.random((700, 3)), y=rng.random(700))
    (cache / "fashion-mnist").mkdir()
    for prefix, n in (("train", 5), ("t10k", 2)):
        with gzip.open(
            cache / "fashion-mnist" / f"{prefix}-labels-idx1-ubyte.gz", "wb"
        ) as f:
            f.write(bytes(8) + bytes(range(n)))
        with gzip.open(
            cache / "fashion-mnist" / f"{prefix}-images-idx3-ubyte.gz", "wb"
        ) as f:
            f.write(bytes(16) + images(n).tobytes())
    calls = [("mnist", {}), ("fashion_mnist", {}), ("boston_housing", dict(test_split=0.3)),
             ("california_housing", dict(version="small", seed=5))]  # fmt: skip
    for name, kwargs in calls:
        got = getattr(lamina.datasets, name).load_data(**kwargs)
        expected = getattr(keras.datasets, name).load_data(**kwargs)
        for g, e in zip([*got[0], *got[1]], [*expected[0], *expected[1]]):
            assert g.dtype == e.dtype and g.shape == e.shape, name
            np.testing.assert_array_equal(g, e)


def _cifar_batch(rng, n, labels):
    return {b"batch_label": b"x", b"data": rng.integers(0, 255, (n, 3072), dtype="uint8"),
            **{k.encode(): rng.integers(0, 10, n).tolist() for k in labels}}  # fmt: skip


def test_cifar_reads_keras_archives_safely(cache, tmp_path, monkeypatch):
    """CIFAR-100 against Keras; CIFAR-10 against the batches themselves (Keras
    insists on 5 x 10,000 training images, too big for a unit test)."""
    from keras.src.datasets import cifar100

    _skip_hash(monkeypatch, cifar100, lamina.datasets.cifar10, lamina.datasets.cifar100)
    rng = np.random.default_rng(2)
    folder = tmp_path / "src" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batches[name] = _cifar_batch(rng, 3, ["labels"])
        (folder / name).write_bytes(pickle.dumps(batches[name]))
    folder100 = tmp_path / "src" / "cifar-100-python"
    folder100.mkdir()
    for name in ("train", "test"):
        batch = _cifar_batch(rng, 4, ["fine_labels", "coarse_labels"])
        (folder100 / name).write_bytes(pickle.dumps(batch))
    for target, inner in (("cifar-10-batches-py-target", folder),
                          ("cifar-100-python-target", folder100)):  # fmt: skip
        with tarfile.open(cache / f"{target}_archive", "w:gz") as t:
            t.add(inner, inner.name)
    (x_train, y_train), (x_test, y_test) = lamina.datasets.cifar10.load_data()
    train = [batches[f"data_batch_{i}"] for i in range(1, 6)]
    expected_x = np.concatenate([b[b"data"] for b in train]).reshape(-1, 3, 32, 32)
    np.testing.assert_array_equal(x_train, expected_x.transpose(0, 2, 3, 1))
    assert x_train.dtype == y_train.dtype == np.uint8 and y_train.shape == (15, 1)
    assert y_test[:, 0].tolist() == batches["test_batch"][b"labels"]
    assert x_test.shape == (3, 32, 32, 3)
    got = lamina.datasets.cifar100.load_data("coarse")
    expected = keras.datasets.cifar100.load_data("coarse")
    for g, e in zip([*got[0], *got[1]], [*expected[0], *expected[1]]):
        assert g.dtype == e.dtype and g.shape == e.shape
        np.testing.assert_array_equal(g, e)


def test_restricted_unpickler_refuses_code(tmp_path):
    class Payload:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    path = tmp_path / "evil"
    path.write_bytes(pickle.dumps({b"data": Payload()}))
    with pytest.raises(
        pickle.UnpicklingError, match="refusing to load `(posix|os).system`"
    ):
        safe_pickle.load_pickle(path)
    with pytest.raises(ValueError, match="`test_split` must be a number in"):
        lamina.datasets.boston_housing.load_data(test_split=1.0)

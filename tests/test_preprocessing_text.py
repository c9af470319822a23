"""Preprocessing layers whose Keras versions need TensorFlow (not installed),
against Keras 3 + TensorFlow's stored answers (tests/data/keras_preprocessing_text.json,
written by tests/data/make_keras_preprocessing_text.py); and what the oracle
cases cannot show: adapt() sources, DataLoader workers, text models in `.keras`
files both ways, vocabulary files and safe mode."""

from __future__ import annotations

import collections
import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

import lamina
from tests.cases_preprocessing_text import (
    CORPUS,
    FIXTURE_CASES,
    FIXTURE_ERRORS,
    TEXT_MODEL_INPUTS,
    make_text_model,
)

DATA = Path(__file__).parent / "data"
FIXTURE = json.loads((DATA / "keras_preprocessing_text.json").read_text())


def _plain(value):
    return json.loads(json.dumps(value, default=lambda v: v.tolist()))


def _call(layer, case, inputs):
    if case.layer == "StringLookup" and case.kwargs.get("invert"):
        return np.array([layer(np.array([i]))[0] for i in inputs])
    return layer(list(inputs) if case.layer == "HashedCrossing" else inputs)


def _check_output(actual, expected, where):
    if isinstance(actual, np.ndarray) and actual.dtype.kind == "U":
        assert actual.tolist() == expected["values"], where
        return
    array = actual.numpy()
    assert list(array.shape) == list(expected["shape"]), where
    assert str(array.dtype) == expected["dtype"], where
    np.testing.assert_allclose(
        array, np.array(expected["values"]), rtol=1e-6, err_msg=where
    )


@pytest.mark.parametrize("case", FIXTURE_CASES, ids=lambda c: c.id)
def test_layer_matches_keras_with_tensorflow(case):
    expected = FIXTURE["cases"][case.id]
    inputs, adapt = case.data()
    layer = getattr(lamina.layers, case.layer)(**case.kwargs)
    if adapt is not None:
        layer.adapt(adapt)
    _check_output(_call(layer, case, inputs), expected["output"], "output")
    if "vocabulary" in expected:
        assert _plain(layer.get_vocabulary()) == expected["vocabulary"]
    if "bin_boundaries" in expected:
        np.testing.assert_allclose(layer.bin_boundaries, expected["bin_boundaries"])
    ours, theirs = _plain(layer.get_config()), dict(expected["config"])
    ours.pop("name"), theirs.pop("name")
    assert ours == theirs
    # JSON round trip, and Keras's config read by lamina, give the same layer.
    for config in (json.loads(json.dumps(layer.get_config())), expected["config"]):
        twin = type(layer).from_config(dict(config))
        if adapt is not None and "vocabulary" in expected:
            twin.set_vocabulary(
                layer.get_vocabulary(), **_idf_of(layer, case)
            ) if twin.vocabulary_size() != layer.vocabulary_size() else None
        if adapt is None or case.layer == "Discretization":
            _check_output(_call(twin, case, inputs), expected["output"], "from config")
    _check_symbolic(layer, case, inputs, expected.get("symbolic"))


def _idf_of(layer, case):
    if case.kwargs.get("output_mode") != "tf_idf":
        return {}
    lookup = getattr(layer, "_lookup_layer", layer)
    return {"idf_weights": lookup._idf.numpy()[: layer.vocabulary_size()]}


def _check_symbolic(layer, case, inputs, expected):
    """A fresh layer on Inputs of the call's shapes reports the real output's
    shape; Keras's symbolic shape is compared where it agrees with its own call
    (TextVectorization's keeps a spurious axis, its dtype says float32 where its
    call returns int64: lamina's follow the call)."""
    arrays = list(inputs) if case.layer == "HashedCrossing" else [inputs]
    specs = [
        lamina.Input(
            batch_shape=(None, *np.shape(x)[1:]),
            dtype="string"
            if np.asarray(x).dtype.kind in "USO"
            else str(np.asarray(x).dtype),
        )
        for x in arrays
    ]
    fresh = type(layer).from_config(layer.get_config())
    if hasattr(layer, "get_vocabulary") and layer.get_config()["vocabulary"] is None:
        fresh.set_vocabulary(layer.get_vocabulary(), **_idf_of(layer, case))
    if isinstance(layer, lamina.layers.Discretization):
        fresh.bin_boundaries = layer.bin_boundaries
    out = fresh(specs if case.layer == "HashedCrossing" else specs[0])
    real = _call(layer, case, inputs)
    real_dtype = "string" if isinstance(real, np.ndarray) else str(real.dtype)[6:]
    assert out.dtype == real_dtype
    assert len(out.shape) == real.ndim
    for known, size in zip(out.shape[1:], real.shape[1:]):
        assert known in (None, size)
    if (
        case.layer == "TextVectorization"
        and case.kwargs.get("output_mode", "int") == "int"
    ):
        assert out.shape[1] == case.kwargs.get("output_sequence_length")
    if (
        expected is not None
        and isinstance(expected[0], list)
        and case.layer != "TextVectorization"
    ):
        assert list(out.shape) == expected[0]


@pytest.mark.parametrize("index", range(len(FIXTURE_ERRORS)))
def test_bad_arguments_raise_as_keras_does(index):
    layer, kwargs, match = FIXTURE_ERRORS[index]
    with pytest.raises(ValueError, match=match) as raised:
        getattr(lamina.layers, layer)(**kwargs)
    keras_classes = FIXTURE["errors"][index]
    assert keras_classes is not None, "Keras accepts this"
    assert type(raised.value).__name__ in keras_classes or "ValueError" in keras_classes


# ---------------------------------------------------------------- adapt()
def _generator(batches):
    yield from batches


@pytest.mark.parametrize(
    "make",
    [
        lambda: lamina.layers.StringLookup(),
        lambda: lamina.layers.TextVectorization(output_mode="tf_idf"),
        lambda: lamina.layers.Normalization(),
        lambda: lamina.layers.Discretization(num_bins=3),
    ],
    ids=["StringLookup", "TextVectorization", "Normalization", "Discretization"],
)
def test_adapt_reads_arrays_iterables_and_dataloaders(make):
    numeric = isinstance(
        make(), (lamina.layers.Normalization, lamina.layers.Discretization)
    )
    data = (
        np.random.default_rng(0).standard_normal((8, 3)).astype("float32")
        if numeric
        else np.array(CORPUS * 2)
    )
    whole = make()
    whole.adapt(data)
    loader = torch.utils.data.DataLoader(
        torch.as_tensor(data) if numeric else list(data), batch_size=4
    )
    sources = {"generator": _generator([data[:4], data[4:]]), "loader": loader}
    if not numeric:
        sources["list"] = list(data)
    for name, source in sources.items():
        layer = make()
        layer.adapt(source)
        _assert_same_state(layer, whole, name)


def _assert_same_state(layer, expected, where):
    if hasattr(layer, "get_vocabulary"):
        assert layer.get_vocabulary() == expected.get_vocabulary(), where
    elif isinstance(layer, lamina.layers.Discretization):
        assert len(layer.bin_boundaries) == len(expected.bin_boundaries), where
    else:
        for a, b in zip(layer.get_weights(), expected.get_weights()):
            np.testing.assert_allclose(a, b, atol=1e-6, err_msg=where)


def test_adapt_steps_stop_early_and_empty_data_is_refused():
    layer = lamina.layers.StringLookup()
    layer.adapt(_generator([np.array(["a", "a"]), np.array(["b"])]), steps=1)
    assert layer.get_vocabulary() == ["[UNK]", "a"]
    with pytest.raises(ValueError, match=r"adapt\(\) received no data"):
        lamina.layers.Normalization().adapt(_generator([]))
    with pytest.raises(TypeError, match=r"`data` must be an array, a tensor"):
        lamina.layers.StringLookup().adapt(3)
    with pytest.raises(ValueError, match=r"cannot adapt a layer given a `vocabulary`"):
        lamina.layers.StringLookup(vocabulary=["a"]).adapt(["b"])


# ---------------------------------------------------- DataLoader workers
class _Rows(torch.utils.data.Dataset):
    """Applies preprocessing layers to NumPy rows in __getitem__ (in workers)."""

    def __init__(self, lookup, normalize):
        self.words = np.array(["cat", "dog", "emu", "cat", "yak", "dog"])
        self.values = np.arange(12, dtype="float32").reshape(6, 2)
        self.lookup, self.normalize = lookup, normalize

    def __len__(self):
        return len(self.words)

    def __getitem__(self, i):
        return self.lookup(self.words[i : i + 1]), self.normalize(
            self.values[i : i + 1]
        )


def test_layers_run_inside_dataloader_workers():
    lookup = lamina.layers.StringLookup(vocabulary=["cat", "dog"])
    normalize = lamina.layers.Normalization(mean=[5.0, 6.0], variance=[4.0, 4.0])
    loader = torch.utils.data.DataLoader(
        _Rows(lookup, normalize), batch_size=3, num_workers=2
    )
    ids, scaled = zip(*loader)
    assert torch.cat(ids).reshape(-1).tolist() == [1, 2, 0, 1, 0, 2]
    np.testing.assert_allclose(
        torch.cat(scaled).reshape(6, 2).numpy(),
        (np.arange(12).reshape(6, 2) - [5, 6]) / 2,
    )


# ------------------------------------------------------------ text models
@pytest.mark.parametrize("writer", ["keras", "lamina"])
def test_text_model_files_agree_with_keras(writer):
    """Keras 3 (+TensorFlow) wrote one file and read the other; lamina reads
    both to the same vocabulary and outputs Keras computed."""
    expected = FIXTURE["text_models"][writer]
    model = lamina.saving.load_model(DATA / f"{writer}_text_model.keras")
    logits, bag = model.predict(np.array(TEXT_MODEL_INPUTS)[:, None], verbose=0)
    words = model.get_layer("words")
    assert words.get_vocabulary() == expected["vocabulary"]
    np.testing.assert_array_equal(
        words(np.array(TEXT_MODEL_INPUTS)[:, None]).numpy(), expected["ids"]
    )
    np.testing.assert_allclose(logits, expected["logits"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bag, expected["bag"], rtol=1e-6)


def _members(path):
    with zipfile.ZipFile(path) as archive:
        return {
            name: archive.read(name)
            for name in archive.namelist()
            if name.startswith("assets/")
        }


def test_lamina_writes_the_file_keras_read(tmp_path):
    """The committed lamina file (which Keras read) is what lamina writes today:
    same assets (vocabularies), same config and the same layers in it."""
    path = tmp_path / "text.keras"
    make_text_model(lamina).save(path)
    committed = DATA / "lamina_text_model.keras"
    assert _members(path) == _members(committed)
    assert sorted(_members(path)) == sorted(_members(DATA / "keras_text_model.keras"))
    layers = lamina.saving.keras_file.read_config(path)[0]["config"]["layers"]
    committed_layers = lamina.saving.keras_file.read_config(committed)[0]["config"][
        "layers"
    ]
    assert [layer["class_name"] for layer in layers] == [
        layer["class_name"] for layer in committed_layers
    ]
    # Layer configs (not the graph links: the Input's automatic name is counted).
    assert [layer["config"] for layer in layers[1:]] == [
        layer["config"] for layer in committed_layers[1:]
    ]
    again = lamina.saving.load_model(path)
    x = np.array(TEXT_MODEL_INPUTS)[:, None]
    np.testing.assert_array_equal(
        again.get_layer("words")(x).numpy(),
        np.array(FIXTURE["text_models"]["lamina"]["ids"]),
    )


def test_assets_leaving_their_folder_are_refused(tmp_path):
    path = tmp_path / "evil.keras"
    make_text_model(lamina).save(path)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("assets/../../escaped.txt", "x")
    with pytest.raises(ValueError, match=r"leaves the assets folder; refused"):
        lamina.saving.load_model(path)
    assert not (tmp_path / "escaped.txt").exists()


def test_vocabulary_file_and_safe_mode(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("cat\ndog\nemu\n\n")
    layer = lamina.layers.StringLookup(vocabulary=str(path))
    assert layer.get_vocabulary() == ["[UNK]", "cat", "dog", "emu"]
    assert layer(["emu", "yak"]).tolist() == [3, 0]
    config = layer.get_config()
    assert config["vocabulary"] is None and config["vocabulary_size"] == 4
    with pytest.raises(
        ValueError, match=r"vocabulary file '.*missing.txt' does not exist"
    ):
        lamina.layers.IntegerLookup(vocabulary=str(tmp_path / "missing.txt"))
    with lamina.saving.SafeModeScope(True):
        with pytest.raises(ValueError, match=re.escape("safe mode refuses reading it")):
            lamina.layers.StringLookup(vocabulary=str(path))


def test_strings_in_lists_bytes_and_object_arrays():
    layer = lamina.layers.StringLookup(vocabulary=["é", "b"])
    expected = [[1, 2, 0]]
    assert layer([["é", "b", "z"]]).tolist() == expected
    assert layer(np.array([["é".encode(), b"b", b"z"]])).tolist() == expected
    assert layer(np.array([["é", b"b", "z"]], dtype=object)).tolist() == expected
    inverse = lamina.layers.StringLookup(vocabulary=["é", "b"], invert=True)
    assert inverse(torch.tensor([[1, 2, 0]])).tolist() == [["é", "b", "[UNK]"]]
    with pytest.raises(ValueError, match=r"found out-of-vocabulary values \['z'\]"):
        lamina.layers.StringLookup(vocabulary=["a"], num_oov_indices=0)(["a", "z"])


# Batches split in one pass (rows separated by NUL tokens) and row by row: NUL
# in a text, whitespace str.split() splits on and TensorFlow not (\x1c, \xa0),
# empty texts first, last and together, OOV tokens (hashed to two buckets).
TRICKY = [
    ["", "The cat sat", "", "", "on the mat.", ""],
    ["a\x00b cat", "the  cat\tsat", "dog"],
    ["cat\x1cdog the", "mat\xa0cat", "É cat"],
    ["zebra cat", "yak", "the yak"],
]


@pytest.mark.parametrize("texts", TRICKY, ids=range(len(TRICKY)))
@pytest.mark.parametrize("length", [None, 2])
def test_one_pass_split_matches_splitting_row_by_row(texts, length):
    layer = lamina.layers.TextVectorization(output_sequence_length=length)
    layer.set_vocabulary(["the", "cat", "sat", "on", "mat", "a\x00b", "cat\x1cdog"])
    layer._lookup_layer.num_oov_indices = 2
    layer._lookup_layer.oov_token = "[UNK]"
    rows = [_words(text) for text in texts]
    lookup = layer._lookup_layer
    expected = [lookup._ids_of_tokens(row).tolist() for row in rows]
    width = length or max(map(len, rows))
    expected = [(row + [0] * width)[:width] for row in expected]
    assert layer(np.array(texts)).tolist() == expected


def _words(text):
    """TextVectorization's default standardization and split, by hand."""
    punctuation = str.maketrans("", "", "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
    lowered = "".join(c.lower() if c.isascii() else c for c in text)
    return re.findall(r"[^ \t\n\r\v\f]+", lowered.translate(punctuation))


def test_one_pass_adapt_counts_as_row_by_row():
    # The first batch goes row by row (NUL in a text: "\x00" is a token), the
    # second in one pass (its NUL separators are not counted).
    batches = [
        np.array(["\x00 the", "a\x00b", "cat\x1c dog dog"]),
        np.array(["the cat", "", "the dog the", "yak"]),
    ]
    layer = lamina.layers.TextVectorization()
    layer.adapt(iter(batches))
    counts = collections.Counter(w for b in batches for t in b for w in _words(t))
    ranked = sorted(counts.items(), key=lambda item: item[::-1], reverse=True)
    assert layer.get_vocabulary()[2:] == [w for w, _ in ranked]
    assert layer.get_vocabulary()[2:4] == ["the", "dog"]

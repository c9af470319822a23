"""Structured-data and text preprocessing layers against Keras 3.

Normalization, Discretization (given boundaries) and CategoryEncoding run in
Keras 3 on the torch backend, so they are oracle cases here. Keras's Hashing,
HashedCrossing, the lookups, TextVectorization and Discretization's ``adapt``
need TensorFlow, which is not installed: they are compared with what Keras 3 on
TensorFlow computed, stored by tests/data/make_keras_preprocessing_text.py in
tests/data/keras_preprocessing_text.json (tests/test_preprocessing_text.py).
"""

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tests.oracle import Case, ErrorCase, Input

# Keras's versions of these need TensorFlow (not installed): they are checked
# against Keras 3 + TensorFlow's stored answers to FIXTURE_CASES below.
KERAS_FREE_LAYERS = (
    "HashedCrossing",
    "Hashing",
    "IntegerLookup",
    "StringLookup",
    "TextVectorization",
)

CASES = [
    # Normalization
    Case("Normalization", {}, (4, 3), adapt=Input((20, 3)), id="Normalization-adapt"),
    Case(
        "Normalization",
        {"axis": None},
        (4, 3),
        adapt=Input((20, 3), "float32", "uniform"),
        id="Normalization-axis-None",
    ),
    Case(
        "Normalization",
        {"axis": (1, 2)},
        (2, 3, 4),
        adapt=Input((10, 3, 4)),
        id="Normalization-two-axes",
    ),
    Case(
        "Normalization",
        {"invert": True},
        (4, 3),
        adapt=Input((20, 3)),
        id="Normalization-invert",
    ),
    Case("Normalization", {"mean": 2.0, "variance": 4.0}, (4, 3)),
    Case(
        "Normalization",
        {"mean": [1.0, 2.0, 3.0], "variance": [1.0, 4.0, 9.0], "invert": True},
        (2, 5, 3),
    ),
    # Discretization with given boundaries (adapt: tests/test_preprocessing_text)
    Case("Discretization", {"bin_boundaries": [-0.5, 0.0, 0.7]}, (3, 4)),
    Case(
        "Discretization",
        {"bin_boundaries": [-0.5, 0.5], "output_mode": "one_hot"},
        (4, 1),
    ),
    Case(
        "Discretization",
        {"bin_boundaries": [-0.5, 0.5], "output_mode": "multi_hot"},
        (4, 3),
    ),
    Case(
        "Discretization",
        {"bin_boundaries": [-1.0, 0.0, 1.0], "output_mode": "count"},
        (2, 6),
    ),
    # CategoryEncoding
    Case("CategoryEncoding", {"num_tokens": 6}, (3, 4), "int64", data="ints:6"),
    Case(
        "CategoryEncoding",
        {"num_tokens": 5, "output_mode": "one_hot"},
        (4,),
        "int32",
        data="ints:5",
    ),
    Case(
        "CategoryEncoding",
        {"num_tokens": 5, "output_mode": "one_hot"},
        (4, 1),
        "int64",
        data="ints:5",
    ),
    Case(
        "CategoryEncoding",
        {"num_tokens": 7, "output_mode": "count"},
        (3, 5),
        "int64",
        data="ints:7",
    ),
    Case(
        "CategoryEncoding",
        {"num_tokens": 4, "output_mode": "count"},
        (3, 5),
        "int64",
        data="ints:4",
        call_kwargs={"count_weights": Input((3, 5), "float32", "uniform")},
        id="CategoryEncoding-count-weights",
    ),
]

ERROR_CASES = [
    ErrorCase("Normalization", {"mean": 1.0}, r"`variance` must be set together"),
    ErrorCase(
        "Normalization",
        {"mean": [1.0, 2.0], "variance": [1.0]},
        r"`variance` must be of the shape of `mean`",
    ),
    ErrorCase(
        "Normalization",
        {"axis": 3},
        r"`axis` must be axes within the inputs' rank 2",
        inputs=(2, 3),
    ),
    ErrorCase("Discretization", {}, r"`bin_boundaries` must be given \(or `num_bins`"),
    ErrorCase(
        "Discretization",
        {"bin_boundaries": [0.0], "num_bins": 3},
        r"`num_bins` must be left out when `bin_boundaries` is given",
    ),
    ErrorCase(
        "Discretization", {"num_bins": -1}, r"`num_bins` must be an integer >= 0"
    ),
    ErrorCase(
        "Discretization",
        {"bin_boundaries": [0.0], "output_mode": "onehot"},
        r"`output_mode` must be one of 'int', 'one_hot'",
    ),
    ErrorCase(
        "Discretization",
        {"bin_boundaries": [0.0], "sparse": True},
        r"`sparse` must be False when `output_mode='int'`",
    ),
    ErrorCase("CategoryEncoding", {}, r"`num_tokens` must be set"),
    ErrorCase(
        "CategoryEncoding", {"num_tokens": 0}, r"`num_tokens` must be an integer >= 1"
    ),
    ErrorCase(
        "CategoryEncoding",
        {"num_tokens": 3, "output_mode": "tf_idf"},
        r"`output_mode` must be one of 'count', 'one_hot', 'multi_hot'",
    ),
]


# ------------------------------------------------------------ fixture cases
@dataclass
class FixtureCase:
    """A layer that Keras runs only with TensorFlow: built from ``kwargs``,
    adapted on ``adapt`` and called on ``inputs`` (literal data or ``Input``
    specs, made with seeds 100 and 0) by tests/data/make_keras_preprocessing_text.py
    in Keras and by tests/test_preprocessing_text.py in lamina."""

    id: str
    layer: str
    kwargs: dict = field(default_factory=dict)
    inputs: Any = None
    adapt: Any = None

    def data(self):
        return _made(self.inputs, 0), _made(self.adapt, 100)


def _made(value, seed):
    if isinstance(value, Input):
        return value.make(seed)
    if isinstance(value, list) and value and isinstance(value[0], Input):
        return [spec.make(seed + i) for i, spec in enumerate(value)]
    if isinstance(value, tuple):  # several features (HashedCrossing)
        return [np.array(v) for v in value]
    return None if value is None else np.array(value)


_RNG = np.random.default_rng(7)
_ALPHABET = list("abcdefghijklmnopqrstuvwxyz ABC.,!é€0123456789")
# Strings of every FarmHash/SipHash length class (0 to 200 bytes), and integers.
HASH_STRINGS = [
    "".join(_RNG.choice(_ALPHABET, n)) for n in [*range(0, 70), 100, 128, 129, 200]
]
HASH_INTS = [0, 1, -1, 7, 42, 2**31, -(2**40), 2**62, *range(100, 130)]
SENTENCES = [
    "The cat sat on the mat.",
    "The DOG ran far, far away!",
    "a cat; a dog",
    "École ÉTÉ naïve  café",
    "tab\tsep\nnew x\xa0y",
]
CALL_SENTENCES = ["the cat ran", "unknown words here!", "", "a  a a dog dog"]
WORDS_ADAPT = Input((12, 3), "string")
WORDS_CALL = Input((3, 4), "string")

FIXTURE_CASES = [
    FixtureCase(
        "Discretization-adapt",
        "Discretization",
        {"num_bins": 4},
        Input((3, 5)),
        Input((200,)),
    ),
    FixtureCase(
        "Discretization-adapt-eps",
        "Discretization",
        {"num_bins": 3, "epsilon": 0.1, "output_mode": "count"},
        Input((3, 5)),
        Input((50, 2), "float32", "uniform"),
    ),
    FixtureCase("Hashing-strings", "Hashing", {"num_bins": 2**31 - 1}, [HASH_STRINGS]),
    FixtureCase(
        "Hashing-strings-salt",
        "Hashing",
        {"num_bins": 2**31 - 1, "salt": [7, 2**40 + 3]},
        [HASH_STRINGS],
    ),
    FixtureCase("Hashing-ints", "Hashing", {"num_bins": 1000}, [HASH_INTS]),
    FixtureCase(
        "Hashing-ints-salt-int32",
        "Hashing",
        {"num_bins": 97, "salt": 133, "dtype": "int32"},
        [HASH_INTS],
    ),
    FixtureCase("Hashing-floats", "Hashing", {"num_bins": 11}, [[1.5, -2.7, 3.0, 0.2]]),
    FixtureCase(
        "Hashing-mask", "Hashing", {"num_bins": 5, "mask_value": "the"}, WORDS_CALL
    ),
    FixtureCase(
        "Hashing-mask-int",
        "Hashing",
        {"num_bins": 5, "mask_value": 0},
        [[0, 3, -7, 0, 12]],
    ),
    FixtureCase(
        "Hashing-one-hot",
        "Hashing",
        {"num_bins": 6, "output_mode": "one_hot"},
        Input((4, 1), "string"),
    ),
    FixtureCase(
        "Hashing-multi-hot",
        "Hashing",
        {"num_bins": 6, "output_mode": "multi_hot"},
        WORDS_CALL,
    ),
    FixtureCase(
        "Hashing-count", "Hashing", {"num_bins": 6, "output_mode": "count"}, WORDS_CALL
    ),
    FixtureCase(
        "HashedCrossing-int",
        "HashedCrossing",
        {"num_bins": 1000},
        [Input((6,), "string"), Input((6,), "int64", "ints:1000")],
    ),
    FixtureCase(
        "HashedCrossing-three",
        "HashedCrossing",
        {"num_bins": 10**9},
        ([["A"], ["B"], ["A"]], [["x"], ["y"], ["z"]], [[-1], [2**40], [3]]),
    ),
    FixtureCase(
        "HashedCrossing-one-hot",
        "HashedCrossing",
        {"num_bins": 7, "output_mode": "one_hot"},
        [Input((5, 1), "string"), Input((5, 1), "string")],
    ),
    FixtureCase("StringLookup-adapt", "StringLookup", {}, WORDS_CALL, WORDS_ADAPT),
    FixtureCase(
        "StringLookup-one-hot",
        "StringLookup",
        {"output_mode": "one_hot"},
        Input((4, 1), "string"),
        WORDS_ADAPT,
    ),
    FixtureCase(
        "StringLookup-multi-hot",
        "StringLookup",
        {"output_mode": "multi_hot", "max_tokens": 6},
        WORDS_CALL,
        WORDS_ADAPT,
    ),
    FixtureCase(
        "StringLookup-count-padded",
        "StringLookup",
        {"output_mode": "count", "max_tokens": 12, "pad_to_max_tokens": True},
        WORDS_CALL,
        WORDS_ADAPT,
    ),
    FixtureCase(
        "StringLookup-tf-idf",
        "StringLookup",
        {"output_mode": "tf_idf"},
        WORDS_CALL,
        WORDS_ADAPT,
    ),
    FixtureCase(
        "StringLookup-mask-oov-buckets",
        "StringLookup",
        {"mask_token": "", "num_oov_indices": 3},
        [["the", "", "zebra", "yak", "x", "cat"]],
        [["the", "cat", "the"]],
    ),
    FixtureCase(
        "StringLookup-oov-salt",
        "StringLookup",
        {"num_oov_indices": 4, "salt": [1, 2]},
        [["the", "zebra", "yak", "x", "w"]],
        [["the", "cat"]],
    ),
    FixtureCase(
        "StringLookup-vocabulary",
        "StringLookup",
        {"vocabulary": ["the", "cat", "sat"]},
        WORDS_CALL,
    ),
    FixtureCase(
        "StringLookup-vocabulary-specials",
        "StringLookup",
        {"vocabulary": ["", "[UNK]", "the", "cat"], "mask_token": ""},
        WORDS_CALL,
    ),
    FixtureCase(
        "StringLookup-tf-idf-given",
        "StringLookup",
        {
            "vocabulary": ["the", "cat", "sat"],
            "idf_weights": [0.5, 1.0, 2.0],
            "output_mode": "tf_idf",
            "max_tokens": 6,
            "pad_to_max_tokens": True,
        },
        WORDS_CALL,
    ),
    FixtureCase(
        "StringLookup-invert",
        "StringLookup",
        {"vocabulary": ["the", "cat", "sat"], "invert": True, "mask_token": "[M]"},
        [0, 1, 2, 3, 4, 9],
    ),
    FixtureCase(
        "IntegerLookup-adapt",
        "IntegerLookup",
        {},
        Input((3, 4), "int64", "ints:12"),
        Input((30,), "int64", "ints:9"),
    ),
    FixtureCase(
        "IntegerLookup-mask-floormod",
        "IntegerLookup",
        {"mask_token": 0, "num_oov_indices": 3},
        [[0, 1, 2, 50, -7, 101]],
        [[1, 2, 2, 3]],
    ),
    FixtureCase(
        "IntegerLookup-farmhash",
        "IntegerLookup",
        {"num_oov_indices": 3, "oov_method": "farmhash"},
        [[1, 2, 50, -7, 101, 2**40]],
        [[1, 2, 2, 3]],
    ),
    FixtureCase(
        "IntegerLookup-count",
        "IntegerLookup",
        {"vocabulary": [12, 36, 1138, 42], "output_mode": "count"},
        [[12, 42, 42, 7], [1138, 36, 12, 0]],
    ),
    FixtureCase(
        "IntegerLookup-tf-idf",
        "IntegerLookup",
        {"output_mode": "tf_idf"},
        Input((3, 4), "int64", "ints:12"),
        Input((6, 5), "int64", "ints:9"),
    ),
    FixtureCase(
        "IntegerLookup-invert",
        "IntegerLookup",
        {"vocabulary": [12, 36, 1138, 42], "invert": True},
        [[0, 1, 2, 4, 9]],
    ),
    FixtureCase(
        "TextVectorization-default", "TextVectorization", {}, CALL_SENTENCES, SENTENCES
    ),
    FixtureCase(
        "TextVectorization-length",
        "TextVectorization",
        {"output_sequence_length": 3, "max_tokens": 8},
        [[s] for s in CALL_SENTENCES],
        SENTENCES,
    ),
    FixtureCase(
        "TextVectorization-lower",
        "TextVectorization",
        {"standardize": "lower", "output_sequence_length": 6},
        CALL_SENTENCES,
        SENTENCES,
    ),
    FixtureCase(
        "TextVectorization-strip",
        "TextVectorization",
        {"standardize": "strip_punctuation"},
        CALL_SENTENCES,
        SENTENCES,
    ),
    FixtureCase(
        "TextVectorization-characters",
        "TextVectorization",
        {"standardize": None, "split": "character", "max_tokens": 12},
        CALL_SENTENCES,
        SENTENCES,
    ),
    FixtureCase(
        "TextVectorization-bigrams",
        "TextVectorization",
        {"ngrams": 2},
        CALL_SENTENCES,
        SENTENCES,
    ),
    FixtureCase(
        "TextVectorization-ngrams-tuple",
        "TextVectorization",
        {"ngrams": (1, 3), "output_mode": "count"},
        CALL_SENTENCES,
        SENTENCES,
    ),
    FixtureCase(
        "TextVectorization-multi-hot",
        "TextVectorization",
        {"output_mode": "multi_hot", "max_tokens": 10, "pad_to_max_tokens": True},
        CALL_SENTENCES,
        SENTENCES,
    ),
    FixtureCase(
        "TextVectorization-tf-idf",
        "TextVectorization",
        {"output_mode": "tf_idf"},
        Input((5,), "string", "sentences"),
        Input((20,), "string", "sentences"),
    ),
    FixtureCase(
        "TextVectorization-no-split",
        "TextVectorization",
        {"split": None, "output_sequence_length": 2},
        [["a"], ["Z"], ["c!"]],
        ["a", "b", "a", "c"],
    ),
    FixtureCase(
        "TextVectorization-vocabulary",
        "TextVectorization",
        {"vocabulary": ["cat", "the", "dog"]},
        CALL_SENTENCES,
    ),
    FixtureCase(
        "TextVectorization-tf-idf-given",
        "TextVectorization",
        {
            "vocabulary": ["cat", "the", "dog"],
            "output_mode": "tf_idf",
            "idf_weights": [0.1, 0.2, 0.3],
        },
        CALL_SENTENCES,
    ),
]

# (layer, kwargs, our message): Keras (with TensorFlow) raises for these too; the
# fixture records the class it raised.
FIXTURE_ERRORS = [
    ("Hashing", {"num_bins": 0}, r"`num_bins` must be an integer >= 1"),
    ("Hashing", {"num_bins": 3, "salt": "x"}, r"`salt` must be an integer or a pair"),
    ("Hashing", {"num_bins": 3, "dtype": "float32"}, r"`dtype` must be 'int32' or"),
    ("Hashing", {"num_bins": 3, "output_mode": "tf_idf"}, r"`output_mode` must be one"),
    (
        "HashedCrossing",
        {"num_bins": 3, "output_mode": "count"},
        r"`output_mode` must be one of 'int', 'one_hot'",
    ),
    ("StringLookup", {"max_tokens": 1}, r"`max_tokens` must be an integer >= 2"),
    (
        "StringLookup",
        {"pad_to_max_tokens": True},
        r"`max_tokens` must be set when `pad_to_max_tokens=True`",
    ),
    (
        "StringLookup",
        {"num_oov_indices": -1},
        r"`num_oov_indices` must be an integer >= 0",
    ),
    (
        "StringLookup",
        {"output_mode": "count", "invert": True},
        r"`output_mode` must be 'int' when `invert=True`",
    ),
    (
        "StringLookup",
        {"idf_weights": [1.0]},
        r"`idf_weights` must be None unless `output_mode='tf_idf'`",
    ),
    (
        "StringLookup",
        {"vocabulary": ["a"], "output_mode": "tf_idf"},
        r"`idf_weights` must be given with a `vocabulary`",
    ),
    (
        "StringLookup",
        {"vocabulary": ["a", "b", "a"]},
        r"`vocabulary` must be free of repeated tokens",
    ),
    (
        "StringLookup",
        {"vocabulary": ["a", "", "b"], "mask_token": ""},
        r"`vocabulary` must be free of the mask and OOV tokens",
    ),
    (
        "StringLookup",
        {"vocabulary": ["a", "b", "c"], "max_tokens": 3},
        r"`vocabulary` must be at most `max_tokens`=3",
    ),
    ("StringLookup", {"output_mode": "onehot"}, r"`output_mode` must be one of"),
    (
        "IntegerLookup",
        {"vocabulary_dtype": "int32"},
        r"`vocabulary_dtype` must be 'int64'",
    ),
    (
        "IntegerLookup",
        {"salt": 3},
        r"`salt` must be None unless `oov_method='farmhash'`",
    ),
    ("IntegerLookup", {"oov_method": "murmur"}, r"`oov_method` must be one of"),
    ("TextVectorization", {"standardize": "upper"}, r"`standardize` must be one of"),
    ("TextVectorization", {"split": "comma"}, r"`split` must be 'whitespace'"),
    ("TextVectorization", {"ngrams": "2"}, r"`ngrams` must be None, an integer"),
    (
        "TextVectorization",
        {"output_mode": "count", "output_sequence_length": 4},
        r"`output_sequence_length` must be None unless `output_mode='int'`",
    ),
    ("TextVectorization", {"ragged": True}, r"`ragged` must be False \(lamina has no"),
]


# ------------------------------------------------------------- text models
TEXT_MODEL_INPUTS = ["the cat sat on the mat", "A dog!", "", "unknown zebra words"]
CORPUS = [
    "The cat sat on the mat.",
    "The dog sat on the log.",
    "A cat and a dog.",
    "Cats and dogs, dogs and cats!",
]


def make_text_model(library):
    """A text classifier with TextVectorization inside (and a TF-IDF bag of words
    as a second output), adapted on CORPUS; ``library`` is lamina or keras."""
    inputs = library.Input(shape=(1,), dtype="string")
    words = library.layers.TextVectorization(
        max_tokens=16, output_sequence_length=6, name="words"
    )
    bag = library.layers.TextVectorization(output_mode="tf_idf", name="bag")
    words.adapt(CORPUS)
    bag.adapt(CORPUS)
    x = library.layers.Embedding(16, 4, name="embed")(words(inputs))
    x = library.layers.GlobalAveragePooling1D(name="pool")(x)
    logits = library.layers.Dense(2, name="logits")(x)
    return library.Model(inputs, [logits, bag(inputs)])

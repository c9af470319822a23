"""Structured-data and text preprocessing layers against Keras 3.

Normalization, Discretization (given boundaries) and CategoryEncoding run in
Keras 3 on the torch backend, so they are oracle cases here. Keras's Hashing,
HashedCrossing, the lookups, TextVectorization and Discretization's ``adapt``
need TensorFlow, which is not installed: they are compared with what Keras 3 on
TensorFlow computed, stored by tests/data/make_keras_preprocessing_text.py in
tests/data/keras_preprocessing_text.json (tests/test_preprocessing_text.py).
"""

from tests.oracle import Case, ErrorCase, Input

KERAS_FREE_LAYERS = ()

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

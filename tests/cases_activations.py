"""Activation layers against Keras 3 (ReLU, LeakyReLU, PReLU, ELU, Softmax):
values, gradients, PReLU's weights and options, Softmax's axes and masks, and
the argument errors."""

from __future__ import annotations

import numpy as np
import torch

from tests.oracle import Case, ErrorCase, Input

IMAGES = (2, 3, 4, 5)


# A fixed mask for (2, 3, 4) logits: one row fully masked.
SOFTMAX_MASK = torch.tensor(
    np.array(
        [
            [[1, 1, 0, 1], [0, 0, 0, 0], [1, 0, 0, 0]],
            [[1, 1, 1, 1], [0, 1, 1, 0], [1, 1, 0, 1]],
        ],
        bool,
    )
)

CASES = [
    Case("ReLU", {}, (2, 3, 4)),
    Case("ReLU", {"max_value": 6.0}, (4, 5), data="uniform", id="ReLU-6"),
    Case("ReLU", {"max_value": 0.5}, (4, 5), id="ReLU-max"),
    Case("ReLU", {"negative_slope": 0.1}, (4, 5), id="ReLU-leak"),
    Case("ReLU", {"threshold": 0.5}, (4, 5), id="ReLU-threshold"),
    Case(
        "ReLU",
        {"max_value": 1.0, "negative_slope": 0.2, "threshold": 0.3},
        (4, 5),
        id="ReLU-all",
    ),
    Case("ReLU", {}, (3, 4), "int32", id="ReLU-int"),
    # "ints:3" data hold exact zeros, where the derivatives have their kink.
    Case("ReLU", {"negative_slope": 0.1}, (4, 5), data="ints:3", id="ReLU-at-0"),
    Case("LeakyReLU", {}, (2, 3, 4)),
    Case("LeakyReLU", {"negative_slope": 0.01}, (4, 5), id="LeakyReLU-0.01"),
    Case("ELU", {}, (2, 3, 4)),
    Case("ELU", {"alpha": 0.5}, (4, 5), id="ELU-0.5"),
    Case("PReLU", {}, (2, 3, 4)),
    Case(
        "PReLU",
        {"alpha_initializer": "random_normal", "shared_axes": [1, 2]},
        IMAGES,
        id="PReLU-shared-1-2",
    ),
    Case(
        "PReLU",
        {"alpha_initializer": "random_uniform", "shared_axes": 1},
        (2, 3, 4),
        id="PReLU-shared-int",
    ),
    Case(
        "PReLU",
        {
            "alpha_initializer": "ones",
            "alpha_regularizer": "l2",
            "alpha_constraint": "non_neg",
        },
        (3, 4),
        id="PReLU-options",
    ),
    Case(
        "PReLU",
        {"alpha_initializer": "ones"},
        (4, 5),
        data="ints:3",
        id="PReLU-gradient-at-0",
    ),
    Case("Softmax", {}, (2, 3, 4)),
    Case("Softmax", {"axis": 1}, (2, 3, 4), id="Softmax-axis1"),
    Case("Softmax", {"axis": [1, 2]}, (2, 3, 4), id="Softmax-axes"),
    Case("Softmax", {"axis": (-1,)}, (2, 3, 4), id="Softmax-one-axis-tuple"),
    Case(
        "Softmax",
        {},
        (2, 3, 4),
        call_kwargs={"mask": SOFTMAX_MASK},
        symbolic=False,  # a constant mask has a batch size; the inputs none
        id="Softmax-mask",
    ),
    Case(
        "Softmax",
        {"axis": 1},
        (2, 3, 4),
        call_kwargs={"mask": Input((2, 1, 4), "bool")},
        id="Softmax-mask-broadcast",
    ),
    Case(
        "Softmax",
        {"axis": [1, 2]},
        (2, 3, 4),
        call_kwargs={"mask": Input((2, 3, 4), "float32", "uniform")},
        id="Softmax-float-mask-axes",
    ),
    Case(
        "Softmax",
        {},
        (2, 3, 4),
        call_kwargs={"mask": Input((4,), "bool")},
        symbolic=False,  # a mask without batch axis
        id="Softmax-mask-last-axis-only",
    ),
    Case("Softmax", {"dtype": "float64"}, (2, 5), "float64", id="Softmax-f64"),
]

ERROR_CASES = [
    ErrorCase("ReLU", {"max_value": -1.0}, r"ReLU '\w+': `max_value` must be a num"),
    ErrorCase("ReLU", {"negative_slope": -0.1}, r"`negative_slope` must be a number"),
    ErrorCase("ReLU", {"threshold": None}, r"`threshold` must be a number in \[0.0"),
    ErrorCase("LeakyReLU", {"negative_slope": -1}, r"LeakyReLU '\w+': `negative_sl"),
    # Keras keeps a non-numeric alpha and fails on the first call.
    ErrorCase(
        "ELU",
        {"alpha": "one"},
        r"ELU '\w+': `alpha` must be a number",
        inputs=(2, 3),
        keras_raises=TypeError,
    ),
    # Keras accepts the batch axis as a shared axis (and shares nothing on it).
    ErrorCase(
        "PReLU",
        {"shared_axes": [0, 1]},
        r"`shared_axes` must be None, an int or a list of ints >= 1",
        keras_raises=False,
    ),
    ErrorCase(
        "PReLU",
        {"shared_axes": [3]},
        r"PReLU '\w+': expected inputs of rank > 3 for shared_axes=\[3\], got shape "
        r"\(2, 3, 4\)",
        inputs=(2, 3, 4),
        keras_raises=IndexError,  # Keras indexes past the end of the shape
    ),
    ErrorCase(
        "Softmax",
        {"axis": "last"},
        r"Softmax '\w+': `axis` must be an int or a non-empty list of ints",
        inputs=(2, 3),
        keras_raises=TypeError,  # on the first call
    ),
    ErrorCase(
        "Softmax",
        {},
        r"`mask` must broadcast to the inputs .* got mask shape \(2, 3, 5\) for "
        r"inputs of shape \(2, 3, 4\)",
        inputs=(2, 3, 4),
        call_kwargs={"mask": Input((2, 3, 5), "bool")},
        id="Softmax-mask-shape",
    ),
]

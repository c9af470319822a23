"""Merge layers against Keras 3: values, gradients, broadcasting over ranks and
size-1 axes, dtypes, masks, and the errors for lists and shapes that cannot
merge (each message names the layer and every input shape).

Masks reach merge layers attached to their inputs (``x._keras_mask``, set by
Masking or Embedding upstream); ``masked(...)`` attaches the same masks in both
libraries and compares outputs, output masks and gradients. Graphs with masks
and unknown sizes are in tests/test_merging.py.
"""

from __future__ import annotations

import numpy as np
import torch

from tests.oracle import Case, ErrorCase, Input
from tests.oracle_checks import check_gradients, check_outputs
from tests.oracle_inputs import call, flatten

ELEMENTWISE = ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum")
MANY = ("Add", "Multiply", "Average", "Maximum", "Minimum")  # take > 2 inputs
PAIR = [Input((2, 4, 3)), Input((2, 4, 3))]
# Masks of (2, 4) inputs' timesteps: a hole, a padded tail, a fully masked row.
MASK_A = [[1, 1, 0, 1], [1, 1, 1, 0]]
MASK_B = [[1, 0, 0, 1], [0, 0, 0, 0]]


def masked(*masks):
    """A check: the case's list inputs with ``masks`` attached (None: no mask),
    called in both libraries; outputs, output masks and gradients compared."""

    def check(ours, theirs, feed):
        calls = []
        for layer in (ours, theirs):
            inputs, kwargs, leaves = feed.tensors(grad=True)
            for x, mask in zip(inputs, masks):
                if mask is not None:
                    x._keras_mask = torch.tensor(np.asarray(mask, bool))
            calls.append((flatten(call(layer, inputs, kwargs)), leaves))
        check_outputs(calls[0][0], calls[1][0])
        check_gradients(ours, theirs, calls)

    check.__name__ = f"masked{tuple(m is not None for m in masks)}"
    return check


CASES = [
    *[Case(layer, {}, PAIR, id=f"{layer}-pair") for layer in ELEMENTWISE],
    *[Case(layer, {}, [Input((3, 5))] * 3, id=f"{layer}-three") for layer in MANY],
    *[
        Case(layer, {}, [Input((2, 5))], id=f"{layer}-one-input")
        for layer in ("Add", "Maximum", "Multiply")
    ],
    # Broadcasting: a size-1 axis, and a lower rank (axes inserted after the batch).
    *[
        Case(layer, {}, [Input((2, 4, 3)), Input((2, 1, 3))], id=f"{layer}-size-1")
        for layer in ("Add", "Subtract", "Maximum")
    ],
    *[
        Case(layer, {}, [Input((2, 3)), Input((2, 4, 3))], id=f"{layer}-ranks")
        for layer in ("Add", "Multiply", "Minimum", "Average")
    ],
    Case("Add", {}, [Input((2, 4, 1)), Input((2, 3)), Input((2, 4, 3))], id="Add-mix"),
    # Floating inputs take the compute dtype; integers stay integers.
    Case("Add", {}, [Input((2, 3), "float64"), Input((2, 3), "float64")], id="Add-f64"),
    Case("Multiply", {}, [Input((2, 3), "int32")] * 2, id="Multiply-int32"),
    Case("Add", {"dtype": "float64"}, [Input((2, 3))] * 2, id="Add-policy-f64"),
    # Masks: every input masked, or only some.
    *[
        Case(layer, {}, PAIR, checks=(masked(MASK_A, MASK_B),), id=f"{layer}-masks")
        for layer in ELEMENTWISE
    ],
    *[
        Case(layer, {}, PAIR, checks=(masked(MASK_A, None),), id=f"{layer}-one-mask")
        for layer in ELEMENTWISE
    ],
    Case(
        "Maximum",
        {},
        [Input((2, 4, 3))] * 3,
        checks=(masked(MASK_A, None, MASK_B), masked(MASK_A, MASK_B, MASK_B)),
        id="Maximum-three-masks",
    ),
    # Concatenate
    Case("Concatenate", {}, [Input((2, 4, 3)), Input((2, 4, 5))]),
    Case(
        "Concatenate",
        {"axis": 1},
        [Input((2, 4, 3)), Input((2, 2, 3)), Input((2, 1, 3))],
        id="Concatenate-axis1-three",
    ),
    Case(
        "Concatenate",
        {"axis": -2},
        [Input((2, 3, 2, 4)), Input((2, 3, 5, 4))],
        id="Concatenate-axis-2-4d",
    ),
    Case(
        "Concatenate",
        {"axis": 0},
        [Input((2, 3)), Input((3, 3))],
        symbolic=False,  # an unknown batch size along the joined axis
        id="Concatenate-batch-axis",
    ),
    Case(
        "Concatenate",
        {},
        [Input((2, 3), "int32"), Input((2, 2))],
        id="Concatenate-int-and-float",
    ),
    *[
        Case(
            "Concatenate",
            {"axis": axis},
            [Input((2, 4, 3)), Input((2, 4, 3))],
            checks=(masked(MASK_A, None), masked(MASK_A, MASK_B)),
            id=f"Concatenate-axis{axis}-masks",
        )
        for axis in (1, -1)
    ],
    # Dot
    Case("Dot", {"axes": 1}, [Input((2, 5)), Input((2, 5))]),
    Case("Dot", {"axes": -1}, [Input((2, 3, 4)), Input((2, 5, 4))], id="Dot-last"),
    Case("Dot", {"axes": (1, 2)}, [Input((2, 3, 5)), Input((2, 4, 3))], id="Dot-1-2"),
    Case("Dot", {"axes": [2, 1]}, [Input((2, 3, 4)), Input((2, 4))], id="Dot-ranks"),
    Case("Dot", {"axes": (1, 1)}, [Input((2, 4)), Input((2, 4, 3))], id="Dot-2d-3d"),
    Case(
        "Dot",
        {"axes": (3, 1)},
        [Input((2, 2, 3, 4)), Input((2, 4, 2, 3))],
        id="Dot-4d",
    ),
    Case(
        "Dot",
        {"axes": 1, "normalize": True},
        [Input((2, 5)), Input((2, 5))],
        id="Dot-normalize",
    ),
    Case(
        "Dot",
        {"axes": (2, 2), "normalize": True},
        [Input((2, 3, 4)), Input((2, 5, 4))],
        id="Dot-normalize-3d",
    ),
    Case(
        "Dot",
        {"axes": 2},
        PAIR,
        checks=("values", masked(MASK_A, MASK_B)),
        id="Dot-masks-dropped",
    ),
]

SHAPES = r"got input shapes \[\(2, 3\), \(2, 4\)\]"
ERROR_CASES = [
    ErrorCase(
        "Add",
        {},
        r"Add '\w+': the inputs must have shapes that broadcast .*" + SHAPES,
        inputs=[Input((2, 3)), Input((2, 4))],
    ),
    ErrorCase(
        "Maximum",
        {},
        r"Maximum '\w+': the inputs must have shapes that broadcast .*got input "
        r"shapes \[\(2, 4\), \(2, 3, 5\)\]",
        inputs=[Input((2, 4)), Input((2, 3, 5))],
        id="Maximum-ranks-do-not-broadcast",
    ),
    ErrorCase(
        "Add",
        {},
        r"Add '\w+': `inputs` must be a list of at least 1 tensors; got "
        r"input_shape=\(2, 3\)",
        inputs=Input((2, 3)),
        id="Add-not-a-list",
    ),
    ErrorCase(
        "Multiply",
        {},
        r"the inputs must have the same batch size; got input shapes "
        r"\[\(2, 3\), \(3, 3\)\]",
        inputs=[Input((2, 3)), Input((3, 3))],
        id="Multiply-batch-sizes",
    ),
    ErrorCase(
        "Subtract",
        {},
        r"Subtract '\w+': `inputs` must be a list of exactly 2 tensors \(got 3\)",
        inputs=[Input((2, 3))] * 3,
    ),
    ErrorCase(
        "Concatenate",
        {"axis": 1},
        r"Concatenate '\w+': the inputs must have the same rank and the same sizes "
        r"on every axis but the concatenation axis \(axis=1\); got input shapes "
        r"\[\(2, 3, 4\), \(2, 5, 6\)\]",
        inputs=[Input((2, 3, 4)), Input((2, 5, 6))],
    ),
    ErrorCase(
        "Concatenate",
        {},
        r"the same rank .* got input shapes \[\(2, 3\), \(2, 4, 3\)\]",
        inputs=[Input((2, 3)), Input((2, 4, 3))],
        id="Concatenate-ranks",
    ),
    ErrorCase(
        "Concatenate",
        {"axis": 3},
        r"`axis` must be in \[-2, 2\) for inputs of rank 2 \(axis=3\); got input "
        r"shapes",
        inputs=[Input((2, 3)), Input((2, 4))],
        id="Concatenate-axis-out-of-range",
    ),
    # Keras takes any axis and fails on the first call, with the same TypeError.
    ErrorCase(
        "Concatenate",
        {"axis": 1.5},
        r"`axis` must be an int; got axis=1.5",
        error=TypeError,
        inputs=[Input((2, 3)), Input((2, 4))],
        id="Concatenate-float-axis",
    ),
    ErrorCase(
        "Dot", {"axes": "a"}, r"Dot '\w+': `axes` must be an int or a pair", TypeError
    ),
    ErrorCase("Dot", {"axes": (1, 2, 3)}, r"`axes` must be an int or a pair of ints"),
    ErrorCase("Dot", {"axes": (1, 1.0)}, r"`axes` must be an int or a pair of ints"),
    # The batch axis: refused here at construction; Keras on the first call.
    ErrorCase(
        "Dot",
        {"axes": 0},
        r"none of them 0 \(the batch axis\); got axes=0",
        inputs=[Input((2, 3)), Input((2, 3))],
        id="Dot-batch-axis",
    ),
    ErrorCase(
        "Dot",
        {"axes": 1},
        r"Dot '\w+': the inputs must have the same size along `axes` \(axes=1: "
        r"3 != 4\); " + SHAPES,
        inputs=[Input((2, 3)), Input((2, 4))],
        id="Dot-sizes",
    ),
    ErrorCase(
        "Dot",
        {"axes": -1},
        r"both inputs must have rank >= 2; got input shapes \[\(2,\), \(2,\)\]",
        inputs=[Input((2,)), Input((2,))],
        id="Dot-rank-1",
    ),
    ErrorCase(
        "Dot",
        {"axes": 1},
        r"`inputs` must be a list of exactly 2 tensors \(got 3\)",
        inputs=[Input((2, 3))] * 3,
        id="Dot-three-inputs",
    ),
]

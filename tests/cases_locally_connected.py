"""LocallyConnected1D/2D/3D: Keras 3 has no such layers, so they are checked against
NumPy references in tests/test_locally_connected.py; here only their pinned argument
and input errors."""

from __future__ import annotations

from functools import partial

from tests.oracle import ErrorCase

KERAS_FREE_LAYERS = ("LocallyConnected1D", "LocallyConnected2D", "LocallyConnected3D")
CASES = []

LC1, LC2, LC3 = KERAS_FREE_LAYERS
# Keras 3 has no LocallyConnected layers, so it raises nothing to compare with.
ErrorCase = partial(ErrorCase, keras_raises=False)  # noqa: F811
ERROR_CASES = [
    ErrorCase(
        LC1,
        {"filters": 2, "kernel_size": 3, "padding": "same"},
        r"LocallyConnected1D '.*': `padding` must be \"valid\" when "
        r"implementation=1 .*; got padding='same'\.",
        id="LC1D-same-with-implementation-1",
    ),
    ErrorCase(
        LC2,
        {"filters": 2, "kernel_size": 3, "implementation": 4},
        r"`implementation` must be 1, 2, 3 or \"auto\"; got implementation=4\.",
        id="LC2D-unknown-implementation",
    ),
    ErrorCase(
        LC1,
        {"filters": 2, "kernel_size": 3, "implementation": "fast"},
        r"`implementation` must be .*; got implementation='fast'\.",
        id="LC1D-unknown-implementation-name",
    ),
    ErrorCase(
        LC1,
        {"filters": 2, "kernel_size": 3, "implementation": True},
        r"`implementation` must be .*; got implementation=True\.",
        id="LC1D-bool-implementation",
    ),
    ErrorCase(
        LC1,
        {"filters": 0, "kernel_size": 3},
        r"`filters` must be an integer >= 1; got filters=0\.",
        id="LC1D-filters",
    ),
    ErrorCase(
        LC2,
        {"filters": 2, "kernel_size": (3, 3, 3)},
        r"`kernel_size` must be an int or a tuple of 2 ints; got kernel_size=",
        id="LC2D-kernel-size-length",
    ),
    ErrorCase(
        LC3,
        {"filters": 2, "kernel_size": 2, "strides": 0},
        r"`strides` must be .* each >= 1; got strides=0\.",
        id="LC3D-zero-stride",
    ),
    ErrorCase(
        LC1,
        {"filters": 2, "kernel_size": 3, "padding": "causal", "implementation": 2},
        r"`padding` must be one of 'valid', 'same'; got padding='causal'\.",
        id="LC1D-causal",
    ),
    ErrorCase(
        LC2,
        {"filters": 2, "kernel_size": 3, "data_format": "NHWC"},
        r"`data_format` must be one of 'channels_last', 'channels_first'",
        id="LC2D-data-format",
    ),
    ErrorCase(
        LC1,
        {"filters": 2, "kernel_size": 5},
        r"LocallyConnected1D '.*': expected an input at least as large as "
        r"kernel_size=\(5,\) on every spatial axis \(the output shape would be "
        r"\(2, 0, 2\)\), got shape \(2, 4, 3\)\.",
        inputs=(2, 4, 3),
        id="LC1D-input-shorter-than-kernel",
    ),
    ErrorCase(
        LC2,
        {"filters": 2, "kernel_size": 3, "implementation": 3},
        r"expected an input at least as large as kernel_size=\(3, 3\)",
        inputs=(1, 5, 2, 1),
        id="LC2D-input-too-small",
    ),
    ErrorCase(
        LC2,
        {"filters": 2, "kernel_size": 3},
        r"expected input of rank 4 \(batch, rows, cols, channels\), got shape "
        r"\(2, 5, 3\)\.",
        inputs=(2, 5, 3),
        id="LC2D-rank",
    ),
]

"""Pooling cases against Keras 3, and pinned argument errors.

Windowed pooling runs a pruned product of pool_size x strides x padding x
data_format over odd and even sizes, for every rank and both modes. Average
pooling with ``same`` padding is compared with Keras only where Keras 3's torch
backend follows TensorFlow (symmetric padding, or windows of 2 whose padded
extension repeats a single cell); the uneven cases are checked against a NumPy
reference in tests/test_pooling.py.
"""

from __future__ import annotations

from tests.oracle import Case, ErrorCase

CL, CF = "channels_last", "channels_first"
MIXED = {1: (8,), 2: (7, 6), 3: (5, 4, 6)}  # odd and even lengths
ODD = {1: (7,), 2: (7, 5), 3: (5, 3, 5)}
NAMES = {"max": "MaxPooling", "average": "AveragePooling"}

# (pool_size, strides, padding, data_format, sizes): what each row exercises.
WINDOWED = [
    (2, None, "valid", CL, MIXED),  # the default: non-overlapping windows
    (2, None, "same", CF, ODD),  # one padded cell after
    (3, 1, "same", CL, MIXED),  # overlapping, symmetric padding
    (3, 2, "valid", CF, MIXED),
    (2, 1, "same", CL, MIXED),  # even window, stride 1: torch pads after and trims
    (3, 2, "same", CL, ODD),  # symmetric for odd lengths
    ((3, 2, 1), (2, 1, 1), "valid", CL, MIXED),  # per-axis tuples
]


def _shape(rank, data_format, sizes):
    spatial = sizes[rank]
    return (2, *spatial, 3) if data_format == CL else (2, 3, *spatial)


def _windowed(mode, rank, pool_size, strides, padding, data_format, sizes):
    kwargs = {
        "pool_size": pool_size if isinstance(pool_size, int) else pool_size[:rank],
        "padding": padding,
        "data_format": data_format,
    }
    if strides is not None:
        kwargs["strides"] = strides if isinstance(strides, int) else strides[:rank]
    shape = _shape(rank, data_format, sizes)
    layer = f"{NAMES[mode]}{rank}D"
    return Case(layer, kwargs, shape, id=f"{layer}-{kwargs}-{shape}")


CASES = [
    _windowed(mode, rank, *row)
    for mode in NAMES
    for rank in (1, 2, 3)
    for row in WINDOWED
]
# Uneven same padding with windows of 3: Keras agrees for max pooling.
CASES += [_windowed("max", rank, 3, 2, "same", CL, MIXED) for rank in (1, 2, 3)]
CASES += [
    Case("MaxPooling2D", {}, (2, 6, 6, 3), id="MaxPooling2D-defaults"),
    Case(
        "AveragePooling2D",
        {"pool_size": 2, "dtype": "float64"},
        (2, 4, 6, 3),
        dtype="float64",
        id="AveragePooling2D-f64",
    ),
]

# Global pooling: both data formats, with and without keepdims.
for _mode, _name in (("max", "GlobalMaxPooling"), ("average", "GlobalAveragePooling")):
    for _rank in (1, 2, 3):
        CASES += [
            Case(f"{_name}{_rank}D", {}, _shape(_rank, CL, MIXED)),
            Case(
                f"{_name}{_rank}D",
                {"data_format": CF, "keepdims": True},
                _shape(_rank, CF, MIXED),
            ),
        ]

# Adaptive pooling: bins that overlap (7 -> 3), more bins than cells (4 -> 5).
for _name in ("AdaptiveMaxPooling", "AdaptiveAveragePooling"):
    for _rank in (1, 2, 3):
        CASES += [
            Case(f"{_name}{_rank}D", {"output_size": 3}, _shape(_rank, CL, ODD)),
            Case(
                f"{_name}{_rank}D",
                {"output_size": (5, 2, 3)[:_rank], "data_format": CF},
                _shape(_rank, CF, {1: (4,), 2: (4, 6), 3: (4, 5, 3)}),
            ),
        ]

# Keras's short aliases.
_ALIASES = {
    "MaxPool": {"pool_size": 2},
    "AvgPool": {"pool_size": 2},
    "GlobalMaxPool": {},
    "GlobalAvgPool": {},
}
CASES += [
    Case(f"{alias}{rank}D", kwargs, _shape(rank, CL, MIXED))
    for alias, kwargs in _ALIASES.items()
    for rank in (1, 2, 3)
]

ERROR_CASES = [
    # Keras raises TypeError for a tuple of the wrong length here (ValueError for
    # pool_size); lamina's tuple checks raise ValueError throughout.
    ErrorCase(
        "AdaptiveAveragePooling2D",
        {"output_size": (2, 2, 2)},
        r"AdaptiveAveragePooling2D 'adaptive_average_pooling2d\w*': `output_size` "
        r"must be an int or a tuple of 2 ints; got output_size=\(2, 2, 2\)\.",
        keras_raises=TypeError,
    ),
    ErrorCase(
        "AdaptiveMaxPooling1D",
        {"output_size": 0},
        r"`output_size` must be an int or a tuple of 1 ints, each >= 1; got "
        r"output_size=0\.",
        inputs=(1, 4, 1),  # Keras checks `output_size` only when called
    ),
    ErrorCase(
        "MaxPooling2D",
        {"padding": "full"},
        r"MaxPooling2D 'max_pooling2d\w*': `padding` must be one of 'valid', "
        r"'same'; got padding='full'\.",
        keras_raises=False,  # Keras 3 accepts "full" silently (STYLE.md)
    ),
    ErrorCase(
        "MaxPooling2D",
        {"pool_size": (2, 2, 2)},
        r"`pool_size` must be an int or a tuple of 2 ints; got "
        r"pool_size=\(2, 2, 2\)\.",
    ),
    ErrorCase(
        "AveragePooling1D",
        {"pool_size": 0},
        r"AveragePooling1D 'average_pooling1d\w*': `pool_size` must be an int or "
        r"a tuple of 1 ints, each >= 1; got pool_size=0\.",
    ),
    ErrorCase(
        "MaxPooling3D",
        {"strides": (1, 0, 1)},
        r"`strides` must be an int or a tuple of 3 ints, each >= 1; got "
        r"strides=\(1, 0, 1\)\.",
        inputs=(1, 4, 4, 4, 1),  # Keras checks `strides` only when called
    ),
    ErrorCase(
        "AveragePooling2D",
        {"pool_size": 2, "strides": (2,)},
        r"`strides` must be an int or a tuple of 2 ints; got strides=\(2,\)\.",
    ),
    ErrorCase(
        "MaxPooling2D",
        {"data_format": "nhwc"},
        r"`data_format` must be one of 'channels_last', 'channels_first'; got "
        r"data_format='nhwc'\.",
    ),
    ErrorCase(
        "GlobalAveragePooling2D",
        {"data_format": "channels_middle"},
        r"GlobalAveragePooling2D 'global_average_pooling2d\w*': `data_format` must "
        r"be one of",
    ),
    ErrorCase(
        "MaxPooling2D",
        {"pool_size": 3},
        r"MaxPooling2D 'max_pooling2d\w*': expected an input at least as large as "
        r"pool_size=\(3, 3\) on every spatial axis \(batch, rows, cols, channels\) "
        r"for padding='valid', got shape \(1, 2, 4, 1\)\.",
        inputs=(1, 2, 4, 1),
        keras_raises=RuntimeError,  # Keras leaves it to torch's max_pool2d
    ),
    ErrorCase(
        "MaxPooling1D",
        {},
        r"expected input of rank 3 \(batch, steps, channels\), got shape "
        r"\(2, 3, 4, 5\)\.",
        inputs=(2, 3, 4, 5),
    ),
    ErrorCase(
        "GlobalMaxPooling3D",
        {"data_format": CF},
        r"expected input of rank 5 \(batch, channels, dim1, dim2, dim3\), got "
        r"shape \(2, 3, 4\)\.",
        inputs=(2, 3, 4),
    ),
]

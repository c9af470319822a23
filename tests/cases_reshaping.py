"""Cropping, ZeroPadding and UpSampling cases against Keras 3 (every spelling of the
per-axis arguments, both data formats, odd and even sizes), and pinned errors.

``bicubic``/``lanczos*``/``area`` upsampling follow TensorFlow/JAX, not Keras 3's
torch backend: they are checked against NumPy references in
tests/test_reshaping_spatial.py.
"""

from __future__ import annotations

from tests.oracle import Case, ErrorCase

CL, CF = "channels_last", "channels_first"

CASES = [
    # Cropping: an int, per-axis ints, (before, after) pairs, mixed.
    Case("Cropping1D", {}, (2, 7, 3)),
    Case("Cropping1D", {"cropping": 2}, (2, 6, 3)),
    Case("Cropping1D", {"cropping": (0, 3)}, (2, 7, 3)),
    Case("Cropping2D", {}, (2, 5, 4, 3), id="Cropping2D-defaults"),
    Case("Cropping2D", {"cropping": 1}, (2, 7, 6, 3)),
    Case("Cropping2D", {"cropping": (1, 2), "data_format": CF}, (2, 3, 7, 6)),
    Case("Cropping2D", {"cropping": ((2, 0), (1, 3))}, (2, 7, 6, 3)),
    Case("Cropping3D", {}, (2, 5, 4, 6, 3), id="Cropping3D-defaults"),
    Case(
        "Cropping3D", {"cropping": (1, (0, 2), 1), "data_format": CF}, (2, 3, 5, 4, 6)
    ),
    Case("Cropping3D", {"cropping": ((0, 1), (2, 0), (1, 1))}, (2, 5, 4, 6, 3)),
    # ZeroPadding: the same spellings.
    Case("ZeroPadding1D", {}, (2, 7, 3)),
    Case("ZeroPadding1D", {"padding": (0, 2), "data_format": CF}, (2, 3, 6)),
    Case("ZeroPadding2D", {}, (2, 5, 4, 3), id="ZeroPadding2D-defaults"),
    Case("ZeroPadding2D", {"padding": 2, "data_format": CF}, (2, 3, 5, 4)),
    Case("ZeroPadding2D", {"padding": (1, 0)}, (2, 5, 4, 3)),
    Case("ZeroPadding2D", {"padding": ((2, 0), (1, 3))}, (2, 5, 4, 3)),
    Case("ZeroPadding3D", {}, (2, 3, 4, 5, 2), id="ZeroPadding3D-defaults"),
    Case("ZeroPadding3D", {"padding": (1, 0, 2), "data_format": CF}, (2, 2, 3, 4, 5)),
    Case("ZeroPadding3D", {"padding": ((0, 1), 2, (1, 0))}, (2, 3, 4, 5, 2)),
    # UpSampling: nearest in every rank, bilinear in 2D.
    Case("UpSampling1D", {}, (2, 5, 3)),
    Case("UpSampling1D", {"size": 3}, (2, 4, 3)),
    Case("UpSampling2D", {}, (2, 4, 5, 3), id="UpSampling2D-defaults"),
    Case("UpSampling2D", {"size": (2, 3), "data_format": CF}, (2, 3, 4, 5)),
    Case(
        "UpSampling2D",
        {"size": (2, 3), "interpolation": "bilinear"},
        (2, 5, 4, 3),
    ),
    Case(
        "UpSampling2D",
        {"size": 3, "interpolation": "Bilinear", "data_format": CF},
        (2, 3, 4, 5),
    ),
    Case("UpSampling3D", {}, (2, 3, 2, 4, 3), id="UpSampling3D-defaults"),
    Case("UpSampling3D", {"size": (1, 2, 3), "data_format": CF}, (2, 3, 3, 2, 4)),
]

ERROR_CASES = [
    ErrorCase(
        "Cropping1D",
        {"cropping": -1},
        r"Cropping1D 'cropping1d\w*': `cropping` must be an int or a "
        r"\(before, after\) pair of ints, all >= 0; got cropping=-1\.",
    ),
    ErrorCase(
        "Cropping2D",
        {"cropping": (1, 2, 3)},
        r"`cropping` must be an int, a tuple of 2 ints or a tuple of 2 "
        r"\(before, after\) pairs of ints, all >= 0; got cropping=\(1, 2, 3\)\.",
    ),
    ErrorCase(
        "Cropping3D",
        {"cropping": ((1, 1), (1, 1), (1, 1, 1))},
        r"`cropping` must be an int, a tuple of 3 ints",
    ),
    ErrorCase(
        "Cropping2D",
        {"cropping": ((2, 2), (4, 4))},
        r"Cropping2D 'cropping2d\w*': expected an input longer than "
        r"cropping=\(\(2, 2\), \(4, 4\)\) on every cropped axis \(batch, rows, cols, "
        r"channels\), got shape \(1, 5, 8, 3\)\.",
        inputs=(1, 5, 8, 3),
    ),
    ErrorCase(
        "Cropping1D",
        {"cropping": (1, 2)},
        r"expected an input longer than cropping=\(1, 2\) on every cropped axis "
        r"\(batch, steps, channels\), got shape \(2, 3, 4\)\.",
        inputs=(2, 3, 4),
    ),
    ErrorCase(
        "ZeroPadding3D",
        {"padding": ((1, 2), (1, 2))},
        r"ZeroPadding3D 'zero_padding3d\w*': `padding` must be an int, a tuple of 3 "
        r"ints or a tuple of 3 \(before, after\) pairs of ints, all >= 0; got "
        r"padding=\(\(1, 2\), \(1, 2\)\)\.",
    ),
    ErrorCase(
        "ZeroPadding1D",
        {"padding": (1, 2, 3)},
        r"`padding` must be an int or a \(before, after\) pair of ints",
    ),
    ErrorCase(
        "ZeroPadding2D", {"padding": (1, -1)}, r"all >= 0; got padding=\(1, -1\)"
    ),
    ErrorCase(
        "ZeroPadding2D",
        {"data_format": "NCHW"},
        r"`data_format` must be one of 'channels_last', 'channels_first'",
    ),
    ErrorCase(
        "UpSampling2D",
        {"interpolation": "gaussian"},
        r"UpSampling2D 'up_sampling2d\w*': `interpolation` must be one of "
        r"'nearest', 'area', 'bilinear', 'bicubic', 'lanczos3', 'lanczos5'; got "
        r"interpolation='gaussian'\.",
        inputs=(1, 2, 2, 1),  # Keras checks `interpolation` only when called
    ),
    ErrorCase(
        "UpSampling3D",
        {"size": 0},
        r"`size` must be an int or a tuple of 3 ints, each >= 1; got size=0\.",
    ),
    ErrorCase(
        "UpSampling2D",
        {"size": (2, 2, 2)},
        r"`size` must be an int or a tuple of 2 ints; got size=\(2, 2, 2\)\.",
    ),
    ErrorCase(
        "UpSampling1D",
        {},
        r"expected input of rank 3 \(batch, steps, channels\), got shape \(2, 3\)\.",
        inputs=(2, 3),
    ),
]

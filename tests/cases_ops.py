"""keras.ops cases for the functions added with issue 11: one ``OpCase`` per call,
run in lamina and in Keras 3 (torch backend) by ``tests/test_ops_keras.py``.

Inputs use the specs of ``tests/test_ops.py`` (``"f32:2,3"`` is a float32 array
of shape (2, 3), ``"t.bf16:4"`` a bfloat16 tensor, ``"pos"``/``"prob"``/``"idx"``
positive, probability and small-index values) plus ``"nan:3,4"``: float32 with
NaNs. ``lenient=True`` marks the calls where Keras on torch raises (integer or
half inputs that torch's kernel refuses, regimes Keras does not support) and
lamina computes a result: those are checked against NumPy in
``tests/test_ops_keras.py``.
"""

from __future__ import annotations

import operator
from typing import Any, NamedTuple

import numpy as np
import torch


class OpCase(NamedTuple):
    module: str  # "" (keras.ops) or a submodule: "numpy", "nn", "image", "linalg"
    name: str
    args: tuple
    kwargs: dict
    lenient: bool = False
    tol: float = 1e-5
    seed: int = 0


def op(name, *args, module="", lenient=False, tol=1e-5, seed=0, **kwargs) -> OpCase:
    return OpCase(module, name, args, kwargs, lenient, tol, seed)


def _id(case: OpCase) -> str:
    def short(value: Any) -> str:
        if isinstance(value, np.ndarray):
            return f"{value.dtype}{list(value.shape)}"
        if callable(value):
            return getattr(value, "__name__", type(value).__name__)
        if isinstance(value, tuple):
            return "(" + ",".join(short(v) for v in value) + ")"
        return str(value).replace(" ", "")

    parts = [short(a) for a in case.args] + [
        f"{k}={short(v)}" for k, v in case.kwargs.items()
    ]
    return f"{case.module + '.' if case.module else ''}{case.name}({','.join(parts)})"


DTYPES = ["f32", "f64", "f16", "t.bf16", "i32", "i64", "u8", "bool"]
FLOATS = ["f32", "f64"]
HALF_OR_INT = ["f16", "t.bf16", "i32", "i64", "u8"]
CL = {"data_format": "channels_last"}
CF = {"data_format": "channels_first"}
SEGMENTS = np.array([0, 0, 2, -1, 1, 2], np.int32)
RNG = np.random.RandomState(7)


def _spd(n, batch=(), dtype=np.float32):
    a = RNG.randn(*batch, n, n)
    return (a @ np.swapaxes(a, -1, -2) + n * np.eye(n)).astype(dtype)


# --- keras.ops.numpy ----------------------------------------------------------------

NUMPY = (
    [
        case
        for dt in DTYPES
        for case in [
            op("angle", f"{dt}:3,4"),
            op("i0", f"{dt}:3,4"),
            op("isreal", f"{dt}:3,4"),
            op("diff", f"{dt}:3,4"),
            op("diff", f"{dt}:3,4", n=2, axis=0),
            op("trapezoid", f"{dt}:3,4"),
            op("trapezoid", f"{dt}:3,4", dx=0.5, axis=0),
            op("corrcoef", f"{dt}:3,4"),
            op("vander", f"{dt}:4"),
            op("unique", f"{dt}:3,4"),
            op("nextafter", f"{dt}:3,4", 2.0),
            op("isin", f"{dt}:3,4", "i32:3"),
            op("correlate", f"{dt}:5", f"{dt}:3"),
            op("nanprod", f"{dt}:3,4", axis=0),
            op("nancumsum", f"{dt}:3,4", axis=1),
            op("nancumprod", f"{dt}:3,4"),
            op("nanargmax", f"{dt}:3,4", axis=0),
            op("nanargmin", f"{dt}:3,4"),
            op("nanmedian", f"{dt}:3,4", axis=1),
            op("nanquantile", f"{dt}:3,4", 0.3, axis=0, keepdims=True),
            op("nanpercentile", f"{dt}:3,4", [10, 60]),
            op("view", f"{dt}:3,4", dtype="uint8"),
        ]
    ]
    + [
        case
        for dt in ["i32", "i64", "i8", "u8"]
        for case in [
            op("bitwise_left_shift", f"{dt}:3,4", 1),
            op("bitwise_right_shift", f"{dt}:3,4", "i32:3,4"),
            op("left_shift", f"{dt}:3,4", 2),
            op("right_shift", f"{dt}:3,4", 1),
            op("unravel_index", f"{dt}:5", (6, 6)),
            op("ldexp", "f32:3,4", f"{dt}:3,4"),
        ]
    ]
    + [op("ldexp", f"{dt}:3,4", "i32:3,4") for dt in ("f32", "f64", "f16", "i32")]
    + [
        op("histogram", f"{dt}:12", **kw)
        for dt in FLOATS
        for kw in ({}, {"bins": 4}, {"bins": 5, "range": (-1.0, 0.5)})
    ]
    + [
        op(name, "nan:3,4,5", **kw)
        for name in (
            "nanprod",
            "nancumsum",
            "nancumprod",
            "nanargmax",
            "nanargmin",
            "nanmedian",
        )
        for kw in ({}, {"axis": 1}, {"axis": -1})
    ]
    + [
        op("nanquantile", "nan:3,4,5", [0.2, 0.7], axis=(0, 2), keepdims=True),
        op("nanpercentile", "nan:3,4,5", 40, axis=1),
        op("nanmedian", "nan:3,4,5", axis=()),
        op("nanargmax", "nan:3,4", axis=1, keepdims=True),
        op("isin", "f32:3,4", "f32:3", invert=True),
        op("isin", "bool:3,4", "bool:2"),
        op("isin", "i32:6", [1, 2, 3], assume_unique=True),
        op("unique", "i32:4,3", axis=0),
        op("unique", "i32:12", return_counts=True, return_inverse=True),
        op("unique", "i32:12", return_index=True),
        op("unique", "i32:12", size=6, fill_value=-1, return_counts=True),
        op("unique", "i32:12", size=2),
        op("unique", "f32:3,4", sorted=True, return_inverse=True),
        op("vander", "f32:4", N=6, increasing=True),
        op("vander", "i32:3", N=2),
        op("correlate", "f32:7", "f32:3", mode="same"),
        op("correlate", "f32:7", "f32:3", mode="full"),
        op("correlate", "i32:6", "f32:4", mode="valid"),
        op("corrcoef", "f32:5"),
        op("trapezoid", "f32:2,5", "f32:5"),
        op("diff", "f32:3,4", n=0),
        op("slogdet", "f32:2,3,3"),
        op("slogdet", "f64:4,4"),
        op("slogdet", "i32:3,3", lenient=True),
        op("view", "i32:2,4", dtype="float32"),
        op("view", "f32:2,4", dtype="int16"),
        op("view", "u8:2,8", dtype="float32"),
        op("geomspace", 1, 1000, 4),
        op("geomspace", 2.0, 32.0, 5, endpoint=False),
        op("geomspace", -1.0, -16.0, 5, dtype="float64"),
        op("unravel_index", [[1, 7], [11, 0]], (3, 4)),
        op("bartlett", 5),
        op("blackman", 6),
        op("hamming", 7),
        op("hanning", 4),
        op("kaiser", 5, 2.0),
        op("kaiser", 1, 5.0),
    ]
)
# Keras on torch raises for these (torch's histogram takes only float32/64 and
# its bitwise shifts refuse floats); lamina's histogram computes them in floatx.
NUMPY += [op("histogram", f"{dt}:12", lenient=True) for dt in HALF_OR_INT]


# --- keras.ops (math) -----------------------------------------------------------------

MATH = (
    [
        case
        for dt in DTYPES
        for case in [
            op("erfc", f"{dt}:3,4"),
            op(
                "cdist",
                f"{dt}:2,3,4",
                f"{dt}:5,4",
                lenient=dt == "bool",  # Keras subtracts booleans
                tol=2e-2 if dt == "t.bf16" else 1e-5,
            ),
            op("extract_sequences", f"{dt}:2,9", 3, 2),
            op("segment_sum", f"{dt}:6,2", SEGMENTS),
            op("segment_max", f"{dt}:6,2", SEGMENTS, num_segments=4),
            op("segment_prod", f"{dt}:6", SEGMENTS),
            op("view_as_complex", f"{dt}:3,2"),
        ]
    ]
    + [
        case
        for dt in DTYPES[:2] + ["i32", "u8"]
        for case in [
            op("rfft", f"{dt}:2,8"),
            op("rfft", f"{dt}:2,8", fft_length=6),
            op("segment_min", "f32:6,2", SEGMENTS, num_segments=3),
        ]
    ]
    + [
        case
        for dt in FLOATS
        for case in [
            op("fft", [f"{dt}:2,8", f"{dt}:2,8"]),
            op("fft2", [f"{dt}:2,4,8", f"{dt}:2,4,8"]),
            op("ifft2", [f"{dt}:4,8", f"{dt}:4,8"]),
            op("irfft", [f"{dt}:2,5", f"{dt}:2,5"]),
            op("irfft", [f"{dt}:2,5", f"{dt}:2,5"], fft_length=7),
            op("logdet", _spd(3, (2,), np.float32 if dt == "f32" else np.float64)),
            op("stft", f"{dt}:2,16", 6, 3, 8),
            op("stft", f"{dt}:16", 8, 4, 8, window="hamming", center=False),
            op("stft", f"{dt}:2,2,16", 4, 2, 4, window=None),
            op("stft", f"{dt}:16", 4, 2, 4, window=np.hanning(4).astype("float32")),
            op("view_as_real", "f32:3", lenient=True),
        ]
    ]
    + [
        op(
            "istft",
            [f"f32:2,7,{n // 2 + 1}", f"f32:2,7,{n // 2 + 1}"],
            length,
            stride,
            n,
            center=center,
            window=window,
            tol=1e-4,
        )
        for length, stride, n in [(8, 4, 8), (6, 3, 8)]
        for center in (True, False)
        for window in ("hann", None)
    ]
    + [
        op("istft", ["f64:7,9", "f64:7,9"], 16, 8, 16, length=40, tol=1e-4),
        op("segment_sum", "i32:6,3", SEGMENTS, num_segments=2),
        op("view_as_real", np.array([1 + 2j, 3 - 1j], np.complex64)),
    ]
)


# --- keras.ops.linalg --------------------------------------------------------------


def _linalg(dtype):
    spd, spd_batch = _spd(3, dtype=dtype), _spd(3, (2,), dtype)
    tall, batch = RNG.randn(4, 3).astype(dtype), RNG.randn(2, 3, 3).astype(dtype)
    rhs = RNG.randn(3, 2).astype(dtype)
    return [
        op("cholesky", spd),
        op("cholesky", spd_batch, upper=True),
        op("cholesky_inverse", np.linalg.cholesky(spd)),
        op("cholesky_inverse", np.linalg.cholesky(spd).T.copy(), upper=True),
        op("det", batch),
        op("inv", spd),
        op("eigh", spd),
        op("eig", spd),
        op("lu_factor", batch),
        op("lu_factor", tall),
        op("qr", tall),
        op("qr", tall, mode="complete"),
        op("svd", tall),
        op("svd", tall, full_matrices=False),
        op("svd", batch, compute_uv=False),
        op("solve", spd, rhs),
        op("solve", spd, rhs[:, 0]),
        op("solve", spd_batch, RNG.randn(2, 3, 2).astype(dtype)),
        op("solve_triangular", np.triu(spd), rhs),
        op("solve_triangular", np.tril(spd), rhs[:, 0], lower=True),
        op("lstsq", tall, RNG.randn(4, 2).astype(dtype)),
        op("lstsq", tall, RNG.randn(4, 2).astype(dtype), rcond=1e-3),
        op("matrix_rank", tall),
        op("matrix_rank", tall @ np.ones((3, 3), dtype), tol=1e-3),
        op("pinv", tall),
        op("pinv", tall, rcond=0.1),
        op("norm", tall, ord="nuc", module="linalg"),
    ]


LINALG = [
    OpCase(c.module, c.name, c.args, c.kwargs, c.lenient, 1e-4)
    for dtype in (np.float32, np.float64)
    for c in _linalg(dtype)
] + [
    op("jvp", torch.sin, ("t.f32:3",), ("t.f32:3",)),
    op("det", "i32:3,3", lenient=True),
    op("inv", _spd(3).astype(np.float16), lenient=True, tol=1e-2),
    op("solve", _spd(2).astype(np.int32), np.int32([1, 2]), lenient=True),
]


# --- keras.ops (core, einops) ------------------------------------------------------

CORE = [
    op("associative_scan", operator.add, "f32:7", reverse=reverse, axis=0)
    for reverse in (False, True)
] + [
    op("associative_scan", operator.mul, "pos:3,5,2", axis=1),
    op("rearrange", "f32:2,12,5", "b (h w) c -> b c h w", h=3),
    op("rearrange", "f32:2,12,5", "b (h w) c -> (b h) (w c)", w=4),
    op("rearrange", "i32:2,3,4", "a b c -> c b a"),
]


# --- keras.ops.nn ------------------------------------------------------------------

_CTC_TARGET = np.array([[1, 2, 2, 0], [3, 1, 0, 0]], np.int32)
_CTC_LENGTHS = (np.array([3, 2], np.int32), np.array([7, 5], np.int32))

NN = (
    [
        case
        for dt in ["f32", "f64", "i32", "bool", "f16", "t.bf16"]
        for case in [
            op("depth_to_space", f"{dt}:2,3,4,8", 2),
            op("depth_to_space", f"{dt}:2,8,3,4", 2, **CF),
            op("space_to_depth", f"{dt}:2,4,6,3", 2),
            op("space_to_depth", f"{dt}:2,3,4,6", 2, **CF),
        ]
    ]
    + [
        case
        for dt in FLOATS
        for case in [
            op("polar", f"{dt}:3,4", f"{dt}:3,4"),
            op("unfold", f"t.{dt}:2,3,5,6", 2),
            op("unfold", f"t.{dt}:2,3,5,6", (2, 3), dilation=2, padding=1, stride=2),
            op("fold", f"t.{dt}:2,12,20", (5, 6), 2),
            op("conv", f"{dt}:2,9,3", f"{dt}:3,3,4", strides=2, padding="same"),
            op("conv_transpose", f"{dt}:2,5,5,3", f"{dt}:3,3,4,3", strides=2),
            op("depthwise_conv", f"{dt}:2,7,7,3", f"{dt}:3,3,3,2", padding="same"),
            op("separable_conv", f"{dt}:2,7,7,3", f"{dt}:3,3,3,2", f"{dt}:1,1,6,4"),
        ]
    ]
    + [
        case
        for dt in ["f32", "f64", "f16"]
        for case in [
            op("ctc_loss", _CTC_TARGET, f"{dt}:2,7,5", *_CTC_LENGTHS, tol=1e-4),
            op("ctc_loss", _CTC_TARGET + 1, f"{dt}:2,7,5", *_CTC_LENGTHS, tol=1e-4),
            op("ctc_decode", f"{dt}:2,7,5", np.array([7, 4], np.int32)),
            op(
                "ctc_decode",
                f"{dt}:2,7,5",
                np.array([7, 4], np.int32),
                merge_repeated=False,
                mask_index=4,
            ),
        ]
    ]
    + [
        op(
            "ctc_decode",
            "f32:3,6,4",
            np.array([6, 3, 5], np.int32),
            strategy="beam_search",
            beam_width=width,
            top_paths=paths,
            seed=seed,
            tol=1e-4,
        )
        for width, paths in [(3, 1), (4, 2), (100, 3)]
        for seed in range(2)
    ]
    + [
        op(
            "ctc_decode",
            "f32:2,6,4",
            np.array([6, 3], np.int32),
            strategy="beam_search",
            beam_width=5,
            top_paths=2,
            mask_index=None,
            tol=1e-4,
        ),
        op("multi_hot", np.array([[0, 2], [1, 1]], np.int32), num_classes=3),
        op("multi_hot", np.array([0, 4], np.int32), num_tokens=5, module="nn"),
        op("max_pool", "f32:2,7,7,3", 3, strides=2, padding="same", module="nn"),
    ]
)


# --- keras.ops.image ---------------------------------------------------------------

_SQUARE = np.array([[0, 0], [7, 0], [0, 7], [7, 7]], np.float32)
_QUAD = np.array([[1, 0], [6, 1], [0, 6], [7, 7]], np.float32)
_AFFINE = np.array(
    [[1.1, 0.2, -1, 0.1, 0.9, 0.5, 0, 0], [0.9, 0, 1, 0, 1.2, -1, 0, 0]], np.float32
)
_WARP = np.array([1.3, 0.4, -2.2, -0.3, 1.2, 1.7, 0, 0], np.float32)
_FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")


def _image(dt):
    rgb = {"f32": "prob", "f64": "f64", "f16": "f16"}.get(dt)
    colours = [
        op("rgb_to_hsv", f"{rgb}:2,5,6,3", **CL),
        op("hsv_to_rgb", f"{rgb}:2,3,5,6", **CF),
    ]
    return (
        colours * (rgb is not None)
        + [
            op("rgb_to_grayscale", f"{dt}:2,5,6,3", **CL),
            op("rgb_to_grayscale", f"{dt}:3,5,6", **CF),
            op("resize", f"{dt}:2,5,6,3", (8, 4), **CL),
            op("resize", f"{dt}:2,3,5,6", (3, 9), interpolation="nearest", **CF),
            op("resize", f"{dt}:5,6,3", (3, 3), antialias=True, **CL),
            op("resize", f"{dt}:2,5,6,3", (8, 4), crop_to_aspect_ratio=True, **CL),
            op("resize", f"{dt}:2,3,5,6", (4, 8), pad_to_aspect_ratio=True, **CF),
            op(
                "resize",
                f"{dt}:2,5,6,3",
                (8, 4),
                pad_to_aspect_ratio=True,
                fill_value=2.0,
            ),
            op("pad_images", f"{dt}:2,5,6,3", 1, 0, 2, target_width=9, **CL),
            op(
                "crop_images",
                f"{dt}:3,5,6",
                top_cropping=1,
                target_height=3,
                left_cropping=2,
                right_cropping=1,
                **CF,
            ),
            op("extract_patches", f"{dt}:2,6,7,3", 2, **CL),
            op("extract_patches", f"{dt}:2,6,7,3", (2, 3), strides=1, padding="same"),
            op("extract_patches", f"{dt}:2,3,6,7", (3, 2), strides=(2, 1), **CF),
            op("extract_patches_3d", f"{dt}:2,4,5,6,2", 2, **CL),
            op("extract_patches_3d", f"{dt}:2,2,4,5,6", (2, 3, 2), 1, 1, "same", **CF),
            op("affine_transform", f"{dt}:2,6,7,3", _AFFINE, **CL),
            op(
                "affine_transform",
                f"{dt}:3,6,7",
                _AFFINE[0],
                interpolation="nearest",
                fill_mode="reflect",
                **CF,
            ),
            op("perspective_transform", f"{dt}:2,8,8,3", _SQUARE, _QUAD, **CL),
            op("perspective_transform", f"{dt}:3,8,8", _SQUARE, _QUAD, "nearest", **CF),
            op(
                "scale_and_translate",
                f"{dt}:2,5,6,3",
                (2, 8, 4, 3),
                np.float32([1.6, 0.7]),
                np.float32([0.5, -0.3]),
                (1, 2),
                "linear",
            ),
            op(
                "scale_and_translate",
                f"{dt}:2,5,6,3",
                (2, 9, 3, 3),
                np.float32([1.8, 0.5]),
                np.float32([0.2, 0.1]),
                (1, 2),
                "lanczos3",
                antialias=False,
            ),
        ]
        + [
            op("affine_transform", f"{dt}:1,6,7,2", _WARP, fill_mode=mode, fill_value=1)
            for mode in _FILL_MODES
        ]
    )


IMAGE = [
    OpCase("image", c.name, c.args, c.kwargs, c.lenient, 1e-4)
    for dt in ["f32", "f64", "u8", "i32", "f16"]
    for c in _image(dt)
] + [
    OpCase("image", c.name, c.args, c.kwargs, c.lenient, 1e-4)
    for c in [
        op("map_coordinates", f"{dt}:5,6", RNG.uniform(-3, 9, (2, 4, 3)), 1, mode)
        for dt in ("f32", "i32")
        for mode in _FILL_MODES
    ]
    + [
        op("map_coordinates", "f32:5,6,2", RNG.uniform(-3, 9, (3, 7)), 0, mode, 2)
        for mode in _FILL_MODES
    ]
    + [op("gaussian_blur", f"{dt}:2,6,7,3", **CL) for dt in ("f32", "f64", "f16")]
    + [
        op("gaussian_blur", "f32:2,3,6,7", (5, 5), (1.5, 1.5), **CF),
        op("sobel_edges", "f32:2,6,7,3", **CL),
        op("sobel_edges", "f64:2,3,6,7", **CF),
        op("ssim", "prob:2,16,16,3", "prob:2,16,16,3", **CL),
        op("ssim", "f32:3,16,16", "f32:3,16,16", filter_size=5, **CF),
        op("ssim", "f64:2,12,12,1", "f64:2,12,12,1", max_val=2.0, k1=0.02),
    ]
]

ALL = NUMPY + MATH + LINALG + CORE + NN + IMAGE

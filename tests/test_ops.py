"""lamina.ops against keras.ops (Keras 3, torch backend): values, shapes and dtypes.

Inputs are written as short specs: ``"f32:2,3"`` is a float32 NumPy array of shape
(2, 3), ``"t.f16:4"`` a float16 torch tensor; Python numbers are passed as they are.
When Keras raises for a case, lamina must raise too (unless marked lenient).
Where Keras on torch departs from its own documented (NumPy) semantics, lamina
follows NumPy and the case is checked against NumPy instead.
"""

from __future__ import annotations

import keras  # a dev dependency: the oracle
import numpy as np
import pytest
import torch

import lamina.ops as lops
from lamina.ops import image as ops_image

kops = keras.ops

_NP = {
    "f16": np.float16,
    "f32": np.float32,
    "f64": np.float64,
    "i8": np.int8,
    "u8": np.uint8,
    "i16": np.int16,
    "i32": np.int32,
    "i64": np.int64,
    "bool": np.bool_,
}


def make(spec, rng):
    """An input from its spec (strings) or the value itself (anything else)."""
    if isinstance(spec, list):
        return [make(s, rng) for s in spec]
    if not isinstance(spec, str) or ":" not in spec:
        return spec
    kind, dims = spec.split(":")
    as_torch = kind.startswith("t.")
    kind = kind.removeprefix("t.")
    shape = tuple(int(d) for d in dims.split(",") if d)
    if kind == "pos":
        value = rng.uniform(0.1, 2.0, shape).astype(np.float32)
    elif kind == "unit":
        value = rng.uniform(-0.9, 0.9, shape).astype(np.float32)
    elif kind == "prob":
        value = rng.uniform(0.05, 0.95, shape).astype(np.float32)
    elif kind == "idx":
        value = rng.randint(0, 3, shape).astype(np.int32)
    elif kind == "bool":
        value = rng.rand(*shape) > 0.5
    elif kind == "bf16":
        return torch.as_tensor(rng.randn(*shape), dtype=torch.bfloat16)
    elif kind[0] in "iu":
        value = rng.randint(0 if kind[0] == "u" else -5, 6, shape).astype(_NP[kind])
    else:
        value = rng.randn(*shape).astype(_NP[kind])
    return torch.as_tensor(value) if as_torch else value


def to_numpy(value):
    if isinstance(value, torch.Tensor):
        value = value.detach()
        return value.float().numpy() if value.dtype == torch.bfloat16 else value.numpy()
    if isinstance(value, (list, tuple)):
        return [to_numpy(v) for v in value]
    return np.asarray(value)


def dtype_of(value):
    if isinstance(value, (list, tuple)):
        return [dtype_of(v) for v in value]
    return value.dtype if isinstance(value, torch.Tensor) else type(value)


def assert_same(ours, theirs, rtol=1e-5, atol=1e-6):
    """Same dtypes, shapes and (to a tolerance) values, recursing into sequences."""
    assert dtype_of(ours) == dtype_of(theirs)
    ours, theirs = to_numpy(ours), to_numpy(theirs)
    if isinstance(theirs, list):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            assert_same(a, b, rtol, atol)
        return
    assert ours.shape == theirs.shape
    if ours.dtype.kind in "fc" or theirs.dtype.kind in "fc":
        loose = np.float16 in (ours.dtype, theirs.dtype)
        np.testing.assert_allclose(
            ours,
            theirs,
            rtol=1e-2 if loose else rtol,
            atol=1e-2 if loose else atol,
            equal_nan=True,
        )
    else:
        np.testing.assert_array_equal(ours, theirs)


def check(name, args, kwargs=None, seed=0, rtol=1e-5, atol=1e-6, lenient=False):
    """Run ``name`` in lamina and Keras on the same inputs and compare.

    When Keras raises, lamina must raise too, unless ``lenient`` (lamina accepts
    more than Keras there, e.g. ``round`` of bools).
    """
    kwargs = kwargs or {}
    ours_args = make(list(args), np.random.RandomState(seed))
    theirs_args = make(list(args), np.random.RandomState(seed))
    try:
        expected = getattr(kops, name)(*theirs_args, **kwargs)
    except Exception:
        if not lenient:
            with pytest.raises(Exception):  # noqa: B017
                getattr(lops, name)(*ours_args, **kwargs)
        return
    assert_same(getattr(lops, name)(*ours_args, **kwargs), expected, rtol, atol)


def _id(value):
    return str(value).replace(" ", "")


# --- element-wise, one argument ---------------------------------------------------

UNARY = [
    "abs",
    "absolute",
    "negative",
    "sign",
    "square",
    "sqrt",
    "exp",
    "log",
    "log1p",
    "expm1",
    "floor",
    "ceil",
    "round",
    "cos",
    "sin",
    "tan",
    "tanh",
    "arctan",
    "sinh",
    "cosh",
    "isnan",
    "isinf",
    "isfinite",
    "nan_to_num",
    "reciprocal",
    "logical_not",
    "exp2",
    "log2",
    "log10",
    "trunc",
    "fabs",
    "arcsinh",
    "signbit",
    "cbrt",
    "deg2rad",
    "rsqrt",
    "erf",
]
UNARY_DOMAIN = {
    "arcsin": "unit",
    "arccos": "unit",
    "arctanh": "unit",
    "erfinv": "unit",
    "arccosh": "pos",
}
UNARY_DTYPES = ["f32", "f64", "i32", "i64", "bool", "f16", "u8", "t.bf16"]


@pytest.mark.parametrize("dtype", UNARY_DTYPES)
@pytest.mark.parametrize("name", UNARY)
def test_unary(name, dtype):
    check(name, [f"{dtype}:3,4"], lenient=name == "round")


@pytest.mark.parametrize("name", sorted(UNARY_DOMAIN))
def test_unary_domain(name):
    check(name, [f"{UNARY_DOMAIN[name]}:3,4"])
    check(name, ["t.f32:5"], seed=1)


def test_python_scalars_and_lists():
    check("exp", [2])
    check("sqrt", [[1, 4, 9]])
    check("round", ["f32:6"], {"decimals": 2})
    check(
        "nan_to_num",
        [np.array([np.nan, np.inf, -np.inf, 1.0], np.float32)],
        {"nan": 1.0, "posinf": 9.0, "neginf": -9.0},
    )


# --- element-wise, two arguments --------------------------------------------------

BINARY = [
    "add",
    "subtract",
    "multiply",
    "divide",
    "true_divide",
    "power",
    "maximum",
    "minimum",
    "equal",
    "not_equal",
    "greater",
    "greater_equal",
    "less",
    "less_equal",
    "logical_and",
    "logical_or",
    "logical_xor",
    "floor_divide",
    "mod",
    "arctan2",
    "logaddexp",
    "hypot",
    "fmod",
    "divide_no_nan",
    "heaviside",
]
OPERANDS = [
    ("f32:3,4", "f32:3,4"),
    ("f32:3,4", "f32:4"),
    ("i32:3,4", "f32:3,4"),
    ("i32:3,4", 2),
    ("i32:3,4", 1.5),
    ("f32:3,4", 2),
    ("f32:3,4", 0.5),
    (2.0, "f32:4"),
    (3, "i32:4"),
    ("f16:3,4", 2.0),
    ("f16:3,4", "f32:4"),
    ("bool:3,4", 1),
    ("bool:3,4", "bool:3,4"),
    ("bool:3,4", 1.5),
    ("f64:3,4", "f32:3,4"),
    ("i64:3,4", "i32:3,4"),
    ("i64:3,4", 2),
    ("u8:3,4", "i8:3,4"),
    ("t.bf16:3,4", 2.0),
    ("t.f32:3,4", "t.i32:3,4"),
    ("i32:4", "i32:4"),
    (2, 3),
    (2.5, 1),
]


@pytest.mark.parametrize("operands", OPERANDS, ids=_id)
@pytest.mark.parametrize("name", BINARY)
def test_binary(name, operands):
    check(name, list(operands))


@pytest.mark.parametrize(
    "args",
    [
        ("f32:3,4", -0.5, 0.5),
        ("i32:3,4", -1, 2),
        ("i32:3,4", -1.5, 2.5),
        ("f16:6", 0.0, 1.0),
        ("bool:5", 0, 1),
        ("f64:5", -1, 1),
        ("f32:6", "f32:6", 1.0),
    ],
    ids=_id,
)
def test_clip(args):
    check("clip", list(args))


@pytest.mark.parametrize(
    "args",
    [
        ("bool:3,4", "f32:3,4", "f32:3,4"),
        ("bool:3,4", "f32:3,4", 0.0),
        ("bool:3,4", 1, 0),
        ("bool:3,4", 1.0, 0),
        ("bool:4", "i32:4", "f64:4"),
    ],
    ids=_id,
)
def test_where(args):
    check("where", list(args))


def test_where_condition_only_and_nonzero():
    check("where", ["bool:3,4"])
    check("nonzero", ["i32:3,4"])


# --- reductions --------------------------------------------------------------------

REDUCTIONS = [
    "sum",
    "mean",
    "max",
    "min",
    "amax",
    "amin",
    "prod",
    "std",
    "var",
    "any",
    "all",
    "logsumexp",
    "ptp",
]
# Keras on torch drops `keepdims` for these with axis=None; lamina keeps the dims.
KEEPDIMS_DROPPED = {"sum", "max", "min", "prod", "amax", "amin", "ptp"}


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2), ()], ids=_id)
@pytest.mark.parametrize("dtype", ["f32", "i32", "f64", "bool", "f16", "i8"])
@pytest.mark.parametrize("name", REDUCTIONS)
def test_reduction(name, dtype, axis, keepdims):
    kwargs = {"axis": axis, "keepdims": keepdims}
    if axis is None and keepdims and name in KEEPDIMS_DROPPED:
        x = make(f"{dtype}:2,3,4", np.random.RandomState(0))
        try:
            expected = getattr(kops, name)(x, axis=None)
        except Exception:
            return
        ours = getattr(lops, name)(x, **kwargs)
        assert tuple(ours.shape) == (1, 1, 1)
        assert_same(ours.reshape(()), expected)
        return
    check(name, [f"{dtype}:2,3,4"], kwargs)


@pytest.mark.parametrize("axis", [None, 0, -1, ()], ids=_id)
def test_count_nonzero(axis):
    # 2-D input: Keras on torch transposes the result, which shows for 3-D only.
    check("count_nonzero", ["i32:3,4"], {"axis": axis})
    x = make("i32:2,3,4", np.random.RandomState(0))
    assert_same(
        lops.count_nonzero(x, axis=0),
        torch.as_tensor(np.count_nonzero(x, axis=0), dtype=torch.int32),
    )


@pytest.mark.parametrize("axis", [None, 0, -1], ids=_id)
@pytest.mark.parametrize(
    "name", ["argmax", "argmin", "cumsum", "cumprod", "argsort", "sort"]
)
@pytest.mark.parametrize("dtype", ["f32", "i32", "bool", "f64", "i64"])
def test_along_axis(name, dtype, axis):
    check(name, [f"{dtype}:3,4"], {"axis": axis})


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"axis": 1}, {"axis": (0, 2)}, {"axis": 1, "keepdims": True}],
    ids=_id,
)
@pytest.mark.parametrize(
    "name", ["median", "nanmean", "nansum", "nanmax", "nanmin", "nanvar", "nanstd"]
)
def test_statistics(name, kwargs):
    check(name, ["f32:3,4,5"], kwargs)
    check(name, ["i32:3,4,5"], kwargs)


@pytest.mark.parametrize("q", [0.3, [0.1, 0.5, 0.9]], ids=_id)
@pytest.mark.parametrize("axis", [None, 1, (0, 2)], ids=_id)
@pytest.mark.parametrize("keepdims", [False, True])
def test_quantile(q, axis, keepdims):
    check("quantile", ["f32:3,4,5", q], {"axis": axis, "keepdims": keepdims})
    check(
        "percentile",
        ["i32:3,4,5", np.multiply(q, 100).tolist()],
        {"axis": axis, "keepdims": keepdims},
    )


def test_average_and_max_initial():
    check("average", ["f32:3,4"])
    check("average", ["f32:3,4"], {"axis": -1, "weights": "pos:4"})
    check("average", ["i32:5"], {"weights": "pos:5"})
    check("max", ["f32:3,4"], {"axis": 0, "initial": 0.5})
    check("min", ["i32:3,4"], {"axis": 1, "initial": 0})
    # 1-D weights along another axis: NumPy semantics (Keras on torch misaligns).
    x = np.arange(12.0, dtype=np.float32).reshape(3, 4)
    w = np.array([1.0, 2.0, 3.0], np.float32)
    np.testing.assert_allclose(
        lops.average(x, axis=0, weights=w).numpy(),
        np.average(x, axis=0, weights=w),
        rtol=1e-6,
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"ord": 1},
        {"axis": 1},
        {"ord": "fro"},
        {"ord": np.inf, "axis": -1, "keepdims": True},
    ],
    ids=_id,
)
def test_norm(kwargs):
    check("norm", ["f32:3,4"], kwargs)
    check("norm", ["i64:3,4"], kwargs)


# --- creation ----------------------------------------------------------------------

CREATION = [
    ("zeros", [(2, 3)], {}),
    ("ones", [4], {"dtype": "int32"}),
    ("full", [(2, 2), 3], {}),
    ("full", [(2, 2), 1.5], {"dtype": "float16"}),
    ("full", [(2, 3), "f32:3"], {}),
    ("eye", [3], {}),
    ("eye", [3, 4], {"k": 1}),
    ("eye", [4, 3], {"k": -1, "dtype": "int32"}),
    ("identity", [3], {}),
    ("tri", [3, 4], {"k": 1}),
    ("arange", [5], {}),
    ("arange", [5.0], {}),
    ("arange", [1, 7, 2], {}),
    ("arange", [0, 1, 0.25], {}),
    ("arange", [5], {"dtype": "float16"}),
    ("linspace", [0, 1, 5], {}),
    ("linspace", [2.0, 3.0, 4], {"endpoint": False}),
    ("linspace", [0, 10, 6], {"dtype": "int32"}),
    ("linspace", [0.0, 1.0, 5], {"retstep": True}),
    ("logspace", [0, 2, 3], {}),
    ("zeros_like", ["i32:2,3"], {}),
    ("ones_like", ["f32:2,3"], {"dtype": "float64"}),
    ("full_like", ["i32:3"], {"fill_value": 7}),
    ("full_like", ["f32:3"], {"fill_value": 2, "dtype": "int32"}),
]


@pytest.mark.parametrize("name,args,kwargs", CREATION, ids=_id)
def test_creation(name, args, kwargs):
    check(name, args, kwargs)


def test_linspace_arrays_along_axis():
    start, stop = np.zeros(3, np.float32), np.arange(3, dtype=np.float32) + 1
    for axis in (0, 1):
        ours = lops.linspace(start, stop, 5, axis=axis).numpy()
        np.testing.assert_allclose(
            ours, np.linspace(start, stop, 5, axis=axis), rtol=1e-6
        )


# --- shapes ------------------------------------------------------------------------

SHAPES = [
    ("reshape", ["f32:2,3,4", (6, -1)], {}),
    ("reshape", ["i32:6", 6], {}),
    ("transpose", ["f32:2,3,4"], {}),
    ("transpose", ["f32:2,3,4", (1, 0, 2)], {}),
    ("expand_dims", ["f32:2,3", 0], {}),
    ("expand_dims", ["f32:2,3", -1], {}),
    ("expand_dims", ["f32:2,3", (0, 3)], {}),
    ("squeeze", ["f32:1,3,1"], {}),
    ("squeeze", ["f32:1,3,1", 0], {}),
    ("squeeze", ["f32:1,3,1", (0, 2)], {}),
    ("tile", ["f32:2,3", 2], {}),
    ("tile", ["f32:2,3", (2, 1, 2)], {}),
    ("repeat", ["f32:2,3", 2], {}),
    ("repeat", ["f32:2,3", 3], {"axis": 1}),
    ("broadcast_to", ["f32:3", (2, 3)], {}),
    ("concatenate", [["f32:2,3", "f32:2,3"]], {}),
    ("concatenate", [["f32:2,3", "f32:2,2"]], {"axis": -1}),
    ("concatenate", [["i32:2,3", "f32:1,3"]], {}),
    ("stack", [["f32:2,3", "f32:2,3"]], {}),
    ("stack", [["f32:2", "f32:2"]], {"axis": 1}),
    ("split", ["f32:6,2", 3], {}),
    ("split", ["f32:2,7", [2, 5]], {"axis": 1}),
    ("array_split", ["f32:7,2", 3], {}),
    ("hsplit", ["f32:2,4", 2], {}),
    ("vsplit", ["f32:4,2", 2], {}),
    ("vstack", [["f32:3", "f32:3"]], {}),
    ("hstack", [["f32:2,3", "f32:2,1"]], {}),
    ("dstack", [["f32:2,3", "f32:2,3"]], {}),
    ("append", ["f32:2,3", "f32:2,3"], {}),
    ("append", ["f32:2,3", "f32:1,3"], {"axis": 0}),
    ("moveaxis", ["f32:2,3,4", 0, -1], {}),
    ("moveaxis", ["f32:2,3,4", (0, 1), (2, 0)], {}),
    ("swapaxes", ["f32:2,3,4", 0, 2], {}),
    ("flip", ["f32:2,3"], {}),
    ("flip", ["f32:2,3"], {"axis": 1}),
    ("flip", ["f32:2,3,2"], {"axis": (0, 2)}),
    ("fliplr", ["f32:2,3"], {}),
    ("flipud", ["f32:2,3"], {}),
    ("roll", ["f32:2,3", 1], {}),
    ("roll", ["f32:2,3", -1], {"axis": 1}),
    ("roll", ["f32:2,3", (1, 2)], {"axis": (0, 1)}),
    ("rot90", ["f32:2,3"], {}),
    ("ravel", ["f32:2,3"], {}),
    ("triu", ["f32:3,4"], {}),
    ("tril", ["f32:3,4", -1], {}),
    ("diag", ["f32:3"], {}),
    ("diag", ["f32:3,3", 1], {}),
    ("diagflat", ["f32:2,2"], {}),
    ("diagonal", ["f32:3,4,2"], {"offset": 1, "axis1": 0, "axis2": 1}),
    ("trace", ["i8:3,3"], {}),
    ("trace", ["f32:2,3,3"], {"axis1": 1, "axis2": 2}),
    ("meshgrid", ["f32:2", "f32:3"], {}),
    ("meshgrid", ["f32:2", "f32:3"], {"indexing": "ij"}),
    ("unstack", ["t.f32:3,2"], {}),
    ("unstack", ["t.f32:3,2"], {"axis": 1}),
    ("shape", ["f32:2,3"], {}),
    ("ndim", ["f32:2,3"], {}),
    ("pad", ["f32:2,3", ((0, 1), (2, 0))], {}),
    ("pad", ["f32:2,3", ((1, 1), (2, 2))], {"constant_values": 3.0}),
    ("pad", ["f32:3,4", ((1, 2), (2, 1))], {"mode": "reflect"}),
]


@pytest.mark.parametrize("name,args,kwargs", SHAPES, ids=_id)
def test_shapes(name, args, kwargs):
    check(name, args, kwargs)


@pytest.mark.parametrize("pad_width", [1, ((2, 3), (4, 1)), ((0, 0), (5, 5))], ids=_id)
@pytest.mark.parametrize("mode", ["constant", "symmetric", "reflect", "edge", "wrap"])
def test_pad_matches_numpy(mode, pad_width):
    # Keras on torch pads only the last axis for an int `pad_width`, maps
    # "symmetric" to "edge", and lacks "edge" and "wrap"; lamina follows NumPy.
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    np.testing.assert_array_equal(
        lops.pad(x, pad_width, mode=mode).numpy(), np.pad(x, pad_width, mode=mode)
    )


def test_repeat_and_vdot_match_numpy():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(
        lops.repeat(x, [1, 2], axis=0).numpy(), np.repeat(x, [1, 2], axis=0)
    )
    np.testing.assert_allclose(float(lops.vdot(x, x + 1)), np.vdot(x, x + 1))


def test_squeeze_of_a_non_unit_axis_raises():
    with pytest.raises(ValueError, match="axis 1 of a tensor of shape"):
        lops.squeeze(np.zeros((1, 3)), axis=1)


def test_size():
    assert lops.size(np.zeros((2, 3, 4))) == 24
    assert int(kops.size(np.zeros((2, 3, 4)))) == 24


# --- indexing and sorting ----------------------------------------------------------

INDEXING = [
    ("take", ["f32:4,3", [0, 2, -1]], {"axis": 0}),
    ("take", ["f32:4,3", [[0, 1], [2, -1]]], {"axis": 1}),
    ("take", ["f32:4,3", [0, 11]], {}),
    ("take", ["f32:2,4,3", "idx:2,2"], {"axis": 1}),
    ("take_along_axis", ["f32:3,4", "idx:3,2"], {"axis": 1}),
    ("take_along_axis", ["f32:3,4", "idx:2,4"], {"axis": 0}),
    ("in_top_k", [[1, 0, 2], "f32:3,4", 2], {}),
    ("searchsorted", [np.array([1.0, 2.0, 3.0], np.float32), "f32:4"], {}),
    ("searchsorted", [np.array([1, 2, 3], np.int32), [2, 0, 5]], {"side": "right"}),
    ("digitize", ["f32:5", np.array([-1.0, 0.0, 1.0], np.float32)], {}),
    ("select", [["bool:4", "bool:4"], ["f32:4", "f32:4"]], {}),
    ("slice", ["f32:4,5", (1, 2), (2, 3)], {}),
    ("slice_update", ["f32:4,5", (1, 2), "f32:2,3"], {}),
    ("scatter", [[[0, 1], [2, 2]], "f32:2", (3, 3)], {}),
    ("scatter", [[[0], [2], [0]], "f32:3,2", (3, 2)], {}),
    ("scatter_update", ["f32:3,3", [[0, 1], [2, 2]], "f32:2"], {}),
    ("scatter_update", ["f32:3,2", [[0], [2]], "f32:2,2"], {}),
    ("bincount", [np.array([0, 1, 1, 3], np.int32)], {}),
    (
        "bincount",
        [np.array([0, 1, 1, 3], np.int32)],
        {"weights": "pos:4", "minlength": 6},
    ),
    ("segment_sum", ["f32:5,2", np.array([0, 0, 1, 2, 2], np.int32)], {}),
    (
        "segment_sum",
        ["f32:5", np.array([0, 0, 1, 3, 3], np.int32)],
        {"num_segments": 4},
    ),
    ("segment_max", ["f32:5,2", np.array([0, 0, 1, 2, 2], np.int32)], {}),
    ("get_item", ["t.f32:4,3", 1], {}),
    ("get_item", ["t.f32:4,3", (1, slice(0, 2))], {}),
]


@pytest.mark.parametrize("name,args,kwargs", INDEXING, ids=_id)
def test_indexing(name, args, kwargs):
    check(name, args, kwargs)


def test_top_k_values_match_keras_and_indices_are_int32_as_tensorflow_and_jax():
    # Keras on torch returns torch's int64 indices eagerly but declares int32 in
    # its symbolic shapes; TensorFlow and JAX return int32: lamina follows them.
    x = np.random.RandomState(0).standard_normal((3, 5)).astype("float32")
    values, indices = lops.top_k(x, 2)
    want_values, want_indices = kops.top_k(x, 2)
    assert_same(values, want_values)
    assert indices.dtype == torch.int32
    np.testing.assert_array_equal(indices.numpy(), to_numpy(want_indices))
    np.testing.assert_array_equal(indices.numpy(), np.argsort(-x, axis=-1)[:, :2])


@pytest.mark.parametrize("reduction", ["add", "max", "min", "mul"])
def test_scatter_update_reductions(reduction):
    check(
        "scatter_update",
        ["f32:3,2", [[0], [2], [0]], "f32:3,2"],
        {"reduction": reduction},
    )
    check(
        "scatter_update",
        ["f32:3,3", [[0, 1], [2, 2], [0, 1]], "f32:3"],
        {"reduction": reduction},
    )


# --- linear algebra ----------------------------------------------------------------

LINALG = [
    ("matmul", ["f32:3,4", "f32:4,2"]),
    ("matmul", ["f32:2,3,4", "f32:4,5"]),
    ("matmul", ["f32:4", "f32:4,2"]),
    ("matmul", ["i32:3,4", "f32:4,2"]),
    ("matmul", ["i32:3,4", "i32:4,2"]),
    ("matmul", ["i8:3,4", "i8:4,2"]),
    ("matmul", ["f16:3,4", "f16:4,2"]),
    ("matmul", ["bool:3,4", "bool:4,2"]),
    ("matmul", ["f64:3,4", "f32:4,2"]),
    ("matmul", ["t.bf16:3,4", "t.bf16:4,2"]),
    ("dot", ["f32:3,4", "f32:4,2"]),
    ("dot", ["f32:4", "f32:4"]),
    ("dot", ["f32:3,4", 2.0]),
    ("dot", ["i32:2,3,4", "f32:4"]),
    ("tensordot", ["f32:2,3,4", "f32:3,4,5"]),
    ("tensordot", ["f32:3,4", "f32:4,5", 1]),
    ("tensordot", ["f32:2,3,4", "f32:4,3", ((1, 2), (1, 0))]),
    ("tensordot", ["i32:3,4", "f32:4,2", (1, 0)]),
    ("einsum", ["ij,jk->ik", "f32:3,4", "f32:4,5"]),
    ("einsum", ["bij->bji", "f32:2,3,4"]),
    ("einsum", ["i,i->", "i8:4", "i8:4"]),
    ("outer", ["f32:3", "f32:4"]),
    ("outer", ["f32:2,2", "f32:3"]),
    ("inner", ["f32:3,4", "f32:2,4"]),
    ("vdot", ["f32:3", "f32:3"]),
    ("kron", ["f32:2,2", "f32:2,3"]),
    ("cross", ["f32:4,3", "f32:4,3"]),
]


@pytest.mark.parametrize("name,args", LINALG, ids=_id)
def test_linalg(name, args):
    check(name, args, rtol=1e-5, atol=1e-5)


def test_dot_of_nd_arrays_is_numpy_dot():
    # Keras on torch runs `matmul` here; its docs (and NumPy) sum over the last
    # axis of x1 and the second-to-last of x2.
    a = np.random.RandomState(0).randn(2, 3, 4).astype(np.float32)
    b = np.random.RandomState(1).randn(5, 4, 6).astype(np.float32)
    np.testing.assert_allclose(
        lops.dot(a, b).numpy(), np.dot(a, b), rtol=1e-5, atol=1e-5
    )


# --- conversion and control flow ---------------------------------------------------


@pytest.mark.parametrize(
    "value,dtype",
    [
        (3, None),
        (3.5, None),
        (True, None),
        ([1, 2], None),
        ([1, 2.5], None),
        ([[True, False]], None),
        (np.arange(3), None),
        (np.ones(2, np.float64), None),
        (2**40, None),
        ([1, 2], "float16"),
        ("f32:2", "int32"),
        ("t.i32:3", "float32"),
    ],
    ids=_id,
)
def test_convert_to_tensor(value, dtype):
    check("convert_to_tensor", [value], {"dtype": dtype})
    check("cast", [value, dtype or "float32"])


def test_core_helpers():
    x = torch.ones(2, 3, requires_grad=True)
    assert not lops.stop_gradient(x * 2).requires_grad
    assert lops.dtype(x) == kops.dtype(x) == "float32"
    assert lops.is_tensor(x) and not lops.is_tensor(np.ones(2))
    np.testing.assert_array_equal(lops.convert_to_numpy(x), np.ones((2, 3)))
    check("saturate_cast", [np.array([-1.0, 300.0, 5.5], np.float32), "uint8"])
    check("saturate_cast", ["i8:6", "uint8"])
    check("saturate_cast", ["i32:6", "int8"])
    check("saturate_cast", ["u8:6", "int8"])
    assert lops.cond(True, lambda: 1, lambda: 2) == 1
    assert lops.switch(5, [lambda a: a + 1, lambda a: a * 10], 2) == 20
    assert lops.fori_loop(0, 4, lambda i, v: v + i, 0) == 6
    assert lops.while_loop(lambda v: v < 10, lambda v: v * 2, 1) == 16
    assert lops.while_loop(
        lambda a, b: a < 3, lambda a, b: (a + 1, b * 2), (0, 1), maximum_iterations=2
    ) == (2, 4)


def test_scan_and_map():
    xs = np.arange(5, dtype=np.float32)

    def step(carry, x):
        return carry + x, carry * x

    for reverse in (False, True):
        ours = lops.scan(step, torch.tensor(0.0), xs, reverse=reverse)
        theirs = kops.scan(step, torch.tensor(0.0), xs, reverse=reverse)
        assert_same(list(ours), list(theirs))
    assert_same(lops.map(lambda v: v * 2, xs), kops.map(lambda v: v * 2, xs))
    ones = np.ones((3, 2), np.float32)
    assert_same(
        lops.vectorized_map(lambda v: v.sum(), ones),
        kops.vectorized_map(lambda v: v.sum(), torch.as_tensor(ones)),
    )


@pytest.mark.parametrize(
    "args",
    [
        ("float32",),
        ("int32", "float32"),
        (int, "int8"),
        (float, "int64"),
        ("float16", "bfloat16"),
        ("uint8", "int8"),
        ("bool", int),
        ("float64",),
        (int, float),
        ("int64", "float16"),
        ("uint8", "int64"),
        (float, "bfloat16"),
    ],
    ids=_id,
)
def test_result_type(args):
    assert lops.result_type(*args) == keras.backend.result_type(*args)


# --- nn ----------------------------------------------------------------------------

ACTIVATIONS = [
    "relu",
    "relu6",
    "sigmoid",
    "sparse_sigmoid",
    "tanh",
    "tanh_shrink",
    "softplus",
    "softsign",
    "soft_shrink",
    "sparse_plus",
    "silu",
    "swish",
    "squareplus",
    "log_sigmoid",
    "leaky_relu",
    "hard_sigmoid",
    "hard_silu",
    "hard_swish",
    "elu",
    "selu",
    "gelu",
    "celu",
    "glu",
    "hard_tanh",
    "hard_shrink",
    "softmax",
    "log_softmax",
]


@pytest.mark.parametrize("dtype", ["f32", "f64", "f16", "t.bf16"])
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation(name, dtype):
    check(name, [f"{dtype}:3,4"], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("leaky_relu", {"negative_slope": 0.1}),
        ("elu", {"alpha": 0.5}),
        ("gelu", {"approximate": False}),
        ("celu", {"alpha": 2.0}),
        ("glu", {"axis": 0}),
        ("soft_shrink", {"threshold": 1.0}),
        ("hard_shrink", {"threshold": 0.2}),
        ("squareplus", {"b": 2}),
        ("softmax", {"axis": 0}),
        ("softmax", {"axis": None}),
        ("softmax", {"axis": (0, 2)}),
        ("log_softmax", {"axis": 1}),
        ("log_softmax", {"axis": None}),
    ],
    ids=_id,
)
def test_activation_arguments(name, kwargs):
    check(name, ["f32:2,4,3"], kwargs, rtol=1e-5, atol=1e-5)


def _sparsemax_reference(z):
    """Martins & Astudillo (2016), one row at a time."""
    out = np.empty_like(z)
    for i, row in enumerate(z):
        ordered = np.sort(row)[::-1]
        cumsum = np.cumsum(ordered)
        k = np.arange(1, len(row) + 1)
        support = k[1 + k * ordered > cumsum].max()
        out[i] = np.maximum(row - (cumsum[support - 1] - 1) / support, 0)
    return out


def test_sparsemax_is_the_simplex_projection():
    # Keras 3.15 sums the wrong cumulative sums (its rows need not sum to 1);
    # lamina computes the definition, as lamina.activations does.
    x = np.random.RandomState(0).randn(5, 4).astype(np.float32)
    ours = lops.sparsemax(x).numpy()
    np.testing.assert_allclose(ours, _sparsemax_reference(x), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.sum(-1), 1.0, rtol=1e-5)
    ours = lops.sparsemax(x.T, axis=0).numpy()
    np.testing.assert_allclose(ours, _sparsemax_reference(x).T, rtol=1e-5, atol=1e-6)


def test_threshold():
    check("threshold", ["f32:3,4", 0.1, -2.0])


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"axis": 0}, {"dtype": "int32"}, {"axis": 1, "dtype": "bool"}],
    ids=_id,
)
def test_one_hot(kwargs):
    x = np.array([[0, 2, -1], [1, 3, 0]], np.int32)
    check("one_hot", [x, 4], kwargs)
    check("multi_hot", [x, 4], {k: v for k, v in kwargs.items() if k != "axis"})


@pytest.mark.parametrize("from_logits", [False, True])
def test_crossentropies(from_logits):
    kw = {"from_logits": from_logits}
    out = "f32:4,3" if from_logits else "prob:4,3"
    check("binary_crossentropy", ["prob:4,3", out], kw)
    check(
        "categorical_crossentropy", [np.eye(3, dtype=np.float32)[[0, 2, 1, 1]], out], kw
    )
    check("categorical_crossentropy", ["prob:3,4", "prob:3,4"], {**kw, "axis": 0})
    check("sparse_categorical_crossentropy", [[0, 2, 1, 1], out], kw)
    check("sparse_categorical_crossentropy", [[[0], [2], [1], [1]], out], kw)
    check(
        "sparse_categorical_crossentropy", ["idx:2,4", "prob:2,3,4"], {**kw, "axis": 1}
    )


@pytest.mark.parametrize(
    "axes,keepdims", [(0, False), ((0, 1), True), ([2], False)], ids=_id
)
def test_moments(axes, keepdims):
    check("moments", ["f32:3,4,5", axes], {"keepdims": keepdims}, atol=1e-5)
    check("moments", ["f16:3,4,5", axes], {"keepdims": keepdims})


@pytest.mark.parametrize(
    "name,args,kwargs",
    [
        (
            "batch_normalization",
            ["f32:2,3,4", "f32:4", "pos:4", -1],
            {"offset": "f32:4", "scale": "f32:4"},
        ),
        ("batch_normalization", ["f32:2,3,4", "f32:3", "pos:3", 1], {}),
        ("normalize", ["f32:3,4"], {}),
        ("normalize", ["f32:3,4"], {"axis": 0, "order": 1}),
        ("normalize", ["f32:3,4"], {"order": 3}),
        ("rms_normalization", ["f32:3,4"], {}),
        ("rms_normalization", ["f32:3,4,5"], {"scale": "f32:5", "axis": -1}),
        ("rms_normalization", ["f32:3,4,5"], {"axis": (0, 2), "epsilon": 1e-3}),
        ("layer_normalization", ["f32:3,4,5"], {}),
        ("layer_normalization", ["f32:3,4,5"], {"gamma": "f32:5", "beta": "f32:5"}),
        ("layer_normalization", ["f32:3,4,5"], {"axis": (1, 2)}),
        (
            "layer_normalization",
            ["f32:3,4,5"],
            {"axis": 1, "gamma": "f32:4", "beta": "f32:4"},
        ),
        ("layer_normalization", ["f32:3,4,5"], {"gamma": "f32:5", "rms_scaling": True}),
        ("layer_normalization", ["f16:3,4,5"], {}),
        ("psnr", ["pos:4,4", "pos:4,4", 2.0], {}),
    ],
    ids=_id,
)
def test_normalizations(name, args, kwargs):
    check(name, args, kwargs, atol=1e-5)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"is_causal": True},
        {"mask": "bool:2,2,3,5"},
        {"bias": "f32:2,2,3,5"},
        {"scale": 0.3},
        {"mask": "bool:2,2,3,5", "is_causal": True},
    ],
    ids=_id,
)
@pytest.mark.parametrize("kv_heads", [2, 1])
def test_dot_product_attention(kwargs, kv_heads):
    check(
        "dot_product_attention",
        ["f32:2,3,2,4", f"f32:2,5,{kv_heads},4", f"f32:2,5,{kv_heads},4"],
        kwargs,
        atol=1e-5,
    )


def test_attention_soft_cap():
    # Keras accepts the soft cap on JAX TPUs only; check it against its formula.
    rng = np.random.RandomState(0)
    q, k, v = (rng.randn(2, 3, 2, 4).astype(np.float32) for _ in range(3))
    logits = np.einsum("btnh,bsnh->bnts", q, k) / 2.0
    logits = np.tanh(logits / 1.5) * 1.5
    weights = np.exp(logits - logits.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    expected = np.einsum("bnts,bsnh->btnh", weights, v)
    ours = lops.dot_product_attention(q, k, v, attn_logits_soft_cap=1.5)
    np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-5, atol=1e-5)


def test_every_public_name_exists_in_keras_ops():
    missing = [n for n in lops.__all__ if not hasattr(kops, n)]
    # lamina extras that Keras keeps elsewhere (keras.backend.result_type ...).
    assert set(missing) <= {"standardize_dtype", "result_type", "mish"}


def test_meta_tensors_mix_with_numpy_constants():
    # Shape inference runs layer code on `meta` tensors; constants must follow them.
    m = torch.empty(4, 16, device="meta")
    results = [
        lops.matmul(m, np.ones((16, 3), np.float32)),
        lops.add(m, 1.5),
        lops.maximum(m, np.zeros(16, np.float32)),
        lops.take(m, [0, 1], axis=1),
        lops.where(np.ones((4, 16), bool), m, 0.0),
        lops.concatenate([m, np.zeros((4, 2), np.float32)], axis=1),
        lops.clip(m, 0, 1),
        lops.mean(m, axis=-1),
        lops.softmax(m),
        lops.layer_normalization(m, gamma=np.ones(16, np.float32)),
    ]
    assert all(r.device.type == "meta" for r in results)
    assert [tuple(r.shape) for r in results[:4]] == [(4, 3), (4, 16), (4, 16), (4, 2)]


@pytest.mark.parametrize(
    "name, args, kwargs",
    [
        ("conv", ["f32:2,9,3", "f32:3,3,4"], {"strides": 2, "padding": "same"}),
        ("conv_transpose", ["f32:2,5,5,3", "f32:3,3,4,3"], {"strides": 2}),
        ("depthwise_conv", ["f32:2,7,7,3", "f32:3,3,3,2"], {"padding": "same"}),
        ("separable_conv", ["f32:2,7,7,3", "f32:3,3,3,2", "f32:1,1,6,4"], {}),
        ("max_pool", ["f32:2,7,7,3", 3], {"strides": 2, "padding": "same"}),
        ("average_pool", ["f32:2,8,3", 2], {}),
        ("adaptive_max_pool", ["f32:2,9,9,3", (4, 4)], {}),
        ("adaptive_average_pool", ["f32:2,9,3", 4], {}),
    ],
)
def test_spatial_ops_are_exported_and_match_keras(name, args, kwargs):
    import lamina.ops

    rng = np.random.default_rng(0)
    values = [
        rng.standard_normal([int(d) for d in a[4:].split(",")]).astype("float32")
        if isinstance(a, str)
        else a
        for a in args
    ]
    ours = getattr(lamina.ops, name)(
        *[torch.tensor(v) if isinstance(v, np.ndarray) else v for v in values], **kwargs
    )
    theirs = getattr(keras.ops, name)(*values, **kwargs)
    np.testing.assert_allclose(
        ours.numpy(), keras.ops.convert_to_numpy(theirs), atol=1e-5
    )


@pytest.mark.parametrize("fill_mode", ["constant", "nearest", "reflect", "mirror"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_affine_sampling_fast_path_equals_the_per_tap_formula(fill_mode, dtype):
    """Bilinear sampling runs on ``grid_sample`` for these fill modes; it must give
    the numbers of the per-tap formula (reflected/clamped pixel indices), incl.
    coordinates several image sizes outside and exactly on the edges."""
    gen = torch.Generator().manual_seed(0)
    for height, width in [(2, 2), (5, 7), (16, 9)]:
        x = torch.randn(3, height, width, 4, dtype=dtype, generator=gen)
        rows = (torch.rand(3, 9, 11, dtype=dtype, generator=gen) - 0.5) * 6 * height
        cols = (torch.rand(3, 9, 11, dtype=dtype, generator=gen) - 0.5) * 6 * width
        edges = [-0.5, 0.0, height - 1, height - 0.5, -1.0, 2 * height]
        rows[0, 0, :6] = torch.tensor(edges, dtype=dtype)
        batch = torch.arange(3).reshape(-1, 1, 1)
        coords = torch.stack([cols, rows], -1)
        fast = ops_image._grid_sample(x, coords, fill_mode, 0.7)
        slow = ops_image._interpolate(
            lambda idx, x=x, batch=batch: x[batch, idx[0], idx[1]],
            [rows, cols],
            (height, width),
            1,
            fill_mode,
            0.7,
        )
        atol = 3e-5 if dtype == torch.float32 else 1e-12
        torch.testing.assert_close(fast, slow, atol=atol, rtol=0)

"""NumPy-like ``keras.ops`` functions on torch tensors.

Every function takes torch tensors, NumPy arrays or Python scalars and returns torch
tensors. Dtypes follow Keras 3 on its torch backend: Python scalars are weakly typed
(``int32_tensor + 1.5`` is float32, ``float16_tensor * 2`` stays float16), Python
ints become int32 and Python floats ``floatx()``, ``mean`` of ints is float32, and
the ops Keras routes through its type-promotion lattice (``matmul``, ``maximum``,
``var``, ``prod``, ``cumsum``, ``floor``...) return the dtypes Keras returns.
"""

from __future__ import annotations

import builtins
import math

import numpy as np
import torch
import torch.nn.functional as F

from lamina import config
from lamina.ops.dtypes import (
    as_operand,
    as_operands,
    as_tensor,
    as_tensor_pair,
    as_tensors,
    convert_to_tensor,
    is_int_or_bool,
    result_type,
    standardize_dtype,
    to_floatx_if_int,
    to_torch_dtype,
)
from lamina.ops.numpy_signal import (
    _vector,
    bartlett,
    blackman,
    corrcoef,
    correlate,
    diff,
    hamming,
    hanning,
    histogram,
    kaiser,
    trapezoid,
)
from lamina.ops.numpy_vectorize import vectorize

__all__ = [
    # dtypes and conversion
    "standardize_dtype",
    "result_type",
    "array",
    "copy",
    "view",
    "ndim",
    "size",
    # creation
    "zeros",
    "ones",
    "empty",
    "full",
    "zeros_like",
    "ones_like",
    "empty_like",
    "full_like",
    "arange",
    "linspace",
    "logspace",
    "eye",
    "identity",
    "tri",
    "geomspace",
    "bartlett",
    "blackman",
    "hamming",
    "hanning",
    "kaiser",
    # element-wise, one argument
    "abs",
    "absolute",
    "fabs",
    "negative",
    "sign",
    "square",
    "sqrt",
    "exp",
    "exp2",
    "expm1",
    "log",
    "log1p",
    "log2",
    "log10",
    "reciprocal",
    "floor",
    "ceil",
    "round",
    "trunc",
    "sin",
    "cos",
    "tan",
    "arcsin",
    "arccos",
    "arctan",
    "sinh",
    "cosh",
    "tanh",
    "arcsinh",
    "arccosh",
    "arctanh",
    "cbrt",
    "deg2rad",
    "rad2deg",
    "isnan",
    "isinf",
    "isfinite",
    "isneginf",
    "isposinf",
    "signbit",
    "nan_to_num",
    "logical_not",
    "bitwise_not",
    "bitwise_invert",
    "conj",
    "conjugate",
    "real",
    "imag",
    "sinc",
    "angle",
    "i0",
    "isreal",
    # element-wise, two arguments
    "add",
    "subtract",
    "multiply",
    "divide",
    "true_divide",
    "floor_divide",
    "mod",
    "fmod",
    "power",
    "maximum",
    "minimum",
    "fmax",
    "fmin",
    "clip",
    "arctan2",
    "hypot",
    "logaddexp",
    "logaddexp2",
    "divide_no_nan",
    "heaviside",
    "equal",
    "not_equal",
    "greater",
    "greater_equal",
    "less",
    "less_equal",
    "logical_and",
    "logical_or",
    "logical_xor",
    "bitwise_and",
    "bitwise_or",
    "bitwise_xor",
    "left_shift",
    "right_shift",
    "bitwise_left_shift",
    "bitwise_right_shift",
    "ldexp",
    "nextafter",
    "isin",
    "isclose",
    "allclose",
    "gcd",
    "lcm",
    "where",
    # reductions
    "sum",
    "prod",
    "mean",
    "max",
    "min",
    "amax",
    "amin",
    "argmax",
    "argmin",
    "std",
    "var",
    "any",
    "all",
    "cumsum",
    "cumprod",
    "median",
    "quantile",
    "percentile",
    "average",
    "count_nonzero",
    "ptp",
    "nansum",
    "nanmean",
    "nanmax",
    "nanmin",
    "nanvar",
    "nanstd",
    "nanprod",
    "nanargmax",
    "nanargmin",
    "nancumsum",
    "nancumprod",
    "nanquantile",
    "nanpercentile",
    "nanmedian",
    "diff",
    "trapezoid",
    "correlate",
    "corrcoef",
    "histogram",
    # shapes
    "reshape",
    "ravel",
    "transpose",
    "expand_dims",
    "squeeze",
    "tile",
    "repeat",
    "broadcast_to",
    "concatenate",
    "stack",
    "append",
    "vstack",
    "hstack",
    "dstack",
    "split",
    "array_split",
    "hsplit",
    "vsplit",
    "dsplit",
    "moveaxis",
    "swapaxes",
    "flip",
    "fliplr",
    "flipud",
    "roll",
    "rot90",
    "pad",
    "triu",
    "tril",
    "diag",
    "diagflat",
    "diagonal",
    "trace",
    "meshgrid",
    # indexing and sorting
    "take",
    "take_along_axis",
    "nonzero",
    "sort",
    "argsort",
    "searchsorted",
    "digitize",
    "select",
    "get_item",
    "bincount",
    "argpartition",
    "unravel_index",
    "unique",
    # linear algebra
    "matmul",
    "dot",
    "tensordot",
    "einsum",
    "outer",
    "inner",
    "vdot",
    "kron",
    "cross",
    "vander",
    "slogdet",
    # function transforms
    "vectorize",
]

# ---------------------------------------------------------------------------------
# Conversion
# ---------------------------------------------------------------------------------


def array(x, dtype=None):
    return convert_to_tensor(x, dtype=dtype)


def copy(x):
    return torch.clone(as_tensor(x))


def view(x, dtype=None):
    """The same memory read as ``dtype`` (``x``'s own dtype when None, as NumPy and
    JAX; Keras on torch reads it as ``floatx()`` then).

    A wider or narrower item size changes the length of the last axis.
    """
    x = as_tensor(x)
    return x.view(x.dtype if dtype is None else to_torch_dtype(dtype))


def _shape_of(x) -> tuple:
    return tuple(x.shape) if hasattr(x, "shape") else tuple(np.shape(x))


def ndim(x) -> int:
    return len(_shape_of(x))


def size(x) -> int:
    """The number of elements of ``x`` (a Python int)."""
    return math.prod(_shape_of(x))


# ---------------------------------------------------------------------------------
# Creation
# ---------------------------------------------------------------------------------


def _shape_arg(shape) -> tuple:
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    if isinstance(shape, torch.Tensor):
        return tuple(int(s) for s in shape.reshape(-1).tolist())
    return tuple(int(s) for s in shape)


def zeros(shape, dtype=None):
    return torch.zeros(
        _shape_arg(shape), dtype=to_torch_dtype(dtype), device=config.get_device()
    )


def ones(shape, dtype=None):
    return torch.ones(
        _shape_arg(shape), dtype=to_torch_dtype(dtype), device=config.get_device()
    )


def empty(shape, dtype=None):
    return torch.empty(
        _shape_arg(shape), dtype=to_torch_dtype(dtype), device=config.get_device()
    )


def full(shape, fill_value, dtype=None):
    """A tensor of ``shape`` filled with ``fill_value`` (default dtype ``floatx()``)."""
    torch_dtype, shape = to_torch_dtype(dtype), _shape_arg(shape)
    if isinstance(fill_value, (torch.Tensor, np.ndarray, list, tuple)):
        fill = convert_to_tensor(fill_value, torch_dtype)
        if fill.ndim:
            return torch.broadcast_to(fill, shape).clone()
        fill_value = fill.item()
    return torch.full(shape, fill_value, dtype=torch_dtype, device=config.get_device())


def _like_dtype(x: torch.Tensor, dtype) -> torch.dtype:
    return x.dtype if dtype is None else to_torch_dtype(dtype)


def zeros_like(x, dtype=None):
    x = as_tensor(x)
    return torch.zeros_like(x, dtype=_like_dtype(x, dtype))


def ones_like(x, dtype=None):
    x = as_tensor(x)
    return torch.ones_like(x, dtype=_like_dtype(x, dtype))


def empty_like(x, dtype=None):
    x = as_tensor(x)
    return torch.empty_like(x, dtype=_like_dtype(x, dtype))


def full_like(x, fill_value, dtype=None):
    x = as_tensor(x)
    return full(x.shape, fill_value, x.dtype if dtype is None else dtype)


def _number(v):
    return v.item() if isinstance(v, (torch.Tensor, np.ndarray)) else v


def arange(start, stop=None, step=None, dtype=None):
    """Evenly spaced values in ``[start, stop)``; int32 for ints, floatx for floats."""
    if dtype is None:
        dtype = result_type(
            *[
                getattr(v, "dtype", type(v))
                for v in (start, stop, step)
                if v is not None
            ]
        )
    start, stop, step = _number(start), _number(stop), _number(step)
    if stop is None:
        start, stop = 0, start
    return torch.arange(
        start,
        stop,
        1 if step is None else step,
        dtype=to_torch_dtype(dtype),
        device=config.get_device(),
    )


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """``num`` evenly spaced samples over ``[start, stop]`` (array bounds allowed)."""
    if dtype is None:
        dtype = result_type(
            getattr(start, "dtype", type(start)),
            getattr(stop, "dtype", type(stop)),
            float,
        )
    scalar_bounds = isinstance(start, (int, float)) and isinstance(stop, (int, float))
    torch_dtype = to_torch_dtype(dtype)
    compute = torch.float64 if torch_dtype == torch.float64 else torch.float32
    start = convert_to_tensor(start, compute)
    stop = convert_to_tensor(stop, compute)
    div = (num - 1) if endpoint else num
    step = (stop - start) / div if div > 0 else torch.full_like(stop, float("nan"))
    steps = torch.arange(num, dtype=compute, device=start.device)
    steps = steps.reshape((num,) + (1,) * builtins.max(start.ndim, stop.ndim))
    out = start + steps * step if div > 0 else start + steps * 0
    if endpoint and num > 1:
        out[-1] = stop
    if axis != 0:
        out = torch.movedim(out, 0, axis)
    if not torch_dtype.is_floating_point:
        out = torch.floor(out)
    out = out.to(torch_dtype)
    if not retstep:
        return out
    return out, (step.item() if scalar_bounds else step.to(torch_dtype))


def logspace(start, stop, num=50, endpoint=True, base=10, dtype=None, axis=0):
    if dtype is None:
        dtype = result_type(
            getattr(start, "dtype", type(start)),
            getattr(stop, "dtype", type(stop)),
            float,
        )
    exponents = linspace(start, stop, num, endpoint, dtype="float32", axis=axis)
    return torch.pow(base, exponents).to(to_torch_dtype(dtype))


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """``num`` samples spaced evenly on a log scale from ``start`` to ``stop``.

    ``start`` and ``stop`` must have the same sign; array bounds give one sequence
    per element, stacked along ``axis`` (as NumPy; Keras on torch refuses an
    ``axis`` other than 0).
    """
    if dtype is None:
        dtype = result_type(
            getattr(start, "dtype", type(start)),
            getattr(stop, "dtype", type(stop)),
            float,
        )
    start, stop = convert_to_tensor(start, dtype), convert_to_tensor(stop, dtype)
    out = logspace(
        torch.log10(torch.abs(start)),
        torch.log10(torch.abs(stop)),
        num,
        endpoint,
        dtype=dtype,
        axis=axis,
    )
    sign = torch.sign(start)
    if sign.ndim:
        sign = torch.movedim(sign.unsqueeze(0), 0, axis)
    return out * sign


def eye(N, M=None, k=0, dtype=None):
    """An ``N x M`` matrix with ones on the ``k``-th diagonal."""
    N, M, k = int(N), int(N if M is None else M), int(k or 0)
    out = torch.zeros((N, M), dtype=to_torch_dtype(dtype), device=config.get_device())
    torch.diagonal(out, offset=k).fill_(1)
    return out


def identity(n, dtype=None):
    return eye(n, dtype=dtype)


def tri(N, M=None, k=0, dtype=None):
    ones_ = torch.ones(
        (N, N if M is None else M),
        dtype=to_torch_dtype(dtype),
        device=config.get_device(),
    )
    return torch.tril(ones_, diagonal=k)


# ---------------------------------------------------------------------------------
# Element-wise, one argument
# ---------------------------------------------------------------------------------


def absolute(x):
    x = as_tensor(x)
    return x if x.dtype == torch.bool else torch.abs(x)


abs = absolute


def fabs(x):
    return torch.abs(to_floatx_if_int(as_tensor(x)))


def negative(x):
    return torch.neg(as_tensor(x))


def sign(x):
    return torch.sign(as_tensor(x))


def square(x):
    x = as_tensor(x)
    return torch.square(x.to(torch.int32) if x.dtype == torch.bool else x)


def sqrt(x):
    x = as_tensor(x)
    return torch.sqrt(to_floatx_if_int(x) if x.dtype == torch.int64 else x)


def exp(x):
    return torch.exp(to_floatx_if_int(as_tensor(x)))


def exp2(x):
    return torch.exp2(to_floatx_if_int(as_tensor(x)))


def expm1(x):
    return torch.expm1(to_floatx_if_int(as_tensor(x)))


def log(x):
    return torch.log(as_tensor(x))


def log1p(x):
    return torch.log1p(as_tensor(x))


def log2(x):
    return torch.log2(as_tensor(x))


def log10(x):
    return torch.log10(as_tensor(x))


def reciprocal(x):
    return torch.reciprocal(as_tensor(x))


def _rounding_dtype(x: torch.Tensor) -> torch.dtype:
    if x.dtype == torch.int64:
        return to_torch_dtype(config.floatx())
    return to_torch_dtype(result_type(x, float))


def floor(x):
    x = as_tensor(x)
    return torch.floor(x.to(_rounding_dtype(x)))


def ceil(x):
    x = as_tensor(x)
    return torch.ceil(x.to(_rounding_dtype(x)))


def round(x, decimals=0):
    """Round half to even, to ``decimals`` places; integer inputs keep their dtype."""
    x = as_tensor(x)
    if is_int_or_bool(x):
        floatx = to_torch_dtype(config.floatx())
        return torch.round(x.to(floatx), decimals=decimals).to(x.dtype)
    return torch.round(x, decimals=decimals)


def trunc(x):
    x = as_tensor(x)
    return x if x.dtype == torch.bool else torch.trunc(x)


def sin(x):
    return torch.sin(as_tensor(x))


def cos(x):
    return torch.cos(as_tensor(x))


def tan(x):
    return torch.tan(as_tensor(x))


def arcsin(x):
    return torch.arcsin(as_tensor(x))


def arccos(x):
    return torch.arccos(as_tensor(x))


def arctan(x):
    return torch.arctan(as_tensor(x))


def sinh(x):
    return torch.sinh(as_tensor(x))


def cosh(x):
    return torch.cosh(as_tensor(x))


def tanh(x):
    return torch.tanh(as_tensor(x))


def arcsinh(x):
    return torch.arcsinh(as_tensor(x))


def arccosh(x):
    return torch.arccosh(as_tensor(x))


def arctanh(x):
    return torch.arctanh(as_tensor(x))


def cbrt(x):
    x = as_tensor(x)
    if x.dtype == torch.bool:
        x = x.to(torch.int32)
    elif x.dtype == torch.int64:
        x = x.to(torch.float64)
    return torch.sign(x) * torch.abs(x) ** (1.0 / 3.0)


def deg2rad(x):
    x = as_tensor(x)
    out = torch.deg2rad(x)
    return out.to(torch.float64) if x.dtype == torch.int64 else out


def rad2deg(x):
    x = as_tensor(x)
    out = torch.rad2deg(x)
    return out.to(torch.float64) if x.dtype == torch.int64 else out


def isnan(x):
    return torch.isnan(as_tensor(x))


def isinf(x):
    return torch.isinf(as_tensor(x))


def isfinite(x):
    return torch.isfinite(as_tensor(x))


def isneginf(x):
    return torch.isneginf(as_tensor(x))


def isposinf(x):
    return torch.isposinf(as_tensor(x))


def signbit(x):
    return torch.signbit(as_tensor(x))


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    return torch.nan_to_num(as_tensor(x), nan=nan, posinf=posinf, neginf=neginf)


def logical_not(x):
    return torch.logical_not(as_tensor(x))


def bitwise_invert(x):
    return torch.bitwise_not(as_tensor(x))


bitwise_not = bitwise_invert


def conjugate(x):
    return torch.conj(as_tensor(x)).resolve_conj()


conj = conjugate


def real(x):
    return torch.real(as_tensor(x))


def imag(x):
    return torch.imag(as_tensor(x))


def sinc(x):
    return torch.sinc(as_tensor(x))


def angle(x):
    """The argument (phase) of each element in radians: ``atan2(imag, real)``.

    Real inputs give 0 or pi; integers and bools give ``floatx()``.
    """
    return torch.angle(to_floatx_if_int(as_tensor(x)))


def i0(x):
    """The modified Bessel function of the first kind, order 0.

    int64 gives float64, other integers and bools ``floatx()`` (as Keras on torch).
    """
    x = as_tensor(x)
    if x.dtype == torch.int64:
        return torch.i0(x.to(torch.float64))
    return torch.i0(to_floatx_if_int(x))


def isreal(x):
    """Whether each element has a zero imaginary part (always True for reals)."""
    return torch.isreal(as_tensor(x))


# ---------------------------------------------------------------------------------
# Element-wise, two arguments
# ---------------------------------------------------------------------------------


def add(x1, x2):
    x1, x2 = as_operands(x1, x2)
    return x1 + x2


def subtract(x1, x2):
    x1, x2 = as_operands(x1, x2)
    if isinstance(x1, torch.Tensor) and isinstance(x2, torch.Tensor):
        if x1.dtype == torch.bool:
            x1 = x1.to(x2.dtype)
        if x2.dtype == torch.bool:
            x2 = x2.to(x1.dtype)
    return x1 - x2


def multiply(x1, x2):
    x1, x2 = as_operands(x1, x2)
    return x1 * x2


def divide(x1, x2):
    """True division; integers give ``float32``."""
    x1, x2 = as_operands(x1, x2)
    return x1 / x2


true_divide = divide


def floor_divide(x1, x2):
    out_dtype = to_torch_dtype(result_type(x1, x2))
    x1, x2 = as_tensor_pair(x1, x2)
    return torch.floor_divide(x1, x2).to(out_dtype)


def mod(x1, x2):
    x1, x2 = as_tensor_pair(x1, x2)
    if x1.dtype == torch.bool and x2.dtype == torch.bool:
        x1, x2 = x1.to(torch.int32), x2.to(torch.int32)
    return torch.remainder(x1, x2)


def fmod(x1, x2):
    x1, x2 = as_tensor_pair(x1, x2)
    if x1.dtype == torch.bool and x2.dtype == torch.bool:
        x1, x2 = x1.to(torch.int32), x2.to(torch.int32)
    return torch.fmod(x1, x2)


def power(x1, x2):
    x1, x2 = as_operands(x1, x2)
    if not isinstance(x1, torch.Tensor):
        x1 = convert_to_tensor(x1, device=x2.device)
    return torch.pow(x1, x2)


def _promoted(x1, x2, *extra):
    """Both operands as tensors of the Keras result type of ``x1, x2, *extra``.

    Python numbers are weak here (``maximum(float16_x, 2.0)`` is float16).
    """
    dtype = to_torch_dtype(result_type(x1, x2, *extra))
    x1, x2 = as_tensor_pair(x1, x2)
    return x1.to(dtype), x2.to(dtype)


def _promoted_strong(x1, x2, *extra):
    """Like ``_promoted``, but Python numbers count as int32/floatx tensors first,
    as Keras's ``arctan2``, ``logaddexp``, ``hypot``... do (float16 with 2.0 gives
    float32)."""
    x1, x2 = as_tensors(x1, x2)
    dtype = to_torch_dtype(result_type(x1, x2, *extra))
    return x1.to(dtype), x2.to(dtype)


_CLAMP_DTYPES = (
    torch.float32,
    torch.float16,
    torch.bfloat16,
    torch.int32,
    torch.int16,
    torch.int8,
    torch.uint8,
)


def _clamp_scalar(x1, x2):
    """``(tensor, number)`` when ``torch.clamp`` gives the Keras dtype, else None."""
    if isinstance(x2, torch.Tensor):
        x1, x2 = x2, x1
    if (
        isinstance(x1, torch.Tensor)
        and type(x2) in (int, float)
        and x1.dtype in _CLAMP_DTYPES
        and (x1.is_floating_point() or type(x2) is int)
    ):
        return x1, x2
    return None


def maximum(x1, x2):
    fast = _clamp_scalar(x1, x2)
    if fast is not None:
        return torch.clamp(fast[0], min=fast[1])
    return torch.maximum(*_promoted(x1, x2))


def minimum(x1, x2):
    fast = _clamp_scalar(x1, x2)
    if fast is not None:
        return torch.clamp(fast[0], max=fast[1])
    return torch.minimum(*_promoted(x1, x2))


def fmax(x1, x2):
    return torch.fmax(*_promoted(x1, x2))


def fmin(x1, x2):
    return torch.fmin(*_promoted(x1, x2))


def clip(x, x_min, x_max):
    """Values of ``x`` limited to ``[x_min, x_max]``; bools become int32."""
    x = as_tensor(x)
    if x.dtype == torch.bool:
        x = x.to(torch.int32)
    if x.dtype == torch.float16 and x.device.type == "cpu":
        return clip(x.float(), x_min, x_max).to(torch.float16)
    x_min, x_max = as_operand(x_min, x), as_operand(x_max, x)
    if isinstance(x_min, torch.Tensor) or isinstance(x_max, torch.Tensor):
        return torch.clamp(x, min=as_tensor(x_min), max=as_tensor(x_max))
    return torch.clamp(x, min=x_min, max=x_max)


def arctan2(x1, x2):
    x1, x2 = _promoted_strong(x1, x2, float)
    if x1.dtype == torch.float16:
        return torch.arctan2(x1.float(), x2.float()).half()
    return torch.arctan2(x1, x2)


def _float_math_operands(x1, x2):
    x1, x2 = as_tensors(x1, x2)
    name = result_type(x1, x2)
    if name.startswith(("int", "uint")):
        name = "float64" if name == "int64" else config.floatx()
    dtype = to_torch_dtype(name)
    return x1.to(dtype), x2.to(dtype)


def hypot(x1, x2):
    return torch.hypot(*_float_math_operands(x1, x2))


def heaviside(x1, x2):
    return torch.heaviside(*_float_math_operands(x1, x2))


def logaddexp(x1, x2):
    x1, x2 = _promoted_strong(x1, x2, float)
    if x1.dtype == torch.float16:
        return torch.logaddexp(x1.float(), x2.float()).half()
    return torch.logaddexp(x1, x2)


def logaddexp2(x1, x2):
    return torch.logaddexp2(*_promoted_strong(x1, x2, float))


def divide_no_nan(x1, x2):
    """``x1 / x2``, with 0 wherever ``x2`` is 0."""
    x1, x2 = _promoted(x1, x2, float)
    safe = torch.where(x2 == 0, torch.ones_like(x2), x2)
    return torch.where(x2 == 0, torch.zeros_like(x1), x1 / safe)


def equal(x1, x2):
    x1, x2 = as_operands(x1, x2)
    return x1 == x2


def not_equal(x1, x2):
    x1, x2 = as_operands(x1, x2)
    return x1 != x2


def greater(x1, x2):
    x1, x2 = as_operands(x1, x2)
    return x1 > x2


def greater_equal(x1, x2):
    x1, x2 = as_operands(x1, x2)
    return x1 >= x2


def less(x1, x2):
    x1, x2 = as_operands(x1, x2)
    return x1 < x2


def less_equal(x1, x2):
    x1, x2 = as_operands(x1, x2)
    return x1 <= x2


def logical_and(x1, x2):
    return torch.logical_and(*as_tensor_pair(x1, x2))


def logical_or(x1, x2):
    return torch.logical_or(*as_tensor_pair(x1, x2))


def logical_xor(x1, x2):
    return torch.logical_xor(*as_tensor_pair(x1, x2))


def bitwise_and(x, y):
    return torch.bitwise_and(*as_tensor_pair(x, y))


def bitwise_or(x, y):
    return torch.bitwise_or(*as_tensor_pair(x, y))


def bitwise_xor(x, y):
    return torch.bitwise_xor(*as_tensor_pair(x, y))


def _integer_operand(fn, arg, x):
    if x.is_floating_point() or x.is_complex() or x.dtype == torch.bool:
        raise TypeError(
            f"{fn}: `{arg}` must hold integers; got {arg} of dtype "
            f"{standardize_dtype(x.dtype)!r}."
        )


def ldexp(x1, x2):
    """``x1 * 2**x2`` for integer exponents ``x2``, in the float result dtype.

    Raises:
        TypeError: if ``x2`` does not hold integers.
    """
    x1, x2 = as_tensors(x1, x2)
    _integer_operand("ldexp", "x2", x2)
    return torch.ldexp(x1, x2).to(to_torch_dtype(result_type(x1, x2, float)))


def nextafter(x1, x2):
    """The next representable float after ``x1`` towards ``x2``.

    Computed in the result dtype (``result_type(x1, x2, float)``), as NumPy and
    JAX do; Keras on torch steps in float64 and rounds back, which returns ``x1``
    itself for float32 inputs.
    """
    x1, x2 = as_tensors(x1, x2)
    dtype = to_torch_dtype(result_type(x1, x2, float))
    return torch.nextafter(x1.to(dtype), x2.to(dtype))


def isin(x1, x2, assume_unique=False, invert=False):
    """Whether each element of ``x1`` occurs in ``x2`` (a bool tensor of
    ``x1``'s shape; negated with ``invert=True``)."""
    x1, x2 = as_tensors(x1, x2)
    dtype = to_torch_dtype(result_type(x1, x2))
    if dtype == torch.bool:
        dtype = torch.int32
    return torch.isin(
        x1.to(dtype), x2.to(dtype), assume_unique=assume_unique, invert=invert
    )


def bitwise_left_shift(x, y):
    """``x`` shifted left by ``y`` bits (``x * 2**y``) for integers."""
    return torch.bitwise_left_shift(*as_tensor_pair(x, y))


def bitwise_right_shift(x, y):
    """``x`` shifted right by ``y`` bits (arithmetic shift) for integers."""
    return torch.bitwise_right_shift(*as_tensor_pair(x, y))


left_shift = bitwise_left_shift
right_shift = bitwise_right_shift


def isclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    x1, x2 = _promoted_strong(x1, x2)
    if x1.is_floating_point() or x1.is_complex():
        return torch.isclose(x1, x2, rtol=rtol, atol=atol, equal_nan=equal_nan)
    return torch.eq(x1, x2)


def allclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    return torch.all(isclose(x1, x2, rtol=rtol, atol=atol, equal_nan=equal_nan))


def gcd(x1, x2):
    return torch.gcd(*as_tensor_pair(x1, x2))


def lcm(x1, x2):
    return torch.lcm(*as_tensor_pair(x1, x2))


def where(condition, x1=None, x2=None):
    """Elements of ``x1`` where ``condition``, else of ``x2``.

    With only ``condition``: the indices of its true elements, as a
    ``(condition.ndim, n)`` tensor (as Keras on torch returns them).
    """
    if (x1 is None) != (x2 is None):
        raise ValueError(
            "where: `x1` and `x2` must both be given or both be None; "
            f"got x1={x1!r}, x2={x2!r}."
        )
    if x1 is None:
        return torch.stack(torch.where(as_tensor(condition).to(torch.bool)), dim=0)
    x1, x2 = as_operands(x1, x2)
    device = next((v.device for v in (x1, x2) if isinstance(v, torch.Tensor)), None)
    return torch.where(as_tensor(condition, device).to(torch.bool), x1, x2)


# ---------------------------------------------------------------------------------
# Reductions
# ---------------------------------------------------------------------------------


def _axis(axis):
    """``axis`` as torch's ``dim``: None, an int or a tuple of ints."""
    if axis is None or isinstance(axis, int):
        return axis
    if isinstance(axis, (np.integer, torch.Tensor)) and np.ndim(axis) == 0:
        return int(axis)
    return tuple(int(a) for a in axis)


def _stacked(x):
    return stack(x) if isinstance(x, (list, tuple)) else as_tensor(x)


def sum(x, axis=None, keepdims=False):
    """Sum; bools and 8/16-bit ints accumulate in int32 (as in JAX)."""
    x, axis = _stacked(x), _axis(axis)
    if axis == ():
        return x
    dtype = x.dtype
    if dtype in (torch.bool, torch.uint8, torch.int8, torch.int16):
        dtype = torch.int32
    return torch.sum(x, dim=axis, keepdim=keepdims, dtype=dtype)


def prod(x, axis=None, keepdims=False, dtype=None):
    x, axis = as_tensor(x), _axis(axis)
    if axis == ():
        return x
    if dtype is None:
        name = result_type(x)
        dtype = "int32" if name in ("bool", "int8", "int16", "uint8") else name
    out_dtype = to_torch_dtype(dtype)
    compute = torch.float32 if out_dtype == torch.float16 else out_dtype
    if axis is None:
        out = torch.prod(x, dtype=compute)
        if keepdims:
            out = out.reshape((1,) * x.ndim)
        return out.to(out_dtype)
    axes = (axis,) if isinstance(axis, int) else axis
    for a in sorted((a % x.ndim for a in axes), reverse=True):
        x = torch.prod(x, dim=a, keepdim=keepdims, dtype=compute)
    return x.to(out_dtype)


def mean(x, axis=None, keepdims=False):
    """Mean; integer and bool inputs give float32, half floats accumulate in float32."""
    x, axis = _stacked(x), _axis(axis)
    if axis == ():
        return x
    if is_int_or_bool(x):
        return torch.mean(x.to(torch.float32), dim=axis, keepdim=keepdims)
    if x.dtype in (torch.float16, torch.bfloat16):
        out = torch.mean(x, dim=axis, keepdim=keepdims, dtype=torch.float32)
        return out.to(x.dtype)
    return torch.mean(x, dim=axis, keepdim=keepdims)


def _all_axes(x, axis):
    return tuple(range(x.ndim)) if axis is None else axis


def amax(x, axis=None, keepdims=False):
    x, axis = as_tensor(x), _axis(axis)
    if axis == ():
        return x
    return torch.amax(x, dim=_all_axes(x, axis), keepdim=keepdims)


def amin(x, axis=None, keepdims=False):
    x, axis = as_tensor(x), _axis(axis)
    if axis == ():
        return x
    return torch.amin(x, dim=_all_axes(x, axis), keepdim=keepdims)


def _empty_reduction(x, keepdims, initial, what):
    if initial is None:
        raise ValueError(f"Cannot compute the {what} of an empty tensor.")
    return torch.full(
        (1,) * x.ndim if keepdims else (), initial, dtype=x.dtype, device=x.device
    )


def max(x, axis=None, keepdims=False, initial=None):
    """Maximum along ``axis``; ``initial`` is a lower bound for the result."""
    x = as_tensor(x)
    if x.numel() == 0:
        return _empty_reduction(x, keepdims, initial, "max")
    out = amax(x, axis, keepdims)
    return out if initial is None else torch.clamp(out, min=initial)


def min(x, axis=None, keepdims=False, initial=None):
    """Minimum along ``axis``; ``initial`` is an upper bound for the result."""
    x = as_tensor(x)
    if x.numel() == 0:
        return _empty_reduction(x, keepdims, initial, "min")
    out = amin(x, axis, keepdims)
    return out if initial is None else torch.clamp(out, max=initial)


def argmax(x, axis=None, keepdims=False):
    """Index of the maximum (int32), over the flattened input when ``axis=None``."""
    x = as_tensor(x)
    if x.dtype == torch.bool:
        x = x.to(torch.uint8)
    return torch.argmax(x, dim=axis, keepdim=keepdims).to(torch.int32)


def argmin(x, axis=None, keepdims=False):
    """Index of the minimum (int32), over the flattened input when ``axis=None``."""
    x = as_tensor(x)
    if x.dtype == torch.bool:
        x = x.to(torch.uint8)
    return torch.argmin(x, dim=axis, keepdim=keepdims).to(torch.int32)


def std(x, axis=None, keepdims=False):
    """Population standard deviation (no Bessel correction, as NumPy)."""
    x, axis = as_tensor(x), _axis(axis)
    if is_int_or_bool(x):
        x = x.to(torch.float32)
    return torch.std(x, dim=axis, keepdim=keepdims, correction=0)


def var(x, axis=None, keepdims=False):
    """Population variance (no Bessel correction, as NumPy)."""
    x, axis = as_tensor(x), _axis(axis)
    out_dtype = to_torch_dtype(result_type(x, float))
    if axis == ():
        return torch.zeros_like(x, dtype=out_dtype)
    x = x.to(to_torch_dtype(result_type(x, "float32")))
    return torch.var(x, dim=axis, keepdim=keepdims, correction=0).to(out_dtype)


def any(x, axis=None, keepdims=False):
    x, axis = as_tensor(x), _axis(axis)
    if axis == ():
        return x.to(torch.bool)
    return torch.any(x, dim=axis, keepdim=keepdims)


def all(x, axis=None, keepdims=False):
    x, axis = as_tensor(x), _axis(axis)
    if axis == ():
        return x.to(torch.bool)
    return torch.all(x, dim=axis, keepdim=keepdims)


def _cumulative(fn, x, axis, dtype):
    x = as_tensor(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    name = result_type(x.dtype if dtype is None else standardize_dtype(dtype))
    out_dtype = to_torch_dtype("int32" if name == "bool" else name)
    if out_dtype == torch.float16 and x.device.type == "cpu":
        return fn(x, dim=axis, dtype=torch.float32).to(out_dtype)
    return fn(x, dim=axis, dtype=out_dtype)


def cumsum(x, axis=None, dtype=None):
    """Cumulative sum (over the flattened input when ``axis=None``)."""
    return _cumulative(torch.cumsum, x, axis, dtype)


def cumprod(x, axis=None, dtype=None):
    """Cumulative product (over the flattened input when ``axis=None``)."""
    return _cumulative(torch.cumprod, x, axis, dtype)


def _quantile(fn, x, q, axis, method, keepdims):
    """``fn`` (``torch.quantile`` or ``torch.nanquantile``) over ``axis``."""
    x, q, axis = *as_tensors(x, q), _axis(axis)
    out_dtype = to_torch_dtype(result_type(x, float))
    x = x.to(to_torch_dtype(result_type(x, "float32")))
    q = q.to(x.dtype)
    if axis is None:
        y, axes = x.reshape(-1), tuple(range(x.ndim))
    else:
        axes = tuple(
            sorted(a % x.ndim for a in ((axis,) if isinstance(axis, int) else axis))
        )
        kept = [d for d in range(x.ndim) if d not in axes]
        y = x.permute(kept + list(axes)).reshape([x.shape[d] for d in kept] + [-1])
    out = fn(y, q, dim=-1, interpolation=method)
    if keepdims:
        offset = 1 if q.ndim else 0
        for a in axes:
            out = out.unsqueeze(a + offset)
    return out.to(out_dtype)


def quantile(x, q, axis=None, method="linear", keepdims=False):
    """The ``q``-th quantiles (``q`` in [0, 1]) along ``axis``."""
    return _quantile(torch.quantile, x, q, axis, method, keepdims)


def percentile(x, q, axis=None, method="linear", keepdims=False):
    """The ``q``-th percentiles (``q`` in [0, 100]) along ``axis``."""
    q = convert_to_tensor(q, config.floatx()) / 100.0
    return quantile(x, q, axis=axis, method=method, keepdims=keepdims)


def median(x, axis=None, keepdims=False):
    """Median, averaging the two middle values for even sizes (as NumPy)."""
    return quantile(x, 0.5, axis=axis, keepdims=keepdims)


def average(x, axis=None, weights=None):
    """Weighted mean; 1-D ``weights`` apply along ``axis`` (as NumPy)."""
    x = as_tensor(x)
    parts = [x, float] + ([] if weights is None else [as_tensor(weights, x.device)])
    dtype = to_torch_dtype(result_type(*parts))
    x = x.to(dtype)
    if axis == () or axis == []:
        return x
    if weights is None:
        return torch.mean(x, dim=axis)
    weights = parts[-1].to(dtype)
    if weights.ndim == 1 and x.ndim > 1 and axis is not None:
        view = [1] * x.ndim
        view[axis] = -1
        weights = weights.reshape(view)
    return torch.sum(x * weights, dim=axis) / torch.sum(
        torch.broadcast_to(weights, x.shape), dim=axis
    )


def count_nonzero(x, axis=None):
    x, axis = as_tensor(x), _axis(axis)
    if axis == ():
        return torch.ne(x, 0).to(torch.int32)
    return torch.count_nonzero(x, dim=axis).to(torch.int32)


def ptp(x, axis=None, keepdims=False):
    """Range (max - min) along ``axis``."""
    if _axis(axis) == ():
        return torch.zeros_like(as_tensor(x))
    return amax(x, axis, keepdims) - amin(x, axis, keepdims)


def nansum(x, axis=None, keepdims=False):
    x = as_tensor(x)
    return sum(
        torch.nan_to_num(x, nan=0.0) if x.is_floating_point() else x, axis, keepdims
    )


def nanmean(x, axis=None, keepdims=False):
    x = as_tensor(x)
    x = x.to(to_torch_dtype(result_type(x, float)))
    return torch.nanmean(x, dim=_axis(axis), keepdim=keepdims)


def nanmax(x, axis=None, keepdims=False):
    x = as_tensor(x)
    if not x.is_floating_point():
        return amax(x, axis, keepdims)
    out = amax(torch.where(torch.isnan(x), float("-inf"), x), axis, keepdims)
    return torch.where(all(torch.isnan(x), axis, keepdims), float("nan"), out)


def nanmin(x, axis=None, keepdims=False):
    x = as_tensor(x)
    if not x.is_floating_point():
        return amin(x, axis, keepdims)
    out = amin(torch.where(torch.isnan(x), float("inf"), x), axis, keepdims)
    return torch.where(all(torch.isnan(x), axis, keepdims), float("nan"), out)


def nanvar(x, axis=None, keepdims=False):
    x = as_tensor(x)
    x = x.to(to_torch_dtype(result_type(x, float)))
    axis = _axis(axis)
    centered = x - torch.nanmean(x, dim=axis, keepdim=True)
    return torch.nanmean(torch.square(centered), dim=axis, keepdim=keepdims)


def nanstd(x, axis=None, keepdims=False):
    return torch.sqrt(nanvar(x, axis, keepdims))


def nanprod(x, axis=None, keepdims=False):
    """Product along ``axis`` treating NaNs as 1."""
    x = as_tensor(x)
    if x.is_floating_point():
        x = torch.where(torch.isnan(x), torch.ones((), dtype=x.dtype), x)
    return prod(x, axis, keepdims)


def _nan_arg(fn, x, axis, keepdims, fill):
    x = as_tensor(x)
    if not x.is_floating_point():
        return fn(x, axis, keepdims)
    nans = torch.isnan(x)
    index = fn(torch.where(nans, fill, x), axis, keepdims)
    all_nan = torch.all(nans) if axis is None else torch.all(nans, axis, keepdims)
    if axis is None and keepdims:
        all_nan = all_nan.reshape(index.shape)
    return torch.where(all_nan, -1, index)


def nanargmax(x, axis=None, keepdims=False):
    """Index (int32) of the maximum ignoring NaNs; -1 where all values are NaN."""
    return _nan_arg(argmax, x, axis, keepdims, float("-inf"))


def nanargmin(x, axis=None, keepdims=False):
    """Index (int32) of the minimum ignoring NaNs; -1 where all values are NaN."""
    return _nan_arg(argmin, x, axis, keepdims, float("inf"))


def _nan_to(x, value):
    x = as_tensor(x)
    if not x.is_floating_point():
        return x
    return torch.where(torch.isnan(x), torch.full((), value, dtype=x.dtype), x)


def nancumsum(x, axis=None, dtype=None):
    """Cumulative sum treating NaNs as 0 (infinities are kept, as in NumPy)."""
    return cumsum(_nan_to(x, 0.0), axis, dtype)


def nancumprod(x, axis=None, dtype=None):
    """Cumulative product treating NaNs as 1 (infinities are kept, as in NumPy)."""
    return cumprod(_nan_to(x, 1.0), axis, dtype)


def nanquantile(x, q, axis=None, method="linear", keepdims=False):
    """The ``q``-th quantiles (``q`` in [0, 1]) along ``axis``, ignoring NaNs."""
    return _quantile(torch.nanquantile, x, q, axis, method, keepdims)


def nanpercentile(x, q, axis=None, method="linear", keepdims=False):
    """The ``q``-th percentiles (``q`` in [0, 100]) along ``axis``, ignoring NaNs."""
    q = convert_to_tensor(q, config.floatx()) / 100.0
    return nanquantile(x, q, axis=axis, method=method, keepdims=keepdims)


def nanmedian(x, axis=None, keepdims=False):
    """Median along ``axis`` ignoring NaNs (NaN where a slice is all NaN)."""
    if axis == () or axis == []:
        return as_tensor(x)
    return nanquantile(x, 0.5, axis=axis, keepdims=keepdims)


# ---------------------------------------------------------------------------------
# Shapes
# ---------------------------------------------------------------------------------


def reshape(x, newshape):
    """``x`` with shape ``newshape`` (one entry may be -1)."""
    if isinstance(newshape, (int, np.integer)):
        newshape = (int(newshape),)
    elif isinstance(newshape, torch.Tensor):
        newshape = newshape.tolist()
    return torch.reshape(as_tensor(x), [-1 if s is None else int(s) for s in newshape])


def ravel(x):
    return torch.ravel(as_tensor(x))


def transpose(x, axes=None):
    """Axes permuted by ``axes`` (reversed when None)."""
    x = as_tensor(x)
    return x.permute(tuple(reversed(range(x.ndim))) if axes is None else tuple(axes))


def expand_dims(x, axis):
    """``x`` with new size-1 axes at the positions ``axis`` (int or tuple)."""
    x = as_tensor(x)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    out_ndim = x.ndim + len(axes)
    for a in sorted(a % out_ndim for a in axes):
        x = x.unsqueeze(a)
    return x


def squeeze(x, axis=None):
    """``x`` without its size-1 axes (only ``axis``, which must have size 1)."""
    x = as_tensor(x)
    if axis is None:
        return torch.squeeze(x)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError(
                f"squeeze: axis {a} of a tensor of shape "
                f"{tuple(x.shape)} has size {x.shape[a]}, not 1."
            )
    return torch.squeeze(x, dim=axes)


def tile(x, repeats):
    if isinstance(repeats, torch.Tensor):
        repeats = repeats.tolist()
    repeats = (repeats,) if isinstance(repeats, int) else tuple(repeats)
    return torch.tile(as_tensor(x), repeats)


def repeat(x, repeats, axis=None):
    """Each element repeated ``repeats`` times along ``axis`` (flattened if None)."""
    x = as_tensor(x)
    if not isinstance(repeats, int):
        repeats = as_tensor(repeats).to(torch.int64)
        if repeats.ndim == 0:
            repeats = int(repeats)
    if axis is None:
        x, axis = x.reshape(-1), 0
    return torch.repeat_interleave(x, repeats, dim=axis)


def broadcast_to(x, shape):
    return torch.broadcast_to(as_tensor(x), _shape_arg(shape))


def _tensor_list(xs):
    return as_tensors(*xs)


def concatenate(xs, axis=0):
    """Tensors joined along ``axis`` (flattened first when ``axis=None``)."""
    xs = _tensor_list(xs)
    if axis is None:
        return torch.cat([x.reshape(-1) for x in xs])
    return torch.cat(xs, dim=axis)


def stack(x, axis=0):
    return torch.stack(_tensor_list(x), dim=axis)


def append(x1, x2, axis=None):
    return concatenate([x1, x2], axis=axis)


def vstack(xs):
    return torch.vstack(_tensor_list(xs))


def hstack(xs):
    return torch.hstack(_tensor_list(xs))


def dstack(xs):
    return torch.dstack(_tensor_list(xs))


def split(x, indices_or_sections, axis=0):
    """``x`` cut into equal sections, or at the given indices, along ``axis``."""
    x = as_tensor(x)
    n = x.shape[axis]
    if isinstance(indices_or_sections, int):
        if n % indices_or_sections:
            raise ValueError(
                f"split: x.shape[{axis}]={n} is not divisible by "
                f"indices_or_sections={indices_or_sections}."
            )
        return list(torch.split(x, n // indices_or_sections, dim=axis))
    bounds = [0] + [int(i) for i in indices_or_sections] + [n]
    sizes = [builtins.max(b - a, 0) for a, b in zip(bounds[:-1], bounds[1:])]
    return list(torch.split(x, sizes, dim=axis))


def array_split(x, indices_or_sections, axis=0):
    return list(torch.tensor_split(as_tensor(x), indices_or_sections, dim=axis))


def _sections(value):
    return value if isinstance(value, int) else [int(v) for v in value]


def hsplit(x, indices_or_sections):
    return list(torch.hsplit(as_tensor(x), _sections(indices_or_sections)))


def vsplit(x, indices_or_sections):
    return list(torch.vsplit(as_tensor(x), _sections(indices_or_sections)))


def dsplit(x, indices_or_sections):
    return list(torch.dsplit(as_tensor(x), _sections(indices_or_sections)))


def moveaxis(x, source, destination):
    return torch.movedim(as_tensor(x), source, destination)


def swapaxes(x, axis1, axis2):
    return torch.swapaxes(as_tensor(x), axis1, axis2)


def flip(x, axis=None):
    x = as_tensor(x)
    if axis is None:
        axis = tuple(range(x.ndim))
    return torch.flip(x, dims=(axis,) if isinstance(axis, int) else tuple(axis))


def fliplr(x):
    return torch.fliplr(as_tensor(x))


def flipud(x):
    return torch.flipud(as_tensor(x))


def roll(x, shift, axis=None):
    """Elements shifted along ``axis`` (over the flattened input when None)."""
    x = as_tensor(x)
    if axis is None:
        return torch.roll(x.reshape(-1), shift).reshape(x.shape)
    return torch.roll(x, shift, dims=axis)


def rot90(array, k=1, axes=(0, 1)):
    return torch.rot90(as_tensor(array), k=k, dims=tuple(axes))


def _pad_pairs(pad_width, ndim: int) -> list[tuple[int, int]]:
    widths = np.asarray(pad_width, dtype=np.int64)
    if widths.ndim == 0:
        widths = widths.reshape(1, 1)
    elif widths.ndim == 1:
        widths = widths.reshape(1, -1)
    if widths.shape[1] == 1:
        widths = np.repeat(widths, 2, axis=1)
    if widths.shape[0] == 1:
        widths = np.repeat(widths, ndim, axis=0)
    if widths.shape != (ndim, 2):
        raise ValueError(
            f"pad: `pad_width` must give (before, after) for each of the "
            f"{ndim} axes; got pad_width={pad_width!r}."
        )
    return [(int(a), int(b)) for a, b in widths]


def _pad_indices(n: int, before: int, after: int, mode: str) -> np.ndarray:
    i = np.arange(-before, n + after)
    if mode == "edge":
        return np.clip(i, 0, n - 1)
    if mode == "wrap":
        return i % n
    if mode == "reflect":
        if n == 1:
            return np.zeros_like(i)
        j = i % (2 * (n - 1))
        return np.where(j >= n, 2 * (n - 1) - j, j)
    j = i % (2 * n)  # symmetric: the edge value is repeated
    return np.where(j >= n, 2 * n - 1 - j, j)


_PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap")


def pad(x, pad_width, mode="constant", constant_values=None):
    """``x`` padded like ``np.pad`` (constant, edge, reflect, symmetric or wrap)."""
    x = as_tensor(x)
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: `mode` must be one of {_PAD_MODES}; got mode={mode!r}.")
    if constant_values is not None and mode != "constant":
        raise ValueError(
            "pad: `constant_values` can only be given with "
            f"mode='constant'; got mode={mode!r}."
        )
    pairs = _pad_pairs(pad_width, x.ndim)
    if mode == "constant":
        flat = [w for pair in reversed(pairs) for w in pair]
        return F.pad(x, flat, value=0 if constant_values is None else constant_values)
    for axis, (before, after) in enumerate(pairs):
        if before or after:
            index = _pad_indices(x.shape[axis], before, after, mode)
            x = torch.index_select(x, axis, torch.as_tensor(index, device=x.device))
    return x


def triu(x, k=0):
    return torch.triu(as_tensor(x), diagonal=k)


def tril(x, k=0):
    return torch.tril(as_tensor(x), diagonal=k)


def diag(x, k=0):
    return torch.diag(as_tensor(x), diagonal=k)


def diagflat(x, k=0):
    return torch.diagflat(as_tensor(x), offset=k)


def diagonal(x, offset=0, axis1=0, axis2=1):
    return torch.diagonal(as_tensor(x), offset=offset, dim1=axis1, dim2=axis2)


def trace(x, offset=0, axis1=0, axis2=1):
    x = as_tensor(x)
    dtype = x.dtype
    if dtype in (torch.bool, torch.int8, torch.int16, torch.uint8):
        dtype = torch.int32
    return torch.sum(torch.diagonal(x, offset, axis1, axis2), dim=-1, dtype=dtype)


def meshgrid(*x, indexing="xy"):
    return list(torch.meshgrid(*_tensor_list(x), indexing=indexing))


# ---------------------------------------------------------------------------------
# Indexing and sorting
# ---------------------------------------------------------------------------------


def _indices(indices, size: int, device) -> torch.Tensor:
    indices = as_tensor(indices, device).to(torch.int64)
    return torch.where(indices < 0, indices + size, indices)


def take(x, indices, axis=None):
    """Elements of ``x`` at ``indices`` along ``axis`` (flattened input if None)."""
    x = as_tensor(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    axis = axis % x.ndim
    indices = _indices(indices, x.shape[axis], x.device)
    if axis == 0 and x.ndim == 2:
        return F.embedding(indices, x)
    out_shape = x.shape[:axis] + indices.shape + x.shape[axis + 1 :]
    return torch.index_select(x, axis, indices.reshape(-1)).reshape(out_shape)


def take_along_axis(x, indices, axis=None):
    x = as_tensor(x)
    if axis is None:
        return torch.take_along_dim(x, _indices(indices, x.numel(), x.device))
    return torch.take_along_dim(x, _indices(indices, x.shape[axis], x.device), dim=axis)


def nonzero(x):
    """Indices of the non-zero elements, as a ``(x.ndim, n)`` int32 tensor."""
    return torch.nonzero(as_tensor(x)).T.to(torch.int32)


def sort(x, axis=-1):
    x = as_tensor(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    return torch.sort(x, dim=axis).values


def argsort(x, axis=-1):
    """Indices (int32) that sort ``x`` along ``axis``, stably."""
    x = as_tensor(x)
    if x.dtype == torch.bool:
        x = x.to(torch.uint8)
    if axis is None:
        x, axis = x.reshape(-1), -1
    return torch.argsort(x, dim=axis, stable=True).to(torch.int32)


def searchsorted(sorted_sequence, values, side="left"):
    sorted_sequence = as_tensor(sorted_sequence)
    if sorted_sequence.ndim != 1:
        raise ValueError(
            "searchsorted: `sorted_sequence` must be 1-D; got shape "
            f"{tuple(sorted_sequence.shape)}."
        )
    return torch.searchsorted(
        sorted_sequence,
        as_tensor(values, sorted_sequence.device),
        side=side,
        out_int32=sorted_sequence.shape[0] < 2**31 - 1,
    )


def digitize(x, bins):
    x = as_tensor(x)
    if x.dtype == torch.bool:
        x = x.to(torch.uint8)
    return torch.bucketize(x, as_tensor(bins, x.device), right=True).to(torch.int32)


def select(condlist, choicelist, default=0):
    """Per element, the choice of the first true condition (else ``default``)."""
    *conditions, out = as_tensors(*condlist, default)
    choices = as_tensors(*choicelist, out)[:-1]
    for condition, choice in reversed(list(zip(conditions, choices))):
        out = torch.where(condition, choice, out)
    return out


def get_item(x, key):
    return as_tensor(x)[key]


def bincount(x, weights=None, minlength=0, sparse=False):
    """Counts of each non-negative int (or sums of ``weights``); 2-D: per row."""
    x = as_tensor(x)
    if weights is None:
        out_dtype = torch.int32
    else:
        weights = as_tensor(weights, x.device)
        out_dtype = to_torch_dtype(result_type(x, weights))
    if x.ndim == 2:
        rows = [
            torch.bincount(r, None if weights is None else w, minlength)
            for r, w in zip(x, x if weights is None else weights)
        ]
        length = builtins.max(r.shape[0] for r in rows)
        return torch.stack([F.pad(r, (0, length - r.shape[0])) for r in rows]).to(
            out_dtype
        )
    return torch.bincount(x, weights, minlength).to(out_dtype)


def argpartition(x, kth, axis=-1):
    """Indices (int32) that partition ``x`` along ``axis`` (flattened if None):
    the ``kth`` element lands in its sorted place, smaller ones before it and
    larger ones after it.

    lamina returns a full stable sort, which is one valid partition (the order
    within each side is unspecified, as in NumPy). Keras on torch first casts
    ``x`` to int32, which mis-orders fractional values.
    """
    x = as_tensor(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    for k in np.atleast_1d(np.asarray(kth)):
        n = x.shape[axis]
        if not -n <= int(k) < n:
            raise ValueError(
                f"argpartition: `kth` must index an element along axis {axis} "
                f"(size {n}); got kth={kth!r}."
            )
    return argsort(x, axis=axis)


def unravel_index(indices, shape):
    """The coordinates in an array of ``shape`` of each flat index in
    ``indices``: a tuple of ``len(shape)`` tensors (int32 for int64 indices)."""
    indices = as_tensor(indices)
    if is_int_or_bool(indices) and indices.dtype != torch.bool:
        dtype = to_torch_dtype(result_type(indices))
        return tuple(c.to(dtype) for c in torch.unravel_index(indices, shape))
    raise TypeError(
        "unravel_index: `indices` must hold integers; got indices of dtype "
        f"{standardize_dtype(indices.dtype)!r}."
    )


def _fixed_size(tensor, size, axis, fill):
    """``tensor`` cut or padded with ``fill`` to ``size`` along ``axis``."""
    n = tensor.shape[axis]
    if n >= size:
        return tensor.narrow(axis, 0, size)
    widths = [0, 0] * (tensor.ndim - axis - 1) + [0, size - n]
    return F.pad(tensor, widths, value=fill)


def unique(
    x,
    sorted=True,
    return_index=False,
    return_inverse=False,
    return_counts=False,
    axis=None,
    size=None,
    fill_value=None,
):
    """The unique elements of ``x`` (or unique slices along ``axis``), sorted.

    Optional outputs, in this order: the index of each unique element's first
    occurrence, the inverse indices that rebuild ``x`` (``x``'s shape for
    ``axis=None``) and the counts. ``size`` fixes the number of unique elements:
    extra ones are dropped, missing ones padded with ``fill_value`` (default 0;
    counts pad with 0, first indices with 1, as Keras on torch).
    """
    x = as_tensor(x)
    values, inverse, counts = torch.unique(
        x, sorted=sorted, return_inverse=True, return_counts=True, dim=axis
    )
    dim = 0 if axis is None else axis % x.ndim
    outputs = [values]
    if return_index:
        order = torch.arange(inverse.numel(), device=x.device)
        first = torch.full((values.shape[dim],), inverse.numel(), device=x.device)
        outputs.append(
            first.scatter_reduce(0, inverse.reshape(-1), order, "amin").to(
                inverse.dtype
            )
        )
    if return_inverse:
        outputs.append(inverse)
    if return_counts:
        outputs.append(counts)
    if size is not None:
        fill = 0 if fill_value is None else fill_value
        outputs[0] = _fixed_size(values, size, dim, fill)
        if return_index:
            outputs[1] = _fixed_size(outputs[1], size, 0, 1)
        if return_counts:
            outputs[-1] = _fixed_size(counts, size, 0, 0)
    return outputs[0] if len(outputs) == 1 else tuple(outputs)


# ---------------------------------------------------------------------------------
# Linear algebra
# ---------------------------------------------------------------------------------


def _matmul_dtypes(x1, x2):
    if x1.dtype == torch.int8 and x2.dtype == torch.int8:
        out = torch.int32
    else:
        out = to_torch_dtype(result_type(x1, x2))
    compute = out
    if out == torch.bool:
        compute = to_torch_dtype(config.floatx())
    elif out == torch.float16 and x1.device.type == "cpu":
        compute = torch.float32
    elif x1.device.type == "cuda" and not out.is_floating_point:
        compute = to_torch_dtype(config.floatx())
    return out, compute


def matmul(x1, x2):
    """Matrix product with NumPy broadcasting; int8 x int8 gives int32."""
    x1, x2 = as_tensors(x1, x2)
    if x1.dtype == x2.dtype and x1.dtype in (
        torch.float32,
        torch.float64,
        torch.bfloat16,
    ):
        return torch.matmul(x1, x2)
    out, compute = _matmul_dtypes(x1, x2)
    return torch.matmul(x1.to(compute), x2.to(compute)).to(out)


def _float_product_dtypes(x1, x2):
    out = result_type(x1, x2)
    compute = to_torch_dtype(result_type(out, float))
    if compute == torch.float16 and x1.device.type == "cpu":
        compute = torch.float32
    return to_torch_dtype(out), compute


def dot(x1, x2):
    """NumPy ``dot``: for N-D ``x2``, sums over the last axis of ``x1`` and the
    second-to-last of ``x2``."""
    x1, x2 = as_tensors(x1, x2)
    out, compute = _float_product_dtypes(x1, x2)
    x1, x2 = x1.to(compute), x2.to(compute)
    if x1.ndim == 0 or x2.ndim == 0:
        result = x1 * x2
    elif x2.ndim <= 2:
        result = torch.matmul(x1, x2)
    else:
        result = torch.tensordot(x1, x2, dims=([-1], [-2]))
    return result.to(out)


def tensordot(x1, x2, axes=2):
    """Sum of products over ``axes`` (an int, or a pair of axis lists)."""
    x1, x2 = as_tensors(x1, x2)
    out, compute = _float_product_dtypes(x1, x2)
    if isinstance(axes, (list, tuple)):
        first, second = axes
        axes = (
            [first] if isinstance(first, int) else list(first),
            [second] if isinstance(second, int) else list(second),
        )
    return torch.tensordot(x1.to(compute), x2.to(compute), dims=axes).to(out)


def einsum(subscripts, *operands, **kwargs):
    """Einstein summation; mixed dtypes are promoted, int8 inputs give int32."""
    operands = as_tensors(*operands)
    dtypes = {o.dtype for o in operands}
    if dtypes == {torch.int8}:
        return torch.einsum(subscripts, *[o.to(torch.int32) for o in operands])
    if len(dtypes) > 1:
        common = to_torch_dtype(result_type(*operands))
        operands = [o.to(common) for o in operands]
    return torch.einsum(subscripts, *operands)


def outer(x1, x2):
    x1, x2 = as_tensors(x1, x2)
    dtype = torch.promote_types(x1.dtype, x2.dtype)
    return torch.outer(x1.reshape(-1).to(dtype), x2.reshape(-1).to(dtype))


def inner(x1, x2):
    x1, x2 = as_tensors(x1, x2)
    out, compute = _float_product_dtypes(x1, x2)
    return torch.inner(x1.to(compute), x2.to(compute)).to(out)


def vdot(x1, x2):
    x1, x2 = as_tensors(x1, x2)
    out, compute = _float_product_dtypes(x1, x2)
    return torch.vdot(x1.reshape(-1).to(compute), x2.reshape(-1).to(compute)).to(out)


def kron(x1, x2):
    return torch.kron(*as_tensors(x1, x2))


def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Cross product of 3-vectors along ``axis`` (default the last)."""
    x1, x2 = as_tensors(x1, x2)
    out = to_torch_dtype(result_type(x1, x2))
    compute = torch.float32 if out == torch.float16 else out
    if axis is None:
        x1, x2 = torch.movedim(x1, axisa, -1), torch.movedim(x2, axisb, -1)
        result = torch.linalg.cross(x1.to(compute), x2.to(compute), dim=-1)
        return torch.movedim(result, -1, axisc).to(out)
    return torch.linalg.cross(x1.to(compute), x2.to(compute), dim=axis).to(out)


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of the 1-D ``x``: columns ``x**(N-1), ..., x**0``
    (reversed with ``increasing=True``); ``N`` defaults to ``len(x)``."""
    x = as_tensor(x)
    _vector("vander", "x", x)
    if N is not None and (not isinstance(N, int) or isinstance(N, bool) or N < 0):
        raise ValueError(f"vander: `N` must be an integer >= 0; got N={N!r}.")
    if not isinstance(increasing, bool):
        raise TypeError(
            f"vander: `increasing` must be a bool; got increasing={increasing!r}."
        )
    out = torch.vander(x, N=N, increasing=increasing)
    return out.to(to_torch_dtype(result_type(x)))


def slogdet(x):
    """``(sign, log|det|)`` of each square matrix in ``x`` (``(..., M, M)``).

    Integers and bools are read as ``floatx()``; half precision is computed in
    float32 and returned in its own dtype.
    """
    x = as_tensor(x)
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise ValueError(
            "slogdet: `x` must be a (batch of) square matrices; got x of shape "
            f"{tuple(x.shape)}."
        )
    out = to_floatx_if_int(x).dtype
    compute = torch.float32 if out in (torch.float16, torch.bfloat16) else out
    sign, logabsdet = torch.linalg.slogdet(x.to(compute))
    return sign.to(out), logabsdet.to(out)

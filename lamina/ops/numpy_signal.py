"""Signal-processing and statistics functions of ``keras.ops.numpy``: window
functions, differences, the trapezoidal rule, correlation and histograms.

Part of ``lamina.ops.numpy`` (which lists them in its ``__all__``); a leaf of
``lamina.ops`` besides ``dtypes``.
"""

from __future__ import annotations

import builtins

import torch
import torch.nn.functional as F

from lamina import config
from lamina.ops.dtypes import (
    as_tensor,
    as_tensors,
    result_type,
    to_floatx_if_int,
    to_torch_dtype,
)

__all__ = [
    "bartlett",
    "blackman",
    "hamming",
    "hanning",
    "kaiser",
    "diff",
    "trapezoid",
    "correlate",
    "corrcoef",
    "histogram",
]


def _window(fn, M, **kwargs):
    M = int(M)
    dtype = to_torch_dtype(config.floatx())
    return fn(M, dtype=dtype, device=config.get_device(), **kwargs)


def bartlett(x):
    """The Bartlett (triangular) window of ``x`` points, symmetric as NumPy's."""
    return _window(torch.signal.windows.bartlett, x)


def blackman(x):
    """The Blackman window of ``x`` points, symmetric as NumPy's."""
    return _window(torch.signal.windows.blackman, x)


def hamming(x):
    """The Hamming window of ``x`` points, symmetric as NumPy's."""
    return _window(torch.signal.windows.hamming, x)


def hanning(x):
    """The Hann window of ``x`` points, symmetric as NumPy's ``hanning``."""
    return _window(torch.signal.windows.hann, x)


def kaiser(x, beta):
    """The Kaiser window of ``x`` points with shape parameter ``beta``."""
    return _window(torch.signal.windows.kaiser, x, beta=float(beta))


def diff(a, n=1, axis=-1):
    """The ``n``-th discrete difference along ``axis`` (``a[i+1] - a[i]``)."""
    return torch.diff(as_tensor(a), n=n, dim=axis)


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """Integral of ``y`` along ``axis`` by the trapezoidal rule, at sample points
    ``x`` (or spacing ``dx``); integers and bools integrate in ``floatx()``."""
    y = to_floatx_if_int(as_tensor(y))
    if x is not None:
        return torch.trapezoid(y, as_tensor(x, y.device), dim=axis)
    return torch.trapezoid(y, dx=dx, dim=axis)


_CORRELATE_MODES = ("valid", "same", "full")


def _vector(fn, arg, x):
    if x.ndim != 1:
        raise ValueError(
            f"{fn}: `{arg}` must be 1-D; got {arg} of shape {tuple(x.shape)}."
        )


def correlate(x1, x2, mode="valid"):
    """Cross-correlation of two 1-D tensors, ``c[k] = sum_n x1[n + k] * x2[n]``.

    ``mode``: ``"valid"`` (length ``max(M, N) - min(M, N) + 1``), ``"same"``
    (length ``max(M, N)``) or ``"full"`` (length ``M + N - 1``), as NumPy. The
    result is float32 (float16 or bfloat16 for those inputs).
    """
    if mode not in _CORRELATE_MODES:
        rule = "one of " + ", ".join(map(repr, _CORRELATE_MODES))
        raise ValueError(f"correlate: `mode` must be {rule}; got mode={mode!r}.")
    x1, x2 = as_tensors(x1, x2)
    _vector("correlate", "x1", x1)
    _vector("correlate", "x2", x2)
    name = result_type(x1, x2)
    out = to_torch_dtype(name if name in ("float16", "bfloat16") else "float32")
    m, n = x1.shape[0], x2.shape[0]
    full = F.conv1d(
        x1.to(torch.float32).reshape(1, 1, m),
        x2.to(torch.float32).reshape(1, 1, n),
        padding=n - 1,
    ).reshape(-1)
    length = {"valid": builtins.max(m, n) - builtins.min(m, n) + 1}
    length["same"], length["full"] = builtins.max(m, n), m + n - 1
    start = (m + n - 1 - length[mode]) // 2
    return full[start : start + length[mode]].to(out)


def corrcoef(x):
    """Pearson correlation coefficients between the rows of ``x``.

    bool gives ``floatx()``, int64 float64 and other integers float32, as Keras
    on torch.
    """
    x = as_tensor(x)
    if x.dtype == torch.int64:
        x = x.to(torch.float64)
    return torch.corrcoef(to_floatx_if_int(x))


def _histogram_range(x, bins, range):
    if not isinstance(bins, int) or isinstance(bins, bool) or bins < 1:
        raise ValueError(
            f"histogram: `bins` must be an integer >= 1; got bins={bins!r}."
        )
    if range is None:
        low, high = (x.min().item(), x.max().item()) if x.numel() else (0.0, 1.0)
    elif not isinstance(range, (tuple, list)) or len(range) != 2:
        raise ValueError(
            f"histogram: `range` must be a (low, high) pair; got range={range!r}."
        )
    elif range[1] < range[0]:
        raise ValueError(
            f"histogram: `range` must have low <= high; got range={range!r}."
        )
    else:
        low, high = float(range[0]), float(range[1])
    if low == high:  # NumPy widens an empty range by 0.5 on each side.
        low, high = low - 0.5, high + 0.5
    return low, high


def histogram(x, bins=10, range=None):
    """Counts of ``x``'s values in ``bins`` equal-width bins over ``range``
    (default ``(x.min(), x.max())``), and the ``bins + 1`` bin edges.

    Values outside ``range`` are ignored; the last bin includes its right edge.
    Both outputs have ``x``'s float dtype (``floatx()`` for integers and bools).

    Raises:
        ValueError: if ``x`` is not 1-D, ``bins`` is not a positive integer
            or ``range`` is not an increasing pair.
    """
    x = as_tensor(x)
    _vector("histogram", "x", x)
    x = to_floatx_if_int(x)
    low, high = _histogram_range(x, bins, range)
    compute = torch.float64 if x.dtype == torch.float64 else torch.float32
    counts = torch.histc(x.to(compute), bins=bins, min=low, max=high)
    edges = torch.linspace(low, high, bins + 1, dtype=compute, device=x.device)
    return counts.to(x.dtype), edges.to(x.dtype)

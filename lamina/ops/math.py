"""Math ``keras.ops`` functions (Keras's ``keras.src.ops.math``): special
functions, top-k, segment reductions, Fourier transforms and framing.

Inputs may be tensors, NumPy arrays or Python scalars; dtypes follow Keras 3 on its
torch backend.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from lamina import config
from lamina.ops.dtypes import (
    as_tensor,
    as_tensors,
    standardize_dtype,
    to_floatx_if_int,
    to_torch_dtype,
)
from lamina.ops.numpy import _all_axes, _axis

__all__ = [
    "rsqrt",
    "erf",
    "erfc",
    "erfinv",
    "logsumexp",
    "logdet",
    "top_k",
    "in_top_k",
    "segment_sum",
    "segment_max",
    "segment_min",
    "segment_prod",
    "cdist",
    "extract_sequences",
    "fft",
    "fft2",
    "ifft2",
    "rfft",
    "irfft",
    "stft",
    "istft",
    "view_as_complex",
    "view_as_real",
]


def rsqrt(x):
    return torch.rsqrt(as_tensor(x))


def erf(x):
    return torch.erf(as_tensor(x))


def erfinv(x):
    return torch.erfinv(as_tensor(x))


def logsumexp(x, axis=None, keepdims=False):
    """``log(sum(exp(x)))``, computed stably."""
    x = as_tensor(x)
    return torch.logsumexp(x, dim=_all_axes(x, _axis(axis)), keepdim=keepdims)


def top_k(x, k, sorted=True):
    """``(values, indices)`` of the ``k`` largest entries along the last axis.

    The indices are int32, as in Keras on TensorFlow and JAX (and in Keras's
    symbolic shapes); Keras on torch returns torch's int64 eagerly.
    """
    values, indices = torch.topk(as_tensor(x), k, sorted=sorted)
    return values, indices.to(torch.int32)


def in_top_k(targets, predictions, k):
    """Whether each target's prediction is among the ``k`` largest of its row."""
    predictions, targets = as_tensors(predictions, targets)
    targets = targets.to(torch.int64)[:, None]
    kth = torch.topk(predictions, k).values[..., -1:]
    return torch.any(torch.take_along_dim(predictions, targets, dim=-1) >= kth, dim=-1)


def _segment(fn, data, segment_ids, num_segments, reduce):
    """``reduce`` of the rows of ``data`` per segment id; ids outside
    ``[0, num_segments)`` are dropped and empty segments hold the identity of
    ``reduce`` (``-inf``/``inf`` or the extreme integers for max/min)."""
    data, segment_ids = as_tensors(data, segment_ids)
    if segment_ids.ndim != 1 or segment_ids.shape[0] != data.shape[0]:
        raise ValueError(
            f"{fn}: `segment_ids` must be 1-D with one id per row "
            f"of `data`; got segment_ids of shape {tuple(segment_ids.shape)} and "
            f"data of shape {tuple(data.shape)}."
        )
    segment_ids = segment_ids.to(torch.int64)
    if num_segments is None:
        num_segments = int(segment_ids.max()) + 1 if segment_ids.numel() else 0
    out_dtype = data.dtype
    if data.dtype == torch.bool:
        data = data.to(torch.int32)
    segment_ids = torch.where(
        (segment_ids < 0) | (segment_ids >= num_segments), num_segments, segment_ids
    )
    info = torch.finfo if data.is_floating_point() else torch.iinfo
    identity = {
        "sum": 0,
        "prod": 1,
        "amax": info(data.dtype).min if info is torch.iinfo else float("-inf"),
        "amin": info(data.dtype).max if info is torch.iinfo else float("inf"),
    }[reduce]
    out = torch.full(
        (num_segments + 1,) + data.shape[1:],
        identity,
        dtype=data.dtype,
        device=data.device,
    )
    index = segment_ids.reshape((-1,) + (1,) * (data.ndim - 1)).expand_as(data)
    out = out.scatter_reduce(0, index, data, reduce, include_self=False)
    return out[:-1].to(out_dtype)


def segment_sum(data, segment_ids, num_segments=None, sorted=False):
    """Sum of the rows of ``data`` in each segment (0 for empty segments)."""
    return _segment("segment_sum", data, segment_ids, num_segments, "sum")


def segment_max(data, segment_ids, num_segments=None, sorted=False):
    """Per-segment maximum; empty segments hold -inf (the lowest int for ints)."""
    return _segment("segment_max", data, segment_ids, num_segments, "amax")


def segment_min(data, segment_ids, num_segments=None, sorted=False):
    """Per-segment minimum; empty segments hold inf (the highest int for ints)."""
    return _segment("segment_min", data, segment_ids, num_segments, "amin")


def segment_prod(data, segment_ids, num_segments=None, sorted=False):
    """Per-segment product; empty segments hold 1."""
    return _segment("segment_prod", data, segment_ids, num_segments, "prod")


def erfc(x):
    """The complementary error function ``1 - erf(x)``, accurate for large ``x``."""
    return torch.erfc(as_tensor(x))


def logdet(x):
    """``log(det(x))`` of each square matrix in ``x`` (NaN for a negative
    determinant)."""
    x = as_tensor(x)
    out = to_floatx_if_int(x).dtype
    compute = torch.float32 if out in (torch.float16, torch.bfloat16) else out
    return torch.logdet(x.to(compute)).to(out)


def cdist(x, y):
    """Euclidean distances between the rows of ``x`` (``(..., P, M)``) and of
    ``y`` (``(..., R, M)``): a ``(..., P, R)`` tensor, batch axes broadcast.

    Raises:
        ValueError: if an input has rank < 2 or the last axes differ.
    """
    x, y = as_tensors(x, y)
    if x.ndim < 2 or y.ndim < 2 or x.shape[-1] != y.shape[-1]:
        raise ValueError(
            "cdist: `x` and `y` must have rank >= 2 and the same last axis; got "
            f"x of shape {tuple(x.shape)} and y of shape {tuple(y.shape)}."
        )
    dtype = torch.promote_types(x.dtype, y.dtype)
    if not dtype.is_floating_point:
        dtype = to_torch_dtype(config.floatx())
    compute = torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype
    # Exact differences (no matmul expansion): distances near 0 stay accurate.
    out = torch.cdist(
        x.to(compute), y.to(compute), compute_mode="donot_use_mm_for_euclid_dist"
    )
    return out.to(dtype)


def extract_sequences(x, sequence_length, sequence_stride):
    """Frames of ``sequence_length`` samples every ``sequence_stride`` samples
    along the last axis: ``(..., num_frames, sequence_length)`` with
    ``num_frames = 1 + (n - sequence_length) // sequence_stride``."""
    x = as_tensor(x)
    return x.unfold(-1, int(sequence_length), int(sequence_stride))


# ---------------------------------------------------------------------------------
# Fourier transforms: complex values travel as (real, imag) pairs, as in keras.ops
# ---------------------------------------------------------------------------------


def _complex(x, fn):
    """The complex tensor of a ``(real, imag)`` pair of float tensors."""
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise ValueError(
            f"{fn}: `x` must be a (real, imag) pair of tensors; got x={x!r}."
        )
    real, imag = as_tensors(*x)
    if real.shape != imag.shape:
        raise ValueError(
            f"{fn}: the real and imaginary parts of `x` must have the same shape; "
            f"got {tuple(real.shape)} and {tuple(imag.shape)}."
        )
    if not (real.is_floating_point() and imag.is_floating_point()):
        raise ValueError(
            f"{fn}: the parts of `x` must be float tensors; got dtypes "
            f"{standardize_dtype(real.dtype)!r} and {standardize_dtype(imag.dtype)!r}."
        )
    dtype = torch.promote_types(real.dtype, imag.dtype)
    if dtype in (torch.float16, torch.bfloat16):
        dtype = torch.float32  # no half-precision FFTs on the CPU
    return torch.complex(real.to(dtype), imag.to(dtype))


def _parts(z, like):
    """``(real, imag)`` of ``z``, in the float dtype of ``like``'s parts."""
    dtype = like.dtype if like.is_floating_point() else z.real.dtype
    return z.real.to(dtype), z.imag.to(dtype)


def _half_aware(x):
    return x.to(torch.float32) if x.dtype in (torch.float16, torch.bfloat16) else x


def fft(x):
    """The 1-D discrete Fourier transform over the last axis of the complex
    ``x = (real, imag)``; returns ``(real, imag)``."""
    z = _complex(x, "fft")
    return _parts(torch.fft.fft(z), as_tensor(x[0]))


def fft2(x):
    """The 2-D discrete Fourier transform over the last two axes of
    ``x = (real, imag)``; returns ``(real, imag)``."""
    z = _complex(x, "fft2")
    return _parts(torch.fft.fft2(z), as_tensor(x[0]))


def ifft2(x):
    """The inverse 2-D discrete Fourier transform over the last two axes of
    ``x = (real, imag)``; returns ``(real, imag)``."""
    z = _complex(x, "ifft2")
    return _parts(torch.fft.ifft2(z), as_tensor(x[0]))


def rfft(x, fft_length=None):
    """The 1-D Fourier transform of the real ``x`` over its last axis: the
    ``fft_length // 2 + 1`` non-negative frequencies, as ``(real, imag)``.

    ``fft_length`` (default: the length of the axis) crops or zero-pads ``x``.
    """
    x = as_tensor(x)
    z = torch.fft.rfft(to_floatx_if_int(_half_aware(x)), n=fft_length, dim=-1)
    return _parts(z, x)


def irfft(x, fft_length=None):
    """The inverse of ``rfft``: the real signal of length ``fft_length`` (default
    ``2 * (n - 1)``) whose non-negative frequencies are ``x = (real, imag)``."""
    z = _complex(x, "irfft")
    out = torch.fft.irfft(z, n=fft_length, dim=-1)
    like = as_tensor(x[0])
    return out.to(like.dtype) if like.is_floating_point() else out


def view_as_complex(x):
    """The complex64 tensor whose real and imaginary parts are ``x[..., 0]`` and
    ``x[..., 1]`` (``x``'s last axis must have size 2)."""
    x = as_tensor(x)
    if x.ndim < 1 or x.shape[-1] != 2:
        raise ValueError(
            "view_as_complex: the last axis of `x` must have size 2 (real, imag); "
            f"got x of shape {tuple(x.shape)}."
        )
    x = x.to(torch.float32)
    return torch.complex(x[..., 0], x[..., 1])


def view_as_real(x):
    """The real and imaginary parts of ``x`` stacked on a new last axis of size 2
    (a real ``x`` has zero imaginary parts)."""
    x = as_tensor(x)
    if x.is_complex():
        return torch.view_as_real(x.resolve_conj())
    return torch.stack([x, torch.zeros_like(x)], dim=-1)


# ---------------------------------------------------------------------------------
# Short-time Fourier transforms
# ---------------------------------------------------------------------------------

_WINDOWS = {"hann": torch.hann_window, "hamming": torch.hamming_window}


def _check_frames(fn, sequence_length, sequence_stride, fft_length):
    if not isinstance(sequence_stride, int) or sequence_stride <= 0:
        raise ValueError(
            f"{fn}: `sequence_stride` must be a positive integer; got "
            f"sequence_stride={sequence_stride!r}."
        )
    if fft_length < sequence_length:
        raise ValueError(
            f"{fn}: `fft_length` must be >= sequence_length={sequence_length}; "
            f"got fft_length={fft_length!r}."
        )


def _frame_window(fn, window, sequence_length, dtype, device):
    """The analysis window: a named periodic window, a tensor, or None."""
    if window is None:
        return None
    if isinstance(window, str):
        if window not in _WINDOWS:
            raise ValueError(
                f"{fn}: `window` must be 'hann', 'hamming', a tensor or None; "
                f"got window={window!r}."
            )
        make = _WINDOWS[window]
        return make(sequence_length, periodic=True, dtype=dtype, device=device)
    win = as_tensor(window, device).to(dtype)
    if tuple(win.shape) != (sequence_length,):
        raise ValueError(
            f"{fn}: `window` must have shape ({sequence_length},); got window of "
            f"shape {tuple(win.shape)}."
        )
    return win


def stft(x, sequence_length, sequence_stride, fft_length, window="hann", center=True):
    """Short-time Fourier transform of the real signals ``x`` (``(..., n)``).

    Frames of ``sequence_length`` samples every ``sequence_stride`` samples are
    windowed, zero-padded to ``fft_length`` and transformed; ``center=True`` pads
    the signal by ``fft_length // 2`` on both sides (reflecting). Returns
    ``(real, imag)``, each ``(..., num_frames, fft_length // 2 + 1)``.

    Raises:
        TypeError: if ``x`` is not float32 or float64.
        ValueError: for a non-positive stride, ``fft_length < sequence_length`` or
            a bad window.
    """
    _check_frames("stft", sequence_length, sequence_stride, fft_length)
    x = as_tensor(x)
    if x.dtype not in (torch.float32, torch.float64):
        raise TypeError(
            "stft: `x` must be float32 or float64; got x of dtype "
            f"{standardize_dtype(x.dtype)!r}."
        )
    win = _frame_window("stft", window, sequence_length, x.dtype, x.device)
    if win is None:
        win = torch.ones(sequence_length, dtype=x.dtype, device=x.device)
    batch = x.shape[:-1]
    z = torch.stft(
        x.reshape(-1, x.shape[-1]),
        n_fft=fft_length,
        hop_length=sequence_stride,
        win_length=sequence_length,
        window=win,
        center=center,
        return_complex=True,
    )
    z = z.transpose(-1, -2)
    z = z.reshape(batch + z.shape[-2:])
    return z.real, z.imag


def _inverse_window(win, sequence_length, sequence_stride, fft_length):
    """The synthesis window of TensorFlow's ``inverse_stft_window_fn``: the
    analysis window divided by the sum of its squares over all frame shifts."""
    left = (fft_length - sequence_length) // 2
    win = F.pad(win, (left, fft_length - sequence_length - left))
    shifts = -(-fft_length // sequence_stride)
    squares = F.pad(torch.square(win), (0, shifts * sequence_stride - fft_length))
    period = squares.reshape(shifts, sequence_stride).sum(0)
    return win / period.repeat(shifts)[:fft_length]


def _overlap_add(frames, stride):
    """Frames ``(..., num_frames, length)`` summed at offsets ``i * stride``."""
    *batch, count, length = frames.shape
    total = length + stride * (count - 1)
    out = F.fold(
        frames.reshape(-1, count, length).transpose(1, 2),
        output_size=(1, total),
        kernel_size=(1, length),
        stride=(1, stride),
    )
    return out.reshape(*batch, total)


def istft(
    x,
    sequence_length,
    sequence_stride,
    fft_length,
    length=None,
    window="hann",
    center=True,
):
    """Inverse short-time Fourier transform of ``x = (real, imag)``
    (``(..., num_frames, fft_length // 2 + 1)``): the real signals ``(..., n)``.

    ``length`` crops (or pads) the output; with ``center=True`` the
    ``fft_length // 2`` samples ``stft`` padded are removed. As Keras on torch,
    ``torch.istft`` inverts exactly when ``sequence_length == fft_length`` with a
    window and ``center=True``; otherwise frames are overlap-added with
    TensorFlow's inverse window.
    """
    _check_frames("istft", sequence_length, sequence_stride, fft_length)
    z = _complex(x, "istft")
    dtype = z.real.dtype
    win = _frame_window("istft", window, sequence_length, dtype, z.device)
    batch = z.shape[:-2]
    if sequence_length == fft_length and center and win is not None:
        out = torch.istft(
            z.reshape((-1,) + z.shape[-2:]).transpose(-1, -2),
            n_fft=fft_length,
            hop_length=sequence_stride,
            win_length=sequence_length,
            window=win,
            center=True,
            length=length,
        )
        return out.reshape(batch + out.shape[-1:])
    frames = torch.fft.irfft(z, n=fft_length, dim=-1)
    if win is not None:
        frames = frames * _inverse_window(
            win, sequence_length, sequence_stride, fft_length
        )
    out = _overlap_add(frames, sequence_stride)
    start = fft_length // 2 if center else 0
    if length is not None:
        return out[..., start : start + length]
    return out[..., start : out.shape[-1] - start]

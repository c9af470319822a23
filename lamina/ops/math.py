"""Math ``keras.ops`` functions (Keras's ``keras.src.ops.math``): special
functions, top-k, segment reductions, Fourier transforms and framing.

Inputs may be tensors, NumPy arrays or Python scalars; dtypes follow Keras 3 on its
torch backend.
"""

from __future__ import annotations

import torch

from lamina.ops.dtypes import as_tensor, as_tensors
from lamina.ops.numpy import _all_axes, _axis

__all__ = [
    "rsqrt",
    "erf",
    "erfinv",
    "logsumexp",
    "top_k",
    "in_top_k",
    "segment_sum",
    "segment_max",
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
    """``(values, indices)`` of the ``k`` largest entries along the last axis."""
    return torch.topk(as_tensor(x), k, sorted=sorted)


def in_top_k(targets, predictions, k):
    """Whether each target's prediction is among the ``k`` largest of its row."""
    predictions, targets = as_tensors(predictions, targets)
    targets = targets.to(torch.int64)[:, None]
    kth = torch.topk(predictions, k).values[..., -1:]
    return torch.any(torch.take_along_dim(predictions, targets, dim=-1) >= kth, dim=-1)


def _segment(data, segment_ids, num_segments, reduce):
    data, segment_ids = as_tensors(data, segment_ids)
    segment_ids = segment_ids.to(torch.int64)
    if num_segments is None:
        num_segments = int(segment_ids.max()) + 1
    # Out-of-range ids (e.g. -1) go to an extra segment that is dropped.
    segment_ids = torch.where(
        (segment_ids < 0) | (segment_ids >= num_segments), num_segments, segment_ids
    )
    out = torch.zeros(
        (num_segments + 1,) + data.shape[1:], dtype=data.dtype, device=data.device
    )
    index = segment_ids.reshape((-1,) + (1,) * (data.ndim - 1)).expand_as(data)
    return out.scatter_reduce(0, index, data, reduce, include_self=False)[:-1]


def segment_sum(data, segment_ids, num_segments=None, sorted=False):
    return _segment(data, segment_ids, num_segments, "sum")


def segment_max(data, segment_ids, num_segments=None, sorted=False):
    """Per-segment maximum; empty segments hold -inf (the lowest int for ints)."""
    data = as_tensor(data)
    out = _segment(data, segment_ids, num_segments, "amax")
    counts = _segment(torch.ones_like(data), segment_ids, num_segments, "sum")
    lowest = float("-inf") if data.is_floating_point() else torch.iinfo(data.dtype).min
    return torch.where(counts > 0, out, torch.full_like(out, lowest))

"""The arithmetic of the normalization layers: statistics, then normalization.

BatchNormalization, LayerNormalization, GroupNormalization and RMSNormalization
differ only in the axes they reduce and in where the statistics come from (the
batch, or moving averages); they share two pure functions (Flax NNX's pattern):

- ``compute_stats(x, axes, mask=None, all_reduce=None)``: ``(mean, variance)`` over
  ``axes``, kept as length-1 axes; the biased variance, as Keras and TensorFlow
  use. A mask counts only its True entries (Keras's formula: the count plus
  ``config.epsilon()`` divides); ``all_reduce`` sums the partial sums over
  processes (synchronized batch statistics).
- ``normalize(x, mean, variance, scale, offset, epsilon)``: Keras's
  ``batch_normalization`` form ``(x - mean) * (rsqrt(variance + epsilon) * scale)
  + offset``.

Where torch has a fused kernel for the same arithmetic it is used instead, with
the same numbers: ``fused_batch_norm`` (training-mode batch statistics, on a
channels-last view), ``fold``/``affine`` (inference: one multiply-add with the
statistics folded into a scale and a shift, as torch's eval-mode batch norm does),
and the layers' calls of ``F.layer_norm``, ``F.group_norm``, ``F.rms_norm``.

The unmasked variance is ``torch.var_mean``'s (a two-pass algorithm, like
TensorFlow's ``tf.nn.moments``); Keras's torch backend computes ``E[x^2] -
E[x]^2``, which agrees to float32 rounding on data whose mean is small against
its spread and loses digits (even turns negative) otherwise.

Example:
>>> import torch
>>> x = torch.tensor([[1.0, 2.0], [3.0, 6.0]])
>>> mean, variance = compute_stats(x, (0,))
>>> mean.tolist(), variance.tolist()
([[2.0, 4.0]], [[1.0, 4.0]])
>>> normalize(x, mean, variance, epsilon=0.0).tolist()
[[-1.0, -1.0], [1.0, 1.0]]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
import torch.distributed as dist
import torch.nn.functional as F

from lamina import config

if dist.is_available():
    from torch.distributed.nn import functional as _dist_functional
else:  # a torch build without distributed support
    _dist_functional = None

__all__ = [
    "affine",
    "channels_second",
    "compute_stats",
    "fold",
    "fused_batch_norm",
    "normalize",
    "process_sum",
]

AllReduce = Callable[[torch.Tensor], torch.Tensor]


def compute_stats(
    x: torch.Tensor,
    axes: Sequence[int],
    mask: torch.Tensor | None = None,
    all_reduce: AllReduce | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(mean, variance)`` of ``x`` over ``axes`` (length-1 axes kept), the
    variance biased (divided by the count).

    Args:
        x: a floating tensor.
        axes: the axes to reduce.
        mask: optional boolean tensor broadcastable to ``x``; only its True entries
            count, and the count plus ``config.epsilon()`` divides (Keras's masked
            moments, so an all-False mask gives zeros, not NaN).
        all_reduce: optional function summing a tensor over processes
            (``process_sum()``): the statistics of the global batch, from sums of
            values and counts, then of squared deviations from the global mean.
    """
    axes = tuple(axes)
    if mask is None and all_reduce is None:
        variance, mean = torch.var_mean(x, dim=axes, correction=0, keepdim=True)
        return mean, variance
    if mask is not None:
        mask = mask.to(torch.bool).expand_as(x)
        total = torch.sum(torch.where(mask, x, 0.0), dim=axes, keepdim=True)
        count = torch.sum(mask.to(x.dtype), dim=axes, keepdim=True)
    else:
        total = torch.sum(x, dim=axes, keepdim=True)
        size = math.prod([x.shape[a] for a in axes])
        count = torch.full_like(total, size).detach()
    if all_reduce is not None:
        total, count = all_reduce(torch.stack([total, count]))
    if mask is not None:
        count = count + config.epsilon()
    mean = total / count
    deviation = x - mean
    if mask is not None:
        deviation = torch.where(mask, deviation, 0.0)
    squares = torch.sum(torch.square(deviation), dim=axes, keepdim=True)
    if all_reduce is not None:
        squares = all_reduce(squares)
    return mean, squares / count


def normalize(
    x: torch.Tensor,
    mean: torch.Tensor | None,
    variance: torch.Tensor,
    scale: torch.Tensor | None = None,
    offset: torch.Tensor | None = None,
    epsilon: float = 1e-3,
) -> torch.Tensor:
    """``(x - mean) * (rsqrt(variance + epsilon) * scale) + offset``; statistics,
    ``scale`` and ``offset`` broadcast against ``x``. ``mean=None`` skips the
    centring (RMS normalization: ``variance`` is then the mean square)."""
    inverse = torch.rsqrt(variance + epsilon)
    if scale is not None:
        inverse = inverse * scale
    centred = x if mean is None else x - mean
    outputs = centred * inverse
    return outputs if offset is None else outputs + offset


def fold(
    mean: torch.Tensor,
    variance: torch.Tensor,
    scale: torch.Tensor | None,
    offset: torch.Tensor | None,
    epsilon: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(multiplier, shift)`` with ``normalize(x, mean, variance, scale, offset)
    == x * multiplier + shift`` (up to rounding): inference in one pass."""
    multiplier = torch.rsqrt(variance + epsilon)
    if scale is not None:
        multiplier = multiplier * scale
    shift = -mean * multiplier
    if offset is not None:
        shift = shift + offset
    return multiplier, shift


def affine(x: torch.Tensor, multiplier: torch.Tensor, shift: torch.Tensor):
    """``x * multiplier + shift`` in one kernel."""
    return torch.addcmul(shift, x, multiplier)


def fused_batch_norm(
    x: torch.Tensor,
    axis: int,
    scale: torch.Tensor | None,
    offset: torch.Tensor | None,
    epsilon: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Batch normalization with the batch's statistics on torch's fused kernel:
    ``(outputs, mean, variance)``, the statistics over every axis but ``axis``
    (non-negative), the variance biased as Keras's.

    torch's kernel reports the unbiased variance (through a running-variance
    buffer with momentum 1); it is scaled back by ``(n - 1) / n``. A channels-last
    input runs as a channels-last 4D view (torch's fast layout for it). Needs more
    than one value per channel (``n > 1``), as torch's kernel does.
    """
    channels = x.shape[axis]
    count = x.numel() // channels
    view, restore = channels_second(x, axis)
    mean = torch.zeros(channels, dtype=x.dtype, device=x.device)
    variance = torch.ones(channels, dtype=x.dtype, device=x.device)
    outputs = F.batch_norm(view, mean, variance, scale, offset, True, 1.0, epsilon)
    # Out of place: autograd saved the buffers with the kernel's inputs.
    return restore(outputs), mean, variance * ((count - 1) / count)


def channels_second(x: torch.Tensor, axis: int):
    """A view of ``x`` with ``axis`` (non-negative) second, where torch's
    normalization kernels want the channels, and the function taking a result of
    the view back to ``x``'s layout. The batch axis stays first.

    Channels last of rank 4 and 5 are torch's ``channels_last(_3d)`` layouts;
    other ranks become a ``(batch, channels, M, 1)`` view with channels-last
    strides, which torch's CPU kernels also run in one pass (a ``movedim`` of a
    rank-3 input would be copied first).
    """
    if axis == 1:
        return x, _same
    if axis == x.ndim - 1 and x.ndim in (4, 5):
        return x.movedim(-1, 1), lambda y: y.movedim(1, -1)
    if axis == x.ndim - 1:
        view = x.reshape(x.shape[0], -1, 1, x.shape[-1]).permute(0, 3, 1, 2)
        return view, lambda y: y.permute(0, 2, 3, 1).reshape(x.shape)
    return x.movedim(axis, 1), lambda y: y.movedim(1, axis)


def _same(y):
    return y


def process_sum() -> AllReduce | None:
    """The differentiable sum over processes (``torch.distributed``'s all-reduce,
    whose gradient is all-reduced too) when a process group of more than one
    process is initialized; None otherwise (statistics stay local)."""
    if (
        _dist_functional is None
        or not dist.is_initialized()
        or dist.get_world_size() < 2
    ):
        return None
    return _dist_functional.all_reduce

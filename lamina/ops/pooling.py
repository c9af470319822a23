"""Pooling with Keras/TensorFlow semantics on torch, for 1D, 2D and 3D inputs in
either data format: ``max_pool``, ``average_pool`` (Keras's ``ops`` signatures),
``global_max_pool`` and ``global_average_pool``.

Semantics (TensorFlow and JAX):

- ``same`` windows are those of ``shapes.padding_pair`` (an odd total padding puts
  the extra cell after). Max pooling never sees padded cells (as if they were
  -inf); average pooling divides by the number of real cells in each window.
  Keras 3's torch backend agrees when the padding is symmetric; when it is not,
  it pads by replicating the edge cell, which changes the averages.
- A max-pooling gradient goes to the first maximum of its window in row-major
  order (TensorFlow and torch); a global-max gradient is shared equally by tied
  maxima (``reduce_max`` in TensorFlow and JAX, ``amax`` in torch).

How torch is driven (measured in ``bench/cases_pooling.py``; 2-core CPU):

- channels_last inputs become permuted *views* with channels-last strides, which
  torch's channels-last pooling kernels read directly; their channels-last result
  is viewed back as a contiguous channels_last tensor. No activation is copied
  (copying to channels_first, as Keras 3 does, makes max pooling ~10x slower).
- Those kernels' backward is fast only for a gradient with the same strides, so
  a hook on their output hands the incoming gradient on channels-last contiguous
  (a no-op when it already is; ~4x faster for, e.g., the broadcast gradient of a
  sum or a slice of a concatenation's gradient).
- 1D inputs are lifted to 2D with a unit height. ``same`` padding is torch's
  symmetric padding plus ``ceil_mode`` (``shapes.torch_pool_padding``), which
  never copies the input, except for even windows at stride 1: their one extra
  cell is appended explicitly (-inf, or 0 with the averages rescaled), faster
  than computing one more window and slicing it off.
- 3D channels_last average pooling runs as one 2D pass per spatial axis (torch's
  avg_pool3d is ~6x slower). It is exact: a window's cell count is the product of
  its per-axis counts, so the average of averages is the average.
- Non-overlapping max pooling written as reductions over a reshaped view
  (``x.view(n, h/2, 2, w/2, 2, c)``) loses to torch's channels-last kernel:
  MaxPooling2D(2) of (32, 64, 64, 32), fwd + bwd, 1 thread: 7.5-8.7 ms vs 49-51
  ms for two max-with-index reductions (exact tie rule) and ~95 ms for ``amax``
  (which splits the gradient over tied maxima: not TensorFlow's rule). torch's
  NCHW kernel takes ~32 ms; converting channels_first data to channels-last and
  back costs more than it saves (38 vs 32 ms), so channels_first stays native
  (``python -m bench.cases_kernels``).
"""

from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F

from lamina import config
from lamina.ops import shapes
from lamina.ops.convolution import cached_arguments

__all__ = [
    "adaptive_average_pool",
    "adaptive_max_pool",
    "average_pool",
    "global_average_pool",
    "global_max_pool",
    "max_pool",
]

RANKS = (1, 2, 3)
# (batch, *spatial, channels) <-> (batch, channels, *spatial), as permutations.
TO_CHANNELS_FIRST = {r: (0, r + 1, *range(1, r + 1)) for r in RANKS}
TO_CHANNELS_LAST = {r: (0, *range(2, r + 2), 1) for r in RANKS}
MEMORY_FORMAT = {4: torch.channels_last, 5: torch.channels_last_3d}
# torch's ops themselves (``F.max_pool2d`` adds two Python frames), positional:
# max (x, size, stride, padding, dilation, ceil_mode); average (x, size, stride,
# padding, ceil_mode, count_include_pad).
MAX_POOL = {2: torch.max_pool2d, 3: torch.max_pool3d}
AVERAGE_POOL = {2: torch._C._nn.avg_pool2d, 3: torch._C._nn.avg_pool3d}
ADAPTIVE_POOL = {
    ("max", 2): F.adaptive_max_pool2d,
    ("max", 3): F.adaptive_max_pool3d,
    ("average", 2): F.adaptive_avg_pool2d,
    ("average", 3): F.adaptive_avg_pool3d,
}


def _tuple(value, rank: int) -> tuple[int, ...]:
    return (value,) * rank if isinstance(value, int) else tuple(value)


def is_channels_last(data_format) -> bool:
    return config.standardize_data_format(data_format) == "channels_last"


def spatial_axes(ndim: int, channels_last: bool) -> tuple[int, ...]:
    """The spatial axes of an ``ndim``-D input."""
    return tuple(range(1, ndim - 1)) if channels_last else tuple(range(2, ndim))


def _channels_last_gradient(grad):
    """A gradient hook: hand the gradient on channels-last contiguous, the only
    layout in which torch's channels-last backward kernels are fast (a no-op when
    it already is)."""
    return grad.contiguous(memory_format=MEMORY_FORMAT[grad.ndim])


def _channels_last_first_gradient(grads):
    """``_channels_last_gradient`` as a pre-hook of the node whose output 0 is
    guarded (it receives the gradients of all the node's outputs)."""
    if grads[0] is None:
        return None
    return (_channels_last_gradient(grads[0]), *grads[1:])


def to_torch_layout(inputs, rank: int, channels_last: bool):
    """``inputs`` as torch's ``(batch, channels, *spatial)`` view, 1D lifted to 2D
    with a unit height (never a copy)."""
    x = inputs.permute(TO_CHANNELS_FIRST[rank]) if channels_last else inputs
    return x.unsqueeze(2) if rank == 1 else x


def guard_gradient_layout(outputs, channels_last: bool = True):
    """Make the gradient that will reach ``outputs``, the result of a torch kernel
    run on channels_last data, channels-last contiguous: the only layout in which
    torch's channels-last backward kernels are fast. Left alone when the kernel did
    not answer in channels-last (it has no such kernel) or for channels_first."""
    if (
        channels_last
        and outputs.requires_grad
        and outputs.is_contiguous(memory_format=MEMORY_FORMAT[outputs.ndim])
    ):
        if outputs.output_nr == 0:  # a hook on the node: ~2.5 us less per call
            outputs.grad_fn.register_prehook(_channels_last_first_gradient)
        else:
            outputs.register_hook(_channels_last_gradient)
    return outputs


def from_torch_layout(outputs, rank: int, channels_last: bool):
    """Undo ``to_torch_layout`` on an output (a view)."""
    if rank == 1:
        outputs = outputs.squeeze(2)
    return outputs.permute(TO_CHANNELS_LAST[rank]) if channels_last else outputs


@cached_arguments
def torch_pool_arguments(spatial, pool_size, strides, padding):
    """For inputs of ``spatial`` size, per axis: torch's symmetric padding, the
    cells to append explicitly (``shapes.torch_pool_padding``) and, where cells
    are appended, the factors that turn torch's averages over the appended input
    into averages over the real cells (``None`` elsewhere). Cached per argument
    tuple (``cached_arguments``: bypassed while ``torch.compile`` traces)."""
    for n, k, s in zip(spatial, pool_size, strides):
        if shapes.pool_output_length(n, k, padding, s) <= 0:
            raise ValueError(
                f"Pooling: every spatial axis must be at least as long as the "
                f"window for padding='valid'; got spatial shape {spatial} with "
                f"pool_size={pool_size}."
            )
    per_axis = [
        shapes.torch_pool_padding(n, k, padding, s)
        for n, k, s in zip(spatial, pool_size, strides)
    ]
    rescales = tuple(
        _average_rescale(n, k, padding, s, extra) if extra else None
        for n, k, s, (_, extra) in zip(spatial, pool_size, strides, per_axis)
    )
    return tuple(p for p, _ in per_axis), tuple(e for _, e in per_axis), rescales


def _average_rescale(n, k, padding, s, extra):
    """Per window: cells torch averages (real + appended) / real cells."""
    seen = shapes.pool_window_sizes(n, k, padding, s, n + extra)
    real = shapes.pool_window_sizes(n, k, padding, s)
    return tuple(a / b for a, b in zip(seen, real))


def _append_cells(x, extras, value: float):
    """``x`` (torch layout) with ``extras[i]`` cells of ``value`` appended to its
    spatial axis ``i``; a copy, needed only for even windows at stride 1."""
    widths = tuple(w for extra in reversed(extras) for w in (0, extra))
    return F.pad(x, widths, value=value)


def _rescale(outputs, rescales):
    """Multiply each spatial axis of ``outputs`` (torch layout) by its factors, in
    one pass (the per-axis factors are combined first; they are small)."""
    factors = None
    for axis, values in enumerate(rescales, start=2):
        if values is not None:
            shape = [1] * outputs.ndim
            shape[axis] = len(values)
            axis_factors = torch.tensor(values, dtype=outputs.dtype).view(shape)
            factors = axis_factors if factors is None else factors * axis_factors
    if factors is None:
        return outputs
    return outputs * factors.to(outputs.device)


def pool(inputs, pool_mode, pool_size, strides, padding, channels_last):
    """``max_pool`` or ``average_pool`` (``pool_mode`` ``"max"``/``"average"``) with
    arguments already normalized: tuples of ``rank`` ints, lower-case ``padding``,
    a bool for the layout. What the pooling layers call."""
    run = pool_runner(
        inputs.shape, pool_mode, pool_size, strides, padding, channels_last
    )
    return run(inputs)


@cached_arguments
def pool_runner(
    input_shape,
    pool_mode,
    pool_size,
    strides,
    padding,
    channels_last,
    torch_layout=False,
    guard=True,
):
    """``run(inputs)``: ``pool`` for inputs of exactly ``input_shape``, with the
    windows, paddings and permutations worked out once (cached per argument
    tuple: a layer's repeated calls cost one lookup and the torch calls).

    For run plans (``torch_layout_rank``): with ``torch_layout``, ``run`` takes
    and returns channels_last data in torch's ``(batch, channels, *spatial)``
    layout; without ``guard``, no ``guard_gradient_layout`` hook (for a result
    that a convolution or pooling consumes: their backward hands the gradient
    on channels-last contiguous anyway)."""
    rank = len(input_shape) - 2
    if torch_layout and torch_layout_rank(pool_mode, rank, channels_last) is None:
        raise ValueError("pool_runner: no torch_layout run for these arguments")
    spatial = tuple(input_shape[i] for i in spatial_axes(rank + 2, channels_last))
    pads, extras, rescales = torch_pool_arguments(spatial, pool_size, strides, padding)
    ceil_mode = padding == "same"
    if pool_mode == "average" and rank == 3 and channels_last:
        return functools.partial(
            _average_pool_by_axis,
            pool_size=pool_size,
            strides=strides,
            pads=pads,
            extras=extras,
            rescales=rescales,
            ceil=ceil_mode,
        )
    if rank == 1:  # lifted to 2D: a unit window over the unit height
        pool_size, strides = (1, *pool_size), (1, *strides)
        pads, extras, rescales = (0, *pads), (0, *extras), (None, *rescales)
    appended = any(extras)
    if pool_mode == "max":
        op = MAX_POOL[len(pool_size)]
        fill, arguments = float("-inf"), (pool_size, strides, pads, 1, ceil_mode)
        rescales = (None,)
    else:
        op = AVERAGE_POOL[len(pool_size)]
        fill, arguments = 0.0, (pool_size, strides, pads, ceil_mode, False)
    rescaled = any(r is not None for r in rescales)

    def run(inputs):
        x = inputs if torch_layout else to_torch_layout(inputs, rank, channels_last)
        if appended:
            x = _append_cells(x, extras, fill)
        outputs = op(x, *arguments)
        if rescaled:
            outputs = _rescale(outputs, rescales)
        if guard:
            outputs = guard_gradient_layout(outputs, channels_last)
        if torch_layout:
            return outputs
        return from_torch_layout(outputs, rank, channels_last)

    return run


def torch_layout_rank(pool_mode, rank, channels_last):
    """The rank at which ``pool_runner`` can run in torch's layout (2 or 3, for
    channels_last data), or None."""
    if not channels_last or rank == 1 or (pool_mode == "average" and rank == 3):
        return None
    return rank


def _normalized_pool(pool_mode, inputs, pool_size, strides, padding, data_format):
    rank = inputs.ndim - 2
    pool_size = _tuple(pool_size, rank)
    strides = pool_size if strides is None else _tuple(strides, rank)
    channels_last = is_channels_last(data_format)
    return pool(inputs, pool_mode, pool_size, strides, padding.lower(), channels_last)


def _average_pool_by_axis(inputs, pool_size, strides, pads, extras, rescales, ceil):
    """channels_last average pooling as one 2D pass per spatial axis: the axis is
    viewed as the width of a ``(outer, inner, 1, n)`` channels-last tensor."""
    x = inputs
    for axis in range(inputs.ndim - 2, 0, -1):
        k, s, p, extra, rescale = (
            v[axis - 1] for v in (pool_size, strides, pads, extras, rescales)
        )
        if k == s == 1:
            continue
        shape = x.shape
        outer, n = math.prod(shape[:axis]), shape[axis]
        view = x.reshape(outer, n, -1).transpose(1, 2).unsqueeze(2)
        if extra:
            view = _append_cells(view, (0, extra), 0.0)
        pooled = F.avg_pool2d(
            view, (1, k), (1, s), (0, p), ceil_mode=ceil, count_include_pad=False
        )
        pooled = guard_gradient_layout(_rescale(pooled, (None, rescale)))
        pooled = from_torch_layout(pooled, 1, True)
        x = pooled.reshape(*shape[:axis], pooled.shape[1], *shape[axis + 1 :])
    return x


def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Max over windows of ``pool_size`` cells every ``strides`` cells (default:
    ``pool_size``); ``padding`` ``"valid"`` or ``"same"`` (padded cells never win).
    ``inputs``: ``(batch, *spatial, channels)`` or ``(batch, channels, *spatial)``.
    """
    return _normalized_pool("max", inputs, pool_size, strides, padding, data_format)


def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Mean over windows, as ``max_pool``; with ``"same"`` the padded cells are left
    out of each window's count (TensorFlow/JAX)."""
    return _normalized_pool("average", inputs, pool_size, strides, padding, data_format)


def adaptive_pool(inputs, pool_mode, output_size, channels_last):
    """Max or mean (``pool_mode``) over ``output_size`` bins per spatial axis: bin
    ``i`` of an axis of length ``n`` covers cells ``floor(i * n / out)`` to
    ``ceil((i + 1) * n / out) - 1`` (torch's rule, which Keras 3 follows on every
    backend). ``output_size``: a tuple of ``rank`` ints."""
    rank = inputs.ndim - 2
    x = to_torch_layout(inputs, rank, channels_last)
    if rank == 1:  # lifted to 2D
        output_size = (1, *output_size)
    outputs = ADAPTIVE_POOL[pool_mode, x.ndim - 2](x, output_size)
    outputs = guard_gradient_layout(outputs, channels_last)
    return from_torch_layout(outputs, rank, channels_last)


def adaptive_max_pool(inputs, output_size, data_format=None):
    """Max over ``output_size`` bins per spatial axis (see ``adaptive_pool``)."""
    output_size = _tuple(output_size, inputs.ndim - 2)
    return adaptive_pool(inputs, "max", output_size, is_channels_last(data_format))


def adaptive_average_pool(inputs, output_size, data_format=None):
    """Mean over ``output_size`` bins per spatial axis (see ``adaptive_pool``)."""
    output_size = _tuple(output_size, inputs.ndim - 2)
    return adaptive_pool(inputs, "average", output_size, is_channels_last(data_format))


class _MaxSharingTies(torch.autograd.Function):
    """``amax`` over ``axes`` (kept): tied maxima share the gradient equally, as in
    torch's ``amax``, whose own backward is ~4x slower on CPU."""

    @staticmethod
    def forward(ctx, x, axes):
        outputs = x.amax(axes, keepdim=True)
        ctx.axes = axes
        ctx.save_for_backward(x, outputs)
        return outputs

    @staticmethod
    def backward(ctx, grad):
        x, outputs = ctx.saved_tensors
        # 1.0 where a cell is its window's maximum, written in x's dtype in one pass.
        winners = torch.eq(x, outputs, out=torch.empty_like(x))
        count = winners.sum(ctx.axes, keepdim=True)
        return winners * (grad / count), None


def global_max_pool(inputs, data_format=None, keepdims=False):
    """Max over all spatial axes: ``(batch, channels)``, or with ``keepdims`` the
    spatial axes kept with size 1."""
    axes = spatial_axes(inputs.ndim, is_channels_last(data_format))
    if inputs.requires_grad:
        outputs = _MaxSharingTies.apply(inputs, axes)
        return outputs if keepdims else outputs.squeeze(axes)
    return inputs.amax(axes, keepdim=keepdims)


def global_average_pool(inputs, data_format=None, keepdims=False, mask=None):
    """Mean over all spatial axes, shaped as ``global_max_pool``.

    ``mask`` (``(batch, *spatial)``, nonzero = keep) restricts the mean to the
    kept cells: ``sum(x * mask) / sum(mask)``; a sample with no kept cell gives 0.
    """
    channels_last = is_channels_last(data_format)
    axes = spatial_axes(inputs.ndim, channels_last)
    if mask is None:
        return inputs.mean(axes, keepdim=keepdims)
    keep = mask.to(torch.bool).unsqueeze(-1 if channels_last else 1)
    total = torch.where(keep, inputs, 0).sum(axes, keepdim=keepdims)
    count = keep.to(inputs.dtype).sum(axes, keepdim=keepdims)
    return total / count.clamp_min(1)

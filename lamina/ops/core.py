"""Core ``keras.ops`` functions (Keras's ``keras.src.ops.core``): conversion and
casts, shapes and dtypes of tensors, slices and scatters, control flow and
custom gradients.

Inputs may be tensors, NumPy arrays or Python scalars; dtypes follow Keras 3 on its
torch backend.
"""

from __future__ import annotations

import builtins
import functools
import math

import torch

from lamina.ops.dtypes import (
    as_tensor,
    as_tensors,
    convert_to_numpy,
    standardize_dtype,
    to_torch_dtype,
)
from lamina.ops.dtypes import convert_to_tensor as _convert_to_tensor
from lamina.ops.numpy import _shape_arg, _shape_of

__all__ = [
    "convert_to_tensor",
    "convert_to_numpy",
    "cast",
    "saturate_cast",
    "dtype",
    "is_tensor",
    "shape",
    "stop_gradient",
    "unstack",
    "slice",
    "slice_update",
    "scatter",
    "scatter_update",
    "cond",
    "switch",
    "fori_loop",
    "while_loop",
    "scan",
    "map",
    "vectorized_map",
    "associative_scan",
    "custom_gradient",
]


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
    """A torch tensor from a tensor, NumPy array, Python scalar or nested list.

    Tensors are returned as they are (cast when ``dtype`` is given); NumPy arrays
    keep their dtype; Python ints become int32 and floats ``floatx()``.
    """
    return _convert_to_tensor(x, dtype, sparse, ragged)


def cast(x, dtype):
    """``x`` converted to ``dtype``."""
    return convert_to_tensor(x, dtype=dtype)


def saturate_cast(x, dtype):
    """Cast, clamping values to the range of ``dtype`` first (no wrap-around)."""
    x, target = as_tensor(x), to_torch_dtype(dtype)
    if target == torch.bool or target.is_complex or x.dtype == torch.bool:
        return x.to(target)
    info = torch.finfo if target.is_floating_point else torch.iinfo
    low, high = info(target).min, info(target).max
    if not (x.is_floating_point() or x.is_complex()):
        # Bounds outside x's own range cannot be represented in x's dtype.
        low = builtins.max(low, torch.iinfo(x.dtype).min)
        high = builtins.min(high, torch.iinfo(x.dtype).max)
    return torch.clamp(x, low, high).to(target)


def dtype(x):
    """The Keras dtype name of ``x``, e.g. ``'float32'``."""
    return standardize_dtype(getattr(x, "dtype", type(x)))


def is_tensor(x):
    return isinstance(x, torch.Tensor)


def shape(x):
    """The shape of ``x`` as a tuple."""
    return _shape_of(x)


def stop_gradient(variable):
    """``variable`` detached from the autograd graph."""
    return as_tensor(variable).detach()


def unstack(x, num=None, axis=0):
    """The slices of ``x`` along ``axis``, as a list."""
    return list(torch.unbind(as_tensor(x), dim=axis))


def slice(inputs, start_indices, shape):
    """The block of ``shape`` starting at ``start_indices``."""
    inputs = as_tensor(inputs)
    index = tuple(
        builtins.slice(int(s), int(s) + int(n))
        for s, n in zip(_shape_arg(start_indices), _shape_arg(shape))
    )
    return inputs[index]


def slice_update(inputs, start_indices, updates):
    """A copy of ``inputs`` with the block at ``start_indices`` set to ``updates``."""
    inputs, updates = as_tensors(inputs, updates)
    index = tuple(
        builtins.slice(int(s), int(s) + n)
        for s, n in zip(_shape_arg(start_indices), updates.shape)
    )
    out = inputs.clone()
    out[index] = updates.to(inputs.dtype)
    return out


def scatter(indices, values, shape):
    """Zeros of ``shape`` with ``values`` added at ``indices`` (last axis indexes)."""
    values, indices = as_tensors(values, indices)
    indices = indices.to(torch.int64)
    out = torch.zeros(_shape_arg(shape), dtype=values.dtype, device=values.device)
    depth = indices.shape[-1]
    index = tuple(indices.reshape(-1, depth).T)
    out.index_put_(index, values.reshape((-1,) + out.shape[depth:]), accumulate=True)
    return out


_SCATTER_REDUCE = {"max": "amax", "min": "amin", "mul": "prod"}


def scatter_update(inputs, indices, updates, reduction=None):
    """A copy of ``inputs`` with ``updates`` written (or reduced) at ``indices``."""
    inputs, indices, updates = as_tensors(inputs, indices, updates)
    indices, updates = indices.to(torch.int64), updates.to(inputs.dtype)
    out = inputs.clone()
    index = tuple(indices.T)
    if reduction is None:
        out[index] = updates
    elif reduction == "add":
        out.index_put_(index, updates, accumulate=True)
    elif reduction in _SCATTER_REDUCE:
        depth = indices.shape[-1]
        flat = out.reshape((-1,) + out.shape[depth:])
        strides = torch.tensor(
            [math.prod(out.shape[d + 1 : depth]) for d in range(depth)],
            device=indices.device,
        )
        rows = (indices * strides).sum(-1)
        rows = rows.reshape((-1,) + (1,) * (flat.ndim - 1)).expand_as(
            updates.reshape((-1,) + flat.shape[1:])
        )
        flat = flat.scatter_reduce(
            0, rows, updates.reshape(rows.shape), _SCATTER_REDUCE[reduction]
        )
        out = flat.reshape(out.shape)
    else:
        raise ValueError(
            "scatter_update: `reduction` must be None, 'add', 'max', "
            f"'min' or 'mul'; got reduction={reduction!r}."
        )
    return out


def cond(pred, true_fn, false_fn):
    """``true_fn()`` if ``pred`` else ``false_fn()``."""
    return true_fn() if bool(pred) else false_fn()


def switch(index, branches, *operands):
    """``branches[index](*operands)``, with ``index`` clamped to the valid range."""
    index = builtins.max(0, builtins.min(int(index), len(branches) - 1))
    return branches[index](*operands)


def fori_loop(lower, upper, body_fun, init_val):
    val = init_val
    for i in range(int(lower), int(upper)):
        val = body_fun(i, val)
    return val


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """Apply ``body`` while ``cond`` holds (at most ``maximum_iterations`` times)."""
    is_sequence = isinstance(loop_vars, (list, tuple))
    state = tuple(loop_vars) if is_sequence else (loop_vars,)
    count = 0
    while bool(cond(*state)) and (
        maximum_iterations is None or count < maximum_iterations
    ):
        state = body(*state)
        state = tuple(state) if isinstance(state, (list, tuple)) else (state,)
        count += 1
    return state if is_sequence else state[0]


def _tree_flatten(tree):
    if isinstance(tree, (list, tuple)):
        return [leaf for item in tree for leaf in _tree_flatten(item)]
    if isinstance(tree, dict):
        return [leaf for key in sorted(tree) for leaf in _tree_flatten(tree[key])]
    return [tree]


def _tree_unflatten(structure, leaves):
    leaves = iter(leaves)

    def build(node):
        if isinstance(node, (list, tuple)):
            return type(node)(build(item) for item in node)
        if isinstance(node, dict):
            return {key: build(node[key]) for key in sorted(node)}
        return next(leaves)

    return build(structure)


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """Loop ``carry, y = f(carry, x)`` over the leading axis of ``xs``.

    Returns the final carry and the stacked ``y`` values.
    """
    if xs is None and length is None:
        raise ValueError("scan: give `xs` or `length`.")
    leaves = [] if xs is None else [as_tensor(leaf) for leaf in _tree_flatten(xs)]
    n = int(length) if length is not None else leaves[0].shape[0]
    carry, ys = init, []
    steps = range(n - 1, -1, -1) if reverse else range(n)
    for i in steps:
        x = None if xs is None else _tree_unflatten(xs, [leaf[i] for leaf in leaves])
        carry, y = f(carry, x)
        ys.append(y)
    if reverse:
        ys.reverse()
    if not ys or ys[0] is None:
        return carry, None
    columns = zip(*[_tree_flatten(y) for y in ys])
    return carry, _tree_unflatten(
        ys[0], [torch.stack([as_tensor(v) for v in c]) for c in columns]
    )


def map(f, xs):
    """``f`` applied to each slice of ``xs`` along its leading axis, stacked."""
    return scan(lambda carry, x: (carry, f(x)), (), xs)[1]


def vectorized_map(function, elements):
    """``function`` mapped over the leading axis of ``elements`` with ``torch.vmap``."""
    leaves = [as_tensor(leaf) for leaf in _tree_flatten(elements)]
    return torch.vmap(function)(_tree_unflatten(elements, leaves))


def _along(x, axis, start=None, stop=None, step=None):
    index = [builtins.slice(None)] * x.ndim
    index[axis] = builtins.slice(start, stop, step)
    return x[tuple(index)]


def _interleave(evens, odds, axis):
    """``evens[0], odds[0], evens[1], odds[1], ...`` along ``axis``."""
    extra = evens.shape[axis] - odds.shape[axis]
    paired = _along(evens, axis, 0, evens.shape[axis] - extra)
    woven = torch.stack([paired, odds], dim=axis + 1).flatten(axis, axis + 1)
    return torch.cat([woven, _along(evens, axis, -1)], axis) if extra else woven


def associative_scan(f, elems, reverse=False, axis=0):
    """Inclusive scan of ``elems`` along ``axis`` with the associative ``f``.

    ``f(a, b)`` combines two (nested structures of) tensors slice-wise; the result
    holds ``f(...f(f(e0, e1), e2)..., ei)`` at each position ``i`` (from the end
    when ``reverse``). Runs in ``O(log n)`` vectorized calls of ``f`` (the
    parallel prefix algorithm of ``jax.lax.associative_scan``).

    Raises:
        TypeError: if ``f`` is not callable.
        ValueError: if the leaves of ``elems`` differ in length along ``axis``.
    """
    if not callable(f):
        raise TypeError(f"associative_scan: `f` must be callable; got f={f!r}.")
    leaves = [as_tensor(leaf) for leaf in _tree_flatten(elems)]
    lengths = {leaf.shape[axis] for leaf in leaves}
    if len(lengths) != 1:
        raise ValueError(
            "associative_scan: every leaf of `elems` must have the same length "
            f"along axis {axis}; got shapes {[tuple(v.shape) for v in leaves]}."
        )
    axis = axis % leaves[0].ndim
    if reverse:
        leaves = [torch.flip(leaf, (axis,)) for leaf in leaves]

    def combine(a, b):
        out = f(_tree_unflatten(elems, a), _tree_unflatten(elems, b))
        return [as_tensor(leaf) for leaf in _tree_flatten(out)]

    def scan_(xs):
        n = xs[0].shape[axis]
        if n < 2:
            return xs
        pairs = combine(
            [_along(x, axis, 0, n - 1, 2) for x in xs],
            [_along(x, axis, 1, None, 2) for x in xs],
        )
        odds = scan_(pairs)
        rest = [_along(x, axis, 2, None, 2) for x in xs]
        heads = odds if n % 2 else [_along(o, axis, 0, -1) for o in odds]
        evens = combine(heads, rest) if rest[0].shape[axis] else rest
        evens = [torch.cat([_along(x, axis, 0, 1), e], axis) for x, e in zip(xs, evens)]
        return [_interleave(e, o, axis) for e, o in zip(evens, odds)]

    result = scan_(leaves)
    if reverse:
        result = [torch.flip(leaf, (axis,)) for leaf in result]
    return _tree_unflatten(elems, result)


class _CustomGradient(torch.autograd.Function):
    """Runs ``f`` forward and its own ``grad_fn`` backward."""

    @staticmethod
    def forward(ctx, f, kwargs, positions, *args):
        output, ctx.grad_fn = f(*args, **kwargs)
        ctx.positions = positions
        ctx.others = [None if p else a for a, p in zip(args, positions)]
        ctx.save_for_backward(*[a for a, p in zip(args, positions) if p])
        return output

    @staticmethod
    def backward(ctx, *upstream):
        saved = iter(ctx.saved_tensors)
        args = [next(saved) if p else a for a, p in zip(ctx.others, ctx.positions)]
        grads = ctx.grad_fn(
            *args, upstream=upstream[0] if len(upstream) == 1 else upstream
        )
        grads = grads if isinstance(grads, (tuple, list)) else (grads,)
        return (None, None, None, *grads)


def custom_gradient(f):
    """Decorator giving ``f`` its own gradient.

    ``f(*args)`` returns ``(output, grad_fn)``; the decorated function returns
    ``output``, and backpropagation calls ``grad_fn(*args, upstream=upstream)``
    (as Keras on torch does), which returns the gradient of each of ``args``.

    Example:

    >>> import torch
    >>> from lamina import ops
    >>> @ops.custom_gradient
    ... def clip_gradient(x):
    ...     def grad(*args, upstream=None):
    ...         return ops.clip(upstream, -1.0, 1.0)
    ...     return x * 1.0, grad
    >>> x = torch.tensor([3.0], requires_grad=True)
    >>> (clip_gradient(x) * 5.0).sum().backward()
    >>> x.grad
    tensor([1.])
    """
    if not callable(f):
        raise TypeError(f"custom_gradient: `f` must be callable; got f={f!r}.")

    @functools.wraps(f)
    def wrapped(*args, **kwargs):
        positions = tuple(isinstance(a, torch.Tensor) for a in args)
        return _CustomGradient.apply(f, kwargs, positions, *args)

    return wrapped

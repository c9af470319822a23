"""``keras.ops.numpy.vectorize``: NumPy's ``vectorize`` (with generalized-ufunc
signatures) on ``torch.vmap``.

Part of ``lamina.ops.numpy`` (which lists it in its ``__all__``); a leaf of
``lamina.ops`` besides ``dtypes``.
"""

from __future__ import annotations

import functools
import re

import torch

from lamina.ops.dtypes import as_tensor

__all__ = ["vectorize"]


def _core_dims(signature):
    """``"(m,n),(n)->(m)"`` as ``([("m", "n"), ("n",)], [("m",)])``."""
    if not re.fullmatch(
        r"\s*(\([\w\s,]*\)\s*,?\s*)+->\s*(\([\w\s,]*\)\s*,?\s*)+", signature
    ):
        raise ValueError(
            "vectorize: `signature` must look like '(m,n),(n)->(m)'; got "
            f"signature={signature!r}."
        )
    sides = signature.split("->")
    return [
        [
            tuple(d.strip() for d in group.split(",") if d.strip())
            for group in re.findall(r"\(([^)]*)\)", side)
        ]
        for side in sides
    ]


def _vectorized_call(pyfunc, args, core, signature):
    tensors = [as_tensor(a) for a in args]
    if len(core) != len(tensors):
        raise ValueError(
            f"vectorize: the signature {signature!r} names {len(core)} inputs; "
            f"got {len(tensors)}."
        )
    sizes, loops = {}, []
    for t, dims in zip(tensors, core):
        if t.ndim < len(dims):
            raise ValueError(
                f"vectorize: an input of shape {tuple(t.shape)} has fewer axes "
                f"than its core dimensions {dims} in signature {signature!r}."
            )
        for name, n in zip(dims, t.shape[t.ndim - len(dims) :]):
            if sizes.setdefault(name, n) != n:
                raise ValueError(
                    f"vectorize: core dimension {name!r} has sizes {sizes[name]} "
                    f"and {n} in signature {signature!r}."
                )
        loops.append(tuple(t.shape[: t.ndim - len(dims)]))
    batch = torch.broadcast_shapes(*loops)
    flat = [
        t.expand(batch + tuple(t.shape[t.ndim - len(d) :])).reshape(
            (-1,) + tuple(t.shape[t.ndim - len(d) :])
        )
        for t, d in zip(tensors, core)
    ]
    out = torch.vmap(pyfunc)(*flat)
    if isinstance(out, (tuple, list)):
        return type(out)(o.reshape(batch + tuple(o.shape[1:])) for o in out)
    return out.reshape(batch + tuple(out.shape[1:]))


def vectorize(pyfunc, *, excluded=None, signature=None):
    """``pyfunc`` turned into a function that maps over leading (loop) axes with
    NumPy's broadcasting, like ``np.vectorize``, using ``torch.vmap``.

    Args:
        pyfunc: the function of the core (per-element) arguments.
        excluded: positions (ints) or names (strs) of arguments passed through
            unvectorized.
        signature: NumPy generalized-ufunc signature such as ``"(n),(n)->()"``
            naming each input's core axes; without it every input is mapped
            element by element.

    Raises:
        ValueError: if ``pyfunc`` is not callable, the signature is malformed, or
            the inputs disagree with it.
    """
    if not callable(pyfunc):
        raise ValueError(
            f"vectorize: `pyfunc` must be callable; got pyfunc={pyfunc!r}."
        )
    excluded = frozenset(excluded or ())
    inputs_core = None if signature is None else _core_dims(signature)[0]

    @functools.wraps(pyfunc)
    def wrapped(*args, **kwargs):
        fixed = {k: v for k, v in kwargs.items() if k in excluded}
        mapped_kw = [k for k in kwargs if k not in excluded]
        positions = [i for i in range(len(args)) if i not in excluded]
        values = [args[i] for i in positions] + [kwargs[k] for k in mapped_kw]

        def call(*mapped):
            full = list(args)
            for i, v in zip(positions, mapped):
                full[i] = v
            named = dict(zip(mapped_kw, mapped[len(positions) :]))
            return pyfunc(*full, **fixed, **named)

        core = inputs_core if inputs_core is not None else [()] * len(values)
        return _vectorized_call(call, values, core, signature)

    return wrapped

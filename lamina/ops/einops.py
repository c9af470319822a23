"""``keras.ops.rearrange``: einops-style axis rearrangement (``keras.src.ops.
einops``) as one reshape, one permutation and one reshape.

A pattern names each input axis, or a parenthesized group of axes that one input
axis splits into, then the output axes (or groups merged into one axis):
``"b (h w) c -> b h w c"`` with ``h=4`` splits the middle axis. One axis per
group may be left out of ``axes_lengths``; it is inferred.
"""

from __future__ import annotations

import math
import re

import torch

from lamina.ops.dtypes import as_tensor

__all__ = ["rearrange"]


def _groups(side: str, pattern: str) -> list[list[str]]:
    """``"b (h w) c"`` as ``[["b"], ["h", "w"], ["c"]]``."""
    groups, current = [], None
    for token in re.findall(r"\(|\)|\w+|\S", side):
        if token == "(" and current is None:
            current = []
        elif token == ")" and current is not None:
            groups.append(current)
            current = None
        elif re.fullmatch(r"\w+", token) and current is None:
            groups.append([token])
        elif re.fullmatch(r"\w+", token):
            current.append(token)
        else:
            raise ValueError(f"rearrange: `pattern` is malformed; got {pattern!r}.")
    if current is not None:
        raise ValueError(f"rearrange: `pattern` is malformed; got {pattern!r}.")
    return groups


def _axis_sizes(groups, shape, lengths, pattern):
    """The size of every named input axis."""
    if len(groups) != len(shape):
        raise ValueError(
            f"rearrange: the pattern {pattern!r} names {len(groups)} input axes; "
            f"got a tensor of shape {tuple(shape)}."
        )
    sizes = {}
    for group, dim in zip(groups, shape):
        unknown = [a for a in group if a not in lengths]
        known = math.prod(lengths[a] for a in group if a in lengths)
        if (
            len(unknown) > 1
            or (unknown and dim % known)
            or (not unknown and known != dim)
        ):
            raise ValueError(
                f"rearrange: axis ({' '.join(group)}) of size {dim} cannot be split "
                f"with axes_lengths={lengths!r} in pattern {pattern!r}."
            )
        sizes.update({a: lengths[a] for a in group if a in lengths})
        sizes.update({a: dim // known for a in unknown})
    return sizes


def rearrange(tensor, pattern, **axes_lengths):
    """``tensor`` with its axes split, permuted and merged as ``pattern`` says.

    Example:

    >>> import torch
    >>> from lamina import ops
    >>> x = torch.zeros(2, 12, 5)
    >>> tuple(ops.rearrange(x, "b (h w) c -> b c h w", h=3).shape)
    (2, 5, 3, 4)

    Raises:
        ValueError: if the pattern is malformed, its two sides name different
            axes, or the sizes do not divide.
    """
    tensor = as_tensor(tensor)
    if pattern.count("->") != 1:
        raise ValueError(
            f"rearrange: `pattern` must contain one '->'; got {pattern!r}."
        )
    left, right = pattern.split("->")
    inputs, outputs = _groups(left, pattern), _groups(right, pattern)
    names = [a for g in inputs for a in g]
    targets = [a for g in outputs for a in g]
    if sorted(names) != sorted(targets) or len(set(names)) != len(names):
        raise ValueError(
            "rearrange: both sides of `pattern` must name the same axes once each; "
            f"got {pattern!r}."
        )
    sizes = _axis_sizes(inputs, tensor.shape, axes_lengths, pattern)
    x = tensor.reshape([sizes[a] for a in names])
    x = torch.permute(x, [names.index(a) for a in targets])
    return x.reshape([math.prod(sizes[a] for a in g) for g in outputs])

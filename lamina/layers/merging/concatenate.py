"""Concatenate: join a list of tensors along one axis."""

from __future__ import annotations

import torch

from lamina.layers.docs import fill_docs
from lamina.layers.merging.base_merge import Merge, fill_unknown
from lamina.utils.validation import arg_error


@fill_docs()
class Concatenate(Merge):
    """Concatenates a list of tensors along ``axis``.

    Args:
        axis: int, the axis to join along (default -1, the last). Negative values
            count from the end.
        {kwargs}

    Input shape:
        A list of at least one tensor of one rank, with equal sizes on every axis
        but ``axis`` (unknown sizes match anything).

    Output shape:
        The inputs' shape with the sizes along ``axis`` summed (unknown if one of
        them is).

    Mask:
        When some input has a mask, each input's mask (ones for an input without
        one) is broadcast to the input's shape, the masks are concatenated along
        ``axis``, and the output mask is their ``any`` over the last axis, as in
        Keras.

    Weights:
        None.

    Raises:
        TypeError: ``axis`` not an int (at construction).
        ValueError: inputs of different
            ranks, other sizes that differ, or ``axis`` outside the rank (the
            message lists every input shape).

    Example:
    >>> import lamina as keras
    >>> a, b = keras.ops.zeros((2, 3)), keras.ops.ones((2, 1))
    >>> tuple(keras.layers.Concatenate()([a, b]).shape)
    (2, 4)
    """

    _aligns_ranks = False

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not hasattr(axis, "__index__"):
            raise arg_error(self, "axis", "an int", axis, TypeError)
        self.axis = int(axis)

    def _check_shapes(self, shapes) -> None:
        rank = len(shapes[0])
        if any(len(s) != rank for s in shapes):
            raise self._mismatch(shapes)
        if not -rank <= self.axis < rank:
            raise self._shape_error(
                f"`axis` must be in [-{rank}, {rank}) for inputs of rank {rank} "
                f"(axis={self.axis})",
                shapes,
            )
        axis = self.axis % rank
        for i in range(rank):
            if i != axis and len({s[i] for s in shapes} - {None}) > 1:
                raise self._mismatch(shapes)

    def _mismatch(self, shapes) -> ValueError:
        return self._shape_error(
            "the inputs must have the same rank and the same sizes on every axis "
            f"but the concatenation axis (axis={self.axis})",
            shapes,
        )

    def compute_output_shape(self, input_shape):
        shapes = self._shape_list(input_shape)
        output = list(shapes[0])
        sizes = [s[self.axis] for s in shapes]
        output[self.axis] = None if None in sizes else sum(sizes)
        return tuple(output)

    def _probe_shapes(self, shapes) -> list:
        axis = self.axis % len(shapes[0])
        fill = {}
        for i in range(len(shapes[0])):
            sizes = {s[i] for s in shapes} - {None}
            if i != axis and len(sizes) == 1:
                fill[i] = sizes.pop()
        return [fill_unknown(s, fill) for s in shapes]

    def _merge_function(self, inputs):
        return torch.cat(inputs, dim=self.axis)

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        masks = self._mask_list(inputs, mask)
        if all(m is None for m in masks):
            return None
        full = [
            torch.ones_like(x, dtype=torch.bool)
            if m is None
            else (m.unsqueeze(-1).expand(x.shape) if m.ndim < x.ndim else m)
            for x, m in zip(inputs, masks)
        ]
        return torch.cat(full, dim=self.axis).any(dim=-1)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


def concatenate(inputs, axis=-1, **kwargs):
    """The functional form of ``Concatenate``: ``Concatenate(axis, **kwargs)(inputs)``.

    Example:
    >>> import lamina as keras
    >>> a, b = keras.Input((2, 3)), keras.Input((5, 3))
    >>> keras.layers.concatenate([a, b], axis=1).shape
    (None, 7, 3)
    """
    return Concatenate(axis=axis, **kwargs)(inputs)

"""Dot: the dot product of two tensors along an axis of each, sample by sample."""

from __future__ import annotations

import torch

from lamina.layers.docs import fill_docs
from lamina.layers.merging.base_merge import Merge
from lamina.ops.nn import normalize as l2_normalize
from lamina.utils.validation import arg_error

_AXES_RULE = "an int or a pair of ints, none of them 0 (the batch axis)"


def batch_dot(x: torch.Tensor, y: torch.Tensor, axis_x: int, axis_y: int):
    """The dot product of each sample of ``x`` with the same sample of ``y`` over
    ``x``'s axis ``axis_x`` and ``y``'s ``axis_y`` (both > 0): the output holds
    ``x``'s other axes, then ``y``'s other axes but the batch axis; a result of
    rank 1 gets a last axis of size 1 (Keras's ``batch_dot``).

    >>> x, y = torch.ones(2, 3, 4), torch.ones(2, 4, 5)
    >>> tuple(batch_dot(x, y, 2, 1).shape), tuple(batch_dot(x[:, 0], x[:, 0], 1, 1).shape)
    ((2, 3, 5), (2, 1))
    """
    batch = x.shape[0]
    x = x.movedim(axis_x, -1)
    y = y.movedim(axis_y, 1)
    rest_x, rest_y = x.shape[1:-1], y.shape[2:]
    size = x.shape[-1]
    output = torch.matmul(x.reshape(batch, -1, size), y.reshape(batch, size, -1))
    output = output.reshape(batch, *rest_x, *rest_y)
    return output.unsqueeze(-1) if output.ndim == 1 else output


@fill_docs()
class Dot(Merge):
    """The dot product of two tensors, sample by sample, along one axis of each.

    For inputs of shapes ``(batch, 3, 5)`` and ``(batch, 10, 3)`` with
    ``axes=(1, 2)`` the output has shape ``(batch, 5, 10)``.

    Args:
        axes: int (the same axis of both inputs) or a pair of ints (an axis of
            each). Negative values count from the end; the batch axis cannot be
            one of them.
        normalize: L2-normalize both inputs along their axis first, so the
            result is the cosine similarity (default False).
        {kwargs}

    Input shape:
        A list of exactly two tensors of rank >= 2, the same size along their
        ``axes``.

    Output shape:
        The first input's shape without its axis, then the second's without its
        axis and its batch axis; ``(batch, 1)`` when that leaves only the batch
        axis.

    Mask:
        None (the output has no mask).

    Weights:
        None.

    Raises:
        TypeError: ``axes`` neither an int nor a list/tuple (at construction).
        ValueError: ``axes`` not one or two ints, or naming the batch axis (at
            construction); an axis outside an input's rank, inputs of rank < 2 or
            sizes that differ along the axes (the message lists both shapes).

    Example:
    >>> import lamina as keras
    >>> a, b = keras.ops.ones((2, 3)), keras.ops.ones((2, 3))
    >>> keras.layers.Dot(axes=1)([a, b]).tolist()
    [[3.0], [3.0]]
    """

    _num_inputs = 2
    _aligns_ranks = False

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        self.axes = self._check_axes(axes)
        self.normalize = bool(normalize)

    def _check_axes(self, axes):
        if not isinstance(axes, (int, list, tuple)) or isinstance(axes, bool):
            raise arg_error(self, "axes", _AXES_RULE, axes, TypeError)
        pair = (axes, axes) if isinstance(axes, int) else tuple(axes)
        if len(pair) != 2 or not all(
            isinstance(a, int) and not isinstance(a, bool) for a in pair
        ):
            raise arg_error(self, "axes", _AXES_RULE, axes)
        if 0 in pair:
            raise arg_error(self, "axes", _AXES_RULE, axes)
        return axes if isinstance(axes, int) else list(axes)

    def _axes_for(self, shapes) -> tuple[int, int]:
        """``axes`` as non-negative axes of the two inputs (Keras's rule: a negative
        axis counts from the end of its input)."""
        pair = (self.axes, self.axes) if isinstance(self.axes, int) else self.axes
        return tuple(a % len(s) if a < 0 else a for a, s in zip(pair, shapes))

    def _check_shapes(self, shapes) -> None:
        if any(len(s) < 2 for s in shapes):
            raise self._shape_error("both inputs must have rank >= 2", shapes)
        self._check_batch(shapes)
        axes = self._axes_for(shapes)
        if any(not 0 < a < len(s) for a, s in zip(axes, shapes)):
            raise self._shape_error(
                f"`axes` must name an axis after the batch axis of each input "
                f"(axes={self.axes})",
                shapes,
            )
        size1, size2 = (s[a] for s, a in zip(shapes, axes))
        if None not in (size1, size2) and size1 != size2:
            raise self._shape_error(
                f"the inputs must have the same size along `axes` (axes="
                f"{self.axes}: {size1} != {size2})",
                shapes,
            )

    def compute_output_shape(self, input_shape):
        shapes = self._shape_list(input_shape)
        self._check_shapes(shapes)
        axis1, axis2 = self._axes_for(shapes)
        shape1, shape2 = list(shapes[0]), list(shapes[1])
        del shape1[axis1], shape2[axis2], shape2[0]
        output = shape1 + shape2
        return tuple(output + [1] if len(output) == 1 else output)

    def _probe_shapes(self, shapes) -> list:
        axes = self._axes_for(shapes)
        size = {s[a] for s, a in zip(shapes, axes)} - {None}
        batch = {s[0] for s in shapes} - {None}
        probes = []
        for shape, axis in zip(shapes, axes):
            shape = list(shape)
            if shape[axis] is None and size:
                shape[axis] = next(iter(size))
            if shape[0] is None and batch:
                shape[0] = next(iter(batch))
            probes.append(tuple(shape))
        return probes

    def _merge_function(self, inputs):
        x, y = inputs
        axis_x, axis_y = self._axes_for((x.shape, y.shape))
        if self.normalize:
            x, y = l2_normalize(x, axis=axis_x), l2_normalize(y, axis=axis_y)
        return batch_dot(x, y, axis_x, axis_y)

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def dot(inputs, axes=-1, **kwargs):
    """The functional form of ``Dot``: ``Dot(axes, **kwargs)(inputs)``
    (``normalize=True`` among the keyword arguments for cosine similarity)."""
    return Dot(axes=axes, **kwargs)(inputs)

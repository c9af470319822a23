"""Subtract: the elementwise difference of two tensors."""

from __future__ import annotations

from lamina.layers.docs import fill_docs
from lamina.layers.merging.base_merge import Merge


@fill_docs()
class Subtract(Merge):
    """Subtracts the second of two tensors from the first, elementwise.

    Args:
        {kwargs}

    Input shape:
        A list of exactly two tensors whose shapes broadcast (as for ``Add``).

    Output shape:
        The broadcast shape of the inputs.

    Mask:
        The logical OR of the two masks when both inputs have one.

    Weights:
        None.

    Raises:
        ValueError: not a list of two tensors; shapes that do not broadcast.

    Example:
    >>> import lamina as keras
    >>> x = keras.ops.ones((1, 2))
    >>> keras.layers.Subtract()([3 * x, x]).tolist()
    [[2.0, 2.0]]
    """

    _num_inputs = 2

    def _merge_function(self, inputs):
        return inputs[0] - inputs[1]


def subtract(inputs, **kwargs):
    """The functional form of ``Subtract``: ``Subtract(**kwargs)(inputs)``."""
    return Subtract(**kwargs)(inputs)

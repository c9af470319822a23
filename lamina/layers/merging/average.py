"""Average: the elementwise mean of a list of tensors."""

from __future__ import annotations

from lamina.layers.docs import fill_docs
from lamina.layers.merging.base_merge import Merge


@fill_docs()
class Average(Merge):
    """Averages a list of tensors elementwise: their sum divided by their number.

    Args:
        {kwargs}

    Input shape:
        A list of at least one tensor whose shapes broadcast (as for ``Add``).

    Output shape:
        The broadcast shape of the inputs.

    Mask:
        The logical OR of the input masks when every input has one.

    Weights:
        None.

    Raises:
        ValueError: not a list; shapes that do not broadcast.

    Example:
    >>> import lamina as keras
    >>> x = keras.ops.ones((1, 2))
    >>> keras.layers.Average()([x, 2 * x]).tolist()
    [[1.5, 1.5]]
    """

    def _merge_function(self, inputs):
        output = inputs[0]
        for x in inputs[1:]:
            output = output + x
        return output / len(inputs)


def average(inputs, **kwargs):
    """The functional form of ``Average``: ``Average(**kwargs)(inputs)``."""
    return Average(**kwargs)(inputs)

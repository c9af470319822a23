"""Add: the elementwise sum of a list of tensors."""

from __future__ import annotations

from lamina.layers.docs import fill_docs
from lamina.layers.merging.base_merge import Merge


@fill_docs()
class Add(Merge):
    """Adds a list of tensors elementwise.

    Inputs of different ranks broadcast as in Keras: the axes after the batch axis
    align on the right (size-1 axes are inserted after the batch axis).

    Args:
        {kwargs}

    Input shape:
        A list of at least one tensor, ``(batch, ...)``, whose shapes broadcast.

    Output shape:
        The broadcast shape of the inputs.

    Mask:
        The logical OR of the input masks when every input has one.

    Weights:
        None.

    Raises:
        ValueError: not a list; shapes that do not broadcast or batch sizes that
            differ (the message lists every input shape).

    Example:
    >>> import lamina as keras
    >>> x = keras.ops.ones((2, 3))
    >>> keras.layers.Add()([x, 2 * x]).tolist()
    [[3.0, 3.0, 3.0], [3.0, 3.0, 3.0]]
    """

    def _merge_function(self, inputs):
        output = inputs[0]
        for x in inputs[1:]:
            output = output + x
        return output


def add(inputs, **kwargs):
    """The functional form of ``Add``: ``Add(**kwargs)(inputs)``.

    Example:
    >>> import lamina as keras
    >>> a, b = keras.Input((4,)), keras.Input((4,))
    >>> keras.layers.add([a, b]).shape
    (None, 4)
    """
    return Add(**kwargs)(inputs)

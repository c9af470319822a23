"""Minimum: the elementwise minimum of a list of tensors."""

from __future__ import annotations

import torch

from lamina.layers.docs import fill_docs
from lamina.layers.merging.base_merge import Merge


@fill_docs()
class Minimum(Merge):
    """The elementwise minimum of a list of tensors.

    With masks, as in Keras: a masked entry never wins over an unmasked one;
    when every input has a mask, the output mask is their OR.

    Args:
        {kwargs}

    Input shape:
        A list of at least one tensor whose shapes broadcast (as for ``Add``).

    Output shape:
        The broadcast shape of the inputs.

    Weights:
        None.

    Raises:
        ValueError: not a list; shapes that do not broadcast.

    Example:
    >>> import lamina as keras
    >>> a = keras.ops.convert_to_tensor([[1.0, 5.0]])
    >>> keras.layers.Minimum()([a, keras.ops.ones((1, 2)) * 3]).tolist()
    [[1.0, 3.0]]
    """

    def _merge_function(self, inputs):
        return self._merge_skipping_masked(torch.minimum, inputs)


def minimum(inputs, **kwargs):
    """The functional form of ``Minimum``: ``Minimum(**kwargs)(inputs)``."""
    return Minimum(**kwargs)(inputs)

"""Maximum: the elementwise maximum of a list of tensors."""

from __future__ import annotations

import torch

from lamina.layers.docs import fill_docs
from lamina.layers.merging.base_merge import Merge


@fill_docs()
class Maximum(Merge):
    """The elementwise maximum of a list of tensors.

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
    >>> keras.layers.Maximum()([a, keras.ops.ones((1, 2)) * 3]).tolist()
    [[3.0, 5.0]]
    """

    def _merge_function(self, inputs):
        return self._merge_skipping_masked(torch.maximum, inputs)


def maximum(inputs, **kwargs):
    """The functional form of ``Maximum``: ``Maximum(**kwargs)(inputs)``."""
    return Maximum(**kwargs)(inputs)

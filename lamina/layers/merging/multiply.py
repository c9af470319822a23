"""Multiply: the elementwise product of a list of tensors."""

from __future__ import annotations

import torch

from lamina.layers.docs import fill_docs
from lamina.layers.merging.base_merge import Merge, expanded_mask


@fill_docs()
class Multiply(Merge):
    """Multiplies a list of tensors elementwise.

    With masks, as in Keras: a masked entry of an input counts as 1; when every
    input has a mask, the product is 0 where every input is masked, and the
    output mask is the OR of the masks.

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
    >>> x = keras.ops.ones((1, 2))
    >>> keras.layers.Multiply()([2 * x, 3 * x]).tolist()
    [[6.0, 6.0]]
    """

    def _merge_function(self, inputs):
        masks = [expanded_mask(x) for x in inputs]
        if all(mask is None for mask in masks):
            output = inputs[0]
            for x in inputs[1:]:
                output = output * x
            return output
        return _masked_product(inputs, masks)


def _masked_product(inputs, masks):
    output = output_mask = None
    every_input_masked = all(mask is not None for mask in masks)
    for x, mask in zip(inputs, masks):
        if mask is not None:
            x = torch.where(mask, x, 1)
            if every_input_masked:
                output_mask = (
                    mask if output_mask is None else torch.logical_or(output_mask, mask)
                )
        output = x if output is None else output * x
    if every_input_masked:
        output = torch.where(output_mask, output, 0)
        output._keras_mask = output_mask.any(dim=-1)
    return output


def multiply(inputs, **kwargs):
    """The functional form of ``Multiply``: ``Multiply(**kwargs)(inputs)``."""
    return Multiply(**kwargs)(inputs)

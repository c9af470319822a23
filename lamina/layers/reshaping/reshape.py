"""Reshape: give each sample a new shape (one axis may be -1)."""

from __future__ import annotations

import math

from lamina.layers.layer import Layer
from lamina.utils.validation import arg_error, describe


class Reshape(Layer):
    """Reshapes each sample to ``target_shape``.

    Args:
        target_shape: tuple of ints, without the batch axis; at most one entry may be
            ``-1``, inferred from the input size.

    Input shape:
        ``(batch_size, ...)`` with the same number of values per sample.

    Output shape:
        ``(batch_size, *target_shape)``.

    Weights:
        None.

    Raises:
        ValueError: more than one -1 or a non-positive size (at construction); an
            input whose size per sample does not fit ``target_shape`` (at build).

    Example:
    >>> import lamina as keras
    >>> keras.layers.Reshape((3, 4)).compute_output_shape((None, 12))
    (None, 3, 4)
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        rule = "a tuple of positive ints with at most one -1"
        if isinstance(target_shape, int):
            target_shape = (target_shape,)
        try:
            target_shape = tuple(target_shape)
        except TypeError:
            raise arg_error(self, "target_shape", rule, target_shape) from None
        if (
            any(
                isinstance(d, bool) or not isinstance(d, int) or (d < 1 and d != -1)
                for d in target_shape
            )
            or target_shape.count(-1) > 1
        ):
            raise arg_error(self, "target_shape", rule, target_shape)
        self.target_shape = target_shape

    def _resolved(self, input_shape):
        """The output shape for ``input_shape``; checks the sizes fit."""
        values = tuple(input_shape)[1:]
        known = math.prod(d for d in self.target_shape if d != -1)
        if any(d is None for d in values):
            return tuple(None if d == -1 else d for d in self.target_shape)
        total = math.prod(values)
        fits = total % known == 0 if -1 in self.target_shape else total == known
        if not fits:
            raise ValueError(
                f"{describe(self)}: cannot reshape input of shape {tuple(input_shape)} "
                f"({total} values per sample) to target_shape {self.target_shape}."
            )
        return tuple(total // known if d == -1 else d for d in self.target_shape)

    def build(self, input_shape):
        self._resolved(input_shape)

    def call(self, inputs):
        return inputs.reshape(inputs.shape[0], *self.target_shape)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self._resolved(input_shape))

    def get_config(self):
        return {**super().get_config(), "target_shape": self.target_shape}

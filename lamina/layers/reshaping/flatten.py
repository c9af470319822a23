"""Flatten: collapse all non-batch axes into one."""

from __future__ import annotations

import math

from lamina import config
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer


class Flatten(Layer):
    """Flattens each sample to a vector (does not touch the batch axis).

    Args:
        data_format: ``"channels_last"`` or ``"channels_first"``. With
            channels_first, the channel axis is moved last before flattening, so the
            order of the output features is the same in both formats (as Keras).

    Input shape:
        ``(batch_size, d1, ..., dn)``. Output shape: ``(batch_size, d1 * ... * dn)``
        (``(batch_size, 1)`` for rank-1 input; ``None`` if any di is unknown).

    Weights:
        None.

    Example:
    >>> import lamina as keras
    >>> keras.layers.Flatten().compute_output_shape((None, 3, 4))
    (None, 12)
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = config.standardize_data_format(data_format)
        self.input_spec = InputSpec(min_ndim=1)
        self._channels_first = self.data_format == "channels_first"

    def call(self, inputs):
        if self._channels_first and inputs.ndim > 2:
            inputs = inputs.movedim(1, -1)
        return inputs.reshape(inputs.shape[0], -1)

    def compute_output_shape(self, input_shape):
        dims = tuple(input_shape)[1:]
        size = None if any(d is None for d in dims) else math.prod(dims)
        return (input_shape[0], size)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}

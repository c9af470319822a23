"""UnitNormalization: scale each sample to unit L2 norm over some axes."""

from __future__ import annotations

from lamina.layers.layer import Layer
from lamina.layers.normalization.base_normalization import check_axis, resolve_axes
from lamina.ops import nn

# Keras's floor on the norm (a norm below it divides by it instead).
EPSILON = 1e-12


class UnitNormalization(Layer):
    """Scales each sample to L2 norm 1 over ``axis``: ``x * min(1 /
    sqrt(sum(x ** 2)), 1e12)``.

    Args:
        axis: int or list of ints, the axes whose norm becomes 1 (default -1).
        **kwargs: ``name``, ``dtype``, ``trainable``, ... (see ``Layer``).

    Input shape:
        Any; ``axis`` must exist. Output shape: the input shape.

    Weights:
        None. As in Keras, the layer is built as soon as it is made.

    Raises:
        TypeError: ``axis`` not an int or list of ints.
        ValueError: when called, an axis out of range.

    Example:
    >>> import lamina as keras
    >>> layer = keras.layers.UnitNormalization()
    >>> print(keras.ops.convert_to_numpy(layer(keras.ops.ones((1, 4)))))
    [[0.5 0.5 0.5 0.5]]
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = check_axis(self, axis)
        self.supports_masking = True
        self.built = True
        self._checked_rank = None
        self._dims = None

    def call(self, inputs):
        if inputs.ndim != self._checked_rank:
            self._dims = resolve_axes(self, self.axis, inputs.shape)
            self._checked_rank = inputs.ndim
        return nn.normalize(inputs, axis=self._dims, order=2, epsilon=EPSILON)

    def compute_output_shape(self, input_shape):
        resolve_axes(self, self.axis, input_shape)
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}

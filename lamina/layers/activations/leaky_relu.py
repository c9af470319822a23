"""LeakyReLU: a rectified linear unit with a small slope below zero."""

from __future__ import annotations

from lamina import activations
from lamina.layers.docs import fill_docs
from lamina.layers.layer import Layer
from lamina.utils.validation import check_float


@fill_docs()
class LeakyReLU(Layer):
    """Leaky rectified linear unit: ``x`` for ``x >= 0``, ``negative_slope * x``
    otherwise.

    Args:
        negative_slope: float >= 0, the slope below zero (default 0.3). Keras 2's
            ``alpha=`` spelling is accepted (with a ``DeprecationWarning``).
        {kwargs}

    Input shape: any. Output shape: the same. Weights: none.

    Raises:
        ValueError: a negative or non-numeric ``negative_slope`` (at construction).

    Example:
    >>> import lamina as keras
    >>> x = keras.ops.convert_to_tensor([-10.0, 0.0, 10.0])
    >>> keras.layers.LeakyReLU(negative_slope=0.5)(x).tolist()
    [-5.0, 0.0, 10.0]
    """

    _preserves_shape = True  # symbolic calls need no stand-in run

    def __init__(self, negative_slope=0.3, **kwargs):
        super().__init__(**kwargs)
        check_float(self, "negative_slope", negative_slope, 0.0)
        self.negative_slope = negative_slope
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        return activations.leaky_relu(inputs, negative_slope=self.negative_slope)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}

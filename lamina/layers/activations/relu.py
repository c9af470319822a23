"""ReLU: the rectified linear unit with optional ceiling, leak and threshold."""

from __future__ import annotations

from lamina import activations
from lamina.layers.docs import fill_docs
from lamina.layers.layer import Layer
from lamina.utils.validation import check_float


@fill_docs()
class ReLU(Layer):
    """Rectified linear unit.

    ``f(x) = max_value`` for ``x >= max_value``; ``x`` for ``threshold <= x <
    max_value``; ``negative_slope * (x - threshold)`` otherwise.

    Args:
        max_value: float >= 0, the ceiling, or None (default) for none.
        negative_slope: float >= 0, the slope below ``threshold`` (default 0).
        threshold: float >= 0, where the unit starts passing its input
            (default 0).
        {kwargs}

    Input shape: any. Output shape: the same. Weights: none.

    Raises:
        ValueError: a negative or non-numeric ``max_value``, ``negative_slope`` or
            ``threshold`` (at construction).

    Example:
    >>> import lamina as keras
    >>> x = keras.ops.convert_to_tensor([-10.0, -5.0, 0.0, 5.0, 10.0])
    >>> keras.layers.ReLU(max_value=10, negative_slope=0.5)(x).tolist()
    [-5.0, -2.5, 0.0, 5.0, 10.0]
    """

    _preserves_shape = True  # symbolic calls need no stand-in run

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        if max_value is not None:
            check_float(self, "max_value", max_value, 0.0)
        check_float(self, "negative_slope", negative_slope, 0.0)
        check_float(self, "threshold", threshold, 0.0)
        self.max_value = max_value
        self.negative_slope = negative_slope
        self.threshold = threshold
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        return activations.relu(
            inputs,
            negative_slope=self.negative_slope,
            max_value=self.max_value,
            threshold=self.threshold,
        )

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "max_value": self.max_value,
            "negative_slope": self.negative_slope,
            "threshold": self.threshold,
        }

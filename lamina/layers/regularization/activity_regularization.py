"""ActivityRegularization: add an L1/L2 penalty on the activations to the loss."""

from __future__ import annotations

from lamina.layers.layer import Layer
from lamina.regularizers import L1L2
from lamina.utils.validation import check_float


class ActivityRegularization(Layer):
    """Identity layer that adds ``(l1 * sum|x| + l2 * sum x^2) / batch_size`` to
    ``losses`` on each call.

    Args:
        l1: L1 factor (>= 0). l2: L2 factor (>= 0).

    Input shape: any. Output shape: the same. Weights: none.
    """

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        l1 = check_float("ActivityRegularization", "l1", l1, 0.0)
        l2 = check_float("ActivityRegularization", "l2", l2, 0.0)
        super().__init__(activity_regularizer=L1L2(l1=l1, l2=l2), **kwargs)
        self.l1, self.l2 = l1, l2
        self.supports_masking = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)
        return {**config, "l1": self.l1, "l2": self.l2}

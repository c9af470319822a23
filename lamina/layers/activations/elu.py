"""ELU: the exponential linear unit."""

from __future__ import annotations

from lamina import activations
from lamina.layers.docs import fill_docs
from lamina.layers.layer import Layer
from lamina.utils.validation import check_float


@fill_docs()
class ELU(Layer):
    """Exponential linear unit: ``x`` for ``x > 0``, ``alpha * (exp(x) - 1)``
    otherwise.

    Args:
        alpha: float, the scale of the negative part (default 1.0).
        {kwargs}

    Input shape: any. Output shape: the same. Weights: none.

    Raises:
        ValueError: a non-numeric ``alpha`` (at construction).

    Example:
    >>> import lamina as keras
    >>> x = keras.ops.convert_to_tensor([-1.0, 0.0, 2.0])
    >>> [round(v, 4) for v in keras.layers.ELU(alpha=2.0)(x).tolist()]
    [-1.2642, 0.0, 2.0]
    """

    _preserves_shape = True  # symbolic calls need no stand-in run

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        check_float(self, "alpha", alpha)
        self.alpha = alpha
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        return activations.elu(inputs, alpha=self.alpha)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}

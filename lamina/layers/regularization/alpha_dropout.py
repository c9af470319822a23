"""AlphaDropout: dropout that keeps the mean and variance of SELU activations."""

from __future__ import annotations

import torch

from lamina.layers.regularization.dropout import Dropout
from lamina.utils.validation import check_float

# SELU's constants: a dropped unit is set to SELU's negative saturation value.
_ALPHA = 1.6732632423543772848170429916717
_SCALE = 1.0507009873554804934193349852946
_ALPHA_P = -_ALPHA * _SCALE


class AlphaDropout(Dropout):
    """Sets a fraction ``rate`` of the inputs to SELU's negative saturation value
    ``-alpha * scale`` while training, then applies the affine map ``a * x + b``
    that keeps zero mean and unit variance (Keras's formula:
    ``a = ((1 - rate) * (1 + rate * alpha_p**2)) ** -0.5``,
    ``b = -a * alpha_p * rate``). Identity at inference.

    Args:
        rate: float in [0, 1), the fraction of units to drop.
        noise_shape: optional shape of the binary keep mask, broadcast over the
            input; ``None`` entries take the input's size.
        seed: optional int for reproducible masks.
        **kwargs: ``name``, ``dtype``, ``trainable``, ... (see ``Layer``).

    Call arguments:
        training: whether to drop (default: inference, no dropout).

    Input shape: any. Output shape: the same. Weights: none.

    Raises:
        ValueError: ``rate`` outside [0, 1) (Keras accepts 1, then fails with a
            division by zero when training), a bad ``noise_shape`` or ``seed``.

    Example:
    >>> import lamina as keras
    >>> layer = keras.layers.AlphaDropout(0.2, seed=1)
    >>> x = keras.ops.ones((2, 3))
    >>> bool((layer(x) == x).all()), tuple(layer(x, training=True).shape)
    (True, (2, 3))
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(rate, noise_shape=noise_shape, seed=seed, **kwargs)
        check_float(self, "rate", rate, 0.0, 1.0, high_inclusive=False)
        self.built = True

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        shape = self._mask_shape(inputs) or inputs.shape
        kept = self.seed_generator.uniform(shape, inputs) >= self.rate
        a = ((1 - self.rate) * (1 + self.rate * _ALPHA_P**2)) ** -0.5
        b = -a * _ALPHA_P * self.rate
        return torch.where(kept, inputs, _ALPHA_P) * a + b

"""Activation and Identity: stateless element-wise layers."""

from __future__ import annotations

from lamina import activations
from lamina.layers.layer import Layer


class Activation(Layer):
    """Applies an activation function to its input.

    Args:
        activation: an activation name (``"relu"``) or a callable.

    Input shape:
        Any. Output shape: same as the input.

    Weights:
        None.

    Raises:
        ValueError: unknown activation name (at construction).

    Example:
    >>> import lamina as keras
    >>> keras.layers.Activation("relu")(keras.ops.convert_to_tensor([-1.0, 2.0]))
    tensor([0., 2.])
    """

    _preserves_shape = True  # symbolic calls need no stand-in run

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self.supports_masking = True

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "activation": activations.serialize(self.activation),
        }


class Identity(Layer):
    """Returns its input unchanged (a placeholder layer).

    Input shape: any. Output shape: the same. Weights: none.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return super().get_config()

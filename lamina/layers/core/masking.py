"""Masking: mark timesteps whose features all equal ``mask_value`` as padding."""

from __future__ import annotations

from lamina.layers.layer import Layer
from lamina.utils.validation import arg_error


class Masking(Layer):
    """Masks timesteps in which every feature equals ``mask_value``.

    Masked timesteps are zeroed in the output, and a boolean mask
    ``any(inputs != mask_value, axis=-1)`` is attached for downstream layers
    (RNNs skip masked steps; GlobalAveragePooling1D ignores them).

    Args:
        mask_value: the padding value (default 0.0).

    Input shape:
        ``(batch_size, timesteps, features)`` (any rank >= 2). Output shape: the same.
        Mask shape: the input shape without its last axis.

    Weights:
        None.
    """

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(mask_value, bool) or not isinstance(mask_value, (int, float)):
            raise arg_error(self, "mask_value", "a number", mask_value)
        self.mask_value = mask_value
        self.supports_masking = True

    def compute_mask(self, inputs, previous_mask=None):
        return (inputs != self.mask_value).any(dim=-1)

    def call(self, inputs):
        keep = (inputs != self.mask_value).any(dim=-1, keepdim=True)
        outputs = inputs * keep.to(inputs.dtype)
        outputs._keras_mask = keep.squeeze(-1)
        return outputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}

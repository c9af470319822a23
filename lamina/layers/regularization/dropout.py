"""Dropout: one implementation with a noise shape (the spatial variants,
spatial_dropout.py, drop whole channels through it)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from lamina.layers.layer import Layer
from lamina.random import SeedGenerator
from lamina.utils.validation import arg_error, check_float, check_int


def _check_seed(owner, seed):
    return check_int(owner, "seed", seed, allow_none=True)


class Dropout(Layer):
    """Randomly zeroes a fraction ``rate`` of the inputs while training and scales
    the rest by ``1 / (1 - rate)``; does nothing at inference.

    Args:
        rate: float in [0, 1], the fraction of units to drop.
        noise_shape: optional shape of the binary keep mask, broadcast over the
            input; ``None`` entries take the input's size (e.g.
            ``(batch, 1, features)`` drops the same features at every timestep).
        seed: optional int for reproducible masks.

    Input shape: any. Output shape: the same. Weights: none.

    Call arguments:
        training: whether to drop (default: inference, no dropout).
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = check_float(self, "rate", rate, 0.0, 1.0)
        self.noise_shape = self._validate_noise_shape(noise_shape)
        self.seed = _check_seed(self, seed)
        self.seed_generator = SeedGenerator(self.seed)
        self.supports_masking = True

    def _validate_noise_shape(self, noise_shape):
        if noise_shape is None:
            return None
        if not isinstance(noise_shape, (list, tuple)) or not all(
            d is None or (isinstance(d, int) and d > 0) for d in noise_shape
        ):
            raise arg_error(
                self,
                "noise_shape",
                "a tuple of positive ints or None entries",
                noise_shape,
            )
        return tuple(noise_shape)

    def _mask_shape(self, inputs: torch.Tensor):
        if self.noise_shape is None:
            return None
        if len(self.noise_shape) != inputs.ndim:
            raise ValueError(
                f"Dropout '{self.name}': `noise_shape` {self.noise_shape} must "
                f"have one entry per input axis; got input shape "
                f"{tuple(inputs.shape)}."
            )
        return tuple(
            n if d is None else d for d, n in zip(self.noise_shape, inputs.shape)
        )

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        mask_shape = self._mask_shape(inputs)
        if mask_shape is None and self.seed is None:
            return F.dropout(inputs, self.rate, training=True)
        if self.rate >= 1.0:
            return torch.zeros_like(inputs)
        keep = (
            self.seed_generator.uniform(mask_shape or inputs.shape, inputs) >= self.rate
        )
        return inputs * keep.to(inputs.dtype) / (1.0 - self.rate)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "rate": self.rate,
            "seed": self.seed,
            "noise_shape": self.noise_shape,
        }

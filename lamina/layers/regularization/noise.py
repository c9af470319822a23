"""GaussianNoise and GaussianDropout: training-time noise."""

from __future__ import annotations

import math

from lamina.layers.layer import Layer
from lamina.random import SeedGenerator
from lamina.utils.validation import check_float, check_int


class GaussianNoise(Layer):
    """Adds zero-centred Gaussian noise of standard deviation ``stddev`` while
    training; identity at inference.

    Args:
        stddev: float in [0, 1] (Keras's bound).
        seed: optional int for reproducible noise.

    Input shape: any. Output shape: the same. Weights: none.
    """

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.stddev = check_float(self, "stddev", stddev, 0.0, 1.0)
        self.seed = check_int(self, "seed", seed, allow_none=True)
        self.seed_generator = SeedGenerator(self.seed)
        self.supports_masking = True

    def call(self, inputs, training=None):
        if training and self.stddev > 0:
            return inputs + self.seed_generator.normal(
                inputs.shape, inputs, stddev=self.stddev
            )
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


class GaussianDropout(Layer):
    """Multiplies the inputs by Gaussian noise of mean 1 and standard deviation
    ``sqrt(rate / (1 - rate))`` while training; identity at inference.

    Args:
        rate: float in [0, 1], drop probability (as with Dropout).
        seed: optional int for reproducible noise.

    Input shape: any. Output shape: the same. Weights: none.
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = check_float(self, "rate", rate, 0.0, 1.0)
        self.seed = check_int(self, "seed", seed, allow_none=True)
        self.seed_generator = SeedGenerator(self.seed)
        self.supports_masking = True

    def call(self, inputs, training=None):
        if training and self.rate > 0:
            stddev = math.sqrt(self.rate / (1.0 - self.rate))
            return inputs * self.seed_generator.normal(
                inputs.shape, inputs, mean=1.0, stddev=stddev
            )
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}

"""Dropout and its spatial variants: one implementation with a noise shape."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from lamina import config
from lamina.layers.input_spec import InputSpec
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


class BaseSpatialDropout(Dropout):
    """Dropout of whole feature maps: one keep decision per (sample, channel)."""

    def __init__(self, rank, rate, data_format=None, seed=None, name=None, dtype=None):
        super().__init__(rate, seed=seed, name=name, dtype=dtype)
        self.rank = rank
        self.data_format = (
            config.standardize_data_format(data_format) if rank > 1 else "channels_last"
        )
        self.input_spec = InputSpec(ndim=rank + 2)

    def _mask_shape(self, inputs):
        batch, channels_axis = (
            inputs.shape[0],
            (1 if self.data_format == "channels_first" else inputs.ndim - 1),
        )
        shape = [1] * inputs.ndim
        shape[0], shape[channels_axis] = batch, inputs.shape[channels_axis]
        return tuple(shape)

    def get_config(self):
        config_dict = {
            "rate": self.rate,
            "seed": self.seed,
            "name": self.name,
            "dtype": self.dtype_policy.name,
        }
        if self.rank > 1:
            config_dict["data_format"] = self.data_format
        return config_dict


_SPATIAL_DOC = """Spatial {rank}D dropout: drops entire {maps} instead of single elements,
    which regularizes better when neighbouring activations are correlated.

    Args:
        rate: float in [0, 1], fraction of feature maps to drop.{format_arg}
        seed: optional int for reproducible masks.

    Input shape: {shape}. Output shape: the same. Weights: none.
    """


class SpatialDropout1D(BaseSpatialDropout):
    __doc__ = _SPATIAL_DOC.format(
        rank=1,
        maps="1D feature maps (channels)",
        format_arg="",
        shape="(batch, steps, channels)",
    )

    def __init__(self, rate, seed=None, name=None, dtype=None):
        super().__init__(1, rate, seed=seed, name=name, dtype=dtype)


_FORMAT_ARG = """
        data_format: "channels_last" (default from keras.json) or "channels_first"."""


class SpatialDropout2D(BaseSpatialDropout):
    __doc__ = _SPATIAL_DOC.format(
        rank=2,
        maps="2D feature maps",
        format_arg=_FORMAT_ARG,
        shape="(batch, rows, cols, channels) or (batch, channels, rows, cols)",
    )

    def __init__(self, rate, data_format=None, seed=None, name=None, dtype=None):
        super().__init__(
            2, rate, data_format=data_format, seed=seed, name=name, dtype=dtype
        )


class SpatialDropout3D(BaseSpatialDropout):
    __doc__ = _SPATIAL_DOC.format(
        rank=3,
        maps="3D feature maps",
        format_arg=_FORMAT_ARG,
        shape="(batch, dim1, dim2, dim3, channels) or channels first",
    )

    def __init__(self, rate, data_format=None, seed=None, name=None, dtype=None):
        super().__init__(
            3, rate, data_format=data_format, seed=seed, name=name, dtype=dtype
        )

"""SpatialDropout1D/2D/3D: Dropout of whole feature maps."""

from __future__ import annotations

from lamina import config
from lamina.layers.input_spec import InputSpec
from lamina.layers.regularization.dropout import Dropout


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

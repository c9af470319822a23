"""SpatialDropout1D/2D/3D: Dropout of whole feature maps (``BaseSpatialDropout``):
one keep decision per (sample, channel), which regularizes better than single
elements when neighbouring activations are correlated."""

from __future__ import annotations

from lamina.layers.docs import fill_docs
from lamina.layers.regularization.dropout import Dropout
from lamina.layers.spatial import SpatialLayer


class BaseSpatialDropout(SpatialLayer, Dropout):
    """Base of the spatial dropout layers (not public): a ``Dropout`` whose noise
    shape is ``(batch, 1, ..., 1, channels)`` (or channels first)."""

    def __init__(self, *, rank, rate, data_format=None, seed=None, **kwargs):
        super().__init__(
            rank=rank, data_format=data_format, rate=rate, seed=seed, **kwargs
        )

    def _mask_shape(self, inputs):
        shape = [1] * inputs.ndim
        shape[0] = inputs.shape[0]
        shape[self._channel_axis] = inputs.shape[self._channel_axis]
        return tuple(shape)

    def get_config(self):
        config = {
            "rate": self.rate,
            "seed": self.seed,
            "name": self.name,
            "dtype": self.dtype_policy.name,
        }
        if self.rank > 1:  # SpatialDropout1D takes no data_format
            config["data_format"] = self.data_format
        return config


ARGS = {
    "rate": """rate: float in [0, 1], the fraction of feature maps to drop.""",
    "seed": """seed: optional int for reproducible masks.""",
    "name_dtype": """name, dtype: as for every ``Layer``.""",
    "call": """Call arguments:
    training: whether to drop (default: inference, where the layer is the
        identity). Kept maps are scaled by ``1 / (1 - rate)``.""",
    "raises": """ValueError: at construction, a ``rate`` outside [0, 1], a non-int
    ``seed`` or an unknown ``data_format``; at call, an input of the wrong
    rank.""",
}


@fill_docs(ARGS)
class SpatialDropout1D(BaseSpatialDropout):
    """Spatial 1D dropout: drops whole channels of ``(batch, steps, channels)``.

    Args:
        {rate}
        {seed}
        {name_dtype}

    Input shape:
        ``(batch, steps, channels)``. Output shape: the same. Weights: none.

    {call}

    Raises:
        {raises}

    Example:
    >>> import lamina as keras
    >>> layer = keras.layers.SpatialDropout1D(0.5, seed=1)
    >>> x = keras.ops.ones((1, 4, 3))
    >>> y = layer(x, training=True)  # each channel all 0 or all 2
    >>> [len(set(y[0, :, c].tolist())) for c in range(3)]
    [1, 1, 1]
    """

    def __init__(self, rate, seed=None, name=None, dtype=None):
        super().__init__(
            rank=1,
            rate=rate,
            data_format="channels_last",
            seed=seed,
            name=name,
            dtype=dtype,
        )


@fill_docs(ARGS)
class SpatialDropout2D(BaseSpatialDropout):
    """Spatial 2D dropout: drops whole 2D feature maps of images.

    Args:
        {rate}
        {data_format}
        {seed}
        {name_dtype}

    Input shape:
        ``(batch, rows, cols, channels)``, or ``(batch, channels, rows, cols)`` for
        channels_first. Output shape: the same. Weights: none.

    {call}

    Raises:
        {raises}
    """

    def __init__(self, rate, data_format=None, seed=None, name=None, dtype=None):
        super().__init__(
            rank=2,
            rate=rate,
            data_format=data_format,
            seed=seed,
            name=name,
            dtype=dtype,
        )


@fill_docs(ARGS)
class SpatialDropout3D(BaseSpatialDropout):
    """Spatial 3D dropout: drops whole 3D feature maps of volumes.

    Args:
        {rate}
        {data_format}
        {seed}
        {name_dtype}

    Input shape:
        ``(batch, dim1, dim2, dim3, channels)``, or
        ``(batch, channels, dim1, dim2, dim3)`` for channels_first. Output shape:
        the same. Weights: none.

    {call}

    Raises:
        {raises}
    """

    def __init__(self, rate, data_format=None, seed=None, name=None, dtype=None):
        super().__init__(
            rank=3,
            rate=rate,
            data_format=data_format,
            seed=seed,
            name=name,
            dtype=dtype,
        )

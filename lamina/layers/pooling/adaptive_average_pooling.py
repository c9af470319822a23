"""AdaptiveAveragePooling1D/2D/3D: the mean of each of a fixed number of
bins per spatial axis (``BaseAdaptivePooling``)."""

from __future__ import annotations

from lamina.layers.docs import fill_docs
from lamina.layers.pooling.base_adaptive_pooling import ARGS, BaseAdaptivePooling


@fill_docs(ARGS)
class AdaptiveAveragePooling1D(BaseAdaptivePooling):
    """Mean over ``output_size`` bins of the steps of ``(batch, steps, features)``.

    Args:
        {output_size}
        {data_format}
        {kwargs}

    Input shape:
        ``(batch, steps, features)``, or ``(batch, features, steps)`` for
        channels_first.

    Output shape:
        {adaptive_shape}

    Weights:
        None.

    Raises:
        {raises}

    Example:
    >>> import lamina as keras
    >>> x = keras.ops.convert_to_tensor([[[1.0], [5.0], [3.0], [4.0], [2.0], [6.0]]])
    >>> keras.layers.AdaptiveAveragePooling1D(2)(x)[0, :, 0].tolist()
    [3.0, 4.0]
    """

    def __init__(self, output_size, data_format=None, **kwargs):
        super().__init__(
            rank=1,
            pool_mode="average",
            output_size=output_size,
            data_format=data_format,
            **kwargs,
        )


@fill_docs(ARGS)
class AdaptiveAveragePooling2D(BaseAdaptivePooling):
    """Mean over ``output_size`` bins of the rows and columns of images.

    Args:
        {output_size}
        {data_format}
        {kwargs}

    Input shape:
        ``(batch, rows, cols, channels)``, or ``(batch, channels, rows, cols)`` for
        channels_first.

    Output shape:
        {adaptive_shape}

    Weights:
        None.

    Raises:
        {raises}

    Example:
    >>> import lamina as keras
    >>> layer = keras.layers.AdaptiveAveragePooling2D((3, 4))
    >>> layer.compute_output_shape((None, 17, 9, 8))
    (None, 3, 4, 8)
    """

    def __init__(self, output_size, data_format=None, **kwargs):
        super().__init__(
            rank=2,
            pool_mode="average",
            output_size=output_size,
            data_format=data_format,
            **kwargs,
        )


@fill_docs(ARGS)
class AdaptiveAveragePooling3D(BaseAdaptivePooling):
    """Mean over ``output_size`` bins of the three spatial axes of volumes.

    Args:
        {output_size}
        {data_format}
        {kwargs}

    Input shape:
        ``(batch, dim1, dim2, dim3, channels)``, or
        ``(batch, channels, dim1, dim2, dim3)`` for channels_first.

    Output shape:
        {adaptive_shape}

    Weights:
        None.

    Raises:
        {raises}

    Example:
    >>> import lamina as keras
    >>> layer = keras.layers.AdaptiveAveragePooling3D(2, data_format="channels_first")
    >>> layer.compute_output_shape((None, 4, 7, 7, 7))
    (None, 4, 2, 2, 2)
    """

    def __init__(self, output_size, data_format=None, **kwargs):
        super().__init__(
            rank=3,
            pool_mode="average",
            output_size=output_size,
            data_format=data_format,
            **kwargs,
        )

"""MaxPooling1D/2D/3D: the largest value of each window (``BasePooling``)."""

from __future__ import annotations

from lamina.layers.docs import fill_docs
from lamina.layers.pooling.base_pooling import ARGS, BasePooling


@fill_docs(ARGS)
class MaxPooling1D(BasePooling):
    """Max pooling over the steps of ``(batch, steps, features)`` inputs.

    Args:
        {pool_size}
        {strides}
        {max_padding}
        {data_format}
        {kwargs}

    Input shape:
        ``(batch, steps, features)``, or ``(batch, features, steps)`` for
        channels_first.

    Output shape:
        {pool_length}

    Weights:
        None.

    Raises:
        {raises}

    Example:
    >>> import lamina as keras
    >>> x = keras.ops.convert_to_tensor([[[1.0], [2.0], [3.0], [4.0], [5.0]]])
    >>> keras.layers.MaxPooling1D(pool_size=2, strides=1)(x)[0, :, 0].tolist()
    [2.0, 3.0, 4.0, 5.0]
    """

    def __init__(
        self,
        pool_size=2,
        strides=None,
        padding="valid",
        data_format=None,
        name=None,
        **kwargs,
    ):
        super().__init__(
            rank=1,
            pool_mode="max",
            pool_size=pool_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            name=name,
            **kwargs,
        )


@fill_docs(ARGS)
class MaxPooling2D(BasePooling):
    """Max pooling over the rows and columns of images.

    Args:
        {pool_size}
        {strides}
        {max_padding}
        {data_format}
        {kwargs}

    Input shape:
        ``(batch, rows, cols, channels)``, or ``(batch, channels, rows, cols)`` for
        channels_first.

    Output shape:
        {pool_length}

    Weights:
        None.

    Raises:
        {raises}

    Example:
    >>> import lamina as keras
    >>> layer = keras.layers.MaxPooling2D(pool_size=(2, 2), padding="same")
    >>> layer.compute_output_shape((None, 5, 6, 3))
    (None, 3, 3, 3)
    """

    def __init__(
        self,
        pool_size=(2, 2),
        strides=None,
        padding="valid",
        data_format=None,
        name=None,
        **kwargs,
    ):
        super().__init__(
            rank=2,
            pool_mode="max",
            pool_size=pool_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            name=name,
            **kwargs,
        )


@fill_docs(ARGS)
class MaxPooling3D(BasePooling):
    """Max pooling over the three spatial axes of volumes.

    Args:
        {pool_size}
        {strides}
        {max_padding}
        {data_format}
        {kwargs}

    Input shape:
        ``(batch, dim1, dim2, dim3, channels)``, or
        ``(batch, channels, dim1, dim2, dim3)`` for channels_first.

    Output shape:
        {pool_length}

    Weights:
        None.

    Raises:
        {raises}

    Example:
    >>> import lamina as keras
    >>> keras.layers.MaxPooling3D().compute_output_shape((None, 4, 5, 6, 2))
    (None, 2, 2, 3, 2)
    """

    def __init__(
        self,
        pool_size=(2, 2, 2),
        strides=None,
        padding="valid",
        data_format=None,
        name=None,
        **kwargs,
    ):
        super().__init__(
            rank=3,
            pool_mode="max",
            pool_size=pool_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            name=name,
            **kwargs,
        )

"""GlobalAveragePooling1D/2D/3D: the mean over all spatial axes
(``BaseGlobalPooling``)."""

from __future__ import annotations

from lamina.layers.docs import fill_docs
from lamina.layers.pooling.base_global_pooling import ARGS, BaseGlobalPooling


@fill_docs(ARGS)
class GlobalAveragePooling1D(BaseGlobalPooling):
    """Mean over the steps of ``(batch, steps, features)`` inputs.

    With a mask (``(batch, steps)``, e.g. from ``Embedding(mask_zero=True)`` or
    ``Masking``, or passed as ``mask=``), only the kept steps are averaged:
    ``sum(x * mask) / sum(mask)``. A sample with every step masked gives 0 (Keras
    3 gives NaN).

    Args:
        {data_format}
        {keepdims}
        {kwargs}

    Input shape:
        ``(batch, steps, features)``, or ``(batch, features, steps)`` for
        channels_first.

    Output shape:
        {global_shape}

    Weights:
        None.

    Raises:
        {raises}

    Example:
    >>> import lamina as keras
    >>> x = keras.ops.convert_to_tensor([[[1.0, 6.0], [5.0, 2.0]]])
    >>> keras.layers.GlobalAveragePooling1D()(x).tolist()
    [[3.0, 4.0]]
    >>> mask = keras.ops.convert_to_tensor([[True, False]])
    >>> keras.layers.GlobalAveragePooling1D()(x, mask=mask).tolist()
    [[1.0, 6.0]]
    """

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(
            rank=1,
            pool_mode="average",
            data_format=data_format,
            keepdims=keepdims,
            **kwargs,
        )


@fill_docs(ARGS)
class GlobalAveragePooling2D(BaseGlobalPooling):
    """Mean over the rows and columns of images.

    Args:
        {data_format}
        {keepdims}
        {kwargs}

    Input shape:
        ``(batch, rows, cols, channels)``, or ``(batch, channels, rows, cols)`` for
        channels_first.

    Output shape:
        {global_shape}

    Weights:
        None.

    Raises:
        {raises}

    Example:
    >>> import lamina as keras
    >>> layer = keras.layers.GlobalAveragePooling2D(keepdims=True)
    >>> layer.compute_output_shape((None, 7, 7, 16))
    (None, 1, 1, 16)
    """

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(
            rank=2,
            pool_mode="average",
            data_format=data_format,
            keepdims=keepdims,
            **kwargs,
        )


@fill_docs(ARGS)
class GlobalAveragePooling3D(BaseGlobalPooling):
    """Mean over the three spatial axes of volumes.

    Args:
        {data_format}
        {keepdims}
        {kwargs}

    Input shape:
        ``(batch, dim1, dim2, dim3, channels)``, or
        ``(batch, channels, dim1, dim2, dim3)`` for channels_first.

    Output shape:
        {global_shape}

    Weights:
        None.

    Raises:
        {raises}

    Example:
    >>> import lamina as keras
    >>> keras.layers.GlobalAveragePooling3D().compute_output_shape((None, 4, 5, 6, 2))
    (None, 2)
    """

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(
            rank=3,
            pool_mode="average",
            data_format=data_format,
            keepdims=keepdims,
            **kwargs,
        )

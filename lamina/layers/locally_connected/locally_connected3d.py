"""LocallyConnected3D: see ``BaseLocallyConnected`` (base_locally_connected.py)."""

from __future__ import annotations

from lamina.layers.docs import fill_docs
from lamina.layers.locally_connected.base_locally_connected import (
    ARGS,
    BaseLocallyConnected,
)


@fill_docs(ARGS)
class LocallyConnected3D(BaseLocallyConnected):
    """3D convolution with unshared weights: each output voxel has its own filters.

    lamina's addition (tf.keras stopped at 2D), designed as tf.keras's 1D and 2D
    layers: same arguments, config keys and weight layouts, one more axis.

    Args:
        {filters}
        {kernel_size}
        {strides}
        {padding}
        {data_format}
        {activation}
        {use_bias}
        {kernel_args}
        {implementation}
        {kwargs}

    Input shape:
        ``(batch, dim1, dim2, dim3, channels)`` (channels_last) or
        ``(batch, channels, dim1, dim2, dim3)`` (channels_first), all but
        ``batch`` known at build.

    Output shape:
        ``(batch, new_dim1, new_dim2, new_dim3, filters)`` (channels_last) or
        ``(batch, filters, new_dim1, new_dim2, new_dim3)``;
        {length}

    Weights:
        {weights}

    Raises:
        {raises}

    Example:
    >>> import lamina as keras
    >>> layer = keras.layers.LocallyConnected3D(4, 2, implementation="auto")
    >>> tuple(layer(keras.ops.ones((2, 5, 5, 5, 3))).shape)
    (2, 4, 4, 4, 4)
    >>> layer.count_params()  # 64 * 8 * 3 * 4 + 64 * 4
    6400
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        implementation=1,
        **kwargs,
    ):
        super().__init__(
            rank=3,
            filters=filters,
            kernel_size=kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint,
            implementation=implementation,
            **kwargs,
        )

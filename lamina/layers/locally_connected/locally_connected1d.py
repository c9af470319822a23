"""LocallyConnected1D: see ``BaseLocallyConnected`` (base_locally_connected.py)."""

from __future__ import annotations

from lamina.layers.docs import fill_docs
from lamina.layers.locally_connected.base_locally_connected import (
    ARGS,
    BaseLocallyConnected,
)


@fill_docs(ARGS)
class LocallyConnected1D(BaseLocallyConnected):
    """1D convolution with unshared weights: each output step has its own filters.

    tf.keras 2's layer (Keras 3 dropped it): same arguments, configs and weight
    layouts, so its weights load here and give its outputs.

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
        ``(batch, steps, channels)`` (channels_last) or
        ``(batch, channels, steps)`` (channels_first), ``steps`` and ``channels``
        known at build.

    Output shape:
        ``(batch, new_steps, filters)`` (channels_last) or
        ``(batch, filters, new_steps)``;
        {length}

    Weights:
        {weights}

    Raises:
        {raises}

    Example:
    >>> import lamina as keras
    >>> model = keras.Sequential()
    >>> model.add(keras.layers.LocallyConnected1D(64, 3, input_shape=(10, 32)))
    >>> model.output_shape
    (None, 8, 64)
    >>> model.add(keras.layers.LocallyConnected1D(32, 3))
    >>> model.output_shape
    (None, 6, 32)
    >>> model.layers[0].count_params()  # 8 * 3 * 32 * 64 + 8 * 64
    49664
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
            rank=1,
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

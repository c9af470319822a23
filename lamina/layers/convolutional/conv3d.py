"""Conv3D: see ``BaseConv`` (lamina/layers/convolutional/base_conv.py)."""

from __future__ import annotations

from lamina.layers.convolutional.base_conv import BaseConv
from lamina.layers.convolutional.base_spatial import ARGS
from lamina.layers.docs import fill_docs


@fill_docs(ARGS)
class Conv3D(BaseConv):
    """3D convolution over volumes: ``activation(conv(inputs, kernel) + bias)``.

    Args:
        {filters}
        {kernel_size}
        {strides}
        {padding}
        {data_format}
        {dilation_rate}
        {groups}
        {activation}
        {use_bias}
        {kernel_args}
        {lora_args}
        {kwargs}

    Input shape:
        ``(batch, dim1, dim2, dim3, channels)`` (channels_last) or
        ``(batch, channels, dim1, dim2, dim3)`` (channels_first).

    Output shape:
        ``(batch, new_dim1, new_dim2, new_dim3, filters)`` (channels_last) or
        ``(batch, filters, new_dim1, new_dim2, new_dim3)``;
        {conv_length}

    Weights:
        ``kernel`` ``(*kernel_size, channels // groups, filters)``, then ``bias``
        ``(filters,)`` if ``use_bias``.
        {lora_weights}

    Raises:
        {conv_raises}
        ValueError: ``filters`` not divisible by ``groups`` (construction), input
            channels not divisible by ``groups`` (build).
        {lora_raises}

    Example:
    >>> import lamina as keras
    >>> x = keras.ops.ones((4, 6, 6, 6, 3))
    >>> tuple(keras.layers.Conv3D(2, 3)(x).shape)
    (4, 4, 4, 4, 2)
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1, 1),
        padding="valid",
        data_format=None,
        dilation_rate=(1, 1, 1),
        groups=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(
            rank=3,
            filters=filters,
            kernel_size=kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            groups=groups,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint,
            **kwargs,
        )

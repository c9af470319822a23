"""Conv1D: see ``BaseConv`` (lamina/layers/convolutional/base_conv.py)."""

from __future__ import annotations

from lamina.layers.convolutional.base_conv import BaseConv
from lamina.layers.convolutional.base_spatial import ARGS
from lamina.layers.docs import fill_docs


@fill_docs(ARGS)
class Conv1D(BaseConv):
    """1D convolution over sequences: ``activation(conv(inputs, kernel) + bias)``.

    Args:
        {filters}
        {kernel_size}
        {strides}
        {padding_causal}
        {data_format}
        {dilation_rate}
        {groups}
        {activation}
        {use_bias}
        {kernel_args}
        {lora_args}
        {kwargs}

    Input shape:
        ``(batch, steps, channels)`` (channels_last) or
        ``(batch, channels, steps)`` (channels_first).

    Output shape:
        ``(batch, new_steps, filters)`` (channels_last) or
        ``(batch, filters, new_steps)``;
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
    >>> x = keras.ops.ones((4, 10, 3))
    >>> layer = keras.layers.Conv1D(filters=2, kernel_size=4, use_bias=False)
    >>> tuple(layer(x).shape), layer.count_params()
    ((4, 7, 2), 24)
    >>> tuple(keras.layers.Conv1D(2, 4, padding="same")(x).shape)
    (4, 10, 2)
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
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
            rank=1,
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

"""DepthwiseConv1D: see ``BaseDepthwiseConv`` (lamina/layers/convolutional/base_depthwise_conv.py)."""

from __future__ import annotations

from lamina.layers.convolutional.base_depthwise_conv import BaseDepthwiseConv
from lamina.layers.convolutional.base_spatial import ARGS
from lamina.layers.docs import fill_docs


@fill_docs(ARGS)
class DepthwiseConv1D(BaseDepthwiseConv):
    """1D depthwise convolution: each input channel convolved on its own.

    Input channel ``c`` is convolved with ``depth_multiplier`` kernels of its own;
    output channel ``c * depth_multiplier + m`` holds the result of kernel ``m``.
    Channels are not mixed (see SeparableConv1D for that).

    Args:
        {kernel_size}
        {strides}
        {padding}
        {depth_multiplier}
        {data_format}
        {dilation_rate}
        {activation}
        {use_bias}
        {depthwise_args}
        {kwargs}

    Input shape:
        ``(batch, steps, channels)`` (channels_last) or
        ``(batch, channels, steps)`` (channels_first).

    Output shape:
        ``(batch, new_steps, channels * depth_multiplier)`` (channels_last) or
        ``(batch, channels * depth_multiplier, new_steps)``;
        {conv_length}

    Weights:
        ``kernel`` ``(*kernel_size, channels, depth_multiplier)`` (Keras 3's name;
        ``depthwise_kernel`` is an alias), then ``bias``
        ``(channels * depth_multiplier,)`` if ``use_bias``.

    Raises:
        {conv_raises}

    Example:
    >>> import lamina as keras
    >>> x = keras.ops.ones((4, 10, 3))
    >>> tuple(keras.layers.DepthwiseConv1D(3, depth_multiplier=2)(x).shape)
    (4, 8, 6)
    """

    def __init__(
        self,
        kernel_size,
        strides=1,
        padding="valid",
        depth_multiplier=1,
        data_format=None,
        dilation_rate=1,
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(
            rank=1,
            kernel_size=kernel_size,
            strides=strides,
            padding=padding,
            depth_multiplier=depth_multiplier,
            data_format=data_format,
            dilation_rate=dilation_rate,
            activation=activation,
            use_bias=use_bias,
            depthwise_initializer=depthwise_initializer,
            bias_initializer=bias_initializer,
            depthwise_regularizer=depthwise_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            depthwise_constraint=depthwise_constraint,
            bias_constraint=bias_constraint,
            **kwargs,
        )

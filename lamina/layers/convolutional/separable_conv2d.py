"""SeparableConv2D: see ``BaseSeparableConv`` (lamina/layers/convolutional/base_separable_conv.py)."""

from __future__ import annotations

from lamina.layers.convolutional.base_separable_conv import BaseSeparableConv
from lamina.layers.convolutional.base_spatial import ARGS
from lamina.layers.docs import fill_docs


@fill_docs(ARGS)
class SeparableConv2D(BaseSeparableConv):
    """2D depthwise separable convolution: a depthwise, then a pointwise step.

    The depthwise step convolves each input channel with ``depth_multiplier``
    kernels of its own (as DepthwiseConv2D); the pointwise step mixes those
    ``channels * depth_multiplier`` channels into ``filters`` with a 1x1 convolution.

    Args:
        {filters}
        {kernel_size}
        {strides}
        {padding}
        {data_format}
        {dilation_rate}
        {depth_multiplier}
        {activation}
        {use_bias}
        {separable_args}
        {kwargs}

    Input shape:
        ``(batch, rows, cols, channels)`` (channels_last) or
        ``(batch, channels, rows, cols)`` (channels_first).

    Output shape:
        ``(batch, new_rows, new_cols, filters)`` (channels_last) or
        ``(batch, filters, new_rows, new_cols)``;
        {conv_length}

    Weights:
        ``depthwise_kernel`` ``(*kernel_size, channels, depth_multiplier)``,
        ``pointwise_kernel`` ``(1, 1, channels * depth_multiplier, filters)``,
        then ``bias`` ``(filters,)`` if ``use_bias``.

    Raises:
        {conv_raises}

    Example:
    >>> import lamina as keras
    >>> x = keras.ops.ones((4, 10, 10, 3))
    >>> tuple(keras.layers.SeparableConv2D(8, 3, padding="same")(x).shape)
    (4, 10, 10, 8)
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        data_format=None,
        dilation_rate=(1, 1),
        depth_multiplier=1,
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        pointwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        pointwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        pointwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(
            rank=2,
            filters=filters,
            kernel_size=kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            depth_multiplier=depth_multiplier,
            activation=activation,
            use_bias=use_bias,
            depthwise_initializer=depthwise_initializer,
            pointwise_initializer=pointwise_initializer,
            bias_initializer=bias_initializer,
            depthwise_regularizer=depthwise_regularizer,
            pointwise_regularizer=pointwise_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            depthwise_constraint=depthwise_constraint,
            pointwise_constraint=pointwise_constraint,
            bias_constraint=bias_constraint,
            **kwargs,
        )

"""SeparableConv1D: see ``BaseSeparableConv`` (lamina/layers/convolutional/base_separable_conv.py)."""

from __future__ import annotations

from lamina.layers.convolutional.base_separable_conv import BaseSeparableConv
from lamina.layers.convolutional.base_spatial import ARGS
from lamina.layers.docs import fill_docs


@fill_docs(ARGS)
class SeparableConv1D(BaseSeparableConv):
    """1D depthwise separable convolution: a depthwise, then a pointwise step.

    The depthwise step convolves each input channel with ``depth_multiplier``
    kernels of its own (as DepthwiseConv1D); the pointwise step mixes those
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
        ``(batch, steps, channels)`` (channels_last) or
        ``(batch, channels, steps)`` (channels_first).

    Output shape:
        ``(batch, new_steps, filters)`` (channels_last) or
        ``(batch, filters, new_steps)``;
        {conv_length}

    Weights:
        ``depthwise_kernel`` ``(*kernel_size, channels, depth_multiplier)``,
        ``pointwise_kernel`` ``(1, channels * depth_multiplier, filters)``,
        then ``bias`` ``(filters,)`` if ``use_bias``.

    Raises:
        {conv_raises}

    Example:
    >>> import lamina as keras
    >>> x = keras.ops.ones((4, 10, 3))
    >>> layer = keras.layers.SeparableConv1D(2, 4, use_bias=False, depth_multiplier=1)
    >>> tuple(layer(x).shape), layer.count_params()
    ((4, 7, 2), 18)
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
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
            rank=1,
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

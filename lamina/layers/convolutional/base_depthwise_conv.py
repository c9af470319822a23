"""``BaseDepthwiseConv(rank)``: the depthwise convolution behind DepthwiseConv1D
and DepthwiseConv2D."""

from __future__ import annotations

from lamina import constraints, initializers, regularizers
from lamina.layers.convolutional.base_spatial import BaseSpatialConv
from lamina.ops import convolution as conv_ops
from lamina.saving.serialization import serialize_keras_object as serialize
from lamina.utils.validation import check_int


class BaseDepthwiseConv(BaseSpatialConv):
    """Each input channel convolved with its own ``depth_multiplier`` kernels;
    output channel ``c * depth_multiplier + m`` comes from input channel ``c``.

    Weights (Keras 3 names): ``kernel`` ``(*kernel_size, in_channels,
    depth_multiplier)``, then ``bias`` ``(in_channels * depth_multiplier,)``.
    ``depthwise_kernel`` (the Keras 2 name) is the same weight.
    """

    def __init__(
        self,
        *,
        rank,
        depth_multiplier,
        kernel_size,
        strides=1,
        padding="valid",
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
            rank=rank,
            kernel_size=kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            activation=activation,
            use_bias=use_bias,
            bias_initializer=bias_initializer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            bias_constraint=bias_constraint,
            **kwargs,
        )
        self.depth_multiplier = check_int(
            self, "depth_multiplier", depth_multiplier, minimum=1
        )
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)

    def build(self, input_shape):
        channels = self._check_input(input_shape)
        self.kernel = self.add_weight(
            shape=(*self.kernel_size, channels, self.depth_multiplier),
            initializer=self.depthwise_initializer,
            regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint,
            name="kernel",
        )
        self.bias = self._bias_weight(channels * self.depth_multiplier)

    @property
    def depthwise_kernel(self):
        return self.kernel

    def _output_channels(self, input_channels):
        if input_channels is None:
            return None
        return input_channels * self.depth_multiplier

    def call(self, inputs):
        outputs = conv_ops.depthwise_conv(
            inputs,
            self.kernel,
            self.strides,
            self.padding,
            self.data_format,
            self.dilation_rate,
            self.bias,
        )
        return self._activate(outputs)

    def get_config(self):
        return {
            **super().get_config(),
            "depth_multiplier": self.depth_multiplier,
            "depthwise_initializer": serialize(self.depthwise_initializer),
            "depthwise_regularizer": serialize(self.depthwise_regularizer),
            "depthwise_constraint": serialize(self.depthwise_constraint),
        }

"""``BaseDepthwiseConv(rank)``: the depthwise convolution behind DepthwiseConv1D
and DepthwiseConv2D."""

from __future__ import annotations

from lamina.layers.convolutional.base_spatial import BaseSpatialConv
from lamina.layers.weight_options import (
    set_weight_options,
    weight_options,
    weight_options_config,
)
from lamina.ops import convolution as conv_ops
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
        depth_multiplier,
        depthwise_initializer="glorot_uniform",
        depthwise_regularizer=None,
        depthwise_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.depth_multiplier = check_int(
            self, "depth_multiplier", depth_multiplier, minimum=1
        )
        set_weight_options(
            self,
            "depthwise",
            depthwise_initializer,
            depthwise_regularizer,
            depthwise_constraint,
        )

    def build(self, input_shape):
        channels = self._check_input(input_shape)
        self.kernel = self.add_weight(
            shape=(*self.kernel_size, channels, self.depth_multiplier),
            name="kernel",
            **weight_options(self, "depthwise"),
        ).lay_out(conv_ops.kernel_memory_order(self.rank, True, depthwise=True))
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
            **weight_options_config(self, "depthwise"),
        }

"""``BaseSeparableConv(rank)``: the depthwise separable convolution behind
SeparableConv1D and SeparableConv2D."""

from __future__ import annotations

from lamina.layers.convolutional.base_spatial import BaseSpatialConv
from lamina.layers.weight_options import (
    set_weight_options,
    weight_options,
    weight_options_config,
)
from lamina.ops import convolution as conv_ops
from lamina.utils.validation import check_int


class BaseSeparableConv(BaseSpatialConv):
    """A depthwise convolution (``depth_multiplier`` kernels per input channel)
    followed by a pointwise (1x1) convolution to ``filters`` channels.

    Weights: ``depthwise_kernel`` ``(*kernel_size, in_channels,
    depth_multiplier)``, ``pointwise_kernel`` ``(1, ..., 1, in_channels *
    depth_multiplier, filters)``, then ``bias`` ``(filters,)`` if ``use_bias``.
    """

    def __init__(
        self,
        *,
        depth_multiplier,
        filters,
        depthwise_initializer="glorot_uniform",
        pointwise_initializer="glorot_uniform",
        depthwise_regularizer=None,
        pointwise_regularizer=None,
        depthwise_constraint=None,
        pointwise_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.depth_multiplier = check_int(
            self, "depth_multiplier", depth_multiplier, minimum=1
        )
        self.filters = check_int(self, "filters", filters, minimum=1)
        set_weight_options(
            self,
            "depthwise",
            depthwise_initializer,
            depthwise_regularizer,
            depthwise_constraint,
        )
        set_weight_options(
            self,
            "pointwise",
            pointwise_initializer,
            pointwise_regularizer,
            pointwise_constraint,
        )

    def build(self, input_shape):
        channels = self._check_input(input_shape)
        self.depthwise_kernel = self.add_weight(
            shape=(*self.kernel_size, channels, self.depth_multiplier),
            name="depthwise_kernel",
            **weight_options(self, "depthwise"),
        ).lay_out(conv_ops.kernel_memory_order(self.rank, True, depthwise=True))
        self.pointwise_kernel = self.add_weight(
            shape=(*(1,) * self.rank, channels * self.depth_multiplier, self.filters),
            name="pointwise_kernel",
            **weight_options(self, "pointwise"),
        ).lay_out(conv_ops.kernel_memory_order(self.rank, self._channels_last))
        self.bias = self._bias_weight(self.filters)

    def call(self, inputs):
        outputs = conv_ops.separable_conv(
            inputs,
            self.depthwise_kernel,
            self.pointwise_kernel,
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
            "filters": self.filters,
            **weight_options_config(self, "depthwise", "pointwise"),
        }

"""``BaseSeparableConv(rank)``: the depthwise separable convolution behind
SeparableConv1D and SeparableConv2D."""

from __future__ import annotations

from lamina import constraints, initializers, regularizers
from lamina.layers.convolutional.base_spatial import BaseSpatialConv
from lamina.ops import convolution as conv_ops
from lamina.saving.serialization import serialize_keras_object as serialize
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
        rank,
        depth_multiplier,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
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
        self.filters = check_int(self, "filters", filters, minimum=1)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.pointwise_constraint = constraints.get(pointwise_constraint)

    def build(self, input_shape):
        channels = self._check_input(input_shape)
        self.depthwise_kernel = self.add_weight(
            shape=(*self.kernel_size, channels, self.depth_multiplier),
            initializer=self.depthwise_initializer,
            regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint,
            name="depthwise_kernel",
        )
        self.pointwise_kernel = self.add_weight(
            shape=(*(1,) * self.rank, channels * self.depth_multiplier, self.filters),
            initializer=self.pointwise_initializer,
            regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint,
            name="pointwise_kernel",
        )
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
            "depthwise_initializer": serialize(self.depthwise_initializer),
            "pointwise_initializer": serialize(self.pointwise_initializer),
            "depthwise_regularizer": serialize(self.depthwise_regularizer),
            "pointwise_regularizer": serialize(self.pointwise_regularizer),
            "depthwise_constraint": serialize(self.depthwise_constraint),
            "pointwise_constraint": serialize(self.pointwise_constraint),
        }

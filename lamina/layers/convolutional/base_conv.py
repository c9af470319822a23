"""``BaseConv(rank)``: the N-D convolution behind Conv1D, Conv2D and Conv3D."""

from __future__ import annotations

from lamina import constraints, initializers, regularizers
from lamina.layers.convolutional.base_spatial import BaseSpatialConv
from lamina.ops import convolution as conv_ops
from lamina.saving.serialization import serialize_keras_object as serialize
from lamina.utils.validation import arg_error, check_int, shape_error


class BaseConv(BaseSpatialConv):
    """``activation(conv(inputs, kernel) + bias)`` over ``rank`` spatial axes.

    Weights: ``kernel`` ``(*kernel_size, in_channels // groups, filters)``, then
    ``bias`` ``(filters,)`` if ``use_bias``. ``padding="causal"`` exists for
    ``rank == 1`` only.
    """

    def __init__(
        self,
        *,
        rank,
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
            allow_causal=rank == 1,
            **kwargs,
        )
        self.filters = check_int(self, "filters", filters, minimum=1)
        self.groups = check_int(self, "groups", groups, minimum=1)
        if self.filters % self.groups:
            raise arg_error(
                self, "filters", f"divisible by `groups`={self.groups}", filters
            )
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)

    def build(self, input_shape):
        channels = self._check_input(input_shape)
        if channels % self.groups:
            raise shape_error(
                self,
                f"input channels divisible by `groups`={self.groups}",
                tuple(input_shape),
            )
        self.kernel = self.add_weight(
            shape=(*self.kernel_size, channels // self.groups, self.filters),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
            name="kernel",
        )
        self.bias = self._bias_weight(self.filters)

    def call(self, inputs):
        outputs = conv_ops.conv(
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
            "filters": self.filters,
            "groups": self.groups,
            "kernel_initializer": serialize(self.kernel_initializer),
            "kernel_regularizer": serialize(self.kernel_regularizer),
            "kernel_constraint": serialize(self.kernel_constraint),
        }

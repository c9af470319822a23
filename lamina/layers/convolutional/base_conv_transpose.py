"""``BaseConvTranspose(rank)``: the transposed convolution behind
Conv1DTranspose, Conv2DTranspose and Conv3DTranspose."""

from __future__ import annotations

from lamina import constraints, initializers, regularizers
from lamina.layers.convolutional.base_spatial import BaseSpatialConv
from lamina.ops import convolution as conv_ops
from lamina.ops import shapes
from lamina.saving.serialization import serialize_keras_object as serialize
from lamina.utils.validation import arg_error, check_int, normalize_tuple


class BaseConvTranspose(BaseSpatialConv):
    """``activation(conv_transpose(inputs, kernel) + bias)``: TensorFlow's
    transposed convolution (the adjoint of the convolution with the same
    arguments), with Keras's output sizes.

    Weights: ``kernel`` ``(*kernel_size, filters, in_channels)``, then ``bias``
    ``(filters,)`` if ``use_bias``.
    """

    def __init__(
        self,
        *,
        rank,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        output_padding=None,
        data_format=None,
        dilation_rate=1,
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
            **kwargs,
        )
        self.filters = check_int(self, "filters", filters, minimum=1)
        self.output_padding = None
        if output_padding is not None:
            self.output_padding = normalize_tuple(
                self, "output_padding", output_padding, rank, minimum=0
            )
            if any(p >= s for p, s in zip(self.output_padding, self.strides)):
                raise arg_error(
                    self,
                    "output_padding",
                    f"less than `strides`={self.strides} on every axis",
                    output_padding,
                )
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)

    def build(self, input_shape):
        channels = self._check_input(input_shape)
        self.kernel = self.add_weight(
            shape=(*self.kernel_size, self.filters, channels),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
            name="kernel",
        )
        self.bias = self._bias_weight(self.filters)

    def _output_length(self, n, axis: int):
        return shapes.deconv_output_length(
            n,
            self.kernel_size[axis],
            self.padding,
            None if self.output_padding is None else self.output_padding[axis],
            self.strides[axis],
            self.dilation_rate[axis],
        )

    def call(self, inputs):
        outputs = conv_ops.conv_transpose(
            inputs,
            self.kernel,
            self.strides,
            self.padding,
            self.output_padding,
            self.data_format,
            self.dilation_rate,
            self.bias,
        )
        return self._activate(outputs)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "output_padding": self.output_padding,
            "kernel_initializer": serialize(self.kernel_initializer),
            "kernel_regularizer": serialize(self.kernel_regularizer),
            "kernel_constraint": serialize(self.kernel_constraint),
        }

"""``BaseConvTranspose(rank)``: the transposed convolution behind
Conv1DTranspose, Conv2DTranspose and Conv3DTranspose."""

from __future__ import annotations

from lamina.layers.convolutional.base_spatial import BaseSpatialConv
from lamina.layers.weight_options import (
    set_weight_options,
    weight_options,
    weight_options_config,
)
from lamina.ops import convolution as conv_ops
from lamina.ops import shapes
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
        filters,
        output_padding=None,
        kernel_initializer="glorot_uniform",
        kernel_regularizer=None,
        kernel_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = check_int(self, "filters", filters, minimum=1)
        self.output_padding = None
        if output_padding is not None:
            self.output_padding = normalize_tuple(
                self, "output_padding", output_padding, self.rank, minimum=0
            )
            if any(p >= s for p, s in zip(self.output_padding, self.strides)):
                raise arg_error(
                    self,
                    "output_padding",
                    f"less than `strides`={self.strides} on every axis",
                    output_padding,
                )
        set_weight_options(
            self, "kernel", kernel_initializer, kernel_regularizer, kernel_constraint
        )

    def build(self, input_shape):
        channels = self._check_input(input_shape)
        self.kernel = self.add_weight(
            shape=(*self.kernel_size, self.filters, channels),
            name="kernel",
            **weight_options(self, "kernel"),
        )
        if any(k > 1 for k in self.kernel_size):
            # torch 2.13's oneDNN transposed convolution corrupts memory in the
            # backward of a unit kernel laid out this way (see
            # ``_onednn_unit_kernel_bug``): such kernels keep Keras's layout.
            self.kernel.lay_out(
                conv_ops.kernel_memory_order(self.rank, self._channels_last)
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
            **weight_options_config(self, "kernel"),
        }

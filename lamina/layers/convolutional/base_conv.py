"""``BaseConv(rank)``: the N-D convolution behind Conv1D, Conv2D and Conv3D."""

from __future__ import annotations

import functools

from lamina import activations
from lamina.layers.convolutional.base_spatial import BaseSpatialConv
from lamina.layers.core.lora import LoRAMixin
from lamina.layers.weight_options import (
    set_weight_options,
    weight_options,
    weight_options_config,
)
from lamina.ops import convolution as conv_ops
from lamina.utils.validation import arg_error, check_int, shape_error


class BaseConv(LoRAMixin, BaseSpatialConv):
    """``activation(conv(inputs, kernel) + bias)`` over ``rank`` spatial axes.

    Weights: ``kernel`` ``(*kernel_size, in_channels // groups, filters)``, then
    ``bias`` ``(filters,)`` if ``use_bias``; with LoRA (``lora_rank``, or
    ``enable_lora``) then ``lora_kernel_a`` ``(*kernel_size, in_channels //
    groups, rank)`` and ``lora_kernel_b`` ``(rank, filters)``, ``kernel`` frozen:
    the convolution runs with ``kernel + (lora_alpha / rank) * lora_kernel_a @
    lora_kernel_b`` (Keras 3's rule; ``layer.kernel`` stays the frozen base, where
    Keras returns the merged kernel). ``padding="causal"`` exists for ``rank ==
    1`` only.
    """

    def __init__(
        self,
        *,
        rank,
        filters,
        groups=1,
        kernel_initializer="glorot_uniform",
        kernel_regularizer=None,
        kernel_constraint=None,
        lora_rank=None,
        lora_alpha=None,
        **kwargs,
    ):
        super().__init__(rank=rank, allow_causal=rank == 1, **kwargs)
        self._init_lora(lora_rank, lora_alpha)
        self.filters = check_int(self, "filters", filters, minimum=1)
        self.groups = check_int(self, "groups", groups, minimum=1)
        if self.filters % self.groups:
            raise arg_error(
                self, "filters", f"divisible by `groups`={self.groups}", filters
            )
        set_weight_options(
            self, "kernel", kernel_initializer, kernel_regularizer, kernel_constraint
        )

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
            name="kernel",
            **weight_options(self, "kernel"),
        ).lay_out(conv_ops.kernel_memory_order(self.rank, self._channels_last))
        self.bias = self._bias_weight(self.filters)
        self._build_lora()

    def call(self, inputs):
        kernel = self.kernel
        if self.lora_enabled:
            a, b = self._lora_factors()
            kernel = kernel + self._lora_scale * (a @ b)
        outputs = conv_ops.conv(
            inputs,
            kernel,
            self.strides,
            self.padding,
            self.data_format,
            self.dilation_rate,
            self.bias,
        )
        return self._activate(outputs)

    def _plan_runner(self, input_shape, training, torch_layout=False):
        if self.lora_enabled:
            return super()._plan_runner(input_shape, training)
        kernel, bias = self.kernel, self.bias
        run = conv_ops.conv_runner(
            input_shape,
            kernel.shape,
            self.strides,
            self.padding,
            self._channels_last,
            self.dilation_rate,
            torch_layout,
        )
        activation = activations.torch_form(self.activation)
        if activation is None:
            return functools.partial(run, kernel=kernel, bias=bias)
        return lambda x: activation(run(x, kernel, bias))

    def _torch_layout_rank(self, input_shape):
        if self.lora_enabled or not self._channels_last or self.rank == 1:
            return None
        return self.rank

    def _torch_layout_runner(self, input_shape, training, guard):
        return self._plan_runner(input_shape, training, torch_layout=True)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "groups": self.groups,
            **weight_options_config(self, "kernel"),
            **self._lora_config(),
        }

"""Dense: ``activation(inputs @ kernel + bias)`` over the last axis."""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F

from lamina import activations
from lamina.layers.core.lora import LoRAMixin
from lamina.layers.core.quantized import QuantizedMixin, fast_abs_max
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer
from lamina.layers.weight_options import (
    set_weight_options,
    weight_options,
    weight_options_config,
)
from lamina.quantizers import AbsMaxQuantizer, QuantizationConfig
from lamina.saving import serialization
from lamina.utils.validation import check_int


class Dense(QuantizedMixin, LoRAMixin, Layer):
    """Densely-connected layer: ``output = activation(dot(input, kernel) + bias)``.

    Args:
        units: positive int, size of the last output axis.
        activation: activation name or function (default: none, i.e. linear).
        use_bias: whether to add ``bias``.
        kernel_initializer, bias_initializer: default ``glorot_uniform``, ``zeros``.
        kernel_regularizer, bias_regularizer, activity_regularizer: optional.
        kernel_constraint, bias_constraint: optional, applied after updates.
        lora_rank: if set, ``enable_lora(lora_rank, lora_alpha)`` once built.
        lora_alpha: LoRA scale numerator (default ``lora_rank``).
        quantization_config: a ``keras.quantizers.QuantizationConfig`` (or
            its dict): used by a quantized layer (``quantize("int8")``, or a
            ``dtype`` such as ``"int8_from_float32"`` when loading).

    Input shape:
        N-D ``(batch_size, ..., input_dim)``, N >= 2.

    Output shape:
        ``(batch_size, ..., units)``: the last axis is replaced.

    Weights:
        ``kernel`` ``(input_dim, units)``, then ``bias`` ``(units,)`` if ``use_bias``;
        with LoRA then ``lora_kernel_a`` ``(input_dim, rank)`` and
        ``lora_kernel_b`` ``(rank, units)``, ``kernel`` frozen. The layer computes
        with ``kernel + (lora_alpha / rank) * lora_kernel_a @ lora_kernel_b`` (as
        ``x @ kernel + scale * (x @ a) @ b``); ``layer.kernel`` stays the frozen
        base weight (Keras returns the merged one). Quantized to int8
        (``lamina.layers.core.quantized``): ``bias``, then ``kernel`` int8
        ``(input_dim, units)`` and ``kernel_scale`` ``(units,)``, both frozen;
        the output is ``(q(x) @ kernel) / (x_scale * kernel_scale)``.

    Raises:
        ValueError: ``units`` not a positive int; input of rank < 2; input whose
            last axis differs from the one the layer was built for;
            ``enable_lora`` before build, twice, or with a ``kernel_constraint``.

    Example:
    >>> import lamina as keras
    >>> layer = keras.layers.Dense(32)
    >>> tuple(layer(keras.ops.ones((4, 16))).shape)
    (4, 32)
    """

    def __init__(
        self,
        units,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        lora_rank=None,
        lora_alpha=None,
        quantization_config=None,
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = check_int(self, "units", units, minimum=1)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        set_weight_options(
            self, "kernel", kernel_initializer, kernel_regularizer, kernel_constraint
        )
        set_weight_options(
            self, "bias", bias_initializer, bias_regularizer, bias_constraint
        )
        self._init_quantization(quantization_config)
        self._init_lora(lora_rank, lora_alpha)
        self.input_spec = InputSpec(min_ndim=2)
        self.supports_masking = True

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if self.quantization_mode is not None:
            self._quantized_build((input_dim, self.units))
        else:
            self.kernel = self.add_weight(
                shape=(input_dim, self.units),
                name="kernel",
                **weight_options(self, "kernel"),
            )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(self.units,), name="bias", **weight_options(self, "bias")
            )
        self.input_spec = InputSpec(min_ndim=2, axes={-1: input_dim})
        self._build_lora()

    def call(self, inputs):
        if self._is_quantized:
            return self._int8_call(inputs)
        if inputs.ndim == 2 and self.bias is not None:  # addmm: one fused kernel
            outputs = torch.addmm(self.bias, inputs, self.kernel)
        else:
            outputs = F.linear(inputs, self.kernel.T, self.bias)
        if self.lora_enabled:
            low_rank = (inputs @ self.lora_kernel_a) @ self.lora_kernel_b
            outputs = outputs + self._lora_scale * low_rank
        return activations.apply(self.activation, outputs)

    def _plan_runner(self, input_shape, training):
        if (
            self._is_quantized
            or self.lora_enabled
            or len(input_shape) != 2
            or self.bias is None
        ):
            return super()._plan_runner(input_shape, training)
        kernel, bias = self.kernel, self.bias
        activation = activations.torch_form(self.activation)
        if activation is None:
            return functools.partial(torch.addmm, bias, mat2=kernel)
        return lambda x: activation(torch.addmm(bias, x, kernel))

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape)[:-1], self.units)

    # ------------------------------------------------------------ int8
    def _int8_build(self, kernel_shape, config) -> None:
        self.inputs_quantizer = QuantizationConfig.activation_quantizer_or_default(
            config, AbsMaxQuantizer()
        )
        self.kernel = self.add_weight(
            shape=kernel_shape,
            initializer=torch.zeros(kernel_shape, dtype=torch.int8),
            dtype="int8",
            trainable=False,
            name="kernel",
        )
        self.kernel_scale = self.add_weight(
            shape=(self.units,),
            initializer="ones",
            trainable=False,
            name="kernel_scale",
        )

    def _int8_weight_axes(self):
        return 0

    def _int8_scale_for_storage(self, scale):
        return scale.squeeze(0)

    def _int8_dequantized(self):
        return self.kernel.to(self.kernel_scale.dtype) / self.kernel_scale

    def _int8_product(self, inputs):
        kernel = self.kernel.to(inputs.dtype)
        if self.inputs_quantizer is None:  # weights-only int8
            return (inputs @ kernel) / self.kernel_scale
        q, scale = fast_abs_max(self.inputs_quantizer, inputs, -1)
        return (q @ kernel) / (self.kernel_scale * scale)

    def _int8_input_grad(self, grad):
        return grad @ self._int8_dequantized().to(grad.dtype).T

    def _int8_call(self, inputs):
        outputs = self._int8_forward(inputs)
        if self.lora_enabled:
            low_rank = (inputs @ self.lora_kernel_a) @ self.lora_kernel_b
            outputs = outputs + self._lora_scale * low_rank
        if self.bias is not None:
            outputs = outputs + self.bias
        return activations.apply(self.activation, outputs)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            **weight_options_config(self, "kernel", "bias"),
            "quantization_config": serialization.serialize_keras_object(
                self.quantization_config
            ),
            **self._lora_config(),
        }


Dense._quantizable_class = Dense

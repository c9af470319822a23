"""EinsumDense: a dense layer of any rank, ``einsum(equation, inputs, kernel)``.

Equations that are one matrix product over trailing axes (``"abc,cde->abde"``,
``"...b,bc->...c"``: the projections of multi-head attention, Dense) run as
``F.linear`` on reshaped views with the bias fused (one ``addmm``); the others
run through ``torch.einsum``. Shapes follow Keras 3 (einsum_equation.py).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from lamina import activations, initializers
from lamina.layers.core import einsum_equation, einsum_quantization
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
from lamina.utils.validation import arg_error, check_int


class EinsumDense(QuantizedMixin, LoRAMixin, Layer):
    """A dense layer whose product is an einsum ``equation`` (any rank).

    Args:
        equation: ``"I,W->O"`` (input, weight, output letters), ``"...I,W->...O"``
            or ``"I...,W->O..."``, e.g. ``"ab,bc->ac"`` (Dense),
            ``"abc,cde->abde"`` (a projection to heads).
        output_shape: int or tuple: the output sizes after the batch axis and
            outside the ellipsis; None where the input gives the size.
        activation: name or function applied to the output (default: none).
        bias_axes: output letters with a bias (default None: no bias); the bias
            spans the output from the first of them to the end, size 1 on the
            letters not named.
        kernel_initializer, bias_initializer: default ``"glorot_uniform"``,
            ``"zeros"``. A VarianceScaling initializer without axes counts fans
            on the kernel's input and output letters, as Keras does.
        kernel_regularizer, bias_regularizer, activity_regularizer: optional.
        kernel_constraint, bias_constraint: optional, applied after updates.
        lora_rank: if set, ``enable_lora(lora_rank, lora_alpha)`` once built.
        lora_alpha: LoRA scale numerator (default ``lora_rank``).
        gptq_unpacked_column_size: Keras's GPTQ bookkeeping; must be None
            (lamina quantizes to int8 only).
        quantization_config: a ``keras.quantizers.QuantizationConfig`` (or
            its dict), used once the layer is quantized.
        **kwargs: ``name``, ``dtype``, ``trainable``, ... (see ``Layer``).

    Input shape:
        The rank of the equation's input (at least, with an ellipsis), fixed
        once built.

    Output shape:
        ``(batch_size, *output_shape)`` with the ellipsis axes in their place.

    Weights:
        ``kernel`` with one axis per weight letter (its size from the output or
        the input), then ``bias`` if ``bias_axes``; with LoRA ``lora_kernel_a``
        ``(*kernel.shape[:-1], rank)`` and ``lora_kernel_b`` ``(rank,
        kernel.shape[-1])``, ``kernel`` frozen (``layer.kernel`` stays the base
        weight; Keras returns the merged one). Quantized to int8: ``kernel``
        int8 of the same shape and ``kernel_scale`` (the per-output-channel
        scales in Keras's output-aligned layout, e.g. ``(1, units)`` for
        ``"ab,bc->ac"``), after ``bias``, both frozen.

    Raises:
        ValueError: an equation of another form, letters that come from nowhere,
            ``bias_axes`` outside the output; at build, an input whose rank or
            sizes disagree with the equation and ``output_shape``.

    Example:
    >>> import lamina as keras
    >>> layer = keras.layers.EinsumDense("abc,cde->abde", (None, 4, 8), bias_axes="de")
    >>> tuple(layer(keras.ops.ones((2, 7, 16))).shape)
    (2, 7, 4, 8)
    >>> [tuple(w.shape) for w in layer.weights]
    [(16, 4, 8), (4, 8)]
    """

    def __init__(
        self,
        equation,
        output_shape,
        activation=None,
        bias_axes=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        lora_rank=None,
        lora_alpha=None,
        gptq_unpacked_column_size=None,
        quantization_config=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        einsum_equation.check_equation(self, equation, bias_axes)
        self.equation = equation
        self.partial_output_shape = self._check_output_shape(output_shape)
        self.bias_axes = bias_axes
        self.activation = activations.get(activation)
        set_weight_options(
            self, "kernel", kernel_initializer, kernel_regularizer, kernel_constraint
        )
        set_weight_options(
            self, "bias", bias_initializer, bias_regularizer, bias_constraint
        )
        if gptq_unpacked_column_size is not None:
            raise arg_error(
                self,
                "gptq_unpacked_column_size",
                "None (lamina quantizes to int8 only, not GPTQ)",
                gptq_unpacked_column_size,
            )
        self._init_quantization(quantization_config)
        self._init_lora(lora_rank, lora_alpha)
        self._plan = None

    def _check_output_shape(self, output_shape) -> tuple:
        shape = (output_shape,) if isinstance(output_shape, int) else output_shape
        try:
            shape = tuple(shape)
            for size in shape:
                if size is not None:
                    check_int(self, "output_shape", size, minimum=1)
        except (TypeError, ValueError):
            raise arg_error(
                self,
                "output_shape",
                "an int or a tuple of positive ints and None",
                output_shape,
            ) from None
        return shape

    def build(self, input_shape):
        spec = einsum_equation.analyze(
            self.equation,
            self.bias_axes,
            input_shape,
            self.partial_output_shape,
            owner=self,
        )
        self.input_spec = InputSpec(ndim=len(input_shape))
        if self.quantization_mode is not None:
            self._quantized_build(spec.kernel_shape)
        else:
            self.kernel = self.add_weight(
                shape=spec.kernel_shape,
                name="kernel",
                **{
                    **weight_options(self, "kernel"),
                    "initializer": self._kernel_initializer_for(spec),
                },
            )
        self.bias = None
        if spec.bias_shape is not None:
            self.bias = self.add_weight(
                shape=spec.bias_shape, name="bias", **weight_options(self, "bias")
            )
        self._plan = einsum_equation.linear_plan(self.equation, spec)
        self._build_lora()

    def _kernel_initializer_for(self, spec):
        """Keras counts a multi-axis kernel's fans on its input and output
        letters (a VarianceScaling initializer given no axes of its own)."""
        init = self.kernel_initializer
        if not isinstance(init, initializers.VarianceScaling) or (
            init.input_axes is not None and init.output_axes is not None
        ):
            return init
        config = {
            **init.get_config(),
            "input_axes": list(spec.input_axes),
            "output_axes": list(spec.output_axes),
        }
        return type(init).from_config(config)

    def call(self, inputs):
        if self._is_quantized:
            return self._int8_call(inputs)
        kernel = self.kernel
        if self.lora_enabled:
            a, b = self._lora_factors()
            kernel = kernel + self._lora_scale * (a @ b)
        plan = self._plan
        if plan is None:
            outputs = torch.einsum(self.equation, inputs, kernel)
            if self.bias is not None:
                outputs = outputs + self.bias
        else:
            outputs = self._linear_call(inputs, kernel, plan)
        return activations.apply(self.activation, outputs)

    def _linear_call(self, inputs, kernel, plan):
        """``F.linear`` over the trailing ``plan.contracted`` axes."""
        x = inputs.flatten(-plan.contracted) if plan.contracted > 1 else inputs
        bias = self.bias
        if bias is not None and plan.fused_bias:
            if not plan.full_bias:
                bias = bias.expand(plan.produced)
            bias = bias.reshape(-1)
        outputs = F.linear(
            x, kernel.reshape(plan.matrix).T, bias if plan.fused_bias else None
        )
        if len(plan.produced) > 1:
            outputs = outputs.unflatten(-1, plan.produced)
        if bias is not None and not plan.fused_bias:
            outputs = outputs + bias
        return outputs

    # ------------------------------------------------------------ int8
    def _int8_build(self, kernel_shape, config) -> None:
        self._quant = einsum_quantization.analyze(self.equation, self.input_spec.ndim)
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
        keepdims = [
            1 if axis in self._quant.kernel.reduced else size
            for axis, size in enumerate(kernel_shape)
        ]
        scale_shape = self._quant.kernel.for_output(
            torch.empty(keepdims, device="meta")
        )
        self.kernel_scale = self.add_weight(
            shape=scale_shape.shape,
            initializer="ones",
            trainable=False,
            name="kernel_scale",
        )

    def _int8_weight_axes(self):
        if not hasattr(self, "_quant"):
            self._quant = einsum_quantization.analyze(
                self.equation, self.input_spec.ndim
            )
        return self._quant.kernel.reduced

    def _int8_scale_for_storage(self, scale):
        return self._quant.kernel.for_output(scale)

    def _int8_dequantized(self):
        scale = self._quant.kernel.for_operand(self.kernel_scale)
        return self.kernel.to(scale.dtype) / scale

    def _int8_product(self, inputs):
        if self.inputs_quantizer is None:  # weights-only int8
            kernel = self._int8_dequantized().to(inputs.dtype)
            return torch.einsum(self.equation, inputs, kernel)
        layout = self._quant.inputs
        q, scale = fast_abs_max(self.inputs_quantizer, inputs, layout.reduced)
        outputs = torch.einsum(self.equation, q, self.kernel.to(inputs.dtype))
        return outputs / (layout.for_output(scale) * self.kernel_scale)

    def _int8_input_grad(self, grad):
        kernel = self._int8_dequantized().to(grad.dtype)
        return torch.einsum(self._quant.gradient_equation, grad, kernel)

    def _int8_call(self, inputs):
        outputs = self._int8_forward(inputs)
        if self.lora_enabled:
            a, b = self._lora_factors()
            low_rank = torch.einsum(self.equation, inputs, a) @ b
            outputs = outputs + self._lora_scale * low_rank
        if self.bias is not None:
            outputs = outputs + self.bias
        return activations.apply(self.activation, outputs)

    def compute_output_shape(self, input_shape):
        spec = einsum_equation.analyze(
            self.equation,
            self.bias_axes,
            input_shape,
            self.partial_output_shape,
            owner=self,
        )
        return spec.output_shape

    def get_config(self):
        return {
            **super().get_config(),
            "output_shape": self.partial_output_shape,
            "equation": self.equation,
            "activation": activations.serialize(self.activation),
            "bias_axes": self.bias_axes,
            **weight_options_config(self, "kernel", "bias", activity=True),
            "quantization_config": serialization.serialize_keras_object(
                self.quantization_config
            ),
            **self._lora_config(),
        }


EinsumDense._quantizable_class = EinsumDense

"""int8 quantization of Dense, EinsumDense and Embedding, in Keras 3's layout.

``layer.quantize("int8")`` (or ``model.quantize("int8")``) replaces the float
base weight by an int8 one of the same name and shape plus a float32 scale:
``kernel`` + ``kernel_scale`` (Dense: ``(units,)``; EinsumDense: Keras's
output-aligned layout, see ``einsum_quantization``), ``embeddings`` +
``embeddings_scale`` ``(input_dim,)``. Both are non-trainable; the layer's
policy becomes ``QuantizedDTypePolicy`` (``"int8_from_float32"``) and its
config keeps the ``quantization_config``, so ``.keras`` files move both ways
with Keras. Weights files hold ``kernel, bias, kernel_scale`` (Keras's order).

Numbers: the weight is quantized per output channel by abs-max
(``AbsMaxQuantizer``: ``q = round(w * 127 / max|w|)``). Dense and EinsumDense
also quantize each call's inputs per row (``inputs_quantizer``) and compute
``(q_x @ q_w) / (x_scale * w_scale)``, as Keras does; the input gradient is the
straight-through one, ``grad @ dequantized_kernel.T``. The integer product is
computed as a float32 product of the integer values: exact while the sums stay
below 2**24 (contractions up to ~1000 full-scale terms), float32 rounding
beyond, as Keras's int32 result cast to float32.

Speed (this 2-core Zen 4 CPU, torch 2.13, one thread, best of 5): int8 x int8
``torch._int_mm`` takes 12.7 ms for 32x512 @ 512x512 where float32 ``mm`` takes
0.43 ms (620 ms vs 20 ms at 256x1024 @ 1024x1024), and
``torch._weight_int8pack_mm`` was 15x slower than ``mm`` at the larger size; a
float32 ``mm`` of the same integer values runs at float32 speed. So the int8
product is a float32 matmul of the int8 values, the kernel converted per call
(which keeps the weights 4x smaller in memory). ``bench/run.py -k int8
--threads 1``: a quantized Dense takes 1.3x (256x1024x1024) to 2.3x (32x512x512)
the time of float32 ``nn.Linear`` and 0.3x the time of Keras 3's int8 Dense.

Keras's other modes (``"int4"``, ``"float8"``, ``"gptq"``, ``"awq"``) raise
``NotImplementedError`` naming the mode: int8 is the one lamina runs.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import torch

from lamina import dtype_policies as policies
from lamina import quantizers
from lamina.layers.layer import Layer
from lamina.quantizers import AbsMaxQuantizer, QuantizationConfig
from lamina.utils.validation import describe

IMPLEMENTED_MODES = ("int8",)


def not_implemented(owner, mode) -> NotImplementedError:
    return NotImplementedError(
        f"{describe(owner)}: quantization mode {mode!r} is not implemented in "
        "lamina; 'int8' is (`quantize('int8')`)."
    )


def quantization_config_arg(config):
    """A layer's ``quantization_config`` argument: None, a config or its dict."""
    if isinstance(config, dict):
        return quantizers.deserialize(config)
    return config


def drop_weight(layer, variable) -> None:
    """Remove ``variable`` from ``layer`` (its parameter and weight lists)."""
    for key, param in list(layer._parameters.items()):
        if param is variable:
            del layer._parameters[key]
    for params in (layer._trainable_params, layer._non_trainable_params):
        params[:] = [w for w in params if w is not variable]
    layer._weight_regularizers = [
        (w, r) for w, r in layer._weight_regularizers if w is not variable
    ]


def fast_abs_max(quantizer, x, axis):
    """``quantizer(x, axis)`` with the values left in x's float dtype (exact
    integers) for Keras's default quantizer; other quantizers are called."""
    if type(quantizer) is AbsMaxQuantizer and x.is_floating_point():
        low, high = quantizer.value_range
        amax = x.abs().amax(dim=axis, keepdim=True)
        scale = torch.div(torch.tensor(high, dtype=x.dtype), amax + quantizer.epsilon)
        return torch.clamp(torch.round(x * scale), low, high), scale
    q, scale = quantizer(x, axis=axis)
    return q.to(x.dtype), scale


class _StraightThrough(torch.autograd.Function):
    """The layer's int8 product forwards; the input gradient goes through the
    dequantized kernel (``layer._int8_input_grad``)."""

    @staticmethod
    def forward(ctx, inputs, layer):
        ctx.layer = layer
        return layer._int8_product(inputs)

    @staticmethod
    def backward(ctx, grad):
        return ctx.layer._int8_input_grad(grad), None


class QuantizedMixin:
    """``quantize`` for a layer with one base weight ``self.<_lora_base>``.

    A layer provides ``_int8_build(shape, config)`` (creates the int8 weight,
    its scale and ``inputs_quantizer``), ``_int8_weight_axes`` (the axes its
    weight scale reduces), ``_int8_scale_for_storage(scale)`` and
    ``_int8_dequantized()`` (the float weight), and lists its saved weights in
    ``_int8_saved_names``.
    """

    _int8_saved_names = ("kernel", "bias", "kernel_scale")

    def _init_quantization(self, quantization_config) -> None:
        self.quantization_config = quantization_config_arg(quantization_config)
        self._is_quantized = False
        self.inputs_quantizer = None

    @property
    def quantization_mode(self):
        return self.dtype_policy.quantization_mode

    @property
    def dtype_policy(self):
        return self._dtype_policy

    @dtype_policy.setter
    def dtype_policy(self, value):
        """As in Keras, a quantized policy given to a built float layer
        quantizes it (``layer.dtype_policy = "int8_from_float32"``)."""
        previous = getattr(self, "_dtype_policy", None)
        Layer.dtype_policy.fset(self, value)
        mode = self._dtype_policy.quantization_mode
        built = getattr(self, "built", False)
        if mode is not None and built and not self._is_quantized:
            try:
                self.quantize(mode)
            except Exception:
                Layer.dtype_policy.fset(self, previous)
                raise

    @property
    def _int8_scale_name(self) -> str:
        return f"{self._lora_base}_scale"

    def _quantized_build(self, shape) -> None:
        """Called by ``build`` when the layer's policy is quantized (a
        quantized model being loaded)."""
        mode = self.quantization_mode
        if mode not in IMPLEMENTED_MODES:
            raise not_implemented(self, mode)
        self._int8_build(shape, self.quantization_config)
        self._is_quantized = True

    def quantize(self, mode=None, type_check=True, config=None):
        """Quantize the built layer's weights (``mode="int8"``), as Keras 3.

        Args:
            mode: ``"int8"`` (optional when ``config`` is given).
            type_check: refuse subclasses (their calls may not know int8).
            config: a ``keras.quantizers.Int8QuantizationConfig`` (custom
                weight/input quantizers; ``activation_quantizer=None`` for
                weight-only int8).

        Raises:
            ValueError: the layer not built or already quantized; an unknown
                mode; a float16 compute dtype (Keras refuses int8 there).
            NotImplementedError: a mode other than int8; a subclass with
                ``type_check``.
        """
        config = quantizers.validate_and_resolve_config(mode, config, describe(self))
        mode = config.mode
        self._check_quantize_args(mode, type_check)
        base = getattr(self, self._lora_base)
        quantizer = QuantizationConfig.weight_quantizer_or_default(
            config, AbsMaxQuantizer(axis=self._int8_weight_axes())
        )
        with torch.no_grad():
            values, scale = quantizer(base.detach(), to_numpy=True)
            scale = self._int8_scale_for_storage(scale)
        shape = tuple(base.shape)
        drop_weight(self, base)
        self.quantization_config = config
        self._int8_build(shape, config)
        with torch.no_grad():
            getattr(self, self._lora_base).copy_(values.to(torch.int8))
            getattr(self, self._int8_scale_name).copy_(scale)
        self._is_quantized = True
        if self.dtype_policy.quantization_mode is None:
            self.dtype_policy = policies.QuantizedDTypePolicy(
                mode, self.dtype_policy.name
            )

    def _check_quantize_args(self, mode, type_check) -> None:
        if type_check and type(self) is not self._quantizable_class:
            raise NotImplementedError(
                f"{describe(self)}: a subclass of "
                f"{self._quantizable_class.__name__} is not "
                "quantized (its `call` may not know int8); pass type_check=False "
                "if it only changes what the base class does not compute."
            )
        if not self.built:
            raise ValueError(
                f"{describe(self)}: quantize() needs the layer built; call it on "
                "data or `build()` it first."
            )
        if self._is_quantized:
            raise ValueError(
                f"{describe(self)}: already quantized (dtype policy "
                f"{self.dtype_policy.name!r}); quantize() can be called once."
            )
        if mode not in IMPLEMENTED_MODES:
            raise not_implemented(self, mode)
        if self.compute_dtype == "float16":
            raise ValueError(
                f"{describe(self)}: int8 quantization does not work with "
                "compute_dtype='float16'; use 'mixed_bfloat16' or 'float32'."
            )

    # ------------------------------------------------------------- calls
    def _int8_forward(self, inputs):
        """The product of a quantized Dense/EinsumDense, with its gradient."""
        if self._autocast_context:  # exact integer sums: no half-precision mm
            with torch.autocast(inputs.device.type, enabled=False):
                outputs = self._int8_apply(inputs.float())
            return outputs.to(self._compute_torch_dtype)
        return self._int8_apply(inputs)

    def _int8_apply(self, inputs):
        if torch.is_grad_enabled() and inputs.requires_grad:
            return _StraightThrough.apply(inputs, self)
        return self._int8_product(inputs)

    # ----------------------------------------------------- weights files
    @property
    def save_own_variables(self):
        return (
            self._save_quantized if self._is_quantized else super().save_own_variables
        )

    @property
    def load_own_variables(self):
        return (
            self._load_quantized if self._is_quantized else super().load_own_variables
        )

    def _saved_variables(self) -> list:
        return [
            getattr(self, name)
            for name in self._int8_saved_names
            if getattr(self, name, None) is not None
        ]

    def _save_quantized(self, store) -> None:
        values = {id(w): w.detach() for w in self._saved_variables()}
        if self.lora_enabled:  # Keras merges the update and quantizes again
            base = getattr(self, self._lora_base)
            a, b = self._lora_factors()
            merged = self._int8_dequantized() + self._lora_scale * (a @ b).detach()
            q, scale = quantizers.abs_max_quantize(merged, self._int8_weight_axes())
            values[id(base)] = q
            values[id(getattr(self, self._int8_scale_name))] = (
                self._int8_scale_for_storage(scale)
            )
        for i, weight in enumerate(self._saved_variables()):
            store[str(i)] = values[id(weight)]

    def _load_quantized(self, store) -> None:
        targets = self._saved_variables()
        if len(store) != len(targets):
            names = ", ".join(f"{w.name} {tuple(w.shape)}" for w in targets)
            raise ValueError(
                f"{describe(self)} (int8) saves {len(targets)} weight(s) [{names}] "
                f"but the file holds {len(store)}."
            )
        values = [np.asarray(store[str(i)]) for i in range(len(targets))]
        for weight, value in zip(targets, values):
            if tuple(value.shape) != tuple(weight.shape):
                raise ValueError(
                    f"{describe(self)}: weight '{weight.name}' has shape "
                    f"{tuple(weight.shape)} but {tuple(value.shape)} in the file."
                )
        with torch.no_grad():
            for weight, value in zip(targets, values):
                weight.copy_(torch.as_tensor(value).to(weight.device, weight.dtype))
            if self.lora_enabled:  # the file's weight has the update merged
                self._lora_factors()[1].zero_()


def should_quantize(layer, filters) -> bool:
    """Keras's ``filters``: a regex on the layer name, a list of them, or a
    predicate."""
    if filters is None:
        return True
    if isinstance(filters, str):
        return bool(re.search(filters, layer.name))
    if isinstance(filters, (list, tuple)):
        return any(re.search(pattern, layer.name) for pattern in filters)
    return bool(filters(layer))


def quantize_model(model, mode=None, config=None, filters=None, **kwargs) -> None:
    """``Model.quantize``: quantize every leaf layer that can be (Dense,
    EinsumDense, Embedding, including those inside MultiHeadAttention).

    Raises:
        ValueError: unknown keyword arguments or mode; ``filters`` of another
            type.
        NotImplementedError: a mode other than ``"int8"``.
    """
    type_check = kwargs.pop("type_check", True)
    if kwargs:
        raise ValueError(
            f"{describe(model)}: quantize() got unexpected keyword argument(s) "
            f"{sorted(kwargs)}."
        )
    if filters is not None and not (
        isinstance(filters, (str, list, tuple)) or callable(filters)
    ):
        raise ValueError(
            f"{describe(model)}: `filters` must be a regex string, a list of them "
            f"or a callable; got filters={filters!r}."
        )
    config = quantizers.validate_and_resolve_config(mode, config, describe(model))
    if config.mode not in IMPLEMENTED_MODES:
        raise not_implemented(model, config.mode)
    for layer in model.modules():
        if not isinstance(layer, QuantizedMixin) or not should_quantize(layer, filters):
            continue
        if any(True for _ in layer.children()) or layer._is_quantized:
            continue
        try:
            layer.quantize(config.mode, type_check=type_check, config=config)
        except NotImplementedError as e:
            warnings.warn(str(e), stacklevel=2)

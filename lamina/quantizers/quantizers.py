"""Quantizers and the quantization arithmetic of Keras 3 (``keras.quantizers``).

Symmetric abs-max int8: ``scale = 127 / (max|x| + epsilon)`` over the reduced
axes, ``q = clip(round(x * scale), -127, 127)``; the value is ``q / scale``.
Rounding is half to even, as NumPy's and Keras's. Computed in torch on the
tensor's device (Keras's ``to_numpy=True`` gives the same numbers; it is
accepted and only moves nothing).
"""

from __future__ import annotations

import numpy as np
import torch

from lamina import config
from lamina import dtype_policies as policies
from lamina.utils.validation import arg_error

_FLOAT8_MAX = {"float8_e4m3fn": 448.0, "float8_e5m2": 57344.0}


def _tensor(x) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x
    return torch.as_tensor(np.asarray(x))


def _axes(axis, ndim: int) -> tuple:
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return tuple(a % ndim for a in axes)


class Quantizer:
    """Base class of quantizers: ``quantizer(x) -> (quantized, scale)``."""

    _keras_module = "keras.quantizers"

    def __init__(self, output_dtype="int8"):
        self.output_dtype = output_dtype

    def __call__(self, x):
        return x

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def get_config(self):
        raise NotImplementedError(
            f"{type(self).__name__} does not define get_config()."
        )


def abs_max_quantize(
    inputs,
    axis,
    value_range=(-127, 127),
    dtype="int8",
    epsilon=None,
    to_numpy=False,
):
    """Symmetric quantization by the absolute maximum over ``axis``.

    Args:
        inputs: float tensor or array.
        axis: int or tuple of ints: the axes the maximum is taken over (the
            scale has size 1 there).
        value_range: ``(low, high)`` of the quantized values (default int8's
            symmetric ``(-127, 127)``).
        dtype: dtype of the quantized values.
        epsilon: added to the maximum (default ``config.epsilon()``, 1e-7).
        to_numpy: accepted for Keras compatibility (same numbers).

    Returns:
        ``(quantized, scale)``: ``quantized`` in ``dtype``, ``scale`` in the
        input's float dtype, broadcastable to it; ``inputs ~ quantized / scale``.

    Example:
    >>> import lamina as keras
    >>> q, scale = keras.quantizers.abs_max_quantize([[1.0, -2.0]], axis=-1)
    >>> q.tolist(), round(float(scale[0, 0]), 3)
    ([[63, -127]], 63.5)
    """
    x = _tensor(inputs)
    if not x.is_floating_point():
        x = x.to(torch.float32)
    epsilon = config.epsilon() if epsilon is None else epsilon
    low, high = value_range
    amax = x.abs().amax(dim=_axes(axis, x.ndim), keepdim=True)
    # A true division: torch computes ``high / t`` as ``high * (1 / t)``.
    scale = torch.div(torch.tensor(high, dtype=amax.dtype), amax + epsilon)
    quantized = torch.clamp(torch.round(x * scale), low, high)
    return quantized.to(policies.to_torch_dtype(dtype)), scale.to(x.dtype)


class AbsMaxQuantizer(Quantizer):
    """``abs_max_quantize`` as an object (Keras's default int8 quantizer).

    Args:
        axis: default reduction axes (deprecated in Keras: pass ``axis`` to
            the call); -1 when neither gives one.
        value_range: ``(low, high)``, within [-128, 127] for int8.
        epsilon: added to the maximum (default 1e-7).
        output_dtype: dtype of the quantized values (default ``"int8"``).

    Raises:
        ValueError: an int8 ``value_range`` outside [-128, 127].
    """

    def __init__(
        self, axis=None, value_range=(-127, 127), epsilon=None, output_dtype="int8"
    ):
        super().__init__(output_dtype=output_dtype)
        self.axis = None if axis is None else _axes_tuple(axis)
        self.value_range = tuple(value_range)
        self.epsilon = config.epsilon() if epsilon is None else epsilon
        if output_dtype == "int8" and (value_range[0] < -128 or value_range[1] > 127):
            raise arg_error(
                self, "value_range", "within [-128, 127] for int8 output", value_range
            )

    def __call__(self, x, axis=None, to_numpy=False):
        axis = self.axis if axis is None else axis
        return abs_max_quantize(
            x,
            -1 if axis is None else axis,
            self.value_range,
            self.output_dtype,
            self.epsilon,
        )

    def get_config(self):
        config_dict = {
            "value_range": self.value_range,
            "epsilon": self.epsilon,
            "output_dtype": self.output_dtype,
        }
        if self.axis is not None:
            config_dict["axis"] = self.axis
        return config_dict


def _axes_tuple(axis) -> tuple:
    return (axis,) if isinstance(axis, int) else tuple(axis)


# ------------------------------------------------------------------- float8
def compute_float8_scale(amax, scale, dtype_max, margin=0):
    """The next float8 scale from the amax history's maximum (Transformer
    Engine's rule); the previous ``scale`` where ``amax`` is 0 or not finite."""
    amax = _tensor(amax)
    scale = _tensor(scale)
    inverse = torch.reciprocal(scale)
    factor = dtype_max / amax / 2**margin
    factor = torch.where(amax > 0.0, factor, inverse)
    factor = torch.where(torch.isfinite(amax), factor, inverse)
    return torch.reciprocal(factor)


def compute_float8_amax_history(x, amax_history):
    """``amax_history`` rolled by one, ``max|x|`` written first."""
    history = _tensor(amax_history)
    amax = _tensor(x).abs().max().to(history.dtype)
    rolled = torch.roll(history, shifts=-1, dims=0).clone()
    rolled[0] = amax
    return rolled


def quantize_and_dequantize(inputs, scale, quantized_dtype, compute_dtype):
    """``inputs / scale`` clipped to the float8 range, cast to
    ``quantized_dtype`` and back, times ``scale`` (in ``compute_dtype``)."""
    if quantized_dtype not in _FLOAT8_MAX:
        raise arg_error(
            "quantize_and_dequantize",
            "quantized_dtype",
            f"one of {sorted(_FLOAT8_MAX)}",
            quantized_dtype,
        )
    compute = policies.to_torch_dtype(compute_dtype)
    bound = _FLOAT8_MAX[quantized_dtype]
    scale = _tensor(scale).to(compute)
    x = torch.clamp(_tensor(inputs).to(compute) / scale, -bound, bound)
    x = x.to(getattr(torch, quantized_dtype)).to(compute)
    return x * scale


# --------------------------------------------------------------------- int4
def pack_int4(arr, axis=0, dtype="int8"):
    """Two int4 values (in [-8, 7]) per byte along ``axis``: the first of each
    pair in the low nibble. An odd length is padded with a zero.

    Returns:
        ``(packed, packed_shape, original_length)``.

    Raises:
        ValueError: ``dtype`` not int8/uint8. TypeError: ``arr`` of another dtype.
    """
    if dtype not in ("int8", "uint8"):
        raise arg_error("pack_int4", "dtype", "'int8' or 'uint8'", dtype)
    x = _tensor(arr)
    if x.dtype != policies.to_torch_dtype(dtype):
        raise TypeError(
            f"pack_int4: `arr` must be a {dtype} tensor; got dtype={x.dtype}."
        )
    x = torch.movedim(x, axis, 0)
    length = x.shape[0]
    if length % 2:
        x = torch.cat([x, x.new_zeros((1, *x.shape[1:]))])
    low = x[0::2].to(torch.int16) & 0x0F
    high = x[1::2].to(torch.int16) & 0x0F
    packed = (low | (high << 4)).to(torch.uint8).view(torch.uint8)
    packed = packed.view(torch.int8) if dtype == "int8" else packed
    packed = torch.movedim(packed, 0, axis)
    return packed, tuple(packed.shape), length


def unpack_int4(packed, orig_len, axis=0, dtype="int8"):
    """The inverse of ``pack_int4``: int8 values in [-8, 7] (uint8 gives the
    nibbles in [0, 15]), ``orig_len`` long along ``axis``."""
    if dtype not in ("int8", "uint8"):
        raise arg_error("unpack_int4", "dtype", "'int8' or 'uint8'", dtype)
    x = torch.movedim(_tensor(packed), axis, 0).to(torch.int16) & 0xFF
    low, high = x & 0x0F, (x >> 4) & 0x0F
    if dtype == "int8":
        low = torch.where(low > 7, low - 16, low)
        high = torch.where(high > 7, high - 16, high)
    pairs = torch.stack([low, high], dim=1).reshape(-1, *x.shape[1:])[:orig_len]
    return torch.movedim(pairs.to(policies.to_torch_dtype(dtype)), 0, axis)

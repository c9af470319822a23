"""``keras.quantizers``: quantizers, quantization configs and the int8/float8/int4
arithmetic Keras 3 quantizes layers with (``Model.quantize("int8")``)."""

from lamina.quantizers.quantization_config import (
    QUANTIZER_OBJECTS,
    Float8QuantizationConfig,
    Int4QuantizationConfig,
    Int8QuantizationConfig,
    QuantizationConfig,
    validate_and_resolve_config,
)
from lamina.quantizers.quantizers import (
    AbsMaxQuantizer,
    Quantizer,
    abs_max_quantize,
    compute_float8_amax_history,
    compute_float8_scale,
    pack_int4,
    quantize_and_dequantize,
    unpack_int4,
)
from lamina.saving import serialization

ALL_OBJECTS_DICT = QUANTIZER_OBJECTS

serialize, deserialize, _get = serialization.module_api(ALL_OBJECTS_DICT, "quantizer")


def get(identifier, **kwargs):
    """A quantizer from None, a name, a config dict or a quantizer."""
    if isinstance(identifier, str) and kwargs:
        return ALL_OBJECTS_DICT[identifier](**kwargs)
    return _get(identifier)


__all__ = [
    "AbsMaxQuantizer",
    "Float8QuantizationConfig",
    "Int4QuantizationConfig",
    "Int8QuantizationConfig",
    "QuantizationConfig",
    "Quantizer",
    "abs_max_quantize",
    "compute_float8_amax_history",
    "compute_float8_scale",
    "deserialize",
    "get",
    "pack_int4",
    "quantize_and_dequantize",
    "serialize",
    "unpack_int4",
    "validate_and_resolve_config",
]

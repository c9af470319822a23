"""Quantization configs (``keras.quantizers.*QuantizationConfig``): which
quantizer a layer uses for its weights and for its inputs. A quantized layer
keeps its config in ``get_config()["quantization_config"]``, as Keras writes it.
"""

from __future__ import annotations

from lamina import dtype_policies as policies
from lamina.quantizers.quantizers import AbsMaxQuantizer, Quantizer
from lamina.saving import serialization
from lamina.utils.validation import arg_error


class QuantizationConfig:
    """Base class: ``weight_quantizer`` and ``activation_quantizer`` (None:
    the layer's default for weights, no quantization for inputs)."""

    _keras_module = "keras.quantizers"

    def __init__(self, weight_quantizer=None, activation_quantizer=None):
        self.weight_quantizer = weight_quantizer
        self.activation_quantizer = activation_quantizer

    @property
    def mode(self) -> str:
        raise NotImplementedError(
            f"{type(self).__name__}: use a subclass (Int8QuantizationConfig...), "
            "which names its mode."
        )

    def get_config(self):
        return {
            "weight_quantizer": serialization.serialize_keras_object(
                self.weight_quantizer
            ),
            "activation_quantizer": serialization.serialize_keras_object(
                self.activation_quantizer
            ),
        }

    @classmethod
    def from_config(cls, config):
        return cls(
            weight_quantizer=_quantizer(config.get("weight_quantizer")),
            activation_quantizer=_quantizer(config.get("activation_quantizer")),
        )

    @staticmethod
    def weight_quantizer_or_default(config, default):
        if config is not None and config.weight_quantizer is not None:
            return config.weight_quantizer
        return default

    @staticmethod
    def activation_quantizer_or_default(config, default):
        return config.activation_quantizer if config is not None else default


def _quantizer(config):
    return serialization.deserialize_keras_object(
        config, module_objects=QUANTIZER_OBJECTS, printable_module_name="quantizer"
    )


class Int8QuantizationConfig(QuantizationConfig):
    """int8 weights; inputs quantized per call by ``activation_quantizer``
    (default ``AbsMaxQuantizer()`` over the contracted axes; None: weights only).

    Raises:
        ValueError: a ``weight_quantizer`` whose output dtype is not int8.
    """

    def __init__(self, weight_quantizer=None, activation_quantizer="default"):
        if isinstance(activation_quantizer, str) and activation_quantizer == "default":
            activation_quantizer = AbsMaxQuantizer()
        super().__init__(weight_quantizer, activation_quantizer)
        if weight_quantizer is not None and weight_quantizer.output_dtype != "int8":
            raise arg_error(
                self,
                "weight_quantizer",
                "a quantizer with output_dtype='int8'",
                weight_quantizer.output_dtype,
            )

    @property
    def mode(self) -> str:
        return "int8"


class Int4QuantizationConfig(QuantizationConfig):
    """int4 settings (``block_size``: 128 by default, -1/None per channel).
    lamina reads and writes this config; ``quantize`` runs int8 only."""

    def __init__(
        self, weight_quantizer=None, activation_quantizer="default", block_size=128
    ):
        if isinstance(activation_quantizer, str) and activation_quantizer == "default":
            activation_quantizer = None
        super().__init__(weight_quantizer, activation_quantizer)
        if block_size is not None and block_size != -1 and block_size <= 0:
            raise arg_error(
                self, "block_size", "None, -1 or a positive int", block_size
            )
        self.block_size = block_size

    @property
    def mode(self) -> str:
        return "int4"

    def get_config(self):
        return {**super().get_config(), "block_size": self.block_size}

    @classmethod
    def from_config(cls, config):
        return cls(
            weight_quantizer=_quantizer(config.get("weight_quantizer")),
            activation_quantizer=_quantizer(config.get("activation_quantizer")),
            block_size=config.get("block_size"),
        )


class Float8QuantizationConfig(QuantizationConfig):
    """Marks float8 training (no quantizers of its own). lamina reads and
    writes this config; ``quantize`` runs int8 only."""

    def __init__(self):
        super().__init__(None, None)

    @property
    def mode(self) -> str:
        return "float8"

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls()


_DEFAULT_CONFIGS = {
    "int8": Int8QuantizationConfig,
    "int4": Int4QuantizationConfig,
    "float8": Float8QuantizationConfig,
}


def validate_and_resolve_config(mode, config, owner="quantize"):
    """The config ``quantize(mode, config)`` runs with: the mode's default
    config when only ``mode`` is given; ``config`` checked against ``mode``.

    Raises:
        ValueError: neither given; an unknown mode; a config that is not a
            ``QuantizationConfig``; a mode that contradicts the config's.
    """
    if isinstance(config, str):
        mode, config = config, None
    modes = policies.QUANTIZATION_MODES
    if mode is not None and mode not in modes:
        raise arg_error(owner, "mode", f"one of {modes}", mode)
    if config is None:
        if mode is None:
            raise ValueError(f"{owner}: give `mode` ('int8') or `config`.")
        if mode not in _DEFAULT_CONFIGS:
            raise ValueError(
                f"{owner}: mode {mode!r} needs a `config` ({mode.upper()}Config "
                "with calibration data in Keras)."
            )
        return _DEFAULT_CONFIGS[mode]()
    if not isinstance(config, QuantizationConfig):
        raise arg_error(owner, "config", "a QuantizationConfig", config)
    if mode is not None and config.mode != mode:
        raise ValueError(
            f"{owner}: `mode` must match the config's mode {config.mode!r}; "
            f"got mode={mode!r}."
        )
    return config


QUANTIZER_OBJECTS = {
    "Quantizer": Quantizer,
    "AbsMaxQuantizer": AbsMaxQuantizer,
    "QuantizationConfig": QuantizationConfig,
    "Int8QuantizationConfig": Int8QuantizationConfig,
    "Int4QuantizationConfig": Int4QuantizationConfig,
    "Float8QuantizationConfig": Float8QuantizationConfig,
    "quantizer": Quantizer,
    "abs_max_quantizer": AbsMaxQuantizer,
    "quantization_config": QuantizationConfig,
    "int8_quantization_config": Int8QuantizationConfig,
    "int4_quantization_config": Int4QuantizationConfig,
    "float8_quantization_config": Float8QuantizationConfig,
}

"""Dtype policies: the dtype weights are stored in and the dtype a layer computes in.

``"float32"`` stores and computes in float32; ``"mixed_float16"`` and
``"mixed_bfloat16"`` store float32 weights and compute in half precision under
``torch.autocast``. A quantized layer's policy is ``QuantizedDTypePolicy``
(``"int8_from_float32"``: int8 weights, float32 compute), as Keras 3 names it;
``DTypePolicyMap`` maps layer paths to policies.
"""

from __future__ import annotations

import re

import torch

from lamina import config

QUANTIZATION_MODES = ("int8", "float8", "int4", "gptq", "awq")

_TORCH_DTYPES = {
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float64": torch.float64,
    "int8": torch.int8,
    "int16": torch.int16,
    "int32": torch.int32,
    "int64": torch.int64,
    "uint8": torch.uint8,
    "bool": torch.bool,
    "complex64": torch.complex64,
    "complex128": torch.complex128,
}
_DTYPE_NAMES = {v: k for k, v in _TORCH_DTYPES.items()}


def to_torch_dtype(dtype) -> torch.dtype:
    if isinstance(dtype, torch.dtype):
        return dtype
    name = getattr(dtype, "name", dtype)
    if name in _TORCH_DTYPES:
        return _TORCH_DTYPES[name]
    raise ValueError(
        f"`dtype` must be one of {sorted(_TORCH_DTYPES)}; got dtype={dtype!r}."
    )


def dtype_name(dtype) -> str:
    """The Keras name of a dtype given as a name, a torch dtype or a policy-like object."""
    return _DTYPE_NAMES[to_torch_dtype(dtype)]


class DTypePolicy:
    """A named pair (variable dtype, compute dtype), serializable like Keras's."""

    _keras_module = "keras"

    def __init__(self, name: str | None = None):
        name = name or config.floatx()
        if not isinstance(name, str):
            raise TypeError(f"DTypePolicy: `name` must be a string; got name={name!r}.")
        if name.startswith("mixed_"):
            compute, variable = name[len("mixed_") :], "float32"
            if compute not in ("float16", "bfloat16"):
                raise ValueError(
                    "DTypePolicy: `name` must be 'mixed_float16', "
                    f"'mixed_bfloat16' or a dtype name; got name={name!r}."
                )
        else:
            to_torch_dtype(name)
            compute = variable = name
        self._name = name
        self._compute_dtype = compute
        self._variable_dtype = variable

    @property
    def name(self) -> str:
        return self._name

    @property
    def compute_dtype(self) -> str:
        return self._compute_dtype

    @property
    def variable_dtype(self) -> str:
        return self._variable_dtype

    @property
    def is_mixed(self) -> bool:
        return self._compute_dtype != self._variable_dtype

    @property
    def quantization_mode(self) -> str | None:
        """The quantization mode (``"int8"``...), None for a float policy."""
        return None

    def get_config(self):
        return {"name": self._name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __eq__(self, other):
        return type(other) is type(self) and other.get_config() == self.get_config()

    def __hash__(self):
        return hash(self._name)

    def __repr__(self):
        return f'<{type(self).__name__} "{self._name}">'


FloatDTypePolicy = DTypePolicy


class QuantizedDTypePolicy(DTypePolicy):
    """The policy of a quantized layer: ``mode`` (``"int8"``...) weights, the
    compute and float dtypes of ``source_name`` (default: the global policy).
    Its name is ``f"{mode}_from_{source_name}"``, e.g. ``"int8_from_float32"``.

    Raises:
        ValueError: ``mode`` not one of ``QUANTIZATION_MODES``; ``"int8"`` with
            a float16 compute dtype (Keras refuses it: int8 scales overflow).
    """

    _keras_module = "keras.dtype_policies"

    def __init__(self, mode, source_name=None):
        source_name = source_name or dtype_policy().name
        super().__init__(source_name)
        owner = type(self).__name__
        if mode not in QUANTIZATION_MODES:
            raise ValueError(
                f"{owner}: `mode` must be one of {QUANTIZATION_MODES}; got "
                f"mode={mode!r}."
            )
        if mode == "int8" and self._compute_dtype == "float16":
            raise ValueError(
                f"{owner}: `source_name` must not compute in float16 for int8 "
                f"quantization (use 'mixed_bfloat16' or 'float32'); got "
                f"source_name={source_name!r}."
            )
        self._name = f"{mode}_from_{source_name}"
        self._source_name = source_name
        self._quantization_mode = mode

    @property
    def quantization_mode(self) -> str:
        return self._quantization_mode

    def get_config(self):
        return {"mode": self._quantization_mode, "source_name": self._source_name}


class QuantizedFloat8DTypePolicy(QuantizedDTypePolicy):
    """``QuantizedDTypePolicy`` for float8 training, with the length of the
    amax history its scales are computed from (default 1024)."""

    default_amax_history_length = 1024

    def __init__(self, mode, source_name=None, amax_history_length=1024):
        super().__init__(mode, source_name)
        if not isinstance(amax_history_length, int):
            raise TypeError(
                f"{type(self).__name__}: `amax_history_length` must be an int; "
                f"got amax_history_length={amax_history_length!r}."
            )
        self._amax_history_length = amax_history_length

    @property
    def amax_history_length(self) -> int:
        return self._amax_history_length

    def get_config(self):
        return {
            **super().get_config(),
            "amax_history_length": self._amax_history_length,
        }


class DTypePolicyMap(DTypePolicy):
    """Layer paths (``"encoder/dense"``, or regular expressions matched in
    full: ``"encoder/.*"``) to policies; other paths get ``default_policy``.

    A lookup tries the exact path first, then the patterns; a path matching
    two patterns is an error. Layers read their policy from a map by their
    path when one is given as ``dtype`` to a model (Keras's behaviour).

    Raises:
        ValueError: a map as ``default_policy``; a path matching two patterns.
        TypeError: ``policy_map`` not a dict.
    """

    _keras_module = "keras.dtype_policies"

    def __init__(self, default_policy=None, policy_map=None):
        if isinstance(default_policy, DTypePolicyMap):
            raise ValueError(
                "DTypePolicyMap: `default_policy` must not be a DTypePolicyMap; "
                f"got default_policy={default_policy!r}."
            )
        if policy_map is not None and not isinstance(policy_map, dict):
            raise TypeError(
                "DTypePolicyMap: `policy_map` must be a dict; got "
                f"policy_map={policy_map!r}."
            )
        self._default_policy_arg = default_policy
        self._default_policy = get(default_policy)
        super().__init__(self._default_policy.name)
        self._policy_map = {k: get(v) for k, v in (policy_map or {}).items()}

    @property
    def default_policy(self) -> DTypePolicy:
        return get(self._default_policy)

    @property
    def policy_map(self) -> dict:
        return self._policy_map

    def __getitem__(self, key: str) -> DTypePolicy:
        if key in self._policy_map:
            return self._policy_map[key]
        matches = [k for k in self._policy_map if re.fullmatch(k, key)]
        if len(matches) > 1:
            raise ValueError(
                f"DTypePolicyMap: path {key!r} matches more than one key "
                f"{matches}; each path may match one key at most."
            )
        return self._policy_map[matches[0]] if matches else self.default_policy

    def __setitem__(self, key: str, policy) -> None:
        if key in self._policy_map:
            raise ValueError(
                f"DTypePolicyMap: path {key!r} already has a policy "
                f"({self._policy_map[key].name}); delete it first."
            )
        self._policy_map[key] = get(policy)

    def __delitem__(self, key: str) -> None:
        del self._policy_map[key]

    def __contains__(self, key) -> bool:
        return key in self._policy_map

    def __len__(self) -> int:
        return len(self._policy_map)

    def __iter__(self):
        return iter(self._policy_map)

    def get_config(self):
        return {
            "default_policy": self._default_policy_arg,
            "policy_map": {k: serialize(v) for k, v in self._policy_map.items()},
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["policy_map"] = {
            k: get(v) for k, v in (config.get("policy_map") or {}).items()
        }
        return cls(**config)

    def __repr__(self):
        return f"<DTypePolicyMap {self._policy_map} default={self.default_policy}>"


_POLICY_CLASSES = {
    "DTypePolicy": DTypePolicy,
    "FloatDTypePolicy": DTypePolicy,
    "QuantizedDTypePolicy": QuantizedDTypePolicy,
    "QuantizedFloat8DTypePolicy": QuantizedFloat8DTypePolicy,
    "DTypePolicyMap": DTypePolicyMap,
}


def _quantized_from_name(name: str) -> QuantizedDTypePolicy:
    """``"int8_from_float32"`` -> ``QuantizedDTypePolicy("int8", "float32")``."""
    mode, sep, source = name.partition("_from_")
    if not sep or not source:
        raise ValueError(
            "dtype_policies.get: a quantized policy name must read "
            f"'<mode>_from_<source policy>' (e.g. 'int8_from_float32'); got {name!r}."
        )
    if mode == "float8":
        return QuantizedFloat8DTypePolicy(mode, source)
    if mode not in QUANTIZATION_MODES:
        raise NotImplementedError(
            f"dtype_policies.get: the quantized policy {name!r} (mode {mode!r}) is "
            "not implemented in lamina; 'int8' quantization is "
            "(`model.quantize('int8')`, policy 'int8_from_float32')."
        )
    return QuantizedDTypePolicy(mode, source)


def get(identifier) -> DTypePolicy:
    """A policy from None (the global one), a name, a torch dtype, a policy or its config."""
    if identifier is None:
        return dtype_policy()
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, torch.dtype):
        return DTypePolicy(_DTYPE_NAMES[identifier])
    if isinstance(identifier, dict):
        return deserialize(identifier)
    name = getattr(identifier, "name", identifier)
    if isinstance(name, str) and name.startswith(QUANTIZATION_MODES):
        return _quantized_from_name(name)
    return DTypePolicy(name)


def deserialize(config: dict, custom_objects=None) -> DTypePolicy:
    """A policy from its Keras serialization (or a bare ``{"name": ...}``)."""
    if "class_name" not in config:
        return DTypePolicy.from_config(config)
    cls = _POLICY_CLASSES.get(config["class_name"])
    if cls is None:
        name = config["class_name"]
        error = ValueError if not name.endswith("DTypePolicy") else NotImplementedError
        raise error(
            f"dtype_policies.deserialize: unknown policy class {name!r}; lamina "
            f"knows {sorted(_POLICY_CLASSES)} (int8 is the quantized mode it runs)."
        )
    return cls.from_config(dict(config.get("config") or {}))


def serialize(policy: DTypePolicy) -> dict:
    cls = type(policy)
    return {
        "module": getattr(cls, "_keras_module", "keras"),
        "class_name": cls.__name__,
        "config": policy.get_config(),
        "registered_name": None,
    }


def dtype_policy() -> DTypePolicy:
    """The global dtype policy (``keras.config.dtype_policy()``; defaults to
    ``floatx()``)."""
    return config._dtype_policy or DTypePolicy(config.floatx())


def set_dtype_policy(policy) -> None:
    """Set the global dtype policy (a policy, its name, or None for ``floatx()``)."""
    config._dtype_policy = None if policy is None else get(policy)


# keras.config re-exports these two; config is a leaf below this module, so the
# functions are added to its namespace from here.
config.dtype_policy = dtype_policy
config.set_dtype_policy = set_dtype_policy

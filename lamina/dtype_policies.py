"""Dtype policies: the dtype weights are stored in and the dtype a layer computes in.

``"float32"`` stores and computes in float32; ``"mixed_float16"`` and
``"mixed_bfloat16"`` store float32 weights and compute in half precision under
``torch.autocast``.
"""

from __future__ import annotations

import torch

from lamina import config

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

    def get_config(self):
        return {"name": self._name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __eq__(self, other):
        return isinstance(other, DTypePolicy) and other.name == self.name

    def __hash__(self):
        return hash(self._name)

    def __repr__(self):
        return f'<DTypePolicy "{self._name}">'


FloatDTypePolicy = DTypePolicy


def get(identifier) -> DTypePolicy:
    """A policy from None (the global one), a name, a torch dtype, a policy or its config."""
    if identifier is None:
        return dtype_policy()
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, torch.dtype):
        return DTypePolicy(_DTYPE_NAMES[identifier])
    if isinstance(identifier, dict):
        return DTypePolicy.from_config(identifier.get("config", identifier))
    return DTypePolicy(getattr(identifier, "name", identifier))


def serialize(policy: DTypePolicy) -> dict:
    return {
        "module": "keras",
        "class_name": "DTypePolicy",
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

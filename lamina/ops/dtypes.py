"""Dtypes and conversion for ``lamina.ops``: Keras 3's dtype names and promotion
lattice (torch backend), and the conversion of inputs to torch tensors that every
op module shares.

Names: ``standardize_dtype``, ``to_torch_dtype`` and ``result_type`` (dtypes and
promotion); ``convert_to_tensor`` and ``convert_to_numpy``; and for the op modules
``as_tensor(x)`` (a tensor as it is, anything else converted), ``as_tensors(*xs)``
(all of them, on the device of the first tensor), ``as_operand``/``as_operands``
(binary-op operands that keep Python numbers weakly typed, as Keras does),
``as_tensor_pair`` (both operands as tensors), ``is_int_or_bool`` and
``to_floatx_if_int``.

A leaf of ``lamina.ops``: it imports nothing of lamina but ``config``.
"""

from __future__ import annotations

import builtins
import functools

import numpy as np
import torch

from lamina import config

# ---------------------------------------------------------------------------------
# Dtypes
# ---------------------------------------------------------------------------------

_TORCH_DTYPES = {
    "bool": torch.bool,
    "uint8": torch.uint8,
    "int8": torch.int8,
    "int16": torch.int16,
    "int32": torch.int32,
    "int64": torch.int64,
    # torch has no full uint16/uint32 support; Keras maps them to wider ints too.
    "uint16": torch.int32,
    "uint32": torch.int64,
    "bfloat16": torch.bfloat16,
    "float16": torch.float16,
    "float32": torch.float32,
    "float64": torch.float64,
    "complex64": torch.complex64,
    "complex128": torch.complex128,
}
_NAMES = {
    torch.bool: "bool",
    torch.uint8: "uint8",
    torch.int8: "int8",
    torch.int16: "int16",
    torch.int32: "int32",
    torch.int64: "int64",
    torch.bfloat16: "bfloat16",
    torch.float16: "float16",
    torch.float32: "float32",
    torch.float64: "float64",
    torch.complex64: "complex64",
    torch.complex128: "complex128",
}
_PY_TYPES = {
    bool: "bool",
    int: "int32",
    float: "float32",
    complex: "complex64",
    "int": "int32",
    "float": "float32",
}
_BITS = {
    "uint8": 8,
    "uint16": 16,
    "uint32": 32,
    "uint64": 64,
    "int8": 8,
    "int16": 16,
    "int32": 32,
    "int64": 64,
    "bfloat16": 16,
    "float16": 16,
    "float32": 32,
    "float64": 64,
}
# Keras on torch (like JAX) never promotes to 64 bits.
_TO_32_BITS = {
    "int64": "int32",
    "uint64": "uint32",
    "float64": "float32",
    "complex128": "complex64",
}


def standardize_dtype(dtype) -> str:
    """The Keras name (``'float32'``) of a dtype given in any spelling."""
    if dtype is None:
        return config.floatx()
    if isinstance(dtype, torch.dtype):
        name = _NAMES.get(dtype)
    else:
        dtype = _PY_TYPES.get(dtype, dtype) if isinstance(dtype, (type, str)) else dtype
        name = getattr(dtype, "name", None) or getattr(dtype, "__name__", None) or dtype
        if not isinstance(name, str) or ("torch." in str(dtype)):
            name = str(dtype).split(".")[-1]
    if name not in _TORCH_DTYPES:
        raise ValueError(f"Invalid dtype: {dtype!r}")
    return name


def to_torch_dtype(dtype) -> torch.dtype:
    if isinstance(dtype, torch.dtype):
        return dtype
    return _TORCH_DTYPES[standardize_dtype(dtype)]


def _kind(name: str) -> str:
    return "f" if name == "bfloat16" else name[0]  # b, u, i, f, c


@functools.lru_cache(maxsize=512)
def _promote(keys: frozenset, floatx: str) -> str:
    """Least upper bound of ``(name, is_weak)`` pairs on the JAX/Keras lattice."""
    strong = [n for n, weak in keys if not weak]
    weak_kinds = {_kind(n) for n, weak in keys if weak}
    kinds = {_kind(n) for n in strong}
    precision = floatx[-2:]
    if "c" in kinds or "c" in weak_kinds:
        out = "complex128" if {"float64", "complex128"} & set(strong) else "complex64"
    elif "f" in kinds:
        floats = {n for n in strong if _kind(n) == "f"}
        bits = builtins.max(_BITS[n] for n in floats)
        widest = {n for n in floats if _BITS[n] == bits}
        out = "float32" if len(widest) > 1 else widest.pop()
    elif "f" in weak_kinds:
        out = f"float{precision}"
    elif kinds & {"i", "u"}:
        signed = [_BITS[n] for n in strong if _kind(n) == "i"]
        unsigned = [_BITS[n] for n in strong if _kind(n) == "u"]
        if not unsigned:
            out = f"int{builtins.max(signed)}"
        elif not signed:
            out = f"uint{builtins.max(unsigned)}"
        elif builtins.max(unsigned) >= 64:
            out = f"float{precision}"
        else:
            out = f"int{builtins.max(builtins.max(signed), 2 * builtins.max(unsigned))}"
    elif "i" in weak_kinds:
        out = f"int{precision}"
    else:
        out = "bool"
    return _TO_32_BITS.get(out, out)


def _dtype_key(value) -> tuple[str, bool]:
    if value is int or value is float:
        return standardize_dtype(value), True
    if isinstance(value, torch.Tensor):
        return _NAMES[value.dtype], False
    if isinstance(value, (bool, int, float, complex)):
        return standardize_dtype(type(value)), type(value) in (int, float)
    return standardize_dtype(getattr(value, "dtype", value)), False


def result_type(*dtypes) -> str:
    """The dtype Keras 3 (torch backend) promotes ``dtypes`` to.

    Python ``int``/``float`` (types or values) are weak: they never widen a typed
    operand. Like Keras on torch, 64-bit results are narrowed to 32 bits.
    """
    if not dtypes:
        return config.floatx()
    keys = frozenset(_dtype_key(config.floatx() if d is None else d) for d in dtypes)
    if len(keys) == 1:
        name, weak = next(iter(keys))
        if weak and name != "bool":
            return _promote(keys, config.floatx())
        return _TO_32_BITS.get(name, name)
    return _promote(keys, config.floatx())


# ---------------------------------------------------------------------------------
# Conversion
# ---------------------------------------------------------------------------------


def _scalar_dtype(x) -> torch.dtype:
    if isinstance(x, bool):
        return torch.bool
    if isinstance(x, int):
        return torch.int32 if -(2**31) <= x < 2**31 else torch.int64
    if isinstance(x, float):
        return to_torch_dtype(config.floatx())
    return torch.complex64


def _flat(x):
    for item in x:
        if isinstance(item, (list, tuple)):
            yield from _flat(item)
        else:
            yield item


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None, device=None):
    """A torch tensor from a tensor, NumPy array, Python scalar or nested list.

    Tensors are returned as they are (cast when ``dtype`` is given); NumPy arrays
    keep their dtype; Python ints become int32 and floats ``floatx()``.
    """
    if sparse or ragged:
        raise ValueError(
            "lamina supports dense tensors only; got "
            f"sparse={sparse!r}, ragged={ragged!r}."
        )
    torch_dtype = None if dtype is None else to_torch_dtype(dtype)
    if isinstance(x, torch.Tensor):
        return x if torch_dtype is None or x.dtype == torch_dtype else x.to(torch_dtype)
    device = device or config.get_device()
    if isinstance(x, (bool, int, float, complex)):
        return torch.tensor(x, dtype=torch_dtype or _scalar_dtype(x), device=device)
    if isinstance(x, (list, tuple)):
        if x and builtins.any(isinstance(i, torch.Tensor) for i in x):
            return torch.stack([convert_to_tensor(i, dtype, device=device) for i in x])
        leaves = list(_flat(x))
        if torch_dtype is None:
            torch_dtype = to_torch_dtype(
                result_type(
                    *[
                        i
                        if isinstance(i, (bool, int, float, complex))
                        else getattr(i, "dtype", type(i))
                        for i in leaves
                    ]
                )
            )
        if not builtins.all(isinstance(i, (bool, int, float, complex)) for i in leaves):
            x = np.asarray(x)
        return torch.as_tensor(x, dtype=torch_dtype, device=device)
    if not isinstance(x, np.ndarray):
        x = np.asarray(x)
    if x.dtype == np.uint32 or x.dtype == np.uint16:
        x = x.astype(np.int64 if x.dtype == np.uint32 else np.int32)
    elif x.dtype.name == "bfloat16":
        x, torch_dtype = x.astype(np.float32), torch_dtype or torch.bfloat16
    return torch.as_tensor(x, dtype=torch_dtype, device=device)


def as_tensor(x, device=None) -> torch.Tensor:
    """``x`` itself when it is a tensor, else ``convert_to_tensor(x)`` (on ``device``
    when given). The entry of nearly every op: tensors pass at no cost."""
    return x if isinstance(x, torch.Tensor) else convert_to_tensor(x, device=device)


def as_tensors(*values) -> tuple | list:
    """``values`` as tensors; non-tensors go to the device of the first tensor (which
    may be ``meta`` during shape inference)."""
    for value in values:
        if not isinstance(value, torch.Tensor):
            break
    else:
        return values
    device = next((v.device for v in values if isinstance(v, torch.Tensor)), None)
    return [as_tensor(v, device) for v in values]


def as_operand(value, other: torch.Tensor):
    """``value`` as the second operand of a torch op whose first is ``other``.

    Python numbers stay numbers (torch types them weakly, as Keras does) except
    where torch would choose another dtype than Keras: next to bool tensors, and
    floats next to integer tensors when ``floatx()`` is not float32.
    """
    if isinstance(value, torch.Tensor):
        return value
    if (
        type(value) in (int, float)
        and other.dtype != torch.bool
        and (
            type(value) is int
            or other.is_floating_point()
            or other.is_complex()
            or config.floatx() == "float32"
        )
    ):
        return value
    return convert_to_tensor(value, device=other.device)


def as_operands(x1, x2):
    """The two operands of a binary op: non-tensors converted with ``as_operand``
    next to the tensor one (Python numbers stay weak), or both converted when
    neither is a tensor."""
    if isinstance(x1, torch.Tensor):
        return x1, as_operand(x2, x1)
    if isinstance(x2, torch.Tensor):
        return as_operand(x1, x2), x2
    return convert_to_tensor(x1), convert_to_tensor(x2)


def as_tensor_pair(x1, x2):
    """Both operands as tensors (for torch ops that refuse Python scalars)."""
    x1, x2 = as_operands(x1, x2)
    if not isinstance(x1, torch.Tensor):
        x1 = torch.tensor(x1, dtype=torch.result_type(x2, x1), device=x2.device)
    if not isinstance(x2, torch.Tensor):
        x2 = torch.tensor(x2, dtype=torch.result_type(x1, x2), device=x1.device)
    return x1, x2


def is_int_or_bool(x: torch.Tensor) -> bool:
    """Whether ``x`` holds integers or booleans (neither float nor complex)."""
    return not (x.is_floating_point() or x.is_complex())


def to_floatx_if_int(x: torch.Tensor) -> torch.Tensor:
    """``x`` cast to ``floatx()`` when it holds integers or booleans."""
    return x.to(to_torch_dtype(config.floatx())) if is_int_or_bool(x) else x


def convert_to_numpy(x):
    """A NumPy array (detached, on the CPU; bfloat16 becomes float32)."""
    if isinstance(x, (list, tuple)):
        return np.array([convert_to_numpy(i) for i in x])
    if isinstance(x, torch.Tensor):
        x = x.detach()
        if x.dtype == torch.bfloat16:
            x = x.float()
        return x.cpu().numpy()
    return np.asarray(x)

"""Symbolic tensors: a shape (``None`` for unknown sizes) and a dtype, plus the
history of which layer call produced it.

``KerasTensor`` lives below ``lamina.ops`` so that ops can recognise symbolic
inputs; the graph's ``Node`` lives with the layers (``lamina.layers.keras_tensor``).
Its Python operators are Keras's: ``x + y`` is ``ops.add(x, y)``, ``x[:, 0]`` is
``ops.get_item(x, (slice(None), 0))``, ``x & y`` is ``ops.logical_and``, ``~x``
``ops.logical_not``; ``==`` stays identity (KerasTensors are hashable), ``!=`` is
``ops.not_equal``. The ops are found by name in ``lamina.saving.registry``
(``lamina.ops`` sits above this module).
"""

from __future__ import annotations

import itertools
from typing import Any, NamedTuple

from lamina.saving import registry
from lamina.utils import tree

_tensor_ids = itertools.count()


class KerasHistory(NamedTuple):
    layer: Any
    node_index: int
    tensor_index: int


class KerasTensor:
    """A symbolic tensor: ``shape`` is a tuple that may hold ``None``; ``dtype`` a name."""

    def __init__(
        self, shape, dtype="float32", sparse=False, name=None, record_history=None
    ):
        self._shape = tuple(None if d is None else int(d) for d in shape)
        self._dtype = dtype
        self.sparse = bool(sparse)
        self.name = name or f"keras_tensor_{next(_tensor_ids)}"
        self._keras_history: KerasHistory | None = None
        self._keras_mask: KerasTensor | None = None

    @property
    def shape(self) -> tuple:
        return self._shape

    @property
    def dtype(self) -> str:
        return self._dtype

    @property
    def ndim(self) -> int:
        return len(self._shape)

    def __len__(self):
        if not self._shape or self._shape[0] is None:
            raise TypeError(
                f"len() of a KerasTensor with unknown first dimension "
                f"(shape {self._shape}) is undefined."
            )
        return self._shape[0]

    def __iter__(self):
        raise TypeError(
            f"A KerasTensor (shape {self._shape}) is symbolic: it has no values to iterate. "
            "Pass it to a layer or a `lamina.ops` function to compute with it."
        )

    def __bool__(self):
        raise TypeError(
            "A KerasTensor is symbolic: it cannot be used as a Python bool."
        )

    # NumPy defers to the reflected operators (``np.ones(3) + x`` is ``x.__radd__``)
    # instead of converting the tensor (Keras on torch raises there).
    __array_ufunc__ = None

    def __array__(self, *args, **kwargs):
        raise TypeError(
            f"A KerasTensor (shape {self._shape}) is symbolic and cannot be converted to a "
            "NumPy array. Build a Model from it and call the model on data instead."
        )

    def __repr__(self):
        return (
            f"<KerasTensor shape={self._shape}, dtype={self._dtype}, "
            f"sparse={self.sparse}, name={self.name}>"
        )

    def reshape(self, newshape):
        """``ops.reshape(self, newshape)``."""
        return registry.lookup("ops", "reshape")(self, newshape)

    def squeeze(self, axis=None):
        """``ops.squeeze(self, axis)``."""
        return registry.lookup("ops", "squeeze")(self, axis)

    def __round__(self, ndigits=None):
        return registry.lookup("ops", "round")(self, decimals=ndigits or 0)


# Keras's KerasTensor operators: method -> (ops function, operands swapped).
_OPERATORS = {
    "__add__": ("add", False),
    "__radd__": ("add", True),
    "__sub__": ("subtract", False),
    "__rsub__": ("subtract", True),
    "__mul__": ("multiply", False),
    "__rmul__": ("multiply", True),
    "__matmul__": ("matmul", False),
    "__rmatmul__": ("matmul", True),
    "__truediv__": ("true_divide", False),
    "__rtruediv__": ("true_divide", True),
    "__floordiv__": ("floor_divide", False),
    "__rfloordiv__": ("floor_divide", True),
    "__mod__": ("mod", False),
    "__rmod__": ("mod", True),
    "__pow__": ("power", False),
    "__rpow__": ("power", True),
    "__lt__": ("less", False),
    "__le__": ("less_equal", False),
    "__gt__": ("greater", False),
    "__ge__": ("greater_equal", False),
    "__ne__": ("not_equal", False),
    "__and__": ("logical_and", False),
    "__rand__": ("logical_and", True),
    "__or__": ("logical_or", False),
    "__ror__": ("logical_or", True),
    "__xor__": ("logical_xor", False),
    "__rxor__": ("logical_xor", True),
    "__getitem__": ("get_item", False),
}
_UNARY_OPERATORS = {
    "__neg__": "negative",
    "__abs__": "absolute",
    "__invert__": "logical_not",
}


def _binary_operator(function: str, swapped: bool):
    def operator(self, other):
        fn = registry.lookup("ops", function)
        return fn(other, self) if swapped else fn(self, other)

    return operator


def _unary_operator(function: str):
    def operator(self):
        return registry.lookup("ops", function)(self)

    return operator


for _method, (_function, _swapped) in _OPERATORS.items():
    setattr(KerasTensor, _method, _binary_operator(_function, _swapped))
for _method, _function in _UNARY_OPERATORS.items():
    setattr(KerasTensor, _method, _unary_operator(_function))


def is_keras_tensor(x) -> bool:
    return isinstance(x, KerasTensor)


def any_symbolic(structure) -> bool:
    if type(structure) is KerasTensor:
        return True
    if isinstance(structure, (list, tuple, dict)):
        return any(isinstance(leaf, KerasTensor) for leaf in tree.flatten(structure))
    return False

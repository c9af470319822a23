"""Symbolic tensors: a shape (``None`` for unknown sizes) and a dtype, plus the
history of which layer call produced it.

``KerasTensor`` lives below ``lamina.ops`` so that ops can recognise symbolic
inputs; the graph's ``Node`` lives with the layers (``lamina.layers.keras_tensor``).
"""

from __future__ import annotations

import itertools
from typing import Any, NamedTuple

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


def is_keras_tensor(x) -> bool:
    return isinstance(x, KerasTensor)


def any_symbolic(structure) -> bool:
    if type(structure) is KerasTensor:
        return True
    if isinstance(structure, (list, tuple, dict)):
        return any(isinstance(leaf, KerasTensor) for leaf in tree.flatten(structure))
    return False

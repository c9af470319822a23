"""Keras 3 weight regularizers: penalties added to the loss.

A regularizer is called on a weight tensor and returns a scalar tensor of the same
dtype: ``L1(0.01)(w) == 0.01 * w.abs().sum()``.
"""

from __future__ import annotations

import math
import numbers

import torch

from lamina import config
from lamina.saving import serialization
from lamina.utils.validation import arg_error, shape_error


def _penalty_factor(owner, arg: str, value, default: float) -> float:
    """A finite number >= 0 as a float; ``None`` means ``default``."""
    if value is None:
        return default
    number = value
    if isinstance(value, torch.Tensor) and value.ndim == 0:
        number = value.item()
    ok = isinstance(number, numbers.Real) and not isinstance(number, bool)
    if not ok or not math.isfinite(number) or number < 0:
        raise arg_error(owner, arg, "a finite number >= 0", value)
    return float(number)


class Regularizer:
    """Base class: subclasses implement ``__call__(weight)`` and ``get_config()``.

    Any function from a weight tensor to a scalar tensor also works as a
    regularizer.
    """

    _keras_module = "keras.regularizers"

    def __call__(self, weight) -> torch.Tensor:
        """The penalty for ``weight`` (the base class adds none)."""
        return torch.zeros((), dtype=torch.as_tensor(weight).dtype)

    def get_config(self) -> dict:
        """The constructor arguments (Keras 3 keys)."""
        raise NotImplementedError(
            f"{type(self).__name__} does not implement get_config()"
        )

    @classmethod
    def from_config(cls, config: dict):
        """Rebuild a regularizer from ``get_config()`` output."""
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class L1L2(Regularizer):
    """``l1 * sum(abs(w)) + l2 * sum(square(w))``.

    Args:
        l1: L1 factor, a finite number >= 0 (``None`` means 0).
        l2: L2 factor, a finite number >= 0 (``None`` means 0).

    Raises:
        ValueError: for a negative, infinite or non-numeric factor.
    """

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _penalty_factor(self, "l1", l1, 0.0)
        self.l2 = _penalty_factor(self, "l2", l2, 0.0)

    def __call__(self, weight):
        penalty = torch.zeros((), dtype=weight.dtype, device=weight.device)
        if self.l1:
            penalty = penalty + self.l1 * torch.sum(torch.abs(weight))
        if self.l2:
            penalty = penalty + self.l2 * torch.sum(torch.square(weight))
        return penalty

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """``l1 * sum(abs(w))``.

    Args:
        l1: L1 factor, a finite number >= 0 (``None`` means 0.01).

    Raises:
        ValueError: for a negative, infinite or non-numeric factor.

    Example:
        >>> L1(0.5)(torch.tensor([1.0, -2.0]))
        tensor(1.5000)
    """

    def __init__(self, l1=0.01):
        self.l1 = _penalty_factor(self, "l1", l1, 0.01)

    def __call__(self, weight):
        return self.l1 * torch.sum(torch.abs(weight))

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """``l2 * sum(square(w))``.

    Args:
        l2: L2 factor, a finite number >= 0 (``None`` means 0.01).

    Raises:
        ValueError: for a negative, infinite or non-numeric factor.
    """

    def __init__(self, l2=0.01):
        self.l2 = _penalty_factor(self, "l2", l2, 0.01)

    def __call__(self, weight):
        return self.l2 * torch.sum(torch.square(weight))

    def get_config(self):
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Pushes the rows (or columns) of a 2-D weight towards mutual orthogonality.

    The penalty is ``factor / 2`` times the mean absolute dot product between
    distinct L2-normalized rows (``mode="rows"``) or columns (``mode="columns"``).

    Args:
        factor: Regularization factor, a finite number >= 0.
        mode: ``"rows"`` or ``"columns"``.

    Raises:
        ValueError: for a bad ``factor`` or ``mode``; when called on a weight that
            is not 2-D.
    """

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = _penalty_factor(self, "factor", factor, 0.01)
        if mode not in ("rows", "columns"):
            raise arg_error(self, "mode", "one of 'rows', 'columns'", mode)
        self.mode = mode

    def __call__(self, weight):
        if weight.ndim != 2:
            raise shape_error(self, "a 2-D weight", tuple(weight.shape))
        vectors = weight if self.mode == "rows" else weight.T
        # Keras's normalize: x * min(rsqrt(sum(x**2)), 1 / epsilon).
        inverse_norm = torch.rsqrt(torch.sum(torch.square(vectors), 1, keepdim=True))
        vectors = vectors * torch.clamp(inverse_norm, max=1.0 / config.epsilon())
        size = vectors.shape[0]
        product = vectors @ vectors.T
        eye = torch.eye(size, dtype=weight.dtype, device=weight.device)
        off_diagonal = product * (1.0 - eye)
        pairs = size * (size - 1.0) / 2.0
        return self.factor * 0.5 * torch.sum(torch.abs(off_diagonal)) / pairs

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


l1, l2, l1_l2, orthogonal_regularizer = L1, L2, L1L2, OrthogonalRegularizer

ALL_OBJECTS_DICT = {
    "Regularizer": Regularizer,
    "regularizer": Regularizer,
    "L1": L1,
    "l1": L1,
    "L2": L2,
    "l2": L2,
    "L1L2": L1L2,
    "l1l2": L1L2,
    "l1_l2": L1L2,
    "OrthogonalRegularizer": OrthogonalRegularizer,
    "orthogonal_regularizer": OrthogonalRegularizer,
}


serialize, deserialize, get = serialization.module_api(ALL_OBJECTS_DICT, "regularizer")

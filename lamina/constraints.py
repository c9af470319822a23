"""Keras 3 weight constraints: projections applied to weights after each update.

A constraint is called on a weight tensor and returns the projected tensor. Norms
are taken over ``axis`` (for a ``Dense`` kernel ``(input_dim, units)``, ``axis=0``
constrains each unit's incoming weights; for a ``Conv2D`` kernel use
``axis=[0, 1, 2]``) and divided by ``epsilon() + norm`` exactly as Keras does.
"""

from __future__ import annotations

import numbers

import torch

from lamina import config
from lamina.saving import serialization
from lamina.utils.validation import arg_error, check_float


def _check_axis(owner, axis):
    """An int or a list/tuple of ints, returned as given (Keras keeps it so)."""
    items = axis if isinstance(axis, (list, tuple)) else [axis]
    if not items or any(isinstance(a, bool) or not isinstance(a, int) for a in items):
        raise arg_error(owner, "axis", "an int or a list of ints", axis)
    return axis


def _check_number(owner, arg: str, value, low=0.0, high=float("inf")) -> float:
    """``value`` must be a real number (not a string or bool) in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise arg_error(owner, arg, f"a number in [{low}, {high}]", value)
    return check_float(owner, arg, value, low=low, high=high)


def _norms(weight: torch.Tensor, axis) -> torch.Tensor:
    return torch.sqrt(torch.sum(torch.square(weight), dim=axis, keepdim=True))


def _tensor(weight) -> torch.Tensor:
    return weight if isinstance(weight, torch.Tensor) else torch.as_tensor(weight)


class Constraint:
    """Base class: subclasses implement ``__call__(w)``; the base returns ``w``."""

    _keras_module = "keras.constraints"

    def __call__(self, w) -> torch.Tensor:
        """The projection of ``w`` (unchanged by the base class)."""
        return w

    def get_config(self) -> dict:
        """The constructor arguments (Keras 3 keys)."""
        return {}

    @classmethod
    def from_config(cls, config: dict):
        """Rebuild a constraint from ``get_config()`` output."""
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class MaxNorm(Constraint):
    """Scales weight vectors whose L2 norm exceeds ``max_value`` down to it.

    Args:
        max_value: Largest norm allowed, a number >= 0.
        axis: Axis or axes along which norms are taken.

    Raises:
        ValueError: for a negative ``max_value`` or a non-integer ``axis``.

    Example:
        >>> MaxNorm(1.0)(torch.tensor([[3.0], [4.0]]))
        tensor([[0.6000],
                [0.8000]])
    """

    def __init__(self, max_value=2, axis=0):
        _check_number(self, "max_value", max_value)
        self.max_value = max_value
        self.axis = _check_axis(self, axis)

    def __call__(self, w):
        w = _tensor(w)
        norms = _norms(w, self.axis)
        desired = torch.clamp(norms, 0, self.max_value)
        return w * (desired / (config.epsilon() + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class MinMaxNorm(Constraint):
    """Moves the L2 norm of weight vectors into ``[min_value, max_value]``.

    Each norm becomes ``rate * clip(norm, min_value, max_value) + (1 - rate) *
    norm``: ``rate=1`` enforces the bounds at once, smaller rates step towards them.

    Args:
        min_value: Smallest norm allowed, a number >= 0.
        max_value: Largest norm allowed, at least ``min_value``.
        rate: Enforcement rate in ``[0, 1]``.
        axis: Axis or axes along which norms are taken.

    Raises:
        ValueError: for a bound, rate or axis outside those rules.
    """

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        low = _check_number(self, "min_value", min_value)
        _check_number(self, "max_value", max_value, low=low)
        _check_number(self, "rate", rate, high=1.0)
        self.min_value = min_value
        self.max_value = max_value
        self.rate = rate
        self.axis = _check_axis(self, axis)

    def __call__(self, w):
        w = _tensor(w)
        norms = _norms(w, self.axis)
        clipped = torch.clamp(norms, self.min_value, self.max_value)
        desired = self.rate * clipped + (1 - self.rate) * norms
        return w * (desired / (config.epsilon() + norms))

    def get_config(self):
        return {
            "min_value": self.min_value,
            "max_value": self.max_value,
            "rate": self.rate,
            "axis": self.axis,
        }


class NonNeg(Constraint):
    """Sets negative weights to 0."""

    def __call__(self, w):
        return torch.clamp(_tensor(w), min=0)


class UnitNorm(Constraint):
    """Scales weight vectors to unit L2 norm.

    Args:
        axis: Axis or axes along which norms are taken.

    Raises:
        ValueError: for a non-integer ``axis``.
    """

    def __init__(self, axis=0):
        self.axis = _check_axis(self, axis)

    def __call__(self, w):
        w = _tensor(w)
        return w / (config.epsilon() + _norms(w, self.axis))

    def get_config(self):
        return {"axis": self.axis}


max_norm, min_max_norm, non_neg, unit_norm = MaxNorm, MinMaxNorm, NonNeg, UnitNorm

ALL_OBJECTS_DICT = {
    "Constraint": Constraint,
    "constraint": Constraint,
    "MaxNorm": MaxNorm,
    "max_norm": MaxNorm,
    "MinMaxNorm": MinMaxNorm,
    "min_max_norm": MinMaxNorm,
    "NonNeg": NonNeg,
    "non_neg": NonNeg,
    "UnitNorm": UnitNorm,
    "unit_norm": UnitNorm,
}


serialize, deserialize, get = serialization.module_api(ALL_OBJECTS_DICT, "constraint")

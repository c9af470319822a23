"""What the normalization layers share: the ``axis`` argument (checked when given,
resolved against the input's rank at build), the learned ``gamma``/``beta`` pair
with its options, and the family's docstring paragraphs.

``BaseNormalization`` is the base of the layers with ``center``/``scale``
(BatchNormalization, LayerNormalization, GroupNormalization); its ``**kwargs``
are ``Layer``'s. The arithmetic lives in ``lamina.ops.normalization``.
"""

from __future__ import annotations

import torch

from lamina.layers.layer import Layer
from lamina.layers.weight_options import (
    set_weight_options,
    weight_options,
    weight_options_config,
)
from lamina.utils.validation import arg_error, check_float, describe

ARGS = {
    "epsilon": """epsilon: small float added to the variance to avoid dividing by
    zero (default 1e-3).""",
    "center": """center: whether to add the learned offset ``beta`` (default
    True).""",
    "scale": """scale: whether to multiply by the learned ``gamma`` (default True).
    Off, for instance, when the next layer is linear.""",
    "gamma_beta_args": """beta_initializer, gamma_initializer: default ``"zeros"``,
    ``"ones"``.
beta_regularizer, gamma_regularizer: optional.
beta_constraint, gamma_constraint: optional, applied after updates.""",
}


def check_axis(owner, axis, lists: bool = True):
    """``axis`` as given: an int, or (``lists``) a list of ints (a tuple becomes a
    list, as Keras stores it). Raises TypeError, as Keras does, for anything else."""
    if isinstance(axis, int) and not isinstance(axis, bool):
        return axis
    if lists and isinstance(axis, (list, tuple)):
        if axis and all(isinstance(a, int) and not isinstance(a, bool) for a in axis):
            return list(axis)
    rule = "an int or a non-empty list of ints" if lists else "an int"
    raise arg_error(owner, "axis", rule, axis, TypeError)


def resolve_axes(owner, axis, input_shape) -> tuple[int, ...]:
    """The non-negative, sorted axes ``axis`` names in an input of ``input_shape``;
    a ValueError for an axis out of range or named twice."""
    rank = len(input_shape)
    axes = [axis] if isinstance(axis, int) else list(axis)
    if any(not -rank <= a < rank for a in axes):
        raise ValueError(
            f"{describe(owner)}: `axis` must name axes of the input (each between "
            f"{-rank} and {rank - 1}); got axis={axis!r} for input shape "
            f"{tuple(input_shape)}."
        )
    resolved = sorted(a % rank for a in axes)
    if len(set(resolved)) != len(resolved):
        raise ValueError(
            f"{describe(owner)}: `axis` must name each axis once; got axis={axis!r} "
            f"for input shape {tuple(input_shape)}."
        )
    return tuple(resolved)


def known_sizes(owner, input_shape, axes) -> tuple[int, ...]:
    """The sizes of ``axes`` (weights are made with them), which must be known."""
    sizes = tuple(input_shape[a] for a in axes)
    if any(size is None for size in sizes):
        raise ValueError(
            f"{describe(owner)}: the normalized axes {list(axes)} must have known "
            f"sizes to make the weights; got input shape {tuple(input_shape)}."
        )
    return sizes


def cast(tensor, dtype):
    """``tensor`` (or None) in ``dtype``; itself when it already is (``.to`` costs
    microseconds even then, which batch-1 calls feel)."""
    if tensor is None or tensor.dtype == dtype:
        return tensor
    return tensor.to(dtype)


def at_least_float32(x):
    """``x`` in float32, or float64 if it is: the normalizations compute their
    statistics in at least float32 (half precision overflows), as Keras."""
    return x if x.dtype in _WIDE_FLOATS else x.float()


_WIDE_FLOATS = (torch.float32, torch.float64)


def broadcast_shape(rank: int, axes, sizes) -> list[int]:
    """``[1, ..., size, ..., 1]``: a weight over ``axes`` reshaped to broadcast
    against an input of ``rank``."""
    shape = [1] * rank
    for axis, size in zip(axes, sizes):
        shape[axis] = size
    return shape


class BaseNormalization(Layer):
    """Base of the normalization layers with a learned ``gamma`` and ``beta`` (not
    public).

    Args:
        epsilon, center, scale: as in the public classes.
        beta_initializer ... gamma_constraint: the weights' options.
        **kwargs: ``Layer``'s arguments.
    """

    _preserves_shape = True  # symbolic calls need no stand-in run

    def __init__(
        self,
        *,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.epsilon = check_float(self, "epsilon", epsilon, low=0.0)
        self.center = bool(center)
        self.scale = bool(scale)
        set_weight_options(
            self, "beta", beta_initializer, beta_regularizer, beta_constraint
        )
        set_weight_options(
            self, "gamma", gamma_initializer, gamma_regularizer, gamma_constraint
        )
        self.gamma = None
        self.beta = None
        self.supports_masking = True

    def _add_gamma_beta(self, shape, gamma: bool, beta: bool) -> None:
        """``gamma`` then ``beta`` (Keras's order), each when asked for."""
        if gamma:
            self.gamma = self.add_weight(
                shape=shape, name="gamma", **weight_options(self, "gamma")
            )
        if beta:
            self.beta = self.add_weight(
                shape=shape, name="beta", **weight_options(self, "beta")
            )

    def _spread(self, weight):
        """A weight (or statistic) reshaped to broadcast against the input (the
        ``_broadcast`` shape set at build)."""
        return None if weight is None else weight.reshape(self._broadcast)

    def _gamma_beta_config(self) -> dict:
        return {
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            **weight_options_config(self, "beta", "gamma"),
        }

    def compute_output_shape(self, input_shape):
        resolve_axes(self, self.axis, input_shape)
        return tuple(input_shape)

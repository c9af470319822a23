"""Normalization: ``(x - mean) / sqrt(variance)`` with given or adapted statistics."""

from __future__ import annotations

import math

import numpy as np
import torch

from lamina import config
from lamina.layers.docs import fill_docs
from lamina.layers.preprocessing.base import (
    PreprocessingLayer,
    batches,
    empty_adapt_error,
)
from lamina.utils.validation import arg_error, describe, shape_error


@fill_docs()
class Normalization(PreprocessingLayer):
    """Shifts and scales inputs to mean 0 and standard deviation 1 per feature.

    The layer computes ``(inputs - mean) / max(sqrt(variance), epsilon)`` with
    the mean and variance given at construction or learned by ``adapt()``
    (``invert=True`` computes ``mean + inputs * max(sqrt(variance), epsilon)``).

    Args:
        axis: int, tuple of ints or None: the axes that keep their own mean and
            variance (default ``-1``, one per feature of the last axis); the other
            axes are reduced. ``None`` normalizes with one scalar mean and variance.
        mean: optional mean, broadcast to the kept axes; needs ``variance``.
        variance: optional variance, broadcast to the kept axes; needs ``mean``.
        invert: apply the inverse transformation (de-normalize).
        {kwargs}

    Input shape:
        Any shape; the kept axes must have known sizes.

    Output shape:
        The input shape, in the compute dtype (float32).

    Weights:
        Without ``mean``/``variance``: non-trainable ``mean`` and ``variance``
        (the sizes of the kept axes) and ``count`` (int32 scalar, kept at 0 as
        Keras keeps it). With them: none (the values live in the config).

    Raises:
        ValueError: only one of ``mean``/``variance``; their shapes differ or have
            more axes than ``axis``; an ``axis`` outside the input's rank or over
            an unknown size; ``adapt`` data whose kept sizes differ from the built
            ones; a call before the statistics exist.

    Example:
    >>> import numpy as np
    >>> import lamina as keras
    >>> layer = keras.layers.Normalization(axis=None)
    >>> layer.adapt(np.array([1.0, 2.0, 3.0, 4.0, 5.0], "float32"))
    >>> layer(np.array([1.0, 2.0, 3.0], "float32")).numpy().round(4)
    array([-1.4142, -0.7071,  0.    ], dtype=float32)
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, int) and not isinstance(axis, bool):
            axis = (axis,)
        else:
            try:
                axis = tuple(int(a) for a in axis)
            except (TypeError, ValueError):
                raise arg_error(
                    self, "axis", "an int, a tuple of ints or None", axis
                ) from None
        self.axis = axis
        self.input_mean, self.input_variance = mean, variance
        self.invert = bool(invert)
        self.supports_masking = True
        self._check_statistics(mean, variance)
        self._build_input_shape = None
        self._given = None  # (mean, variance) broadcast tensors, when given

    def _check_statistics(self, mean, variance) -> None:
        if (mean is None) != (variance is None):
            given, missing = (
                ("mean", "variance")
                if variance is None
                else (
                    "variance",
                    "mean",
                )
            )
            raise arg_error(self, missing, f"set together with `{given}`", None)
        if mean is None:
            return
        if np.shape(mean) != np.shape(variance):
            raise arg_error(
                self,
                "variance",
                f"of the shape of `mean` {np.shape(mean)}",
                variance,
            )
        if len(np.shape(mean)) > len(self.axis):
            raise arg_error(
                self,
                "mean",
                f"of rank <= the number of kept axes ({len(self.axis)}, "
                f"axis={self.axis})",
                mean,
            )

    def build(self, input_shape):
        if input_shape is None:
            return
        input_shape = tuple(input_shape)
        ndim = len(input_shape)
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise arg_error(
                self,
                "axis",
                f"axes within the inputs' rank {ndim} (shape {input_shape})",
                self.axis,
            )
        self._build_input_shape = input_shape
        self._keep_axis = tuple(sorted(a % ndim for a in self.axis))
        unknown = [a for a in self._keep_axis if input_shape[a] is None]
        if unknown:
            raise shape_error(
                self, f"known sizes on the kept axes {self._keep_axis}", input_shape
            )
        self._reduce_axis = tuple(a for a in range(ndim) if a not in self._keep_axis)
        self._broadcast_shape = [
            input_shape[a] if a in self._keep_axis else 1 for a in range(ndim)
        ]
        shape = tuple(input_shape[a] for a in self._keep_axis)
        self._statistics_shape = shape
        if self.input_mean is None:
            self.adapt_mean = self.add_weight(
                shape=shape, initializer="zeros", trainable=False, name="mean"
            )
            self.adapt_variance = self.add_weight(
                shape=shape, initializer="ones", trainable=False, name="variance"
            )
            self.count = self.add_weight(
                shape=(),
                dtype="int32",
                initializer="zeros",
                trainable=False,
                name="count",
            )
        else:
            self._given = tuple(
                self._broadcast(value)
                for value in (self.input_mean, self.input_variance)
            )

    def _broadcast(self, value) -> torch.Tensor:
        """A given statistic aligned on the trailing kept axes, then broadcast."""
        value = np.asarray(value, dtype=np.float64)
        expanded = [1] * len(self._broadcast_shape)
        for i in range(1, value.ndim + 1):
            expanded[self._keep_axis[-i]] = value.shape[-i]
        value = np.broadcast_to(value.reshape(expanded), self._broadcast_shape)
        return torch.as_tensor(
            np.array(value),
            dtype=self._compute_torch_dtype,
            device=config.get_device(),
        )

    # ---------------------------------------------------------------- adapt
    def adapt(self, data, batch_size=None, steps=None):
        """Compute the mean and variance of ``data`` (an array, a tensor, or an
        iterable of batches such as a list of arrays or a ``DataLoader``) over
        the reduced axes, and store them in the ``mean``/``variance`` weights."""
        iterator = batches(self, data, steps, lists_are_batches=True)
        first = next(iterator, None)
        if first is None:
            raise empty_adapt_error(self)
        if not self.built:
            self.build(tuple(first.shape))
            self._mark_built(tuple(first.shape))
        if self.input_mean is not None:
            raise ValueError(
                f"{describe(self)}: adapt() cannot change the `mean` and `variance` "
                "given at construction; create the layer without them to adapt it."
            )
        parts = [first, *iterator]
        for part in parts:
            self._check_adapt_shape(tuple(part.shape))
        if len(parts) == 1 and isinstance(first, np.ndarray):
            mean = np.mean(first, axis=self._reduce_axis)
            variance = np.var(first, axis=self._reduce_axis)
        else:
            mean, variance = self._merged_moments(parts)
        with torch.no_grad():
            self.adapt_mean.copy_(
                torch.as_tensor(np.asarray(mean)).reshape(self._statistics_shape)
            )
            self.adapt_variance.copy_(
                torch.as_tensor(np.asarray(variance)).reshape(self._statistics_shape)
            )

    def _check_adapt_shape(self, shape) -> None:
        built = self._build_input_shape
        if len(shape) != len(built) or any(
            shape[a] != built[a] for a in self._keep_axis
        ):
            raise ValueError(
                f"{describe(self)}: adapt() data of shape {shape} does not fit the layer "
                f"built for inputs of shape {built} (the kept axes "
                f"{self._keep_axis} must agree)."
            )

    def _merged_moments(self, parts):
        """Mean and variance over several batches, merged as Keras merges them
        (a running weighted update in the compute dtype)."""
        mean = torch.zeros(self._statistics_shape, dtype=self._compute_torch_dtype)
        variance = torch.zeros_like(mean)
        total = 0
        for part in parts:
            batch = torch.as_tensor(
                np.asarray(part) if not isinstance(part, torch.Tensor) else part
            )
            batch = batch.to(self._compute_torch_dtype).cpu()
            batch_mean = (
                batch.mean(dim=self._reduce_axis) if self._reduce_axis else batch
            )
            batch_var = (
                batch.var(dim=self._reduce_axis, unbiased=False)
                if self._reduce_axis
                else torch.zeros_like(batch)
            )
            count = math.prod(batch.shape[a] for a in self._reduce_axis)
            total += count
            weight = float(count) / total
            new_mean = mean * (1.0 - weight) + batch_mean * weight
            variance = (variance + (mean - new_mean) ** 2) * (1.0 - weight) + (
                batch_var + (batch_mean - new_mean) ** 2
            ) * weight
            mean = new_mean
        return mean, variance

    # ----------------------------------------------------------------- call
    def _statistics(self):
        if self._given is not None:
            return self._given
        shape = self._broadcast_shape
        mean = self.adapt_mean.reshape(shape).to(self._compute_torch_dtype)
        return mean, self.adapt_variance.reshape(shape).to(self._compute_torch_dtype)

    def call(self, inputs):
        if not isinstance(inputs, torch.Tensor):
            inputs = torch.as_tensor(np.asarray(inputs))
        inputs = inputs.to(self._compute_torch_dtype)
        mean, variance = self._statistics()
        scale = torch.clamp(torch.sqrt(variance), min=config.epsilon())
        if self.invert:
            return mean + inputs * scale
        return (inputs - mean) / scale

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_build_config(self):
        if self._build_input_shape:
            return {"input_shape": list(self._build_input_shape)}
        return None

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "invert": self.invert,
            "mean": np.array(self.input_mean).tolist(),
            "variance": np.array(self.input_variance).tolist(),
        }

"""LayerNormalization: normalize each sample over its feature axes."""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F

from lamina.layers.docs import fill_docs
from lamina.layers.normalization.base_normalization import (
    ARGS,
    BaseNormalization,
    at_least_float32,
    broadcast_shape,
    cast,
    check_axis,
    known_sizes,
    resolve_axes,
)
from lamina.ops import normalization as norm

RMS_SCALING_WARNING = (
    "You passed `rms_scaling=True`, which is deprecated. This argument incorrectly "
    "scales the input by the variance, not the root mean square. To correctly use "
    "RMS Normalization, please use `keras.layers.RMSNormalization` instead."
)


@fill_docs(ARGS)
class LayerNormalization(BaseNormalization):
    """Normalizes each sample over ``axis``: ``gamma * (x - mean) / sqrt(var +
    epsilon) + beta``, ``mean`` and ``var`` (biased) over ``axis`` of that sample
    alone, so training and inference compute the same.

    Args:
        axis: int or list of ints, the axes to normalize over (default -1);
            ``gamma`` and ``beta`` span them. Normalizing leading axes (say
            ``axis=1`` of a rank-3 input) is exact here; Keras 3 on its torch
            backend then normalizes the last axis instead (or fails), so those
            cases follow TensorFlow/JAX.
        {epsilon}
        {center}
        {scale}
        rms_scaling: deprecated in Keras 3 (with its warning): ``x / sqrt(var +
            epsilon) * gamma``, no centring and no ``beta``. For the RMS norm use
            ``RMSNormalization``.
        {gamma_beta_args}
        {kwargs}

    Input shape:
        Any; ``axis`` must exist. Output shape: the input shape.

    Weights:
        ``gamma`` (if ``scale`` or ``rms_scaling``), then ``beta`` (if ``center``
        and not ``rms_scaling``), each of the sizes of the sorted ``axis``.

    Raises:
        TypeError: ``axis`` not an int or list of ints.
        ValueError: a negative ``epsilon``; at build, an axis out of range or of
            unknown size.

    Example:
    >>> import lamina as keras
    >>> layer = keras.layers.LayerNormalization(epsilon=0.0)
    >>> x = keras.ops.convert_to_tensor([[1.0, 3.0], [10.0, 20.0]])
    >>> print(keras.ops.convert_to_numpy(layer(x)).round(3))
    [[-1.  1.]
     [-1.  1.]]
    """

    def __init__(
        self,
        axis=-1,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        rms_scaling=False,
        **kwargs,
    ):
        if rms_scaling:
            warnings.warn(RMS_SCALING_WARNING, stacklevel=2)
        super().__init__(
            epsilon=epsilon,
            center=center,
            scale=scale,
            beta_initializer=beta_initializer,
            gamma_initializer=gamma_initializer,
            beta_regularizer=beta_regularizer,
            gamma_regularizer=gamma_regularizer,
            beta_constraint=beta_constraint,
            gamma_constraint=gamma_constraint,
            **kwargs,
        )
        self.axis = check_axis(self, axis)
        self.rms_scaling = bool(rms_scaling)
        self.autocast = False  # computes in float32 at least, as Keras

    def build(self, input_shape):
        axes = resolve_axes(self, self.axis, input_shape)
        sizes = known_sizes(self, input_shape, axes)
        rank = len(input_shape)
        # Keras's weight shape: the sizes of `axis` sorted as given (negative
        # axes first), reshaped in `call` to the input's order.
        self.axis = sorted(self.axis) if isinstance(self.axis, list) else [self.axis]
        shape = tuple(input_shape[a] for a in self.axis)
        self._axes = axes
        self._broadcast = broadcast_shape(rank, axes, sizes)
        trailing = axes == tuple(range(rank - len(axes), rank))
        self._normalized_shape = sizes if trailing else None
        self._add_gamma_beta(
            shape, self.scale or self.rms_scaling, self.center and not self.rms_scaling
        )

    def call(self, inputs):
        x = at_least_float32(inputs)
        gamma, beta = cast(self.gamma, x.dtype), cast(self.beta, x.dtype)
        if self.rms_scaling:
            variance = torch.var(x, dim=self._axes, correction=0, keepdim=True)
            outputs = norm.normalize(
                x, None, variance, self._spread(gamma), None, self.epsilon
            )
        elif self._normalized_shape is not None:
            shape = self._normalized_shape
            outputs = F.layer_norm(
                x,
                shape,
                None if gamma is None else gamma.reshape(shape),
                None if beta is None else beta.reshape(shape),
                self.epsilon,
            )
        else:
            mean, variance = norm.compute_stats(x, self._axes)
            outputs = norm.normalize(
                x,
                mean,
                variance,
                self._spread(gamma),
                self._spread(beta),
                self.epsilon,
            )
        return cast(outputs, self._compute_torch_dtype)

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            **self._gamma_beta_config(),
            "rms_scaling": self.rms_scaling,
        }

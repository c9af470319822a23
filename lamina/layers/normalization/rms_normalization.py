"""RMSNormalization: scale by the inverse root mean square over some axes."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from lamina.layers.layer import Layer
from lamina.layers.normalization.base_normalization import (
    at_least_float32,
    broadcast_shape,
    cast,
    check_axis,
    known_sizes,
    resolve_axes,
)
from lamina.ops import normalization as norm
from lamina.utils.validation import check_float


class RMSNormalization(Layer):
    """Root mean square normalization (Zhang and Sennrich, 2019): ``x *
    rsqrt(mean(x ** 2) + epsilon) * scale`` over ``axis``, without centring.

    Computed in float32 at least; the output has the input's dtype.

    Args:
        axis: int or list of ints, the axes to normalize over (default -1).
            Leading axes are normalized exactly here; Keras 3 on its torch backend
            normalizes the last ones instead, so those cases follow TensorFlow/JAX.
        epsilon: small float added to the mean square (default 1e-6).
        **kwargs: ``name``, ``dtype``, ``trainable``, ... (see ``Layer``).

    Input shape:
        Any; ``axis`` must exist. Output shape: the input shape.

    Weights:
        ``scale``, of the sizes of the sorted ``axis``, initialized to ones.

    Raises:
        TypeError: ``axis`` not an int or list of ints.
        ValueError: a negative ``epsilon``; at build, an axis out of range or of
            unknown size.

    Example:
    >>> import lamina as keras
    >>> layer = keras.layers.RMSNormalization(epsilon=0.0)
    >>> x = keras.ops.convert_to_tensor([[3.0, 4.0]])
    >>> print(keras.ops.convert_to_numpy(layer(x)).round(4))
    [[0.8485 1.1314]]
    """

    _preserves_shape = True  # symbolic calls need no stand-in run

    def __init__(self, axis=-1, epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.axis = check_axis(self, axis)
        self.epsilon = check_float(self, "epsilon", epsilon, low=0.0)

    def build(self, input_shape):
        axes = resolve_axes(self, self.axis, input_shape)
        sizes = known_sizes(self, input_shape, axes)
        rank = len(input_shape)
        self.axis = sorted(self.axis) if isinstance(self.axis, list) else [self.axis]
        shape = tuple(input_shape[a] for a in self.axis)
        self._axes = axes
        self._broadcast = broadcast_shape(rank, axes, sizes)
        trailing = axes == tuple(range(rank - len(axes), rank))
        self._normalized_shape = sizes if trailing else None
        self.scale = self.add_weight(shape=shape, name="scale", initializer="ones")

    def call(self, inputs):
        x = at_least_float32(inputs)
        scale = cast(self.scale, x.dtype)
        if self._normalized_shape is not None:
            shape = self._normalized_shape
            outputs = F.rms_norm(x, shape, scale.reshape(shape), self.epsilon)
        else:
            mean_square = torch.mean(torch.square(x), dim=self._axes, keepdim=True)
            outputs = norm.normalize(
                x, None, mean_square, scale.reshape(self._broadcast), None, self.epsilon
            )
        return cast(outputs, inputs.dtype)

    def compute_output_shape(self, input_shape):
        resolve_axes(self, self.axis, input_shape)
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon}

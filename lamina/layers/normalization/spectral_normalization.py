"""SpectralNormalization: keep a wrapped layer's kernel at spectral norm 1."""

from __future__ import annotations

import torch

from lamina import initializers
from lamina.layers.call_context import call_context
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer
from lamina.layers.serialization import deserialize as deserialize_layer
from lamina.layers.serialization import serialize_nested as serialize_layer
from lamina.ops import nn
from lamina.utils.validation import arg_error, check_int, describe


class SpectralNormalization(Layer):
    """Divides the kernel of ``layer`` by its largest singular value, estimated
    by power iteration, in each training call (Miyato et al., 2018), which bounds
    the layer's Lipschitz constant (for GAN discriminators).

    As in Keras, a ``training=True`` call first replaces the kernel in place by
    ``kernel / sigma`` and keeps the power iteration's vector in ``vector_u``,
    then calls ``layer``; inference calls ``layer`` unchanged. The kernel is
    viewed as a ``(-1, kernel.shape[-1])`` matrix; an all-zero kernel is left
    alone.

    Args:
        layer: a layer with a ``kernel`` (Dense, Conv2D, ...) or ``embeddings``
            (Embedding).
        power_iterations: power iterations per training call (default 1).
        **kwargs: ``name``, ``dtype``, ``trainable``, ... (see ``Layer``).

    Input shape:
        ``layer``'s, rank >= 1. Output shape: ``layer``'s, in the input's dtype.

    Weights:
        Keras's order: ``layer``'s kernel (listed as the wrapper's own, as Keras
        does), the non-trainable ``vector_u`` ``(1, kernel.shape[-1])``
        (truncated normal, stddev 0.02), then ``layer``'s other weights.

    Raises:
        ValueError: ``layer`` not a Layer; ``power_iterations`` not a positive
            int; at build, a layer with neither ``kernel`` nor ``embeddings``.

    Example:
    >>> import lamina as keras
    >>> dense = keras.layers.Dense(3)
    >>> layer = keras.layers.SpectralNormalization(dense, power_iterations=20)
    >>> tuple(layer(keras.ops.ones((2, 4)), training=True).shape)
    (2, 3)
    >>> singular_values = keras.ops.linalg.svd(dense.kernel.detach())[1]
    >>> round(float(singular_values[0]), 3)
    1.0
    """

    _promotes_integer_inputs = False  # the wrapped layer decides

    def __init__(self, layer, power_iterations=1, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(layer, Layer):
            raise arg_error(self, "layer", "a Layer instance", layer)
        self.layer = layer
        self.power_iterations = check_int(
            self, "power_iterations", power_iterations, minimum=1
        )
        self._kernel_name = None

    def build(self, input_shape):
        if not self.layer.built:
            self.layer.build(input_shape)
        self.input_spec = InputSpec(min_ndim=1, axes={-1: input_shape[-1]})
        for name in ("kernel", "embeddings"):
            if getattr(self.layer, name, None) is not None:
                self._kernel_name = name
                break
        else:
            raise ValueError(
                f"{describe(self)}: the wrapped {describe(self.layer)} has neither "
                "a `kernel` nor `embeddings` to normalize."
            )
        kernel = self.kernel
        self._trainable_params.append(kernel)  # Keras tracks it as the wrapper's
        self.vector_u = self.add_weight(
            shape=(1, kernel.shape[-1]),
            initializer=initializers.TruncatedNormal(stddev=0.02),
            trainable=False,
            name="vector_u",
            dtype=kernel.dtype,
        )

    @property
    def kernel(self):
        """The wrapped layer's kernel (or embeddings)."""
        return getattr(self.layer, self._kernel_name)

    def call(self, inputs, training=False):
        if training and not call_context.symbolic:
            with torch.no_grad():
                if not torch.all(self.kernel == 0):
                    vector_u, kernel = self.normalized_weights()
                    self.vector_u.copy_(vector_u)
                    self.kernel.copy_(kernel)
        outputs = self.layer(inputs)
        return outputs.to(inputs.dtype)

    def normalized_weights(self):
        """``(vector_u, kernel / sigma)``: the power iteration's new vector and the
        kernel divided by its estimated spectral norm ``sigma``."""
        kernel = self.kernel
        weights = kernel.reshape(-1, kernel.shape[-1])
        vector_u = self.vector_u
        for _ in range(self.power_iterations):
            vector_v = nn.normalize(vector_u @ weights.T, axis=None)
            vector_u = nn.normalize(vector_v @ weights, axis=None)
        vector_u, vector_v = vector_u.detach(), vector_v.detach()
        sigma = (vector_v @ weights) @ vector_u.T
        return vector_u, (kernel / sigma).reshape(kernel.shape)

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "layer": serialize_layer(self.layer),
            "power_iterations": self.power_iterations,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        layer = deserialize_layer(config.pop("layer"), custom_objects)
        return cls(layer, **config)

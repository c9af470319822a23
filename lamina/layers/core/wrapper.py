"""Wrapper: the base of the layers that wrap another layer."""

from __future__ import annotations

from lamina.layers.docs import fill_docs
from lamina.layers.layer import Layer
from lamina.layers.serialization import deserialize as deserialize_layer
from lamina.layers.serialization import serialize_nested as serialize_layer
from lamina.utils.validation import arg_error


@fill_docs()
class Wrapper(Layer):
    """The base of the layers that wrap another layer (``TimeDistributed``, or a
    user's wrapper): it holds ``layer``, builds it, and writes it into its config
    (Keras's ``keras.layers.Wrapper``).

    A subclass defines ``call``; ``Wrapper`` itself has none, as in Keras.

    Args:
        layer: the wrapped layer.
        {kwargs}

    Weights:
        ``layer``'s.

    Raises:
        ValueError: ``layer`` not a Layer (at construction).

    Example:
    >>> import lamina as keras
    >>> class Twice(keras.layers.Wrapper):
    ...     def call(self, inputs):
    ...         return self.layer(self.layer(inputs))
    >>> twice = Twice(keras.layers.Dense(3))
    >>> tuple(twice(keras.ops.ones((2, 3))).shape), len(twice.weights)
    ((2, 3), 2)
    """

    _promotes_integer_inputs = False  # the wrapped layer decides

    def __init__(self, layer, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(layer, Layer):
            raise arg_error(self, "layer", "a Layer instance", layer)
        self.layer = layer

    def build(self, input_shape=None):
        if not self.layer.built:
            self.layer.build(input_shape)

    def get_config(self):
        return {**super().get_config(), "layer": serialize_layer(self.layer)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        layer = deserialize_layer(config.pop("layer"), custom_objects)
        return cls(layer, **config)

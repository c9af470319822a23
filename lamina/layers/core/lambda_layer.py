"""Lambda: wrap an arbitrary function of tensors as a layer."""

from __future__ import annotations

import base64
import inspect
import marshal
import types

import torch

from lamina import config as lamina_config
from lamina.layers.keras_tensor import KerasTensor, Node
from lamina.layers.layer import Layer
from lamina.saving import serialization
from lamina.utils import tree
from lamina.utils.validation import arg_error


class Lambda(Layer):
    """Wraps ``function(inputs, **arguments)`` as a layer.

    The function receives torch tensors and may use ``lamina.ops`` or
    ``lamina.backend`` (``K``) functions. Python's augmented assignments
    (``x -= ...``) modify torch tensors in place, unlike TensorFlow tensors; Lambda
    gives the function its own copy of the inputs so Keras 2 code such as
    ``x -= K.mean(x, axis=1, keepdims=True)`` never alters the caller's data.

    Args:
        function: the callable. If it accepts ``mask`` or ``training``, they are
            passed.
        output_shape: optional; a shape without the batch axis, or a callable
            mapping the input shape (with batch axis) to the output shape. Without
            it, the output shape comes from running the function symbolically.
        mask: optional; a callable ``mask(inputs, previous_mask)`` or a fixed mask.
        arguments: optional dict of extra keyword arguments for the function.

    Input shape: any. Output shape: from ``output_shape`` or the function itself.

    Weights:
        None (a Lambda must not create variables; write a Layer subclass for that).
    """

    def __init__(
        self, function, output_shape=None, mask=None, arguments=None, **kwargs
    ):
        super().__init__(**kwargs)
        if not callable(function):
            raise arg_error(self, "function", "callable", function)
        if arguments is not None and not isinstance(arguments, dict):
            raise arg_error(self, "arguments", "a dict of keyword arguments", arguments)
        self.function = function
        self.arguments = arguments or {}
        self._output_shape = output_shape
        self.mask = mask
        self.supports_masking = mask is not None
        try:
            params = inspect.signature(function).parameters
        except (TypeError, ValueError):
            params = {}
        self._pass_mask = "mask" in params
        self._pass_training = "training" in params

    def call(self, inputs, mask=None, training=None):
        kwargs = dict(self.arguments)
        if self._pass_mask:
            kwargs["mask"] = mask
        if self._pass_training:
            kwargs["training"] = training
        inputs = tree.map_structure(
            lambda x: x.clone() if isinstance(x, torch.Tensor) else x, inputs
        )
        return self.function(inputs, **kwargs)

    def compute_mask(self, inputs, previous_mask=None):
        if callable(self.mask):
            return self.mask(inputs, previous_mask)
        return self.mask

    def compute_output_spec(self, *args, **kwargs):
        if self._output_shape is None:
            return super().compute_output_spec(*args, **kwargs)
        inputs = args[0]
        shape = self.compute_output_shape(
            tree.map_structure(lambda t: t.shape, inputs)
            if not isinstance(inputs, KerasTensor)
            else inputs.shape
        )
        return KerasTensor(tuple(shape), dtype=self.compute_dtype)

    def _symbolic_call(self, args, kwargs):
        if self._output_shape is None:
            return super()._symbolic_call(args, kwargs)
        outputs = self.compute_output_spec(*args, **kwargs)
        self.built = True
        Node(self, args, kwargs, outputs)
        return outputs

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            return super().compute_output_shape(input_shape)
        if callable(self._output_shape):
            return tuple(self._output_shape(input_shape))
        batch = tree.flatten(input_shape)[0] if input_shape else None
        return (batch, *tuple(self._output_shape))

    def get_config(self):
        config = {
            **super().get_config(),
            "function": _serialize_function(self.function),
        }
        if self._output_shape is not None:
            config["output_shape"] = (
                _serialize_function(self._output_shape)
                if callable(self._output_shape)
                else tuple(self._output_shape)
            )
        if self.mask is not None:
            config["mask"] = (
                _serialize_function(self.mask) if callable(self.mask) else self.mask
            )
        config["arguments"] = serialization.serialize_keras_object(self.arguments)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=None):
        config = dict(config)
        for key in ("function", "output_shape", "mask"):
            if isinstance(config.get(key), dict):
                config[key] = _deserialize_function(
                    config[key], custom_objects, safe_mode
                )
        return cls(**config)


def _serialize_function(fn):
    if isinstance(fn, types.LambdaType) and fn.__name__ == "<lambda>":
        code = base64.b64encode(marshal.dumps(fn.__code__)).decode("ascii")
        return {
            "class_name": "__lambda__",
            "config": {"code": code, "defaults": fn.__defaults__, "closure": None},
        }
    return {
        "module": "builtins",
        "class_name": "function",
        "config": serialization.get_registered_name(fn),
        "registered_name": "function",
    }


def _deserialize_function(config, custom_objects=None, safe_mode=None):
    if config.get("class_name") == "__lambda__":
        safe = lamina_config.in_safe_mode() if safe_mode is None else safe_mode
        if safe:
            raise ValueError(
                "Refusing to load a Lambda layer's Python bytecode: it can run arbitrary "
                "code. If you trust the source of this file, pass `safe_mode=False` or "
                "call `lamina.config.enable_unsafe_deserialization()`."
            )
        code = marshal.loads(base64.b64decode(config["config"]["code"]))
        defaults = config["config"].get("defaults")
        return types.FunctionType(
            code, globals(), argdefs=tuple(defaults) if defaults else None
        )
    name = config.get("config")
    fn = serialization.get_registered_object(name, custom_objects)
    if fn is None:
        raise ValueError(
            f"Lambda: unknown function {name!r}. Pass it in `custom_objects` or register "
            "it with `lamina.saving.register_keras_serializable`."
        )
    return fn

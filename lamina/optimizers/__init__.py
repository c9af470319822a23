"""Keras optimizers on torch's multi-tensor kernels, by name too.

>>> import lamina as keras
>>> keras.optimizers.get("rmsprop").get_config()["rho"]
0.9
"""

from __future__ import annotations

from lamina.optimizers import schedules
from lamina.optimizers.adafactor import Adafactor
from lamina.optimizers.adagrad import Adadelta, Adagrad
from lamina.optimizers.adam import Adam, AdamW
from lamina.optimizers.adamax import Adamax, Nadam
from lamina.optimizers.lion import Lion
from lamina.optimizers.loss_scale_optimizer import LossScaleOptimizer
from lamina.optimizers.optimizer import Optimizer
from lamina.optimizers.rmsprop import RMSprop
from lamina.optimizers.sgd import SGD
from lamina.saving import serialization
from lamina.utils.lookup import resolve

_CLASSES = (
    Optimizer, SGD, RMSprop, Adam, AdamW, Adagrad, Adadelta, Adamax, Nadam,
    Adafactor, Lion, LossScaleOptimizer,
)  # fmt: skip
ALL_OBJECTS = {cls.__name__.lower(): cls for cls in _CLASSES}
ALL_OBJECTS.update({cls.__name__: cls for cls in _CLASSES})


def serialize(optimizer):
    """An optimizer's Keras 3 serialization dict."""
    return serialization.serialize_keras_object(optimizer)


def deserialize(config, custom_objects=None):
    """An optimizer from its name (any case: ``"adam"``, ``"Adam"``) or dict."""
    if isinstance(config, str):
        config = {"class_name": config.lower(), "config": {}}
    return serialization.deserialize_keras_object(
        config,
        module_objects=ALL_OBJECTS,
        custom_objects=custom_objects,
        printable_module_name="optimizer",
    )


def get(identifier):
    """An optimizer instance from a name, a config dict or an ``Optimizer``.

    Raises:
        ValueError: for an unknown name (naming it and the known optimizers) or an
            object that is not an optimizer.
    """
    if identifier is None:
        return None
    if isinstance(identifier, str):
        lowercase = {k: v for k, v in ALL_OBJECTS.items() if k.islower()}
        identifier = resolve("optimizer", identifier.lower(), lowercase)()
    elif isinstance(identifier, dict):
        identifier = deserialize(identifier)
    if isinstance(identifier, Optimizer):
        return identifier
    raise ValueError(
        f"Could not interpret optimizer identifier {identifier!r}: expected an "
        f"optimizer name ({', '.join(sorted(k for k in ALL_OBJECTS if k.islower()))}),"
        " a config dict or an Optimizer instance."
    )


__all__ = [cls.__name__ for cls in _CLASSES] + [
    "deserialize",
    "get",
    "schedules",
    "serialize",
]

"""Keras losses: functions ``f(y_true, y_pred)`` and ``Loss`` classes, by name too.

>>> import lamina as keras
>>> keras.losses.get("mse") is keras.losses.mean_squared_error
True
"""

from __future__ import annotations

import inspect

from lamina.losses.loss import Loss
from lamina.losses.losses import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    CategoricalHinge,
    CosineSimilarity,
    Hinge,
    Huber,
    KLDivergence,
    LogCosh,
    LossFunctionWrapper,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    Poisson,
    SparseCategoricalCrossentropy,
    SquaredHinge,
    binary_crossentropy,
    categorical_crossentropy,
    categorical_hinge,
    cosine_similarity,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)
from lamina.saving import serialization
from lamina.utils.lookup import resolve

_CLASSES = (
    Loss,
    LossFunctionWrapper,
    KLDivergence,
    Poisson,
    BinaryCrossentropy,
    CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
    MeanSquaredError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError,
    CosineSimilarity,
    LogCosh,
    Huber,
    Hinge,
    SquaredHinge,
    CategoricalHinge,
)
_FUNCTIONS = (
    kl_divergence,
    poisson,
    binary_crossentropy,
    categorical_crossentropy,
    sparse_categorical_crossentropy,
    mean_squared_error,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_logarithmic_error,
    cosine_similarity,
    log_cosh,
    huber,
    hinge,
    squared_hinge,
    categorical_hinge,
)
ALL_OBJECTS = {obj.__name__: obj for obj in (*_CLASSES, *_FUNCTIONS)}
_ALIASES = {
    "bce": binary_crossentropy,
    "kld": kl_divergence,
    "mae": mean_absolute_error,
    "mse": mean_squared_error,
    "mape": mean_absolute_percentage_error,
    "msle": mean_squared_logarithmic_error,
}
ALL_OBJECTS.update(_ALIASES)
ALL_OBJECTS.update({alias.upper(): fn for alias, fn in _ALIASES.items()})
# Keras 2 spellings still found in scripts.
ALL_OBJECTS.update(
    logcosh=log_cosh,
    kullback_leibler_divergence=kl_divergence,
    huber_loss=huber,
)


def serialize(loss):
    """A loss's Keras 3 serialization (a name for functions)."""
    return serialization.serialize_keras_object(loss)


def deserialize(config, custom_objects=None):
    """A loss function or ``Loss`` from its name or serialization dict."""
    return serialization.deserialize_keras_object(
        config,
        module_objects=ALL_OBJECTS,
        custom_objects=custom_objects,
        printable_module_name="loss",
        instantiate_strings=False,
    )


def get(identifier):
    """A loss from a name (``"mse"``, ``"CategoricalCrossentropy"``), a config dict,
    a ``Loss`` or a function; a class name gives a default instance.

    Raises:
        ValueError: for an unknown name, naming it and the known names.
    """
    if identifier is None:
        return None
    if isinstance(identifier, str):
        obj = resolve("loss", identifier, ALL_OBJECTS)
    elif isinstance(identifier, dict):
        obj = deserialize(identifier)
    else:
        obj = identifier
    if inspect.isclass(obj):
        obj = obj()
    if not callable(obj):
        raise ValueError(
            f"Could not interpret loss identifier {identifier!r}: expected a loss "
            "name, a config dict, a Loss or a function."
        )
    return obj


__all__ = sorted(
    [
        name
        for name in ALL_OBJECTS
        if name in {o.__name__ for o in _CLASSES + _FUNCTIONS}
    ]
    + ["deserialize", "get", "serialize"]
)

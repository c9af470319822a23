"""Keras losses: functions ``f(y_true, y_pred)`` and ``Loss`` classes, by name too.

>>> import lamina as keras
>>> keras.losses.get("mse") is keras.losses.mean_squared_error
True
"""

from __future__ import annotations

from lamina.losses.focal import (
    BinaryFocalCrossentropy,
    CategoricalFocalCrossentropy,
    CategoricalGeneralizedCrossEntropy,
    binary_focal_crossentropy,
    categorical_focal_crossentropy,
    categorical_generalized_cross_entropy,
)
from lamina.losses.loss import Loss
from lamina.losses.loss import deserialize as deserialize
from lamina.losses.loss import get as get
from lamina.losses.loss import serialize as serialize
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
from lamina.losses.structured import (
    CTC,
    Circle,
    Dice,
    Tversky,
    circle,
    ctc,
    dice,
    tversky,
)
from lamina.saving import registry

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
    BinaryFocalCrossentropy,
    CategoricalFocalCrossentropy,
    CategoricalGeneralizedCrossEntropy,
    Dice,
    Tversky,
    Circle,
    CTC,
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
    binary_focal_crossentropy,
    categorical_focal_crossentropy,
    categorical_generalized_cross_entropy,
    dice,
    tversky,
    circle,
    ctc,
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


registry.register("losses", ALL_OBJECTS)


__all__ = sorted(
    [
        name
        for name in ALL_OBJECTS
        if name in {o.__name__ for o in _CLASSES + _FUNCTIONS}
    ]
    + ["deserialize", "get", "serialize"]
)

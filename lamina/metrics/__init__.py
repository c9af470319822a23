"""Keras metrics: stateful ``Metric`` objects (``update_state``/``result``/
``reset_state``), the functions behind them, and lookup by name.

>>> import lamina as keras
>>> keras.metrics.get("mse").name
'mean_squared_error'
"""

from __future__ import annotations

from lamina.losses import (
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
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
from lamina.metrics.accuracy import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from lamina.metrics.at_rate import (
    PrecisionAtRecall,
    RecallAtPrecision,
    SensitivityAtSpecificity,
    SpecificityAtSensitivity,
)
from lamina.metrics.confusion import (
    AUC,
    FalseNegatives,
    FalsePositives,
    Precision,
    Recall,
    TrueNegatives,
    TruePositives,
)
from lamina.metrics.correlation import (
    ConcordanceCorrelation,
    PearsonCorrelation,
    R2Score,
    concordance_correlation,
    pearson_correlation,
)
from lamina.metrics.f_score import F1Score, FBetaScore
from lamina.metrics.iou import BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU
from lamina.metrics.metric import Mean, MeanMetricWrapper, Metric, Sum
from lamina.metrics.metric import deserialize as deserialize
from lamina.metrics.metric import get as get
from lamina.metrics.metric import serialize as serialize
from lamina.metrics.regression import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    CategoricalHinge,
    CosineSimilarity,
    Hinge,
    KLDivergence,
    LogCoshError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    Poisson,
    RootMeanSquaredError,
    SparseCategoricalCrossentropy,
    SquaredHinge,
)
from lamina.saving import registry
from lamina.utils.naming import to_snake_case

_CLASSES = (
    Metric, Mean, Sum, MeanMetricWrapper,
    MeanSquaredError, RootMeanSquaredError, MeanAbsoluteError,
    MeanAbsolutePercentageError, MeanSquaredLogarithmicError, CosineSimilarity,
    LogCoshError, AUC, FalseNegatives, FalsePositives, Precision, Recall,
    TrueNegatives, TruePositives, Hinge, SquaredHinge, CategoricalHinge,
    KLDivergence, Poisson, BinaryCrossentropy, CategoricalCrossentropy,
    SparseCategoricalCrossentropy, Accuracy, BinaryAccuracy, CategoricalAccuracy,
    SparseCategoricalAccuracy, TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy,
    R2Score, PrecisionAtRecall, RecallAtPrecision, SensitivityAtSpecificity,
    SpecificityAtSensitivity, ConcordanceCorrelation, PearsonCorrelation, F1Score,
    FBetaScore, IoU, BinaryIoU, MeanIoU, OneHotIoU, OneHotMeanIoU,
)  # fmt: skip
_FUNCTIONS = (
    accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
    top_k_categorical_accuracy, sparse_top_k_categorical_accuracy,
    binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy,
    categorical_hinge, hinge, squared_hinge, kl_divergence, poisson,
    mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
    mean_squared_logarithmic_error, binary_focal_crossentropy,
    categorical_focal_crossentropy, huber, log_cosh, pearson_correlation,
    concordance_correlation,
)  # fmt: skip

# As in Keras 3: class names and their snake_case spellings name classes.
ALL_OBJECTS = {cls.__name__: cls for cls in _CLASSES}
ALL_OBJECTS.update({to_snake_case(cls.__name__): cls for cls in _CLASSES})
_ALIASES = {
    "bce": BinaryCrossentropy,
    "mse": MeanSquaredError,
    "mae": MeanAbsoluteError,
    "mape": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError,
}
ALL_OBJECTS.update(_ALIASES)
ALL_OBJECTS.update({alias.upper(): cls for alias, cls in _ALIASES.items()})


registry.register("metrics", ALL_OBJECTS)


__all__ = sorted(
    [cls.__name__ for cls in _CLASSES]
    + [fn.__name__ for fn in _FUNCTIONS]
    + ["deserialize", "get", "serialize"]
)

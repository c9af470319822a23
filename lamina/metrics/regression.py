"""Metrics that average a loss function over all samples seen, and RMSE."""

from __future__ import annotations

import torch

from lamina import losses
from lamina.metrics.metric import Mean, _Wrapper


class MeanSquaredError(_Wrapper):
    """Mean of squared errors.

    Example:
    >>> import lamina as keras
    >>> float(keras.metrics.MeanSquaredError()([[0.0, 1.0]], [[1.0, 1.0]]))
    0.5
    """

    _fn = losses.mean_squared_error
    _direction = "down"

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(name, dtype)


class MeanAbsoluteError(_Wrapper):
    """Mean of absolute errors."""

    _fn = losses.mean_absolute_error
    _direction = "down"

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(name, dtype)


class MeanAbsolutePercentageError(_Wrapper):
    """Mean absolute percentage error."""

    _fn = losses.mean_absolute_percentage_error
    _direction = "down"

    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(name, dtype)


class MeanSquaredLogarithmicError(_Wrapper):
    """Mean squared logarithmic error."""

    _fn = losses.mean_squared_logarithmic_error
    _direction = "down"

    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(name, dtype)


def _cosine(y_true, y_pred, axis=-1):
    return -losses.cosine_similarity(y_true, y_pred, axis=axis)


class CosineSimilarity(_Wrapper):
    """Mean cosine similarity between labels and predictions along ``axis``."""

    _fn = _cosine
    _direction = "up"

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(name, dtype, axis=axis)


class LogCoshError(_Wrapper):
    """Mean logarithm of the hyperbolic cosine of the errors."""

    _fn = losses.log_cosh
    _direction = "down"

    def __init__(self, name="logcosh", dtype=None):
        super().__init__(name, dtype)


class RootMeanSquaredError(Mean):
    """Square root of the (weighted) mean of squared errors.

    Example:
    >>> import lamina as keras
    >>> float(keras.metrics.RootMeanSquaredError()([[0.0, 2.0]], [[0.0, 0.0]]))
    1.4142135381698608
    """

    _direction = "down"

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = losses.loss.as_tensor(y_true), losses.loss.as_tensor(y_pred)
        y_true = y_true.to(self._torch_dtype)
        y_pred = y_pred.to(self._torch_dtype)
        y_true, y_pred = losses.loss.squeeze_or_expand_to_same_rank(y_true, y_pred)
        super().update_state(torch.square(y_true - y_pred), sample_weight)

    def result(self):
        return torch.sqrt(super().result())


class BinaryCrossentropy(_Wrapper):
    """Mean binary crossentropy."""

    _fn = losses.binary_crossentropy
    _direction = "down"
    _config_keys = ("from_logits", "label_smoothing")

    def __init__(
        self,
        name="binary_crossentropy",
        dtype=None,
        from_logits=False,
        label_smoothing=0,
    ):
        super().__init__(
            name, dtype, from_logits=from_logits, label_smoothing=label_smoothing
        )


class CategoricalCrossentropy(_Wrapper):
    """Mean categorical crossentropy."""

    _fn = losses.categorical_crossentropy
    _direction = "down"
    _config_keys = ("from_logits", "label_smoothing", "axis")

    def __init__(
        self,
        name="categorical_crossentropy",
        dtype=None,
        from_logits=False,
        label_smoothing=0,
        axis=-1,
    ):
        super().__init__(
            name,
            dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )


class SparseCategoricalCrossentropy(_Wrapper):
    """Mean sparse categorical crossentropy."""

    _fn = losses.sparse_categorical_crossentropy
    _direction = "down"
    _config_keys = ("from_logits", "ignore_class", "axis")

    def __init__(
        self,
        name="sparse_categorical_crossentropy",
        dtype=None,
        from_logits=False,
        ignore_class=None,
        axis=-1,
    ):
        super().__init__(
            name, dtype, from_logits=from_logits, ignore_class=ignore_class, axis=axis
        )


class KLDivergence(_Wrapper):
    """Mean Kullback-Leibler divergence."""

    _fn = losses.kl_divergence
    _direction = "down"

    def __init__(self, name="kl_divergence", dtype=None):
        super().__init__(name, dtype)


class Poisson(_Wrapper):
    """Mean Poisson loss."""

    _fn = losses.poisson
    _direction = "down"

    def __init__(self, name="poisson", dtype=None):
        super().__init__(name, dtype)


class Hinge(_Wrapper):
    """Mean hinge loss."""

    _fn = losses.hinge
    _direction = "down"

    def __init__(self, name="hinge", dtype=None):
        super().__init__(name, dtype)


class SquaredHinge(_Wrapper):
    """Mean squared hinge loss."""

    _fn = losses.squared_hinge
    _direction = "down"

    def __init__(self, name="squared_hinge", dtype=None):
        super().__init__(name, dtype)


class CategoricalHinge(_Wrapper):
    """Mean categorical hinge loss."""

    _fn = losses.categorical_hinge
    _direction = "down"

    def __init__(self, name="categorical_hinge", dtype=None):
        super().__init__(name, dtype)

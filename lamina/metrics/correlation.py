"""Correlation and goodness-of-fit metrics: ``pearson_correlation``,
``concordance_correlation`` (per sample, averaged over batches) and ``R2Score``
(accumulated sums over all samples)."""

from __future__ import annotations

import warnings

import torch

from lamina import config
from lamina.losses.loss import as_tensor, squeeze_or_expand_to_same_rank
from lamina.metrics.metric import Metric, _Wrapper
from lamina.utils.validation import arg_error, check_choice


def _pair(y_true, y_pred):
    y_pred = as_tensor(y_pred)
    if not y_pred.is_floating_point():
        y_pred = y_pred.to(torch.get_default_dtype())
    y_true = as_tensor(y_true, y_pred.dtype, y_pred.device)
    return squeeze_or_expand_to_same_rank(y_true, y_pred)


def pearson_correlation(y_true, y_pred, axis=-1):
    """Pearson's correlation of ``y_true`` and ``y_pred`` along ``axis`` (each
    standardized with its population standard deviation).

    Example:
    >>> import lamina as keras
    >>> round(float(keras.metrics.pearson_correlation([1.0, 2.0, 3.0], [2.0, 4.0, 7.0])), 4)
    0.9934
    """
    y_true, y_pred = _pair(y_true, y_pred)

    def standardized(x):
        centred = x - x.mean(dim=axis, keepdim=True)
        return centred / torch.std(centred, dim=axis, keepdim=True, correction=0)

    return torch.mean(standardized(y_true) * standardized(y_pred), dim=axis)


def concordance_correlation(y_true, y_pred, axis=-1):
    """Lin's concordance correlation along ``axis``:
    ``2 cov / (var_true + var_pred + (mean_true - mean_pred)**2 + eps)``.

    Example:
    >>> import lamina as keras
    >>> round(float(keras.metrics.concordance_correlation([1.0, 2.0, 3.0], [2.0, 4.0, 7.0])), 4)
    0.3226
    """
    y_true, y_pred = _pair(y_true, y_pred)
    true_mean = y_true.mean(dim=axis, keepdim=True)
    pred_mean = y_pred.mean(dim=axis, keepdim=True)
    true_var = torch.var(y_true - true_mean, dim=axis, keepdim=True, correction=0)
    pred_var = torch.var(y_pred - pred_mean, dim=axis, keepdim=True, correction=0)
    # Keras centres both factors on the prediction mean; the mean of the product
    # equals the covariance all the same (the second factor has mean zero)
    covariance = (y_true - pred_mean) * (y_pred - pred_mean)
    norm = true_var + pred_var + torch.square(true_mean - pred_mean)
    return torch.mean(2 * covariance / (norm + config.epsilon()), dim=axis)


class PearsonCorrelation(_Wrapper):
    """Mean over samples of ``pearson_correlation`` along ``axis``.

    Args:
        name, dtype: as for every ``Metric``.
        axis: the axis the correlation runs along (default -1).

    Example:
    >>> import lamina as keras
    >>> m = keras.metrics.PearsonCorrelation()
    >>> round(float(m([[1.0, 2.0, 3.0]], [[2.0, 4.0, 7.0]])), 4)
    0.9934
    """

    _fn = pearson_correlation
    _direction = "up"
    _config_keys = ("axis",)

    def __init__(self, name="pearson_correlation", dtype=None, axis=-1):
        super().__init__(name, dtype, axis=axis)


class ConcordanceCorrelation(_Wrapper):
    """Mean over samples of ``concordance_correlation`` along ``axis``.

    Args:
        name, dtype: as for every ``Metric``.
        axis: the axis the correlation runs along (default -1).

    Example:
    >>> import lamina as keras
    >>> m = keras.metrics.ConcordanceCorrelation()
    >>> round(float(m([[1.0, 2.0, 3.0]], [[2.0, 4.0, 7.0]])), 4)
    0.3226
    """

    _fn = concordance_correlation
    _direction = "up"
    _config_keys = ("axis",)

    def __init__(self, name="concordance_correlation", dtype=None, axis=-1):
        super().__init__(name, dtype, axis=axis)


_AGGREGATIONS = (None, "uniform_average", "variance_weighted_average")


class R2Score(Metric):
    """Coefficient of determination ``1 - SS_res / SS_tot`` per output column,
    over every sample seen, then aggregated.

    Args:
        class_aggregation: ``"uniform_average"`` (mean over outputs),
            ``"variance_weighted_average"`` (weighted by each output's
            variance) or ``None`` (one score per output).
        num_regressors: for the adjusted R2, the number of independent
            variables (0: plain R2).
        name, dtype: as for every ``Metric``.

    Input shape: ``(batch, outputs)`` for both (a trailing size-1 axis is
    reconciled).

    Weights: ``num_samples`` (), then ``squared_sum``, ``sum``, ``residual`` and
    ``count`` of shape ``(outputs,)``, created on the first batch.

    Raises:
        ValueError: for an unknown ``class_aggregation``, a negative
            ``num_regressors``, or inputs that are not 2-D.

    Example:
    >>> import lamina as keras
    >>> m = keras.metrics.R2Score()
    >>> m.update_state([[1.0], [4.0], [3.0]], [[2.0], [4.0], [4.0]])
    >>> round(float(m.result()), 4)
    0.5714
    """

    _direction = "up"

    def __init__(
        self, class_aggregation="uniform_average", num_regressors=0, name="r2_score",
        dtype=None,
    ):  # fmt: skip
        super().__init__(name=name, dtype=dtype)
        self.class_aggregation = check_choice(
            self, "class_aggregation", class_aggregation, _AGGREGATIONS
        )
        if isinstance(num_regressors, bool) or num_regressors < 0:
            raise arg_error(self, "num_regressors", "a number >= 0", num_regressors)
        self.num_regressors = num_regressors
        self.num_samples = self.add_variable((), "zeros", name="num_samples")
        self._built = False

    def _build(self, true_shape, pred_shape):
        if len(pred_shape) != 2 or len(true_shape) != 2:
            raise ValueError(
                f"R2Score '{self.name}': expected 2-D inputs of shape (batch_size, "
                f"output_dim); got y_true.shape={tuple(true_shape)} and "
                f"y_pred.shape={tuple(pred_shape)}."
            )
        shape = (pred_shape[-1],)
        self.squared_sum = self.add_variable(shape, "zeros", name="squared_sum")
        self.sum = self.add_variable(shape, "zeros", name="sum")
        self.total_mse = self.add_variable(shape, "zeros", name="residual")
        self.count = self.add_variable(shape, "zeros", name="count")
        self._built = True

    @torch.no_grad()
    def update_state(self, y_true, y_pred, sample_weight=None):
        device = self.num_samples.device
        y_true = as_tensor(y_true, self._torch_dtype, device)
        y_pred = as_tensor(y_pred, self._torch_dtype, device)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        if not self._built:
            self._build(y_true.shape, y_pred.shape)
        weights = torch.ones((), dtype=self._torch_dtype, device=device)
        if sample_weight is not None:
            weights = as_tensor(sample_weight, self._torch_dtype, device)
            weights = weights.unsqueeze(1) if weights.ndim == 1 else weights
        weights = torch.broadcast_to(weights, y_true.shape)
        weighted = y_true * weights
        self.sum.add_(weighted.sum(dim=0))
        self.squared_sum.add_((y_true * weighted).sum(dim=0))
        self.total_mse.add_((torch.square(y_true - y_pred) * weights).sum(dim=0))
        self.count.add_(weights.sum(dim=0))
        self.num_samples.add_(y_true.numel())

    def result(self):
        if not self._built:
            return torch.zeros((), dtype=self._torch_dtype)
        mean = self.sum / self.count
        total = (self.squared_sum - self.sum * mean).detach()
        raw = 1 - self.total_mse.detach() / total
        raw = torch.where(torch.isinf(raw), 0.0, raw)
        if self.class_aggregation == "uniform_average":
            score = raw.mean()
        elif self.class_aggregation == "variance_weighted_average":
            score = torch.sum(total * raw) / total.sum()
        else:
            score = raw
        return self._adjusted(score)

    def _adjusted(self, score):
        """The adjusted R2 for ``num_regressors`` (Keras's fallbacks kept)."""
        if not self.num_regressors:
            return score
        n, p = float(self.num_samples), float(self.num_regressors)
        if p > n - 1:
            warnings.warn(
                "More independent predictors than datapoints in adjusted R2 score. "
                "Falling back to standard R2 score.",
                stacklevel=3,
            )
            return score
        if p == n - 1:
            warnings.warn(
                "Division by zero in Adjusted R2 score. Falling back to standard R2 "
                "score.",
                stacklevel=3,
            )
            return score
        return 1.0 - (1.0 - score) * (n - 1.0) / (n - p - 1.0)

    def get_config(self):
        return {
            **super().get_config(),
            "class_aggregation": self.class_aggregation,
            "num_regressors": self.num_regressors,
        }

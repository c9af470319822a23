"""``FBetaScore`` and ``F1Score``: per-class F-scores from accumulated true
positives, false positives and false negatives, averaged as asked."""

from __future__ import annotations

import torch

from lamina import config
from lamina.losses.loss import as_tensor
from lamina.metrics.metric import Metric
from lamina.utils.validation import arg_error, check_choice

_AVERAGES = (None, "micro", "macro", "weighted")


class FBetaScore(Metric):
    """F-beta score: ``(1 + beta**2) * p * r / (beta**2 * p + r)`` of precision
    ``p`` and recall ``r``, for multi-class or multi-label outputs.

    Predictions above ``threshold`` count as positive (with ``threshold=None``,
    the highest score of each row, when non-zero). The counts are kept per class
    (``average`` None, ``"macro"``, ``"weighted"``) or summed over classes
    (``"micro"``); the state is created on the first batch, whose last axis
    gives the number of classes.

    Args:
        average: ``None`` (a score per class), ``"micro"`` (global counts),
            ``"macro"`` (unweighted mean of the class scores) or ``"weighted"``
            (mean weighted by each class's number of true instances).
        beta: a float > 0; recall counts ``beta`` times as much as precision.
        threshold: a float in (0, 1], or ``None`` for the row maximum.
        name, dtype: as for every ``Metric``.

    Input shape: ``y_true`` and ``y_pred`` of shape ``(batch, classes)``.

    Raises:
        ValueError: for an unknown ``average``, a ``beta`` that is not a float
            > 0, a ``threshold`` outside (0, 1], or inputs that are not 2-D.

    Example:
    >>> import lamina as keras
    >>> metric = keras.metrics.FBetaScore(beta=2.0, threshold=0.5)
    >>> metric.update_state([[1, 1, 1], [1, 0, 0]], [[0.2, 0.6, 0.7], [0.2, 0.6, 0.6]])
    >>> [round(v, 4) for v in metric.result().tolist()]
    [0.0, 0.8333, 0.8333]
    """

    _direction = "up"

    def __init__(
        self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None
    ):
        super().__init__(name=name, dtype=dtype)
        self.average = check_choice(self, "average", average, _AVERAGES)
        if not isinstance(beta, float) or beta <= 0.0:
            raise arg_error(self, "beta", "a Python float > 0", beta)
        if threshold is not None and (
            not isinstance(threshold, float) or not 0.0 < threshold <= 1.0
        ):
            raise arg_error(self, "threshold", "None or a float in (0, 1]", threshold)
        self.beta = beta
        self.threshold = threshold
        self.axis = None if self.average == "micro" else 0
        self._built = False

    def _build(self, true_shape, pred_shape):
        if len(pred_shape) != 2 or len(true_shape) != 2:
            raise ValueError(
                f"{type(self).__name__} '{self.name}': expected 2-D inputs of shape "
                f"(batch_size, output_dim); got y_true.shape={tuple(true_shape)} and "
                f"y_pred.shape={tuple(pred_shape)}."
            )
        shape = () if self.average == "micro" else (pred_shape[-1],)
        for name in (
            "true_positives", "false_positives", "false_negatives",
            "intermediate_weights",
        ):  # fmt: skip
            setattr(self, name, self.add_variable(shape, "zeros", name=name))
        self._built = True

    @torch.no_grad()
    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = as_tensor(y_pred, self._torch_dtype)
        y_true = as_tensor(y_true, self._torch_dtype, y_pred.device)
        if not self._built:
            self._build(y_true.shape, y_pred.shape)
        if self.threshold is None:
            top = y_pred.amax(dim=-1, keepdim=True)
            positive = (y_pred >= top) & (y_pred.abs() > 1e-9)
        else:
            positive = y_pred > self.threshold
        y_pred = positive.to(self._torch_dtype)
        weights = None
        if sample_weight is not None:
            weights = as_tensor(sample_weight, self._torch_dtype, y_pred.device)
            weights = weights.unsqueeze(1)

        def weighted_sum(values):
            if weights is not None:
                values = values * weights
            return values.sum() if self.axis is None else values.sum(dim=self.axis)

        device = self.true_positives.device
        self.true_positives.add_(weighted_sum(y_pred * y_true).to(device))
        self.false_positives.add_(weighted_sum(y_pred * (1 - y_true)).to(device))
        self.false_negatives.add_(weighted_sum((1 - y_pred) * y_true).to(device))
        self.intermediate_weights.add_(weighted_sum(y_true).to(device))

    def result(self):
        if not self._built:
            return torch.zeros((), dtype=self._torch_dtype)
        eps = config.epsilon()
        tp = self.true_positives.detach()
        precision = tp / (tp + self.false_positives.detach() + eps)
        recall = tp / (tp + self.false_negatives.detach() + eps)
        beta_squared = self.beta**2
        score = precision * recall / (beta_squared * precision + recall + eps)
        score = score * (1 + beta_squared)
        if self.average == "weighted":
            support = self.intermediate_weights.detach()
            return torch.sum(score * support / (support.sum() + eps))
        if self.average is not None:
            return score.mean()
        return score

    def get_config(self):
        return {
            **super().get_config(),
            "average": self.average,
            "beta": self.beta,
            "threshold": self.threshold,
        }


class F1Score(FBetaScore):
    """F1 score, the harmonic mean of precision and recall (``FBetaScore`` with
    ``beta=1.0``).

    Args:
        average: ``None``, ``"micro"``, ``"macro"`` or ``"weighted"`` (see
            ``FBetaScore``).
        threshold: a float in (0, 1], or ``None`` for the row maximum.
        name, dtype: as for every ``Metric``.

    Example:
    >>> import lamina as keras
    >>> metric = keras.metrics.F1Score(threshold=0.5)
    >>> metric.update_state([[1, 1, 1], [1, 0, 0], [1, 1, 0]],
    ...                     [[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]])
    >>> [round(v, 4) for v in metric.result().tolist()]
    [0.5, 0.8, 0.6667]
    """

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(
            average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype
        )

    def get_config(self):
        config_dict = super().get_config()
        del config_dict["beta"]
        return config_dict

"""One rate at a fixed value of another: ``SensitivityAtSpecificity``,
``SpecificityAtSensitivity``, ``PrecisionAtRecall`` and ``RecallAtPrecision``.

Each keeps tp/fp/tn/fn counts at ``num_thresholds`` evenly spaced thresholds in
[0, 1] (predictions clipped to [0, 1]; positive when strictly above), computes
both rates at every threshold, and returns the best ``dependent`` rate over the
thresholds where the ``constrained`` rate reaches the target (0 if none does).
"""

from __future__ import annotations

import torch

from lamina.losses.loss import as_tensor
from lamina.metrics.confusion import _ConfusionMetric, _divide_no_nan
from lamina.utils.validation import check_float, check_int


def _rates(tp, fp, tn, fn) -> dict[str, torch.Tensor]:
    return {
        "sensitivity": _divide_no_nan(tp, tp + fn),
        "specificity": _divide_no_nan(tn, tn + fp),
        "precision": _divide_no_nan(tp, tp + fp),
    }


class _AtRate(_ConfusionMetric):
    """``dependent`` rate at ``constrained`` rate >= ``value``."""

    _counts = ("tp", "fp", "tn", "fn")
    _direction = "up"
    _target: str = ""  # the constructor argument holding the target value
    _constrained: str = ""
    _dependent: str = ""

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        setattr(self, self._target, check_float(self, self._target, value, 0.0, 1.0))
        self.value = value
        self.num_thresholds = check_int(self, "num_thresholds", num_thresholds, 1)
        self.class_id = class_id
        if num_thresholds == 1:
            self.thresholds = [0.5]
        else:
            inner = [
                (i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)
            ]
            self.thresholds = [0.0, *inner, 1.0]
        self._add_counts((len(self.thresholds),))

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = torch.clamp(as_tensor(y_pred).detach().float(), 0.0, 1.0)
        super().update_state(y_true, y_pred, sample_weight)

    def result(self):
        rates = _rates(
            self.true_positives.detach(), self.false_positives.detach(),
            self.true_negatives.detach(), self.false_negatives.detach(),
        )  # fmt: skip
        feasible = rates[self._constrained] >= self.value
        dependent = torch.where(feasible, rates[self._dependent], 0.0)
        return torch.clamp(dependent.max(), min=0.0)

    def get_config(self):
        return {
            **super().get_config(),
            "class_id": self.class_id,
            "num_thresholds": self.num_thresholds,
            self._target: getattr(self, self._target),
        }


class SensitivityAtSpecificity(_AtRate):
    """The best sensitivity (recall) at specificity >= ``specificity``.

    Args:
        specificity: the target, in [0, 1].
        num_thresholds: thresholds tried (evenly spaced in [0, 1]; 1 means 0.5).
        class_id: score only this class of a multi-class output.
        name, dtype: as for every ``Metric``.

    Weights: ``true_positives``, ``false_positives``, ``true_negatives``,
    ``false_negatives``, each ``(num_thresholds,)``.

    Raises:
        ValueError: for a target outside [0, 1] or ``num_thresholds < 1``.

    Example:
    >>> import lamina as keras
    >>> m = keras.metrics.SensitivityAtSpecificity(0.5)
    >>> m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
    >>> float(m.result())
    0.5
    """

    _target, _constrained, _dependent = "specificity", "specificity", "sensitivity"

    def __init__(
        self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None
    ):
        super().__init__(specificity, num_thresholds, class_id, name, dtype)


class SpecificityAtSensitivity(_AtRate):
    """The best specificity at sensitivity (recall) >= ``sensitivity``.

    Args:
        sensitivity: the target, in [0, 1].
        num_thresholds, class_id, name, dtype: as for
            ``SensitivityAtSpecificity``.

    Example:
    >>> import lamina as keras
    >>> m = keras.metrics.SpecificityAtSensitivity(0.5)
    >>> m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
    >>> round(float(m.result()), 4)
    0.6667
    """

    _target, _constrained, _dependent = "sensitivity", "sensitivity", "specificity"

    def __init__(
        self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None
    ):
        super().__init__(sensitivity, num_thresholds, class_id, name, dtype)


class PrecisionAtRecall(_AtRate):
    """The best precision at recall >= ``recall``.

    Args:
        recall: the target, in [0, 1].
        num_thresholds, class_id, name, dtype: as for
            ``SensitivityAtSpecificity``.

    Example:
    >>> import lamina as keras
    >>> m = keras.metrics.PrecisionAtRecall(0.5)
    >>> m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
    >>> float(m.result())
    0.5
    """

    _target, _constrained, _dependent = "recall", "sensitivity", "precision"

    def __init__(
        self, recall, num_thresholds=200, class_id=None, name=None, dtype=None
    ):
        super().__init__(recall, num_thresholds, class_id, name, dtype)


class RecallAtPrecision(_AtRate):
    """The best recall at precision >= ``precision``.

    Args:
        precision: the target, in [0, 1].
        num_thresholds, class_id, name, dtype: as for
            ``SensitivityAtSpecificity``.

    Example:
    >>> import lamina as keras
    >>> m = keras.metrics.RecallAtPrecision(0.8)
    >>> m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
    >>> float(m.result())
    0.5
    """

    _target, _constrained, _dependent = "precision", "precision", "sensitivity"

    def __init__(
        self, precision, num_thresholds=200, class_id=None, name=None, dtype=None
    ):
        super().__init__(precision, num_thresholds, class_id, name, dtype)


__all__ = [
    "PrecisionAtRecall",
    "RecallAtPrecision",
    "SensitivityAtSpecificity",
    "SpecificityAtSensitivity",
]

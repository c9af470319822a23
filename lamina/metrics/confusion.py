"""Confusion-matrix metrics: true/false positive/negative counts at thresholds,
``Precision``, ``Recall`` and ``AUC``.

One helper, ``confusion_counts``, turns a batch into counts per threshold
(a prediction is positive when it is *strictly* above the threshold, as in Keras);
each metric keeps the counts it needs and derives its result from them.
"""

from __future__ import annotations

import numpy as np
import torch

from lamina import config
from lamina.losses.loss import as_tensor, squeeze_or_expand_to_same_rank
from lamina.metrics.metric import Metric
from lamina.utils.validation import arg_error, check_choice

_NEG_INF = -1e10


def _parse_thresholds(owner, thresholds, default):
    if thresholds is None:
        return [default]
    values = [thresholds] if isinstance(thresholds, (int, float)) else list(thresholds)
    for value in values:
        if not 0.0 <= float(value) <= 1.0:
            raise arg_error(owner, "thresholds", "numbers in [0, 1]", thresholds)
    return [float(v) for v in values]


def _top_k_filter(y_pred, k):
    """Scores outside each row's top ``k`` become -1e10 (never positive)."""
    top = torch.topk(y_pred, k, dim=-1).indices
    keep = torch.zeros_like(y_pred, dtype=torch.bool).scatter_(-1, top, True)
    return torch.where(keep, y_pred, torch.full_like(y_pred, _NEG_INF))


def confusion_counts(
    y_true,
    y_pred,
    thresholds,
    sample_weight=None,
    top_k=None,
    class_id=None,
    multi_label=False,
    label_weights=None,
):
    """``{"tp", "fp", "tn", "fn"}`` tensors of shape ``(len(thresholds),)`` (or
    ``(len(thresholds), num_labels)`` with ``multi_label``) for one batch."""
    y_pred = as_tensor(y_pred).detach().to(torch.float32)
    y_true = as_tensor(y_true, torch.float32, y_pred.device)
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    weights = None
    if sample_weight is not None:
        weights = as_tensor(sample_weight, torch.float32, y_pred.device).unsqueeze(-1)
        _, weights = squeeze_or_expand_to_same_rank(
            y_true, weights, expand_rank_1=False
        )
    if top_k is not None:
        y_pred = _top_k_filter(y_pred, top_k)
    if class_id is not None:
        y_true, y_pred = y_true[..., class_id, None], y_pred[..., class_id, None]
    if weights is not None:
        weights = torch.broadcast_to(weights, y_pred.shape)
    if label_weights is not None:
        label = torch.broadcast_to(
            as_tensor(label_weights, torch.float32), y_pred.shape
        )
        weights = label if weights is None else weights * label
    thresholds = torch.as_tensor(thresholds, dtype=torch.float32, device=y_pred.device)
    if multi_label:  # (T, N, L): one count per threshold and label
        scores, labels = y_pred.unsqueeze(0), y_true.bool().unsqueeze(0)
        thresholds = thresholds.view(-1, 1, 1)
        weights = None if weights is None else weights.unsqueeze(0)
    else:  # (T, N * L): every label of every sample counts once
        scores, labels = y_pred.reshape(1, -1), y_true.bool().reshape(1, -1)
        thresholds = thresholds.view(-1, 1)
        weights = None if weights is None else weights.reshape(1, -1)
    positive = scores > thresholds
    labels = torch.broadcast_to(labels, positive.shape)

    def count(condition):
        if weights is None:
            return condition.sum(dim=1, dtype=torch.float32)
        return torch.where(condition, weights, torch.zeros_like(weights)).sum(dim=1)

    return {
        "tp": count(labels & positive),
        "fp": count(~labels & positive),
        "tn": count(~labels & ~positive),
        "fn": count(labels & ~positive),
    }


def _divide_no_nan(a, b):
    return torch.where(b != 0, a / torch.where(b != 0, b, torch.ones_like(b)), 0.0)


class _ConfusionMetric(Metric):
    """A metric accumulating some of the tp/fp/tn/fn counts at ``thresholds``."""

    _counts: tuple[str, ...] = ()
    _count_names = {
        "tp": "true_positives",
        "fp": "false_positives",
        "tn": "true_negatives",
        "fn": "false_negatives",
    }

    def _add_counts(self, shape):
        for key in self._counts:
            setattr(
                self,
                self._count_names[key],
                self.add_variable(shape, "zeros", name=self._count_names[key]),
            )

    @torch.no_grad()
    def update_state(self, y_true, y_pred, sample_weight=None):
        counts = confusion_counts(
            y_true,
            y_pred,
            self.thresholds,
            sample_weight,
            top_k=getattr(self, "top_k", None),
            class_id=getattr(self, "class_id", None),
        )
        for key in self._counts:
            variable = getattr(self, self._count_names[key])
            variable.add_(counts[key].to(variable.device))

    def _select(self, values):
        return values[0] if len(self.thresholds) == 1 else values


class _ConditionCount(_ConfusionMetric):
    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds = _parse_thresholds(self, thresholds, 0.5)
        self._add_counts((len(self.thresholds),))

    def result(self):
        return self._select(getattr(self, self._count_names[self._counts[0]]).detach())

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConditionCount):
    """The (weighted) number of true positives at each threshold."""

    _counts = ("tp",)


class FalsePositives(_ConditionCount):
    """The (weighted) number of false positives at each threshold."""

    _counts = ("fp",)


class TrueNegatives(_ConditionCount):
    """The (weighted) number of true negatives at each threshold."""

    _counts = ("tn",)


class FalseNegatives(_ConditionCount):
    """The (weighted) number of false negatives at each threshold."""

    _counts = ("fn",)


class _PrecisionRecall(_ConfusionMetric):
    _direction = "up"

    def __init__(
        self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None
    ):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        default = 0.5 if top_k is None else _NEG_INF
        self.thresholds = _parse_thresholds(self, thresholds, default)
        self._add_counts((len(self.thresholds),))

    def get_config(self):
        return {
            **super().get_config(),
            "thresholds": self.init_thresholds,
            "top_k": self.top_k,
            "class_id": self.class_id,
        }


class Precision(_PrecisionRecall):
    """``tp / (tp + fp)``: how many predicted positives are positive.

    Example:
    >>> import lamina as keras
    >>> float(keras.metrics.Precision()([0, 1, 1, 1], [1, 0, 1, 1]))
    0.6666666865348816
    """

    _counts = ("tp", "fp")

    def result(self):
        tp = self.true_positives.detach()
        return self._select(_divide_no_nan(tp, tp + self.false_positives.detach()))


class Recall(_PrecisionRecall):
    """``tp / (tp + fn)``: how many positives are predicted positive.

    Example:
    >>> import lamina as keras
    >>> float(keras.metrics.Recall()([0, 1, 1, 1], [1, 0, 1, 1]))
    0.6666666865348816
    """

    _counts = ("tp", "fn")

    def result(self):
        tp = self.true_positives.detach()
        return self._select(_divide_no_nan(tp, tp + self.false_negatives.detach()))


class AUC(_ConfusionMetric):
    """Area under the ROC or precision-recall curve, by a Riemann sum over
    ``num_thresholds`` thresholds (Keras's algorithm, including the
    interpolated PR-AUC of Davis & Goadrich).

    Example:
    >>> import lamina as keras
    >>> auc = keras.metrics.AUC(num_thresholds=3)
    >>> float(auc([0, 0, 1, 1], [0, 0.5, 0.3, 0.9]))
    0.75
    """

    _counts = ("tp", "fp", "tn", "fn")
    _direction = "up"

    def __init__(
        self,
        num_thresholds=200,
        curve="ROC",
        summation_method="interpolation",
        name=None,
        dtype=None,
        thresholds=None,
        multi_label=False,
        num_labels=None,
        label_weights=None,
        from_logits=False,
    ):
        super().__init__(name=name, dtype=dtype)
        self.curve = check_choice(self, "curve", curve, ("roc", "pr")).upper()
        self.summation_method = check_choice(
            self,
            "summation_method",
            summation_method,
            ("interpolation", "minoring", "majoring"),
        )
        self._init_from_thresholds = thresholds is not None
        eps = config.epsilon()
        if thresholds is not None:
            inner = sorted(_parse_thresholds(self, thresholds, 0.5))
            self.num_thresholds = len(inner) + 2
        else:
            if isinstance(num_thresholds, bool) or int(num_thresholds) <= 1:
                raise arg_error(
                    self, "num_thresholds", "an integer > 1", num_thresholds
                )
            self.num_thresholds = int(num_thresholds)
            n = self.num_thresholds
            inner = [(i + 1) * 1.0 / (n - 1) for i in range(n - 2)]
        self._thresholds = np.array([0.0 - eps, *inner, 1.0 + eps])
        self.multi_label = multi_label
        self.num_labels = num_labels
        self.label_weights = (
            None if label_weights is None else torch.as_tensor(label_weights).float()
        )
        self._from_logits = from_logits
        self._built = False
        if not multi_label:
            if num_labels:
                raise ValueError(
                    f"AUC '{self.name}': `num_labels` is only used with "
                    f"multi_label=True; got num_labels={num_labels!r}."
                )
            self._build(None)
        elif num_labels:
            self._build((None, num_labels))

    @property
    def thresholds(self):
        return list(self._thresholds)

    def _build(self, shape):
        if self.multi_label:
            if len(shape) != 2:
                raise ValueError(
                    f"AUC '{self.name}': with multi_label=True, y_pred must have rank "
                    f"2 (batch, labels); got shape {tuple(shape)}."
                )
            self._num_labels = shape[1]
            self._add_counts((self.num_thresholds, self._num_labels))
        else:
            self._add_counts((self.num_thresholds,))
        self._built = True

    @torch.no_grad()
    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = as_tensor(y_pred)
        if not self._built:
            self._build(tuple(y_pred.shape))
        if self._from_logits:
            y_pred = torch.sigmoid(y_pred)
        counts = confusion_counts(
            y_true,
            torch.clamp(y_pred.float(), 0.0, 1.0),
            self._thresholds,
            sample_weight,
            multi_label=self.multi_label,
            label_weights=None if self.multi_label else self.label_weights,
        )
        for key in self._counts:
            getattr(self, self._count_names[key]).add_(counts[key])

    def _by_label(self, terms):
        if not self.multi_label:
            return terms.sum()
        by_label = terms.sum(dim=0)
        if self.label_weights is None:
            return by_label.mean()
        weights = self.label_weights.to(by_label.device)
        return _divide_no_nan((by_label * weights).sum(), weights.sum())

    def _interpolate_pr_auc(self, tp, fp, fn):
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        prec_slope = _divide_no_nan(dtp, torch.clamp(dp, min=0))
        intercept = tp[1:] - prec_slope * p[1:]
        both = (p[:-1] > 0) & (p[1:] > 0)
        ratio = torch.where(
            both,
            _divide_no_nan(p[:-1], torch.clamp(p[1:], min=0)),
            torch.ones_like(p[1:]),
        )
        increment = _divide_no_nan(
            prec_slope * (dtp + intercept * torch.log(ratio)),
            torch.clamp(tp[1:] + fn[1:], min=0),
        )
        return self._by_label(increment)

    def result(self):
        tp, fp = self.true_positives.detach(), self.false_positives.detach()
        tn, fn = self.true_negatives.detach(), self.false_negatives.detach()
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolate_pr_auc(tp, fp, fn)
        recall = _divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _divide_no_nan(fp, fp + tn), recall
        else:
            x, y = recall, _divide_no_nan(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = torch.minimum(y[:-1], y[1:])
        else:
            heights = torch.maximum(y[:-1], y[1:])
        return self._by_label((x[:-1] - x[1:]) * heights)

    def reset_state(self):
        if self._built:
            super().reset_state()

    def get_config(self):
        label_weights = self.label_weights
        config_dict = {
            **super().get_config(),
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": None if label_weights is None else label_weights.tolist(),
            "from_logits": self._from_logits,
        }
        if self._init_from_thresholds:
            config_dict["thresholds"] = self.thresholds[1:-1]
        return config_dict

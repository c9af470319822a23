"""Intersection-over-union metrics for segmentation: ``IoU``, ``MeanIoU``,
``BinaryIoU``, ``OneHotIoU`` and ``OneHotMeanIoU``.

All accumulate one ``(num_classes, num_classes)`` confusion matrix (rows: true
class, columns: predicted class) and read ``IoU = tp / (tp + fp + fn)`` per class
from it; they differ in how labels and predictions arrive (class ids, one-hot
rows, probabilities) and in which classes are averaged.
"""

from __future__ import annotations

import math
import warnings

import torch

from lamina import config
from lamina.losses.loss import as_tensor
from lamina.metrics.metric import Metric
from lamina.utils.validation import arg_error, check_int


class _IoUBase(Metric):
    """The confusion-matrix state and its update, shared by the IoU metrics."""

    _direction = "up"

    def __init__(
        self, num_classes, name=None, dtype=None, ignore_class=None,
        sparse_y_true=True, sparse_y_pred=True, axis=-1,
    ):  # fmt: skip
        super().__init__(name=name, dtype=dtype or "int32")
        self.num_classes = check_int(self, "num_classes", num_classes, 1)
        self.ignore_class = ignore_class
        self.sparse_y_true = sparse_y_true
        self.sparse_y_pred = sparse_y_pred
        self.axis = axis
        self.total_cm = self.add_variable(
            (num_classes, num_classes), "zeros", name="total_confusion_matrix"
        )

    def _class_ids(self, values, sparse):
        values = as_tensor(values, None, self.total_cm.device)
        if not sparse:
            values = torch.argmax(values, dim=self.axis)
        # through the state dtype, as in Keras: an int metric truncates floats
        return values.to(self._torch_dtype).long()

    def _weights(self, sample_weight, shape):
        """Per-label weights; one weight per sample also covers a sample's
        pixels (Keras 3 fails on that broadcast)."""
        device = self.total_cm.device
        if sample_weight is None:
            return torch.ones(shape, dtype=self._torch_dtype, device=device)
        weights = as_tensor(sample_weight, None, device)
        if weights.is_floating_point() and not self._torch_dtype.is_floating_point:
            warnings.warn(
                f"{type(self).__name__} '{self.name}': float sample weights are "
                f"truncated to the metric's dtype {self.dtype}; pass integer weights "
                "or create the metric with dtype='float32'.",
                stacklevel=3,
            )
        weights = weights.to(self._torch_dtype)
        if weights.numel() == math.prod(shape):
            return weights.reshape(shape)
        if 0 < weights.ndim < len(shape) and weights.shape == shape[: weights.ndim]:
            weights = weights.reshape(
                *weights.shape, *[1] * (len(shape) - weights.ndim)
            )
        return torch.broadcast_to(weights, shape)

    @torch.no_grad()
    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = self._class_ids(y_true, self.sparse_y_true)
        y_pred = self._class_ids(y_pred, self.sparse_y_pred)
        weights = self._weights(sample_weight, y_true.shape).reshape(-1)
        y_true, y_pred = y_true.reshape(-1), y_pred.reshape(-1)
        n = self.num_classes
        valid = (y_true >= 0) & (y_true < n) & (y_pred >= 0) & (y_pred < n)
        if self.ignore_class is not None:
            valid &= y_true != int(self.ignore_class)
        cells = torch.where(valid, y_true * n + y_pred, 0)
        weights = torch.where(valid, weights, 0).to(torch.float64)
        counts = torch.bincount(cells, weights=weights, minlength=n * n)
        self.total_cm.add_(counts.reshape(n, n).to(self._torch_dtype))


class IoU(_IoUBase):
    """Mean intersection-over-union of the classes ``target_class_ids``.

    For each target class ``IoU = tp / (tp + fp + fn)``; classes that never
    occur (in labels or predictions) are left out of the mean.

    Args:
        num_classes: the number of classes (the confusion matrix is
            ``num_classes x num_classes``).
        target_class_ids: the class ids averaged over.
        name: the metric's name.
        dtype: the dtype of the confusion matrix (default ``"int32"``: float
            sample weights are truncated, as in Keras).
        ignore_class: a label id left out of the counts.
        sparse_y_true: labels are class ids (``False``: one-hot or scores,
            reduced with ``argmax`` over ``axis``).
        sparse_y_pred: predictions are class ids (``False``: scores).
        axis: the class axis for the ``argmax``.

    Weights: ``total_confusion_matrix`` ``(num_classes, num_classes)``.

    Raises:
        ValueError: for a target class id outside ``[0, num_classes)``.

    Example:
    >>> import lamina as keras
    >>> m = keras.metrics.IoU(num_classes=2, target_class_ids=[0])
    >>> m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
    >>> round(float(m.result()), 4)
    0.3333
    """

    def __init__(
        self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None,
        sparse_y_true=True, sparse_y_pred=True, axis=-1,
    ):  # fmt: skip
        super().__init__(
            num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
            sparse_y_true=sparse_y_true, sparse_y_pred=sparse_y_pred, axis=axis,
        )  # fmt: skip
        ids = list(target_class_ids)
        if not ids or min(ids) < 0 or max(ids) >= num_classes:
            raise arg_error(
                self, "target_class_ids",
                f"a non-empty list of class ids in [0, {num_classes})",
                target_class_ids,
            )  # fmt: skip
        self.target_class_ids = ids

    def result(self):
        cm = self.total_cm.detach().to(torch.float32)
        true_positives = torch.diagonal(cm)
        denominator = cm.sum(dim=0) + cm.sum(dim=1) - true_positives
        ids = torch.as_tensor(self.target_class_ids, device=cm.device)
        true_positives, denominator = true_positives[ids], denominator[ids]
        valid = denominator > 1e-9
        iou = torch.where(valid, true_positives / (denominator + config.epsilon()), 0.0)
        return iou.sum() / (valid.sum() + config.epsilon())

    def get_config(self):
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "target_class_ids": self.target_class_ids,
            "ignore_class": self.ignore_class,
            "sparse_y_true": self.sparse_y_true,
            "sparse_y_pred": self.sparse_y_pred,
            "axis": self.axis,
        }


class BinaryIoU(IoU):
    """IoU of binary labels against scores thresholded at ``threshold``
    (``y_pred >= threshold`` is class 1).

    Args:
        target_class_ids: which of the classes 0 and 1 to average (default both).
        threshold: the score from which a prediction is class 1 (default 0.5).
        name, dtype: as for ``IoU``.

    Example:
    >>> import lamina as keras
    >>> m = keras.metrics.BinaryIoU(target_class_ids=[0, 1], threshold=0.3)
    >>> m.update_state([0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7])
    >>> round(float(m.result()), 4)
    0.3333
    """

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None):
        super().__init__(
            num_classes=2, target_class_ids=target_class_ids, name=name, dtype=dtype
        )
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = as_tensor(y_pred, torch.float32)
        predicted = (y_pred >= self.threshold).to(self._torch_dtype)
        super().update_state(y_true, predicted, sample_weight)

    def get_config(self):
        return {
            "target_class_ids": self.target_class_ids,
            "threshold": self.threshold,
            "name": self.name,
            "dtype": self.dtype,
        }


class MeanIoU(IoU):
    """IoU averaged over all ``num_classes`` classes.

    Args:
        num_classes, name, dtype, ignore_class, sparse_y_true, sparse_y_pred,
        axis: as for ``IoU``.

    Example:
    >>> import lamina as keras
    >>> m = keras.metrics.MeanIoU(num_classes=2)
    >>> m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
    >>> round(float(m.result()), 4)
    0.3333
    """

    def __init__(
        self, num_classes, name=None, dtype=None, ignore_class=None,
        sparse_y_true=True, sparse_y_pred=True, axis=-1,
    ):  # fmt: skip
        super().__init__(
            num_classes, list(range(num_classes)), name=name, dtype=dtype,
            ignore_class=ignore_class, sparse_y_true=sparse_y_true,
            sparse_y_pred=sparse_y_pred, axis=axis,
        )  # fmt: skip

    def get_config(self):
        config_dict = super().get_config()
        del config_dict["target_class_ids"]
        return config_dict


class OneHotIoU(IoU):
    """``IoU`` for one-hot labels and per-class scores (both reduced with
    ``argmax``).

    Args:
        num_classes, target_class_ids, name, dtype, ignore_class, axis: as for
            ``IoU``.
        sparse_y_pred: predictions are class ids (default ``False``: scores).

    Example:
    >>> import lamina as keras
    >>> m = keras.metrics.OneHotIoU(num_classes=3, target_class_ids=[0, 2])
    >>> m.update_state([[0, 0, 1], [1, 0, 0]], [[0.1, 0.2, 0.7], [0.6, 0.3, 0.1]])
    >>> round(float(m.result()), 4)
    1.0
    """

    def __init__(
        self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None,
        sparse_y_pred=False, axis=-1,
    ):  # fmt: skip
        super().__init__(
            num_classes, target_class_ids, name=name, dtype=dtype,
            ignore_class=ignore_class, sparse_y_true=False,
            sparse_y_pred=sparse_y_pred, axis=axis,
        )  # fmt: skip

    def get_config(self):
        config_dict = super().get_config()
        del config_dict["sparse_y_true"]
        return config_dict


class OneHotMeanIoU(MeanIoU):
    """``MeanIoU`` for one-hot labels and per-class scores.

    Args:
        num_classes, name, dtype, ignore_class, axis: as for ``IoU``.
        sparse_y_pred: predictions are class ids (default ``False``: scores).

    Example:
    >>> import lamina as keras
    >>> m = keras.metrics.OneHotMeanIoU(num_classes=2)
    >>> m.update_state([[1, 0], [0, 1]], [[0.8, 0.2], [0.3, 0.7]])
    >>> round(float(m.result()), 4)
    1.0
    """

    def __init__(
        self, num_classes, name=None, dtype=None, ignore_class=None,
        sparse_y_pred=False, axis=-1,
    ):  # fmt: skip
        super().__init__(
            num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
            sparse_y_true=False, sparse_y_pred=sparse_y_pred, axis=axis,
        )  # fmt: skip

    def get_config(self):
        config_dict = super().get_config()
        del config_dict["sparse_y_true"]
        return config_dict

"""Accuracy metrics: exact, binary, categorical, sparse categorical and top-k."""

from __future__ import annotations

import torch

from lamina.losses.loss import as_tensor, squeeze_or_expand_to_same_rank
from lamina.metrics.metric import _Wrapper


def _float(x: torch.Tensor) -> torch.Tensor:
    return x.to(torch.get_default_dtype())


def accuracy(y_true, y_pred):
    """1.0 where ``y_true == y_pred``, else 0.0."""
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, y_pred.dtype, y_pred.device)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return _float(y_true == y_pred)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1.0 where ``(y_pred > threshold) == y_true``, else 0.0."""
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, None, y_pred.device)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return _float(y_true == (y_pred > threshold).to(y_true.dtype))


def _argmax_matches(y_true, y_pred):
    """Compare class ids ``y_true`` with ``argmax(y_pred)``; a trailing size-1 axis
    on the labels is dropped and restored, as Keras does."""
    reshape = y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1
    original_shape = y_true.shape
    if reshape:
        y_true = y_true.squeeze(-1)
    matches = _float(y_true == torch.argmax(y_pred, dim=-1).to(y_true.dtype))
    if reshape:
        matches = matches.reshape(original_shape)
    return matches


def categorical_accuracy(y_true, y_pred):
    """1.0 where ``argmax(y_true) == argmax(y_pred)`` (``y_true`` may be boolean
    one-hot rows)."""
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, y_pred.dtype, y_pred.device)
    labels = torch.argmax(y_true, dim=-1).to(y_pred.dtype)
    if labels.ndim == y_pred.ndim:
        labels = labels.unsqueeze(-1)
    return _argmax_matches(labels, y_pred)


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where the class id ``y_true`` equals ``argmax(y_pred)``."""
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, y_pred.dtype, y_pred.device)
    matches = _argmax_matches(y_true, y_pred)
    if matches.ndim > 1 and matches.shape[-1] == 1:
        matches = matches.squeeze(-1)
    return matches


def _in_top_k(labels, predictions, k):
    """Whether each label's score is among the ``k`` largest of its row (ties with
    the k-th score count as in, like ``keras.ops.in_top_k``)."""
    k = min(int(k), predictions.shape[-1])
    kth = torch.topk(predictions, k, dim=-1).values[..., -1:]
    picked = torch.gather(predictions, -1, labels.long().unsqueeze(-1))
    return (picked >= kth).squeeze(-1)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where ``argmax(y_true)`` is among the top ``k`` predictions."""
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, y_pred.dtype, y_pred.device)
    labels = torch.argmax(y_true, dim=-1)
    shape = labels.shape
    matches = _in_top_k(labels.reshape(-1), y_pred.reshape(-1, y_pred.shape[-1]), k)
    return _float(matches).reshape(shape)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1.0 where the class id ``y_true`` is among the top ``k`` predictions
    (``from_sorted_ids``: ``y_pred`` already holds class ids, best first)."""
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, None, y_pred.device)
    shape = y_true.shape
    labels = y_true.reshape(-1)
    if y_true.ndim > 1:
        shape = y_true.shape
    flat_pred = y_pred.reshape(-1, y_pred.shape[-1])
    if from_sorted_ids:
        top = flat_pred[:, :k]
        matches = torch.any(labels.to(top.dtype).unsqueeze(1) == top, dim=1)
    else:
        matches = _in_top_k(labels, flat_pred, k)
    return _float(matches).reshape(shape)


class Accuracy(_Wrapper):
    """How often predictions equal labels.

    Example:
    >>> import lamina as keras
    >>> float(keras.metrics.Accuracy()([[1], [2], [3], [4]], [[0], [2], [3], [4]]))
    0.75
    """

    _fn = accuracy
    _direction = "up"

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(name, dtype)


class BinaryAccuracy(_Wrapper):
    """How often ``y_pred > threshold`` matches binary labels."""

    _fn = binary_accuracy
    _direction = "up"
    _config_keys = ("threshold",)

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(name, dtype, threshold=threshold)


class CategoricalAccuracy(_Wrapper):
    """How often ``argmax(y_pred)`` matches one-hot labels."""

    _fn = categorical_accuracy
    _direction = "up"

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(name, dtype)


class SparseCategoricalAccuracy(_Wrapper):
    """How often ``argmax(y_pred)`` matches integer labels.

    Example:
    >>> import lamina as keras
    >>> metric = keras.metrics.SparseCategoricalAccuracy()
    >>> float(metric([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]]))
    0.5
    """

    _fn = sparse_categorical_accuracy
    _direction = "up"

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(name, dtype)


class TopKCategoricalAccuracy(_Wrapper):
    """How often the one-hot label is among the top ``k`` predictions."""

    _fn = top_k_categorical_accuracy
    _direction = "up"
    _config_keys = ("k",)

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(name, dtype, k=k)


class SparseTopKCategoricalAccuracy(_Wrapper):
    """How often the integer label is among the top ``k`` predictions."""

    _fn = sparse_top_k_categorical_accuracy
    _direction = "up"
    _config_keys = ("k",)

    def __init__(
        self,
        k=5,
        name="sparse_top_k_categorical_accuracy",
        dtype=None,
        from_sorted_ids=False,
    ):
        super().__init__(name, dtype, k=k, from_sorted_ids=from_sorted_ids)

    def get_config(self) -> dict:
        config_dict = super().get_config()
        if self.from_sorted_ids:
            config_dict["from_sorted_ids"] = True
        return config_dict

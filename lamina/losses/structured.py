"""Losses over whole structures rather than independent values: ``dice`` and
``tversky`` (segmentation overlap), ``circle`` (metric learning over the pairs
of a batch) and ``ctc`` (sequence alignment), with their ``Loss`` classes."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from lamina import config
from lamina.losses.loss import as_tensor
from lamina.losses.losses import _REDUCTION, LossFunctionWrapper, _pair


def _sum(x, axis):
    return x.sum() if axis is None else x.sum(dim=axis)


def dice(y_true, y_pred, axis=None):
    """``1 - 2 * sum(y_true * y_pred) / (sum(y_true) + sum(y_pred) + eps)``,
    summed over ``axis`` (``None``: everything, one value for the batch).

    Example:
    >>> import lamina as keras
    >>> y_true = [[[[1.0], [1.0]], [[0.0], [0.0]]], [[[1.0], [1.0]], [[0.0], [0.0]]]]
    >>> y_pred = [[[[0.0], [1.0]], [[0.0], [1.0]]], [[[0.4], [0.0]], [[0.0], [0.9]]]]
    >>> [round(v, 5) for v in keras.losses.dice(y_true, y_pred, axis=(1, 2, 3)).tolist()]
    [0.5, 0.75758]
    """
    y_true, y_pred = _pair(y_true, y_pred, squeeze=False)
    intersection = _sum(y_true * y_pred, axis)
    total = _sum(y_true, axis) + _sum(y_pred, axis) + config.epsilon()
    return 1 - 2.0 * intersection / total


def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    """``1 - tp / (tp + alpha * fp + beta * fn + eps)`` with soft counts
    ``tp = sum(y_true * y_pred)``, ``fp = sum(y_true * (1 - y_pred))``,
    ``fn = sum((1 - y_true) * y_pred)`` over ``axis`` (Salehi et al., 2017; the
    ``fp``/``fn`` roles are Keras's). ``alpha = beta = 0.5`` gives ``dice``.

    Example:
    >>> import lamina as keras
    >>> round(float(keras.losses.tversky([[1.0, 0.0]], [[0.5, 0.5]], 0.7, 0.3)), 4)
    0.5
    """
    y_true, y_pred = _pair(y_true, y_pred, squeeze=False)
    intersection = _sum(y_true * y_pred, axis)
    fp = _sum((1 - y_pred) * y_true, axis)
    fn = _sum(y_pred * (1 - y_true), axis)
    return 1 - intersection / (intersection + fp * alpha + fn * beta + config.epsilon())


def _pair_masks(labels, ref_labels, remove_diagonal):
    """Same-label (positive) and different-label (negative) pair masks."""
    positive = labels.reshape(-1, 1) == ref_labels.reshape(1, -1)
    negative = ~positive
    if remove_diagonal:
        eye = torch.eye(*positive.shape, dtype=torch.bool, device=positive.device)
        positive = positive & ~eye
    return positive, negative


def circle(
    y_true,
    y_pred,
    ref_labels=None,
    ref_embeddings=None,
    remove_diagonal=True,
    gamma=80,
    margin=0.4,
):
    """Circle loss (Sun et al., 2020) of L2-normalized embeddings ``y_pred``
    with integer labels ``y_true``, against ``ref_embeddings``/``ref_labels``
    (default: the batch itself). One value per sample; the result carries a
    mask of the positive values, so samples without a positive pair leave the
    mean, as in Keras.

    Example:
    >>> import torch, lamina as keras
    >>> emb = torch.nn.functional.normalize(torch.tensor([[1.0, 0.1], [1.0, 0.2], [0.0, 1.0]]))
    >>> loss = keras.losses.circle([0, 0, 1], emb)
    >>> loss.shape, bool(loss[2] == 0)
    (torch.Size([3]), True)
    """
    y_pred = as_tensor(y_pred)
    labels = as_tensor(y_true, None, y_pred.device).long()
    ref = y_pred if ref_embeddings is None else as_tensor(ref_embeddings, y_pred.dtype)
    ref_labels = labels if ref_labels is None else as_tensor(ref_labels).long()
    distances = torch.clamp(1 - y_pred @ ref.to(y_pred.device).T, min=0.0)
    positive, negative = _pair_masks(
        labels, ref_labels.to(labels.device), remove_diagonal
    )
    pos_weights = torch.clamp((margin + distances) * positive, min=0.0)
    neg_weights = torch.clamp((1 + margin - distances) * negative, min=0.0)
    pos_logits = -gamma * pos_weights * (margin - distances)
    neg_logits = gamma * neg_weights * (1 - margin - distances)
    minus_inf = torch.tensor(
        float("-inf"), dtype=distances.dtype, device=distances.device
    )
    p_loss = torch.logsumexp(torch.where(positive, pos_logits, minus_inf), dim=1)
    n_loss = torch.logsumexp(torch.where(negative, neg_logits, minus_inf), dim=1)
    loss = F.softplus(p_loss + n_loss)
    loss._keras_mask = loss > 0
    return loss


def ctc(y_true, y_pred):
    """Connectionist Temporal Classification loss, one value per sequence.

    ``y_true`` holds integer labels of shape ``(batch, max_label_length)``;
    ``0`` is the blank (padding) index, so each label sequence has as many
    entries as non-zero labels, read from the start of its row. ``y_pred``
    holds unnormalized logits of shape ``(batch, time, num_classes)``; every
    sequence uses all ``time`` steps. Computed by ``torch.nn.functional.ctc_loss``
    on ``log_softmax`` of the logits (at least float32).

    Raises:
        ValueError: when ``y_true`` is not 2-D or ``y_pred`` is not 3-D.

    Example:
    >>> import torch, lamina as keras
    >>> loss = keras.losses.ctc([[1, 2, 0]], torch.zeros(1, 4, 3))
    >>> round(float(loss[0]), 4)
    1.6864
    """
    y_pred = as_tensor(y_pred)
    labels = as_tensor(y_true, None, y_pred.device)
    if labels.ndim != 2:
        raise ValueError(
            "ctc: `y_true` must be integer labels of shape (batch_size, "
            f"max_length); got y_true.shape={tuple(labels.shape)}."
        )
    if y_pred.ndim != 3:
        raise ValueError(
            "ctc: `y_pred` must be logits of shape (batch_size, max_length, "
            f"num_classes); got y_pred.shape={tuple(y_pred.shape)}."
        )
    labels = labels.long()
    batch, steps = y_pred.shape[:2]
    dtype = torch.promote_types(y_pred.dtype, torch.float32)
    log_probs = F.log_softmax(y_pred.to(dtype).transpose(0, 1), dim=-1)
    input_lengths = torch.full((batch,), steps, dtype=torch.long, device=y_pred.device)
    return F.ctc_loss(
        log_probs, labels, input_lengths, (labels != 0).sum(dim=-1), blank=0,
        reduction="none",
    )  # fmt: skip


class Dice(LossFunctionWrapper):
    """Dice loss (see ``dice``).

    Args:
        reduction, name, dtype: as for every ``Loss``.
        axis: the axes summed over (``None``: all, one value for the batch).

    Example:
    >>> import lamina as keras
    >>> round(float(keras.losses.Dice()([[1.0, 0.0]], [[0.5, 0.5]])), 4)
    0.5
    """

    _config_keys = ("axis",)

    def __init__(self, reduction=_REDUCTION, name="dice", axis=None, dtype=None):
        super().__init__(dice, reduction, name, dtype, axis=axis)


class Tversky(LossFunctionWrapper):
    """Tversky loss (see ``tversky``).

    Args:
        alpha: the weight of false positives (default 0.5).
        beta: the weight of false negatives (default 0.5).
        reduction, name, dtype: as for every ``Loss``.
        axis: the axes summed over (``None``: all, one value for the batch).

    Example:
    >>> import lamina as keras
    >>> round(float(keras.losses.Tversky(0.7, 0.3)([[1.0, 0.0]], [[0.5, 0.5]])), 4)
    0.5
    """

    _config_keys = ("alpha", "beta", "axis")

    def __init__(
        self, alpha=0.5, beta=0.5, reduction=_REDUCTION, name="tversky", axis=None,
        dtype=None,
    ):  # fmt: skip
        super().__init__(
            tversky, reduction, name, dtype, alpha=alpha, beta=beta,
            axis=axis,
        )  # fmt: skip


class Circle(LossFunctionWrapper):
    """Circle loss between integer labels and L2-normalized embeddings (see
    ``circle``); end the model with ``UnitNormalization``.

    Args:
        gamma: the scale of the similarity scores (default 80).
        margin: the relaxation margin (default 0.4).
        remove_diagonal: leave each sample's pair with itself out of the
            positives (default ``True``).
        reduction, name, dtype: as for every ``Loss``.

    Example:
    >>> import torch, lamina as keras
    >>> emb = torch.nn.functional.normalize(torch.tensor([[1.0, 0.1], [1.0, 0.2], [0.0, 1.0]]))
    >>> float(keras.losses.Circle()([0, 0, 1], emb)) > 0
    True
    """

    _config_keys = ("gamma", "margin", "remove_diagonal")

    def __init__(
        self, gamma=80.0, margin=0.4, remove_diagonal=True, reduction=_REDUCTION,
        name="circle", dtype=None,
    ):  # fmt: skip
        super().__init__(
            circle, reduction, name, dtype, gamma=gamma, margin=margin,
            remove_diagonal=remove_diagonal,
        )  # fmt: skip

    def call(self, y_true, y_pred):
        # integer labels against embeddings: no rank reconciliation
        return self.fn(y_true, y_pred, **self._fn_kwargs)


class CTC(LossFunctionWrapper):
    """CTC loss (see ``ctc``).

    Args:
        reduction, name, dtype: as for every ``Loss``.

    Example:
    >>> import torch, lamina as keras
    >>> round(float(keras.losses.CTC()([[1, 2, 0]], torch.zeros(1, 4, 3))), 4)
    1.6864
    """

    def __init__(self, reduction=_REDUCTION, name="ctc", dtype=None):
        super().__init__(ctc, reduction, name, dtype)

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred)


__all__ = ["CTC", "Circle", "Dice", "Tversky", "circle", "ctc", "dice", "tversky"]

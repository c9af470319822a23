"""Focal and noise-robust crossentropies: ``binary_focal_crossentropy``,
``categorical_focal_crossentropy``, ``categorical_generalized_cross_entropy`` and
their ``Loss`` classes (Keras 3's formulas, computed with torch ops)."""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F

from lamina import config
from lamina.losses.loss import as_tensor
from lamina.losses.losses import (
    _REDUCTION,
    LossFunctionWrapper,
    _check_axis,
    _check_smoothing,
    _pair,
)
from lamina.utils.validation import arg_error, check_float


def binary_focal_crossentropy(
    y_true,
    y_pred,
    apply_class_balancing=False,
    alpha=0.25,
    gamma=2.0,
    from_logits=False,
    label_smoothing=0.0,
    axis=-1,
):
    """Binary crossentropy scaled by the focal factor ``(1 - p_t) ** gamma``,
    averaged over ``axis`` (Lin et al., 2018).

    ``p_t`` is the probability given to the true class (``y_pred`` for label 1,
    ``1 - y_pred`` for label 0), so confident right answers weigh little. With
    ``apply_class_balancing``, label 1 is further weighted by ``alpha`` and
    label 0 by ``1 - alpha``. Logits go through a sigmoid first; probabilities
    are clipped to [eps, 1 - eps] inside the crossentropy, as in Keras.

    Example:
    >>> import lamina as keras
    >>> loss = keras.losses.binary_focal_crossentropy(
    ...     [[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]], gamma=2)
    >>> [round(v, 3) for v in loss.tolist()]
    [0.33, 0.206]
    """
    y_true, y_pred = _pair(y_true, y_pred, squeeze=False)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        y_pred = torch.sigmoid(y_pred)
    eps = config.epsilon()
    bce = F.binary_cross_entropy(
        torch.clamp(y_pred, eps, 1.0 - eps), y_true, reduction="none"
    )
    p_t = y_true * y_pred + (1 - y_true) * (1 - y_pred)
    focal = torch.pow(1.0 - p_t, gamma) * bce
    if apply_class_balancing:
        focal = (y_true * alpha + (1 - y_true) * (1 - alpha)) * focal
    return focal.mean(dim=axis)


def categorical_focal_crossentropy(
    y_true,
    y_pred,
    alpha=0.25,
    gamma=2.0,
    from_logits=False,
    label_smoothing=0.0,
    axis=-1,
):
    """Categorical crossentropy scaled per class by ``alpha * (1 - p) ** gamma``
    and summed over ``axis`` (Lin et al., 2018).

    ``alpha`` is a float or one weight per class. Logits go through a softmax;
    probabilities are renormalized to sum to 1 and clipped to [eps, 1 - eps].

    Example:
    >>> import lamina as keras
    >>> loss = keras.losses.categorical_focal_crossentropy(
    ...     [[0, 1, 0], [0, 0, 1]], [[0.05, 0.9, 0.05], [0.1, 0.85, 0.05]])
    >>> [round(v, 5) for v in loss.tolist()]
    [0.00026, 0.67591]
    """
    _check_axis(axis)
    y_true, y_pred = _pair(y_true, y_pred, squeeze=False)
    if y_pred.shape[-1] == 1:
        warnings.warn(
            "categorical_focal_crossentropy expects y_pred of shape (batch_size, "
            f"num_classes) with num_classes > 1; got {tuple(y_pred.shape)}. "
            "Use binary_focal_crossentropy for two classes.",
            SyntaxWarning,
            stacklevel=2,
        )
    if label_smoothing:
        num_classes = y_true.shape[-1]
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / num_classes
    if from_logits:
        y_pred = torch.softmax(y_pred, dim=axis)
    eps = config.epsilon()
    output = y_pred / torch.sum(y_pred, dim=axis, keepdim=True)
    output = torch.clamp(output, eps, 1.0 - eps)
    alpha = as_tensor(alpha, output.dtype, output.device)
    weights = torch.pow(1.0 - output, gamma) * alpha
    return torch.sum(weights * (-y_true * torch.log(output)), dim=axis)


def categorical_generalized_cross_entropy(y_true, y_pred, q):
    """Generalized crossentropy ``(1 - p ** q) / q`` of the probability ``p``
    given to the true class (Zhang & Sabuncu, 2018): near crossentropy as
    ``q -> 0``, mean absolute error at ``q = 1``.

    ``y_true`` holds integer class ids of shape ``(batch,)`` or ``(batch, 1)``
    (Keras 3 broadcasts the second form into a ``(batch, batch)`` result; lamina
    reads it as the class ids it is documented to be).

    Example:
    >>> import lamina as keras
    >>> loss = keras.losses.categorical_generalized_cross_entropy(
    ...     [0, 1], [[0.7, 0.3], [0.2, 0.8]], q=0.5)
    >>> [round(v, 4) for v in loss.tolist()]
    [0.3267, 0.2111]
    """
    y_pred = as_tensor(y_pred)
    if not y_pred.is_floating_point():
        y_pred = y_pred.to(torch.get_default_dtype())
    labels = as_tensor(y_true, None, y_pred.device)
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = labels.squeeze(-1)
    labels = labels.long().unsqueeze(-1)
    p = torch.gather(y_pred, -1, labels.expand(*y_pred.shape[:-1], 1)).squeeze(-1)
    return (1 - torch.pow(p, q)) / q


class BinaryFocalCrossentropy(LossFunctionWrapper):
    """Binary focal crossentropy (see ``binary_focal_crossentropy``).

    Args:
        apply_class_balancing: weight label 1 by ``alpha``, label 0 by
            ``1 - alpha``.
        alpha: the class-1 weight of class balancing (default 0.25).
        gamma: the focusing parameter (default 2; 0 gives binary crossentropy).
        from_logits: ``y_pred`` holds logits.
        label_smoothing: in [0, 1]; pulls the targets towards 0.5.
        axis: the axis averaged over (default -1).
        reduction, name, dtype: as for every ``Loss``.

    Example:
    >>> import lamina as keras
    >>> loss = keras.losses.BinaryFocalCrossentropy(gamma=2, reduction=None)
    >>> [round(v, 3) for v in loss([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]).tolist()]
    [0.33, 0.206]
    """

    _config_keys = (
        "from_logits", "label_smoothing", "axis", "apply_class_balancing", "alpha",
        "gamma",
    )  # fmt: skip

    def __init__(
        self,
        apply_class_balancing=False,
        alpha=0.25,
        gamma=2.0,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction=_REDUCTION,
        name="binary_focal_crossentropy",
        dtype=None,
    ):
        _check_smoothing(self, label_smoothing)
        check_float(self, "gamma", gamma, 0.0)
        super().__init__(
            binary_focal_crossentropy, reduction, name, dtype,
            apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma,
            from_logits=from_logits, label_smoothing=label_smoothing, axis=axis,
        )  # fmt: skip


class CategoricalFocalCrossentropy(LossFunctionWrapper):
    """Categorical focal crossentropy (see ``categorical_focal_crossentropy``).

    Args:
        alpha: a float or one weight per class (default 0.25).
        gamma: the focusing parameter (default 2; 0 gives ``alpha`` times the
            categorical crossentropy).
        from_logits: ``y_pred`` holds logits.
        label_smoothing: in [0, 1]; mixes the targets with the uniform
            distribution.
        axis: the class axis (default -1).
        reduction, name, dtype: as for every ``Loss``.

    Example:
    >>> import lamina as keras
    >>> loss = keras.losses.CategoricalFocalCrossentropy()
    >>> round(float(loss([[0, 1, 0]], [[0.05, 0.9, 0.05]])), 6)
    0.000263
    """

    _config_keys = ("from_logits", "label_smoothing", "axis", "alpha", "gamma")

    def __init__(
        self,
        alpha=0.25,
        gamma=2.0,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction=_REDUCTION,
        name="categorical_focal_crossentropy",
        dtype=None,
    ):
        _check_smoothing(self, label_smoothing)
        check_float(self, "gamma", gamma, 0.0)
        super().__init__(
            categorical_focal_crossentropy, reduction, name, dtype, alpha=alpha,
            gamma=gamma, from_logits=from_logits, label_smoothing=label_smoothing,
            axis=axis,
        )  # fmt: skip


class CategoricalGeneralizedCrossEntropy(LossFunctionWrapper):
    """Generalized crossentropy between integer labels and class probabilities
    (see ``categorical_generalized_cross_entropy``).

    Args:
        q: the noise parameter, in (0, 1) (default 0.5).
        reduction, name, dtype: as for every ``Loss``.

    Raises:
        ValueError: for ``q`` outside (0, 1).

    Example:
    >>> import lamina as keras
    >>> gce = keras.losses.CategoricalGeneralizedCrossEntropy()
    >>> round(float(gce([0, 1], [[0.7, 0.3], [0.2, 0.8]])), 4)
    0.2689
    """

    _config_keys = ("q",)

    def __init__(
        self,
        q=0.5,
        reduction=_REDUCTION,
        name="categorical_generalized_cross_entropy",
        dtype=None,
    ):
        if isinstance(q, bool) or not isinstance(q, (int, float)) or not 0 < q < 1:
            raise arg_error(self, "q", "a number in the open interval (0, 1)", q)
        super().__init__(
            categorical_generalized_cross_entropy, reduction, name, dtype, q=q
        )

    def call(self, y_true, y_pred):
        # class ids, not a tensor to reconcile with y_pred's rank
        return self.fn(y_true, y_pred, **self._fn_kwargs)


__all__ = [
    "BinaryFocalCrossentropy",
    "CategoricalFocalCrossentropy",
    "CategoricalGeneralizedCrossEntropy",
    "binary_focal_crossentropy",
    "categorical_focal_crossentropy",
    "categorical_generalized_cross_entropy",
]

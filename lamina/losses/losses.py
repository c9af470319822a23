"""Keras 3's loss functions and loss classes, computed with torch ops.

Each function takes ``(y_true, y_pred)`` and returns one value per sample (the
last axis reduced). Each class wraps its function with Keras's reductions,
sample weights and masking (see ``Loss``), and has Keras's default name and
config keys.
"""

from __future__ import annotations

import math
import warnings

import torch
import torch.nn.functional as F

from lamina import config
from lamina.losses.loss import Loss, as_tensor, get, squeeze_or_expand_to_same_rank
from lamina.saving import serialization
from lamina.utils.validation import arg_error


def _pair(y_true, y_pred, squeeze=True):
    """Tensors on one device, ``y_true`` in ``y_pred``'s dtype, ranks reconciled."""
    y_pred = as_tensor(y_pred)
    if not y_pred.is_floating_point():
        y_pred = y_pred.to(torch.get_default_dtype())
    y_true = as_tensor(y_true, y_pred.dtype, y_pred.device)
    if squeeze:
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return y_true, y_pred


# ------------------------------------------------------------------ regression
def mean_squared_error(y_true, y_pred):
    """``mean(square(y_true - y_pred), axis=-1)``."""
    y_true, y_pred = _pair(y_true, y_pred)
    return torch.square(y_true - y_pred).mean(dim=-1)


def mean_absolute_error(y_true, y_pred):
    """``mean(abs(y_true - y_pred), axis=-1)``."""
    y_true, y_pred = _pair(y_true, y_pred)
    return torch.abs(y_true - y_pred).mean(dim=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """``100 * mean(abs((y_true - y_pred) / max(abs(y_true), epsilon)), axis=-1)``."""
    y_true, y_pred = _pair(y_true, y_pred)
    diff = torch.abs(
        (y_true - y_pred) / torch.clamp(y_true.abs(), min=config.epsilon())
    )
    return 100.0 * diff.mean(dim=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    """``mean(square(log(y_pred + 1) - log(y_true + 1)), axis=-1)`` (clipped at eps)."""
    y_true, y_pred = _pair(y_true, y_pred)
    eps = config.epsilon()
    first = torch.log(torch.clamp(y_pred, min=eps) + 1.0)
    second = torch.log(torch.clamp(y_true, min=eps) + 1.0)
    return torch.square(first - second).mean(dim=-1)


def _l2_normalize(x, axis):
    square_sum = torch.sum(torch.square(x), dim=axis, keepdim=True)
    return x * torch.rsqrt(torch.clamp(square_sum, min=1e-12))


def cosine_similarity(y_true, y_pred, axis=-1):
    """``-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)``."""
    y_true, y_pred = _pair(y_true, y_pred)
    return -torch.sum(
        _l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis), dim=axis
    )


def huber(y_true, y_pred, delta=1.0):
    """Quadratic for ``|error| <= delta``, linear beyond; mean over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred)
    error = y_pred - y_true
    abs_error = error.abs()
    quadratic = 0.5 * torch.square(error)
    linear = delta * abs_error - 0.5 * delta**2
    return torch.where(abs_error <= delta, quadratic, linear).mean(dim=-1)


def log_cosh(y_true, y_pred):
    """``mean(log(cosh(y_pred - y_true)), axis=-1)``, computed without overflow."""
    y_true, y_pred = _pair(y_true, y_pred)
    x = y_pred - y_true
    return (x + F.softplus(-2.0 * x) - math.log(2.0)).mean(dim=-1)


# --------------------------------------------------------------------- hinge
def _hinge_labels(y_true):
    """0/1 labels become -1/1; other labels pass unchanged (Keras's rule)."""
    is_binary = torch.all((y_true == 0) | (y_true == 1))
    return torch.where(is_binary, 2.0 * y_true - 1.0, y_true)


def hinge(y_true, y_pred):
    """``mean(maximum(1 - y_true * y_pred, 0), axis=-1)``; 0/1 labels map to -1/1."""
    y_true, y_pred = _pair(y_true, y_pred, squeeze=False)
    y_true = _hinge_labels(y_true)
    return torch.clamp(1.0 - y_true * y_pred, min=0.0).mean(dim=-1)


def squared_hinge(y_true, y_pred):
    """``mean(square(maximum(1 - y_true * y_pred, 0)), axis=-1)``."""
    y_true, y_pred = _pair(y_true, y_pred, squeeze=False)
    y_true = _hinge_labels(y_true)
    return torch.square(torch.clamp(1.0 - y_true * y_pred, min=0.0)).mean(dim=-1)


def categorical_hinge(y_true, y_pred):
    """``maximum(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)``."""
    y_true, y_pred = _pair(y_true, y_pred, squeeze=False)
    pos = torch.sum(y_true * y_pred, dim=-1)
    neg = torch.amax((1.0 - y_true) * y_pred, dim=-1)
    return torch.clamp(neg - pos + 1.0, min=0.0)


# ------------------------------------------------------------- probabilistic
def kl_divergence(y_true, y_pred):
    """``sum(y_true * log(y_true / y_pred), axis=-1)`` with both clipped to [eps, 1]."""
    y_true, y_pred = _pair(y_true, y_pred, squeeze=False)
    eps = config.epsilon()
    y_true = torch.clamp(y_true, eps, 1.0)
    y_pred = torch.clamp(y_pred, eps, 1.0)
    return torch.sum(y_true * torch.log(y_true / y_pred), dim=-1)


def poisson(y_true, y_pred):
    """``mean(y_pred - y_true * log(y_pred + epsilon), axis=-1)``."""
    y_true, y_pred = _pair(y_true, y_pred, squeeze=False)
    return (y_pred - y_true * torch.log(y_pred + config.epsilon())).mean(dim=-1)


def _same_shape(name, y_true, y_pred):
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"{name}: `y_true` and `y_pred` must have the same shape; got "
            f"y_true.shape={tuple(y_true.shape)}, y_pred.shape={tuple(y_pred.shape)}."
        )


def _log_probabilities(y_pred, from_logits, axis):
    if from_logits:
        return F.log_softmax(y_pred, dim=axis)
    eps = config.epsilon()
    probabilities = y_pred / torch.sum(y_pred, dim=axis, keepdim=True)
    return torch.log(torch.clamp(probabilities, eps, 1.0 - eps))


def _check_axis(axis):
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise ValueError(f"`axis` must be an int; got axis={axis!r}.")


def categorical_crossentropy(
    y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1
):
    """Crossentropy between one-hot (or soft) targets and predictions on ``axis``.

    Probabilities are renormalized to sum to 1 and clipped to [eps, 1 - eps];
    ``label_smoothing`` mixes the targets with the uniform distribution.
    """
    _check_axis(axis)
    y_true, y_pred = _pair(y_true, y_pred, squeeze=False)
    if y_pred.shape[-1] == 1:
        warnings.warn(
            "categorical_crossentropy expects y_pred of shape (batch_size, "
            f"num_classes) with num_classes > 1; got {tuple(y_pred.shape)}. "
            "Use binary_crossentropy for two classes.",
            SyntaxWarning,
            stacklevel=2,
        )
    if label_smoothing:
        num_classes = y_true.shape[-1]
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / num_classes
    _same_shape("categorical_crossentropy", y_true, y_pred)
    return -torch.sum(y_true * _log_probabilities(y_pred, from_logits, axis), dim=axis)


def sparse_categorical_crossentropy(
    y_true, y_pred, from_logits=False, ignore_class=None, axis=-1
):
    """Crossentropy between integer class ids and predictions along ``axis``.

    ``y_true`` has ``y_pred``'s shape without the class axis (or with a size-1 class
    axis). Labels must lie in ``[0, num_classes)``; entries equal to
    ``ignore_class`` contribute 0 and are masked out of the mean.

    Raises:
        ValueError: for a ``y_true`` shape that does not fit ``y_pred``, or for a
            label outside ``[0, num_classes)`` (the message gives the range found).
    """
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, None, y_pred.device)
    if y_true.ndim == y_pred.ndim and y_true.shape[axis] == 1:
        y_true = y_true.squeeze(axis)
    class_axis = axis % y_pred.ndim
    expected = tuple(d for i, d in enumerate(y_pred.shape) if i != class_axis)
    if tuple(y_true.shape) != expected:
        raise ValueError(
            "sparse_categorical_crossentropy: `y_true` must hold one class id per "
            f"prediction, with shape {expected} (or {(*expected, 1)}) for "
            f"y_pred.shape={tuple(y_pred.shape)}; got "
            f"y_true.shape={tuple(y_true.shape)}."
        )
    labels = y_true.long()
    valid = None
    if ignore_class is not None:
        valid = labels != int(ignore_class)
        labels = torch.where(valid, labels, torch.zeros_like(labels))
    num_classes = y_pred.shape[class_axis]
    if labels.device.type != "cpu":  # an out-of-range gather would kill the context
        _check_labels(labels, num_classes)
    # torch's fused kernels want the classes on axis 1
    scores = y_pred if class_axis == 1 else y_pred.movedim(class_axis, 1)
    try:
        if from_logits:
            result = F.cross_entropy(scores, labels, reduction="none")
        else:
            result = F.nll_loss(
                _log_probabilities(scores, False, 1), labels, reduction="none"
            )
    except (RuntimeError, IndexError):
        _check_labels(labels, num_classes)
        raise
    if valid is not None:
        result = torch.where(valid, result, torch.zeros_like(result))
        result._keras_mask = valid
    return result


def _check_labels(labels, num_classes):
    if labels.numel() == 0:
        return
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or high >= num_classes:
        raise ValueError(
            "sparse_categorical_crossentropy: labels must be class ids in "
            f"[0, {num_classes}) (y_pred has {num_classes} classes); got labels in "
            f"[{low}, {high}]."
        )


def binary_crossentropy(
    y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1
):
    """Element-wise binary crossentropy, averaged over ``axis``.

    Probabilities are clipped to [eps, 1 - eps]; ``label_smoothing`` pulls the
    targets towards 0.5.
    """
    y_true, y_pred = _pair(y_true, y_pred, squeeze=False)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    _same_shape("binary_crossentropy", y_true, y_pred)
    if from_logits:
        values = F.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
    else:
        eps = config.epsilon()
        values = F.binary_cross_entropy(
            torch.clamp(y_pred, eps, 1.0 - eps), y_true, reduction="none"
        )
    return values.mean(dim=axis)


# ------------------------------------------------------------------- classes
class LossFunctionWrapper(Loss):
    """A ``Loss`` around a function ``fn(y_true, y_pred, **kwargs)``.

    Example:
    >>> import lamina as keras
    >>> mse = keras.losses.LossFunctionWrapper(keras.losses.mean_squared_error)
    >>> float(mse([[0.0, 1.0]], [[1.0, 1.0]]))
    0.5
    """

    _config_keys: tuple[str, ...] = ()  # kwargs of `fn` that are in the config

    def __init__(
        self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kw
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kw
        for key in self._config_keys:
            setattr(self, key, kw[key])

    def call(self, y_true, y_pred):
        if isinstance(y_true, torch.Tensor) and isinstance(y_pred, torch.Tensor):
            y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self) -> dict:
        if type(self) is not LossFunctionWrapper:
            config_dict = Loss.get_config(self)
            config_dict.update({key: getattr(self, key) for key in self._config_keys})
            return config_dict
        config_dict = super().get_config()
        config_dict["fn"] = serialization.serialize_keras_object(self.fn)
        config_dict.update(serialization.serialize_keras_object(self._fn_kwargs))
        return config_dict

    @classmethod
    def from_config(cls, config_dict):
        config_dict = dict(config_dict)
        if "fn" in config_dict and isinstance(config_dict["fn"], str):
            config_dict["fn"] = get(config_dict["fn"])
        return cls(**config_dict)


_REDUCTION = "sum_over_batch_size"


class MeanSquaredError(LossFunctionWrapper):
    """Mean of squares of errors between labels and predictions.

    Example:
    >>> import lamina as keras
    >>> float(keras.losses.MeanSquaredError()([[0.0, 1.0]], [[1.0, 1.0]]))
    0.5
    """

    def __init__(self, reduction=_REDUCTION, name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, reduction, name, dtype)


class MeanAbsoluteError(LossFunctionWrapper):
    """Mean of absolute errors between labels and predictions."""

    def __init__(self, reduction=_REDUCTION, name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, reduction, name, dtype)


class MeanAbsolutePercentageError(LossFunctionWrapper):
    """``100 * mean(abs((y_true - y_pred) / y_true))``."""

    def __init__(
        self, reduction=_REDUCTION, name="mean_absolute_percentage_error", dtype=None
    ):
        super().__init__(mean_absolute_percentage_error, reduction, name, dtype)


class MeanSquaredLogarithmicError(LossFunctionWrapper):
    """``mean(square(log(y_true + 1) - log(y_pred + 1)))``."""

    def __init__(
        self, reduction=_REDUCTION, name="mean_squared_logarithmic_error", dtype=None
    ):
        super().__init__(mean_squared_logarithmic_error, reduction, name, dtype)


class CosineSimilarity(LossFunctionWrapper):
    """Negative cosine similarity between labels and predictions along ``axis``."""

    def __init__(
        self, axis=-1, reduction=_REDUCTION, name="cosine_similarity", dtype=None
    ):
        super().__init__(cosine_similarity, reduction, name, dtype, axis=axis)


class Huber(LossFunctionWrapper):
    """Huber loss: quadratic for small errors, linear beyond ``delta``."""

    def __init__(self, delta=1.0, reduction=_REDUCTION, name="huber_loss", dtype=None):
        super().__init__(huber, reduction, name, dtype, delta=delta)


class LogCosh(LossFunctionWrapper):
    """Logarithm of the hyperbolic cosine of the prediction error."""

    def __init__(self, reduction=_REDUCTION, name="log_cosh", dtype=None):
        super().__init__(log_cosh, reduction, name, dtype)


class Hinge(LossFunctionWrapper):
    """Hinge loss; 0/1 labels are mapped to -1/1."""

    def __init__(self, reduction=_REDUCTION, name="hinge", dtype=None):
        super().__init__(hinge, reduction, name, dtype)


class SquaredHinge(LossFunctionWrapper):
    """Squared hinge loss; 0/1 labels are mapped to -1/1."""

    def __init__(self, reduction=_REDUCTION, name="squared_hinge", dtype=None):
        super().__init__(squared_hinge, reduction, name, dtype)


class CategoricalHinge(LossFunctionWrapper):
    """Categorical hinge loss between one-hot labels and predictions."""

    def __init__(self, reduction=_REDUCTION, name="categorical_hinge", dtype=None):
        super().__init__(categorical_hinge, reduction, name, dtype)


class KLDivergence(LossFunctionWrapper):
    """Kullback-Leibler divergence between label and prediction distributions."""

    def __init__(self, reduction=_REDUCTION, name="kl_divergence", dtype=None):
        super().__init__(kl_divergence, reduction, name, dtype)


class Poisson(LossFunctionWrapper):
    """Poisson loss: ``y_pred - y_true * log(y_pred)``."""

    def __init__(self, reduction=_REDUCTION, name="poisson", dtype=None):
        super().__init__(poisson, reduction, name, dtype)


class BinaryCrossentropy(LossFunctionWrapper):
    """Crossentropy between binary labels and predicted probabilities (or logits).

    Example:
    >>> import lamina as keras
    >>> bce = keras.losses.BinaryCrossentropy(from_logits=True)
    >>> round(float(bce([[0.0, 1.0]], [[-2.0, 3.0]])), 4)
    0.0878
    """

    _config_keys = ("from_logits", "label_smoothing", "axis")

    def __init__(
        self,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction=_REDUCTION,
        name="binary_crossentropy",
        dtype=None,
    ):
        _check_smoothing(self, label_smoothing)
        super().__init__(
            binary_crossentropy,
            reduction,
            name,
            dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )


class CategoricalCrossentropy(LossFunctionWrapper):
    """Crossentropy between one-hot labels and predicted probabilities (or logits).

    Example:
    >>> import lamina as keras
    >>> cce = keras.losses.CategoricalCrossentropy()
    >>> round(float(cce([[0, 1, 0]], [[0.05, 0.95, 0.0]])), 4)
    0.0513
    """

    _config_keys = ("from_logits", "label_smoothing", "axis")

    def __init__(
        self,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction=_REDUCTION,
        name="categorical_crossentropy",
        dtype=None,
    ):
        _check_smoothing(self, label_smoothing)
        super().__init__(
            categorical_crossentropy,
            reduction,
            name,
            dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Crossentropy between integer labels and predicted probabilities (or logits).

    Example:
    >>> import lamina as keras
    >>> scce = keras.losses.SparseCategoricalCrossentropy()
    >>> round(float(scce([1, 2], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]])), 3)
    1.177
    """

    _config_keys = ("from_logits", "ignore_class")

    def __init__(
        self,
        from_logits=False,
        ignore_class=None,
        reduction=_REDUCTION,
        axis=-1,
        name="sparse_categorical_crossentropy",
        dtype=None,
    ):
        super().__init__(
            sparse_categorical_crossentropy,
            reduction,
            name,
            dtype,
            from_logits=from_logits,
            ignore_class=ignore_class,
            axis=axis,
        )


def _check_smoothing(owner, label_smoothing):
    value = float(label_smoothing)
    if not 0.0 <= value <= 1.0:
        raise arg_error(owner, "label_smoothing", "a number in [0, 1]", label_smoothing)

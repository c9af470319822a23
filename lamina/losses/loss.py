"""``Loss``: the base class of losses, with Keras 3's reductions and masking.

A loss maps ``(y_true, y_pred)`` to one value per sample (``call``); ``__call__``
weights those values by ``sample_weight`` and the mask of ``y_pred`` and reduces
them. ``"sum_over_batch_size"`` (the default) divides the weighted sum by the
number of values, not by the sum of the weights, exactly as Keras does.
"""

from __future__ import annotations

import inspect

import numpy as np
import torch

from lamina import config
from lamina import dtype_policies as policies
from lamina.saving import registry, serialization
from lamina.utils import naming
from lamina.utils.lookup import resolve
from lamina.utils.validation import arg_error

REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none")


def standardize_reduction(owner, reduction):
    """``reduction`` checked against Keras's choices (``None`` means ``"none"``)."""
    if reduction is None or reduction == "none":
        return reduction
    if reduction not in REDUCTIONS:
        raise arg_error(owner, "reduction", f"one of {REDUCTIONS} or None", reduction)
    return reduction


def as_tensor(x, dtype: torch.dtype | None = None, device=None) -> torch.Tensor:
    """``x`` as a tensor; floating values are cast to ``dtype`` when given."""
    if not isinstance(x, torch.Tensor):
        array = np.asarray(x)
        if array.dtype == np.float64 and dtype is None:
            array = array.astype(config.floatx())
        x = torch.as_tensor(np.ascontiguousarray(array), device=device)
    elif device is not None and x.device != device:
        x = x.to(device)
    if dtype is not None and x.dtype != dtype:
        x = x.to(dtype)
    return x


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """Drop (or add) a trailing size-1 axis when the ranks differ by exactly one."""
    if x1.ndim == x2.ndim:
        return x1, x2
    if x1.ndim == x2.ndim + 1 and x1.shape[-1] == 1:
        if x2.ndim == 1 and expand_rank_1:
            x2 = x2.unsqueeze(-1)
        else:
            x1 = x1.squeeze(-1)
    if x2.ndim == x1.ndim + 1 and x2.shape[-1] == 1:
        if x1.ndim == 1 and expand_rank_1:
            x1 = x1.unsqueeze(-1)
        else:
            x2 = x2.squeeze(-1)
    return x1, x2


def apply_mask(sample_weight, mask, dtype, reduction):
    """Fold a boolean mask into the sample weights. For the mean reductions, kept
    entries get ``total / kept`` so the mean runs over the kept entries only."""
    if mask is None:
        return sample_weight
    mask = as_tensor(mask)
    if reduction in ("mean", "sum_over_batch_size"):
        total = float(mask.numel())
        valid = mask.to(dtype).sum()
        weight = torch.where(valid > 0, total / valid, torch.zeros_like(valid))
        float_mask = torch.where(mask.bool(), weight, torch.zeros_like(weight))
    else:
        float_mask = mask.to(dtype)
    if sample_weight is None:
        return float_mask
    sample_weight = as_tensor(sample_weight, dtype, float_mask.device)
    float_mask, sample_weight = squeeze_or_expand_to_same_rank(
        float_mask, sample_weight
    )
    return sample_weight * float_mask


def reduce_values(values, sample_weight=None, reduction="sum_over_batch_size"):
    if reduction is None or reduction == "none" or values.ndim == 0:
        return values
    if values.numel() == 0 and values.ndim == 1:
        return values
    loss = values.sum()
    if reduction == "sum":
        return loss
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        divisor = sample_weight.sum().to(loss.dtype)
        return torch.where(divisor != 0, loss / divisor, torch.zeros_like(loss))
    count = values.numel()
    return loss / count if count else torch.zeros_like(loss)


def reduce_weighted_values(
    values, sample_weight=None, mask=None, reduction="sum_over_batch_size", dtype=None
):
    """Weight ``values`` by ``sample_weight`` and ``mask``, then reduce them."""
    if dtype is not None and values.dtype != dtype:
        values = values.to(dtype)
    sample_weight = apply_mask(sample_weight, mask, values.dtype, reduction)
    if sample_weight is not None:
        sample_weight = as_tensor(sample_weight, values.dtype, values.device)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        values = values * sample_weight
    return reduce_values(values, sample_weight, reduction)


class Loss:
    """Base class of losses: subclasses implement ``call(y_true, y_pred)`` returning
    one loss value per sample (or per element).

    Args:
        reduction: ``"sum_over_batch_size"`` (default: weighted sum divided by the
            number of values), ``"sum"``, ``"mean"`` (same as the default),
            ``"mean_with_sample_weight"`` (weighted sum divided by the sum of the
            weights), or ``"none"``/``None`` (no reduction).
        name: the loss's name; default derived from the class name.
        dtype: dtype of the computation (default ``floatx()``); predictions and
            targets are cast to it, so mixed-precision outputs are scored in float32.

    Example:
    >>> import lamina as keras
    >>> class Absolute(keras.losses.Loss):
    ...     def call(self, y_true, y_pred):
    ...         return (y_true - y_pred).abs().mean(dim=-1)
    >>> float(Absolute()([[1.0, 2.0]], [[2.0, 4.0]]))
    1.5
    """

    _keras_module = "keras.losses"

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        self.name = name or naming.auto_name(type(self).__name__)
        self.reduction = standardize_reduction(self, reduction)
        self._dtype_policy = policies.get(dtype or config.floatx())
        self._dtype = self._dtype_policy.compute_dtype
        self._torch_dtype = policies.to_torch_dtype(self._dtype)

    @property
    def dtype(self) -> str:
        return self._dtype

    def __call__(self, y_true, y_pred, sample_weight=None):
        in_mask = getattr(y_pred, "_keras_mask", None)
        y_pred = _cast_floating(y_pred, self._torch_dtype, None)
        y_true = _cast_floating(y_true, self._torch_dtype, y_pred.device)
        losses = self.call(y_true, y_pred)
        out_mask = getattr(losses, "_keras_mask", None)
        if in_mask is not None and out_mask is not None:
            mask = in_mask.bool() & out_mask.bool()
        else:
            mask = in_mask if in_mask is not None else out_mask
        return reduce_weighted_values(
            losses, sample_weight, mask, self.reduction, self._torch_dtype
        )

    def call(self, y_true, y_pred):
        raise NotImplementedError(
            f"{type(self).__name__}: a Loss subclass must implement "
            "`call(y_true, y_pred)`."
        )

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config_dict):
        return cls(**config_dict)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


def _cast_floating(x, dtype, device):
    """Floating tensors and arrays go to the loss dtype; integer labels keep their
    integer dtype (casting class ids through float32 would change nothing)."""
    x = as_tensor(x, None, device)
    if x.is_floating_point() and x.dtype != dtype:
        x = x.to(dtype)
    return x


# The `keras.losses` lookup functions; names resolve in the registry, which
# lamina.losses fills with its classes and functions.
def serialize(loss):
    """A loss's Keras 3 serialization (a name for functions)."""
    return serialization.serialize_keras_object(loss)


def deserialize(config, custom_objects=None):
    """A loss function or ``Loss`` from its name or serialization dict."""
    return serialization.deserialize_keras_object(
        config,
        module_objects=registry.built_in("losses"),
        custom_objects=custom_objects,
        printable_module_name="loss",
        instantiate_strings=False,
    )


def get(identifier):
    """A loss from a name (``"mse"``, ``"CategoricalCrossentropy"``), a config dict,
    a ``Loss`` or a function; a class name gives a default instance.

    Raises:
        ValueError: for an unknown name, naming it and the known names.
    """
    if identifier is None:
        return None
    if isinstance(identifier, str):
        obj = resolve("loss", identifier, registry.built_in("losses"))
    elif isinstance(identifier, dict):
        obj = deserialize(identifier)
    else:
        obj = identifier
    if inspect.isclass(obj):
        obj = obj()
    if not callable(obj):
        raise ValueError(
            f"Could not interpret loss identifier {identifier!r}: expected a loss "
            "name, a config dict, a Loss or a function."
        )
    return obj

"""Keras 3 activation functions on torch tensors.

Every function takes a tensor (or anything array-like) and returns a tensor of the
same dtype, computed with ``torch.nn.functional`` kernels so the numbers are those of
Keras 3 on its torch backend. ``get``, ``serialize`` and ``deserialize`` map between
functions and their Keras names (``"swish"`` is ``silu``, ``"hard_swish"`` is
``hard_silu``, as in Keras).
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Mapping

import numpy as np
import torch
import torch.nn.functional as F

from lamina import config
from lamina.saving import serialization
from lamina.utils.validation import arg_error, shape_error


def _tensor(x) -> torch.Tensor:
    """``x`` if a tensor; NumPy arrays zero-copy; other data as a floatx tensor."""
    if isinstance(x, torch.Tensor):
        return x
    if isinstance(x, np.ndarray):
        return torch.from_numpy(x)
    dtype = getattr(torch, config.floatx())
    return torch.as_tensor(x, dtype=dtype)


def _keep_logits(output: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    # Losses read `_keras_logits` to compute crossentropy from logits, as Keras does.
    output._keras_logits = logits
    return output


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Rectified linear unit, with optional leak, ceiling and threshold.

    Args:
        x: Input tensor.
        negative_slope: Slope for values below ``threshold``.
        max_value: Largest value returned (``None``: no ceiling).
        threshold: Values at or below it are damped (or zeroed).

    Example:
        >>> relu(torch.tensor([-10.0, -5.0, 0.0, 5.0, 10.0]), max_value=5.0)
        tensor([0., 0., 0., 5., 5.])
    """
    x = _tensor(x)
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return F.relu(x)
    negative_part = None
    if negative_slope != 0.0:
        if max_value is None and threshold == 0:
            return F.leaky_relu(x, negative_slope)
        negative_part = F.relu(threshold - x) if threshold != 0 else F.relu(-x)
    clip_max = max_value is not None
    if threshold != 0:
        x = torch.where(x > threshold, x, torch.zeros((), dtype=x.dtype))
    elif max_value == 6:
        x, clip_max = F.relu6(x), False
    else:
        x = F.relu(x)
    if clip_max:
        x = torch.clamp(x, 0.0, max_value)
    if negative_part is not None:
        x = x - negative_slope * negative_part
    return x


def leaky_relu(x, negative_slope=0.2):
    """``x`` for ``x >= 0``, ``negative_slope * x`` otherwise."""
    return F.leaky_relu(_tensor(x), negative_slope)


def relu6(x):
    """ReLU capped at 6: ``min(max(x, 0), 6)``."""
    return F.relu6(_tensor(x))


def _over_axes(fn, x: torch.Tensor, axis) -> torch.Tensor:
    """Apply the last-axis normalizer ``fn`` over ``axis`` (int, ints or None)."""
    if axis is None:
        return fn(x.reshape(-1), dim=-1).reshape(x.shape)
    if isinstance(axis, int):
        if -x.ndim <= axis < x.ndim and x.shape[axis] == 1:
            warnings.warn(
                f"You are using a softmax over axis {axis} of a tensor of shape "
                f"{tuple(x.shape)}. This axis has size 1. The softmax operation will "
                "always return the value 1, which is likely not what you intended. "
                "Did you mean to use a sigmoid instead?",
                stacklevel=3,
            )
        return fn(x, dim=axis)
    axes = sorted({a % x.ndim for a in axis})
    kept = [d for d in range(x.ndim) if d not in axes]
    moved = x.permute(*kept, *axes)
    out = fn(moved.reshape(*moved.shape[: len(kept)], -1), dim=-1)
    order = sorted(range(x.ndim), key=[*kept, *axes].__getitem__)
    return out.reshape(moved.shape).permute(*order)


def _cpu_half_in_float32(fn, x: torch.Tensor, axis) -> torch.Tensor:
    # Keras computes float16 (log-)softmax in float32 on the CPU; so do we, to match.
    if x.dtype == torch.float16 and x.device.type == "cpu":
        return _over_axes(fn, x.float(), axis).to(torch.float16)
    return _over_axes(fn, x, axis)


def softmax(x, axis=-1):
    """``exp(x) / sum(exp(x))`` over ``axis`` (an int, a tuple of ints, or None).

    Example:
        >>> softmax(torch.tensor([-1.0, 0.0, 1.0]))
        tensor([0.0900, 0.2447, 0.6652])
    """
    x = _tensor(x)
    return _keep_logits(_cpu_half_in_float32(F.softmax, x, axis), x)


def log_softmax(x, axis=-1):
    """``log(softmax(x))`` over ``axis``, computed stably."""
    return _cpu_half_in_float32(F.log_softmax, _tensor(x), axis)


def elu(x, alpha=1.0):
    """``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise."""
    return F.elu(_tensor(x), alpha)


def selu(x):
    """Scaled ELU with ``alpha=1.67326324``, ``scale=1.05070098``."""
    return F.selu(_tensor(x))


def softplus(x):
    """``log(exp(x) + 1)``."""
    return F.softplus(_tensor(x))


def softsign(x):
    """``x / (abs(x) + 1)``."""
    return F.softsign(_tensor(x))


def soft_shrink(x, threshold=0.5):
    """``x - threshold`` above ``threshold``, ``x + threshold`` below its negative.

    Values within ``[-threshold, threshold]`` become 0.
    """
    return F.softshrink(_tensor(x), threshold)


def sparse_plus(x):
    """0 for ``x <= -1``, ``(x + 1)**2 / 4`` for ``-1 < x < 1``, else ``x``."""
    x = _tensor(x)
    inner = torch.where(x < 1, 0.25 * (x + 1) ** 2, x)
    return torch.where(x <= -1, torch.zeros((), dtype=x.dtype), inner)


def silu(x):
    """Swish: ``x * sigmoid(x)``."""
    return F.silu(_tensor(x))


def squareplus(x, b=4):
    """``(x + sqrt(x**2 + b)) / 2``; ``b`` sets the smoothness."""
    x = _tensor(x)
    return (x + torch.sqrt(x**2 + b)) / 2


def gelu(x, approximate=False):
    """``x * P(X <= x)`` for a standard normal ``X``; tanh approximation if asked."""
    return F.gelu(_tensor(x), approximate="tanh" if approximate else "none")


def celu(x, alpha=1.0):
    """``x`` for ``x >= 0``, ``alpha * (exp(x / alpha) - 1)`` otherwise."""
    return F.celu(_tensor(x), alpha)


def glu(x, axis=-1):
    """Gated linear unit: ``a * sigmoid(b)``, ``a, b`` the halves of ``x`` on ``axis``.

    Raises:
        ValueError: if the size of ``axis`` is odd.
    """
    x = _tensor(x)
    if x.shape[axis] % 2:
        raise shape_error("glu", f"an even size along axis {axis}", tuple(x.shape))
    return F.glu(x, dim=axis)


def tanh(x):
    """Hyperbolic tangent."""
    return torch.tanh(_tensor(x))


def tanh_shrink(x):
    """``x - tanh(x)``."""
    return F.tanhshrink(_tensor(x))


def hard_tanh(x):
    """``x`` clipped to ``[-1, 1]``."""
    return F.hardtanh(_tensor(x), -1.0, 1.0)


def hard_shrink(x, threshold=0.5):
    """``x`` where ``abs(x) > threshold``, else 0."""
    return F.hardshrink(_tensor(x), threshold)


def threshold(x, threshold, default_value):
    """``x`` where ``x > threshold``, else ``default_value``."""
    return F.threshold(_tensor(x), threshold, default_value)


def sigmoid(x):
    """``1 / (1 + exp(-x))``."""
    x = _tensor(x)
    return _keep_logits(torch.sigmoid(x), x)


def sparse_sigmoid(x):
    """0 for ``x <= -1``, ``(x + 1) / 2`` for ``-1 < x < 1``, 1 for ``x >= 1``."""
    x = _tensor(x)
    return torch.clamp(0.5 * (x + 1), 0.0, 1.0)


def exponential(x):
    """``exp(x)``."""
    return torch.exp(_tensor(x))


def hard_sigmoid(x):
    """``relu6(x + 3) / 6``: 0 below -3, 1 above 3, ``x / 6 + 0.5`` between."""
    return F.hardsigmoid(_tensor(x))


def log_sigmoid(x):
    """``log(sigmoid(x))``, computed stably."""
    return F.logsigmoid(_tensor(x))


def hard_silu(x):
    """Hard swish: ``x * relu6(x + 3) / 6``."""
    return F.hardswish(_tensor(x))


def linear(x):
    """The identity: returns ``x`` unchanged."""
    return x


def mish(x):
    """``x * tanh(softplus(x))``."""
    return F.mish(_tensor(x))


def sparsemax(x, axis=-1):
    """Euclidean projection of ``x`` onto the probability simplex along ``axis``.

    ``max(x - tau, 0)``, where ``tau`` makes the result sum to 1 (Martins and
    Astudillo, 2016). Keras 3.15 sums the wrong cumulative sums when more than one
    entry is in the support (keras-team/keras#23425); lamina computes the definition.
    """
    x = _tensor(x)
    ordered = torch.sort(x, dim=axis, descending=True).values
    cumsum = torch.cumsum(ordered, dim=axis)
    shape = [1] * x.ndim
    shape[axis] = -1
    rank = torch.arange(1, x.shape[axis] + 1, dtype=x.dtype, device=x.device)
    support = ordered - (cumsum - 1) / rank.view(shape) > 0
    k = support.sum(dim=axis, keepdim=True)
    tau = (torch.gather(cumsum, axis, k - 1) - 1) / k.to(x.dtype)
    return torch.clamp(x - tau, min=0.0)


swish = silu
hard_swish = hard_silu

_FUNCTIONS = (
    relu,
    leaky_relu,
    relu6,
    softmax,
    celu,
    elu,
    selu,
    softplus,
    softsign,
    squareplus,
    soft_shrink,
    sparse_plus,
    silu,
    gelu,
    glu,
    tanh,
    tanh_shrink,
    threshold,
    sigmoid,
    sparse_sigmoid,
    exponential,
    hard_sigmoid,
    hard_silu,
    hard_tanh,
    hard_shrink,
    linear,
    mish,
    log_softmax,
    log_sigmoid,
    sparsemax,
)
ALL_OBJECTS_DICT = {fn.__name__: fn for fn in _FUNCTIONS}
ALL_OBJECTS_DICT.update(swish=silu, hard_swish=hard_silu)
_NAMES = {fn: fn.__name__ for fn in _FUNCTIONS}


# Activations whose call on a tensor is one torch op with the same result (the
# linear one none): ``apply`` calls that op, two Python frames fewer per call.
_TORCH_OPS = {relu: torch.relu, tanh: torch.tanh, relu6: F.relu6, silu: F.silu}


def torch_form(activation):
    """What computes ``activation(x)`` for a layer's output tensor ``x``: its
    torch op (``_TORCH_OPS``), the function itself, or None for the identity
    (``None`` and ``linear``)."""
    if activation is None or activation is linear:
        return None
    try:
        return _TORCH_OPS.get(activation, activation)
    except TypeError:  # an unhashable callable object
        return activation


def apply(activation, x):
    """``activation(x)`` for a layer's output tensor ``x``, through ``torch_form``.
    Layers read their ``activation`` on each call, so reassigning it works (as in
    Keras)."""
    op = torch_form(activation)
    return x if op is None else op(x)


def serialize(activation):
    """The Keras name of a built-in activation, else a Keras serialization dict.

    Custom functions become ``{"class_name": "function", "config": name, ...}``
    (their registered name when registered); objects with ``get_config`` become
    their Keras dict.

    Raises:
        ValueError: if ``activation`` is neither a function nor serializable.
    """
    if inspect.isfunction(activation):
        if activation in _NAMES:
            return _NAMES[activation]
        return {
            "module": "builtins",
            "class_name": "function",
            "config": serialization.get_registered_name(activation),
            "registered_name": "function",
        }
    if hasattr(activation, "get_config"):
        return serialization.serialize_keras_object(activation)
    raise arg_error(
        "activations.serialize",
        "activation",
        "a function or an object with `get_config()`",
        activation,
    )


def deserialize(config, custom_objects=None):
    """The activation named by ``config`` (a name or a Keras serialization dict).

    Raises:
        ValueError: for an unknown name; the message lists the known ones.
    """
    if isinstance(config, Mapping) and config.get("class_name") == "function":
        config = config.get("config")
    return serialization.deserialize_keras_object(
        config,
        module_objects=ALL_OBJECTS_DICT,
        custom_objects=custom_objects,
        printable_module_name="activation function",
    )


def get(identifier):
    """An activation from None (``linear``), a name, a callable or a Keras dict.

    Raises:
        ValueError: for an unknown name or an identifier of another kind.
    """
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        function = ALL_OBJECTS_DICT.get(identifier)
        return function if function is not None else deserialize(identifier)
    if isinstance(identifier, Mapping):
        identifier = deserialize(identifier)
    if callable(identifier):
        return identifier
    raise arg_error(
        "activations.get",
        "identifier",
        "None, an activation name, a callable or a serialization dict",
        identifier,
    )

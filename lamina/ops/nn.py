"""Neural-network ``keras.ops`` functions on torch tensors: activations, softmax,
one-hot, crossentropies, moments and normalizations.

Inputs may be tensors, NumPy arrays or Python scalars; numbers and dtypes follow
Keras 3 on its torch backend (half-precision softmax and statistics run in float32).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from lamina import config
from lamina.ops.numpy import (
    _all_t,
    _t,
    convert_to_tensor,
    result_type,
    to_torch_dtype,
)

__all__ = [
    "relu",
    "relu6",
    "sigmoid",
    "sparse_sigmoid",
    "tanh",
    "tanh_shrink",
    "softplus",
    "softsign",
    "soft_shrink",
    "sparse_plus",
    "silu",
    "swish",
    "squareplus",
    "log_sigmoid",
    "leaky_relu",
    "hard_sigmoid",
    "hard_silu",
    "hard_swish",
    "elu",
    "selu",
    "gelu",
    "celu",
    "glu",
    "hard_tanh",
    "hard_shrink",
    "threshold",
    "mish",
    "softmax",
    "log_softmax",
    "sparsemax",
    "one_hot",
    "multi_hot",
    "binary_crossentropy",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
    "moments",
    "batch_normalization",
    "normalize",
    "rms_normalization",
    "layer_normalization",
    "psnr",
    "dot_product_attention",
]


# ---------------------------------------------------------------------------------
# Activations
# ---------------------------------------------------------------------------------


def relu(x):
    return F.relu(_t(x))


def relu6(x):
    return F.relu6(_t(x))


def sigmoid(x):
    return torch.sigmoid(_t(x))


def sparse_sigmoid(x):
    """0 below -1, 1 above 1, ``(x + 1) / 2`` between."""
    return torch.clamp((_t(x) + 1) * 0.5, 0.0, 1.0)


def tanh(x):
    return torch.tanh(_t(x))


def tanh_shrink(x):
    return F.tanhshrink(_t(x))


def softplus(x):
    return F.softplus(_t(x))


def softsign(x):
    return F.softsign(_t(x))


def soft_shrink(x, threshold=0.5):
    return F.softshrink(_t(x), lambd=threshold)


def sparse_plus(x):
    """0 below -1, ``x`` above 1, ``(x + 1)**2 / 4`` between."""
    x = _t(x)
    return torch.where(
        x <= -1, torch.zeros_like(x), torch.where(x < 1, 0.25 * (x + 1) ** 2, x)
    )


def silu(x):
    return F.silu(_t(x))


swish = silu


def squareplus(x, b=4):
    """``(x + sqrt(x**2 + b)) / 2``."""
    x = _t(x)
    return (x + torch.sqrt(x * x + b)) / 2


def log_sigmoid(x):
    return F.logsigmoid(_t(x))


def leaky_relu(x, negative_slope=0.2):
    return F.leaky_relu(_t(x), negative_slope=negative_slope)


def hard_sigmoid(x):
    """``relu6(x + 3) / 6`` (Keras 3; Keras 2's backend used ``0.2 * x + 0.5``)."""
    return F.hardsigmoid(_t(x))


def hard_silu(x):
    return F.hardswish(_t(x))


hard_swish = hard_silu


def elu(x, alpha=1.0):
    return F.elu(_t(x), alpha)


def selu(x):
    return F.selu(_t(x))


def gelu(x, approximate=True):
    """GELU; the tanh approximation by default, as in ``keras.ops.gelu``."""
    return F.gelu(_t(x), approximate="tanh" if approximate else "none")


def celu(x, alpha=1.0):
    return F.celu(_t(x), alpha=alpha)


def glu(x, axis=-1):
    return F.glu(_t(x), dim=axis)


def hard_tanh(x):
    return F.hardtanh(_t(x), -1.0, 1.0)


def hard_shrink(x, threshold=0.5):
    return F.hardshrink(_t(x), lambd=threshold)


def threshold(x, threshold, default_value):
    """``x`` where ``x > threshold``, else ``default_value``."""
    return F.threshold(_t(x), threshold, default_value)


def mish(x):
    return F.mish(_t(x))


def _over_axes(fn, x: torch.Tensor, axis) -> torch.Tensor:
    """``fn(x, dim)`` over one axis, all axes (None) or a tuple of axes."""
    half_on_cpu = x.dtype == torch.float16 and x.device.type == "cpu"
    y = x.float() if half_on_cpu else x
    if axis is None:
        out = fn(y.reshape(-1), 0).reshape(y.shape)
    elif isinstance(axis, int):
        out = fn(y, axis)
    else:
        axes = sorted(a % y.ndim for a in axis)
        kept = [d for d in range(y.ndim) if d not in axes]
        moved = y.permute(kept + axes)
        flat = moved.reshape([y.shape[d] for d in kept] + [-1])
        out = (
            fn(flat, -1)
            .reshape(moved.shape)
            .permute(sorted(range(y.ndim), key=(kept + axes).__getitem__))
        )
    return out.to(x.dtype) if half_on_cpu else out


def softmax(x, axis=-1):
    """Softmax over ``axis`` (an int, a tuple, or None for all axes)."""
    return _over_axes(F.softmax, _t(x), axis)


def log_softmax(x, axis=-1):
    """Log-softmax over ``axis`` (an int, a tuple, or None for all axes)."""
    return _over_axes(F.log_softmax, _t(x), axis)


def sparsemax(x, axis=-1):
    """Euclidean projection of ``x`` onto the probability simplex along ``axis``."""
    x = _t(x)
    z = torch.sort(x, dim=axis, descending=True).values
    ranks = torch.arange(1, x.shape[axis] + 1, dtype=x.dtype, device=x.device)
    view = [1] * x.ndim
    view[axis] = -1
    ranks = ranks.reshape(view)
    cumulative = torch.cumsum(z, dim=axis)
    support = (1 + ranks * z) > cumulative
    k = torch.sum(support, dim=axis, keepdim=True)
    tau = (torch.sum(torch.where(support, z, 0.0), dim=axis, keepdim=True) - 1) / k
    return torch.clamp(x - tau, min=0.0)


# ---------------------------------------------------------------------------------
# Encodings
# ---------------------------------------------------------------------------------


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """One-hot vectors of length ``num_classes`` (negative ids give all zeros)."""
    if sparse:
        raise ValueError("one_hot: lamina has no sparse tensors; got sparse=True.")
    x = _t(x).to(torch.int64)
    out = F.one_hot(torch.clamp(x, min=0), num_classes)
    out = (out * (x >= 0).unsqueeze(-1)).to(to_torch_dtype(dtype))
    if axis != -1 and axis != out.ndim - 1:
        out = torch.movedim(out, -1, axis)
    return out


def multi_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """Multi-hot vectors: 1 for every class id that occurs in a row of ``x``."""
    x = _t(x)
    encoded = one_hot(x, num_classes, axis=axis, dtype=dtype, sparse=sparse)
    return torch.amax(encoded, dim=1 if x.ndim > 1 else 0)


# ---------------------------------------------------------------------------------
# Losses
# ---------------------------------------------------------------------------------


def _same_shape(target, output, fn):
    if target.shape != output.shape:
        raise ValueError(
            f"{fn}: `target` and `output` must have the same shape; got "
            f"target.shape={tuple(target.shape)}, "
            f"output.shape={tuple(output.shape)}."
        )


def binary_crossentropy(target, output, from_logits=False):
    """Element-wise binary crossentropy (probabilities are clipped to [eps, 1-eps])."""
    target, output = _all_t(target, output)
    _same_shape(target, output, "binary_crossentropy")
    target = target.to(output.dtype)
    if from_logits:
        return F.binary_cross_entropy_with_logits(output, target, reduction="none")
    eps = config.epsilon()
    return F.binary_cross_entropy(
        torch.clamp(output, eps, 1.0 - eps), target, reduction="none"
    )


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Crossentropy between one-hot (or soft) targets and predictions along ``axis``."""
    target, output = _all_t(target, output)
    _same_shape(target, output, "categorical_crossentropy")
    if from_logits:
        log_prob = F.log_softmax(output, dim=axis)
    else:
        eps = config.epsilon()
        output = output / torch.sum(output, dim=axis, keepdim=True)
        log_prob = torch.log(torch.clamp(output, eps, 1.0 - eps))
    return -torch.sum(target * log_prob, dim=axis)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Crossentropy between integer class ids and predictions along ``axis``."""
    target, output = _all_t(target, output)
    target = target.to(torch.int64)
    if target.ndim == output.ndim and target.shape[axis] == 1:
        target = torch.squeeze(target, dim=axis)
    expected = list(output.shape)
    del expected[axis]
    if list(target.shape) != expected:
        raise ValueError(
            "sparse_categorical_crossentropy: `target` must have the "
            "shape of `output` without its class axis; got "
            f"target.shape={tuple(target.shape)}, "
            f"output.shape={tuple(output.shape)}."
        )
    if from_logits:
        log_prob = F.log_softmax(output, dim=axis)
    else:
        eps = config.epsilon()
        output = output / torch.sum(output, dim=axis, keepdim=True)
        log_prob = torch.log(torch.clamp(output, eps, 1.0 - eps))
    picked = torch.take_along_dim(
        log_prob, target.unsqueeze(axis % output.ndim), dim=axis
    )
    return -picked.squeeze(axis)


# ---------------------------------------------------------------------------------
# Statistics and normalization
# ---------------------------------------------------------------------------------


def moments(x, axes, keepdims=False, synchronized=False):
    """``(mean, variance)`` over ``axes``; float16 is computed in float32."""
    if synchronized:
        raise NotImplementedError(
            "moments: synchronized=True needs a distributed "
            "setup; lamina computes local moments only."
        )
    x = _t(x)
    half = x.dtype == torch.float16
    if half:
        x = x.float()
    axes = (axes,) if isinstance(axes, int) else tuple(axes)
    mean = torch.mean(x, dim=axes, keepdim=True)
    variance = torch.mean(torch.square(x), dim=axes, keepdim=True) - torch.square(mean)
    if not keepdims:
        mean, variance = mean.squeeze(axes), variance.squeeze(axes)
    if half:
        limit = torch.finfo(torch.float16).max
        mean = torch.clamp(mean, -limit, limit).half()
        variance = torch.clamp(variance, -limit, limit).half()
    return mean, variance


def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """``(x - mean) / sqrt(variance + epsilon) * scale + offset`` along ``axis``."""
    x = _t(x)
    view = [1] * x.ndim
    view[axis] = -1

    def stat(v):
        return _t(v, x.device).reshape(view)

    inv = torch.rsqrt(stat(variance) + epsilon)
    if scale is not None:
        inv = inv * stat(scale)
    out = (x - stat(mean)) * inv
    return out if offset is None else out + stat(offset)


def normalize(x, axis=-1, order=2, epsilon=None):
    """``x / max(norm(x, order), epsilon)`` along ``axis``."""
    if not isinstance(order, int) or order < 1:
        raise ValueError(
            f"normalize: `order` must be an int >= 1; got order={order!r}."
        )
    x = _t(x)
    if x.ndim == 0:
        x = x.reshape(1)
    epsilon = config.epsilon() if epsilon is None else epsilon
    if order == 2:
        square_sum = torch.sum(torch.square(x), dim=axis, keepdim=True)
        return x * torch.clamp(torch.rsqrt(square_sum), max=1.0 / epsilon)
    norm = torch.linalg.vector_norm(x, ord=order, dim=axis, keepdim=True)
    return x / torch.clamp(norm, min=epsilon)


def _compute_dtype(x: torch.Tensor) -> torch.dtype:
    return to_torch_dtype(result_type(x, "float32"))


def rms_normalization(x, scale=None, axis=-1, epsilon=None):
    """``x * rsqrt(mean(x**2) + epsilon) * scale`` along ``axis``."""
    x = _t(x)
    epsilon = config.epsilon() if epsilon is None else epsilon
    y = x.to(_compute_dtype(x))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    out = y * torch.rsqrt(torch.mean(torch.square(y), dim=axes, keepdim=True) + epsilon)
    if scale is not None:
        out = out * _t(scale, y.device).to(y.dtype)
    return out.to(x.dtype)


def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None, **kwargs):
    """``(x - mean) / sqrt(var + epsilon) * gamma + beta`` over ``axis``.

    ``rms_scaling=True`` skips the centring (Keras's LayerNormalization option).
    """
    x = _t(x)
    epsilon = config.epsilon() if epsilon is None else epsilon
    y = x.to(_compute_dtype(x))
    axes = sorted(a % y.ndim for a in ((axis,) if isinstance(axis, int) else axis))
    view = [y.shape[d] if d in axes else 1 for d in range(y.ndim)]

    def param(v):
        return None if v is None else _t(v, y.device).to(y.dtype).reshape(view)

    gamma, beta = param(gamma), param(beta)
    if kwargs.get("rms_scaling", False):
        variance = torch.var(y, dim=axes, keepdim=True, correction=0)
        out = y * torch.rsqrt(variance + epsilon)
        out = out if gamma is None else out * gamma
    elif axes == list(range(y.ndim - len(axes), y.ndim)):
        shape = tuple(y.shape[d] for d in axes)
        weight = None if gamma is None else gamma.reshape(shape)
        bias = None if beta is None else beta.reshape(shape)
        out = F.layer_norm(y, shape, weight, bias, epsilon)
    else:
        mean, variance = moments(y, axes, keepdims=True)
        inv = torch.rsqrt(variance + epsilon)
        out = (y - mean) * (inv if gamma is None else inv * gamma)
        out = out if beta is None else out + beta
    return out.to(x.dtype)


def psnr(x1, x2, max_val):
    """Peak signal-to-noise ratio in dB: ``20 log10(max_val) - 10 log10(mse)``."""
    x1, x2 = _all_t(x1, x2)
    if x1.shape != x2.shape:
        raise ValueError(
            f"psnr: `x1` and `x2` must have the same shape; got "
            f"{tuple(x1.shape)} and {tuple(x2.shape)}."
        )
    max_val = convert_to_tensor(max_val, x1.dtype)
    mse = torch.mean((x1 - x2) ** 2)
    return 20 * torch.log10(max_val) - 10 * torch.log10(mse)


def dot_product_attention(
    query,
    key,
    value,
    bias=None,
    mask=None,
    scale=None,
    is_causal=False,
    flash_attention=None,
    attn_logits_soft_cap=None,
):
    """Scaled dot-product attention on ``(batch, seq, heads, head_dim)`` tensors.

    ``key``/``value`` may have fewer heads than ``query`` (grouped-query attention).
    ``mask`` is boolean (True attends); ``bias`` is added to the logits.
    """
    query, key, value = _all_t(query, key, value)
    if query.ndim != 4 or key.ndim != 4 or value.ndim != 4:
        raise ValueError(
            "dot_product_attention: inputs must be 4-D (batch, seq, "
            f"heads, head_dim); got query.shape={tuple(query.shape)}, "
            f"key.shape={tuple(key.shape)}, "
            f"value.shape={tuple(value.shape)}."
        )
    if bias is not None and mask is not None:
        raise ValueError("dot_product_attention: give `bias` or `mask`, not both.")
    dtype = to_torch_dtype(result_type(query, key, value))
    q, k, v = (t.to(dtype).transpose(1, 2) for t in (query, key, value))
    if q.shape[1] != k.shape[1]:
        groups = q.shape[1] // k.shape[1]
        k = k.repeat_interleave(groups, dim=1)
        v = v.repeat_interleave(groups, dim=1)
    allowed = None if mask is None else _t(mask, q.device).to(torch.bool)
    if is_causal:
        causal = torch.ones(
            (q.shape[2], k.shape[2]), dtype=torch.bool, device=q.device
        ).tril()
        allowed = causal if allowed is None else allowed & causal
    large_negative = -0.7 * (65500.0 if dtype == torch.float16 else 3.38953e38)
    if attn_logits_soft_cap is not None:
        scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
        logits = torch.matmul(q, k.transpose(-1, -2)) * scale
        logits = torch.tanh(logits / attn_logits_soft_cap) * attn_logits_soft_cap
        if bias is not None:
            logits = logits + _t(bias, q.device).to(dtype)
        if allowed is not None:
            logits = torch.where(allowed, logits, large_negative)
        weights = torch.softmax(logits.float(), dim=-1).to(dtype)
        return torch.matmul(weights, v).transpose(1, 2)
    attn_mask = None if bias is None else _t(bias, q.device).to(dtype)
    if allowed is not None:
        blocked = torch.where(allowed, 0.0, large_negative).to(dtype)
        attn_mask = blocked if attn_mask is None else attn_mask + blocked
    out = F.scaled_dot_product_attention(
        q.contiguous(), k.contiguous(), v.contiguous(), attn_mask=attn_mask, scale=scale
    )
    return out.transpose(1, 2)

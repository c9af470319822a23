"""Neural-network ``keras.ops`` functions on torch tensors: activations, softmax,
one-hot, crossentropies, moments and normalizations.

Inputs may be tensors, NumPy arrays or Python scalars; numbers and dtypes follow
Keras 3 on its torch backend (half-precision softmax and statistics run in float32).
"""

from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F

from lamina import activations as _activations
from lamina import config
from lamina.ops.dtypes import (
    as_tensor,
    as_tensors,
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
# Activations: one implementation, in lamina.activations; the op names convert their
# input like every other op and keep keras.ops's signatures and defaults.
# ---------------------------------------------------------------------------------


def _op(activation):
    @functools.wraps(activation)
    def op(x, *args, **kwargs):
        return activation(as_tensor(x), *args, **kwargs)

    return op


relu6 = _op(_activations.relu6)
sigmoid = _op(_activations.sigmoid)
sparse_sigmoid = _op(_activations.sparse_sigmoid)
tanh = _op(_activations.tanh)
tanh_shrink = _op(_activations.tanh_shrink)
softplus = _op(_activations.softplus)
softsign = _op(_activations.softsign)
soft_shrink = _op(_activations.soft_shrink)
sparse_plus = _op(_activations.sparse_plus)
silu = swish = _op(_activations.silu)
squareplus = _op(_activations.squareplus)
log_sigmoid = _op(_activations.log_sigmoid)
leaky_relu = _op(_activations.leaky_relu)
hard_sigmoid = _op(_activations.hard_sigmoid)
hard_silu = hard_swish = _op(_activations.hard_silu)
elu = _op(_activations.elu)
selu = _op(_activations.selu)
celu = _op(_activations.celu)
glu = _op(_activations.glu)
hard_tanh = _op(_activations.hard_tanh)
hard_shrink = _op(_activations.hard_shrink)
threshold = _op(_activations.threshold)
mish = _op(_activations.mish)
softmax = _op(_activations.softmax)
log_softmax = _op(_activations.log_softmax)
sparsemax = _op(_activations.sparsemax)


def relu(x):
    """Rectified linear unit (``keras.ops.relu`` takes no slope or ceiling)."""
    return _activations.relu(as_tensor(x))


def gelu(x, approximate=True):
    """GELU; the tanh approximation by default, as in ``keras.ops.gelu``."""
    return _activations.gelu(as_tensor(x), approximate=approximate)


# ---------------------------------------------------------------------------------
# Encodings
# ---------------------------------------------------------------------------------


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """One-hot vectors of length ``num_classes`` (negative ids give all zeros)."""
    if sparse:
        raise ValueError("one_hot: lamina has no sparse tensors; got sparse=True.")
    x = as_tensor(x).to(torch.int64)
    out = F.one_hot(torch.clamp(x, min=0), num_classes)
    out = (out * (x >= 0).unsqueeze(-1)).to(to_torch_dtype(dtype))
    if axis != -1 and axis != out.ndim - 1:
        out = torch.movedim(out, -1, axis)
    return out


def multi_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """Multi-hot vectors: 1 for every class id that occurs in a row of ``x``."""
    x = as_tensor(x)
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
    target, output = as_tensors(target, output)
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
    target, output = as_tensors(target, output)
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
    target, output = as_tensors(target, output)
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
    x = as_tensor(x)
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
    x = as_tensor(x)
    view = [1] * x.ndim
    view[axis] = -1

    def stat(v):
        return as_tensor(v, x.device).reshape(view)

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
    x = as_tensor(x)
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
    x = as_tensor(x)
    epsilon = config.epsilon() if epsilon is None else epsilon
    y = x.to(_compute_dtype(x))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    out = y * torch.rsqrt(torch.mean(torch.square(y), dim=axes, keepdim=True) + epsilon)
    if scale is not None:
        out = out * as_tensor(scale, y.device).to(y.dtype)
    return out.to(x.dtype)


def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None, **kwargs):
    """``(x - mean) / sqrt(var + epsilon) * gamma + beta`` over ``axis``.

    ``rms_scaling=True`` skips the centring (Keras's LayerNormalization option).
    """
    x = as_tensor(x)
    epsilon = config.epsilon() if epsilon is None else epsilon
    y = x.to(_compute_dtype(x))
    axes = sorted(a % y.ndim for a in ((axis,) if isinstance(axis, int) else axis))
    view = [y.shape[d] if d in axes else 1 for d in range(y.ndim)]

    def param(v):
        return None if v is None else as_tensor(v, y.device).to(y.dtype).reshape(view)

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
    x1, x2 = as_tensors(x1, x2)
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
    query, key, value = as_tensors(query, key, value)
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
    allowed = None if mask is None else as_tensor(mask, q.device).to(torch.bool)
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
            logits = logits + as_tensor(bias, q.device).to(dtype)
        if allowed is not None:
            logits = torch.where(allowed, logits, large_negative)
        weights = torch.softmax(logits.float(), dim=-1).to(dtype)
        return torch.matmul(weights, v).transpose(1, 2)
    attn_mask = None if bias is None else as_tensor(bias, q.device).to(dtype)
    if allowed is not None:
        blocked = torch.where(allowed, 0.0, large_negative).to(dtype)
        attn_mask = blocked if attn_mask is None else attn_mask + blocked
    out = F.scaled_dot_product_attention(
        q.contiguous(), k.contiguous(), v.contiguous(), attn_mask=attn_mask, scale=scale
    )
    return out.transpose(1, 2)

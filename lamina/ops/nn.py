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
from lamina.ops import convolution, pooling
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
    "conv",
    "conv_transpose",
    "depthwise_conv",
    "separable_conv",
    "max_pool",
    "average_pool",
    "adaptive_max_pool",
    "adaptive_average_pool",
    "depth_to_space",
    "space_to_depth",
    "unfold",
    "fold",
    "polar",
    "ctc_loss",
    "ctc_decode",
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


def multi_hot(inputs, num_classes=None, axis=-1, dtype=None, sparse=False, **kwargs):
    """Multi-hot vectors: 1 for every class id that occurs in a row of ``inputs``
    (``num_tokens`` is accepted for ``num_classes``, as in Keras)."""
    if num_classes is None:
        num_classes = kwargs.pop("num_tokens", None)
    if num_classes is None:
        raise ValueError(
            "multi_hot: `num_classes` must be given; got num_classes=None."
        )
    if kwargs:
        raise TypeError(f"multi_hot: unexpected arguments {sorted(kwargs)}.")
    x = as_tensor(inputs)
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


# ---------------------------------------------------------------------------------
# Convolutions and pooling: Keras's signatures, NumPy inputs accepted (the layers
# call lamina.ops.convolution and lamina.ops.pooling, which add a fused ``bias``)
# ---------------------------------------------------------------------------------


def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """N-D convolution (cross-correlation) of ``inputs`` with ``kernel``
    (``(*kernel_size, in_channels // groups, out_channels)``)."""
    inputs, kernel = as_tensors(inputs, kernel)
    return convolution.conv(
        inputs, kernel, strides, padding, data_format, dilation_rate
    )


def depthwise_conv(
    inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1
):
    """Depthwise convolution: each input channel with its own
    ``kernel[..., c, :]`` (``(*kernel_size, in_channels, multiplier)``)."""
    inputs, kernel = as_tensors(inputs, kernel)
    return convolution.depthwise_conv(
        inputs, kernel, strides, padding, data_format, dilation_rate
    )


def separable_conv(
    inputs,
    depthwise_kernel,
    pointwise_kernel,
    strides=1,
    padding="valid",
    data_format=None,
    dilation_rate=1,
):
    """Depthwise convolution followed by a pointwise (1x1) convolution."""
    inputs, depthwise_kernel, pointwise_kernel = as_tensors(
        inputs, depthwise_kernel, pointwise_kernel
    )
    return convolution.separable_conv(
        inputs,
        depthwise_kernel,
        pointwise_kernel,
        strides,
        padding,
        data_format,
        dilation_rate,
    )


def conv_transpose(
    inputs,
    kernel,
    strides=1,
    padding="valid",
    output_padding=None,
    data_format=None,
    dilation_rate=1,
):
    """N-D transposed convolution (the adjoint of ``conv``), Keras's output
    sizes; ``kernel`` is ``(*kernel_size, out_channels, in_channels)``."""
    inputs, kernel = as_tensors(inputs, kernel)
    return convolution.conv_transpose(
        inputs, kernel, strides, padding, output_padding, data_format, dilation_rate
    )


def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Max pooling over ``pool_size`` windows every ``strides`` (default
    ``pool_size``) cells."""
    return pooling.max_pool(as_tensor(inputs), pool_size, strides, padding, data_format)


def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Average pooling over ``pool_size`` windows every ``strides`` (default
    ``pool_size``) cells; ``same`` padding averages the valid cells only."""
    return pooling.average_pool(
        as_tensor(inputs), pool_size, strides, padding, data_format
    )


def adaptive_max_pool(inputs, output_size, data_format=None):
    """Max pooling to a fixed ``output_size`` (torch's adaptive windows)."""
    return pooling.adaptive_max_pool(as_tensor(inputs), output_size, data_format)


def adaptive_average_pool(inputs, output_size, data_format=None):
    """Average pooling to a fixed ``output_size`` (torch's adaptive windows)."""
    return pooling.adaptive_average_pool(as_tensor(inputs), output_size, data_format)


# ---------------------------------------------------------------------------------
# Rearranging pixels and patches
# ---------------------------------------------------------------------------------


def _block_size(fn, block_size):
    if (
        not isinstance(block_size, int)
        or isinstance(block_size, bool)
        or block_size < 2
    ):
        raise ValueError(
            f"{fn}: `block_size` must be an integer >= 2; got "
            f"block_size={block_size!r}."
        )


def _image_batch(fn, x):
    x = as_tensor(x)
    if x.ndim != 4:
        raise ValueError(
            f"{fn}: `x` must be 4-D (batch, height, width, channels) or (batch, "
            f"channels, height, width); got x of shape {tuple(x.shape)}."
        )
    return x


def depth_to_space(x, block_size, data_format="channels_last"):
    """Moves channel blocks into ``block_size x block_size`` spatial blocks:
    ``(N, H, W, C)`` becomes ``(N, H * b, W * b, C / b**2)``.

    channels_last reads the channels as ``(b_row, b_col, C / b**2)``, as
    TensorFlow; channels_first as ``(C / b**2, b_row, b_col)``, as torch's
    ``pixel_shuffle`` and Keras on torch and JAX (TensorFlow's channels_first
    transposes to channels_last instead).
    """
    _block_size("depth_to_space", block_size)
    x = _image_batch("depth_to_space", x)
    channels_last = config.standardize_data_format(data_format) == "channels_last"
    channels = x.shape[-1 if channels_last else 1]
    if channels % (block_size * block_size):
        raise ValueError(
            f"depth_to_space: the channels ({channels}) must be divisible by "
            f"block_size**2; got block_size={block_size!r}."
        )
    if not channels_last:
        return F.pixel_shuffle(x, block_size)
    n, h, w, c = x.shape
    x = x.reshape(n, h, w, block_size, block_size, c // block_size**2)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(n, h * block_size, w * block_size, -1)


def space_to_depth(x, block_size, data_format="channels_last"):
    """The inverse of ``depth_to_space``: ``(N, H, W, C)`` becomes
    ``(N, H / b, W / b, C * b**2)`` (same channel orders)."""
    _block_size("space_to_depth", block_size)
    x = _image_batch("space_to_depth", x)
    channels_last = config.standardize_data_format(data_format) == "channels_last"
    h, w = x.shape[1:3] if channels_last else x.shape[2:]
    if h % block_size or w % block_size:
        raise ValueError(
            f"space_to_depth: height ({h}) and width ({w}) must be divisible by "
            f"block_size; got block_size={block_size!r}."
        )
    if not channels_last:
        return F.pixel_unshuffle(x, block_size)
    n, _, _, c = x.shape
    x = x.reshape(n, h // block_size, block_size, w // block_size, block_size, c)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(n, h // block_size, w // block_size, -1)


def unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding ``kernel_size`` blocks of the NCHW batch ``x`` as columns:
    ``(N, C * kh * kw, L)`` (torch's ``unfold``, im2col)."""
    x = as_tensor(x)
    if x.ndim != 4:
        raise ValueError(
            f"unfold: `x` must be 4-D (N, C, H, W); got x of shape {tuple(x.shape)}."
        )
    return F.unfold(x, kernel_size, dilation=dilation, padding=padding, stride=stride)


def fold(x, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """The adjoint of ``unfold`` (col2im): sums the ``(N, C * kh * kw, L)``
    columns back into an ``(N, C, *output_size)`` batch."""
    x = as_tensor(x)
    if x.ndim != 3:
        raise ValueError(
            f"fold: `x` must be 3-D (N, C * kh * kw, L); got x of shape "
            f"{tuple(x.shape)}."
        )
    return F.fold(
        x, output_size, kernel_size, dilation=dilation, padding=padding, stride=stride
    )


def polar(abs_, angle):
    """The complex numbers ``abs_ * (cos(angle) + i sin(angle))``."""
    abs_, angle = as_tensors(abs_, angle)
    dtype = torch.promote_types(abs_.dtype, angle.dtype)
    if not dtype.is_floating_point or dtype == torch.bfloat16:
        dtype = to_torch_dtype(config.floatx())
    abs_, angle = abs_.to(dtype), angle.to(dtype)
    return torch.complex(abs_ * torch.cos(angle), abs_ * torch.sin(angle))


# ---------------------------------------------------------------------------------
# Connectionist temporal classification
# ---------------------------------------------------------------------------------


def ctc_loss(target, output, target_length, output_length, mask_index=0):
    """CTC loss per sequence, as ``tf.nn.ctc_loss`` with logits.

    ``target``: ``(batch, max_label_length)`` int labels, padded;
    ``output``: ``(batch, max_time, num_classes)`` logits; ``target_length`` and
    ``output_length``: ``(batch,)`` lengths; ``mask_index``: the blank class.
    Returns ``(batch,)`` float32 (float64 is computed in float32 too, as Keras).
    """
    target, output, target_length, output_length = as_tensors(
        target, output, target_length, output_length
    )
    output = output.to(to_torch_dtype(result_type(output, "float32")))
    log_probs = F.log_softmax(output.transpose(0, 1), dim=-1)
    return F.ctc_loss(
        log_probs,
        target.to(torch.int64),
        output_length.to(torch.int64),
        target_length.to(torch.int64),
        blank=mask_index,
        reduction="none",
    )


def _ctc_greedy(inputs, lengths, merge_repeated, mask_index):
    batch, steps, _ = inputs.shape
    scores, indices = torch.max(inputs, dim=-1)
    indices = indices.to(torch.int32)
    beyond = torch.arange(steps, device=inputs.device)[None, :] >= lengths[:, None]
    indices = torch.where(beyond, mask_index, indices)
    scores = torch.where(beyond, 0.0, scores)
    if merge_repeated:
        repeat = F.pad(indices[:, 1:] == indices[:, :-1], (1, 0))
        indices = torch.where(repeat, mask_index, indices)
    blank = indices == mask_index
    # Labels first (in order), then -1 for the blanks.
    order = torch.where(blank, steps, torch.arange(steps, device=inputs.device))
    order = torch.argsort(order, dim=-1, stable=True)
    indices = torch.take_along_dim(torch.where(blank, -1, indices), order, dim=-1)
    return indices[None], -torch.sum(scores, dim=1, keepdim=True)


def _group_paths(paths):
    """Per batch row, the group id of each path (equal paths share one) and one
    representative path per group id: ``(ids, unique)``, ids in ``[0, n)``."""
    batch, n, steps = paths.shape
    powers = 1000003 ** torch.arange(steps, dtype=torch.int64, device=paths.device)
    keys = ((paths + 2) * powers).sum(-1)
    order = torch.argsort(keys, dim=-1, stable=True)
    ordered = torch.take_along_dim(paths, order[..., None], dim=1)
    ordered_keys = torch.take_along_dim(keys, order, dim=1)
    same = (ordered_keys[:, 1:] == ordered_keys[:, :-1]) & torch.all(
        ordered[:, 1:] == ordered[:, :-1], dim=-1
    )
    starts = torch.cat([torch.ones_like(same[:, :1]), ~same], dim=1)
    ordered_ids = torch.cumsum(starts.to(torch.int64), dim=1) - 1
    ids = torch.empty_like(ordered_ids).scatter_(1, order, ordered_ids)
    unique = torch.full_like(paths, -1)
    unique.scatter_(1, ordered_ids[..., None].expand_as(ordered), ordered)
    return ids, unique


def _merge_log(ids, scores):
    """``log(sum(exp(scores)))`` per group id (``-inf`` for ids nobody has)."""
    top = torch.amax(scores, dim=1, keepdim=True)
    top = torch.where(torch.isfinite(top), top, torch.zeros_like(top))
    sums = torch.zeros_like(scores).scatter_add_(1, ids, torch.exp(scores - top))
    return torch.log(sums) + top


def _beam_extend(paths, scores, blanks, x, mask_index):
    """Every beam extended by every class (``-1`` for the blank or a repeat)."""
    classes = x.shape[-1]
    paths = paths.repeat_interleave(classes, dim=1)
    previous_blank = blanks.repeat_interleave(classes, dim=1)
    scores = scores.repeat_interleave(classes, dim=1) + x.repeat(
        1, paths.shape[1] // classes
    )
    tail = torch.argmax((paths == -1).to(torch.int8), dim=-1, keepdim=True)
    last = torch.take_along_dim(paths, (tail - 1).clamp(min=0), dim=-1)
    last = torch.where(tail == 0, -1, last)[..., 0]
    label = torch.arange(classes, device=paths.device).repeat(paths.shape[1] // classes)
    label = torch.where(label == mask_index, -1, label).expand_as(last)
    blanks = label == -1
    label = torch.where(~previous_blank & (last == label), -1, label)
    return paths.scatter(-1, tail, label[..., None]), scores, blanks


def _beam_prune(paths, scores, blanks, beam_width):
    """Equal paths merged; the ``beam_width`` best kept, each as an emitting
    and a blank-ending beam."""
    ids, unique = _group_paths(paths)
    emit = _merge_log(ids, torch.where(blanks, float("-inf"), scores))
    blank = _merge_log(ids, torch.where(blanks, scores, float("-inf")))
    best = torch.argsort(torch.logaddexp(emit, blank), dim=1, stable=True)
    best = best[:, -beam_width:]
    kept = torch.take_along_dim(unique, best[..., None], dim=1)
    scores = torch.cat(
        [torch.take_along_dim(emit, best, 1), torch.take_along_dim(blank, best, 1)], 1
    )
    blanks = torch.zeros_like(scores, dtype=torch.bool)
    blanks[:, beam_width:] = True
    return kept.repeat(1, 2, 1), scores, blanks


def _ctc_beam_search(inputs, lengths, beam_width, top_paths, mask_index):
    batch, steps, classes = inputs.shape
    x = F.log_softmax(inputs, dim=-1)
    first = min(classes, beam_width)
    start = torch.argsort(x[:, 0], dim=-1, stable=True)[:, -first:]
    paths = torch.full(
        (batch, 2 * beam_width, steps), -1, dtype=torch.int64, device=x.device
    )
    paths[:, :first, 0] = torch.where(start == mask_index, -1, start)
    scores = torch.full(
        (batch, 2 * beam_width), float("-inf"), dtype=x.dtype, device=x.device
    )
    scores[:, :first] = torch.take_along_dim(x[:, 0], start, dim=1)
    blanks = paths[:, :, 0] == -1
    for t in range(1, steps):
        state = _beam_prune(
            *_beam_extend(paths, scores, blanks, x[:, t], mask_index), beam_width
        )
        active = (t < lengths)[:, None]
        paths = torch.where(active[..., None], state[0], paths)
        scores = torch.where(active, state[1], scores)
        blanks = torch.where(active, state[2], blanks)
    ids, unique = _group_paths(paths)
    merged = _merge_log(ids, scores)
    best = torch.argsort(merged, dim=1, stable=True)[:, -top_paths:].flip(1)
    paths = torch.take_along_dim(unique, best[..., None], dim=1)
    return paths.transpose(0, 1).to(torch.int32), torch.take_along_dim(merged, best, 1)


def ctc_decode(
    inputs,
    sequence_lengths,
    strategy="greedy",
    beam_width=100,
    top_paths=1,
    merge_repeated=True,
    mask_index=0,
):
    """Decodes CTC outputs ``(batch, max_time, num_classes)``.

    ``"greedy"`` takes the best class per step (merging repeats unless
    ``merge_repeated=False``) and returns ``(paths, scores)``: paths
    ``(1, batch, max_time)`` int32 with the labels first and ``-1`` after,
    scores ``(batch, 1)``, the negated sum of the chosen logits.
    ``"beam_search"`` keeps ``beam_width`` prefixes scored in log-probability
    (the algorithm of Keras's JAX and torch backends, vectorized over the batch)
    and returns the ``top_paths`` best: ``(top_paths, batch, max_time)`` and their
    log-probabilities ``(batch, top_paths)``. ``mask_index`` is the blank class
    (``None``: the last one).
    """
    if strategy not in ("greedy", "beam_search"):
        raise ValueError(
            "ctc_decode: `strategy` must be 'greedy' or 'beam_search'; got "
            f"strategy={strategy!r}."
        )
    inputs, sequence_lengths = as_tensors(inputs, sequence_lengths)
    inputs = inputs.to(to_torch_dtype(result_type(inputs, "float32")))
    lengths = sequence_lengths.to(torch.int64)
    if mask_index is None:
        mask_index = inputs.shape[-1] - 1
    if strategy == "greedy":
        return _ctc_greedy(inputs, lengths, merge_repeated, mask_index)
    return _ctc_beam_search(inputs, lengths, beam_width, top_paths, mask_index)

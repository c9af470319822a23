"""The Keras 2 backend API (``from keras import backend as K``) on torch tensors.

Older Keras code and the Keras 2 docs call these: ``K.mean``, ``K.l2_normalize``,
``K.batch_dot``, ``K.int_shape``... Arguments, defaults and numbers are those of
Keras 2.x (TensorFlow 2 era) where they differ from ``keras.ops``:

- ``hard_sigmoid`` is Keras 2's ``clip(0.2 * x + 0.5, 0, 1)`` (``keras.ops`` uses
  ``relu6(x + 3) / 6``); ``relu`` takes ``alpha``, ``max_value`` and ``threshold``;
- ``sqrt`` clips negative inputs to 0; ``l2_normalize`` uses TensorFlow's epsilon
  1e-12; ``binary_crossentropy`` adds ``epsilon()`` inside the logs;
- ``argmax``/``argmin`` default to ``axis=-1`` and return int64, as TensorFlow did;
- ``zeros``, ``ones``, ``eye`` and ``variable`` return variables (parameters).

Deliberate differences: ``mean`` of integers is a float32 mean (TensorFlow truncated
to an integer); ``shape`` returns an int32 tensor for tensors and the shape tuple for
symbolic tensors; graph-only functions (``placeholder``, ``function``,
``gradients``) are not provided, and ``learning_phase()`` is 0 unless set.
"""

from __future__ import annotations

import builtins
import contextlib
import math

import numpy as np
import torch
import torch.nn.functional as F

from lamina import config
from lamina.config import (
    epsilon,
    floatx,
    image_data_format,
    set_epsilon,
    set_floatx,
    set_image_data_format,
)
from lamina.layers.keras_tensor import KerasTensor
from lamina.ops import math as math_ops
from lamina.ops import nn as nn_ops
from lamina.ops import numpy as np_ops
from lamina.ops.dtypes import (
    as_tensor,
    as_tensors,
    convert_to_numpy,
    convert_to_tensor,
    standardize_dtype,
    to_torch_dtype,
)
from lamina.utils import naming
from lamina.variables import Variable

__all__ = [
    "abs",
    "all",
    "any",
    "arange",
    "argmax",
    "argmin",
    "backend",
    "batch_dot",
    "batch_flatten",
    "batch_get_value",
    "batch_normalization",
    "batch_set_value",
    "bias_add",
    "binary_crossentropy",
    "cast",
    "cast_to_floatx",
    "categorical_crossentropy",
    "clear_session",
    "clip",
    "concatenate",
    "constant",
    "cos",
    "count_params",
    "cumprod",
    "cumsum",
    "dot",
    "dropout",
    "dtype",
    "elu",
    "epsilon",
    "equal",
    "eval",
    "exp",
    "expand_dims",
    "eye",
    "flatten",
    "floatx",
    "foldl",
    "foldr",
    "gather",
    "get_uid",
    "get_value",
    "greater",
    "greater_equal",
    "hard_sigmoid",
    "identity",
    "image_data_format",
    "in_test_phase",
    "in_train_phase",
    "int_shape",
    "is_keras_tensor",
    "is_tensor",
    "l2_normalize",
    "learning_phase",
    "less",
    "less_equal",
    "log",
    "logsumexp",
    "map_fn",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "moving_average_update",
    "name_scope",
    "ndim",
    "not_equal",
    "one_hot",
    "ones",
    "ones_like",
    "permute_dimensions",
    "pow",
    "print_tensor",
    "prod",
    "random_bernoulli",
    "random_binomial",
    "random_normal",
    "random_normal_variable",
    "random_uniform",
    "random_uniform_variable",
    "relu",
    "repeat",
    "repeat_elements",
    "reshape",
    "reverse",
    "round",
    "set_epsilon",
    "set_floatx",
    "set_image_data_format",
    "set_learning_phase",
    "set_value",
    "shape",
    "sigmoid",
    "sign",
    "sin",
    "slice",
    "softmax",
    "softplus",
    "softsign",
    "sparse_categorical_crossentropy",
    "spatial_2d_padding",
    "spatial_3d_padding",
    "sqrt",
    "square",
    "squeeze",
    "stack",
    "std",
    "stop_gradient",
    "sum",
    "switch",
    "tanh",
    "temporal_padding",
    "tile",
    "transpose",
    "truncated_normal",
    "unstack",
    "update",
    "update_add",
    "update_sub",
    "var",
    "variable",
    "zeros",
    "zeros_like",
]

_learning_phase = 0
_uids: dict[str, int] = {}


# ---------------------------------------------------------------------------------
# Session, settings and introspection
# ---------------------------------------------------------------------------------


def backend() -> str:
    """The name of the backend: ``'torch'``."""
    return "torch"


def clear_session() -> None:
    """Reset automatic layer names (``dense``, ``dense_1``...) and learning phase."""
    global _learning_phase
    _learning_phase = 0
    _uids.clear()
    naming.reset_uids()


def learning_phase() -> int:
    """0 (inference) unless ``set_learning_phase(1)`` was called."""
    return _learning_phase


def set_learning_phase(value: int) -> None:
    """Set the default phase used by ``in_train_phase`` (0 test, 1 train)."""
    global _learning_phase
    if value not in (0, 1):
        raise ValueError(
            f"set_learning_phase: `value` must be 0 or 1; got value={value!r}."
        )
    _learning_phase = int(value)


def get_uid(prefix: str = "") -> int:
    """1, 2, 3... for successive calls with the same ``prefix``."""
    _uids[prefix] = _uids.get(prefix, 0) + 1
    return _uids[prefix]


@contextlib.contextmanager
def name_scope(name):
    """Accepted for compatibility; torch has no name scopes."""
    yield name


def is_keras_tensor(x) -> bool:
    """Whether ``x`` is a symbolic tensor (a lamina ``KerasTensor``).

    Raises ``ValueError`` for non-tensors, as Keras 2 did.
    """
    if isinstance(x, KerasTensor):
        return True
    if not isinstance(x, torch.Tensor):
        raise ValueError(
            f"Unexpectedly found an instance of type `{type(x)}`. "
            "Expected a symbolic tensor instance."
        )
    return hasattr(x, "_keras_history")


def is_tensor(x) -> bool:
    return isinstance(x, (torch.Tensor, KerasTensor))


def int_shape(x) -> tuple:
    """The shape of ``x`` as a tuple of ints (``None`` for unknown sizes)."""
    shape_ = getattr(x, "shape", None)
    if shape_ is None:
        shape_ = np.shape(x)
    return tuple(None if d is None else int(d) for d in shape_)


def shape(x):
    """The shape of a tensor as an int32 tensor (a symbolic tensor's shape tuple)."""
    if isinstance(x, torch.Tensor):
        return torch.tensor(tuple(x.shape), dtype=torch.int32)
    return int_shape(x)


def ndim(x) -> int:
    return len(int_shape(x))


def dtype(x) -> str:
    """The dtype name of ``x``, e.g. ``'float32'``."""
    return standardize_dtype(x.dtype)


def count_params(x) -> int:
    return math.prod(int_shape(x))


def cast(x, dtype):
    return as_tensor(x).to(to_torch_dtype(dtype))


def cast_to_floatx(x):
    """``x`` in ``floatx()``: a tensor for tensors, else a NumPy array."""
    if isinstance(x, torch.Tensor):
        return x.to(to_torch_dtype(floatx()))
    return np.asarray(x, dtype=floatx())


# ---------------------------------------------------------------------------------
# Variables and constants
# ---------------------------------------------------------------------------------


def variable(value, dtype=None, name=None, constraint=None):
    """A trainable variable (a ``torch.nn.Parameter``) holding ``value``."""
    data = convert_to_tensor(value, dtype or floatx()).detach().clone()
    trainable = data.is_floating_point() or data.is_complex()
    var = Variable(data, requires_grad=trainable)
    if name is not None:
        var.name = name
    var.constraint = constraint
    return var


def constant(value, dtype=None, shape=None, name=None):
    """A tensor of ``value``; a scalar ``value`` is broadcast to ``shape``."""
    out = convert_to_tensor(value, dtype or floatx())
    if shape is None:
        return out
    shape = tuple(int(s) for s in shape)
    return out.expand(shape).clone() if out.ndim == 0 else out.reshape(shape)


def zeros(shape, dtype=None, name=None):
    return variable(np_ops.zeros(shape, dtype or floatx()), dtype, name)


def ones(shape, dtype=None, name=None):
    return variable(np_ops.ones(shape, dtype or floatx()), dtype, name)


def eye(size, dtype=None, name=None):
    """An identity-matrix variable; ``size`` is ``n`` or ``(rows, cols)``."""
    rows, cols = (size, size) if isinstance(size, int) else size
    return variable(np_ops.eye(rows, cols, dtype=dtype or floatx()), dtype, name)


def zeros_like(x, dtype=None, name=None):
    return np_ops.zeros_like(x, dtype)


def ones_like(x, dtype=None, name=None):
    return np_ops.ones_like(x, dtype)


def identity(x, name=None):
    return as_tensor(x).clone()


def random_uniform_variable(shape, low, high, dtype=None, name=None, seed=None):
    return variable(random_uniform(shape, low, high, dtype, seed), dtype, name)


def random_normal_variable(shape, mean, scale, dtype=None, name=None, seed=None):
    return variable(random_normal(shape, mean, scale, dtype, seed), dtype, name)


def get_value(x):
    """The value of a variable or tensor as a NumPy array."""
    return convert_to_numpy(x)


def batch_get_value(tensors):
    return [get_value(t) for t in tensors]


def eval(x):
    return get_value(x)


def set_value(x, value) -> None:
    """Write ``value`` into the variable ``x`` in place."""
    value = convert_to_tensor(value, x.dtype, device=x.device)
    if tuple(value.shape) != tuple(x.shape):
        raise ValueError(
            f"set_value: `value` must have the variable's shape "
            f"{tuple(x.shape)}; got shape {tuple(value.shape)}."
        )
    with torch.no_grad():
        x.copy_(value)


def batch_set_value(tuples) -> None:
    for x, value in tuples:
        set_value(x, value)


def update(x, new_x):
    with torch.no_grad():
        x.copy_(as_tensor(new_x, x.device).to(x.dtype))
    return x


def update_add(x, increment):
    with torch.no_grad():
        x.add_(as_tensor(increment, x.device).to(x.dtype))
    return x


def update_sub(x, decrement):
    with torch.no_grad():
        x.sub_(as_tensor(decrement, x.device).to(x.dtype))
    return x


def moving_average_update(x, value, momentum):
    """``x = momentum * x + (1 - momentum) * value``, in place."""
    return update_sub(x, (x.detach() - as_tensor(value, x.device)) * (1 - momentum))


def stop_gradient(variables):
    if isinstance(variables, (list, tuple)):
        return [stop_gradient(v) for v in variables]
    return as_tensor(variables).detach()


def print_tensor(x, message="", summarize=3):
    print(message, x)
    return x


# ---------------------------------------------------------------------------------
# Random values
# ---------------------------------------------------------------------------------


def _generator(seed):
    if seed is None:
        return None
    generator = torch.Generator(device=config.get_device())
    generator.manual_seed(int(seed))
    return generator


def _size(shape) -> tuple:
    if isinstance(shape, torch.Tensor):
        return tuple(int(s) for s in shape.tolist())
    return tuple(int(s) for s in shape)


def random_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    out = torch.randn(
        _size(shape),
        generator=_generator(seed),
        dtype=to_torch_dtype(dtype or floatx()),
        device=config.get_device(),
    )
    return out * stddev + mean


def random_uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    out = torch.rand(
        _size(shape),
        generator=_generator(seed),
        dtype=to_torch_dtype(dtype or floatx()),
        device=config.get_device(),
    )
    return out * (maxval - minval) + minval


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal values, redrawn until within two standard deviations of the mean."""
    out = torch.empty(
        _size(shape),
        dtype=to_torch_dtype(dtype or floatx()),
        device=config.get_device(),
    )
    torch.nn.init.trunc_normal_(out, 0.0, 1.0, -2.0, 2.0, generator=_generator(seed))
    return out * stddev + mean


def random_bernoulli(shape, p=0.0, dtype=None, seed=None):
    """1 with probability ``p``, else 0."""
    draws = random_uniform(shape, dtype="float32", seed=seed)
    return (draws < p).to(to_torch_dtype(dtype or floatx()))


random_binomial = random_bernoulli


# ---------------------------------------------------------------------------------
# Reductions (Keras 2 defaults: ``axis=None``; ``argmax``/``argmin`` ``axis=-1``)
# ---------------------------------------------------------------------------------


def _float_if_bool(x):
    x = as_tensor(x)
    return x.to(to_torch_dtype(floatx())) if x.dtype == torch.bool else x


def mean(x, axis=None, keepdims=False):
    return np_ops.mean(_float_if_bool(x), axis, keepdims)


def sum(x, axis=None, keepdims=False):
    return np_ops.sum(x, axis, keepdims)


def prod(x, axis=None, keepdims=False):
    x = as_tensor(x)
    return np_ops.prod(
        x, axis, keepdims, dtype=None if x.dtype == torch.bool else x.dtype
    )


def max(x, axis=None, keepdims=False):
    return np_ops.amax(x, axis, keepdims)


def min(x, axis=None, keepdims=False):
    return np_ops.amin(x, axis, keepdims)


def std(x, axis=None, keepdims=False):
    """Population standard deviation."""
    return np_ops.std(_float_if_bool(x), axis, keepdims)


def var(x, axis=None, keepdims=False):
    """Population variance."""
    x = _float_if_bool(x)
    x = x if x.is_floating_point() else x.to(to_torch_dtype(floatx()))
    return torch.var(x, dim=np_ops._axis(axis), keepdim=keepdims, correction=0)


def any(x, axis=None, keepdims=False):
    return np_ops.any(as_tensor(x).to(torch.bool), axis, keepdims)


def all(x, axis=None, keepdims=False):
    return np_ops.all(as_tensor(x).to(torch.bool), axis, keepdims)


def argmax(x, axis=-1):
    """Index (int64) of the maximum along ``axis``."""
    return torch.argmax(as_tensor(x), dim=axis)


def argmin(x, axis=-1):
    """Index (int64) of the minimum along ``axis``."""
    return torch.argmin(as_tensor(x), dim=axis)


def logsumexp(x, axis=None, keepdims=False):
    return math_ops.logsumexp(x, axis, keepdims)


def cumsum(x, axis=0):
    x = as_tensor(x)
    return torch.cumsum(x, dim=axis)


def cumprod(x, axis=0):
    x = as_tensor(x)
    return torch.cumprod(x, dim=axis)


# ---------------------------------------------------------------------------------
# Element-wise
# ---------------------------------------------------------------------------------


def square(x):
    return torch.square(as_tensor(x))


def abs(x):
    return torch.abs(as_tensor(x))


def sqrt(x):
    """Square root, with negative inputs clipped to 0 (as Keras 2)."""
    x = as_tensor(x)
    return torch.sqrt(torch.clamp(x if x.is_floating_point() else x.float(), min=0))


def exp(x):
    return torch.exp(as_tensor(x))


def log(x):
    return torch.log(as_tensor(x))


def pow(x, a):
    return torch.pow(as_tensor(x), a)


def sign(x):
    return torch.sign(as_tensor(x))


def round(x):
    """Round half to even."""
    return torch.round(as_tensor(x))


def sin(x):
    return torch.sin(as_tensor(x))


def cos(x):
    return torch.cos(as_tensor(x))


def clip(x, min_value, max_value):
    """``x`` limited to ``[min_value, max_value]`` (None: unbounded on that side)."""
    if (
        isinstance(min_value, (int, float))
        and isinstance(max_value, (int, float))
        and max_value < min_value
    ):
        max_value = min_value
    return torch.clamp(as_tensor(x), min=min_value, max=max_value)


def equal(x, y):
    return np_ops.equal(x, y)


def not_equal(x, y):
    return np_ops.not_equal(x, y)


def greater(x, y):
    return np_ops.greater(x, y)


def greater_equal(x, y):
    return np_ops.greater_equal(x, y)


def less(x, y):
    return np_ops.less(x, y)


def less_equal(x, y):
    return np_ops.less_equal(x, y)


def maximum(x, y):
    return np_ops.maximum(x, y)


def minimum(x, y):
    return np_ops.minimum(x, y)


# ---------------------------------------------------------------------------------
# Activations
# ---------------------------------------------------------------------------------


def relu(x, alpha=0.0, max_value=None, threshold=0.0):
    """Keras 2 ``relu``: ``max_value`` above it, ``x`` from ``threshold`` up,
    ``alpha * (x - threshold)`` below."""
    x = as_tensor(x)
    out = x * (x > threshold) if threshold != 0 else F.relu(x)
    if max_value is not None:
        out = torch.clamp(out, 0, max_value)
    if alpha != 0:
        out = out - alpha * F.relu(threshold - x)
    return out


def elu(x, alpha=1.0):
    return F.elu(as_tensor(x), alpha)


def softmax(x, axis=-1):
    return nn_ops.softmax(x, axis)


def softplus(x):
    return F.softplus(as_tensor(x))


def softsign(x):
    return F.softsign(as_tensor(x))


def sigmoid(x):
    return torch.sigmoid(as_tensor(x))


def hard_sigmoid(x):
    """Keras 2's piecewise-linear sigmoid: ``clip(0.2 * x + 0.5, 0, 1)``."""
    return torch.clamp(as_tensor(x) * 0.2 + 0.5, 0.0, 1.0)


def tanh(x):
    return torch.tanh(as_tensor(x))


def l2_normalize(x, axis=None):
    """``x / sqrt(max(sum(x**2), 1e-12))`` over ``axis`` (all axes when None)."""
    x = as_tensor(x)
    dim = tuple(range(x.ndim)) if axis is None else axis
    square_sum = torch.sum(torch.square(x), dim=dim, keepdim=True)
    return x * torch.rsqrt(torch.clamp(square_sum, min=1e-12))


def dropout(x, level, noise_shape=None, seed=None):
    """Zero entries with probability ``level``, scale the rest by ``1 / (1 - level)``.

    ``noise_shape`` (broadcastable to ``x``) shares one draw along its size-1 axes.
    """
    x = as_tensor(x)
    mask_shape = (
        tuple(x.shape)
        if noise_shape is None
        else _size(
            d if d is not None else x.shape[i] for i, d in enumerate(noise_shape)
        )
    )
    keep = random_uniform(mask_shape, dtype="float32", seed=seed) >= level
    return x * keep.to(x.dtype) / (1.0 - level)


def bias_add(x, bias, data_format=None):
    """``x + bias`` with ``bias`` on the channels axis (last, or 1 for
    ``channels_first``)."""
    x = as_tensor(x)
    bias = as_tensor(bias, x.device)
    data_format = config.standardize_data_format(data_format)
    if data_format == "channels_first" and x.ndim > 2:
        if bias.ndim == 1:
            return x + bias.reshape((1, -1) + (1,) * (x.ndim - 2))
        return x + torch.movedim(bias, -1, 0).unsqueeze(0)
    return x + bias


# ---------------------------------------------------------------------------------
# Shapes
# ---------------------------------------------------------------------------------


def concatenate(tensors, axis=-1):
    return torch.cat(as_tensors(*tensors), dim=axis)


def reshape(x, shape):
    return np_ops.reshape(x, shape)


def permute_dimensions(x, pattern):
    return as_tensor(x).permute(tuple(pattern))


def repeat_elements(x, rep, axis):
    """Each slice along ``axis`` repeated ``rep`` times (like ``np.repeat``)."""
    return torch.repeat_interleave(as_tensor(x), rep, dim=axis)


def repeat(x, n):
    """``(samples, dim)`` -> ``(samples, n, dim)``."""
    x = as_tensor(x)
    if x.ndim != 2:
        raise ValueError(
            f"repeat: `x` must be 2-D (samples, dim); got shape {tuple(x.shape)}."
        )
    return x.unsqueeze(1).expand(-1, n, -1)


def arange(start, stop=None, step=1, dtype="int32"):
    return np_ops.arange(start, stop, step, dtype=dtype)


def tile(x, n):
    return np_ops.tile(x, n)


def flatten(x):
    return as_tensor(x).reshape(-1)


def batch_flatten(x):
    """``(batch, ...)`` -> ``(batch, prod(...))``."""
    x = as_tensor(x)
    return x.reshape(x.shape[0], -1)


def expand_dims(x, axis=-1):
    return as_tensor(x).unsqueeze(axis)


def squeeze(x, axis):
    return torch.squeeze(as_tensor(x), dim=axis)


def stack(x, axis=0):
    return torch.stack(as_tensors(*x), dim=axis)


def unstack(x, num=None, axis=0):
    return list(torch.unbind(as_tensor(x), dim=axis))


def transpose(x):
    """``x`` with all axes reversed."""
    x = as_tensor(x)
    return x.permute(tuple(range(x.ndim - 1, -1, -1)))


def reverse(x, axes):
    return torch.flip(
        as_tensor(x), dims=(axes,) if isinstance(axes, int) else tuple(axes)
    )


def slice(x, start, size):
    """The block of ``size`` (-1: to the end) starting at ``start``."""
    x = as_tensor(x)
    index = tuple(
        builtins.slice(int(b), None if int(n) == -1 else int(b) + int(n))
        for b, n in zip(start, size)
    )
    return x[index]


def gather(reference, indices):
    """Rows of ``reference`` at ``indices`` (axis 0)."""
    reference = as_tensor(reference)
    return reference[as_tensor(indices, reference.device).to(torch.int64)]


def one_hot(indices, num_classes):
    """float32 one-hot vectors appended as a last axis."""
    return nn_ops.one_hot(indices, num_classes, dtype="float32")


def _pad(x, pairs_by_axis: dict):
    x = as_tensor(x)
    widths = [0, 0] * x.ndim
    for axis, (before, after) in pairs_by_axis.items():
        position = 2 * (x.ndim - 1 - axis)
        widths[position], widths[position + 1] = before, after
    return F.pad(x, widths)


def temporal_padding(x, padding=(1, 1)):
    """Zeros added before and after axis 1 of a 3-D tensor."""
    return _pad(x, {1: tuple(padding)})


def spatial_2d_padding(x, padding=((1, 1), (1, 1)), data_format=None):
    """Zeros around the two spatial axes of a 4-D tensor."""
    first = 2 if config.standardize_data_format(data_format) == "channels_first" else 1
    return _pad(x, {first + i: tuple(p) for i, p in enumerate(padding)})


def spatial_3d_padding(x, padding=((1, 1), (1, 1), (1, 1)), data_format=None):
    """Zeros around the three spatial axes of a 5-D tensor."""
    first = 2 if config.standardize_data_format(data_format) == "channels_first" else 1
    return _pad(x, {first + i: tuple(p) for i, p in enumerate(padding)})


# ---------------------------------------------------------------------------------
# Products
# ---------------------------------------------------------------------------------


def dot(x, y):
    """Keras 2 ``dot``: N-D ``x`` and ``y`` contract ``x``'s last axis with ``y``'s
    second-to-last (``(2, 3, 4) . (4, 5) -> (2, 3, 5)``;
    ``(2, 3) . (7, 3, 5) -> (2, 7, 5)``)."""
    x, y = as_tensors(x, y)
    if y.ndim <= 2:
        return torch.matmul(x, y)
    return torch.tensordot(x, y, dims=([-1], [-2]))


def batch_dot(x, y, axes=None):
    """Per-sample dot product of ``x`` and ``y`` over ``axes`` (Keras 2 semantics).

    ``axes`` is an int or a pair ``(axis_of_x, axis_of_y)``; by default the last
    axis of ``x`` and the last (2-D ``y``) or second-to-last axis of ``y``. The
    result has ``x``'s remaining axes then ``y``'s (batch first); a 1-D result
    becomes ``(batch, 1)``. ``(32, 20, 1) . (32, 30, 20)`` with ``axes=(1, 2)``
    gives ``(32, 1, 30)``.
    """
    x, y = as_tensors(x, y)
    if x.ndim < 2 or y.ndim < 2:
        raise ValueError(
            f"batch_dot: `x` and `y` must be at least 2-D; got shapes "
            f"{tuple(x.shape)} and {tuple(y.shape)}."
        )
    if x.shape[0] != y.shape[0]:
        raise ValueError(
            f"batch_dot: `x` and `y` must have the same batch size; "
            f"got shapes {tuple(x.shape)} and {tuple(y.shape)}."
        )
    if axes is None:
        axes = (x.ndim - 1, y.ndim - 1 if y.ndim == 2 else y.ndim - 2)
    elif isinstance(axes, int):
        axes = (axes, axes)
    a0, a1 = axes[0] % x.ndim, axes[1] % y.ndim
    if a0 == 0 or a1 == 0:
        raise ValueError(
            f"batch_dot: cannot reduce over the batch axis 0; got axes={axes!r}."
        )
    if x.shape[a0] != y.shape[a1]:
        raise ValueError(
            f"batch_dot: axis {a0} of `x` (size {x.shape[a0]}) and axis "
            f"{a1} of `y` (size {y.shape[a1]}) must have the same size."
        )
    x, y = torch.movedim(x, a0, -1), torch.movedim(y, a1, 1)
    batch, depth = x.shape[0], x.shape[-1]
    out = torch.bmm(x.reshape(batch, -1, depth), y.reshape(batch, depth, -1))
    out = out.reshape((batch,) + tuple(x.shape[1:-1]) + tuple(y.shape[2:]))
    return out.reshape(batch, 1) if out.ndim == 1 else out


# ---------------------------------------------------------------------------------
# Losses and normalization (element-wise results, no reduction)
# ---------------------------------------------------------------------------------


def binary_crossentropy(target, output, from_logits=False):
    """Keras 2: ``-(t log(p + eps) + (1 - t) log(1 - p + eps))``, ``p`` clipped to
    ``[eps, 1 - eps]``."""
    target, output = as_tensors(target, output)
    target = target.to(output.dtype)
    if from_logits:
        return F.binary_cross_entropy_with_logits(output, target, reduction="none")
    eps = epsilon()
    output = torch.clamp(output, eps, 1.0 - eps)
    return -(
        target * torch.log(output + eps) + (1 - target) * torch.log(1 - output + eps)
    )


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    return nn_ops.categorical_crossentropy(target, output, from_logits, axis)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Keras 2: probabilities are clipped to ``[eps, 1 - eps]``, then renormalized."""
    target, output = as_tensors(target, output)
    if not from_logits:
        eps = epsilon()
        output = torch.log(torch.clamp(output, eps, 1.0 - eps))
    return nn_ops.sparse_categorical_crossentropy(target, output, True, axis)


def batch_normalization(x, mean, var, beta, gamma, axis=-1, epsilon=1e-3):
    """``(x - mean) / sqrt(var + epsilon) * gamma + beta``; 1-D statistics apply
    along ``axis``."""
    x = as_tensor(x)

    def stat(v):
        v = as_tensor(v, x.device)
        if v.ndim == 1 and x.ndim > 1:
            view = [1] * x.ndim
            view[axis] = -1
            v = v.reshape(view)
        return v

    out = (x - stat(mean)) * torch.rsqrt(stat(var) + epsilon)
    if gamma is not None:
        out = out * stat(gamma)
    return out if beta is None else out + stat(beta)


# ---------------------------------------------------------------------------------
# Control flow
# ---------------------------------------------------------------------------------


def _value(x):
    return x() if callable(x) else x


def switch(condition, then_expression, else_expression):
    """``then_expression`` where ``condition`` else ``else_expression``.

    A scalar condition picks one branch (callables are called lazily); a tensor
    condition selects element-wise, broadcast over trailing axes.
    """
    condition = as_tensor(condition)
    if condition.ndim == 0:
        return _value(then_expression) if bool(condition) else _value(else_expression)
    then_value, else_value = as_tensors(
        _value(then_expression), _value(else_expression)
    )
    while condition.ndim < then_value.ndim:
        condition = condition.unsqueeze(-1)
    return torch.where(condition.to(torch.bool), then_value, else_value)


def in_train_phase(x, alt, training=None):
    """``x`` in the training phase, else ``alt`` (callables are called)."""
    if training is None:
        training = learning_phase()
    return _value(x) if bool(training) else _value(alt)


def in_test_phase(x, alt, training=None):
    """``x`` in the test phase, else ``alt``."""
    return in_train_phase(alt, x, training=training)


def map_fn(fn, elems, name=None, dtype=None):
    """``fn`` applied to each slice of ``elems`` along axis 0, stacked."""
    out = torch.stack([as_tensor(fn(e)) for e in as_tensor(elems)])
    return out if dtype is None else out.to(to_torch_dtype(dtype))


def foldl(fn, elems, initializer=None, name=None):
    """Reduce ``elems`` along axis 0 from the left with ``fn(acc, x)``."""
    elems = list(as_tensor(elems))
    acc = elems.pop(0) if initializer is None else initializer
    for e in elems:
        acc = fn(acc, e)
    return acc


def foldr(fn, elems, initializer=None, name=None):
    """Reduce ``elems`` along axis 0 from the right with ``fn(acc, x)``."""
    elems = list(as_tensor(elems))[::-1]
    acc = elems.pop(0) if initializer is None else initializer
    for e in elems:
        acc = fn(acc, e)
    return acc

"""``to_categorical`` and ``normalize`` (``keras.utils``): NumPy in, NumPy out;
a torch tensor in, a torch tensor out, as Keras does with backend tensors."""

from __future__ import annotations

import numpy as np
import torch

from lamina.ops import nn as nn_ops
from lamina.utils.validation import arg_error


def to_categorical(x, num_classes=None):
    """Converts a class vector (integers) to a one-hot class matrix.

    Args:
        x: array-like of class ids in ``[0, num_classes)``; a trailing axis of
            size 1 is dropped (``(n, 1)`` labels give ``(n, num_classes)``).
        num_classes: number of classes; ``None`` infers ``max(x) + 1``.

    Returns:
        A float64 NumPy array with the class axis last (Keras's dtype); a float32
        torch tensor when ``x`` is a torch tensor.

    Raises:
        ValueError: for class ids outside ``[0, num_classes)`` or a bad
            ``num_classes``.

    Example:
    >>> import lamina as keras
    >>> keras.utils.to_categorical([0, 2, 1], num_classes=3)
    array([[1., 0., 0.],
           [0., 0., 1.],
           [0., 1., 0.]])
    """
    if num_classes is not None and (
        isinstance(num_classes, bool) or int(num_classes) != num_classes
        or num_classes < 1
    ):  # fmt: skip
        raise arg_error("to_categorical", "num_classes", "None or an integer >= 1",
                        num_classes)  # fmt: skip
    if isinstance(x, torch.Tensor):
        if x.ndim > 1 and x.shape[-1] == 1:
            x = x.reshape(x.shape[:-1])
        if num_classes is None:
            num_classes = int(x.max()) + 1 if x.numel() else 1
        return nn_ops.one_hot(x, int(num_classes))
    x = np.array(x, dtype="int64")
    shape = x.shape
    if shape and shape[-1] == 1 and len(shape) > 1:
        shape = shape[:-1]
    x = x.reshape(-1)
    if not num_classes:
        num_classes = int(np.max(x)) + 1
    num_classes = int(num_classes)
    bad = x[(x < 0) | (x >= num_classes)]
    if bad.size:
        raise ValueError(
            f"to_categorical: `x` must hold class ids in [0, {num_classes}) "
            f"(num_classes={num_classes}); got x with the value {int(bad[0])}."
        )
    categorical = np.zeros((x.shape[0], num_classes))
    categorical[np.arange(x.shape[0]), x] = 1
    return categorical.reshape(shape + (num_classes,))


def normalize(x, axis=-1, order=2):
    """``x`` divided by its ``order``-norm along ``axis``.

    NumPy arrays: ``x / norm`` with zero norms left as 1 (Keras's NumPy branch,
    which fails for ``axis=0``: lamina normalizes along axis 0 there);
    torch tensors: ``keras.ops.normalize`` (the norm is at least ``epsilon``).

    Args:
        x: array or tensor to normalize.
        axis: the axis to normalize along.
        order: the norm's order (2: L2).

    Returns:
        A normalized copy of ``x``, of ``x``'s kind.

    Example:
    >>> import numpy as np, lamina as keras
    >>> keras.utils.normalize(np.array([[3.0, 4.0]]))
    array([[0.6, 0.8]])
    """
    if isinstance(x, np.ndarray):
        norm = np.atleast_1d(np.linalg.norm(x, order, axis))
        norm[norm == 0] = 1
        # Keras turns axis=0 into -1 here (`axis or -1`), which breaks axis=0
        return x / np.expand_dims(norm, -1 if axis is None else axis)
    return nn_ops.normalize(x, axis=axis, order=order)

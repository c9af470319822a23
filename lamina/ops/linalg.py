"""Linear-algebra ``keras.ops`` functions (``keras.ops.linalg``): norms,
decompositions, inverses and solvers on (batches of) matrices.

Inputs may be tensors, NumPy arrays or Python scalars; dtypes follow Keras 3 on its
torch backend.
"""

from __future__ import annotations

import torch

from lamina import config
from lamina.ops.dtypes import as_tensor, result_type, to_torch_dtype
from lamina.ops.numpy import _axis

__all__ = [
    "norm",
]


def norm(x, ord=None, axis=None, keepdims=False):
    """Vector or matrix norm (``torch.linalg.norm`` semantics, as NumPy)."""
    x = as_tensor(x)
    x = x.to(
        to_torch_dtype(config.floatx())
        if x.dtype == torch.int64
        else to_torch_dtype(result_type(x, float))
    )
    return torch.linalg.norm(x, ord=ord, dim=_axis(axis), keepdim=keepdims)

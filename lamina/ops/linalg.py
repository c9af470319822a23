"""Linear-algebra ``keras.ops`` functions (``keras.ops.linalg``): norms,
decompositions, inverses and solvers on (batches of) matrices ``(..., M, N)``.

Inputs may be tensors, NumPy arrays or Python scalars. Float32 and float64 are
computed as they are; integers and bools are read as ``floatx()`` and half
precision is computed in float32 and returned in its own dtype (Keras on torch
raises for both, as torch's solvers do; JAX promotes integers the same way).
"""

from __future__ import annotations

import torch

from lamina import config
from lamina.ops.dtypes import as_tensor, as_tensors, result_type, to_torch_dtype
from lamina.ops.numpy import _axis

__all__ = [
    "cholesky",
    "cholesky_inverse",
    "det",
    "eig",
    "eigh",
    "inv",
    "jvp",
    "lstsq",
    "lu_factor",
    "matrix_rank",
    "norm",
    "pinv",
    "qr",
    "solve",
    "solve_triangular",
    "svd",
]

_HALF = (torch.float16, torch.bfloat16)


def _matrices(fn, x, square=True):
    """``(x in its compute dtype, the output dtype)`` after checking that ``x`` is
    a (batch of) matrices, square when ``square``."""
    x = as_tensor(x)
    if x.ndim < 2 or (square and x.shape[-1] != x.shape[-2]):
        kind = "square matrices" if square else "matrices"
        raise ValueError(
            f"{fn}: `x` must be a (batch of) {kind} (rank >= 2); got x of shape "
            f"{tuple(x.shape)}."
        )
    out = x.dtype
    if not (x.is_floating_point() or x.is_complex()):
        out = to_torch_dtype(config.floatx())
    return x.to(torch.float32 if out in _HALF else out), out


def _right_hand_side(fn, a, b):
    """``b`` in ``a``'s dtype after checking that it matches ``a``'s rows."""
    b = as_tensor(b, a.device)
    rows = a.shape[-2]
    vector = b.ndim == a.ndim - 1
    if b.ndim < 1 or b.shape[-1 if vector else -2] != rows:
        raise ValueError(
            f"{fn}: `b` must have {rows} rows to match `a` of shape "
            f"{tuple(a.shape)}; got b of shape {tuple(b.shape)}."
        )
    return b.to(a.dtype), vector


def cholesky(x, upper=False):
    """The Cholesky factor of each symmetric positive-definite matrix in ``x``:
    lower ``L`` with ``x = L @ L.T`` (upper ``U = L.T`` with ``upper=True``).

    Raises:
        ValueError: if ``x`` is not square or not positive-definite.
    """
    x, out = _matrices("cholesky", x)
    try:
        return torch.linalg.cholesky(x, upper=upper).to(out)
    except RuntimeError as error:
        raise ValueError(
            f"cholesky: `x` must be symmetric positive-definite; {error}"
        ) from None


def cholesky_inverse(x, upper=False):
    """The inverse of ``A = L @ L.T`` from its Cholesky factor ``x = L`` (or of
    ``A = U.T @ U`` from ``x = U`` with ``upper=True``)."""
    x, out = _matrices("cholesky_inverse", x)
    return torch.cholesky_inverse(x, upper=upper).to(out)


def det(x):
    """The determinant of each square matrix in ``x``."""
    x, out = _matrices("det", x)
    return torch.linalg.det(x).to(out)


def eig(x):
    """``(eigenvalues, eigenvectors)`` of each square matrix in ``x``, complex
    (complex64, or complex128 for float64)."""
    x, _ = _matrices("eig", x)
    return torch.linalg.eig(x)


def eigh(x):
    """``(eigenvalues, eigenvectors)`` of each symmetric (Hermitian) matrix in
    ``x``, eigenvalues ascending; only the lower triangle is read."""
    x, out = _matrices("eigh", x)
    values, vectors = torch.linalg.eigh(x)
    return values.to(out if not out.is_complex else values.dtype), vectors.to(out)


def inv(x):
    """The inverse of each square matrix in ``x``."""
    x, out = _matrices("inv", x)
    return torch.linalg.inv(x).to(out)


def lu_factor(x):
    """``(lu, pivots)``: the packed LU factors of each matrix in ``x`` (``L``
    below the diagonal with unit diagonal, ``U`` on and above) and the 0-based
    row pivots (int32), as ``scipy.linalg.lu_factor``."""
    x, out = _matrices("lu_factor", x, square=False)
    lu, pivots = torch.linalg.lu_factor(x)
    return lu.to(out), (pivots - 1).to(torch.int32)


def qr(x, mode="reduced"):
    """``(q, r)`` with ``x = q @ r``, ``q`` orthonormal and ``r`` upper
    triangular; ``mode="complete"`` gives a square ``q``."""
    if mode not in ("reduced", "complete"):
        raise ValueError(
            f"qr: `mode` must be 'reduced' or 'complete'; got mode={mode!r}."
        )
    x, out = _matrices("qr", x, square=False)
    q, r = torch.linalg.qr(x, mode=mode)
    return q.to(out), r.to(out)


def svd(x, full_matrices=True, compute_uv=True):
    """``(u, s, vh)`` with ``x = u @ diag(s) @ vh`` and ``s`` descending; only
    ``s`` when ``compute_uv=False``."""
    x, out = _matrices("svd", x, square=False)
    if not compute_uv:
        return torch.linalg.svdvals(x).to(out)
    u, s, vh = torch.linalg.svd(x, full_matrices=full_matrices)
    return u.to(out), s.to(out), vh.to(out)


def solve(a, b):
    """The ``x`` with ``a @ x = b`` for square ``a``; ``b`` is ``(..., M, K)`` or
    a vector ``(..., M)``."""
    a, out = _matrices("solve", a)
    b, _ = _right_hand_side("solve", a, b)
    return torch.linalg.solve(a, b).to(out)


def solve_triangular(a, b, lower=False):
    """The ``x`` with ``a @ x = b`` for triangular ``a`` (upper unless
    ``lower``); only that triangle of ``a`` is read."""
    a, out = _matrices("solve_triangular", a)
    b, vector = _right_hand_side("solve_triangular", a, b)
    if vector:
        b = b.unsqueeze(-1)
    x = torch.linalg.solve_triangular(a, b, upper=not lower)
    return (x.squeeze(-1) if vector else x).to(out)


def lstsq(a, b, rcond=None):
    """The least-squares solution ``x`` minimizing ``|a @ x - b|`` (``b`` a matrix
    or vector); singular values below ``rcond * max(s)`` count as zero."""
    a, out = _matrices("lstsq", a, square=False)
    b, vector = _right_hand_side("lstsq", a, b)
    if vector:
        b = b.unsqueeze(-1)
    if rcond is None:
        x = torch.linalg.lstsq(a, b).solution
    elif a.device.type == "cpu":
        x = torch.linalg.lstsq(a, b, rcond=rcond, driver="gelsd").solution
    else:  # CUDA's only driver has no cut-off: go through the pseudo-inverse.
        x = torch.linalg.pinv(a, rtol=rcond) @ b
    return (x.squeeze(-1) if vector else x).to(out)


def matrix_rank(x, tol=None):
    """The rank (int32) of each matrix in ``x``: its number of singular values
    above ``tol`` (default ``max(M, N) * eps * max(s)``)."""
    x, _ = _matrices("matrix_rank", x, square=False)
    return torch.linalg.matrix_rank(x, atol=tol).to(torch.int32)


def pinv(x, rcond=None):
    """The Moore-Penrose pseudo-inverse of each matrix in ``x``; singular values
    below ``rcond * max(s)`` count as zero."""
    x, out = _matrices("pinv", x, square=False)
    return torch.linalg.pinv(x, rtol=rcond).to(out)


def norm(x, ord=None, axis=None, keepdims=False):
    """Vector or matrix norm (``torch.linalg.norm`` semantics, as NumPy)."""
    x = as_tensor(x)
    x = x.to(
        to_torch_dtype(config.floatx())
        if x.dtype == torch.int64
        else to_torch_dtype(result_type(x, float))
    )
    return torch.linalg.norm(x, ord=ord, dim=_axis(axis), keepdim=keepdims)


def jvp(fun, primals, tangents, has_aux=False):
    """``(fun(*primals), J @ tangents)``: the value of ``fun`` and its
    Jacobian-vector product (forward mode), plus ``fun``'s auxiliary output
    when ``has_aux`` (``fun`` then returns ``(output, aux)``)."""
    primals = tuple(as_tensors(*primals))
    tangents = tuple(as_tensors(*tangents))
    return torch.func.jvp(fun, primals, tangents, has_aux=has_aux)

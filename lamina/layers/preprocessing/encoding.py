"""Integer indices to the outputs of the categorical preprocessing layers.

``CategoryEncoding``, ``Discretization``, ``Hashing``, ``HashedCrossing`` and the
lookup layers all end the same way (Keras's ``encode_categorical_inputs``):
``"int"`` returns the indices, ``"one_hot"`` one vector per index (a trailing
axis of size 1 is replaced), ``"multi_hot"``/``"count"`` one vector per sample
(axis 1 is reduced, the last one for the
usual ``(batch, tokens)`` inputs), ``"tf_idf"`` counts scaled by per-token weights.
"""

from __future__ import annotations

import torch

MODES = ("int", "one_hot", "multi_hot", "count")


def encode(indices: torch.Tensor, mode: str, depth: int, dtype, count_weights=None):
    """``indices`` (integers in ``[0, depth)``) encoded as ``mode`` in ``dtype``."""
    if mode == "int":
        return indices.to(dtype)
    if indices.ndim == 0:
        indices = indices.reshape(1)
    if mode == "one_hot":
        if indices.ndim > 1 and indices.shape[-1] == 1:
            indices = indices.squeeze(-1)
        return _one_hot(indices, depth, dtype)
    axis = 1 if indices.ndim > 1 else 0  # Keras reduces axis 1 (TF, JAX, torch)
    if mode == "multi_hot":
        return _one_hot(indices, depth, dtype).amax(dim=axis)
    if count_weights is not None:
        weights = torch.as_tensor(count_weights, device=indices.device)
        hot = _one_hot(indices, depth, weights.dtype)
        return (hot * weights.unsqueeze(-1)).sum(axis)
    if indices.ndim <= 2:  # the usual case: a scatter, no one-hot tensor
        counts = torch.zeros(
            (*indices.shape[:-1], depth + 1), dtype=dtype, device=indices.device
        )
        ones = torch.ones(indices.shape, dtype=dtype, device=indices.device)
        counts.scatter_add_(-1, _checked(indices, depth), ones)
        return counts[..., :depth]
    return _one_hot(indices, depth, dtype).sum(axis)


def _checked(indices: torch.Tensor, depth: int) -> torch.Tensor:
    """Indices outside ``[0, depth)`` select nothing (one_hot gives zeros there,
    as in Keras): they are sent to an extra slot that is then dropped."""
    indices = indices.long()
    return torch.where((indices >= 0) & (indices < depth), indices, depth)


def _one_hot(indices: torch.Tensor, depth: int, dtype) -> torch.Tensor:
    hot = torch.nn.functional.one_hot(_checked(indices, depth), depth + 1)
    return hot[..., :depth].to(dtype)


def encoded_shape(shape: tuple, mode: str, depth) -> tuple:
    """The output shape ``encode`` gives for inputs of ``shape`` (None kept)."""
    shape = tuple(shape)
    if mode == "int":
        return shape
    if not shape:
        return (depth,)
    if mode == "one_hot":
        if len(shape) > 1 and shape[-1] == 1:
            return (shape[0], *shape[2:], depth) if len(shape) > 1 else (depth,)
        return (*shape, depth)
    return (shape[0], *shape[2:], depth) if len(shape) > 1 else (depth,)

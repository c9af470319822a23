"""Multi-head dot-product attention on projected tensors, Keras 3's arithmetic:
the masks of ``MultiHeadAttention._compute_attention_mask``, the einsum
equations of attention over any axes, the masked softmax, and the fused path.

Projected tensors are ``(batch, <other axes>, <attention axes>, heads, channels)``.

Two paths compute the same thing:

- ``fused_attention``: ``F.scaled_dot_product_attention`` (torch's flash or
  memory-efficient kernels) for one attention axis, no scores asked for and no
  dropout drawn. A blocked position gets ``-0.7 * float32 max`` added, as Keras
  does; a query row with every key blocked then averages all values, as Keras's
  fused path does, or gives zeros when Keras would have taken its einsum path
  (``zero_blocked_rows``, a layer with dropout called at inference).
- ``einsum_attention``: the explicit scores (softmax over the attention axes,
  a blocked score set to -1e9 before it and to 0 after it, Keras's Softmax
  layer), for scores, dropout and several attention axes.

Example:
>>> dot, combine, rank = attention_equations(4, (1,))
>>> dot, combine, rank
('aecd,abcd->acbe', 'acbe,aecd->abcd', 4)
>>> causal_mask(2, 3).int().tolist()
[[[1, 0, 0], [1, 1, 0]]]
"""

from __future__ import annotations

import contextlib
import string

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

from lamina.utils.validation import describe

_NOT_FLASH = [SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH]
if hasattr(SDPBackend, "CUDNN_ATTENTION"):
    _NOT_FLASH.insert(1, SDPBackend.CUDNN_ATTENTION)


# ------------------------------------------------------------------- masks
def causal_mask(query_length: int, key_length: int, device=None) -> torch.Tensor:
    """``(1, T, S)``: query step i sees key steps j <= i."""
    ones = torch.ones(query_length, key_length, dtype=torch.bool, device=device)
    return ones.tril().unsqueeze(0)


def sliding_window_mask(query_length, key_length, window, device=None):
    """``(1, T, S)``: query step i sees key steps j with ``|i - j| < window``."""
    rows = torch.arange(query_length, device=device).unsqueeze(1)
    cols = torch.arange(key_length, device=device).unsqueeze(0)
    return ((rows - cols).abs() < window).unsqueeze(0)


def attention_mask(
    query_length,
    key_length,
    query_mask=None,
    value_mask=None,
    key_mask=None,
    mask=None,
    causal=False,
    window=None,
    device=None,
):
    """Keras's combined boolean mask (True attends), or None: the query mask
    ``(B, T, 1)``, the value and key masks ``(B, 1, S)``, the causal and
    sliding-window masks ``(1, T, S)`` and the user's ``mask``, all and-ed."""
    parts = []
    if query_mask is not None:
        parts.append(query_mask.bool().unsqueeze(-1))
    for padding in (value_mask, key_mask):
        if padding is not None:
            parts.append(padding.bool().unsqueeze(-2))
    if causal:
        parts.append(causal_mask(query_length, key_length, device))
    if window is not None:
        parts.append(sliding_window_mask(query_length, key_length, window, device))
    if mask is not None:
        parts.insert(0, mask.bool())
    if not parts:
        return None
    combined = parts[0]
    for part in parts[1:]:
        combined = combined & part
    return combined


def expand_mask(mask, rank: int, attention_rank: int):
    """``mask`` with axes inserted before the query attention axes (at the heads
    axis of the scores) until it has ``rank`` axes."""
    while mask.ndim < rank:
        mask = mask.unsqueeze(-2 * attention_rank - 1)
    return mask


# ---------------------------------------------------------------- einsums
def attention_equations(rank: int, attention_axes: tuple) -> tuple[str, str, int]:
    """``(dot, combine, scores_rank)`` for projected tensors of ``rank``: ``dot``
    takes (key, query) to the scores ``(<batch axes>, heads, <query attention
    axes>, <key attention axes>)``, ``combine`` takes (scores, value) back to the
    query's layout."""
    letters = string.ascii_lowercase
    query = letters[:rank]
    batch = [i for i in range(rank - 1) if i not in attention_axes]
    fresh = iter(letters[rank:])
    key = "".join(
        query[i] if i in batch or i == rank - 1 else next(fresh) for i in range(rank)
    )
    scores = "".join(
        [query[i] for i in batch]
        + [query[i] for i in attention_axes]
        + [key[i] for i in attention_axes]
    )
    return f"{key},{query}->{scores}", f"{scores},{key}->{query}", len(scores)


def masked_softmax(scores, mask, axes: int):
    """Softmax over the last ``axes`` axes; blocked scores count as -1e9 and
    come out 0, and the result carries the (expanded) mask as its Keras mask
    (Keras's Softmax layer given a mask)."""
    if mask is not None:
        mask = expand_mask(mask, scores.ndim, axes)
        blocked = -3e4 if scores.dtype == torch.float16 else -1e9
        scores = torch.where(mask, scores, blocked)
    if axes == 1:
        probs = torch.softmax(scores, dim=-1)
    else:
        dims = tuple(range(-axes, 0))
        probs = torch.exp(scores - torch.logsumexp(scores, dim=dims, keepdim=True))
    if mask is not None:
        probs = torch.where(mask, probs, 0.0)
        probs._keras_mask = mask  # what Keras's Softmax layer leaves on them
    return probs


def einsum_attention(query, key, value, mask, scale, equations, dropout=None):
    """``(output, scores)`` by explicit einsums; ``equations`` is ``(dot,
    combine, number of attention axes)``; ``dropout`` (a callable) drops from
    the scores used for the output, not from the scores returned."""
    dot, combine, axes = equations
    scores = torch.einsum(dot, key, query * scale)
    probs = masked_softmax(scores, mask, axes)
    used = probs if dropout is None else dropout(probs)
    return torch.einsum(combine, used, value), probs


# ------------------------------------------------------------------ fused
def _kernels(flash):
    """The SDPA kernels ``flash_attention`` allows: True only flash, False all
    but flash, None torch's choice."""
    if flash is None:
        return contextlib.nullcontext()
    return sdpa_kernel([SDPBackend.FLASH_ATTENTION] if flash else _NOT_FLASH)


def fused_attention(
    query,
    key,
    value,
    mask=None,
    scale=None,
    causal=False,
    flash=None,
    zero_blocked_rows=False,
    owner="attention",
):
    """Attention of ``(B, T, N, H)`` query on ``(B, S, M, H)`` key and value
    (``N`` a multiple of ``M``: grouped-query attention) by
    ``F.scaled_dot_product_attention``; ``mask`` broadcasts to ``(B, T, S)`` or
    ``(B, N, T, S)``; ``causal`` without a mask uses the fused causal kernel."""
    q, k, v = (t.transpose(1, 2) for t in (query, key, value))
    additive = None
    if mask is not None:
        mask = expand_mask(mask, 4, 1)
        blocked = -0.7 * (65500.0 if q.dtype == torch.float16 else 3.38953e38)
        additive = torch.where(mask, 0.0, blocked).to(q.dtype)
    try:
        with _kernels(flash):
            out = F.scaled_dot_product_attention(
                q,
                k,
                v,
                attn_mask=additive,
                is_causal=causal and additive is None,
                scale=scale,
                enable_gqa=k.shape[1] != q.shape[1],
            )
    except RuntimeError as error:
        if not flash:
            raise
        raise RuntimeError(
            f"{describe(owner)}: flash_attention=True, but torch has no flash "
            f"attention kernel for these inputs (query {tuple(query.shape)}, "
            f"{q.dtype}, on {q.device.type}); set flash_attention=None to let "
            f"torch choose. ({error})"
        ) from None
    out = out.transpose(1, 2)
    if zero_blocked_rows and mask is not None:
        seen = mask.any(-1).transpose(-1, -2).unsqueeze(-1)  # (B|1, T|1, 1|N, 1)
        out = out.masked_fill(~seen, 0.0)
    return out

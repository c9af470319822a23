"""Attention (Luong-style dot-product attention) over ``[query, value, key]``,
Keras 3's arithmetic; AdditiveAttention (additive_attention.py) changes only the
scores."""

from __future__ import annotations

import torch

from lamina.layers.attention.dot_product import causal_mask
from lamina.layers.layer import Layer
from lamina.layers.regularization.dropout import Dropout
from lamina.utils.validation import check_choice, check_float, check_int, describe


class Attention(Layer):
    """Dot-product attention: scores of ``query`` against ``key``, softmax over
    the key steps, a weighted sum of ``value``.

    Args:
        use_scale: learn a scalar ``scale`` multiplying the scores (default
            False).
        score_mode: ``"dot"`` (``query @ key^T``) or ``"concat"``
            (``concat_score_weight * sum(tanh(scale * (query + key)))`` over the
            features).
        dropout: float in [0, 1], dropout on the attention distribution while
            training.
        seed: int or None, the dropout's seed.
        **kwargs: ``name``, ``dtype``, ``trainable``, ... (see ``Layer``).

    Call arguments:
        inputs: a list ``[query, value]`` or ``[query, value, key]``: ``query``
            ``(B, Tq, dim)``, ``value`` ``(B, Tv, dim_v)``, ``key`` ``(B, Tv,
            dim)`` (default ``value``).
        mask: a list ``[query_mask, value_mask]`` of boolean ``(B, Tq)`` and
            ``(B, Tv)`` (default: the inputs' Keras masks). Masked value steps
            get a score lowered by 1e9; masked query steps output zeros.
        training: whether dropout applies (default False).
        return_attention_scores: also return the attention distribution ``(B,
            Tq, Tv)``.
        use_causal_mask: query step i attends only to value steps j <= i.

    Output shape:
        ``(B, Tq, dim_v)``, with the query's mask.

    Weights:
        ``scale`` () if ``use_scale``, then ``concat_score_weight`` () if
        ``score_mode="concat"``; both start at 1.

    Raises:
        ValueError: an unknown ``score_mode``, a bad ``dropout``; inputs or
            masks that are not lists of 2 or 3.

    Example:
    >>> import lamina as keras
    >>> query, value = keras.ops.ones((2, 3, 4)), keras.ops.ones((2, 5, 4))
    >>> tuple(keras.layers.Attention()([query, value]).shape)
    (2, 3, 4)
    """

    def __init__(
        self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs
    ):
        super().__init__(**kwargs)
        self.use_scale = bool(use_scale)
        self.score_mode = check_choice(
            self, "score_mode", score_mode, ("dot", "concat")
        )
        self.dropout = check_float(self, "dropout", dropout, 0.0, 1.0)
        self.seed = check_int(self, "seed", seed, allow_none=True)
        if self.dropout > 0:
            self._dropout_layer = Dropout(
                self.dropout, seed=self.seed, dtype=self.dtype_policy
            )
        self.supports_masking = True

    def build(self, input_shape):
        self._check_inputs(input_shape)
        self.scale = None
        self.concat_score_weight = None
        if self.use_scale:
            self.scale = self.add_weight(shape=(), initializer="ones", name="scale")
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight(
                shape=(), initializer="ones", name="concat_score_weight"
            )

    def _check_inputs(self, inputs, mask=None) -> None:
        """``inputs`` (tensors or their shapes) and ``mask`` are lists of 2-3."""
        if (
            not isinstance(inputs, (list, tuple))
            or not 2 <= len(inputs) <= 3
            or any(x is None or isinstance(x, int) for x in inputs)
        ):
            raise ValueError(
                f"{describe(self)}: the inputs must be a list [query, value] or "
                f"[query, value, key]; got {_describe_inputs(inputs)}."
            )
        if mask is not None and (
            not isinstance(mask, (list, tuple)) or not 2 <= len(mask) <= 3
        ):
            raise ValueError(
                f"{describe(self)}: `mask` must be a list [query_mask, value_mask] "
                f"(a third entry, the key's, is ignored); got "
                f"{_describe_inputs(mask)}."
            )

    def _calculate_scores(self, query, key):
        """Scores ``(B, Tq, Tv)``."""
        if self.score_mode == "dot":
            scores = torch.matmul(query, key.transpose(-2, -1))
            return scores if self.scale is None else scores * self.scale
        summed = query.unsqueeze(-2) + key.unsqueeze(-3)
        if self.scale is not None:
            summed = self.scale * summed
        return self.concat_score_weight * torch.tanh(summed).sum(-1)

    def call(
        self,
        inputs,
        mask=None,
        training=False,
        return_attention_scores=False,
        use_causal_mask=False,
    ):
        self._check_inputs(inputs, mask)
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) > 2 else value
        query_mask, value_mask = (mask[0], mask[1]) if mask else (None, None)
        scores = self._calculate_scores(query, key)
        allowed = None if value_mask is None else value_mask.bool().unsqueeze(-2)
        if use_causal_mask:
            causal = causal_mask(scores.shape[-2], scores.shape[-1], scores.device)
            allowed = causal if allowed is None else allowed & causal
        if allowed is not None:  # Keras subtracts, it does not replace
            big = 65504.0 if scores.dtype == torch.float16 else 1.0e9
            scores = torch.where(allowed, scores, scores - big)
        weights = torch.softmax(scores, dim=-1)
        used = weights
        if training and self.dropout > 0:
            used = self._dropout_layer(weights, training=True)
        output = torch.matmul(used, value)
        if query_mask is not None:
            output = torch.where(query_mask.bool().unsqueeze(-1), output, 0.0)
        return (output, weights) if return_attention_scores else output

    def compute_mask(self, inputs, mask=None):
        self._check_inputs(inputs, mask)
        if mask is None or mask[0] is None:
            return None
        return torch.as_tensor(mask[0])

    def compute_output_shape(self, input_shape):
        self._check_inputs(input_shape)
        return (*tuple(input_shape[0])[:-1], tuple(input_shape[1])[-1])

    def get_config(self):
        return {
            **super().get_config(),
            "use_scale": self.use_scale,
            "score_mode": self.score_mode,
            "dropout": self.dropout,
            "seed": self.seed,
        }


def _describe_inputs(inputs) -> str:
    if isinstance(inputs, (list, tuple)) and all(
        x is None or isinstance(x, int) for x in inputs
    ):
        return f"one input of shape {tuple(inputs)}"
    if isinstance(inputs, (list, tuple)):
        return f"a {type(inputs).__name__} of {len(inputs)}"
    shape = getattr(inputs, "shape", None)
    return f"one input of shape {tuple(shape)}" if shape is not None else repr(inputs)

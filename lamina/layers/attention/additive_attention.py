"""AdditiveAttention (Bahdanau-style): Attention with additive scores."""

from __future__ import annotations

import torch

from lamina.layers.attention.attention import Attention


class AdditiveAttention(Attention):
    """Additive attention: scores ``sum(scale * tanh(query + key))`` over the
    features, softmax over the key steps, a weighted sum of ``value``.

    Args:
        use_scale: learn a ``scale`` vector ``(dim,)`` (default True; else 1).
        dropout: float in [0, 1], dropout on the attention distribution while
            training.
        seed: int or None, the dropout's seed.
        **kwargs: ``name``, ``dtype``, ``trainable``, ... (see ``Layer``).

    Call arguments:
        As ``Attention``: ``inputs`` ``[query, value]`` or ``[query, value,
        key]`` (``query`` and ``key`` of the same size ``dim``), ``mask``,
        ``training``, ``return_attention_scores``, ``use_causal_mask``.

    Output shape:
        ``(B, Tq, dim_v)``.

    Weights:
        ``scale`` ``(dim,)``, glorot_uniform, if ``use_scale``.

    Raises:
        ValueError: a bad ``dropout``; inputs that are not a list of 2 or 3.

    Example:
    >>> import lamina as keras
    >>> query, value = keras.ops.ones((2, 3, 4)), keras.ops.ones((2, 5, 4))
    >>> tuple(keras.layers.AdditiveAttention()([query, value]).shape)
    (2, 3, 4)
    """

    def __init__(self, use_scale=True, dropout=0.0, **kwargs):
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape):
        self._check_inputs(input_shape)
        self.scale = None
        if self.use_scale:
            self.scale = self.add_weight(
                shape=(input_shape[0][-1],), initializer="glorot_uniform", name="scale"
            )

    def _calculate_scores(self, query, key):
        summed = torch.tanh(query.unsqueeze(-2) + key.unsqueeze(-3))
        if self.scale is not None:
            summed = self.scale * summed
        return summed.sum(-1)

    def get_config(self):
        config = super().get_config()
        del config["score_mode"]
        return config

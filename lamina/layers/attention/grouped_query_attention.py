"""GroupedQueryAttention (Ainslie et al., 2023): fewer key/value heads than
query heads, each serving a group of query heads."""

from __future__ import annotations

from lamina.layers.attention.base_multi_head_attention import (
    ARGS,
    BaseMultiHeadAttention,
    inverse_sqrt,
)
from lamina.layers.docs import fill_docs
from lamina.utils.validation import check_int, describe


@fill_docs(ARGS)
class GroupedQueryAttention(BaseMultiHeadAttention):
    """Grouped-query attention: ``num_query_heads`` query heads share
    ``num_key_value_heads`` key/value heads (1: multi-query attention; equal:
    multi-head attention). Key/value head j serves query heads ``j * r`` to
    ``(j + 1) * r - 1``, ``r = num_query_heads // num_key_value_heads``.

    Keras 3 exports it as ``keras.layers.GroupQueryAttention`` (its configs say
    so); both names work here.

    Args:
        head_dim: positive int, the size of every head.
        num_query_heads: positive int.
        num_key_value_heads: positive int dividing ``num_query_heads``.
        {mha_options}
        {kwargs}

    Call arguments:
        {mha_call}

    Input shape:
        ``query`` ``(B, T, dim)``, ``value`` and ``key`` ``(B, S, dim_v)``.

    Output shape:
        ``(B, T, dim)``; the scores ``(B, num_query_heads, T, S)``.

    Weights:
        In order: ``query`` kernel ``(dim, num_query_heads, head_dim)`` and bias
        ``(num_query_heads, head_dim)``; ``key`` kernel ``(dim_v,
        num_key_value_heads, head_dim)`` and bias ``(num_key_value_heads,
        head_dim)``; ``gate`` (with ``use_gate``, like ``query``); ``value`` like
        ``key``; ``attention_output`` ``(num_query_heads, head_dim, dim)`` and
        ``(dim,)``. Held as ``_query_dense``, ``_key_dense``, ``_gate_dense``,
        ``_value_dense``, ``_output_dense`` (Keras's weights-file paths). The
        key and value heads are never repeated in memory on the fused path
        (``enable_gqa``).

    Raises:
        ValueError: non-positive sizes; ``num_query_heads`` not a multiple of
            ``num_key_value_heads``; a bad ``dropout`` or ``sliding_window``;
            ``flash_attention=True`` with dropout or with scores.

    Example:
    >>> import lamina as keras
    >>> layer = keras.layers.GroupQueryAttention(4, num_query_heads=8,
    ...                                          num_key_value_heads=2)
    >>> tuple(layer(keras.ops.ones((3, 5, 16)), keras.ops.ones((3, 7, 16))).shape)
    (3, 5, 16)
    """

    _keras_class_name = "GroupQueryAttention"

    def __init__(
        self,
        head_dim,
        num_query_heads,
        num_key_value_heads,
        dropout=0.0,
        use_bias=True,
        sliding_window=None,
        flash_attention=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        use_gate=False,
        seed=None,
        **kwargs,
    ):
        super().__init__(
            dropout=dropout,
            use_bias=use_bias,
            sliding_window=sliding_window,
            flash_attention=flash_attention,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint,
            use_gate=use_gate,
            seed=seed,
            **kwargs,
        )
        self.head_dim = check_int(self, "head_dim", head_dim, minimum=1)
        self.num_query_heads = check_int(
            self, "num_query_heads", num_query_heads, minimum=1
        )
        self.num_key_value_heads = check_int(
            self, "num_key_value_heads", num_key_value_heads, minimum=1
        )
        if num_query_heads % num_key_value_heads:
            raise ValueError(
                f"{describe(self)}: `num_query_heads` must be a multiple of "
                f"`num_key_value_heads`; got num_query_heads={num_query_heads} and "
                f"num_key_value_heads={num_key_value_heads}."
            )
        self.num_repeats = num_query_heads // num_key_value_heads
        self._inverse_sqrt_key_dim = inverse_sqrt(self.head_dim)

    def build(self, query_shape, value_shape=None, key_shape=None):
        value_shape = query_shape if value_shape is None else value_shape
        query_heads = (None, self.num_query_heads, self.head_dim)
        kv_heads = (None, self.num_key_value_heads, self.head_dim)
        self.feature_dim = query_shape[-1]
        self._projection(
            "_query_dense", "query", "bqm,muh->bquh", query_heads, "uh"
        ).build(query_shape)
        self._projection("_key_dense", "key", "bkm,mvh->bkvh", kv_heads, "vh").build(
            value_shape if key_shape is None else key_shape
        )
        if self._use_gate:
            self._projection(
                "_gate_dense",
                "gate",
                "bqm,muh->bquh",
                query_heads,
                "uh",
                activation="sigmoid",
            ).build(query_shape)
        self._projection(
            "_value_dense", "value", "bkm,mvh->bkvh", kv_heads, "vh"
        ).build(value_shape)
        self._build_attention(4, (1,))
        self._projection(
            "_output_dense",
            "attention_output",
            "bquh,uhm->bqm",
            (None, self.feature_dim),
            "m",
        ).build((None, None, self.num_query_heads, self.head_dim))
        self._record_shapes(query_shape, value_shape, key_shape)

    def compute_output_shape(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        if query_shape[-1] != value_shape[-1]:
            raise ValueError(
                f"{describe(self)}: `query` and `value` must have the same last "
                f"axis; got query shape {tuple(query_shape)} and value shape "
                f"{tuple(value_shape)}."
            )
        if tuple(value_shape[1:-1]) != tuple(key_shape[1:-1]):
            raise ValueError(
                f"{describe(self)}: `value` and `key` must have the same shape "
                f"but for the last axis; got value shape {tuple(value_shape)} and "
                f"key shape {tuple(key_shape)}."
            )
        return tuple(query_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "head_dim": self.head_dim,
            "num_query_heads": self.num_query_heads,
            "num_key_value_heads": self.num_key_value_heads,
            **self._options_config(),
        }

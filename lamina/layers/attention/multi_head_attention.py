"""MultiHeadAttention (Vaswani et al., 2017), Keras 3's layer on torch's fused
attention kernels."""

from __future__ import annotations

from lamina.layers.attention.base_multi_head_attention import (
    ARGS,
    BaseMultiHeadAttention,
    inverse_sqrt,
    projection_equation,
)
from lamina.layers.docs import fill_docs
from lamina.utils.validation import arg_error, check_int, describe


@fill_docs(ARGS)
class MultiHeadAttention(BaseMultiHeadAttention):
    """Multi-head attention: project ``query``, ``key`` and ``value`` to
    ``num_heads`` heads, attend (softmax of scaled dot products), project back.

    With ``query is value`` this is self-attention. Attention runs on
    ``torch.nn.functional.scaled_dot_product_attention`` (flash or
    memory-efficient kernels) unless scores are asked for, dropout is drawn or
    attention spans several axes; then on explicit einsums (the same numbers).

    Args:
        num_heads: positive int, the number of heads.
        key_dim: positive int, the size of each query and key head.
        value_dim: positive int, the size of each value head (default
            ``key_dim``).
        output_shape: None (the query's last size), an int or a tuple: the
            output's trailing shape after the query's other axes.
        attention_axes: None (every axis but the batch and the last) or int(s):
            the query axes attention runs over (negative counts from the end,
            ``-1`` being the feature axis).
        {mha_options}
        {kwargs}

    Call arguments:
        {mha_call}

    Input shape:
        ``query`` ``(B, ..., dim)``; ``value`` and ``key`` of the same rank.

    Output shape:
        ``(B, ..., dim)`` (or ``output_shape`` in place of ``dim``); the scores
        ``(B, <other axes>, heads, <query attention axes>, <key attention
        axes>)``, ``(B, heads, T, S)`` for 3-D inputs.

    Weights:
        Four (five with ``use_gate``) EinsumDense projections, in this order:
        ``query`` kernel ``(dim, num_heads, key_dim)`` and bias ``(num_heads,
        key_dim)``, ``key`` the same on ``dim_k``, ``gate`` (like ``query``, of
        ``value_dim``), ``value`` ``(dim_v, num_heads, value_dim)`` and
        ``(num_heads, value_dim)``, ``attention_output`` ``(num_heads,
        value_dim, dim)`` and ``(dim,)``; no biases with ``use_bias=False``. They
        are the attributes ``query_dense``, ``key_dense``, ``value_dense``,
        ``output_dense`` (and ``_gate_dense``), Keras's weights-file paths.

    Raises:
        ValueError: a non-positive ``num_heads``, ``key_dim`` or ``value_dim``;
            a bad ``output_shape``, ``attention_axes``, ``dropout`` or
            ``sliding_window``; ``flash_attention=True`` with dropout or with
            ``return_attention_scores``; at build, ``key`` and ``value`` of
            different shapes (but for the last axis) or attention axes outside
            the query.

    Example:
    >>> import lamina as keras
    >>> layer = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4)
    >>> query, value = keras.ops.ones((3, 5, 8)), keras.ops.ones((3, 7, 6))
    >>> output, scores = layer(query, value, return_attention_scores=True)
    >>> tuple(output.shape), tuple(scores.shape)
    ((3, 5, 8), (3, 2, 5, 7))
    """

    # Keras 3's MultiHeadAttention hands its activity regularizer to the
    # projections only (it sets a private attribute its base never reads).
    _regularizes_outputs = False

    def __init__(
        self,
        num_heads,
        key_dim,
        value_dim=None,
        dropout=0.0,
        use_bias=True,
        output_shape=None,
        attention_axes=None,
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
        self._num_heads = check_int(self, "num_heads", num_heads, minimum=1)
        self._key_dim = check_int(self, "key_dim", key_dim, minimum=1)
        value_dim = check_int(self, "value_dim", value_dim, 1, allow_none=True)
        self._value_dim = value_dim or self._key_dim
        self._output_shape = self._check_output_shape(output_shape)
        self._attention_axes = self._check_axes(attention_axes)
        self._inverse_sqrt_key_dim = inverse_sqrt(self._key_dim)

    def _check_output_shape(self, output_shape):
        if output_shape is None:
            return None
        shape = (output_shape,) if isinstance(output_shape, int) else output_shape
        try:
            shape = tuple(check_int(self, "output_shape", n, 1) for n in shape)
        except (TypeError, ValueError):
            shape = ()
        if not shape:
            raise arg_error(
                self,
                "output_shape",
                "None, a positive int or a tuple of them",
                output_shape,
            )
        return shape

    def _check_axes(self, axes):
        if axes is None:
            return None
        axes = (axes,) if isinstance(axes, int) else axes
        if (
            not isinstance(axes, (list, tuple))
            or not all(isinstance(a, int) and not isinstance(a, bool) for a in axes)
            or not axes
        ):
            raise arg_error(
                self, "attention_axes", "None, an int or a tuple of ints", axes
            )
        return tuple(axes)

    num_heads = property(lambda self: self._num_heads)
    key_dim = property(lambda self: self._key_dim)
    value_dim = property(lambda self: self._value_dim)
    attention_axes = property(lambda self: self._attention_axes)
    # Keras's private names of the projections (subclasses written for Keras
    # reach them so); the layers themselves are the public attributes.
    _query_dense = property(lambda self: self.query_dense)
    _key_dense = property(lambda self: self.key_dense)
    _value_dense = property(lambda self: self.value_dense)
    _output_dense = property(lambda self: self.output_dense)

    def build(self, query_shape, value_shape=None, key_shape=None):
        value_shape = query_shape if value_shape is None else value_shape
        keys = value_shape if key_shape is None else key_shape
        if tuple(value_shape[1:-1]) != tuple(keys[1:-1]):
            raise ValueError(
                f"{describe(self)}: `value` and `key` must have the same shape "
                f"but for the last axis; got value shape {tuple(value_shape)} and "
                f"key shape {tuple(keys)}."
            )
        free = len(query_shape) - 1
        heads = (self._num_heads, self._key_dim)
        value_heads = (self._num_heads, self._value_dim)
        self._projection(
            "query_dense", "query", *projection_equation(free, 1, heads)
        ).build(query_shape)
        self._projection(
            "key_dense", "key", *projection_equation(len(keys) - 1, 1, heads)
        ).build(keys)
        if self._use_gate:
            self._projection(
                "_gate_dense",
                "gate",
                *projection_equation(free, 1, value_heads),
                activation="sigmoid",
            ).build(query_shape)
        self._projection(
            "value_dense",
            "value",
            *projection_equation(len(value_shape) - 1, 1, value_heads),
        ).build(value_shape)
        rank = len(query_shape) + 1
        self._build_attention(rank, self._normalized_axes(rank, query_shape))
        sizes = self._output_shape or (query_shape[-1],)
        self._projection(
            "output_dense", "attention_output", *projection_equation(free, 2, sizes)
        ).build((*query_shape[:-1], *value_heads))
        self._record_shapes(query_shape, value_shape, key_shape)

    def _normalized_axes(self, rank: int, query_shape) -> tuple:
        """Attention axes of the projected tensors (rank ``rank``), Keras's
        reading of negative axes (``-1`` the query's feature axis)."""
        axes = self._attention_axes
        if axes is None:
            return tuple(range(1, rank - 2))
        normalized = tuple(a if a >= 0 else rank - 1 + a for a in axes)
        if len(set(normalized)) != len(axes) or not all(
            1 <= a <= rank - 3 for a in normalized
        ):
            raise arg_error(
                self,
                "attention_axes",
                f"distinct query axes other than the batch and feature axes (1 to "
                f"{rank - 3}, or {2 - rank} to -2) for query shape "
                f"{tuple(query_shape)}",
                axes,
            )
        return normalized

    def compute_output_shape(self, query_shape, value_shape, key_shape=None):
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError(
                f"{describe(self)}: `value` and `key` must have the same shape "
                f"but for the last axis; got value shape {value_shape} and key "
                f"shape {key_shape}."
            )
        if self._output_shape:
            return query_shape[:-1] + self._output_shape
        return query_shape

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self._num_heads,
            "key_dim": self._key_dim,
            "value_dim": self._value_dim,
            "output_shape": self._output_shape,
            "attention_axes": self._attention_axes,
            **self._options_config(),
        }

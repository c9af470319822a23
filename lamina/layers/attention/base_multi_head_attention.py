"""The one base of MultiHeadAttention and GroupedQueryAttention: options, the
call (masks, projections, attention, gate, output projection) and the build
bookkeeping. Subclasses build their EinsumDense projections
(``_build_projections``) and say which of them Keras names publicly.

The call follows Keras 3's ``call``: the inputs' Keras masks (``_keras_mask``,
from ``Embedding(mask_zero=True)``, ``Masking``, ...) become ``query_mask``,
``value_mask`` and ``key_mask`` unless given; with ``attention_mask``, the causal
and sliding-window masks they are and-ed into one ``(B, T, S)`` mask. Causal
masking alone uses the fused causal kernel. The fused path
(``F.scaled_dot_product_attention``) runs whenever no scores are asked for, no
dropout is drawn and attention is over one axis; otherwise explicit einsums.
"""

from __future__ import annotations

import math
import string

import numpy as np
import torch

from lamina import config, regularizers
from lamina.layers.attention import dot_product
from lamina.layers.core.einsum_dense import EinsumDense
from lamina.layers.layer import Layer
from lamina.layers.regularization.dropout import Dropout
from lamina.layers.weight_options import set_weight_options, weight_options_config
from lamina.saving.serialization import serialize_keras_object as serialize
from lamina.utils.validation import arg_error, check_float, check_int, describe

# Docstring paragraphs of the multi-head layers (lamina.layers.docs.fill_docs).
ARGS = {
    "mha_options": """dropout: float in [0, 1], dropout on the attention scores while
    training (default 0).
use_bias: whether the projections have biases (default True).
sliding_window: None or a positive int: query step i attends only to key
    steps j with ``|i - j| < sliding_window`` (with ``use_causal_mask``: the
    causal sliding window of Mistral-style models).
flash_attention: None (default: ``keras.config.is_flash_attention_enabled()``,
    i.e. torch's fastest kernel, flash where it has one), True (flash kernels
    only; no scores, no dropout) or False (never flash; Keras 3 turns False
    into None, lamina respects it).
kernel_initializer, bias_initializer: of every projection (default
    ``"glorot_uniform"``, fans counted on the projection's input and output
    axes; ``"zeros"``).
kernel_regularizer, bias_regularizer, kernel_constraint, bias_constraint:
    of every projection.
activity_regularizer: applied to every projection's output, and to the
    layer's outputs by GroupQueryAttention (not by MultiHeadAttention: as in
    Keras).
use_gate: add a ``gate`` projection of the query, sigmoid, multiplying the
    attention output before the output projection (gated attention).
seed: int or None, the dropout's seed.""",
    "mha_call": """query: ``(B, T, dim)`` (MultiHeadAttention: ``(B, ..., dim)``).
value: ``(B, S, dim_v)``, same axes as ``key`` but the last.
key: optional ``(B, S, dim_k)``, default ``value``.
query_mask, value_mask, key_mask: optional boolean ``(B, T)`` / ``(B, S)``
    padding masks; default the inputs' Keras masks (``Embedding(mask_zero=True)``,
    ``Masking``). Keras 3's MultiHeadAttention ignores an explicit
    ``query_mask``; lamina uses it.
attention_mask: optional boolean ``(B, T, S)`` (broadcast over heads): True
    where a query step may attend to a key step. And-ed with the masks above.
return_attention_scores: also return the scores (after softmax, before
    dropout), ``(B, heads, T, S)``.
training: whether dropout applies (default: inference).
use_causal_mask: query step i attends only to key steps j <= i.""",
}


class BaseMultiHeadAttention(Layer):
    """Shared by the multi-head attention layers (see the module docstring)."""

    _regularizes_outputs = True  # activity_regularizer on the layer's outputs too

    def __init__(
        self,
        *,
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
        # The projections' activity regularizer; GroupQueryAttention also
        # regularizes its own outputs, Keras's MultiHeadAttention does not.
        self._activity_regularizer = regularizers.get(activity_regularizer)
        if self._regularizes_outputs:
            kwargs["activity_regularizer"] = self._activity_regularizer
        super().__init__(**kwargs)
        self.supports_masking = True
        self._dropout = check_float(self, "dropout", dropout, 0.0, 1.0)
        self._use_bias = bool(use_bias)
        self._use_gate = bool(use_gate)
        self._sliding_window = check_int(
            self, "sliding_window", sliding_window, 1, allow_none=True
        )
        self.seed = check_int(self, "seed", seed, allow_none=True)
        if flash_attention not in (None, True, False):
            raise arg_error(
                self, "flash_attention", "None, True or False", flash_attention
            )
        if flash_attention is None:
            flash_attention = config.is_flash_attention_enabled()
        if flash_attention and self._dropout > 0:
            raise arg_error(
                self, "dropout", "0 when flash attention is enabled", dropout
            )
        self._flash_attention = flash_attention
        set_weight_options(
            self, "kernel", kernel_initializer, kernel_regularizer, kernel_constraint
        )
        set_weight_options(
            self, "bias", bias_initializer, bias_regularizer, bias_constraint
        )
        self._shapes_dict = None

    @property
    def dropout(self) -> float:
        return self._dropout

    @property
    def use_bias(self) -> bool:
        return self._use_bias

    @property
    def use_gate(self) -> bool:
        return self._use_gate

    @property
    def sliding_window(self) -> int | None:
        return self._sliding_window

    # ------------------------------------------------------------ building
    def _projection(self, attribute, role, equation, output_shape, bias_axes, **extra):
        """An EinsumDense named ``role`` with the layer's weight options, held
        as ``attribute`` (Keras's attribute: the path in its weights files)."""
        layer = EinsumDense(
            equation,
            output_shape=output_shape,
            bias_axes=bias_axes if self._use_bias else None,
            name=role,
            kernel_initializer=_fresh(self.kernel_initializer),
            bias_initializer=_fresh(self.bias_initializer),
            kernel_regularizer=self.kernel_regularizer,
            bias_regularizer=self.bias_regularizer,
            activity_regularizer=self._activity_regularizer,
            kernel_constraint=self.kernel_constraint,
            bias_constraint=self.bias_constraint,
            dtype=self.dtype_policy,
            **extra,
        )
        setattr(self, attribute, layer)
        return layer

    def _build_attention(self, rank: int, attention_axes: tuple) -> None:
        self._attention_axes = attention_axes
        dot, combine, _ = dot_product.attention_equations(rank, attention_axes)
        self._dot_product_equation, self._combine_equation = dot, combine
        self._equations = (dot, combine, len(attention_axes))
        self._dropout_layer = Dropout(
            rate=self._dropout, seed=self.seed, dtype=self.dtype_policy
        )

    def _record_shapes(self, query_shape, value_shape, key_shape) -> None:
        shapes = {"query_shape": query_shape, "value_shape": value_shape}
        if key_shape is not None:
            shapes["key_shape"] = key_shape
        self._shapes_dict = {k: tuple(v) for k, v in shapes.items()}

    def get_build_config(self):
        return None if self._shapes_dict is None else {"shapes_dict": self._shapes_dict}

    def build_from_config(self, build_config) -> None:
        if not build_config or self.built:
            return
        shapes = build_config.get("shapes_dict")
        if shapes is None and "input_shape" in build_config:
            shapes = {"query_shape": build_config["input_shape"]}
        if shapes:
            self.build(**{k: tuple(v) for k, v in shapes.items()})

    def _prepare(self, args, kwargs):
        """Keras's keyword spelling ``layer(query=q, value=v)``, and the build
        from every input's shape (the base class sees only the first input)."""
        if not args and "query" in kwargs:
            args = (kwargs.pop("query"),)
        if not self.built and args:
            value = args[1] if len(args) > 1 else kwargs.get("value")
            key = args[2] if len(args) > 2 else kwargs.get("key")
            if value is None:
                raise TypeError(f"{describe(self)}: called without `value`.")
            self.build(
                *(None if x is None else _shape(x) for x in (args[0], value, key))
            )
        return args, kwargs

    def __call__(self, *args, **kwargs):
        args, kwargs = self._prepare(args, kwargs)
        return super().__call__(*args, **kwargs)

    def compute_output_spec(self, *args, **kwargs):
        args, kwargs = self._prepare(args, kwargs)
        return super().compute_output_spec(*args, **kwargs)

    # ---------------------------------------------------------------- call
    def call(
        self,
        query,
        value,
        key=None,
        query_mask=None,
        value_mask=None,
        key_mask=None,
        attention_mask=None,
        return_attention_scores=False,
        training=None,
        use_causal_mask=False,
    ):
        if self._flash_attention and return_attention_scores:
            raise ValueError(
                f"{describe(self)}: attention scores cannot be returned with "
                "flash attention enabled; set flash_attention=False (or None with "
                "keras.config.disable_flash_attention()) to return them."
            )
        value, key, masks = self._inputs_and_masks(
            query, value, key, (query_mask, value_mask, key_mask, attention_mask)
        )
        causal_only = (
            use_causal_mask
            and self._sliding_window is None
            and not any(m is not None for m in masks)
        )
        mask = None
        if not causal_only:
            mask = dot_product.attention_mask(
                query.shape[1],
                value.shape[1],
                *masks,
                causal=use_causal_mask,
                window=self._sliding_window,
                device=query.device,
            )
        gate = self._gate_dense(_unmasked(query)) if self._use_gate else None
        query = self._query_dense(_unmasked(query))
        key = self._key_dense(_unmasked(key))
        value = self._value_dense(_unmasked(value))
        output, scores = self._compute_attention(
            query, key, value, mask, training, return_attention_scores, causal_only
        )
        if gate is not None:
            output = output * gate
        output = self._output_dense(output)
        return (output, scores) if return_attention_scores else output

    def _inputs_and_masks(self, query, value, key, masks):
        """value and key as tensors in the compute dtype; the masks with the
        inputs' Keras masks filling in those not given."""
        query_mask, value_mask, key_mask, mask = masks
        if query_mask is None:
            query_mask = getattr(query, "_keras_mask", None)
        if value_mask is None:
            value_mask = getattr(value, "_keras_mask", None)
        if key is not None and key_mask is None:
            key_mask = getattr(key, "_keras_mask", None)
        value = self._as_input(value, query)
        key = value if key is None else self._as_input(key, query)
        masks = [
            m if m is None else _as_tensor(m, query.device)
            for m in (query_mask, value_mask, key_mask, mask)
        ]
        return value, key, masks

    def _as_input(self, x, query):
        x = _as_tensor(x, query.device)
        if x.is_floating_point() and x.dtype != query.dtype and self.autocast:
            x = x.to(query.dtype)
        return x

    def _compute_attention(
        self, query, key, value, mask, training, return_scores, causal_only
    ):
        """``(output, scores or None)`` of projected ``(B, ..., heads, dim)``
        tensors; ``mask`` is None or boolean, broadcasting to ``(B, T, S)``."""
        dropping = bool(training) and self._dropout > 0
        if not return_scores and not dropping and query.ndim == 4:
            output = dot_product.fused_attention(
                query,
                key,
                value,
                mask,
                self._inverse_sqrt_key_dim,
                causal=causal_only,
                flash=self._flash_attention,
                zero_blocked_rows=self._dropout > 0,
                owner=self,
            )
            return output, None
        if causal_only:
            mask = dot_product.causal_mask(query.shape[1], key.shape[1], query.device)
        heads = query.shape[-2] // key.shape[-2]
        if heads > 1:  # grouped-query attention: each key/value head serves `heads`
            key = key.repeat_interleave(heads, dim=-2)
            value = value.repeat_interleave(heads, dim=-2)
        return dot_product.einsum_attention(
            query,
            key,
            value,
            mask,
            self._inverse_sqrt_key_dim,
            self._equations,
            self._dropout_layer if dropping else None,
        )

    # ------------------------------------------------------------- config
    def _options_config(self) -> dict:
        return {
            "dropout": self._dropout,
            "use_bias": self._use_bias,
            "use_gate": self._use_gate,
            "sliding_window": self._sliding_window,
            **weight_options_config(self, "kernel", "bias"),
            "activity_regularizer": serialize(self._activity_regularizer),
            "seed": self.seed,
        }


# ----------------------------------------------------------------- helpers
def _fresh(initializer):
    """A copy of ``initializer`` for one projection (Keras clones them, so no
    two projections share a stateful initializer)."""
    return type(initializer).from_config(initializer.get_config())


def _shape(x) -> tuple:
    shape = getattr(x, "shape", None)
    return tuple(np.shape(x) if shape is None else shape)


def _as_tensor(x, device):
    if isinstance(x, torch.Tensor):
        return x
    return torch.as_tensor(np.asarray(x), device=device)


def _unmasked(x):
    """``x`` without its Keras mask (the projections do not take masks; the
    attention mask holds them), as a view that keeps the gradient."""
    return x.view_as(x) if getattr(x, "_keras_mask", None) is not None else x


def inverse_sqrt(size: int) -> float:
    return 1.0 / math.sqrt(float(size))


def projection_equation(free: int, bound: int, output_sizes) -> tuple:
    """``(equation, output_shape, bias_axes)`` of a projection keeping ``free``
    input axes, summing ``bound`` and producing ``output_sizes``:
    ``projection_equation(2, 1, (4, 8))`` is ``("abc,cde->abde", [None, 4, 8],
    "de")``."""
    letters = iter(string.ascii_lowercase)
    kept, summed, made = (
        "".join(next(letters) for _ in range(n))
        for n in (free, bound, len(output_sizes))
    )
    equation = f"{kept}{summed},{summed}{made}->{kept}{made}"
    return equation, [None] * (free - 1) + list(output_sizes), made

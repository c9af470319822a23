"""Attention layers, EinsumDense and ReversibleEmbedding against Keras 3
(tests/oracle.py).

MultiHeadAttention and GroupQueryAttention take ``query`` positionally and
``value``/``key`` and the masks by name (specs in ``call_kwargs``). Both of their
paths meet Keras here: a plain call runs the fused kernel
(``F.scaled_dot_product_attention``) in both libraries; ``return_attention_scores``
and several attention axes run the einsums in both; a layer with dropout called
at inference runs lamina's fused kernel against Keras's einsums (a query row
with every key blocked must give zeros there). tests/test_attention.py keeps
what is not one call against Keras (masks from Embedding in models, the path
actually taken, flash switches, files).

Keras's symbolic call gives MultiHeadAttention's scores the shape ``(B, heads,
T, T)`` whatever the key length and attention axes (its compute_output_spec);
cases whose scores differ from that compare lamina's symbolic shapes with the
real ones in test_attention.py instead (``symbolic=False``).
"""

from __future__ import annotations

import numpy as np
import torch

from tests.oracle import Case, ErrorCase, Input

TRAIN = {"training": True}
INFER = {"training": False}
SCORES = {"return_attention_scores": True}
QUERY = Input((2, 3, 8))  # (batch, T, dim)
VALUE = Input((2, 5, 6))  # (batch, S, dim_v)
SELF = Input((2, 4, 8))
MHA = {"num_heads": 2, "key_dim": 4}
GQA = {"head_dim": 4, "num_query_heads": 4, "num_key_value_heads": 2}

# A (T, S) = (4, 4) attention mask, broadcast over the batch (so it suits the
# symbolic step's unknown batch too): query step 1 sees no key at all.
BLOCKED_ROW = torch.tensor(
    np.array([[1, 1, 0, 1], [0, 0, 0, 0], [1, 0, 1, 1], [0, 1, 1, 1]], dtype=bool)
)
PARTIAL = BLOCKED_ROW | torch.eye(4, dtype=torch.bool)  # every row sees a key
PADDING = Input((2, 5), "bool")


def _mha(kwargs=None, inputs=SELF, id=None, **case):
    return Case("MultiHeadAttention", {**MHA, **(kwargs or {})}, inputs, id=id, **case)


CASES = [
    # MultiHeadAttention: self-attention, cross-attention, key != value
    _mha(call_kwargs={"value": SELF}, id="MHA-self"),
    _mha(inputs=QUERY, call_kwargs={"value": VALUE}, id="MHA-cross"),
    _mha(
        inputs=QUERY,
        call_kwargs={"value": VALUE, "key": Input((2, 5, 4))},
        id="MHA-key",
    ),
    _mha(
        {"value_dim": 3, "output_shape": (2, 5), "use_bias": False},
        inputs=QUERY,
        call_kwargs={"value": VALUE},
        id="MHA-value-dim-output-shape-nobias",
    ),
    _mha({"output_shape": 7}, call_kwargs={"value": SELF}, id="MHA-output-int"),
    Case(
        "MultiHeadAttention",
        {"num_heads": 2, "key_dim": 4},
        inputs={"query": QUERY, "value": VALUE},
        id="MHA-keywords",
    ),
    # the einsum path: scores (symbolic: see the module docstring)
    _mha(call_kwargs={"value": SELF, **SCORES}, id="MHA-scores"),
    _mha(
        inputs=QUERY,
        call_kwargs={"value": VALUE, "key": Input((2, 5, 7)), **SCORES},
        symbolic=False,
        id="MHA-cross-scores",
    ),
    # attention over two axes (einsums) and over one axis of a 4-D input (fused)
    _mha(
        {"attention_axes": (1, 2)},
        inputs=Input((2, 3, 2, 8)),
        call_kwargs={"value": Input((2, 3, 2, 8))},
        id="MHA-axes-1-2",
    ),
    _mha(
        {"attention_axes": (1, 2)},
        inputs=Input((2, 3, 2, 8)),
        call_kwargs={"value": Input((2, 3, 2, 8)), **SCORES},
        symbolic=False,
        id="MHA-axes-1-2-scores",
    ),
    _mha(
        {"attention_axes": -2},
        inputs=Input((2, 2, 3, 8)),
        call_kwargs={"value": Input((2, 2, 5, 6))},
        id="MHA-axis-minus-2",
    ),
    # masks: padding masks, an attention mask, causal, a sliding window, a gate
    _mha(
        inputs=QUERY,
        call_kwargs={
            "value": VALUE,
            "value_mask": PADDING,
            "key_mask": Input((2, 5), "bool"),
        },
        id="MHA-value-key-masks",
    ),
    _mha(
        inputs=QUERY,
        call_kwargs={"value": VALUE, "attention_mask": Input((2, 3, 5), "bool")},
        id="MHA-attention-mask",
    ),
    _mha(
        call_kwargs={"value": SELF, "attention_mask": BLOCKED_ROW},
        id="MHA-blocked-row",
    ),
    _mha(
        call_kwargs={"value": SELF, "attention_mask": BLOCKED_ROW, **SCORES},
        id="MHA-blocked-row-scores",
    ),
    _mha(call_kwargs={"value": SELF, "use_causal_mask": True}, id="MHA-causal"),
    _mha(
        call_kwargs={"value": SELF, "use_causal_mask": True, **SCORES},
        id="MHA-causal-scores",
    ),
    _mha(
        inputs=QUERY,
        call_kwargs={
            "value": VALUE,
            "use_causal_mask": True,
            "value_mask": PADDING,
        },
        id="MHA-causal-cross-padding",
    ),
    _mha(
        {"sliding_window": 2, "use_gate": True},
        inputs=Input((2, 6, 8)),
        call_kwargs={"value": Input((2, 6, 8)), "use_causal_mask": True},
        id="MHA-sliding-window-gate",
    ),
    # dropout: at inference the fused kernel against Keras's einsums; in
    # training random (seeded draws, shapes)
    _mha(
        {"dropout": 0.3},
        call_kwargs={"value": SELF, "attention_mask": BLOCKED_ROW, **INFER},
        id="MHA-dropout-inference-blocked-row",
    ),
    _mha(
        {"dropout": 0.5, "seed": 3},
        call_kwargs={"value": SELF, **TRAIN},
        checks=("seed", "shapes"),
        id="MHA-dropout-training",
    ),
    # Another kernel than Keras's: a blocked row's gradient differs (the
    # absorbed score offsets are differentiated differently), so none here.
    _mha(
        {"flash_attention": False},
        call_kwargs={"value": SELF, "attention_mask": PARTIAL},
        id="MHA-no-flash",
    ),
    _mha(
        {
            "kernel_initializer": "he_normal",
            "bias_initializer": "ones",
            "kernel_regularizer": "l2",
            "bias_regularizer": "l1",
            "activity_regularizer": "l2",
            "kernel_constraint": "max_norm",
            "bias_constraint": "non_neg",
        },
        call_kwargs={"value": SELF, **SCORES},
        id="MHA-weight-options",
    ),
    # GroupQueryAttention
    Case(
        "GroupQueryAttention",
        GQA,
        QUERY,
        call_kwargs={"value": Input((2, 5, 8))},
        also_covers=("GroupedQueryAttention",),  # the same class
    ),
    Case(
        "GroupQueryAttention",
        {**GQA, "num_key_value_heads": 1, "use_bias": False},
        QUERY,
        call_kwargs={"value": Input((2, 5, 8)), "key": Input((2, 5, 6)), **SCORES},
        symbolic=False,  # Keras's symbolic scores take S from `value`: fine, but
        # its compute_output_shape refuses a query and value of unlike sizes
        id="GQA-multi-query-scores",
    ),
    Case(
        "GroupQueryAttention",
        GQA,
        SELF,
        call_kwargs={"value": SELF, "use_causal_mask": True, **SCORES},
        id="GQA-causal-scores",
    ),
    Case(
        "GroupQueryAttention",
        {**GQA, "dropout": 0.2, "use_gate": True, "sliding_window": 3},
        SELF,
        call_kwargs={"value": SELF, "attention_mask": BLOCKED_ROW, **INFER},
        id="GQA-dropout-inference-gate-window",
    ),
    Case(
        "GroupQueryAttention",
        {**GQA, "dropout": 0.5, "seed": 4},
        SELF,
        call_kwargs={"value": SELF, **TRAIN},
        checks=("seed", "shapes"),
        id="GQA-dropout-training",
    ),
    Case(
        "GroupQueryAttention",
        GQA,
        QUERY,
        call_kwargs={
            "value": Input((2, 5, 8)),
            "query_mask": Input((2, 3), "bool"),
            "value_mask": PADDING,
        },
        id="GQA-padding-masks",
    ),
    # Attention, AdditiveAttention: [query, value(, key)], masks as a list
    *[
        Case(
            "Attention",
            {"use_scale": scale, "score_mode": mode},
            [QUERY, Input((2, 5, 8))],
            call_kwargs=SCORES,
            id=f"Attention-{mode}-scale-{scale}",
        )
        for mode in ("dot", "concat")
        for scale in (False, True)
    ],
    Case(
        "Attention",
        {"use_scale": True},
        [QUERY, VALUE, Input((2, 5, 8))],
        call_kwargs={
            "mask": [Input((2, 3), "bool"), PADDING],
            "use_causal_mask": True,
        },
        id="Attention-key-masks-causal",
    ),
    Case(
        "Attention",
        {"dropout": 0.5, "seed": 2},
        [QUERY, Input((2, 5, 8))],
        call_kwargs=TRAIN,
        checks=("seed", "shapes"),
        id="Attention-dropout-training",
    ),
    Case("AdditiveAttention", {}, [QUERY, Input((2, 5, 8))]),
    Case(
        "AdditiveAttention",
        {"use_scale": False, "dropout": 0.3},
        [QUERY, VALUE, Input((2, 5, 8))],
        call_kwargs={"mask": [None, PADDING], "use_causal_mask": True, **SCORES},
        id="AdditiveAttention-noscale-key-mask-causal",
    ),
    # EinsumDense: matrix products (F.linear), other einsums, ellipses, LoRA
    Case("EinsumDense", {"equation": "ab,bc->ac", "output_shape": 4, "bias_axes": "c"}),
    *[
        Case(
            "EinsumDense",
            {"equation": equation, "output_shape": shape, "bias_axes": bias},
            inputs,
            id=f"EinsumDense-{equation}-{bias}",
        )
        for equation, shape, bias, inputs in (
            ("abc,cde->abde", (3, 2, 3), "de", (2, 3, 5)),
            ("abc,cde->abde", (3, 2, 3), "d", (2, 3, 5)),
            ("abc,cde->abde", (3, 2, 3), None, (2, 3, 5)),
            ("abcd,cde->abe", (3, 6), "e", (2, 3, 4, 5)),
            ("abc,cd->abd", (3, 4), "b", (2, 3, 5)),
            ("abc,bcd->abd", (3, 4), "bd", (2, 3, 5)),
            ("...b,bc->...c", 4, "c", (2, 3, 5)),
            ("ab...,bc->ac...", 4, "c", (2, 5, 3)),
        )
    ],
    Case(
        "EinsumDense",
        {
            "equation": "abc,cd->abd",
            "output_shape": (3, 4),
            "bias_axes": "d",
            "activation": "relu",
            "kernel_initializer": "he_normal",
            "kernel_regularizer": "l2",
            "activity_regularizer": "l1",
            "bias_constraint": "non_neg",
        },
        (2, 3, 5),
        id="EinsumDense-relu-options",
    ),
    Case(
        "EinsumDense",
        {"equation": "abc,cde->abde", "output_shape": (3, 2, 3), "lora_rank": 2},
        (2, 3, 5),
        id="EinsumDense-lora",
    ),
    Case(
        "EinsumDense",
        {
            "equation": "abc,cd->abd",
            "output_shape": (None, 4),
            "bias_axes": "d",
            "lora_rank": 2,
            "lora_alpha": 6,
        },
        (2, 3, 5),
        # Keras's symbolic output keeps the None of `output_shape` (None, None,
        # 4); lamina's is what the layer computes, (None, 3, 4): test_attention.
        symbolic=False,
        id="EinsumDense-lora-alpha-output-none",
    ),
    # ReversibleEmbedding: lookups, the tied or own reverse projection
    Case(
        "ReversibleEmbedding",
        {"input_dim": 9, "output_dim": 4, "mask_zero": True},
        (2, 5),
        "int32",
        data="ints:9",
    ),
    Case(
        "ReversibleEmbedding",
        {"input_dim": 9, "output_dim": 4},
        (2, 5, 4),
        call_kwargs={"reverse": True},
        id="ReversibleEmbedding-reverse-tied",
    ),
    Case(
        "ReversibleEmbedding",
        {"input_dim": 9, "output_dim": 4, "tie_weights": False, "logit_soft_cap": 2.0},
        (2, 5, 4),
        call_kwargs={"reverse": True},
        id="ReversibleEmbedding-reverse-own-soft-cap",
    ),
    Case(
        "ReversibleEmbedding",
        {"input_dim": 9, "output_dim": 4, "lora_rank": 2, "reverse_dtype": "float64"},
        (2, 5, 4),
        call_kwargs={"reverse": True},
        id="ReversibleEmbedding-reverse-lora-float64",
    ),
]

ERROR_CASES = [
    ErrorCase(
        "MultiHeadAttention",
        {"num_heads": 0, "key_dim": 4},
        r"MultiHeadAttention 'multi_head_attention\w*': `num_heads` must be an "
        r"integer >= 1; got num_heads=0\.",
    ),
    ErrorCase("MultiHeadAttention", {"num_heads": 2, "key_dim": -1}, r"`key_dim`"),
    ErrorCase(
        "MultiHeadAttention",
        {**MHA, "value_dim": 0},
        r"`value_dim` must be an integer >= 1; got value_dim=0\.",
    ),
    ErrorCase(
        "MultiHeadAttention",
        {**MHA, "output_shape": 1.5},
        r"`output_shape` must be None, a positive int or a tuple of them; "
        r"got output_shape=1\.5\.",
    ),
    ErrorCase(
        "MultiHeadAttention",
        {**MHA, "attention_axes": "x"},
        r"`attention_axes` must be None, an int or a tuple of ints; "
        r"got attention_axes='x'\.",
    ),
    ErrorCase(
        "MultiHeadAttention",
        {**MHA, "sliding_window": 0},
        r"`sliding_window` must be an integer >= 1; got sliding_window=0\.",
    ),
    # Keras checks the rate when it builds its Dropout, lamina at construction.
    ErrorCase(
        "MultiHeadAttention",
        {**MHA, "dropout": 1.5},
        r"`dropout` must be a number in \[0.0, 1.0\]; got dropout=1\.5\.",
        inputs=SELF,
        call_kwargs={"value": SELF},
    ),
    ErrorCase(
        "MultiHeadAttention",
        {**MHA, "dropout": 0.1, "flash_attention": True},
        r"`dropout` must be 0 when flash attention is enabled; got dropout=0\.1\.",
    ),
    ErrorCase(
        "MultiHeadAttention",
        {**MHA, "flash_attention": True},
        r"attention scores cannot be returned with flash attention enabled",
        inputs=SELF,
        call_kwargs={"value": SELF, **SCORES},
    ),
    ErrorCase(
        "MultiHeadAttention",
        MHA,
        r"`value` and `key` must have the same shape but for the last axis; got "
        r"value shape \(2, 5, 6\) and key shape \(2, 4, 6\)\.",
        inputs=QUERY,
        call_kwargs={"value": VALUE, "key": Input((2, 4, 6))},
    ),
    ErrorCase(
        "MultiHeadAttention",
        {**MHA, "attention_axes": -1},
        r"`attention_axes` must be distinct query axes other than the batch and "
        r"feature axes \(1 to 1, or -2 to -2\) for query shape \(2, 4, 8\); got "
        r"attention_axes=\(-1,\)\.",
        inputs=SELF,
        call_kwargs={"value": SELF},
        keras_raises=False,  # Keras reads -1 as the heads axis and attends over it
    ),
    ErrorCase(
        "GroupQueryAttention",
        {**GQA, "num_key_value_heads": 3},
        r"`num_query_heads` must be a multiple of `num_key_value_heads`; got "
        r"num_query_heads=4 and num_key_value_heads=3\.",
    ),
    ErrorCase("GroupQueryAttention", {**GQA, "head_dim": -1}, r"`head_dim` must be"),
    ErrorCase(
        "Attention",
        {"score_mode": "cosine"},
        r"Attention 'attention\w*': `score_mode` must be one of 'dot', 'concat'; "
        r"got score_mode='cosine'\.",
    ),
    ErrorCase(
        "Attention",
        {},
        r"the inputs must be a list \[query, value\] or \[query, value, key\]; got "
        r"one input of shape \(2, 3, 8\)\.",
        inputs=QUERY,
    ),
    ErrorCase(
        "AdditiveAttention",
        {},
        r"the inputs must be a list \[query, value\] or \[query, value, key\]; got "
        r"a list of 4\.",
        inputs=[QUERY, QUERY, QUERY, QUERY],
    ),
    # EinsumDense: Keras checks the equation when it builds, lamina at
    # construction.
    ErrorCase(
        "EinsumDense",
        {"equation": "ab->b", "output_shape": 2},
        r"EinsumDense 'einsum_dense\w*': `equation` must be of the form 'I,W->O', "
        r"'...I,W->...O' or 'I...,W->O...' \(I, W, O letters\); got "
        r"equation='ab->b'\.",
        inputs=(2, 3),
    ),
    ErrorCase(
        "EinsumDense",
        {"equation": "ab,bc->ad", "output_shape": 2},
        r"output letter 'd' of `equation` must appear in the input 'ab' or the "
        r"weight 'bc'",
        inputs=(2, 3),
    ),
    ErrorCase(
        "EinsumDense",
        {"equation": "ab,bc->ac", "output_shape": 2, "bias_axes": "x"},
        r"`bias_axes` must be letters of the output 'ac' of the equation; got "
        r"bias_axes='x'\.",
        inputs=(2, 3),
    ),
    ErrorCase(
        "EinsumDense",
        {"equation": "abc,cd->abd", "output_shape": (4, 5)},
        r"the input and `output_shape` disagree on axis 'b' of the equation "
        r"'abc,cd->abd': 3 in the input shape \(2, 3, 6\), 4 in the output "
        r"\(2, 4, 5\)\.",
        inputs=(2, 3, 6),
    ),
    # Keras fails inside torch's einsum at call time (a RuntimeError).
    ErrorCase(
        "EinsumDense",
        {"equation": "abc,cd->abd", "output_shape": (None, 5)},
        r"the equation 'abc,cd->abd' takes inputs of rank 3; got input shape "
        r"\(2, 6\)\.",
        inputs=(2, 6),
        keras_raises=IndexError,
    ),
    # Keras's tuple(1.5) raises TypeError; lamina names the argument.
    ErrorCase(
        "EinsumDense",
        {"equation": "ab,bc->ac", "output_shape": 1.5},
        r"`output_shape` must be an int or a tuple of positive ints and None; got "
        r"output_shape=1\.5\.",
        keras_raises=TypeError,
    ),
    ErrorCase(
        "EinsumDense",
        {
            "equation": "ab,bc->ac",
            "output_shape": 2,
            "lora_rank": 2,
            "kernel_constraint": "non_neg",
        },
        r"LoRA cannot be used with a `kernel_constraint`",
        inputs=(2, 3),
    ),
    # Keras divides by the cap, whatever it is.
    ErrorCase(
        "ReversibleEmbedding",
        {"input_dim": 5, "output_dim": 2, "logit_soft_cap": 0},
        r"`logit_soft_cap` must be None or a positive number; got logit_soft_cap=0\.",
        keras_raises=False,
    ),
]

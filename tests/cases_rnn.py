"""Recurrent layers, Embedding and Dense's LoRA against Keras 3 (tests/oracle.py).

Each RNN case runs both ways through lamina: the fused torch kernel where the
configuration allows it (default activations) and the step loop (other
activations, ``unroll``, recurrent dropout, ``use_cudnn=False``). Masks come in as a
call argument: left-padded, right-padded, with holes and with a fully masked row.

The layers the oracle's one-kwargs-dict ``Case`` cannot build (a cell or a layer
as argument: RNN, the cells, StackedRNNCells, Bidirectional, TimeDistributed) and
multi-output calls (``return_state``) are compared with Keras 3 in
tests/test_rnn.py, with the same oracle steps; the wrappers and cells also have
single-output oracle cases here through ``Case(build=...)``.
"""

from __future__ import annotations

import numpy as np
import torch

from tests.oracle import Case, ErrorCase

SEQ = (3, 6, 4)  # (batch, timesteps, features)
INFER = {"training": False}


def _mask(rows):
    return torch.tensor(np.array(rows, dtype=bool))


# Row 0 right-padded, row 1 left-padded, row 2 with holes.
MIXED = _mask([[1, 1, 1, 1, 0, 0], [0, 0, 1, 1, 1, 1], [1, 0, 1, 1, 0, 1]])
LEFT = _mask([[0, 0, 1, 1, 1, 1], [0, 1, 1, 1, 1, 1], [0, 0, 0, 0, 0, 1]])
RIGHT = _mask([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1], [1, 0, 0, 0, 0, 0]])
EMPTY_ROW = _mask([[1, 1, 1, 0, 0, 0], [0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1]])

REGULARIZED = {
    "kernel_regularizer": "l2",
    "recurrent_regularizer": {"class_name": "L1", "config": {"l1": 0.02}},
    "bias_regularizer": "l1",
    "activity_regularizer": "l2",
    "kernel_constraint": "max_norm",
    "recurrent_constraint": "unit_norm",
    "bias_constraint": "non_neg",
    "kernel_initializer": "he_normal",
    "recurrent_initializer": "glorot_uniform",
    "bias_initializer": "ones",
}


def _regularized(layer):
    # Keras's SimpleRNN takes `activity_regularizer` but never applies it (a Keras
    # bug); lamina applies it, tested in test_rnn.py.
    if layer != "SimpleRNN":
        return REGULARIZED
    return {k: v for k, v in REGULARIZED.items() if k != "activity_regularizer"}


def _rnn_cases(layer, extra=()):
    """The flags every recurrent layer shares, on both execution paths."""
    cases = _shared_cases(layer) + list(extra)
    if layer == "SimpleRNN":  # Keras's SimpleRNN config drops the seed; ours keeps it
        for case in cases:
            case.config_skip = ("seed",)
    return cases


def _shared_cases(layer):
    base = {"units": 5}
    seq = {**base, "return_sequences": True}
    cases = [
        Case(layer, base, SEQ, id=f"{layer}-default"),
        Case(layer, seq, SEQ, id=f"{layer}-sequences"),
        Case(layer, {**seq, "go_backwards": True}, SEQ, id=f"{layer}-backwards"),
        Case(layer, {**seq, "unroll": True}, SEQ, id=f"{layer}-unroll-loop"),
        Case(layer, {**seq, "use_bias": False}, SEQ, id=f"{layer}-nobias"),
        Case(layer, {**base, **_regularized(layer)}, SEQ, id=f"{layer}-regularized"),
        Case(
            layer,
            {**seq, "dropout": 0.3, "recurrent_dropout": 0.4, "seed": 1},
            SEQ,
            call_kwargs=INFER,
            id=f"{layer}-dropout-inference",
        ),
        Case(layer, seq, SEQ, call_kwargs={"mask": MIXED}, id=f"{layer}-mask-mixed"),
        Case(layer, base, SEQ, call_kwargs={"mask": LEFT}, id=f"{layer}-mask-left"),
        Case(
            layer,
            {**base, "go_backwards": True},
            SEQ,
            call_kwargs={"mask": LEFT},
            id=f"{layer}-mask-left-backwards-last",
        ),
        Case(
            layer,
            {**seq, "go_backwards": True},
            SEQ,
            call_kwargs={"mask": RIGHT},
            id=f"{layer}-mask-right-backwards",
        ),
        Case(
            layer,
            {**seq, "zero_output_for_mask": True},
            SEQ,
            call_kwargs={"mask": EMPTY_ROW},
            id=f"{layer}-mask-empty-row-zero-output",
        ),
        Case(
            layer,
            {**seq, "unroll": True},
            SEQ,
            call_kwargs={"mask": MIXED},
            id=f"{layer}-mask-loop",
        ),
        Case(
            layer,
            {**seq, "dtype": "float64"},
            SEQ,
            dtype="float64",
            id=f"{layer}-float64",
        ),
    ]
    return cases


CASES = [
    *_rnn_cases(
        "SimpleRNN",
        [
            Case(
                "SimpleRNN",
                {"units": 4, "activation": "relu"},
                SEQ,
                id="SimpleRNN-relu",
            ),
            Case(
                "SimpleRNN",
                {"units": 4, "activation": None, "return_sequences": True},
                SEQ,
                call_kwargs={"mask": MIXED},
                id="SimpleRNN-linear-loop-mask",
            ),
        ],
    ),
    *_rnn_cases(
        "LSTM",
        [
            Case(
                "LSTM",
                {"units": 4, "unit_forget_bias": False, "bias_initializer": "ones"},
                SEQ,
                id="LSTM-no-unit-forget-bias",
            ),
            Case(
                "LSTM",
                {
                    "units": 4,
                    "activation": "relu",
                    "recurrent_activation": "hard_sigmoid",
                    "return_sequences": True,
                },
                SEQ,
                call_kwargs={"mask": MIXED},
                id="LSTM-activations-loop-mask",
            ),
            Case(
                "LSTM",
                {"units": 4, "use_cudnn": False, "return_sequences": True},
                SEQ,
                id="LSTM-use-cudnn-false",
            ),
            Case(
                "LSTM",
                {"units": 4, "implementation": 1, "dropout": 0.2},
                SEQ,
                call_kwargs=INFER,
                id="LSTM-implementation-1",
            ),
        ],
    ),
    *_rnn_cases(
        "GRU",
        [
            Case(
                "GRU",
                {"units": 4, "reset_after": False, "return_sequences": True},
                SEQ,
                id="GRU-reset-before",
            ),
            Case(
                "GRU",
                {"units": 4, "reset_after": False, "use_bias": False},
                SEQ,
                call_kwargs={"mask": MIXED},
                id="GRU-reset-before-nobias-mask",
            ),
            Case(
                "GRU",
                {"units": 4, "activation": "relu", "return_sequences": True},
                SEQ,
                id="GRU-relu-loop",
            ),
            Case(
                "GRU",
                {"units": 4, "recurrent_dropout": 0.3, "reset_after": False},
                SEQ,
                call_kwargs=INFER,
                id="GRU-reset-before-dropout-inference",
            ),
        ],
    ),
    # Embedding: gradients of the table come from lamina's index_add backward.
    Case(
        "Embedding", {"input_dim": 10, "output_dim": 4}, (3, 5), "int32", data="ints:10"
    ),
    Case(
        "Embedding",
        {"input_dim": 10, "output_dim": 3, "mask_zero": True},
        (4, 6),
        "int64",
        data="ints:3",
        id="Embedding-mask-zero",
    ),
    Case(
        "Embedding",
        {
            "input_dim": 7,
            "output_dim": 3,
            "embeddings_initializer": "glorot_uniform",
            "embeddings_regularizer": "l2",
            "activity_regularizer": "l1",
            "embeddings_constraint": "unit_norm",
        },
        (2, 3, 4),
        "int32",
        data="ints:7",
        id="Embedding-3d-regularized",
    ),
    Case(
        "Embedding",
        {"input_dim": 12, "output_dim": 5, "lora_rank": 2},
        (3, 4),
        "int32",
        data="ints:12",
        id="Embedding-lora",
    ),
    Case("Dense", {"units": 3, "lora_rank": 2}, (4, 5), id="Dense-lora"),
    Case(
        "Dense",
        {"units": 3, "lora_rank": 3, "activation": "relu", "use_bias": False},
        (2, 4, 5),
        id="Dense-lora-3d-nobias",
    ),
]

# Layers built around other layers, through the oracle's `build` hook.
CASES += [
    Case(
        "RNN",
        build=lambda L: L.RNN(L.LSTMCell(4)),
        inputs=SEQ,
        also_covers=("LSTMCell",),
        id="RNN-LSTMCell",
    ),
    Case(
        "RNN",
        build=lambda L: L.RNN(
            L.StackedRNNCells([L.GRUCell(3), L.SimpleRNNCell(2)]), return_sequences=True
        ),
        inputs=SEQ,
        also_covers=("StackedRNNCells", "GRUCell", "SimpleRNNCell"),
        id="RNN-StackedRNNCells",
    ),
    Case(
        "Bidirectional",
        build=lambda L: L.Bidirectional(L.LSTM(3, return_sequences=True)),
        inputs=SEQ,
        id="Bidirectional-concat",
    ),
    Case(
        "Bidirectional",
        build=lambda L: L.Bidirectional(L.GRU(3), merge_mode="sum"),
        inputs=SEQ,
        id="Bidirectional-sum",
    ),
    Case(
        "TimeDistributed",
        build=lambda L: L.TimeDistributed(L.Dense(5)),
        inputs=SEQ,
        id="TimeDistributed-Dense",
    ),
]

_SEQ_RANK = (
    r"expected input of rank 3 \(batch, timesteps, features\), got shape \(2, 3\)"
)

ERROR_CASES = [
    ErrorCase(
        "LSTM", {"units": 0}, r"LSTMCell 'lstm_cell': `units` must be an integer"
    ),
    # Keras clips dropout rates into [0, 1] silently.
    ErrorCase(
        "GRU",
        {"units": 2, "dropout": 1.5},
        r"`dropout` must be a number in",
        keras_raises=False,
    ),
    ErrorCase(
        "SimpleRNN",
        {"units": 2, "recurrent_dropout": -0.1},
        r"`recurrent_dropout`",
        keras_raises=False,
    ),
    ErrorCase("LSTM", {"units": 2, "use_cudnn": "yes"}, r"`use_cudnn` must be one of"),
    ErrorCase(
        "LSTM",
        {"units": 2, "implementation": 3},
        r"`implementation` must be 1 or 2",
        keras_raises=False,  # Keras 3 stores `implementation` and ignores it
    ),
    ErrorCase(
        "LSTM", {"units": 2}, rf"LSTM 'lstm\w*': {_SEQ_RANK}", inputs=(2, 3)
    ),
    ErrorCase("GRU", {"units": 2}, rf"GRU 'gru\w*': {_SEQ_RANK}", inputs=(2, 3)),
    ErrorCase("SimpleRNN", {"units": 2}, _SEQ_RANK, inputs=(2, 3)),
    ErrorCase(
        "LSTM",
        {"units": 2, "use_cudnn": True, "activation": "relu"},
        r"`use_cudnn=True` needs a configuration the fused kernel runs",
        inputs=(2, 3, 4),
        # Keras on torch falls back to its step loop silently (masks aside).
        keras_raises=False,
    ),
    ErrorCase("GRU", {"units": 2, "time_major": True}, r"`time_major` must be False"),
    ErrorCase(
        "Embedding",
        {"input_dim": 0, "output_dim": 2},
        r"Embedding 'embedding\w*': `input_dim` must be an integer >= 1; got "
        r"input_dim=0\.",
    ),
    ErrorCase(
        "Embedding", {"input_dim": 3, "output_dim": 2.5}, r"`output_dim` must be"
    ),
    ErrorCase(
        "Embedding",
        {"input_dim": 3, "output_dim": 2, "lora_rank": 0},
        r"lora_rank",
        keras_raises=False,  # Keras reads lora_rank=0 as "no LoRA"
    ),
    ErrorCase(
        "Dense",
        {"units": 2, "lora_rank": -1},
        r"`lora_rank` must be an integer",
        inputs=(2, 3),  # Keras fails only when it builds the LoRA weights
    ),
]

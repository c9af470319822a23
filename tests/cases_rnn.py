"""Recurrent layers, Embedding and Dense's LoRA against Keras 3 (tests/oracle.py).

Each RNN case runs both ways through lamina: the fused torch kernel where the
configuration allows it (default activations) and the step loop (other
activations, ``unroll``, recurrent dropout, ``use_cudnn=False``). Masks come in as a
call argument: left-padded, right-padded, with holes and with a fully masked row.

Layers built around a cell or a layer (RNN over each cell, one cell step, stacked
cells, Bidirectional, TimeDistributed) come through ``Case(build=...)``; states
come back as extra outputs (``return_state``) and go in as specs in
``call_kwargs`` (``initial_state``, a cell's ``states``). tests/test_rnn.py keeps
what is not one layer call against Keras (stateful calls, models, fused kernel vs
step loop, dropout in training, saving).
"""

from __future__ import annotations

import numpy as np
import torch

from tests.oracle import Case, ErrorCase, Input

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
    # Embedding: gradients of the table come from torch's embedding backward.
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

# Each cell inside RNN (sequences, states and a mask), and one step of it alone.
CELLS = {
    "SimpleRNNCell": lambda L: L.SimpleRNNCell(4, name="cell"),
    "LSTMCell": lambda L: L.LSTMCell(4, unit_forget_bias=False, name="cell"),
    "GRUCell": lambda L: L.GRUCell(4, name="cell"),
    "GRUCell-reset-before": lambda L: L.GRUCell(4, reset_after=False, name="cell"),
}
for _name, _cell in CELLS.items():
    CASES += [
        Case(
            "RNN",
            build=lambda L, cell=_cell: L.RNN(
                cell(L), return_sequences=True, return_state=True
            ),
            inputs=SEQ,
            call_kwargs={"mask": MIXED},
            id=f"RNN-{_name}-states-mask",
        ),
        Case(
            _name.split("-")[0],
            build=_cell,
            inputs=(3, 4),
            call_kwargs={"states": [Input((3, 4))] * (2 if "LSTM" in _name else 1)},
            id=f"{_name}-one-step",
        ),
    ]


def _stacked(ours, theirs, feed):
    """A list of cells becomes StackedRNNCells, as in Keras."""
    assert type(ours.cell).__name__ == type(theirs.cell).__name__ == "StackedRNNCells"


CASES += [
    Case(
        "RNN",
        build=lambda L: L.RNN(
            [
                L.LSTMCell(5, name="a"),
                L.GRUCell(3, name="b"),
                L.SimpleRNNCell(2, name="c"),
            ],
            return_sequences=True,
            return_state=True,
        ),
        inputs=SEQ,
        call_kwargs={"mask": MIXED},
        checks=("values", _stacked),
        id="RNN-list-of-cells-states-mask",
    ),
    Case(
        "RNN",
        build=lambda L: L.RNN(
            L.StackedRNNCells(
                [L.GRUCell(3, name="a"), L.LSTMCell(2, name="b")], name="stack"
            ),
            go_backwards=True,
        ),
        inputs=SEQ,
        call_kwargs={"mask": LEFT},
        id="RNN-StackedRNNCells-backwards-mask-left",
    ),
]

# return_state and initial_state, on both execution paths.
_STATE_FLAGS = [
    ("plain", {}, None),
    ("backwards-mixed", {"return_sequences": True, "go_backwards": True}, MIXED),
    ("loop-left", {"unroll": True}, LEFT),
    ("empty-row", {"return_sequences": True}, EMPTY_ROW),
]
for _layer in ("SimpleRNN", "LSTM", "GRU"):
    _skip = ("seed",) if _layer == "SimpleRNN" else ()  # Keras's config drops it
    CASES += [
        Case(
            _layer,
            {"units": 5, "return_state": True, **flags},
            SEQ,
            call_kwargs={} if mask is None else {"mask": mask},
            config_skip=_skip,
            id=f"{_layer}-return-state-{name}",
        )
        for name, flags, mask in _STATE_FLAGS
    ]
    CASES.append(
        Case(
            _layer,
            {"units": 5, "return_sequences": True, "return_state": True},
            SEQ,
            call_kwargs={
                "initial_state": [Input((3, 5))] * (2 if _layer == "LSTM" else 1),
                "mask": RIGHT,
            },
            config_skip=_skip,
            id=f"{_layer}-initial-state-mask-right",
        )
    )

# A mask drawn from a spec (coin flips, so some rows are fully masked): it also
# becomes a symbolic boolean Input in the symbolic step.
CASES.append(
    Case(
        "GRU",
        {"units": 4, "return_sequences": True},
        SEQ,
        call_kwargs={"mask": Input((3, 6), "bool")},
        id="GRU-mask-spec",
    )
)

# Bidirectional: every merge mode with a mask, states, a backward layer of
# another class, and initial states for both directions.
CASES += [
    Case(
        "Bidirectional",
        build=lambda L, mode=mode: L.Bidirectional(
            L.LSTM(3, return_sequences=True, name="rnn"), merge_mode=mode
        ),
        inputs=SEQ,
        call_kwargs={"mask": MIXED},
        id=f"Bidirectional-{mode}-mask",
    )
    for mode in ("concat", "sum", "ave", "mul", None)
]
CASES += [
    Case(
        "Bidirectional",
        build=lambda L: L.Bidirectional(
            L.GRU(3, return_state=True, name="rnn"), merge_mode="sum"
        ),
        inputs=SEQ,
        call_kwargs={"mask": LEFT},
        id="Bidirectional-states-sum-mask-left",
    ),
    Case(
        "Bidirectional",
        build=lambda L: L.Bidirectional(
            L.LSTM(3, return_sequences=True, return_state=True, name="rnn"),
            backward_layer=L.SimpleRNN(
                3, return_sequences=True, return_state=True, go_backwards=True, name="b"
            ),
            merge_mode=None,
        ),
        inputs=SEQ,
        config_skip=("backward_layer",),  # Keras's SimpleRNN config drops the seed
        # Keras's symbolic call gives the forward layer's states twice (6 outputs
        # where its eager call gives 5); lamina's agrees with the eager call.
        symbolic=False,
        id="Bidirectional-backward-layer-states",
    ),
    Case(
        "Bidirectional",
        build=lambda L: L.Bidirectional(L.LSTM(2, name="rnn")),
        inputs=SEQ,
        call_kwargs={"initial_state": [Input((3, 2))] * 4},
        id="Bidirectional-initial-state",
    ),
]

# TimeDistributed: a Dense, a Conv1D over a 4D input, and a mask passed through.
_TIME_MASK = _mask([[1, 0, 1], [0, 1, 1]])


def _passes_the_mask_on(ours, theirs, feed):
    assert feed.call(ours)._keras_mask.tolist() == _TIME_MASK.tolist()


CASES += [
    Case(
        "TimeDistributed",
        build=lambda L: L.TimeDistributed(L.Dense(3, activation="relu", name="inner")),
        inputs=SEQ,
        id="TimeDistributed-Dense-relu",
    ),
    Case(
        "TimeDistributed",
        build=lambda L: L.TimeDistributed(L.Conv1D(2, 3, name="inner")),
        inputs=(2, 3, 7, 4),
        id="TimeDistributed-Conv1D",
    ),
    Case(
        "TimeDistributed",
        build=lambda L: L.TimeDistributed(L.Dense(2, name="inner")),
        inputs=(2, 3, 7, 4),
        call_kwargs={"mask": _TIME_MASK},
        checks=("values", _passes_the_mask_on),
        id="TimeDistributed-mask",
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
    ErrorCase("LSTM", {"units": 2}, rf"LSTM 'lstm\w*': {_SEQ_RANK}", inputs=(2, 3)),
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

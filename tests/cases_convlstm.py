"""ConvLSTM1D/2D/3D against Keras 3 (tests/oracle.py).

Every argument that changes the arithmetic, on small inputs: strides and
``same`` padding on odd sizes (the extra zero at the end), even kernels (the
recurrent ``same`` convolution pads asymmetrically too), dilation, both data
formats, return_sequences/return_state with ``initial_state``, go_backwards,
masks (a call argument: per timestep, or per position as Masking gives them;
also through Bidirectional), unit_forget_bias, use_bias, activations,
regularizers and constraints, dropout at inference, and dropout in training with
Keras's cell fed lamina's masks (``_same_dropout_masks``: the draws differ
between the libraries, the arithmetic must not). tests/test_convlstm.py keeps
what is not one layer call: stateful calls, the cell step, strides with dilation
(which Keras refuses), files both ways.
"""

from __future__ import annotations

import types

import numpy as np
import torch

from tests.oracle import Case, ErrorCase, Input
from tests.oracle_checks import check_values

SEQ = {1: (2, 3, 7, 2), 2: (2, 3, 5, 6, 2), 3: (2, 2, 4, 3, 5, 1)}
SEQ_FIRST = {1: (2, 3, 2, 7), 2: (2, 3, 2, 5, 6), 3: (2, 2, 1, 4, 3, 5)}
INFER = {"training": False}
# Row 0 masked at the end, row 1 at the start and in the middle.
MASK = torch.tensor(np.array([[1, 1, 0], [0, 1, 0]], dtype=bool))
# What Masking computes on (batch, time, rows, cols, channels): one flag per
# position, which Keras applies per position (with "same" padding).
POSITIONS = torch.tensor(np.random.default_rng(5).random((2, 3, 5, 6)) < 0.7)


def _same_dropout_masks(ours, theirs, feed):
    """``training=True`` with dropout and recurrent dropout: lamina draws its
    per-gate masks, Keras's cell gets the same ones; outputs and gradients must
    agree."""
    drawn = []
    draw = ours.cell._draw_masks

    def record(like, rate):
        masks = draw(like, rate)
        drawn.append(masks)
        return masks

    ours.cell._draw_masks = record
    theirs.cell._create_dropout_mask = lambda like, rate: drawn.pop(0)
    try:
        case = types.SimpleNamespace(grads=True, atol=1e-5)
        check_values(ours, theirs, case, feed, training=True)
    finally:
        del ours.cell._draw_masks
        del theirs.cell._create_dropout_mask
    assert drawn == []  # Keras used every mask lamina drew (4 inputs, 4 states)


def _rank_cases(rank):
    layer = f"ConvLSTM{rank}D"
    seq, first = SEQ[rank], SEQ_FIRST[rank]
    base = {"filters": 3, "kernel_size": 2}
    rs = {**base, "return_sequences": True}
    return [
        Case(layer, base, seq, id=f"{layer}-default"),
        Case(layer, {**rs, "padding": "same"}, seq, id=f"{layer}-same-even-kernel"),
        Case(
            layer,
            {**rs, "kernel_size": 3, "strides": 2, "padding": "same"},
            seq,
            id=f"{layer}-same-strides-odd",
        ),
        Case(
            layer,
            {**base, "data_format": "channels_first", "padding": "same"},
            first,
            id=f"{layer}-channels-first",
        ),
        Case(
            layer,
            {**rs, "return_state": True, "padding": "same"},
            seq,
            call_kwargs={
                "initial_state": [
                    Input((seq[0], *seq[2:-1], 3)),
                    Input((seq[0], *seq[2:-1], 3)),
                ]
            },
            id=f"{layer}-return-state-initial-state",
        ),
    ]


CASES = [
    *_rank_cases(1),
    *_rank_cases(2),
    *_rank_cases(3),
    Case(
        "ConvLSTM1D",
        {"filters": 2, "kernel_size": 3, "strides": 2, "dilation_rate": 1},
        (2, 3, 8, 3),
        id="ConvLSTM1D-strides-even-valid",
    ),
    Case(
        "ConvLSTM2D",
        {"filters": 2, "kernel_size": 2, "dilation_rate": 2, "padding": "same"},
        SEQ[2],
        id="ConvLSTM2D-dilation-same",
    ),
    Case(
        "ConvLSTM2D",
        {"filters": 2, "kernel_size": (3, 2), "dilation_rate": (1, 2)},
        SEQ[2],
        id="ConvLSTM2D-dilation-valid-tuple-kernel",
    ),
    Case(
        "ConvLSTM2D",
        {
            "filters": 2,
            "kernel_size": 3,
            "strides": (2, 1),
            "padding": "same",
            "data_format": "channels_first",
            "return_sequences": True,
            "return_state": True,
        },
        SEQ_FIRST[2],
        id="ConvLSTM2D-channels-first-strides-states",
    ),
    Case(
        "ConvLSTM2D",
        {"filters": 2, "kernel_size": 3, "padding": "same", "go_backwards": True},
        SEQ[2],
        id="ConvLSTM2D-backwards-last",
    ),
    Case(
        "ConvLSTM2D",
        {"filters": 2, "kernel_size": 2, "return_sequences": True},
        SEQ[2],
        call_kwargs={"mask": MASK},
        id="ConvLSTM2D-mask",
    ),
    Case(
        "ConvLSTM2D",
        {"filters": 2, "kernel_size": 2, "go_backwards": True, "return_state": True},
        SEQ[2],
        call_kwargs={"mask": MASK},
        id="ConvLSTM2D-mask-backwards-states",
    ),
    Case(
        "ConvLSTM2D",
        {"filters": 2, "kernel_size": 3, "padding": "same", "return_sequences": True},
        SEQ[2],
        call_kwargs={"mask": POSITIONS},
        id="ConvLSTM2D-mask-per-position",
    ),
    Case(
        "Bidirectional",
        build=lambda L: L.Bidirectional(
            L.ConvLSTM2D(2, 2, padding="same", return_sequences=True)
        ),
        inputs=SEQ[2],
        call_kwargs={"mask": MASK},
        id="Bidirectional-ConvLSTM2D-mask",
    ),
    Case(
        "ConvLSTM1D",
        {
            "filters": 2,
            "kernel_size": 2,
            "return_sequences": True,
            "zero_output_for_mask": True,
            "unroll": True,
        },
        SEQ[1],
        call_kwargs={"mask": MASK},
        id="ConvLSTM1D-mask-zero-output-unroll",
    ),
    Case(
        "ConvLSTM2D",
        {
            "filters": 2,
            "kernel_size": 2,
            "unit_forget_bias": False,
            "bias_initializer": "ones",
        },
        SEQ[2],
        id="ConvLSTM2D-no-unit-forget-bias",
    ),
    Case(
        "ConvLSTM2D",
        {"filters": 2, "kernel_size": 2, "use_bias": False, "return_sequences": True},
        SEQ[2],
        id="ConvLSTM2D-no-bias",
    ),
    Case(
        "ConvLSTM2D",
        {
            "filters": 2,
            "kernel_size": 2,
            "activation": "relu",
            "recurrent_activation": "hard_sigmoid",
        },
        SEQ[2],
        id="ConvLSTM2D-activations",
    ),
    Case(
        "ConvLSTM2D",
        {
            "filters": 2,
            "kernel_size": 2,
            "kernel_initializer": "he_normal",
            "recurrent_initializer": "glorot_uniform",
            "bias_initializer": "ones",
            "kernel_regularizer": "l2",
            "recurrent_regularizer": {"class_name": "L1", "config": {"l1": 0.02}},
            "bias_regularizer": "l1",
            "activity_regularizer": "l2",
            "kernel_constraint": "max_norm",
            "recurrent_constraint": "unit_norm",
            "bias_constraint": "non_neg",
        },
        SEQ[2],
        id="ConvLSTM2D-regularized",
    ),
    Case(
        "ConvLSTM2D",
        {
            "filters": 2,
            "kernel_size": 2,
            "dropout": 0.3,
            "recurrent_dropout": 0.4,
            "seed": 1,
        },
        SEQ[2],
        call_kwargs=INFER,
        id="ConvLSTM2D-dropout-inference",
    ),
    Case(
        "ConvLSTM2D",
        {
            "filters": 2,
            "kernel_size": 3,
            "padding": "same",
            "dropout": 0.5,
            "recurrent_dropout": 0.5,
            "seed": 3,
            "return_sequences": True,
        },
        SEQ[2],
        checks=("seed", _same_dropout_masks),
        id="ConvLSTM2D-dropout-training",
    ),
    Case(
        "ConvLSTM1D",
        {
            "filters": 2,
            "kernel_size": 2,
            "recurrent_dropout": 0.5,
            "seed": 3,
            "data_format": "channels_first",
        },
        SEQ_FIRST[1],
        checks=(_same_dropout_masks,),
        id="ConvLSTM1D-recurrent-dropout-training-channels-first",
    ),
    Case(
        "ConvLSTM2D",
        {"filters": 2, "kernel_size": 2, "dtype": "float64"},
        SEQ[2],
        dtype="float64",
        id="ConvLSTM2D-float64",
    ),
]

ERROR_CASES = [
    ErrorCase(
        "ConvLSTM2D",
        {"filters": 0, "kernel_size": 3},
        r"ConvLSTMCell 'conv_lstm_cell': `filters` must be an integer >= 1; got "
        r"filters=0\.",
        keras_raises=False,  # Keras accepts it and builds empty weights
    ),
    ErrorCase(
        "ConvLSTM2D",
        {"filters": 2, "kernel_size": (3, 3, 3)},
        r"`kernel_size` must be an int or a tuple of 2 ints; got "
        r"kernel_size=\(3, 3, 3\)",
    ),
    ErrorCase(
        "ConvLSTM1D",
        {"filters": 2, "kernel_size": 3, "padding": "causal"},
        r"`padding` must be one of 'valid', 'same'; got padding='causal'",
    ),
    ErrorCase(
        "ConvLSTM3D",
        {"filters": 2, "kernel_size": 3, "data_format": "channels_middle"},
        r"`data_format` must be one of 'channels_last', 'channels_first'",
    ),
    ErrorCase(
        "ConvLSTM2D",
        {"filters": 2, "kernel_size": 3, "strides": 0},
        r"`strides` must be an int or a tuple of 2 ints, each >= 1; got strides=0",
        keras_raises=False,  # Keras accepts a zero stride (allow_zero=True)
    ),
    ErrorCase(
        "ConvLSTM2D",
        {"filters": 2, "kernel_size": 3, "dropout": 1.5},
        r"`dropout` must be a number in \[0\.0, 1\.0\]; got dropout=1\.5",
        keras_raises=False,  # Keras clips dropout rates into [0, 1] silently
    ),
    ErrorCase(
        "ConvLSTM2D",
        {"filters": 2, "kernel_size": 3},
        r"ConvLSTM2D 'conv_lstm2d\w*': expected input of rank 5 "
        r"\(batch, timesteps, rows, cols, channels\), got shape \(2, 3, 5, 5\)",
        inputs=(2, 3, 5, 5),
    ),
    ErrorCase(
        "ConvLSTM2D",
        {"filters": 2, "kernel_size": 3},
        r"ConvLSTM2D 'conv_lstm2d\w*': expected an input large enough for "
        r"kernel_size=\(3, 3\), dilation_rate=\(1, 1\), padding='valid', got "
        r"shape \(2, 3, 2, 5, 1\)",
        inputs=(2, 3, 2, 5, 1),
    ),
]

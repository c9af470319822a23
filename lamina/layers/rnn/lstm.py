"""LSTMCell and LSTM (Hochreiter & Schmidhuber, 1997), gates in Keras's order
input, forget, cell, output -- also torch's order, so the fused kernel takes the
weights as transposed views."""

from __future__ import annotations

import torch

from lamina import activations
from lamina.layers.rnn.base_cell import BaseRNNCell
from lamina.layers.rnn.rnn import CellRNN

_CELL_ARGUMENTS = (
    "units",
    "activation",
    "recurrent_activation",
    "use_bias",
    "unit_forget_bias",
    "kernel_initializer",
    "recurrent_initializer",
    "bias_initializer",
    "kernel_regularizer",
    "recurrent_regularizer",
    "bias_regularizer",
    "kernel_constraint",
    "recurrent_constraint",
    "bias_constraint",
    "dropout",
    "recurrent_dropout",
    "seed",
)


class LSTMCell(BaseRNNCell):
    """One LSTM step: ``z = x @ kernel + h @ recurrent_kernel + bias`` split into
    gates i, f, c, o; ``c = sig(f) * c + sig(i) * act(c_gate)``, ``h = sig(o) *
    act(c)`` (``sig`` the recurrent activation).

    Args:
        units: positive int, size of the states h and c and of the output.
        activation: default ``tanh``; ``None`` means linear.
        recurrent_activation: for the gates, default ``sigmoid``.
        use_bias: whether to add ``bias``.
        kernel_initializer, recurrent_initializer, bias_initializer: default
            ``glorot_uniform``, ``orthogonal``, ``zeros``.
        unit_forget_bias: initialize the forget-gate bias to ones (default True).
        kernel_regularizer, recurrent_regularizer, bias_regularizer: optional.
        kernel_constraint, recurrent_constraint, bias_constraint: optional.
        dropout: fraction of the inputs dropped in training (masks fixed for a
            sequence).
        recurrent_dropout: fraction of h dropped in training (per-gate masks).
        seed: optional int for reproducible dropout masks.

    Call arguments:
        inputs: (batch, features). states: ``[h, c]``, each (batch, units).
        training: whether dropout applies.

    Weights:
        ``kernel`` (features, 4 * units), ``recurrent_kernel`` (units, 4 *
        units), ``bias`` (4 * units,) if ``use_bias``; gate blocks i, f, c, o.

    Raises:
        ValueError: ``units`` not a positive int; a dropout rate outside [0, 1];
            ``implementation`` not 1 or 2.

    Example:
    >>> import lamina as keras
    >>> cell = keras.layers.LSTMCell(4)
    >>> h = c = keras.ops.zeros((2, 4))
    >>> output, (h, c) = cell(keras.ops.ones((2, 3)), [h, c])
    >>> tuple(output.shape)
    (2, 4)
    """

    _gates = 4
    _arguments = _CELL_ARGUMENTS
    _gate_axis = -1  # the axis of z holding the gate blocks

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        unit_forget_bias=True,
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        implementation=2,
        **kwargs,
    ):
        super().__init__(
            units,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
            **kwargs,
        )
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.state_size = [self.units, self.units]
        self._check_implementation(implementation)

    def _full_bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        units, base = self.units, self.bias_initializer

        def initializer(shape, dtype=None):
            ones = torch.ones((units,), dtype=dtype)
            return torch.cat([base((units,), dtype), ones, base((2 * units,), dtype)])

        return initializer

    def _step(self, projected, states, recurrent_masks):
        activation, recurrent_activation = self._activations()
        h, c = states
        z = projected + self._recurrent(h, recurrent_masks)
        i, f, g, o = z.chunk(4, dim=self._gate_axis)
        c = recurrent_activation(f) * c + recurrent_activation(i) * activation(g)
        h = recurrent_activation(o) * activation(c)
        return h, [h, c]

    def _fused_mode(self):
        if self.activation in (activations.tanh, torch.tanh) and (
            self.recurrent_activation in (activations.sigmoid, torch.sigmoid)
        ):
            return "lstm"
        return None


class LSTM(CellRNN):
    """Long Short-Term Memory layer (Hochreiter, 1997).

    With ``tanh``/``sigmoid`` activations (the defaults) it runs torch's fused LSTM
    kernel on views of the Keras-layout weights, for any mask; with other
    activations, ``unroll``, ``use_cudnn=False`` or recurrent dropout in training
    it runs a step loop. Both give the same numbers.

    Args:
        units, activation, recurrent_activation, use_bias, unit_forget_bias,
            *_initializer, *_regularizer, *_constraint, dropout, recurrent_dropout,
            seed: as in ``LSTMCell``.
        activity_regularizer: optional, on the output.
        return_sequences: return the whole output sequence, not just the last.
        return_state: also return the final states h and c.
        go_backwards: process the sequence in reverse (and return the outputs in
            processing order).
        stateful: carry the final states of each batch row into the next call.
        unroll: accepted for Keras compatibility; runs the step loop.
        use_cudnn: ``"auto"`` (fused kernel when it applies), ``True`` (require
            it) or ``False`` (always the step loop).

    Call arguments:
        sequences: (batch, timesteps, features). initial_state: optional ``[h,
            c]``. mask: optional boolean (batch, timesteps). training: whether
            dropout applies.

    Input shape:
        ``(batch, timesteps, features)``.

    Output shape:
        ``(batch, timesteps, units)`` with ``return_sequences`` else ``(batch,
        units)``; with ``return_state`` followed by h and c, ``(batch, units)``.

    Weights:
        ``kernel`` (features, 4 * units), ``recurrent_kernel`` (units, 4 *
        units), ``bias`` (4 * units,) if ``use_bias``; gates i, f, c, o (in the
        cell ``lstm_cell``).

    Raises:
        ValueError: bad arguments; input not of rank 3; a wrong ``initial_state``.

    Example:
    >>> import lamina as keras
    >>> layer = keras.layers.LSTM(4, return_state=True)
    >>> output, h, c = layer(keras.ops.ones((32, 10, 8)))
    >>> tuple(output.shape), tuple(h.shape), tuple(c.shape)
    ((32, 4), (32, 4), (32, 4))
    """

    _cell_class = LSTMCell
    _cell_name = "lstm_cell"

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        unit_forget_bias=True,
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        use_cudnn="auto",
        **kwargs,
    ):
        super().__init__(**self._split_arguments(locals()))

"""SimpleRNNCell and SimpleRNN: ``h_t = activation(x_t @ kernel + h_{t-1} @
recurrent_kernel + bias)``."""

from __future__ import annotations

import torch

from lamina import activations
from lamina.layers.rnn.base_cell import BaseRNNCell
from lamina.layers.rnn.rnn import CellRNN

_CELL_ARGUMENTS = (
    "units",
    "activation",
    "use_bias",
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
_FUSED = {
    activations.tanh: "rnn_tanh",
    torch.tanh: "rnn_tanh",
    activations.relu: "rnn_relu",
}


class SimpleRNNCell(BaseRNNCell):
    """One step of a fully-connected RNN: ``h = activation(x @ kernel + h_prev @
    recurrent_kernel + bias)``.

    Args:
        units: positive int, size of the state and the output.
        activation: default ``tanh``; ``None`` means linear.
        use_bias: whether to add ``bias``.
        kernel_initializer, recurrent_initializer, bias_initializer: default
            ``glorot_uniform``, ``orthogonal``, ``zeros``.
        kernel_regularizer, recurrent_regularizer, bias_regularizer: optional.
        kernel_constraint, recurrent_constraint, bias_constraint: optional.
        dropout: fraction of the inputs dropped in training (one mask per
            sequence).
        recurrent_dropout: fraction of the previous state dropped in training.
        seed: optional int for reproducible dropout masks.

    Call arguments:
        inputs: (batch, features). states: ``[h]`` with h (batch, units).
        training: whether dropout applies.

    Weights:
        ``kernel`` (features, units), ``recurrent_kernel`` (units, units), ``bias``
        (units,) if ``use_bias``.

    Raises:
        ValueError: ``units`` not a positive int; a dropout rate outside [0, 1].

    Example:
    >>> import lamina as keras
    >>> rnn = keras.layers.RNN(keras.layers.SimpleRNNCell(4))
    >>> tuple(rnn(keras.ops.ones((2, 5, 3))).shape)
    (2, 4)
    """

    _arguments = _CELL_ARGUMENTS

    def _step(self, projected, states, recurrent_masks):
        activation, _ = self._activations()
        output = activation(projected + self._recurrent(states[0], recurrent_masks))
        return output, [output]

    def _fused_mode(self):
        return _FUSED.get(self.activation)


class SimpleRNN(CellRNN):
    """Fully-connected RNN whose output is fed back as the next step's state.

    Runs on torch's fused ``rnn_tanh``/``rnn_relu`` kernel for ``tanh`` and
    ``relu`` activations (unless ``unroll`` or recurrent dropout in training), and
    as a step loop otherwise; both follow Keras's mask rule.

    Args:
        units, activation, use_bias, *_initializer, *_regularizer, *_constraint,
            dropout, recurrent_dropout, seed: as in ``SimpleRNNCell``.
        activity_regularizer: optional, on the output.
        return_sequences: return the whole output sequence, not just the last.
        return_state: also return the final state.
        go_backwards: process the sequence in reverse (and return the outputs in
            processing order).
        stateful: carry the final state of each batch row into the next call.
        unroll: accepted for Keras compatibility; runs the step loop.

    Call arguments:
        sequences: (batch, timesteps, features). initial_state: optional list of
            one (batch, units) tensor. mask: optional boolean (batch, timesteps).
        training: whether dropout applies.

    Input shape:
        ``(batch, timesteps, features)``.

    Output shape:
        ``(batch, timesteps, units)`` with ``return_sequences`` else ``(batch,
        units)``; with ``return_state`` followed by the state ``(batch, units)``.

    Weights:
        ``kernel`` (features, units), ``recurrent_kernel`` (units, units), ``bias``
        (units,) if ``use_bias`` (all in the cell ``simple_rnn_cell``).

    Raises:
        ValueError: bad arguments; input not of rank 3; a wrong ``initial_state``.

    Example:
    >>> import lamina as keras
    >>> layer = keras.layers.SimpleRNN(4, return_sequences=True)
    >>> tuple(layer(keras.ops.ones((2, 5, 3))).shape)
    (2, 5, 4)
    """

    _cell_class = SimpleRNNCell
    _cell_name = "simple_rnn_cell"

    def __init__(
        self,
        units,
        activation="tanh",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        seed=None,
        **kwargs,
    ):
        super().__init__(**self._split_arguments(locals()))

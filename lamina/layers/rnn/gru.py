"""GRUCell and GRU (Cho et al., 2014), gates in Keras's order update z, reset r,
candidate h. torch orders them r, z, n: the fused kernel gets reordered copies."""

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
    "reset_after",
    "seed",
)


class GRUCell(BaseRNNCell):
    """One GRU step: ``z = sig(x W_z + h U_z)``, ``r = sig(x W_r + h U_r)``,
    candidate ``c = act(x W_h + r * (h U_h))`` (``reset_after=True``) or ``act(x
    W_h + (r * h) U_h)`` (``False``); ``h = z * h + (1 - z) * c``. Biases add to
    each product as their shape says.

    Args:
        units: positive int, size of the state and of the output.
        activation: default ``tanh``; ``None`` means linear.
        recurrent_activation: for the gates, default ``sigmoid``.
        use_bias: whether to add ``bias``.
        kernel_initializer, recurrent_initializer, bias_initializer: default
            ``glorot_uniform``, ``orthogonal``, ``zeros``.
        kernel_regularizer, recurrent_regularizer, bias_regularizer: optional.
        kernel_constraint, recurrent_constraint, bias_constraint: optional.
        dropout: fraction of the inputs dropped in training (masks fixed for a
            sequence).
        recurrent_dropout: fraction of h dropped in training (per-gate masks).
        reset_after: apply the reset gate after the recurrent product (default,
            torch's and cuDNN's convention) or before it.
        seed: optional int for reproducible dropout masks.

    Call arguments:
        inputs: (batch, features). states: ``[h]`` with h (batch, units).
        training: whether dropout applies.

    Weights:
        ``kernel`` (features, 3 * units), ``recurrent_kernel`` (units, 3 *
        units), ``bias`` (2, 3 * units) (input and recurrent biases) when
        ``reset_after`` else (3 * units,), if ``use_bias``; gate blocks z, r, h.

    Raises:
        ValueError: ``units`` not a positive int; a dropout rate outside [0, 1];
            ``implementation`` not 1 or 2.

    Example:
    >>> import lamina as keras
    >>> cell = keras.layers.GRUCell(4)
    >>> output, [h] = cell(keras.ops.ones((2, 3)), [keras.ops.zeros((2, 4))])
    >>> tuple(h.shape)
    (2, 4)
    """

    _gates = 3
    _arguments = _CELL_ARGUMENTS

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        reset_after=True,
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
        self.reset_after = bool(reset_after)
        self._check_implementation(implementation)

    def _bias_shape(self):
        width = 3 * self.units
        return (2, width) if self.reset_after else (width,)

    def _input_bias(self):
        if self.bias is None or not self.reset_after:
            return self.bias
        return self.bias[0]

    def _recurrent_bias(self):
        return self.bias[1] if self.bias is not None and self.reset_after else None

    def _step(self, projected, states, recurrent_masks):
        activation, recurrent_activation = self._activations()
        h = states[0]
        units = self.units
        x_z, x_r, x_h = projected.chunk(3, dim=1)
        if self.reset_after:
            inner = self._recurrent(h, recurrent_masks, bias=self._recurrent_bias())
            h_z, h_r, h_h = inner.chunk(3, dim=1)
            r = recurrent_activation(x_r + h_r)
            candidate_input = r * h_h
        else:
            gate_masks = None if recurrent_masks is None else recurrent_masks[:2]
            inner = self._recurrent(
                h, gate_masks, kernel=self.recurrent_kernel[:, : 2 * units]
            )
            h_z, h_r = inner.chunk(2, dim=1)
            r = recurrent_activation(x_r + h_r)
            h_masked = h if recurrent_masks is None else h * recurrent_masks[2]
            candidate_input = (r * h_masked) @ self.recurrent_kernel[:, 2 * units :]
        z = recurrent_activation(x_z + h_z)
        candidate = activation(x_h + candidate_input)
        h = z * h + (1.0 - z) * candidate
        return h, [h]

    def _fused_mode(self):
        if (
            self.reset_after
            and self.activation in (activations.tanh, torch.tanh)
            and self.recurrent_activation in (activations.sigmoid, torch.sigmoid)
        ):
            return "gru"
        return None


class GRU(CellRNN):
    """Gated Recurrent Unit (Cho et al., 2014).

    With ``reset_after=True`` and ``tanh``/``sigmoid`` activations (the defaults)
    it runs torch's fused GRU kernel, for any mask (training on the CPU runs the
    same arithmetic with a hand-written backward, see ``lamina.ops.rnn``);
    otherwise (or with ``unroll``, ``use_cudnn=False``, recurrent dropout in
    training) a step loop. All give the same numbers.

    Args:
        units, activation, recurrent_activation, use_bias, *_initializer,
            *_regularizer, *_constraint, dropout, recurrent_dropout, reset_after,
            seed: as in ``GRUCell``.
        activity_regularizer: optional, on the output.
        return_sequences: return the whole output sequence, not just the last.
        return_state: also return the final state.
        go_backwards: process the sequence in reverse (and return the outputs in
            processing order).
        stateful: carry the final state of each batch row into the next call.
        unroll: accepted for Keras compatibility; runs the step loop.
        use_cudnn: ``"auto"`` (fused kernel when it applies), ``True`` (require
            it) or ``False`` (always the step loop).

    Call arguments:
        sequences: (batch, timesteps, features). initial_state: optional ``[h]``.
        mask: optional boolean (batch, timesteps). training: whether dropout
            applies.

    Input shape:
        ``(batch, timesteps, features)``.

    Output shape:
        ``(batch, timesteps, units)`` with ``return_sequences`` else ``(batch,
        units)``; with ``return_state`` followed by h, ``(batch, units)``.

    Weights:
        ``kernel`` (features, 3 * units), ``recurrent_kernel`` (units, 3 *
        units), ``bias`` (2, 3 * units) with ``reset_after`` else (3 * units,),
        if ``use_bias``; gates z, r, h (in the cell ``gru_cell``).

    Raises:
        ValueError: bad arguments; input not of rank 3; a wrong ``initial_state``.

    Example:
    >>> import lamina as keras
    >>> layer = keras.layers.GRU(4, return_sequences=True)
    >>> tuple(layer(keras.ops.ones((32, 10, 8))).shape)
    (32, 10, 4)
    """

    _cell_class = GRUCell
    _cell_name = "gru_cell"

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
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
        seed=None,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        reset_after=True,
        use_cudnn="auto",
        **kwargs,
    ):
        super().__init__(**self._split_arguments(locals()))

"""StackedRNNCells: several cells acting as one, each feeding the next."""

from __future__ import annotations

import torch

from lamina.layers.layer import Layer
from lamina.layers.serialization import deserialize as deserialize_layer
from lamina.layers.serialization import serialize_nested as serialize_layer
from lamina.ops import rnn as rnn_ops
from lamina.utils import tree
from lamina.utils.validation import arg_error


class StackedRNNCells(Layer):
    """A stack of RNN cells used as one cell: each step runs the cells in order,
    each cell's output being the next one's input.

    When every cell is a built-in one, a whole sequence runs cell by cell (each on
    its fused kernel where it can): with Keras's mask rule that computes exactly
    what stepping the stack does, since a masked step leaves every cell's states
    untouched whatever input it sees.

    Args:
        cells: list of RNN cells.

    Call arguments:
        inputs: (batch, features). states: one entry per cell, that cell's states.

    Weights:
        The cells' weights, cell by cell.

    Raises:
        ValueError: an entry of ``cells`` that is not an RNN cell.

    Example:
    >>> import lamina as keras
    >>> cells = [keras.layers.LSTMCell(4), keras.layers.GRUCell(3)]
    >>> layer = keras.layers.RNN(keras.layers.StackedRNNCells(cells))
    >>> tuple(layer(keras.ops.ones((2, 5, 6))).shape)
    (2, 3)
    """

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        cells = list(cells)
        for cell in cells:
            if not callable(getattr(cell, "call", None)) or not hasattr(
                cell, "state_size"
            ):
                raise arg_error(
                    self,
                    "cells",
                    "a list of RNN cells (with `call`, `state_size`)",
                    cell,
                )
        self.cells = cells

    @property
    def state_size(self):
        return [cell.state_size for cell in self.cells]

    @property
    def output_size(self):
        last = self.cells[-1]
        if getattr(last, "output_size", None) is not None:
            return last.output_size
        size = last.state_size
        return size[0] if isinstance(size, (list, tuple)) else size

    def get_initial_state(self, batch_size=None, device=None):
        states = []
        for cell in self.cells:
            make = getattr(cell, "get_initial_state", None)
            if make is not None:
                states.append(make(batch_size=batch_size, device=device))
                continue
            sizes = cell.state_size
            zeros = [
                torch.zeros(
                    (batch_size, d), dtype=self._compute_torch_dtype, device=device
                )
                for d in (sizes if isinstance(sizes, (list, tuple)) else [sizes])
            ]
            states.append(zeros if isinstance(sizes, (list, tuple)) else zeros[0])
        return states

    def build(self, input_shape):
        batch = input_shape[0]
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                cell.build(input_shape)
            size = (
                getattr(cell, "output_size", None) or tree.flatten(cell.state_size)[0]
            )
            input_shape = (batch, size)

    def call(self, inputs, states, training=False):
        new_states = []
        for cell, cell_states in zip(self.cells, states):
            nested = tree.is_nested(cell_states)
            cell_states = list(cell_states) if nested else [cell_states]
            inputs, cell_states = call_cell(cell, inputs, cell_states, training)
            if len(cell_states) == 1 and not nested:
                cell_states = cell_states[0]
            new_states.append(cell_states)
        return inputs, new_states

    def _run_sequence(
        self, inputs, states, mask, training, allow_fused=True, need_states=True
    ):
        if not all(hasattr(cell, "_run_sequence") for cell in self.cells):

            def step(inputs_t, step_states):
                return self.call(inputs_t, step_states, training=training)

            try:
                return rnn_ops.step_loop(step, inputs, states, mask)
            finally:
                for cell in self.cells:
                    reset_dropout_masks(cell)
        new_states = []
        for cell, cell_states in zip(self.cells, states):
            nested = tree.is_nested(cell_states)
            inputs, cell_states = cell._run_sequence(
                inputs,
                list(cell_states) if nested else [cell_states],
                mask,
                training,
                allow_fused=allow_fused,
                need_states=need_states,
            )
            new_states.append(cell_states if nested else cell_states[0])
        return inputs, new_states

    def _fused_mode_for(self, training):
        modes = [
            getattr(c, "_fused_mode_for", lambda t: None)(training) for c in self.cells
        ]
        return modes[0] if all(modes) else None

    def get_config(self):
        return {
            **super().get_config(),
            "cells": [serialize_layer(cell) for cell in self.cells],
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        cells = [
            deserialize_layer(cell, custom_objects=custom_objects)
            for cell in config.pop("cells")
        ]
        return cls(cells, **config)


def reset_dropout_masks(cell):
    """Forget a cell's per-sequence dropout masks (drawn again next sequence)."""
    for reset in ("reset_dropout_mask", "reset_recurrent_dropout_mask"):
        if callable(getattr(cell, reset, None)):
            getattr(cell, reset)()


def call_cell(cell, inputs, states, training):
    """One step of any cell: ``(output, new_states as a list)``."""
    if isinstance(cell, Layer) and cell._call_info.has_training:
        output, new_states = cell(inputs, states, training=training)
    else:
        output, new_states = (cell if isinstance(cell, Layer) else cell.call)(
            inputs, states
        )
    return output, list(new_states) if tree.is_nested(new_states) else [new_states]

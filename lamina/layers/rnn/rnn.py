"""``RNN``: a recurrent layer over any cell, and ``CellRNN``, the base of SimpleRNN,
LSTM and GRU (a layer owning one built-in cell, with the cell's arguments flat in
its signature and config, as Keras has them).

A built-in cell runs the whole sequence itself (``_run_sequence``: torch's fused
kernel when it applies, else a step loop); any other cell is stepped by
``ops.rnn.step_loop``. Either way masked timesteps follow Keras's rule: the states
are carried over and the output repeats the previous one (zeros before the first
unmasked step, or at every masked step with ``zero_output_for_mask``).
"""

from __future__ import annotations

import inspect
import warnings

import torch

from lamina import regularizers
from lamina.layers.call_context import call_context
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer
from lamina.layers.rnn.base_cell import BaseRNNCell
from lamina.layers.rnn.stacked_rnn_cells import (
    StackedRNNCells,
    call_cell,
    reset_dropout_masks,
)
from lamina.layers.serialization import deserialize as deserialize_layer
from lamina.layers.serialization import serialize_nested as serialize_layer
from lamina.ops import rnn as rnn_ops
from lamina.utils import tree
from lamina.utils.validation import arg_error, describe, shape_error

_SEQUENCES = "(batch, timesteps, features)"


class RNN(Layer):
    """Base class for recurrent layers: runs ``cell`` over the time axis.

    Args:
        cell: an RNN cell (a layer with ``call(inputs, states)`` returning
            ``(output, new_states)`` and a ``state_size``), or a list of cells,
            stacked with ``StackedRNNCells``.
        return_sequences: return the whole output sequence, not just the last.
        return_state: also return the final states.
        go_backwards: process the sequence in reverse and return the outputs in
            processing order (the output mask is the input mask, as in Keras).
        stateful: carry each batch row's final states into the next call; the
            batch size must be fixed. ``reset_states()`` zeroes them.
        unroll: accepted for Keras compatibility: a step loop (never the fused
            kernel); needs a known number of timesteps.
        zero_output_for_mask: masked timesteps output zeros instead of repeating
            the previous output.

    Call arguments:
        sequences: ``(batch, timesteps, features)`` (more axes for cells that take
            them). initial_state: optional state tensor(s), as the cell's
            ``state_size`` lists them. mask: optional boolean (batch, timesteps):
            True marks steps to process; a masked step carries the states over.
        training: passed to the cell (dropout).

    Input shape:
        ``(batch, timesteps, *features)``.

    Output shape:
        ``(batch, timesteps, output_size)`` with ``return_sequences``, else
        ``(batch, output_size)``; with ``return_state`` the final states follow,
        ``(batch, state_size)`` each.

    Weights:
        The cell's.

    Raises:
        ValueError: not a cell; input of rank < 3; a wrong ``initial_state``;
            ``stateful`` with an unknown batch size, or a batch size that changes;
            ``unroll`` with an unknown number of timesteps.

    Example:
    >>> import lamina as keras
    >>> layer = keras.layers.RNN(keras.layers.LSTMCell(4), return_state=True)
    >>> output, h, c = layer(keras.ops.ones((2, 5, 3)))
    >>> tuple(output.shape), tuple(c.shape)
    ((2, 4), (2, 4))
    """

    def __init__(
        self,
        cell,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        zero_output_for_mask=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        if not callable(getattr(cell, "call", None)):
            raise arg_error(self, "cell", "an RNN cell with a `call` method", cell)
        state_size = getattr(cell, "state_size", None)
        if not _valid_state_size(state_size):
            raise arg_error(
                self,
                "cell",
                "an RNN cell whose `state_size` is an int or a list of ints",
                cell,
            )
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.supports_masking = True
        self.input_spec = InputSpec(min_ndim=3, name=_SEQUENCES)
        self.states = None
        self.single_state = isinstance(state_size, int)
        self.state_size = [state_size] if self.single_state else list(state_size)

    # ----------------------------------------------------------------- build
    def build(self, sequences_shape, initial_state_shape=None):
        sequences_shape = tuple(sequences_shape)
        if self.unroll and sequences_shape[1] is None:
            raise ValueError(
                f"{describe(self)}: `unroll=True` needs a known number of timesteps; "
                f"got input shape {sequences_shape}. Give the Input a fixed length."
            )
        step_shape = (sequences_shape[0], *sequences_shape[2:])
        if isinstance(self.cell, Layer) and not self.cell.built:
            self.cell.build(step_shape)
        if self.stateful:
            if sequences_shape[0] is None:
                raise ValueError(
                    f"{describe(self)}: `stateful=True` needs a fixed batch size; got "
                    f"input shape {sequences_shape}. Pass `batch_size=` to the Input."
                )
            self.states = self.get_initial_state(sequences_shape[0])

    def get_initial_state(self, batch_size, device=None):
        """Zero states for ``batch_size`` rows, structured as ``state_size``."""
        make = getattr(self.cell, "get_initial_state", None)
        if make is None:
            dtype = getattr(self.cell, "_compute_torch_dtype", torch.float32)
            return [
                torch.zeros((batch_size, d), dtype=dtype, device=device)
                for d in self.state_size
            ]
        if "device" in inspect.signature(make).parameters:  # lamina's cells
            states = make(batch_size=batch_size, device=device)
        else:  # a Keras-style cell: get_initial_state(batch_size)
            states = tree.map_structure(
                lambda s: torch.as_tensor(s, device=device), make(batch_size=batch_size)
            )
        return list(states) if tree.is_nested(states) else [states]

    def reset_state(self):
        """Zero the states of a stateful layer."""
        if self.states is not None:
            self.states = tree.map_structure(torch.zeros_like, self.states)

    def reset_states(self):
        self.reset_state()

    # ------------------------------------------------------------------ call
    def call(self, sequences, initial_state=None, mask=None, training=False):
        if sequences.shape[1] == 0:
            raise shape_error(
                self, f"at least one timestep in {_SEQUENCES}", tuple(sequences.shape)
            )
        states = self._initial_states(sequences, initial_state)
        mask = self._sequence_mask(sequences, mask)
        if self.go_backwards:
            sequences = sequences.flip(1)
            mask = None if mask is None else mask.flip(1)
        outputs, states = self._run(sequences, states, mask, training)
        if outputs.dtype != self._compute_torch_dtype:  # autocast (mixed precision)
            outputs, states = tree.map_structure(
                lambda t: None if t is None else t.to(self._compute_torch_dtype),
                (outputs, states),
            )
        if self.zero_output_for_mask and mask is not None:
            outputs = rnn_ops.masked_zeros(outputs, mask)
        if self.stateful and not call_context.symbolic:
            self.states = tree.map_structure(torch.Tensor.detach, states)
        output = outputs if self.return_sequences else outputs[:, -1]
        if self.return_state:
            return (output, *states)
        return output

    def _run(self, sequences, states, mask, training):
        runner = getattr(self.cell, "_run_sequence", None)
        if call_context.symbolic and _is_builtin(self.cell):
            # Shape inference on fake tensors: a built-in cell's output size is
            # known, and torch's GRU kernel decomposes into hundreds of fake ops.
            size = self.cell.output_size
            return sequences.new_zeros((*sequences.shape[:2], size)), states
        if runner is not None:
            return runner(
                sequences,
                states,
                mask,
                training,
                allow_fused=self._allow_fused(training),
                need_states=self.return_state or self.stateful,
            )

        def step(inputs, step_states):
            return call_cell(self.cell, inputs, step_states, training)

        try:
            return rnn_ops.step_loop(step, sequences, states, mask)
        finally:
            reset_dropout_masks(self.cell)

    def _allow_fused(self, training):
        return not self.unroll

    def _sequence_mask(self, sequences, mask):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        # Shape inference runs on fake tensors: the mask cannot change the shapes,
        # and its values are not there to look at.
        if mask is None or call_context.symbolic:
            return None
        mask = torch.as_tensor(mask, device=sequences.device)
        steps_only = mask.ndim == 2 or mask.shape[2:].numel() == 1
        if tuple(mask.shape[:2]) != tuple(sequences.shape[:2]) or not steps_only:
            raise ValueError(
                f"{describe(self)}: the mask must have shape (batch, timesteps) = "
                f"{tuple(sequences.shape[:2])}; got mask shape {tuple(mask.shape)}."
            )
        return mask.reshape(mask.shape[:2]).to(torch.bool)

    def _initial_states(self, sequences, initial_state):
        batch = sequences.shape[0]
        if initial_state is None:
            if not self.stateful:
                return self.get_initial_state(batch, device=sequences.device)
            if self.states is None:  # built without `build` seeing a batch size
                self.states = self.get_initial_state(batch, device=sequences.device)
            expected = tree.flatten(self.states)[0].shape[0]
            if batch != expected:
                raise ValueError(
                    f"{describe(self)}: a stateful RNN needs the batch size of its "
                    f"states, {expected}; got input shape {tuple(sequences.shape)}. "
                    "Keep the batch size the same in every call."
                )
            return [
                tree.map_structure(lambda s: s.to(sequences.device), s)
                for s in self.states
            ]
        if not tree.is_nested(initial_state):
            initial_state = [initial_state]
        states = tree.map_structure(
            lambda s: torch.as_tensor(
                s, dtype=self._compute_torch_dtype, device=sequences.device
            ),
            list(initial_state),
        )
        self._check_initial_states(states, batch)
        return states

    def _check_initial_states(self, states, batch):
        sizes = tree.flatten(self.state_size)
        flat = tree.flatten(states)
        shapes = [tuple(s.shape) for s in flat]
        expected = [(batch, size) for size in sizes]
        if len(flat) != len(sizes) or any(
            len(s) != 2 or s != e for s, e in zip(shapes, expected)
        ):
            raise ValueError(
                f"{describe(self)}: `initial_state` must be {len(sizes)} tensor(s) of "
                f"shape(s) {expected} (the cell's state_size {self.state_size} for "
                f"a batch of {batch}); got shape(s) {shapes}."
            )

    # ---------------------------------------------------------- shape, mask
    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        batch, steps = sequences_shape[0], sequences_shape[1]
        output_size = getattr(self.cell, "output_size", None)
        if output_size is None:
            output_size = tree.flatten(self.state_size)[0]
        output_shape = (
            (batch, steps, output_size)
            if self.return_sequences
            else (batch, output_size)
        )
        if not self.return_state:
            return output_shape
        states = [
            [(batch, s) for s in size]
            if isinstance(size, (list, tuple))
            else (batch, size)
            for size in self.state_size
        ]
        return (output_shape, *states)

    def compute_mask(self, inputs, previous_mask=None):
        mask = tree.flatten(previous_mask)[0] if previous_mask is not None else None
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * len(tree.flatten(self.state_size))
        return output_mask

    # ---------------------------------------------------------------- config
    def get_config(self):
        return {
            **super().get_config(),
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "zero_output_for_mask": self.zero_output_for_mask,
            "cell": serialize_layer(self.cell),
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        cell = deserialize_layer(config.pop("cell"), custom_objects=custom_objects)
        return cls(cell, **config)


def _is_builtin(cell) -> bool:
    """A lamina cell (or stack of them), whose shapes need no run to be known."""
    if isinstance(cell, StackedRNNCells):
        return all(_is_builtin(c) for c in cell.cells)
    return isinstance(cell, BaseRNNCell)


def _valid_state_size(size) -> bool:
    if isinstance(size, int) and not isinstance(size, bool):
        return size > 0
    return (
        isinstance(size, (list, tuple))
        and len(size) > 0
        and all(_valid_state_size(s) for s in size)
    )


_LAYER_ARGUMENTS = (
    "return_sequences",
    "return_state",
    "go_backwards",
    "stateful",
    "unroll",
    "activity_regularizer",
)


class CellRNN(RNN):
    """An RNN owning one built-in cell whose arguments are its own: SimpleRNN, LSTM
    and GRU. The cell's arguments read through (``layer.units`` is
    ``layer.cell.units``) and are flat in the config, as in Keras."""

    _cell_class = None
    _cell_name = None

    @classmethod
    def _split_arguments(cls, arguments: dict) -> dict:
        """The ``locals()`` of a subclass's ``__init__`` as ``RNN.__init__``
        arguments: the layer's own ones, and a cell built from the rest."""
        arguments = {
            k: v for k, v in arguments.items() if k not in ("self", "__class__")
        }
        kwargs = dict(arguments.pop("kwargs"))
        layer_arguments = {
            k: arguments.pop(k) for k in _LAYER_ARGUMENTS if k in arguments
        }
        use_cudnn = arguments.pop("use_cudnn", "auto")
        if "implementation" in kwargs:
            arguments["implementation"] = kwargs.pop("implementation")
        _accept_time_major(cls, kwargs)
        cell = cls._cell_class(
            **arguments,
            dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True),
            name=cls._cell_name,
        )
        return {"cell": cell, "use_cudnn": use_cudnn, **layer_arguments, **kwargs}

    def __init__(self, cell, use_cudnn="auto", **kwargs):
        super().__init__(cell, **kwargs)
        if use_cudnn not in ("auto", True, False):
            raise arg_error(self, "use_cudnn", "one of 'auto', True, False", use_cudnn)
        self.use_cudnn = use_cudnn
        self.input_spec = InputSpec(ndim=3, name=_SEQUENCES)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "_cell_class" not in cls.__dict__:
            return  # inherits the read-through properties of its base
        for key in getattr(cls._cell_class, "_arguments", ()):
            if key not in cls.__dict__:
                setattr(
                    cls, key, property(lambda self, key=key: getattr(self.cell, key))
                )

    def _allow_fused(self, training):
        if self.use_cudnn is False or self.unroll:
            return False
        if self.use_cudnn is True and self.cell._fused_mode_for(training) is None:
            raise ValueError(
                f"{describe(self)}: `use_cudnn=True` needs a configuration the fused "
                "kernel runs (tanh/sigmoid activations, no recurrent dropout, no "
                "unroll); pass use_cudnn='auto' to fall back to the step loop."
            )
        return True

    def get_config(self):
        config = super().get_config()
        cell_config = config.pop("cell")["config"]
        for key in self.cell._arguments:
            config[key] = cell_config[key]
        config["activity_regularizer"] = (
            regularizers.serialize(self.activity_regularizer)
            if self.activity_regularizer is not None
            else None
        )
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**config)


def _accept_time_major(cls, kwargs):
    """Keras 2 configs carry ``time_major=False``; Keras 3 dropped the argument."""
    if "time_major" not in kwargs:
        return
    time_major = kwargs.pop("time_major")
    if time_major:
        raise arg_error(
            cls.__name__, "time_major", "False (inputs are batch-major)", True
        )
    warnings.warn(
        f"{cls.__name__}: `time_major` is a Keras 2 argument; it is ignored.",
        DeprecationWarning,
        stacklevel=4,
    )

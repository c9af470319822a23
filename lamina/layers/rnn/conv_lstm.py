"""ConvLSTM (Shi et al., 2015): an LSTM whose input and recurrent products are
convolutions. One implementation for 1 to 3 spatial axes: ``ConvLSTMCell(rank)``
(one step) and ``BaseConvLSTM(rank)`` (the layer), under the thin public
ConvLSTM1D, ConvLSTM2D and ConvLSTM3D.

The cell is ``LSTMCell`` with convolutions in place of its matrix products, on a
``SpatialLayer`` (data_format, layouts): gates i, f, c, o, ``kernel``
``(*kernel_size, channels, 4 * filters)``, ``recurrent_kernel`` ``(*kernel_size,
filters, 4 * filters)``, ``bias`` ``(4 * filters,)`` -- Keras's layout and names,
so Keras files load by name. The input convolution (``strides``, ``padding``,
``dilation_rate``) runs once over all timesteps, as one convolution of a
(batch * time) batch; only the recurrent convolution (stride 1, ``"same"``, no
dilation, as in Keras) runs per step. Dropout follows Keras's ConvLSTMCell: one
mask per gate for the inputs and for h, fixed over the sequence; the four masked
copies run as one grouped convolution (groups=4: copy g meets kernel block g).

Keras 3 exposes no ConvLSTM cell class; neither does lamina (``ConvLSTMCell``
stays internal, named ``conv_lstm_cell`` inside the layer as in Keras).
"""

from __future__ import annotations

import torch

from lamina.layers.call_context import call_context
from lamina.layers.convolutional.base_spatial import ARGS as CONV_ARGS
from lamina.layers.input_spec import InputSpec
from lamina.layers.rnn.lstm import LSTMCell
from lamina.layers.rnn.rnn import _LAYER_ARGUMENTS, CellRNN
from lamina.layers.spatial import SpatialLayer
from lamina.ops import convolution as conv_ops
from lamina.ops import shapes
from lamina.utils import tree
from lamina.utils.validation import (
    check_choice,
    describe,
    normalize_tuple,
    shape_error,
)

_CELL_ARGUMENTS = (
    "filters",
    "kernel_size",
    "strides",
    "padding",
    "data_format",
    "dilation_rate",
    "activation",
    "recurrent_activation",
    "use_bias",
    "kernel_initializer",
    "recurrent_initializer",
    "bias_initializer",
    "unit_forget_bias",
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


class ConvLSTMCell(SpatialLayer, LSTMCell):
    """One ConvLSTM step over ``rank`` spatial axes (not public, as in Keras 3):
    ``z = conv(x, kernel) + bias + conv_same(h, recurrent_kernel)``, split on the
    channel axis into gates i, f, c, o; then ``c = sig(f) * c + sig(i) *
    act(c_gate)``, ``h = sig(o) * act(c)``.

    Args:
        rank: 1, 2 or 3.
        filters: positive int, the channels of h, c and the output.
        kernel_size, strides, padding, data_format, dilation_rate: of the input
            convolution (the recurrent one has stride 1, ``"same"`` padding and
            no dilation).
        activation, recurrent_activation, use_bias, unit_forget_bias, the
            initializers, regularizers and constraints, dropout,
            recurrent_dropout, seed: as in ``LSTMCell``.

    Call arguments:
        inputs: ``(batch, *spatial, channels)`` (or channels first). states:
            ``[h, c]``, each of the state shape (``state_shape``).
        training: whether dropout applies.

    Weights:
        ``kernel`` ``(*kernel_size, channels, 4 * filters)``,
        ``recurrent_kernel`` ``(*kernel_size, filters, 4 * filters)``, ``bias``
        ``(4 * filters,)`` if ``use_bias``; gate blocks i, f, c, o.
    """

    _arguments = _CELL_ARGUMENTS
    _units_argument = "filters"

    def __init__(
        self,
        rank,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        **kwargs,
    ):
        # implementation=1: one dropout mask per gate, as Keras's ConvLSTMCell.
        super().__init__(
            rank=rank,
            data_format=data_format,
            units=filters,
            implementation=1,
            **kwargs,
        )
        self.filters = self.units
        self.kernel_size = normalize_tuple(self, "kernel_size", kernel_size, rank)
        self.strides = normalize_tuple(self, "strides", strides, rank)
        self.dilation_rate = normalize_tuple(self, "dilation_rate", dilation_rate, rank)
        self.padding = check_choice(self, "padding", padding, ("valid", "same"))
        self._gate_axis = self._channel_axis
        self._state_shape = None  # (*spatial, filters) or channels first, at build

    # ------------------------------------------------------------ shapes
    def state_shape(self, input_shape) -> tuple:
        """The shape of h, c and one step's output for a step input shape."""

        def length(n, kernel, stride, dilation):
            return shapes.conv_output_length(n, kernel, self.padding, stride, dilation)

        per_axis = (self.kernel_size, self.strides, self.dilation_rate)
        shape = list(self._map_spatial(input_shape, length, *per_axis))
        shape[self._channel_axis] = self.filters
        return tuple(shape)

    def compute_output_shape(self, input_shape, states_shape=None):
        state = self.state_shape(input_shape)
        return state, [state, state]

    # ------------------------------------------------------------- build
    def build(self, input_shape, states_shape=None):
        channels = input_shape[self._channel_axis]
        self._state_shape = self.state_shape(input_shape)[1:]
        width = self._gates * self.filters
        self._add_weights(
            (*self.kernel_size, channels, width),
            (*self.kernel_size, self.filters, width),
        )
        self.input_spec = self._input_spec({self._channel_axis: channels})

    def get_initial_state(self, batch_size=None, device=None):
        shape = (batch_size, *self._state_shape)
        dtype = self._compute_torch_dtype
        return [torch.zeros(shape, dtype=dtype, device=device) for _ in range(2)]

    # ------------------------------------------------------------ stepping
    def _project(self, inputs, masks):
        """The input convolution of every gate, bias added, of one step
        ``(batch, *spatial, channels)`` or of a whole sequence ``(batch, time,
        ...)`` at once (as one batch of batch * time); ``masks``: one per gate."""
        leading = inputs.shape[: inputs.ndim - self.rank - 1]
        if masks is not None:
            axis = -1 if self._channels_last else len(leading)
            inputs = torch.cat([inputs * m for m in masks], dim=axis)
        x = inputs.reshape(-1, *inputs.shape[len(leading) :])
        out = conv_ops.conv(
            x,
            self.kernel,
            self.strides,
            self.padding,
            self.data_format,
            self.dilation_rate,
            self.bias,
        )
        return out.reshape(*leading, *out.shape[1:])

    def _recurrent(self, state, masks):
        """``conv_same(h, recurrent_kernel)``; with one mask per gate, the masked
        copies of h as one grouped convolution."""
        if masks is not None:
            state = torch.cat([state * m for m in masks], dim=self._channel_axis)
        return conv_ops.conv(state, self.recurrent_kernel, 1, "same", self.data_format)

    def _fused_mode(self):
        return None  # torch has no fused ConvLSTM kernel


class BaseConvLSTM(CellRNN):
    """The ConvLSTM layer over ``rank`` spatial axes: ``RNN`` over a
    ``ConvLSTMCell`` whose arguments are the layer's (flat in its config, read
    through as attributes), as Keras's ``ConvLSTM``. Public classes pass every
    argument by name plus ``rank``."""

    _cell_class = ConvLSTMCell
    _cell_name = "conv_lstm_cell"

    def __init__(self, *, rank, **kwargs):
        arguments = {
            key: kwargs.pop(key)
            for key in (*_CELL_ARGUMENTS, *_LAYER_ARGUMENTS)
            if key in kwargs
        }
        super().__init__(
            **self._split_arguments({"rank": rank, **arguments, "kwargs": kwargs})
        )
        self.rank = rank
        self.input_spec = InputSpec(ndim=rank + 3, name=self._layout())

    def _layout(self) -> str:
        """``(batch, timesteps, rows, cols, channels)``: the axes expected."""
        batch, *step = self.cell._layout()[1:-1].split(", ")
        return f"({', '.join([batch, 'timesteps', *step])})"

    # ----------------------------------------------------------- build
    def build(self, sequences_shape, initial_state_shape=None):
        shape = tuple(sequences_shape)
        if len(shape) != self.rank + 3:
            raise shape_error(
                self, f"input of rank {self.rank + 3} {self._layout()}", shape
            )
        step = (shape[0], *shape[2:])
        cell = self.cell
        if step[cell._channel_axis] is None or None in cell._spatial(step):
            raise shape_error(
                self,
                f"known channels and spatial sizes in {self._layout()} (ConvLSTM "
                "layers need static spatial shapes)",
                shape,
            )
        if any(n <= 0 for n in cell._spatial(cell.state_shape(step))):
            raise shape_error(
                self,
                f"an input large enough for kernel_size={cell.kernel_size}, "
                f"dilation_rate={cell.dilation_rate}, padding={cell.padding!r}",
                shape,
            )
        super().build(sequences_shape, initial_state_shape)

    # ------------------------------------------------------------ call
    def _run(self, sequences, states, mask, training):
        if call_context.symbolic:  # shape inference on fake tensors: no steps
            shape = (*sequences.shape[:2], *states[0].shape[1:])
            return sequences.new_zeros(shape), states
        return super()._run(sequences, states, mask, training)

    def _sequence_mask(self, sequences, mask):
        """Keras's (batch, timesteps) mask; or, channels_last, a mask with the
        state's spatial axes too (what ``Masking`` computes on these inputs), which
        Keras applies per position (a masked position keeps its states and output).
        """
        mask = mask[0] if isinstance(mask, (list, tuple)) else mask
        if mask is not None and not call_context.symbolic and self.cell._channels_last:
            mask = torch.as_tensor(mask, device=sequences.device)
            spatial = self.cell._state_shape[:-1]
            if tuple(mask.shape) == (*sequences.shape[:2], *spatial):
                return mask.to(torch.bool)
        return super()._sequence_mask(sequences, mask)

    def _check_initial_states(self, states, batch):
        expected = (batch, *self.cell._state_shape)
        shapes_given = [tuple(s.shape) for s in tree.flatten(states)]
        if len(shapes_given) != 2 or any(s != expected for s in shapes_given):
            raise ValueError(
                f"{describe(self)}: `initial_state` must be [h, c], two tensors "
                f"of shape {expected}; got shape(s) {shapes_given}."
            )

    # ---------------------------------------------------------- shapes
    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        batch, steps = sequences_shape[0], sequences_shape[1]
        state = self.cell.state_shape((batch, *sequences_shape[2:]))
        output = (batch, steps, *state[1:]) if self.return_sequences else state
        return (output, state, state) if self.return_state else output


# ----------------------------------------------------------------- docs
# The ConvLSTM paragraphs of the public classes' docstrings, with the
# convolutions' own (``fill_docs(ARGS)`` fills them in, then lamina.layers.docs's).
ARGS = {
    **CONV_ARGS,
    "sequence_data_format": """data_format: ``"channels_last"`` (inputs
    ``(batch, time, *spatial, channels)``) or ``"channels_first"`` (``(batch,
    time, channels, *spatial)``). Default: ``keras.config.image_data_format()``.""",
    "lstm_activations": """activation: for the cell candidate and the output
    (default ``"tanh"``); ``None`` means linear.
recurrent_activation: for the gates i, f, o (default ``"sigmoid"``).""",
    "lstm_weight_args": """kernel_initializer, recurrent_initializer,
    bias_initializer: default ``"glorot_uniform"``, ``"orthogonal"``,
    ``"zeros"``.
unit_forget_bias: initialize the forget-gate bias to ones (default True).
kernel_regularizer, recurrent_regularizer, bias_regularizer,
    activity_regularizer: optional.
kernel_constraint, recurrent_constraint, bias_constraint: optional, applied
    after updates.""",
    "lstm_dropout": """dropout: fraction of the input channels dropped in
    training, one mask per gate, fixed over the sequence.
recurrent_dropout: the same for h.
seed: optional int for reproducible dropout masks.""",
    "rnn_flags": """return_sequences: return the whole output sequence, not just
    the last output (default False).
return_state: also return the final states h and c (default False).
go_backwards: process the sequence in reverse and return the outputs in
    processing order (default False).
stateful: carry each batch row's final states into the next call; needs a
    fixed batch size; ``reset_states()`` zeroes them (default False).""",
    "rnn_kwargs": """**kwargs: ``unroll`` (accepted; the steps always run as a
    loop), ``zero_output_for_mask``, ``name``, ``dtype``, ``trainable``, ...
    (see ``Layer``).""",
    "conv_lstm_call": """sequences: the input (see Input shape).
initial_state: optional ``[h, c]``, each of the state shape.
mask: optional boolean ``(batch, timesteps)``: False steps carry the states
    over and repeat the previous output. channels_last, a mask with the state's
    spatial axes too (``Masking`` gives one) applies per position, as in Keras.
training: whether dropout applies.""",
    "conv_lstm_weights": """``kernel`` ``(*kernel_size, channels, 4 * filters)``,
``recurrent_kernel`` ``(*kernel_size, filters, 4 * filters)``, then ``bias``
``(4 * filters,)`` if ``use_bias``; gate blocks i, f, c, o, in the cell
``conv_lstm_cell``.""",
    "conv_lstm_raises": """ValueError: at construction, ``filters`` not a
    positive int, a size, stride or dilation < 1 or a tuple of the wrong
    length, an unknown ``padding`` or ``data_format``, a dropout rate outside
    [0, 1]; at build, an input of the wrong rank, with unknown channels or
    spatial sizes, or too small for the kernel; at call, a wrong
    ``initial_state`` or mask, or a batch size that changes while
    ``stateful``.""",
}

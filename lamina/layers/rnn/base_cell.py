"""What SimpleRNNCell, LSTMCell and GRUCell share: arguments, weights in Keras
layout, dropout masks, and running a whole sequence.

A cell's weights are ``kernel`` (input_dim, gates * units), ``recurrent_kernel``
(units, gates * units) and ``bias``; the gate blocks follow Keras's order. A whole
sequence runs either on torch's fused kernel (``ops.rnn.fused``, when the cell's
configuration is one torch implements) or as a step loop over ``_step`` with the
input projection computed for all timesteps in one matrix product.
"""

from __future__ import annotations

import torch

from lamina import activations, constraints, initializers, regularizers
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer
from lamina.layers.weight_options import set_weight_options, weight_options
from lamina.ops import rnn as rnn_ops
from lamina.random import SeedGenerator
from lamina.utils.validation import arg_error, check_float, check_int

# Keras's activation functions mapped to the torch ones computing the same numbers
# without lamina's bookkeeping (sigmoid records its logits for losses).
_PLAIN = {activations.tanh: torch.tanh, activations.sigmoid: torch.sigmoid}

_SERIALIZERS = {
    "activation": activations.serialize,
    "initializer": initializers.serialize,
    "regularizer": regularizers.serialize,
    "constraint": constraints.serialize,
}


def serialize_argument(key, value):
    """A cell argument in its Keras config form (by the suffix of its name)."""
    kind = key.rsplit("_", 1)[-1]
    serializer = _SERIALIZERS.get(kind)
    return value if serializer is None or value is None else serializer(value)


class BaseRNNCell(Layer):
    """Shared base of the built-in cells. Subclasses set ``_gates`` (gate blocks
    in the kernel) and ``_arguments`` (Keras's config keys, in order) and implement
    ``_step``; ``_fused_mode`` names the torch kernel that computes the same thing,
    if any."""

    _gates = 1
    _arguments: tuple = ()
    _units_argument = "units"  # the constructor's name for ``units`` (in errors)

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
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = check_int(self, self._units_argument, units, minimum=1)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        set_weight_options(
            self, "kernel", kernel_initializer, kernel_regularizer, kernel_constraint
        )
        set_weight_options(
            self,
            "recurrent",
            recurrent_initializer,
            recurrent_regularizer,
            recurrent_constraint,
        )
        set_weight_options(
            self, "bias", bias_initializer, bias_regularizer, bias_constraint
        )
        self.dropout = check_float(self, "dropout", dropout, 0.0, 1.0)
        self.recurrent_dropout = check_float(
            self, "recurrent_dropout", recurrent_dropout, 0.0, 1.0
        )
        self.seed = check_int(self, "seed", seed, allow_none=True)
        self.seed_generator = SeedGenerator(self.seed)
        self.dropout_mask_count = None  # per-gate masks when set (implementation 1)
        self._dropout_mask = None
        self._recurrent_dropout_mask = None
        self.state_size = self.units
        self.output_size = self.units

    def _check_implementation(self, implementation):
        if implementation not in (1, 2):
            raise arg_error(self, "implementation", "1 or 2", implementation)
        # Recurrent dropout needs per-gate masks, which is implementation 1.
        self.implementation = 1 if self.recurrent_dropout else implementation
        if self.implementation == 1:
            self.dropout_mask_count = self._gates

    # ------------------------------------------------------------- weights
    def build(self, input_shape):
        input_dim = input_shape[-1]
        width = self._gates * self.units
        self._add_weights((input_dim, width), (self.units, width))
        self.input_spec = InputSpec(min_ndim=2, axes={-1: input_dim})

    def _add_weights(self, kernel_shape, recurrent_shape):
        """``kernel``, ``recurrent_kernel`` and (with ``use_bias``) ``bias``, in
        Keras's order."""
        self.kernel = self.add_weight(
            shape=kernel_shape, name="kernel", **weight_options(self, "kernel")
        )
        self.recurrent_kernel = self.add_weight(
            shape=recurrent_shape,
            name="recurrent_kernel",
            **weight_options(self, "recurrent"),
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                shape=self._bias_shape(),
                initializer=self._full_bias_initializer(),
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
                name="bias",
            )

    def _bias_shape(self):
        return (self._gates * self.units,)

    def _full_bias_initializer(self):
        return self.bias_initializer

    def _input_bias(self):
        return self.bias

    def _recurrent_bias(self):
        return None

    # ------------------------------------------------------- dropout masks
    def get_dropout_mask(self, step_input):
        """The input dropout mask(s) of the current sequence, drawn on first use."""
        if self._dropout_mask is None and self.dropout > 0:
            self._dropout_mask = self._draw_masks(step_input, self.dropout)
        return self._dropout_mask

    def get_recurrent_dropout_mask(self, step_input):
        """The recurrent dropout mask(s) of the current sequence."""
        if self._recurrent_dropout_mask is None and self.recurrent_dropout > 0:
            self._recurrent_dropout_mask = self._draw_masks(
                step_input, self.recurrent_dropout
            )
        return self._recurrent_dropout_mask

    def reset_dropout_mask(self):
        self._dropout_mask = None

    def reset_recurrent_dropout_mask(self):
        self._recurrent_dropout_mask = None

    def _draw_masks(self, like, rate):
        def draw():
            keep = self.seed_generator.uniform(like.shape, like) >= rate
            return keep.to(like.dtype) / (1.0 - rate)

        if self.dropout_mask_count is None:
            return draw()
        return [draw() for _ in range(self.dropout_mask_count)]

    def _masks(self, training, step_input, state):
        """(input masks, recurrent masks) for this call; None where not dropping."""
        dropping = training and 0.0 < self.dropout < 1.0
        recurrent = training and 0.0 < self.recurrent_dropout < 1.0
        return (
            self.get_dropout_mask(step_input) if dropping else None,
            self.get_recurrent_dropout_mask(state) if recurrent else None,
        )

    # ------------------------------------------------------------ stepping
    def call(self, inputs, states, training=False):
        """One timestep: ``(output, new_states)`` for inputs (batch, features)."""
        nested = isinstance(states, (list, tuple))
        state_list = list(states) if nested else [states]
        input_masks, recurrent_masks = self._masks(training, inputs, state_list[0])
        projected = self._project(inputs, input_masks)
        output, new_states = self._step(projected, state_list, recurrent_masks)
        return output, new_states if nested or len(new_states) > 1 else new_states[0]

    def _project(self, inputs, masks):
        """``inputs @ kernel + input bias`` over the last axis; with per-gate masks
        each gate block sees its own masked copy of the inputs."""
        bias = self._input_bias()
        if isinstance(masks, list):
            blocks = self.kernel.chunk(self._gates, dim=1)
            out = torch.cat([(inputs * m) @ k for m, k in zip(masks, blocks)], dim=-1)
            return out if bias is None else out + bias
        if masks is not None:
            inputs = inputs * masks
        out = inputs @ self.kernel
        return out if bias is None else out + bias

    def _recurrent(self, state, masks, kernel=None, bias=None):
        """``state @ recurrent_kernel (+ bias)``, per gate block under masks."""
        kernel = self.recurrent_kernel if kernel is None else kernel
        if masks is None:
            if bias is None:
                return state @ kernel
            return torch.addmm(bias, state, kernel)
        blocks = kernel.chunk(len(masks), dim=1)
        out = torch.cat([(state * m) @ k for m, k in zip(masks, blocks)], dim=-1)
        return out if bias is None else out + bias

    def _step(self, projected, states, recurrent_masks):
        raise NotImplementedError

    def _fused_mode(self):
        """The torch kernel computing this cell (``ops.rnn``), or None."""
        return None

    def get_initial_state(self, batch_size=None, device=None):
        size = (
            self.state_size if isinstance(self.state_size, list) else [self.state_size]
        )
        dtype = self._compute_torch_dtype
        return [torch.zeros((batch_size, d), dtype=dtype, device=device) for d in size]

    # ------------------------------------------------------------ sequences
    def _fused_mode_for(self, training):
        """The fused kernel for this call, or None: torch's kernels take one input
        dropout mask and no recurrent dropout."""
        if training and 0.0 < self.recurrent_dropout < 1.0:
            return None
        if training and 0.0 < self.dropout < 1.0 and self.dropout_mask_count:
            return None
        return self._fused_mode()

    def _run_sequence(
        self, inputs, states, mask, training, allow_fused=True, need_states=True
    ):
        """The whole sequence (batch, time, features) from ``states``: returns the
        outputs (batch, time, units) under Keras's mask rule and the final states
        (entries may be None when ``need_states`` is off)."""
        mode = self._fused_mode_for(training) if allow_fused else None
        input_masks, recurrent_masks = self._masks(training, inputs[:, 0], states[0])
        try:
            if mode:
                if input_masks is not None:
                    inputs = inputs * input_masks.unsqueeze(1)
                weights = self._torch_weights(mode)
                return rnn_ops.fused(mode, inputs, states, weights, mask, need_states)
            if isinstance(input_masks, list):
                input_masks = [m.unsqueeze(1) for m in input_masks]
            elif input_masks is not None:
                input_masks = input_masks.unsqueeze(1)
            projected = self._project(inputs, input_masks)

            def step(projected_t, step_states):
                return self._step(projected_t, step_states, recurrent_masks)

            return rnn_ops.step_loop(step, projected, states, mask)
        finally:
            if input_masks is not None or recurrent_masks is not None:
                self.reset_dropout_mask()
                self.reset_recurrent_dropout_mask()

    def _torch_weights(self, mode):
        """torch's weight list for ``mode``: views of the Keras-layout weights while
        autograd needs them; else contiguous copies (a contiguous layout runs torch's
        kernel faster on small inputs). The copies are made on every call, never
        cached: a cache keyed on version counters goes stale when weights change
        through ``.data`` or a fused optimizer kernel, which do not bump them."""
        weights = (self.kernel, self.recurrent_kernel, self.bias)
        views = rnn_ops.torch_weights(
            mode, self.kernel, self.recurrent_kernel, *self._biases()
        )
        if torch.is_grad_enabled() and any(
            w is not None and w.requires_grad for w in weights
        ):
            return views
        with torch.no_grad():
            return [w.contiguous() for w in views]

    def _biases(self):
        return self._input_bias(), self._recurrent_bias()

    def _activations(self):
        """(activation, recurrent activation) as plain torch functions if known."""
        recurrent = getattr(self, "recurrent_activation", None)
        return (
            _PLAIN.get(self.activation, self.activation),
            _PLAIN.get(recurrent, recurrent),
        )

    def get_config(self):
        config = super().get_config()
        for key in self._arguments:
            config[key] = serialize_argument(key, getattr(self, key))
        return config

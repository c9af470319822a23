"""Bidirectional: run a recurrent layer forwards and a copy backwards, and merge."""

from __future__ import annotations

import torch

from lamina.layers.layer import Layer
from lamina.layers.serialization import deserialize as deserialize_layer
from lamina.layers.serialization import serialize_nested as serialize_layer
from lamina.utils.validation import arg_error, describe

_MERGES = {
    "concat": lambda y, y_rev: torch.cat([y, y_rev], dim=-1),
    "sum": lambda y, y_rev: y + y_rev,
    "ave": lambda y, y_rev: (y + y_rev) / 2,
    "mul": lambda y, y_rev: y * y_rev,
    None: lambda y, y_rev: (y, y_rev),
}


class Bidirectional(Layer):
    """Bidirectional wrapper for RNNs: ``layer`` reads the sequence forwards, a copy
    of it (or ``backward_layer``) backwards, and their outputs are merged.

    The forward and backward layers are new layers built from ``layer``'s config
    (named ``forward_<name>`` and ``backward_<name>``), as in Keras; ``layer``'s own
    weights are not used. With ``return_sequences`` both get
    ``zero_output_for_mask=True`` and the backward outputs are flipped back to the
    input's time order before merging.

    Args:
        layer: a recurrent layer (``LSTM``, ``GRU``, ``SimpleRNN``, ``RNN``) with
            ``go_backwards=False``.
        merge_mode: ``"concat"`` (default), ``"sum"``, ``"ave"``, ``"mul"`` or
            ``None`` (return both outputs as a list).
        weights: optional initial weights, forward layer's then backward layer's.
        backward_layer: optional layer for the backward direction, with
            ``go_backwards=True`` and the same ``return_sequences``,
            ``return_state`` and ``stateful`` as ``layer``.

    Call arguments:
        sequences, mask, training: passed to both layers. initial_state: the
            forward layer's states followed by the backward layer's.

    Input shape:
        That of ``layer``: ``(batch, timesteps, features)``.

    Output shape:
        ``layer``'s output shape, its last axis doubled for ``"concat"``; two
        outputs for ``merge_mode=None``; with ``return_state``, the forward states
        then the backward states follow.

    Weights:
        The forward layer's, then the backward layer's.

    Raises:
        ValueError: ``layer`` or ``backward_layer`` not a layer; an unknown
            ``merge_mode``; both layers with the same ``go_backwards``, or
            different ``return_sequences``/``return_state``/``stateful``.

    Example:
    >>> import lamina as keras
    >>> layer = keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=True))
    >>> tuple(layer(keras.ops.ones((2, 5, 3))).shape)
    (2, 5, 8)
    """

    _promotes_integer_inputs = False  # the wrapped layers decide

    def __init__(
        self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs
    ):
        super().__init__(weights=weights, **kwargs)
        if not isinstance(layer, Layer):
            raise arg_error(self, "layer", "a recurrent layer", layer)
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise arg_error(self, "backward_layer", "a recurrent layer", backward_layer)
        if merge_mode not in _MERGES:
            raise arg_error(
                self,
                "merge_mode",
                "one of 'concat', 'sum', 'ave', 'mul', None",
                merge_mode,
            )
        self.forward_layer = _copy(layer, "forward_")
        self.backward_layer = (
            _copy(layer, "backward_", go_backwards=True)
            if backward_layer is None
            else backward_layer
        )
        for copy in (self.forward_layer, self.backward_layer):
            if hasattr(layer, "use_cudnn") and backward_layer is None:
                copy.use_cudnn = layer.use_cudnn
            if hasattr(copy, "zero_output_for_mask"):
                copy.zero_output_for_mask = copy.return_sequences
        self._check_pair()
        self.merge_mode = merge_mode
        self.stateful = layer.stateful
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.supports_masking = True
        self.input_spec = layer.input_spec

    def _check_pair(self):
        forward, backward = self.forward_layer, self.backward_layer
        if forward.go_backwards == backward.go_backwards:
            raise ValueError(
                f"{describe(self)}: the forward and backward layers must have "
                f"different `go_backwards`; got {forward.go_backwards} for both."
            )
        for name in ("stateful", "return_sequences", "return_state"):
            if getattr(forward, name) != getattr(backward, name):
                raise ValueError(
                    f"{describe(self)}: the forward and backward layers must have the "
                    f"same `{name}`; got {getattr(forward, name)} (forward) and "
                    f"{getattr(backward, name)} (backward)."
                )

    def build(self, sequences_shape, initial_state_shape=None):
        for sublayer in (self.forward_layer, self.backward_layer):
            if not sublayer.built:
                sublayer.build(sequences_shape)

    def call(self, sequences, initial_state=None, mask=None, training=None):
        forward_state = backward_state = None
        if initial_state is not None:
            half = len(initial_state) // 2
            forward_state, backward_state = initial_state[:half], initial_state[half:]
        kwargs = {"mask": mask, "training": training}
        y = self.forward_layer(sequences, initial_state=forward_state, **kwargs)
        y_rev = self.backward_layer(sequences, initial_state=backward_state, **kwargs)
        states = ()
        if self.return_state:
            states = (*y[1:], *y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = y_rev.flip(1)
        output = _MERGES[self.merge_mode](y, y_rev)
        if not self.return_state:
            return output
        return (*output, *states) if self.merge_mode is None else (output, *states)

    def compute_mask(self, inputs, previous_mask=None):
        if isinstance(previous_mask, (list, tuple)):
            previous_mask = previous_mask[0]
        output_mask = previous_mask if self.return_sequences else None
        masks = [output_mask] * (2 if self.merge_mode is None else 1)
        if self.return_state:
            masks += [None] * (
                len(self.forward_layer.state_size) + len(self.backward_layer.state_size)
            )
        return masks if len(masks) > 1 else masks[0]

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        shape = self.forward_layer.compute_output_shape(sequences_shape)
        states = ()
        if self.return_state:
            backward = self.backward_layer.compute_output_shape(sequences_shape)
            shape, states = shape[0], (*shape[1:], *backward[1:])
        if self.merge_mode == "concat":
            shape = (*shape[:-1], shape[-1] * 2)
        outputs = (shape, shape) if self.merge_mode is None else (shape,)
        if self.return_state:
            return (*outputs, *states)
        return outputs if self.merge_mode is None else shape

    @property
    def states(self):
        forward, backward = self.forward_layer.states, self.backward_layer.states
        if forward and backward:
            return tuple(forward) + tuple(backward)
        return None

    def reset_state(self):
        if not self.stateful:
            raise AttributeError(f"{describe(self)}: the layer is not stateful.")
        self.forward_layer.reset_state()
        self.backward_layer.reset_state()

    def reset_states(self):
        self.reset_state()

    def get_config(self):
        return {
            **super().get_config(),
            "merge_mode": self.merge_mode,
            "layer": serialize_layer(self.forward_layer),
            "backward_layer": serialize_layer(self.backward_layer),
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["layer"] = deserialize_layer(config["layer"], custom_objects)
        if config.get("backward_layer") is not None:
            config["backward_layer"] = deserialize_layer(
                config["backward_layer"], custom_objects
            )
        return cls(**config)


def _copy(layer, prefix, **overrides):
    """A new layer from ``layer``'s config, named ``prefix + name``."""
    config = serialize_layer(layer)
    inner = config["config"] = dict(config["config"])
    inner.update(overrides)
    name = inner["name"]
    inner["name"] = prefix + (name[len(prefix) :] if name.startswith(prefix) else name)
    return deserialize_layer(config)

"""TimeDistributed: apply a layer to every timestep of a sequence."""

from __future__ import annotations

from lamina.layers.call_context import call_context
from lamina.layers.core.wrapper import Wrapper
from lamina.layers.input_spec import InputSpec
from lamina.utils.validation import describe


class TimeDistributed(Wrapper):
    """Applies ``layer`` to every temporal slice of its input, with shared weights.

    The timesteps are folded into the batch (one call of ``layer`` on ``(batch *
    timesteps, ...)``) rather than looped over as Keras 3 does: the same numbers for
    any layer that treats samples independently, in one kernel call. (A layer
    whose training-time computation mixes samples, like BatchNormalization, sees
    all timesteps at once, as in tf.keras 2.)

    Args:
        layer: the layer to apply.

    Call arguments:
        inputs: ``(batch, timesteps, ...)``. mask: optional (batch, timesteps,
            ...); passed on (folded the same way) if ``layer`` takes one, and
            passed through to the output. training: passed to ``layer``.

    Input shape:
        ``(batch, timesteps, *inner)``, rank >= 3.

    Output shape:
        ``(batch, timesteps, *layer_output[1:])`` where ``layer_output`` is the
        layer's output shape for ``(batch, *inner)``.

    Weights:
        ``layer``'s.

    Raises:
        ValueError: ``layer`` not a layer; input of rank < 3; a mask whose first
            two axes differ from the input's.

    Example:
    >>> import lamina as keras
    >>> layer = keras.layers.TimeDistributed(keras.layers.Dense(8))
    >>> tuple(layer(keras.ops.ones((32, 10, 16))).shape)
    (32, 10, 8)
    """

    def __init__(self, layer, **kwargs):
        super().__init__(layer, **kwargs)
        self.supports_masking = True
        self.input_spec = InputSpec(min_ndim=3, name="(batch, timesteps, ...)")

    def build(self, input_shape):
        if not self.layer.built:
            self.layer.build((input_shape[0], *input_shape[2:]))

    def call(self, inputs, training=None, mask=None):
        batch, steps = inputs.shape[:2]
        kwargs = {}
        info = self.layer._call_info
        if info.has_training:
            kwargs["training"] = training
        if mask is not None and not call_context.symbolic:  # shapes ignore masks
            if mask.ndim < 2 or tuple(mask.shape[:2]) != (batch, steps):
                raise ValueError(
                    f"{describe(self)}: the mask must start with the input's (batch, "
                    f"timesteps) = {(batch, steps)}; got mask shape "
                    f"{tuple(mask.shape)}."
                )
            if info.has_mask:
                kwargs["mask"] = mask.reshape(batch * steps, *mask.shape[2:])
        outputs = self.layer.call(
            inputs.reshape(batch * steps, *inputs.shape[2:]), **kwargs
        )
        return outputs.reshape(batch, steps, *outputs.shape[1:])

    def compute_output_shape(self, input_shape):
        inner = self.layer.compute_output_shape((input_shape[0], *input_shape[2:]))
        return (inner[0], input_shape[1], *inner[1:])

"""GroupNormalization: normalize each sample over groups of channels."""

from __future__ import annotations

import torch.nn.functional as F

from lamina.layers.docs import fill_docs
from lamina.layers.input_spec import InputSpec
from lamina.layers.normalization.base_normalization import (
    ARGS,
    BaseNormalization,
    at_least_float32,
    cast,
    check_axis,
    known_sizes,
    resolve_axes,
)
from lamina.ops import normalization as norm
from lamina.utils.validation import arg_error, describe


@fill_docs(ARGS)
class GroupNormalization(BaseNormalization):
    """Splits the channels into ``groups`` and normalizes each sample over each
    group (its channels and every other non-batch axis); ``groups=1`` is layer
    normalization over all axes, ``groups=-1`` (one channel per group) instance
    normalization.

    Args:
        groups: number of groups (default 32), dividing the channels; -1: as many
            as channels (the config then holds that number, as in Keras).
        axis: the channel axis (default -1); not the batch axis.
        {epsilon}
        {center}
        {scale}
        {gamma_beta_args}
        {kwargs}

    Input shape:
        Rank >= 2 with a known channel size. Output shape: the input shape.

    Weights:
        ``gamma`` (if ``scale``), then ``beta`` (if ``center``), each
        ``(channels,)``.

    Raises:
        TypeError: ``axis`` not an int.
        ValueError: ``groups`` not a positive int or -1, a negative ``epsilon``;
            at build, an axis out of range or the batch axis, channels of unknown
            size, fewer than ``groups`` or not a multiple of it.

    Example:
    >>> import lamina as keras
    >>> layer = keras.layers.GroupNormalization(groups=2, epsilon=0.0)
    >>> x = keras.ops.convert_to_tensor([[1.0, 3.0, 0.0, 4.0]])
    >>> print(keras.ops.convert_to_numpy(layer(x)).round(3))
    [[-1.  1. -1.  1.]]
    """

    def __init__(
        self,
        groups=32,
        axis=-1,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        **kwargs,
    ):
        super().__init__(
            epsilon=epsilon,
            center=center,
            scale=scale,
            beta_initializer=beta_initializer,
            gamma_initializer=gamma_initializer,
            beta_regularizer=beta_regularizer,
            gamma_regularizer=gamma_regularizer,
            beta_constraint=beta_constraint,
            gamma_constraint=gamma_constraint,
            **kwargs,
        )
        if (
            not isinstance(groups, int)
            or isinstance(groups, bool)
            or (groups <= 0 and groups != -1)
        ):
            raise arg_error(self, "groups", "a positive int, or -1", groups)
        self.groups = groups
        self.axis = check_axis(self, axis, lists=False)
        self.autocast = False  # computes in float32 at least, as Keras

    def build(self, input_shape):
        (axis,) = resolve_axes(self, self.axis, input_shape)
        if axis == 0:
            raise arg_error(self, "axis", "a channel axis, not the batch axis 0", 0)
        (channels,) = known_sizes(self, input_shape, (axis,))
        if self.groups == -1:
            self.groups = channels
        if channels % self.groups:
            raise ValueError(
                f"{describe(self)}: `groups` must divide the number of channels "
                f"{channels} (axis {self.axis} of input shape "
                f"{tuple(input_shape)}); got groups={self.groups}."
            )
        self._axis = axis
        self.input_spec = InputSpec(ndim=len(input_shape), axes={axis: channels})
        self._add_gamma_beta((channels,), self.scale, self.center)

    def call(self, inputs):
        x = at_least_float32(inputs)
        gamma, beta = cast(self.gamma, x.dtype), cast(self.beta, x.dtype)
        # torch's kernel wants channels second: a channels-last view of them.
        view, restore = norm.channels_second(x, self._axis)
        outputs = F.group_norm(view, self.groups, gamma, beta, self.epsilon)
        return cast(restore(outputs), self._compute_torch_dtype)

    def get_config(self):
        return {
            **super().get_config(),
            "groups": self.groups,
            "axis": self.axis,
            **self._gamma_beta_config(),
        }

"""What every convolution layer shares on top of ``SpatialLayer`` (data_format,
layouts, input spec): the spatial arguments (kernel_size, strides, padding,
dilation_rate), activation and bias, output shapes from ``lamina.ops.shapes``, and
the convolutions' own argument paragraphs of the docstrings.

Differences from Keras 3, on purpose: ``strides > 1`` together with
``dilation_rate > 1`` is accepted (torch computes it exactly; TensorFlow and so
Keras refuse it), and an input must have exactly ``rank + 2`` axes.
"""

from __future__ import annotations

from lamina import activations
from lamina.layers.spatial import SpatialLayer
from lamina.layers.weight_options import (
    set_weight_options,
    weight_options,
    weight_options_config,
)
from lamina.ops import shapes
from lamina.utils.validation import check_choice, normalize_tuple, shape_error


class BaseSpatialConv(SpatialLayer):
    """Base of the convolution layers (not public): validates and stores the
    arguments they all share, creates the bias, applies the activation, computes
    output shapes. Subclasses add their kernels in ``build`` and run their
    convolution in ``call``.

    ``**kwargs`` go on to ``SpatialLayer`` (``data_format``) and ``Layer``
    (``activity_regularizer``, ``name``, ...)."""

    _declares_output_shape = True  # symbolic calls need no stand-in run

    def __init__(
        self,
        *,
        rank,
        kernel_size,
        strides=1,
        padding="valid",
        dilation_rate=1,
        activation=None,
        use_bias=True,
        bias_initializer="zeros",
        bias_regularizer=None,
        bias_constraint=None,
        allow_causal=False,
        **kwargs,
    ):
        super().__init__(rank=rank, **kwargs)
        self.kernel_size = normalize_tuple(self, "kernel_size", kernel_size, rank)
        self.strides = normalize_tuple(self, "strides", strides, rank)
        self.dilation_rate = normalize_tuple(self, "dilation_rate", dilation_rate, rank)
        choices = shapes.PADDINGS if allow_causal else ("valid", "same")
        self.padding = check_choice(self, "padding", padding, choices)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        set_weight_options(
            self, "bias", bias_initializer, bias_regularizer, bias_constraint
        )

    # ------------------------------------------------------------ build
    def _check_input(self, input_shape) -> int:
        """The channel count of ``input_shape``, checked: known and the output of
        every spatial axis non-empty. Fixes the channel axis in the input spec."""
        input_shape = tuple(input_shape)
        if len(input_shape) != self.rank + 2:
            raise shape_error(
                self, f"input of rank {self.rank + 2} {self._layout()}", input_shape
            )
        channels = input_shape[self._channel_axis]
        if channels is None:
            raise shape_error(
                self, f"input with a known channel axis {self._layout()}", input_shape
            )
        output_shape = self.compute_output_shape(input_shape)
        if any(n is not None and n <= 0 for n in self._spatial(output_shape)):
            raise shape_error(
                self,
                f"an input large enough for kernel_size={self.kernel_size}, "
                f"dilation_rate={self.dilation_rate}, padding={self.padding!r} "
                f"(the output shape would be {output_shape})",
                input_shape,
            )
        self.input_spec = self._input_spec({self._channel_axis: channels})
        return channels

    def _bias_weight(self, size: int):
        if not self.use_bias:
            return None
        return self.add_weight(
            shape=(size,), name="bias", **weight_options(self, "bias")
        )

    # ------------------------------------------------------------ shapes
    def _output_length(self, n, axis: int):
        return shapes.conv_output_length(
            n,
            self.kernel_size[axis],
            self.padding,
            self.strides[axis],
            self.dilation_rate[axis],
        )

    def _output_channels(self, input_channels):
        return self.filters

    def compute_output_shape(self, input_shape):
        output_shape = list(
            self._map_spatial(input_shape, self._output_length, range(self.rank))
        )
        channel_axis = self._channel_axis
        output_shape[channel_axis] = self._output_channels(output_shape[channel_axis])
        return tuple(output_shape)

    # ------------------------------------------------------------ call
    def _activate(self, outputs):
        return activations.apply(self.activation, outputs)

    # ------------------------------------------------------------ config
    def get_config(self):
        return {
            **super().get_config(),
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            **weight_options_config(self, "bias", activity=True),
        }


# ----------------------------------------------------------------- docs
# The convolutions' own argument paragraphs, besides the shared ones of
# ``lamina.layers.docs`` (``fill_docs(ARGS)`` fills both in).
ARGS = {
    "padding_causal": """padding: ``"valid"``, ``"same"`` (zeros so that
    ``output = ceil(input / strides)``, the extra zero of an odd total at the end)
    or ``"causal"`` (``(kernel_size - 1) * dilation_rate`` zeros before the
    input only: ``output[t]`` never sees ``input[t + 1:]``).""",
    "dilation_rate": """dilation_rate: int or tuple of {rank} ints, the spacing
    between kernel taps (default 1). Unlike Keras, it may exceed 1 together with
    ``strides``.""",
    "groups": """groups: int dividing ``filters`` and the input channels; channel
    group ``g`` of the input is convolved to channel group ``g`` of the output
    (default 1).""",
    "depth_multiplier": """depth_multiplier: int, output channels per input channel
    of the depthwise step (default 1).""",
    "depthwise_args": """depthwise_initializer, bias_initializer: default
    ``"glorot_uniform"``, ``"zeros"``.
depthwise_regularizer, bias_regularizer, activity_regularizer: optional.
depthwise_constraint, bias_constraint: optional, applied after updates.""",
    "separable_args": """depthwise_initializer, pointwise_initializer,
    bias_initializer: default ``"glorot_uniform"``, ``"glorot_uniform"``,
    ``"zeros"``.
depthwise_regularizer, pointwise_regularizer, bias_regularizer,
    activity_regularizer: optional.
depthwise_constraint, pointwise_constraint, bias_constraint: optional, applied
    after updates.""",
    "output_padding": """output_padding: None, or int or tuple of {rank} ints, each
    less than its stride: cells added at the end of each output axis (see Output
    shape).""",
    "conv_length": """per spatial axis, with ``k' = (kernel_size - 1) *
dilation_rate + 1``: ``ceil((n - k' + 1) / strides)`` for ``"valid"``,
``ceil(n / strides)`` for ``"same"`` (and ``"causal"``).""",
    "transpose_length": """per spatial axis, with ``k' = (kernel_size - 1) *
dilation_rate + 1``: without ``output_padding``, ``n * strides + max(k' - strides,
0)`` for ``"valid"`` and ``n * strides`` for ``"same"``; with it, ``(n - 1) *
strides + k' + output_padding`` for ``"valid"`` and ``(n - 1) * strides + k' % 2 +
output_padding`` for ``"same"``.""",
    "lora_args": """lora_rank, lora_alpha: keyword arguments (in ``**kwargs``, as in
    Keras): with ``lora_rank``, ``enable_lora(lora_rank, lora_alpha)`` once
    built: the kernel is frozen and a low-rank update, scaled by ``lora_alpha /
    lora_rank`` (default alpha: the rank), is learned.""",
    "lora_weights": """With LoRA, then ``lora_kernel_a`` ``(*kernel_size, channels
// groups, rank)`` and ``lora_kernel_b`` ``(rank, filters)``; the convolution
uses ``kernel + (lora_alpha / rank) * lora_kernel_a @ lora_kernel_b``, and
weights files hold that merged kernel, as Keras writes them. ``layer.kernel``
stays the frozen base (Keras returns the merged kernel).""",
    "lora_raises": """ValueError: ``lora_rank`` not a positive int (construction);
    ``enable_lora`` before build, twice, or with a ``kernel_constraint``.""",
    "conv_raises": """ValueError: at construction, a size, stride or dilation < 1,
    a tuple of the wrong length, an unknown ``padding`` or ``data_format``;
    at build, an input of the wrong rank, with unknown channels, or too small
    for the kernel.""",
}

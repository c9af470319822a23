"""Convolutions with Keras-layout kernels and Keras/TensorFlow padding, on torch.

Pure functions, no layer state. ``inputs`` are in either data format and kernels
in Keras's layout:

- ``conv``: kernel ``(*kernel_size, in_channels / groups, filters)``;
- ``depthwise_conv``: kernel ``(*kernel_size, in_channels, depth_multiplier)``;
- ``separable_conv``: that depthwise kernel, then a pointwise kernel
  ``(1, ..., 1, in_channels * depth_multiplier, filters)``;
- ``conv_transpose``: kernel ``(*kernel_size, filters, in_channels)``.

Sizes and paddings come from ``lamina.ops.shapes`` (``same`` puts the extra cell at
the end, ``causal`` pads ``(k - 1) * d`` before, a transposed convolution is the
adjoint of the forward one, as in TensorFlow).

How torch is driven. channels_last inputs are permuted *views* with channels-last
strides, which oneDNN runs on its NHWC kernels and answers with a channels-last
result whose permuted view is a contiguous NHWC tensor: no activation is copied.
1D channels_last inputs are lifted to 2D with a unit height (torch's conv1d copies
such views; its conv2d does not). channels_first inputs run in torch's native
NCHW layout and come back contiguous. Kernels are permuted views of the
Keras-layout weights, which the layers store in the memory order torch reads
(``kernel_memory_order``: channels-last weights for channels_last data), so the
view needs no copy. Padding is torch's own symmetric ``padding`` argument
wherever that is exact; only the extra cell of an odd ``same`` total and the
``causal`` zeros pad the input explicitly. Transposed convolutions never slice their
output: an asymmetric crop becomes leading zeros on the (smaller) input.

Layout choices (``python -m bench.cases_conv`` measures them: fwd+bwd, 1 thread,
min CPU time; ms). channels_last data as views vs copied to contiguous NCHW:
Conv1D 6.2 vs 11.3, Conv2D 17.4 vs 24.9, Conv3D 19.2 vs 20.8, DepthwiseConv2D 1.1
vs 4.6, SeparableConv2D 3.8 vs 12.9, Conv2DTranspose 2.8 vs 4.7: views everywhere.
channels_first data natively vs through channels-last and back to contiguous
NCHW: Conv2D 19.6-20.4 vs 20.9-21.6, DepthwiseConv2D 1.8-2.1 vs 2.9-3.2,
SeparableConv2D 6.0-6.6 vs 6.5-6.9, Conv3D 19.8-20.4 vs 20.3-20.7; only the
transposed convolutions gain (2D 4.0-4.5 vs 3.7, up to 20% on other shapes, 0% on
some), too little and too shape-dependent to give channels_first users anything
but torch's native layout (leaving the output channels-last strided would gain
more but breaks ``.view`` on it).

Other formulations of the stride-2 transposed convolution, measured on issue 17's
Conv2DTranspose(32, 3, strides=2, "same") of (32, 32, 32, 64) (fwd + bwd of a
random upstream gradient, 1 thread, min CPU time; ``python -m
bench.cases_kernels``), all slower than torch's oneDNN kernel on channels-last
views (75-111 ms): sub-pixel (one 2x2 convolution with 4x the filters, one per
output phase, then a pixel shuffle) 132-140 ms, 16/9 of the multiply-adds and a
shuffle copy each way; one matrix product of every input pixel by every tap plus a
col2im scatter, with a gather backward, 107 vs 92 ms (the products have only 64
input channels to reduce over); channels_first data through channels-last and
back, 1.1-1.4x slower than NCHW on four shapes. torch's forward already runs near
the machine's per-core peak; its weight gradient is the slow part (30 ms of the 70).
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F

from lamina import config
from lamina.ops import shapes

__all__ = ["conv", "conv_transpose", "depthwise_conv", "separable_conv"]

CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
CONV_TRANSPOSE = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
RANKS = tuple(CONV)
# (batch, *spatial, channels) <-> (batch, channels, *spatial), and the Keras kernel
# (*kernel_size, a, b) -> torch's (b, a, *kernel_size); both as permutations.
TO_CHANNELS_FIRST = {r: (0, r + 1, *range(1, r + 1)) for r in RANKS}
TO_CHANNELS_LAST = {r: (0, *range(2, r + 2), 1) for r in RANKS}
KERNEL_TO_TORCH = {r: (r + 1, r, *range(r)) for r in RANKS}


def _tuple(value, rank: int) -> tuple[int, ...]:
    return (value,) * rank if isinstance(value, int) else tuple(value)


def _is_channels_last(data_format) -> bool:
    if data_format == "channels_last":  # what layers pass: already standardized
        return True
    return config.standardize_data_format(data_format) == "channels_last"


def _lifted(rank: int, channels_last: bool) -> bool:
    """Whether to run a rank-1 channels_last op as rank 2 with a unit height."""
    return rank == 1 and channels_last


def to_torch_layout(inputs, rank: int, channels_last: bool):
    """``inputs`` as torch's ``(batch, channels, *spatial)``: a view, never a copy
    (with a unit height axis added for lifted 1D inputs)."""
    if not channels_last:
        return inputs
    x = inputs.permute(TO_CHANNELS_FIRST[rank])
    return x.unsqueeze(2) if rank == 1 else x


def from_torch_layout(outputs, rank: int, channels_last: bool):
    """Undo ``to_torch_layout`` on an output (a view)."""
    if not channels_last:
        return outputs
    if rank == 1:
        outputs = outputs.squeeze(2)
    return outputs.permute(TO_CHANNELS_LAST[rank])


def torch_kernel(kernel, rank: int, channels_last: bool):
    """A Keras-layout kernel ``(*kernel_size, a, b)`` as torch's ``(b, a, *k)`` view."""
    weight = kernel.permute(KERNEL_TO_TORCH[rank])
    return weight.unsqueeze(2) if _lifted(rank, channels_last) else weight


def cached_arguments(function):
    """``lru_cache`` for the argument arithmetic, bypassed while ``torch.compile``
    traces (dynamo warns about cache wrappers; its guards specialise on the
    sizes anyway)."""
    cached = functools.lru_cache(maxsize=512)(function)

    @functools.wraps(function)
    def lookup(*args):
        if torch.compiler.is_compiling():
            return function(*args)
        return cached(*args)

    return lookup


def _padding(padding, choices) -> str:
    """``padding`` lower-cased, or a ValueError (checked on cache misses only)."""
    value = padding.lower() if isinstance(padding, str) else padding
    if value not in choices:
        raise ValueError(
            f"`padding` must be one of {', '.join(map(repr, choices))}; "
            f"got padding={padding!r}."
        )
    return value


@cached_arguments
def conv_arguments(spatial, kernel_size, padding, strides, dilation, lifted):
    """torch's ``(stride, padding, dilation)`` and the ``F.pad`` widths (empty when
    none) for inputs of ``spatial`` size; cached per input size."""
    padding = _padding(padding, shapes.PADDINGS)
    per_axis = [
        shapes.torch_conv_padding(n, k, padding, s, d)
        for n, k, s, d in zip(spatial, kernel_size, strides, dilation)
    ]
    symmetric = tuple(p[0] for p in per_axis)
    explicit = ()
    if any(p[1] or p[2] for p in per_axis):
        explicit = tuple(width for p in reversed(per_axis) for width in p[1:])
    if lifted:
        return (1, *strides), (0, *symmetric), (1, *dilation), explicit
    return strides, symmetric, dilation, explicit


@cached_arguments
def conv_transpose_arguments(kernel_size, padding, output_padding, strides, dilation):
    """torch's ``(padding, output_padding)`` and the ``F.pad`` widths putting zeros
    before the input (empty when none), per ``shapes.torch_conv_transpose_padding``.
    """
    padding = _padding(padding, ("valid", "same"))
    output_padding = output_padding or (None,) * len(kernel_size)
    per_axis = [
        shapes.torch_conv_transpose_padding(k, padding, op, s, d)
        for k, op, s, d in zip(kernel_size, output_padding, strides, dilation)
    ]
    explicit = ()
    if any(p[0] for p in per_axis):
        explicit = tuple(width for p in reversed(per_axis) for width in (p[0], 0))
    return tuple(p[1] for p in per_axis), tuple(p[2] for p in per_axis), explicit


def _conv_torch_layout(
    x, weight, bias, rank, channels_last, strides, padding, dilation
):
    """The convolution of a torch-layout input by a torch-layout weight."""
    groups = x.shape[1] // weight.shape[1]
    lifted = _lifted(rank, channels_last)
    spatial = tuple(x.shape[3:] if lifted else x.shape[2:])
    kernel_size = tuple(weight.shape[3:] if lifted else weight.shape[2:])
    stride, symmetric, dilation, explicit = conv_arguments(
        spatial, kernel_size, padding, strides, dilation, lifted
    )
    if explicit:
        x = F.pad(x, explicit)
    op = CONV[2 if lifted else rank]
    return op(x, weight, bias, stride, symmetric, dilation, groups)


@cached_arguments
def conv_runner(
    input_shape,
    kernel_shape,
    strides,
    padding,
    channels_last,
    dilation,
    torch_layout=False,
):
    """``run(inputs, kernel, bias)``: the convolution of inputs of exactly
    ``input_shape`` by a Keras-layout kernel of ``kernel_shape`` (arguments as
    ``conv`` normalizes them), with every size, padding and permutation worked
    out once; cached per argument tuple, so a layer's repeated calls cost one
    lookup and the torch calls themselves. With ``torch_layout`` (channels_last
    data of rank 2 or 3 only), ``run`` takes and returns the data in torch's
    ``(batch, channels, *spatial)`` layout: a run plan permutes once around
    consecutive such layers."""
    rank = len(input_shape) - 2
    lifted = _lifted(rank, channels_last)
    if torch_layout and (lifted or not channels_last):
        raise ValueError("conv_runner: torch_layout is for channels_last 2D/3D")
    channels = input_shape[-1] if channels_last else input_shape[1]
    spatial = tuple(input_shape[1:-1] if channels_last else input_shape[2:])
    groups = channels // kernel_shape[-2]
    stride, symmetric, dilation, explicit = conv_arguments(
        spatial, tuple(kernel_shape[:rank]), padding, strides, dilation, lifted
    )
    op = CONV[2 if lifted else rank]
    to_first = TO_CHANNELS_FIRST[rank] if channels_last else None
    to_last = TO_CHANNELS_LAST[rank]
    kernel_order = KERNEL_TO_TORCH[rank]
    if torch_layout:

        def run_torch_layout(x, kernel, bias):
            if explicit:
                x = F.pad(x, explicit)
            weight = kernel.permute(kernel_order)
            return op(x, weight, bias, stride, symmetric, dilation, groups)

        return run_torch_layout

    def run(inputs, kernel, bias):
        x = inputs if to_first is None else inputs.permute(to_first)
        weight = kernel.permute(kernel_order)
        if lifted:
            x, weight = x.unsqueeze(2), weight.unsqueeze(2)
        if explicit:
            x = F.pad(x, explicit)
        outputs = op(x, weight, bias, stride, symmetric, dilation, groups)
        if to_first is None:
            return outputs
        return (outputs.squeeze(2) if lifted else outputs).permute(to_last)

    return run


def kernel_memory_order(rank: int, channels_last: bool, depthwise: bool = False):
    """The order, outermost first, in which to lay out a Keras-layout kernel's
    memory (``Variable.lay_out``) so that its torch-layout view is the weight
    torch's kernels read without a copy: channels-last (``(out, *k, in)``) for
    channels_last data, contiguous ``(out, in, *k)`` for channels_first; a
    depthwise kernel ``(*k, in, multiplier)`` as ``(in, multiplier, *k)`` for
    both. The same for ``conv_transpose``'s ``(*k, filters, in)`` kernels.

    Measured on the small CNN at batch 1 (1 thread, torch 2.13): a 3x3 conv of
    (1, 13, 13, 32) to 64 channels takes 88 us with the Keras-contiguous kernel
    (torch copies the weight on every call), 52 us laid out channels-last."""
    if depthwise:
        return (rank, rank + 1, *range(rank))
    if channels_last:
        return (rank + 1, *range(rank), rank)
    return KERNEL_TO_TORCH[rank]


def conv(
    inputs,
    kernel,
    strides=1,
    padding="valid",
    data_format=None,
    dilation_rate=1,
    bias=None,
):
    """N-D convolution (cross-correlation), Keras's ``ops.conv`` plus a fused
    ``bias``. ``groups`` is ``in_channels // kernel.shape[-2]``."""
    rank = inputs.ndim - 2
    run = conv_runner(
        inputs.shape,
        kernel.shape,
        _tuple(strides, rank),
        padding,
        _is_channels_last(data_format),
        _tuple(dilation_rate, rank),
    )
    return run(inputs, kernel, bias)


def depthwise_kernel_as_conv(kernel):
    """``(*k, in, multiplier)`` -> ``(*k, 1, in * multiplier)``: a grouped-conv
    kernel with one group per input channel (a view)."""
    *kernel_size, channels, multiplier = kernel.shape
    return kernel.reshape(*kernel_size, 1, channels * multiplier)


def depthwise_conv(
    inputs,
    kernel,
    strides=1,
    padding="valid",
    data_format=None,
    dilation_rate=1,
    bias=None,
):
    """Depthwise convolution: input channel ``c`` is convolved with
    ``kernel[..., c, :]``; output channel ``c * multiplier + m``."""
    return conv(
        inputs,
        depthwise_kernel_as_conv(kernel),
        strides,
        padding,
        data_format,
        dilation_rate,
        bias,
    )


def separable_conv(
    inputs,
    depthwise_kernel,
    pointwise_kernel,
    strides=1,
    padding="valid",
    data_format=None,
    dilation_rate=1,
    bias=None,
):
    """Depthwise convolution, then a pointwise (1x1) convolution mixing channels;
    both run in torch's layout, one permutation in and one out. (A 1x1 conv beat
    ``F.linear`` over the NHWC channel axis in ``bench``.)"""
    rank = inputs.ndim - 2
    channels_last = _is_channels_last(data_format)
    x = to_torch_layout(inputs, rank, channels_last)
    depthwise = torch_kernel(
        depthwise_kernel_as_conv(depthwise_kernel), rank, channels_last
    )
    pointwise = torch_kernel(pointwise_kernel, rank, channels_last)
    strides, dilation = _tuple(strides, rank), _tuple(dilation_rate, rank)
    x = _conv_torch_layout(
        x, depthwise, None, rank, channels_last, strides, padding, dilation
    )
    ones = (1,) * rank
    outputs = _conv_torch_layout(
        x, pointwise, bias, rank, channels_last, ones, "valid", ones
    )
    return from_torch_layout(outputs, rank, channels_last)


def _onednn_unit_kernel_bug(op, weight, x, output_padding) -> bool:
    """torch 2.13's channels-last ``conv_transpose2d`` with a 1x1 kernel and a
    nonzero ``output_padding`` returns a wrong *kernel* gradient (outputs and input
    gradients are right; NCHW and 3D are unaffected). Such calls run in NCHW."""
    return (
        op is F.conv_transpose2d
        and weight.shape[2:] == (1, 1)
        and any(output_padding)
        and not x.is_contiguous()
    )


def conv_transpose(
    inputs,
    kernel,
    strides=1,
    padding="valid",
    output_padding=None,
    data_format=None,
    dilation_rate=1,
    bias=None,
):
    """N-D transposed convolution, TensorFlow's definition (the adjoint of
    ``conv`` with the same arguments), Keras's output sizes; plus a fused ``bias``.
    """
    rank = inputs.ndim - 2
    channels_last = _is_channels_last(data_format)
    strides, dilation = _tuple(strides, rank), _tuple(dilation_rate, rank)
    if output_padding is not None:
        output_padding = _tuple(output_padding, rank)
    kernel_size = tuple(kernel.shape[:rank])
    torch_padding, torch_output_padding, explicit = conv_transpose_arguments(
        kernel_size, padding, output_padding, strides, dilation
    )
    x = to_torch_layout(inputs, rank, channels_last)
    weight = torch_kernel(kernel, rank, channels_last)
    if explicit:
        x = F.pad(x, explicit)
    if _lifted(rank, channels_last):
        strides, dilation = (1, *strides), (1, *dilation)
        torch_padding, torch_output_padding = (
            (0, *torch_padding),
            (0, *torch_output_padding),
        )
    op = CONV_TRANSPOSE[2 if _lifted(rank, channels_last) else rank]
    if _onednn_unit_kernel_bug(op, weight, x, torch_output_padding):
        x = x.contiguous()
    outputs = op(
        x, weight, bias, strides, torch_padding, torch_output_padding, 1, dilation
    )
    return from_torch_layout(outputs, rank, channels_last)

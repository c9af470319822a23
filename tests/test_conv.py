"""Convolution layers beyond the Keras oracle (tests/cases_conv.py):

- the public per-rank classes stay thin and keep Keras's signatures;
- Keras's documented examples;
- what torch allows and TensorFlow (so Keras) forbids, against a NumPy reference;
- transposed convolutions against a NumPy reference of TensorFlow's definition,
  and as the adjoint of the forward convolution;
- the channels_last fast path hands back contiguous NHWC results (no copies).
"""

from __future__ import annotations

import inspect
import itertools

import keras
import numpy as np
import pytest
import torch

import lamina
from lamina.layers import convolutional

PUBLIC = sorted(
    {getattr(convolutional, name) for name in convolutional.__all__},
    key=lambda cls: cls.__name__,
)
# The classes' shape (thin per-rank classes) is checked in tests/test_structure.py.


@pytest.mark.parametrize("name", convolutional.__all__)
def test_signatures_and_aliases_are_keras(name):
    ours, theirs = getattr(lamina.layers, name), getattr(keras.layers, name)
    assert ours.__name__ == theirs.__name__  # Convolution2D is Conv2D in both
    assert str(inspect.signature(ours.__init__)) == str(
        inspect.signature(theirs.__init__)
    )


def test_every_keras_convolution_is_here():
    keras_names = {
        name
        for name in dir(keras.layers)
        if "Conv" in name and "LSTM" not in name  # ConvLSTM: the RNN family
    }
    assert keras_names == set(convolutional.__all__)


# --------------------------------------------------- Keras's documentation
def test_conv1d_documented_shapes():
    inputs = lamina.Input((10, 3))
    layer = lamina.layers.Conv1D(filters=2, kernel_size=4, use_bias=False)
    assert layer(inputs).shape == (None, 7, 2)
    assert layer.count_params() == 24
    same = lamina.layers.Conv1D(filters=2, kernel_size=4, padding="same")
    assert same(inputs).shape == (None, 10, 2)


def test_separable_conv1d_on_ones_is_the_hand_computation():
    layer = lamina.layers.SeparableConv1D(
        filters=2, kernel_size=4, use_bias=False, depth_multiplier=1
    )
    out = layer(torch.ones(1, 10, 3)).detach().numpy()
    depthwise, pointwise = layer.get_weights()  # (4, 3, 1), (1, 3, 2)
    # Every window sees ones: channel c gives sum_k depthwise[k, c], then the
    # pointwise step mixes the channels.
    per_channel = depthwise[:, :, 0].sum(axis=0)
    expected = per_channel @ pointwise[0]
    assert out.shape == (1, 7, 2)
    np.testing.assert_allclose(out, np.broadcast_to(expected, (1, 7, 2)), rtol=1e-5)


def test_symbolic_shapes_pass_unknown_sizes_through():
    conv = lamina.layers.Conv2D(2, 3, strides=2, padding="same")
    assert conv.compute_output_shape((None, None, 7, 3)) == (None, None, 4, 2)
    transpose = lamina.layers.Conv2DTranspose(
        2, 3, strides=2, data_format="channels_first"
    )
    assert transpose.compute_output_shape((None, 3, None, 5)) == (None, 2, None, 11)
    depthwise = lamina.layers.DepthwiseConv1D(3, depth_multiplier=2)
    assert depthwise(lamina.Input((None, 4))).shape == (None, None, 8)


def test_depthwise_kernel_is_keras_2_name_of_kernel():
    layer = lamina.layers.DepthwiseConv2D(3)
    layer.build((None, 8, 8, 3))
    assert layer.depthwise_kernel is layer.kernel
    assert [w.name for w in layer.weights] == ["kernel", "bias"]


# ------------------------------------------------------ NumPy references
def _np_conv(x, kernel, strides, pads, dilation, groups=1):
    """Channels-last convolution by summing shifted, strided slices per tap."""
    rank = x.ndim - 2
    x = np.pad(x, [(0, 0), *pads, (0, 0)])
    sizes = [
        (x.shape[1 + i] - (kernel.shape[i] - 1) * dilation[i] - 1) // strides[i] + 1
        for i in range(rank)
    ]
    filters = kernel.shape[-1]
    per_in, per_out = kernel.shape[-2], filters // groups
    out = np.zeros((x.shape[0], *sizes, filters))
    for tap in np.ndindex(*kernel.shape[:rank]):
        window = tuple(
            slice(t * d, t * d + (n - 1) * s + 1, s)
            for t, d, n, s in zip(tap, dilation, sizes, strides)
        )
        patch = x[(slice(None), *window)]
        for g in range(groups):
            out[..., g * per_out : (g + 1) * per_out] += (
                patch[..., g * per_in : (g + 1) * per_in]
                @ kernel[tap][:, g * per_out : (g + 1) * per_out]
            )
    return out


def _tf_same_pads(sizes, kernel_size, strides, dilation):
    pads = []
    for n, k, s, d in zip(sizes, kernel_size, strides, dilation):
        total = max((-(-n // s) - 1) * s + (k - 1) * d + 1 - n, 0)
        pads.append((total // 2, total - total // 2))
    return pads


def _np_conv_transpose(y, kernel, strides, dilation, padding, output_padding):
    """TensorFlow's conv_transpose: scatter every input cell through the kernel
    (the adjoint of the forward convolution), then keep the window TF's forward
    padding of the Keras-length output selects."""
    rank = y.ndim - 2
    spans = [(k - 1) * d + 1 for k, d in zip(kernel.shape[:rank], dilation)]
    lengths = []
    for i, (n, s, span) in enumerate(zip(y.shape[1:-1], strides, spans)):
        op = None if output_padding is None else output_padding[i]
        if op is None:  # Keras's lengths, as documented
            lengths.append(n * s + max(span - s, 0) if padding == "valid" else n * s)
        elif padding == "valid":
            lengths.append((n - 1) * s + span + op)
        else:
            lengths.append((n - 1) * s + span % 2 + op)
    before = [0] * rank
    if padding == "same":  # TF: forward SAME padding for an input of `lengths`
        before = [
            max((n - 1) * s + span - length, 0) // 2
            for n, s, span, length in zip(y.shape[1:-1], strides, spans, lengths)
        ]
    buffer = [
        b + length + span + s * n
        for b, length, span, s, n in zip(before, lengths, spans, strides, y.shape[1:-1])
    ]
    full = np.zeros((y.shape[0], *buffer, kernel.shape[-2]))
    for tap in np.ndindex(*kernel.shape[:rank]):
        window = tuple(
            slice(t * d, t * d + (n - 1) * s + 1, s)
            for t, d, n, s in zip(tap, dilation, y.shape[1:-1], strides)
        )
        full[(slice(None), *window)] += y @ kernel[tap].T
    keep = tuple(slice(b, b + length) for b, length in zip(before, lengths))
    return full[(slice(None), *keep)]


def _run(layer, x, weights):
    layer.build(x.shape)
    layer.set_weights(weights)
    return layer(torch.as_tensor(x)).detach().numpy()


def _random(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


STRIDED_DILATED = [  # torch computes these; TensorFlow and Keras refuse them
    (1, {"kernel_size": 3, "strides": 2, "dilation_rate": 2}, "valid"),
    (1, {"kernel_size": 2, "strides": 3, "dilation_rate": 2}, "causal"),
    (2, {"kernel_size": 3, "strides": (2, 3), "dilation_rate": (2, 1)}, "same"),
    (2, {"kernel_size": (2, 3), "strides": 2, "dilation_rate": 3}, "valid"),
    (3, {"kernel_size": 2, "strides": (2, 1, 3), "dilation_rate": (1, 2, 2)}, "same"),
]


def _tuples(kwargs, rank):
    return [
        (kwargs[k],) * rank if isinstance(kwargs[k], int) else kwargs[k]
        for k in ("kernel_size", "strides", "dilation_rate")
    ]


@pytest.mark.parametrize("rank, kwargs, padding", STRIDED_DILATED)
def test_conv_with_strides_and_dilation_matches_numpy(rank, kwargs, padding):
    cls = getattr(lamina.layers, f"Conv{rank}D")
    x = _random((2, *(11, 10, 9)[:rank], 4), rank)
    kernel_size, strides, dilation = _tuples(kwargs, rank)
    kernel = _random((*kernel_size, 2, 6), 7)
    bias = _random((6,), 8)
    layer = cls(filters=6, groups=2, padding=padding, **kwargs)
    if padding == "same":
        pads = _tf_same_pads(x.shape[1:-1], kernel_size, strides, dilation)
    elif padding == "causal":
        pads = [((kernel_size[0] - 1) * dilation[0], 0)]
    else:
        pads = [(0, 0)] * rank
    expected = _np_conv(x, kernel, strides, pads, dilation, groups=2) + bias
    np.testing.assert_allclose(_run(layer, x, [kernel, bias]), expected, atol=1e-4)


@pytest.mark.parametrize("rank, kwargs, padding", STRIDED_DILATED[:3])
def test_depthwise_and_separable_with_strides_and_dilation_match_numpy(
    rank, kwargs, padding
):
    if padding == "causal":
        padding = "same"
    x = _random((2, *(11, 10)[:rank], 3), rank)
    kernel_size, strides, dilation = _tuples(kwargs, rank)
    depthwise = _random((*kernel_size, 3, 2), 3)
    pointwise = _random((*(1,) * rank, 6, 4), 4)
    pads = (
        _tf_same_pads(x.shape[1:-1], kernel_size, strides, dilation)
        if padding == "same"
        else [(0, 0)] * rank
    )
    # A depthwise kernel is a grouped kernel with one group per input channel.
    grouped = depthwise.reshape(*kernel_size, 1, 6)
    expected_depthwise = _np_conv(x, grouped, strides, pads, dilation, groups=3)
    layer = getattr(lamina.layers, f"DepthwiseConv{rank}D")(
        padding=padding, depth_multiplier=2, use_bias=False, **kwargs
    )
    np.testing.assert_allclose(
        _run(layer, x, [depthwise]), expected_depthwise, atol=1e-4
    )
    layer = getattr(lamina.layers, f"SeparableConv{rank}D")(
        4, padding=padding, depth_multiplier=2, use_bias=False, **kwargs
    )
    expected = expected_depthwise @ pointwise.reshape(6, 4)
    np.testing.assert_allclose(
        _run(layer, x, [depthwise, pointwise]), expected, atol=1e-4
    )


TRANSPOSES = [
    # (rank, kernel_size, strides, dilation, padding, output_padding)
    *[
        (1, k, s, d, p, op)
        for k, s, d, p in itertools.product(
            (1, 2, 3, 4), (1, 2, 3), (1, 2), ("valid", "same")
        )
        for op in (None, s - 1)
    ],
    (2, (3, 4), (2, 2), (1, 1), "same", None),  # odd kernel, stride 2: TF's crop
    (2, (3, 3), (2, 3), (2, 1), "same", (1, 0)),
    (2, (5, 2), (3, 1), (1, 3), "valid", None),
    (3, (3, 2, 1), (2, 1, 3), (1, 2, 1), "same", (1, 0, 2)),
    (3, (2, 3, 3), (2, 2, 1), (2, 1, 1), "valid", (0, 1, 0)),
]


@pytest.mark.parametrize(
    "rank, kernel_size, strides, dilation, padding, output_padding", TRANSPOSES
)
def test_conv_transpose_is_tensorflows_definition(
    rank, kernel_size, strides, dilation, padding, output_padding
):
    tuples = [
        (v,) * rank if isinstance(v, int) else v
        for v in (kernel_size, strides, dilation)
    ]
    if isinstance(output_padding, int):
        output_padding = (output_padding,) * rank
    y = _random((2, *(5, 4, 3)[:rank], 3), rank)
    kernel = _random((*tuples[0], 2, 3), 1)
    layer = getattr(lamina.layers, f"Conv{rank}DTranspose")(
        2,
        kernel_size,
        strides=strides,
        dilation_rate=dilation,
        padding=padding,
        output_padding=output_padding,
        use_bias=False,
    )
    expected = _np_conv_transpose(y, kernel, *tuples[1:], padding, output_padding)
    np.testing.assert_allclose(_run(layer, y, [kernel]), expected, atol=1e-4)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize(
    "kwargs, spatial",
    [
        ({"kernel_size": 3, "strides": 2, "padding": "same"}, (8, 8)),
        ({"kernel_size": (4, 2), "strides": (2, 3), "padding": "same"}, (8, 9)),
        ({"kernel_size": 3, "strides": 2, "padding": "valid"}, (9, 7)),
        ({"kernel_size": 2, "dilation_rate": 2, "padding": "same"}, (9, 8)),
    ],
)
def test_conv_transpose_is_the_adjoint_of_conv(kwargs, spatial, data_format):
    """<conv(x), y> == <x, conv_transpose(y)> with the same kernel and arguments
    (sizes chosen so that conv_transpose maps y back to x's size)."""
    conv = lamina.layers.Conv2D(5, data_format=data_format, use_bias=False, **kwargs)
    transpose = lamina.layers.Conv2DTranspose(
        3, data_format=data_format, use_bias=False, **kwargs
    )
    shape = (2, *spatial, 3) if data_format == "channels_last" else (2, 3, *spatial)
    x = torch.as_tensor(_random(shape, 0))
    y_shape = conv.compute_output_shape(shape)
    y = torch.as_tensor(_random(y_shape, 1))
    conv.build(shape)
    transpose.build(y_shape)
    transpose.set_weights(conv.get_weights())  # (*k, 3, 5) in both layouts
    with torch.no_grad():
        forward, back = conv(x), transpose(y)
    assert tuple(back.shape) == shape
    torch.testing.assert_close(
        (forward * y).sum(), (x * back).sum(), rtol=1e-4, atol=1e-4
    )


# ----------------------------------------------------------- functional ops
OPS = [
    ("conv", [(3, 3, 4, 6)], {"strides": 2, "padding": "same"}),
    ("conv", [(2, 3, 2, 6)], {"padding": "SAME", "dilation_rate": (2, 1)}),
    ("depthwise_conv", [(3, 3, 4, 2)], {"strides": (1, 2), "padding": "same"}),
    ("separable_conv", [(3, 2, 4, 2), (1, 1, 8, 5)], {"padding": "valid"}),
    (
        "conv_transpose",
        [(3, 3, 5, 4)],
        {"strides": 2, "padding": "same", "output_padding": 1},
    ),
    ("conv_transpose", [(4, 3, 5, 4)], {"strides": (2, 1), "padding": "same"}),
]


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("name, kernel_shapes, kwargs", OPS)
def test_ops_match_keras_ops(name, kernel_shapes, kwargs, data_format):
    """lamina.ops.convolution's functions are keras.ops's (Keras-layout kernels)."""
    from lamina.ops import convolution as conv_ops

    x = _random((2, 9, 8, 4), 0)
    if data_format == "channels_first":
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    kernels = [
        torch.as_tensor(_random(shape, i + 1)) for i, shape in enumerate(kernel_shapes)
    ]
    args = (torch.as_tensor(x), *kernels)
    ours = getattr(conv_ops, name)(*args, data_format=data_format, **kwargs)
    theirs = getattr(keras.ops, name)(*args, data_format=data_format, **kwargs)
    np.testing.assert_allclose(
        ours.numpy(), keras.ops.convert_to_numpy(theirs), atol=1e-4
    )


def test_ops_reject_unknown_padding():
    from lamina.ops import convolution as conv_ops

    x, kernel = torch.zeros(1, 5, 2), torch.zeros(3, 2, 2)
    with pytest.raises(
        ValueError,
        match=r"`padding` must be one of 'valid', 'same', 'causal'; got padding='full'\.",
    ):
        conv_ops.conv(x, kernel, padding="full")
    with pytest.raises(
        ValueError, match=r"must be one of 'valid', 'same'; got padding='causal'\."
    ):
        conv_ops.conv_transpose(x, kernel, padding="causal")


# ------------------------------------------------------------- fast path
@pytest.mark.parametrize(
    "layer",
    [
        lamina.layers.Conv1D(4, 3, padding="causal"),
        lamina.layers.Conv2D(4, 3, strides=2, padding="same"),
        lamina.layers.Conv3D(4, 2),
        lamina.layers.DepthwiseConv2D(3, padding="same"),
        lamina.layers.SeparableConv1D(4, 3),
        lamina.layers.Conv1DTranspose(4, 3, strides=2, padding="same"),
        lamina.layers.Conv2DTranspose(4, 3, strides=2, padding="same"),
    ],
    ids=lambda layer: type(layer).__name__,
)
def test_channels_last_outputs_are_contiguous(layer):
    """torch ran its channels-last kernel on views: the NHWC result needs no copy."""
    x = torch.randn(2, *(9, 8, 7)[: layer.rank], 3)
    assert layer(x).is_contiguous()


@pytest.mark.parametrize(
    "name", ["Conv1D", "Conv2D", "Conv3D", "DepthwiseConv2D", "SeparableConv2D"]
)
def test_channels_first_runs_natively(name):
    """channels_first stays in torch's native layout: contiguous NCHW out."""
    cls = getattr(lamina.layers, name)
    rank = int(name[-2])
    args = (4, 3) if "Depthwise" not in name else (3,)
    layer = cls(*args, padding="same", data_format="channels_first")
    assert layer(torch.randn(2, 3, *(9, 8, 7)[:rank])).is_contiguous()


def test_torch_compile_traces_without_graph_breaks():
    """fullgraph: the padding arithmetic folds into the graph (no cache wrapper
    is traced, no warning), and the compiled layers compute the same numbers."""
    layers = [
        lamina.layers.Conv2D(4, 3, strides=2, padding="same"),
        lamina.layers.Conv1DTranspose(4, 4, strides=2, padding="same"),
    ]
    for layer, x in zip(layers, [torch.randn(2, 9, 8, 3), torch.randn(2, 9, 3)]):
        expected = layer(x)
        compiled = torch.compile(layer, backend="aot_eager", fullgraph=True)
        torch.testing.assert_close(compiled(x), expected)


def test_unknown_channels_are_refused_at_build():
    layer = lamina.layers.Conv2D(2, 3)
    with pytest.raises(
        ValueError,
        match=r"Conv2D '\w+': expected input with a known channel axis "
        r"\(batch, rows, cols, channels\), got shape \(None, 8, 8, None\)\.",
    ):
        layer.build((None, 8, 8, None))

"""Property tests for lamina/ops/shapes.py: sizes against brute-force window counts,
and the transposed-convolution crop against the adjoint of the forward convolution."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lamina.ops import shapes

sizes = st.integers(1, 40)
kernels = st.integers(1, 7)
strides = st.integers(1, 4)
dilations = st.integers(1, 3)


def _windows(n, k, s, d):
    """Brute force: start positions whose dilated window fits in n cells."""
    return len([i for i in range(0, n, s) if i + (k - 1) * d < n])


@given(sizes, kernels, strides, dilations)
def test_valid_length_counts_windows(n, k, s, d):
    out = shapes.conv_output_length(n, k, "valid", s, d)
    assert out == _windows(n, k, s, d) or (out <= 0 and _windows(n, k, s, d) == 0)


@given(sizes, kernels, strides, dilations)
def test_same_padding_gives_ceil_and_puts_extra_after(n, k, s, d):
    before, after = shapes.same_padding(n, k, s, d)
    assert 0 <= before <= after <= before + 1
    out = shapes.conv_output_length(n, k, "same", s, d)
    assert out == -(-n // s)
    assert _windows(n + before + after, k, s, d) == out


@given(sizes, kernels, strides, dilations)
def test_causal_padding_is_all_before(n, k, s, d):
    before, after = shapes.causal_padding(k, d)
    assert (before, after) == ((k - 1) * d, 0)
    assert _windows(n + before, k, s, d) == shapes.conv_output_length(
        n, k, "causal", s, d
    )


@given(sizes, kernels, strides, st.sampled_from(["valid", "same"]))
def test_local_padding_reads_tf_keras_windows(n, k, s, padding):
    """tf.keras's locally-connected windows (``conv_connected_inputs``: window ``q``
    reads ``[q*s - k//2, q*s - k//2 + k)``, clipped, for ``same``) are the windows of
    the input padded by ``local_padding_pair``, and there are exactly as many."""
    before, after = shapes.local_padding_pair(n, k, padding, s)
    out = shapes.conv_output_length(n, k, padding, s)
    if out <= 0:
        return
    shift = k // 2 if padding == "same" else 0
    for q in range(out):
        start = q * s - shift  # tf.keras's first cell of window q (before clipping)
        assert -before <= start and start + k <= n + after
    assert _windows(n + before + after, k, s, 1) == out
    assert min(before, after) >= 0 and before <= k // 2


def test_none_passes_through():
    assert shapes.conv_output_length(None, 3, "same", 2) is None
    assert shapes.deconv_output_length(None, 3, "valid") is None
    assert shapes.pool_output_length(None, 2, "valid", 2) is None
    assert shapes.cropped_length(None, 1, 1) is None
    assert shapes.upsampled_length(None, 2) is None


@given(sizes, kernels, strides, dilations, st.sampled_from(["valid", "same"]))
def test_transpose_length_inverts_forward_length(n, k, s, d, padding):
    out = shapes.deconv_output_length(n, k, padding, None, s, d)
    assert shapes.conv_output_length(out, k, padding, s, d) == n


def _conv1d(x, w, s, d, pad):
    x = np.pad(x, pad)
    k = len(w)
    starts = range(0, len(x) - (k - 1) * d, s)
    return np.array([sum(w[j] * x[i + j * d] for j in range(k)) for i in starts])


def _conv1d_transpose(y, w, s, d, crop):
    k = len(w)
    full = np.zeros((len(y) - 1) * s + (k - 1) * d + 1)
    for i, value in enumerate(y):
        for j in range(k):
            full[i * s + j * d] += value * w[j]
    before, after = crop
    if after < 0:
        full = np.pad(full, (0, -after))
        after = 0
    return full[before : len(full) - after]


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 12),
    kernels,
    strides,
    dilations,
    st.sampled_from(["valid", "same"]),
    st.data(),
)
def test_transpose_crop_is_the_adjoint_of_the_forward_conv(n, k, s, d, padding, data):
    """<conv(x), y> == <x, conv_transpose(y)>: TensorFlow's definition of the
    transposed convolution, for every output_padding Keras allows."""
    output_padding = data.draw(st.one_of(st.none(), st.integers(0, s - 1)))
    length = shapes.deconv_output_length(n, k, padding, output_padding, s, d)
    if length <= 0 or shapes.conv_output_length(length, k, padding, s, d) != n:
        return  # Keras itself rejects these combinations
    rng = np.random.default_rng(n * 1000 + k * 100 + s * 10 + d)
    w, x, y = (
        rng.standard_normal(k),
        rng.standard_normal(length),
        rng.standard_normal(n),
    )
    forward = _conv1d(x, w, s, d, shapes.padding_pair(length, k, padding, s, d))
    crop = shapes.conv_transpose_crop(n, k, padding, output_padding, s, d)
    transposed = _conv1d_transpose(y, w, s, d, crop)
    assert len(transposed) == length and len(forward) == n
    np.testing.assert_allclose(forward @ y, x @ transposed, atol=1e-9)


@settings(max_examples=300, deadline=None)
@given(sizes, kernels, strides, dilations, st.sampled_from(["valid", "same", "causal"]))
def test_torch_conv_padding_splits_padding_pair(n, k, s, d, padding):
    """torch's symmetric part plus the explicit remainder is ``padding_pair``; for
    ``same`` the remainder is at most the one extra cell at the end, and that
    cell is always read (symmetric padding alone loses the last output)."""
    symmetric, before, after = shapes.torch_conv_padding(n, k, padding, s, d)
    pair = shapes.padding_pair(n, k, padding, s, d)
    assert (symmetric + before, symmetric + after) == pair
    assert min(symmetric, before, after) >= 0 and 0 in (before, after)
    if padding == "same":
        assert before == 0 and after <= 1
        if after:
            out = shapes.conv_output_length(n, k, "same", s, d)
            assert shapes.conv_output_length(n + 2 * symmetric, k, "valid", s, d) < out


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 12),
    kernels,
    strides,
    dilations,
    st.sampled_from(["valid", "same"]),
    st.data(),
)
def test_torch_conv_transpose_padding_reproduces_the_crop(n, k, s, d, padding, data):
    """Leading input zeros, then torch's (padding, output_padding), give exactly
    the cells ``conv_transpose_crop`` selects, with an output_padding torch
    accepts (< stride)."""
    output_padding = data.draw(st.one_of(st.none(), st.integers(0, s - 1)))
    zeros, torch_pad, torch_extra = shapes.torch_conv_transpose_padding(
        k, padding, output_padding, s, d
    )
    assert 0 <= torch_extra < s and min(zeros, torch_pad) >= 0
    rng = np.random.default_rng(n * 1000 + k * 100 + s * 10 + d)
    w, y = rng.standard_normal(k), rng.standard_normal(n)
    crop = shapes.conv_transpose_crop(n, k, padding, output_padding, s, d)
    expected = _conv1d_transpose(y, w, s, d, crop)
    full = _conv1d_transpose(np.pad(y, (zeros, 0)), w, s, d, (0, 0))
    length = len(full) - 2 * torch_pad + torch_extra  # torch's output length
    actual = np.pad(full, (0, torch_extra))[torch_pad:][:length]
    assert len(actual) == len(expected)
    np.testing.assert_allclose(actual, expected, atol=1e-12)


def _torch_pool_windows(n, k, s, pad, ceil_mode):
    """The cells each torch pooling window reads (its length rule, ceil_mode
    included, written out from torch's documentation)."""
    span = n + 2 * pad - k
    length = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (length - 1) * s >= n + pad:
        length -= 1  # a window must start inside the input or its left padding
    starts = [j * s - pad for j in range(length)]
    return [[i for i in range(a, a + k) if 0 <= i < n] for a in starts]


@settings(max_examples=300, deadline=None)
@given(sizes, kernels, strides, st.sampled_from(["valid", "same"]))
def test_torch_pool_padding_reads_the_tensorflow_windows(n, k, s, padding):
    """torch's symmetric padding and ``ceil_mode`` for ``same``, on the input with
    ``extra`` cells appended, read exactly TensorFlow's windows (padded and
    appended cells ignored), within the padding torch accepts (at most half the
    window); ``pool_window_sizes`` counts their real cells."""
    if shapes.pool_output_length(n, k, padding, s) <= 0:
        return
    pad, extra = shapes.torch_pool_padding(n, k, padding, s)
    assert 0 <= pad <= k // 2 and extra in (0, 1) and (extra == 0 or s == 1)
    before, _ = shapes.padding_pair(n, k, padding, s)
    expected = [
        [i for i in range(j * s - before, j * s - before + k) if 0 <= i < n]
        for j in range(shapes.pool_output_length(n, k, padding, s))
    ]
    windows = _torch_pool_windows(n + extra, k, s, pad, padding == "same")
    assert [[i for i in w if i < n] for w in windows] == expected
    assert shapes.pool_window_sizes(n, k, padding, s) == tuple(map(len, expected))
    assert shapes.pool_window_sizes(n, k, padding, s, n + extra) == tuple(
        map(len, windows)
    )

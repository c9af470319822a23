"""The keras.ops functions added with issue 11 against Keras 3 (torch backend):
the ``tests/cases_ops.py`` table (values, shapes, dtypes), then NumPy references
where lamina deliberately departs from Keras on torch, and pinned errors.
"""

from __future__ import annotations

import operator

import keras  # a dev dependency: the oracle
import numpy as np
import pytest
import torch

import lamina.ops as lops
from tests import cases_ops
from tests.test_ops import assert_same, make


def build(spec, rng):
    """``make`` plus ``"nan:..."``: float32 normals with about a third NaN."""
    if isinstance(spec, (list, tuple)) and not isinstance(spec, np.ndarray):
        return type(spec)(build(s, rng) for s in spec)
    if isinstance(spec, str) and spec.startswith("nan:"):
        shape = tuple(int(d) for d in spec[4:].split(","))
        value = rng.randn(*shape).astype(np.float32)
        value[rng.rand(*shape) < 0.35] = np.nan
        value.reshape(-1)[: shape[-1]] = np.nan  # one all-NaN slice along each axis
        return value
    return make(spec, rng)


def function(module, case):
    owner = getattr(module, case.module) if case.module else module
    return getattr(owner, case.name)


def as_comparable(value):
    """Complex tensors as their (real, imag) pairs for ``assert_same``."""
    if isinstance(value, (list, tuple)):
        return [as_comparable(v) for v in value]
    if isinstance(value, torch.Tensor) and value.is_complex():
        value = value.to(
            torch.complex64 if value.dtype == torch.complex32 else value.dtype
        )
        return [value.real, value.imag]
    return value


@pytest.mark.parametrize("case", cases_ops.ALL, ids=cases_ops._id)
def test_matches_keras(case):
    ours_args = build(case.args, np.random.RandomState(case.seed))
    theirs_args = build(case.args, np.random.RandomState(case.seed))
    if case.lenient:
        with pytest.raises(Exception):  # noqa: B017  (Keras on torch refuses these)
            function(keras.ops, case)(*theirs_args, **case.kwargs)
        function(lops, case)(*ours_args, **case.kwargs)
        return
    expected = function(keras.ops, case)(*theirs_args, **case.kwargs)
    ours = function(lops, case)(*ours_args, **case.kwargs)
    assert_same(as_comparable(ours), as_comparable(expected), case.tol, case.tol)


def test_every_new_name_has_a_case():
    tested = {c.name for c in cases_ops.ALL}
    untested = set(NEW_NAMES) - tested - TESTED_BELOW
    assert not untested, f"no case for {sorted(untested)}"


NEW_NAMES = """angle argpartition associative_scan bartlett bitwise_left_shift
bitwise_right_shift blackman cdist cholesky cholesky_inverse corrcoef correlate
ctc_decode ctc_loss custom_gradient depth_to_space det diff eig eigh erfc
extract_sequences fft fft2 fold geomspace hamming hanning histogram i0 ifft2 inv
irfft isin isreal istft jvp kaiser ldexp logdet lstsq lu_factor matrix_rank
nanargmax nanargmin nancumprod nancumsum nanmedian nanpercentile nanprod
nanquantile nextafter pinv polar qr rearrange rfft segment_min segment_prod slogdet
solve solve_triangular space_to_depth stft svd trapezoid unfold unique
unravel_index vander vectorize view view_as_complex view_as_real affine_transform
crop_images elastic_transform extract_patches extract_patches_3d gaussian_blur
hsv_to_rgb map_coordinates pad_images perspective_transform resize rgb_to_grayscale
rgb_to_hsv scale_and_translate sobel_edges ssim""".split()
TESTED_BELOW = {"argpartition", "custom_gradient", "vectorize", "elastic_transform"}


# --- where Keras on torch raises: NumPy references ---------------------------------


@pytest.mark.parametrize("dtype", ["int32", "uint8", "float16"])
def test_histogram_of_integers_and_halves_is_numpy_histogram(dtype):
    x = np.array([0, 1, 1, 2, 7, 3, 3, 3], dtype)
    counts, edges = lops.histogram(x, bins=4)
    expected_counts, expected_edges = np.histogram(x.astype(np.float32), bins=4)
    np.testing.assert_array_equal(counts.float().numpy(), expected_counts)
    np.testing.assert_allclose(edges.float().numpy(), expected_edges, rtol=1e-3)
    assert counts.dtype == (torch.float16 if dtype == "float16" else torch.float32)
    counts, edges = lops.histogram(np.full(3, 2.0, np.float32), bins=2)
    np.testing.assert_array_equal(edges.numpy(), [1.5, 2.0, 2.5])  # NumPy's widening


def test_linalg_reads_integers_as_floatx():
    a = np.array([[2, 1], [1, 3]], np.int32)
    np.testing.assert_allclose(lops.det(a).numpy(), np.linalg.det(a), rtol=1e-6)
    np.testing.assert_allclose(lops.inv(a).numpy(), np.linalg.inv(a), rtol=1e-6)
    assert lops.solve(a, np.int32([1, 2])).dtype == torch.float32
    sign, logabsdet = lops.slogdet(a)
    np.testing.assert_allclose(logabsdet.numpy(), np.log(5.0), rtol=1e-6)
    assert lops.inv(a.astype(np.float16)).dtype == torch.float16


def test_view_as_real_of_reals_has_zero_imaginary_parts():
    out = lops.view_as_real(np.float32([1.0, -2.0]))
    np.testing.assert_array_equal(out.numpy(), [[1.0, 0.0], [-2.0, 0.0]])


def test_fft_of_half_precision_runs_in_float32():
    x = np.random.RandomState(0).randn(2, 8).astype(np.float16)
    real, imag = lops.rfft(x)
    expected = np.fft.rfft(x.astype(np.float32))
    assert real.dtype == torch.float16
    np.testing.assert_allclose(real.float().numpy(), expected.real, atol=1e-2)
    np.testing.assert_allclose(imag.float().numpy(), expected.imag, atol=1e-2)


@pytest.mark.parametrize("stride", [2, 1])
def test_istft_inverts_stft_where_keras_refuses(stride):
    # Keras on torch refuses sequence_stride < fft_length / num_frames; the
    # overlap-add has no such limit and inverts stft wherever every frame shift
    # overlaps (TensorFlow's inverse window leaves the first and last few samples
    # off, as tf.signal.inverse_stft does).
    x = np.random.RandomState(0).randn(2, 40).astype(np.float32)
    z = lops.stft(x, 8, stride, 16, center=True)
    out = lops.istft(z, 8, stride, 16, length=40, center=True)
    np.testing.assert_allclose(out.numpy()[:, 3:-3], x[:, 3:-3], atol=1e-4)


# --- deliberate differences from Keras on torch: NumPy or TF/JAX references --------


def test_geomspace_honours_an_integer_dtype():
    # NumPy's rule; Keras on torch returns float32 whatever the dtype.
    out = lops.geomspace(1, 10, 3, dtype="int32")
    assert out.dtype == torch.int32
    np.testing.assert_array_equal(out.numpy(), np.geomspace(1, 10, 3, dtype="int32"))


def test_argpartition_of_integers_with_ties():
    x = np.int32([[3, 1, 3, 0, 1, 2], [5, 5, 5, 1, 1, 0]])
    index = lops.argpartition(x, 2).numpy()
    assert index.dtype == np.int32
    part = np.take_along_axis(x, index, axis=-1)
    np.testing.assert_array_equal(part[:, 2], np.sort(x, -1)[:, 2])
    assert np.all(part[:, :2] <= part[:, 2:3]) and np.all(part[:, 3:] >= part[:, 2:3])


def test_view_without_dtype_keeps_the_dtype():
    # NumPy, JAX and TensorFlow keep x's dtype; Keras on torch reads floatx.
    x = np.arange(6, dtype=np.int32)
    assert lops.view(x).dtype == torch.int32
    assert lops.view(x, "float32").numpy().tobytes() == x.view(np.float32).tobytes()


def test_geomspace_along_other_axes_is_numpy_geomspace():
    start, stop = np.float32([1.0, -2.0]), np.float32([100.0, -32.0])
    for axis in (0, 1, -1):
        np.testing.assert_allclose(
            lops.geomspace(start, stop, 5, axis=axis).numpy(),
            np.geomspace(start, stop, 5, axis=axis),
            rtol=1e-5,
        )


def test_argpartition_of_fractions_partitions():
    # Keras on torch casts x to int32 first, so 0.2 and 0.7 tie.
    x = np.float32([[0.7, 0.2, 3.5, -1.1, 0.4], [2.0, 1.5, 1.2, 0.1, 9.0]])
    for kth in (0, 2, 4):
        index = lops.argpartition(x, kth).numpy()
        part = np.take_along_axis(x, index, axis=-1)
        np.testing.assert_array_equal(part[:, kth], np.sort(x, -1)[:, kth])
        assert np.all(part[:, :kth] <= part[:, kth : kth + 1])
        assert np.all(part[:, kth + 1 :] >= part[:, kth : kth + 1])
    assert lops.argpartition(x, 1, axis=None).shape == (10,)


def test_nextafter_steps_in_the_result_dtype():
    # Keras on torch steps in float64 and rounds back: float32 x comes back.
    x, y = np.float32([1.0, -3.0, 0.0]), np.float32([2.0, -4.0, -1.0])
    np.testing.assert_array_equal(lops.nextafter(x, y).numpy(), np.nextafter(x, y))


def test_nan_cumulative_ops_keep_infinities():
    # Keras on torch runs nan_to_num, which also turns inf into the largest float.
    x = np.float32([1.0, np.nan, np.inf, 2.0])
    np.testing.assert_array_equal(lops.nancumsum(x).numpy(), np.nancumsum(x))
    np.testing.assert_array_equal(lops.nancumprod(x).numpy(), np.nancumprod(x))


@pytest.mark.parametrize("mode", ["valid", "same", "full"])
@pytest.mark.parametrize("lengths", [(5, 3), (3, 5), (4, 4), (1, 1)])
def test_correlate_is_numpy_correlate(mode, lengths):
    rng = np.random.RandomState(0)
    a, v = rng.randn(lengths[0]), rng.randn(lengths[1])
    np.testing.assert_allclose(
        lops.correlate(a, v, mode).numpy(), np.correlate(a, v, mode), rtol=1e-5
    )


def test_segment_min_of_an_empty_segment_is_the_dtype_max():
    # tf.math.unsorted_segment_min's rule; Keras on torch casts inf to an int.
    data = np.int32([[4, 5], [1, 9]])
    out = lops.segment_min(data, np.int32([0, 0]), num_segments=2)
    np.testing.assert_array_equal(out.numpy(), [[1, 5], [2**31 - 1, 2**31 - 1]])
    out = lops.segment_max(np.float32([1.0]), np.int32([1]), num_segments=2)
    np.testing.assert_array_equal(out.numpy(), [-np.inf, 1.0])


def test_shifts_of_booleans_stay_32_bit():
    assert lops.bitwise_left_shift(np.array([True, False]), 1).dtype == torch.int32


def test_resize_kernels_are_tensorflow_and_jax_scale_and_translate():
    # Keras on torch resizes bicubic with torch's a = -0.75 kernel and has no
    # Lanczos; TF and JAX resize as scale_and_translate, which Keras implements.
    x = np.random.RandomState(0).rand(2, 5, 7, 3).astype(np.float32)
    for method, kernel in [("bicubic", "cubic"), ("lanczos3", "lanczos3")]:
        for size, antialias in [((9, 4), False), ((3, 12), True)]:
            expected = keras.ops.image.scale_and_translate(
                x,
                (2, *size, 3),
                np.float32([size[0] / 5, size[1] / 7]),
                np.float32([0, 0]),
                (1, 2),
                kernel,
                antialias=antialias,
            )
            ours = lops.image.resize(x, size, method, antialias=antialias)
            np.testing.assert_allclose(ours.numpy(), expected.numpy(), atol=1e-6)


def test_area_resize_averages_the_covered_cells():
    x = np.arange(24, dtype=np.float32).reshape(1, 4, 6, 1)
    pooled = x.reshape(1, 2, 2, 3, 2, 1).mean(axis=(2, 4))
    np.testing.assert_allclose(lops.image.resize(x, (2, 3), "area").numpy(), pooled)
    row = np.float32([[[[0.0], [3.0], [6.0]]]])  # 3 -> 2: [0, 3 * 1/2] and [...]
    np.testing.assert_allclose(
        lops.image.resize(row, (1, 2), "area").numpy().ravel(), [1.0, 5.0]
    )


def test_projective_transform_divides_by_k():
    # TF's definition; Keras on torch and JAX drop k (and use c0, c1 on channels).
    image = np.arange(25, dtype=np.float32).reshape(1, 5, 5, 1)
    transform = np.float32([1, 0, 0, 0, 1, 0, 0.1, 0.05])
    out = lops.image.affine_transform(image, transform, "nearest").numpy()[0, ..., 0]
    for y in range(5):
        for x in range(5):
            k = 0.1 * x + 0.05 * y + 1
            col, row = np.round(x / k), np.round(y / k)
            assert out[y, x] == image[0, int(row), int(col), 0]


def test_gaussian_blur_of_a_non_square_kernel_is_separable():
    # Keras on torch and TF mis-shape non-square kernels; lamina follows JAX:
    # kernel_size and sigma are (along width, along height) on every backend.
    x = np.zeros((1, 7, 9, 1), np.float32)
    x[0, 3, 4, 0] = 1.0
    out = lops.image.gaussian_blur(x, (5, 3), (1.6, 0.8)).numpy()[0, :, :, 0]

    def window(n, sigma):
        w = np.exp(-0.5 * ((np.arange(n) - (n - 1) / 2) / sigma) ** 2)
        return w / w.sum()

    np.testing.assert_allclose(
        out[2:5, 2:7], np.outer(window(3, 0.8), window(5, 1.6)), rtol=1e-5
    )


def test_gaussian_blur_with_unequal_sigmas_matches_keras():
    x = np.random.RandomState(0).rand(2, 6, 7, 3).astype("float32")
    for data_format in ("channels_last", "channels_first"):
        want = keras.ops.image.gaussian_blur(
            x, (3, 3), (0.7, 1.5), data_format=data_format
        )
        got = lops.image.gaussian_blur(x, (3, 3), (0.7, 1.5), data_format=data_format)
        np.testing.assert_allclose(got.numpy(), np.asarray(want), rtol=1e-5, atol=1e-6)


# --- functions of functions ---------------------------------------------------------


def test_custom_gradient_matches_keras():
    def make_log1pexp(ops):
        @ops.custom_gradient
        def log1pexp(x):
            e = ops.exp(x)

            def grad(*args, upstream=None):
                return ops.multiply(upstream, 1.0 - 1.0 / ops.add(1, e))

            return ops.log(1 + e), grad

        return log1pexp

    grads = []
    for ops in (lops, keras.ops):
        x = torch.tensor([100.0, 1.0, -3.0], requires_grad=True)
        make_log1pexp(ops)(x).sum().backward()
        grads.append(x.grad)
    torch.testing.assert_close(grads[0], grads[1])


def test_associative_scan_of_a_structure():
    x = np.random.RandomState(0).rand(2, 9, 3).astype(np.float32)
    out = lops.associative_scan(
        lambda a, b: {"s": a["s"] + b["s"], "m": torch.maximum(a["m"], b["m"])},
        {"s": x, "m": x},
        reverse=True,
        axis=1,
    )
    np.testing.assert_allclose(
        out["s"].numpy(), np.cumsum(x[:, ::-1], 1)[:, ::-1], rtol=1e-5
    )
    np.testing.assert_array_equal(
        out["m"].numpy(), np.maximum.accumulate(x[:, ::-1], 1)[:, ::-1]
    )


def test_vectorize_is_numpy_vectorize():
    a = np.random.RandomState(0).rand(4, 1, 3).astype(np.float32)
    b = np.random.RandomState(1).rand(5, 3).astype(np.float32)
    dot = lops.vectorize(lambda u, v: (u * v).sum(), signature="(n),(n)->()")
    np.testing.assert_allclose(dot(a, b).numpy(), np.einsum("...n,...n", a, b), 1e-5)
    scale = lops.vectorize(lambda x, k: x * k, excluded={1})
    np.testing.assert_allclose(scale(a, 3.0).numpy(), a * 3.0)
    keyword = lops.vectorize(lambda x, k=1.0: x * k, excluded={"k"})
    np.testing.assert_allclose(keyword(b, k=2.0).numpy(), b * 2.0)
    ours = lops.vectorize(operator.add)(a, b)
    theirs = keras.ops.vectorize(operator.add)(torch.tensor(a), torch.tensor(b))
    assert_same(ours, theirs)
    with pytest.raises(ValueError, match=r"vectorize: core dimension 'n' has sizes"):
        dot(a, b[:, :2])
    with pytest.raises(ValueError, match=r"vectorize: `signature` must look like"):
        lops.vectorize(np.sum, signature="n->()")


def test_elastic_transform_is_seeded_and_identity_without_displacement():
    x = np.random.RandomState(0).rand(2, 8, 9, 3).astype(np.float32)
    first = lops.image.elastic_transform(x, alpha=3.0, sigma=1.0, seed=4)
    second = lops.image.elastic_transform(x, alpha=3.0, sigma=1.0, seed=4)
    torch.testing.assert_close(first, second)
    assert first.shape == (2, 8, 9, 3) and not torch.allclose(first, torch.tensor(x))
    still = lops.image.elastic_transform(x, alpha=0.0, seed=1)
    np.testing.assert_allclose(still.numpy(), x, atol=1e-6)
    first = lops.image.elastic_transform(
        np.moveaxis(x, -1, 1), 3.0, 1.0, seed=4, data_format="channels_first"
    )
    assert first.shape == (2, 3, 8, 9)


# --- errors --------------------------------------------------------------------------

ERRORS = [
    (
        "histogram",
        (np.zeros((2, 2)),),
        {},
        r"histogram: `x` must be 1-D; got x of shape \(2, 2\)",
    ),
    (
        "histogram",
        (np.zeros(3),),
        {"bins": 0},
        r"histogram: `bins` must be an integer >= 1; got bins=0",
    ),
    ("histogram", (np.zeros(3),), {"range": (2, 1)}, r"`range` must have low <= high"),
    (
        "correlate",
        (np.zeros(3), np.zeros(2)),
        {"mode": "middle"},
        r"correlate: `mode` must be one of 'valid', 'same', 'full'; got mode='middle'",
    ),
    (
        "vander",
        (np.zeros(3),),
        {"N": -1},
        r"vander: `N` must be an integer >= 0; got N=-1",
    ),
    (
        "ldexp",
        (np.ones(2), np.ones(2)),
        {},
        r"ldexp: `x2` must hold integers; got x2 of dtype 'float64'",
    ),
    (
        "unravel_index",
        (np.ones(2, np.float32), (2, 2)),
        {},
        r"unravel_index: `indices` must hold integers",
    ),
    (
        "argpartition",
        (np.ones(3),),
        {"kth": 3},
        r"argpartition: `kth` must index an element along axis -1 \(size 3\); got kth=3",
    ),
    (
        "slogdet",
        (np.ones((2, 3)),),
        {},
        r"slogdet: `x` must be a \(batch of\) square matrices; got x of shape \(2, 3\)",
    ),
    (
        "det",
        (np.ones(3),),
        {},
        r"det: `x` must be a \(batch of\) square matrices \(rank >= 2\); got x of shape \(3,\)",
    ),
    (
        "cholesky",
        (-np.eye(2),),
        {},
        r"cholesky: `x` must be symmetric positive-definite",
    ),
    (
        "qr",
        (np.ones((2, 2)),),
        {"mode": "full"},
        r"qr: `mode` must be 'reduced' or 'complete'; got mode='full'",
    ),
    (
        "solve",
        (np.eye(3), np.ones((2, 1))),
        {},
        r"solve: `b` must have 3 rows to match `a` of shape \(3, 3\); got b of shape \(2, 1\)",
    ),
    (
        "cdist",
        (np.ones((2, 3)), np.ones((2, 4))),
        {},
        r"cdist: `x` and `y` must have rank >= 2 and the same last axis",
    ),
    ("fft", (np.ones(3),), {}, r"fft: `x` must be a \(real, imag\) pair of tensors"),
    (
        "fft",
        ((np.ones(3), np.ones(4)),),
        {},
        r"fft: the real and imaginary parts of `x` must have the same shape",
    ),
    (
        "irfft",
        ((np.ones(3, np.int32), np.ones(3, np.int32)),),
        {},
        r"irfft: the parts of `x` must be float tensors; got dtypes 'int32' and 'int32'",
    ),
    (
        "stft",
        (np.ones(8, np.int32), 4, 2, 4),
        {},
        r"stft: `x` must be float32 or float64; got x of dtype 'int32'",
    ),
    (
        "stft",
        (np.ones(8, np.float32), 4, 0, 4),
        {},
        r"stft: `sequence_stride` must be a positive integer; got sequence_stride=0",
    ),
    (
        "stft",
        (np.ones(8, np.float32), 4, 2, 2),
        {},
        r"stft: `fft_length` must be >= sequence_length=4; got fft_length=2",
    ),
    (
        "stft",
        (np.ones(8, np.float32), 4, 2, 4),
        {"window": "box"},
        r"stft: `window` must be 'hann', 'hamming', a tensor or None; got window='box'",
    ),
    (
        "segment_sum",
        (np.ones((3, 2)), np.int32([0, 1])),
        {},
        r"segment_sum: `segment_ids` must be 1-D with one id per row of `data`; got segment_ids of shape \(2,\) and data of shape \(3, 2\)",
    ),
    (
        "view_as_complex",
        (np.ones((2, 3)),),
        {},
        r"view_as_complex: the last axis of `x` must have size 2",
    ),
    (
        "depth_to_space",
        (np.ones((1, 2, 2, 4)), 1),
        {},
        r"depth_to_space: `block_size` must be an integer >= 2; got block_size=1",
    ),
    (
        "depth_to_space",
        (np.ones((1, 2, 2, 6)), 2),
        {},
        r"depth_to_space: the channels \(6\) must be divisible by block_size\*\*2",
    ),
    (
        "space_to_depth",
        (np.ones((1, 3, 2, 4)), 2),
        {},
        r"space_to_depth: height \(3\) and width \(2\) must be divisible by block_size",
    ),
    (
        "unfold",
        (np.ones((2, 3, 4)), 2),
        {},
        r"unfold: `x` must be 4-D \(N, C, H, W\); got x of shape \(2, 3, 4\)",
    ),
    (
        "ctc_decode",
        (np.ones((1, 3, 2)), np.int32([3])),
        {"strategy": "best"},
        r"ctc_decode: `strategy` must be 'greedy' or 'beam_search'; got strategy='best'",
    ),
    (
        "multi_hot",
        (np.int32([0]),),
        {},
        r"multi_hot: `num_classes` must be given; got num_classes=None",
    ),
    (
        "associative_scan",
        (None, np.ones(3)),
        {},
        r"associative_scan: `f` must be callable; got f=None",
    ),
    (
        "associative_scan",
        (operator.add, [np.ones(3), np.ones(4)]),
        {},
        r"every leaf of `elems` must have the same length along axis 0",
    ),
    (
        "rearrange",
        (np.ones((2, 6)), "a b -> a c"),
        {},
        r"rearrange: both sides of `pattern` must name the same axes once each",
    ),
    (
        "rearrange",
        (np.ones((2, 6)), "a (b c) -> a b c"),
        {"b": 4},
        r"rearrange: axis \(b c\) of size 6 cannot be split",
    ),
    (
        "rearrange",
        (np.ones((2, 6)), "a b c -> a b c"),
        {},
        r"rearrange: the pattern 'a b c -> a b c' names 3 input axes; got a tensor of shape \(2, 6\)",
    ),
]
IMAGE_ERRORS = [
    (
        "resize",
        (np.ones((4, 4)), (2, 2)),
        {},
        r"resize: `images` must have rank 3 or 4 \(one image or a batch\); got images of shape \(4, 4\)",
    ),
    (
        "resize",
        (np.ones((4, 4, 3)), (2,)),
        {},
        r"resize: `size` must be \(height, width\), two positive integers; got size=\(2,\)",
    ),
    (
        "resize",
        (np.ones((4, 4, 3)), (2, 2)),
        {"interpolation": "cubic"},
        r"resize: `interpolation` must be one of 'bilinear', 'nearest', 'bicubic', 'lanczos3', 'lanczos5', 'area'; got interpolation='cubic'",
    ),
    (
        "resize",
        (np.ones((4, 4, 3)), (2, 2)),
        {"crop_to_aspect_ratio": True, "pad_to_aspect_ratio": True},
        r"cannot both be True",
    ),
    (
        "rgb_to_grayscale",
        (np.ones((4, 4, 2)),),
        {},
        r"rgb_to_grayscale: `images` must have 1 or 3 channels",
    ),
    (
        "rgb_to_hsv",
        (np.ones((4, 4, 3), np.int32),),
        {},
        r"rgb_to_hsv: `images` must be a float tensor; got images of dtype 'int32'",
    ),
    (
        "pad_images",
        (np.ones((4, 4, 3)),),
        {"top_padding": 1},
        r"pad_images: give exactly two of top_padding, bottom_padding, target_height",
    ),
    (
        "pad_images",
        (np.ones((4, 4, 3)), 1, 1),
        {"target_height": 3, "target_width": 6},
        r"pad_images: the target size is smaller than the image: `bottom_padding` would be -2",
    ),
    (
        "crop_images",
        (np.ones((4, 4, 3)),),
        {
            "top_cropping": 1,
            "bottom_cropping": 1,
            "left_cropping": -1,
            "right_cropping": 0,
        },
        r"crop_images: `left_cropping` must be >= 0; got left_cropping=-1",
    ),
    (
        "map_coordinates",
        (np.ones((3, 3)), np.ones((2, 4)), 3),
        {},
        r"map_coordinates: `order` must be 0 or 1; got order=3",
    ),
    (
        "map_coordinates",
        (np.ones((3, 3)), np.ones((3, 4)), 1),
        {},
        r"map_coordinates: `coordinates` must give one array per axis of `inputs` \(2\); got 3",
    ),
    (
        "affine_transform",
        (np.ones((4, 4, 3)), np.ones(6)),
        {},
        r"affine_transform: `transform` must be \(8,\) or \(batch, 8\)",
    ),
    (
        "affine_transform",
        (np.ones((4, 4, 3)), np.ones(8)),
        {"fill_mode": "edge"},
        r"affine_transform: `fill_mode` must be one of 'constant', 'nearest', 'wrap', 'mirror', 'reflect'; got fill_mode='edge'",
    ),
    (
        "perspective_transform",
        (np.ones((4, 4, 3)), np.ones((3, 2)), np.ones((4, 2))),
        {},
        r"perspective_transform: `start_points` must be \(4, 2\) or \(batch, 4, 2\) corner points",
    ),
    (
        "extract_patches",
        (np.ones((1, 4, 4, 3)), (2, 2, 2, 2)),
        {},
        r"extract_patches: `size` must be an int or a tuple of 2 \(or 3\) ints",
    ),
    (
        "extract_patches",
        (np.ones((1, 4, 4, 3)), 2),
        {"padding": "full"},
        r"extract_patches: `padding` must be 'valid' or 'same'; got padding='full'",
    ),
    (
        "scale_and_translate",
        (np.ones((4, 4)), (4, 4), [1, 1], [0, 0], (0, 1), "box"),
        {},
        r"scale_and_translate: `method` must be one of",
    ),
    (
        "sobel_edges",
        (np.ones((4, 4, 3)),),
        {},
        r"sobel_edges: `images` must have rank 4",
    ),
]


@pytest.mark.parametrize(
    "module,name,args,kwargs,match",
    [("", *e) for e in ERRORS] + [("image", *e) for e in IMAGE_ERRORS],
    ids=lambda v: v if isinstance(v, str) and len(v) < 30 else "",
)
def test_errors_name_the_op_argument_rule_and_value(module, name, args, kwargs, match):
    owner = getattr(lops, module) if module else lops
    with pytest.raises((ValueError, TypeError), match=match):
        getattr(owner, name)(*args, **kwargs)

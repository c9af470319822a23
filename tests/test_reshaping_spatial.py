"""Cropping, ZeroPadding and UpSampling beyond the Keras oracle: thin public
classes, every spelling of the per-axis arguments against Keras's configs, build-
and call-time cropping errors, and NumPy references for the TensorFlow/JAX resize
semantics (bilinear, bicubic, Lanczos) of UpSampling2D."""

from __future__ import annotations

import itertools
import json
import math

import keras
import numpy as np
import pytest
import torch

import lamina
from lamina.layers.reshaping.cropping import BaseCropping
from lamina.layers.reshaping.up_sampling import BaseUpSampling
from lamina.layers.reshaping.zero_padding import BaseZeroPadding
from tests.test_pooling import assert_keras_signature

BASES = {
    "Cropping": BaseCropping,
    "ZeroPadding": BaseZeroPadding,
    "UpSampling": BaseUpSampling,
}


@pytest.mark.parametrize(
    "name, rank", list(itertools.product(BASES, (1, 2, 3))), ids=str
)
def test_classes_have_keras_signatures(name, rank):
    assert_keras_signature(getattr(lamina.layers, f"{name}{rank}D"), BASES[name])


# --------------------------------------------------------------- spellings
SPELLINGS = {
    1: [2, (1, 3), [0, 2]],
    2: [2, (1, 3), ((1, 2), (3, 0)), ((1, 2), 3), [[0, 1], [2, 2]]],
    3: [1, (1, 2, 0), ((1, 2), (0, 1), (2, 0)), (1, (0, 2), 1)],
}


@pytest.mark.parametrize("name", ["Cropping", "ZeroPadding"])
@pytest.mark.parametrize(
    "rank, value", [(r, v) for r, values in SPELLINGS.items() for v in values], ids=str
)
def test_every_spelling_gives_keras_config(name, rank, value):
    arg = "cropping" if name == "Cropping" else "padding"
    ours = getattr(lamina.layers, f"{name}{rank}D")(**{arg: value})
    theirs = getattr(keras.layers, f"{name}{rank}D")(**{arg: value})
    assert json.loads(json.dumps(ours.get_config()[arg])) == json.loads(
        json.dumps(theirs.get_config()[arg])
    )
    shape = (None, *(9, 8, 7)[:rank], 2)
    assert ours.compute_output_shape(shape) == tuple(theirs.compute_output_shape(shape))


# ---------------------------------------------------------------- cropping
def test_cropping_is_a_view_of_the_input():
    x = torch.randn(2, 6, 7, 3)
    out = lamina.layers.Cropping2D(((1, 2), (0, 3)))(x)
    assert out.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()
    np.testing.assert_array_equal(out.numpy(), x[:, 1:4, 0:4].numpy())


def test_cropping_too_much_raises_at_call_when_sizes_were_unknown():
    layer = lamina.layers.Cropping1D((40, 50))  # more than the probe sizes
    assert layer(lamina.Input((None, 4))).shape == (None, None, 4)
    assert tuple(layer(torch.zeros(1, 91, 4)).shape) == (1, 1, 4)
    with pytest.raises(ValueError, match=r"got shape \(1, 90, 4\)"):
        layer(torch.zeros(1, 90, 4))


def test_one_dimensional_layers_ignore_the_global_data_format():
    """Cropping1D and UpSampling1D act on axis 1, as Keras's, whatever
    ``image_data_format`` says; the others follow it."""
    previous = lamina.config.image_data_format()
    lamina.config.set_image_data_format("channels_first")
    try:
        x = torch.zeros(2, 7, 3)
        assert tuple(lamina.layers.Cropping1D((1, 2))(x).shape) == (2, 4, 3)
        assert tuple(lamina.layers.UpSampling1D(2)(x).shape) == (2, 14, 3)
        assert lamina.layers.ZeroPadding1D().data_format == "channels_first"
        assert lamina.layers.MaxPooling2D().data_format == "channels_first"
    finally:
        lamina.config.set_image_data_format(previous)


def test_documented_cropping_example_with_conv2d():
    model = lamina.Sequential()
    model.add(lamina.layers.Cropping2D(((2, 2), (4, 4)), input_shape=(28, 28, 3)))
    assert model.output_shape == (None, 24, 20, 3)
    model.add(lamina.layers.Conv2D(64, (3, 3), padding="same"))
    model.add(lamina.layers.Cropping2D(((2, 2), (2, 2))))
    assert model.output_shape == (None, 20, 16, 64)
    assert tuple(model(torch.randn(2, 28, 28, 3)).shape) == (2, 20, 16, 64)


def test_zero_padding_values_and_gradient():
    x = torch.randn(2, 3, 4, 5, requires_grad=True)  # channels_first
    out = lamina.layers.ZeroPadding2D(((1, 0), (2, 3)), data_format="channels_first")(x)
    expected = np.pad(x.detach().numpy(), ((0, 0), (0, 0), (1, 0), (2, 3)))
    np.testing.assert_array_equal(out.detach().numpy(), expected)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones(x.shape))


# --------------------------------------------------------------- upsampling
def tf_linear_matrix(n, factor):
    """TensorFlow's resize_bilinear (half_pixel_centers) as an (n * factor, n)
    matrix: output i samples (i + 0.5) / factor - 0.5, lerping floor and ceil,
    both clamped into the input."""
    m = np.zeros((n * factor, n))
    for i in range(n * factor):
        position = (i + 0.5) / factor - 0.5
        low = math.floor(position)
        lerp = position - low
        m[i, min(max(low, 0), n - 1)] += 1 - lerp
        m[i, min(max(low + 1, 0), n - 1)] += lerp
    return m


def keys_cubic(x):
    x = abs(x)
    if x < 1:
        return ((1.5 * x - 2.5) * x) * x + 1
    return ((-0.5 * x + 2.5) * x - 4) * x + 2 if x < 2 else 0.0


def lanczos(radius):
    def kernel(x):
        if x == 0:
            return 1.0
        if abs(x) >= radius:
            return 0.0
        return (
            radius
            * math.sin(math.pi * x)
            * math.sin(math.pi * x / radius)
            / (math.pi**2 * x**2)
        )

    return kernel


TAPS = {
    "bicubic": (keys_cubic, 2),
    "lanczos3": (lanczos(3), 3),
    "lanczos5": (lanczos(5), 5),
}


def tf_kernel_matrix(n, factor, method):
    """TensorFlow's resize_bicubic / scale_and_translate written out tap by tap:
    the taps within the kernel's radius of the sample position that fall inside
    the input, weights renormalized to sum to 1."""
    kernel, radius = TAPS[method]
    m = np.zeros((n * factor, n))
    for i in range(n * factor):
        position = (i + 0.5) / factor - 0.5
        taps = range(
            math.floor(position) - radius + 1, math.floor(position) + radius + 1
        )
        weights = {j: kernel(position - j) for j in taps if 0 <= j < n}
        total = sum(weights.values())
        for j, w in weights.items():
            m[i, j] = w / total
    return m


def reference_upsample(x, size, method):
    """channels_last ``x`` through the per-axis matrices."""
    for axis, factor in zip((1, 2), size):
        n = x.shape[axis]
        if method == "bilinear":
            matrix = tf_linear_matrix(n, factor)
        else:
            matrix = tf_kernel_matrix(n, factor, method)
        x = np.moveaxis(np.tensordot(matrix, x, axes=(1, axis)), 0, axis)
    return x


def _upsample(x, size, method, data_format):
    """lamina's UpSampling2D on channels_last ``x`` in ``data_format``: output and
    the input gradient of ``sum(out * g)``, both channels_last."""
    layer = lamina.layers.UpSampling2D(
        size, data_format=data_format, interpolation=method
    )
    inputs = x if data_format == "channels_last" else x.transpose(0, 3, 1, 2)
    tensor = torch.tensor(inputs, dtype=torch.float32, requires_grad=True)
    out = layer(tensor)
    g = torch.ones_like(out) * torch.arange(out.shape[-1], dtype=torch.float32)
    (out * g).sum().backward()
    out, grad, g = out.detach().numpy(), tensor.grad.numpy(), g.numpy()
    if data_format == "channels_first":
        out, grad, g = (a.transpose(0, 2, 3, 1) for a in (out, grad, g))
    return out, grad, g


@pytest.mark.parametrize("method", ["bilinear", "bicubic", "lanczos3", "lanczos5"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize(
    "shape, size", [((2, 5, 4, 3), (2, 3)), ((1, 3, 7, 2), (4, 1))]
)
def test_upsampling_2d_matches_tensorflow_reference(method, data_format, shape, size):
    x = np.random.default_rng(0).standard_normal(shape)
    out, grad, g = _upsample(x, size, method, data_format)
    np.testing.assert_allclose(out, reference_upsample(x, size, method), atol=1e-5)
    # The gradient is the adjoint: the transposed matrices applied to g.
    expected_grad = g
    for axis, factor in zip((1, 2), size):
        n = x.shape[axis]
        if method == "bilinear":
            matrix = tf_linear_matrix(n, factor)
        else:
            matrix = tf_kernel_matrix(n, factor, method)
        expected_grad = np.moveaxis(
            np.tensordot(matrix.T, expected_grad, axes=(1, axis)), 0, axis
        )
    np.testing.assert_allclose(grad, expected_grad, atol=1e-4)


def test_area_and_nearest_repeat_cells_exactly():
    x = np.random.default_rng(0).standard_normal((1, 37, 11, 2)).astype("float32")
    expected = np.repeat(np.repeat(x, 3, axis=1), 5, axis=2)
    for method in ("nearest", "area"):
        out = lamina.layers.UpSampling2D((3, 5), interpolation=method)(torch.tensor(x))
        np.testing.assert_array_equal(out.numpy(), expected)
    x3 = np.random.default_rng(1).standard_normal((1, 2, 40, 3, 2)).astype("float32")
    out = lamina.layers.UpSampling3D((2, 7, 1), data_format="channels_first")(
        torch.tensor(x3)
    )
    np.testing.assert_array_equal(out.numpy(), np.repeat(np.repeat(x3, 2, 2), 7, 3))


def test_upsampling_config_keys_follow_each_class():
    assert lamina.layers.UpSampling1D(3).get_config()["size"] == 3
    assert "data_format" not in lamina.layers.UpSampling1D().get_config()
    assert "interpolation" not in lamina.layers.UpSampling3D().get_config()
    assert "data_format" not in lamina.layers.Cropping1D().get_config()
    config = lamina.layers.UpSampling2D(interpolation="BICUBIC").get_config()
    assert config["interpolation"] == "bicubic"

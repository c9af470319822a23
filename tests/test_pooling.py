"""Pooling beyond the Keras oracle: the public classes stay thin, NumPy references
for the TensorFlow semantics Keras 3's torch backend does not follow (uneven
``same`` average pooling), gradient routing on ties, masked
GlobalAveragePooling1D, and the fast paths (gradient layout guard, no copies)."""

from __future__ import annotations

import inspect
import itertools

import keras
import numpy as np
import pytest
import torch

import lamina
from lamina.layers.pooling import (
    base_adaptive_pooling,
    base_global_pooling,
    base_pooling,
)

POOLING = {
    "AdaptiveMaxPooling": base_adaptive_pooling.BaseAdaptivePooling,
    "AdaptiveAveragePooling": base_adaptive_pooling.BaseAdaptivePooling,
    "MaxPooling": base_pooling.BasePooling,
    "AveragePooling": base_pooling.BasePooling,
    "GlobalMaxPooling": base_global_pooling.BaseGlobalPooling,
    "GlobalAveragePooling": base_global_pooling.BaseGlobalPooling,
}


# ------------------------------------------------------- bases and signatures
def assert_keras_signature(cls, base) -> None:
    """``cls`` stands directly on ``base`` with Keras's signature (names, order,
    defaults); tests/test_structure.py checks that it adds nothing else."""
    assert cls.__bases__ == (base,)
    ours = inspect.signature(cls.__init__).parameters
    theirs = inspect.signature(getattr(keras.layers, cls.__name__).__init__).parameters
    assert [(p.name, p.default) for p in ours.values()] == [
        (p.name, p.default) for p in theirs.values()
    ]


@pytest.mark.parametrize(
    "name, rank", list(itertools.product(POOLING, (1, 2, 3))), ids=str
)
def test_pooling_classes_have_keras_signatures(name, rank):
    assert_keras_signature(getattr(lamina.layers, f"{name}{rank}D"), POOLING[name])


def test_keras_aliases_are_the_same_classes():
    for short, long in [
        ("MaxPool", "MaxPooling"),
        ("AvgPool", "AveragePooling"),
        ("GlobalMaxPool", "GlobalMaxPooling"),
        ("GlobalAvgPool", "GlobalAveragePooling"),
    ]:
        for rank in (1, 2, 3):
            alias = getattr(lamina.layers, f"{short}{rank}D")
            assert alias is getattr(lamina.layers, f"{long}{rank}D")


# -------------------------------------------------------- NumPy reference
def reference_pool(x, pool_size, strides, padding, mode):
    """TensorFlow's pooling written out for channels_last ``x``: ``same`` pads
    ``max((ceil(n / s) - 1) * s + k - n, 0)`` cells, the extra one after; padded
    cells are neither maxima nor counted. Returns the output and a function giving
    the input gradient for an output gradient (max: to the first maximum)."""
    spatial = x.shape[1:-1]
    starts = []
    for n, k, s in zip(spatial, pool_size, strides):
        if padding == "same":
            out = -(-n // s)
            before = max((out - 1) * s + k - n, 0) // 2
        else:
            out, before = (n - k) // s + 1, 0
        starts.append([j * s - before for j in range(out)])
    windows = {}
    for index in itertools.product(*(range(len(s)) for s in starts)):
        ranges = [
            range(max(a, 0), min(a + k, n))
            for a, k, n in zip(
                (s[i] for s, i in zip(starts, index)), pool_size, spatial
            )
        ]
        windows[index] = list(itertools.product(*ranges))
    out = np.zeros((x.shape[0], *(len(s) for s in starts), x.shape[-1]))
    for b, c in itertools.product(range(x.shape[0]), range(x.shape[-1])):
        for index, cells in windows.items():
            values = [x[(b, *cell, c)] for cell in cells]
            out[(b, *index, c)] = max(values) if mode == "max" else np.mean(values)

    def grad(g):
        dx = np.zeros(x.shape)
        for b, c in itertools.product(range(x.shape[0]), range(x.shape[-1])):
            for index, cells in windows.items():
                values = [x[(b, *cell, c)] for cell in cells]
                chosen = [cells[int(np.argmax(values))]] if mode == "max" else cells
                for cell in chosen:
                    dx[(b, *cell, c)] += g[(b, *index, c)] / len(chosen)
        return dx

    return out, grad


UNEVEN = [  # uneven `same` padding, where Keras 3's torch backend averages wrongly
    ((2, 8, 3), 3, 2),
    ((2, 6, 5, 2), (3, 2), (2, 1)),
    ((2, 4, 5, 6, 2), 3, 2),
    ((1, 7, 6, 2), (4, 3), (3, 3)),
]


@pytest.mark.parametrize("mode", ["average", "max"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("shape, pool_size, strides", UNEVEN, ids=str)
def test_same_pooling_matches_numpy_reference(
    shape, pool_size, strides, data_format, mode
):
    rank = len(shape) - 2
    pool_size = (pool_size,) * rank if isinstance(pool_size, int) else pool_size
    strides = (strides,) * rank if isinstance(strides, int) else strides
    x = np.random.default_rng(0).standard_normal(shape)
    expected, reference_grad = reference_pool(x, pool_size, strides, "same", mode)
    name = {"max": "MaxPooling", "average": "AveragePooling"}[mode]
    layer = getattr(lamina.layers, f"{name}{rank}D")(
        pool_size, strides, padding="same", data_format=data_format
    )
    to_layer = (0, rank + 1, *range(1, rank + 1))  # channels_last -> first
    to_last = (0, *range(2, rank + 2), 1)
    inputs = x if data_format == "channels_last" else x.transpose(to_layer)
    tensor = torch.tensor(inputs, dtype=torch.float32, requires_grad=True)
    out = layer(tensor)
    g = np.random.default_rng(1).standard_normal(expected.shape)
    g_layer = g if data_format == "channels_last" else g.transpose(to_layer)
    (out * torch.tensor(g_layer, dtype=torch.float32)).sum().backward()
    got = out.detach().numpy()
    grad = tensor.grad.numpy()
    if data_format == "channels_first":
        got, grad = got.transpose(to_last), grad.transpose(to_last)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    np.testing.assert_allclose(grad, reference_grad(g), atol=1e-5)


def test_max_pooling_pads_with_minus_infinity_not_zero():
    x = -1.0 - torch.rand(2, 5, 4, 3)
    out = lamina.layers.MaxPooling2D(3, strides=2, padding="same")(x)
    assert (out < -1.0).all()
    expected, _ = reference_pool(x.numpy(), (3, 3), (2, 2), "same", "max")
    np.testing.assert_allclose(out.numpy(), expected, atol=1e-6)


# ------------------------------------------------------------------ ties
@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_max_pooling_ties_route_like_keras(rank, padding):
    """On data full of ties (0/1), the gradient goes where Keras 3's sends it (the
    first maximum of each window), also for overlapping windows."""
    shape = (2, *(5, 6, 4)[:rank], 3)
    x = np.random.default_rng(0).integers(0, 2, shape).astype("float32")
    for layer_args in ((2, None), (3, 1), (3, 2)):
        kwargs = {"pool_size": layer_args[0], "strides": layer_args[1]}
        ours = getattr(lamina.layers, f"MaxPooling{rank}D")(padding=padding, **kwargs)
        theirs = getattr(keras.layers, f"MaxPooling{rank}D")(padding=padding, **kwargs)
        grads = []
        for layer in (ours, theirs):
            tensor = torch.tensor(x, requires_grad=True)
            out = layer(tensor)
            g = torch.arange(out.numel(), dtype=torch.float32).reshape(out.shape)
            (out * g).sum().backward()
            grads.append(tensor.grad.numpy())
        np.testing.assert_array_equal(grads[0], grads[1])


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_adaptive_max_ties_route_like_keras(rank):
    shape = (2, *(7, 6, 5)[:rank], 3)
    x = np.random.default_rng(0).integers(0, 2, shape).astype("float32")
    grads = []
    for k in (lamina, keras):
        tensor = torch.tensor(x, requires_grad=True)
        out = getattr(k.layers, f"AdaptiveMaxPooling{rank}D")(3)(tensor)
        g = torch.arange(out.numel(), dtype=torch.float32).reshape(out.shape)
        (out * g).sum().backward()
        grads.append(tensor.grad.numpy())
    np.testing.assert_array_equal(grads[0], grads[1])


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_global_max_ties_share_the_gradient_like_keras(data_format):
    x = np.random.default_rng(0).integers(0, 3, (2, 4, 5, 3)).astype("float32")
    projection = torch.randn(2, 3 if data_format == "channels_last" else 4)
    grads = []
    for k in (lamina, keras):
        tensor = torch.tensor(x, requires_grad=True)
        out = k.layers.GlobalMaxPooling2D(data_format=data_format)(tensor)
        (out * projection).sum().backward()
        grads.append(tensor.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], atol=1e-6)


def test_global_max_pooling_has_a_second_derivative():
    x = torch.randn(2, 5, 3, requires_grad=True)
    y = lamina.layers.GlobalMaxPooling1D()(x)
    (grad,) = torch.autograd.grad((y**2).sum(), x, create_graph=True)
    (second,) = torch.autograd.grad(grad.sum(), x)
    winners = x == x.amax(1, keepdim=True)
    np.testing.assert_allclose(second.numpy(), 2.0 * winners.numpy(), atol=1e-6)


# -------------------------------------------------------------- masking
def test_masked_global_average_pooling_1d_matches_keras_and_numpy():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 6, 4)).astype("float32")
    mask = rng.integers(0, 2, (3, 6)).astype(bool)
    mask[:, 0] = True
    expected = (x * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
    results = []
    for k in (lamina, keras):
        tensor = torch.tensor(x, requires_grad=True)
        out = k.layers.GlobalAveragePooling1D()(tensor, mask=torch.tensor(mask))
        out.sum().backward()
        results.append((out.detach().numpy(), tensor.grad.numpy()))
    np.testing.assert_allclose(results[0][0], expected, atol=1e-6)
    np.testing.assert_allclose(results[0][0], results[1][0], atol=1e-6)
    np.testing.assert_allclose(results[0][1], results[1][1], atol=1e-6)
    assert getattr(out, "_keras_mask", None) is None


def test_fully_masked_rows_give_zero_not_nan():
    x = torch.randn(2, 5, 3, requires_grad=True)
    mask = torch.tensor([[True, False, True, False, False], [False] * 5])
    layer = lamina.layers.GlobalAveragePooling1D(keepdims=True)
    out = layer(x, mask=mask)
    assert out.shape == (2, 1, 3)
    np.testing.assert_allclose(out[1].detach().numpy(), 0.0)
    np.testing.assert_allclose(
        out[0, 0].detach().numpy(), (x[0, 0] + x[0, 2]).detach().numpy() / 2, atol=1e-6
    )
    out.sum().backward()
    assert torch.isfinite(x.grad).all() and (x.grad[1] == 0).all()


def test_mask_from_masking_layer_and_channels_first():
    x = np.random.default_rng(0).standard_normal((2, 5, 3)).astype("float32")
    x[0, 3:] = 0.0  # steps the Masking layer masks
    model = lamina.Sequential(
        [
            lamina.Input((5, 3)),
            lamina.layers.Masking(0.0),
            lamina.layers.GlobalAveragePooling1D(),
        ]
    )
    out = model(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(out[0], x[0, :3].mean(0), atol=1e-6)
    np.testing.assert_allclose(out[1], x[1].mean(0), atol=1e-6)
    layer = lamina.layers.GlobalAveragePooling1D(data_format="channels_first")
    mask = torch.tensor([[True, True, False, False, False], [True] * 5])
    out = layer(torch.tensor(x).transpose(1, 2), mask=mask).numpy()
    np.testing.assert_allclose(out, [x[0, :2].mean(0), x[1].mean(0)], atol=1e-6)


# ------------------------------------------------------------ fast paths
def test_channels_last_pooling_copies_nothing_and_any_gradient_layout_works():
    x = torch.randn(2, 8, 8, 4, requires_grad=True)
    layer = lamina.layers.MaxPooling2D()
    out = layer(x)
    assert out.is_contiguous()  # a contiguous channels_last tensor, as a view
    out.sum().backward()  # a broadcast (stride-0) gradient
    broadcast = x.grad.clone()
    x.grad = None
    layer(x).backward(torch.ones(2, 4, 4, 4))
    np.testing.assert_array_equal(broadcast.numpy(), x.grad.numpy())


def test_pooling_with_unknown_spatial_sizes():
    inputs = lamina.Input((None, None, 3))
    outputs = lamina.layers.MaxPooling2D(3, strides=2, padding="same")(inputs)
    assert outputs.shape == (None, None, None, 3)
    model = lamina.Model(inputs, lamina.layers.GlobalAveragePooling2D()(outputs))
    assert tuple(model(torch.randn(1, 9, 7, 3)).shape) == (1, 3)
    layer = lamina.layers.MaxPooling1D(4)
    layer(lamina.Input((None, 2)))  # built without a length: checked per call
    with pytest.raises(ValueError, match="at least as long as the window"):
        layer(torch.randn(1, 3, 2))


def test_padding_is_case_insensitive():
    layer = lamina.layers.MaxPooling2D(padding="SAME")
    assert layer.get_config()["padding"] == "same"

"""LocallyConnected1D/2D/3D against a reference written here with plain loops from
tf.keras 2's definitions (which windows each output reads, each implementation's
kernel layout, the channels_first bias), for every implementation; conversions
between implementations; configs, parameter counts, errors, gradients."""

from __future__ import annotations

import itertools
import json
from math import prod
from pathlib import Path

import numpy as np
import pytest
import torch

import lamina
from lamina.layers.locally_connected import convert_weights
from lamina.layers.locally_connected.strategies import STRATEGIES, choose

# torch calls its CSR tensors "beta" once per process (implementation 3)
pytestmark = pytest.mark.filterwarnings("ignore:Sparse CSR tensor support is in beta")

LAYERS = {1: lamina.layers.LocallyConnected1D, 2: lamina.layers.LocallyConnected2D}
LAYERS[3] = lamina.layers.LocallyConnected3D
ATOL = 1e-5


# ------------------------------------------------------------ the reference
def out_sizes(in_sizes, kernel, strides, padding):
    if padding == "same":
        return [-(-n // s) for n, s in zip(in_sizes, strides)]
    return [(n - k) // s + 1 for n, k, s in zip(in_sizes, kernel, strides)]


def window(position, in_sizes, kernel, strides, padding):
    """tf.keras's ``conv_connected_inputs``: the input cells output ``position``
    reads, as ``(tap, cell)`` pairs (taps row-major over the kernel window)."""
    pairs = []
    for tap in itertools.product(*map(range, kernel)):
        cell = []
        for q, j, k, s in zip(position, tap, kernel, strides):
            start = q * s - (k // 2 if padding == "same" else 0)
            cell.append(start + j)
        if all(0 <= c < n for c, n in zip(cell, in_sizes)):
            pairs.append((tap, tuple(cell)))
    return pairs


def sparse_indices(in_sizes, kernel, strides, padding, channels, filters, first):
    """tf.keras's ``conv_kernel_idxs``, sorted: (output index, input index) of every
    weight of implementation 3, over the flattened output and input."""
    outs = out_sizes(in_sizes, kernel, strides, padding)

    def flat(spatial, channel, sizes, depth):
        index = (channel, *spatial) if first else (*spatial, channel)
        dims = (depth, *sizes) if first else (*sizes, depth)
        return int(np.ravel_multi_index(index, dims))

    indices = []
    for position in itertools.product(*map(range, outs)):
        for _, cell in window(position, in_sizes, kernel, strides, padding):
            for c in range(channels):
                for o in range(filters):
                    out_index = flat(position, o, outs, filters)
                    indices.append((out_index, flat(cell, c, in_sizes, channels)))
    return sorted(indices)


def connection_weight(kernel, implementation, args, p, position, tap, cell, c, o):
    """The weight between input (cell, c) and output (position, o) in the kernel
    layout of ``implementation``."""
    sizes, first = args["in_sizes"], args["first"]
    if implementation in (1, "auto"):
        taps = prod(args["kernel"])
        t = int(np.ravel_multi_index(tap, args["kernel"]))
        f = c * taps + t if first else t * args["channels"] + c
        return kernel[p, f, o]
    if implementation == 2:
        index = (c, *cell, o, *position) if first else (*cell, c, *position, o)
        return kernel[index]
    outs = out_sizes(sizes, args["kernel"], args["strides"], args["padding"])
    out_dims = (args["filters"], *outs) if first else (*outs, args["filters"])
    in_dims = (args["channels"], *sizes) if first else (*sizes, args["channels"])
    out_index = np.ravel_multi_index(
        (o, *position) if first else (*position, o), out_dims
    )
    in_index = np.ravel_multi_index((c, *cell) if first else (*cell, c), in_dims)
    return kernel[args["sparse_slot"][(int(out_index), int(in_index))]]


def reference(x, kernel, bias, implementation, args):
    """Plain loops over positions, taps, channels and filters; works on NumPy
    arrays and (for autograd) on torch tensors."""
    first = args["first"]
    if first:
        x = np.moveaxis(x, 1, -1) if isinstance(x, np.ndarray) else x.movedim(1, -1)
    sizes = args["in_sizes"]
    outs = out_sizes(sizes, args["kernel"], args["strides"], args["padding"])
    columns = []
    for p, position in enumerate(itertools.product(*map(range, outs))):
        pairs = window(
            position, sizes, args["kernel"], args["strides"], args["padding"]
        )
        for o in range(args["filters"]):
            total = 0.0
            for tap, cell in pairs:
                for c in range(args["channels"]):
                    weight = connection_weight(
                        kernel, implementation, args, p, position, tap, cell, c, o
                    )
                    total = total + x[(slice(None), *cell, c)] * weight
            columns.append(total)
    stack = np.stack if isinstance(x, np.ndarray) else torch.stack
    y = stack(columns, -1).reshape(x.shape[0], *outs, args["filters"])
    if first:
        y = np.moveaxis(y, -1, 1) if isinstance(y, np.ndarray) else y.movedim(-1, 1)
        if bias is not None:  # tf.keras: the bias buffer reshaped to (O, *out)
            y = y + bias.reshape(args["filters"], *outs)
    elif bias is not None:
        y = y + bias
    return y


def reference_args(layer, input_shape):
    first = layer.data_format == "channels_first"
    args = {
        "in_sizes": tuple(input_shape[2:] if first else input_shape[1:-1]),
        "channels": input_shape[1 if first else -1],
        "kernel": layer.kernel_size,
        "strides": layer.strides,
        "padding": layer.padding,
        "filters": layer.filters,
        "first": first,
    }
    indices = sparse_indices(
        args["in_sizes"],
        args["kernel"],
        args["strides"],
        args["padding"],
        args["channels"],
        args["filters"],
        first,
    )
    args["sparse_slot"] = {pair: i for i, pair in enumerate(indices)}
    return args


# ------------------------------------------------------------ helpers
def build(rank, input_shape, seed=0, **kwargs):
    layer = LAYERS[rank](**kwargs)
    layer.build(input_shape)
    rng = np.random.default_rng(seed)
    layer.set_weights([rng.standard_normal(w.shape) for w in layer.weights])
    return layer


def random_input(shape, seed=1):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# (rank, input_shape, kwargs): pruned over data formats, strides, paddings, odd
# sizes, kernels longer on one axis, no bias, ranks 1 to 3.
GEOMETRIES = [
    (1, (2, 7, 3), dict(filters=2, kernel_size=3)),
    (1, (2, 9, 2), dict(filters=3, kernel_size=2, strides=2)),
    (1, (2, 3, 8), dict(filters=2, kernel_size=3, data_format="channels_first")),
    (1, (2, 8, 2), dict(filters=2, kernel_size=4, strides=3, padding="same")),
    (
        1,
        (2, 2, 7),
        dict(filters=2, kernel_size=2, padding="same", data_format="channels_first"),
    ),
    (2, (2, 5, 6, 2), dict(filters=2, kernel_size=(3, 2), strides=(1, 2))),
    (
        2,
        (2, 2, 5, 4),
        dict(filters=3, kernel_size=2, data_format="channels_first", use_bias=False),
    ),
    (
        2,
        (2, 5, 5, 1),
        dict(filters=2, kernel_size=(2, 3), padding="same", strides=(2, 1)),
    ),
    (
        2,
        (2, 2, 4, 5),
        dict(
            filters=2,
            kernel_size=3,
            padding="same",
            data_format="channels_first",
            strides=2,
        ),
    ),
    (3, (2, 4, 3, 5, 2), dict(filters=2, kernel_size=(2, 2, 3), strides=(2, 1, 1))),
    (
        3,
        (2, 2, 3, 4, 3),
        dict(filters=2, kernel_size=2, padding="same", data_format="channels_first"),
    ),
]


def implementations(kwargs):
    allowed = (1, 2, 3, "auto") if kwargs.get("padding") != "same" else (2, 3, "auto")
    return allowed


CASES = [
    pytest.param(rank, shape, kwargs, impl, id=f"{rank}d-{i}-impl{impl}")
    for i, (rank, shape, kwargs) in enumerate(GEOMETRIES)
    for impl in implementations(kwargs)
]


# ------------------------------------------------------------ outputs
@pytest.mark.parametrize("rank, input_shape, kwargs, implementation", CASES)
def test_matches_the_loop_reference(rank, input_shape, kwargs, implementation):
    layer = build(rank, input_shape, implementation=implementation, **kwargs)
    x = random_input(input_shape)
    args = reference_args(layer, input_shape)
    weights = layer.get_weights()
    bias = weights[1] if len(weights) > 1 else None
    expected = reference(x.astype(np.float64), weights[0], bias, implementation, args)
    np.testing.assert_allclose(layer(x).detach().numpy(), expected, atol=ATOL)
    assert tuple(layer.compute_output_shape(input_shape)) == expected.shape


@pytest.mark.parametrize("rank, input_shape, kwargs", [g[:3] for g in GEOMETRIES])
def test_every_strategy_computes_from_every_layout(rank, input_shape, kwargs):
    """A layer picks its strategy by a cost model (``auto`` among all three, 2
    between its masked dense matmul and the batched matmul over its live blocks):
    whatever it picks, every strategy gives the same outputs and gradients from
    every stored layout."""
    layer = build(rank, input_shape, implementation="auto", **kwargs)
    x = torch.from_numpy(random_input(input_shape))
    expected = layer(x)
    upstream = torch.randn(expected.shape)
    (expected * upstream).sum().backward()
    for layout in (1, 2, 3):
        kernel = torch.from_numpy(convert_weights(layer, layout)[0])
        expected_grad = torch.from_numpy(convert_weights_of_grad(layer, layout))
        for strategy in STRATEGIES.values():
            stored = kernel.clone().requires_grad_(True)
            computed = strategy(layer.geometry, layout)(x, stored, layer.bias)
            torch.testing.assert_close(computed, expected, atol=ATOL, rtol=0)
            (computed * upstream).sum().backward()
            live = stored.grad if layout != 2 else stored.grad * dense_mask(layer)
            torch.testing.assert_close(live, expected_grad, atol=ATOL, rtol=0)


def dense_mask(layer):
    geometry = layer.geometry
    return torch.from_numpy(geometry.mask.reshape(geometry.mask_shape()))


def convert_weights_of_grad(layer, layout):
    """The layout-1 kernel gradient of ``layer`` in ``layout`` (dead taps: 0)."""
    with torch.no_grad():
        saved = layer.kernel.detach().clone()
        layer.kernel.copy_(layer.kernel.grad)
        converted = convert_weights(layer, layout)[0]
        layer.kernel.copy_(saved)
    return converted


@pytest.mark.parametrize("rank, input_shape, kwargs, implementation", CASES[::2])
def test_gradients_match_autograd_of_the_reference(
    rank, input_shape, kwargs, implementation
):
    layer = build(rank, input_shape, implementation=implementation, **kwargs)
    x = torch.tensor(random_input(input_shape), dtype=torch.float64, requires_grad=True)
    layer_x = x.detach().float().requires_grad_(True)
    weights = [w.detach().double().requires_grad_(True) for w in layer.weights]
    args = reference_args(layer, input_shape)
    bias = weights[1] if len(weights) > 1 else None
    expected = reference(x, weights[0], bias, implementation, args)
    upstream = torch.randn(expected.shape, dtype=torch.float64)
    (expected * upstream).sum().backward()
    (layer(layer_x) * upstream.float()).sum().backward()
    torch.testing.assert_close(layer_x.grad.double(), x.grad, atol=ATOL, rtol=0)
    for ours, theirs in zip(layer.weights, weights):
        torch.testing.assert_close(ours.grad.double(), theirs.grad, atol=ATOL, rtol=0)


def test_dense_kernel_entries_outside_the_windows_are_ignored():
    layer = build(1, (2, 6, 2), filters=2, kernel_size=2, implementation=2)
    x = torch.from_numpy(random_input((2, 6, 2)))
    before = layer(x).detach()
    mask = dense_mask(layer).expand_as(layer.kernel)
    with torch.no_grad():
        layer.kernel[~mask] = 1e3
    torch.testing.assert_close(layer(x), before)
    layer(x).sum().backward()
    assert (layer.kernel.grad[~mask] == 0).all()


# ------------------------------------------------------------ conversions
@pytest.mark.parametrize("rank, input_shape, kwargs", [g[:3] for g in GEOMETRIES])
def test_implementations_agree_after_converting_weights(rank, input_shape, kwargs):
    impls = implementations(kwargs)
    x = random_input(input_shape)
    layers = {impls[0]: build(rank, input_shape, implementation=impls[0], **kwargs)}
    expected = layers[impls[0]](x).detach()
    for source, target in itertools.permutations(impls, 2):
        if source not in layers:
            layers[source] = layers[impls[0]].with_implementation(source)
        converted = layers[source].with_implementation(target)
        assert converted.implementation == target
        torch.testing.assert_close(converted(x), expected, atol=ATOL, rtol=0)
        fresh = LAYERS[rank](implementation=target, **kwargs)
        fresh.build(input_shape)
        fresh.set_weights(convert_weights(layers[source], target))
        torch.testing.assert_close(fresh(x), expected, atol=ATOL, rtol=0)


def test_converting_needs_a_built_layer_and_a_valid_target():
    layer = lamina.layers.LocallyConnected1D(2, 3)
    with pytest.raises(ValueError, match="convert_weights needs the layer built"):
        convert_weights(layer, 2)
    layer.build((None, 5, 1))
    with pytest.raises(ValueError, match="`implementation` must be 1, 2, 3"):
        convert_weights(layer, 5)
    same = lamina.layers.LocallyConnected1D(2, 3, padding="same", implementation=3)
    same.build((None, 5, 1))
    with pytest.raises(ValueError, match='`padding` must be "valid" when'):
        same.with_implementation(1)


# ------------------------------------------------------------ shapes, counts
def test_documented_example_and_tf_keras_param_counts():
    model = lamina.Sequential()
    model.add(lamina.layers.LocallyConnected1D(64, 3, input_shape=(10, 32)))
    assert model.output_shape == (None, 8, 64)
    model.add(lamina.layers.LocallyConnected1D(32, 3))
    assert model.output_shape == (None, 6, 32)
    assert model.layers[0].count_params() == 8 * 3 * 32 * 64 + 8 * 64 == 49664
    # tf.keras's counts for its other layouts of the same layer
    counts = {1: 49664, 2: 10 * 32 * 8 * 64 + 8 * 64, 3: 49664, "auto": 49664}
    for implementation, count in counts.items():
        layer = lamina.layers.LocallyConnected1D(64, 3, implementation=implementation)
        layer.build((None, 10, 32))
        assert layer.count_params() == count
    # same padding: implementation 3 keeps only the connected weights
    layer = lamina.layers.LocallyConnected1D(4, 3, padding="same", implementation=3)
    layer.build((None, 5, 2))
    assert layer.count_params() == (5 * 3 - 2) * 2 * 4 + 5 * 4
    model2d = lamina.Sequential(
        [lamina.layers.LocallyConnected2D(64, (3, 3), input_shape=(32, 32, 3))]
    )
    assert model2d.output_shape == (None, 30, 30, 64)
    assert model2d.count_params() == 900 * 27 * 64 + 900 * 64
    summary = []
    model.summary(print_fn=summary.append)
    assert "49,664" in "\n".join(summary)


def test_weights_shapes_names_and_order():
    layer = build(2, (1, 5, 4, 3), filters=6, kernel_size=(2, 3), implementation=2)
    assert [w.name for w in layer.weights] == ["kernel", "bias"]
    assert tuple(layer.kernel.shape) == (5, 4, 3, 4, 2, 6)
    assert tuple(layer.bias.shape) == (4, 2, 6)
    first = build(
        2,
        (1, 3, 5, 4),
        filters=6,
        kernel_size=(2, 3),
        implementation=2,
        data_format="channels_first",
    )
    assert tuple(first.kernel.shape) == (3, 5, 4, 6, 4, 2)
    one = build(2, (1, 5, 4, 3), filters=6, kernel_size=(2, 3))
    assert tuple(one.kernel.shape) == (8, 18, 6)
    assert set(one.state_dict()) == {"kernel", "bias"}


def test_symbolic_shapes_and_functional_model():
    for implementation in (1, 2, 3, "auto"):
        inputs = lamina.Input((9, 9, 2))
        outputs = lamina.layers.LocallyConnected2D(
            3, 3, strides=2, implementation=implementation
        )(inputs)
        assert outputs.shape == (None, 4, 4, 3)
        model = lamina.Model(inputs, outputs)
        assert model.predict(np.ones((2, 9, 9, 2), "float32"), verbose=0).shape == (
            2,
            4,
            4,
            3,
        )


def test_inputs_must_keep_the_built_spatial_sizes():
    layer = lamina.layers.LocallyConnected1D(2, 3)
    layer(torch.zeros(2, 6, 3))
    with pytest.raises(ValueError, match="LocallyConnected1D"):
        layer(torch.zeros(2, 7, 3))
    with pytest.raises(ValueError, match="known channel and spatial sizes"):
        lamina.layers.LocallyConnected1D(2, 3)(lamina.Input((None, 3)))


# ------------------------------------------------------------ auto
def test_auto_choice_follows_the_shapes_and_keeps_layout_1():
    def chosen(rank, input_shape, **kwargs):
        layer = LAYERS[rank](implementation="auto", **kwargs)
        layer.build(input_shape)
        assert tuple(layer.kernel.shape)[0] == layer.geometry.positions  # layout 1
        return [k for k, v in STRATEGIES.items() if type(layer._strategy) is v][0]

    # many channels and filters per position: batched matmul (bench cases)
    assert chosen(1, (64, 128, 32), filters=64, kernel_size=3) == 1
    assert chosen(2, (32, 32, 32, 16), filters=32, kernel_size=3) == 1
    # one channel, few filters, many positions: the sparse matmul
    assert chosen(2, (32, 28, 28, 1), filters=4, kernel_size=3) == 3
    assert chosen(1, (32, 1000, 1), filters=1, kernel_size=3) == 3
    layer = LAYERS[1](2, 3, implementation="auto")
    layer.build((None, 8, 2))
    assert choose(layer.geometry) in (1, 2, 3)


# ------------------------------------------------------------ config
def test_config_has_tf_keras_keys_and_round_trips_through_json():
    layer = lamina.layers.LocallyConnected2D(
        4,
        (2, 3),
        strides=(1, 2),
        padding="same",
        data_format="channels_first",
        activation="relu",
        use_bias=False,
        kernel_regularizer="l2",
        kernel_constraint="non_neg",
        activity_regularizer="l1",
        implementation=3,
        name="lc",
    )
    config = layer.get_config()
    assert set(config) == {
        "name",
        "trainable",
        "dtype",
        "filters",
        "kernel_size",
        "strides",
        "padding",
        "data_format",
        "activation",
        "use_bias",
        "kernel_initializer",
        "bias_initializer",
        "kernel_regularizer",
        "bias_regularizer",
        "activity_regularizer",
        "kernel_constraint",
        "bias_constraint",
        "implementation",
    }
    assert (config["kernel_size"], config["strides"]) == ((2, 3), (1, 2))
    assert config["implementation"] == 3 and config["padding"] == "same"
    restored = lamina.layers.LocallyConnected2D.from_config(
        json.loads(json.dumps(config))
    )
    assert json.dumps(restored.get_config()) == json.dumps(config)
    auto = lamina.layers.LocallyConnected1D(2, 3, implementation="AUTO")
    assert auto.get_config()["implementation"] == "auto"
    assert (
        lamina.layers.LocallyConnected1D(2, 3).get_config()["activity_regularizer"]
        is None
    )
    serialized = lamina.layers.serialize(layer)
    assert serialized["class_name"] == "LocallyConnected2D"
    assert serialized["module"] == "keras.layers"
    assert (
        type(lamina.layers.deserialize(serialized)) is lamina.layers.LocallyConnected2D
    )


def test_model_file_round_trip(tmp_path):
    inputs = lamina.Input((6, 6, 2))
    x = lamina.layers.LocallyConnected2D(3, 2, implementation=3)(inputs)
    outputs = lamina.layers.LocallyConnected2D(2, 2, implementation="auto")(x)
    model = lamina.Model(inputs, outputs)
    data = random_input((2, 6, 6, 2))
    path = tmp_path / "lc.keras"
    model.save(path)
    loaded = lamina.saving.load_model(path)
    np.testing.assert_allclose(
        loaded.predict(data, verbose=0), model.predict(data, verbose=0)
    )


def test_regularizers_and_training_step():
    layer = lamina.layers.LocallyConnected1D(
        2, 3, kernel_regularizer="l2", activity_regularizer="l2", implementation=3
    )
    x = torch.from_numpy(random_input((4, 7, 3)))
    out = layer(x)
    assert len(layer.losses) == 2
    optimizer = torch.optim.SGD(layer.parameters(), lr=0.1)
    loss = out.square().mean()
    loss.backward()
    optimizer.step()
    assert layer(x).square().mean() < loss


def test_float64_layers_compute_in_float64():
    layer = build(
        1, (2, 6, 2), filters=2, kernel_size=3, implementation=3, dtype="float64"
    )
    assert layer.kernel.dtype == torch.float64
    assert layer(np.ones((2, 6, 2))).dtype == torch.float64


# ------------------------------------------------------------ tf.keras itself
TF_KERAS = np.load(Path(__file__).parent / "data" / "tf_keras_locally_connected.npz")
TF_KERAS_INDEX = json.loads(str(TF_KERAS["index"]))


@pytest.mark.parametrize("entry", TF_KERAS_INDEX, ids=lambda e: e["key"])
def test_tf_keras_weights_give_tf_keras_outputs(entry):
    """Layers, weights (from tf.keras's initializers: the dense kernel's unused
    entries are not zero), outputs and input gradients written by tf.keras 2.15
    (tests/data/make_tf_keras_locally_connected.py); its config loads here."""
    key = entry["key"]
    layer = getattr(lamina.layers, entry["layer"]).from_config(entry["config"])
    assert layer.implementation == entry["implementation"]
    x = torch.tensor(TF_KERAS[f"{key}_x"], requires_grad=True)
    layer.build(tuple(x.shape))
    layer.set_weights([TF_KERAS[f"{key}_kernel"], TF_KERAS[f"{key}_bias"]])
    assert layer.count_params() == entry["count_params"]
    assert set(layer.get_config()) == set(entry["config"])
    y = layer(x)
    np.testing.assert_allclose(y.detach().numpy(), TF_KERAS[f"{key}_y"], atol=ATOL)
    (y * torch.cos(y)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), TF_KERAS[f"{key}_dx"], atol=ATOL)


@pytest.mark.parametrize("implementation", [1, 2, 3, "auto"])
def test_mixed_bfloat16_policy(implementation):
    """bf16 compute (implementation 3 in float32: torch has no bf16 CSR matmul on
    CPU), float32 weights and gradients, outputs near the float32 layer's."""
    reference_layer = build(
        1, (2, 9, 3), filters=4, kernel_size=3, implementation=implementation
    )
    layer = lamina.layers.LocallyConnected1D(
        4, 3, implementation=implementation, dtype="mixed_bfloat16"
    )
    layer.build((2, 9, 3))
    layer.set_weights(reference_layer.get_weights())
    x = random_input((2, 9, 3))
    y = layer(x)
    assert y.dtype == torch.bfloat16
    y.float().sum().backward()
    assert layer.kernel.grad.dtype == torch.float32
    np.testing.assert_allclose(
        y.float().detach().numpy(),
        reference_layer(x).detach().numpy(),
        rtol=0.05,
        atol=0.1,
    )

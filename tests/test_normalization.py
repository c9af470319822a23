"""Normalization beyond the Keras oracle (tests/cases_normalization.py):

- NumPy references where Keras 3's torch backend is wrong (LayerNormalization and
  RMSNormalization over leading axes) or where lamina follows tf.keras/TensorFlow
  (BatchNormalization over several axes, ``synchronized=True``);
- synchronized statistics: ``compute_stats`` over shards run by threads that sum
  through a barrier (a fake process group), and BatchNormalization in two gloo
  processes against one process holding the whole batch;
- the inference fast path forgets its folded statistics when a weight changes;
- Keras 1/2 spellings and a Keras 2 ``.h5`` file of BatchNormalization layers in
  tf.keras's layout, written here with h5py (tf-keras is not installed).
"""

from __future__ import annotations

import json
import os
import threading

import h5py
import keras
import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

import lamina
from lamina.ops import normalization as norm

RNG = np.random.default_rng(0)


def _np(x):
    return lamina.ops.convert_to_numpy(x)


def _normal(*shape):
    return RNG.standard_normal(shape).astype("float32")


# ---------------------------------------------------------- NumPy references
def _reference(x, axes, gamma=None, beta=None, epsilon=1e-3, center=True):
    mean = x.mean(axis=axes, keepdims=True) if center else 0.0
    if center:
        variance = x.var(axis=axes, keepdims=True)
    else:
        variance = (x**2).mean(axis=axes, keepdims=True)
    y = (x - mean) / np.sqrt(variance + epsilon)
    y = y if gamma is None else y * gamma
    return y if beta is None else y + beta


@pytest.mark.parametrize("axis", [1, [1], [0, 2]])
def test_layer_normalization_over_leading_axes_matches_numpy(axis):
    # Keras 3 on torch hands these to F.layer_norm, which normalizes the last axes.
    x = _normal(2, 3, 4)
    layer = lamina.layers.LayerNormalization(axis=axis)
    layer.build(x.shape)
    axes = tuple([axis] if isinstance(axis, int) else axis)
    shape = [1, 1, 1]
    for a in axes:
        shape[a] = x.shape[a]
    gamma, beta = _normal(*shape), _normal(*shape)
    layer.set_weights(
        [gamma.reshape(layer.gamma.shape), beta.reshape(layer.beta.shape)]
    )
    expected = _reference(x, axes, gamma, beta)
    np.testing.assert_allclose(_np(layer(x)), expected, atol=1e-5)


@pytest.mark.parametrize("axis", [1, [1, 3]])
def test_rms_normalization_over_leading_axes_matches_numpy(axis):
    # Keras 3 on torch normalizes the last axes (axis=1) or fails ([1, 3]).
    x = _normal(2, 3, 4, 2)
    layer = lamina.layers.RMSNormalization(axis=axis, epsilon=1e-6)
    layer.build(x.shape)
    axes = tuple([axis] if isinstance(axis, int) else axis)
    shape = [1, 1, 1, 1]
    for a in axes:
        shape[a] = x.shape[a]
    scale = _normal(*shape)
    layer.set_weights([scale.reshape(layer.scale.shape)])
    expected = _reference(x, axes, scale, epsilon=1e-6, center=False)
    np.testing.assert_allclose(_np(layer(x)), expected, atol=1e-5)


def test_batch_normalization_over_several_axes_follows_tf_keras():
    # tf.keras 2: weights shaped like the input with 1 on the reduced axes.
    x = _normal(4, 3, 5, 2)
    layer = lamina.layers.BatchNormalization(axis=[1, 3], momentum=0.8)
    outputs = layer(x, training=True)
    assert [tuple(w.shape) for w in layer.weights] == [(1, 3, 1, 2)] * 4
    expected = _reference(x, (0, 2))
    np.testing.assert_allclose(_np(outputs), expected, atol=1e-5)
    mean, variance = x.mean(axis=(0, 2), keepdims=True), x.var(axis=(0, 2))
    np.testing.assert_allclose(_np(layer.moving_mean), 0.2 * mean, atol=1e-6)
    np.testing.assert_allclose(
        _np(layer.moving_variance), 0.8 + 0.2 * variance[None, :, None], atol=1e-6
    )
    assert layer.get_config()["axis"] == [1, 3]
    # A list of one axis is that axis, as Keras 3 reads tf.keras's [3].
    assert lamina.layers.BatchNormalization(axis=[3]).get_config()["axis"] == 3


def test_moving_statistics_use_the_biased_variance():
    x = _normal(6, 4)
    layer = lamina.layers.BatchNormalization(momentum=0.0)
    layer(x, training=True)
    np.testing.assert_allclose(_np(layer.moving_variance), x.var(0), rtol=1e-5)
    np.testing.assert_allclose(_np(layer.moving_mean), x.mean(0), atol=1e-6)


# ---------------------------------------------------------- synchronization
def _sharded_stats(shards, axes, masks):
    """compute_stats on each shard in its own thread, summing through a
    barrier as an all-reduce over the threads would."""
    barrier = threading.Barrier(len(shards))
    slots = [None] * len(shards)
    results = [None] * len(shards)

    def run(rank):
        def all_reduce(tensor):
            slots[rank] = tensor
            barrier.wait()
            total = sum(slots)
            barrier.wait()
            return total

        mask = None if masks is None else masks[rank]
        results[rank] = norm.compute_stats(shards[rank], axes, mask, all_reduce)

    threads = [threading.Thread(target=run, args=(r,)) for r in range(len(shards))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.parametrize("masked", [False, True])
def test_synchronized_statistics_are_those_of_the_whole_batch(masked):
    x = torch.from_numpy(_normal(6, 5, 3))
    mask = torch.from_numpy(RNG.random((6, 5, 1)) > 0.3) if masked else None
    expected = norm.compute_stats(x, (0, 1), mask)
    shards = [x[:2], x[2:]]  # uneven shards: counts, not means, are summed
    masks = None if mask is None else [mask[:2], mask[2:]]
    for mean, variance in _sharded_stats(shards, (0, 1), masks):
        torch.testing.assert_close(mean, expected[0])
        torch.testing.assert_close(variance, expected[1])


def _sync_worker(rank, world_size, init_file, out_dir):
    dist.init_process_group(
        "gloo", init_method=f"file://{init_file}", rank=rank, world_size=world_size
    )
    torch.set_num_threads(1)
    data = np.load(os.path.join(out_dir, "data.npz"))
    x = torch.from_numpy(data["x"][rank * 2 : rank * 2 + 2]).requires_grad_()
    layer = lamina.layers.BatchNormalization(synchronized=True, momentum=0.5)
    outputs = layer(x, training=True)
    (
        outputs * torch.from_numpy(data["projection"][rank * 2 : rank * 2 + 2])
    ).sum().backward()
    np.savez(
        os.path.join(out_dir, f"rank{rank}.npz"),
        outputs=outputs.detach().numpy(),
        grad=x.grad.numpy(),
        gamma_grad=layer.gamma.grad.numpy(),
        moving_mean=layer.moving_mean.numpy(),
        moving_variance=layer.moving_variance.numpy(),
    )
    dist.destroy_process_group()


def test_synchronized_batch_normalization_in_two_gloo_processes(tmp_path):
    x, projection = _normal(4, 3, 2), _normal(4, 3, 2)
    np.savez(tmp_path / "data.npz", x=x, projection=projection)
    # Forked, not spawned: a spawned process re-imports torch (tens of seconds on
    # a loaded machine); these children only run torch and lamina.
    mp.start_processes(
        _sync_worker,
        args=(2, str(tmp_path / "init"), str(tmp_path)),
        nprocs=2,
        join=True,
        start_method="fork",
    )
    whole = torch.from_numpy(x).requires_grad_()
    layer = lamina.layers.BatchNormalization(momentum=0.5)
    outputs = layer(whole, training=True)
    (outputs * torch.from_numpy(projection)).sum().backward()
    ranks = [np.load(tmp_path / f"rank{r}.npz") for r in range(2)]
    np.testing.assert_allclose(
        np.concatenate([r["outputs"] for r in ranks]), _np(outputs), atol=1e-5
    )
    # The gradient through the global statistics reaches every process's inputs.
    np.testing.assert_allclose(
        np.concatenate([r["grad"] for r in ranks]), _np(whole.grad), atol=1e-5
    )
    for r in ranks:  # each process holds its own share of the weights' gradient
        np.testing.assert_allclose(r["moving_mean"], _np(layer.moving_mean), atol=1e-6)
        np.testing.assert_allclose(
            r["moving_variance"], _np(layer.moving_variance), atol=1e-6
        )
    gamma_grad = sum(r["gamma_grad"] for r in ranks)
    np.testing.assert_allclose(gamma_grad, _np(layer.gamma.grad), atol=1e-5)


def test_synchronized_alone_uses_local_statistics_and_round_trips():
    x = _normal(4, 3)
    synced = lamina.layers.BatchNormalization(synchronized=True)
    local = lamina.layers.BatchNormalization()
    np.testing.assert_allclose(
        _np(synced(x, training=True)), _np(local(x, training=True)), atol=1e-6
    )
    config = synced.get_config()
    assert config["synchronized"] is True
    again = lamina.layers.BatchNormalization.from_config(json.loads(json.dumps(config)))
    assert again.synchronized is True
    # Keras 3 accepts it on TensorFlow only.
    with pytest.raises(ValueError, match="synchronized=True"):
        keras.layers.BatchNormalization(synchronized=True)


# --------------------------------------------------------- inference path
def test_folded_statistics_follow_every_weight_change():
    x = _normal(5, 3)
    layer = lamina.layers.BatchNormalization()
    layer.build(x.shape)

    def expected():
        gamma, beta, mean, variance = layer.get_weights()
        return (x - mean) / np.sqrt(variance + 1e-3) * gamma + beta

    with torch.no_grad():
        np.testing.assert_allclose(_np(layer(x)), expected(), atol=1e-6)
        layer.set_weights([_normal(3), _normal(3), _normal(3), RNG.random(3) + 0.5])
        np.testing.assert_allclose(_np(layer(x)), expected(), atol=1e-5)
        layer(x, training=True)  # moves the statistics
        np.testing.assert_allclose(_np(layer(x)), expected(), atol=1e-5)
        layer.gamma.mul_(2.0)  # an optimizer's in-place step
        np.testing.assert_allclose(_np(layer(x)), expected(), atol=1e-5)
    # With gradients, the folded statistics are recomputed (part of the graph).
    output = layer(x)
    output.sum().backward()
    assert layer.gamma.grad is not None and layer.beta.grad is not None


def test_frozen_layer_keeps_its_statistics_and_weights_under_training():
    x = _normal(4, 3)
    layer = lamina.layers.BatchNormalization(momentum=0.5)
    layer(x, training=True)
    before = layer.get_weights()
    layer.trainable = False
    layer(x * 3.0 + 1.0, training=True)
    for a, b in zip(layer.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    assert layer.trainable_weights == []
    assert [w.trainable for w in layer.weights] == [False] * 4
    layer.trainable = True
    assert [w.trainable for w in layer.weights] == [True, True, False, False]


def test_mixed_precision_keeps_statistics_in_float32():
    layer = lamina.layers.BatchNormalization(dtype="mixed_bfloat16")
    outputs = layer(_normal(4, 3), training=True)
    assert outputs.dtype == torch.bfloat16
    assert {w.dtype for w in layer.weights} == {torch.float32}


# ------------------------------------------------------- spectral wrapper
def test_spectral_normalization_errors_match_keras():
    for library in (lamina, keras):
        with pytest.raises(ValueError, match="power_iterations"):
            library.layers.SpectralNormalization(
                library.layers.Dense(2), power_iterations=0
            )
        layer = library.layers.SpectralNormalization(library.layers.Dropout(0.5))
        with pytest.raises(ValueError, match="kernel"):
            layer(np.ones((2, 3), "float32"))


def test_spectral_normalization_inference_leaves_the_kernel_alone():
    layer = lamina.layers.SpectralNormalization(lamina.layers.Dense(3))
    x = _normal(2, 4)
    layer(x)
    kernel = layer.kernel.numpy()
    layer(x)
    np.testing.assert_array_equal(layer.kernel.numpy(), kernel)
    layer(x, training=True)
    assert not np.allclose(layer.kernel.numpy(), kernel)


# ------------------------------------------------------------ Keras 1 / 2
def test_keras1_spellings_build_the_modern_layer():
    with pytest.warns(DeprecationWarning, match="BatchNormalization"):
        old = lamina.layers.BatchNormalization(
            mode=0, beta_init="zero", gamma_init="one", momentum=0.9
        )
    modern = lamina.layers.BatchNormalization(
        beta_initializer="zeros", gamma_initializer="ones", momentum=0.9
    )
    drop = {"name"}
    assert {k: v for k, v in old.get_config().items() if k not in drop} == {
        k: v for k, v in modern.get_config().items() if k not in drop
    }
    with pytest.raises(ValueError, match="mode=1"):
        lamina.layers.BatchNormalization(mode=1)


def _tf_keras_bn_config(name, axis, trainable=True, center=True):
    def initializer(class_name):
        return {
            "module": "keras.initializers",
            "class_name": class_name,
            "config": {},
            "registered_name": None,
        }

    return {
        "class_name": "BatchNormalization",
        "config": {
            "name": name,
            "trainable": trainable,
            "dtype": "float32",
            "axis": [axis],  # tf.keras writes the resolved axes as a list
            "momentum": 0.99,
            "epsilon": 0.001,
            "center": center,
            "scale": True,
            "beta_initializer": initializer("Zeros"),
            "gamma_initializer": initializer("Ones"),
            "moving_mean_initializer": initializer("Zeros"),
            "moving_variance_initializer": initializer("Ones"),
            "beta_regularizer": None,
            "gamma_regularizer": None,
            "beta_constraint": None,
            "gamma_constraint": None,
        },
    }


def _write_tf_keras_h5(path, weights):
    """A tf.keras 2 model file: Input (3, 4, 2) -> BatchNormalization(axis=3)
    -> frozen BatchNormalization(axis=1, center=False), weights stored per layer
    as trainable then non-trainable ones (a frozen layer's are all
    non-trainable), in tf.keras's order."""
    layers = [
        {
            "class_name": "InputLayer",
            "config": {
                "batch_input_shape": [None, 3, 4, 2],
                "dtype": "float32",
                "sparse": False,
                "ragged": False,
                "name": "image",
            },
        },
        _tf_keras_bn_config("batch_normalization", 3),
        _tf_keras_bn_config("batch_normalization_1", 1, trainable=False, center=False),
    ]
    config = {"class_name": "Sequential", "config": {"name": "bn", "layers": layers}}
    names = {
        "batch_normalization": ["gamma", "beta", "moving_mean", "moving_variance"],
        "batch_normalization_1": ["gamma", "moving_mean", "moving_variance"],
    }
    with h5py.File(path, "w") as f:
        f.attrs["backend"] = "tensorflow"
        f.attrs["keras_version"] = "2.15.0"
        f.attrs["model_config"] = json.dumps(config)
        group = f.create_group("model_weights")
        group.attrs["backend"] = "tensorflow"
        group.attrs["keras_version"] = "2.15.0"
        group.attrs["layer_names"] = np.array(list(names), dtype=object)
        for layer, weight_names in names.items():
            layer_group = group.create_group(layer)
            full = [f"{layer}/{w}:0" for w in weight_names]
            layer_group.attrs["weight_names"] = np.array(full, dtype=object)
            for name, value in zip(full, weights[layer]):
                layer_group.create_dataset(name, data=value)


def test_keras2_h5_batch_normalization_loads_in_stored_order(tmp_path):
    weights = {
        "batch_normalization": [
            _normal(2),
            _normal(2),
            _normal(2),
            RNG.random(2).astype("float32") + 0.5,
        ],
        "batch_normalization_1": [
            _normal(3),
            _normal(3),
            RNG.random(3).astype("float32") + 0.5,
        ],
    }
    path = tmp_path / "bn.h5"
    _write_tf_keras_h5(path, weights)
    x = _normal(2, 3, 4, 2)
    gamma, beta, mean, variance = weights["batch_normalization"]
    expected = (x - mean) / np.sqrt(variance + 1e-3) * gamma + beta
    gamma, mean, variance = (w[:, None, None] for w in weights["batch_normalization_1"])
    expected = (expected - mean) / np.sqrt(variance + 1e-3) * gamma
    ours = lamina.models.load_model(path)
    theirs = keras.models.load_model(path)
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected, atol=1e-5)
    np.testing.assert_allclose(theirs.predict(x, verbose=0), expected, atol=1e-5)
    assert [layer.trainable for layer in ours.layers] == [True, False]
    assert [w.name for w in ours.layers[1].weights] == [
        "gamma",
        "moving_mean",
        "moving_variance",
    ]
    # The weights alone, into a model built here.
    model = lamina.Sequential(
        [
            lamina.Input((3, 4, 2)),
            lamina.layers.BatchNormalization(axis=3),
            lamina.layers.BatchNormalization(axis=1, center=False, trainable=False),
        ]
    )
    model.load_weights(path)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, atol=1e-5)


def test_keras3_file_with_renorm_loads_both_ways(tmp_path):
    # Batch renormalization is a Keras 3 argument (7 weights): configs keep it.
    x = _normal(6, 3)
    theirs = keras.Sequential(
        [keras.Input((3,)), keras.layers.BatchNormalization(renorm=True)]
    )
    theirs.layers[0](x, training=True)
    theirs.save(tmp_path / "theirs.keras")
    ours = lamina.models.load_model(tmp_path / "theirs.keras")
    assert len(ours.layers[0].weights) == 7
    np.testing.assert_allclose(
        ours.predict(x, verbose=0), theirs.predict(x, verbose=0), atol=1e-5
    )
    ours.layers[0](x * 2.0, training=True)
    ours.save(tmp_path / "ours.keras")
    again = keras.models.load_model(tmp_path / "ours.keras")
    np.testing.assert_allclose(
        again.predict(x, verbose=0), ours.predict(x, verbose=0), atol=1e-5
    )


def test_batch_normalization_compiles_without_graph_breaks():
    # The inference cache and the in-place moving updates stay out of the graph.
    x = torch.from_numpy(_normal(4, 5, 5, 3))
    layer, twin = lamina.layers.BatchNormalization(), lamina.layers.BatchNormalization()
    layer(x), twin(x)
    compiled = torch.compile(layer, fullgraph=True)
    with torch.no_grad():
        torch.testing.assert_close(compiled(x), twin(x))
    torch.testing.assert_close(compiled(x, training=True), twin(x, training=True))
    torch.testing.assert_close(layer.moving_variance, twin.moving_variance)


def _bn_model(k, frozen):
    batch_norm = k.layers.BatchNormalization(momentum=0.8, name="bn")
    batch_norm.trainable = not frozen
    return k.Sequential(
        [
            k.Input((5, 3)),
            k.layers.Conv1D(4, 2, name="conv"),
            batch_norm,
            k.layers.LayerNormalization(name="ln"),
            k.layers.Flatten(name="flat"),
            k.layers.Dense(2, name="out"),
        ]
    )


@pytest.mark.parametrize("frozen", [False, True], ids=["trained", "frozen"])
def test_fit_moves_the_statistics_as_keras_does(frozen):
    x, y = _normal(32, 5, 3), _normal(32, 2)
    theirs, ours = _bn_model(keras, frozen), _bn_model(lamina, frozen)
    ours.set_weights(theirs.get_weights())
    for model, library in ((theirs, keras), (ours, lamina)):
        model.compile(library.optimizers.SGD(0.1), "mse")
        model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)
    moving_mean = ours.get_layer("bn").moving_mean.numpy()
    assert np.all(moving_mean == 0.0) == frozen

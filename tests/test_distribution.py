"""``lamina.distribution`` in two forked gloo processes on the CPU: ``DataParallel``
``fit`` equals one process on the same global batches, ``ModelParallel`` equals
the unsharded model, and a failure in one process ends both."""

from __future__ import annotations

import datetime
import os
import time

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

import lamina
from lamina import distribution, layers

WORLD = 2
RNG = np.random.default_rng(16)
X = RNG.normal(size=(16, 6, 6, 1)).astype("float32")
Y = RNG.integers(0, 3, size=(16,))


def _launch(worker, tmp_path, *args, deadline=60.0):
    """Run ``worker(rank, tmp_path, *args)`` in two forked processes joined to a
    gloo group; the first failure ends both (torch's ProcessContext)."""
    context = mp.start_processes(
        _entry,
        args=(worker, str(tmp_path), *args),
        nprocs=WORLD,
        join=False,
        start_method="fork",  # spawning re-imports torch: tens of seconds here
    )
    end = time.monotonic() + deadline
    while not context.join(timeout=max(0.1, end - time.monotonic())):
        if time.monotonic() > end:
            for process in context.processes:
                process.kill()
            raise TimeoutError(f"distributed workers still running after {deadline}s")


def _entry(rank, worker, out_dir, *args):
    dist.init_process_group(
        "gloo",
        init_method=f"file://{out_dir}/rendezvous",
        rank=rank,
        world_size=WORLD,
        timeout=datetime.timedelta(seconds=30),
    )
    torch.set_num_threads(1)
    try:
        worker(rank, out_dir, *args)
    finally:
        distribution.set_distribution(None)
        dist.destroy_process_group()


def _cnn(synchronized):
    torch.manual_seed(0)
    model = lamina.Sequential(
        [
            lamina.Input((6, 6, 1)),
            layers.Conv2D(4, 3),
            layers.BatchNormalization(synchronized=synchronized, momentum=0.5),
            layers.Activation("relu"),
            layers.GlobalAveragePooling2D(),
            layers.Dense(3),
        ]
    )
    model.compile(
        optimizer=lamina.optimizers.SGD(0.1),
        loss=lamina.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def _fit_worker(rank, out_dir, synchronized):
    model = _cnn(synchronized)
    distribution.set_distribution(distribution.DataParallel())
    csv = os.path.join(out_dir, "log.csv")
    checkpoint = os.path.join(out_dir, "epoch{epoch}.weights.h5")
    history = model.fit(
        X, Y, batch_size=8, epochs=3, shuffle=False, verbose=0,
        callbacks=[
            lamina.callbacks.CSVLogger(csv, append=True),
            lamina.callbacks.ModelCheckpoint(checkpoint, save_weights_only=True),
        ],
    )  # fmt: skip
    predictions = model.predict(X, batch_size=8, verbose=0)
    evaluation = model.evaluate(X, Y, batch_size=8, verbose=0)  # reduced logs
    np.savez(
        os.path.join(out_dir, f"rank{rank}.npz"),
        *model.get_weights(),
        loss=np.array(history.history["loss"]),
        predictions=predictions,
        evaluation=np.array(evaluation),
    )
    if synchronized:  # a DataLoader: each process samples its share
        model = _cnn(synchronized)
        data = TensorDataset(torch.from_numpy(X), torch.from_numpy(Y))
        loader = DataLoader(data, batch_size=8)
        shared = distribution.distribution().data(loader)
        assert isinstance(shared.sampler, DistributedSampler)
        assert shared.batch_size == 4
        model.fit(loader, epochs=3, verbose=0)
        np.savez(os.path.join(out_dir, f"loader{rank}.npz"), *model.get_weights())


def _weights(path):
    saved = np.load(path)
    return [saved[f"arr_{i}"] for i in range(len(saved.files) - 3)], saved


def test_data_parallel_fit_equals_one_process_on_the_global_batches(tmp_path):
    _launch(_fit_worker, tmp_path, True)
    reference = _cnn(True)
    history = reference.fit(X, Y, batch_size=8, epochs=3, shuffle=False, verbose=0)
    expected = reference.get_weights()  # moving statistics included
    for rank in range(WORLD):
        weights, saved = _weights(tmp_path / f"rank{rank}.npz")
        for got, want in zip(weights, expected, strict=True):
            np.testing.assert_allclose(got, want, atol=1e-5)
        np.testing.assert_allclose(saved["loss"], history.history["loss"], atol=1e-5)
        np.testing.assert_allclose(
            saved["predictions"], reference.predict(X, verbose=0), atol=1e-5
        )
        np.testing.assert_allclose(
            saved["evaluation"],
            reference.evaluate(X, Y, batch_size=8, verbose=0),
            atol=1e-5,
        )
        loader = np.load(tmp_path / f"loader{rank}.npz")
        for i, want in enumerate(expected):
            np.testing.assert_allclose(loader[f"arr_{i}"], want, atol=1e-5)
    # the chief alone writes: one header and three rows, three checkpoints
    assert len((tmp_path / "log.csv").read_text().strip().splitlines()) == 4
    assert sorted(p.name for p in tmp_path.glob("epoch*")) == [
        f"epoch{e}.weights.h5" for e in (1, 2, 3)
    ]


def test_data_parallel_without_synchronization_normalizes_each_shard(tmp_path):
    _launch(_fit_worker, tmp_path, False)
    # One process playing both: each copy sees its half of every global batch,
    # the copies' gradients are averaged, moving statistics averaged per epoch.
    copies = [_cnn(False), _cnn(False)]
    loss_fn = copies[0].loss
    trainable = [c.trainable_weights for c in copies]
    for _ in range(3):
        for start in range(0, 16, 8):
            grads = []
            for r, copy in enumerate(copies):
                part = slice(start + 4 * r, start + 4 * r + 4)
                logits = copy(torch.from_numpy(X[part]), training=True)
                loss = loss_fn(torch.from_numpy(Y[part]), logits)
                grads.append(torch.autograd.grad(loss, trainable[r]))
            with torch.no_grad():
                for i, pair in enumerate(zip(*grads)):
                    for weights in trainable:
                        weights[i].sub_(0.1 * (pair[0] + pair[1]) / 2)
        with torch.no_grad():
            for a, b in zip(
                copies[0].non_trainable_weights, copies[1].non_trainable_weights
            ):
                a.copy_((a + b) / 2)
                b.copy_(a)
    for rank in range(WORLD):
        weights, _ = _weights(tmp_path / f"rank{rank}.npz")
        for got, want in zip(weights, copies[0].get_weights(), strict=True):
            np.testing.assert_allclose(got, want, atol=1e-5)


class _Boom(lamina.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if dist.get_rank() == 1:
            raise RuntimeError("boom on rank 1")


def _failing_worker(rank, out_dir):
    model = _cnn(True)
    distribution.set_distribution(distribution.DataParallel())
    model.fit(X, Y, batch_size=8, epochs=3, verbose=0, callbacks=[_Boom()])


def test_an_error_in_one_process_ends_both_and_is_shown(tmp_path):
    start = time.monotonic()
    with pytest.raises(mp.ProcessRaisedException, match="boom on rank 1"):
        _launch(_failing_worker, tmp_path)
    assert time.monotonic() - start < 45


def _mlp():
    torch.manual_seed(1)
    inputs = lamina.Input((8,))
    hidden = layers.Dense(6, activation="tanh", name="up")(inputs)
    outputs = layers.EinsumDense("ab,bc->ac", output_shape=4, name="down")(hidden)
    model = lamina.Model(inputs, outputs)
    model.compile(optimizer=lamina.optimizers.Adam(0.01), loss="mse")  # sharded slots
    return model


XM = RNG.normal(size=(24, 8)).astype("float32")
YM = RNG.normal(size=(24, 4)).astype("float32")


def _model_parallel_worker(rank, out_dir):
    mesh = distribution.DeviceMesh((2,), ["model"], devices=["cpu:0", "cpu:1"])
    layout_map = distribution.LayoutMap(mesh)
    layout_map["up/kernel"] = (None, "model")
    layout_map["up/bias"] = ("model",)
    layout_map["down/kernel"] = ("model", None)
    model = _mlp()
    distribution.set_distribution(distribution.ModelParallel(layout_map=layout_map))
    history = model.fit(XM, YM, batch_size=8, epochs=1, shuffle=False, verbose=0)
    kernel = model.get_layer("up").kernel
    np.savez(
        os.path.join(out_dir, f"rank{rank}.npz"),
        *model.get_weights(),
        loss=np.array(history.history["loss"]),
        local_shape=np.array(kernel.to_local().shape),
    )


def test_model_parallel_steps_equal_the_unsharded_model(tmp_path):
    _launch(_model_parallel_worker, tmp_path)
    reference = _mlp()
    history = reference.fit(XM, YM, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for rank in range(WORLD):
        saved = np.load(tmp_path / f"rank{rank}.npz")
        np.testing.assert_array_equal(saved["local_shape"], [8, 3])  # half of 6
        weights = [saved[f"arr_{i}"] for i in range(len(reference.get_weights()))]
        for got, want in zip(weights, reference.get_weights(), strict=True):
            np.testing.assert_allclose(got, want, atol=1e-5)
        np.testing.assert_allclose(saved["loss"], history.history["loss"], atol=1e-5)


def test_layouts_and_meshes_check_their_arguments():
    mesh = distribution.DeviceMesh((1,), ["batch"], devices=["cpu:0"])
    with pytest.raises(ValueError, match="`devices` must be as many devices"):
        distribution.DeviceMesh((2,), ["batch"], devices=["cpu:0"])
    with pytest.raises(ValueError, match="`axis_names` must be one name per axis"):
        distribution.DeviceMesh((1,), ["a", "b"], devices=["cpu:0"])
    layout_map = distribution.LayoutMap(mesh)
    layout_map["dense.*kernel"] = (None, "batch")
    layout_map[".*kernel"] = ("batch", None)
    assert layout_map["dense/bias"] is None
    with pytest.raises(ValueError, match="match at most one key"):
        layout_map["dense/kernel"]
    assert layout_map["conv/kernel"].axes == ("batch", None)
    assert distribution.distribution() is None
    with distribution.DataParallel(device_mesh=mesh).scope():
        assert isinstance(distribution.distribution(), distribution.DataParallel)
        model = lamina.Sequential([lamina.Input((2,)), layers.Dense(1)])
        model.compile("sgd", "mse")
        with pytest.raises(RuntimeError, match="call `keras.distribution.initial"):
            model.fit(np.ones((2, 2)), np.ones((2, 1)), verbose=0)
    assert distribution.distribution() is None


def test_the_public_names_are_keras_3s():
    import keras  # the oracle

    for ours, theirs in (
        (distribution, keras.distribution),
        (lamina.export, keras.export),
    ):
        public = {n for n in dir(theirs) if not n.startswith("_")}
        assert public <= set(dir(ours))

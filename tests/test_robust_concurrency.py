"""Concurrency (issue 18, item 5): ``predict`` from several threads at once,
two processes saving to one path, and a process killed mid-``fit`` that resumes
from ``BackupAndRestore`` with identical weights.
"""

import multiprocessing
import os
import signal
import subprocess
import sys
import threading

import numpy as np
import pytest
import torch

import lamina

RNG = np.random.default_rng(0)


def _model():
    inputs = lamina.Input((6,))
    x = lamina.layers.Dense(16, activation="relu")(inputs)
    x = lamina.layers.BatchNormalization()(x)
    x = lamina.layers.Dropout(0.5)(x)  # inactive in predict, in every thread
    return lamina.Model(inputs, lamina.layers.Dense(3)(x))


@pytest.mark.parametrize("batch_size", [None, 4])
def test_predict_from_several_threads_equals_serial_calls(batch_size):
    model = _model()
    inputs = [RNG.standard_normal((10, 6)).astype("float32") for _ in range(6)]
    serial = [model.predict(x, batch_size=batch_size, verbose=0) for x in inputs]
    results, errors = {}, []
    barrier = threading.Barrier(len(inputs))

    def worker(i):
        try:
            barrier.wait()
            for _ in range(5):
                results.setdefault(i, []).append(
                    model.predict(inputs[i], batch_size=batch_size, verbose=0)
                )
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    for i, expected in enumerate(serial):
        for got in results[i]:
            np.testing.assert_array_equal(got, expected)


def _save_repeatedly(model, path, ready, go):
    ready.set()
    go.wait(timeout=60)
    for _ in range(30):
        model.save(path)


def _check_constant(model):
    values = {float(v) for w in model.get_weights() for v in np.unique(w)}
    assert values in ({1.0}, {2.0})  # all of one save, none of the other


def _constant_model(value):
    model = lamina.Sequential([lamina.Input((64,)), lamina.layers.Dense(256)])
    model.set_weights([np.full(w.shape, value, "float32") for w in model.get_weights()])
    return model


# Forked children share the imported lamina (a fresh interpreter would spend
# seconds importing torch); their work is small, so no thread pool is involved.
FORK = multiprocessing.get_context("fork")


def test_two_processes_saving_to_one_path_leave_one_loadable_file(tmp_path):
    path = tmp_path / "shared.keras"
    go = FORK.Event()
    readies = [FORK.Event(), FORK.Event()]
    procs = [
        FORK.Process(target=_save_repeatedly, args=(_constant_model(v), path, r, go))
        for v, r in zip((1.0, 2.0), readies)
    ]
    for p in procs:
        p.start()
    assert all(r.wait(timeout=60) for r in readies)
    go.set()  # both save at once from here, while this process reads
    reads = 0
    while any(p.is_alive() for p in procs):
        if path.exists():
            _check_constant(lamina.models.load_model(path))  # never half-written
            reads += 1
    assert reads > 0
    for p in procs:
        p.join(timeout=120)
        if p.exitcode is None:  # hung: fail, never hang the suite
            p.kill()
    assert [p.exitcode for p in procs] == [0, 0]
    _check_constant(lamina.models.load_model(path))
    assert os.listdir(tmp_path) == ["shared.keras"]  # no temporary file left


def _train(backup, kill_at=None):
    """Four epochs of a small model with BackupAndRestore every 3 steps; the
    process kills itself (SIGKILL: no cleanup at all) after step ``kill_at``."""
    torch.manual_seed(0)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((32, 5)).astype("float32")
    y = rng.standard_normal((32, 2)).astype("float32")
    model = lamina.Sequential(
        [
            lamina.Input((5,)),
            lamina.layers.Dense(8, activation="relu"),
            lamina.layers.Dropout(0.3),
            lamina.layers.Dense(2),
        ]
    )
    model.set_weights([np.full(w.shape, 0.1, "float32") for w in model.get_weights()])
    model.compile("adam", "mse")
    steps = []

    def maybe_die(batch, logs):
        steps.append(batch)
        if len(steps) == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    callbacks = [
        lamina.callbacks.BackupAndRestore(backup, save_freq=3),
        lamina.callbacks.LambdaCallback(on_train_batch_end=maybe_die),
    ]
    model.fit(
        x, y, batch_size=8, epochs=4, shuffle=True, verbose=0, callbacks=callbacks
    )
    return model


def test_a_process_killed_mid_fit_resumes_with_identical_weights(tmp_path):
    expected = _train(str(tmp_path / "reference")).get_weights()
    backup = str(tmp_path / "backup")
    # A fresh interpreter: torch's thread pool, used by training here, does not
    # survive a fork.
    script = f"import {__name__} as t; t._train({backup!r}, kill_at=10)"
    killed = subprocess.run(
        [sys.executable, "-c", script],
        cwd=os.path.dirname(__file__),
        env=dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(__file__))),
        capture_output=True,
        timeout=300,
    )  # killed in epoch 2, after batch 2 (step 10; the last backup is step 9)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]
    assert os.path.exists(os.path.join(backup, "latest.weights.h5"))
    torch.manual_seed(123)  # the backup restores the random state it needs
    resumed = _train(backup)
    assert int(resumed.optimizer.iterations) == 16
    for got, want in zip(resumed.get_weights(), expected):
        np.testing.assert_allclose(got, want, atol=1e-6)

"""Distribution and export figures, from the command line (they need several
processes or onnxruntime, so they are not table cases)::

    .venv/bin/python -m bench.cases_distribution            # both studies
    .venv/bin/python -m bench.cases_distribution --only fit
    .venv/bin/python -m bench.cases_distribution --only onnx

``fit``: samples per second of ``fit`` on the training issue's CNN (28x28x1,
batch 128, Adam) in one process (``--threads`` torch threads, default 1) against
``DataParallel`` on two forked gloo processes (one thread each), alternated
``--rounds`` times. On this 2-core machine two processes can at best double one
single-threaded process; with other jobs on the cores, little gain is expected.
(Two torch threads on a machine already loaded lose far more to OpenMP barriers
than they gain: one thread is the honest baseline there.)

``onnx``: latency at batch 1 of the same CNN: ``model.predict`` (NumPy in and
out), ``model(x)`` under ``torch.no_grad()``, and the exported ``.onnx`` file in
onnxruntime, timed round-robin.
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import tempfile
import time

import numpy as np
import onnxruntime as ort
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

import lamina
from bench.cases_training import IMAGE, cnn

BATCH, SAMPLES, EPOCHS = 128, 2048, 2


def _data():
    rng = np.random.default_rng(0)
    x = rng.random((SAMPLES, *IMAGE), dtype=np.float32)
    return x, rng.integers(0, 10, SAMPLES)


def _compiled_model():
    torch.manual_seed(0)
    model = cnn(lamina)
    model.compile(
        optimizer="adam",
        loss=lamina.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


def _timed_fit(model, x, y) -> float:
    """Samples per second over ``EPOCHS`` epochs, after one warm-up epoch."""
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
    start = time.perf_counter()
    model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, verbose=0)
    return SAMPLES * EPOCHS / (time.perf_counter() - start)


def _fit_worker(rank, world, init_file, out):
    dist.init_process_group(
        "gloo",
        init_method=f"file://{init_file}",
        rank=rank,
        world_size=world,
        timeout=datetime.timedelta(seconds=120),
    )
    torch.set_num_threads(1)
    lamina.distribution.set_distribution(lamina.distribution.DataParallel())
    rate = _timed_fit(_compiled_model(), *_data())
    if rank == 0:
        with open(out, "w") as handle:
            handle.write(str(rate))
    dist.destroy_process_group()


def data_parallel_rate(world=2) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "rate")
        mp.start_processes(
            _fit_worker,
            args=(world, os.path.join(tmp, "init"), out),
            nprocs=world,
            join=True,
            start_method="fork",
        )
        with open(out) as handle:
            return float(handle.read())


def one_process_rate() -> float:
    return _timed_fit(_compiled_model(), *_data())


def fit_study(rounds):
    single, parallel = [], []
    for _ in range(rounds):
        single.append(one_process_rate())
        parallel.append(data_parallel_rate())
    one, two = statistics.median(single), statistics.median(parallel)
    print(f"fit, CNN {IMAGE} batch {BATCH}, {SAMPLES} samples x {EPOCHS} epochs:")
    print(f"  1 process ({torch.get_num_threads()} threads): {one:8.0f} samples/s")
    print(f"  DataParallel, 2 processes x 1 thread: {two:8.0f} samples/s")
    print(f"  2 processes / 1 process: {two / one:.2f}x")


def onnx_study(repeat=300):
    model = _compiled_model()
    x = np.random.default_rng(1).random((1, *IMAGE), dtype=np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "cnn.onnx")
        model.export(path, format="onnx", verbose=False)
        options = ort.SessionOptions()
        # idle onnxruntime threads spin by default, starving torch's in between
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.intra_op_num_threads = torch.get_num_threads()
        session = ort.InferenceSession(
            path, options, providers=["CPUExecutionProvider"]
        )
    name = session.get_inputs()[0].name
    tensor = torch.from_numpy(x)

    def call():
        with torch.no_grad():
            return model(tensor, training=False)

    steps = {
        "lamina predict": lambda: model.predict(x, verbose=0),
        "lamina model(x)": call,
        "onnxruntime": lambda: session.run(None, {name: x})[0],
    }
    reference = model.predict(x, verbose=0)
    assert np.allclose(steps["onnxruntime"](), reference, atol=1e-5)
    times = {key: [] for key in steps}
    for _ in range(repeat):
        for key, step in steps.items():  # round-robin: load hits all alike
            start = time.perf_counter()
            step()
            times[key].append(time.perf_counter() - start)
    medians = {key: statistics.median(t) * 1e6 for key, t in times.items()}
    print(f"batch-1 latency, CNN {IMAGE} (median of {repeat}):")
    for key, value in medians.items():
        print(f"  {key:16s} {value:8.1f} us")
    ratio = medians["onnxruntime"] / medians["lamina predict"]
    print(f"  onnxruntime / lamina predict: {ratio:.2f}x")
    ratio = medians["onnxruntime"] / medians["lamina model(x)"]
    print(f"  onnxruntime / lamina model(x): {ratio:.2f}x")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["fit", "onnx"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.only in (None, "fit"):
        fit_study(args.rounds)
    if args.only in (None, "onnx"):
        onnx_study()


if __name__ == "__main__":
    main()

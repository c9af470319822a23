"""LocallyConnected cases: LocallyConnected1D(64, 3) on (64, 128, 32) and
LocallyConnected2D(32, 3) on (32, 32, 32, 16), forward+backward with each
implementation and ``auto``, plus build time.

Keras 3 has no such layer (its column stays empty). The PyTorch baseline, the same
for every implementation, is the best plain PyTorch we know for this layer:
patches by ``Tensor.unfold`` and one batched matmul over positions. tf.keras 2, the layer's origin, is an optional peer: it cannot
share a process with Keras 3, so ``main`` runs it in another Python
(``--tf-python`` or ``$LAMINA_TF_KERAS_PYTHON``, one with tensorflow and tf-keras)
on the same weights, checks its outputs equal ours and times it there.

    .venv/bin/python -m bench.cases_locally_connected            # table + build times
    .venv/bin/python -m bench.cases_locally_connected --tf-python /path/to/python
    .venv/bin/python bench/run.py -k locally                     # the shared runner

LocallyConnected2D with implementation 2 holds a 1.9 GB dense kernel and takes
seconds per call: it is registered (and run by ``main``) only with
``--large`` / ``LAMINA_BENCH_LARGE=1``, so the benchmark smoke test stays light.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from math import prod
from pathlib import Path

if not __package__:  # run as a script: make the `bench` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import bench  # noqa: F401  (sets KERAS_BACKEND before keras is imported)

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

import lamina  # noqa: E402
from bench.cases_core import fwd_bwd_step  # noqa: E402
from bench.registry import Case, Workload, register  # noqa: E402
from lamina.layers.locally_connected import convert_weights  # noqa: E402

IMPLEMENTATIONS = (1, 2, 3, "auto")
# name: (rank, input shape, filters, kernel_size)
SHAPES = {
    "locally_connected1d": (1, (64, 128, 32), 64, 3),
    "locally_connected2d": (2, (32, 32, 32, 16), 32, 3),
}
LARGE = {("locally_connected2d", 2)}  # > 1 GB of kernel: opt-in
LAYERS = {1: "LocallyConnected1D", 2: "LocallyConnected2D"}


def large_enabled() -> bool:
    return os.environ.get("LAMINA_BENCH_LARGE", "") not in ("", "0")


# ------------------------------------------------------------------ setup
def setup_for(rank, shape, filters, kernel):
    """Input and layout-1 weights (``(P, k^rank * C, filters)`` kernel, bias
    ``(*out, filters)``), scaled like a fan-in initializer."""
    out = [n - kernel + 1 for n in shape[1:-1]]
    patch = kernel**rank * shape[-1]

    def setup(rng: np.random.Generator) -> Workload:
        kernel1 = rng.standard_normal((prod(out), patch, filters)) / np.sqrt(patch)
        bias = rng.uniform(-0.1, 0.1, (*out, filters))
        x = rng.standard_normal(shape, dtype=np.float32)
        return {
            "x": x,
            "weights": [kernel1.astype(np.float32), bias.astype(np.float32)],
        }

    return setup


def lamina_layer(rank, shape, filters, kernel, implementation, weights):
    """The lamina layer of ``implementation`` holding ``weights`` (layout 1),
    converted to its layout."""
    cls = getattr(lamina.layers, LAYERS[rank])
    source = cls(filters, kernel)
    source.build(shape)
    source.set_weights(weights)
    # zeros: the default initializer would draw the 1.9 GB dense kernel for nothing
    layer = cls(
        filters, kernel, implementation=implementation, kernel_initializer="zeros"
    )
    layer.build(shape)
    layer.set_weights(convert_weights(source, implementation))
    return layer


class TorchLocallyConnected(nn.Module):
    """Hand-written PyTorch: unfold views, one copy to ``(P, B, patch)``, one
    ``baddbmm`` over positions. The output gradient is made contiguous before the
    matmul's backward (as lamina does): without it torch's bmm backward falls back
    to one small matmul per position, several times slower."""

    def __init__(self, rank, kernel, weights):
        super().__init__()
        self.rank, self.kernel = rank, kernel
        self.weight = nn.Parameter(torch.from_numpy(weights[0]))
        self.bias = nn.Parameter(torch.from_numpy(weights[1]))

    def forward(self, x):
        batch, positions, filters = x.shape[0], *self.weight.shape[::2]
        for axis in range(1, self.rank + 1):
            x = x.unfold(axis, self.kernel, 1)  # (B, *out, C, *k)
        spatial = tuple(range(1, self.rank + 1))
        taps = tuple(range(self.rank + 2, 2 * self.rank + 2))
        patches = x.permute(*spatial, 0, *taps, self.rank + 1)
        patches = patches.reshape(positions, batch, -1)
        bias = self.bias.reshape(positions, 1, filters)
        out = torch.baddbmm(bias, patches, self.weight)
        if out.requires_grad:
            out.register_hook(torch.Tensor.contiguous)
        return out.transpose(0, 1).reshape(batch, *self.bias.shape)


def builders(name, implementation):
    rank, shape, filters, kernel = SHAPES[name]

    def lamina_builder(w: Workload):
        layer = lamina_layer(rank, shape, filters, kernel, implementation, w["weights"])
        return fwd_bwd_step(layer, layer, torch.tensor(w["x"], requires_grad=True))

    def torch_builder(w: Workload):
        module = TorchLocallyConnected(rank, kernel, w["weights"])
        return fwd_bwd_step(module, module, torch.tensor(w["x"], requires_grad=True))

    return lamina_builder, torch_builder


def register_cases(include_large: bool) -> None:
    for name, (rank, shape, filters, kernel) in SHAPES.items():
        for implementation in IMPLEMENTATIONS:
            if (name, implementation) in LARGE and not include_large:
                continue
            lamina_builder, torch_builder = builders(name, implementation)
            register(
                Case(
                    name=f"{name}_impl{implementation}_fwd_bwd",
                    setup=setup_for(rank, shape, filters, kernel),
                    lamina=lamina_builder,
                    torch=torch_builder,
                )
            )


register_cases(large_enabled())


# ------------------------------------------------------------------ build time
def build_seconds(name, implementation, repeat=5) -> float:
    """Median seconds to construct and build the layer with its default
    initializers, as a user would."""
    rank, shape, filters, kernel = SHAPES[name]
    cls = getattr(lamina.layers, LAYERS[rank])
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        cls(filters, kernel, implementation=implementation).build(shape)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# ------------------------------------------------------------------ tf.keras
TF_PEER = textwrap.dedent(
    """
    import json, sys, time
    import numpy as np
    import tensorflow as tf
    import tf_keras
    args = json.loads(sys.argv[1])
    tf.config.threading.set_intra_op_parallelism_threads(args["threads"])
    tf.config.threading.set_inter_op_parallelism_threads(args["threads"])
    data = np.load(args["npz"])
    cls = getattr(tf_keras.layers, args["layer"])
    start = time.perf_counter()
    layer = cls(args["filters"], args["kernel"], implementation=args["impl"])
    layer.build(data["x"].shape)
    build = time.perf_counter() - start
    layer.set_weights([data["kernel"], data["bias"]])
    x = tf.constant(data["x"])
    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
            loss = tf.reduce_sum(y)
        # every gradient is returned: tf.function prunes the ones nobody uses
        return y, tape.gradient(loss, [x, *layer.trainable_weights])
    y, (gx, *_) = step(x)
    times = []
    deadline = time.perf_counter() + args["budget"]
    while len(times) < 3 or (time.perf_counter() < deadline and len(times) < 50):
        start = time.perf_counter(); step(x); times.append(time.perf_counter() - start)
    np.savez(args["out"], y=y.numpy(), gx=gx.numpy())
    print(json.dumps({"build": build, "median": float(np.median(times)),
                      "min": float(np.min(times))}))
    """
)


def tf_keras_peer(python, name, implementation, weights, x, lamina_out, budget):
    """Run tf.keras on the same weights in ``python``; its timings, and how far its
    outputs and input gradients are from lamina's."""
    rank, shape, filters, kernel = SHAPES[name]
    with tempfile.TemporaryDirectory() as tmp:
        npz, out = os.path.join(tmp, "in.npz"), os.path.join(tmp, "out.npz")
        np.savez(npz, x=x, kernel=weights[0], bias=weights[1])
        args = dict(
            npz=npz,
            out=out,
            layer=LAYERS[rank],
            filters=filters,
            kernel=kernel,
            impl=implementation,
            threads=torch.get_num_threads(),
            budget=budget,
        )
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
        done = subprocess.run(
            [python, "-c", TF_PEER, json.dumps(args)],
            capture_output=True,
            text=True,
            env=env,
            timeout=900,
        )
        if done.returncode != 0:
            return {"error": done.stderr.strip().splitlines()[-1:]}
        result = json.loads(done.stdout.strip().splitlines()[-1])
        theirs = np.load(out)
        result["max_diff"] = max(
            float(np.max(np.abs(theirs["y"] - lamina_out[0]))),
            float(np.max(np.abs(theirs["gx"] - lamina_out[1]))),
        )
    return result


# ------------------------------------------------------------------ main
def time_case(name, implementation, repeat, min_time, tf_python, budget):
    from bench.timing import measure

    rank, shape, filters, kernel = SHAPES[name]
    workload = setup_for(rank, shape, filters, kernel)(np.random.default_rng(0))
    lamina_builder, torch_builder = builders(name, implementation)
    steps = {"lamina": lamina_builder(workload), "torch": torch_builder(workload)}
    outputs = {k: [t.detach().numpy() for t in step()] for k, step in steps.items()}
    diff = max(float(np.max(np.abs(a - b))) for a, b in zip(*outputs.values()))
    if diff > 1e-3:
        raise AssertionError(
            f"{name} impl {implementation}: lamina and torch differ by {diff:.3g}"
        )
    timings = measure(steps, repeat=repeat, min_time=min_time)
    row = {
        "case": name,
        "implementation": implementation,
        "build_s": build_seconds(name, implementation),
        "lamina_ms": timings["lamina"].median * 1e3,
        "lamina_min_ms": timings["lamina"].min * 1e3,
        "torch_ms": timings["torch"].median * 1e3,
    }
    if implementation == "auto":
        layer = lamina_layer(rank, shape, filters, kernel, "auto", workload["weights"])
        row["auto_computes"] = type(layer._strategy).__name__
    if tf_python and implementation != "auto":
        source = lamina_layer(rank, shape, filters, kernel, 1, workload["weights"])
        tf_weights = convert_weights(source, implementation)
        del source
        peer = tf_keras_peer(
            tf_python,
            name,
            implementation,
            tf_weights,
            workload["x"],
            outputs["lamina"],
            budget,
        )
        row["tf_keras"] = peer
    return row


def format_row(row) -> str:
    peer = row.get("tf_keras", {})
    tf_cells = (
        f"{peer['median'] * 1e3:9.1f} ms ({peer['min'] * 1e3:.1f})  "
        f"{peer['build']:7.3f} s  "
        f"diff {peer['max_diff']:.1e}"
        if "median" in peer
        else ("(error: " + " ".join(peer["error"]) + ")" if "error" in peer else "-")
    )
    return (
        f"{row['case']:20s} {str(row['implementation']):>4s}  "
        f"{row['lamina_ms']:9.2f} ms ({row['lamina_min_ms']:.2f}) {row['build_s']:8.4f} s  "
        f"{row['torch_ms']:9.2f} ms   {tf_cells}  {row.get('auto_computes', '')}"
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tf-python", default=os.environ.get("LAMINA_TF_KERAS_PYTHON"))
    parser.add_argument("--large", action="store_true", default=large_enabled())
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--min-time", type=float, default=0.2)
    parser.add_argument("--tf-budget", type=float, default=3.0)
    parser.add_argument("--threads", type=int)
    parser.add_argument("-k", "--filter", default="")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
        f"tf.keras peer: {args.tf_python or 'none'}"
    )
    print(
        f"{'case':20s} impl  lamina fwd+bwd (min)     build   torch fwd+bwd   "
        "tf.keras fwd+bwd (min)    build  outputs  auto computes with"
    )
    rows = []
    for name in SHAPES:
        for implementation in IMPLEMENTATIONS:
            if args.filter not in f"{name}_impl{implementation}":
                continue
            if (name, implementation) in LARGE and not args.large:
                continue
            rows.append(
                time_case(
                    name,
                    implementation,
                    args.repeat,
                    args.min_time,
                    args.tf_python,
                    args.tf_budget,
                )
            )
            print(format_row(rows[-1]), flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Training cases: one epoch of ``fit`` (timed per call) for the small Dense model and
for the small CNN of the training issue, lamina vs Keras 3 vs a hand-written
PyTorch loop, all from the same initial weights on the same data.

The CNN is Conv2D(32, 3, relu) MaxPool(2) Conv2D(64, 3, relu) MaxPool(2) Flatten
Dense(10) on 28x28x1 images, batch 128, Adam, sparse crossentropy from logits.
The PyTorch loop is what a PyTorch user writes: ``nn.Conv2d``/``nn.Linear`` on NCHW
tensors, ``F.cross_entropy``, ``torch.optim.Adam`` with its defaults (epsilon set
to Keras's 1e-7), ``zero_grad``/``backward``/``step`` per batch.

Registered (and smoke-tested) cases: float32 and mixed bfloat16. The
``jit_compile=True`` comparison compiles for minutes on 2 cores, so it runs only
from the command line, which also prints samples per second::

    .venv/bin/python -m bench.cases_training            # float32, bf16 and jit
    .venv/bin/python -m bench.cases_training --threads 1
"""

from __future__ import annotations

import argparse
import contextlib

import keras
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import lamina
from bench.registry import Case, CaseMismatch, Workload, register

FRAMEWORKS = {"lamina": lamina, "keras": keras}
SAMPLES, BATCH = 512, 128
IMAGE = (28, 28, 1)


# --------------------------------------------------------------------- models
def cnn(k):
    return k.Sequential(
        [
            k.Input(IMAGE),
            k.layers.Conv2D(32, 3, activation="relu"),
            k.layers.MaxPooling2D(2),
            k.layers.Conv2D(64, 3, activation="relu"),
            k.layers.MaxPooling2D(2),
            k.layers.Flatten(),
            k.layers.Dense(10),
        ]
    )


class TorchCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3)
        self.conv2 = nn.Conv2d(32, 64, 3)
        self.dense = nn.Linear(64 * 5 * 5, 10)

    def forward(self, x):
        x = F.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = F.max_pool2d(torch.relu(self.conv2(x)), 2)
        return self.dense(torch.flatten(x, 1))

    def load_keras(self, weights):
        """Keras-layout weights in: conv kernels HWIO -> OIHW; the Dense kernel's
        rows follow Keras's (h, w, c) flatten order, torch's is (c, h, w)."""
        k1, b1, k2, b2, kd, bd = (torch.from_numpy(np.asarray(w)) for w in weights)
        dense = kd.reshape(5, 5, 64, 10).permute(3, 2, 0, 1).reshape(10, -1)
        with torch.no_grad():
            for param, value in zip(
                self.parameters(),
                (k1.permute(3, 2, 0, 1), b1, k2.permute(3, 2, 0, 1), b2, dense, bd),
            ):
                param.copy_(value)

    def keras_weights(self):
        k1, b1, k2, b2, wd, bd = (p.detach() for p in self.parameters())
        dense = wd.reshape(10, 64, 5, 5).permute(2, 3, 1, 0).reshape(-1, 10)
        return [k1.permute(2, 3, 1, 0), b1, k2.permute(2, 3, 1, 0), b2, dense, bd]


def mlp(k):
    return k.Sequential(
        [k.Input((32,)), k.layers.Dense(64, activation="relu"),
         k.layers.Dense(64, activation="relu"), k.layers.Dense(10)]
    )  # fmt: skip


class TorchMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(32, 64),
            nn.ReLU(),
            nn.Linear(64, 64),
            nn.ReLU(),
            nn.Linear(64, 10),
        )

    def forward(self, x):
        return self.body(x)

    def load_keras(self, weights):
        with torch.no_grad():
            for param, value in zip(self.parameters(), weights):
                value = torch.from_numpy(np.asarray(value))
                param.copy_(value.T if value.ndim == 2 else value)

    def keras_weights(self):
        return [p.detach().T if p.ndim == 2 else p.detach() for p in self.parameters()]


MODELS = {"cnn": (cnn, TorchCNN, IMAGE), "mlp": (mlp, TorchMLP, (32,))}


# ---------------------------------------------------------------- workloads
def setup_for(model_name):
    build, _, shape = MODELS[model_name]

    def setup(rng: np.random.Generator) -> Workload:
        torch.manual_seed(0)
        return {
            "x": rng.standard_normal((SAMPLES, *shape), dtype=np.float32),
            "y": rng.integers(0, 10, SAMPLES),
            "weights": build(keras).get_weights(),
        }

    return setup


@contextlib.contextmanager
def policy(k, name):
    k.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        k.mixed_precision.set_global_policy("float32")


def framework_fit(impl, model_name, precision="float32", jit=False):
    """One epoch of ``model.fit`` as the user writes it; returns the weights."""

    def build(w: Workload):
        k = FRAMEWORKS[impl]
        with policy(k, "mixed_bfloat16" if precision == "bf16" else "float32"):
            model = MODELS[model_name][0](k)
        model.set_weights(w["weights"])
        model.compile(
            optimizer=k.optimizers.Adam(1e-3),
            loss=k.losses.SparseCategoricalCrossentropy(from_logits=True),
            jit_compile=jit,
        )
        x, y = w["x"], w["y"]

        def step():
            model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
            return model.get_weights()

        return step

    return build


def torch_fit(model_name, precision="float32", jit=False):
    """The hand-written loop: batches sliced from tensors, Adam, cross entropy."""

    def build(w: Workload):
        net = MODELS[model_name][1]()
        net.load_keras(w["weights"])
        optimizer = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
        forward = torch.compile(net) if jit else net
        x = torch.from_numpy(w["x"])
        if model_name == "cnn":
            x = x.permute(0, 3, 1, 2).contiguous()  # PyTorch's NCHW
        y = torch.from_numpy(w["y"])
        autocast = precision == "bf16"

        def step():
            for start in range(0, SAMPLES, BATCH):
                xb, yb = x[start : start + BATCH], y[start : start + BATCH]
                optimizer.zero_grad()
                with torch.autocast("cpu", torch.bfloat16, enabled=autocast):
                    loss = F.cross_entropy(forward(xb).float(), yb)
                loss.backward()
                optimizer.step()
            return net.keras_weights()

        return step

    return build


def check_weights(atol):
    def check(workload, outputs):
        reference = outputs["torch"]
        for impl, arrays in outputs.items():
            for index, (got, want) in enumerate(zip(arrays, reference)):
                if got.shape != want.shape or not np.isfinite(got).all():
                    raise CaseMismatch(f"{impl} weight {index}: shape or NaN")
                error = float(np.max(np.abs(got - want)))
                if error > atol:
                    raise CaseMismatch(
                        f"{impl} weight {index} differs from torch by {error:.3g}"
                    )

    return check


def training_case(model_name, precision="float32", jit=False, do_register=True):
    tag = {"float32": "f32", "bf16": "bf16"}[precision] + ("_jit" if jit else "")
    case = Case(
        name=f"fit_{model_name}_adam_b{BATCH}_{tag}[{SAMPLES} samples]",
        setup=setup_for(model_name),
        lamina=framework_fit("lamina", model_name, precision, jit),
        keras=framework_fit("keras", model_name, precision, jit),
        torch=torch_fit(model_name, precision, jit),
        # Adam divides by sqrt(v): on weights whose gradients are ~0, float32
        # rounding (and torch's epsilon placement) can flip a step's sign, so a few
        # weights drift ~1e-3 apart in eight steps; bf16 drifts further.
        check=check_weights(1e-2 if precision == "float32" else 5e-2),
    )
    return register(case) if do_register else case


if __name__ != "__main__":  # run as a script, the registered module is imported
    training_case("mlp")
    training_case("cnn")
    training_case("cnn", "bf16")


# ------------------------------------------------------------------- report
def samples_per_second(result) -> dict[str, float]:
    return {impl: SAMPLES / t.median for impl, t in result.timings.items()}


def main(argv=None) -> int:
    from bench import run
    from bench.registry import select

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, help="torch intra-op threads")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-jit", action="store_true", help="skip jit_compile")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    jit_cases = (
        [] if args.no_jit else [training_case("cnn", jit=True, do_register=False)]
    )
    cases = select("fit_") + jit_cases
    print(", ".join(f"{k} {v}" for k, v in run.machine_facts().items()))
    print(f"{'case':42s} {'lamina':>9s} {'keras':>9s} {'torch':>9s}   samples/s;"
          " lamina/torch  lamina/keras")  # fmt: skip
    for case in cases:
        result = run.run_case(case, repeat=args.repeat, min_time=0.5)
        rate = samples_per_second(result)
        print(
            f"{case.name:42s} {rate['lamina']:9.0f} {rate['keras']:9.0f} "
            f"{rate['torch']:9.0f}   {rate['lamina'] / rate['torch']:12.2f}x "
            f"{rate['lamina'] / rate['keras']:12.2f}x",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    from bench import cases_training  # registers the cases (and imports bench.run)

    raise SystemExit(cases_training.main())

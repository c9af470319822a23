"""Whole-model cases: batch-1 latency and inference throughput of convolutional
models, lamina vs Keras 3 vs plain PyTorch in NCHW (``torch``) and in
channels_last (``torch_cl``: weights and activations in that memory format).

- ``cnn_call_b1``: ``model(x)`` at batch 1 with autograd on, as users call it
  (every implementation), on the training issue's small CNN (28x28x1).
- ``cnn_predict_b1``: ``model.predict(x)``, NumPy in and out (PyTorch: its
  module under ``no_grad`` on ``torch.from_numpy(x)``, NumPy out).
- ``cnn4_predict_b256``: ``predict`` on 256 images 32x32x3 through four 3x3
  convolutions (64, 64, pool, 128, 128; 192 MFLOP per image).

The PyTorch NCHW baseline is given its input already in NCHW (the copy from the
NHWC data is not timed); channels_last PyTorch takes the NHWC data as a permuted
view, as lamina does. From the command line, samples per second and GFLOP/s of
the throughput case, with ``torch.compile`` (inductor, freezing) as well::

    .venv/bin/python -m bench.cases_models [--threads N] [--no-compile]
"""

from __future__ import annotations

import argparse
import statistics
import time
from functools import partial

import keras
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import lamina
from bench.cases_training import IMAGE, TorchCNN, cnn
from bench.registry import Case, Workload, register

FRAMEWORKS = {"lamina": lamina, "keras": keras}
CNN4_IMAGE = (32, 32, 3)
CNN4_FILTERS = (64, 64, 128, 128)


# --------------------------------------------------------------------- models
def cnn_functional(k):
    """The small CNN of ``bench.cases_training`` as a functional model."""
    inputs = k.Input(IMAGE)
    x = k.layers.Conv2D(32, 3, activation="relu")(inputs)
    x = k.layers.MaxPooling2D(2)(x)
    x = k.layers.Conv2D(64, 3, activation="relu")(x)
    x = k.layers.MaxPooling2D(2)(x)
    return k.Model(inputs, k.layers.Dense(10)(k.layers.Flatten()(x)))


def cnn4(k):
    """Conv2D 64, 64, MaxPool, Conv2D 128, 128 (3x3, same, relu), global average
    pooling, Dense(10) on 32x32x3."""
    conv = partial(k.layers.Conv2D, kernel_size=3, padding="same", activation="relu")
    return k.Sequential(
        [
            k.Input(CNN4_IMAGE),
            conv(CNN4_FILTERS[0]),
            conv(CNN4_FILTERS[1]),
            k.layers.MaxPooling2D(2),
            conv(CNN4_FILTERS[2]),
            conv(CNN4_FILTERS[3]),
            k.layers.GlobalAveragePooling2D(),
            k.layers.Dense(10),
        ]
    )


def cnn4_flops() -> int:
    """Multiply-adds of the convolutions of one image, times two."""
    size, channels, flops = CNN4_IMAGE[0], CNN4_IMAGE[2], 0
    for i, filters in enumerate(CNN4_FILTERS):
        if i == 2:
            size //= 2
        flops += 2 * size * size * filters * 9 * channels
        channels = filters
    return flops


class TorchCNN4(nn.Module):
    def __init__(self):
        super().__init__()
        channels = (CNN4_IMAGE[2], *CNN4_FILTERS)
        self.convs = nn.ModuleList(
            nn.Conv2d(a, b, 3, padding=1) for a, b in zip(channels[:-1], channels[1:])
        )
        self.dense = nn.Linear(CNN4_FILTERS[-1], 10)

    def forward(self, x):
        for i, conv in enumerate(self.convs):
            if i == 2:
                x = F.max_pool2d(x, 2)
            x = torch.relu(conv(x))
        return self.dense(x.mean((2, 3)))

    def load_keras(self, weights):
        with torch.no_grad():
            for param, value in zip(self.parameters(), weights):
                value = torch.from_numpy(np.asarray(value))
                if value.ndim == 4:
                    value = value.permute(3, 2, 0, 1)
                param.copy_(value.T if value.ndim == 2 else value)


MODELS = {
    "cnn[seq]": (cnn, TorchCNN, IMAGE),
    "cnn[func]": (cnn_functional, TorchCNN, IMAGE),
    "cnn4": (cnn4, TorchCNN4, CNN4_IMAGE),
}


# ------------------------------------------------------------------ builders
def setup_for(model_name: str, batch: int):
    def setup(rng: np.random.Generator) -> Workload:
        build, _, shape = MODELS[model_name]
        model = build(lamina)  # lamina's initializers draw the shared weights
        x = rng.random((batch, *shape), dtype=np.float32)
        return {"x": x, "weights": [np.asarray(w) for w in model.get_weights()]}

    return setup


def built(impl: str, model_name: str, w: Workload):
    build, torch_class, _ = MODELS[model_name]
    if impl.startswith("torch"):
        model = torch_class()
        model.load_keras(w["weights"])
        if impl == "torch_cl":
            model = model.to(memory_format=torch.channels_last)
        return model.eval()
    model = build(FRAMEWORKS[impl])
    model.set_weights(w["weights"])
    return model


def torch_input(impl: str, x: np.ndarray) -> torch.Tensor:
    """NHWC data as PyTorch's NCHW: a channels_last view, or a contiguous copy."""
    nchw = torch.from_numpy(x).permute(0, 3, 1, 2)
    return nchw if impl == "torch_cl" else nchw.contiguous()


def call(model_name: str):
    """``model(x)`` with autograd on, for every implementation."""

    def builder(impl: str):
        def build(w: Workload):
            model = built(impl, model_name, w)
            if impl.startswith("torch"):
                return partial(model, torch_input(impl, w["x"]))
            return partial(model, torch.from_numpy(w["x"]))

        return build

    return builder


def predict(model_name: str):
    """``model.predict(x)``, NumPy in and out; PyTorch under ``no_grad``."""

    def builder(impl: str):
        def build(w: Workload):
            model, x = built(impl, model_name, w), w["x"]
            if impl == "torch":
                x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
                return _torch_predict(model, x, nchw=True)
            if impl == "torch_cl":
                return _torch_predict(model, x, nchw=False)
            return partial(model.predict, x, batch_size=len(x), verbose=0)

        return build

    return builder


def _torch_predict(model, x: np.ndarray, nchw: bool):
    def step():
        with torch.no_grad():
            t = torch.from_numpy(x)
            return model(t if nchw else t.permute(0, 3, 1, 2)).numpy()

    return step


def register_model_case(name: str, model_name: str, batch: int, builder) -> None:
    register(
        Case(
            name=name,
            setup=setup_for(model_name, batch),
            smoke_setup=setup_for(model_name, min(batch, 4)),
            lamina=builder("lamina"),
            keras=builder("keras"),
            torch=builder("torch"),
            torch_cl=builder("torch_cl"),
        )
    )


for _kind in ("seq", "func"):
    register_model_case(
        f"cnn_call_b1[{_kind}]", f"cnn[{_kind}]", 1, call(f"cnn[{_kind}]")
    )
    register_model_case(
        f"cnn_predict_b1[{_kind}]", f"cnn[{_kind}]", 1, predict(f"cnn[{_kind}]")
    )
register_model_case("cnn4_predict_b256", "cnn4", 256, predict("cnn4"))


# ----------------------------------------------------------- command line
def rates(steps: dict, batch: int, rounds: int = 7) -> dict:
    """Samples per second of each step: the median of ``rounds`` calls, timed
    round-robin (one call of each per round) after a warm-up call."""
    for step in steps.values():
        step()
    seconds = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            seconds[name].append(time.perf_counter() - start)
    return {name: batch / statistics.median(t) for name, t in seconds.items()}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description="cnn4 predict throughput")
    parser.add_argument("--threads", type=int)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--no-compile", action="store_true")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    w = setup_for("cnn4", args.batch)(np.random.default_rng(0))
    impls = ("lamina", "keras", "torch", "torch_cl")
    steps = {impl: predict("cnn4")(impl)(w) for impl in impls}
    if not args.no_compile:
        steps.update(_compiled_steps(w))
    reference = steps["torch"]()
    for name, step in steps.items():
        error = np.max(np.abs(np.asarray(step()) - reference))
        print(f"{name}: max |diff| vs torch {error:.1e}")
    found = rates(steps, args.batch, args.rounds)
    gflop = cnn4_flops() / 1e9
    for name, rate in found.items():
        print(f"{name:20s} {rate:8.0f} samples/s {rate * gflop:6.1f} GFLOP/s")
    return found


def _compiled_steps(w: Workload) -> dict:
    """``torch.compile`` (inductor, freezing) of PyTorch's channels_last module
    and of lamina's model, with the compile time printed."""
    torch._inductor.config.freezing = True
    steps = {}
    x = w["x"]
    for name, model in (
        ("torch_cl compiled", built("torch_cl", "cnn4", w)),
        ("lamina compiled", built("lamina", "cnn4", w)),
    ):
        compiled = torch.compile(model)
        nhwc = name.startswith("lamina")

        def step(compiled=compiled, nhwc=nhwc):
            with torch.no_grad():
                t = torch.from_numpy(x)
                return compiled(t if nhwc else t.permute(0, 3, 1, 2)).numpy()

        start = time.perf_counter()
        step()
        print(f"{name}: compiled in {time.perf_counter() - start:.1f} s", flush=True)
        steps[name] = step
    return steps


if __name__ == "__main__":
    main()

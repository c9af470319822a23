"""Core cases: the small Dense model (call, predict, training step), one Dense
layer, and the weightless core layers (Dropout, Flatten, Reshape, Permute,
RepeatVector), each forward+backward.

lamina and Keras share an API, so one builder serves both: it receives the module
(``lamina`` or ``keras``) and builds with it. PyTorch gets a hand-written baseline.
"""

from __future__ import annotations

from functools import partial

import keras
import numpy as np
import torch
from torch import nn

import lamina
from bench.registry import Case, CaseMismatch, Workload, check_allclose, register

if keras.backend.backend() != "torch":
    raise RuntimeError(
        "the benchmarks compare against Keras 3 on its torch backend; "
        f"set KERAS_BACKEND=torch (got {keras.backend.backend()!r})"
    )

FRAMEWORKS = {"lamina": lamina, "keras": keras}
IMAGES = (64, 32, 32, 16)  # input of the single-layer cases, 4 MiB of float32


# ------------------------------------------------------------------ helpers
def no_grad_step(fn, *args):
    """A step that calls ``fn(*args)`` without recording autograd history."""

    def step():
        with torch.no_grad():
            return fn(*args)

    return step


def fwd_bwd_step(module: nn.Module, fn, x: torch.Tensor):
    """A training step: forward, ``sum().backward()``; returns output and input
    gradient. Gradients are reset first, so every call does the same work."""
    params = [p for p in module.parameters() if p.requires_grad]

    def step():
        for p in params:
            p.grad = None
        x.grad = None
        out = fn(x)
        out.sum().backward()
        return out, x.grad

    return step


def dense_weights(rng: np.random.Generator, sizes) -> list[np.ndarray]:
    """Keras-layout weights (kernel (in, out), bias) for Dense layers of ``sizes``."""
    weights = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        weights.append(rng.uniform(-1, 1, (fan_in, fan_out)) / np.sqrt(fan_in))
        weights.append(rng.uniform(-0.1, 0.1, fan_out))
    return [w.astype(np.float32) for w in weights]


def load_dense_weights(linears, weights) -> None:
    """Keras Dense weights into ``nn.Linear``s: torch's weight is the kernel
    transposed."""
    with torch.no_grad():
        for linear, kernel, bias in zip(linears, weights[::2], weights[1::2]):
            linear.weight.copy_(torch.from_numpy(kernel.T))
            linear.bias.copy_(torch.from_numpy(bias))


# ---------------------------------------------------- the small Dense model
MLP_SIZES = (32, 64, 64, 10)


def mlp(k, functional: bool):
    """Input 32 -> Dense(64, relu) -> Dense(64, relu) -> Dense(10), built with
    ``k`` (lamina or keras) as a Sequential or a functional Model."""
    layers = [
        k.layers.Dense(64, activation="relu"),
        k.layers.Dense(64, activation="relu"),
        k.layers.Dense(10),
    ]
    if not functional:
        return k.Sequential([k.Input((MLP_SIZES[0],)), *layers])
    inputs = outputs = k.Input((MLP_SIZES[0],))
    for layer in layers:
        outputs = layer(outputs)
    return k.Model(inputs, outputs)


class TorchMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.dense1 = nn.Linear(32, 64)
        self.dense2 = nn.Linear(64, 64)
        self.dense3 = nn.Linear(64, 10)

    def forward(self, x):
        x = torch.relu(self.dense1(x))
        x = torch.relu(self.dense2(x))
        return self.dense3(x)


def mlp_setup(batch: int):
    def setup(rng: np.random.Generator) -> Workload:
        x = rng.standard_normal((batch, MLP_SIZES[0]), dtype=np.float32)
        return {"x": x, "weights": dense_weights(rng, MLP_SIZES)}

    return setup


def built_mlp(impl: str, functional: bool, w: Workload) -> nn.Module:
    if impl == "torch":
        model = TorchMLP()
        load_dense_weights([model.dense1, model.dense2, model.dense3], w["weights"])
        return model
    model = mlp(FRAMEWORKS[impl], functional)
    model.set_weights(w["weights"])
    return model


def mlp_call(impl: str, functional: bool = False):
    """``model(x)`` on a torch tensor; Keras as its users call it (no no_grad)."""

    def build(w: Workload):
        model = built_mlp(impl, functional, w)
        x = torch.from_numpy(w["x"])
        return partial(model, x) if impl == "keras" else no_grad_step(model, x)

    return build


def mlp_predict(impl: str, functional: bool = False):
    """``model.predict(x)``, NumPy in and out; PyTorch's equivalent by hand."""

    def build(w: Workload):
        model = built_mlp(impl, functional, w)
        x = w["x"]
        if impl == "torch":
            return no_grad_step(lambda: model(torch.from_numpy(x)).numpy())
        return partial(model.predict, x, verbose=0)

    return build


def mlp_fwd_bwd(impl: str, functional: bool = False):
    def build(w: Workload):
        model = built_mlp(impl, functional, w)
        return fwd_bwd_step(model, model, torch.tensor(w["x"], requires_grad=True))

    return build


def register_mlp_cases(name: str, setup, builder, variants) -> None:
    for suffix, functional in variants:
        register(
            Case(
                name=f"{name}{suffix}",
                setup=setup,
                lamina=builder("lamina", functional),
                keras=builder("keras", functional),
                torch=builder("torch", functional),
            )
        )


BOTH_MODEL_KINDS = [("[seq]", False), ("[func]", True)]
register_mlp_cases("dense_model_call_b1", mlp_setup(1), mlp_call, BOTH_MODEL_KINDS)
register_mlp_cases(
    "dense_model_predict_b1", mlp_setup(1), mlp_predict, BOTH_MODEL_KINDS
)
register_mlp_cases("mlp_fwd_bwd_b128", mlp_setup(128), mlp_fwd_bwd, BOTH_MODEL_KINDS)


# ------------------------------------------------------- single layers
def layer_case(
    name, shape, make_layer, make_torch, *, setup=None, call_kwargs=None, check=None
):
    """Register forward+backward of one layer on an input of ``shape``.

    ``make_layer(k)`` builds the layer with ``k`` (lamina or keras) and
    ``make_torch(w)`` the PyTorch baseline module. The default ``setup`` draws a
    standard normal input; a ``setup`` that also draws ``weights`` (Keras layout)
    gets them loaded into the lamina and Keras layers.
    """
    call_kwargs = call_kwargs or {}

    def random_input(rng: np.random.Generator) -> Workload:
        return {"x": rng.standard_normal(shape, dtype=np.float32)}

    def framework_builder(k):
        def build(w: Workload):
            layer = make_layer(k)
            if "weights" in w:
                layer.build(shape)
                layer.set_weights(w["weights"])
            x = torch.tensor(w["x"], requires_grad=True)
            return fwd_bwd_step(layer, partial(layer, **call_kwargs), x)

        return build

    def torch_builder(w: Workload):
        module = make_torch(w)
        return fwd_bwd_step(module, module, torch.tensor(w["x"], requires_grad=True))

    register(
        Case(
            name=name,
            setup=setup or random_input,
            lamina=framework_builder(lamina),
            keras=framework_builder(keras),
            torch=torch_builder,
            check=check or check_allclose,
        )
    )


class Lambda(nn.Module):
    """A weightless torch module around a function, for the reshaping baselines."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


def torch_linear(w: Workload) -> nn.Module:
    kernel = w["weights"][0]
    linear = nn.Linear(*kernel.shape)
    load_dense_weights([linear], w["weights"])
    return linear


def dense_setup(rng: np.random.Generator) -> Workload:
    return {
        "x": rng.standard_normal((256, 512), dtype=np.float32),
        "weights": dense_weights(rng, (512, 512)),
    }


def check_dropout(rate: float):
    """Masks are random, so check the law instead of the values: each input is
    either dropped (gradient 0) or scaled by 1 / (1 - rate), in about the right
    proportion."""
    scale = 1 / (1 - rate)

    def check(w: Workload, outputs) -> None:
        for impl, (out, grad) in outputs.items():
            kept = grad != 0
            if not np.allclose(grad[kept], scale):
                raise CaseMismatch(f"{impl}: kept inputs not scaled by {scale}")
            if not np.allclose(out, w["x"] * grad, atol=1e-5):
                raise CaseMismatch(f"{impl}: output is not input * mask * scale")
            if abs(kept.mean() - (1 - rate)) > 0.01:
                raise CaseMismatch(f"{impl}: kept {kept.mean():.3f} of the inputs")

    return check


layer_case(
    "dense_fwd_bwd",
    (256, 512),
    lambda k: k.layers.Dense(512),
    torch_linear,
    setup=dense_setup,
)
layer_case(
    "dropout_fwd_bwd",
    IMAGES,
    lambda k: k.layers.Dropout(0.5),
    lambda w: nn.Dropout(0.5),
    call_kwargs={"training": True},
    check=check_dropout(0.5),
)
layer_case(
    "flatten_fwd_bwd", IMAGES, lambda k: k.layers.Flatten(), lambda w: nn.Flatten()
)
layer_case(
    "reshape_fwd_bwd",
    IMAGES,
    lambda k: k.layers.Reshape((32, 512)),
    lambda w: Lambda(lambda x: x.reshape(x.shape[0], 32, 512)),
)
layer_case(
    "permute_fwd_bwd",
    IMAGES,
    lambda k: k.layers.Permute((3, 1, 2)),
    lambda w: Lambda(lambda x: x.permute(0, 3, 1, 2)),
)
layer_case(
    "repeat_vector_fwd_bwd",
    (256, 1024),
    lambda k: k.layers.RepeatVector(16),
    lambda w: Lambda(lambda x: x.unsqueeze(1).expand(-1, 16, -1)),
)

"""Graphs with ops nodes: the same two-layer perceptron written with ``keras.ops``
on symbolic tensors (``ops.relu(x @ w1 + b1) @ w2 + b2``, the weights as tensors
the graph holds) and with layers (``Dense``, ``Activation("relu")``, ``Dense``).

Compare a case's ``[ops]`` row with its ``[layers]`` row: an op node should cost no
more per call than the layer it replaces. Both graphs train their weights in the
forward+backward cases (the ops graph's weights are tensors that require grad).
"""

from __future__ import annotations

from functools import partial

import torch
from torch import nn

from bench.cases_core import (
    FRAMEWORKS,
    dense_weights,
    fwd_bwd_step,
    load_dense_weights,
    no_grad_step,
)
from bench.registry import Case, Workload, register

SIZES = (32, 64, 10)


def setup(batch: int):
    def draw(rng) -> Workload:
        x = rng.standard_normal((batch, SIZES[0])).astype("float32")
        return {"x": x, "weights": dense_weights(rng, SIZES)}

    return draw


class WeightTensors(nn.Module):
    """The ops graph's weights as parameters, so the step resets their grads."""

    def __init__(self, weights):
        super().__init__()
        self.tensors = nn.ParameterList(
            [nn.Parameter(torch.from_numpy(w.copy())) for w in weights]
        )


def ops_graph(k, tensors):
    w1, b1, w2, b2 = tensors
    x = k.Input((SIZES[0],))
    hidden = k.ops.relu(k.ops.matmul(x, w1) + b1)
    return k.Model(x, k.ops.matmul(hidden, w2) + b2)


def layers_graph(k, weights):
    x = k.Input((SIZES[0],))
    hidden = k.layers.Activation("relu")(k.layers.Dense(SIZES[1])(x))
    model = k.Model(x, k.layers.Dense(SIZES[2])(hidden))
    model.set_weights(weights)
    return model


class TorchMLP(nn.Module):
    def __init__(self, weights):
        super().__init__()
        self.dense1 = nn.Linear(SIZES[0], SIZES[1])
        self.dense2 = nn.Linear(SIZES[1], SIZES[2])
        load_dense_weights([self.dense1, self.dense2], weights)

    def forward(self, x):
        return self.dense2(torch.relu(self.dense1(x)))


def built(impl: str, written_with: str, w: Workload):
    """``(model, module whose parameters are the weights)``."""
    if impl == "torch":
        model = TorchMLP(w["weights"])
        return model, model
    k = FRAMEWORKS[impl]
    if written_with == "layers":
        model = layers_graph(k, w["weights"])
        return model, model
    holder = WeightTensors(w["weights"])
    return ops_graph(k, list(holder.tensors)), holder


def call(impl: str, written_with: str):
    def build(w: Workload):
        model, _ = built(impl, written_with, w)
        x = torch.from_numpy(w["x"])
        return partial(model, x) if impl == "keras" else no_grad_step(model, x)

    return build


def fwd_bwd(impl: str, written_with: str):
    def build(w: Workload):
        model, weights = built(impl, written_with, w)
        return fwd_bwd_step(weights, model, torch.tensor(w["x"], requires_grad=True))

    return build


for _name, _batch, _builder in (
    ("mlp_graph_call_b1", 1, call),
    ("mlp_graph_fwd_bwd_b128", 128, fwd_bwd),
):
    for _written_with in ("ops", "layers"):
        register(
            Case(
                name=f"{_name}[{_written_with}]",
                setup=setup(_batch),
                lamina=_builder("lamina", _written_with),
                keras=_builder("keras", _written_with),
                torch=_builder("torch", _written_with),
            )
        )

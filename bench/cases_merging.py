"""Merge and activation layers, forward + backward: Add, Multiply and Concatenate
of two image-sized tensors; ReLU, PReLU (one slope per channel), ELU, LeakyReLU
and Softmax (plain and masked). Each against the plain PyTorch a torch user
would write for the same arithmetic in the same (channels-last) layout.
"""

from __future__ import annotations

import keras
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import lamina
from bench.cases_core import IMAGES, Lambda, fwd_bwd_step, layer_case
from bench.registry import Case, Workload, register

FRAMEWORKS = {"lamina": lamina, "keras": keras}


# ----------------------------------------------------------------- merging
def pair_setup(rng: np.random.Generator) -> Workload:
    return {
        "a": rng.standard_normal(IMAGES, dtype=np.float32),
        "b": rng.standard_normal(IMAGES, dtype=np.float32),
    }


def merge_fwd_bwd(make_layer, torch_fn):
    """Forward of ``layer([a, b])``, ``sum().backward()``; returns the output and
    both input gradients."""

    def builder(impl):
        def build(w: Workload):
            a = torch.tensor(w["a"], requires_grad=True)
            b = torch.tensor(w["b"], requires_grad=True)
            fn = torch_fn if impl == "torch" else make_layer(FRAMEWORKS[impl])

            def step():
                a.grad = b.grad = None
                out = fn([a, b])
                out.sum().backward()
                return out, a.grad, b.grad

            return step

        return build

    return {impl: builder(impl) for impl in ("lamina", "keras", "torch")}


for name, make_layer, torch_fn in (
    ("add", lambda k: k.layers.Add(), lambda xs: xs[0] + xs[1]),
    ("multiply", lambda k: k.layers.Multiply(), lambda xs: xs[0] * xs[1]),
    (
        "concatenate",
        lambda k: k.layers.Concatenate(),
        lambda xs: torch.cat(xs, dim=-1),
    ),
):
    register(
        Case(
            name=f"{name}_fwd_bwd",
            setup=pair_setup,
            **merge_fwd_bwd(make_layer, torch_fn),
        )
    )


# -------------------------------------------------------------- activations
layer_case("relu_fwd_bwd", IMAGES, lambda k: k.layers.ReLU(), lambda w: nn.ReLU())
layer_case(
    "relu6_fwd_bwd",
    IMAGES,
    lambda k: k.layers.ReLU(max_value=6.0),
    lambda w: nn.ReLU6(),
)
layer_case(
    "leaky_relu_fwd_bwd",
    IMAGES,
    lambda k: k.layers.LeakyReLU(0.1),
    lambda w: nn.LeakyReLU(0.1),
)
layer_case("elu_fwd_bwd", IMAGES, lambda k: k.layers.ELU(), lambda w: nn.ELU())


def prelu_setup(rng: np.random.Generator) -> Workload:
    alpha = rng.uniform(0.0, 0.5, (1, 1, IMAGES[-1])).astype(np.float32)
    return {"x": rng.standard_normal(IMAGES, dtype=np.float32), "weights": [alpha]}


class TorchPReLU(nn.Module):
    """torch's PReLU kernel on the channels-last input (channels viewed as axis 1)."""

    def __init__(self, alpha: np.ndarray):
        super().__init__()
        self.weight = nn.Parameter(torch.from_numpy(alpha.reshape(-1)))

    def forward(self, x):
        return F.prelu(x.permute(0, 3, 1, 2), self.weight).permute(0, 2, 3, 1)


layer_case(
    "prelu_fwd_bwd",
    IMAGES,
    lambda k: k.layers.PReLU(shared_axes=[1, 2]),
    lambda w: TorchPReLU(w["weights"][0]),
    setup=prelu_setup,
)

LOGITS = (32, 4, 64, 128)  # attention scores: (batch, heads, queries, keys)
layer_case(
    "softmax_fwd_bwd",
    LOGITS,
    lambda k: k.layers.Softmax(),
    lambda w: nn.Softmax(dim=-1),
)


def masked_softmax_setup(rng: np.random.Generator) -> Workload:
    keep = rng.random((LOGITS[0], 1, 1, LOGITS[-1])) < 0.8
    return {"x": rng.standard_normal(LOGITS, dtype=np.float32), "mask": keep}


class TorchMaskedSoftmax(nn.Module):
    """Masked softmax as attention code writes it: fill, softmax, zero."""

    def __init__(self, mask: torch.Tensor):
        super().__init__()
        self.mask = mask

    def forward(self, x):
        x = x.masked_fill(~self.mask, -1e9)
        return F.softmax(x, dim=-1).masked_fill(~self.mask, 0.0)


def masked_softmax_builder(impl):
    def build(w: Workload):
        mask = torch.from_numpy(w["mask"])
        x = torch.tensor(w["x"], requires_grad=True)
        if impl == "torch":
            module = TorchMaskedSoftmax(mask)
            return fwd_bwd_step(module, module, x)
        layer = FRAMEWORKS[impl].layers.Softmax()
        return fwd_bwd_step(layer, Lambda(lambda t: layer(t, mask=mask)), x)

    return build


register(
    Case(
        name="softmax_masked_fwd_bwd",
        setup=masked_softmax_setup,
        lamina=masked_softmax_builder("lamina"),
        keras=masked_softmax_builder("keras"),
        torch=masked_softmax_builder("torch"),
    )
)

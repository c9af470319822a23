"""Normalization cases: BatchNormalization in training (forward+backward with the
batch's statistics) and in inference (folded statistics), LayerNormalization
forward+backward, and GroupNormalization forward+backward.

The backward pass receives a fixed random upstream gradient: the gradient of
``out.sum()`` through a normalization is zero up to rounding, which would check
nothing. PyTorch's baselines are what a PyTorch user writes for channels_last
data: ``nn.BatchNorm2d`` on the channels-last view ``x.permute(0, 3, 1, 2)``
(permuted back), ``nn.LayerNorm``, ``nn.GroupNorm`` on the same view.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from bench.cases_core import FRAMEWORKS, no_grad_step
from bench.registry import Case, Workload, register

IMAGES = (64, 32, 32, 16)  # channels_last, 4 MiB of float32
SEQUENCES = (32, 64, 256)  # (batch, steps, features), 2 MiB
EPSILON = 1e-3  # Keras's default; torch's is 1e-5


class ChannelsLast(nn.Module):
    """A torch module written for (N, C, H, W), run on a channels_last batch
    through the permuted (channels-last strided) view."""

    def __init__(self, module: nn.Module):
        super().__init__()
        self.module = module

    def forward(self, x):
        return self.module(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)


def setup_for(shape, channels: int, statistics: bool = False):
    def setup(rng: np.random.Generator) -> Workload:
        weights = [
            rng.uniform(0.5, 1.5, channels).astype(np.float32),
            rng.standard_normal(channels, dtype=np.float32),
        ]
        if statistics:
            weights += [
                rng.standard_normal(channels, dtype=np.float32) * 0.1,
                rng.uniform(0.5, 2.0, channels).astype(np.float32),
            ]
        return {
            "x": rng.standard_normal(shape, dtype=np.float32),
            "g": rng.standard_normal(shape, dtype=np.float32),
            "weights": weights,
        }

    return setup


def load_affine(module, weights) -> None:
    """gamma, beta (and moving mean, variance) into a torch normalization module."""
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(weights[0]))
        module.bias.copy_(torch.from_numpy(weights[1]))
        if len(weights) > 2:
            module.running_mean.copy_(torch.from_numpy(weights[2]))
            module.running_var.copy_(torch.from_numpy(weights[3]))


def fwd_bwd(call, module, w: Workload):
    """Forward, backward of the fixed upstream gradient; returns the output and
    the input gradient."""
    x = torch.tensor(w["x"], requires_grad=True)
    g = torch.from_numpy(w["g"])
    params = [p for p in module.parameters() if p.requires_grad]

    def step():
        for p in params:
            p.grad = None
        x.grad = None
        out = call(x)
        out.backward(g)
        return out, x.grad

    return step


def framework_layer(impl: str, make, shape, w: Workload):
    layer = make(FRAMEWORKS[impl])
    layer.build(shape)
    layer.set_weights(w["weights"])
    return layer


def training_case(name, shape, make, make_torch, statistics=False):
    """Forward+backward in training mode (``training=True``: batch statistics)."""

    def framework(impl):
        def build(w: Workload):
            layer = framework_layer(impl, make, shape, w)
            return fwd_bwd(lambda x: layer(x, training=True), layer, w)

        return build

    def torch_build(w: Workload):
        module = make_torch()
        load_affine(
            module.module if isinstance(module, ChannelsLast) else module, w["weights"]
        )
        module.train()
        return fwd_bwd(module, module, w)

    channels = shape[-1]
    register(
        Case(
            name=name,
            setup=setup_for(shape, channels, statistics),
            lamina=framework("lamina"),
            keras=framework("keras"),
            torch=torch_build,
        )
    )


def batch_norm_torch():
    module = nn.BatchNorm2d(IMAGES[-1], eps=EPSILON, momentum=0.01)
    return ChannelsLast(module.to(memory_format=torch.channels_last))


training_case(
    "batchnorm_train_fwd_bwd_nhwc",
    IMAGES,
    lambda k: k.layers.BatchNormalization(),
    batch_norm_torch,
    statistics=True,
)
training_case(
    "layernorm_fwd_bwd",
    SEQUENCES,
    lambda k: k.layers.LayerNormalization(),
    lambda: nn.LayerNorm(SEQUENCES[-1], eps=EPSILON),
)
training_case(
    "groupnorm_fwd_bwd_nhwc",
    IMAGES,
    lambda k: k.layers.GroupNormalization(groups=4),
    lambda: ChannelsLast(nn.GroupNorm(4, IMAGES[-1], eps=EPSILON)),
)


def inference_case(name, shape):
    """``layer(x)`` in inference: the moving statistics folded into one
    multiply-add; lamina and torch under ``no_grad``, Keras as its users call it."""

    def framework(impl):
        def build(w: Workload):
            layer = framework_layer(
                impl, lambda k: k.layers.BatchNormalization(), shape, w
            )
            x = torch.from_numpy(w["x"])
            return (lambda: layer(x)) if impl == "keras" else no_grad_step(layer, x)

        return build

    def torch_build(w: Workload):
        module = nn.BatchNorm2d(shape[-1], eps=EPSILON)
        load_affine(module, w["weights"])
        module = ChannelsLast(module.to(memory_format=torch.channels_last)).eval()
        return no_grad_step(module, torch.from_numpy(w["x"]))

    register(
        Case(
            name=name,
            setup=setup_for(shape, shape[-1], statistics=True),
            lamina=framework("lamina"),
            keras=framework("keras"),
            torch=torch_build,
        )
    )


inference_case("batchnorm_inference_nhwc", IMAGES)
inference_case("batchnorm_inference_b1", (1, 8, 8, 32))

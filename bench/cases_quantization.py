"""int8 inference: a quantized ``Dense`` (lamina and Keras 3, both
``quantize("int8")`` of the same float weights) against the float32 layer
(plain PyTorch ``nn.Linear``, the ``torch`` column).

``lamina/torch`` is what int8 costs over float32 here; ``lamina/keras`` compares
the two int8 implementations, which compute the same numbers (checked). The
int8 outputs differ from float32 by the quantization error (checked loosely).

``bench/run.py -k int8 --threads 1`` on this 2-core Zen 4 CPU (torch 2.13, a
loaded machine, ratios of medians): lamina/torch 2.34x at b32_512 and 1.28x at
b256_1024; lamina/keras 0.29x and 0.32x. ``torch._int_mm`` and
``torch._weight_int8pack_mm`` were tried as the int8 product and were slower
than float32 ``mm`` at these sizes, so lamina multiplies the int8 values in float32.
"""

from __future__ import annotations

import warnings

import keras
import numpy as np
import torch
from torch import nn

import lamina
from bench.registry import Case, CaseMismatch, register

SIZES = {"b32_512": (32, 512, 512), "b256_1024": (256, 1024, 1024)}


def setup_for(batch, fan_in, units):
    def setup(rng: np.random.Generator):
        kernel = rng.standard_normal((fan_in, units)) / np.sqrt(fan_in)
        return {
            "x": rng.standard_normal((batch, fan_in)).astype(np.float32),
            "weights": [
                kernel.astype(np.float32),
                rng.uniform(-0.1, 0.1, units).astype(np.float32),
            ],
        }

    return setup


def quantized_builder(k):
    def build(w):
        fan_in, units = w["weights"][0].shape
        model = k.Sequential([k.Input((fan_in,)), k.layers.Dense(units)])
        model.set_weights(w["weights"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Keras warns for the InputLayer
            model.quantize("int8")
        x = torch.from_numpy(w["x"])

        def step():
            with torch.no_grad():
                return model(x)

        return step

    return build


def torch_float32(w):
    kernel, bias = w["weights"]
    linear = nn.Linear(*kernel.shape)
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(kernel.T))
        linear.bias.copy_(torch.from_numpy(bias))
    x = torch.from_numpy(w["x"])

    def step():
        with torch.no_grad():
            return linear(x)

    return step


def check_int8(workload, outputs) -> None:
    """lamina and Keras agree to float32 rounding; both are within 10% (of the
    output's spread) of the float32 layer."""
    lam, ker, ref = outputs["lamina"][0], outputs["keras"][0], outputs["torch"][0]
    if not np.allclose(lam, ker, atol=1e-4, rtol=1e-5):
        raise CaseMismatch(
            f"lamina int8 differs from Keras int8 by {np.abs(lam - ker).max():.3g}"
        )
    error = np.abs(lam - ref).max() / ref.std()
    if error > 0.1:
        raise CaseMismatch(
            f"int8 differs from float32 by {error:.3g} of the output's std"
        )


for suffix, (batch, fan_in, units) in SIZES.items():
    register(
        Case(
            name=f"dense_int8_call_{suffix}",
            setup=setup_for(batch, fan_in, units),
            lamina=quantized_builder(lamina),
            keras=quantized_builder(keras),
            torch=torch_float32,
            check=check_int8,
        )
    )

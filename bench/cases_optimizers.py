"""Optimizer step cases: one ``apply`` of Lamb and of Muon on about 4 MB of
weights (four 512x512 kernels and their biases), lamina vs Keras 3 vs a plain
per-tensor PyTorch loop of the same formulas (torch has neither optimizer).

Each implementation starts from the same weights and the same fixed gradients;
the first step's weights are compared, then steps are timed (the state keeps
advancing, as in training).
"""

from __future__ import annotations

import math

import keras
import torch

import lamina
from bench.registry import Case, register

SHAPES = [(512, 512), (512,)] * 4


def setup(rng):
    return {
        "weights": [rng.standard_normal(s).astype("float32") * 0.05 for s in SHAPES],
        "grads": [rng.standard_normal(s).astype("float32") * 0.01 for s in SHAPES],
    }


def _framework_step(module, name, kwargs):
    def build(workload):
        if module is keras:
            weights = [
                keras.Variable(w.copy(), name=f"w{i}")
                for i, w in enumerate(workload["weights"])
            ]
        else:
            weights = [lamina.Variable(torch.tensor(w)) for w in workload["weights"]]
            for i, weight in enumerate(weights):
                weight.name = weight.path = f"w{i}"
        grads = [torch.tensor(g) for g in workload["grads"]]
        optimizer = getattr(module.optimizers, name)(**kwargs)

        def step():
            optimizer.apply(grads, weights)
            return tuple(keras.ops.convert_to_numpy(w) for w in weights)

        return step

    return build


def _torch_lamb(workload, lr=0.01, b1=0.9, b2=0.999, eps=1e-7):
    weights = [torch.tensor(w) for w in workload["weights"]]
    grads = [torch.tensor(g) for g in workload["grads"]]
    m = [torch.zeros_like(w) for w in weights]
    v = [torch.zeros_like(w) for w in weights]
    t = [0]

    @torch.no_grad()
    def step():
        t[0] += 1
        for w, g, m_i, v_i in zip(weights, grads, m, v):
            m_i.mul_(b1).add_(g, alpha=1 - b1)
            v_i.mul_(b2).addcmul_(g, g, value=1 - b2)
            update = (m_i / (1 - b1 ** t[0])) / ((v_i / (1 - b2 ** t[0])).sqrt() + eps)
            w_norm, u_norm = w.norm(), update.norm()
            ratio = w_norm / u_norm if w_norm > 0 and u_norm > 0 else 1.0
            w.sub_(lr * ratio * update)
        return tuple(weights)

    return step


def _newton_schulz(x, steps=5, a=3.4445, b=-4.7750, c=2.0315):
    tall = x.shape[0] > x.shape[1]
    x = x.T if tall else x
    x = x / (x.norm() + 1e-7)
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * gram @ gram) @ x
    return x.T if tall else x


def _torch_muon(workload, lr=0.01, momentum=0.95, rms_rate=0.2, decay=0.004):
    weights = [torch.tensor(w) for w in workload["weights"]]
    grads = [torch.tensor(g) for g in workload["grads"]]
    m = [torch.zeros_like(w) for w in weights]
    v = [torch.zeros_like(w) for w in weights]
    t = [0]

    @torch.no_grad()
    def step():
        t[0] += 1
        for w, g, m_i, v_i in zip(weights, grads, m, v):
            w.mul_(1 - decay * lr)
            if w.ndim == 2:  # Muon
                m_i.mul_(momentum).add_(g)
                update = _newton_schulz(g + momentum * m_i)
                w.sub_(update * (lr * math.sqrt(max(w.shape)) * rms_rate))
            else:  # AdamW
                alpha = lr * math.sqrt(1 - 0.999 ** t[0]) / (1 - 0.9 ** t[0])
                m_i.lerp_(g, 0.1)
                v_i.lerp_(g * g, 0.001)
                w.sub_(alpha * m_i / (v_i.sqrt() + 1e-7))
        return tuple(weights)

    return step


for _name, _torch_step in (("Lamb", _torch_lamb), ("Muon", _torch_muon)):
    _kwargs = {"learning_rate": 0.01}
    register(
        Case(
            f"optimizer_{_name.lower()}_step_4MB",
            setup,
            lamina=_framework_step(lamina, _name, _kwargs),
            keras=_framework_step(keras, _name, _kwargs),
            torch=_torch_step,
        )
    )

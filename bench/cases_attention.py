"""Attention cases: MultiHeadAttention(8 heads, key_dim 64) self-attention on
(32, 128, 512), forward+backward, against ``nn.MultiheadAttention`` (the
``need_weights=False`` call, its fast SDPA path) and Keras 3; the same with a
causal mask; a batch-1 inference call; EinsumDense against the ``nn.Linear`` it
equals (a Dense-like equation and a projection to heads).

Weights are drawn in Keras's layout (query/key/value kernels ``(512, 8, 64)``,
output kernel ``(8, 64, 512)``) and packed into torch's ``in_proj_weight``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from bench.cases_core import FRAMEWORKS, fwd_bwd_step, layer_case, no_grad_step
from bench.registry import Case, CaseMismatch, Workload, register

HEADS, KEY_DIM = 8, 64
DIM = HEADS * KEY_DIM
SEQUENCES = (32, 128, DIM)


def mha_setup(shape):
    def setup(rng: np.random.Generator) -> Workload:
        scale = 1 / np.sqrt(DIM)
        kernels = [rng.uniform(-scale, scale, (DIM, HEADS, KEY_DIM)) for _ in "qkv"]
        biases = [rng.uniform(-0.1, 0.1, (HEADS, KEY_DIM)) for _ in "qkv"]
        weights = [w for pair in zip(kernels, biases) for w in pair]
        weights += [
            rng.uniform(-scale, scale, (HEADS, KEY_DIM, DIM)),
            rng.uniform(-0.1, 0.1, (DIM,)),
        ]
        return {
            "x": rng.standard_normal(shape, dtype=np.float32),
            "weights": [w.astype(np.float32) for w in weights],
        }

    return setup


def torch_mha(w: Workload) -> nn.MultiheadAttention:
    """``nn.MultiheadAttention`` holding the Keras-layout weights."""
    module = nn.MultiheadAttention(DIM, HEADS, batch_first=True)
    q, bq, k, bk, v, bv, out, bout = (torch.from_numpy(a) for a in w["weights"])
    with torch.no_grad():
        module.in_proj_weight.copy_(
            torch.cat([m.reshape(DIM, DIM).T for m in (q, k, v)])
        )
        module.in_proj_bias.copy_(torch.cat([b.reshape(-1) for b in (bq, bk, bv)]))
        module.out_proj.weight.copy_(out.reshape(DIM, DIM).T)
        module.out_proj.bias.copy_(bout)
    return module


def _causal(length: int) -> torch.Tensor:
    return torch.ones(length, length, dtype=torch.bool).triu(1)  # True: blocked


def mha_builders(causal: bool, train: bool):
    """Builders of self-attention steps (forward+backward when ``train``)."""

    def framework(k):
        def build(w: Workload):
            layer = k.layers.MultiHeadAttention(HEADS, KEY_DIM)
            x = torch.tensor(w["x"], requires_grad=train)
            layer(x, x)
            layer.set_weights(w["weights"])

            def attend(x):
                return layer(x, x, use_causal_mask=causal)

            return fwd_bwd_step(layer, attend, x) if train else no_grad_step(attend, x)

        return build

    def torch_build(w: Workload):
        module = torch_mha(w)
        x = torch.tensor(w["x"], requires_grad=train)
        mask = _causal(x.shape[1]) if causal else None

        def attend(x):
            out, _ = module(
                x, x, x, need_weights=False, attn_mask=mask, is_causal=causal
            )
            return out

        return fwd_bwd_step(module, attend, x) if train else no_grad_step(attend, x)

    return {
        "lamina": framework(FRAMEWORKS["lamina"]),
        "keras": framework(FRAMEWORKS["keras"]),
        "torch": torch_build,
    }


def check_close(workload: Workload, outputs) -> None:
    """Outputs (and input gradients) equal torch's to float32 rounding of sums
    over 512 features and 128 steps: relative 1e-4 of each array's scale."""
    reference = outputs["torch"]
    for impl, arrays in outputs.items():
        for index, (got, want) in enumerate(zip(arrays, reference)):
            scale = np.max(np.abs(want))
            error = np.max(np.abs(got - want))
            if got.shape != want.shape or error > 1e-4 * scale:
                raise CaseMismatch(
                    f"{impl} output {index}: {got.shape} vs {want.shape}, "
                    f"error {error:.3g} at scale {scale:.3g}"
                )


for name, shape, causal, train in (
    ("mha_fwd_bwd_32x128x512", SEQUENCES, False, True),
    ("mha_causal_fwd_bwd_32x128x512", SEQUENCES, True, True),
    ("mha_call_b1_16x512", (1, 16, DIM), False, False),
):
    register(
        Case(
            name=name,
            setup=mha_setup(shape),
            check=check_close,
            **mha_builders(causal, train),
        )
    )


# --------------------------------------------------------------- EinsumDense
def einsum_setup(rng: np.random.Generator) -> Workload:
    scale = 1 / np.sqrt(DIM)
    return {
        "x": rng.standard_normal(SEQUENCES, dtype=np.float32),
        "weights": [
            rng.uniform(-scale, scale, (DIM, HEADS, KEY_DIM)).astype(np.float32),
            rng.uniform(-0.1, 0.1, (HEADS, KEY_DIM)).astype(np.float32),
        ],
    }


class HeadsLinear(nn.Module):
    """``nn.Linear`` viewed as heads: what ``EinsumDense("abc,cde->abde")`` is."""

    def __init__(self, w: Workload):
        super().__init__()
        kernel, bias = (torch.from_numpy(a) for a in w["weights"])
        self.linear = nn.Linear(DIM, DIM)
        with torch.no_grad():
            self.linear.weight.copy_(kernel.reshape(DIM, DIM).T)
            self.linear.bias.copy_(bias.reshape(-1))

    def forward(self, x):
        return self.linear(x).unflatten(-1, (HEADS, KEY_DIM))


layer_case(
    "einsum_dense_heads_fwd_bwd",
    SEQUENCES,
    lambda k: k.layers.EinsumDense(
        "abc,cde->abde", (SEQUENCES[1], HEADS, KEY_DIM), bias_axes="de"
    ),
    HeadsLinear,
    setup=einsum_setup,
    check=check_close,
)


def flat_setup(rng: np.random.Generator) -> Workload:
    w = einsum_setup(rng)
    kernel, bias = w["weights"]
    return {"x": w["x"], "weights": [kernel.reshape(DIM, DIM), bias.reshape(DIM)]}


def torch_linear(w: Workload) -> nn.Module:
    linear = nn.Linear(DIM, DIM)
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(w["weights"][0]).T)
        linear.bias.copy_(torch.from_numpy(w["weights"][1]))
    return linear


layer_case(
    "einsum_dense_as_dense_fwd_bwd",
    SEQUENCES,
    lambda k: k.layers.EinsumDense("abc,cd->abd", (SEQUENCES[1], DIM), bias_axes="d"),
    torch_linear,
    setup=flat_setup,
    check=check_close,
)

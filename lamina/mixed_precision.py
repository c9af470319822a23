"""Mixed precision: float32 weights, half-precision compute.

``set_global_policy("mixed_bfloat16")`` (or ``"mixed_float16"``) makes layers
created afterwards keep float32 weights and compute under ``torch.autocast`` in
bfloat16 (float16); losses and metrics still compute in float32. With
``mixed_float16``, ``compile`` wraps the optimizer in a ``LossScaleOptimizer`` so
small gradients do not underflow. ``set_global_policy("float32")`` switches back.

Speed on the CPU: bfloat16 pays only where the processor has bfloat16
instructions (avx512_bf16 or AMX) and torch's oneDNN uses them
(``torch.ops.mkldnn._is_mkldnn_bf16_supported()`` is True). Without them torch
multiplies bfloat16 matrices on a slow fallback and a mixed_bfloat16 layer trains
10-17x *slower* than in float32. Measured forward+backward, 1 thread, min CPU
time, on an AMD EPYC virtual machine exposing AVX2 only (torch 2.13, oneDNN
3.12): Dense(512) on (256, 512) 7.9 ms float32 vs 135 ms mixed_bfloat16; Conv2D(32,
3, padding="same") on (32, 32, 32, 16) 15.6 vs 201 ms; a bare 1024^3 ``mm`` 29 ms
vs 5.8 s. On an avx512_bf16 CPU without AMX (Zen 4; measured earlier on the
project's own machine) bfloat16 matrix products run about 1.7x faster than
float32 (not the 6-8x of AMX), so mixed_bfloat16 speeds up Dense/Conv-heavy
training there by at most that much, less where elementwise work and the casts
dominate. Check the CPU (``grep -o -e avx512_bf16 -e amx_bf16 /proc/cpuinfo``)
or time ``bench/run.py -k mixed_bfloat16`` before switching.

>>> import lamina as keras
>>> keras.mixed_precision.set_global_policy("mixed_bfloat16")
>>> layer = keras.layers.Dense(4)
>>> layer.compute_dtype, layer.variable_dtype
('bfloat16', 'float32')
>>> keras.mixed_precision.set_global_policy("float32")
"""

from __future__ import annotations

from lamina import config
from lamina.dtype_policies import DTypePolicy
from lamina.dtype_policies import get as _get_policy
from lamina.optimizers.loss_scale_optimizer import LossScaleOptimizer

Policy = DTypePolicy


def set_global_policy(policy) -> None:
    """Set the dtype policy of layers created from now on: a name
    (``"mixed_bfloat16"``, ``"mixed_float16"``, ``"float32"``, ...) or a
    ``DTypePolicy``; ``None`` resets it to ``floatx()``.

    Raises:
        ValueError: for an unknown policy name.
    """
    if policy is not None:
        policy = _get_policy(policy)
    config.set_dtype_policy(policy)


def global_policy() -> DTypePolicy:
    """The dtype policy new layers get."""
    return config.dtype_policy()


set_dtype_policy = set_global_policy
dtype_policy = global_policy

__all__ = [
    "DTypePolicy",
    "LossScaleOptimizer",
    "Policy",
    "dtype_policy",
    "global_policy",
    "set_dtype_policy",
    "set_global_policy",
]

"""Mixed precision: float32 weights, half-precision compute.

``set_global_policy("mixed_bfloat16")`` (or ``"mixed_float16"``) makes layers
created afterwards keep float32 weights and compute under ``torch.autocast`` in
bfloat16 (float16); losses and metrics still compute in float32. With
``mixed_float16``, ``compile`` wraps the optimizer in a ``LossScaleOptimizer`` so
small gradients do not underflow. ``set_global_policy("float32")`` switches back.

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

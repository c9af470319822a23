"""``ScheduleFreeAdamW``: AdamW without a learning-rate schedule (Defazio et al.,
2024), as Keras 3 writes it."""

from __future__ import annotations

import torch

from lamina.optimizers.optimizer import Optimizer
from lamina.utils.validation import check_float, check_int


class ScheduleFreeAdamW(Optimizer):
    """Schedule-Free AdamW: the weights ``y`` interpolate between the gradient
    sequence ``z`` (the ``momentum`` state, started at the weights) and its
    running average ``x``. At step ``t`` with rate ``lr`` (ramped linearly over
    ``warmup_steps``)::

        v = b2 * v + (1 - b2) * g**2
        x = (y - (1 - b1) * z) / b1                   (z before this step)
        z -= lr * g / (sqrt(v / (1 - b2**t)) + epsilon)
        x = (1 - 1/t) * x + (1/t) * z
        y = (1 - b1) * z + b1 * x

    Keras 3's torch backend reads ``z`` for the ``x`` line *after* updating it
    (its ``momentum.value`` aliases the variable), which differs from its
    TensorFlow and JAX backends and from the paper from the second step on;
    lamina follows TensorFlow/JAX and the paper (tested against a NumPy
    reference).

    Args:
        learning_rate: float or schedule (default 0.0025).
        beta_1: the interpolation between ``z`` and ``x`` (default 0.9).
        beta_2: decay of the second moment (default 0.999).
        epsilon: added to the bias-corrected ``sqrt(v)`` (default 1e-8).
        warmup_steps: the learning rate ramps from 0 over this many steps.
        **kwargs: the common arguments of ``Optimizer``.

    State: ``momentum`` (``z``) and ``velocity`` per weight (interleaved).

    Example:
    >>> import torch, lamina as keras
    >>> w = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    >>> keras.optimizers.ScheduleFreeAdamW(0.1).apply([torch.ones(2)], [w])
    >>> [round(x, 4) for x in w.tolist()]
    [0.9, 1.9]
    """

    def __init__(
        self,
        learning_rate=0.0025,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        warmup_steps=0,
        name=None,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1 = check_float(self, "beta_1", beta_1, 0.0, 1.0)
        if self.beta_1 == 0:
            raise ValueError(
                f"ScheduleFreeAdamW '{self.name}': `beta_1` must be in (0, 1]; got "
                f"beta_1={beta_1!r}."
            )
        self.beta_2 = check_float(self, "beta_2", beta_2, 0.0, 1.0, False)
        self.epsilon = check_float(self, "epsilon", epsilon, 0.0)
        self.warmup_steps = check_int(self, "warmup_steps", warmup_steps, 0)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._momentums, self._velocities = self.add_optimizer_variables(
            variables, ["momentum", "velocity"]
        )
        with torch.no_grad():
            torch._foreach_copy_(self._momentums, list(variables))

    def _update(self, params, grads, lr, indices):
        step = self._local_step() + 1
        if self.warmup_steps > 0:
            lr = lr * min(step / self.warmup_steps, 1.0)
        momentums = self._slots(self._momentums, indices)
        velocities = self._slots(self._velocities, indices)
        b1, b2 = self.beta_1, self.beta_2
        torch._foreach_lerp_(velocities, torch._foreach_mul(grads, grads), 1 - b2)
        averages = torch._foreach_add(params, momentums, alpha=-(1 - b1))
        torch._foreach_div_(averages, b1)
        denominators = torch._foreach_div(velocities, 1 - b2**step)
        torch._foreach_sqrt_(denominators)
        torch._foreach_add_(denominators, self.epsilon)
        torch._foreach_addcdiv_(momentums, grads, denominators, value=-lr)
        torch._foreach_lerp_(averages, momentums, 1.0 / step)
        torch._foreach_lerp_(averages, momentums, 1 - b1)
        torch._foreach_copy_(params, averages)

    def get_config(self):
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "warmup_steps": self.warmup_steps,
        }

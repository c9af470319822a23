"""``Lion``: sign-of-interpolated-momentum updates."""

from __future__ import annotations

import torch

from lamina.optimizers.optimizer import Optimizer
from lamina.utils.validation import check_float


class Lion(Optimizer):
    """Lion: ``w -= lr * sign(b1 * m + (1 - b1) * g)``, then
    ``m = b2 * m + (1 - b2) * g``.

    Args:
        learning_rate: float or schedule (default 0.001).
        beta_1: interpolation for the update direction (default 0.9).
        beta_2: decay of the momentum (default 0.99).
        **kwargs: the common arguments of ``Optimizer``.

    State: ``momentum`` per weight.
    """

    def __init__(
        self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, name=None, **kwargs
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1 = check_float(self, "beta_1", beta_1, 0.0, 1.0)
        if self.beta_1 <= 0:
            raise ValueError(
                f"Lion: `beta_1` must be in (0, 1]; got beta_1={beta_1!r}."
            )
        self.beta_2 = check_float(self, "beta_2", beta_2, 0.0, 1.0)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._momentums = self.add_optimizer_variables(variables, "momentum")

    def _update(self, params, grads, lr, indices):
        momentums = self._slots(self._momentums, indices)
        direction = torch._foreach_mul(momentums, self.beta_1)
        torch._foreach_add_(direction, grads, alpha=1 - self.beta_1)
        torch._foreach_sign_(direction)
        torch._foreach_add_(params, direction, alpha=-lr)
        torch._foreach_mul_(momentums, self.beta_2)
        torch._foreach_add_(momentums, grads, alpha=1 - self.beta_2)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}

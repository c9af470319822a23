"""``RMSprop``: divide the gradient by a running root mean square."""

from __future__ import annotations

import torch

from lamina.optimizers.optimizer import Optimizer
from lamina.utils.validation import check_float


class RMSprop(Optimizer):
    """RMSprop, Keras's formulation.

    ``v = rho * v + (1 - rho) * g**2``; ``step = lr * g / sqrt(v + epsilon)``
    (``v - a**2`` under the root with ``centered``, where ``a`` is the running mean
    gradient); with ``momentum``, ``m = momentum * m + step`` and ``w -= m``, else
    ``w -= step``. Keras's defaults: ``rho=0.9``, ``epsilon=1e-7`` (torch: 0.99, 1e-8).

    Args:
        learning_rate: float or schedule (default 0.001).
        rho: discount of the squared-gradient average.
        momentum: momentum factor (0 for none).
        epsilon: added to the average before the square root.
        centered: normalize by the gradient's estimated variance instead.
        **kwargs: the common arguments of ``Optimizer``.

    State: ``velocity`` per weight, then ``momentum`` (if ``momentum > 0``), then
    ``average_gradient`` (if ``centered``).
    """

    def __init__(
        self,
        learning_rate=0.001,
        rho=0.9,
        momentum=0.0,
        epsilon=1e-7,
        centered=False,
        name=None,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.rho = check_float(self, "rho", rho, 0.0, 1.0)
        self.momentum = check_float(self, "momentum", momentum, 0.0, 1.0)
        self.epsilon = check_float(self, "epsilon", epsilon, 0.0)
        self.centered = bool(centered)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._velocities = self.add_optimizer_variables(variables, "velocity")
        self._momentums = []
        if self.momentum > 0:
            self._momentums = self.add_optimizer_variables(variables, "momentum")
        self._average_gradients = []
        if self.centered:
            self._average_gradients = self.add_optimizer_variables(
                variables, "average_gradient"
            )

    def _update(self, params, grads, lr, indices):
        rho = self.rho
        velocities = self._slots(self._velocities, indices)
        torch._foreach_mul_(velocities, rho)
        torch._foreach_addcmul_(velocities, grads, grads, value=1 - rho)
        denominators = torch._foreach_add(velocities, self.epsilon)
        if self.centered:
            averages = self._slots(self._average_gradients, indices)
            torch._foreach_mul_(averages, rho)
            torch._foreach_add_(averages, grads, alpha=1 - rho)
            torch._foreach_addcmul_(denominators, averages, averages, value=-1)
        torch._foreach_sqrt_(denominators)
        increments = torch._foreach_div(torch._foreach_mul(grads, lr), denominators)
        if self.momentum > 0:
            momentums = self._slots(self._momentums, indices)
            torch._foreach_mul_(momentums, self.momentum)
            torch._foreach_add_(momentums, increments)
            torch._foreach_sub_(params, momentums)
        else:
            torch._foreach_sub_(params, increments)

    def get_config(self):
        return {
            **super().get_config(),
            "rho": self.rho,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "centered": self.centered,
        }

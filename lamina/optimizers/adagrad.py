"""``Adagrad`` and ``Adadelta``: per-weight rates from accumulated squared gradients."""

from __future__ import annotations

import torch

from lamina.initializers import Constant
from lamina.optimizers.optimizer import Optimizer
from lamina.utils.validation import check_float


class Adagrad(Optimizer):
    """Adagrad: ``a += g**2``; ``w -= lr * g / sqrt(a + epsilon)`` (Keras puts
    epsilon under the root; torch adds it after).

    Args:
        learning_rate: float or schedule (default 0.001).
        initial_accumulator_value: starting value of ``a`` (default 0.1).
        epsilon: added under the square root.
        **kwargs: the common arguments of ``Optimizer``.

    State: ``accumulator`` per weight.
    """

    def __init__(
        self,
        learning_rate=0.001,
        initial_accumulator_value=0.1,
        epsilon=1e-7,
        name=None,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.initial_accumulator_value = check_float(
            self, "initial_accumulator_value", initial_accumulator_value, 0.0
        )
        self.epsilon = check_float(self, "epsilon", epsilon, 0.0)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._accumulators = self.add_optimizer_variables(
            variables, "accumulator", Constant(self.initial_accumulator_value)
        )

    def _update(self, params, grads, lr, indices):
        accumulators = self._slots(self._accumulators, indices)
        torch._foreach_addcmul_(accumulators, grads, grads)
        denominators = torch._foreach_add(accumulators, self.epsilon)
        torch._foreach_sqrt_(denominators)
        torch._foreach_sub_(
            params, torch._foreach_div(torch._foreach_mul(grads, lr), denominators)
        )

    def get_config(self):
        return {
            **super().get_config(),
            "initial_accumulator_value": self.initial_accumulator_value,
            "epsilon": self.epsilon,
        }


class Adadelta(Optimizer):
    """Adadelta: ``a = rho * a + (1 - rho) * g**2``;
    ``d = -sqrt(b + eps) / sqrt(a + eps) * g``; ``b = rho * b + (1 - rho) * d**2``;
    ``w += lr * d``.

    Args:
        learning_rate: float or schedule (default 0.001).
        rho: decay rate (default 0.95).
        epsilon: added under the square roots.
        **kwargs: the common arguments of ``Optimizer``.

    State: ``accumulated_grad`` and ``accumulated_delta_var`` per weight.
    """

    def __init__(
        self, learning_rate=0.001, rho=0.95, epsilon=1e-7, name=None, **kwargs
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.rho = check_float(self, "rho", rho, 0.0, 1.0)
        self.epsilon = check_float(self, "epsilon", epsilon, 0.0)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._accumulated_grads, self._accumulated_delta_vars = (
            self.add_optimizer_variables(
                variables, ["accumulated_grad", "accumulated_delta_var"]
            )
        )

    def _rms(self, values):
        return torch._foreach_sqrt(torch._foreach_add(values, self.epsilon))

    def _update(self, params, grads, lr, indices):
        rho = self.rho
        acc_grads = self._slots(self._accumulated_grads, indices)
        acc_deltas = self._slots(self._accumulated_delta_vars, indices)
        torch._foreach_mul_(acc_grads, rho)
        torch._foreach_addcmul_(acc_grads, grads, grads, value=1 - rho)
        deltas = torch._foreach_div(
            torch._foreach_mul(self._rms(acc_deltas), grads), self._rms(acc_grads)
        )
        torch._foreach_neg_(deltas)
        torch._foreach_mul_(acc_deltas, rho)
        torch._foreach_addcmul_(acc_deltas, deltas, deltas, value=1 - rho)
        torch._foreach_add_(params, deltas, alpha=lr)

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}

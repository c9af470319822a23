"""``Adamax`` and ``Nadam``: Adam variants (infinity norm; Nesterov momentum)."""

from __future__ import annotations

import torch

from lamina.optimizers.optimizer import Optimizer, _state_variable
from lamina.utils.validation import check_float


class _AdamFamily(Optimizer):
    def __init__(self, learning_rate, beta_1, beta_2, epsilon, name, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1 = check_float(self, "beta_1", beta_1, 0.0, 1.0, False)
        self.beta_2 = check_float(self, "beta_2", beta_2, 0.0, 1.0, False)
        self.epsilon = check_float(self, "epsilon", epsilon, 0.0)

    def get_config(self):
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
        }


class Adamax(_AdamFamily):
    """Adamax: Adam with the infinity norm. ``m = b1 * m + (1 - b1) * g``,
    ``u = max(b2 * u, |g|)``, ``w -= lr / (1 - b1**t) * m / (u + epsilon)``.

    Args:
        learning_rate: float or schedule (default 0.001).
        beta_1, beta_2: decay rates.
        epsilon: added to ``u``.
        **kwargs: the common arguments of ``Optimizer``.

    State: ``momentum`` and ``norm`` per weight (interleaved).
    """

    def __init__(
        self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, name=None,
        **kwargs,
    ):  # fmt: skip
        super().__init__(learning_rate, beta_1, beta_2, epsilon, name, **kwargs)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._m, self._u = self.add_optimizer_variables(variables, ["momentum", "norm"])

    def _update(self, params, grads, lr, indices):
        m, u = self._slots(self._m, indices), self._slots(self._u, indices)
        step = self._local_step() + 1
        torch._foreach_lerp_(m, grads, 1 - self.beta_1)
        torch._foreach_mul_(u, self.beta_2)
        torch._foreach_maximum_(u, torch._foreach_abs(grads))
        denominators = torch._foreach_add(u, self.epsilon)
        torch._foreach_mul_(denominators, 1 - self.beta_1**step)
        torch._foreach_sub_(
            params, torch._foreach_div(torch._foreach_mul(m, lr), denominators)
        )


class Nadam(_AdamFamily):
    """Nadam: Adam with Nesterov momentum and Keras's momentum schedule
    ``u_t = b1 * (1 - 0.5 * 0.96**t)`` (torch's NAdam with ``momentum_decay=1``).

    Args:
        learning_rate: float or schedule (default 0.001).
        beta_1, beta_2: decay rates.
        epsilon: added to ``sqrt(v_hat)``.
        **kwargs: the common arguments of ``Optimizer``.

    State: ``momentum`` and ``velocity`` per weight (interleaved), then the running
    product of ``u_t``.
    """

    def __init__(
        self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, name=None,
        **kwargs,
    ):  # fmt: skip
        super().__init__(learning_rate, beta_1, beta_2, epsilon, name, **kwargs)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._momentums, self._velocities = self.add_optimizer_variables(
            variables, ["momentum", "velocity"]
        )
        self._u_product = self._track(
            _state_variable(torch.tensor(1.0, dtype=torch.float32), "variable")
        )

    def _update(self, params, grads, lr, indices):
        b1, b2 = self.beta_1, self.beta_2
        step = self._local_step() + 1
        u_t = b1 * (1.0 - 0.5 * 0.96**step)
        u_next = b1 * (1.0 - 0.5 * 0.96 ** (step + 1))
        u_product = float(self._u_product) * u_t
        self._u_product.fill_(u_product)
        m = self._slots(self._momentums, indices)
        v = self._slots(self._velocities, indices)
        torch._foreach_lerp_(m, grads, 1 - b1)
        torch._foreach_mul_(v, b2)
        torch._foreach_addcmul_(v, grads, grads, value=1 - b2)
        m_hat = torch._foreach_mul(m, u_next / (1 - u_product * u_next))
        torch._foreach_add_(m_hat, grads, alpha=(1 - u_t) / (1 - u_product))
        denominators = torch._foreach_div(v, 1 - b2**step)
        torch._foreach_sqrt_(denominators)
        torch._foreach_add_(denominators, self.epsilon)
        torch._foreach_sub_(
            params, torch._foreach_div(torch._foreach_mul(m_hat, lr), denominators)
        )

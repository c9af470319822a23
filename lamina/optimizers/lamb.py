"""``Lamb``: Adam moments with a layer-wise trust ratio (You et al., 2019)."""

from __future__ import annotations

import torch

from lamina.optimizers.optimizer import Optimizer
from lamina.utils.validation import check_float


class Lamb(Optimizer):
    """LAMB: the Adam direction rescaled per weight tensor by ``||w|| / ||u||``.

    With ``m``, ``v`` the Adam moments at step ``t``::

        u = (m / (1 - b1**t)) / (sqrt(v / (1 - b2**t)) + epsilon)
        w -= lr * r * u,   r = ||w|| / ||u|| (1 when either norm is 0)

    The norms are one per weight tensor, computed together with
    ``torch._foreach_norm``.

    Args:
        learning_rate: float or schedule (default 0.001).
        beta_1, beta_2: decay rates of the first and second moments.
        epsilon: added to the bias-corrected ``sqrt(v)`` (default 1e-7).
        **kwargs: the common arguments of ``Optimizer``.

    State: ``momentum`` and ``velocity`` per weight (interleaved).

    Example:
    >>> import torch, lamina as keras
    >>> w = torch.nn.Parameter(torch.tensor([3.0, 4.0]))
    >>> keras.optimizers.Lamb(0.1).apply([torch.tensor([1.0, 1.0])], [w])
    >>> [round(x, 4) for x in w.tolist()]
    [2.6464, 3.6464]
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        name=None,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1 = check_float(self, "beta_1", beta_1, 0.0, 1.0, False)
        self.beta_2 = check_float(self, "beta_2", beta_2, 0.0, 1.0, False)
        self.epsilon = check_float(self, "epsilon", epsilon, 0.0)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._momentums, self._velocities = self.add_optimizer_variables(
            variables, ["momentum", "velocity"]
        )

    def _update(self, params, grads, lr, indices):
        step = self._local_step() + 1
        momentums = self._slots(self._momentums, indices)
        velocities = self._slots(self._velocities, indices)
        torch._foreach_lerp_(momentums, grads, 1 - self.beta_1)
        torch._foreach_lerp_(
            velocities, torch._foreach_mul(grads, grads), 1 - self.beta_2
        )
        denominators = torch._foreach_div(velocities, 1.0 - self.beta_2**step)
        torch._foreach_sqrt_(denominators)
        torch._foreach_add_(denominators, self.epsilon)
        updates = torch._foreach_div(momentums, 1.0 - self.beta_1**step)
        torch._foreach_div_(updates, denominators)
        ratios = _trust_ratios(
            torch._foreach_norm(params), torch._foreach_norm(updates)
        )
        torch._foreach_mul_(updates, ratios)
        torch._foreach_add_(params, updates, alpha=-lr)

    def get_config(self):
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
        }


def _trust_ratios(weight_norms, update_norms):
    """``||w|| / ||u||`` per tensor, 1 where either norm is 0 (one stacked op)."""
    w, u = torch.stack(weight_norms), torch.stack(update_norms)
    ratios = torch.where((w > 0) & (u > 0), w / torch.where(u > 0, u, 1.0), 1.0)
    return list(ratios.unbind())

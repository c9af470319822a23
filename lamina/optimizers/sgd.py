"""``SGD``: gradient descent with optional (Nesterov) momentum."""

from __future__ import annotations

import torch

from lamina.optimizers.optimizer import Optimizer
from lamina.utils.validation import check_float


class SGD(Optimizer):
    """Gradient descent with momentum, Keras's formulation.

    Without momentum ``w -= lr * g``. With momentum ``m = momentum * m - lr * g``
    then ``w += m``, or ``w += momentum * m - lr * g`` when ``nesterov``. (torch's
    SGD keeps ``m / lr`` instead, which differs once the learning rate changes.)

    Args:
        learning_rate: float or schedule (default 0.01).
        momentum: float in [0, 1] (default 0).
        nesterov: use Nesterov momentum.
        **kwargs: the common arguments of ``Optimizer`` (``weight_decay``,
            ``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``use_ema``, ...).

    State: ``momentum`` per weight (only when ``momentum > 0``).

    Example:
    >>> import torch, lamina as keras
    >>> w = torch.nn.Parameter(torch.tensor([1.0]))
    >>> keras.optimizers.SGD(0.1).apply([torch.tensor([2.0])], [w])
    >>> round(w.item(), 4)
    0.8
    """

    def __init__(
        self, learning_rate=0.01, momentum=0.0, nesterov=False, name=None, **kwargs
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.momentum = check_float(self, "momentum", momentum, 0.0, 1.0)
        self.nesterov = bool(nesterov)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.momentums = []
        if self.momentum != 0:
            self.momentums = self.add_optimizer_variables(variables, "momentum")

    def _update(self, params, grads, lr, indices):
        if not self.momentum:
            torch._foreach_add_(params, grads, alpha=-lr)
            return
        momentums = self._slots(self.momentums, indices)
        torch._foreach_mul_(momentums, self.momentum)
        torch._foreach_add_(momentums, grads, alpha=-lr)
        if self.nesterov:
            torch._foreach_add_(params, grads, alpha=-lr)
            torch._foreach_add_(params, momentums, alpha=self.momentum)
        else:
            torch._foreach_add_(params, momentums)

    def get_config(self):
        return {
            **super().get_config(),
            "momentum": self.momentum,
            "nesterov": self.nesterov,
        }

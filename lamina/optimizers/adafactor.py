"""``Adafactor``: Adam-like updates with factored second moments (Keras's variant;
torch's ``Adafactor`` uses a different formula)."""

from __future__ import annotations

import math

import torch

from lamina.optimizers.optimizer import Optimizer, _state_variable
from lamina.utils.validation import check_float


def _rms(x):
    return torch.sqrt(torch.mean(torch.square(x)))


class Adafactor(Optimizer):
    """Adafactor as in Keras 3: for weights of rank >= 2 the second moment is the
    outer product of row means ``r`` and column means ``c`` of ``g**2 + epsilon_1``
    (over the last two axes); the step is scaled by ``max(epsilon_2, rms(w))`` and
    clipped to an RMS of ``clip_threshold``; ``beta_2`` decays as
    ``1 - t**beta_2_decay``.

    Args:
        learning_rate: float or schedule (default 0.001); with ``relative_step``
            a float rate is capped at ``1 / sqrt(t)``.
        beta_2_decay, epsilon_1, epsilon_2, clip_threshold, relative_step: as in
            Keras.
        **kwargs: the common arguments of ``Optimizer``.

    State per weight: ``r``, ``c`` (scalar placeholders for weights of rank < 2)
    and ``velocity``.
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_2_decay=-0.8,
        epsilon_1=1e-30,
        epsilon_2=1e-3,
        clip_threshold=1.0,
        relative_step=True,
        name=None,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_2_decay = float(beta_2_decay)
        self.epsilon_1 = check_float(self, "epsilon_1", epsilon_1, 0.0)
        self.epsilon_2 = check_float(self, "epsilon_2", epsilon_2, 0.0)
        self.clip_threshold = check_float(self, "clip_threshold", clip_threshold, 0.0)
        self.relative_step = bool(relative_step)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._r, self._c, self._v = [], [], []
        for var in variables:
            name = getattr(var, "name", "variable")
            if var.ndim < 2:
                self._r.append(self._track(_state_variable(torch.tensor(0.0), name)))
                self._c.append(self._track(_state_variable(torch.tensor(0.0), name)))
            else:
                self._r.append(
                    self.add_variable(var.shape[:-1], dtype=var.dtype, name=name)
                )
                self._c.append(
                    self.add_variable(
                        (*var.shape[:-2], var.shape[-1]), dtype=var.dtype, name=name
                    )
                )
            self._v.append(self.add_variable_from_reference(var, "velocity"))

    def _update(self, params, grads, lr, indices):
        step = self._local_step() + 1
        if self.relative_step and not callable(self._learning_rate):
            lr = min(lr, 1 / math.sqrt(step))
        rho = min(lr, 1 / math.sqrt(step))
        beta = 1 - step**self.beta_2_decay
        for param, grad, i in zip(params, grads, indices):
            r, c, v = self._r[i], self._c[i], self._v[i]
            alpha = torch.clamp(_rms(param), min=self.epsilon_2) * rho
            square = torch.square(grad) + self.epsilon_1
            if param.ndim >= 2:
                r.copy_(beta * r + (1 - beta) * square.mean(dim=-1))
                c.copy_(beta * c + (1 - beta) * square.mean(dim=-2))
                v.copy_(
                    (r / r.mean(dim=-1, keepdim=True)).unsqueeze(-1) * c.unsqueeze(-2)
                )
            else:
                v.copy_(beta * v + (1 - beta) * square)
            update = grad / torch.sqrt(v)
            update = update / torch.clamp(_rms(update) / self.clip_threshold, min=1.0)
            param.sub_(alpha * update)

    def get_config(self):
        return {
            **super().get_config(),
            "beta_2_decay": self.beta_2_decay,
            "epsilon_1": self.epsilon_1,
            "epsilon_2": self.epsilon_2,
            "clip_threshold": self.clip_threshold,
            "relative_step": self.relative_step,
        }

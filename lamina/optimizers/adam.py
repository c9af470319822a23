"""``Adam`` and ``AdamW`` on torch's fused Adam kernel, with Keras's numbers."""

from __future__ import annotations

import math

import torch
from torch.autograd.graph import increment_version
from torch.optim.adam import adam as torch_adam
from torch.utils._foreach_utils import _get_fused_kernels_supported_devices

from lamina.optimizers.optimizer import Optimizer, in_memory_order
from lamina.utils.validation import check_float


class Adam(Optimizer):
    """Adam, Keras's formulation, computed by torch's fused (or foreach) kernel.

    ``m = b1 * m + (1 - b1) * g``, ``v = b2 * v + (1 - b2) * g**2``, and
    ``w -= lr * sqrt(1 - b2**t) / (1 - b1**t) * m / (sqrt(v) + epsilon)``.
    torch's Adam adds its epsilon to ``sqrt(v / (1 - b2**t))`` instead; calling
    its kernel with ``epsilon / sqrt(1 - b2**t)`` at step ``t`` gives exactly
    Keras's update, so the kernel is torch's and the numbers are Keras's.

    Args:
        learning_rate: float or schedule (default 0.001).
        beta_1, beta_2: decay rates of the first and second moments.
        epsilon: added to ``sqrt(v)`` (Keras's default 1e-7, not torch's 1e-8).
        amsgrad: use the maximum of past ``v`` (AMSGrad).
        **kwargs: the common arguments of ``Optimizer``.

    State: ``momentum`` and ``velocity`` per weight (interleaved), then
    ``velocity_hat`` per weight with ``amsgrad``.

    Example:
    >>> import torch, lamina as keras
    >>> w = torch.nn.Parameter(torch.tensor([1.0]))
    >>> keras.optimizers.Adam(0.1).apply([torch.tensor([2.0])], [w])
    >>> round(w.item(), 4)
    0.9
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        amsgrad=False,
        name=None,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1 = check_float(self, "beta_1", beta_1, 0.0, 1.0, False)
        self.beta_2 = check_float(self, "beta_2", beta_2, 0.0, 1.0, False)
        self.epsilon = check_float(self, "epsilon", epsilon, 0.0)
        self.amsgrad = bool(amsgrad)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._momentums, self._velocities = self.add_optimizer_variables(
            variables, ["momentum", "velocity"]
        )
        self._velocity_hats = []
        if self.amsgrad:
            self._velocity_hats = self.add_optimizer_variables(
                variables, "velocity_hat"
            )
        # torch's kernel reads a step count per tensor; they follow `iterations`
        # (re-synced when it was changed or loaded), so the Keras variables stay the
        # only state.
        self._steps = [
            torch.zeros((), dtype=torch.float32, device=v.device) for v in variables
        ]
        self._steps_at = 0
        fused_devices = _get_fused_kernels_supported_devices()
        devices = {(v.device, v.dtype) for v in variables}
        self._fused = len(devices) == 1 and all(
            device.type in fused_devices and dtype.is_floating_point
            for device, dtype in devices
        )

    def _update(self, params, grads, lr, indices):
        step = self._local_step() + 1
        steps = self._slots(self._steps, indices)
        if self._steps_at != step - 1 or len(steps) != len(self._steps):
            torch._foreach_zero_(steps)
            torch._foreach_add_(steps, float(step - 1))
        eps = self.epsilon / math.sqrt(1.0 - self.beta_2**step)
        momentums = self._slots(self._momentums, indices)
        velocities = self._slots(self._velocities, indices)
        maxima = self._slots(self._velocity_hats, indices) if self.amsgrad else []
        if self._fused:  # torch's fused kernel, called as torch.optim.Adam does
            torch._foreach_add_(steps, 1)
            dense = in_memory_order(params, grads, momentums, velocities, maxima)
            torch._fused_adam_(
                *dense, steps,
                amsgrad=self.amsgrad, lr=lr, beta1=self.beta_1, beta2=self.beta_2,
                weight_decay=0.0, eps=eps, maximize=False, grad_scale=None,
                found_inf=None,
            )  # fmt: skip
            # the fused kernel writes in place without bumping the tensors'
            # version counters; caches keyed on them must see the change
            increment_version(params)
        else:
            torch_adam(
                params, grads, momentums, velocities, maxima, steps,
                foreach=True, amsgrad=self.amsgrad, beta1=self.beta_1,
                beta2=self.beta_2, lr=lr, weight_decay=0.0, eps=eps, maximize=False,
            )  # fmt: skip
        self._steps_at = step

    def get_config(self):
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "amsgrad": self.amsgrad,
        }


class AdamW(Adam):
    """Adam with decoupled weight decay (default ``weight_decay=0.004``, Keras's):
    each step ``w -= w * weight_decay * lr`` before the Adam update.

    Args: as ``Adam``, plus ``weight_decay``.
    """

    def __init__(
        self,
        learning_rate=0.001,
        weight_decay=0.004,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        amsgrad=False,
        name=None,
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            amsgrad=amsgrad,
            name=name,
            weight_decay=weight_decay,
            **kwargs,
        )
        if self.weight_decay is None:
            raise ValueError(
                f"AdamW '{self.name}': `weight_decay` must be a number >= 0; "
                "got weight_decay=None (use Adam for no weight decay)."
            )

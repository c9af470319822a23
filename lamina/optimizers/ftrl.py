"""``Ftrl``: Follow The Regularized Leader (McMahan et al., 2013), Keras's variant."""

from __future__ import annotations

import torch

from lamina import initializers
from lamina.optimizers.optimizer import Optimizer
from lamina.utils.validation import check_float


class Ftrl(Optimizer):
    """FTRL-Proximal with online L1/L2 and shrinkage-type L2 regularization.

    Per weight ``w`` with accumulator ``n`` and linear term ``z``, at learning
    rate ``lr`` and power ``p = learning_rate_power``::

        g_s = g + 2 * l2_shrinkage_regularization_strength * w
        n_new = n + g**2
        z += g_s - (n_new**-p - n**-p) / lr * w
        q = n_new**-p / lr + 2 * (l2_regularization_strength + beta / (2 * lr))
        w = (clip(z, -l1, l1) - z) / q
        n = n_new

    so ``w`` is exactly 0 while ``|z| <= l1_regularization_strength``.

    Args:
        learning_rate: float or schedule (default 0.001).
        learning_rate_power: ``<= 0``; how the per-weight rate falls as
            gradients accumulate (0: a fixed rate).
        initial_accumulator_value: ``>= 0``, the starting ``n``.
        l1_regularization_strength: ``>= 0``.
        l2_regularization_strength: ``>= 0`` (the stabilizing L2 of the paper).
        l2_shrinkage_regularization_strength: ``>= 0`` (a magnitude penalty,
            as if ``l2 * w**2`` were added to the loss).
        beta: the ``beta`` of the paper (default 0).
        **kwargs: the common arguments of ``Optimizer``.

    State: ``accumulator`` and ``linear`` per weight (interleaved).

    Raises:
        ValueError: for a positive ``learning_rate_power`` or a negative
            accumulator value or regularization strength.

    Example:
    >>> import torch, lamina as keras
    >>> w = torch.nn.Parameter(torch.tensor([1.0]))
    >>> keras.optimizers.Ftrl(0.1).apply([torch.tensor([2.0])], [w])
    >>> round(w.item(), 4)
    0.7451
    """

    def __init__(
        self,
        learning_rate=0.001,
        learning_rate_power=-0.5,
        initial_accumulator_value=0.1,
        l1_regularization_strength=0.0,
        l2_regularization_strength=0.0,
        l2_shrinkage_regularization_strength=0.0,
        beta=0.0,
        name=None,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.learning_rate_power = check_float(
            self, "learning_rate_power", learning_rate_power, high=0.0
        )
        self.initial_accumulator_value = check_float(
            self, "initial_accumulator_value", initial_accumulator_value, 0.0
        )
        self.l1_regularization_strength = check_float(
            self, "l1_regularization_strength", l1_regularization_strength, 0.0
        )
        self.l2_regularization_strength = check_float(
            self, "l2_regularization_strength", l2_regularization_strength, 0.0
        )
        self.l2_shrinkage_regularization_strength = check_float(
            self,
            "l2_shrinkage_regularization_strength",
            l2_shrinkage_regularization_strength,
            0.0,
        )
        self.beta = float(beta)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        initial = initializers.Constant(self.initial_accumulator_value)
        self._accumulators, self._linears = self.add_optimizer_variables(
            variables, ["accumulator", "linear"], initializer=[initial, "zeros"]
        )

    def _update(self, params, grads, lr, indices):
        accumulators = self._slots(self._accumulators, indices)
        linears = self._slots(self._linears, indices)
        power = -self.learning_rate_power
        l2 = self.l2_regularization_strength + self.beta / (2.0 * lr)
        l1 = self.l1_regularization_strength
        shrinkage = self.l2_shrinkage_regularization_strength
        grads_used = grads
        if shrinkage:
            grads_used = torch._foreach_add(grads, params, alpha=2 * shrinkage)
        new_accumulators = torch._foreach_add(
            accumulators, torch._foreach_mul(grads, grads)
        )
        new_powers = torch._foreach_pow(new_accumulators, power)
        sigma = torch._foreach_sub(new_powers, torch._foreach_pow(accumulators, power))
        torch._foreach_div_(sigma, lr)
        torch._foreach_add_(linears, grads_used)
        torch._foreach_sub_(linears, torch._foreach_mul(sigma, params))
        quadratic = torch._foreach_div(new_powers, lr)
        torch._foreach_add_(quadratic, 2 * l2)
        clipped = torch._foreach_clamp_max(torch._foreach_clamp_min(linears, -l1), l1)
        torch._foreach_sub_(clipped, linears)
        torch._foreach_div_(clipped, quadratic)
        torch._foreach_copy_(params, clipped)
        torch._foreach_copy_(accumulators, new_accumulators)

    def get_config(self):
        return {
            **super().get_config(),
            "learning_rate_power": self.learning_rate_power,
            "initial_accumulator_value": self.initial_accumulator_value,
            "l1_regularization_strength": self.l1_regularization_strength,
            "l2_regularization_strength": self.l2_regularization_strength,
            "l2_shrinkage_regularization_strength": (
                self.l2_shrinkage_regularization_strength
            ),
            "beta": self.beta,
        }

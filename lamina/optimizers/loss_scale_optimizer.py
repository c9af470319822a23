"""``LossScaleOptimizer``: dynamic loss scaling for float16 mixed precision."""

from __future__ import annotations

import torch

from lamina.optimizers.optimizer import Optimizer, deserialize, get
from lamina.saving import serialization


class LossScaleOptimizer(Optimizer):
    """Wraps an optimizer to scale the loss up (so float16 gradients do not
    underflow) and the gradients back down.

    The loss is multiplied by ``dynamic_scale`` before backpropagation. When all
    unscaled gradients are finite the inner optimizer steps, and after
    ``dynamic_growth_steps`` such steps in a row the scale doubles; when any is
    inf/NaN the step is skipped and the scale halves. ``model.compile`` wraps the
    optimizer in one automatically under the ``mixed_float16`` policy.

    Args:
        inner_optimizer: the optimizer that applies the updates.
        initial_scale: starting scale (default ``2**15``).
        dynamic_growth_steps: finite steps before the scale doubles (2000).
        name: the optimizer's name.

    State: ``step_counter`` and ``dynamic_scale``, then the inner optimizer's.
    """

    def __init__(
        self, inner_optimizer, initial_scale=2.0**15, dynamic_growth_steps=2000,
        name=None, **kwargs,
    ):  # fmt: skip
        for key in list(kwargs):  # Keras accepts (and ignores) default base args
            if (
                key
                in (
                    "weight_decay",
                    "clipnorm",
                    "global_clipnorm",
                    "clipvalue",
                    "ema_overwrite_frequency",
                    "loss_scale_factor",
                    "gradient_accumulation_steps",
                )
                and kwargs[key] is None
            ):
                kwargs.pop(key)
            elif key in ("use_ema", "dynamic") and kwargs[key] in (False, True):
                kwargs.pop(key)
            elif key == "ema_momentum" and kwargs[key] == 0.99:
                kwargs.pop(key)
        if kwargs:
            raise ValueError(
                f"LossScaleOptimizer: unsupported argument(s) {sorted(kwargs)}; set "
                "them on the inner optimizer."
            )
        super().__init__(learning_rate=0.0, name=name)
        self.inner_optimizer = get(inner_optimizer)
        self.initial_scale = float(initial_scale)
        self.dynamic_growth_steps = int(dynamic_growth_steps)
        self.inner_optimizer.loss_scale_factor = None

    def build(self, variables):
        if self.built:
            return
        self.step_counter = self.add_variable((), dtype="int32", name="step_counter")
        self.dynamic_scale = self.add_variable(
            (), initializer="ones", dtype="float32", name="dynamic_scale"
        )
        self.dynamic_scale.fill_(self.initial_scale)
        self.inner_optimizer.build(variables)
        self._trainable_variables = list(variables)
        self.built = True

    @property
    def variables(self):
        return self._variables + self.inner_optimizer.variables

    @property
    def iterations(self):
        return self.inner_optimizer.iterations

    @property
    def learning_rate(self):
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        self.inner_optimizer.learning_rate = value

    def scale_loss(self, loss):
        scale = self.dynamic_scale if self.built else self.initial_scale
        return loss * scale

    @torch.no_grad()
    def apply(self, grads, trainable_variables=None):
        if not self.built:
            self.build(trainable_variables)
        present = [g for g in grads if g is not None]
        found_inf = torch.zeros((), device=present[0].device)
        inverse = (1.0 / self.dynamic_scale).to(present[0].device)
        unscaled = [None if g is None else g.clone() for g in grads]
        torch._amp_foreach_non_finite_check_and_unscale_(
            [g for g in unscaled if g is not None], found_inf, inverse
        )
        if bool(found_inf):
            self.step_counter.zero_()
            self.dynamic_scale.mul_(0.5)
            return
        self.inner_optimizer.apply(unscaled, trainable_variables)
        if int(self.step_counter) == self.dynamic_growth_steps - 1:
            self.step_counter.zero_()
            self.dynamic_scale.mul_(2.0)
        else:
            self.step_counter.add_(1)

    def finalize_variable_values(self, var_list):
        self.inner_optimizer.finalize_variable_values(var_list)

    def get_config(self):
        return {
            "name": self.name,
            "inner_optimizer": serialization.serialize_keras_object(
                self.inner_optimizer
            ),
            "initial_scale": self.initial_scale,
            "dynamic_growth_steps": self.dynamic_growth_steps,
        }

    @classmethod
    def from_config(cls, config_dict, custom_objects=None):
        config_dict = dict(config_dict)
        inner = deserialize(
            config_dict.pop("inner_optimizer"), custom_objects=custom_objects
        )
        return cls(inner, **config_dict)

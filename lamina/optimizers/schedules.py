"""Learning-rate schedules: ``schedule(step)`` gives the learning rate at an
optimizer step, computed in float32 like Keras 3.

>>> import lamina as keras
>>> decay = keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)
>>> round(float(decay(20)), 6)
0.025
"""

from __future__ import annotations

import math

import torch

from lamina.saving import serialization
from lamina.utils.validation import arg_error

_F32 = torch.float32


def _f32(x) -> torch.Tensor:
    return torch.as_tensor(x, dtype=_F32)


def _positive(owner, arg, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise arg_error(owner, arg, "a number > 0", value)


class LearningRateSchedule:
    """Base class: implement ``__call__(step)`` and ``get_config()``."""

    _keras_module = "keras.optimizers.schedules"

    def __call__(self, step):
        raise NotImplementedError(
            f"{type(self).__name__}: a schedule must implement __call__(step)."
        )

    def get_config(self):
        raise NotImplementedError(
            f"{type(self).__name__}: a schedule must implement get_config()."
        )

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class _StepDecay(LearningRateSchedule):
    """Shared by the schedules that decay with ``step / decay_steps`` (floored when
    ``staircase``): same arguments, same config."""

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        decay_rate,
        staircase=False,
        name=None,
    ):
        _positive(self, "decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name or type(self).__name__

    def _progress(self, step):
        p = _f32(step) / _f32(self.decay_steps)
        return torch.floor(p) if self.staircase else p

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class ExponentialDecay(_StepDecay):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)`` (the exponent
    floored when ``staircase``)."""

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        decay_rate,
        staircase=False,
        name="ExponentialDecay",
    ):
        super().__init__(
            initial_learning_rate, decay_steps, decay_rate, staircase, name
        )

    def __call__(self, step):
        p = self._progress(step)
        return _f32(self.initial_learning_rate) * torch.pow(_f32(self.decay_rate), p)


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[i]`` for ``boundaries[i-1] < step <= boundaries[i]``."""

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                f"{type(self).__name__}: `boundaries` must have one entry fewer than "
                f"`values`; got {len(boundaries)} boundaries and {len(values)} values."
            )
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step):
        step = float(step)
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return _f32(value)
        return _f32(self.values[-1])

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """Polynomial decay from ``initial_learning_rate`` to ``end_learning_rate`` over
    ``decay_steps`` (restarting with a longer period when ``cycle``)."""

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        end_learning_rate=0.0001,
        power=1.0,
        cycle=False,
        name="PolynomialDecay",
    ):
        _positive(self, "decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step):
        step = _f32(step)
        decay_steps = _f32(self.decay_steps)
        if self.cycle:
            multiplier = 1.0 if float(step) == 0 else torch.ceil(step / decay_steps)
            decay_steps = decay_steps * multiplier
        else:
            step = torch.minimum(step, decay_steps)
        p = step / decay_steps
        initial, end = _f32(self.initial_learning_rate), _f32(self.end_learning_rate)
        return (initial - end) * torch.pow(1 - p, _f32(self.power)) + end

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "cycle": self.cycle,
            "name": self.name,
        }


class InverseTimeDecay(_StepDecay):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``."""

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        decay_rate,
        staircase=False,
        name="InverseTimeDecay",
    ):
        super().__init__(
            initial_learning_rate, decay_steps, decay_rate, staircase, name
        )

    def __call__(self, step):
        p = self._progress(step)
        return _f32(self.initial_learning_rate) / (1 + _f32(self.decay_rate) * p)


def _cosine(fraction, alpha, scale=1.0):
    decayed = 0.5 * scale * (1.0 + torch.cos(_f32(math.pi) * fraction))
    return (1 - alpha) * decayed + alpha


class CosineDecay(LearningRateSchedule):
    """Cosine decay to ``alpha * initial`` over ``decay_steps``, after an optional
    linear warmup from ``initial_learning_rate`` to ``warmup_target``."""

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        alpha=0.0,
        name="CosineDecay",
        warmup_target=None,
        warmup_steps=0,
    ):
        _positive(self, "decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_target = warmup_target
        self.warmup_steps = warmup_steps

    def __call__(self, step):
        initial = _f32(self.initial_learning_rate)
        step, decay_steps = _f32(step), _f32(self.decay_steps)
        if self.warmup_target is None:
            step = torch.minimum(step, decay_steps)
            return initial * _cosine(step / decay_steps, self.alpha)
        target, warmup = _f32(self.warmup_target), _f32(self.warmup_steps)
        step = torch.minimum(step, decay_steps + warmup)
        if step < warmup:
            return (target - initial) * (step / warmup) + initial
        return target * _cosine((step - warmup) / decay_steps, self.alpha)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR): periods grow by ``t_mul`` and peaks
    shrink by ``m_mul`` at each restart."""

    def __init__(
        self,
        initial_learning_rate,
        first_decay_steps,
        t_mul=2.0,
        m_mul=1.0,
        alpha=0.0,
        name="SGDRDecay",
    ):
        _positive(self, "first_decay_steps", first_decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self._t_mul = t_mul
        self._m_mul = m_mul
        self.alpha = alpha
        self.name = name

    def __call__(self, step):
        fraction = _f32(step) / _f32(self.first_decay_steps)
        t_mul = _f32(self._t_mul)
        if self._t_mul == 1.0:
            restart = torch.floor(fraction)
            fraction = fraction - restart
        else:
            restart = torch.floor(
                torch.log(1.0 - fraction * (1.0 - t_mul)) / torch.log(t_mul)
            )
            done = (1.0 - torch.pow(t_mul, restart)) / (1.0 - t_mul)
            fraction = (fraction - done) / torch.pow(t_mul, restart)
        scale = torch.pow(_f32(self._m_mul), restart)
        return _f32(self.initial_learning_rate) * _cosine(fraction, self.alpha, scale)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "first_decay_steps": self.first_decay_steps,
            "t_mul": self._t_mul,
            "m_mul": self._m_mul,
            "alpha": self.alpha,
            "name": self.name,
        }


_SCHEDULES = {
    cls.__name__: cls
    for cls in (
        LearningRateSchedule,
        ExponentialDecay,
        PiecewiseConstantDecay,
        PolynomialDecay,
        InverseTimeDecay,
        CosineDecay,
        CosineDecayRestarts,
    )
}


def serialize(learning_rate_schedule):
    return serialization.serialize_keras_object(learning_rate_schedule)


def deserialize(config, custom_objects=None):
    return serialization.deserialize_keras_object(
        config,
        module_objects=_SCHEDULES,
        custom_objects=custom_objects,
        printable_module_name="learning rate schedule",
    )


__all__ = [*_SCHEDULES, "deserialize", "serialize"]

"""Optimizers and schedules vs Keras 3: five steps on the same gradients give the
same weights and the same optimizer variables (names, order, values); configs,
lookup by name, learning-rate setting, errors."""

from __future__ import annotations

import re

import keras
import numpy as np
import pytest
import torch

import lamina
from lamina import optimizers
from lamina.optimizers import schedules

RNG = np.random.default_rng(0)
SHAPES = [(4, 3), (3,), (2, 3, 5)]
INITIAL = [RNG.standard_normal(s).astype("float32") for s in SHAPES]
GRADS = [[RNG.standard_normal(s).astype("float32") for s in SHAPES] for _ in range(5)]

CASES = [
    ("SGD", {}),
    ("SGD", {"momentum": 0.9}),
    ("SGD", {"momentum": 0.9, "nesterov": True, "learning_rate": "schedule"}),
    ("Adam", {}),
    ("Adam", {"amsgrad": True, "learning_rate": "schedule"}),
    ("Adam", {"beta_1": 0.5, "epsilon": 1e-3}),
    ("AdamW", {}),
    ("AdamW", {"weight_decay": 0.1}),
    ("RMSprop", {}),
    ("RMSprop", {"momentum": 0.5, "centered": True}),
    ("Adagrad", {}),
    ("Adadelta", {"learning_rate": 1.0}),
    ("Adamax", {}),
    ("Nadam", {}),
    ("Lion", {}),
    ("Adafactor", {}),
    ("Adam", {"clipnorm": 0.5}),
    ("Adam", {"global_clipnorm": 0.5}),
    ("SGD", {"clipvalue": 0.1, "weight_decay": 0.2}),
    ("Adam", {"use_ema": True, "ema_overwrite_frequency": 2}),
    ("Adam", {"gradient_accumulation_steps": 2}),
    ("SGD", {"loss_scale_factor": 4.0}),
]


def _run(module, name, kwargs):
    kwargs = dict(kwargs)
    if kwargs.get("learning_rate") == "schedule":
        schedule_module = module.optimizers.schedules
        kwargs["learning_rate"] = schedule_module.ExponentialDecay(0.1, 2, 0.5)
    optimizer = getattr(module.optimizers, name)(**kwargs)
    if module is keras:
        variables = [
            keras.Variable(w.copy(), name=f"w{i}") for i, w in enumerate(INITIAL)
        ]
    else:
        variables = [lamina.Variable(torch.tensor(w.copy())) for w in INITIAL]
        for i, variable in enumerate(variables):
            variable.name = variable.path = f"w{i}"
    for grads in GRADS:
        optimizer.apply([torch.tensor(g) for g in grads], variables)
    weights = [keras.ops.convert_to_numpy(v) for v in variables]
    return weights, optimizer


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_optimizer_steps_match_keras(name, kwargs):
    want, theirs = _run(keras, name, kwargs)
    got, ours = _run(lamina, name, kwargs)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6)
    assert [_unnumbered(v.name) for v in ours.variables] == [
        _unnumbered(v.name) for v in theirs.variables
    ]
    for a, b in zip(ours.variables, theirs.variables):
        np.testing.assert_allclose(
            a.numpy().astype("float64"),
            keras.ops.convert_to_numpy(b).astype("float64"),
            rtol=2e-5,
            atol=2e-6,
        )
    our_config, their_config = ours.get_config(), theirs.get_config()
    our_config.pop("name"), their_config.pop("name")
    assert our_config == their_config


def test_names_configs_and_round_trips():
    for name in ("sgd", "rmsprop", "adam", "adamw", "adagrad", "adadelta", "adamax",
                 "nadam", "adafactor", "lion"):  # fmt: skip
        ours = optimizers.get(name)
        theirs = keras.optimizers.get(name)
        assert ours.get_config().keys() == theirs.get_config().keys()
        rebuilt = optimizers.deserialize(optimizers.serialize(ours))
        assert rebuilt.get_config() | {"name": None} == ours.get_config() | {
            "name": None
        }
    keras_config = keras.optimizers.serialize(keras.optimizers.Adam(learning_rate=0.01))
    assert optimizers.get(keras_config).get_config()["learning_rate"] == pytest.approx(
        0.01
    )
    assert optimizers.get("Adam").__class__ is optimizers.Adam
    assert optimizers.get("rmsprop").rho == 0.9 and optimizers.Adam().epsilon == 1e-7


def test_schedule_in_config_round_trips():
    schedule = schedules.CosineDecay(0.1, 100, warmup_target=0.2, warmup_steps=10)
    config = optimizers.serialize(optimizers.SGD(learning_rate=schedule))
    rebuilt = optimizers.deserialize(config)
    assert rebuilt.get_config()["learning_rate"]["config"] == schedule.get_config()
    keras_opt = keras.optimizers.deserialize(config)
    assert keras_opt.get_config()["learning_rate"]["class_name"] == "CosineDecay"


SCHEDULES = [
    ("ExponentialDecay", (0.1, 10, 0.5), {}),
    ("ExponentialDecay", (0.1, 10, 0.5), {"staircase": True}),
    ("PiecewiseConstantDecay", ([5, 20], [0.1, 0.05, 0.01]), {}),
    ("PolynomialDecay", (0.1, 30), {"power": 2.0}),
    ("PolynomialDecay", (0.1, 7), {"cycle": True}),
    ("InverseTimeDecay", (0.1, 10, 0.5), {"staircase": True}),
    ("CosineDecay", (0.1, 30), {"alpha": 0.1}),
    ("CosineDecay", (0.01, 30), {"warmup_target": 0.1, "warmup_steps": 5}),
    ("CosineDecayRestarts", (0.1, 8), {}),
    ("CosineDecayRestarts", (0.1, 8), {"t_mul": 1.0, "m_mul": 0.5}),
]


@pytest.mark.parametrize("name,args,kwargs", SCHEDULES, ids=[s[0] for s in SCHEDULES])
def test_schedules_match_keras(name, args, kwargs):
    ours = getattr(schedules, name)(*args, **kwargs)
    theirs = getattr(keras.optimizers.schedules, name)(*args, **kwargs)
    for step in (0, 1, 4, 5, 6, 9, 10, 21, 29, 30, 45):
        want = float(keras.ops.convert_to_numpy(theirs(step)))
        assert float(ours(step)) == pytest.approx(want, rel=1e-6, abs=1e-9), step
    assert ours.get_config() == theirs.get_config()


def test_learning_rate_is_settable_and_iterations_count():
    optimizer = optimizers.SGD(0.1)
    weight = torch.nn.Parameter(torch.ones(2))
    optimizer.apply([torch.ones(2)], [weight])
    optimizer.learning_rate = 0.5
    optimizer.apply([torch.ones(2)], [weight])
    np.testing.assert_allclose(weight.detach().numpy(), [0.4, 0.4], rtol=1e-6)
    assert int(optimizer.iterations) == 2
    scheduled = optimizers.SGD(schedules.ExponentialDecay(0.1, 1, 0.5))
    with pytest.raises(TypeError, match="LearningRateSchedule"):
        scheduled.learning_rate = 0.2


def test_constraints_apply_after_the_step():
    layer = lamina.layers.Dense(2, kernel_constraint="non_neg")
    layer.build((None, 3))
    optimizer = optimizers.SGD(10.0)
    optimizer.apply([torch.ones(3, 2), torch.zeros(2)], layer.trainable_weights)
    assert float(layer.kernel.min()) >= 0.0


def test_errors_name_the_argument():
    with pytest.raises(
        ValueError, match="Unknown optimizer: 'adamm'. Did you mean 'adam'"
    ):
        optimizers.get("adamm")
    with pytest.raises(ValueError, match="only one of `clipnorm`, `clipvalue` and"):
        optimizers.SGD(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(ValueError, match="`momentum` must be a number in"):
        optimizers.SGD(momentum=1.5)
    with pytest.raises(ValueError, match="`learning_rate` must be a float, a "):
        optimizers.Adam(learning_rate="fast")
    with pytest.raises(ValueError, match="unrecognized argument"):
        optimizers.Adam(bogus=1)
    with pytest.raises(ValueError, match="built for other variables"):
        optimizer = optimizers.Adam()
        optimizer.build([torch.nn.Parameter(torch.ones(1))])
        optimizer.apply([torch.ones(1)], [torch.nn.Parameter(torch.ones(1))])
    with pytest.warns(DeprecationWarning, match="`lr` argument is deprecated"):
        assert float(optimizers.SGD(lr=0.5).learning_rate) == 0.5


def test_loss_scale_optimizer_skips_non_finite_steps():
    optimizer = optimizers.LossScaleOptimizer(optimizers.SGD(1.0), initial_scale=4.0)
    weight = torch.nn.Parameter(torch.ones(2))
    optimizer.apply([torch.tensor([float("inf"), 0.0])], [weight])
    assert float(optimizer.dynamic_scale) == 2.0 and float(weight.sum()) == 2.0
    optimizer.apply([torch.tensor([2.0, 2.0])], [weight])  # unscaled: 1.0 each
    np.testing.assert_allclose(weight.detach().numpy(), [0.0, 0.0])
    assert int(optimizer.iterations) == 1
    config = optimizers.serialize(optimizer)
    assert keras.optimizers.deserialize(config).initial_scale == 4.0


@pytest.mark.parametrize("name", ["Adam", "AdamW", "SGD", "RMSprop"])
def test_updates_bump_version_counters(name):
    # layers may cache derived tensors keyed on the weights' versions (RNN kernels)
    weight = lamina.Variable(torch.ones(3))
    before = weight._version
    getattr(optimizers, name)().apply([torch.ones(3)], [weight])
    assert weight._version > before


def _unnumbered(name: str) -> str:
    """Keras auto-names some optimizer variables from a process-wide counter
    ('variable_1', 'variable_3', ... for Nadam's u_product), which depends on what
    ran before in the same pytest worker; compare names without that number."""
    return re.sub(r"^(variable)_\d+$", r"\1", name)

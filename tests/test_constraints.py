"""lamina.constraints against Keras 3 (torch backend): projections, configs, errors."""

import keras
import numpy as np
import pytest
import torch

from lamina import config, constraints

# (class name, kwargs, weight shape)
CASES = [
    ("Constraint", {}, (4, 5)),
    ("MaxNorm", {}, (4, 5)),
    ("MaxNorm", {"max_value": 1.5, "axis": 1}, (4, 5)),
    ("MaxNorm", {"max_value": 0.5, "axis": [0, 1, 2]}, (3, 3, 4, 2)),
    ("MinMaxNorm", {}, (4, 5)),
    ("MinMaxNorm", {"min_value": 1.0, "max_value": 2.0, "rate": 0.5}, (4, 5)),
    (
        "MinMaxNorm",
        {"min_value": 0.5, "max_value": 0.8, "axis": [0, 1, 2]},
        (3, 3, 4, 2),
    ),
    ("NonNeg", {}, (4, 5)),
    ("UnitNorm", {}, (4, 5)),
    ("UnitNorm", {"axis": 1}, (4, 5)),
    ("UnitNorm", {"axis": [0, 1, 2]}, (3, 3, 4, 2)),
]
IDS = [f"{n}-{k}-{s}" for n, k, s in CASES]


@pytest.mark.parametrize(("name", "kwargs", "shape"), CASES, ids=IDS)
def test_projection_matches_keras(name, kwargs, shape):
    weight = torch.randn(shape) * 2
    weight[..., 0] = 0.0  # zero vectors exercise the epsilon
    ours = getattr(constraints, name)(**kwargs)(weight)
    keras_constraint = getattr(keras.constraints, name)(**kwargs)
    theirs = keras.ops.convert_to_numpy(keras_constraint(weight))
    assert ours.shape == weight.shape and ours.dtype == weight.dtype
    np.testing.assert_allclose(ours.numpy(), theirs, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(("name", "kwargs", "shape"), CASES, ids=IDS)
def test_config_and_serialization_match_keras(name, kwargs, shape):
    ours = getattr(constraints, name)(**kwargs)
    theirs = getattr(keras.constraints, name)(**kwargs)
    assert ours.get_config() == theirs.get_config()
    assert constraints.serialize(ours) == keras.constraints.serialize(theirs)
    rebuilt = constraints.deserialize(keras.constraints.serialize(theirs))
    assert type(rebuilt) is type(ours) and rebuilt.get_config() == ours.get_config()
    back = keras.constraints.deserialize(constraints.serialize(ours))
    assert back.get_config() == theirs.get_config()


def test_norms_land_where_asked():
    weight = torch.randn(6, 8, dtype=torch.float64) * 3
    norms = constraints.MaxNorm(1.0)(weight).norm(dim=0)
    assert (norms <= 1.0).all()
    unit = constraints.UnitNorm(axis=1)(weight).norm(dim=1)
    np.testing.assert_allclose(unit.numpy(), 1.0, rtol=1e-6)
    bounded = constraints.MinMaxNorm(2.0, 3.0)(weight * 1e-2).norm(dim=0)
    np.testing.assert_allclose(bounded.numpy(), 2.0, rtol=1e-4)


def test_epsilon_follows_the_global_setting():
    old = config.epsilon()
    try:
        config.set_epsilon(0.5)
        out = constraints.UnitNorm()(torch.tensor([[3.0], [4.0]]))
        np.testing.assert_allclose(out.numpy(), [[3 / 5.5], [4 / 5.5]], rtol=1e-6)
    finally:
        config.set_epsilon(old)


def test_array_like_weights_are_accepted():
    out = constraints.NonNeg()(np.array([-1.0, 2.0]))
    assert isinstance(out, torch.Tensor) and out.tolist() == [0.0, 2.0]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("max_norm", "MaxNorm"),
        ("MaxNorm", "MaxNorm"),
        ("min_max_norm", "MinMaxNorm"),
        ("non_neg", "NonNeg"),
        ("NonNeg", "NonNeg"),
        ("unit_norm", "UnitNorm"),
        ("constraint", "Constraint"),
    ],
)
def test_get_by_name_matches_keras(name, expected):
    ours, theirs = constraints.get(name), keras.constraints.get(name)
    assert type(ours).__name__ == type(theirs).__name__ == expected
    assert ours.get_config() == theirs.get_config()


def test_get_accepts_none_classes_callables_and_dicts():
    assert constraints.get(None) is None
    assert isinstance(constraints.get(constraints.NonNeg), constraints.NonNeg)
    assert constraints.get(torch.abs) is torch.abs
    got = constraints.get(
        {"class_name": "MaxNorm", "config": {"max_value": 3, "axis": 1}}
    )
    assert got.get_config() == {"max_value": 3, "axis": 1}
    assert constraints.max_norm is constraints.MaxNorm
    assert constraints.unit_norm is constraints.UnitNorm


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: constraints.MaxNorm(-1),
            r"MaxNorm: `max_value` must be a number in \[0.0, inf\]; got max_value=-1\.",
        ),
        (
            lambda: constraints.MaxNorm("2"),
            r"MaxNorm: `max_value` must be a number in \[0.0, inf\]; got max_value='2'",
        ),
        (
            lambda: constraints.MaxNorm(axis="rows"),
            r"MaxNorm: `axis` must be an int or a list of ints; got axis='rows'",
        ),
        (lambda: constraints.MaxNorm(axis=[]), r"MaxNorm: `axis` must be an int"),
        (
            lambda: constraints.MinMaxNorm(min_value=2.0, max_value=1.0),
            r"MinMaxNorm: `max_value` must be a number in \[2.0, inf\]; "
            r"got max_value=1.0",
        ),
        (
            lambda: constraints.MinMaxNorm(rate=1.5),
            r"MinMaxNorm: `rate` must be a number in \[0.0, 1.0\]; got rate=1.5",
        ),
        (lambda: constraints.UnitNorm(axis=0.5), r"UnitNorm: `axis` must be an int"),
        (
            lambda: constraints.get("positive"),
            r"Unknown constraint: 'positive'.*Known names:.*max_norm",
        ),
        (lambda: constraints.get(1), r"constraints.get: `identifier` must be"),
    ],
)
def test_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()

"""lamina.regularizers against Keras 3 (torch backend): penalties, configs, errors."""

import keras
import numpy as np
import pytest
import torch

from lamina import regularizers

# (class name, kwargs, weight shape)
CASES = [
    ("L1", {}, (5, 7)),
    ("L1", {"l1": 0.3}, (3, 3, 4, 2)),
    ("L1", {"l1": None}, (6,)),
    ("L2", {}, (5, 7)),
    ("L2", {"l2": 0.2}, (3, 3, 4, 2)),
    ("L1L2", {}, (5, 7)),
    ("L1L2", {"l1": 0.1}, (5, 7)),
    ("L1L2", {"l2": 0.1}, (5, 7)),
    ("L1L2", {"l1": 0.1, "l2": 0.2}, (4, 6)),
    ("L1L2", {"l1": None, "l2": 3}, (4,)),
    ("OrthogonalRegularizer", {}, (5, 7)),
    ("OrthogonalRegularizer", {"factor": 0.5, "mode": "rows"}, (8, 3)),
    ("OrthogonalRegularizer", {"factor": 0.5, "mode": "columns"}, (8, 3)),
    ("OrthogonalRegularizer", {"factor": 0.0, "mode": "columns"}, (4, 4)),
]
IDS = [f"{n}-{k}-{s}" for n, k, s in CASES]


def assert_same_config(ours, theirs):
    """Equal configs, floats to float32 precision: Keras 3.15 keeps L1's `l1` and
    OrthogonalRegularizer's `factor` as float32 tensors, so 0.01 reads back as
    0.009999999776482582; lamina keeps the float it was given."""
    assert ours.keys() == theirs.keys()
    for key, value in theirs.items():
        if isinstance(value, float):
            assert ours[key] == pytest.approx(value, rel=1e-7), key
        else:
            assert ours[key] == value, key


@pytest.mark.parametrize(("name", "kwargs", "shape"), CASES, ids=IDS)
def test_penalty_matches_keras(name, kwargs, shape):
    weight = torch.randn(shape)
    if len(shape) == 2:
        weight[1] = 0.0  # a zero vector exercises the epsilon in normalization
    ours = getattr(regularizers, name)(**kwargs)(weight)
    keras_regularizer = getattr(keras.regularizers, name)(**kwargs)
    theirs = keras.ops.convert_to_numpy(keras_regularizer(weight))
    assert ours.shape == () and ours.dtype == torch.float32
    np.testing.assert_allclose(ours.numpy(), theirs, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(("name", "kwargs", "shape"), CASES, ids=IDS)
def test_config_and_serialization_match_keras(name, kwargs, shape):
    ours = getattr(regularizers, name)(**kwargs)
    theirs = getattr(keras.regularizers, name)(**kwargs)
    assert_same_config(ours.get_config(), theirs.get_config())
    ours_dict = regularizers.serialize(ours)
    theirs_dict = keras.regularizers.serialize(theirs)
    assert_same_config(ours_dict.pop("config"), theirs_dict.pop("config"))
    assert ours_dict == theirs_dict
    rebuilt = regularizers.deserialize(keras.regularizers.serialize(theirs))
    assert type(rebuilt) is type(ours)
    assert_same_config(rebuilt.get_config(), ours.get_config())
    back = keras.regularizers.deserialize(regularizers.serialize(ours))
    assert_same_config(back.get_config(), theirs.get_config())


def test_float64_weights_give_a_float64_penalty():
    weight = torch.randn(4, 5, dtype=torch.float64)
    penalty = regularizers.L1L2(0.1, 0.2)(weight)
    assert penalty.dtype == torch.float64
    expected = 0.1 * weight.abs().sum() + 0.2 * weight.square().sum()
    assert penalty.item() == pytest.approx(expected.item(), rel=1e-12)


def test_penalties_are_differentiable():
    weight = torch.randn(4, 5, requires_grad=True)
    for penalty in (regularizers.L1L2(0.1, 0.2), regularizers.OrthogonalRegularizer()):
        penalty(weight).backward()
    assert torch.isfinite(weight.grad).all()


def test_base_regularizer_adds_nothing():
    assert regularizers.Regularizer()(torch.ones(3)).item() == 0.0
    with pytest.raises(NotImplementedError, match="does not implement get_config"):
        regularizers.Regularizer().get_config()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("l1", "L1"),
        ("L1", "L1"),
        ("l2", "L2"),
        ("l1l2", "L1L2"),
        ("l1_l2", "L1L2"),
        ("L1L2", "L1L2"),
        ("orthogonal_regularizer", "OrthogonalRegularizer"),
        ("OrthogonalRegularizer", "OrthogonalRegularizer"),
    ],
)
def test_get_by_name(name, expected):
    # Keras's get() knows "l1l2" but not its public alias "l1_l2"; lamina takes both.
    ours = regularizers.get(name)
    assert type(ours).__name__ == expected
    theirs = getattr(keras.regularizers, expected)()
    assert_same_config(ours.get_config(), theirs.get_config())


def test_get_accepts_none_classes_callables_and_dicts():
    assert regularizers.get(None) is None
    assert isinstance(regularizers.get(regularizers.L2), regularizers.L2)

    def penalty(weight):
        return weight.sum()

    assert regularizers.get(penalty) is penalty
    got = regularizers.get({"class_name": "L1L2", "config": {"l1": 0.5, "l2": 0.0}})
    assert got.get_config() == {"l1": 0.5, "l2": 0.0}
    assert regularizers.l1_l2 is regularizers.L1L2
    assert regularizers.orthogonal_regularizer is regularizers.OrthogonalRegularizer


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: regularizers.L1(-0.1),
            r"L1: `l1` must be a finite number >= 0; got l1=-0.1\.",
        ),
        (lambda: regularizers.L2(float("inf")), r"L2: `l2` must be a finite number"),
        (lambda: regularizers.L1L2(l1="a"), r"L1L2: `l1` must be .*; got l1='a'"),
        (lambda: regularizers.L1L2(l2=float("nan")), r"L1L2: `l2` must be"),
        (
            lambda: regularizers.OrthogonalRegularizer(factor=-1),
            r"OrthogonalRegularizer: `factor` must be a finite number >= 0",
        ),
        (
            lambda: regularizers.OrthogonalRegularizer(mode="diagonal"),
            r"OrthogonalRegularizer: `mode` must be one of 'rows', 'columns'; "
            r"got mode='diagonal'",
        ),
        (
            lambda: regularizers.OrthogonalRegularizer()(torch.ones(2, 3, 4)),
            r"OrthogonalRegularizer: expected a 2-D weight, got shape \(2, 3, 4\)",
        ),
        (
            lambda: regularizers.get("l3"),
            r"Unknown regularizer: 'l3'.*Known names:.*l1",
        ),
        (lambda: regularizers.get(0.1), r"regularizers.get: `identifier` must be"),
    ],
)
def test_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()

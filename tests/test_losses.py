"""Losses vs Keras 3: every loss function and class on the same data, with each
reduction, sample weights, masks, from_logits and label smoothing; configs; lookup
by name; errors."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import torch

import lamina
from lamina import losses

RNG = np.random.default_rng(0)
PROBS = RNG.uniform(0.05, 0.95, (6, 4)).astype("float32")
PROBS_NORM = PROBS / PROBS.sum(-1, keepdims=True)
BINARY = RNG.integers(0, 2, (6, 4)).astype("float32")
ONE_HOT = np.eye(4, dtype="float32")[RNG.integers(0, 4, 6)]
LABELS = RNG.integers(0, 4, 6)
REAL = RNG.standard_normal((6, 4)).astype("float32")
REAL2 = RNG.standard_normal((6, 4)).astype("float32")
POSITIVE = RNG.uniform(0.1, 3, (6, 4)).astype("float32")
WEIGHTS = RNG.uniform(0, 1, 6).astype("float32")

# (name, kwargs, y_true, y_pred)
CASES = [
    ("MeanSquaredError", {}, REAL, REAL2),
    ("MeanAbsoluteError", {}, REAL, REAL2),
    ("MeanAbsolutePercentageError", {}, REAL, REAL2),
    ("MeanSquaredLogarithmicError", {}, POSITIVE, REAL2),
    ("CosineSimilarity", {}, REAL, REAL2),
    ("CosineSimilarity", {"axis": 0}, REAL, REAL2),
    ("Huber", {}, REAL, REAL2 * 3),
    ("Huber", {"delta": 0.5}, REAL, REAL2),
    ("LogCosh", {}, REAL, REAL2 * 5),
    ("Hinge", {}, BINARY, REAL),
    ("Hinge", {}, BINARY * 2 - 1, REAL),
    ("SquaredHinge", {}, BINARY, REAL),
    ("CategoricalHinge", {}, ONE_HOT, REAL),
    ("KLDivergence", {}, PROBS_NORM, PROBS),
    ("Poisson", {}, POSITIVE, PROBS),
    ("BinaryCrossentropy", {}, BINARY, PROBS),
    ("BinaryCrossentropy", {"from_logits": True}, BINARY, REAL),
    ("BinaryCrossentropy", {"label_smoothing": 0.2}, BINARY, PROBS),
    ("CategoricalCrossentropy", {}, ONE_HOT, PROBS),
    ("CategoricalCrossentropy", {"from_logits": True}, ONE_HOT, REAL),
    ("CategoricalCrossentropy", {"label_smoothing": 0.1}, ONE_HOT, PROBS),
    ("SparseCategoricalCrossentropy", {}, LABELS, PROBS),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, LABELS, REAL),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, LABELS[:, None], REAL),
    ("SparseCategoricalCrossentropy", {"ignore_class": 1}, LABELS, PROBS),
]
REDUCTIONS = ["sum_over_batch_size", "sum", "mean_with_sample_weight", None]


def _ids(cases):
    return [f"{name}-{kwargs}-{i}" for i, (name, kwargs, *_) in enumerate(cases)]


@pytest.mark.parametrize("name,kwargs,y_true,y_pred", CASES, ids=_ids(CASES))
def test_loss_class_matches_keras(name, kwargs, y_true, y_pred):
    weight_options = (None,) if kwargs.get("axis") == 0 else (None, WEIGHTS)
    for reduction, weights in [(r, w) for r in REDUCTIONS for w in weight_options]:
        ours = getattr(losses, name)(reduction=reduction, **kwargs)
        theirs = getattr(keras.losses, name)(reduction=reduction, **kwargs)
        got = ours(y_true, y_pred, sample_weight=weights)
        want = keras.ops.convert_to_numpy(theirs(y_true, y_pred, sample_weight=weights))
        np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-5, atol=1e-6)
    ours = getattr(losses, name)(**kwargs)
    theirs = getattr(keras.losses, name)(**kwargs)
    assert ours.get_config() == theirs.get_config()
    rebuilt = getattr(losses, name).from_config(
        json.loads(json.dumps(ours.get_config()))
    )
    assert rebuilt.get_config() == ours.get_config()


FUNCTIONS = [
    "mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error", "cosine_similarity", "huber", "log_cosh",
    "hinge", "squared_hinge", "categorical_hinge", "kl_divergence", "poisson",
    "binary_crossentropy", "categorical_crossentropy",
]  # fmt: skip


@pytest.mark.parametrize("name", FUNCTIONS)
def test_loss_function_matches_keras(name):
    y_true, y_pred = (PROBS_NORM, PROBS) if "divergence" in name else (BINARY, PROBS)
    got = getattr(losses, name)(y_true, y_pred).numpy()
    want = keras.ops.convert_to_numpy(getattr(keras.losses, name)(y_true, y_pred))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_sparse_crossentropy_function_and_gradient_match_keras():
    logits = torch.tensor(REAL, requires_grad=True)
    value = losses.sparse_categorical_crossentropy(LABELS, logits, from_logits=True)
    value.sum().backward()
    theirs = keras.Variable(REAL)
    with torch.enable_grad():
        k_value = keras.losses.sparse_categorical_crossentropy(
            LABELS, theirs.value, from_logits=True
        )
        k_value.sum().backward()
    np.testing.assert_allclose(value.detach().numpy(), k_value.detach().numpy(), 1e-5)
    np.testing.assert_allclose(logits.grad.numpy(), theirs.value.grad.numpy(), 1e-5)


def test_mask_on_predictions_is_honoured_like_keras():
    y_pred = torch.tensor(REAL2)
    y_pred._keras_mask = torch.tensor([True, True, False, True, False, True])
    k_pred = keras.ops.convert_to_tensor(REAL2)
    k_pred._keras_mask = keras.ops.convert_to_tensor(y_pred._keras_mask.numpy())
    for reduction in REDUCTIONS:
        got = losses.MeanSquaredError(reduction=reduction)(REAL, y_pred, WEIGHTS)
        want = keras.losses.MeanSquaredError(reduction=reduction)(REAL, k_pred, WEIGHTS)
        np.testing.assert_allclose(got.numpy(), keras.ops.convert_to_numpy(want), 1e-5)


def test_get_resolves_names_aliases_configs_and_objects():
    assert losses.get("mse") is losses.mean_squared_error
    assert losses.get("MAE") is losses.mean_absolute_error
    assert losses.get("kld") is losses.kl_divergence
    assert isinstance(losses.get("BinaryCrossentropy"), losses.BinaryCrossentropy)
    config = keras.losses.serialize(keras.losses.BinaryCrossentropy(from_logits=True))
    assert losses.get(config).get_config()["from_logits"] is True
    mine = losses.Huber()
    assert losses.get(mine) is mine
    assert losses.get(None) is None
    assert losses.deserialize(losses.serialize(losses.Poisson())).name == "poisson"


def test_errors_name_what_was_given():
    with pytest.raises(ValueError, match="Unknown loss: 'msee'. Did you mean 'mse'"):
        losses.get("msee")
    with pytest.raises(
        ValueError, match="`reduction` must be one of .*got reduction='avg'"
    ):
        losses.MeanSquaredError(reduction="avg")
    with pytest.raises(ValueError, match="`label_smoothing` must be a number in"):
        losses.CategoricalCrossentropy(label_smoothing=2)
    with pytest.raises(ValueError, match=r"labels in \[0, 4\]"):
        losses.sparse_categorical_crossentropy([0, 4], PROBS[:2])
    with pytest.raises(ValueError, match=r"y_true.shape=\(3,\)"):
        losses.sparse_categorical_crossentropy([0, 1, 2], PROBS[:2])
    with pytest.raises(ValueError, match="must have the same shape"):
        losses.categorical_crossentropy(ONE_HOT[:, :3], PROBS)


def test_loss_subclass_and_dtype():
    class Absolute(losses.Loss):
        def call(self, y_true, y_pred):
            return (y_true - y_pred).abs().mean(dim=-1)

    value = Absolute(dtype="float64")(REAL, REAL2)
    assert value.dtype == torch.float64
    np.testing.assert_allclose(value.numpy(), np.abs(REAL - REAL2).mean(), rtol=1e-6)
    assert lamina.losses.LossFunctionWrapper(losses.hinge).get_config()["fn"] == "hinge"

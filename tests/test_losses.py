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
EMBEDDINGS = REAL / np.linalg.norm(REAL, axis=1, keepdims=True)
SEG_TRUE = RNG.integers(0, 2, (6, 3, 3, 1)).astype("float32")
SEG_PRED = RNG.uniform(0, 1, (6, 3, 3, 1)).astype("float32")
CTC_TRUE = np.array(
    [[1, 2, 2, 0], [3, 1, 0, 0], [1, 0, 0, 0], [2, 3, 1, 3], [1, 1, 0, 0], [3, 0, 0, 0]]
)
CTC_LOGITS = RNG.standard_normal((6, 9, 4)).astype("float32")

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
    ("BinaryFocalCrossentropy", {}, BINARY, PROBS),
    ("BinaryFocalCrossentropy",
     {"apply_class_balancing": True, "alpha": 0.4, "gamma": 3.0}, BINARY, PROBS),
    ("BinaryFocalCrossentropy", {"from_logits": True, "label_smoothing": 0.1},
     BINARY, REAL),
    ("CategoricalFocalCrossentropy", {}, ONE_HOT, PROBS),
    ("CategoricalFocalCrossentropy", {"from_logits": True, "label_smoothing": 0.2,
     "alpha": [0.1, 0.2, 0.3, 0.4]}, ONE_HOT, REAL),
    ("CategoricalGeneralizedCrossEntropy", {}, LABELS, PROBS_NORM),
    ("CategoricalGeneralizedCrossEntropy", {"q": 0.8}, LABELS, PROBS),
    ("Dice", {}, SEG_TRUE, SEG_PRED),  # one value for the whole batch
    ("Dice", {"axis": [1, 2, 3]}, SEG_TRUE, SEG_PRED),
    ("Tversky", {"alpha": 0.7, "beta": 0.3, "axis": (1, 2)}, SEG_TRUE, SEG_PRED),
    ("Tversky", {}, BINARY, PROBS),
    ("Circle", {}, LABELS, EMBEDDINGS),  # masked: samples with no positive pair
    ("Circle", {"gamma": 10.0, "margin": 0.2, "remove_diagonal": False},
     LABELS, EMBEDDINGS),
    ("CTC", {}, CTC_TRUE, CTC_LOGITS),
]  # fmt: skip
REDUCTIONS = ["sum_over_batch_size", "sum", "mean_with_sample_weight", None, "mean"]


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
    as_json = json.loads(json.dumps(ours.get_config()))  # tuples come back as lists
    rebuilt = getattr(losses, name).from_config(as_json)
    assert json.loads(json.dumps(rebuilt.get_config())) == as_json


FUNCTIONS = [
    "mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error", "cosine_similarity", "huber", "log_cosh",
    "hinge", "squared_hinge", "categorical_hinge", "kl_divergence", "poisson",
    "binary_crossentropy", "categorical_crossentropy", "binary_focal_crossentropy",
    "categorical_focal_crossentropy", "dice", "tversky",
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


@pytest.mark.parametrize(
    "name,y_true,y_pred,kwargs",
    [
        ("circle", LABELS, EMBEDDINGS, {"ref_labels": LABELS[::-1].copy(),
                                        "ref_embeddings": EMBEDDINGS[::-1].copy()}),
        ("ctc", CTC_TRUE, CTC_LOGITS, {}),
        ("categorical_generalized_cross_entropy", LABELS, PROBS_NORM, {"q": 0.3}),
        ("dice", SEG_TRUE, SEG_PRED, {"axis": (1, 2)}),
    ],
)  # fmt: skip
def test_structured_loss_functions_match_keras(name, y_true, y_pred, kwargs):
    got = getattr(losses, name)(y_true, y_pred, **kwargs)
    # Keras's generalized crossentropy function needs a tensor y_pred
    want = getattr(keras.losses, name)(y_true, torch.tensor(y_pred), **kwargs)
    np.testing.assert_allclose(got.numpy(), keras.ops.convert_to_numpy(want), 1e-5)
    if name == "circle":
        np.testing.assert_array_equal(got._keras_mask.numpy(), want._keras_mask.numpy())


def test_ctc_gradient_matches_keras():
    ours = torch.tensor(CTC_LOGITS, requires_grad=True)
    losses.CTC()(CTC_TRUE, ours).backward()
    theirs = keras.Variable(CTC_LOGITS)
    with torch.enable_grad():
        keras.losses.CTC()(CTC_TRUE, theirs.value).backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.value.grad.numpy(), 1e-5, 1e-7)


def test_generalized_crossentropy_reads_column_labels_as_class_ids():
    # Keras 3 broadcasts (batch, 1) labels into a (batch, batch) result; the
    # documented meaning is class ids, checked against NumPy
    p = PROBS_NORM[np.arange(6), LABELS]
    want = (1 - p**0.5) / 0.5
    got = losses.categorical_generalized_cross_entropy(LABELS[:, None], PROBS_NORM, 0.5)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)
    gce = losses.CategoricalGeneralizedCrossEntropy(reduction=None)
    np.testing.assert_allclose(gce(LABELS[:, None], PROBS_NORM).numpy(), want, 1e-6)


def test_new_losses_by_name_and_errors():
    for name in ("BinaryFocalCrossentropy", "CategoricalFocalCrossentropy", "Dice",
                 "Tversky", "Circle", "CTC", "binary_focal_crossentropy",
                 "categorical_focal_crossentropy", "dice", "tversky", "circle", "ctc"):  # fmt: skip
        ours, theirs = losses.get(name), keras.losses.get(name)
        assert type(ours).__name__ == type(theirs).__name__
        assert getattr(ours, "__name__", None) == getattr(theirs, "__name__", None)
    # Keras 3.15 leaves it out of its name table; lamina finds it
    gce = losses.get("CategoricalGeneralizedCrossEntropy")
    assert isinstance(gce, losses.CategoricalGeneralizedCrossEntropy)
    assert losses.get("categorical_generalized_cross_entropy") is (
        losses.categorical_generalized_cross_entropy
    )
    with pytest.raises(ValueError, match=r"`q` must be a number in the open interval"):
        losses.CategoricalGeneralizedCrossEntropy(q=1.0)
    with pytest.raises(ValueError, match="`gamma` must be a number in"):
        losses.BinaryFocalCrossentropy(gamma=-1)
    with pytest.raises(
        ValueError, match=r"ctc: `y_true` must be .*y_true.shape=\(6,\)"
    ):
        losses.ctc(LABELS, CTC_LOGITS)
    with pytest.raises(ValueError, match=r"ctc: `y_pred` must be logits"):
        losses.ctc(CTC_TRUE, REAL)

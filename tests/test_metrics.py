"""Metrics vs Keras 3: each metric updated over two batches (with and without
sample weights), its result, config and reset; lookup by name; custom metrics."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from lamina import metrics

RNG = np.random.default_rng(1)
N, C = 12, 5
SCORES = RNG.uniform(0, 1, (N, 1)).astype("float32")
BINARY = RNG.integers(0, 2, (N, 1)).astype("float32")
PROBS = RNG.uniform(0, 1, (N, C)).astype("float32")
LABELS = RNG.integers(0, C, N)
ONE_HOT = np.eye(C, dtype="float32")[LABELS]
MULTI_LABEL = RNG.integers(0, 2, (N, 3)).astype("float32")
MULTI_SCORES = RNG.uniform(0, 1, (N, 3)).astype("float32")
REAL = RNG.standard_normal((N, 3)).astype("float32")
REAL2 = RNG.standard_normal((N, 3)).astype("float32")
WEIGHTS = RNG.uniform(0, 1, N).astype("float32")

CASES = [
    ("Accuracy", {}, LABELS, np.where(RNG.uniform(size=N) > 0.5, LABELS, 0)),
    ("BinaryAccuracy", {}, BINARY, SCORES),
    ("BinaryAccuracy", {"threshold": 0.7}, BINARY, SCORES),
    ("CategoricalAccuracy", {}, ONE_HOT, PROBS),
    ("SparseCategoricalAccuracy", {}, LABELS, PROBS),
    ("SparseCategoricalAccuracy", {}, LABELS[:, None], PROBS),
    ("TopKCategoricalAccuracy", {"k": 2}, ONE_HOT, PROBS),
    ("SparseTopKCategoricalAccuracy", {"k": 3}, LABELS, PROBS),
    ("MeanSquaredError", {}, REAL, REAL2),
    ("MeanAbsoluteError", {}, REAL, REAL2),
    ("RootMeanSquaredError", {}, REAL, REAL2),
    ("MeanAbsolutePercentageError", {}, REAL, REAL2),
    ("MeanSquaredLogarithmicError", {}, np.abs(REAL), np.abs(REAL2)),
    ("CosineSimilarity", {}, REAL, REAL2),
    ("LogCoshError", {}, REAL, REAL2),
    ("BinaryCrossentropy", {}, BINARY, SCORES),
    ("CategoricalCrossentropy", {"from_logits": True}, ONE_HOT, REAL2[:, :1] * PROBS),
    ("SparseCategoricalCrossentropy", {}, LABELS, PROBS),
    ("KLDivergence", {}, PROBS, PROBS[::-1]),
    ("Poisson", {}, np.abs(REAL), np.abs(REAL2)),
    ("Hinge", {}, BINARY, SCORES),
    ("SquaredHinge", {}, BINARY, SCORES),
    ("CategoricalHinge", {}, ONE_HOT, PROBS),
    ("Precision", {}, BINARY, SCORES),
    ("Precision", {"thresholds": [0.2, 0.6]}, BINARY, SCORES),
    ("Precision", {"top_k": 2}, MULTI_LABEL, MULTI_SCORES),
    ("Recall", {"class_id": 1}, MULTI_LABEL, MULTI_SCORES),
    ("Recall", {"thresholds": 0.3}, BINARY, SCORES),
    ("TruePositives", {}, BINARY, SCORES),
    ("FalsePositives", {"thresholds": [0.1, 0.5, 0.9]}, BINARY, SCORES),
    ("TrueNegatives", {}, BINARY, SCORES),
    ("FalseNegatives", {}, BINARY, SCORES),
    ("AUC", {}, BINARY, SCORES),
    ("AUC", {"curve": "PR"}, BINARY, SCORES),
    ("AUC", {"curve": "PR", "summation_method": "majoring"}, BINARY, SCORES),
    ("AUC", {"num_thresholds": 7, "summation_method": "minoring"}, BINARY, SCORES),
    ("AUC", {"thresholds": [0.25, 0.5, 0.75]}, BINARY, SCORES),
    ("AUC", {"multi_label": True}, MULTI_LABEL, MULTI_SCORES),
    ("AUC", {"from_logits": True}, BINARY, REAL[:, :1]),
]


def _ids(cases):
    return [f"{name}-{kwargs}-{i}" for i, (name, kwargs, *_) in enumerate(cases)]


def _run(metric, y_true, y_pred, weighted):
    half = len(y_true) // 2
    for part in (slice(0, half), slice(half, None)):
        weights = WEIGHTS[part] if weighted else None
        metric.update_state(y_true[part], y_pred[part], sample_weight=weights)
    return np.asarray(keras.ops.convert_to_numpy(metric.result()))


@pytest.mark.parametrize("name,kwargs,y_true,y_pred", CASES, ids=_ids(CASES))
def test_metric_matches_keras(name, kwargs, y_true, y_pred):
    for weighted in (False, True):
        ours = getattr(metrics, name)(**kwargs)
        theirs = getattr(keras.metrics, name)(**kwargs)
        got = _run(ours, y_true, y_pred, weighted)
        want = _run(theirs, y_true, y_pred, weighted)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
        assert [v.shape for v in ours.variables] == [
            tuple(v.shape) for v in theirs.variables
        ]
    ours.reset_state()
    assert all(float(v.abs().sum()) == 0 for v in ours.variables)
    assert ours.name == theirs.name
    assert json.loads(json.dumps(ours.get_config())) == theirs.get_config()
    rebuilt = getattr(metrics, name).from_config(ours.get_config())
    assert rebuilt.get_config() == ours.get_config()


def test_mean_and_sum_match_keras():
    for cls in ("Mean", "Sum"):
        ours, theirs = getattr(metrics, cls)(), getattr(keras.metrics, cls)()
        for values, weights in ((REAL, None), (REAL2[:, 0], WEIGHTS), (3.0, None)):
            ours.update_state(values, sample_weight=weights)
            theirs.update_state(values, sample_weight=weights)
        got = float(ours.result())
        np.testing.assert_allclose(got, float(theirs.result()), rtol=1e-6)


def test_mean_metric_wrapper_and_get():
    wrapper = metrics.MeanMetricWrapper(metrics.mean_squared_error, name="mse_fn")
    wrapper.update_state(REAL, REAL2)
    np.testing.assert_allclose(
        float(wrapper.result()), ((REAL - REAL2) ** 2).mean(), rtol=1e-6
    )
    assert wrapper.get_config()["fn"] == "mean_squared_error"
    assert isinstance(metrics.get("mae"), metrics.MeanAbsoluteError)
    assert isinstance(metrics.get("AUC"), metrics.AUC)
    assert isinstance(metrics.get("sparse_top_k_categorical_accuracy"),
                      metrics.SparseTopKCategoricalAccuracy)  # fmt: skip
    assert metrics.get(metrics.binary_accuracy) is metrics.binary_accuracy
    config = keras.metrics.serialize(keras.metrics.AUC(num_thresholds=11))
    assert metrics.get(config).num_thresholds == 11
    with pytest.raises(ValueError, match="Unknown metric: 'acuracy'. Did you mean"):
        metrics.get("acuracy")


def test_metric_errors_name_the_argument():
    with pytest.raises(ValueError, match="`curve` must be one of 'roc', 'pr'"):
        metrics.AUC(curve="DET")
    with pytest.raises(ValueError, match="`num_thresholds` must be an integer > 1"):
        metrics.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match=r"`thresholds` must be numbers in \[0, 1\]"):
        metrics.Precision(thresholds=[0.5, 1.5])


def test_custom_metric_subclass():
    class Count(metrics.Metric):
        def __init__(self, name="count"):
            super().__init__(name=name)
            self.n = self.add_variable((), "zeros", name="n")

        def update_state(self, values):
            self.n.assign_add(len(values))

        def result(self):
            return self.n.value

    count = Count()
    count.update_state([1, 2])
    count.update_state([3])
    assert float(count.result()) == 3.0
    assert [v.path for v in count.variables] == ["count/n"]
    count.reset_state()
    assert float(count.result()) == 0.0


def test_boolean_one_hot_targets_work_in_accuracy_metrics():
    import keras

    y_true = np.eye(3, dtype=bool)[[0, 2, 1, 1]]
    y_pred = np.random.default_rng(0).random((4, 3)).astype("float32")
    for name, kwargs in (
        ("categorical_accuracy", {}),
        ("top_k_categorical_accuracy", {"k": 2}),
    ):
        ours = getattr(metrics, name)(y_true, y_pred, **kwargs)
        theirs = getattr(keras.metrics, name)(y_true, y_pred, **kwargs)
        np.testing.assert_allclose(ours.numpy(), keras.ops.convert_to_numpy(theirs))

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
    ("F1Score", {}, MULTI_LABEL, MULTI_SCORES),
    ("F1Score", {"average": "micro", "threshold": 0.5}, MULTI_LABEL, MULTI_SCORES),
    ("F1Score", {"average": "macro"}, ONE_HOT, PROBS),
    ("FBetaScore", {"average": "weighted", "beta": 2.0, "threshold": 0.3},
     MULTI_LABEL, MULTI_SCORES),
    ("FBetaScore", {"beta": 0.5}, ONE_HOT, PROBS),
    ("IoU", {"num_classes": 5, "target_class_ids": [0, 2], "dtype": "float32"},
     LABELS, np.argmax(PROBS, -1)),
    ("IoU", {"num_classes": 5, "target_class_ids": [1, 4]}, LABELS,
     np.argmax(PROBS, -1)),  # int32 state: Keras truncates the float weights
    ("MeanIoU", {"num_classes": 5, "sparse_y_pred": False}, LABELS, PROBS),
    ("BinaryIoU", {"dtype": "float32"}, BINARY, SCORES),
    ("BinaryIoU", {"target_class_ids": [1], "threshold": 0.3}, BINARY, SCORES),
    ("OneHotIoU", {"num_classes": 5, "target_class_ids": [1, 3], "dtype": "float32"},
     ONE_HOT, PROBS),
    ("OneHotMeanIoU", {"num_classes": 5, "dtype": "float32"}, ONE_HOT, PROBS),
    ("R2Score", {}, REAL, REAL + 0.5 * REAL2),
    ("R2Score", {"class_aggregation": "variance_weighted_average"}, REAL, REAL2),
    ("R2Score", {"class_aggregation": None, "num_regressors": 2}, REAL, REAL + REAL2),
    ("PearsonCorrelation", {}, REAL, REAL + REAL2),
    ("ConcordanceCorrelation", {}, REAL, REAL + REAL2),
    ("SensitivityAtSpecificity", {"specificity": 0.6}, BINARY, SCORES),
    ("SpecificityAtSensitivity", {"sensitivity": 0.4, "num_thresholds": 7},
     BINARY, SCORES),
    ("PrecisionAtRecall", {"recall": 0.5}, MULTI_LABEL, MULTI_SCORES),
    ("RecallAtPrecision", {"precision": 0.5, "class_id": 2}, ONE_HOT, PROBS),
    ("RecallAtPrecision", {"precision": 0.3, "num_thresholds": 1}, BINARY, SCORES),
]  # fmt: skip


def _ids(cases):
    return [f"{name}-{kwargs}-{i}" for i, (name, kwargs, *_) in enumerate(cases)]


def _run(metric, y_true, y_pred, weighted):
    half = len(y_true) // 2
    for part in (slice(0, half), slice(half, None)):
        weights = WEIGHTS[part] if weighted else None
        metric.update_state(y_true[part], y_pred[part], sample_weight=weights)
    return np.asarray(keras.ops.convert_to_numpy(metric.result()))


@pytest.mark.parametrize("name,kwargs,y_true,y_pred", CASES, ids=_ids(CASES))
@pytest.mark.filterwarnings("ignore:.*float sample weights are truncated")
@pytest.mark.filterwarnings("ignore:You are passing weight as `float`")
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


SEG_TRUE = RNG.integers(0, 3, (N, 4, 4))
SEG_PRED = RNG.integers(0, 3, (N, 4, 4))
PIXEL_WEIGHTS = RNG.uniform(0, 1, (N, 4, 4)).astype("float32")


@pytest.mark.parametrize(
    "name,kwargs",
    [("MeanIoU", {"num_classes": 3, "dtype": "float32"}),
     ("IoU", {"num_classes": 3, "target_class_ids": [1, 2], "ignore_class": 0,
              "dtype": "float32"})],
)  # fmt: skip
def test_iou_on_segmentation_maps(name, kwargs):
    ours, theirs = (
        getattr(metrics, name)(**kwargs),
        getattr(keras.metrics, name)(**kwargs),
    )
    for part in (slice(0, 5), slice(5, None)):
        ours.update_state(SEG_TRUE[part], SEG_PRED[part], PIXEL_WEIGHTS[part])
        theirs.update_state(SEG_TRUE[part], SEG_PRED[part], PIXEL_WEIGHTS[part])
    want = keras.ops.convert_to_numpy(theirs.result())
    np.testing.assert_allclose(ours.result().numpy(), want, rtol=1e-6)
    np.testing.assert_allclose(ours.total_cm.numpy(),
                               keras.ops.convert_to_numpy(theirs.total_cm), 1e-6)  # fmt: skip
    # one weight per image covers its pixels (Keras 3 cannot broadcast that)
    per_image = getattr(metrics, name)(**kwargs)
    per_image.update_state(SEG_TRUE, SEG_PRED, WEIGHTS)
    expanded = getattr(metrics, name)(**kwargs)
    expanded.update_state(
        SEG_TRUE, SEG_PRED, np.broadcast_to(WEIGHTS[:, None, None], SEG_TRUE.shape)
    )
    np.testing.assert_allclose(per_image.total_cm.numpy(), expanded.total_cm.numpy())


def test_new_metric_functions_match_keras():
    for name in ("pearson_correlation", "concordance_correlation", "huber", "log_cosh",
                 "binary_focal_crossentropy", "categorical_focal_crossentropy"):  # fmt: skip
        y_true, y_pred = (ONE_HOT, PROBS) if "focal" in name else (REAL, REAL + REAL2)
        got = getattr(metrics, name)(y_true, y_pred)
        want = keras.ops.convert_to_numpy(getattr(keras.metrics, name)(y_true, y_pred))
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-6)
    got = metrics.concordance_correlation(REAL, REAL2, axis=0)
    want = keras.metrics.concordance_correlation(REAL, REAL2, axis=0)
    np.testing.assert_allclose(got.numpy(), keras.ops.convert_to_numpy(want), 1e-5)


def test_new_metrics_by_name_and_errors():
    for name in ("F1Score", "f1_score", "mean_io_u", "r2_score", "PearsonCorrelation",
                 "precision_at_recall", "one_hot_mean_io_u"):  # fmt: skip
        from keras.src.metrics import ALL_OBJECTS_DICT

        theirs = ALL_OBJECTS_DICT[name]
        assert metrics.registry.lookup("metrics", name).__name__ == theirs.__name__
    with pytest.raises(ValueError, match="`average` must be one of None, 'micro'"):
        metrics.F1Score(average="samples")
    with pytest.raises(ValueError, match="`beta` must be a Python float > 0"):
        metrics.FBetaScore(beta=2)
    with pytest.raises(
        ValueError, match=r"`threshold` must be None or a float in \(0, 1\]"
    ):
        metrics.F1Score(threshold=1.5)
    with pytest.raises(ValueError, match=r"expected 2-D inputs .*y_true.shape=\(12,\)"):
        metrics.F1Score().update_state(LABELS, PROBS[:, 0])
    with pytest.raises(
        ValueError, match=r"`target_class_ids` must be a non-empty list"
    ):
        metrics.IoU(num_classes=3, target_class_ids=[3])
    with pytest.raises(
        ValueError, match=r"`specificity` must be a number in \[0.0, 1.0\]"
    ):
        metrics.SensitivityAtSpecificity(1.5)
    with pytest.raises(ValueError, match="`class_aggregation` must be one of None"):
        metrics.R2Score(class_aggregation="median")
    with pytest.warns(UserWarning, match="float sample weights are truncated"):
        metrics.MeanIoU(2).update_state([0, 1], [0, 1], sample_weight=[0.5, 1.0])

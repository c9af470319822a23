"""``MonitorCallback``: shared logic of callbacks that watch one metric."""

from __future__ import annotations

import operator
import warnings

from lamina.callbacks.callback import Callback

# Metrics Keras knows to maximize; anything else named "...loss" or an error
# metric is minimized.
_HIGHER_IS_BETTER = ("acc", "accuracy", "auc", "precision", "recall", "_at_")


class MonitorCallback(Callback):
    """Tracks the best value of ``monitor`` (``mode`` ``"min"``, ``"max"`` or
    ``"auto"``: from the metric) and whether a new value improves on it by more
    than ``min_delta``."""

    def __init__(self, monitor="val_loss", mode="auto", baseline=None, min_delta=0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn(
                f"{type(self).__name__} mode '{mode}' is unknown, fallback to auto mode.",
                stacklevel=3,
            )
            mode = "auto"
        self.monitor = monitor
        self.mode = mode
        self.best = baseline
        self.min_delta = abs(min_delta)
        self.monitor_op = None

    def _set_monitor_op(self):
        if self.mode == "min":
            self.monitor_op = operator.lt
        elif self.mode == "max":
            self.monitor_op = operator.gt
        else:
            self.monitor_op = _auto_op(self.monitor, self.model)
        if self.monitor_op is operator.lt:
            self.min_delta = -abs(self.min_delta)

    def _is_improvement(self, value, reference) -> bool:
        if reference is None:
            return True
        return self.monitor_op(value - self.min_delta, reference)


def _auto_op(monitor, model):
    name = monitor.removeprefix("val_")
    if name == "loss" or name.endswith("_loss"):
        return operator.lt
    metrics = []
    for metric in getattr(model, "metrics", []) or []:
        metrics += getattr(metric, "metrics", [metric])
    for metric in metrics:
        if metric.name == name or name.endswith(f"_{metric.name}"):
            direction = getattr(metric, "_direction", None)
            if direction is not None:
                return operator.gt if direction == "up" else operator.lt
    if any(token in name for token in _HIGHER_IS_BETTER):
        return operator.gt
    if "error" in name or name in ("mse", "mae", "mape", "msle"):
        return operator.lt
    raise ValueError(
        f"Cannot tell whether monitor={monitor!r} should be maximized or minimized; "
        "pass mode='max' or mode='min'."
    )

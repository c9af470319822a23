"""Logs: what steps return and callbacks receive (``MetricLogs``)."""

from __future__ import annotations

from collections.abc import Mapping

from lamina.trainers.compile_utils import CompileMetrics


class MetricLogs(Mapping):
    """The model's current metric values as a read-only mapping, computed on first
    read: the logs of a step that no callback looks at cost nothing."""

    __slots__ = ("_model", "_values")

    def __init__(self, model):
        self._model = model
        self._values = None

    def _resolve(self) -> dict:
        if self._values is None:
            self._values = self._model.get_metrics_result()
        return self._values

    def __getitem__(self, key):
        return self._resolve()[key]

    def __iter__(self):
        return iter(self._resolve())

    def __len__(self):
        return len(self._resolve())


def ordered_results(model, logs):
    """What ``evaluate`` and the on-batch methods return without
    ``return_dict``: one value, or the values in ``metrics_names`` order (a
    compiled-metrics entry expanded into its metrics) then the other keys."""
    names = []
    for metric in model.metrics:
        if isinstance(metric, CompileMetrics):
            names += [m.name for m in metric.metrics]
        else:
            names.append(metric.name)
    results = [logs[name] for name in names if name in logs]
    results += [logs[key] for key in sorted(logs) if key not in names]
    return results[0] if len(results) == 1 else results

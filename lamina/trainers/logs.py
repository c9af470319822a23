"""Logs: what steps return and callbacks receive (``MetricLogs``)."""

from __future__ import annotations

from collections.abc import Mapping


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

"""Logs: what steps return and callbacks receive."""

from __future__ import annotations

from collections.abc import Mapping

import torch


def pythonify_logs(logs) -> dict:
    """Logs with Python floats for scalar tensors, keys sorted (as Keras does)."""
    result = {}
    for key, value in sorted((logs or {}).items()):
        if isinstance(value, dict):
            result.update(pythonify_logs(value))
            continue
        if isinstance(value, torch.Tensor) and value.numel() == 1:
            value = value.item()
        elif isinstance(value, torch.Tensor):
            value = value.detach().cpu().numpy()
        elif hasattr(value, "item") and getattr(value, "size", 0) == 1:
            value = value.item()
        result[key] = value
    return result


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

"""Small helpers on Python values (Keras's ``keras.src.utils.python_utils``)."""

from __future__ import annotations

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

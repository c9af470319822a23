"""Reading the CIFAR batches (Python pickles) safely."""

from __future__ import annotations

from lamina.datasets.safe_pickle import load_pickle


def load_batch(fpath, label_key="labels"):
    """``(data, labels)`` of one CIFAR batch file: ``(n, 3, 32, 32)`` uint8 and a
    list of ints. Read with ``RestrictedUnpickler`` (dicts, bytes, lists and
    NumPy arrays only)."""
    content = load_pickle(fpath, encoding="bytes")
    if not isinstance(content, dict):
        raise ValueError(
            f"lamina.datasets.cifar: {fpath} must hold a dict (a CIFAR batch); got a "
            f"{type(content).__name__}."
        )
    batch = {
        k.decode("utf8") if isinstance(k, bytes) else k: v for k, v in content.items()
    }
    data = batch["data"]
    return data.reshape(data.shape[0], 3, 32, 32), batch[label_key]

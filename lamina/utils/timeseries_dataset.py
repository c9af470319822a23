"""``timeseries_dataset_from_array``: sliding windows over a timeseries."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from lamina.utils import dataset_utils
from lamina.utils.validation import arg_error, check_choice


class WindowDataset(Dataset):
    """Window ``i``: ``data[start + p + k * sampling_rate]`` for ``k`` in
    ``range(sequence_length)``, with ``targets[start + p]``, where ``p`` is the
    ``i``-th start position."""

    def __init__(self, data, targets, positions, offsets, start_index):
        self.data = torch.as_tensor(np.asarray(data))
        self.targets = None if targets is None else torch.as_tensor(np.asarray(targets))
        self.positions = torch.as_tensor(positions, dtype=torch.int64) + start_index
        self.offsets = torch.as_tensor(offsets, dtype=torch.int64)

    def __len__(self):
        return len(self.positions)

    def __getitem__(self, index):
        position = self.positions[index]
        window = self.data[position + self.offsets]
        if self.targets is None:
            return window
        return window, self.targets[position]


def _check_bounds(
    owner, n, sequence_length, sequence_stride, sampling_rate, start, end
):
    checks = (
        ("sequence_length", sequence_length, 1, None),
        ("sequence_stride", sequence_stride, 1, n),
        ("sampling_rate", sampling_rate, 1, n),
        ("start_index", start, 0, n),
        ("end_index", end, max(1, (start or 0) + 1), n),
    )
    for arg, value, low, high in checks:
        if value is None and arg in ("start_index", "end_index"):
            continue
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise arg_error(owner, arg, "an integer", value)
        if value < low or (high is not None and value >= high):
            bound = f" and < {high} (the data's length)" if high is not None else ""
            raise arg_error(owner, arg, f"an integer >= {low}{bound}", value)


def timeseries_dataset_from_array(
    data, targets, sequence_length, sequence_stride=1, sampling_rate=1,
    batch_size=128, shuffle=False, seed=None, start_index=None, end_index=None,
    format="torch", num_workers=0,
):  # fmt: skip
    """A dataset of sliding windows over a timeseries (and their targets).

    Window ``i`` starts at ``start_index + i * sequence_stride`` and holds
    ``sequence_length`` steps taken every ``sampling_rate`` steps; its target is
    ``targets[start]`` (the target of the window's first step, Keras's rule:
    shift ``targets`` to predict the future).

    Args:
        data: the timeseries, steps on the first axis (NumPy array, tensor or
            list).
        targets: one target per step, or ``None`` (windows only).
        sequence_length: steps per window.
        sequence_stride: steps between the starts of consecutive windows.
        sampling_rate: steps between the steps of a window.
        batch_size: windows per batch; ``None`` yields single windows.
        shuffle: shuffle the windows (a new order each epoch).
        seed: the shuffling seed.
        start_index: the first step used (inclusive).
        end_index: the last step used (exclusive).
        format: ``"torch"`` (Keras's ``"tf"``/``"grain"`` give the same).
        num_workers: lamina's addition: ``DataLoader`` worker processes.

    Returns:
        A ``BatchLoader`` yielding ``(windows, targets)`` (windows only without
        targets): ``windows`` of shape ``(batch, sequence_length, ...)`` in the
        data's dtype.

    Example:
    >>> import numpy as np, lamina as keras
    >>> ds = keras.utils.timeseries_dataset_from_array(
    ...     np.arange(10), np.arange(10), sequence_length=3, batch_size=4)
    >>> x, y = next(iter(ds))
    >>> x.tolist(), y.tolist()
    ([[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5]], [0, 1, 2, 3])
    """
    owner = "timeseries_dataset_from_array"
    check_choice(owner, "format", format, ("torch", "tf", "grain"))
    n = len(data)
    _check_bounds(owner, n, sequence_length, sequence_stride, sampling_rate,
                  start_index, end_index)  # fmt: skip
    dataset_utils.check_num_workers(owner, num_workers)
    start = start_index or 0
    end = n if end_index is None else end_index
    num_seqs = end - start - (sequence_length - 1) * sampling_rate
    if targets is not None:
        num_seqs = min(num_seqs, len(targets))
    positions = np.arange(0, max(num_seqs, 0), sequence_stride)
    seed = np.random.randint(1e6) if seed is None else seed
    if shuffle:
        np.random.RandomState(seed).shuffle(positions)
    offsets = np.arange(sequence_length) * sampling_rate
    windows = WindowDataset(data, targets, positions, offsets, start)
    return dataset_utils.BatchLoader(windows, batch_size, shuffle=shuffle, seed=seed,
                                     num_workers=num_workers)  # fmt: skip

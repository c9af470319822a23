"""California housing prices (``keras.datasets.california_housing``)."""

from __future__ import annotations

import numpy as np

from lamina.datasets.safe_pickle import check_test_split, shuffled_split
from lamina.utils.file_utils import get_file
from lamina.utils.validation import check_choice

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FILE_HASH = "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f"


def load_data(version="large", path="california_housing.npz", test_split=0.2, seed=113):
    """The California housing data: 20,640 samples (``"large"``) or the first
    600 (``"small"``) of 8 features; targets the median house value in $.

    Args:
        version: ``"large"`` or ``"small"``.
        path: the file name in the cache.
        test_split: the fraction kept for testing, in [0, 1).
        seed: the seed of the shuffle before the split.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``.
    """
    owner = "california_housing.load_data"
    check_test_split(owner, test_split)
    check_choice(owner, "version", version, ("large", "small"))
    path = get_file(path, origin=f"{ORIGIN}california_housing.npz", file_hash=FILE_HASH)
    with np.load(path, allow_pickle=False) as f:
        x, y = f["x"], f["y"]
    if version == "small":
        x, y = x[:600], y[:600]
    return shuffled_split(x, y, test_split, seed, owner)

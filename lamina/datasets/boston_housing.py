"""Boston housing prices (``keras.datasets.boston_housing``)."""

from __future__ import annotations

import numpy as np

from lamina.datasets.safe_pickle import check_test_split, shuffled_split
from lamina.utils.file_utils import get_file

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FILE_HASH = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"


def load_data(path="boston_housing.npz", test_split=0.2, seed=113):
    """The Boston housing data: 506 samples of 13 features, targets the median
    home value in k$.

    Args:
        path: the file name in the cache.
        test_split: the fraction kept for testing, in [0, 1).
        seed: the seed of the shuffle before the split (NumPy ``RandomState``).

    Returns:
        ``(x_train, y_train), (x_test, y_test)`` (float64).
    """
    check_test_split("boston_housing.load_data", test_split)
    path = get_file(path, origin=f"{ORIGIN}boston_housing.npz", file_hash=FILE_HASH)
    with np.load(path, allow_pickle=False) as f:
        x, y = f["x"], f["y"]
    return shuffled_split(x, y, test_split, seed, "boston_housing.load_data")

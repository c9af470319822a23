"""The 8x8 handwritten digits (UCI, via scikit-learn), shipped with lamina.

1797 grayscale images of the digits 0-9, 8x8 pixels with values 0..16; see
``data/DIGITS_LICENSE.txt`` for the source and licences.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from lamina.utils.validation import arg_error

DATA_FILE = Path(__file__).with_name("data") / "digits.csv.gz"
NUM_SAMPLES = 1797


def load_data(test_split=0.2, seed=113):
    """Load the digits, shuffled with ``seed`` and split Keras-style.

    Args:
        test_split: fraction of the samples held out as the test set.
        seed: seed of the shuffle before the split (same seed, same split).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: ``x`` uint8 arrays of shape
        ``(n, 8, 8)`` with values 0..16, ``y`` uint8 arrays of shape ``(n,)``
        with the digits 0..9 (1437 training and 360 test samples by default).

    Raises:
        ValueError: for a ``test_split`` outside [0, 1).

    Example:
    >>> import lamina as keras
    >>> (x_train, y_train), (x_test, y_test) = keras.datasets.digits.load_data()
    >>> x_train.shape, x_test.shape, int(x_train.max())
    ((1437, 8, 8), (360, 8, 8), 16)
    """
    if not 0.0 <= float(test_split) < 1.0:
        raise arg_error(
            "digits.load_data", "test_split", "a number in [0, 1)", test_split
        )
    with gzip.open(DATA_FILE, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.uint8)
    images, labels = table[:, :64].reshape(-1, 8, 8), table[:, 64]
    order = np.random.RandomState(seed).permutation(len(labels))
    images, labels = images[order], labels[order]
    split = int(len(labels) * (1 - test_split))
    return (images[:split], labels[:split]), (images[split:], labels[split:])

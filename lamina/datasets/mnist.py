"""MNIST handwritten digits (``keras.datasets.mnist``)."""

from __future__ import annotations

import numpy as np

from lamina.utils.file_utils import get_file

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FILE_HASH = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


def load_data(path="mnist.npz"):
    """The MNIST digits: 60,000 training and 10,000 test 28x28 uint8 images with
    uint8 labels 0-9.

    Args:
        path: the file name in the cache (``~/.keras/datasets``, Keras's file).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: ``(n, 28, 28)`` and ``(n,)``
        uint8 arrays.
    """
    path = get_file(fname=path, origin=f"{ORIGIN}mnist.npz", file_hash=FILE_HASH)
    with np.load(path, allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])

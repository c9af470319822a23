"""CIFAR-10 small images (``keras.datasets.cifar10``)."""

from __future__ import annotations

import os

import numpy as np

from lamina import config
from lamina.datasets.cifar import load_batch
from lamina.utils.file_utils import get_file

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
FILE_HASH = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"


def load_data():
    """CIFAR-10: 50,000 training and 10,000 test 32x32 colour images in 10
    classes.

    The archive is Keras's (``~/.keras/datasets/cifar-10-batches-py-target_archive``,
    extracted next to it); its pickled batches are read with a restricted
    unpickler (NumPy arrays and plain data only), so a tampered file cannot run
    code.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 images ``(n, 32, 32, 3)``
        (``(n, 3, 32, 32)`` with ``channels_first``) and uint8 labels ``(n, 1)``.
    """
    path = get_file(fname="cifar-10-batches-py-target", origin=ORIGIN, extract=True,
                    file_hash=FILE_HASH)  # fmt: skip
    path = os.path.join(path, "cifar-10-batches-py")
    parts = [load_batch(os.path.join(path, f"data_batch_{i}")) for i in range(1, 6)]
    x_train = np.concatenate([x for x, _ in parts]).astype("uint8")
    y_train = np.concatenate([np.asarray(y) for _, y in parts]).astype("uint8")
    x_test, y_test = load_batch(os.path.join(path, "test_batch"))
    x_test, y_test = np.asarray(x_test, "uint8"), np.asarray(y_test, "uint8")
    y_train, y_test = y_train.reshape(-1, 1), y_test.reshape(-1, 1)
    if config.image_data_format() == "channels_last":
        x_train, x_test = x_train.transpose(0, 2, 3, 1), x_test.transpose(0, 2, 3, 1)
    return (x_train, y_train), (x_test, y_test)

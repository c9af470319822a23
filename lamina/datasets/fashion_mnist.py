"""Fashion-MNIST clothing images (``keras.datasets.fashion_mnist``)."""

from __future__ import annotations

import gzip
import os

import numpy as np

from lamina.utils.file_utils import get_file

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FILES = (
    "train-labels-idx1-ubyte.gz",
    "train-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
)


def _read(path, offset):
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def load_data():
    """Fashion-MNIST: 60,000 training and 10,000 test 28x28 uint8 grayscale
    images of 10 kinds of clothing, with uint8 labels 0-9.

    The four IDX files live in ``~/.keras/datasets/fashion-mnist/`` (Keras's
    cache folder and names).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``.
    """
    folder = os.path.join("datasets", "fashion-mnist")
    paths = [
        get_file(name, origin=ORIGIN + name, cache_subdir=folder) for name in FILES
    ]
    y_train, y_test = _read(paths[0], 8), _read(paths[2], 8)
    x_train = _read(paths[1], 16).reshape(len(y_train), 28, 28)
    x_test = _read(paths[3], 16).reshape(len(y_test), 28, 28)
    return (x_train, y_train), (x_test, y_test)

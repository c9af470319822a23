"""CIFAR-100 small images (``keras.datasets.cifar100``)."""

from __future__ import annotations

import os

import numpy as np

from lamina import config
from lamina.datasets.cifar import load_batch
from lamina.utils.file_utils import get_file
from lamina.utils.validation import check_choice

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
FILE_HASH = "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7"


def load_data(label_mode="fine"):
    """CIFAR-100: 50,000 training and 10,000 test 32x32 colour images, with 100
    fine or 20 coarse classes.

    Args:
        label_mode: ``"fine"`` (100 classes) or ``"coarse"`` (20 superclasses).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 images ``(n, 32, 32, 3)``
        (channels first with ``channels_first``) and int64 labels ``(n, 1)``.
        Read safely, as ``cifar10.load_data`` is.
    """
    check_choice("cifar100.load_data", "label_mode", label_mode, ("fine", "coarse"))
    path = get_file(fname="cifar-100-python-target", origin=ORIGIN, extract=True,
                    file_hash=FILE_HASH)  # fmt: skip
    path = os.path.join(path, "cifar-100-python")
    key = f"{label_mode}_labels"
    x_train, y_train = load_batch(os.path.join(path, "train"), label_key=key)
    x_test, y_test = load_batch(os.path.join(path, "test"), label_key=key)
    y_train = np.reshape(y_train, (len(y_train), 1))
    y_test = np.reshape(y_test, (len(y_test), 1))
    if config.image_data_format() == "channels_last":
        x_train, x_test = x_train.transpose(0, 2, 3, 1), x_test.transpose(0, 2, 3, 1)
    return (x_train, y_train), (x_test, y_test)

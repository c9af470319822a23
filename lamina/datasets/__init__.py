"""``keras.datasets``: the classic datasets, read from Keras's cache
(``~/.keras/datasets`` or ``$KERAS_HOME/datasets``: same file names, formats and
hashes, so a machine that ran Keras once needs no download), plus ``digits``, a
small set shipped inside lamina."""

from lamina.datasets import (
    boston_housing,
    california_housing,
    cifar10,
    cifar100,
    digits,
    fashion_mnist,
    imdb,
    mnist,
    reuters,
)

__all__ = [
    "boston_housing",
    "california_housing",
    "cifar10",
    "cifar100",
    "digits",
    "fashion_mnist",
    "imdb",
    "mnist",
    "reuters",
]

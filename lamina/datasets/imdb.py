"""IMDB movie-review sentiment (``keras.datasets.imdb``)."""

from __future__ import annotations

import json

import numpy as np

from lamina.datasets.safe_pickle import load_npz
from lamina.datasets.sequences import (
    as_object_array,
    limit_vocabulary,
    remove_long_seq,
    shift_indices,
)
from lamina.utils.file_utils import get_file

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FILE_HASH = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
WORD_INDEX_HASH = "bfafd718b763782e994055a2d397834f"


def load_data(
    path="imdb.npz", num_words=None, skip_top=0, maxlen=None, seed=113, start_char=1,
    oov_char=2, index_from=3, **kwargs,
):  # fmt: skip
    """The IMDB reviews: 25,000 training and 25,000 test reviews as lists of word
    indices (by frequency rank), with labels 1 (positive) or 0.

    Args:
        path: the file name in the cache (Keras's ``imdb.npz``).
        num_words: keep the ``num_words`` most frequent words; others become
            ``oov_char``.
        skip_top: the most frequent words to treat as unknown too.
        maxlen: drop the reviews of ``maxlen`` words or more.
        seed: the seed of the shuffles (NumPy ``RandomState``; the training set
            is shuffled first, then the test set).
        start_char: the index opening every review (None: none).
        oov_char: the index of unknown words (None: they are dropped).
        index_from: added to every word index (0, 1, 2 are padding, start, oov).
        **kwargs: accepted for Keras compatibility (Keras 2's ``nb_words``...).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: object arrays of lists of ints
        and int64 label arrays. The ``.npz`` is read with a restricted unpickler
        (NumPy arrays only).

    Raises:
        ValueError: when ``maxlen`` filters out every review.
    """
    path = get_file(fname=path, origin=f"{ORIGIN}imdb.npz", file_hash=FILE_HASH)
    f = load_npz(path)
    rng = np.random.RandomState(seed)
    parts = []
    for x_key, y_key in (("x_train", "y_train"), ("x_test", "y_test")):
        indices = np.arange(len(f[x_key]))
        rng.shuffle(indices)
        parts.append((f[x_key][indices], f[y_key][indices]))
    (x_train, y_train), (x_test, y_test) = parts
    x_train = shift_indices(x_train, start_char, index_from)
    x_test = shift_indices(x_test, start_char, index_from)
    if maxlen:
        x_train, y_train = remove_long_seq(maxlen, x_train, y_train)
        x_test, y_test = remove_long_seq(maxlen, x_test, y_test)
        if not x_train or not x_test:
            raise ValueError(
                f"imdb.load_data: `maxlen` must keep some reviews; got maxlen={maxlen!r}, "
                "which filters out every training or test review."
            )
    xs = limit_vocabulary(x_train + x_test, num_words, skip_top, oov_char)
    labels = np.concatenate([y_train, y_test])
    idx = len(x_train)
    return (as_object_array(xs[:idx]), labels[:idx]), (
        as_object_array(xs[idx:]),
        labels[idx:],
    )


def get_word_index(path="imdb_word_index.json"):
    """The word -> index dict of the IMDB data (indices before the
    ``index_from`` shift)."""
    path = get_file(fname=path, origin=f"{ORIGIN}imdb_word_index.json",
                    file_hash=WORD_INDEX_HASH)  # fmt: skip
    with open(path) as f:
        return json.load(f)

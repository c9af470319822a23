"""Reuters newswire topics (``keras.datasets.reuters``)."""

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
FILE_HASH = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"
WORD_INDEX_HASH = "4d44cc38712099c9e383dc6e5f11a921"
LABEL_NAMES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing",
    "money-supply", "coffee", "sugar", "trade", "reserves", "ship", "cotton",
    "carcass", "crude", "nat-gas", "cpi", "money-fx", "interest", "gnp",
    "meal-feed", "alum", "oilseed", "gold", "tin", "strategic-metal", "livestock",
    "retail", "ipi", "iron-steel", "rubber", "heat", "jobs", "lei", "bop", "zinc",
    "orange", "pet-chem", "dlr", "gas", "silver", "wpi", "hog", "lead",
)  # fmt: skip


def load_data(
    path="reuters.npz", num_words=None, skip_top=0, maxlen=None, test_split=0.2,
    seed=113, start_char=1, oov_char=2, index_from=3,
):  # fmt: skip
    """The Reuters newswires: 11,228 texts as lists of word indices, labelled
    with one of 46 topics (``get_label_names()``).

    Args:
        path: the file name in the cache (Keras's ``reuters.npz``).
        num_words: keep the ``num_words`` most frequent words.
        skip_top: the most frequent words to treat as unknown too.
        maxlen: drop the texts of ``maxlen`` words or more.
        test_split: the fraction kept for testing.
        seed: the seed of the shuffle before the split.
        start_char: the index opening every text (None: none).
        oov_char: the index of unknown words (None: they are dropped).
        index_from: added to every word index.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: object arrays of lists of ints
        and int64 labels; read with a restricted unpickler.
    """
    path = get_file(fname=path, origin=f"{ORIGIN}reuters.npz", file_hash=FILE_HASH)
    f = load_npz(path)
    indices = np.arange(len(f["x"]))
    np.random.RandomState(seed).shuffle(indices)
    xs, labels = f["x"][indices], f["y"][indices]
    xs = shift_indices(xs, start_char, index_from)
    if maxlen:
        xs, labels = remove_long_seq(maxlen, xs, labels)
    xs = limit_vocabulary(xs, num_words, skip_top, oov_char)
    idx = int(len(xs) * (1 - test_split))
    return (
        (as_object_array(xs[:idx]), np.array(labels[:idx])),
        (as_object_array(xs[idx:]), np.array(labels[idx:])),
    )


def get_word_index(path="reuters_word_index.json"):
    """The word -> index dict of the Reuters data."""
    path = get_file(path, origin=f"{ORIGIN}reuters_word_index.json",
                    file_hash=WORD_INDEX_HASH)  # fmt: skip
    with open(path) as f:
        return json.load(f)


def get_label_names():
    """The 46 topic names, in label order."""
    return LABEL_NAMES

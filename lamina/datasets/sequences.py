"""The word-index sequence handling shared by IMDB and Reuters (Keras's rules)."""

from __future__ import annotations

import numpy as np


def remove_long_seq(maxlen, seqs, labels):
    """Only the sequences shorter than ``maxlen`` (and their labels)."""
    kept = [(x, y) for x, y in zip(seqs, labels) if len(x) < maxlen]
    return [x for x, _ in kept], [y for _, y in kept]


def shift_indices(seqs, start_char, index_from):
    """Every word index moved up by ``index_from``, each sequence opened with
    ``start_char`` when it is not None."""
    if start_char is not None:
        return [[start_char] + [w + index_from for w in x] for x in seqs]
    if index_from:
        return [[w + index_from for w in x] for x in seqs]
    return [list(x) for x in seqs]


def limit_vocabulary(seqs, num_words, skip_top, oov_char):
    """Words outside ``[skip_top, num_words)`` become ``oov_char`` (or are
    dropped when it is None); ``num_words=None`` keeps every word."""
    if not num_words:
        num_words = max(max(x) for x in seqs)
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x] for x in seqs]
    return [[w for w in x if skip_top <= w < num_words] for x in seqs]


def as_object_array(seqs):
    """Lists of ints as a 1-D object array (also when all have one length)."""
    array = np.empty(len(seqs), dtype=object)
    array[:] = seqs
    return array

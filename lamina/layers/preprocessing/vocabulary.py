"""Vocabulary helpers of the lookup layers: reading a vocabulary (a list, an
array or a text file), ranking adapted tokens, and TF-IDF weights, as Keras's
``IndexLookup`` does them."""

from __future__ import annotations

import collections
import os

import numpy as np

from lamina import config
from lamina.utils.validation import describe

# A vocabulary file is text; refuse absurd ones before reading them whole.
MAX_VOCABULARY_FILE_BYTES = 1 << 30


def read_file(owner, path: str, as_int: bool) -> list:
    """The tokens of a vocabulary file, one per line (trailing empty lines
    dropped). Inside a safe-mode load a path outside the archive is refused, as
    Keras refuses it."""
    if (
        config.scoped_safe_mode() is True
        and not config.is_unsafe_deserialization_enabled()
    ):
        raise ValueError(
            f"{describe(owner)}: the config names a vocabulary file outside the model "
            f"archive ('{path}'); safe mode refuses reading it. If you trust the file, "
            "load with `safe_mode=False` or call "
            "`lamina.config.enable_unsafe_deserialization()`."
        )
    if not os.path.isfile(path):
        raise ValueError(f"{describe(owner)}: vocabulary file '{path}' does not exist.")
    if os.path.getsize(path) > MAX_VOCABULARY_FILE_BYTES:
        raise ValueError(
            f"{describe(owner)}: vocabulary file '{path}' is larger than "
            f"{MAX_VOCABULARY_FILE_BYTES} bytes; refused."
        )
    return read_lines(path, as_int)


def read_lines(path: str, as_int: bool) -> list:
    """A vocabulary file's lines (trailing empty lines dropped), as ints or str."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    while lines and lines[-1] == "":
        lines.pop()
    return [int(line) for line in lines] if as_int else lines


def repeated(tokens) -> list:
    counts = collections.Counter(tokens)
    return [token for token, count in counts.items() if count > 1]


def ranked(counts: collections.Counter, limit: int | None) -> list:
    """Tokens by decreasing count, ties by decreasing token (Keras's lexsort of
    TensorFlow's exported table), at most ``limit``."""
    order = sorted(counts.items(), key=lambda item: (item[1], item[0]), reverse=True)
    if limit is not None:
        order = order[: max(limit, 0)]
    return [token for token, _ in order]


def inverse_document_frequency(document_counts, num_documents: int) -> np.ndarray:
    counts = np.asarray(document_counts, dtype=np.float64)
    return np.log(1 + num_documents / (1 + counts))


def padded_idf(weights, front: int, front_value, back: int) -> np.ndarray:
    """IDF weights with ``front`` special-token slots and ``back`` zeros."""
    weights = np.asarray(weights, dtype=np.float64)
    return np.pad(
        weights, (front, max(back, 0)), constant_values=(front_value, 0)
    ).astype(config.floatx())


def document_frequencies(rows) -> collections.Counter:
    """In how many rows (documents) each token occurs."""
    counts: collections.Counter = collections.Counter()
    for row in rows:
        counts.update(set(row))
    return counts

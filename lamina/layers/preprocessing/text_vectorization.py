"""TextVectorization: strings to token indices (or multi-hot, counts, TF-IDF).

The pipeline is Keras's (on TensorFlow): standardize, split, n-grams, then a
``StringLookup`` with ``mask_token=""``. The built-in steps follow TensorFlow's
string ops exactly: ``"lower"`` lowercases ASCII letters only
(``tf.strings.lower``), punctuation is the ASCII set Keras's regex removes,
``"whitespace"`` splits on ASCII whitespace only (``tf.strings.split``), and
n-grams list every width in the order given (``tf.strings.ngrams``). Each runs
as one C-level ``str.translate``/regex call per string.

Keras returns ragged tensors on TensorFlow only; here ``"int"`` outputs are padded
with 0 to ``output_sequence_length`` (or to the longest row), as Keras does when
``ragged=False``.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import re
import string
from typing import NamedTuple

import numpy as np
import torch

from lamina.layers.docs import fill_docs
from lamina.layers.preprocessing.base import (
    SPARSE_NOTE,
    PreprocessingLayer,
    batches,
    to_numpy,
)
from lamina.layers.preprocessing.index_lookup import (
    OUTPUT_MODES,
    SEPARATOR_ID,
    count_separated_tokens,
)
from lamina.layers.preprocessing.string_lookup import StringLookup
from lamina.saving import serialization
from lamina.utils.validation import arg_error, check_int, describe

# What Keras's regex ``[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']`` removes.
PUNCTUATION = "".join(c for c in string.punctuation)
_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_STRIP = str.maketrans("", "", PUNCTUATION)
_LOWER_AND_STRIP = str.maketrans(
    string.ascii_uppercase, string.ascii_lowercase, PUNCTUATION
)
_TABLES = {
    "lower": _LOWER,
    "strip_punctuation": _STRIP,
    "lower_and_strip_punctuation": _LOWER_AND_STRIP,
}
# The same on UTF-8 bytes (ASCII bytes never occur inside a multi-byte character).
_ASCII_LOWER = bytes.maketrans(
    string.ascii_uppercase.encode(), string.ascii_lowercase.encode()
)
_BYTE_TABLES = {
    "lower": (_ASCII_LOWER, b""),
    "strip_punctuation": (None, PUNCTUATION.encode()),
    "lower_and_strip_punctuation": (_ASCII_LOWER, PUNCTUATION.encode()),
}
# Between the rows of a batch split in one pass (texts holding it go row by row).
SEPARATOR = "\x00"
_SPACED_SEPARATOR = " \x00 "
_WORDS = re.compile(r"[^ \t\n\r\v\f]+")  # tf.strings.split: ASCII whitespace
# What Python's str.split() also splits on, and TensorFlow does not.
_OTHER_SPACE = re.compile(
    "[\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
)


@fill_docs({"sparse": f"sparse: {SPARSE_NOTE}"})
class TextVectorization(PreprocessingLayer):
    """Turns strings into sequences of token indices or into bag-of-words vectors.

    Args:
        max_tokens: optional int >= 2, the largest vocabulary (the mask ``""`` and
            OOV ``"[UNK]"`` tokens included in ``"int"`` mode).
        standardize: ``"lower_and_strip_punctuation"`` (default), ``"lower"``,
            ``"strip_punctuation"``, ``None`` or a callable taking a NumPy array of
            ``str`` and returning one of the same shape (as Keras calls callables
            on non-TensorFlow backends).
        split: ``"whitespace"`` (default), ``"character"``, ``None`` (each input
            is one token) or a callable taking a 1-D NumPy array of ``str`` and
            returning one list of tokens per string.
        ngrams: None, an int ``n`` (all widths 1 to ``n``) or a tuple of widths.
        output_mode: ``"int"`` (default: index sequences, int64), ``"multi_hot"``,
            ``"count"`` (int64 vectors, as Keras returns them), ``"tf_idf"``
            (float32) or ``"one_hot"``.
        output_sequence_length: ``"int"`` only: pad or truncate every sequence to
            this length (default: pad to the longest in the batch).
        pad_to_max_tokens: encoded outputs have ``max_tokens`` entries.
        vocabulary: optional list or text file path (else call ``adapt()``).
        idf_weights: with ``"tf_idf"`` and a ``vocabulary``.
        {sparse}
        ragged: must be False: lamina has no ragged tensors (see Raises).
        encoding: the text encoding of ``bytes`` inputs (default ``"utf-8"``).
        {kwargs}

    Input shape:
        Strings of shape ``(batch,)`` or ``(batch, 1)`` (a list or NumPy array).

    Output shape:
        ``"int"``: ``(batch, output_sequence_length)`` (int64); other modes:
        ``(batch, depth)``, ``depth`` the vocabulary size or ``max_tokens``.

    Weights:
        None: the vocabulary goes to the ``.keras`` file's ``assets/``.

    Raises:
        ValueError: an unknown ``standardize``, ``split`` or ``output_mode``; bad
            ``ngrams``; ``output_sequence_length`` outside ``"int"``;
            ``ragged=True`` (use the padded ``"int"`` output, with ``mask_zero=True``
            in the next ``Embedding`` to skip the padding); inputs of rank > 1 whose
            last axis is not 1.

    Example:
    >>> import lamina as keras
    >>> layer = keras.layers.TextVectorization(output_sequence_length=4)
    >>> layer.adapt(["The cat sat.", "The dog ran!", "the end"])
    >>> layer.get_vocabulary()[:4]
    ['', '[UNK]', 'the', 'sat']
    >>> layer(["the cat ran far"]).tolist()
    [[2, 7, 4, 1]]
    """

    def __init__(
        self,
        max_tokens=None,
        standardize="lower_and_strip_punctuation",
        split="whitespace",
        ngrams=None,
        output_mode="int",
        output_sequence_length=None,
        pad_to_max_tokens=False,
        vocabulary=None,
        idf_weights=None,
        sparse=False,
        ragged=False,
        encoding="utf-8",
        name=None,
        **kwargs,
    ):
        has_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        vocabulary_size = kwargs.pop("vocabulary_size", None)
        super().__init__(name=name, **kwargs)
        self.autocast = False
        self._check_steps(standardize, split)
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode == "tf-idf":
            output_mode = "tf_idf"
        if output_mode not in OUTPUT_MODES:
            raise arg_error(
                self,
                "output_mode",
                f"one of {', '.join(map(repr, OUTPUT_MODES))}",
                output_mode,
            )
        self._ngrams = self._check_ngrams(ngrams)
        self._check_sequence(output_mode, output_sequence_length, ragged)
        self._standardize, self._split, self._ngrams_arg = standardize, split, ngrams
        self._output_mode = output_mode
        self._output_sequence_length = output_sequence_length
        self._ragged, self._encoding = bool(ragged), encoding
        self._has_input_vocabulary = has_vocabulary
        self._lookup_layer = StringLookup(
            max_tokens=max_tokens,
            vocabulary=vocabulary,
            idf_weights=idf_weights,
            pad_to_max_tokens=pad_to_max_tokens,
            mask_token="",
            output_mode=output_mode,
            sparse=sparse,
            has_input_vocabulary=has_vocabulary,
            encoding=encoding,
            vocabulary_size=vocabulary_size,
        )

    def _check_steps(self, standardize, split) -> None:
        if not (standardize is None or callable(standardize) or standardize in _TABLES):
            raise arg_error(
                self,
                "standardize",
                f"one of {list(_TABLES)}, None or a callable",
                standardize,
            )
        if not (
            split is None or callable(split) or split in ("whitespace", "character")
        ):
            raise arg_error(
                self, "split", "'whitespace', 'character', None or a callable", split
            )

    def _check_ngrams(self, ngrams):
        if ngrams is None:
            return None
        if isinstance(ngrams, int) and not isinstance(ngrams, bool):
            return tuple(range(1, check_int(self, "ngrams", ngrams, minimum=1) + 1))
        if isinstance(ngrams, (tuple, list)) and all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in ngrams
        ):
            return tuple(ngrams)
        raise arg_error(
            self, "ngrams", "None, an integer or a tuple of integers >= 1", ngrams
        )

    def _check_sequence(self, mode, length, ragged) -> None:
        if mode == "int" and length is not None:
            check_int(self, "output_sequence_length", length, minimum=1)
        if mode != "int" and length is not None:
            raise arg_error(
                self,
                "output_sequence_length",
                "None unless `output_mode='int'`",
                length,
            )
        if ragged:
            raise arg_error(
                self,
                "ragged",
                "False (lamina has no ragged tensors: `output_mode='int'` pads each "
                "row with 0, which `Embedding(mask_zero=True)` masks; or call the "
                "layer on one string at a time)",
                ragged,
            )

    # --------------------------------------------------------- vocabulary
    def get_vocabulary(self, include_special_tokens=True):
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self):
        return self._lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary, idf_weights=None):
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights=idf_weights)

    def adapt(self, data, batch_size=None, steps=None):
        """Learn the vocabulary from ``data``: strings in an array or list (one
        batch), or an iterable of batches (a generator, a ``DataLoader``)."""
        self.reset_state()
        for batch in batches(self, data, steps):
            self.update_state(batch)
        self.finalize_state()

    def update_state(self, data):
        lookup = self._lookup_layer
        with _no_gc():
            tokens = self._preprocess(data, rows=lookup.output_mode == "tf_idf")
            if isinstance(tokens, Separated):
                count_separated_tokens(lookup, tokens.tokens, SEPARATOR, tokens.rows)
            else:
                lookup.update_state(tokens)

    def finalize_state(self):
        self._lookup_layer.finalize_state()

    def reset_state(self):
        self._lookup_layer.reset_state()

    # -------------------------------------------------------------- steps
    def _strings(self, inputs) -> np.ndarray:
        values = to_numpy(inputs)
        if values.dtype.kind == "S":
            return np.char.decode(values, self._encoding)
        if values.dtype.kind == "O":
            decode = np.frompyfunc(self._lookup_layer._decode, 1, 1)
            return decode(values).astype(str) if values.size else values.astype(str)
        return values.astype(str)

    def _standardized(self, values: np.ndarray) -> tuple[list, tuple]:
        """The standardized strings as a flat list, and their shape."""
        if callable(self._standardize):
            values = np.asarray(self._standardize(values)).astype(str)
            return values.reshape(-1).tolist(), values.shape
        flat = values.reshape(-1).tolist()
        if self._standardize is not None:
            flat = _translated(flat, self._standardize)
        return flat, values.shape

    def _preprocess(self, inputs, rows=False):
        """Standardized strings, split into token rows (a list of lists, or, for
        whitespace splits without ngrams unless ``rows``, the rows in one list
        (``Separated``)), or, with ``split=None``, an array."""
        values = self._strings(inputs)
        if (
            self._split == "whitespace"
            and not (rows or self._ngrams or callable(self._standardize))
            and (values.ndim == 1 or (values.ndim == 2 and values.shape[-1] == 1))
        ):
            separated = _separated_words(values.reshape(-1).tolist(), self._standardize)
            if separated is not None:
                return separated
        flat, shape = self._standardized(values)
        if self._split is None:
            values = np.array(flat, dtype=str).reshape(shape or (1,))
            return self._ngram_rows(values) if self._ngrams else values
        if len(shape) > 1 and shape[-1] != 1:
            raise ValueError(
                f"{describe(self)}: to split strings, the inputs must have shape "
                f"(batch,) or (batch, 1); got shape {shape}."
            )
        if self._split == "whitespace":
            split = _split_whitespace(flat)
        elif self._split == "character":
            split = [list(s) for s in flat]
        else:
            split = [list(row) for row in self._split(np.asarray(flat, dtype=str))]
        return self._ngram_rows(split) if self._ngrams else split

    def _ngram_rows(self, rows):
        if isinstance(rows, np.ndarray):
            rows = rows.reshape(rows.shape[0], -1).tolist()
        return [
            [
                " ".join(row[i : i + n])
                for n in self._ngrams
                for i in range(len(row) - n + 1)
            ]
            for row in rows
        ]

    # --------------------------------------------------------------- call
    def call(self, inputs):
        with _no_gc():
            return self._vectorize(inputs)

    def _vectorize(self, inputs):
        tokens = self._preprocess(inputs)
        lookup = self._lookup_layer
        if isinstance(tokens, np.ndarray):  # split=None: one token per input
            output = lookup(tokens)
            if self._output_mode == "int" and self._output_sequence_length:
                output = _fit_length(output, self._output_sequence_length)
            return output
        ids = _padded_ids(lookup, tokens, self._output_sequence_length)
        if self._output_mode == "int":
            return ids
        lookup._check_vocabulary_size_known()
        return lookup._encode(ids)

    @property
    def output_dtype(self) -> str:
        return lookup_dtype(self._output_mode)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self._output_mode == "int":
            return (input_shape[0], self._output_sequence_length)
        # What the call returns: one vector per string (Keras's symbolic shape
        # keeps a spurious axis for (batch, 1) inputs that its call does not).
        if self._split is None and len(input_shape) > 1:
            return self._lookup_layer.compute_output_shape(input_shape)
        depth = self._lookup_layer.compute_output_shape((None, None))[-1]
        return (input_shape[0] if input_shape else None, depth)

    # ------------------------------------------------------------- saving
    def save_own_variables(self, store):
        self._lookup_layer.save_own_variables(store)

    def load_own_variables(self, store):
        self._lookup_layer.load_own_variables(store)

    def save_assets(self, dir_path):
        self._lookup_layer.save_assets(dir_path)

    def load_assets(self, dir_path):
        self._lookup_layer.load_assets(dir_path)

    def get_build_config(self):
        return None

    def get_config(self):
        lookup = self._lookup_layer
        return {
            **super().get_config(),
            "max_tokens": lookup.max_tokens,
            "standardize": self._standardize,
            "split": self._split,
            "ngrams": self._ngrams_arg,
            "output_mode": self._output_mode,
            "output_sequence_length": self._output_sequence_length,
            "pad_to_max_tokens": lookup.pad_to_max_tokens,
            "sparse": lookup.sparse,
            "ragged": self._ragged,
            "vocabulary": _listed(lookup.input_vocabulary),
            "idf_weights": _listed(lookup.input_idf_weights),
            "encoding": self._encoding,
            "vocabulary_size": self.vocabulary_size(),
        }

    @classmethod
    def from_config(cls, config_dict):
        config_dict = dict(config_dict)
        for key in ("standardize", "split"):
            if config_dict.get(key) is not None and not isinstance(
                config_dict[key], str
            ):
                config_dict[key] = serialization.deserialize_keras_object(
                    config_dict[key]
                )
        if isinstance(config_dict.get("ngrams"), list):
            config_dict["ngrams"] = tuple(config_dict["ngrams"])
        return cls(**config_dict)


def lookup_dtype(mode: str) -> str:
    return "float32" if mode == "tf_idf" else "int64"


def _listed(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


class Separated(NamedTuple):
    """Token rows in one list, each row followed by a ``SEPARATOR`` token but
    the last: built and looked up faster than a list per row."""

    tokens: list
    rows: int


def _separated_words(texts: list, standardize: str | None) -> Separated | None:
    """``texts`` standardized and split at ASCII whitespace (``tf.strings.split``)
    in one ``str.split`` over them all, separated; None where a text holds the
    separator or whitespace that ``str.split`` splits on and TensorFlow not."""
    joined = _joined(texts, standardize)
    if joined is None or _has_other_space(joined):
        return None
    return Separated(joined.replace(SEPARATOR, _SPACED_SEPARATOR).split(), len(texts))


def _has_other_space(text: str) -> bool:
    if text.isascii():  # one pass in C; then only the four separators of \x1c-\x1f
        return any(c in text for c in "\x1c\x1d\x1e\x1f")
    return _OTHER_SPACE.search(text) is not None


def _row_ids(lookup, tokens) -> tuple:
    """The token indices of ``tokens`` (rows, or ``Separated``) in one array,
    and the length of each row."""
    if isinstance(tokens, Separated):
        ids = lookup._ids_of_tokens(tokens.tokens, separator=SEPARATOR)
        separators = ids == SEPARATOR_ID
        ends = np.flatnonzero(separators)
        lengths = np.diff(ends, prepend=-1, append=ids.size) - 1
        return ids[~separators], lengths
    lengths = np.fromiter(map(len, tokens), np.int64, len(tokens))
    return lookup._ids_of_tokens(list(itertools.chain.from_iterable(tokens))), lengths


def _padded_ids(lookup, tokens, length: int | None) -> torch.Tensor:
    """The token indices of each row, padded with 0 (truncated) to ``length`` or
    to the longest row. Non-int modes pad with -1, which encodes to nothing."""
    ids, lengths = _row_ids(lookup, tokens)
    width = int(lengths.max(initial=0)) if length is None else length
    pad = 0 if lookup.output_mode == "int" else -1
    out = np.full((lengths.size, width), pad, dtype=np.int64)
    kept = np.minimum(lengths, width)
    if (kept < lengths).any():  # drop the tokens past `width` in each row
        starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
        ids = ids[np.arange(ids.size) - starts < width]
    out[np.arange(width) < kept[:, None]] = ids
    return torch.from_numpy(out)


def _joined(texts: list, standardize: str | None) -> str | None:
    """``texts`` standardized and joined by ``SEPARATOR``, in one
    ``bytes.translate``; None where there are none, a text holds the separator
    or cannot be encoded."""
    if not texts:
        return None
    joined = SEPARATOR.join(texts)
    if standardize is None:
        return joined if joined.count(SEPARATOR) == len(texts) - 1 else None
    try:
        data = joined.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        return None
    if data.count(b"\x00") != len(texts) - 1:
        return None
    table, delete = _BYTE_TABLES[standardize]
    return data.translate(table, delete).decode("utf-8")


def _translated(texts: list, standardize: str) -> list:
    """``texts`` standardized: one ``bytes.translate`` over all of them joined
    (per string where that cannot be)."""
    joined = _joined(texts, standardize)
    if joined is not None:
        return joined.split(SEPARATOR)
    table = _TABLES[standardize]
    return [text.translate(table) for text in texts]


@contextlib.contextmanager
def _no_gc():
    """Python's cyclic collector off while a batch's token lists are built: they
    hold no cycles, and a collection every few hundred lists makes building
    100k of them 4x slower."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _split_whitespace(texts: list) -> list:
    """``tf.strings.split``: tokens between ASCII whitespace. ``str.split()`` is
    the same (and fastest) unless a text holds other Unicode whitespace."""
    if _has_other_space("".join(texts)):
        return [_WORDS.findall(text) for text in texts]
    return [text.split() for text in texts]


def _fit_length(output: torch.Tensor, length: int) -> torch.Tensor:
    output = output[..., :length]
    missing = length - output.shape[-1]
    if missing > 0:
        output = torch.nn.functional.pad(output, (0, missing))
    return output

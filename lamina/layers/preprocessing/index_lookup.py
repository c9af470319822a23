"""IndexLookup: the one implementation behind StringLookup, IntegerLookup and
TextVectorization's vocabulary (Keras's ``IndexLookup``).

Indices are laid out as Keras lays them: ``[mask][oov * num_oov_indices][tokens]``
(the mask slot only with a ``mask_token`` in ``"int"`` mode). Strings are looked
up in a Python dict over the flat tokens (one C-level ``dict.get`` each);
integers by ``torch.searchsorted`` over the sorted vocabulary. Out-of-vocabulary
values go to one OOV index, or to ``num_oov_indices`` buckets by ``floormod``
(integers) or FarmHash/SipHash (strings, or integers with
``oov_method="farmhash"``), as in Keras.

The vocabulary is not a weight: Keras keeps it in the ``.keras`` file's
``assets/`` (``vocabulary.txt``) unless it was given in the config, and TF-IDF
weights under the layer's variables as ``idf_weights``.
"""

from __future__ import annotations

import collections
import itertools
import os

import numpy as np
import torch

from lamina import config
from lamina.layers.preprocessing import encoding, vocabulary
from lamina.layers.preprocessing.base import PreprocessingLayer, batches, to_numpy
from lamina.layers.preprocessing.hashing import bucket, normalize_salt
from lamina.utils.validation import arg_error, check_choice, check_int, describe

OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")
_MISSING, _MASKED = -1, -2  # lookup results before the OOV and mask rules
SEPARATOR_ID = -3  # what ``_ids_of_tokens(tokens, separator)`` gives a separator
VOCABULARY_FILE = "vocabulary.txt"


class IndexLookup(PreprocessingLayer):
    """Base of the lookup layers; see StringLookup and IntegerLookup."""

    _string_tokens = True

    def __init__(
        self,
        max_tokens,
        num_oov_indices,
        mask_token,
        oov_token,
        vocabulary_dtype,
        vocabulary=None,
        idf_weights=None,
        invert=False,
        output_mode="int",
        sparse=False,
        pad_to_max_tokens=False,
        oov_method="floormod",
        name=None,
        salt=None,
        **kwargs,
    ):
        self._frozen_vocab_size = kwargs.pop("vocabulary_size", None)
        has_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        kwargs.pop("trainable", None)
        kwargs.pop("dtype", None)
        super().__init__(name=name, **kwargs)
        self.autocast = False
        self._check_arguments(
            max_tokens, num_oov_indices, pad_to_max_tokens, oov_method, salt
        )
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode == "tf-idf":
            output_mode = "tf_idf"
        self.output_mode = check_choice(self, "output_mode", output_mode, OUTPUT_MODES)
        self._check_modes(invert, sparse, idf_weights, has_vocabulary)
        self.invert, self.sparse = bool(invert), bool(sparse)
        self.max_tokens, self.num_oov_indices = max_tokens, num_oov_indices
        self.mask_token, self.oov_token = mask_token, oov_token
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        self.vocabulary_dtype = vocabulary_dtype
        self.oov_method, self.salt = oov_method, normalize_salt(self, salt)
        self.input_vocabulary = None if isinstance(vocabulary, str) else vocabulary
        self.input_idf_weights = idf_weights
        self._has_input_vocabulary = bool(has_vocabulary)
        self._tokens: list = []
        self._index: dict = {}
        self._idf: torch.Tensor | None = None
        self.reset_state()
        if idf_weights is not None and vocabulary is None:
            self._idf = torch.as_tensor(np.asarray(idf_weights, config.floatx()))
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)

    # ------------------------------------------------------------ arguments
    def _check_arguments(self, max_tokens, num_oov, pad, oov_method, salt):
        if max_tokens is not None:
            check_int(self, "max_tokens", max_tokens, minimum=2)
        if pad and max_tokens is None:
            raise arg_error(
                self, "max_tokens", "set when `pad_to_max_tokens=True`", max_tokens
            )
        check_int(self, "num_oov_indices", num_oov, minimum=0)
        check_choice(self, "oov_method", oov_method, ("floormod", "farmhash"))
        if salt is not None and not self._string_tokens and oov_method != "farmhash":
            raise arg_error(self, "salt", "None unless `oov_method='farmhash'`", salt)

    def _check_modes(self, invert, sparse, idf_weights, has_vocabulary):
        mode = self.output_mode
        if invert and mode != "int":
            raise arg_error(self, "output_mode", "'int' when `invert=True`", mode)
        if sparse and mode == "int":
            raise arg_error(self, "sparse", "False when `output_mode='int'`", sparse)
        if idf_weights is not None and mode != "tf_idf":
            raise arg_error(
                self, "idf_weights", "None unless `output_mode='tf_idf'`", "[...]"
            )
        if mode == "tf_idf" and has_vocabulary and idf_weights is None:
            raise arg_error(
                self,
                "idf_weights",
                "given with a `vocabulary` when `output_mode='tf_idf'`",
                None,
            )

    # ----------------------------------------------------------- indices
    def _oov_start_index(self) -> int:
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start_index(self) -> int:
        return self._oov_start_index() + self.num_oov_indices

    def vocabulary_size(self) -> int:
        """The number of indices: special tokens and the vocabulary."""
        return len(self._tokens) + self._token_start_index()

    def get_vocabulary(self, include_special_tokens=True) -> list:
        """The token of each index (special tokens first, unless left out)."""
        vocab = [self.oov_token] * self._token_start_index() + list(self._tokens)
        if self.mask_token is not None and self.output_mode == "int":
            vocab[0] = self.mask_token
        if not include_special_tokens:
            vocab = vocab[self._token_start_index() :]
        return vocab

    # -------------------------------------------------------- vocabulary
    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Set the vocabulary (a list, an array or the path of a text file with
        one token per line) and, for ``"tf_idf"``, its IDF weights."""
        if self.output_mode == "tf_idf" and idf_weights is None:
            raise arg_error(
                self, "idf_weights", "given when `output_mode='tf_idf'`", None
            )
        if self.output_mode != "tf_idf" and idf_weights is not None:
            raise arg_error(
                self, "idf_weights", "None unless `output_mode='tf_idf'`", "[...]"
            )
        if isinstance(vocabulary, (str, os.PathLike)):
            if self.output_mode == "tf_idf":
                raise arg_error(
                    self, "vocabulary", "a list with `output_mode='tf_idf'`", vocabulary
                )
            tokens = vocabulary_from_file(self, os.fspath(vocabulary))
            self._set_tokens(tokens)
            return
        values = self._to_tokens(to_numpy(vocabulary)).reshape(-1).tolist()
        if not values:
            raise arg_error(self, "vocabulary", "a non-empty list", vocabulary)
        start = self._token_start_index()
        specials = [self.mask_token] * self._oov_start_index() + [
            self.oov_token
        ] * self.num_oov_indices
        found_specials = values[:start] == specials
        tokens = values[start:] if found_specials else values
        self._check_tokens(tokens, specials)
        self._set_tokens(tokens)
        if self.output_mode == "tf_idf":
            self._set_idf(idf_weights, len(values), found_specials)

    def _check_tokens(self, tokens: list, specials: list) -> None:
        repeats = vocabulary.repeated(tokens)
        if repeats:
            raise arg_error(self, "vocabulary", "free of repeated tokens", repeats)
        reserved = [self.mask_token] if self.mask_token is not None else []
        if self.invert and self.oov_token is not None:
            reserved.append(self.oov_token)
        for token in reserved:
            if token in tokens:
                raise arg_error(
                    self,
                    "vocabulary",
                    "free of the mask and OOV tokens, or have them only at its "
                    f"start in this order: {specials}",
                    f"... {token!r} at index {tokens.index(token)} ...",
                )
        size = self._token_start_index() + len(tokens)
        if self.max_tokens is not None and size > self.max_tokens:
            raise arg_error(
                self,
                "vocabulary",
                f"at most `max_tokens`={self.max_tokens} entries with the special "
                "tokens",
                f"<{size} entries>",
            )

    def _set_tokens(self, tokens: list) -> None:
        start = self._token_start_index()
        self._tokens = list(tokens)
        self._index = {token: i + start for i, token in enumerate(self._tokens)}
        if not self._string_tokens:
            keys = torch.tensor(self._tokens, dtype=torch.int64)
            self._sorted_keys, order = torch.sort(keys)
            self._sorted_ids = order + start
        self._record_vocabulary_size()

    def _set_idf(self, idf_weights, vocabulary_length: int, found_specials: bool):
        weights = np.asarray(idf_weights)
        if len(weights) != vocabulary_length or weights.ndim != 1:
            raise arg_error(
                self,
                "idf_weights",
                f"a 1-D list as long as the vocabulary ({vocabulary_length})",
                f"<shape {weights.shape}>",
            )
        front = 0 if found_specials else self._token_start_index()
        back = 0
        if self.pad_to_max_tokens and self.max_tokens is not None:
            back = self.max_tokens - front - len(weights)
        front_value = np.average(weights) if front else 0
        padded = vocabulary.padded_idf(weights, front, front_value, back)
        self._idf = torch.as_tensor(padded)

    def _record_vocabulary_size(self) -> None:
        size = self.vocabulary_size()
        fixed = self.output_mode != "int" and not self.pad_to_max_tokens
        if fixed and self._frozen_vocab_size not in (None, size):
            raise RuntimeError(
                f"{describe(self)}: with `output_mode='{self.output_mode}'` and "
                "`pad_to_max_tokens=False` the vocabulary size cannot change once "
                f"the layer is called; it was {self._frozen_vocab_size}, the new "
                f"vocabulary has {size}."
            )
        self._frozen_vocab_size = size

    # -------------------------------------------------------------- adapt
    def adapt(self, data, batch_size=None, steps=None):
        """Learn the vocabulary (tokens by decreasing frequency, at most
        ``max_tokens`` with the special ones) and, for ``"tf_idf"``, the IDF
        weights from ``data``: an array or list (one batch; each row of a 2-D
        array is a document), or an iterable of batches (a ``DataLoader``)."""
        self.reset_state()
        for batch in batches(self, data, steps):
            self.update_state(batch)
        self.finalize_state()

    def _check_adaptable(self) -> None:
        if self._has_input_vocabulary:
            raise ValueError(
                f"{describe(self)}: cannot adapt a layer given a `vocabulary`; "
                "create it without one to learn the vocabulary from data."
            )

    def update_state(self, data):
        self._check_adaptable()
        if isinstance(data, list) and (not data or isinstance(data[0], list)):
            rows = data  # token rows (TextVectorization's), or a ragged list
            if not self._string_tokens:
                rows = [[int(v) for v in row] for row in rows]
        else:
            values = self._to_tokens(to_numpy(data))
            if values.ndim < 2:
                values = values.reshape(1, -1) if values.ndim == 0 else values[:, None]
            rows = values.reshape(values.shape[0], -1).tolist()
        self._counts.update(itertools.chain.from_iterable(rows))
        if self.output_mode == "tf_idf":
            self._document_counts.update(vocabulary.document_frequencies(rows))
            self._num_documents += len(rows)

    def finalize_state(self):
        if self._has_input_vocabulary or not self._counts:
            self._record_vocabulary_size()
            return
        for special in (self.mask_token, self.oov_token):
            self._counts.pop(special, None)
        limit = (
            None if not self.max_tokens else self.max_tokens - self._token_start_index()
        )
        tokens = vocabulary.ranked(self._counts, limit)
        self._set_tokens(tokens)
        if self.output_mode == "tf_idf":
            idf = vocabulary.inverse_document_frequency(
                [self._document_counts[t] for t in tokens], self._num_documents
            ).astype(config.floatx())
            back = 0
            if self.pad_to_max_tokens and self.max_tokens is not None:
                back = self.max_tokens - self._token_start_index() - len(idf)
            padded = vocabulary.padded_idf(
                idf, self._token_start_index(), np.mean(idf), back
            )
            self._idf = torch.as_tensor(padded)
        self.reset_state()

    def reset_state(self):
        self._counts: collections.Counter = collections.Counter()
        self._document_counts: collections.Counter = collections.Counter()
        self._num_documents = 0

    # --------------------------------------------------------------- call
    def call(self, inputs):
        self._check_vocabulary_size_known()
        if self.invert:
            return self._tokens_of(to_numpy(inputs))
        values = self._to_tokens(to_numpy(inputs))
        ids = self._ids_of(values)
        if self.output_mode == "int":
            return ids
        return self._encode(ids)

    def _encode(self, ids: torch.Tensor) -> torch.Tensor:
        """Indices to the encoded output (``-1`` entries select nothing)."""
        if ids.ndim == 0:
            ids = ids.reshape(1)
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        mode = "count" if self.output_mode == "tf_idf" else self.output_mode
        dtype = torch.float32 if self.output_mode == "tf_idf" else torch.int64
        output = encoding.encode(ids, mode, depth, dtype)
        if self.output_mode == "tf_idf":
            if self._idf is None:
                raise ValueError(
                    f"{describe(self)}: `output_mode='tf_idf'` needs IDF weights; "
                    "adapt the layer or give `vocabulary` and `idf_weights`."
                )
            output = output * self._idf.to(output.device)
        return output

    def _ids_of(self, values: np.ndarray) -> torch.Tensor:
        """The index of each value (mask and OOV rules applied), as a tensor."""
        flat = values.reshape(-1)
        if self._string_tokens:
            return torch.from_numpy(self._ids_of_tokens(flat.tolist())).reshape(
                values.shape
            )
        ids = self._search(torch.as_tensor(flat, dtype=torch.int64))
        masked = None
        if self.mask_token is not None:
            masked = torch.from_numpy(np.asarray(flat == self.mask_token).reshape(-1))
            ids[masked] = 0 if self.output_mode == "int" else -1
        missing = ids == -1
        if masked is not None:
            missing &= ~masked
        if bool(missing.any()):
            ids[missing] = torch.from_numpy(self._oov_ids(flat[missing.numpy()]))
        return ids.reshape(values.shape)

    def _ids_of_tokens(self, tokens: list, separator: str | None = None) -> np.ndarray:
        """The indices of a flat list of strings: one ``dict.get`` each (the mask
        token is looked up as -2, then replaced). ``separator`` tokens (between
        the rows of TextVectorization's batches) get ``SEPARATOR_ID``."""
        table = self._index
        special = {} if self.mask_token is None else {self.mask_token: _MASKED}
        if separator is not None:
            special[separator] = SEPARATOR_ID
        if special:
            table = {**table, **special}
        ids = np.fromiter(
            map(table.get, tokens, itertools.repeat(_MISSING)), np.int64, len(tokens)
        )
        missing = ids == _MISSING
        if missing.any():
            unknown = [tokens[i] for i in np.flatnonzero(missing).tolist()]
            ids[missing] = self._oov_ids(np.array(unknown, dtype=object))
        if self.mask_token is not None:
            ids[ids == _MASKED] = 0 if self.output_mode == "int" else -1
        return ids

    def _search(self, keys: torch.Tensor) -> torch.Tensor:
        if not self._tokens:
            return torch.full(keys.shape, -1, dtype=torch.int64)
        position = torch.searchsorted(self._sorted_keys, keys).clamp(
            max=len(self._tokens) - 1
        )
        found = self._sorted_keys[position] == keys
        return torch.where(found, self._sorted_ids[position], -1)

    def _oov_ids(self, values: np.ndarray) -> np.ndarray:
        start = self._oov_start_index()
        if self.num_oov_indices == 0:
            shown = values[:10].tolist()
            raise ValueError(
                f"{describe(self)}: with `num_oov_indices=0` every input must be in "
                f"the vocabulary; found out-of-vocabulary values {shown}; set "
                "`num_oov_indices=1` to map them to an OOV index."
            )
        if self.num_oov_indices == 1:
            return np.full(len(values), start, dtype=np.int64)
        if not self._string_tokens and self.oov_method != "farmhash":
            buckets = np.mod(values.astype(np.int64), self.num_oov_indices)
        else:
            buckets = bucket(values, self.num_oov_indices, self.salt)
        return (buckets + start).astype(np.int64)

    def _tokens_of(self, indices: np.ndarray):
        """The ``invert=True`` lookup: indices to tokens (OOV token elsewhere)."""
        indices = np.asarray(indices, dtype=np.int64)
        table = np.array(
            self.get_vocabulary() + [self.oov_token],
            dtype=object if self._string_tokens else np.int64,
        )
        size = self.vocabulary_size()
        picked = table[np.where((indices >= 0) & (indices < size), indices, size)]
        if self._string_tokens:
            return picked.astype(str) if picked.size else picked.astype("<U1")
        return torch.as_tensor(picked)

    def _check_vocabulary_size_known(self) -> None:
        if self.output_mode == "int" or self.pad_to_max_tokens:
            return
        if self._frozen_vocab_size is None:
            raise RuntimeError(
                f"{describe(self)}: with `output_mode='{self.output_mode}'` and "
                "`pad_to_max_tokens=False` the layer needs its vocabulary before "
                "it is called; pass `vocabulary` or call `adapt(data)` first."
            )

    # ------------------------------------------------------------ symbolic
    @property
    def output_dtype(self) -> str:
        if self.invert:
            return "string" if self._string_tokens else "int64"
        return config.floatx() if self.output_mode == "tf_idf" else "int64"

    def compute_output_shape(self, input_shape):
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        mode = "count" if self.output_mode == "tf_idf" else self.output_mode
        return encoding.encoded_shape(input_shape, mode, depth)

    # ------------------------------------------------------------- saving
    def save_own_variables(self, store):
        if self.output_mode == "tf_idf" and self._idf is not None:
            store["idf_weights"] = self._idf.cpu().numpy()

    def load_own_variables(self, store):
        if self.output_mode == "tf_idf" and "idf_weights" in store:
            self._idf = torch.as_tensor(np.asarray(store["idf_weights"]))

    def save_assets(self, dir_path):
        if self.input_vocabulary is not None:
            return  # the config holds it
        with open(os.path.join(dir_path, VOCABULARY_FILE), "w", encoding="utf-8") as f:
            f.write("\n".join(str(token) for token in self.get_vocabulary()))

    def load_assets(self, dir_path):
        if self.input_vocabulary is not None or dir_path is None:
            return
        path = os.path.join(dir_path, VOCABULARY_FILE)
        if not os.path.isfile(path):
            return
        tokens = vocabulary.read_lines(path, as_int=not self._string_tokens)
        idf = self._idf.numpy() if self.output_mode == "tf_idf" else None
        self.set_vocabulary(tokens, idf_weights=idf)

    def get_build_config(self):
        return {}

    def build_from_config(self, build_config):
        self.built = True

    def get_config(self):
        return {
            **super().get_config(),
            "invert": self.invert,
            "max_tokens": self.max_tokens,
            "num_oov_indices": self.num_oov_indices,
            "oov_token": self.oov_token,
            "mask_token": self.mask_token,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
            "pad_to_max_tokens": self.pad_to_max_tokens,
            "vocabulary_dtype": self.vocabulary_dtype,
            "idf_weights": _listed(self.input_idf_weights),
            "vocabulary": _listed(self.input_vocabulary),
            "vocabulary_size": self._frozen_vocab_size,
            "oov_method": self.oov_method,
            "salt": self.salt,
        }


def vocabulary_from_file(owner, path: str) -> list:
    return vocabulary.read_file(owner, path, as_int=not owner._string_tokens)


def _listed(value):
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        value = value.tolist()
    return value


def count_separated_tokens(lookup: IndexLookup, tokens: list, separator: str,
                           rows: int) -> None:  # fmt: skip
    """``lookup.update_state`` for TextVectorization's ``rows`` of tokens given
    as one list, the rows separated by ``separator`` tokens."""
    lookup._check_adaptable()
    lookup._counts.update(tokens)
    left = lookup._counts.pop(separator, 0) - (rows - 1)
    if left > 0:  # the separator as a token of its own in earlier batches
        lookup._counts[separator] = left

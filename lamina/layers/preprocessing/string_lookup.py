"""StringLookup: strings to integer indices (or encodings), and back."""

from __future__ import annotations

import numpy as np

from lamina.layers.docs import fill_docs
from lamina.layers.preprocessing.base import SPARSE_NOTE
from lamina.layers.preprocessing.index_lookup import IndexLookup

LOOKUP_ARGS = {
    "lookup_args": """max_tokens: optional int >= 2, the largest vocabulary size,
    special tokens included (``adapt`` keeps the most frequent tokens).
num_oov_indices: int >= 0 (default 1): how many indices out-of-vocabulary
    values share (more than one: buckets by hash, or ``floormod`` for
    integers); 0 makes unknown values an error.
mask_token: optional token that maps to index 0 (in ``"int"`` mode) or to
    nothing (other modes); ``None``: no mask index.""",
    "lookup_modes": """vocabulary: optional list, array or path of a text file (one
    token per line); else call ``adapt()``.
idf_weights: with ``"tf_idf"`` and a ``vocabulary``, one weight per token.
invert: map indices back to tokens (``"int"`` mode only).
output_mode: ``"int"`` (indices, int64), ``"one_hot"``, ``"multi_hot"``,
    ``"count"`` (int64 vectors, as Keras returns them) or ``"tf_idf"`` (float32
    counts times IDF weights).
pad_to_max_tokens: encoded outputs have ``max_tokens`` entries, not the
    vocabulary size.
sparse: """
    + SPARSE_NOTE,
}


@fill_docs(LOOKUP_ARGS)
class StringLookup(IndexLookup):
    """Maps strings to integer indices from a vocabulary (given or adapted).

    Index layout: ``[mask_token][oov_token * num_oov_indices][vocabulary]``.
    Strings are ``str`` (``bytes`` are decoded with ``encoding``) in lists or
    NumPy arrays (unicode or object dtype); torch holds no strings, so the
    inverse lookup returns a NumPy array of ``str``.

    Args:
        {lookup_args}
        oov_token: the token of the OOV indices (default ``"[UNK]"``).
        {lookup_modes}
        encoding: the text encoding of ``bytes`` inputs (default ``"utf-8"``).
        salt: optional int or pair, the SipHash key of the OOV buckets.
        {kwargs}

    Output shape:
        ``"int"``: the input shape. ``"one_hot"``: ``(*input_shape, depth)``, a
        trailing axis of size 1 replaced; other modes: axis 1 reduced,
        ``(batch, depth)`` for ``(batch, k)`` inputs. ``depth`` is the
        vocabulary size (or ``max_tokens`` with ``pad_to_max_tokens``).

    Weights:
        None. The vocabulary goes to the ``.keras`` file's ``assets/`` (or stays
        in the config when given there), TF-IDF weights to its variables.

    Raises:
        ValueError: ``max_tokens`` < 2, or missing with ``pad_to_max_tokens``; a
            negative ``num_oov_indices``; an unknown ``output_mode``; ``invert``
            outside ``"int"``; ``idf_weights`` outside ``"tf_idf"`` (or missing
            there with a ``vocabulary``); an empty vocabulary, repeated tokens or
            the mask/OOV token inside it; ``adapt`` after a ``vocabulary``;
            unknown inputs with ``num_oov_indices=0``.

    Example:
    >>> import lamina as keras
    >>> layer = keras.layers.StringLookup(vocabulary=["a", "b", "c", "d"])
    >>> layer([["a", "c", "d"], ["d", "z", "b"]]).tolist()
    [[1, 3, 4], [4, 0, 2]]
    """

    def __init__(
        self,
        max_tokens=None,
        num_oov_indices=1,
        mask_token=None,
        oov_token="[UNK]",
        vocabulary=None,
        idf_weights=None,
        invert=False,
        output_mode="int",
        pad_to_max_tokens=False,
        sparse=False,
        encoding="utf-8",
        name=None,
        salt=None,
        **kwargs,
    ):
        self.encoding = encoding
        super().__init__(
            max_tokens=max_tokens,
            num_oov_indices=num_oov_indices,
            mask_token=mask_token,
            oov_token=oov_token,
            vocabulary=vocabulary,
            idf_weights=idf_weights,
            invert=invert,
            output_mode=output_mode,
            pad_to_max_tokens=pad_to_max_tokens,
            sparse=sparse,
            name=name,
            salt=salt,
            vocabulary_dtype="string",
            **kwargs,
        )

    def _to_tokens(self, values: np.ndarray) -> np.ndarray:
        if values.dtype.kind == "S":
            return np.char.decode(values, self.encoding)
        if values.dtype.kind == "O":
            decode = np.frompyfunc(self._decode, 1, 1)
            return decode(values).astype(str) if values.size else values.astype(str)
        return values.astype(str) if values.dtype.kind != "U" else values

    def _decode(self, value):
        return value.decode(self.encoding) if isinstance(value, bytes) else str(value)

    def get_config(self):
        config = super().get_config()
        del config["vocabulary_dtype"]
        return {**config, "encoding": self.encoding}

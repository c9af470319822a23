"""IntegerLookup: integer values to contiguous indices (or encodings), and back."""

from __future__ import annotations

import numpy as np

from lamina.layers.docs import fill_docs
from lamina.layers.preprocessing.index_lookup import IndexLookup
from lamina.layers.preprocessing.string_lookup import LOOKUP_ARGS
from lamina.utils.validation import arg_error


@fill_docs(LOOKUP_ARGS)
class IntegerLookup(IndexLookup):
    """Maps integer values (ids, codes) to contiguous indices from a vocabulary.

    Index layout: ``[mask_token][oov_token * num_oov_indices][vocabulary]``. With
    several OOV indices, unknown values go to ``value mod num_oov_indices``
    (``oov_method="floormod"``) or to a FarmHash bucket of their decimal string
    (``"farmhash"``, SipHash with a ``salt``).

    Args:
        {lookup_args}
        oov_token: the value ``invert`` gives OOV indices (default -1).
        vocabulary_dtype: ``"int64"`` (the only one, as in Keras).
        {lookup_modes}
        oov_method: ``"floormod"`` (default) or ``"farmhash"``.
        salt: optional int or pair (``"farmhash"`` only), the SipHash key.
        {kwargs}

    Output shape:
        As ``StringLookup``: ``"int"`` keeps the input shape (int64); encoded
        modes give ``(batch, depth)`` for ``(batch, k)`` inputs.

    Weights:
        None; the vocabulary goes to the ``.keras`` file's ``assets/``.

    Raises:
        ValueError: as ``StringLookup``; also a ``vocabulary_dtype`` other than
            ``"int64"`` and a ``salt`` without ``oov_method="farmhash"``.

    Example:
    >>> import lamina as keras
    >>> layer = keras.layers.IntegerLookup(vocabulary=[12, 36, 1138, 42])
    >>> layer([[12, 1138, 42], [42, 1000, 36]]).tolist()
    [[1, 3, 4], [4, 0, 2]]
    """

    _string_tokens = False

    def __init__(
        self,
        max_tokens=None,
        num_oov_indices=1,
        mask_token=None,
        oov_token=-1,
        vocabulary=None,
        vocabulary_dtype="int64",
        idf_weights=None,
        invert=False,
        output_mode="int",
        sparse=False,
        pad_to_max_tokens=False,
        oov_method="floormod",
        salt=None,
        name=None,
        **kwargs,
    ):
        if vocabulary_dtype != "int64":
            raise arg_error(
                type(self).__name__,
                "vocabulary_dtype",
                "'int64' (the only one supported)",
                vocabulary_dtype,
            )
        super().__init__(
            max_tokens=max_tokens,
            num_oov_indices=num_oov_indices,
            mask_token=mask_token,
            oov_token=oov_token,
            vocabulary=vocabulary,
            vocabulary_dtype=vocabulary_dtype,
            idf_weights=idf_weights,
            invert=invert,
            output_mode=output_mode,
            sparse=sparse,
            pad_to_max_tokens=pad_to_max_tokens,
            oov_method=oov_method,
            salt=salt,
            name=name,
            **kwargs,
        )

    def _to_tokens(self, values: np.ndarray) -> np.ndarray:
        return values.astype(np.int64)

    def get_config(self):
        config = super().get_config()
        for key in ("oov_token", "mask_token"):
            if config[key] is not None:
                config[key] = int(config[key])
        if config["vocabulary"] is not None:
            config["vocabulary"] = [int(v) for v in config["vocabulary"]]
        return config

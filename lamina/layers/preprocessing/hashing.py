"""Hashing and HashedCrossing: values (or crosses of them) to hash buckets,
with Keras's (TensorFlow's) hash functions, so saved models bucket alike."""

from __future__ import annotations

import numpy as np
import torch

from lamina import config
from lamina.layers.docs import fill_docs
from lamina.layers.preprocessing import encoding, hash64
from lamina.layers.preprocessing.base import (
    SPARSE_NOTE,
    PreprocessingLayer,
    check_sparse,
    to_numpy,
)
from lamina.utils.validation import arg_error, check_choice, check_int, describe

# tf.sparse.cross_hashed's default key (TensorFlow's sparse_ops).
CROSS_HASH_KEY = 0xDECAFCAFFE


def as_strings(values: np.ndarray) -> np.ndarray:
    """Values as TensorFlow's ``as_string`` writes them (floats first truncated to
    int64, as Keras does), keeping strings; an array of ``str``."""
    if values.dtype.kind == "f":
        values = values.astype(np.int64)
    if values.dtype.kind == "b":
        return np.where(values, "true", "false")
    if values.dtype.kind == "S":
        return values  # bytes are hashed as they are
    return values.astype(str) if values.dtype.kind in "iu" else values


def bucket(values: np.ndarray, num_bins: int, salt=None) -> np.ndarray:
    """``to_hash_bucket_fast`` (or ``_strong`` with a ``salt`` pair) of
    ``values`` into ``num_bins`` buckets: int64 of ``values``' shape."""
    strings = hash64.to_bytes(as_strings(np.asarray(values)).reshape(-1).tolist())
    hashes = (
        hash64.fingerprint64(strings)
        if salt is None
        else hash64.siphash64(strings, salt)
    )
    return (hashes % np.uint64(num_bins)).astype(np.int64).reshape(np.shape(values))


def normalize_salt(owner, salt):
    """``salt`` as Keras keeps it: None or a list of two integers."""
    if salt is None:
        return None
    if isinstance(salt, (tuple, list)) and len(salt) == 2:
        return [int(s) for s in salt]
    if isinstance(salt, int) and not isinstance(salt, bool):
        return [salt, salt]
    raise arg_error(owner, "salt", "an integer or a pair of integers", salt)


@fill_docs({"sparse": f"sparse: {SPARSE_NOTE}"})
class Hashing(PreprocessingLayer):
    """Hashes strings or integers into ``num_bins`` buckets.

    Integers (and floats, truncated to integers) are hashed as their decimal
    strings, as Keras does. Without ``salt`` the hash is FarmHash
    ``Fingerprint64`` (TensorFlow's ``to_hash_bucket_fast``); with it, SipHash-2-4
    keyed by the salt (``to_hash_bucket_strong``). The bucket is ``hash %
    num_bins``; with a ``mask_value``, bucket 0 is kept for it and the others
    are ``1 + hash % (num_bins - 1)``.

    Args:
        num_bins: int >= 1, the number of buckets (the mask's included).
        mask_value: optional value that goes to bucket 0.
        salt: optional int or pair of ints, the SipHash key (a single int is used
            for both halves).
        output_mode: ``"int"`` (bucket indices, int64 by default), ``"one_hot"``,
            ``"multi_hot"`` or ``"count"`` (float32 vectors of ``num_bins``).
        {sparse}
        {kwargs}

    Input shape:
        Strings (a list or NumPy array), integers or floats, any shape.

    Output shape:
        ``"int"``: the input shape. ``"one_hot"``: ``(*input_shape, num_bins)``, a
        trailing axis of size 1 replaced; ``"multi_hot"``/``"count"``: axis 1
        reduced, ``(batch, num_bins)`` for ``(batch, k)`` inputs.

    Raises:
        ValueError: ``num_bins`` < 1; a non-integer ``dtype`` with ``"int"``; an
            unknown ``output_mode``; a bad ``salt``; ``sparse`` with ``"int"``.

    Example:
    >>> import lamina as keras
    >>> layer = keras.layers.Hashing(num_bins=3, salt=133)
    >>> layer([["A"], ["B"], ["C"], ["D"], ["E"]]).tolist()
    [[0], [0], [2], [1], [0]]
    """

    def __init__(
        self,
        num_bins,
        mask_value=None,
        salt=None,
        output_mode="int",
        sparse=False,
        **kwargs,
    ):
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = "int64" if output_mode == "int" else config.floatx()
        super().__init__(**kwargs)
        self.autocast = False  # floats are truncated to integers, not cast
        if num_bins is None or isinstance(num_bins, bool):
            raise arg_error(self, "num_bins", "an integer >= 1", num_bins)
        self.num_bins = check_int(self, "num_bins", num_bins, minimum=1)
        modes = ("int", "one_hot", "multi_hot", "count")
        self.output_mode = check_choice(self, "output_mode", output_mode, modes)
        if self.output_mode == "int" and self.dtype not in ("int32", "int64"):
            raise arg_error(
                self, "dtype", "'int32' or 'int64' when `output_mode='int'`", self.dtype
            )
        self.sparse = check_sparse(self, sparse, self.output_mode)
        self.mask_value = mask_value
        self.salt = normalize_salt(self, salt)
        self.strong_hash = self.salt is not None

    def call(self, inputs):
        values = to_numpy(inputs)
        if self.output_mode == "one_hot" and values.ndim and values.shape[-1] == 1:
            values = values[..., 0]
        indices = torch.as_tensor(self._bins(values))
        if isinstance(inputs, torch.Tensor):
            indices = indices.to(inputs.device)
        return encoding.encode(
            indices, self.output_mode, self.num_bins, self._compute_torch_dtype
        )

    def _bins(self, values: np.ndarray) -> np.ndarray:
        bins = self.num_bins
        if self.mask_value is None or bins == 1:
            return bucket(values, bins, self.salt)
        mask = _equal(values, self.mask_value)
        return np.where(mask, 0, 1 + bucket(values, bins - 1, self.salt))

    def compute_output_shape(self, input_shape):
        return encoding.encoded_shape(input_shape, self.output_mode, self.num_bins)

    def get_config(self):
        return {
            **super().get_config(),
            "num_bins": self.num_bins,
            "salt": self.salt,
            "mask_value": self.mask_value,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
        }


def _equal(values: np.ndarray, target) -> np.ndarray:
    if values.dtype.kind in "USO":
        target = target.decode() if isinstance(target, bytes) else str(target)
        flat = [v.decode() if isinstance(v, bytes) else v for v in values.reshape(-1)]
        return (np.array(flat, dtype=object) == target).reshape(values.shape)
    return values == target


@fill_docs({"sparse": f"sparse: {SPARSE_NOTE}"})
class HashedCrossing(PreprocessingLayer):
    """Crosses two or more categorical features into ``num_bins`` hash buckets.

    Each sample's features are fingerprinted (strings with FarmHash
    ``Fingerprint64``, integers as their own 64-bit value) and chained with
    ``FingerprintCat64`` from TensorFlow's key ``0xDECAFCAFFE``, as Keras's
    ``tf.sparse.cross_hashed``; the bucket is the result modulo ``num_bins``.

    Args:
        num_bins: int >= 1, the number of buckets.
        output_mode: ``"int"`` (bucket indices, int64) or ``"one_hot"`` (float32
            vectors of ``num_bins``).
        {sparse}
        {kwargs}

    Call arguments:
        inputs: a list of at least two features of one shape: scalars, ``(batch,)``
            or ``(batch, 1)``; integers or strings.

    Output shape:
        ``"int"``: the features' shape; ``"one_hot"``: ``(batch, num_bins)``.

    Raises:
        ValueError: ``num_bins`` < 1; an unknown ``output_mode``; fewer than two
            features, features of different shapes, of another rank, or floats.

    Example:
    >>> import lamina as keras
    >>> layer = keras.layers.HashedCrossing(num_bins=5)
    >>> layer([["A", "B", "A"], [101, 101, 102]]).tolist()
    [1, 4, 3]
    """

    _list_input = True

    def __init__(
        self, num_bins, output_mode="int", sparse=False, name=None, dtype=None, **kwargs
    ):
        if output_mode == "int" and dtype is None:
            dtype = "int64"
        super().__init__(name=name, dtype=dtype, **kwargs)
        self.num_bins = check_int(self, "num_bins", num_bins, minimum=1)
        self.output_mode = check_choice(
            self, "output_mode", output_mode, ("int", "one_hot")
        )
        self.sparse = check_sparse(self, sparse, self.output_mode)

    def call(self, inputs):
        features = self._checked(inputs)
        shape = features[0].shape
        crossed = np.full(features[0].size, np.uint64(CROSS_HASH_KEY))
        for feature in features:
            flat = feature.reshape(-1)
            if flat.dtype.kind in "iu":
                hashes = flat.astype(np.int64).view(np.uint64)
            else:
                hashes = hash64.fingerprint64(hash64.to_bytes(flat.tolist()))
            crossed = hash64.fingerprint_cat64(crossed, hashes)
        indices = (crossed % np.uint64(self.num_bins)).astype(np.int64).reshape(shape)
        if len(shape) == 2 and self.output_mode == "one_hot":
            indices = indices[:, 0]
        return encoding.encode(
            torch.as_tensor(indices),
            self.output_mode,
            self.num_bins,
            self._compute_torch_dtype,
        )

    def _checked(self, inputs) -> list[np.ndarray]:
        if not isinstance(inputs, (list, tuple)) or len(inputs) < 2:
            raise ValueError(
                f"{describe(self)}: expected a list of at least two features; got "
                f"{type(inputs).__name__} {_shapes(inputs)}."
            )
        features = [to_numpy(x) for x in inputs]
        first = features[0].shape
        if len(first) > 2 or (len(first) == 2 and first[-1] != 1):
            raise ValueError(
                f"{describe(self)}: every feature must have shape (), (batch,) or "
                f"(batch, 1); got shapes {_shapes(features)}."
            )
        if any(f.shape != first for f in features[1:]):
            raise ValueError(
                f"{describe(self)}: the features must have one shape; got shapes "
                f"{_shapes(features)}."
            )
        if any(f.dtype.kind not in "iuUSO" for f in features):
            raise ValueError(
                f"{describe(self)}: the features must be integers or strings; got "
                f"dtypes {[str(f.dtype) for f in features]}."
            )
        return features

    def compute_output_shape(self, input_shape):
        first = tuple(input_shape[0])
        if self.output_mode == "int":
            return first
        if len(first) == 2:
            return (first[0], self.num_bins)
        return (*first, self.num_bins)

    def get_config(self):
        return {
            "num_bins": self.num_bins,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
            "name": self.name,
            "dtype": self.dtype,
        }

    @classmethod
    def from_config(cls, config_dict):
        config_dict = dict(config_dict)
        config_dict.pop("trainable", None)
        return cls(**config_dict)


def _shapes(inputs):
    if isinstance(inputs, (list, tuple)):
        return [tuple(np.shape(x)) for x in inputs]
    return tuple(np.shape(inputs))

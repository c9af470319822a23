"""The 64-bit string hashes Keras's preprocessing layers use, in NumPy.

Keras 3 hashes strings with TensorFlow's kernels: ``Hashing`` and the lookups'
out-of-vocabulary buckets use ``tf.strings.to_hash_bucket_fast`` (FarmHash
``Fingerprint64``, i.e. ``farmhashna::Hash64``) or, with a ``salt``,
``to_hash_bucket_strong`` (SipHash-2-4 keyed by two 64-bit words);
``HashedCrossing`` chains feature fingerprints with ``FingerprintCat64``. These
are the same algorithms, on NumPy ``uint64`` arrays (arithmetic wraps modulo
2**64 as in C), vectorized over strings of one length class, so saved models
bucket values exactly as Keras does.
"""

from __future__ import annotations

import numpy as np

_K0 = np.uint64(0xC3A5C85C97CB3127)
_K1 = np.uint64(0xB492B66FBE98F273)
_K2 = np.uint64(0x9AE16A3B2F90404F)
_KMUL = np.uint64(0xC6A4A7935BD1E995)
_U = np.uint64

__all__ = ["fingerprint64", "siphash64", "fingerprint_cat64", "to_bytes"]


def _rotate(value, shift: int):
    return (value >> _U(shift)) | (value << _U(64 - shift))


def _shift_mix(value):
    return value ^ (value >> _U(47))


def _hash_len16(u, v, mul):
    a = _shift_mix((u ^ v) * mul)
    b = _shift_mix((v ^ a) * mul)
    return b * mul


class _Bytes:
    """Strings of one group as a zero-padded ``uint8`` matrix, read in words."""

    def __init__(self, strings: list[bytes], lengths: np.ndarray):
        width = int(lengths.max(initial=0)) + 8
        self.matrix = np.zeros((len(strings), width), np.uint8)
        flat = np.frombuffer(b"".join(strings), np.uint8)
        rows = np.repeat(np.arange(len(strings)), lengths)
        starts = np.cumsum(lengths) - lengths
        cols = np.arange(flat.size) - np.repeat(starts, lengths)
        self.matrix[rows, cols] = flat
        self.rows = np.arange(len(strings))[:, None]
        self.lengths = lengths.astype(np.uint64)

    def word(self, offsets, size: int = 8):
        """Little-endian ``size``-byte words at per-string byte ``offsets``."""
        offsets = np.broadcast_to(np.asarray(offsets, np.int64), self.rows.shape[:1])
        grabbed = self.matrix[self.rows, offsets[:, None] + np.arange(size)]
        padded = np.zeros((grabbed.shape[0], 8), np.uint8)
        padded[:, :size] = grabbed
        return padded.view("<u8")[:, 0]


def to_bytes(values, encoding: str = "utf-8") -> list[bytes]:
    """Flat list of the values as bytes (``str`` encoded, ``bytes`` as they are)."""
    return [v if isinstance(v, bytes) else str(v).encode(encoding) for v in values]


def _grouped(strings: list[bytes], classify, hash_group) -> np.ndarray:
    """Hash each group of strings that ``classify`` puts together."""
    lengths = np.fromiter(map(len, strings), np.int64, len(strings))
    out = np.empty(len(strings), np.uint64)
    keys = classify(lengths)
    for key in np.unique(keys):
        index = np.flatnonzero(keys == key)
        group = _Bytes([strings[i] for i in index], lengths[index])
        out[index] = hash_group(group, int(key))
    return out


# ------------------------------------------------------------------ FarmHash
def _len0to16(s: _Bytes, key: int):
    n = s.lengths
    if key == 0:
        return np.full(n.shape, _K2)
    if key == 1:  # 1 to 3 bytes
        a = s.word(0, 1)
        b = s.word((n >> _U(1)).astype(np.int64), 1)
        c = s.word((n - _U(1)).astype(np.int64), 1)
        y = a + (b << _U(8))
        z = n + (c << _U(2))
        return _shift_mix(y * _K2 ^ z * _K0) * _K2
    mul = _K2 + n * _U(2)
    if key == 2:  # 4 to 7 bytes
        a = s.word(0, 4)
        last = s.word((n - _U(4)).astype(np.int64), 4)
        return _hash_len16(n + (a << _U(3)), last, mul)
    a = s.word(0) + _K2  # 8 to 16 bytes
    b = s.word((n - _U(8)).astype(np.int64))
    c = _rotate(b, 37) * mul + a
    d = (_rotate(a, 25) + b) * mul
    return _hash_len16(c, d, mul)


def _len17to32(s: _Bytes):
    n = s.lengths
    mul = _K2 + n * _U(2)
    a = s.word(0) * _K1
    b = s.word(8)
    c = s.word((n - _U(8)).astype(np.int64)) * mul
    d = s.word((n - _U(16)).astype(np.int64)) * _K2
    return _hash_len16(
        _rotate(a + b, 43) + _rotate(c, 30) + d, a + _rotate(b + _K2, 18) + c, mul
    )


def _len33to64(s: _Bytes):
    n = s.lengths
    last = n.astype(np.int64)
    mul = _K2 + n * _U(2)
    a = s.word(0) * _K2
    b = s.word(8)
    c = s.word(last - 8) * mul
    d = s.word(last - 16) * _K2
    y = _rotate(a + b, 43) + _rotate(c, 30) + d
    z = _hash_len16(y, a + _rotate(b + _K2, 18) + c, mul)
    e = s.word(16) * mul
    f = s.word(24)
    g = (y + s.word(last - 32)) * mul
    h = (z + s.word(last - 24)) * mul
    return _hash_len16(
        _rotate(e + f, 43) + _rotate(g, 30) + h, e + _rotate(f + a, 18) + g, mul
    )


def _weak32(s: _Bytes, start, a, b):
    w, x, y, z = (s.word(start + 8 * i) for i in range(4))
    a = a + w
    b = _rotate(b + a + z, 21)
    c = a
    a = a + x + y
    b = b + _rotate(a, 44)
    return a + z, b + c


def _long(s: _Bytes, blocks: int):
    """Strings of more than 64 bytes, all with the same number of 64-byte blocks
    before the last one (the loop runs in step over the group)."""
    seed = _U(81)
    zero = np.zeros(s.lengths.shape, np.uint64)
    x = seed * _K2 + s.word(0)
    y = zero + (seed * _K1 + _U(113))
    z = zero + _shift_mix(y * _K2 + _U(113)) * _K2
    v, w = (zero, zero), (zero, zero)
    for block in range(blocks):
        p = 64 * block
        x = _rotate(x + y + v[0] + s.word(p + 8), 37) * _K1
        y = _rotate(y + v[1] + s.word(p + 48), 42) * _K1
        x = x ^ w[1]
        y = y + v[0] + s.word(p + 40)
        z = _rotate(z + w[0], 33) * _K1
        v = _weak32(s, p, v[1] * _K1, x + w[0])
        w = _weak32(s, p + 32, z + w[1], y + s.word(p + 16))
        z, x = x, z
    mul = _K1 + ((z & _U(0xFF)) << _U(1))
    last = s.lengths.astype(np.int64) - 64
    w0 = w[0] + ((s.lengths - _U(1)) & _U(63))
    v0 = v[0] + w0
    w0 = w0 + v0
    x = _rotate(x + y + v0 + s.word(last + 8), 37) * mul
    y = _rotate(y + v[1] + s.word(last + 48), 42) * mul
    x = x ^ (w[1] * _U(9))
    y = y + v0 * _U(9) + s.word(last + 40)
    z = _rotate(z + w0, 33) * mul
    v = _weak32(s, last, v[1] * mul, x + w0)
    w = _weak32(s, last + 32, z + w[1], y + s.word(last + 16))
    z, x = x, z
    return _hash_len16(
        _hash_len16(v[0], w[0], mul) + _shift_mix(y) * _K0 + z,
        _hash_len16(v[1], w[1], mul) + x,
        mul,
    )


def _farm_class(lengths):
    """0: empty, 1: 1-3, 2: 4-7, 3: 8-16, 4: 17-32, 5: 33-64 bytes; 6 + k: more
    than 64 bytes with k full 64-byte blocks before the last one."""
    classes = np.select(
        [lengths == 0, lengths < 4, lengths < 8, lengths <= 16, lengths <= 32],
        [0, 1, 2, 3, 4],
        5,
    )
    return np.where(lengths > 64, 6 + (lengths - 1) // 64, classes)


def _farm_group(group: _Bytes, key: int):
    if key <= 3:
        return _len0to16(group, key)
    if key == 4:
        return _len17to32(group)
    if key == 5:
        return _len33to64(group)
    return _long(group, key - 6)


def fingerprint64(strings: list[bytes]) -> np.ndarray:
    """FarmHash ``Fingerprint64`` of each byte string (``uint64``), as
    TensorFlow's ``Fingerprint64`` and ``to_hash_bucket_fast``."""
    with np.errstate(over="ignore"):
        return _grouped(strings, _farm_class, _farm_group)


# ------------------------------------------------------------------- SipHash
def _sip_round(v0, v1, v2, v3):
    v0 = v0 + v1
    v1 = _rotate(v1, 64 - 13) ^ v0  # rotl(v1, 13) is rotr(v1, 51)
    v0 = _rotate(v0, 32)
    v2 = v2 + v3
    v3 = _rotate(v3, 64 - 16) ^ v2
    v0 = v0 + v3
    v3 = _rotate(v3, 64 - 21) ^ v0
    v2 = v2 + v1
    v1 = _rotate(v1, 64 - 17) ^ v2
    v2 = _rotate(v2, 32)
    return v0, v1, v2, v3


def siphash64(strings: list[bytes], key) -> np.ndarray:
    """SipHash-2-4 of each byte string under the 128-bit ``key`` (two 64-bit
    words, as TensorFlow's ``to_hash_bucket_strong`` takes it)."""
    k0, k1 = (_U(int(k) & 0xFFFFFFFFFFFFFFFF) for k in key)

    def group_hash(s: _Bytes, blocks: int):
        v0 = np.full(s.lengths.shape, k0 ^ _U(0x736F6D6570736575))
        v1 = np.full(s.lengths.shape, k1 ^ _U(0x646F72616E646F6D))
        v2 = np.full(s.lengths.shape, k0 ^ _U(0x6C7967656E657261))
        v3 = np.full(s.lengths.shape, k1 ^ _U(0x7465646279746573))
        for block in range(blocks + 1):
            m = s.word(8 * block)
            if block == blocks:  # the tail, with the length in the top byte
                m = m | (s.lengths << _U(56))
            v3 = v3 ^ m
            v0, v1, v2, v3 = _sip_round(*_sip_round(v0, v1, v2, v3))
            v0 = v0 ^ m
        v2 = v2 ^ _U(0xFF)
        for _ in range(4):
            v0, v1, v2, v3 = _sip_round(v0, v1, v2, v3)
        return v0 ^ v1 ^ v2 ^ v3

    with np.errstate(over="ignore"):
        return _grouped(strings, lambda lengths: lengths // 8, group_hash)


def fingerprint_cat64(first, second):
    """TensorFlow's ``FingerprintCat64``: two fingerprints combined into one."""
    with np.errstate(over="ignore"):
        result = np.asarray(first, np.uint64) ^ _KMUL
        result = result ^ (_shift_mix(np.asarray(second, np.uint64) * _KMUL) * _KMUL)
        result = result * _KMUL
        result = _shift_mix(result) * _KMUL
        return _shift_mix(result)

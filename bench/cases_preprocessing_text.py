"""Text preprocessing: TextVectorization's ``adapt`` and call on 100k short
strings. Keras 3's TextVectorization needs TensorFlow (its string ops), even on
the torch backend: its column is timed only where TensorFlow is installed
(``KERAS_BACKEND=torch`` with ``tensorflow`` beside Keras). The "torch" baseline is
the same pipeline hand-written in Python (``str.translate``, ``str.split``, a
``collections.Counter``, dict lookups) into a padded torch tensor: there is no
text vectorizer in PyTorch itself.
"""

from __future__ import annotations

import collections
import importlib.util
import string

import keras
import numpy as np
import torch

import lamina
from bench.registry import Case, CaseMismatch, register

N_STRINGS = 100_000
MAX_TOKENS = 5_000
LENGTH = 16
_TABLE = str.maketrans(
    string.ascii_uppercase, string.ascii_lowercase, string.punctuation
)
HAS_TENSORFLOW = importlib.util.find_spec("tensorflow") is not None


def setup(rng: np.random.Generator):
    words = np.array([f"w{i}" for i in range(8_000)] + ["The", "A", "cat!", "Dog,"])
    zipf = rng.zipf(1.3, size=(N_STRINGS, 8)) % len(words)
    lengths = rng.integers(3, 9, size=N_STRINGS)
    rows = words[zipf].tolist()
    texts = [" ".join(row[:n]) for row, n in zip(rows, lengths.tolist())]
    return {"texts": np.array(texts)}


def _layer(k):
    return k.layers.TextVectorization(
        max_tokens=MAX_TOKENS, output_sequence_length=LENGTH
    )


# ------------------------------------------------------------------ adapt
def _adapt_step(k):
    def build(workload):
        def step():
            layer = _layer(k)
            layer.adapt(workload["texts"])
            return np.array([str(v) for v in layer.get_vocabulary()])

        return step

    return build


def _python_vocabulary(texts) -> list[str]:
    counts = collections.Counter(
        token for text in texts.tolist() for token in text.translate(_TABLE).split()
    )
    ranked = sorted(counts.items(), key=lambda item: (item[1], item[0]), reverse=True)
    return ["", "[UNK]"] + [token for token, _ in ranked[: MAX_TOKENS - 2]]


def torch_adapt(workload):
    return lambda: np.array(_python_vocabulary(workload["texts"]))


def same_vocabulary(workload, outputs):
    reference = outputs["torch"][0]
    for impl, (vocabulary,) in outputs.items():
        if vocabulary.tolist() != reference.tolist():
            raise CaseMismatch(f"{impl}'s vocabulary differs from the reference")


# ------------------------------------------------------------------- call
def _call_step(k):
    def build(workload):
        layer = _layer(k)
        layer.adapt(workload["texts"])
        texts = workload["texts"]
        return lambda: layer(texts)

    return build


def torch_call(workload):
    vocabulary = _python_vocabulary(workload["texts"])
    index = {token: i for i, token in enumerate(vocabulary) if i > 1}
    texts = workload["texts"]

    def step():
        rows = []
        for text in texts.tolist():
            ids = [index.get(t, 1) for t in text.translate(_TABLE).split()[:LENGTH]]
            rows.append(ids + [0] * (LENGTH - len(ids)))
        return torch.tensor(rows, dtype=torch.int64)

    return step


def same_ids(workload, outputs):
    reference = outputs["torch"][0]
    for impl, (ids,) in outputs.items():
        if not np.array_equal(ids, reference):
            raise CaseMismatch(f"{impl}'s token ids differ from the reference")


register(
    Case(
        "text_vectorization_adapt_100k",
        setup,
        _adapt_step(lamina),
        torch_adapt,
        _adapt_step(keras) if HAS_TENSORFLOW else None,
        check=same_vocabulary,
    )
)
register(
    Case(
        "text_vectorization_call_100k",
        setup,
        _call_step(lamina),
        torch_call,
        _call_step(keras) if HAS_TENSORFLOW else None,
        check=same_ids,
    )
)

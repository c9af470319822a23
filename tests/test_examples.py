"""The scripts in examples/ keep running: each is run briefly (a few steps)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_transformer_reviews_need_word_order():
    example = _load("transformer_text_classifier")
    tokens, labels = example.make_reviews(200, np.random.default_rng(1))
    assert tokens.shape == (200, example.MAXLEN)
    good, bad = example.VOCAB.index("good"), example.VOCAB.index("bad")
    # every review holds one "good" and one "bad": only their order tells
    assert ((tokens == good).sum(axis=1) == 1).all()
    assert ((tokens == bad).sum(axis=1) == 1).all()
    good_last = np.argmax(tokens == good, axis=1) > np.argmax(tokens == bad, axis=1)
    np.testing.assert_array_equal(good_last.astype("int32"), labels)
    assert 0.3 < labels.mean() < 0.7


def test_transformer_text_classifier_runs_a_few_steps():
    example = _load("transformer_text_classifier")
    result = example.main(train_size=96, test_size=32, epochs=1, verbose=0)
    assert 0.0 <= result["accuracy"] <= 1.0
    assert 0.0 <= result["int8_accuracy"] <= 1.0

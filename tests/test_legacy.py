"""Keras 1/2 assets: tf.keras ``.h5`` files (made by tests/fixtures/
make_legacy_fixtures.py) and Keras 1 spellings in code."""

import pathlib

import numpy as np
import pytest

import lamina

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
EXPECTED = np.load(FIXTURES / "expected.npz")


def _expected(name):
    xs = [EXPECTED[k] for k in sorted(EXPECTED.files) if k.startswith(f"{name}_x")]
    ys = [EXPECTED[k] for k in sorted(EXPECTED.files) if k.startswith(f"{name}_y")]
    return xs, ys


def _check_predictions(model, name, atol=1e-5, rtol=1e-5):
    xs, ys = _expected(name)
    got = model.predict(xs if len(xs) > 1 else xs[0])
    got = got if isinstance(got, list) else [got]
    assert len(got) == len(ys)
    for g, y in zip(got, ys):
        np.testing.assert_allclose(g, y, atol=atol, rtol=rtol)


@pytest.mark.parametrize(
    "name, fixture",
    [
        ("mlp", "keras2_mlp.h5"),
        ("functional", "keras2_functional.h5"),
        ("cnn", "keras2_cnn.h5"),
        ("rnn", "keras2_rnn.h5"),
        ("cudnn", "cudnn.h5"),
        ("local", "keras2_local.h5"),
        ("tfk", "tf_keras_mlp.keras"),
    ],
)
def test_tf_keras_files_load_with_equal_predictions(name, fixture):
    model = lamina.models.load_model(FIXTURES / fixture, compile=False)
    _check_predictions(model, name)

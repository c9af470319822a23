"""The bundled digits: shape, range, determinism of the split, the licence note."""

from __future__ import annotations

import numpy as np
import pytest

import lamina
from lamina.datasets import digits


def test_load_data_shapes_values_and_split():
    (x_train, y_train), (x_test, y_test) = lamina.datasets.digits.load_data()
    assert x_train.shape == (1437, 8, 8) and x_test.shape == (360, 8, 8)
    assert y_train.shape == (1437,) and y_test.shape == (360,)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert x_train.max() == 16 and x_train.min() == 0
    assert set(np.unique(np.concatenate([y_train, y_test]))) == set(range(10))
    assert len(y_train) + len(y_test) == digits.NUM_SAMPLES
    # every class is well represented on both sides of the split
    assert np.bincount(y_test, minlength=10).min() >= 20


def test_split_is_deterministic_and_follows_the_arguments():
    (a, _), _ = digits.load_data()
    (b, _), _ = digits.load_data()
    np.testing.assert_array_equal(a, b)
    (c, _), _ = digits.load_data(seed=1)
    assert not np.array_equal(a, c)
    (x_train, _), (x_test, _) = digits.load_data(test_split=0.5)
    assert len(x_train) == 898 and len(x_test) == 899
    (x_train, _), (x_test, _) = digits.load_data(test_split=0.0)
    assert len(x_train) == 1797 and len(x_test) == 0
    with pytest.raises(ValueError, match=r"`test_split` must be a number in \[0, 1\)"):
        digits.load_data(test_split=1.0)


def test_first_image_is_a_zero_and_the_licence_ships_with_the_data():
    # scikit-learn's digits.images[0] is the well-known "0"
    import gzip

    with gzip.open(digits.DATA_FILE, "rt") as f:
        first = np.array(f.readline().split(","), dtype=int)
    assert first[-1] == 0 and first[:64].reshape(8, 8)[0, 2:5].tolist() == [5, 13, 9]
    note = (digits.DATA_FILE.parent / "DIGITS_LICENSE.txt").read_text()
    assert "BSD 3-Clause" in note and "CC BY 4.0" in note

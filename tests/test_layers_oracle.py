"""Every layer case against Keras 3, and every error case against its message."""

import inspect

import pytest

import lamina
from tests.cases import CASES, ERROR_CASES
from tests.oracle import check_error, check_layer

NOT_LAYERS = {"Layer", "InputLayer", "Input", "InputSpec", "KerasTensor"}


@pytest.mark.parametrize("case", CASES, ids=str)
def test_layer_matches_keras(case):
    check_layer(case)


@pytest.mark.parametrize("case", ERROR_CASES, ids=str)
def test_bad_arguments_raise_clear_errors(case):
    check_error(case, pytest)


def test_every_public_layer_has_a_case():
    public = {
        name
        for name, obj in vars(lamina.layers).items()
        if inspect.isclass(obj) and issubclass(obj, lamina.layers.Layer)
    } - NOT_LAYERS
    covered = {case.layer for case in CASES}
    assert sorted(public - covered) == []

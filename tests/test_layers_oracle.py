"""Every layer case against Keras 3, and every error case against its message.

Cases live in ``tests/cases*.py`` (one module per layer family); each module
defines ``CASES`` and ``ERROR_CASES`` and is collected here.
"""

import importlib
import inspect
import pathlib

import pytest
import torch

import lamina
from tests.oracle import check_error, check_layer

NOT_LAYERS = {"Layer", "InputLayer", "Input", "InputSpec", "KerasTensor"}
_MODULES = [
    importlib.import_module(f"tests.{path.stem}")
    for path in sorted(pathlib.Path(__file__).parent.glob("cases*.py"))
]
CASES = [case for module in _MODULES for case in getattr(module, "CASES", [])]
ERROR_CASES = [
    case for module in _MODULES for case in getattr(module, "ERROR_CASES", [])
]
# Layers Keras 3 does not have (LocallyConnected) are checked against NumPy
# references in their own tests; their modules list them in KERAS_FREE_LAYERS.
KERAS_FREE = {name for m in _MODULES for name in getattr(m, "KERAS_FREE_LAYERS", ())}


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    # Tiny tensors: on a loaded machine extra threads only wait on each other
    # (torch's CPU LSTM runs oneDNN, whose threads synchronize every step).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


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
    covered = {case.layer for case in CASES} | KERAS_FREE
    covered |= {name for case in CASES for name in case.also_covers}
    assert sorted(public - covered) == []

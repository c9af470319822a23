"""Every layer case against Keras 3, and every error case against its message and
against Keras raising too.

Cases live in ``tests/cases*.py`` (one module per layer family); each module
defines ``CASES`` and ``ERROR_CASES`` and is collected here. tests/oracle.py says
how to write them.
"""

import importlib
import inspect
import pathlib

import numpy as np
import pytest
import torch

import lamina
from tests.oracle import Input, check_error, check_layer

pytestmark = pytest.mark.cuda  # `make test-cuda` runs this suite on the GPU

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
# Layers the oracle cannot compare (TorchModuleWrapper: Keras's weight names come
# from a global counter) are compared with Keras in their own test module; the
# case module that says so lists them in TESTED_ELSEWHERE.
TESTED_ELSEWHERE = {
    name for m in _MODULES for name in getattr(m, "TESTED_ELSEWHERE", ())
}


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
    covered = {case.layer for case in CASES} | KERAS_FREE | TESTED_ELSEWHERE
    covered |= {name for case in CASES for name in case.also_covers}
    assert sorted(public - covered) == []


@pytest.mark.parametrize(
    "spec,dtype",
    [
        (Input((2, 3)), "float32"),
        (Input((2, 3), "float64", "uniform"), "float64"),
        (Input((2, 3), "int32"), "int32"),
        (Input((2, 3), "bool"), "bool"),
        (Input((2, 3), "string"), "<U3"),
        (Input((2, 3), "string", "sentences"), "<U"),
    ],
    ids=str,
)
def test_input_specs_make_the_same_data_for_a_seed(spec, dtype):
    first, again, other = spec.make(0), spec.make(0), spec.make(1)
    assert first.shape == (2, 3) and str(first.dtype).startswith(dtype)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_an_unknown_recipe_is_refused():
    with pytest.raises(ValueError, match=r"unknown recipe 'gauss'"):
        Input((2,), recipe="gauss").make(0)

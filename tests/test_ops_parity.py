"""``keras.ops`` parity: every public name of ``keras.ops`` and of its submodules
``numpy``, ``nn``, ``image`` and ``linalg`` exists in lamina's counterpart, is
callable (or is the same submodule), and has Keras's signature (parameter
names, kinds, order and defaults). Each public op is a plain function listed in
its module's ``__all__``, which ``lamina.ops`` gathers.
"""

from __future__ import annotations

import importlib
import inspect
import types

import keras  # a dev dependency: the oracle
import pytest

import lamina.ops as lops

SUBMODULES = ["", "numpy", "nn", "image", "linalg"]
# lamina.ops modules with public ops, each mirroring keras.src.ops.<name>.
OP_MODULES = ["core", "einops", "image", "linalg", "math", "nn", "numpy"]


def _public(module):
    return sorted(n for n in dir(module) if not n.startswith("_"))


def _pairs():
    for sub in SUBMODULES:
        theirs = getattr(keras.ops, sub) if sub else keras.ops
        ours = getattr(lops, sub, None) if sub else lops
        for name in _public(theirs):
            yield sub, name, theirs, ours


PAIRS = list(_pairs())


@pytest.mark.parametrize("sub", SUBMODULES)
def test_no_keras_ops_name_is_missing(sub):
    theirs = getattr(keras.ops, sub) if sub else keras.ops
    ours = getattr(lops, sub, None) if sub else lops
    assert isinstance(ours, types.ModuleType), f"lamina.ops.{sub} is missing"
    missing = [n for n in _public(theirs) if not hasattr(ours, n)]
    assert not missing, f"lamina.ops{'.' + sub if sub else ''} lacks {missing}"


def _signature(function):
    parameters = inspect.signature(function).parameters.values()
    return [(p.name, p.kind, p.default) for p in parameters]


@pytest.mark.parametrize(
    "sub,name,theirs,ours", PAIRS, ids=[f"{s or 'ops'}.{n}" for s, n, _, _ in PAIRS]
)
def test_same_callable_and_signature(sub, name, theirs, ours):
    expected, actual = getattr(theirs, name), getattr(ours, name)
    if isinstance(expected, types.ModuleType):  # keras.ops.image, .linalg, ...
        assert actual is getattr(lops, name)
        return
    assert callable(actual)
    assert _signature(actual) == _signature(expected), (
        f"{name}{inspect.signature(actual)} != keras {inspect.signature(expected)}"
    )


@pytest.mark.parametrize("module_name", OP_MODULES)
def test_public_ops_are_plain_functions_in_all(module_name):
    # The symbolic-tensor wrapper goes over each module's __all__.
    module = importlib.import_module(f"lamina.ops.{module_name}")
    assert len(set(module.__all__)) == len(module.__all__)
    for name in module.__all__:
        assert inspect.isfunction(getattr(module, name)), f"{module_name}.{name}"


def test_lamina_ops_gathers_every_module():
    gathered = set()
    for module_name in OP_MODULES:
        if module_name != "image":  # keras.ops.image is a submodule only
            gathered |= set(
                importlib.import_module(f"lamina.ops.{module_name}").__all__
            )
    assert gathered == set(lops.__all__)
    extras = set(lops.__all__) - set(_public(keras.ops))
    # lamina extras: the dtype helpers Keras keeps in keras.backend, and mish.
    assert extras <= {"standardize_dtype", "result_type", "mish"}

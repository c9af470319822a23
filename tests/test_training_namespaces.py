"""Every public name of keras.optimizers (and .schedules, .legacy), keras.losses,
keras.metrics, keras.callbacks and keras.random exists in lamina; the deliberate
exceptions are listed with their reason."""

from __future__ import annotations

import keras
import pytest

import lamina
from lamina.saving import registry

EXCEPTIONS = {
    "callbacks": {
        # Orbax is a JAX checkpointing library (orbax-checkpoint pulls in jax);
        # lamina never imports jax. ModelCheckpoint/BackupAndRestore cover it.
        "OrbaxCheckpoint",
    },
}
NAMESPACES = [
    "optimizers", "optimizers.schedules", "optimizers.legacy", "losses", "metrics",
    "callbacks", "random",
]  # fmt: skip


def _public(module) -> set[str]:
    return {name for name in dir(module) if not name.startswith("_")}


def _module(root, dotted):
    for part in dotted.split("."):
        root = getattr(root, part)
    return root


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_every_keras_name_exists(namespace):
    theirs = _public(_module(keras, namespace))
    ours = _public(_module(lamina, namespace))
    missing = theirs - ours - EXCEPTIONS.get(namespace, set())
    assert not missing, f"lamina.{namespace} lacks {sorted(missing)}"
    for name in EXCEPTIONS.get(namespace, set()):
        assert name in theirs, f"exception {name!r} is no longer a Keras name"


@pytest.mark.parametrize("namespace", ["optimizers", "losses", "metrics"])
def test_classes_are_registered_for_lookup(namespace):
    table = registry.built_in(namespace)
    module = _module(lamina, namespace)
    for name in _public(_module(keras, namespace)):
        obj = getattr(module, name)
        if isinstance(obj, type):
            assert table.get(name) is obj, f"{namespace}: {name} is not registered"

"""``Wrapper`` against Keras 3, through a small wrapper written once against
either library and registered in both (a Wrapper subclass defines ``call``;
``Wrapper`` itself has none, in either). ``TimeDistributed`` stands on
``Wrapper`` too (tests/cases_rnn.py).

``TorchModuleWrapper`` is compared with Keras 3 in
tests/test_torch_module_wrapper.py rather than here: Keras names its weights from
a global counter (``variable_7``), its config holds a pickle that neither library
cross-loads in safe mode, and it trains the module when called without
``training``.
"""

from __future__ import annotations

import keras

import lamina
from tests.oracle import Case, ErrorCase, Input

TESTED_ELSEWHERE = ("TorchModuleWrapper",)


def _twice(L):
    k = lamina if L is lamina.layers else keras

    @k.saving.register_keras_serializable(package="oracle")
    class Twice(L.Wrapper):
        """Applies the wrapped layer twice."""

        def call(self, inputs):
            return self.layer(self.layer(inputs))

    return Twice(L.Dense(3, activation="tanh", name="twice_inner"))


CASES = [
    Case("Twice", build=_twice, inputs=(2, 3), also_covers=("Wrapper",)),
    Case(
        "Twice",
        build=_twice,
        inputs=Input((2, 4, 3)),
        also_covers=("Wrapper",),
        id="Twice-3d",
    ),
]

ERROR_CASES = [
    ErrorCase("Wrapper", {"layer": "dense"}, r"Wrapper '\w+': `layer` must be a Layer"),
]

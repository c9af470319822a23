"""Tiny layers written once against either library (``L`` is ``lamina.layers`` or
``keras.layers``), registered in both so configs cross-load. Each exercises one
feature of the oracle on real layers until the layer families that need it land:
a list input (merge layers), keyword inputs and a dict of outputs (attention),
a training call that moves a statistic (BatchNormalization), ``adapt`` into
weights (Normalization) and into a vocabulary of strings (StringLookup).
"""

from __future__ import annotations

import keras
import numpy as np

import lamina
from tests.oracle import Case, Input


def _library(L):
    return lamina if L is lamina.layers else keras


def _scaled_add(L):
    k = _library(L)

    @k.saving.register_keras_serializable(package="oracle")
    class ScaledAdd(L.Layer):
        """``a + scale * b`` for the inputs ``[a, b]``: a merge layer in small."""

        def build(self, input_shape):
            self.scale = self.add_weight(
                shape=(input_shape[1][-1],), initializer="random_normal", name="scale"
            )

        def call(self, inputs):
            a, b = inputs
            return a + self.scale * b

    return ScaledAdd()


def _gate(L):
    k = _library(L)

    @k.saving.register_keras_serializable(package="oracle")
    class Gate(L.Layer):
        """``inputs * sigmoid(gate) * weight`` and the gate, as a dict."""

        def build(self, input_shape):
            self.weight = self.add_weight(
                shape=(input_shape[-1],), initializer="random_normal", name="weight"
            )

        def call(self, inputs, gate):
            opened = k.ops.sigmoid(gate)
            return {"gated": inputs * opened * self.weight, "gate": opened}

    return Gate()


def _running_center(L):
    k = _library(L)

    @k.saving.register_keras_serializable(package="oracle")
    class RunningCenter(L.Layer):
        """Subtracts the batch mean in training, a moving mean at inference."""

        def __init__(self, momentum=0.9, **kwargs):
            super().__init__(**kwargs)
            self.momentum = momentum

        def build(self, input_shape):
            self.gamma = self.add_weight(
                shape=(input_shape[-1],), initializer="random_normal", name="gamma"
            )
            self.moving_mean = self.add_weight(
                shape=(input_shape[-1],),
                initializer="zeros",
                trainable=False,
                name="moving_mean",
            )

        def call(self, inputs, training=False):
            mean = self.moving_mean
            if training:
                mean = k.ops.mean(inputs, axis=0)
                self.moving_mean.assign(
                    self.moving_mean * self.momentum + mean * (1 - self.momentum)
                )
            return (inputs - mean) * self.gamma

        def get_config(self):
            return {**super().get_config(), "momentum": self.momentum}

    return RunningCenter()


def _standardize(L):
    k = _library(L)

    @k.saving.register_keras_serializable(package="oracle")
    class Standardize(L.Layer):
        """``(x - mean) / std`` with the statistics of the data given to ``adapt``."""

        def build(self, input_shape):
            for name, initializer in (("mean", "zeros"), ("std", "ones")):
                weight = self.add_weight(
                    shape=(input_shape[-1],),
                    initializer=initializer,
                    trainable=False,
                    name=name,
                )
                setattr(self, name, weight)

        def adapt(self, data):
            data = k.ops.convert_to_tensor(data)
            if not self.built:
                self.build(tuple(data.shape))
                self.built = True
            self.mean.assign(k.ops.mean(data, axis=0))
            self.std.assign(k.ops.std(data, axis=0))

        def call(self, inputs):
            return (inputs - self.mean) / self.std

    return Standardize()


def _word_index(L):
    k = _library(L)

    @k.saving.register_keras_serializable(package="oracle")
    class WordIndex(L.Layer):
        """The index of each word in the vocabulary ``adapt`` found (0: unknown)."""

        def __init__(self, vocabulary=(), **kwargs):
            super().__init__(**kwargs)
            self.vocabulary = list(vocabulary)
            self._convert_input_args = False  # Keras: strings stay NumPy
            self._allow_non_tensor_positional_args = True

        def adapt(self, data):
            self.vocabulary = sorted(set(np.asarray(data).ravel().tolist()))

        def call(self, inputs):
            index = {word: i + 1 for i, word in enumerate(self.vocabulary)}
            find = np.vectorize(lambda word: index.get(word, 0), otypes=["int64"])
            return k.ops.convert_to_tensor(find(np.asarray(inputs)))

        def get_config(self):
            return {**super().get_config(), "vocabulary": self.vocabulary}

    return WordIndex()


CASES = [
    Case(
        "ScaledAdd",
        build=_scaled_add,
        inputs=[Input((2, 5)), Input((2, 5))],
        id="ScaledAdd-list-inputs",
    ),
    Case(
        "Gate",
        build=_gate,
        inputs={"inputs": Input((3, 4)), "gate": Input((3, 4))},
        id="Gate-dict-inputs-dict-outputs",
    ),
    Case(
        "RunningCenter",
        build=_running_center,
        inputs=(6, 3),
        train_call=True,
        id="RunningCenter-train-call",
    ),
    Case(
        "Standardize",
        build=_standardize,
        inputs=(4, 3),
        adapt=Input((20, 3)),
        id="Standardize-adapt",
    ),
    Case(
        "WordIndex",
        build=_word_index,
        inputs=Input((3, 4), "string"),
        adapt=Input((6,), "string"),
        symbolic=False,  # lamina.Input has no string dtype yet
        id="WordIndex-adapt-strings",
    ),
]

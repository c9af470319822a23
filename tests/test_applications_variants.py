"""The variants of each application family that ``tests/test_applications.py``
does not build (deeper or wider members of the same families): built here and in
Keras 3 with ``weights=None``, their layer names, classes, order, weight shapes,
parameter counts and output shapes are equal. Structure only for these: the
predictions of each family are compared on one member (the Inception and NASNet
families here, the others in ``test_applications.py``). A file of its own so that
``pytest -n 2 --dist loadfile`` runs it beside that one."""

from __future__ import annotations

import keras
import pytest
import torch

import lamina
from tests.test_applications import (
    SAME_CONFIGS,
    _build,
    assert_same_layer_configs,
    assert_same_network,
    assert_same_predictions,
)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Building a network is thousands of small kernels (weight initializers,
    shape probes): on a shared machine torch's thread pool only adds contention
    (builds 3-4x slower under load), and ``-n 2`` already uses both cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


FAMILIES = [
    ("InceptionV3", {"input_shape": (75, 75, 3), "classes": 4}),
    ("InceptionResNetV2", {"input_shape": (75, 75, 3), "include_top": False}),
    ("NASNetMobile", {"input_shape": (32, 32, 3), "classes": 3}),
]


@pytest.mark.parametrize("fn,kwargs", FAMILIES, ids=[f for f, _ in FAMILIES])
def test_same_network_and_predictions_as_keras(fn, kwargs):
    theirs = _build(keras, fn, kwargs)
    ours = _build(lamina, fn, kwargs)
    assert_same_network(theirs, ours)
    assert_same_predictions(theirs, ours)


VARIANTS = [
    ("VGG19", {"input_shape": (32, 32, 3), "classes": 3}),
    ("ResNet101", {"input_shape": (32, 32, 3), "include_top": False}),
    ("ResNet152", {"input_shape": (32, 32, 3), "include_top": False, "pooling": "max"}),
    ("ResNet101V2", {"input_shape": (32, 32, 3), "include_top": False}),
    ("ResNet152V2", {"input_shape": (32, 32, 3), "include_top": False, "pooling": "avg"}),
    ("DenseNet169", {"input_shape": (32, 32, 3), "include_top": False}),
    ("DenseNet201", {"input_shape": (32, 32, 3), "classes": 3}),
    ("NASNetLarge", {"input_shape": (32, 32, 3), "include_top": False, "pooling": "max"}),
    ("ConvNeXtSmall", {"input_shape": (32, 32, 3), "include_top": False}),
    ("ConvNeXtBase", {"input_shape": (32, 32, 3), "classes": 3}),
    ("ConvNeXtLarge", {"input_shape": (32, 32, 3), "include_top": False}),
    ("ConvNeXtXLarge", {"input_shape": (32, 32, 3), "include_top": False}),
    ("MobileNetV3Large", {"include_preprocessing": False, "include_top": False,
                          "pooling": "max", "alpha": 0.75}),
    ("MobileNetV3Small", {"include_preprocessing": False, "minimalistic": True}),
    ("EfficientNetB1", {"input_shape": (32, 32, 3), "classes": 3}),
    ("EfficientNetB2", {"input_shape": (32, 32, 3), "include_top": False}),
    ("EfficientNetB3", {"input_shape": (32, 32, 3), "include_top": False, "pooling": "max"}),
    ("EfficientNetB4", {"input_shape": (32, 32, 3), "include_top": False, "pooling": "avg"}),
    ("EfficientNetB5", {"input_shape": (32, 32, 3), "include_top": False}),
    ("EfficientNetB6", {"input_shape": (32, 32, 3), "include_top": False}),
    ("EfficientNetB7", {"input_shape": (32, 32, 3), "include_top": False}),
    ("EfficientNetV2B1", {"input_shape": (32, 32, 3), "include_top": False,
                          "include_preprocessing": False}),
    ("EfficientNetV2B2", {"input_shape": (32, 32, 3), "classes": 3}),
    ("EfficientNetV2B3", {"input_shape": (32, 32, 3), "include_top": False,
                          "pooling": "max"}),
    ("EfficientNetV2S", {"input_shape": (32, 32, 3), "include_top": False}),
    ("EfficientNetV2M", {"input_shape": (32, 32, 3), "include_top": False}),
    ("EfficientNetV2L", {"input_shape": (32, 32, 3), "include_top": False}),
]  # fmt: skip


@pytest.mark.parametrize("fn,kwargs", VARIANTS, ids=[f for f, _ in VARIANTS])
def test_same_network_as_keras(fn, kwargs):
    theirs, ours = _build(keras, fn, kwargs), _build(lamina, fn, kwargs)
    assert_same_network(theirs, ours)
    if fn.startswith(SAME_CONFIGS):
        assert_same_layer_configs(theirs, ours)

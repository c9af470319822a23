"""Keras layers on PyTorch: every class here is a ``torch.nn.Module``.

Every layer family lives in its own subpackage, which lists its public layers in
``__all__``; this module gathers them (``lamina.layers.Dense``, ...).
"""

import sys

from lamina.layers import (
    activations,
    attention,
    convolutional,
    core,
    locally_connected,
    merging,
    normalization,
    pooling,
    preprocessing,
    regularization,
    reshaping,
    rnn,
)
from lamina.layers import operation as _operation
from lamina.layers.activations import *  # noqa: F403
from lamina.layers.attention import *  # noqa: F403
from lamina.layers.convolutional import *  # noqa: F403
from lamina.layers.core import *  # noqa: F403
from lamina.layers.input_layer import Input, InputLayer
from lamina.layers.input_spec import InputSpec
from lamina.layers.keras_tensor import KerasTensor
from lamina.layers.layer import Layer
from lamina.layers.locally_connected import *  # noqa: F403
from lamina.layers.merging import *  # noqa: F403
from lamina.layers.normalization import *  # noqa: F403
from lamina.layers.pooling import *  # noqa: F403
from lamina.layers.preprocessing import *  # noqa: F403
from lamina.layers.regularization import *  # noqa: F403
from lamina.layers.reshaping import *  # noqa: F403
from lamina.layers.rnn import *  # noqa: F403
from lamina.layers.serialization import deserialize, serialize
from lamina.saving import registry

_FAMILIES = (
    attention,
    convolutional,
    core,
    regularization,
    reshaping,
    locally_connected,
    rnn,
    pooling,
    normalization,
    preprocessing,
    merging,
    activations,
)

# Keras 1/2 names, argument spellings and module paths (after the families, whose
# classes it wraps; see lamina/layers/legacy.py).
from lamina.layers import legacy as _legacy  # noqa: E402

globals().update(_legacy.install(sys.modules[__name__]))

__all__ = [
    "Input",
    "InputLayer",
    "InputSpec",
    "KerasTensor",
    "Layer",
    "deserialize",
    "serialize",
    *[name for family in _FAMILIES for name in family.__all__],
]

registry.register(
    "layers",
    {
        name: obj
        for name, obj in globals().items()
        if isinstance(obj, type) and issubclass(obj, Layer)
    },
)
# Not public here (keras.Operation is top-level); ops record nodes through them.
registry.register(
    "layers",
    {
        "Operation": _operation.Operation,
        "KerasOperation": _operation.KerasOperation,
    },
)

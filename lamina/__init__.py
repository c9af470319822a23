"""lamina: the Keras layer system on PyTorch.

``import lamina as keras`` and Keras code runs unchanged, with Keras's numbers, on
``torch.nn.Module`` layers.
"""

from lamina import (
    activations,
    callbacks,
    config,
    constraints,
    datasets,
    dtype_policies,
    initializers,
    layers,
    losses,
    metrics,
    mixed_precision,
    models,
    ops,
    optimizers,
    regularizers,
    saving,
)
from lamina.layers import Input, InputSpec, KerasTensor, Layer
from lamina.models import Model, Sequential
from lamina.saving import register_keras_serializable
from lamina.variables import Variable

__version__ = "0.1.0"

__all__ = [
    "Input",
    "InputSpec",
    "KerasTensor",
    "Layer",
    "Model",
    "Sequential",
    "Variable",
    "activations",
    "callbacks",
    "config",
    "constraints",
    "datasets",
    "dtype_policies",
    "initializers",
    "layers",
    "losses",
    "metrics",
    "mixed_precision",
    "models",
    "ops",
    "optimizers",
    "regularizers",
    "register_keras_serializable",
    "saving",
]

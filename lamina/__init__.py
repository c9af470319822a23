"""lamina: the Keras layer system on PyTorch.

``import lamina as keras`` and Keras code runs unchanged, with Keras's numbers, on
``torch.nn.Module`` layers. Every public submodule is an attribute of the package
(``keras.backend.clear_session()`` works right after ``import lamina as keras``).
"""

from lamina import (
    activations,
    applications,
    backend,
    callbacks,
    config,
    constraints,
    datasets,
    distribution,
    dtype_policies,
    export,
    initializers,
    layers,
    losses,
    metrics,
    mixed_precision,
    models,
    ops,
    optimizers,
    preprocessing,
    quantizers,
    random,
    regularizers,
    saving,
    utils,
)
from lamina.backend import name_scope
from lamina.dtype_policies import DTypePolicy, FloatDTypePolicy
from lamina.initializers import Initializer
from lamina.layers import Input, InputSpec, KerasTensor, Layer
from lamina.layers.operation import Operation
from lamina.losses import Loss
from lamina.metrics import Metric
from lamina.models import Model, Sequential
from lamina.optimizers import Optimizer
from lamina.quantizers import Quantizer
from lamina.regularizers import Regularizer
from lamina.saving import register_keras_serializable
from lamina.variables import Variable
from lamina.version import __version__, version

__all__ = [
    "DTypePolicy",
    "FloatDTypePolicy",
    "Initializer",
    "Input",
    "InputSpec",
    "KerasTensor",
    "Layer",
    "Loss",
    "Metric",
    "Model",
    "Operation",
    "Optimizer",
    "Quantizer",
    "Regularizer",
    "Sequential",
    "Variable",
    "__version__",
    "activations",
    "applications",
    "backend",
    "callbacks",
    "config",
    "constraints",
    "datasets",
    "distribution",
    "dtype_policies",
    "export",
    "initializers",
    "layers",
    "losses",
    "metrics",
    "mixed_precision",
    "models",
    "name_scope",
    "ops",
    "optimizers",
    "preprocessing",
    "quantizers",
    "random",
    "regularizers",
    "register_keras_serializable",
    "saving",
    "utils",
    "version",
]

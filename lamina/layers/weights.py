"""Weights of a layer: creation in Keras layout and the Keras weight API.

Weights are ``lamina.Variable``s (``torch.nn.Parameter``s) registered on the module,
kept in creation order, trainable ones first (Keras order); sublayers' weights follow.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from lamina import config, constraints, initializers, regularizers
from lamina import dtype_policies as policies
from lamina.saving.serialization import AllocationBudget
from lamina.utils.validation import describe
from lamina.variables import Variable


class WeightsAPI:
    """Mixin for ``Layer``: ``add_weight``, ``weights``, ``get_weights``/``set_weights``,
    ``trainable`` and ``count_params``. Expects ``_trainable_params``,
    ``_non_trainable_params``, ``_weight_regularizers`` and ``_sublayers()``."""

    _trainable_params: list[Variable]
    _non_trainable_params: list[Variable]
    _weight_regularizers: list[tuple[Variable, Any]]

    def add_weight(
        self,
        shape=None,
        initializer=None,
        dtype=None,
        trainable=True,
        autocast=True,
        regularizer=None,
        constraint=None,
        aggregation="none",
        overwrite_with_gradient=False,
        name=None,
    ):
        """Create a weight (a ``Variable``, i.e. a ``torch.nn.Parameter``) in Keras
        layout. ``initializer`` defaults to glorot_uniform for floats, zeros else."""
        if isinstance(shape, str):  # Keras 2 order: add_weight(name, shape, ...)
            name, shape, initializer = shape, initializer, None
        shape = () if shape is None else tuple(int(d) for d in shape)
        dtype = policies.to_torch_dtype(dtype or self.variable_dtype)
        if initializer is None:
            initializer = "glorot_uniform" if dtype.is_floating_point else "zeros"
        name = name or "variable"
        if any(d < 0 for d in shape):
            raise ValueError(
                f"{describe(self)}: weight {name!r} must have sizes >= 0; got "
                f"shape={shape}."
            )
        AllocationBudget.charge(describe(self), name, shape, dtype.itemsize)
        value = self._initial_value(initializers, initializer, shape, dtype, name)
        # As in Keras, a weight of a frozen layer is made non-trainable; the
        # layer's `trainable` setter turns it back on (it stays listed trainable).
        variable = Variable(value, requires_grad=bool(trainable) and self._trainable)
        variable.name = name
        variable.path = f"{self.name}/{name}"
        variable.__dict__["_keras_trainable"] = bool(trainable) and self._trainable
        variable.__dict__["regularizer"] = regularizers.get(regularizer)
        variable.__dict__["constraint"] = constraints.get(constraint)
        self.register_parameter(self._free_parameter_key(name), variable)
        (self._trainable_params if trainable else self._non_trainable_params).append(
            variable
        )
        if variable.regularizer is not None:
            self._weight_regularizers.append((variable, variable.regularizer))
        return variable

    add_variable = add_weight

    def _initial_value(self, initializers, initializer, shape, dtype, name):
        if isinstance(initializer, (np.ndarray, torch.Tensor, list, float, int)):
            value = torch.as_tensor(np.asarray(initializer), dtype=dtype)
        else:
            init = initializers.get(initializer)
            value = torch.as_tensor(init(shape, dtype=dtype), dtype=dtype)
        if tuple(value.shape) != shape:
            raise ValueError(
                f"{describe(self)}: initializer of weight '{name}' produced "
                f"shape {tuple(value.shape)}, expected {shape}."
            )
        return value.to(config.get_device())

    def _free_parameter_key(self, name: str) -> str:
        key = name.replace(".", "_").replace("/", "_") or "variable"
        if key in self.__dict__ and self.__dict__[key] is None:
            del self.__dict__[key]  # a placeholder such as `self.bias = None`
        base, i = key, 1
        while key in self._parameters or key in self._modules or key in self.__dict__:
            key, i = f"{base}_{i}", i + 1
        return key

    def _own_weights(self) -> list[Variable]:
        return self._trainable_params + self._non_trainable_params

    @property
    def weights(self) -> list[Variable]:
        """All weights in Keras order: own trainable, own non-trainable, sublayers'."""
        weights, seen = [], set()
        for w in self._own_weights() + [
            w for layer in self._sublayers() for w in layer.weights
        ]:
            if id(w) not in seen:
                seen.add(id(w))
                weights.append(w)
        return weights

    @property
    def trainable_weights(self) -> list[Variable]:
        if not self._trainable:
            return []
        return [w for w in self.weights if w.trainable and w.requires_grad]

    @property
    def non_trainable_weights(self) -> list[Variable]:
        if not self._trainable:
            return self.weights
        return [w for w in self.weights if not (w.trainable and w.requires_grad)]

    variables = weights
    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        value = bool(value)
        self._trainable = value
        for w in self._trainable_params:
            w.trainable = value  # Keras's flag, and requires_grad with it
        for layer in self._sublayers():
            layer.trainable = value

    def get_weights(self) -> list[np.ndarray]:
        """Weights as NumPy copies, in ``weights`` order."""
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights) -> None:
        """Set all weights from NumPy arrays in ``weights`` order (shapes must match)."""
        own = self.weights
        weights = list(weights)
        if len(weights) != len(own):
            raise ValueError(
                f"{describe(self)}: set_weights expected a list of {len(own)} arrays "
                f"({', '.join(w.name for w in own) or 'no weights'}), got "
                f"{len(weights)} arrays."
            )
        values = []
        for variable, value in zip(own, weights):
            value = torch.as_tensor(np.asarray(value), dtype=variable.dtype)
            if tuple(value.shape) != tuple(variable.shape):
                raise ValueError(
                    f"{describe(self)}: weight '{variable.path}' has shape "
                    f"{tuple(variable.shape)}, but set_weights was given an array of "
                    f"shape {tuple(value.shape)}."
                )
            values.append(value)
        with torch.no_grad():
            for variable, value in zip(own, values):
                variable.copy_(value)

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(
                f"{describe(self)}: count_params() needs the layer built; call it on "
                "data, on an Input, or build it with `layer.build(input_shape)` first."
            )
        return int(sum(w.numel() for w in self.weights))

"""``MultiOptimizer`` and ``OptimizerMap``: different optimizers for different
weights of one model (Keras 3.15's API)."""

from __future__ import annotations

import re
from collections.abc import MutableMapping

import torch

from lamina.optimizers.loss_scale_optimizer import LossScaleOptimizer
from lamina.optimizers.optimizer import Optimizer, deserialize
from lamina.saving import serialization
from lamina.utils.validation import arg_error, describe

_INNER_RULE = "an Optimizer other than LossScaleOptimizer and MultiOptimizer"


def _is_inner(optimizer) -> bool:
    """Whether ``optimizer`` may serve inside a MultiOptimizer."""
    return isinstance(optimizer, Optimizer) and not isinstance(
        optimizer, (LossScaleOptimizer, MultiOptimizer)
    )


class OptimizerMap(MutableMapping):
    """Variable paths (or regular expressions over them) -> optimizers.

    Lookup tries the exact key first, then every key as a pattern that must
    ``re.fullmatch`` the path (``"encoder/.*"`` covers a whole block);
    unmatched paths get ``default_optimizer``. Calling the map with a variable
    looks up its ``path``.

    Args:
        default_optimizer: the optimizer of every unmatched variable.
        optimizer_map: an initial ``{key: optimizer}`` dict.

    Raises:
        TypeError: for a default that is not an ``Optimizer`` or a map that is
            not a dict.
        ValueError: when a path matches more than one pattern, or when setting a
            duplicate key, a non-string key or a wrapper optimizer.

    Example:
    >>> import lamina as keras
    >>> adam, sgd = keras.optimizers.Adam(), keras.optimizers.SGD()
    >>> table = keras.optimizers.OptimizerMap(sgd, {"encoder/.*": adam})
    >>> table["encoder/dense/kernel"] is adam, table["head/kernel"] is sgd
    (True, True)
    """

    _keras_module = "keras.optimizers"

    def __init__(self, default_optimizer, optimizer_map=None):
        if not isinstance(default_optimizer, Optimizer):
            raise arg_error(
                self, "default_optimizer", "an Optimizer instance", default_optimizer,
                TypeError,
            )  # fmt: skip
        if optimizer_map is not None and not isinstance(optimizer_map, dict):
            raise arg_error(self, "optimizer_map", "a dict", optimizer_map, TypeError)
        self._default_optimizer = default_optimizer
        self._optimizer_map = dict(optimizer_map or {})

    @property
    def default_optimizer(self):
        return self._default_optimizer

    def __getitem__(self, key):
        if key in self._optimizer_map:
            return self._optimizer_map[key]
        matches = [p for p in self._optimizer_map if re.fullmatch(p, key)]
        if len(matches) > 1:
            raise ValueError(
                f"OptimizerMap: variable path {key!r} matches more than one pattern "
                f"({matches}); each variable needs exactly one optimizer."
            )
        if matches:
            return self._optimizer_map[matches[0]]
        return self._default_optimizer

    def __setitem__(self, key, optimizer):
        if not isinstance(key, str):
            raise arg_error(self, "key", "a string (a path or a regex)", key)
        if key in self._optimizer_map:
            raise ValueError(
                f"OptimizerMap: key {key!r} is already mapped to "
                f"{self._optimizer_map[key]!r}; keys must be unique."
            )
        if not _is_inner(optimizer):
            raise arg_error(self, "optimizer", _INNER_RULE, optimizer)
        self._optimizer_map[key] = optimizer

    def __delitem__(self, key):
        del self._optimizer_map[key]

    def __len__(self):
        return len(self._optimizer_map)

    def __iter__(self):
        return iter(self._optimizer_map)

    def __call__(self, variable):
        return self[variable.path]

    def get_config(self):
        return {
            "default_optimizer": serialization.serialize_keras_object(
                self._default_optimizer
            ),
            "optimizer_map": serialization.serialize_keras_object(self._optimizer_map),
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        default = deserialize(config["default_optimizer"], custom_objects)
        table = {
            key: deserialize(value, custom_objects)
            for key, value in (config.get("optimizer_map") or {}).items()
        }
        return cls(default, table)


class MultiOptimizer(Optimizer):
    """Delegates each variable to its own optimizer.

    ``optimizer_map`` is an ``OptimizerMap`` or any callable ``variable ->
    Optimizer``. ``build`` groups the variables by optimizer and builds each
    one on its group; ``apply`` hands each optimizer its gradients. The inner
    optimizers keep their own step counts, learning rates and state;
    ``optimizers`` lists them. A ``MultiOptimizer`` has no learning rate of its
    own: reading or setting ``learning_rate`` raises ``AttributeError``.

    Args:
        optimizer_map: an ``OptimizerMap`` or a callable choosing an optimizer
            per variable.
        loss_scale_factor: set on every inner optimizer (overriding theirs).
        name: the optimizer's name.

    State: ``iteration`` and ``learning_rate`` (unused, as in Keras), then each
    inner optimizer's variables in ``optimizers`` order.

    Example:
    >>> import torch, lamina as keras
    >>> table = keras.optimizers.OptimizerMap(keras.optimizers.SGD(0.1))
    >>> table["fast"] = keras.optimizers.SGD(1.0)
    >>> slow, fast = torch.nn.Parameter(torch.ones(1)), torch.nn.Parameter(torch.ones(1))
    >>> slow.path, fast.path = "slow", "fast"
    >>> keras.optimizers.MultiOptimizer(table).apply([torch.ones(1)] * 2, [slow, fast])
    >>> round(slow.item(), 4), round(fast.item(), 4)
    (0.9, 0.0)
    """

    def __init__(self, optimizer_map, loss_scale_factor=None, name=None):
        if not callable(optimizer_map):
            raise arg_error(
                self, "optimizer_map", "an OptimizerMap or a callable", optimizer_map,
                TypeError,
            )  # fmt: skip
        # public, as Keras's `optimizers` property: the weights file walks it and
        # stores each inner optimizer under `optimizer/optimizers/<name>` too
        self.optimizers: list[Optimizer] = []
        super().__init__(
            learning_rate=0.0, loss_scale_factor=loss_scale_factor, name=name
        )
        self._optimizer_map = optimizer_map
        if isinstance(optimizer_map, OptimizerMap):
            for optimizer in [*optimizer_map.values(), optimizer_map.default_optimizer]:
                self._add_inner(optimizer)

    def _add_inner(self, optimizer) -> int:
        if optimizer not in self.optimizers:
            optimizer.loss_scale_factor = self.loss_scale_factor
            self.optimizers.append(optimizer)
        return self.optimizers.index(optimizer)

    @property
    def loss_scale_factor(self):
        return self.__dict__.get("_loss_scale_factor")

    @loss_scale_factor.setter
    def loss_scale_factor(self, value):
        self._loss_scale_factor = value
        for optimizer in self.__dict__.get("optimizers", ()):
            optimizer.loss_scale_factor = value

    @property
    def variables(self):
        variables = list(self._variables)
        for optimizer in self.optimizers:
            variables += optimizer.variables
        return variables

    @property
    def learning_rate(self):
        raise AttributeError(
            f"{describe(self)} has no single learning rate; read it on the inner "
            "optimizers (`optimizer.optimizers`)."
        )

    @learning_rate.setter
    def learning_rate(self, value):
        raise AttributeError(
            f"{describe(self)} has no single learning rate; set it on the inner "
            "optimizers (`optimizer.optimizers`)."
        )

    def build(self, variables):
        if self.built:
            return
        variables = list(variables)
        groups: dict[int, list] = {}
        self._owner_of: dict[int, int] = {}
        for variable in variables:
            optimizer = self._optimizer_map(variable)
            if not _is_inner(optimizer):
                raise ValueError(
                    f"{describe(self)}: `optimizer_map` must give {_INNER_RULE} for "
                    f"each variable; got {optimizer!r} for "
                    f"{getattr(variable, 'path', variable)!r}."
                )
            owner = self._add_inner(optimizer)
            self._owner_of[id(variable)] = owner
            groups.setdefault(owner, []).append(variable)
        for owner, group in sorted(groups.items()):
            self.optimizers[owner].build(group)
        self._trainable_variables = variables
        self.built = True

    @torch.no_grad()
    def apply(self, grads, trainable_variables=None):
        grads = list(grads)
        if not grads:
            return
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    f"{describe(self)}: apply(grads) without variables needs the "
                    "optimizer built; call `optimizer.build(variables)` first."
                )
            trainable_variables = self._trainable_variables
        trainable_variables = list(trainable_variables)
        self.build(trainable_variables)
        if len(grads) != len(trainable_variables):
            raise ValueError(
                f"{describe(self)}: got {len(grads)} gradients for "
                f"{len(trainable_variables)} variables; they must match one to one."
            )
        for owner, (sub_grads, sub_vars) in self._split(grads, trainable_variables):
            self.optimizers[owner].apply(sub_grads, sub_vars)
        self._iterations.add_(1)

    def _split(self, values, variables):
        """``(owner, (values, variables))`` for each inner optimizer with any."""
        groups: dict[int, tuple[list, list]] = {}
        for value, variable in zip(values, variables):
            owner = self._owner_of.get(id(variable))
            if owner is None:
                raise ValueError(
                    f"{describe(self)} was built for other variables; "
                    f"{getattr(variable, 'path', variable)!r} is not one of them."
                )
            group = groups.setdefault(owner, ([], []))
            group[0].append(value)
            group[1].append(variable)
        return sorted(groups.items())

    def finalize_variable_values(self, var_list):
        if not self.built:
            return
        var_list = [v for v in var_list if id(v) in self._owner_of]
        for owner, (_, group) in self._split(var_list, var_list):
            self.optimizers[owner].finalize_variable_values(group)

    def get_config(self):
        return {
            "optimizer_map": serialization.serialize_keras_object(self._optimizer_map),
            "loss_scale_factor": self.loss_scale_factor,
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        table = config["optimizer_map"]
        if isinstance(table, dict) and table.get("class_name") == "OptimizerMap":
            config["optimizer_map"] = OptimizerMap.from_config(
                table["config"], custom_objects
            )
        else:
            config["optimizer_map"] = serialization.deserialize_keras_object(
                table, custom_objects=custom_objects, printable_module_name="function"
            )
        return cls(**config)

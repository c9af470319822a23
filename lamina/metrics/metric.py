"""``Metric``: a stateful quantity accumulated over batches (Keras 3 API), and the
reduction metrics ``Mean``, ``Sum`` and ``MeanMetricWrapper``.

State lives in non-trainable ``Variable``s (``metric.variables``); updates run
without autograd, so a metric never holds on to a training graph.
"""

from __future__ import annotations

import inspect

import torch

from lamina import config, initializers
from lamina import dtype_policies as policies
from lamina.losses.loss import apply_mask, as_tensor, squeeze_or_expand_to_same_rank
from lamina.saving import registry, serialization
from lamina.utils import naming
from lamina.utils.lookup import resolve
from lamina.variables import Variable


class Metric:
    """Base class of metrics: implement ``update_state``, ``result`` and create
    state with ``add_variable``; ``reset_state`` zeroes every variable.

    Args:
        dtype: dtype of the state and the result (default ``floatx()``).
        name: the metric's name (the key it is logged under).

    Example:
    >>> import lamina as keras
    >>> class Count(keras.metrics.Metric):
    ...     def __init__(self, name="count"):
    ...         super().__init__(name=name)
    ...         self.n = self.add_variable((), "zeros", name="n")
    ...     def update_state(self, values):
    ...         self.n.assign_add(len(values))
    ...     def result(self):
    ...         return self.n.value
    >>> count = Count()
    >>> count.update_state([1, 2, 3]); float(count.result())
    3.0
    """

    _keras_module = "keras.metrics"

    def __init__(self, dtype=None, name=None):
        self.name = name or naming.auto_name(type(self).__name__)
        self._dtype_policy = policies.get(dtype or config.floatx())
        self._dtype = self._dtype_policy.compute_dtype
        self._torch_dtype = policies.to_torch_dtype(self._dtype)
        self._variables: list[Variable] = []

    @property
    def dtype(self) -> str:
        return self._dtype

    @property
    def variables(self) -> list[Variable]:
        variables = list(self._variables)
        for value in self.__dict__.values():
            if isinstance(value, Metric):
                variables += value.variables
        return variables

    def add_variable(
        self, shape, initializer, dtype=None, aggregation="sum", name=None
    ):
        """A non-trainable state variable, tracked in ``variables``."""
        shape = tuple(shape)
        dtype = policies.to_torch_dtype(dtype or self._dtype)
        value = torch.as_tensor(initializers.get(initializer)(shape, dtype=dtype))
        variable = Variable(value.to(config.get_device()), requires_grad=False)
        variable.name = name or "variable"
        variable.path = f"{self.name}/{variable.name}"
        variable.__dict__["_keras_trainable"] = False
        self._variables.append(variable)
        return variable

    def add_weight(self, shape=(), initializer=None, dtype=None, name=None):
        return self.add_variable(shape, initializer or "zeros", dtype, name=name)

    def reset_state(self) -> None:
        with torch.no_grad():
            for variable in self.variables:
                variable.zero_()

    def update_state(self, *args, **kwargs):
        raise NotImplementedError(
            f"{type(self).__name__}: a Metric subclass must implement update_state()."
        )

    def result(self):
        raise NotImplementedError(
            f"{type(self).__name__}: a Metric subclass must implement result()."
        )

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config_dict):
        return cls(**config_dict)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


def _to_state_device(x, variable):
    return as_tensor(x, None, variable.device).detach()


def reduce_to_samplewise_values(values, sample_weight, reduce_fn, dtype):
    """Weight ``values`` and reduce everything past the batch axis (Keras's rule)."""
    mask = getattr(values, "_keras_mask", None)
    values = values.to(dtype)
    if sample_weight is not None:
        sample_weight = as_tensor(sample_weight, dtype, values.device)
        if mask is not None:
            sample_weight = apply_mask(sample_weight, mask, dtype, "sum")
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        if values.ndim > sample_weight.ndim:
            values = reduce_fn(
                values, dim=tuple(range(sample_weight.ndim, values.ndim))
            )
        sample_weight = torch.broadcast_to(sample_weight, values.shape)
        values = values * sample_weight
        if sample_weight.ndim > 1:
            sample_weight = reduce_fn(
                sample_weight, dim=tuple(range(1, sample_weight.ndim))
            )
    if values.ndim > 1:
        values = reduce_fn(values, dim=tuple(range(1, values.ndim)))
    return values, sample_weight


class Sum(Metric):
    """The (weighted) sum of the values seen.

    Example:
    >>> import lamina as keras
    >>> float(keras.metrics.Sum()([1, 3, 5, 7]))
    16.0
    """

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable((), "zeros", name="total")

    @torch.no_grad()
    def update_state(self, values, sample_weight=None):
        values = _to_state_device(values, self.total)
        values, _ = reduce_to_samplewise_values(
            values, sample_weight, torch.sum, self._torch_dtype
        )
        self.total.add_(values.sum())

    def result(self):
        return self.total.detach().clone()


class Mean(Metric):
    """The (weighted) mean of the values seen: ``total / count``.

    Example:
    >>> import lamina as keras
    >>> mean = keras.metrics.Mean()
    >>> mean.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    >>> float(mean.result())
    2.0
    """

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable((), "zeros", name="total")
        self.count = self.add_variable((), "zeros", name="count")

    @torch.no_grad()
    def update_state(self, values, sample_weight=None):
        values = _to_state_device(values, self.total)
        if isinstance(sample_weight, (int, float)) and values.ndim == 0:
            # The trainer's loss tracker: a scalar weighted by the batch size.
            self.total.add_(values.to(self._torch_dtype) * sample_weight)
            self.count.add_(float(sample_weight))
            return
        values, sample_weight = reduce_to_samplewise_values(
            values, sample_weight, torch.mean, self._torch_dtype
        )
        self.total.add_(values.sum())
        if sample_weight is not None:
            self.count.add_(sample_weight.sum())
        else:
            self.count.add_(float(values.shape[0]) if values.ndim >= 1 else 1.0)

    def result(self):
        total, count = self.total.detach(), self.count.detach()
        return torch.where(count != 0, total / count, torch.zeros_like(total))


class MeanMetricWrapper(Mean):
    """The mean of ``fn(y_true, y_pred, **kwargs)`` over all samples seen.

    Example:
    >>> import lamina as keras
    >>> metric = keras.metrics.MeanMetricWrapper(keras.losses.mean_absolute_error)
    >>> float(metric([[0.0], [1.0]], [[1.0], [1.0]]))
    0.5
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name, dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    @torch.no_grad()
    def update_state(self, y_true, y_pred, sample_weight=None):
        mask = getattr(y_pred, "_keras_mask", None)
        y_pred = _to_state_device(y_pred, self.total)
        y_true = _to_state_device(y_true, self.total)
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        sample_weight = apply_mask(sample_weight, mask, self._torch_dtype, "sum")
        super().update_state(values, sample_weight=sample_weight)

    def get_config(self) -> dict:
        config_dict = super().get_config()
        if type(self) is MeanMetricWrapper:
            config_dict["fn"] = serialization.serialize_keras_object(self._fn)
            config_dict.update(serialization.serialize_keras_object(self._fn_kwargs))
        else:
            config_dict.update(
                {key: getattr(self, key) for key in getattr(self, "_config_keys", ())}
            )
        return config_dict

    @classmethod
    def from_config(cls, config_dict):
        config_dict = dict(config_dict)
        if "fn" in config_dict and isinstance(config_dict["fn"], str):
            config_dict["fn"] = get(config_dict["fn"])
        return cls(**config_dict)


class _Wrapper(MeanMetricWrapper):
    """A ``MeanMetricWrapper`` subclass whose constructor arguments (besides name
    and dtype) are ``_config_keys`` passed on to ``fn``."""

    _fn = None
    _config_keys: tuple[str, ...] = ()

    def __init__(self, name, dtype, **kwargs):
        super().__init__(type(self)._fn, name=name, dtype=dtype, **kwargs)
        for key, value in kwargs.items():
            setattr(self, key, value)


# The `keras.metrics` lookup functions; names resolve in the registry, which
# lamina.metrics fills with its classes and functions.
def serialize(metric):
    """A metric's Keras 3 serialization."""
    return serialization.serialize_keras_object(metric)


def deserialize(config, custom_objects=None):
    """A metric from its name or serialization dict."""
    return serialization.deserialize_keras_object(
        config,
        module_objects=registry.built_in("metrics"),
        custom_objects=custom_objects,
        printable_module_name="metric",
        instantiate_strings=False,
    )


def get(identifier):
    """A metric from a name (``"mae"``, ``"AUC"``, ``"binary_accuracy"``), a
    config dict, a ``Metric`` or a function; names give default instances.

    Raises:
        ValueError: for an unknown name, naming it and the known names.
    """
    if identifier is None:
        return None
    if isinstance(identifier, str):
        obj = resolve("metric", identifier, registry.built_in("metrics"))
    elif isinstance(identifier, dict):
        obj = deserialize(identifier)
    else:
        obj = identifier
    if inspect.isclass(obj):
        obj = obj()
    if not callable(obj) and not isinstance(obj, Metric):
        raise ValueError(
            f"Could not interpret metric identifier {identifier!r}: expected a metric "
            "name, a config dict, a Metric or a function."
        )
    return obj

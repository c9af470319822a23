"""``Operation``: a computation that becomes a graph node when called on symbolic
tensors, as ``keras.Operation``; and the nodes ``lamina.ops`` functions record.

``ops.mean(x, axis=1)`` on a KerasTensor makes a ``Mean`` operation and calls it:
``Mean`` is a subclass of ``KerasOperation`` made on first use from the Keras
table (``lamina.ops.operation_specs``), with Keras's class name, module and config, so a
model's summary reads ``mean (Mean)`` and its file is Keras's. The node computes
with lamina's own ``ops.mean``; its output shape and dtype come from running that
function on stand-in tensors (``lamina.layers.shape_inference``), as for layers.

An Operation is a ``Layer`` without weights: the functional ``Model``, summaries,
the node API and naming treat it as one. A model lists its operations in
``model.operations`` and, as in Keras, only true layers in ``model.layers``.
"""

from __future__ import annotations

from lamina.layers.keras_tensor import KerasTensor, Node
from lamina.layers.layer import Layer
from lamina.layers.shape_inference import infer_symbolic_outputs
from lamina.ops import operation_specs as specs
from lamina.ops import symbolic
from lamina.utils import tree
from lamina.utils.validation import describe

_INFERENCE_ERRORS = (ValueError, TypeError, NotImplementedError, RuntimeError)


class Operation(Layer):
    """Base class of computations that record a node on symbolic inputs
    (``keras.Operation``): subclass it and write ``call``.

    Called with a KerasTensor anywhere in its arguments, an operation records a
    node whose output shape and dtype come from running ``call`` on stand-in
    tensors; called on tensors, it runs ``call``. It has no weights, and drops
    input masks as Keras's operations do.

    Args:
        name: unique name; default derived from the class name (``my_op``).

    Example:

    >>> import lamina as keras
    >>> class Double(keras.Operation):
    ...     def call(self, x):
    ...         return x * 2
    >>> y = Double()(keras.Input((3,)))
    >>> y.shape
    (None, 3)
    """

    _keras_module = "keras.src.ops.operation"

    def __init__(self, name=None):
        super().__init__(name=name)
        self.built = True

    def __call__(self, *args, **kwargs):
        if symbolic.has_symbolic(args, kwargs):
            return self.symbolic_call(*args, **kwargs)
        return self.call(*args, **kwargs)

    def symbolic_call(self, *args, **kwargs):
        """Record a node for KerasTensor arguments and return its outputs."""
        try:
            outputs = infer_symbolic_outputs(self, args, kwargs)
        except _INFERENCE_ERRORS as e:
            raise type(e)(_inference_message(self, args, kwargs, e)) from None
        for output in tree.flatten(outputs):
            if not isinstance(output, KerasTensor):
                raise TypeError(
                    f"{describe(self)}: on symbolic inputs it returned "
                    f"{type(output).__name__} {output!r}, not a tensor, so it "
                    "cannot be a node of a graph."
                )
        Node(self, args, kwargs, outputs)
        return outputs

    def _eager_call(self, args, kwargs):
        # Shape inference runs this on stand-in tensors.
        return self.call(*args, **kwargs)

    @property
    def graph_call(self):
        """What a functional model calls for this node: its inputs are tensors
        there, so it skips the check for symbolic ones."""
        return self.call

    def compute_output_spec(self, *args, **kwargs):
        return infer_symbolic_outputs(self, args, kwargs)

    def get_build_config(self):
        return None

    def get_config(self) -> dict:
        """``name`` and the constructor's arguments (Keras's automatic config)."""
        return {"name": self.name, **self._auto_config()}

    def extra_repr(self) -> str:
        return f"name={self.name!r}"


class KerasOperation(Operation):
    """The node of a ``lamina.ops`` function: Keras's Operation class of that
    function (``Mean``, ``GetItem``...), one subclass per class, made by
    ``operation_class``. Its constructor takes Keras's arguments (the config);
    calling it runs lamina's function with them."""

    _spec: specs.OpSpec

    def __init__(self, name=None, **kwargs):
        super().__init__(name=name)
        self._op_config = specs.complete_config(self._spec, kwargs)
        self._run = specs.runner(self._spec, self._op_config)

    @classmethod
    def from_spec(cls, spec: specs.OpSpec, op_config: dict) -> KerasOperation:
        """A new operation of Keras's class ``spec`` with constructor arguments
        ``op_config`` (what ``lamina.ops`` functions call on symbolic inputs)."""
        return operation_class(spec.key)(**op_config)

    def __call__(self, *args, **kwargs):
        if symbolic.has_symbolic(args, kwargs):
            return self.symbolic_call(*args, **kwargs)
        return self._run(*args, **kwargs)

    def call(self, *args, **kwargs):
        return self._run(*args, **kwargs)

    @property
    def graph_call(self):
        return self._run

    def get_config(self) -> dict:
        config = {"name": self.name, **self._op_config}
        keys = self._spec.config_keys
        return config if keys is None else {k: config[k] for k in keys if k in config}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def extra_repr(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._op_config.items())
        return f"name={self.name!r}" + (f", {args}" if args else "")


_classes: dict[str, type] = {}


def operation_class(key: str) -> type:
    """The class of Keras's Operation ``key`` (``"keras.src.ops.numpy.Mean"``),
    made on first use. ``ValueError`` if Keras has no such operation."""
    cls = _classes.get(key)
    if cls is not None:
        return cls
    spec = specs.operation_spec(key)
    if spec is None:
        raise ValueError(
            f"Unknown operation: {key!r}. lamina knows the operations of Keras "
            f"{specs.KERAS_VERSION}'s `keras.ops`."
        )
    cls = type(
        spec.class_name,
        (KerasOperation,),
        {
            "__module__": __name__,
            "__doc__": f"Keras's ``{spec.key}``: the node of ``ops.{spec.function}``.",
            "_spec": spec,
            "_keras_module": spec.module,
            "_keras_registered_name": spec.class_name,
        },
    )
    _classes[key] = cls
    return cls


def __getattr__(name: str) -> type:
    """``lamina.layers.operation.Mean``: the operation classes by their (unique)
    Keras class names, so pickle finds the classes made on use."""
    for key in specs.OPERATIONS:
        if key.rsplit(".", 1)[1] == name:
            return operation_class(key)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _inference_message(operation, args, kwargs, error) -> str:
    shapes = [
        t.shape for t in tree.flatten((args, kwargs)) if isinstance(t, KerasTensor)
    ]
    return (
        f"{describe(operation)} cannot be applied to symbolic inputs of shape(s) "
        f"{', '.join(map(str, shapes))} with these arguments: {error}"
    )

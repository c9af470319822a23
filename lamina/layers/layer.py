"""``Layer``: the Keras layer contract on a ``torch.nn.Module``.

A layer is built on its first call (``build(input_shape)`` creates weights in Keras
layout), computes in ``call``, and can be called on real tensors (eager) or on
KerasTensors (symbolic: records a ``Node`` and infers the output shape by running
``call`` on fake, meta-backed tensors, see ``_infer_symbolic_outputs``).

The eager path is the hot path: after the first call it converts inputs only when
they are not tensors, checks the ``input_spec`` only when the input shape changes,
resolves ``training`` and masks, and hands over to ``torch.nn.Module.__call__`` so
hooks, ``torch.compile`` and friends behave as for any module.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, NamedTuple

import numpy as np
import torch

from lamina import config, regularizers
from lamina import dtype_policies as policies
from lamina.layers import run_plan
from lamina.layers.call_context import call_context as _ctx
from lamina.layers.input_spec import assert_input_compatibility
from lamina.layers.keras_tensor import Node, any_symbolic
from lamina.layers.node_api import NodeAPI
from lamina.layers.shape_inference import (
    infer_symbolic_outputs,
    shape_from_config,
    shape_to_config,
    shapes_of,
    symbolic_from_shapes,
)
from lamina.layers.weights import WeightsAPI
from lamina.saving import serialization
from lamina.utils import naming, tree
from lamina.utils.validation import describe
from lamina.variables import Variable

_module_call = torch.nn.Module.__call__


class _CallInfo(NamedTuple):
    has_training: bool
    has_mask: bool
    computes_mask: bool  # the class overrides compute_mask (not with a no-op)
    plain_forward: bool  # forward is Layer.forward (it only calls `call`)
    first_argument: str | None  # the name of `call`'s first parameter
    # __call__, _eager_call and forward are Layer's: ``call_in_model`` may skip them
    direct: bool


_call_info_cache: dict[type, _CallInfo] = {}


def _call_info(cls) -> _CallInfo:
    info = _call_info_cache.get(cls)
    if info is None:
        params = inspect.signature(cls.call).parameters
        names = [
            name
            for name, p in params.items()
            if name != "self" and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        info = _CallInfo(
            "training" in params,
            "mask" in params,
            cls.compute_mask is not Layer.compute_mask
            and not getattr(cls.compute_mask, "_no_output_mask", False),
            cls.forward is Layer.forward,
            names[0] if names else None,
            cls.forward is Layer.forward
            and getattr(cls.__call__, "_plain_layer_call", False)
            and cls._eager_call is Layer._eager_call,
        )
        _call_info_cache[cls] = info
    return info


def _input_mask(inputs):
    """The mask(s) attached to ``inputs`` (None when there are none)."""
    if isinstance(inputs, torch.Tensor):
        return getattr(inputs, "_keras_mask", None)
    if isinstance(inputs, (list, tuple)):
        masks = [getattr(x, "_keras_mask", None) for x in inputs]
        return masks if any(m is not None for m in masks) else None
    return None


class Layer(WeightsAPI, NodeAPI, run_plan.Plannable, torch.nn.Module):
    """Base class of all layers: a ``torch.nn.Module`` that follows Keras's contract.

    Args:
        activity_regularizer: regularizer applied to the layer's outputs; its value
            divided by the batch size is added to ``losses`` on each call.
        trainable: whether the layer's weights are updated in training.
        dtype: a dtype name (``"float32"``), a ``DTypePolicy`` or its name
            (``"mixed_bfloat16"``). Default: the global policy.
        autocast: cast floating inputs to the compute dtype (default True).
        name: unique name; default derived from the class name (``dense_1``).
        input_shape / input_dim / batch_input_shape / batch_size: Sequential's
            first layer may declare its input this way (Keras 2 style).
        weights: initial weights, set right after the layer is built.
    """

    _keras_module = "keras.layers"
    # Whether bool/integer inputs are cast to the compute dtype (Keras's ops
    # promote ``bool @ float32`` to float32 inside such layers; torch's refuse).
    # None: when the layer holds floating-point weights. Layers that take indices
    # (Embedding) say False, and so do containers whose own layers decide.
    _promotes_integer_inputs: bool | None = None

    def __new__(cls, *args, **kwargs):
        instance = super().__new__(cls)
        # Kept for the automatic ``get_config`` of layers that define none.
        object.__setattr__(instance, "_init_arguments", (args, kwargs))
        return instance

    def __init__(
        self,
        *,
        activity_regularizer=None,
        trainable=True,
        dtype=None,
        autocast=True,
        name=None,
        **kwargs,
    ):
        super().__init__()
        self.training = False  # Keras semantics: inference unless told otherwise.
        self._pop_input_shape_kwargs(kwargs)
        self._initial_weights = kwargs.pop("weights", None)
        if kwargs:
            raise ValueError(
                f"{type(self).__name__}: unrecognized keyword argument(s) "
                f"{sorted(kwargs)}; see the signature of {type(self).__name__}."
            )
        if name is not None and (not isinstance(name, str) or not name):
            raise ValueError(
                f"{type(self).__name__}: `name` must be a non-empty string; "
                f"got name={name!r}."
            )
        self.name = name or naming.auto_name(type(self).__name__)
        self.dtype_policy = dtype
        self.autocast = bool(autocast)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.built = False
        self.input_spec = None
        self.supports_masking = not _is_default(type(self), "compute_mask")
        self._trainable = bool(trainable)
        self._trainable_params: list[Variable] = []
        self._non_trainable_params: list[Variable] = []
        self._weight_regularizers: list[tuple[Variable, Any]] = []
        self._losses: list[torch.Tensor] = []
        self._inbound_nodes: list[Node] = []
        self._outbound_nodes: list[Node] = []
        self._build_shapes = None
        self._build_depth = 0
        self._spec_checked_shape = None
        self._call_info = _call_info(type(self))

    # ------------------------------------------------------------------ set-up
    def _pop_input_shape_kwargs(self, kwargs) -> None:
        batch_size = kwargs.pop("batch_size", None)
        shape = None
        if "batch_input_shape" in kwargs:
            shape = tuple(kwargs.pop("batch_input_shape"))
        elif "batch_shape" in kwargs:
            shape = tuple(kwargs.pop("batch_shape"))
        else:
            input_shape = kwargs.pop("input_shape", None)
            input_dim = kwargs.pop("input_dim", None)
            if input_shape is None and input_dim is not None:
                input_shape = (input_dim,)
            if input_shape is not None:
                if isinstance(input_shape, int):
                    input_shape = (input_shape,)
                shape = (batch_size, *tuple(input_shape))
        self._batch_input_shape = shape

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "build" in cls.__dict__:
            cls.build = _track_build(cls.__dict__["build"])
        if "compute_mask" in cls.__dict__:
            cls.compute_mask = _accept_arrays(cls.__dict__["compute_mask"])

    def __setattr__(self, name, value):
        super().__setattr__(name, value)
        if name == "input_spec":  # a new spec checks every shape again
            object.__setattr__(self, "_spec_checked_shape", None)
        # Keras tracks layers held in lists/dicts; torch only tracks direct attributes.
        if isinstance(value, (list, tuple)) and not name.startswith("_"):
            for i, item in enumerate(value):
                if isinstance(item, torch.nn.Module):
                    self.add_module(f"{name}_{i}", item)
        elif isinstance(value, dict) and not name.startswith("_"):
            for key, item in value.items():
                if isinstance(item, torch.nn.Module):
                    self.add_module(f"{name}_{key}", item)

    # ---------------------------------------------------------------- dtypes
    @property
    def dtype_policy(self) -> policies.DTypePolicy:
        return self._dtype_policy

    @dtype_policy.setter
    def dtype_policy(self, value) -> None:
        policy = policies.get(value)
        self._dtype_policy = policy
        self._compute_torch_dtype = policies.to_torch_dtype(policy.compute_dtype)
        self._autocast_context = policy.is_mixed

    @property
    def dtype(self) -> str:
        return self._dtype_policy.variable_dtype

    @property
    def compute_dtype(self) -> str:
        return self._dtype_policy.compute_dtype

    @property
    def variable_dtype(self) -> str:
        return self._dtype_policy.variable_dtype

    # ------------------------------------------------------------ sublayers
    def _free_module_key(self, name: str) -> str:
        """A key for ``add_module`` that clashes with no attribute (a layer may well
        be called 'output' or 'layers')."""
        base = name.replace(".", "_") or "layer"
        key, i = base, 1
        while (
            key in self._modules
            or key in self._parameters
            or key in self.__dict__
            or hasattr(type(self), key)
        ):
            key, i = f"{base}_{i}", i + 1
        return key

    def _sublayers(self) -> list[Layer]:
        seen, layers = set(), []
        for module in self._modules.values():
            if isinstance(module, Layer) and id(module) not in seen:
                seen.add(id(module))
                layers.append(module)
        return layers

    @property
    def layers(self) -> list[Layer]:
        return self._sublayers()

    # ---------------------------------------------------------------- losses
    def add_loss(self, loss) -> None:
        if _ctx.symbolic:
            return
        _ctx.losses_used = True
        self._losses.append(torch.as_tensor(loss))

    @property
    def losses(self) -> list[torch.Tensor]:
        """Losses added during the last call plus weight-regularization penalties."""
        losses = list(self._losses)
        losses += [reg(w) for w, reg in self._weight_regularizers]
        for layer in self._sublayers():
            losses += layer.losses
        return losses

    def _clear_losses(self) -> None:
        self._losses = []
        for layer in self._sublayers():
            layer._clear_losses()

    # ----------------------------------------------------------------- build
    def build(self, input_shape) -> None:
        """Create weights for inputs of ``input_shape``. Override in layers with
        weights; the base version only marks the layer built."""
        self.built = True

    def _build_for(self, inputs) -> None:
        """Check the input spec and build from the shapes of ``inputs``."""
        assert_input_compatibility(self.input_spec, inputs, self)
        shapes = shapes_of(inputs)
        self.build(shapes)
        self._mark_built(shapes)

    def _mark_built(self, shapes) -> None:
        self.built = True
        if self._build_shapes is None:
            self._build_shapes = shapes
        if self._initial_weights is not None:
            initial, self._initial_weights = self._initial_weights, None
            self.set_weights(initial)

    def get_build_config(self):
        if self._build_shapes is None:
            return None
        return {"input_shape": shape_to_config(self._build_shapes)}

    def build_from_config(self, build_config) -> None:
        if build_config and "input_shape" in build_config and not self.built:
            shapes = shape_from_config(build_config["input_shape"])
            self.build(shapes)
            self._mark_built(shapes)

    # ------------------------------------------------------------------ call
    def call(self, inputs, *args, **kwargs):
        raise NotImplementedError(
            f"{describe(self)}: a Layer subclass must implement `call(self, inputs)`."
        )

    def forward(self, *args, **kwargs):
        return self.call(*args, **kwargs)

    @run_plan.plain_layer_call
    def __call__(self, *args, **kwargs):
        if args:
            if isinstance(args[0], torch.Tensor):
                return self._eager_call(args, kwargs)
        elif "inputs" in kwargs:
            args = (kwargs.pop("inputs"),)
        elif self._call_info.first_argument in kwargs:  # layer(query=q, value=v)
            args = (kwargs.pop(self._call_info.first_argument),)
        else:
            raise TypeError(f"{describe(self)}: called without inputs.")
        if any_symbolic(args[0]):
            return self._symbolic_call(args, kwargs)
        return self._eager_call(args, kwargs)

    def _eager_call(self, args, kwargs):
        inputs = args[0]
        if isinstance(inputs, torch.Tensor):
            if inputs.dtype is not self._compute_torch_dtype:
                inputs = self._promote(inputs)
                args = (inputs, *args[1:])
            previous_mask = getattr(inputs, "_keras_mask", None)
        else:
            inputs = self._convert_inputs(inputs)
            args = (inputs, *args[1:])
            previous_mask = _input_mask(inputs)
        if not self.built:
            self._build_for(inputs)
        elif self.input_spec is not None:
            self._check_spec(inputs)
        info = self._call_info
        outer_training = _ctx.training
        training = kwargs.get("training") if kwargs else None
        if training is None:
            training = outer_training if outer_training is not None else self.training
        if info.has_training:
            kwargs["training"] = training
        elif kwargs and "training" in kwargs:
            del kwargs["training"]  # Keras drops it for calls that do not take it
        explicit_mask = kwargs.get("mask") if kwargs else None
        if explicit_mask is not None:
            previous_mask = explicit_mask
        if info.has_mask:
            if explicit_mask is None and previous_mask is not None:
                kwargs["mask"] = previous_mask
        elif kwargs and "mask" in kwargs:
            del kwargs["mask"]
        if outer_training is None and _ctx.losses_used:
            self._clear_losses()
        _ctx.training = training
        try:
            if self._autocast_context:
                outputs = self._autocast_call(inputs, args, kwargs)
            elif (
                self._forward_hooks
                or self._forward_pre_hooks
                or self._backward_hooks
                or self._backward_pre_hooks
                or run_plan.global_hooks_active()
                or not info.plain_forward
            ):
                outputs = _module_call(self, *args, **kwargs)
            else:  # what nn.Module.__call__ would do with no hooks, minus two frames
                outputs = self.call(*args, **kwargs)
        finally:
            _ctx.training = outer_training
        if self.activity_regularizer is not None and not _ctx.symbolic:
            _add_activity_loss(self, outputs)
        if previous_mask is not None or info.computes_mask:
            if self.supports_masking:
                self._attach_output_mask(inputs, outputs, previous_mask)
            elif previous_mask is not None and not info.has_mask:
                raise _unsupported_mask_error(self)
        return outputs

    def _autocast_call(self, inputs, args, kwargs):
        """Run the call under ``torch.autocast`` (mixed precision policies)."""
        device = inputs.device.type if isinstance(inputs, torch.Tensor) else "cpu"
        with torch.autocast(device, dtype=self._compute_torch_dtype):
            return _module_call(self, *args, **kwargs)

    def _promote(self, inputs: torch.Tensor) -> torch.Tensor:
        """``inputs`` in the compute dtype where Keras would compute in it: floating
        inputs when ``autocast`` is on; bool and integer inputs of a layer that
        computes with floating-point weights (see ``_promotes_integer_inputs``)."""
        if inputs.is_floating_point():
            cast = self.autocast
        elif inputs.is_complex():
            cast = False
        else:
            cast = self._promotes_integer_inputs
            if cast is None:
                if not self.built:
                    self._build_for(inputs)
                cast = any(w.is_floating_point() for w in self.weights)
        return _cast_keeping_mask(inputs, self._compute_torch_dtype) if cast else inputs

    def _convert_inputs(self, inputs):
        device = config.get_device()

        def convert(x):
            if x is None or isinstance(x, torch.Tensor):
                return x
            array = np.asarray(x)
            if array.dtype.kind in "USO":
                return x  # strings stay Python/NumPy: torch has no string tensors
            if array.dtype.kind == "f" and self.autocast:
                return torch.as_tensor(
                    array, dtype=self._compute_torch_dtype, device=device
                )
            if array.dtype == np.float64:
                array = array.astype(np.float32)
            return torch.as_tensor(array, device=device)

        if isinstance(inputs, (list, tuple, dict)):
            return tree.map_structure(convert, inputs)
        inputs = convert(inputs)
        if (
            isinstance(inputs, torch.Tensor)
            and inputs.dtype is not self._compute_torch_dtype
        ):
            inputs = self._promote(inputs)
        return inputs

    def _check_spec(self, inputs) -> None:
        shape = getattr(inputs, "shape", None)
        # a traced shape is not compared with the cache: that pins a dynamic batch
        if shape is None or _traced(shape) or shape != self._spec_checked_shape:
            assert_input_compatibility(self.input_spec, inputs, self)
            self._spec_checked_shape = shape

    def _attach_output_mask(self, inputs, outputs, previous_mask) -> None:
        flat_outputs = tree.flatten(outputs)
        if all(getattr(o, "_keras_mask", None) is not None for o in flat_outputs):
            return
        if previous_mask is None and _is_default(type(self), "compute_mask"):
            return
        output_mask = self.compute_mask(inputs, previous_mask)
        if output_mask is None:
            return
        masks = tree.flatten(output_mask) if len(flat_outputs) > 1 else [output_mask]
        for output, mask in zip(flat_outputs, masks):
            if (
                isinstance(output, torch.Tensor)
                and mask is not None
                and getattr(output, "_keras_mask", None) is None
            ):
                output._keras_mask = mask

    def compute_mask(self, inputs, previous_mask=None):
        """The mask of the outputs; by default the input mask passes through."""
        return previous_mask if self.supports_masking else None

    # ------------------------------------------------------------- symbolic
    def _symbolic_call(self, args, kwargs):
        inputs = args[0]
        if not self.built:
            self._build_for(inputs)
        else:
            assert_input_compatibility(self.input_spec, inputs, self)
        outputs = infer_symbolic_outputs(self, args, kwargs)
        Node(self, args, kwargs, outputs)
        return outputs

    def compute_output_spec(self, *args, **kwargs):
        """KerasTensor(s) describing the output for KerasTensor inputs (no node)."""
        if not self.built:
            self._build_for(args[0])
        return infer_symbolic_outputs(self, args, kwargs)

    def compute_output_shape(self, input_shape):
        """Output shape for ``input_shape`` (tuples with None), from ``call`` itself."""
        spec = self.compute_output_spec(
            symbolic_from_shapes(input_shape, self.compute_dtype)
        )
        return tree.map_structure(lambda t: t.shape, spec)

    # ---------------------------------------------------------------- config
    def get_config(self) -> dict:
        """Keras 3 config: ``name``, ``trainable``, ``dtype`` and the layer's arguments."""
        config_dict = {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": policies.serialize(self.dtype_policy),
        }
        if self.activity_regularizer is not None:
            config_dict["activity_regularizer"] = serialization.serialize_keras_object(
                self.activity_regularizer
            )
        if _is_default(type(self), "get_config") and type(self) is not Layer:
            config_dict.update(self._auto_config())
        return config_dict

    def _auto_config(self) -> dict:
        args, kwargs = self._init_arguments
        try:
            bound = inspect.signature(type(self).__init__).bind(None, *args, **kwargs)
        except TypeError:
            return {}
        bound.apply_defaults()  # Keras writes the defaults too
        parameters = inspect.signature(type(self).__init__).parameters
        auto = {}
        for key, value in bound.arguments.items():
            if key == "self" or key in ("name", "dtype", "trainable"):
                continue
            if parameters[key].kind is inspect.Parameter.VAR_POSITIONAL and not value:
                continue  # an empty *args default is no argument
            if parameters[key].kind is inspect.Parameter.VAR_KEYWORD:
                auto.update(
                    {
                        k: v
                        for k, v in value.items()
                        if k not in ("name", "dtype", "trainable")
                    }
                )
                continue
            auto[key] = value
        try:
            import json

            json.dumps(auto)
        except TypeError:
            raise NotImplementedError(
                f"{describe(self)}: its constructor arguments are not JSON-serializable, "
                "so the layer needs its own `get_config()`."
            ) from None
        return auto

    @classmethod
    def from_config(cls, config_dict: dict):
        return cls(**config_dict)

    def extra_repr(self) -> str:
        return f"name={self.name!r}, built={self.built}"


# ----------------------------------------------------------------- helpers
def _is_default(cls, method: str) -> bool:
    return getattr(cls, method) is getattr(Layer, method)


def _track_build(build):
    """Wrap a subclass's ``build`` so a manual ``layer.build(shape)`` marks it built."""

    @functools.wraps(build)
    def wrapper(self, *args, **kwargs):
        self._build_depth += 1
        try:
            result = build(self, *args, **kwargs)
        finally:
            self._build_depth -= 1
        if self._build_depth == 0:
            shapes = args[0] if args else kwargs.get("input_shape")
            self._mark_built(shapes)
        return result

    return wrapper


def _add_activity_loss(layer, outputs) -> None:
    """The activity regularizer's penalty of each output, over the batch size."""
    for output in tree.flatten(outputs):
        if isinstance(output, torch.Tensor):
            loss = layer.activity_regularizer(output)
            if output.ndim > 0 and output.shape[0] > 0:
                loss = loss / output.shape[0]
            layer.add_loss(loss)


def _unsupported_mask_error(layer) -> ValueError:
    """A layer whose ``call`` takes ``mask`` consumed it; any other would drop it
    silently and let padding into the results, so it refuses the mask."""
    return ValueError(
        f"{describe(layer)} received a mask from an upstream layer "
        "(Masking, Embedding(mask_zero=True), ...), but it does not "
        "support masking, so the padded steps would count as data. Use "
        "a layer that supports masks here (an RNN, "
        "GlobalAveragePooling1D, ...), or drop the mask explicitly before "
        "this layer, e.g. with `keras.layers.Lambda(lambda x: x)`."
    )


def no_output_mask(compute_mask):
    """Mark a ``compute_mask`` override that always returns None (a model's: its
    layers attach the masks): ``Layer.__call__`` need not ask it, as for a layer
    without one. A subclass overriding it again is asked as usual."""
    compute_mask._no_output_mask = True
    return compute_mask


def _accept_arrays(compute_mask):
    """Wrap a subclass's ``compute_mask`` so NumPy inputs and masks work, as in
    Keras (its ops take arrays; torch's tensor methods do not)."""

    @functools.wraps(compute_mask)
    def wrapper(self, inputs, *args, **kwargs):
        if _tensor_and_mask(inputs, args, kwargs):
            return compute_mask(self, inputs, *args, **kwargs)
        if _holds_arrays((inputs, args, kwargs)):
            inputs, args, kwargs = tree.map_structure(
                _as_tensor, (inputs, args, kwargs)
            )
        return compute_mask(self, inputs, *args, **kwargs)

    return wrapper


def _tensor_and_mask(inputs, args, kwargs) -> bool:
    """The usual call: a tensor and a tensor (or no) mask, nothing to convert."""
    if inputs.__class__ is not torch.Tensor or kwargs or len(args) > 1:
        return False
    return not args or args[0] is None or args[0].__class__ is torch.Tensor


def _holds_arrays(structure) -> bool:
    return any(isinstance(x, np.ndarray) for x in tree.flatten(structure))


def _as_tensor(x):
    if isinstance(x, np.ndarray) and x.dtype.kind not in "USO":  # strings stay
        return torch.as_tensor(x)
    return x


def call_in_model(layer: Layer, x, training):
    """``layer(x)`` for a model that runs its layers on one tensor each, inside its
    own call (``training`` is the resolved flag, ``call_context.training``).

    Calls ``layer.call`` directly where ``Layer.__call__`` would do nothing else
    (``run_plan.calls_directly``). Anything else, including the first call of
    each input shape, goes through ``layer(x)``, which checks, converts and
    raises. The caller checks once that nothing traces the call
    (``model_call_is_plain``).
    """
    if run_plan.calls_directly(layer, x):
        return run_plan.call_directly(layer, x, training)
    return layer(x)


def model_call_is_plain() -> bool:
    """Whether a model's call may use ``call_in_model``: inside a layer call
    (``training`` resolved), with no torch-wide hooks, JIT tracing or
    ``torch.compile`` (which specialise on what they see; they take ``layer(x)``).
    """
    return (
        _ctx.training is not None
        and not run_plan.global_hooks_active()
        and not torch.compiler.is_compiling()
    )


def _cast_keeping_mask(x: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    mask = getattr(x, "_keras_mask", None)
    x = x.to(dtype)
    if mask is not None:
        x._keras_mask = mask
    return x


def _traced(shape) -> bool:
    """Whether ``shape`` has sizes that a tracer keeps symbolic."""
    return any(isinstance(d, torch.SymInt) for d in shape)

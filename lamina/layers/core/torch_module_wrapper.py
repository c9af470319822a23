"""TorchModuleWrapper: any ``torch.nn.Module`` as a layer (Keras 3's torch backend).

The module's parameters become the layer's weights: each is swapped, in the
module, for a ``lamina.Variable`` on the same storage (a ``Variable`` is a
``torch.nn.Parameter``), so the module computes with the very tensors the layer
tracks, optimizers see them, and ``trainable`` follows ``requires_grad``.

Files follow Keras 3: the ``.weights.h5`` entry holds the module's
``state_dict()`` by key (buffers included), and the config holds the module
pickled by ``torch.save``, base64-encoded. The pickle written is the plain module
(``torch.nn.Parameter``s, no lamina class in it), so Keras 3 reads it too.

Reading one back: unpickling can run arbitrary code, so a config holding a module
is refused in safe mode (the default), as Keras does. With ``safe_mode=False``,
Keras unpickles anything; lamina never runs a pickle's own code (DESIGN.md: no
pickle on the load path) and reads it with torch's restricted unpickler
(``torch.load(weights_only=True)``), allowing only the classes of ``torch.nn``
(and ``torch.nn.functional``'s functions, which modules keep as attributes) and
classes the caller names in ``custom_objects``; a module made of anything else is
refused with the names it needs.
"""

from __future__ import annotations

import base64
import contextlib
import io
import sys

import torch
import torch.nn.functional as F

from lamina import config as lamina_config
from lamina.layers.docs import fill_docs
from lamina.layers.keras_tensor import KerasTensor, Node
from lamina.layers.layer import Layer
from lamina.saving import registry
from lamina.utils.validation import arg_error, describe
from lamina.variables import Variable

_IN_SAFE_MODE = (
    "in safe mode: its config holds the torch.nn.Module pickled by torch.save, and "
    "unpickling can run arbitrary code. If you trust the source of this file, pass "
    "`safe_mode=False` to the loading function (or call "
    "`lamina.config.enable_unsafe_deserialization()`); lamina then reads it with "
    "torch's restricted unpickler, which builds torch.nn modules and the classes "
    "given in `custom_objects`, and nothing else."
)


@fill_docs()
class TorchModuleWrapper(Layer):
    """Wraps a ``torch.nn.Module`` as a layer: its parameters are the layer's
    weights, it trains under ``fit``, and it saves and loads as in Keras 3.

    Weights are named by the parameters' names in the module (``weight``,
    ``0.bias``; Keras 3 names them ``variable_<n>`` from a global counter),
    trainable ones first. The module is put in training mode when the layer is
    called with ``training=True`` and in eval mode otherwise: a call without
    ``training`` outside ``fit`` is inference, as for every Keras layer (Keras
    3's TorchModuleWrapper puts the module in training mode then).

    Args:
        module: the ``torch.nn.Module``; a lazy module must be initialized (called
            once) first. It is moved to lamina's device.
        name: the layer name.
        output_shape: optional output shape (with the batch axis) for symbolic
            calls; without it the module runs on stand-in tensors to find it.
        {kwargs}

    Call arguments:
        ``*args, **kwargs``: passed to the module (the first positional argument
        is the layer's input). training: picks the module's mode.

    Weights:
        The module's parameters, by name, trainable ones first: each is replaced
        in the module by a ``lamina.Variable`` on the same storage (a torch
        optimizer made before wrapping holds the replaced objects; make it
        after). Its buffers (BatchNorm statistics) are saved with them in
        ``.weights.h5``.

    Raises:
        ValueError: ``module`` not a ``torch.nn.Module``, or a lazy module not
            yet initialized (at construction); ``from_config`` of a config
            holding a module in safe mode, or, with ``safe_mode=False``, one whose
            pickle needs classes outside ``torch.nn`` and ``custom_objects``.

    Example:
    >>> import torch
    >>> import lamina as keras
    >>> layer = keras.layers.TorchModuleWrapper(torch.nn.Linear(4, 2))
    >>> [w.name for w in layer.weights], tuple(layer(torch.ones(3, 4)).shape)
    (['weight', 'bias'], (3, 2))
    """

    _promotes_integer_inputs = False  # the module decides (Embedding takes ints)

    def __init__(self, module, name=None, output_shape=None, **kwargs):
        super().__init__(name=name, **kwargs)
        if not isinstance(module, torch.nn.Module):
            raise arg_error(self, "module", "a torch.nn.Module", module)
        lazy = isinstance(module, torch.nn.modules.lazy.LazyModuleMixin)
        if lazy and module.has_uninitialized_params():
            raise arg_error(
                self, "module", "initialized (call a lazy module once first)", module
            )
        self.module = module.to(lamina_config.get_device())
        self._output_shape = None if output_shape is None else tuple(output_shape)
        self._track_module_parameters()
        self.built = True

    def _track_module_parameters(self) -> None:
        """Swap each parameter of the module for a Variable on its storage."""
        names = {
            id(p): n for n, p in self.module.named_parameters(remove_duplicate=True)
        }
        variables: dict[int, Variable] = {}
        for owner in self.module.modules():
            for key, param in owner._parameters.items():
                if param is None:
                    continue
                if id(param) not in variables:
                    variables[id(param)] = self._as_variable(param, names[id(param)])
                owner._parameters[key] = variables[id(param)]
        tracked = list(variables.values())
        self._trainable_params = [v for v in tracked if v.requires_grad]
        self._non_trainable_params = [v for v in tracked if not v.requires_grad]

    def _as_variable(self, param, name: str) -> Variable:
        if isinstance(param, Variable):
            variable = param
        else:
            variable = Variable(param.data, requires_grad=param.requires_grad)
            variable.__dict__.update(param.__dict__)
        trainable = param.requires_grad
        variable.__dict__.update(
            {"_keras_trainable": trainable, "regularizer": None, "constraint": None}
        )
        variable.name = name
        variable.path = f"{self.name}/{name}"
        return variable

    def call(self, *args, training=None, **kwargs):
        training = bool(training)
        if self.module.training != training:
            self.module.train(training)
        return self.module(*args, **kwargs)

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            return super().compute_output_shape(input_shape)
        return self._output_shape

    def _symbolic_call(self, args, kwargs):
        if self._output_shape is None:
            return super()._symbolic_call(args, kwargs)
        outputs = KerasTensor(self._output_shape, dtype=self.compute_dtype)
        Node(self, args, kwargs, outputs)
        return outputs

    # ----------------------------------------------------------------- files
    def save_own_variables(self, store) -> None:
        """The module's ``state_dict()`` by key, as Keras 3 writes it."""
        for key, value in self.module.state_dict().items():
            store[key] = value

    def load_own_variables(self, store) -> None:
        state = {
            key.decode() if isinstance(key, bytes) else key: torch.as_tensor(store[key])
            for key in store.keys()
        }
        try:
            self.module.load_state_dict(state)
        except RuntimeError as error:
            raise ValueError(
                f"{describe(self)}: the file's entries do not fit the module "
                f"({', '.join(sorted(state)) or 'no entries'} in the file; module "
                f"keys {', '.join(self.module.state_dict())}): {error}"
            ) from None

    def get_config(self):
        with _plain_parameters(self.module):
            buffer = io.BytesIO()
            torch.save(self.module, buffer)
        return {
            **super().get_config(),
            "module": base64.b64encode(buffer.getvalue()).decode("ascii"),
            "output_shape": self._output_shape,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=None):
        config = dict(config)
        if isinstance(config.get("module"), str):
            name = config.get("name")
            owner = f"TorchModuleWrapper '{name}'" if name else "TorchModuleWrapper"
            safe = lamina_config.in_safe_mode() if safe_mode is None else safe_mode
            if safe:
                raise ValueError(
                    f"{owner}: refusing to load its module {_IN_SAFE_MODE}"
                )
            config["module"] = _unpickle(config["module"], owner, custom_objects)
        return cls(**config)


def _unpickle(text: str, owner: str, custom_objects=None) -> torch.nn.Module:
    """The module of a Keras config, by torch's restricted unpickler: the globals
    it names must be torch.nn classes or functions, or classes in
    ``custom_objects`` (or registered), else nothing is unpickled."""
    data = base64.b64decode(text.encode("ascii"))
    try:
        needed = torch.serialization.get_unsafe_globals_in_checkpoint(io.BytesIO(data))
    except Exception as error:  # noqa: BLE001 - any malformed archive
        raise ValueError(
            f"{owner}: refusing to load its module: not a torch.save archive "
            f"({type(error).__name__}: {error})."
        ) from None
    allowed = {name: _allowed_global(name, custom_objects) for name in needed}
    unknown = sorted(name for name, obj in allowed.items() if obj is None)
    if unknown:
        raise ValueError(
            f"{owner}: refusing to load its module: the pickle needs "
            f"{', '.join(unknown)}, which are neither torch.nn classes nor classes "
            "given in `custom_objects`, and lamina never runs a pickle's own code. "
            "If you trust them, pass them in `custom_objects` (by class name); or "
            "build the module in code, wrap it, and load the weights file."
        )
    with torch.serialization.safe_globals(list(allowed.values())):
        return torch.load(
            io.BytesIO(data),
            weights_only=True,
            map_location=lamina_config.get_device(),
        )


def _allowed_global(qualified: str, custom_objects):
    """The object a pickle names as ``qualified`` if lamina lets it be built: a
    module class of ``torch.nn.modules``, a function of ``torch.nn.functional``,
    or a class the caller gave (found by its name, with the same module)."""
    module_name, _, name = qualified.rpartition(".")
    if module_name.startswith("torch.nn.modules."):
        obj = getattr(sys.modules.get(module_name), name, None)
        if isinstance(obj, type) and issubclass(obj, torch.nn.Module):
            return obj
    if module_name == "torch.nn.functional" and not name.startswith("_"):
        obj = getattr(F, name, None)
        return obj if callable(obj) and not isinstance(obj, type) else None
    obj = registry.get_registered_object(name, custom_objects)
    if isinstance(obj, type) and f"{obj.__module__}.{obj.__qualname__}" == qualified:
        return obj
    return None


@contextlib.contextmanager
def _plain_parameters(module: torch.nn.Module):
    """Within the block, ``module`` holds plain ``torch.nn.Parameter``s on the
    Variables' storage, so a pickle of it names no lamina class."""
    swapped, plain = [], {}
    for owner in module.modules():
        for key, param in owner._parameters.items():
            if isinstance(param, Variable):
                if id(param) not in plain:
                    plain[id(param)] = torch.nn.Parameter(
                        param.data, requires_grad=param.requires_grad
                    )
                swapped.append((owner, key, param))
                owner._parameters[key] = plain[id(param)]
    try:
        yield
    finally:
        for owner, key, param in swapped:
            owner._parameters[key] = param

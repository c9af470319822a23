"""``Optimizer``: Keras 3's optimizer API on torch's multi-tensor kernels.

Each optimizer step (``apply``) runs Keras's sequence on lists of tensors at once:
drop missing gradients, undo ``loss_scale_factor``, accumulate
(``gradient_accumulation_steps``), clip (``clipnorm``/``global_clipnorm``/
``clipvalue``), decoupled weight decay (``w -= w * weight_decay * lr``), the
update rule (``_update``, written with ``torch._foreach_*`` ops or torch's fused
kernels), variable constraints, the moving average (``use_ema``), and the step
counter. The update rules follow Keras's formulas, so the same gradients give
the same weights as Keras.

State lives in ``variables`` (Keras order: ``iterations``, ``learning_rate``,
then the per-weight slots in the order ``build`` creates them), so optimizer
state round-trips through ``.weights.h5`` files written by Keras.
"""

from __future__ import annotations

import re
import warnings

import torch
from torch.distributed.tensor import DTensor, distribute_tensor

from lamina import config, initializers
from lamina.optimizers import schedules
from lamina.saving import registry, serialization
from lamina.utils import naming
from lamina.utils.lookup import resolve
from lamina.utils.validation import arg_error, describe
from lamina.variables import Variable, sharded_variable

_no_grad = torch.no_grad()


def _check_optional_number(owner, arg, value, low=0.0):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < low:
        raise arg_error(owner, arg, f"None or a number >= {low}", value)
    return value


def _check_optional_int(owner, arg, value, minimum):
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int) or value < minimum
    ):
        raise arg_error(owner, arg, f"None or an integer >= {minimum}", value)
    return value


def _check_clipping(owner, clipnorm, clipvalue, global_clipnorm) -> tuple:
    """The three clipping arguments, checked: numbers >= 0, at most one set."""
    clips = {
        "clipnorm": clipnorm,
        "clipvalue": clipvalue,
        "global_clipnorm": global_clipnorm,
    }
    for arg, value in clips.items():
        _check_optional_number(owner, arg, value)
    if sum(value is not None for value in clips.values()) > 1:
        raise ValueError(
            f"{describe(owner)}: only one of `clipnorm`, `clipvalue` and "
            f"`global_clipnorm` can be set; got {clips}."
        )
    return clipnorm, clipvalue, global_clipnorm


def _pop_keras2_arguments(owner, kwargs: dict, learning_rate):
    """The learning rate, after Keras 2's ``lr`` and ``decay`` (ignored, as in
    Keras 3) are taken out of ``kwargs``; anything else left there is an error."""
    if "lr" in kwargs:
        warnings.warn(
            "The `lr` argument is deprecated, use `learning_rate` instead.",
            DeprecationWarning,
            stacklevel=4,
        )
        learning_rate = kwargs.pop("lr")
    if kwargs.pop("decay", None) is not None:
        warnings.warn(
            "Argument `decay` is no longer supported and will be ignored.",
            stacklevel=4,
        )
    if kwargs:
        raise ValueError(
            f"{type(owner).__name__}: unrecognized argument(s) {sorted(kwargs)}."
        )
    return learning_rate


def _state_variable(value, name: str) -> Variable:
    if isinstance(value, DTensor):
        variable = sharded_variable(value, requires_grad=False)
    else:
        variable = Variable(torch.as_tensor(value), requires_grad=False)
    variable.name = name
    variable.path = name
    variable.__dict__["_keras_trainable"] = False
    return variable


class Optimizer:
    """Base class of optimizers (Keras 3 API).

    Args:
        learning_rate: a float, a ``LearningRateSchedule`` (called with the step
            count), or a zero-argument callable.
        weight_decay: decoupled weight decay: each step, before the update,
            ``w -= w * weight_decay * learning_rate``.
        clipnorm: clip each gradient to this L2 norm.
        clipvalue: clip each gradient element to ``[-clipvalue, clipvalue]``.
        global_clipnorm: clip all gradients together to this global L2 norm.
            At most one of the three clipping arguments may be set.
        use_ema: keep an exponential moving average of the weights
            (``ema_momentum``) and copy it into the model every
            ``ema_overwrite_frequency`` steps and at the end of ``fit``.
        loss_scale_factor: multiply the loss by this before backpropagation and
            divide the gradients by it before the update.
        gradient_accumulation_steps: update only every that many steps, with the
            mean of the accumulated gradients.
        name: the optimizer's name.

    Subclasses create per-weight state in ``build`` (``add_optimizer_variables``)
    and implement ``_update(params, grads, lr)`` on lists of tensors.
    """

    _keras_module = "keras.optimizers"

    def __init__(
        self,
        learning_rate,
        weight_decay=None,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        loss_scale_factor=None,
        gradient_accumulation_steps=None,
        name=None,
        **kwargs,
    ):
        learning_rate = _pop_keras2_arguments(self, kwargs, learning_rate)
        self.name = name or naming.auto_name(type(self).__name__)
        self.weight_decay = _check_optional_number(self, "weight_decay", weight_decay)
        self.clipnorm, self.clipvalue, self.global_clipnorm = _check_clipping(
            self, clipnorm, clipvalue, global_clipnorm
        )
        self.use_ema = bool(use_ema)
        if use_ema and not 0.0 <= ema_momentum <= 1.0:
            raise arg_error(self, "ema_momentum", "a number in [0, 1]", ema_momentum)
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = _check_optional_int(
            self, "ema_overwrite_frequency", ema_overwrite_frequency, 1
        )
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = _check_optional_int(
            self, "gradient_accumulation_steps", gradient_accumulation_steps, 2
        )
        self.built = False
        self._variables: list[Variable] = []
        self._trainable_variables: list[torch.Tensor] = []
        self._index: dict[int, int] = {}
        self._exclude_ids: set[int] = set()
        self._exclude_pattern = None
        self._decay_rates: list[float | None] = []
        self._constraints: list = []
        self._iterations = self._track(
            _state_variable(torch.tensor(0, dtype=torch.int32), "iteration")
        )
        self._learning_rate = None
        self._set_learning_rate(learning_rate)

    # ---------------------------------------------------------- variables
    def _track(self, variable: Variable) -> Variable:
        variable.path = f"{self.name}/{variable.name}"
        self._variables.append(variable)
        return variable

    @property
    def variables(self) -> list[Variable]:
        return list(self._variables)

    @property
    def iterations(self) -> Variable:
        """Number of steps applied (a non-trainable int64 ``Variable``)."""
        return self._iterations

    def _local_step(self) -> int:
        """The step count updates see (accumulation steps count as one)."""
        steps = int(self._iterations)
        if self.gradient_accumulation_steps:
            steps //= self.gradient_accumulation_steps
        return steps

    def add_variable(
        self, shape, initializer="zeros", dtype=None, aggregation="none", name=None
    ) -> Variable:
        """An optimizer state variable (non-trainable), tracked in ``variables``."""
        dtype = dtype or config.floatx()
        value = initializers.get(initializer)(tuple(shape), dtype=dtype)
        value = torch.as_tensor(value).to(config.get_device())
        return self._track(_state_variable(value, name or "variable"))

    def add_variable_from_reference(self, reference, name=None, initializer="zeros"):
        """A state variable shaped like ``reference``, named
        ``{reference.path with '_'}_{name}`` as in Keras."""
        prefix = getattr(reference, "path", None) or getattr(reference, "name", None)
        prefix = prefix or "variable"
        full_name = f"{str(prefix).replace('/', '_')}_{name or 'var'}"
        value = initializers.get(initializer)(
            tuple(reference.shape), dtype=reference.dtype
        )
        value = torch.as_tensor(value, dtype=reference.dtype).to(reference.device)
        if isinstance(reference, DTensor):  # a ModelParallel weight: shard alike
            value = distribute_tensor(
                value, reference.device_mesh, reference.placements
            )
        elif not reference.is_contiguous():  # a laid-out kernel: the same layout
            like = torch.empty_like(reference, requires_grad=False)
            value = like.copy_(value)
        return self._track(_state_variable(value, full_name))

    def add_optimizer_variables(self, trainable_variables, name, initializer="zeros"):
        """One state variable per weight for each name in ``name`` (interleaved per
        weight, Keras's order); a list per name (a single list for a str name)."""
        names = [name] if isinstance(name, str) else list(name)
        inits = initializer if isinstance(initializer, (list, tuple)) else None
        inits = inits or [initializer] * len(names)
        slots = tuple([] for _ in names)
        for variable in trainable_variables:
            for slot, slot_name, init in zip(slots, names, inits):
                slot.append(self.add_variable_from_reference(variable, slot_name, init))
        return slots[0] if isinstance(name, str) else slots

    def build(self, variables) -> None:
        """Create the optimizer state for ``variables`` (done on the first
        ``apply`` if not called before)."""
        # the caller's list itself when given one: `apply` then knows the
        # variables without a lookup
        variables = variables if isinstance(variables, list) else list(variables)
        self._trainable_variables = variables
        self._index = {id(v): i for i, v in enumerate(variables)}
        self._constraints = [
            (v, v.constraint) for v in variables if getattr(v, "constraint", None)
        ]
        if self.use_ema:
            self._averages = self.add_optimizer_variables(variables, "average")
        if self.gradient_accumulation_steps:
            self._accumulators = self.add_optimizer_variables(
                variables, "gradient_accumulator"
            )
        self._decay_rates = [self._weight_decay_for(v) for v in variables]
        self.built = True

    def set_weights(self, weights) -> None:
        """Set ``variables`` from NumPy arrays (the optimizer must be built)."""
        if not self.built:
            raise ValueError(
                f"{describe(self)}: set_weights() needs the optimizer built; call "
                "`optimizer.build(model.trainable_variables)` first."
            )
        weights, variables = list(weights), self.variables
        if len(weights) != len(variables):
            raise ValueError(
                f"{describe(self)}: set_weights expected {len(variables)} arrays, "
                f"got {len(weights)}."
            )
        for variable, value in zip(variables, weights):
            variable.assign(value)

    def get_weights(self):
        return [variable.numpy() for variable in self.variables]

    def save_own_variables(self, store) -> None:
        for i, variable in enumerate(self.variables):
            store[str(i)] = variable.numpy()

    def load_own_variables(self, store) -> None:
        variables = self.variables
        if len(store.keys()) != len(variables):
            warnings.warn(
                f"Skipping variable loading for optimizer '{self.name}', because it "
                f"has {len(variables)} variables whereas the saved optimizer "
                f"has {len(store.keys())} variables.",
                stacklevel=2,
            )
            return
        for i, variable in enumerate(variables):
            variable.assign(store[str(i)])

    # ------------------------------------------------------ learning rate
    def _set_learning_rate(self, learning_rate) -> None:
        previous = self._learning_rate
        if isinstance(learning_rate, schedules.LearningRateSchedule) or (
            callable(learning_rate) and not isinstance(learning_rate, torch.Tensor)
        ):
            self._learning_rate = learning_rate
            if isinstance(previous, Variable):
                self._variables.remove(previous)
            return
        if isinstance(previous, schedules.LearningRateSchedule):
            raise TypeError(
                f"{describe(self)} was created with a LearningRateSchedule, so its "
                "learning rate cannot be set; create it with a float `learning_rate` "
                "to change the rate during training."
            )
        try:
            value = float(learning_rate)
        except (TypeError, ValueError):
            value = None
        if value is None or isinstance(learning_rate, bool):
            raise arg_error(
                self,
                "learning_rate",
                "a float, a LearningRateSchedule or a callable",
                learning_rate,
            )
        if isinstance(previous, Variable):
            previous.assign(value)
            return
        variable = _state_variable(
            torch.tensor(value, dtype=torch.float32), "learning_rate"
        )
        variable.path = f"{self.name}/learning_rate"
        self._learning_rate = variable
        self._variables.insert(1, variable)

    @property
    def learning_rate(self):
        """The current learning rate (a float32 tensor)."""
        lr = self._learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            return lr(int(self._iterations))
        if isinstance(lr, Variable):
            return lr
        return lr()

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        self._set_learning_rate(value)

    def _current_lr(self) -> float:
        lr = self._learning_rate
        if isinstance(lr, Variable):
            return float(lr)
        if isinstance(lr, schedules.LearningRateSchedule):
            return float(lr(self._local_step()))
        return float(lr())

    # --------------------------------------------------------- applying
    def apply_gradients(self, grads_and_vars):
        grads, variables = zip(*grads_and_vars)
        self.apply(grads, variables)
        return self._iterations

    def scale_loss(self, loss):
        """``loss`` multiplied by ``loss_scale_factor`` (when set)."""
        if self.loss_scale_factor is not None:
            return loss * self.loss_scale_factor
        return loss

    @_no_grad
    def apply(self, grads, trainable_variables=None) -> None:
        """Update ``trainable_variables`` (default: those the optimizer was built
        with) with ``grads``, Keras's full step (see the module docstring)."""
        grads = list(grads)
        if not grads:
            return
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    f"{describe(self)}: apply(grads) without variables needs the "
                    "optimizer built; call `optimizer.build(variables)` first."
                )
            variables = self._trainable_variables
            if len(grads) != len(variables):
                raise ValueError(
                    f"{describe(self)}: got {len(grads)} gradients for the "
                    f"{len(variables)} variables the optimizer was built with."
                )
        else:
            variables = list(trainable_variables)
            if not self.built:
                self.build(variables)
        indices = self._indices_of(variables)
        grads, variables, indices = self._drop_missing(grads, variables, indices)
        if self.loss_scale_factor is not None:
            grads = torch._foreach_div(grads, self.loss_scale_factor)
        if self.gradient_accumulation_steps:
            self._accumulate_and_update(grads, variables, indices)
        else:
            self._step(grads, variables, indices)
        if self.use_ema:
            self._update_ema()
        for variable, constraint in self._constraints:
            variable.copy_(constraint(variable))
        self._iterations.add_(1)

    def _indices_of(self, variables) -> list[int]:
        if variables is self._trainable_variables:
            return list(range(len(variables)))
        try:
            return [self._index[id(v)] for v in variables]
        except KeyError:
            raise ValueError(
                f"{describe(self)} was built for other variables; it can only update "
                "the variables it was built with. Create a new optimizer for a new "
                "set of variables."
            ) from None

    def _drop_missing(self, grads, variables, indices):
        if all(g is not None for g in grads):
            return grads, variables, indices
        kept = [i for i, g in enumerate(grads) if g is not None]
        if not kept:
            raise ValueError(
                f"{describe(self)}: no gradients provided for any variable."
            )
        missing = [
            getattr(variables[i], "path", "?") for i, g in enumerate(grads) if g is None
        ]
        warnings.warn(
            f"Gradients do not exist for variables {missing} when minimizing the "
            "loss. If using `model.compile()`, did you forget to provide a `loss`?",
            stacklevel=3,
        )
        return (
            [grads[i] for i in kept],
            [variables[i] for i in kept],
            [indices[i] for i in kept],
        )

    def _accumulate_and_update(self, grads, variables, indices):
        accumulators = [self._accumulators[i] for i in indices]
        steps = self.gradient_accumulation_steps
        if (int(self._iterations) + 1) % steps:
            torch._foreach_add_(accumulators, grads)
            return
        grads = torch._foreach_add(grads, accumulators)
        torch._foreach_div_(grads, float(steps))
        self._step(grads, variables, indices)
        torch._foreach_zero_(accumulators)

    def _step(self, grads, variables, indices):
        grads = self._clip(grads)
        lr = self._current_lr()
        self._decay(variables, indices, lr)
        self._update(variables, grads, lr, indices)

    def _decay(self, variables, indices, lr):
        """Decoupled weight decay, ``w -= w * rate * lr``, grouped by rate."""
        groups: dict[float, list] = {}
        for variable, i in zip(variables, indices):
            rate = self._decay_rates[i]
            if rate:
                groups.setdefault(rate, []).append(variable)
        for rate, decayed in groups.items():
            torch._foreach_mul_(decayed, 1.0 - rate * lr)

    def _update(self, params, grads, lr: float, indices: list[int]) -> None:
        raise NotImplementedError(
            f"{type(self).__name__}: an optimizer must implement `_update`."
        )

    def _slots(self, slots, indices):
        """The state tensors of ``slots`` (one per built variable) for ``indices``."""
        if len(indices) == len(slots):
            return slots
        return [slots[i] for i in indices]

    # ---------------------------------------------------------- clipping
    def _clip(self, grads):
        if self.clipnorm:
            norms = torch._foreach_norm(grads)
            scales = [self.clipnorm / torch.clamp(n, min=self.clipnorm) for n in norms]
            return torch._foreach_mul(grads, scales)
        if self.global_clipnorm:
            return clip_by_global_norm(grads, self.global_clipnorm)
        if self.clipvalue:
            clipped = torch._foreach_clamp_min(grads, -self.clipvalue)
            return torch._foreach_clamp_max(clipped, self.clipvalue)
        return grads

    # ---------------------------------------------------------- weight decay
    def exclude_from_weight_decay(self, var_list=None, var_names=None) -> None:
        """Exempt ``var_list`` and variables whose name contains any of
        ``var_names`` from weight decay (call before the optimizer is built)."""
        if self.built:
            raise ValueError(
                f"{describe(self)}: exclude_from_weight_decay() must be called before "
                "the optimizer is built."
            )
        self._exclude_ids = {id(v) for v in var_list or []}
        self._exclude_pattern = (
            re.compile("|".join(set(var_names))) if var_names else None
        )

    def _weight_decay_for(self, variable) -> float | None:
        """The decay rate of ``variable`` (``None``: not decayed)."""
        return self.weight_decay if self._use_weight_decay(variable) else None

    def _use_weight_decay(self, variable) -> bool:
        if id(variable) in self._exclude_ids:
            return False
        name = getattr(variable, "name", "")
        return not (self._exclude_pattern and self._exclude_pattern.search(name))

    # ---------------------------------------------------------------- EMA
    def _update_ema(self):
        momentum = self.ema_momentum if int(self._iterations) != 0 else 0.0
        torch._foreach_lerp_(self._averages, self._trainable_variables, 1.0 - momentum)
        frequency = self.ema_overwrite_frequency
        if frequency and (int(self._iterations) + 1) % frequency == 0:
            torch._foreach_copy_(self._trainable_variables, self._averages)

    def finalize_variable_values(self, var_list) -> None:
        """With ``use_ema``, copy the moving averages into ``var_list``."""
        if self.use_ema and self.built:
            with torch.no_grad():
                torch._foreach_copy_(list(var_list), self._averages)

    # ---------------------------------------------------------------- config
    def get_config(self) -> dict:
        lr = self._learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            learning_rate = schedules.serialize(lr)
        elif isinstance(lr, Variable):
            learning_rate = float(lr)
        else:
            learning_rate = serialization.serialize_keras_object(lr)
        return {
            "name": self.name,
            "learning_rate": learning_rate,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }

    @classmethod
    def from_config(cls, config_dict, custom_objects=None):
        config_dict = dict(config_dict)
        if isinstance(config_dict.get("learning_rate"), dict):
            config_dict["learning_rate"] = schedules.deserialize(
                config_dict["learning_rate"], custom_objects=custom_objects
            )
        return cls(**config_dict)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


def clip_by_global_norm(grads, clip_norm):
    """``grads`` scaled so their joint L2 norm is at most ``clip_norm``."""
    global_norm = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
    scale = clip_norm * torch.clamp(1.0 / global_norm, max=1.0 / clip_norm)
    scale = scale + (global_norm - global_norm)  # NaN when the norm is not finite
    return torch._foreach_mul(grads, scale)


# The `keras.optimizers` lookup functions; names resolve in the registry, which
# lamina.optimizers fills with its classes.
def serialize(optimizer):
    """An optimizer's Keras 3 serialization dict."""
    return serialization.serialize_keras_object(optimizer)


def deserialize(config, custom_objects=None):
    """An optimizer from its name (any case: ``"adam"``, ``"Adam"``) or dict."""
    if isinstance(config, str):
        config = {"class_name": config.lower(), "config": {}}
    return serialization.deserialize_keras_object(
        config,
        module_objects=registry.built_in("optimizers"),
        custom_objects=custom_objects,
        printable_module_name="optimizer",
    )


def get(identifier):
    """An optimizer instance from a name, a config dict or an ``Optimizer``.

    Raises:
        ValueError: for an unknown name (naming it and the known optimizers) or an
            object that is not an optimizer.
    """
    if identifier is None:
        return None
    if isinstance(identifier, str):
        known = registry.built_in("optimizers")
        lowercase = {k: v for k, v in known.items() if k.islower()}
        identifier = resolve("optimizer", identifier.lower(), lowercase)()
    elif isinstance(identifier, dict):
        identifier = deserialize(identifier)
    if isinstance(identifier, Optimizer):
        return identifier
    raise ValueError(
        f"Could not interpret optimizer identifier {identifier!r}: expected an "
        f"optimizer name ({', '.join(sorted(k for k in registry.built_in('optimizers') if k.islower()))}),"
        " a config dict or an Optimizer instance."
    )


def in_memory_order(params, *others):
    """``params`` and the per-parameter lists ``others`` (gradients, state), each
    tensor of a non-contiguous parameter (a laid-out kernel, see
    ``Variable.lay_out``) viewed in that parameter's memory order: contiguous
    views of the same memory for kernels that want them (torch's fused
    optimizer kernels are ~20x slower on strided tensors). Elementwise updates
    are unchanged: every tensor of a parameter gets the same permutation."""
    lists = [list(params), *(list(other) for other in others)]
    for i, param in enumerate(params):
        if param.is_contiguous():
            continue
        strides = param.stride()
        order = sorted(range(param.ndim), key=lambda d: -strides[d])
        for tensors in lists:
            if i < len(tensors):
                tensors[i] = tensors[i].permute(order)
    return lists

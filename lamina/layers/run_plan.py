"""Run plans: what a model runs once it has seen an input signature.

A model calls each layer's ``call`` directly where ``Layer.__call__`` would do
nothing else (``calls_directly``). When every layer of a call took that path,
the model keeps a *run plan* for the call's signature (input shapes, dtypes,
devices and the training flag): one function per layer, from the layer's
``_plan_runner(input_shape, training)``, which has done its argument work
(sizes, paddings, permutations, the activation's torch op) once. A later call
with that signature runs the functions one after the other, with no per-layer
checks: with the same input signature every layer sees the same shapes and
dtypes as when it was checked.

A plan is valid while nothing it depends on changes. Any attribute set on any
layer (``layer.activation = ...``, ``trainable``, a new weight, a new input
spec, building), a hook registered on a layer, or a layer added to or removed
from a model moves the global ``epoch``; a plan made in an earlier epoch is
never used. Attributes that calls themselves set and no plan reads
(``NEUTRAL``) leave the epoch alone, so a model in steady use keeps its plans.
Weights updated in place (optimizers, ``assign``, ``set_weights``) need no new
plan: the functions read the variables themselves.
"""

from __future__ import annotations

import functools

import torch

from lamina.layers.call_context import call_context as _ctx
from lamina.ops.convolution import TO_CHANNELS_FIRST, TO_CHANNELS_LAST

# Attributes set while running that no plan depends on.
NEUTRAL = frozenset({"training", "_spec_checked_shape", "_losses", "_build_depth"})
_MAX_PLANS = 8  # signatures kept per model (predict's last batch is another)


class _Plans(dict):
    """A model's ``{signature: (epoch, runners)}``, in its ``__dict__`` (a global
    weak-keyed table would leak: runners reach back to their model). Deep copies
    and pickles of the model get an empty table, never functions bound to the
    original's layers."""

    def __deepcopy__(self, memo):
        return _Plans()

    def __reduce__(self):
        return (_Plans, ())


class _Epoch:
    value = 0


def invalidate() -> None:
    """Make every existing run plan stale (called on any change to a layer)."""
    _Epoch.value += 1


def epoch() -> int:
    return _Epoch.value


_torch_module = torch.nn.modules.module


def global_hooks_active() -> bool:
    """Whether torch-wide module hooks, JIT tracing or compiled calls need the full
    ``nn.Module.__call__`` (then lamina takes it; otherwise it calls ``call``)."""
    return bool(
        _torch_module._global_forward_hooks
        or _torch_module._global_forward_pre_hooks
        or _torch_module._global_backward_hooks
        or _torch_module._global_backward_pre_hooks
        or torch._C._get_tracing_state()
    )


def plain_layer_call(function):
    """Mark a ``__call__`` that does what ``Layer.__call__`` does, so that a model
    may skip it like ``Layer.__call__`` (``calls_directly``)."""
    function._plain_layer_call = True
    return function


def calls_directly(layer, x) -> bool:
    """Whether ``Layer.__call__`` would only call ``layer.call(x)``: ``x`` a plain
    tensor in the layer's compute dtype, of the shape whose input spec was last
    checked, with no mask; the layer built, its ``__call__`` and ``forward``
    Layer's, with no hooks, activity regularizer, mixed precision or mask to
    compute."""
    info = layer._call_info
    return (
        x.__class__ is torch.Tensor
        and info.direct
        and x.dtype is layer._compute_torch_dtype
        and (layer.input_spec is None or x.shape == layer._spec_checked_shape)
        and layer.built
        and not info.computes_mask
        and layer.activity_regularizer is None
        and not layer._autocast_context
        and not (
            layer._forward_hooks
            or layer._forward_pre_hooks
            or layer._backward_hooks
            or layer._backward_pre_hooks
        )
        and getattr(x, "_keras_mask", None) is None
    )


def chain(layers, shapes, training) -> list:
    """The runners of ``layers`` called one after the other on inputs of
    ``shapes``. Two or more consecutive layers that can run in torch's layout
    at the same rank (channels_last convolutions and pooling) become one
    runner: one permutation into ``(batch, channels, *spatial)`` before them
    and one back after, instead of a pair that cancels between each two. The
    last of such a group keeps its gradient-layout guard (``ops.pooling``); the
    others feed a convolution or pooling, whose backward needs none."""
    runners, start, n = [], 0, len(layers)
    while start < n:
        rank = layers[start]._torch_layout_rank(shapes[start])
        end = start + 1
        while (
            rank is not None
            and end < n
            and layers[end]._torch_layout_rank(shapes[end]) == rank
        ):
            end += 1
        if end - start < 2:
            runners.append(layers[start]._plan_runner(shapes[start], training))
            start += 1
            continue
        steps = [
            layers[i]._torch_layout_runner(shapes[i], training, i == end - 1)
            for i in range(start, end)
        ]
        runners.append(_in_torch_layout(steps, rank))
        start = end
    return runners


def _in_torch_layout(steps, rank: int):
    to_first = TO_CHANNELS_FIRST[rank]
    to_last = TO_CHANNELS_LAST[rank]

    def run(x):
        x = x.permute(to_first)
        for step in steps:
            x = step(x)
        return x.permute(to_last)

    return run


def follow(model, x, training):
    """A top-level ``model(x)`` or ``model(x, training=...)`` that follows a run
    plan at once: the plan for ``x``'s signature, kept by a model whose plans
    are one chain of runners (``model._follows_chain_plans()``), run with
    ``training`` in the call context, as ``Layer.__call__`` then the model's
    ``call`` would. NotImplemented where that does not apply: inside another
    call, no current plan, or anything ``Layer.__call__`` would act on (hooks,
    masks, casting, tracing or compiling).

    A plan is kept under the signature of the input the model's ``call`` saw,
    after ``Layer.__call__``'s casting and the model's input conforming; an
    input that already has that signature passes both unchanged, so looking
    up the raw input is enough."""
    if _ctx.training is not None or x.__class__ is not torch.Tensor:
        return NotImplemented
    plans = model.__dict__.get("_run_plans")
    if not plans:
        return NotImplemented
    if training is None:
        training = model.training
    entry = plans.get(((x.shape, x.dtype, x.device), training))
    if (
        entry is None
        or entry[0] != _Epoch.value
        or not calls_directly(model, x)
        or not model._follows_chain_plans()
        or global_hooks_active()
        or torch.compiler.is_compiling()
    ):
        return NotImplemented
    if _ctx.losses_used:
        model._clear_losses()  # as a top-level Layer.__call__ does
    _ctx.training = training
    try:
        for run in entry[1]:
            x = run(x)
    finally:
        _ctx.training = None
    return model._chain_plan_output(x)


def call_directly(layer, x, training):
    """``layer.call(x)``, with ``training`` where the call takes it."""
    if layer._call_info.has_training:
        return layer.call(x, training=training)
    return layer.call(x)


def signature(tensors, training):
    """The key of a run plan: per input tensor, its shape, dtype and device (None
    when an input is not a plain unmasked tensor: no plan), and ``training``."""
    key = []
    for x in tensors:
        if (
            x.__class__ is not torch.Tensor
            or getattr(x, "_keras_mask", None) is not None
        ):
            return None
        key.append((x.shape, x.dtype, x.device))
    key.append(training)
    return tuple(key)


def find(model, key):
    """``model``'s runners for the signature ``key`` if it has a current plan."""
    plans = model.__dict__.get("_run_plans")
    if not plans or key is None:
        return None
    entry = plans.get(key)
    if entry is None or entry[0] != _Epoch.value:
        return None
    return entry[1]


def keep(model, key, made_in: int, runners) -> None:
    """Store ``runners`` as ``model``'s plan for ``key``, unless something changed
    since the recording call began (``made_in``, the epoch then)."""
    if key is None or made_in != _Epoch.value:
        return
    plans = model.__dict__.get("_run_plans")
    if plans is None or len(plans) >= _MAX_PLANS:
        plans = _Plans()
        object.__setattr__(model, "_run_plans", plans)  # not a layer change
    plans[key] = (made_in, tuple(runners))


class Plannable(torch.nn.Module):
    """Part of ``Layer``: the default ``_plan_runner``; and any attribute set or
    deleted (but ``NEUTRAL`` ones), hook registered or sublayer added makes
    every run plan stale."""

    def _plan_runner(self, input_shape, training):
        """A function ``x -> self.call(x)`` for a model's run plan: inputs of
        ``input_shape`` that ``calls_directly`` accepted, the flag ``training``.
        Layers with argument work to do once (convolutions, pooling, Dense)
        override it; the result must equal ``call``'s."""
        if self._call_info.has_training:
            return functools.partial(self.call, training=training)
        return self.call

    def _torch_layout_rank(self, input_shape):
        """The rank at which ``_torch_layout_runner`` runs on inputs of
        ``input_shape``, or None (the default: it does not)."""
        return None

    def __setattr__(self, name, value):
        super().__setattr__(name, value)
        if name not in NEUTRAL:
            invalidate()

    def __delattr__(self, name):
        super().__delattr__(name)
        invalidate()

    def register_forward_hook(self, *args, **kwargs):
        invalidate()
        return super().register_forward_hook(*args, **kwargs)

    def register_forward_pre_hook(self, *args, **kwargs):
        invalidate()
        return super().register_forward_pre_hook(*args, **kwargs)

    def register_full_backward_hook(self, *args, **kwargs):
        invalidate()
        return super().register_full_backward_hook(*args, **kwargs)

    def register_full_backward_pre_hook(self, *args, **kwargs):
        invalidate()
        return super().register_full_backward_pre_hook(*args, **kwargs)

    def register_backward_hook(self, *args, **kwargs):
        invalidate()
        return super().register_backward_hook(*args, **kwargs)

    def add_module(self, name, module):
        invalidate()
        return super().add_module(name, module)

"""What ``compile`` resolves before it stores anything: the optimizer (wrapped for
loss scaling under ``mixed_float16``), every loss and metric name (so a typo fails
in ``compile``, not at the first batch), ``jit_compile``; and the way back from a
saved compile config (``compile_from_config``)."""

from __future__ import annotations

import warnings

from lamina import losses, optimizers
from lamina import metrics as metrics_module
from lamina.utils import tree


def resolve_optimizer(optimizer, dtype_policy, auto_scale_loss):
    """The optimizer instance for ``optimizer``, in a ``LossScaleOptimizer`` when
    ``auto_scale_loss`` and the model's policy is ``mixed_float16``."""
    optimizer = optimizers.get(optimizer)
    if (
        auto_scale_loss
        and dtype_policy.name == "mixed_float16"
        and optimizer is not None
        and not isinstance(optimizer, optimizers.LossScaleOptimizer)
    ):
        optimizer = optimizers.LossScaleOptimizer(
            optimizer, name="loss_scale_optimizer"
        )
    return optimizer


def check_names(loss, metrics, weighted_metrics) -> None:
    """Resolve every loss and metric name now, so an unknown one fails here."""
    _check_names(loss, losses.get, ("crossentropy", "ce"))
    _check_names(metrics, metrics_module.get, ("accuracy", "acc"))
    _check_names(weighted_metrics, metrics_module.get, ("accuracy", "acc"))


def _check_names(spec, getter, special) -> None:
    for item in tree.flatten(spec) if spec is not None else []:
        if isinstance(item, str) and item.lower() not in special:
            getter(item)


def resolve_jit_compile(jit_compile, run_eagerly):
    """``"auto"`` is False (as Keras on torch); ``run_eagerly`` wins over
    ``jit_compile`` with a warning (pointing at the ``compile`` call)."""
    if jit_compile == "auto":
        jit_compile = False
    if jit_compile and run_eagerly:
        warnings.warn(
            "If `run_eagerly` is True, then `jit_compile` cannot also be True. "
            "Disabling `jit_compile`.",
            stacklevel=3,
        )
        jit_compile = False
    return jit_compile


def deserialize_compile_config(config) -> dict:
    """``compile`` keyword arguments from a ``get_compile_config`` dict."""
    config = dict(config)
    config["optimizer"] = optimizers.get(config.get("optimizer"))
    config["loss"] = _deserialize_nested(config.get("loss"), losses.deserialize)
    for key in ("metrics", "weighted_metrics"):
        config[key] = _deserialize_nested(config.get(key), metrics_module.deserialize)
    return config


def _deserialize_nested(spec, deserialize):
    if spec is None:
        return None
    if isinstance(spec, dict) and "class_name" in spec:
        return deserialize(spec)
    if isinstance(spec, dict):
        return {k: _deserialize_nested(v, deserialize) for k, v in spec.items()}
    if isinstance(spec, (list, tuple)):
        return [_deserialize_nested(v, deserialize) for v in spec]
    return spec

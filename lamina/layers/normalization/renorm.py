"""Batch renormalization (Ioffe, 2017), as Keras 3's BatchNormalization does it
with ``renorm=True``: the batch statistics are corrected towards moving ones by
``r = stddev / renorm_stddev`` and ``d = (mean - renorm_mean) / renorm_stddev``
(clipped, no gradient), folded into ``gamma``/``beta``; inference is unchanged.
"""

from __future__ import annotations

import math

import torch

from lamina.utils.validation import arg_error

CLIPPING_KEYS = ("rmax", "rmin", "dmax")


def check_clipping(owner, clipping) -> dict:
    """``renorm_clipping`` (None: no clipping) as a dict of Keras's keys."""
    clipping = {} if clipping is None else clipping
    if not isinstance(clipping, dict) or set(clipping) - set(CLIPPING_KEYS):
        rule = f"a dict with keys among {list(CLIPPING_KEYS)}"
        raise arg_error(owner, "renorm_clipping", rule, clipping)
    rmax, rmin, dmax = (clipping.get(key) for key in CLIPPING_KEYS)
    if rmax is not None and rmin is not None and rmax < rmin:
        rule = "a dict with rmax >= rmin"
        raise arg_error(owner, "renorm_clipping", rule, clipping)
    if dmax is not None and dmax < 0:
        rule = "a dict with dmax >= 0"
        raise arg_error(owner, "renorm_clipping", rule, clipping)
    return clipping


def corrections(layer, mean, variance):
    """``(r, d)`` for the batch's ``mean`` and ``variance`` (weight-shaped), from
    the layer's ``renorm_mean``/``renorm_stddev`` before this step's update."""
    stddev = torch.sqrt(variance + layer.epsilon)
    renorm_mean = layer.renorm_mean.to(mean.dtype)
    renorm_stddev = torch.clamp(
        layer.renorm_stddev.to(mean.dtype), min=math.sqrt(layer.epsilon)
    )
    r = stddev / renorm_stddev
    d = (mean - renorm_mean) / renorm_stddev
    clipping = layer.renorm_clipping
    if clipping.get("rmin") is not None:
        r = torch.clamp(r, min=clipping["rmin"])
    if clipping.get("rmax") is not None:
        r = torch.clamp(r, max=clipping["rmax"])
    if clipping.get("dmax") is not None:
        d = torch.clamp(d, -clipping["dmax"], clipping["dmax"])
    return r.detach(), d.detach()


def compose(r, d, gamma, beta):
    """``(x * r + d) * gamma + beta`` as one scale and offset: ``(r * gamma,
    d * gamma + beta)``."""
    scale = r if gamma is None else r * gamma
    offset = d if gamma is None else d * gamma
    return scale, offset if beta is None else offset + beta


def update(layer, mean, variance) -> None:
    """Move the renorm and moving statistics towards this batch's (Keras's
    formulas; ``moving_variance`` follows ``moving_stddev``)."""
    stddev = torch.sqrt(variance + layer.epsilon)
    momentum, renorm_momentum = layer.momentum, layer.renorm_momentum
    _assign(layer.renorm_mean, mean, renorm_momentum)
    _assign(layer.renorm_stddev, stddev, renorm_momentum)
    _assign(layer.moving_mean, mean, momentum)
    moving_stddev = _assign(layer.moving_stddev, stddev, momentum)
    layer.moving_variance.copy_(
        torch.relu(moving_stddev * moving_stddev - layer.epsilon)
    )


def _assign(variable, value, momentum):
    moved = variable.to(value.dtype) * momentum + value * (1.0 - momentum)
    variable.copy_(moved)
    return moved

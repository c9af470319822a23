"""What the oracle compares after each call: the ``checks=`` of a case (values
against Keras, or shapes, inference identity and seed reproducibility for random
layers) and the training call. tests/oracle.py documents them and runs them.
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import torch

from tests.oracle_inputs import Feed, call, flatten, mask_of, to_numpy

ATOL = 1e-5
RTOL = 1e-5


def from_config(cls, config):
    """Rebuild from a config; a Lambda holding Python bytecode needs safe_mode=False
    (safe mode's refusal is tested in test_core_layers)."""
    if "safe_mode" in inspect.signature(cls.from_config).parameters:
        return cls.from_config(config, safe_mode=False)
    return cls.from_config(config)


def inference_outputs(layer, feed: Feed):
    with torch.no_grad():
        return flatten(feed.call(layer))


def close(actual, expected, atol=ATOL, message=""):
    np.testing.assert_allclose(
        to_numpy(actual), to_numpy(expected), atol=atol, rtol=RTOL, err_msg=message
    )


def check_weight_values(ours, theirs, atol=ATOL):
    """Same values in ``ours`` and ``theirs`` (lists of weights), by name."""
    assert [w.name for w in ours] == [w.name for w in theirs]
    for w_ours, w_theirs in zip(ours, theirs):
        close(w_ours.value, w_theirs.value, atol, w_ours.path)


def _same_structure(out_ours, out_theirs):
    paths_ours, paths_theirs = [p for p, _ in out_ours], [p for p, _ in out_theirs]
    assert paths_ours == paths_theirs, f"outputs {paths_ours}, Keras {paths_theirs}"


def check_outputs(out_ours, out_theirs, atol=ATOL):
    """Flattened outputs agree: paths, shapes, dtypes, values and masks."""
    _same_structure(out_ours, out_theirs)
    for (path, a), (_, b) in zip(out_ours, out_theirs):
        assert tuple(a.shape) == tuple(b.shape), f"shape of output {path}"
        assert str(to_numpy(a).dtype) == str(to_numpy(b).dtype), f"dtype of {path}"
        close(a, b, atol, path)
        mask_a, mask_b = mask_of(a), mask_of(b)
        assert (mask_a is None) == (mask_b is None), f"mask of output {path}"
        if mask_a is not None:
            np.testing.assert_array_equal(mask_a, mask_b, err_msg=path)


def check_losses(ours, theirs):
    ours_total = sum(float(to_numpy(loss)) for loss in ours.losses)
    theirs_total = sum(float(to_numpy(loss)) for loss in theirs.losses)
    assert len(ours.losses) == len(theirs.losses)
    assert math.isclose(ours_total, theirs_total, rel_tol=1e-5, abs_tol=1e-6)


def check_values(ours, theirs, case, feed: Feed, **extra):
    """Outputs, output masks and losses agree; then gradients of a fixed projection
    of every float output, for every float input and trainable weight."""
    calls = []
    for layer in (ours, theirs):
        inputs, kwargs, leaves = feed.tensors(grad=case.grads)
        calls.append((flatten(call(layer, inputs, kwargs, **extra)), leaves))
    check_outputs(calls[0][0], calls[1][0], case.atol)
    check_losses(ours, theirs)
    if case.grads:
        check_gradients(ours, theirs, calls, case.atol)


def _backward(layer, outputs: list, projections: list) -> None:
    for weight in layer.trainable_weights:
        weight.value.grad = None  # an earlier step's call may have left some
    sum((t * p.to(t.dtype)).sum() for t, p in zip(outputs, projections)).backward()


def check_gradients(ours, theirs, calls, atol=ATOL):
    (out_ours, leaves_ours), (out_theirs, leaves_theirs) = calls
    differentiable = [i for i, (_, t) in enumerate(out_theirs) if t.requires_grad]
    if not differentiable:
        return
    rng = np.random.default_rng(1)
    projections = [
        torch.tensor(rng.standard_normal(tuple(out_theirs[i][1].shape)))
        for i in differentiable
    ]
    _backward(ours, [out_ours[i][1] for i in differentiable], projections)
    _backward(theirs, [out_theirs[i][1] for i in differentiable], projections)
    for i, (a, b) in enumerate(zip(leaves_ours, leaves_theirs)):
        assert (a.grad is None) == (b.grad is None), f"input {i}"
        if b.grad is not None:
            close(a.grad, b.grad, atol, f"gradient of input {i}")
    for w_ours, w_theirs in zip(ours.trainable_weights, theirs.trainable_weights):
        g_theirs = w_theirs.value.grad
        assert (w_ours.grad is None) == (g_theirs is None), w_ours.path
        if g_theirs is not None:
            close(w_ours.grad, g_theirs, atol, w_ours.path)


def check_output_shapes(ours, theirs, case, feed: Feed):
    """Output structure, shapes, dtypes and masks' presence agree (random values)."""
    with torch.no_grad():
        out_ours, out_theirs = flatten(feed.call(ours)), flatten(feed.call(theirs))
    _same_structure(out_ours, out_theirs)
    for (path, a), (_, b) in zip(out_ours, out_theirs):
        assert tuple(a.shape) == tuple(b.shape), f"shape of output {path}"
        assert str(to_numpy(a).dtype) == str(to_numpy(b).dtype), f"dtype of {path}"
        assert (mask_of(a) is None) == (mask_of(b) is None), f"mask of output {path}"


def check_inference_identity(ours, theirs, case, feed: Feed):
    """At ``training=False`` the layer returns its input unchanged, as Keras's does."""
    for layer in (ours, theirs):
        with torch.no_grad():
            output = feed.call(layer, training=False)
        np.testing.assert_array_equal(to_numpy(output), feed.first)


def check_seed(ours, theirs, case, feed: Feed):
    """Layers made from one config (one ``seed``) draw the same ``training=True``
    output; a layer with another seed draws a different one."""
    config = ours.get_config()
    if config.get("seed") is None:
        raise ValueError(f"{case}: checks=('seed',) needs a `seed` in the config.")
    outputs = []
    for seed in (config["seed"], config["seed"], config["seed"] + 1):
        twin = from_config(type(ours), {**config, "seed": seed})
        inference_outputs(twin, feed)  # builds it
        twin.set_weights(ours.get_weights())
        with torch.no_grad():
            outputs.append(to_numpy(flatten(feed.call(twin, training=True))[0][1]))
    np.testing.assert_array_equal(outputs[0], outputs[1])
    assert not np.array_equal(outputs[0], outputs[2]), "another seed, same draw"


CHECKS = {
    "values": check_values,
    "shapes": check_output_shapes,
    "inference_identity": check_inference_identity,
    "seed": check_seed,
}


def run_checks(ours, theirs, case, feed: Feed):
    for check in case.checks:
        if callable(check):
            check(ours, theirs, feed)
        elif check in CHECKS:
            CHECKS[check](ours, theirs, case, feed)
        else:
            raise ValueError(f"{case}: unknown check {check!r}; known: {list(CHECKS)}")


def check_train_call(ours, theirs, case, feed: Feed):
    """One ``training=True`` call agrees, and so do the non-trainable weights it
    updated (BatchNormalization's moving statistics)."""
    check_values(ours, theirs, case, feed, training=True)
    check_weight_values(ours.non_trainable_weights, theirs.non_trainable_weights)

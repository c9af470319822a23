"""Keras 3 as the oracle: build the same layer in lamina and Keras, share weights, and
compare everything a user can observe.

``check_layer(case)`` runs small named steps, each one assertion family:
weights (names, shapes, order) and ``count_params``; outputs, output masks, losses
and gradients (input and weights) with Keras's weights copied in; symbolic vs real
output shape (and Keras's symbolic shape); config keys, values, JSON round trip and
cross-loading in both directions; weights round trip through a rebuilt layer, by
``set_weights`` and through a ``.weights.h5`` file.
"""

from __future__ import annotations

import inspect
import json
import math
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
import torch

import lamina
from lamina.saving import weights_h5

ATOL = 1e-5


@dataclass
class Case:
    layer: str
    kwargs: dict = field(default_factory=dict)
    input_shape: tuple = (2, 3)
    dtype: str = "float32"
    call_kwargs: dict = field(default_factory=dict)
    id: str | None = None
    grads: bool = True  # compare input/weight gradients
    atol: float = ATOL
    data: str = "normal"  # "normal", "ints:<high>", "padded" (zero rows to mask)
    config_skip: tuple = ()  # config keys whose values legitimately differ
    # For layers built around other layers (RNN(cell), Bidirectional(layer), ...):
    # build(layers_module) makes the layer from `lamina.layers` or `keras.layers`.
    build: Callable[[Any], Any] | None = None
    also_covers: tuple = ()  # inner layer classes this case exercises too

    def __str__(self):
        return self.id or f"{self.layer}-{_stable(self.kwargs)}-{self.input_shape}"


@dataclass
class ErrorCase:
    layer: str
    kwargs: dict
    match: str
    error: type = ValueError
    input_shape: tuple | None = None  # set: the error comes at build/call time
    id: str | None = None

    def __str__(self):
        return self.id or f"{self.layer}-{_stable(self.kwargs)}"


def _stable(kwargs: dict) -> str:
    """kwargs as a test id without memory addresses (pytest-xdist workers must agree)."""
    return str(
        {k: getattr(v, "__name__", v) if callable(v) else v for k, v in kwargs.items()}
    )


# ------------------------------------------------------------------- data
def make_input(case: Case, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if case.data.startswith("ints:"):
        return rng.integers(0, int(case.data[5:]), size=case.input_shape).astype(
            case.dtype
        )
    x = rng.standard_normal(case.input_shape).astype(case.dtype)
    if case.data == "padded":  # whole timesteps equal to 0 -> masked by Masking
        x[:, -1] = 0.0
        x[0, 0] = 0.0
    return x


def build_pair(case: Case):
    if case.build is not None:
        return case.build(lamina.layers), case.build(keras.layers)
    ours = getattr(lamina.layers, case.layer)(**case.kwargs)
    theirs = getattr(keras.layers, case.layer)(**case.kwargs)
    return ours, theirs


def _to_numpy(t):
    if isinstance(t, torch.Tensor):
        return t.detach().cpu().numpy()
    return keras.ops.convert_to_numpy(t)


def _mask_of(t):
    mask = getattr(t, "_keras_mask", None)
    return None if mask is None else _to_numpy(mask)


def _from_config(cls, config):
    """Rebuild from a config; a Lambda holding Python bytecode needs safe_mode=False
    (safe mode's refusal is tested in test_core_layers)."""
    if "safe_mode" in inspect.signature(cls.from_config).parameters:
        return cls.from_config(config, safe_mode=False)
    return cls.from_config(config)


# ------------------------------------------------------------------ steps
def check_weights(ours, theirs):
    assert [w.name for w in ours.weights] == [w.name for w in theirs.weights]
    assert [tuple(w.shape) for w in ours.weights] == [
        tuple(w.shape) for w in theirs.weights
    ]
    assert [w.trainable for w in ours.weights] == [w.trainable for w in theirs.weights]
    assert ours.count_params() == theirs.count_params()
    assert len(ours.trainable_weights) == len(theirs.trainable_weights)


def _forward(layer, x: np.ndarray, case: Case, grad: bool):
    tensor = torch.tensor(x, requires_grad=grad)
    out = layer(tensor, **case.call_kwargs)
    return tensor, out


def check_outputs(ours, theirs, case: Case, x: np.ndarray):
    """Outputs, output masks and losses agree; then gradients of a fixed projection."""
    grad = case.grads and np.issubdtype(x.dtype, np.floating)
    x_ours, out_ours = _forward(ours, x, case, grad)
    x_theirs, out_theirs = _forward(theirs, x, case, grad)
    np.testing.assert_allclose(
        _to_numpy(out_ours), _to_numpy(out_theirs), atol=case.atol, rtol=1e-5
    )
    assert tuple(out_ours.shape) == tuple(out_theirs.shape)
    mask_ours, mask_theirs = _mask_of(out_ours), _mask_of(out_theirs)
    assert (mask_ours is None) == (mask_theirs is None)
    if mask_ours is not None:
        np.testing.assert_array_equal(mask_ours, mask_theirs)
    check_losses(ours, theirs)
    if not grad or not out_theirs.requires_grad:
        return
    projection = torch.tensor(
        np.random.default_rng(1).standard_normal(tuple(out_theirs.shape)),
        dtype=out_theirs.dtype,
    )
    (out_ours * projection).sum().backward()
    (out_theirs * projection).sum().backward()
    np.testing.assert_allclose(
        _to_numpy(x_ours.grad), _to_numpy(x_theirs.grad), atol=case.atol, rtol=1e-5
    )
    for w_ours, w_theirs in zip(ours.trainable_weights, theirs.trainable_weights):
        g_theirs = w_theirs.value.grad
        assert (w_ours.grad is None) == (g_theirs is None), w_ours.path
        if g_theirs is not None:
            np.testing.assert_allclose(
                _to_numpy(w_ours.grad), _to_numpy(g_theirs), atol=case.atol, rtol=1e-5
            )


def check_losses(ours, theirs):
    ours_total = sum(float(_to_numpy(loss)) for loss in ours.losses)
    theirs_total = sum(float(_to_numpy(loss)) for loss in theirs.losses)
    assert len(ours.losses) == len(theirs.losses)
    assert math.isclose(ours_total, theirs_total, rel_tol=1e-5, abs_tol=1e-6)


def check_symbolic_shape(ours, theirs, case: Case, real_shape: tuple):
    """A fresh layer called on an Input reports the shape real data produces, and
    Keras's symbolic shape agrees."""
    fresh = _from_config(type(ours), ours.get_config())
    symbolic_in = lamina.Input(
        batch_shape=(None, *case.input_shape[1:]), dtype=case.dtype
    )
    symbolic_out = fresh(symbolic_in, **case.call_kwargs)
    assert symbolic_out.shape == (None, *real_shape[1:])
    keras_in = keras.Input(batch_shape=(None, *case.input_shape[1:]), dtype=case.dtype)
    keras_out = theirs(keras_in, **case.call_kwargs)
    assert symbolic_out.shape == tuple(keras_out.shape)
    assert fresh.output_shape == symbolic_out.shape
    assert fresh.input_shape == symbolic_in.shape


def _normalize(value):
    """JSON view of a config value (tuples become lists, numbers compared loosely)."""
    return json.loads(json.dumps(value, default=str))


def _assert_config_equal(a, b, path=""):
    if isinstance(a, dict) and isinstance(b, dict):
        assert sorted(a) == sorted(b), f"config keys differ at {path or 'top'}"
        for key in a:
            _assert_config_equal(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_config_equal(x, y, f"{path}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert math.isclose(float(a), float(b), rel_tol=1e-6), f"{path}: {a} != {b}"
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


def check_config(ours, theirs, case: Case):
    config_ours = _normalize(ours.get_config())
    config_theirs = _normalize(theirs.get_config())
    for key in ("name", *case.config_skip):
        config_ours.pop(key, None)
        config_theirs.pop(key, None)
    _assert_config_equal(config_ours, config_theirs)
    # JSON round trip and cross-loading in both directions.
    config = json.loads(json.dumps(ours.get_config()))
    again = _normalize(_from_config(type(ours), config).get_config())
    expected = _normalize(ours.get_config())
    for key in case.config_skip:
        again.pop(key, None)
        expected.pop(key, None)
    assert again == expected
    if "__lambda__" in json.dumps(config, default=str):
        return  # cross-loading bytecode needs unsafe mode on both sides
    keras_copy = keras.layers.deserialize(_normalize(lamina.layers.serialize(ours)))
    assert type(keras_copy).__name__ == type(ours).__name__
    lamina_copy = lamina.layers.deserialize(_normalize(keras.layers.serialize(theirs)))
    assert type(lamina_copy).__name__ == type(theirs).__name__


def check_weights_round_trip(ours, case: Case, x: np.ndarray, tmp_dir: str):
    """Weights survive ``set_weights`` and a ``.weights.h5`` file into a rebuilt twin."""
    with torch.no_grad():
        expected = _to_numpy(ours(torch.as_tensor(x), **case.call_kwargs))
    path = os.path.join(tmp_dir, "layer.weights.h5")
    weights_h5.save_weights(ours, path)
    for load in ("set_weights", "file"):
        twin = _from_config(type(ours), ours.get_config())
        twin(torch.as_tensor(x))
        if load == "file":
            weights_h5.load_weights(twin, path)
        else:
            twin.set_weights(ours.get_weights())
        with torch.no_grad():
            actual = _to_numpy(twin(torch.as_tensor(x), **case.call_kwargs))
        np.testing.assert_allclose(actual, expected, atol=1e-6, err_msg=load)


def check_layer(case: Case) -> None:
    ours, theirs = build_pair(case)
    x = make_input(case)
    with torch.no_grad():  # build both on real data
        real = ours(torch.as_tensor(x), **case.call_kwargs)
        theirs(torch.as_tensor(x), **case.call_kwargs)
    check_weights(ours, theirs)
    ours.set_weights([_to_numpy(w.value) for w in theirs.weights])
    check_outputs(ours, theirs, case, x)
    check_symbolic_shape(ours, theirs, case, tuple(real.shape))
    check_config(ours, theirs, case)
    with tempfile.TemporaryDirectory() as tmp_dir:
        check_weights_round_trip(ours, case, x, tmp_dir)


def check_error(case: ErrorCase, pytest_module: Any) -> None:
    with pytest_module.raises(case.error, match=case.match):
        layer = getattr(lamina.layers, case.layer)(**case.kwargs)
        if case.input_shape is not None:
            layer(torch.zeros(case.input_shape))

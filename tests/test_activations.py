"""lamina.activations against Keras 3 (torch backend): values, names, serialization."""

import keras
import numpy as np
import pytest
import torch

from lamina import activations
from lamina.saving import serialization

# (name, kwargs): every Keras activation, with the arguments that change the arithmetic.
CASES = [
    ("relu", {}),
    ("relu", {"negative_slope": 0.1}),
    ("relu", {"max_value": 6}),
    ("relu", {"max_value": 2.5}),
    ("relu", {"threshold": 0.5}),
    ("relu", {"negative_slope": 0.3, "max_value": 6.0}),
    ("relu", {"negative_slope": 0.2, "threshold": -0.3}),
    ("relu", {"negative_slope": 0.1, "max_value": 3.0, "threshold": 0.5}),
    ("leaky_relu", {}),
    ("leaky_relu", {"negative_slope": 0.05}),
    ("relu6", {}),
    ("softmax", {}),
    ("softmax", {"axis": 0}),
    ("softmax", {"axis": (1, 2)}),
    ("softmax", {"axis": None}),
    ("log_softmax", {}),
    ("log_softmax", {"axis": 1}),
    ("log_softmax", {"axis": (0, 2)}),
    ("elu", {}),
    ("elu", {"alpha": 0.5}),
    ("selu", {}),
    ("softplus", {}),
    ("softsign", {}),
    ("soft_shrink", {}),
    ("soft_shrink", {"threshold": 1.0}),
    ("sparse_plus", {}),
    ("silu", {}),
    ("swish", {}),
    ("squareplus", {}),
    ("squareplus", {"b": 1}),
    ("gelu", {}),
    ("gelu", {"approximate": True}),
    ("celu", {}),
    ("celu", {"alpha": 2.0}),
    ("glu", {}),
    ("glu", {"axis": 1}),
    ("tanh", {}),
    ("tanh_shrink", {}),
    ("hard_tanh", {}),
    ("hard_shrink", {}),
    ("hard_shrink", {"threshold": 1.0}),
    ("threshold", {"threshold": 0.3, "default_value": -1.0}),
    ("sigmoid", {}),
    ("sparse_sigmoid", {}),
    ("exponential", {}),
    ("hard_sigmoid", {}),
    ("hard_silu", {}),
    ("hard_swish", {}),
    ("linear", {}),
    ("mish", {}),
    ("log_sigmoid", {}),
]

KERAS_NAMES = sorted(
    n
    for n in dir(keras.activations)
    if not n.startswith("_") and n not in ("get", "serialize", "deserialize")
)


def _inputs(dtype=torch.float32):
    """Random values of shape (3, 4, 6) plus the breakpoints of the piecewise ones."""
    x = torch.randn(3, 4, 6, dtype=torch.float64) * 3
    x.view(-1)[:10] = torch.tensor([-6.0, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0, 7])
    return x.to(dtype)


def _keras(name, x, **kwargs):
    return keras.ops.convert_to_numpy(getattr(keras.activations, name)(x, **kwargs))


def test_every_keras_activation_exists_and_has_a_case():
    assert set(KERAS_NAMES) <= set(dir(activations))
    assert {name for name, _ in CASES} | {"sparsemax"} == set(KERAS_NAMES)


@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_values_match_keras(name, kwargs):
    x = _inputs()
    ours = getattr(activations, name)(x, **kwargs)
    assert ours.dtype == torch.float32 and ours.shape == _keras(name, x, **kwargs).shape
    np.testing.assert_allclose(ours.numpy(), _keras(name, x, **kwargs), atol=1e-6)


@pytest.mark.parametrize("name", ["relu", "softmax", "gelu", "mish", "sparse_plus"])
def test_float64_stays_float64_and_matches_keras(name):
    x = _inputs(torch.float64)
    ours = getattr(activations, name)(x)
    assert ours.dtype == torch.float64
    np.testing.assert_allclose(ours.numpy(), _keras(name, x), atol=1e-12)


def test_float16_softmax_matches_keras():
    x = _inputs(torch.float16)
    ours = activations.softmax(x)
    assert ours.dtype == torch.float16
    np.testing.assert_array_equal(ours.numpy(), _keras("softmax", x))


def test_negative_axes_in_a_tuple_mean_the_same_axes():
    x = _inputs()
    ours = activations.softmax(x, axis=(-2, -1)).numpy()
    np.testing.assert_allclose(ours, _keras("softmax", x, axis=(1, 2)), atol=1e-6)


def test_sparsemax_matches_keras_when_the_support_is_one_entry():
    x = torch.randn(5, 8) * 10  # widely spread logits: one entry in each support
    ours = activations.sparsemax(x)
    assert torch.all((ours > 0).sum(-1) == 1)
    np.testing.assert_allclose(ours.numpy(), _keras("sparsemax", x), atol=1e-6)


def _sparsemax_reference(z):
    """Martins and Astudillo (2016), Algorithm 1, on one vector."""
    ordered = np.sort(z)[::-1]
    cumsum = np.cumsum(ordered)
    k = np.arange(1, z.size + 1)
    support = k[1 + k * ordered > cumsum].max()
    return np.maximum(z - (cumsum[support - 1] - 1) / support, 0)


@pytest.mark.parametrize("axis", [-1, 0])
def test_sparsemax_is_the_simplex_projection(axis):
    # Keras 3.15 gets this wrong when the support has several entries (#23425).
    x = torch.randn(6, 7, dtype=torch.float64) * 0.5
    ours = activations.sparsemax(x, axis=axis).numpy()
    expected = np.apply_along_axis(_sparsemax_reference, axis, x.numpy())
    np.testing.assert_allclose(ours, expected, atol=1e-12)
    np.testing.assert_allclose(ours.sum(axis), 1.0)
    np.testing.assert_allclose(
        activations.sparsemax(torch.tensor([0.0, 0.5, 1.0])).numpy(), [0, 0.25, 0.75]
    )


def test_array_like_inputs_become_floatx_tensors():
    out = activations.relu([-1.0, 2.0])
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    assert activations.relu(np.array([-1.0, 2.0])).dtype == torch.float64


def test_softmax_and_sigmoid_keep_their_logits_like_keras():
    x = _inputs()
    assert activations.softmax(x)._keras_logits is x
    assert activations.sigmoid(x)._keras_logits is x


def test_gradients_flow():
    x = _inputs().requires_grad_()
    y = activations.relu(x, negative_slope=0.1, max_value=3.0, threshold=0.5)
    y.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_softmax_over_a_size_1_axis_warns_like_keras():
    with pytest.warns(UserWarning, match="axis -1 of a tensor of shape"):
        activations.softmax(torch.ones(2, 1))


def test_glu_rejects_an_odd_axis():
    with pytest.raises(ValueError, match=r"glu: expected an even size along axis -1"):
        activations.glu(torch.ones(2, 3))


# ------------------------------------------------------------------ names and configs


@pytest.mark.parametrize("name", KERAS_NAMES)
def test_serialize_matches_keras(name):
    ours = activations.serialize(getattr(activations, name))
    assert ours == keras.activations.serialize(getattr(keras.activations, name))
    assert activations.get(ours) is getattr(activations, name)
    assert activations.deserialize(name) is getattr(activations, name)


def test_get_accepts_none_callables_and_keras_function_dicts():
    assert activations.get(None) is activations.linear
    assert activations.get(torch.tanh) is torch.tanh
    keras_dict = {
        "module": "keras.activations",
        "class_name": "function",
        "config": "relu",
        "registered_name": "function",
    }
    assert activations.get(keras_dict) is activations.relu
    assert activations.deserialize(keras_dict) is activations.relu


def custom_activation(x):
    return x * 2


def test_custom_functions_serialize_like_keras():
    expected = keras.activations.serialize(custom_activation)
    assert activations.serialize(custom_activation) == expected
    assert (
        activations.deserialize(
            expected, custom_objects={"custom_activation": custom_activation}
        )
        is custom_activation
    )


def test_registered_functions_round_trip():
    def doubled(x):
        return x * 2

    serialization.register_keras_serializable("Tests")(doubled)
    config = activations.serialize(doubled)
    assert config["config"] == "Tests>doubled"
    assert activations.get(config) is doubled


class _Scaled:
    def __init__(self, factor=2.0):
        self.factor = factor

    def __call__(self, x):
        return x * self.factor

    def get_config(self):
        return {"factor": self.factor}


def test_objects_with_get_config_serialize_as_dicts():
    config = activations.serialize(_Scaled(3.0))
    assert config["class_name"] == "_Scaled" and config["config"] == {"factor": 3.0}
    rebuilt = activations.deserialize(config, custom_objects={"_Scaled": _Scaled})
    assert rebuilt.factor == 3.0


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (
            lambda: activations.get("nope"),
            ValueError,
            r"Unknown activation function: 'nope'.*Known names:.*relu",
        ),
        (lambda: activations.deserialize("nope"), ValueError, r"'nope'"),
        (
            lambda: activations.get(3),
            ValueError,
            r"activations.get: `identifier` must be None.*; got identifier=3",
        ),
        (
            lambda: activations.serialize(3),
            ValueError,
            r"activations.serialize: `activation` must be a function",
        ),
    ],
)
def test_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()

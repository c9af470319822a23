"""lamina.backend (the Keras 2 ``K`` API) against NumPy references of Keras 2
semantics, and against Keras 3 where the semantics are the same."""

from __future__ import annotations

import keras  # a dev dependency: the oracle
import numpy as np
import pytest
import torch

from lamina import backend as K
from lamina import config


def rand(*shape, seed=0, low=None, high=None):
    rng = np.random.RandomState(seed)
    if low is not None:
        return rng.uniform(low, high, shape).astype(np.float32)
    return rng.randn(*shape).astype(np.float32)


def close(ours, expected, rtol=1e-5, atol=1e-6):
    ours = ours.detach().numpy() if isinstance(ours, torch.Tensor) else ours
    expected = (
        expected.detach().numpy()
        if isinstance(expected, torch.Tensor)
        else np.asarray(expected)
    )
    assert np.shape(ours) == np.shape(expected)
    np.testing.assert_allclose(ours, expected, rtol=rtol, atol=atol)


def _id(value):
    """A stable test id (no memory addresses, so pytest-xdist workers agree)."""
    if callable(value):
        return getattr(value, "__name__", type(value).__name__)
    return str(value).replace(" ", "")


# --- the Keras 2 docs' antirectifier -------------------------------------------------


def antirectifier(x):
    x -= K.mean(x, axis=1, keepdims=True)
    x = K.l2_normalize(x, axis=1)
    pos = K.relu(x)
    neg = K.relu(-x)
    return K.concatenate([pos, neg], axis=1)


def test_antirectifier():
    x = rand(4, 6)
    centered = x - x.mean(axis=1, keepdims=True)
    unit = centered / np.sqrt(np.maximum((centered**2).sum(1, keepdims=True), 1e-12))
    expected = np.concatenate([np.maximum(unit, 0), np.maximum(-unit, 0)], axis=1)
    out = antirectifier(torch.tensor(x))
    assert K.int_shape(out) == (4, 12)
    close(out, expected)


# --- reductions --------------------------------------------------------------------

REDUCTIONS = {
    "mean": np.mean,
    "sum": np.sum,
    "prod": np.prod,
    "max": np.max,
    "min": np.min,
    "std": np.std,
    "var": np.var,
    "any": np.any,
    "all": np.all,
}


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2)], ids=_id)
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reductions(name, axis, keepdims):
    x = rand(2, 3, 4)
    if name in ("any", "all"):
        x = x > 0.3
    expected = REDUCTIONS[name](x, axis=axis, keepdims=keepdims)
    ours = getattr(K, name)(torch.as_tensor(x), axis=axis, keepdims=keepdims)
    close(ours, expected, rtol=1e-5)


def test_mean_of_bools_and_ints_is_float():
    assert K.mean(torch.tensor([True, False, True, True])).item() == 0.75
    assert K.mean(torch.tensor([1, 2])).dtype == torch.float32


def test_logsumexp_argmax_cumulative():
    x = rand(3, 4)
    close(K.logsumexp(torch.tensor(x), axis=1), np.log(np.exp(x).sum(1)))
    assert K.argmax(torch.tensor(x)).dtype == torch.int64
    np.testing.assert_array_equal(K.argmax(torch.tensor(x)).numpy(), x.argmax(-1))
    np.testing.assert_array_equal(
        K.argmin(torch.tensor(x), axis=0).numpy(), x.argmin(0)
    )
    close(K.cumsum(torch.tensor(x)), np.cumsum(x, axis=0))
    close(K.cumprod(torch.tensor(x), axis=1), np.cumprod(x, axis=1))


# --- element-wise ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,reference",
    [
        ("square", np.square),
        ("abs", np.abs),
        ("exp", np.exp),
        ("sign", np.sign),
        ("sin", np.sin),
        ("cos", np.cos),
        ("tanh", np.tanh),
        ("sigmoid", lambda v: 1 / (1 + np.exp(-v))),
        ("softplus", lambda v: np.log1p(np.exp(v))),
        ("softsign", lambda v: v / (1 + np.abs(v))),
        ("sqrt", lambda v: np.sqrt(np.maximum(v, 0))),
        ("hard_sigmoid", lambda v: np.clip(0.2 * v + 0.5, 0, 1)),
        ("round", np.round),
    ],
    ids=_id,
)
def test_elementwise(name, reference):
    x = rand(3, 4) * 4
    x[0, :3] = [0.5, 1.5, -2.5]  # ties round to even, as TensorFlow did
    close(getattr(K, name)(torch.tensor(x)), reference(x))


def test_log_pow_and_comparisons():
    x, y = rand(3, 4, low=0.1, high=2), rand(3, 4, seed=1, low=0.1, high=2)
    tx, ty = torch.tensor(x), torch.tensor(y)
    close(K.log(tx), np.log(x))
    close(K.pow(tx, 3), x**3, rtol=1e-5)
    close(K.maximum(tx, ty), np.maximum(x, y))
    close(K.minimum(tx, 1.0), np.minimum(x, 1.0))
    for name, op in [
        ("equal", np.equal),
        ("not_equal", np.not_equal),
        ("greater", np.greater),
        ("greater_equal", np.greater_equal),
        ("less", np.less),
        ("less_equal", np.less_equal),
    ]:
        np.testing.assert_array_equal(getattr(K, name)(tx, ty).numpy(), op(x, y))


@pytest.mark.parametrize(
    "bounds", [(-0.5, 0.5), (0.5, -1.0), (None, 0.2), (0.0, None)], ids=_id
)
def test_clip(bounds):
    x = rand(3, 4)
    low, high = bounds
    if low is not None and high is not None and high < low:
        high = low  # Keras 2 raises max_value to min_value
    close(
        K.clip(torch.tensor(x), *bounds),
        np.clip(x, -np.inf if low is None else low, np.inf if high is None else high),
    )


# --- activations -------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"alpha": 0.1},
        {"max_value": 6.0},
        {"max_value": 0.5},
        {"threshold": 0.3},
        {"alpha": 0.2, "max_value": 1.0},
        {"alpha": 0.3, "threshold": -0.5},
        {"alpha": 0.1, "max_value": 1.2, "threshold": 0.2},
    ],
    ids=_id,
)
def test_relu_matches_keras(kwargs):
    x = rand(4, 5) * 2
    theirs = dict(kwargs)
    if "alpha" in theirs:
        theirs["negative_slope"] = theirs.pop("alpha")
    close(
        K.relu(torch.tensor(x), **kwargs),
        keras.activations.relu(torch.tensor(x), **theirs),
    )


@pytest.mark.parametrize(
    "name,args,theirs",
    [
        ("elu", (0.5,), lambda x: keras.ops.elu(x, alpha=0.5)),
        ("softmax", (), keras.ops.softmax),
        ("softmax", (0,), lambda x: keras.ops.softmax(x, axis=0)),
    ],
    ids=_id,
)
def test_activations_match_keras(name, args, theirs):
    x = torch.tensor(rand(3, 4))
    close(getattr(K, name)(x, *args), theirs(x))


@pytest.mark.parametrize("axis", [None, 0, 1, -1], ids=_id)
def test_l2_normalize(axis):
    x = rand(3, 4)
    norm = np.sqrt(np.maximum((x**2).sum(axis=axis, keepdims=True), 1e-12))
    close(K.l2_normalize(torch.tensor(x), axis=axis), x / norm)


def test_l2_normalize_of_zeros_is_zeros():
    close(K.l2_normalize(torch.zeros(2, 3), axis=1), np.zeros((2, 3)))


def test_dropout_and_bias_add():
    x = torch.ones(200, 10)
    out = K.dropout(x, 0.5, seed=1)
    assert set(torch.unique(out).tolist()) <= {0.0, 2.0}
    assert 0.3 < (out == 0).float().mean().item() < 0.7
    torch.testing.assert_close(out, K.dropout(x, 0.5, seed=1))
    shared = K.dropout(x, 0.5, noise_shape=(200, 1), seed=2)
    assert bool((shared == shared[:, :1]).all())
    bias = np.arange(3, dtype=np.float32)
    x = rand(2, 4, 5, 3)
    close(K.bias_add(torch.tensor(x), torch.tensor(bias)), x + bias)
    x = rand(2, 3, 4, 5)
    close(
        K.bias_add(torch.tensor(x), bias, data_format="channels_first"),
        x + bias.reshape(1, 3, 1, 1),
    )


# --- shapes ------------------------------------------------------------------------


def test_shape_functions():
    x = rand(2, 3, 4)
    t = torch.tensor(x)
    close(K.concatenate([t, t]), np.concatenate([x, x], axis=-1))
    close(K.concatenate([t, t], axis=0), np.concatenate([x, x], axis=0))
    close(K.reshape(t, (6, -1)), x.reshape(6, -1))
    close(K.permute_dimensions(t, (2, 0, 1)), x.transpose(2, 0, 1))
    close(K.repeat_elements(t, 2, axis=1), np.repeat(x, 2, axis=1))
    close(K.repeat(torch.tensor(x[:, :, 0]), 5), np.repeat(x[:, None, :, 0], 5, axis=1))
    close(K.flatten(t), x.reshape(-1))
    close(K.batch_flatten(t), x.reshape(2, -1))
    close(K.expand_dims(t), x[..., None])
    close(K.expand_dims(t, 0), x[None])
    close(K.squeeze(torch.tensor(x[:, :1]), 1), x[:, 0])
    close(K.stack([t, t]), np.stack([x, x]))
    close(K.stack([t, t], axis=-1), np.stack([x, x], axis=-1))
    close(K.transpose(t), x.T)
    close(K.reverse(t, 1), x[:, ::-1])
    close(K.reverse(t, (0, 2)), x[::-1, :, ::-1])
    close(K.slice(t, (0, 1, 1), (2, -1, 2)), x[:, 1:, 1:3])
    close(K.gather(t, [1, 0, 1]), x[[1, 0, 1]])
    close(K.tile(t, (1, 2, 1)), np.tile(x, (1, 2, 1)))
    assert [u.shape for u in K.unstack(t, axis=1)] == [(2, 4)] * 3
    assert K.arange(4).dtype == torch.int32
    close(K.arange(1, 7, 2), np.arange(1, 7, 2))


def test_one_hot():
    out = K.one_hot(torch.tensor([[0, 2], [1, 3]]), 4)
    assert out.dtype == torch.float32
    close(out, np.eye(4, dtype=np.float32)[[[0, 2], [1, 3]]])


def test_padding():
    x = rand(2, 3, 4, 5)
    close(
        K.temporal_padding(torch.tensor(x[..., 0]), (1, 2)),
        np.pad(x[..., 0], ((0, 0), (1, 2), (0, 0))),
    )
    close(
        K.spatial_2d_padding(torch.tensor(x), ((1, 0), (2, 3))),
        np.pad(x, ((0, 0), (1, 0), (2, 3), (0, 0))),
    )
    close(
        K.spatial_2d_padding(torch.tensor(x), ((1, 0), (2, 3)), "channels_first"),
        np.pad(x, ((0, 0), (0, 0), (1, 0), (2, 3))),
    )
    y = rand(1, 2, 3, 4, 2)
    close(
        K.spatial_3d_padding(torch.tensor(y)),
        np.pad(y, ((0, 0), (1, 1), (1, 1), (1, 1), (0, 0))),
    )


# --- products ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "shapes",
    [
        ((3, 4), (4, 5)),
        ((2, 3, 4), (4, 5)),
        ((2, 3), (7, 3, 5)),
        ((2, 3, 4), (6, 4, 2)),
        ((4,), (4, 2)),
    ],
    ids=_id,
)
def test_dot_is_numpy_dot(shapes):
    x, y = rand(*shapes[0]), rand(*shapes[1], seed=1)
    close(K.dot(torch.tensor(x), torch.tensor(y)), np.dot(x, y), rtol=1e-5, atol=1e-5)


BATCH_DOT = [
    ((32, 20, 1), (32, 30, 20), (1, 2), (32, 1, 30)),
    ((4, 5), (4, 5), None, (4, 1)),
    ((4, 5), (4, 5, 3), None, (4, 3)),
    ((4, 3, 5), (4, 5), None, (4, 3)),
    ((4, 3, 5), (4, 5, 2), None, (4, 3, 2)),
    ((4, 3, 5), (4, 3, 2), 1, (4, 5, 2)),
    ((4, 2, 3, 5), (4, 5, 6), (3, 1), (4, 2, 3, 6)),
    ((4, 5, 2, 3), (4, 3, 6, 7), (-1, 1), (4, 5, 2, 6, 7)),
]


@pytest.mark.parametrize("x_shape,y_shape,axes,out_shape", BATCH_DOT, ids=_id)
def test_batch_dot(x_shape, y_shape, axes, out_shape):
    from keras.src.layers.merging.dot import batch_dot as keras_batch_dot

    x, y = torch.tensor(rand(*x_shape)), torch.tensor(rand(*y_shape, seed=1))
    ours = K.batch_dot(x, y, axes=axes)
    assert K.int_shape(ours) == out_shape
    close(ours, keras_batch_dot(x, y, axes=axes), rtol=1e-5, atol=1e-5)


def test_batch_dot_errors():
    with pytest.raises(ValueError, match="batch axis 0"):
        K.batch_dot(torch.ones(2, 3), torch.ones(2, 3), axes=0)
    with pytest.raises(ValueError, match="must have the same size"):
        K.batch_dot(torch.ones(2, 3), torch.ones(2, 4))


# --- losses and normalization ------------------------------------------------------


@pytest.mark.parametrize("from_logits", [False, True])
def test_crossentropies(from_logits):
    eps = K.epsilon()
    target = rand(4, 3, low=0, high=1)
    probs = rand(4, 3, seed=1, low=0.0, high=1.0)
    probs[0, 0] = 0.0  # clipped to eps
    logits = rand(4, 3, seed=2)
    output = logits if from_logits else probs
    ours = K.binary_crossentropy(
        torch.tensor(target), torch.tensor(output), from_logits=from_logits
    )
    if from_logits:
        expected = (
            np.maximum(logits, 0) - logits * target + np.log1p(np.exp(-np.abs(logits)))
        )
    else:
        p = np.clip(probs, eps, 1 - eps)
        expected = -(target * np.log(p + eps) + (1 - target) * np.log(1 - p + eps))
    close(ours, expected, rtol=1e-5, atol=1e-5)
    # Keras 3 adds no epsilon inside the logs: same numbers away from 0 and 1.
    theirs = keras.ops.binary_crossentropy(target[1:], output[1:], from_logits)
    close(ours[1:], theirs, atol=1e-4, rtol=1e-4)

    one_hot = np.eye(3, dtype=np.float32)[[0, 2, 1, 1]]
    close(
        K.categorical_crossentropy(
            torch.tensor(one_hot), torch.tensor(output), from_logits=from_logits
        ),
        keras.ops.categorical_crossentropy(one_hot, output, from_logits),
        atol=1e-5,
    )

    labels = np.array([0, 2, 1, 1])
    ours = K.sparse_categorical_crossentropy(
        torch.tensor(labels), torch.tensor(output), from_logits=from_logits
    )
    if from_logits:
        log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    else:  # clip, then renormalize (TensorFlow's softmax of the clipped logs)
        p = np.clip(probs, eps, 1 - eps)
        log_p = np.log(p / p.sum(-1, keepdims=True))
    close(ours, -log_p[np.arange(4), labels], rtol=1e-5, atol=1e-5)


def test_batch_normalization():
    x = rand(2, 3, 4)
    mean, var = rand(4, seed=1), rand(4, seed=2, low=0.5, high=2)
    beta, gamma = rand(4, seed=3), rand(4, seed=4)
    close(
        K.batch_normalization(torch.tensor(x), mean, var, beta, gamma),
        (x - mean) / np.sqrt(var + 1e-3) * gamma + beta,
        atol=1e-5,
    )
    close(
        K.batch_normalization(torch.tensor(x), mean[:3], var[:3], None, None, axis=1),
        (x - mean[:3, None]) / np.sqrt(var[:3, None] + 1e-3),
        atol=1e-5,
    )


# --- variables, values and introspection -------------------------------------------


def test_variables_and_values():
    v = K.variable(np.ones((2, 3)), name="w")
    assert isinstance(v, torch.nn.Parameter) and v.dtype == torch.float32
    assert v.requires_grad
    K.set_value(v, np.full((2, 3), 2.0))
    np.testing.assert_array_equal(K.get_value(v), np.full((2, 3), 2.0))
    np.testing.assert_array_equal(K.eval(v * 2), np.full((2, 3), 4.0))
    K.batch_set_value([(v, np.zeros((2, 3)))])
    assert K.batch_get_value([v])[0].sum() == 0
    with pytest.raises(ValueError, match=r"shape \(2, 3\)"):
        K.set_value(v, np.zeros(3))
    K.update_add(v, 1.0)
    K.update_sub(v, np.full((2, 3), 0.5, np.float32))
    np.testing.assert_array_equal(K.get_value(v), np.full((2, 3), 0.5))
    K.moving_average_update(v, torch.ones(2, 3), 0.9)
    np.testing.assert_allclose(K.get_value(v), 0.55, rtol=1e-6)
    K.update(v, np.zeros((2, 3)))
    assert K.get_value(v).sum() == 0
    assert isinstance(K.zeros((2, 2)), torch.nn.Parameter)
    np.testing.assert_array_equal(K.get_value(K.ones(3, dtype="int32")), [1, 1, 1])
    np.testing.assert_array_equal(K.get_value(K.eye((2, 3))), np.eye(2, 3))
    np.testing.assert_array_equal(K.get_value(K.eye(2)), np.eye(2))
    assert K.constant(1.5, shape=(2, 2)).shape == (2, 2)
    assert K.constant([1, 2]).dtype == torch.float32
    assert K.zeros_like(torch.ones(2, dtype=torch.int32)).dtype == torch.int32
    assert K.ones_like(torch.ones(2), dtype="float64").dtype == torch.float64
    assert K.count_params(v) == 6


def test_shape_and_dtype_introspection():
    from lamina.layers.keras_tensor import KerasTensor

    t = torch.zeros(2, 3)
    assert K.int_shape(t) == (2, 3)
    assert K.int_shape(KerasTensor((None, 5))) == (None, 5)
    assert K.int_shape(np.zeros((4,))) == (4,)
    assert K.ndim(KerasTensor((None, 5, 2))) == 3
    shape = K.shape(t)
    assert shape.dtype == torch.int32 and shape.tolist() == [2, 3]
    assert K.dtype(t) == "float32" and K.dtype(KerasTensor((1,), "int32")) == "int32"
    assert K.is_keras_tensor(KerasTensor((None, 5)))
    assert not K.is_keras_tensor(t)
    with pytest.raises(ValueError, match="Expected a symbolic tensor"):
        K.is_keras_tensor(np.zeros(2))
    assert K.is_tensor(t) and K.is_tensor(KerasTensor((1,)))
    assert not K.is_tensor(np.zeros(2))
    assert K.backend() == "torch"


def test_cast():
    assert K.cast(torch.ones(2), "int32").dtype == torch.int32
    assert K.cast_to_floatx(torch.ones(2, dtype=torch.int64)).dtype == torch.float32
    out = K.cast_to_floatx([1, 2])
    assert isinstance(out, np.ndarray) and out.dtype == np.float32


def test_settings_round_trip():
    saved = (K.floatx(), K.epsilon(), K.image_data_format())
    try:
        K.set_floatx("float64")
        K.set_epsilon(1e-5)
        K.set_image_data_format("channels_first")
        assert (config.floatx(), config.epsilon(), config.image_data_format()) == (
            "float64",
            1e-5,
            "channels_first",
        )
        assert K.variable(1.0).dtype == torch.float64
    finally:
        K.set_floatx(saved[0])
        K.set_epsilon(saved[1])
        K.set_image_data_format(saved[2])


def test_clear_session_resets_layer_names():
    from lamina.utils import naming

    K.clear_session()
    assert naming.auto_name("Dense") == "dense"
    assert naming.auto_name("Dense") == "dense_1"
    assert K.get_uid("x") == 1 and K.get_uid("x") == 2
    K.clear_session()
    assert naming.auto_name("Dense") == "dense"
    assert K.get_uid("x") == 1
    K.clear_session()


# --- random ------------------------------------------------------------------------


def test_random():
    a = K.random_normal((500, 4), mean=1.0, stddev=2.0, seed=3)
    assert a.shape == (500, 4) and a.dtype == torch.float32
    torch.testing.assert_close(a, K.random_normal((500, 4), 1.0, 2.0, seed=3))
    assert abs(a.mean().item() - 1.0) < 0.3 and abs(a.std().item() - 2.0) < 0.3
    u = K.random_uniform((1000,), -1.0, 3.0, dtype="float64", seed=1)
    assert u.dtype == torch.float64 and u.min() >= -1.0 and u.max() < 3.0
    t = K.truncated_normal((1000,), 0.0, 1.0, seed=0)
    assert t.abs().max() <= 2.0
    b = K.random_bernoulli((1000,), p=0.3, seed=0)
    assert set(b.unique().tolist()) <= {0.0, 1.0}
    assert 0.2 < b.mean().item() < 0.4
    v = K.random_uniform_variable((2, 2), 0, 1, seed=0)
    assert isinstance(v, torch.nn.Parameter)
    assert K.random_normal_variable((2,), 0, 1).shape == (2,)


def test_vae_sampling_with_dynamic_batch_size():
    z_mean = torch.zeros(5, 2)
    batch, dim = K.shape(z_mean)[0], K.int_shape(z_mean)[1]
    assert K.random_normal(shape=(batch, dim)).shape == (5, 2)


# --- control flow ------------------------------------------------------------------


def test_switch():
    a, b = torch.ones(2, 3), torch.zeros(2, 3)
    assert K.switch(True, lambda: a, lambda: b) is a
    assert K.switch(torch.tensor(False), a, b) is b
    condition = torch.tensor([True, False])
    close(K.switch(condition, a, b), np.array([[1, 1, 1], [0, 0, 0]], np.float32))
    close(
        K.switch(torch.tensor([[True], [False]]), a, 5.0),
        np.array([[1, 1, 1], [5, 5, 5]], np.float32),
    )


def test_learning_phase():
    assert K.learning_phase() == 0
    assert K.in_train_phase(1, 2) == 2
    assert K.in_train_phase(lambda: 1, lambda: 2, training=True) == 1
    assert K.in_test_phase(1, 2) == 1
    K.set_learning_phase(1)
    try:
        assert K.in_train_phase(1, 2) == 1
    finally:
        K.set_learning_phase(0)
    with pytest.raises(ValueError, match="must be 0 or 1"):
        K.set_learning_phase(2)


def test_map_and_folds():
    x = torch.arange(1.0, 5.0)
    close(K.map_fn(lambda v: v * 2, x), np.arange(1.0, 5.0) * 2)
    assert K.foldl(lambda acc, v: acc - v, x).item() == 1 - 2 - 3 - 4
    assert K.foldr(lambda acc, v: acc - v, x).item() == 4 - 3 - 2 - 1
    assert K.foldl(lambda acc, v: acc + v, x, initializer=10.0).item() == 20
    assert not K.stop_gradient(torch.ones(1, requires_grad=True) * 2).requires_grad
    assert K.identity(x) is not x
    with K.name_scope("block"):
        pass

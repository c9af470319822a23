"""lamina.initializers against Keras 3 (torch backend): values, statistics, configs."""

import math

import keras
import numpy as np
import pytest
import torch
from keras.src.initializers import ALL_OBJECTS_DICT as KERAS_TABLE
from keras.src.initializers.random_initializers import compute_fans as keras_fans

from lamina import initializers
from lamina.dtype_policies import to_torch_dtype

KERAS_NAMES = sorted(
    n
    for n in dir(keras.initializers)
    if not n.startswith("_") and n not in ("get", "serialize", "deserialize")
)

# (class name, kwargs) for every constructible initializer, defaults and not.
CONFIG_CASES = [
    ("Zeros", {}),
    ("Ones", {}),
    ("Constant", {}),
    ("Constant", {"value": 2.5}),
    ("STFT", {"window": None}),
    ("STFT", {"side": "imag", "window": [1.0, 2.0]}),
    ("STFT", {"window": None, "scaling": "spectrum", "periodic": True}),
    ("RandomNormal", {}),
    ("RandomNormal", {"mean": 1.0, "stddev": 2.0, "seed": 3}),
    ("RandomUniform", {}),
    ("RandomUniform", {"minval": -1, "maxval": 2, "seed": 4}),
    ("TruncatedNormal", {}),
    ("TruncatedNormal", {"mean": 1.0, "stddev": 0.5}),
    ("VarianceScaling", {}),
    ("VarianceScaling", {"scale": 2.0, "mode": "fan_avg", "distribution": "uniform"}),
    ("VarianceScaling", {"distribution": "normal", "seed": 1}),
    ("VarianceScaling", {"input_axes": [0], "output_axes": [1, 2]}),
    ("GlorotUniform", {}),
    ("GlorotNormal", {"seed": 5}),
    ("HeUniform", {}),
    ("HeNormal", {}),
    ("LecunUniform", {}),
    ("LecunNormal", {"seed": 2}),
    ("Orthogonal", {}),
    ("Orthogonal", {"gain": 2.0, "seed": 7}),
]

# (class name, kwargs, shape): seeded draws, equal to Keras's bit for bit.
SEEDED_CASES = [
    ("RandomNormal", {}, (30, 40)),
    ("RandomNormal", {"mean": 1.0, "stddev": 3.0}, (7,)),
    ("RandomUniform", {}, (30, 40)),
    ("RandomUniform", {"minval": 2.0, "maxval": 5.0}, ()),
    ("TruncatedNormal", {"mean": -1.0, "stddev": 0.3}, (30, 40)),
    ("VarianceScaling", {}, (3, 3, 8, 16)),
    (
        "VarianceScaling",
        {"mode": "fan_out", "distribution": "untruncated_normal"},
        (5, 9),
    ),
    (
        "VarianceScaling",
        {"scale": 3.0, "mode": "fan_avg", "distribution": "uniform"},
        (4, 6),
    ),
    ("VarianceScaling", {"input_axes": [0, 1], "output_axes": [2]}, (4, 5, 6)),
    ("GlorotUniform", {}, (3, 3, 8, 16)),
    ("GlorotNormal", {}, (20, 30)),
    ("HeUniform", {}, (5, 16, 32)),
    ("HeNormal", {}, (20, 30)),
    ("LecunUniform", {}, (20,)),
    ("LecunNormal", {}, (20, 30)),
    ("Orthogonal", {}, (6, 4)),
    ("Orthogonal", {"gain": 2.0}, (4, 6)),
    ("Orthogonal", {}, (3, 4, 5)),
]

# (class name, kwargs, (fan_in, fan_out) -> (distribution, spread)), on big shapes.
# spread is the uniform limit or the (post-truncation) normal stddev.
STAT_CASES = [
    ("GlorotUniform", {}, lambda i, o: ("uniform", math.sqrt(6 / (i + o)))),
    ("GlorotNormal", {}, lambda i, o: ("truncated", math.sqrt(2 / (i + o)))),
    ("HeUniform", {}, lambda i, o: ("uniform", math.sqrt(6 / i))),
    ("HeNormal", {}, lambda i, o: ("truncated", math.sqrt(2 / i))),
    ("LecunUniform", {}, lambda i, o: ("uniform", math.sqrt(3 / i))),
    ("LecunNormal", {}, lambda i, o: ("truncated", math.sqrt(1 / i))),
    (
        "VarianceScaling",
        {"scale": 0.5, "mode": "fan_out", "distribution": "untruncated_normal"},
        lambda i, o: ("normal", math.sqrt(0.5 / o)),
    ),
]
STAT_SHAPES = [(400, 300), (3, 3, 64, 128)]


def _keras_np(value):
    return keras.ops.convert_to_numpy(value)


def test_every_keras_name_exists_with_the_same_meaning():
    for name in KERAS_NAMES:
        ours, theirs = getattr(initializers, name), getattr(keras.initializers, name)
        assert ours.__name__ == theirs.__name__, name


@pytest.mark.parametrize(
    ("name", "kwargs", "shape"),
    [
        ("Zeros", {}, (3, 4)),
        ("Ones", {}, (2, 3, 4)),
        ("Constant", {"value": 3.5}, (5,)),
        ("Constant", {}, ()),
        ("Identity", {}, (3, 3)),
        ("Identity", {"gain": 2.0}, (2, 4)),
        ("STFT", {"window": None}, (16, 1, 9)),
        ("STFT", {"side": "imag", "window": None, "scaling": None}, (8, 1, 5)),
        ("STFT", {"window": list(np.hanning(16)), "scaling": "spectrum"}, (16, 1, 9)),
    ],
)
def test_deterministic_initializers_equal_keras(name, kwargs, shape):
    ours = getattr(initializers, name)(**kwargs)(shape)
    theirs = _keras_np(getattr(keras.initializers, name)(**kwargs)(shape))
    assert ours.dtype == torch.float32 and ours.device.type == "cpu"
    np.testing.assert_allclose(ours.numpy(), theirs, atol=1e-6, rtol=0)


def test_constant_is_exact_in_float64():
    assert initializers.Constant(0.1)((2,), dtype="float64").tolist() == [0.1, 0.1]


def test_constant_honours_an_integer_dtype_like_keras():
    ours = initializers.Constant(2)((3,), dtype="int32")
    theirs = keras.initializers.Constant(2)((3,), dtype="int32")
    assert torch.equal(ours, torch.as_tensor(theirs))


_NUMPY_WINDOWS = {
    "hann": np.hanning,
    "hamming": np.hamming,
    "blackman": np.blackman,
    "bartlett": np.bartlett,
    "boxcar": np.ones,
}


@pytest.mark.parametrize("window", sorted(_NUMPY_WINDOWS))
@pytest.mark.parametrize("periodic", [False, True])
def test_stft_named_windows_equal_keras_given_the_window_values(window, periodic):
    # Keras looks named windows up in scipy (a dev dependency); lamina computes
    # them: against NumPy's windows and against Keras given the name.
    length = 16
    values = _NUMPY_WINDOWS[window](length + periodic)[:length]
    ours = initializers.get_window(window, length, periodic)
    np.testing.assert_allclose(ours, values, atol=1e-12)
    ours = initializers.STFT(window=window, periodic=periodic)((length, 1, 9))
    for theirs in (
        keras.initializers.STFT(window=values),
        keras.initializers.STFT(window=window, periodic=periodic),
    ):
        np.testing.assert_allclose(
            ours.numpy(), _keras_np(theirs((length, 1, 9))), atol=1e-6
        )


@pytest.mark.parametrize(
    ("name", "kwargs", "shape"),
    SEEDED_CASES,
    ids=[f"{c[0]}-{c[2]}" for c in SEEDED_CASES],
)
def test_seeded_draws_equal_keras(name, kwargs, shape):
    ours = getattr(initializers, name)(seed=1234, **kwargs)
    theirs = getattr(keras.initializers, name)(seed=1234, **kwargs)
    np.testing.assert_array_equal(ours(shape).numpy(), _keras_np(theirs(shape)))
    assert torch.equal(ours(shape), ours(shape))  # an int seed repeats its values


def test_seed_generator_configs_advance_like_keras():
    theirs = keras.initializers.RandomNormal(seed=keras.random.SeedGenerator(5))
    ours = initializers.deserialize(keras.initializers.serialize(theirs))
    for _ in range(2):
        np.testing.assert_array_equal(ours((4, 3)).numpy(), _keras_np(theirs((4, 3))))
    assert ours.get_config() == theirs.get_config()


def test_unseeded_draws_use_torch_global_rng():
    init = initializers.GlorotUniform()
    torch.manual_seed(7)
    first = init((5, 5))
    assert not torch.equal(first, init((5, 5)))
    torch.manual_seed(7)
    assert torch.equal(first, init((5, 5)))


def test_different_seeds_differ():
    a = initializers.HeNormal(seed=1)((10, 10))
    assert not torch.equal(a, initializers.HeNormal(seed=2)((10, 10)))
    assert torch.equal(a, initializers.HeNormal(seed=1)((10, 10)))


@pytest.mark.parametrize("shape", STAT_SHAPES)
@pytest.mark.parametrize(
    ("name", "kwargs", "expect"), STAT_CASES, ids=[c[0] for c in STAT_CASES]
)
def test_random_spread_follows_the_fans(name, kwargs, expect, shape):
    fan_in, fan_out = initializers.compute_fans(shape)
    kind, spread = expect(fan_in, fan_out)
    values = getattr(initializers, name)(**kwargs)(shape).double()
    if kind == "uniform":
        assert values.abs().max() <= spread
        assert values.abs().max() > 0.99 * spread
        assert values.std().item() == pytest.approx(spread / math.sqrt(3), rel=0.03)
    else:
        assert values.std().item() == pytest.approx(spread, rel=0.03)
        if kind == "truncated":
            # 2 stddev of the distribution drawn before truncation
            assert values.abs().max() < 2 * spread / 0.87962566103423978
    assert abs(values.mean().item()) < 0.05 * spread


def test_truncated_normal_stays_within_two_stddev():
    values = initializers.TruncatedNormal(mean=3.0, stddev=0.5)((200, 500))
    assert ((values - 3.0).abs() < 1.0).all()
    assert values.std().item() == pytest.approx(0.5 * 0.87962566103423978, rel=0.02)


@pytest.mark.parametrize(
    "shape", [(), (7,), (3, 5), (3, 3, 8, 16), (2, 3, 4, 5, 6), (0, 4), (1, 1, 1)]
)
def test_fans_equal_keras(shape):
    assert initializers.compute_fans(shape) == keras_fans(shape)


def test_fans_with_axes_equal_keras():
    args = ((2, 3, 4, 5), [0, 1], [2, 3])
    assert initializers.compute_fans(*args) == keras_fans(*args) == (6, 20)


@pytest.mark.parametrize("dtype", ["float64", "bfloat16", "float16", torch.float64])
def test_dtype_argument(dtype):
    for init in (
        initializers.GlorotNormal(seed=1),
        initializers.Zeros(),
        initializers.RandomUniform(),
    ):
        values = init((4, 4), dtype=dtype)
        assert values.dtype == to_torch_dtype(dtype)


@pytest.mark.parametrize(
    ("name", "kwargs"), CONFIG_CASES, ids=[f"{n}-{k}" for n, k in CONFIG_CASES]
)
def test_config_and_serialization_equal_keras(name, kwargs):
    ours = getattr(initializers, name)(**kwargs)
    theirs = getattr(keras.initializers, name)(**kwargs)
    assert ours.get_config() == theirs.get_config()
    assert initializers.serialize(ours) == keras.initializers.serialize(theirs)
    rebuilt = initializers.deserialize(keras.initializers.serialize(theirs))
    assert type(rebuilt) is type(ours) and rebuilt.get_config() == ours.get_config()
    back = keras.initializers.deserialize(initializers.serialize(ours))
    assert back.get_config() == theirs.get_config()
    assert ours.clone().get_config() == ours.get_config()


def test_identity_keeps_its_gain_in_the_config():
    # Keras 3.15 returns {} and loses `gain`; lamina keeps it, and Keras reads it.
    config = initializers.serialize(initializers.Identity(gain=3.0))
    assert config["config"] == {"gain": 3.0}
    assert keras.initializers.deserialize(config).gain == 3.0


@pytest.mark.parametrize(
    "value", [np.float32(2.5), np.array([1.0, 2.0]), torch.tensor([3.0, 4.0])]
)
def test_constant_array_values_serialize_like_keras(value):
    ours = initializers.Constant(value)
    assert ours.get_config() == keras.initializers.Constant(value).get_config()
    rebuilt = initializers.Constant.from_config(ours.get_config())
    np.testing.assert_array_equal(rebuilt((2,)).numpy(), ours((2,)).numpy())


@pytest.mark.parametrize(
    "name",
    [
        "zeros",
        "Zeros",
        "zero",
        "ones",
        "one",
        "constant",
        "identity",
        "IdentityInitializer",
        "normal",
        "uniform",
        "random_normal",
        "truncated_normal",
        "variance_scaling",
        "glorot_uniform",
        "glorot_normal",
        "he_uniform",
        "he_normal",
        "lecun_uniform",
        "lecun_normal",
        "orthogonal",
        "OrthogonalInitializer",
        "stft",
        "STFTInitializer",
    ],
)
def test_get_by_name_matches_keras(name):
    # Keras's own get() fails on "constant" (KeyError) and "stft" (needs scipy).
    assert type(initializers.get(name)).__name__ == KERAS_TABLE[name].__name__


def test_get_accepts_none_classes_callables_and_values():
    assert initializers.get(None) is None
    assert isinstance(initializers.get(initializers.HeNormal), initializers.HeNormal)

    def fn(shape, dtype=None):
        return torch.zeros(shape)

    assert initializers.get(fn) is fn
    init = initializers.get(np.arange(6.0).reshape(2, 3))
    assert torch.equal(init((2, 3)), torch.arange(6.0).reshape(2, 3))
    with pytest.raises(ValueError, match=r"`shape` must be \(2, 3\); got shape="):
        init((3, 2))
    assert initializers.glorot_uniform is initializers.GlorotUniform
    assert isinstance(
        initializers.get({"class_name": "Ones", "config": {}}), initializers.Ones
    )


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: initializers.get("nope"),
            r"Unknown initializer: 'nope'.*Known names:.*glorot_uniform",
        ),
        (lambda: initializers.get(3), r"initializers.get: `identifier` must be None"),
        (
            lambda: initializers.VarianceScaling(scale=0),
            r"VarianceScaling: `scale` must be a positive number; got scale=0\.",
        ),
        (
            lambda: initializers.VarianceScaling(scale="1"),
            r"VarianceScaling: `scale` must be a positive number; got scale='1'\.",
        ),
        (
            lambda: initializers.VarianceScaling(mode="fan_max"),
            r"VarianceScaling: `mode` must be one of 'fan_in', 'fan_out', 'fan_avg'",
        ),
        (
            lambda: initializers.VarianceScaling(distribution="cauchy"),
            r"`distribution` must be one of 'truncated_normal', .*; got "
            r"distribution='cauchy'",
        ),
        (
            lambda: initializers.RandomNormal(seed="7"),
            r"RandomNormal: `seed` must be an integer, None or a serialized",
        ),
        (
            lambda: initializers.Identity()((2, 3, 4)),
            r"Identity: `shape` must be 2-D \(rows, cols\); got shape=\(2, 3, 4\)",
        ),
        (
            lambda: initializers.Orthogonal()((5,)),
            r"Orthogonal: `shape` must be at least 2-D; got shape=\(5,\)",
        ),
        (lambda: initializers.STFT(side="both"), r"STFT: `side` must be 'real' or"),
        (lambda: initializers.STFT(window="nope"), r"STFT: `window` must be None, "),
        (lambda: initializers.STFT(scaling="max"), r"STFT: `scaling` must be None,"),
        (
            lambda: initializers.STFT(window=[1.0, 2.0])((3, 1, 4)),
            r"STFT: `window` must be of length frame_length=3; got window=\(2,\)",
        ),
    ],
)
def test_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_base_initializer_must_be_subclassed():
    with pytest.raises(NotImplementedError, match="must implement"):
        initializers.Initializer()((2,))

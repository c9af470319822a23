"""keras.random vs Keras 3: seeded draws follow Keras's torch backend step for
step (same numbers on the same device), SeedGenerator's state and config, and
the distributions' shapes, dtypes, moments and errors."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import torch

import lamina
from lamina import random

X = np.arange(24, dtype="float32").reshape(4, 6)
LOGITS = np.array([[0.0, 1.0, 2.0], [2.0, 0.0, 0.0]], "float32")

# (name, args, kwargs): each drawn with seed=5 in both
DRAWS = [
    ("normal", ((3, 4),), {"mean": 1.0, "stddev": 2.0}),
    ("uniform", ((3, 4),), {"minval": -1.0, "maxval": 2.0}),
    ("uniform", ((),), {}),
    ("randint", ((3, 4), 0, 10), {}),
    ("randint", ((5,), -3, 3), {"dtype": "int64"}),
    ("truncated_normal", ((300,),), {"mean": 1.0, "stddev": 0.5}),
    ("dropout", (torch.ones(4, 6), 0.5), {}),
    ("dropout", (torch.ones(4, 6), 0.3), {"noise_shape": (None, 1)}),
    ("shuffle", (X,), {}),
    ("shuffle", (X,), {"axis": 1}),
    ("categorical", (torch.tensor(LOGITS), 6), {}),
    ("gamma", ((5,), 2.0), {}),
    ("binomial", ((5,), 10.0, 0.3), {}),
    ("beta", ((5,), 2.0, 3.0), {}),
    ("normal", ((2,),), {"dtype": "float64"}),
]


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


@pytest.mark.parametrize("name,args,kwargs", DRAWS, ids=[d[0] for d in DRAWS])
def test_seeded_draws_equal_keras_torch_backend(name, args, kwargs):
    ours = getattr(random, name)(*args, **kwargs, seed=5)
    theirs = getattr(keras.random, name)(*args, **kwargs, seed=5)
    np.testing.assert_array_equal(ours.cpu().numpy(), _numpy(theirs))
    assert ours.dtype == theirs.dtype and tuple(ours.shape) == tuple(theirs.shape)
    again = getattr(random, name)(*args, **kwargs, seed=5)
    assert torch.equal(ours, again)


def test_seed_generator_advances_like_keras():
    ours, theirs = random.SeedGenerator(3), keras.random.SeedGenerator(3)
    for _ in range(3):
        a = random.normal((4,), seed=ours)
        b = keras.random.normal((4,), seed=theirs)
        np.testing.assert_array_equal(a.cpu().numpy(), _numpy(b))
    assert ours.state.tolist() == _numpy(theirs.state).tolist() == [3, 3]
    assert (
        ours.state.dtype == torch.int32
        and ours.state.path == f"{ours.name}/seed_generator_state"
    )
    assert ours.next(ordered=False).tolist() == [3, 3]
    theirs.next(ordered=False)
    assert ours.state.tolist() == _numpy(theirs.state).tolist()
    config = json.loads(json.dumps(ours.get_config()))
    assert config == {"seed": 3, "name": ours.name}
    assert keras.random.SeedGenerator.from_config(config).get_config() == config
    assert random.SeedGenerator.from_config(theirs.get_config()).next().tolist() == [
        3,
        0,
    ]
    assert random.SeedGenerator().next()[0] > 0  # a random starting seed
    # large integers wrap to 32 bits as in Keras
    big = 2**33 + 5
    np.testing.assert_array_equal(random.normal((2,), seed=big).cpu().numpy(),
                                  _numpy(keras.random.normal((2,), seed=big)))  # fmt: skip


def test_unseeded_draws_follow_torch_global_generator():
    torch.manual_seed(0)
    a = random.uniform((3,))
    torch.manual_seed(0)
    assert torch.equal(a, random.uniform((3,)))
    assert not torch.equal(random.uniform((3,)), random.uniform((3,)))
    # seeded gamma/beta/binomial leave the global generator where it was
    torch.manual_seed(1)
    random.gamma((3,), 2.0, seed=4)
    after = torch.rand(2)
    torch.manual_seed(1)
    assert torch.equal(after, torch.rand(2))


def test_moments_ranges_and_dtypes():
    n = 40000
    normal = random.normal((n,), mean=2.0, stddev=3.0, seed=1)
    assert (
        abs(float(normal.mean()) - 2.0) < 0.05 and abs(float(normal.std()) - 3) < 0.05
    )
    uniform = random.uniform((n,), minval=-2.0, maxval=4.0, seed=1)
    assert float(uniform.min()) >= -2 and float(uniform.max()) < 4
    assert abs(float(uniform.mean()) - 1.0) < 0.05
    truncated = random.truncated_normal((n,), mean=1.0, stddev=0.5, seed=1)
    assert float((truncated - 1.0).abs().max()) < 1.0  # within 2 stddev
    assert abs(float(truncated.std()) - 0.5 * 0.8796) < 0.01  # std of N(0,1) cut at 2
    ints = random.randint((n,), 3, 7, seed=1)
    assert ints.dtype == torch.int32 and set(ints.unique().tolist()) == {3, 4, 5, 6}
    kept = random.dropout(torch.ones(n), 0.25, seed=1)
    assert abs(float((kept > 0).float().mean()) - 0.75) < 0.01
    assert set(kept.unique().tolist()) == {0.0, float(np.float32(4 / 3))}
    assert torch.equal(random.dropout(torch.ones(3), 0.0), torch.ones(3))
    assert torch.equal(random.dropout(torch.ones(3), 1.0), torch.zeros(3))
    channels = random.dropout(
        torch.ones(8, 5, 16), 0.5, noise_shape=(None, 1, None), seed=2
    )
    assert bool((channels == channels[:, :1]).all())  # one mask per channel, all steps
    draws = random.categorical(torch.log(torch.tensor([[0.2, 0.8]])), n, seed=1)
    assert abs(float(draws.float().mean()) - 0.8) < 0.01
    gamma = random.gamma((n,), alpha=4.0, seed=1)
    assert (
        abs(float(gamma.mean()) - 4.0) < 0.05 and abs(float(gamma.var()) - 4.0) < 0.15
    )
    beta = random.beta((n,), alpha=2.0, beta=6.0, seed=1)
    assert abs(float(beta.mean()) - 0.25) < 0.005
    binomial = random.binomial((n,), counts=10, probabilities=0.3, seed=1)
    assert abs(float(binomial.mean()) - 3.0) < 0.05 and float(binomial.max()) <= 10
    shuffled = random.shuffle(X, axis=1, seed=3)
    assert np.array_equal(np.sort(shuffled.cpu().numpy(), 1), X)
    assert random.normal((2,), dtype="float16").dtype == torch.float16


def test_errors_name_the_function_and_argument():
    with pytest.raises(
        ValueError, match=r"keras.random.uniform: `dtype` must be a floating"
    ):
        random.uniform((2,), dtype="int32")
    with pytest.raises(
        ValueError, match=r"keras.random.randint: `dtype` must be an? integer"
    ):
        random.randint((2,), 0, 3, dtype="float32")
    with pytest.raises(
        ValueError, match=r"keras.random.categorical: `logits` must be a 2-D"
    ):
        random.categorical(torch.zeros(3), 1)
    with pytest.raises(
        ValueError, match=r"keras.random.normal: `seed` must be an integer, a"
    ):
        random.normal((2,), seed="seven")
    with pytest.raises(
        ValueError, match=r"keras.random.dropout: `rate` must be a number in"
    ):
        random.dropout(torch.ones(2), 1.5)
    with pytest.raises(
        ValueError, match=r"keras.random.normal: `shape` must be a tuple"
    ):
        random.normal(3)
    with pytest.raises(
        ValueError, match=r"SeedGenerator: `seed` must be an integer or None"
    ):
        random.SeedGenerator(1.5)
    with pytest.raises(
        ValueError, match=r"keras.random.shuffle: `axis` must be an axis"
    ):
        random.shuffle(X, axis=2)


def test_layers_keep_their_seeded_generators():
    # the layer-facing API of SeedGenerator is unchanged
    layer = lamina.layers.Dropout(0.5, seed=3)
    a = layer(torch.ones(2, 8), training=True)
    again = lamina.layers.Dropout(0.5, seed=3)(torch.ones(2, 8), training=True)
    assert torch.equal(a, again)
    assert random.SeedGenerator(None).generator(torch.device("cpu")) is None

"""``keras.random``: seeded random tensors, and the ``SeedGenerator`` layers draw
their noise from.

A ``seed`` is an integer, a ``SeedGenerator`` (a seed that advances at each draw)
or ``None``. Seeded draws follow Keras 3's torch backend step for step: the seed
state ``[s, n]`` (``[seed, 0]`` for an integer) seeds a fresh ``torch.Generator``
with ``(s + n) mod 2**32`` on ``config.get_device()``, and the same torch call
then draws, so a seeded draw gives Keras-on-torch's numbers on the same device.
With ``seed=None`` the draw uses torch's global generator, so
``torch.manual_seed`` (and ``set_random_seed``) make it reproducible; Keras
advances a hidden global ``SeedGenerator`` instead.

>>> import lamina as keras
>>> a = keras.random.normal((2, 3), seed=7)
>>> bool((a == keras.random.normal((2, 3), seed=7)).all())
True
"""

from __future__ import annotations

import random as python_random

import torch

from lamina import config
from lamina import dtype_policies as policies
from lamina.utils import naming
from lamina.utils.validation import arg_error
from lamina.variables import Variable

_SEED_RULE = "an integer, a keras.random.SeedGenerator or None"


class SeedGenerator:
    """A seed that advances: each seeded draw takes the next seed state.

    Keras's API: ``state`` (an int32 ``Variable`` ``[seed, counter]``),
    ``next()`` (the current state, then the counter moves on), ``get_config()``
    and ``from_config()``. Layers also use it as lamina always has:
    ``generator(device)`` is a persistent ``torch.Generator`` seeded with
    ``seed`` (``None`` without a seed), ``uniform``/``normal`` draw from it.

    Args:
        seed: an integer, or ``None`` for a random starting seed (drawn, as in
            Keras, from Python's ``random`` the first time ``state`` is read).
        name: the generator's name (default ``"seed_generator"``, numbered).

    Raises:
        ValueError: for a seed that is not an integer or ``None``, or unknown
            keyword arguments.

    Example:
    >>> import lamina as keras
    >>> gen = keras.random.SeedGenerator(42)
    >>> gen.next().tolist(), gen.next().tolist()
    ([42, 0], [42, 1])
    >>> a = keras.random.uniform((2,), seed=keras.random.SeedGenerator(1))
    >>> b = keras.random.uniform((2,), seed=keras.random.SeedGenerator(1))
    >>> bool((a == b).all())
    True
    """

    def __init__(self, seed: int | None = None, name: str | None = None, **kwargs):
        kwargs.pop("backend", None)  # Keras's custom-backend hook: one backend here
        if kwargs:
            raise ValueError(
                f"SeedGenerator: unrecognized keyword argument(s) {sorted(kwargs)}."
            )
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise arg_error("SeedGenerator", "seed", "an integer or None", seed)
        self.seed = seed
        self._initial_seed = seed
        self.name = name or naming.auto_name("SeedGenerator")
        self._state: Variable | None = None
        self._generators: dict[torch.device, torch.Generator] = {}

    # ----------------------------------------------------------- Keras API
    @property
    def state(self) -> Variable:
        """The seed state ``[seed, counter]`` (int32), created on first use."""
        if self._state is None:
            seed = self.seed if self.seed is not None else _default_seed()
            state = Variable(torch.tensor([seed, 0], dtype=torch.int32), False)
            state.name = "seed_generator_state"
            state.path = f"{self.name}/seed_generator_state"
            state.__dict__["_keras_trainable"] = False
            self._state = state
        return self._state

    def next(self, ordered: bool = True) -> torch.Tensor:
        """The current seed state; then the counter advances (``ordered``) or the
        state is scrambled (``(state + 1) * 5387 % 933199``, Keras's rule)."""
        state = self.state
        current = state.detach().clone()
        with torch.no_grad():
            if ordered:
                state[1] += 1
            else:
                state.copy_((state + 1) * 5387 % 933199)
        return current

    def get_config(self) -> dict:
        return {"seed": self._initial_seed, "name": self.name}

    @classmethod
    def from_config(cls, config_dict):
        return cls(**config_dict)

    # ------------------------------------------------- layers' persistent draw
    def generator(self, device: torch.device) -> torch.Generator | None:
        if self.seed is None:
            return None
        generator = self._generators.get(device)
        if generator is None:
            generator = torch.Generator(device=device)
            generator.manual_seed(int(self.seed))
            self._generators[device] = generator
        return generator

    def uniform(self, shape, like: torch.Tensor) -> torch.Tensor:
        return torch.rand(
            shape,
            generator=self.generator(like.device),
            dtype=like.dtype,
            device=like.device,
        )

    def normal(self, shape, like: torch.Tensor, mean=0.0, stddev=1.0) -> torch.Tensor:
        noise = torch.randn(
            shape,
            generator=self.generator(like.device),
            dtype=like.dtype,
            device=like.device,
        )
        return noise * stddev + mean

    def __repr__(self):
        return f"<SeedGenerator name={self.name} seed={self._initial_seed}>"


def _default_seed() -> int:
    return python_random.randint(1, int(1e9))


def _seed_value(owner: str, seed) -> int | None:
    """The 32-bit seed of a fresh generator (Keras's torch backend rule)."""
    if seed is None:
        return None
    if isinstance(seed, SeedGenerator):
        first, second = (int(v) for v in seed.next())
    elif isinstance(seed, int) and not isinstance(seed, bool):
        first, second = (seed & 0xFFFFFFFF ^ 0x80000000) - 0x80000000, 0
    else:
        raise arg_error(owner, "seed", _SEED_RULE, seed)
    return (first + second) & 0xFFFFFFFF


def _generator(owner: str, seed, device) -> torch.Generator | None:
    value = _seed_value(owner, seed)
    if value is None:
        return None
    generator = torch.Generator(device=device)
    generator.manual_seed(value)
    return generator


def _shape(owner: str, shape) -> tuple[int, ...]:
    try:
        dims = tuple(int(d) for d in shape)
    except TypeError:
        raise arg_error(owner, "shape", "a tuple of integers", shape) from None
    if any(d < 0 for d in dims):
        raise arg_error(owner, "shape", "a tuple of integers >= 0", shape)
    return dims


def _dtype(owner: str, dtype, kind: str) -> torch.dtype:
    try:
        torch_dtype = policies.to_torch_dtype(dtype or config.floatx())
    except ValueError:
        raise arg_error(owner, "dtype", f"a {kind} dtype", dtype) from None
    is_float = torch_dtype.is_floating_point
    is_int = not is_float and not torch_dtype.is_complex and torch_dtype != torch.bool
    if (kind == "floating-point" and not is_float) or (
        kind == "integer" and not is_int
    ):
        raise arg_error(owner, "dtype", f"a {kind} dtype", dtype)
    return torch_dtype


def _tensor(x, dtype=None) -> torch.Tensor:
    x = torch.as_tensor(x, dtype=dtype)
    return x if x.device.type != "cpu" else x.to(config.get_device())


# ------------------------------------------------------------------ draws
def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal samples of ``shape`` with ``mean`` and ``stddev``.

    Example:
    >>> import lamina as keras
    >>> keras.random.normal((2, 2), seed=1).shape
    torch.Size([2, 2])
    """
    owner = "keras.random.normal"
    device = config.get_device()
    return torch.normal(
        mean, stddev, size=_shape(owner, shape), dtype=_dtype(owner, dtype, "floating-point"),
        generator=_generator(owner, seed, device), device=device,
    )  # fmt: skip


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Uniform samples of ``shape`` in ``[minval, maxval)``.

    Raises:
        ValueError: for a non-floating ``dtype`` (use ``randint``).

    Example:
    >>> import lamina as keras
    >>> x = keras.random.uniform((1000,), minval=2.0, maxval=3.0, seed=0)
    >>> bool((x >= 2).all() and (x < 3).all())
    True
    """
    owner = "keras.random.uniform"
    device = config.get_device()
    dims = _shape(owner, shape)
    noise = torch.rand(
        dims or (1,), dtype=_dtype(owner, dtype, "floating-point"),
        generator=_generator(owner, seed, device), device=device,
    )  # fmt: skip
    noise = (maxval - minval) * noise + minval
    return noise if dims else noise[0]


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Integers of ``shape`` drawn uniformly from ``[minval, maxval)``.

    Raises:
        ValueError: for a non-integer ``dtype``.

    Example:
    >>> import lamina as keras
    >>> x = keras.random.randint((100,), 0, 3, seed=0)
    >>> sorted(set(x.tolist())), x.dtype
    ([0, 1, 2], torch.int32)
    """
    owner = "keras.random.randint"
    device = config.get_device()
    return torch.randint(
        int(minval), int(maxval), size=_shape(owner, shape),
        dtype=_dtype(owner, dtype, "integer"), generator=_generator(owner, seed, device),
        device=device,
    )  # fmt: skip


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal samples of ``shape`` redrawn until within 2 standard deviations of
    ``mean``.

    As Keras's torch backend, four candidates are drawn per value and the first
    inside (-2, 2) is kept; lamina also redraws the rare values (about 4 in a
    million) whose four candidates all fall outside, which Keras keeps.

    Example:
    >>> import lamina as keras
    >>> x = keras.random.truncated_normal((10000,), stddev=0.5, seed=0)
    >>> bool(x.abs().max() < 1.0)
    True
    """
    owner = "keras.random.truncated_normal"
    device = config.get_device()
    dims = _shape(owner, shape)
    torch_dtype = _dtype(owner, dtype, "floating-point")
    generator = _generator(owner, seed, device)
    candidates = torch.normal(
        0.0, 1.0, size=(*dims, 4), dtype=torch_dtype, generator=generator, device=device
    )
    valid = (candidates > -2) & (candidates < 2)
    first = valid.max(-1, keepdim=True)[1]
    values = candidates.gather(-1, first).squeeze(-1)
    outside = ~valid.any(-1)
    while bool(outside.any()):
        redraw = torch.normal(
            0.0, 1.0, size=(int(outside.sum()),), dtype=torch_dtype,
            generator=generator, device=device,
        )  # fmt: skip
        values[outside] = redraw
        outside = values.abs() >= 2
    return values * stddev + mean


def dropout(inputs, rate, noise_shape=None, seed=None):
    """``inputs`` with each entry zeroed with probability ``rate`` and the rest
    scaled by ``1 / (1 - rate)``.

    Args:
        inputs: the tensor.
        rate: the drop probability, in [0, 1].
        noise_shape: the shape of the keep mask, broadcast over ``inputs``
            (``None`` entries take the input's size): e.g. ``(batch, 1, C)``
            drops whole channels.
        seed: the seed (see the module).

    Example:
    >>> import torch, lamina as keras
    >>> y = keras.random.dropout(torch.ones(1000), 0.5, seed=0)
    >>> sorted(set(y.tolist()))
    [0.0, 2.0]
    """
    owner = "keras.random.dropout"
    if (
        isinstance(rate, bool)
        or not isinstance(rate, (int, float))
        or not 0 <= rate <= 1
    ):
        raise arg_error(owner, "rate", "a number in [0, 1]", rate)
    inputs = _tensor(inputs)
    if rate == 1.0:
        return torch.zeros_like(inputs)
    if rate == 0.0:
        return inputs
    unseeded = seed is None or (
        isinstance(seed, SeedGenerator) and seed._initial_seed is None
    )
    if unseeded and noise_shape is None:
        return torch.nn.functional.dropout(inputs, p=rate, training=True)
    keep = 1.0 - rate
    if noise_shape is None:
        mask_shape = tuple(inputs.shape)
    else:
        mask_shape = tuple(
            size if want is None else want
            for size, want in zip(inputs.shape, noise_shape)
        )
    generator = None if seed is None else _generator(owner, seed, inputs.device)
    probabilities = torch.full(mask_shape, keep, device=inputs.device)
    mask = torch.bernoulli(probabilities, generator=generator).bool()
    return torch.where(
        mask.expand(inputs.shape), inputs / keep, torch.zeros_like(inputs)
    )


def shuffle(x, axis=0, seed=None):
    """``x`` with its entries shuffled along ``axis`` (independently for each
    index of the axes before it, as in Keras's torch backend).

    Example:
    >>> import torch, lamina as keras
    >>> sorted(keras.random.shuffle(torch.arange(5), seed=0).tolist())
    [0, 1, 2, 3, 4]
    """
    owner = "keras.random.shuffle"
    x = _tensor(x)
    if not -x.ndim <= axis < max(x.ndim, 1):
        raise arg_error(owner, "axis", f"an axis of a rank-{x.ndim} tensor", axis)
    axis %= x.ndim
    generator = _generator(owner, seed, x.device)
    keys = torch.rand(x.shape[: axis + 1], generator=generator, device=x.device)
    order = keys.argsort(axis)
    order = order.reshape(*order.shape, *[1] * (x.ndim - axis - 1))
    return x.gather(axis, order.expand(x.shape))


def categorical(logits, num_samples, dtype="int32", seed=None):
    """``num_samples`` class ids per row, drawn from ``softmax(logits)`` (with
    replacement).

    Args:
        logits: unnormalized log-probabilities of shape ``(batch, classes)``.
        num_samples: draws per row.
        dtype: an integer dtype (default ``"int32"``).
        seed: the seed (see the module).

    Raises:
        ValueError: for ``logits`` that are not 2-D.

    Example:
    >>> import torch, lamina as keras
    >>> keras.random.categorical(torch.tensor([[0.0, 50.0]]), 3, seed=0).tolist()
    [[1, 1, 1]]
    """
    owner = "keras.random.categorical"
    logits = _tensor(logits)
    if logits.ndim != 2:
        raise arg_error(
            owner, "logits", "a 2-D tensor (batch_size, num_classes)",
            tuple(logits.shape),
        )  # fmt: skip
    torch_dtype = _dtype(owner, dtype, "integer")
    probabilities = torch.softmax(
        logits.to(torch.promote_types(logits.dtype, torch.float32)), -1
    )
    generator = _generator(owner, seed, logits.device)
    samples = torch.multinomial(
        probabilities, int(num_samples), True, generator=generator
    )
    return samples.to(torch_dtype)


def _with_global_seed(owner, seed, sample):
    """``sample()`` drawn from torch's global generator seeded from ``seed``
    (torch's gamma sampler takes no generator), the global state restored."""
    value = _seed_value(owner, seed)
    if value is None:
        return sample()
    device = config.get_device()
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(value)
        return sample()


def gamma(shape, alpha, dtype=None, seed=None):
    """Gamma samples of ``shape`` with concentration ``alpha`` (scale 1).

    Example:
    >>> import lamina as keras
    >>> x = keras.random.gamma((20000,), alpha=3.0, seed=0)
    >>> round(float(x.mean()), 1)
    3.0
    """
    owner = "keras.random.gamma"
    dims, torch_dtype = _shape(owner, shape), _dtype(owner, dtype, "floating-point")
    alpha = torch.broadcast_to(_tensor(alpha), dims)
    rate = torch.ones(dims, device=alpha.device)
    law = torch.distributions.Gamma(alpha, rate)
    return _with_global_seed(owner, seed, law.sample).to(torch_dtype)


def binomial(shape, counts, probabilities, dtype=None, seed=None):
    """Binomial samples of ``shape``: successes in ``counts`` trials of
    probability ``probabilities`` (both broadcast to ``shape``).

    Example:
    >>> import lamina as keras
    >>> x = keras.random.binomial((20000,), counts=10, probabilities=0.3, seed=0)
    >>> round(float(x.mean()), 1)
    3.0
    """
    owner = "keras.random.binomial"
    dims, torch_dtype = _shape(owner, shape), _dtype(owner, dtype, "floating-point")
    counts = torch.broadcast_to(_tensor(counts, torch.float32), dims)
    probabilities = torch.broadcast_to(_tensor(probabilities, torch.float32), dims)
    law = torch.distributions.Binomial(total_count=counts, probs=probabilities)
    return _with_global_seed(owner, seed, law.sample).to(torch_dtype)


def beta(shape, alpha, beta, dtype=None, seed=None):
    """Beta samples of ``shape`` with concentrations ``alpha`` and ``beta``.

    Example:
    >>> import lamina as keras
    >>> x = keras.random.beta((20000,), alpha=2.0, beta=6.0, seed=0)
    >>> round(float(x.mean()), 2)
    0.25
    """
    owner = "keras.random.beta"
    dims, torch_dtype = _shape(owner, shape), _dtype(owner, dtype, "floating-point")
    concentration1 = torch.broadcast_to(_tensor(alpha), dims)
    concentration0 = torch.broadcast_to(_tensor(beta), dims)
    law = torch.distributions.Beta(concentration1, concentration0)
    return _with_global_seed(owner, seed, law.sample).to(torch_dtype)


__all__ = [
    "SeedGenerator",
    "beta",
    "binomial",
    "categorical",
    "dropout",
    "gamma",
    "normal",
    "randint",
    "shuffle",
    "truncated_normal",
    "uniform",
]

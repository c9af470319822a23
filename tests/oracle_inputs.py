"""What an oracle case feeds a layer: input specs, the data they make, and the call.

``Input(shape, dtype, recipe)`` describes one array; ``Feed`` turns a case's
``inputs`` and ``call_kwargs`` (which may hold specs anywhere in nested lists,
tuples and dicts) into the same data for both libraries, calls a layer with it and
flattens what comes back. The conventions are documented in tests/oracle.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
import torch

# Strings are drawn from this fixed vocabulary, so string cases are deterministic.
WORDS = ("the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran", "far")


@dataclass(frozen=True)
class Input:
    """One input array: batch-first ``shape``, ``dtype`` and the ``recipe`` of its
    values. Recipes: ``"normal"`` (N(0, 1)), ``"uniform"`` ([0, 1)), ``"ints:N"``
    (integers in [0, N)), ``"padded"`` (normal, with all-zero timesteps for
    Masking), ``"bool"`` (coin flips), ``"words"`` (one word of ``WORDS`` each),
    ``"sentences"`` (1 to 4 words joined by spaces). Without a recipe the dtype
    picks one: floats "normal", integers "ints:10", "bool", "string" "words"."""

    shape: tuple
    dtype: str = "float32"
    recipe: str | None = None

    def make(self, seed: int) -> np.ndarray:
        name, _, argument = (self.recipe or _default_recipe(self.dtype)).partition(":")
        if name not in _RECIPES:
            raise ValueError(f"Input: unknown recipe {self.recipe!r}.")
        return _RECIPES[name](np.random.default_rng(seed), self, argument)


def _default_recipe(dtype: str) -> str:
    if dtype in ("bool", "string"):
        return "words" if dtype == "string" else "bool"
    return "ints:10" if dtype.startswith(("int", "uint")) else "normal"


def _normal(rng, spec, _):
    return rng.standard_normal(spec.shape).astype(spec.dtype)


def _padded(rng, spec, _):
    x = _normal(rng, spec, _)
    x[:, -1] = 0.0  # whole timesteps equal to 0 -> masked by Masking
    x[0, 0] = 0.0
    return x


def _sentences(rng, spec, _):
    lengths = rng.integers(1, 5, size=spec.shape)
    words = [" ".join(rng.choice(WORDS, n)) for n in lengths.ravel()]
    return np.array(words).reshape(spec.shape)


_RECIPES = {
    "normal": _normal,
    "padded": _padded,
    "uniform": lambda rng, spec, _: rng.random(spec.shape).astype(spec.dtype),
    "ints": lambda rng, spec, high: rng.integers(
        0, int(high or 10), size=spec.shape
    ).astype(spec.dtype),
    "bool": lambda rng, spec, _: rng.random(spec.shape) < 0.5,
    "words": lambda rng, spec, _: np.array(WORDS)[
        rng.integers(0, len(WORDS), spec.shape)
    ],
    "sentences": _sentences,
}


def map_specs(fn, tree):
    """``fn`` applied to every ``Input`` of a nested list/tuple/dict; other leaves
    (constant tensors, flags) stay as they are."""
    if isinstance(tree, Input):
        return fn(tree)
    if isinstance(tree, (list, tuple)):
        return type(tree)(map_specs(fn, item) for item in tree)
    if isinstance(tree, dict):
        return {key: map_specs(fn, value) for key, value in tree.items()}
    return tree


def is_string(array) -> bool:
    return isinstance(array, np.ndarray) and array.dtype.kind in "USO"


def _to_torch(array: np.ndarray, grad: bool):
    if is_string(array):
        return array  # torch holds no strings: both libraries get NumPy
    tensor = torch.tensor(array)
    if grad and tensor.is_floating_point():
        tensor.requires_grad_()
    return tensor


class Feed:
    """A case's data: one array per ``Input`` spec (seeds 0, 1, ... in the order
    the specs appear in ``inputs``, then in ``call_kwargs``)."""

    def __init__(self, inputs: Any, call_kwargs: dict):
        self.specs = (inputs, call_kwargs)
        specs: list[Input] = []
        map_specs(specs.append, self.specs)
        self.arrays = [spec.make(seed) for seed, spec in enumerate(specs)]

    @property
    def first(self) -> np.ndarray:
        """The first input's data (the only one for a one-input case)."""
        return self.arrays[0]

    def _fill(self, values: list):
        remaining = iter(values)
        return map_specs(lambda _: next(remaining), self.specs)

    def tensors(self, grad: bool = False):
        """Fresh tensors for one call: ``(inputs, call_kwargs, leaves)``, where
        ``leaves`` are the float tensors that require grad (when ``grad``)."""
        made = [_to_torch(array, grad) for array in self.arrays]
        inputs, kwargs = self._fill(made)
        leaves = [t for t in made if isinstance(t, torch.Tensor) and t.requires_grad]
        return inputs, kwargs, leaves

    def symbolic(self, library):
        """``(inputs, call_kwargs)`` with every spec an ``Input`` of ``library``
        (lamina or keras) with an unknown batch size."""
        inputs, kwargs = map_specs(
            lambda s: library.Input(batch_shape=(None, *s.shape[1:]), dtype=s.dtype),
            self.specs,
        )
        return inputs, kwargs

    def positional_shapes(self):
        """Symbolic shapes of the positional input (one shape or a list), or None
        when ``compute_output_shape`` cannot be asked (dict inputs, specs among
        the call kwargs)."""
        inputs, kwargs = self.specs
        inner: list[Input] = []
        map_specs(inner.append, kwargs)
        if isinstance(inputs, dict) or inner:
            return None
        return map_specs(lambda s: (None, *s.shape[1:]), inputs)

    def call(self, layer, grad: bool = False, **extra):
        """``layer`` called on fresh tensors; ``extra`` overrides call kwargs."""
        inputs, kwargs, _ = self.tensors(grad)
        return call(layer, inputs, kwargs, **extra)


def call(layer, inputs, kwargs: dict, **extra):
    """A dict of inputs goes in as keyword arguments; anything else (a tensor, a
    list) as the one positional argument."""
    kwargs = {**kwargs, **extra}
    if isinstance(inputs, dict):
        return layer(**inputs, **kwargs)
    return layer(inputs, **kwargs)


def flatten(structure, path: str = "") -> list[tuple[str, Any]]:
    """``(path, leaf)`` pairs of a nested output: lists and tuples by index, dicts
    by sorted key, so two outputs with the same nesting give the same paths."""
    if isinstance(structure, (list, tuple)):
        return [
            pair
            for i, item in enumerate(structure)
            for pair in flatten(item, f"{path}[{i}]")
        ]
    if isinstance(structure, dict):
        return [
            pair
            for key in sorted(structure)
            for pair in flatten(structure[key], f"{path}[{key!r}]")
        ]
    return [(path, structure)]


def to_numpy(value):
    if isinstance(value, torch.Tensor):
        if value.dtype == torch.bfloat16:  # NumPy has no bfloat16
            value = value.float()
        return value.detach().cpu().numpy()
    return keras.ops.convert_to_numpy(value)


def mask_of(value):
    mask = getattr(value, "_keras_mask", None)
    return None if mask is None else to_numpy(mask)

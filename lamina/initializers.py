"""Keras 3 weight initializers, returning CPU ``torch.Tensor``s.

``Initializer()(shape, dtype=None)`` builds a tensor (``dtype`` defaults to
``floatx()``). Random initializers draw exactly what Keras 3 draws on its torch
backend: an integer ``seed`` seeds a fresh ``torch.Generator`` at each call, so a seeded
initializer repeats its values, and they equal Keras's for the same seed. ``seed=None``
draws from torch's global RNG (``torch.manual_seed`` makes it reproducible).
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Mapping

import numpy as np
import torch

from lamina import config
from lamina.dtype_policies import dtype_name, to_torch_dtype
from lamina.saving import serialization
from lamina.utils.validation import arg_error, check_choice

# Keras scales a 2-sigma truncated normal by this (its stddev over that of the
# untruncated one) so that the truncated draw has the requested stddev.
_TRUNCATED_STDDEV = 0.87962566103423978


def _dtype(dtype) -> torch.dtype:
    return to_torch_dtype(dtype or config.floatx())


def _shape(shape) -> tuple[int, ...]:
    return tuple(int(d) for d in shape)


def compute_fans(shape, input_axes=None, output_axes=None) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight shape, as Keras counts them.

    Given both ``input_axes`` and ``output_axes``, the fans are the products of those
    dimensions. Otherwise a scalar has fans ``(1, 1)``, a vector ``(n, n)``, a matrix
    ``(rows, cols)``, and a kernel ``(..., in, out)`` ``(in * rf, out * rf)`` with
    receptive field ``rf = prod(shape[:-2])``.
    """
    shape = _shape(shape)
    if input_axes is not None and output_axes is not None:
        return math.prod(shape[a] for a in input_axes), math.prod(
            shape[a] for a in output_axes
        )
    if not shape:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


class Initializer:
    """Base class: subclasses implement ``__call__(shape, dtype=None)``."""

    _keras_module = "keras.initializers"

    def __call__(self, shape, dtype=None) -> torch.Tensor:
        """A tensor of ``shape`` and ``dtype`` (default ``floatx()``)."""
        raise NotImplementedError(
            f"{type(self).__name__}: Initializer subclasses must implement "
            "`__call__(shape, dtype=None)`."
        )

    def get_config(self) -> dict:
        """The constructor arguments, JSON-serializable (Keras 3 keys)."""
        return {}

    @classmethod
    def from_config(cls, config: dict):
        """Rebuild an initializer from ``get_config()`` output."""
        return cls(**config)

    def clone(self):
        """A new initializer with the same configuration."""
        return type(self).from_config(self.get_config())

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


# ---------------------------------------------------------------- constant family


def _serialize_value(value):
    """Keras's JSON form of a constant: plain scalars as is, arrays tagged."""
    if isinstance(value, (np.generic, torch.Tensor)) and np.ndim(value) == 0:
        return value.item()
    if isinstance(value, (np.ndarray, torch.Tensor)):
        tag = "__numpy__" if isinstance(value, np.ndarray) else "__tensor__"
        dtype = str(value.dtype) if tag == "__numpy__" else dtype_name(value.dtype)
        return {"class_name": tag, "config": {"value": value.tolist(), "dtype": dtype}}
    return value


def _deserialize_value(value):
    if isinstance(value, Mapping) and value.get("class_name") in (
        "__numpy__",
        "__tensor__",
    ):
        inner = value["config"]
        return np.asarray(inner["value"], dtype=inner.get("dtype"))
    return value


class Constant(Initializer):
    """Fills tensors with ``value``.

    Args:
        value: A Python scalar (an array broadcastable to the shape also works).

    Example:
        >>> Constant(3.0)(shape=(2,))
        tensor([3., 3.])
    """

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        dtype = _dtype(dtype)
        fill = torch.as_tensor(self.value, dtype=dtype)
        return fill * torch.ones(_shape(shape), dtype=dtype)

    def get_config(self):
        return {"value": _serialize_value(self.value)}

    @classmethod
    def from_config(cls, config):
        return cls(_deserialize_value(config.get("value", 0.0)))


class Zeros(Initializer):
    """Fills tensors with 0."""

    def __call__(self, shape, dtype=None):
        return torch.zeros(_shape(shape), dtype=_dtype(dtype))


class Ones(Initializer):
    """Fills tensors with 1."""

    def __call__(self, shape, dtype=None):
        return torch.ones(_shape(shape), dtype=_dtype(dtype))


class Identity(Initializer):
    """``gain`` times the identity matrix (2-D shapes only; rectangular allowed).

    Args:
        gain: Multiplicative factor.

    Raises:
        ValueError: when called with a shape that is not 2-D.
    """

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        if len(shape) != 2:
            raise arg_error(self, "shape", "2-D (rows, cols)", shape)
        return self.gain * torch.eye(*shape, dtype=_dtype(dtype))

    def get_config(self):
        # Keras 3.15 returns {} here and so loses `gain`; keep it (Keras reads it).
        return {"gain": self.gain}


def _cosine_sum(coefficients):
    """A window ``sum_k (-1)**k a_k cos(2 pi k n / (M - 1))`` as scipy defines it."""

    def window(m):
        phase = np.linspace(-np.pi, np.pi, m)
        return sum(a * np.cos(k * phase) for k, a in enumerate(coefficients))

    return window


def _bartlett(m):
    n = np.arange(m)
    return np.where(n <= (m - 1) / 2.0, 2.0 * n / (m - 1), 2.0 - 2.0 * n / (m - 1))


_WINDOWS = {
    "hann": _cosine_sum([0.5, 0.5]),
    "hamming": _cosine_sum([0.54, 0.46]),
    "blackman": _cosine_sum([0.42, 0.50, 0.08]),
    "nuttall": _cosine_sum([0.3635819, 0.4891775, 0.1365995, 0.0106411]),
    "blackmanharris": _cosine_sum([0.35875, 0.48829, 0.14128, 0.01168]),
    "flattop": _cosine_sum(
        [0.21557895, 0.41663158, 0.277263158, 0.083578947, 0.006947368]
    ),
    "bartlett": _bartlett,
    "cosine": lambda m: np.sin(np.pi / m * (np.arange(m) + 0.5)),
    "boxcar": np.ones,
}
_WINDOW_ALIASES = {
    "han": "hann",
    "hamm": "hamming",
    "ham": "hamming",
    "black": "blackman",
    "blk": "blackman",
    "nut": "nuttall",
    "nutl": "nuttall",
    "blackharr": "blackmanharris",
    "bkh": "blackmanharris",
    "flat": "flattop",
    "flt": "flattop",
    "bart": "bartlett",
    "brt": "bartlett",
    "halfcosine": "cosine",
    "box": "boxcar",
    "ones": "boxcar",
    "rect": "boxcar",
    "rectangular": "boxcar",
}

_WINDOW_NAMES = sorted({*_WINDOWS, *_WINDOW_ALIASES})


def get_window(name: str, length: int, periodic: bool = False) -> np.ndarray:
    """The float64 window ``name`` of ``length`` samples (scipy's ``get_window``)."""
    window = _WINDOWS[_WINDOW_ALIASES.get(name, name)]
    if length <= 1:
        return np.ones(length)
    return window(length + 1)[:-1] if periodic else window(length)


class STFT(Initializer):
    """Conv kernel of a short-time Fourier transform (real or imaginary part).

    Called with shape ``(frame_length, 1, fft_length // 2 + 1)``.

    Args:
        side: ``"real"`` or ``"imag"``: which part of the transform.
        window: A window name (``"hann"``, ``"hamming"``, ``"blackman"``,
            ``"bartlett"``, ``"boxcar"``, ``"cosine"``, ``"nuttall"``,
            ``"blackmanharris"``, ``"flattop"``), window values, or ``None``.
        scaling: ``"density"`` (L2), ``"spectrum"`` (L1) or ``None``.
        periodic: Use the periodic form of a named window.
    """

    def __init__(self, side="real", window="hann", scaling="density", periodic=False):
        if side not in ("real", "imag"):
            raise arg_error(self, "side", "'real' or 'imag'", side)
        if isinstance(window, str) and window not in _WINDOW_NAMES:
            rule = "None, window values or one of " + ", ".join(_WINDOW_NAMES)
            raise arg_error(self, "window", rule, window)
        if scaling not in (None, "density", "spectrum"):
            raise arg_error(self, "scaling", "None, 'density' or 'spectrum'", scaling)
        self.side = side
        self.window = window
        self.scaling = scaling
        self.periodic = periodic

    def __call__(self, shape, dtype=None):
        dtype = _dtype(dtype)
        frame_length, _, fft_length = _shape(shape)
        time = torch.arange(frame_length, dtype=dtype).reshape(frame_length, 1, 1)
        freq = torch.arange(fft_length, dtype=dtype).reshape(1, 1, fft_length)
        freq = freq / ((fft_length - 1) * 2)
        pi = torch.arccos(torch.tensor(-1, dtype=dtype))
        phase = (-2 * time) * freq * pi
        kernel = torch.cos(phase) if self.side == "real" else torch.sin(phase)
        if self.window is None:
            return kernel
        window = self.window
        if isinstance(window, str):
            window = get_window(window, frame_length, self.periodic)
        window = torch.as_tensor(window, dtype=dtype)
        if window.shape != (frame_length,):
            raise arg_error(
                self,
                "window",
                f"of length frame_length={frame_length}",
                tuple(window.shape),
            )
        window = window.reshape(frame_length, 1, 1)
        if self.scaling == "density":
            return kernel * window / torch.sqrt(torch.sum(window**2))
        if self.scaling == "spectrum":
            return kernel * window / torch.sum(torch.abs(window))
        return kernel * window

    def get_config(self):
        window = self.window
        if isinstance(window, (np.ndarray, torch.Tensor)):
            window = window.tolist()
        return {
            "side": self.side,
            "window": window,
            "periodic": self.periodic,
            "scaling": self.scaling,
        }


# ------------------------------------------------------------------ random family


def _normal(shape, mean, stddev, dtype, generator):
    return torch.normal(mean, stddev, size=shape, generator=generator, dtype=dtype)


def _uniform(shape, minval, maxval, dtype, generator):
    draw = torch.rand(shape or (1,), generator=generator, dtype=dtype)
    values = (maxval - minval) * draw + minval
    return values if shape else values[0]


def _truncated_normal(shape, mean, stddev, dtype, generator):
    """Normal values re-drawn until within 2 stddev of the mean.

    Like Keras: draw 4 candidates per value and keep the first inside (-2, 2), so
    seeded values equal Keras's. Keras keeps an out-of-range value when all 4 miss
    (probability 4e-6); lamina re-draws those.
    """
    candidates = _normal((*shape, 4), 0.0, 1.0, dtype, generator)
    inside = (candidates > -2) & (candidates < 2)
    values = candidates.gather(-1, inside.max(-1, keepdim=True).indices).squeeze(-1)
    missed = ~inside.any(-1)
    while missed.any():
        redraw = _normal((int(missed.sum()),), 0.0, 1.0, dtype, generator)
        values[missed] = redraw
        missed = (values <= -2) | (values >= 2)
    return values * stddev + mean


def _check_seed(owner, seed):
    """The integer seed in ``seed`` (None for none) and whether it advances."""
    if seed is None:
        return None, False
    if isinstance(seed, int) and not isinstance(seed, bool):
        return seed, False
    # A serialized keras.random.SeedGenerator: a seed that advances at each call.
    if isinstance(seed, Mapping) and seed.get("class_name") == "SeedGenerator":
        inner = seed.get("config", {}).get("seed")
        if inner is None or isinstance(inner, int):
            return inner, True
    rule = "an integer, None or a serialized keras.random.SeedGenerator"
    raise arg_error(owner, "seed", rule, seed)


class RandomInitializer(Initializer):
    """Base of the random initializers: owns the ``seed``.

    Args:
        seed: An int (same values at every call), ``None`` (torch's global RNG),
            or a serialized ``keras.random.SeedGenerator`` dict (a seeded stream
            that gives new values at each call, as in Keras).
    """

    def __init__(self, seed=None):
        self._seed, self._advances = _check_seed(self, seed)
        self._calls = 0
        self.seed = seed

    def _generator(self) -> torch.Generator | None:
        if self._seed is None:
            return None
        generator = torch.Generator()
        # Keras's torch backend seeds with (seed + counter) as a uint32.
        generator.manual_seed((self._seed + self._calls) & 0xFFFFFFFF)
        self._calls += self._advances
        return generator

    def get_config(self):
        return {"seed": self.seed}


class _MeanStddev(RandomInitializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed=seed)

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class RandomNormal(_MeanStddev):
    """Draws from a normal distribution.

    Args:
        mean: Mean of the values.
        stddev: Standard deviation of the values.
        seed: See ``RandomInitializer``.
    """

    def __call__(self, shape, dtype=None):
        return _normal(
            _shape(shape), self.mean, self.stddev, _dtype(dtype), self._generator()
        )


class TruncatedNormal(_MeanStddev):
    """Draws from a normal distribution, re-drawing values beyond 2 ``stddev``.

    Args:
        mean: Mean of the (untruncated) distribution.
        stddev: Standard deviation of the (untruncated) distribution.
        seed: See ``RandomInitializer``.
    """

    def __call__(self, shape, dtype=None):
        return _truncated_normal(
            _shape(shape), self.mean, self.stddev, _dtype(dtype), self._generator()
        )


class RandomUniform(RandomInitializer):
    """Draws uniformly from ``[minval, maxval)``.

    Args:
        minval: Lower bound (inclusive).
        maxval: Upper bound (exclusive).
        seed: See ``RandomInitializer``.
    """

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval = minval
        self.maxval = maxval
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        return _uniform(
            _shape(shape), self.minval, self.maxval, _dtype(dtype), self._generator()
        )

    def get_config(self):
        return {**super().get_config(), "minval": self.minval, "maxval": self.maxval}


class VarianceScaling(RandomInitializer):
    """Scales its distribution to the fans of the shape (see ``compute_fans``).

    With ``n`` = fan_in, fan_out or their mean (by ``mode``): ``"truncated_normal"``
    draws with stddev ``sqrt(scale / n) / 0.8796...`` truncated at 2 stddev (so the
    result has stddev ``sqrt(scale / n)``), ``"untruncated_normal"`` with stddev
    ``sqrt(scale / n)``, ``"uniform"`` within ``±sqrt(3 * scale / n)``. Fans below
    1 count as 1.

    Args:
        scale: Positive scaling factor.
        mode: ``"fan_in"``, ``"fan_out"`` or ``"fan_avg"``.
        distribution: ``"truncated_normal"`` (alias ``"normal"``),
            ``"untruncated_normal"`` or ``"uniform"``.
        seed: See ``RandomInitializer``.
        input_axes: Axes whose sizes multiply to fan_in (with ``output_axes``).
        output_axes: Axes whose sizes multiply to fan_out (with ``input_axes``).

    Raises:
        ValueError: for a non-positive ``scale`` or an unknown ``mode`` or
            ``distribution``.
    """

    def __init__(
        self,
        scale=1.0,
        mode="fan_in",
        distribution="truncated_normal",
        seed=None,
        input_axes=None,
        output_axes=None,
    ):
        if isinstance(scale, bool) or not isinstance(scale, numbers.Real) or scale <= 0:
            raise arg_error(self, "scale", "a positive number", scale)
        mode = check_choice(self, "mode", mode, ("fan_in", "fan_out", "fan_avg"))
        if isinstance(distribution, str) and distribution.lower() == "normal":
            distribution = "truncated_normal"
        distribution = check_choice(
            self,
            "distribution",
            distribution,
            ("truncated_normal", "untruncated_normal", "uniform"),
        )
        self.scale = scale
        self.mode = mode
        self.distribution = distribution
        self.input_axes = input_axes
        self.output_axes = output_axes
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        shape, dtype = _shape(shape), _dtype(dtype)
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        if self.mode == "fan_in":
            fan = fan_in
        elif self.mode == "fan_out":
            fan = fan_out
        else:
            fan = (fan_in + fan_out) / 2.0
        scale = self.scale / max(1.0, fan)
        if self.distribution == "truncated_normal":
            stddev = math.sqrt(scale) / _TRUNCATED_STDDEV
            return _truncated_normal(shape, 0.0, stddev, dtype, self._generator())
        if self.distribution == "untruncated_normal":
            return _normal(shape, 0.0, math.sqrt(scale), dtype, self._generator())
        limit = math.sqrt(3.0 * scale)
        return _uniform(shape, -limit, limit, dtype, self._generator())

    def get_config(self):
        return {
            **super().get_config(),
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "input_axes": self.input_axes,
            "output_axes": self.output_axes,
        }


class _PresetVarianceScaling(VarianceScaling):
    """A ``VarianceScaling`` whose scale, mode and distribution are fixed."""

    _preset: tuple[float, str, str]

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        scale, mode, distribution = self._preset
        super().__init__(scale, mode, distribution, seed, input_axes, output_axes)

    def get_config(self):
        return {
            "seed": self.seed,
            "input_axes": self.input_axes,
            "output_axes": self.output_axes,
        }


class GlorotUniform(_PresetVarianceScaling):
    """Uniform within ``±sqrt(6 / (fan_in + fan_out))`` (Xavier uniform)."""

    _preset = (1.0, "fan_avg", "uniform")


class GlorotNormal(_PresetVarianceScaling):
    """Truncated normal with stddev ``sqrt(2 / (fan_in + fan_out))`` (Xavier normal)."""

    _preset = (1.0, "fan_avg", "truncated_normal")


class LecunUniform(_PresetVarianceScaling):
    """Uniform within ``±sqrt(3 / fan_in)``."""

    _preset = (1.0, "fan_in", "uniform")


class LecunNormal(_PresetVarianceScaling):
    """Truncated normal with stddev ``sqrt(1 / fan_in)``."""

    _preset = (1.0, "fan_in", "truncated_normal")


class HeUniform(_PresetVarianceScaling):
    """Uniform within ``±sqrt(6 / fan_in)``."""

    _preset = (2.0, "fan_in", "uniform")


class HeNormal(_PresetVarianceScaling):
    """Truncated normal with stddev ``sqrt(2 / fan_in)``."""

    _preset = (2.0, "fan_in", "truncated_normal")


class Orthogonal(RandomInitializer):
    """``gain`` times an orthogonal matrix, from the QR decomposition of a normal draw.

    Shapes with more than 2 dims are filled as a ``(prod(shape[:-1]), shape[-1])``
    matrix, then reshaped. With fewer rows than columns the rows are orthonormal,
    otherwise the columns.

    Args:
        gain: Multiplicative factor.
        seed: See ``RandomInitializer``.

    Raises:
        ValueError: when called with a shape of fewer than 2 dims.
    """

    def __init__(self, gain=1.0, seed=None):
        self.gain = gain
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        if len(shape) < 2:
            raise arg_error(self, "shape", "at least 2-D", shape)
        rows, cols = math.prod(shape[:-1]), shape[-1]
        draw = _normal(
            (max(rows, cols), min(rows, cols)),
            0.0,
            1.0,
            _dtype(dtype),
            self._generator(),
        )
        q, r = torch.linalg.qr(draw)
        q = q * torch.sign(torch.diagonal(r))
        if rows < cols:
            q = q.T
        return self.gain * q.reshape(shape)

    def get_config(self):
        return {**super().get_config(), "gain": self.gain}


# Keras's lower-case names for the same classes.
constant, zeros, ones, identity, stft = Constant, Zeros, Ones, Identity, STFT
random_normal, random_uniform, truncated_normal = (
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
)
variance_scaling, orthogonal = VarianceScaling, Orthogonal
glorot_uniform, glorot_normal = GlorotUniform, GlorotNormal
lecun_uniform, lecun_normal = LecunUniform, LecunNormal
he_uniform, he_normal = HeUniform, HeNormal
IdentityInitializer, OrthogonalInitializer, STFTInitializer = Identity, Orthogonal, STFT

ALL_OBJECTS_DICT = {
    "Initializer": Initializer,
    "initializer": Initializer,
    "Constant": Constant,
    "constant": Constant,
    "Zeros": Zeros,
    "zeros": Zeros,
    "zero": Zeros,
    "Ones": Ones,
    "ones": Ones,
    "one": Ones,
    "Identity": Identity,
    "identity": Identity,
    "IdentityInitializer": Identity,
    "STFT": STFT,
    "stft": STFT,
    "STFTInitializer": STFT,
    "RandomNormal": RandomNormal,
    "random_normal": RandomNormal,
    "normal": RandomNormal,
    "RandomUniform": RandomUniform,
    "random_uniform": RandomUniform,
    "uniform": RandomUniform,
    "TruncatedNormal": TruncatedNormal,
    "truncated_normal": TruncatedNormal,
    "VarianceScaling": VarianceScaling,
    "variance_scaling": VarianceScaling,
    "GlorotUniform": GlorotUniform,
    "glorot_uniform": GlorotUniform,
    "GlorotNormal": GlorotNormal,
    "glorot_normal": GlorotNormal,
    "LecunUniform": LecunUniform,
    "lecun_uniform": LecunUniform,
    "LecunNormal": LecunNormal,
    "lecun_normal": LecunNormal,
    "HeUniform": HeUniform,
    "he_uniform": HeUniform,
    "HeNormal": HeNormal,
    "he_normal": HeNormal,
    "Orthogonal": Orthogonal,
    "orthogonal": Orthogonal,
    "OrthogonalInitializer": Orthogonal,
}


def serialize(initializer) -> dict:
    """The Keras 3 serialization dict of ``initializer``."""
    return serialization.serialize_keras_object(initializer)


def deserialize(config, custom_objects=None):
    """An initializer from a name or a Keras (2 or 3) serialization dict.

    Raises:
        ValueError: for an unknown name; the message lists the known ones.
    """
    return serialization.deserialize_keras_object(
        config,
        module_objects=ALL_OBJECTS_DICT,
        custom_objects=custom_objects,
        printable_module_name="initializer",
    )


def _from_values(values):
    """An initializer returning ``values`` (cast) for their own shape only."""
    expected = tuple(values.shape)

    def initialize(shape, dtype=None):
        if _shape(shape) != expected:
            raise arg_error("initializer", "shape", f"{expected}", _shape(shape))
        return torch.as_tensor(values).to(_dtype(dtype), copy=True)

    return initialize


def get(identifier):
    """An initializer from None, a name, a dict, a class, a callable or values.

    Returns:
        ``None`` for ``None``; an instance for a name, dict or class; the callable
        itself; for a tensor or array, a function returning it for its own shape.

    Raises:
        ValueError: for an unknown name or an identifier of another kind.
    """
    if identifier is None:
        return None
    if isinstance(identifier, (str, Mapping)):
        identifier = deserialize(identifier)
    elif isinstance(identifier, (torch.Tensor, np.ndarray, np.generic)):
        return _from_values(identifier)
    if inspect.isclass(identifier):
        return identifier()
    if callable(identifier):
        return identifier
    raise arg_error(
        "initializers.get",
        "identifier",
        "None, an initializer name, a dict, a callable or a tensor",
        identifier,
    )

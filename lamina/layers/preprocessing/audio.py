"""Audio front ends: ``STFTSpectrogram`` (a strided convolution with fixed
Fourier kernels, Keras's weights) and ``MelSpectrogram`` (``lamina.ops.stft``,
Keras's mel filterbank and decibel scale)."""

from __future__ import annotations

import math
import warnings

import torch

from lamina import config, initializers
from lamina.layers.docs import fill_docs
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer
from lamina.layers.spatial import DATA_FORMATS
from lamina.ops.math import stft
from lamina.ops.nn import conv
from lamina.ops.shapes import conv_output_length
from lamina.utils.validation import arg_error, check_choice, check_int

STFT_MODES = ("log", "magnitude", "psd", "real", "imag", "angle", "stft")
_MEL_BREAK_FREQUENCY_HERTZ = 700.0
_MEL_HIGH_FREQUENCY_Q = 1127.0


@fill_docs()
class STFTSpectrogram(Layer):
    """Spectrograms of multi-channel signals by a strided 1D convolution whose
    kernels are the windowed Fourier basis (``real_kernel``, ``imag_kernel``).

    Args:
        mode: ``"log"`` (default, log magnitude), ``"magnitude"``, ``"psd"``
            (power spectral density), ``"real"``, ``"imag"``, ``"angle"`` or
            ``"stft"`` (real and imaginary parts concatenated).
        frame_length: int, the window length in samples (default 256).
        frame_step: int in ``[1, frame_length]``, the hop (default
            ``frame_length // 2``).
        fft_length: int >= ``frame_length`` (default: the next power of two).
        window: a window name (``"hann"``, ...), window values or None.
        periodic: use the periodic form of the window (default False).
        scaling: ``"density"`` (default), ``"spectrum"`` or None.
        padding: ``"valid"`` (default) or ``"same"``.
        expand_dims: keep the channels on their own axis (default False).
        {data_format}
        {kwargs}

    Input shape: ``(batch, time, channels)`` (``(batch, channels, time)`` with
    channels first).

    Output shape: ``(batch, frames, channels * freqs)`` (``freqs = fft_length //
    2 + 1``, twice that in mode ``"stft"``); with ``expand_dims``, ``(batch,
    frames, freqs, channels)``. Channels first: the transposes.

    Weights: ``real_kernel`` and ``imag_kernel``, each ``(frame_length, 1,
    freqs)`` (one of them in modes ``"real"`` and ``"imag"``).

    Example:
    >>> import numpy as np, lamina as keras
    >>> layer = keras.layers.STFTSpectrogram(frame_length=8, frame_step=4)
    >>> tuple(layer(np.random.rand(2, 32, 1).astype("float32")).shape)
    (2, 7, 5)
    """

    def __init__(self, mode="log", frame_length=256, frame_step=None,
                 fft_length=None, window="hann", periodic=False, scaling="density",
                 padding="valid", expand_dims=False, data_format=None,
                 **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        self.mode = check_choice(self, "mode", mode, STFT_MODES)
        self.frame_length = check_int(self, "frame_length", frame_length, minimum=1)
        self.frame_step = check_int(self, "frame_step", frame_step, 1, allow_none=True)
        if frame_step is not None and frame_step > frame_length:
            raise arg_error(self, "frame_step", f"<= frame_length={frame_length}",
                            frame_step)  # fmt: skip
        self.fft_length = check_int(self, "fft_length", fft_length, frame_length,
                                    allow_none=True)  # fmt: skip
        if fft_length is not None and fft_length & -fft_length != fft_length:
            warnings.warn(f"STFTSpectrogram: `fft_length` is best a power of two; "
                          f"got fft_length={fft_length}.", stacklevel=2)  # fmt: skip
        self._frame_step = frame_step or frame_length // 2
        self._fft_length = fft_length or 2 ** math.ceil(math.log2(frame_length))
        self.window = window
        self.periodic = periodic
        self.scaling = check_choice(self, "scaling", scaling,
                                    ("density", "spectrum", None))  # fmt: skip
        self.padding = check_choice(self, "padding", padding, ("valid", "same"))
        self.expand_dims = expand_dims
        self.data_format = check_choice(
            self, "data_format", data_format or config.image_data_format(), DATA_FORMATS
        )
        self.input_spec = InputSpec(ndim=3)

    def build(self, input_shape):
        shape = (self.frame_length, 1, self._fft_length // 2 + 1)
        for side in ("real", "imag"):
            if self.mode != {"real": "imag", "imag": "real"}.get(side):
                init = initializers.STFT(side, self.window, self.scaling, self.periodic)
                weight = self.add_weight(shape=shape, initializer=init,
                                         name=f"{side}_kernel")  # fmt: skip
                setattr(self, f"{side}_kernel", weight)
        self.built = True

    def _conv(self, inputs, kernel):
        """``(batch, channels, freqs, frames)`` from one kernel."""
        x = inputs if self.data_format == "channels_first" else inputs.transpose(1, 2)
        batch, channels, time = x.shape
        out = conv(x.reshape(-1, 1, time), kernel.to(x.dtype), self._frame_step,
                   self.padding, "channels_first")  # fmt: skip
        return out.reshape(batch, channels, out.shape[1], out.shape[2])

    def _layout(self, x):
        """``(batch, channels, freqs, frames)`` in the output layout."""
        batch, channels, freqs, frames = x.shape
        if self.expand_dims:
            order = (
                (0, 3, 2, 1) if self.data_format == "channels_last" else (0, 1, 3, 2)
            )
            return x.permute(order)
        x = x.reshape(batch, channels * freqs, frames)
        return x.transpose(1, 2) if self.data_format == "channels_last" else x

    def call(self, inputs):
        if not inputs.is_floating_point():
            raise TypeError(f"{type(self).__name__}: inputs must be float16, float32 "
                            f"or float64; got {inputs.dtype}.")  # fmt: skip
        real = self._conv(inputs, self.real_kernel) if self.mode != "imag" else None
        imag = self._conv(inputs, self.imag_kernel) if self.mode != "real" else None
        if self.mode in ("real", "imag"):
            return self._layout(real if self.mode == "real" else imag)
        if self.mode == "angle":
            return self._layout(torch.atan2(imag, real))
        if self.mode == "stft":
            return self._layout(torch.cat([real, imag], dim=2))
        power = real.square() + imag.square()
        if self.mode == "psd":
            doubled = torch.nn.functional.pad(power[:, :, 1:-1, :], (0, 0, 1, 1))
            return self._layout(power + doubled)
        eps = config.epsilon()
        magnitude = self._layout(power.clamp(min=eps).sqrt())
        return magnitude if self.mode == "magnitude" else magnitude.clamp(min=eps).log()

    def compute_output_shape(self, input_shape):
        channels_last = self.data_format == "channels_last"
        batch, time, channels = (
            input_shape if channels_last else (input_shape[0], *input_shape[:0:-1])
        )
        freqs = (self._fft_length // 2 + 1) * (2 if self.mode == "stft" else 1)
        frames = conv_output_length(time, self.frame_length, self.padding,
                                    self._frame_step)  # fmt: skip
        if self.expand_dims:
            if channels_last:
                return (batch, frames, freqs, channels)
            return (batch, channels, frames, freqs)
        features = None if channels is None else freqs * channels
        return (batch, frames, features) if channels_last else (batch, features, frames)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode,
                "frame_length": self.frame_length, "frame_step": self.frame_step,
                "fft_length": self.fft_length, "window": self.window,
                "periodic": self.periodic, "scaling": self.scaling,
                "padding": self.padding, "data_format": self.data_format,
                "expand_dims": self.expand_dims}  # fmt: skip


def _hertz_to_mel(hertz):
    return _MEL_HIGH_FREQUENCY_Q * torch.log(1.0 + hertz / _MEL_BREAK_FREQUENCY_HERTZ)


def linear_to_mel_weight_matrix(num_mel_bins=20, num_spectrogram_bins=129,
                                sampling_rate=8000, lower_edge_hertz=125.0,
                                upper_edge_hertz=3800.0, dtype=torch.float32):  # fmt: skip
    """``(num_spectrogram_bins, num_mel_bins)`` triangular mel filters, as
    TensorFlow's ``linear_to_mel_weight_matrix`` (the DC bin gets no weight)."""
    nyquist = torch.tensor(sampling_rate, dtype=dtype) / 2.0
    zero = torch.tensor(0.0, dtype=dtype)
    frequencies = torch.linspace(zero, nyquist, num_spectrogram_bins, dtype=dtype)[1:]
    bins_mel = _hertz_to_mel(frequencies)[:, None]
    low, high = (_hertz_to_mel(torch.tensor(v, dtype=dtype))
                 for v in (lower_edge_hertz, upper_edge_hertz))  # fmt: skip
    edges = torch.linspace(low, high, num_mel_bins + 2, dtype=dtype)
    lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
    lower_slopes = (bins_mel - lower) / (center - lower)
    upper_slopes = (upper - bins_mel) / (upper - center)
    weights = torch.clamp(torch.minimum(lower_slopes, upper_slopes), min=0.0)
    return torch.nn.functional.pad(weights, (0, 0, 1, 0))


@fill_docs()
class MelSpectrogram(Layer):
    """Mel spectrograms of audio signals: STFT magnitudes to the power
    ``mag_exp``, mel filterbank, then (``power_to_db``) decibels.

    Args:
        fft_length: int, the FFT size (default 2048).
        sequence_stride: int, the hop in samples (default 512).
        sequence_length: int, the window length (default ``fft_length``).
        window: ``"hann"`` (default), ``"hamming"`` or None.
        sampling_rate: int, samples per second (default 16000).
        num_mel_bins: int, the number of mel bands (default 128).
        min_freq: float, the lowest band edge in Hz (default 20.0).
        max_freq: float, the highest band edge (default ``sampling_rate / 2``).
        power_to_db: convert to decibels (default True).
        top_db: float, the dynamic range kept below the maximum (default 80.0).
        mag_exp: float, the exponent of the magnitudes (default 2.0, power).
        min_power: float, the floor before the logarithm (default 1e-10).
        ref_power: float, the reference power of 0 dB (default 1.0).
        {kwargs}

    Input shape: ``(batch, samples)`` or ``(samples,)``.

    Output shape: ``(batch, num_mel_bins, frames)``, ``frames = 1 + samples //
    sequence_stride`` (the signal is padded by ``fft_length // 2`` on both
    sides).

    Example:
    >>> import numpy as np, lamina as keras
    >>> layer = keras.layers.MelSpectrogram(fft_length=64, sequence_stride=32,
    ...                                     num_mel_bins=8)
    >>> tuple(layer(np.random.rand(2, 256).astype("float32")).shape)
    (2, 8, 9)
    """

    def __init__(self, fft_length=2048, sequence_stride=512, sequence_length=None,
                 window="hann", sampling_rate=16000, num_mel_bins=128, min_freq=20.0,
                 max_freq=None, power_to_db=True, top_db=80.0, mag_exp=2.0,
                 min_power=1e-10, ref_power=1.0, **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        self.fft_length = check_int(self, "fft_length", fft_length, minimum=1)
        self.sequence_stride = check_int(self, "sequence_stride", sequence_stride, 1)
        self.sequence_length = sequence_length or fft_length
        if self.fft_length < self.sequence_length:
            raise arg_error(self, "sequence_length", f"<= fft_length={fft_length}",
                            sequence_length)  # fmt: skip
        self.window = window
        self.sampling_rate = sampling_rate
        self.num_mel_bins = check_int(self, "num_mel_bins", num_mel_bins, minimum=1)
        self.min_freq = min_freq
        self.max_freq = max_freq or int(sampling_rate / 2)
        self.power_to_db = power_to_db
        self.top_db = top_db
        self.mag_exp = mag_exp
        self.min_power = min_power
        self.ref_power = ref_power
        self.input_spec = InputSpec(min_ndim=1, max_ndim=2)

    def call(self, inputs):
        dtype = inputs.dtype if inputs.dtype == torch.float64 else torch.float32
        x = inputs.to(dtype)
        real, imag = stft(x, self.sequence_length, self.sequence_stride,
                          self.fft_length, self.window, center=True)  # fmt: skip
        spectrum = (real.square() + imag.square()).sqrt().pow(self.mag_exp)
        matrix = linear_to_mel_weight_matrix(
            self.num_mel_bins, spectrum.shape[-1], self.sampling_rate, self.min_freq,
            self.max_freq,
        ).to(device=x.device, dtype=dtype)  # fmt: skip
        mel = torch.tensordot(spectrum, matrix, dims=1)
        if self.power_to_db:
            mel = self._decibels(mel)
        return mel.transpose(-1, -2).to(self._compute_torch_dtype)

    def _decibels(self, power):
        log_spec = 10.0 * torch.log10(power.clamp(min=self.min_power))
        ref = torch.tensor(abs(self.ref_power), dtype=power.dtype)
        log_spec = log_spec - 10.0 * torch.log10(ref.clamp(min=self.min_power))
        return torch.maximum(log_spec, log_spec.max() - self.top_db)

    def compute_output_shape(self, input_shape):
        *batch, samples = input_shape
        frames = None if samples is None else 1 + samples // self.sequence_stride
        return (*batch, self.num_mel_bins, frames)

    def get_config(self):
        return {**super().get_config(), "fft_length": self.fft_length,
                "sequence_stride": self.sequence_stride,
                "sequence_length": self.sequence_length, "window": self.window,
                "sampling_rate": self.sampling_rate,
                "num_mel_bins": self.num_mel_bins, "min_freq": self.min_freq,
                "max_freq": self.max_freq, "power_to_db": self.power_to_db,
                "top_db": self.top_db, "mag_exp": self.mag_exp,
                "min_power": self.min_power, "ref_power": self.ref_power}  # fmt: skip

"""Global settings, read from ``keras.json`` like Keras does.

The file is ``$KERAS_HOME/keras.json`` when ``KERAS_HOME`` is set, else
``~/.keras/keras.json`` (``/tmp/.keras`` when the home directory is not writable).
Unlike Keras, lamina never writes that file: reading settings has no side effects.
"""

from __future__ import annotations

import json
import os
import threading

import torch

_FLOATX_CHOICES = ("bfloat16", "float16", "float32", "float64")
_FORMAT_CHOICES = ("channels_last", "channels_first")

_floatx = "float32"
_epsilon = 1e-7
_image_data_format = "channels_last"
_device: torch.device | None = None
_dtype_policy = None
_unsafe_deserialization = False
_flash_attention: bool | None = None  # None: the attention layers choose
_safe_mode_scope = threading.local()  # SafeModeScope's per-thread override
# `dtype_policy()` and `set_dtype_policy()` (keras.config names) are defined in
# lamina.dtype_policies, which sits above this module and adds them here.


def keras_dir() -> str:
    if "KERAS_HOME" in os.environ:
        return os.path.expanduser(os.environ["KERAS_HOME"])
    base = os.path.expanduser("~")
    if not os.access(base, os.W_OK):
        base = "/tmp"
    return os.path.join(base, ".keras")


def load_keras_json(path: str | None = None) -> dict:
    """Apply the settings of ``keras.json`` (absent keys keep their defaults).

    A file that is not valid JSON is ignored, as Keras does; a file with a bad value
    raises, naming the file, the key and the allowed values.
    """
    global _floatx, _epsilon, _image_data_format
    path = path or os.path.join(keras_dir(), "keras.json")
    if not os.path.exists(path):
        return {}
    try:
        with open(path) as f:
            settings = json.load(f)
    except (ValueError, OSError):
        return {}
    if not isinstance(settings, dict):
        return {}
    floatx_value = settings.get("floatx", _floatx)
    fmt = settings.get("image_data_format", _image_data_format)
    eps = settings.get("epsilon", _epsilon)
    if floatx_value not in _FLOATX_CHOICES:
        raise ValueError(
            f"{path}: `floatx` must be one of {_FLOATX_CHOICES}; "
            f"got floatx={floatx_value!r}."
        )
    if fmt not in _FORMAT_CHOICES:
        raise ValueError(
            f"{path}: `image_data_format` must be one of {_FORMAT_CHOICES}; "
            f"got image_data_format={fmt!r}."
        )
    if isinstance(eps, bool) or not isinstance(eps, (int, float)):
        raise ValueError(f"{path}: `epsilon` must be a number; got epsilon={eps!r}.")
    _floatx, _image_data_format, _epsilon = floatx_value, fmt, float(eps)
    return settings


def backend() -> str:
    """The backend name; lamina always runs on torch."""
    return "torch"


def floatx() -> str:
    """Default float type of weights and inputs, e.g. ``'float32'``."""
    return _floatx


def set_floatx(value: str) -> None:
    global _floatx
    if value not in _FLOATX_CHOICES:
        raise ValueError(
            f"set_floatx: `value` must be one of {_FLOATX_CHOICES}; "
            f"got value={value!r}."
        )
    _floatx = str(value)


def epsilon() -> float:
    """The fuzz factor used in numeric expressions (default 1e-7)."""
    return _epsilon


def set_epsilon(value: float) -> None:
    global _epsilon
    _epsilon = float(value)


def image_data_format() -> str:
    """``'channels_last'`` (default) or ``'channels_first'``."""
    return _image_data_format


def set_image_data_format(data_format: str) -> None:
    global _image_data_format
    value = str(data_format).lower()
    if value not in _FORMAT_CHOICES:
        raise ValueError(
            f"set_image_data_format: `data_format` must be one of "
            f"{_FORMAT_CHOICES}; got data_format={data_format!r}."
        )
    _image_data_format = value


def standardize_data_format(data_format: str | None) -> str:
    if data_format is None:
        return _image_data_format
    value = str(data_format).lower()
    if value not in _FORMAT_CHOICES:
        raise ValueError(
            f"`data_format` must be one of {_FORMAT_CHOICES}; "
            f"got data_format={data_format!r}."
        )
    return value


def get_device() -> torch.device:
    """Where new weights live: the device set by ``set_device``, else CUDA if present."""
    global _device
    if _device is None:
        _device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return _device


def set_device(device: str | torch.device | None) -> None:
    """Choose the device for weights created from now on (``None``: automatic)."""
    global _device
    _device = None if device is None else torch.device(device)


def enable_unsafe_deserialization() -> None:
    """Allow deserializing Python bytecode (Lambda); off by default."""
    global _unsafe_deserialization
    _unsafe_deserialization = True


def is_unsafe_deserialization_enabled() -> bool:
    return _unsafe_deserialization


def enable_flash_attention() -> None:
    """Let attention layers use flash attention kernels where torch has them
    (the default: ``is_flash_attention_enabled()`` is None, "when possible")."""
    global _flash_attention
    _flash_attention = None


def disable_flash_attention() -> None:
    """Keep attention layers whose ``flash_attention`` argument is None off torch's
    flash attention kernels (they use its other fused or math kernels)."""
    global _flash_attention
    _flash_attention = False


def is_flash_attention_enabled() -> bool | None:
    """None (the default, and after ``enable_flash_attention()``: flash attention
    when possible) or False (after ``disable_flash_attention()``), as in Keras."""
    return _flash_attention


def in_safe_mode() -> bool:
    """Whether deserialization refuses Python bytecode right now: False after
    ``enable_unsafe_deserialization()`` or inside a load given ``safe_mode=False``."""
    if _unsafe_deserialization:
        return False
    return scoped_safe_mode() is not False


def scoped_safe_mode() -> bool | None:
    """The ``safe_mode`` of the innermost ``lamina.saving.SafeModeScope`` (None
    outside any)."""
    return getattr(_safe_mode_scope, "safe_mode", None)


def set_scoped_safe_mode(safe_mode: bool | None) -> None:
    """Set this thread's scoped safe mode (``SafeModeScope`` enters and restores it)."""
    _safe_mode_scope.safe_mode = safe_mode


load_keras_json()


# ------------------------------------------------------------- debugging caps
def _env_int(name: str) -> int | None:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return None
    try:
        return int(value)
    except ValueError:
        raise ValueError(
            f"lamina.config: the environment variable `{name}` must be an integer; "
            f"got {name}={value!r}."
        ) from None


_max_epochs: int | None = _env_int("KERAS_MAX_EPOCHS")
_max_steps_per_epoch: int | None = _env_int("KERAS_MAX_STEPS_PER_EPOCH")


def _check_cap(function: str, arg: str, value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f"{function}: `{arg}` must be None or an integer >= 1; got {arg}={value!r}."
        )
    return value


def set_max_epochs(max_epochs: int | None) -> None:
    """Cap the number of epochs of every ``fit`` call (``None``: no cap).

    For quick debugging runs; the ``KERAS_MAX_EPOCHS`` environment variable sets it
    too. ``fit`` warns when it lowers ``epochs``.
    """
    global _max_epochs
    _max_epochs = _check_cap("set_max_epochs", "max_epochs", max_epochs)


def max_epochs() -> int | None:
    """The cap set by ``set_max_epochs`` or ``KERAS_MAX_EPOCHS`` (``None``: none)."""
    return _max_epochs


def set_max_steps_per_epoch(max_steps_per_epoch: int | None) -> None:
    """Cap the steps of each epoch of ``fit``, ``evaluate`` and ``predict``
    (``None``: no cap); ``KERAS_MAX_STEPS_PER_EPOCH`` sets it too."""
    global _max_steps_per_epoch
    _max_steps_per_epoch = _check_cap(
        "set_max_steps_per_epoch", "max_steps_per_epoch", max_steps_per_epoch
    )


def max_steps_per_epoch() -> int | None:
    """The cap set by ``set_max_steps_per_epoch`` or ``KERAS_MAX_STEPS_PER_EPOCH``."""
    return _max_steps_per_epoch


# ----------------------------------------------------------------- switches
_interactive_logging = True
_traceback_filtering = True
_flash_attention: bool | None = None  # None: automatic (Keras's default)


def enable_interactive_logging() -> None:
    """Progress bars and messages go to standard output (the default)."""
    global _interactive_logging
    _interactive_logging = True


def disable_interactive_logging() -> None:
    """Progress and messages go to Python's ``logging`` (logger ``"lamina"``, level
    INFO) instead of standard output: one line per finished epoch, no redraws.
    Keras sends them to ``absl.logging``; lamina has no absl dependency."""
    global _interactive_logging
    _interactive_logging = False


def is_interactive_logging_enabled() -> bool:
    """Whether progress goes to standard output (True) or to ``logging``."""
    return _interactive_logging


def enable_traceback_filtering() -> None:
    """Recorded for Keras compatibility: lamina's tracebacks are plain Python ones
    (no internal frames are hidden) whatever this switch says."""
    global _traceback_filtering
    _traceback_filtering = True


def disable_traceback_filtering() -> None:
    """Recorded for Keras compatibility (see ``enable_traceback_filtering``)."""
    global _traceback_filtering
    _traceback_filtering = False


def is_traceback_filtering_enabled() -> bool:
    """The recorded switch (True by default, as in Keras)."""
    return _traceback_filtering


def is_nnx_enabled() -> bool:
    """Always False: Flax NNX is a JAX feature (Keras's JAX backend only)."""
    return False


def set_backend(backend: str) -> None:
    """Accepts only ``"torch"``: lamina runs on PyTorch (Keras reloads itself
    with another backend here)."""
    if backend != "torch":
        raise ValueError(
            "set_backend: `backend` must be 'torch' (lamina runs on PyTorch only); "
            f"got backend={backend!r}."
        )

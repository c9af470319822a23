"""ImageNet helpers shared by the applications (``keras.applications.imagenet_utils``):
``preprocess_input`` in its three modes, ``decode_predictions`` with Keras's class
index file, and the input-shape rules of every application."""

from __future__ import annotations

import json
import os
import warnings

import numpy as np
import torch

from lamina import config, ops
from lamina.layers import KerasTensor
from lamina.utils import get_file
from lamina.utils.validation import arg_error

CLASS_INDEX_PATH = (
    "https://storage.googleapis.com/download.tensorflow.org/"
    "data/imagenet_class_index.json"
)
CLASS_INDEX_FILE = "imagenet_class_index.json"
CLASS_INDEX_HASH = "c2c37ea517e94d9795004a39431a14cb"
_CLASS_INDEX: dict[str, dict] = {}  # path -> the loaded index

CAFFE_MEAN = (103.939, 116.779, 123.68)  # BGR
TORCH_MEAN = (0.485, 0.456, 0.406)
TORCH_STD = (0.229, 0.224, 0.225)


def preprocess_input(x, data_format=None, mode="caffe"):
    """Preprocesses a batch of images (or one image) for an ImageNet model.

    Args:
        x: a float NumPy array (modified in place, as in Keras; pass
            ``numpy.copy(x)`` to keep it), a tensor or a symbolic tensor, 3D or 4D
            with 3 colour channels, values in [0, 255].
        data_format: ``"channels_last"`` or ``"channels_first"``; ``None``:
            ``keras.config.image_data_format()``.
        mode: ``"caffe"`` (RGB to BGR, then each channel zero-centred on
            ImageNet's mean, no scaling), ``"tf"`` (scaled to [-1, 1]) or
            ``"torch"`` (scaled to [0, 1], then normalized with ImageNet's
            per-channel mean and standard deviation).

    Returns:
        The preprocessed float32 array or tensor.

    Raises:
        ValueError: for an unknown ``mode`` or ``data_format``.

    Example:
    >>> import numpy as np, lamina as keras
    >>> x = np.full((1, 2, 2, 3), 255.0, "float32")
    >>> keras.applications.imagenet_utils.preprocess_input(x, mode="tf")[0, 0, 0]
    array([1., 1., 1.], dtype=float32)
    """
    owner = "preprocess_input"
    if mode not in ("caffe", "tf", "torch"):
        raise arg_error(owner, "mode", "one of 'caffe', 'tf', 'torch'", mode)
    if data_format is None:
        data_format = config.image_data_format()
    elif data_format not in ("channels_first", "channels_last"):
        rule = "one of 'channels_first', 'channels_last'"
        raise arg_error(owner, "data_format", rule, data_format)
    if isinstance(x, np.ndarray):
        return _preprocess_numpy(x, data_format, mode)
    return _preprocess_tensor(x, data_format, mode)


def _channel_view(x, data_format):
    """Index prefix that selects the channel axis."""
    if data_format == "channels_last":
        return (Ellipsis,)
    return (slice(None),) * (x.ndim - 3)


def _preprocess_numpy(x, data_format, mode):
    if not issubclass(x.dtype.type, np.floating):
        x = x.astype(config.floatx(), copy=False)
    if mode == "tf":
        x /= 127.5
        x -= 1.0
        return x
    prefix = _channel_view(x, data_format)
    if mode == "torch":
        x /= 255.0
        mean, std = TORCH_MEAN, TORCH_STD
    else:
        x = x[(*prefix, slice(None, None, -1))]  # RGB -> BGR, a view as Keras
        mean, std = CAFFE_MEAN, None
    for channel in range(3):
        x[(*prefix, channel)] -= mean[channel]
        if std is not None:
            x[(*prefix, channel)] /= std[channel]
    return x


def _preprocess_tensor(x, data_format, mode):
    """Tensors are not modified in place (a symbolic input records ops)."""
    if not isinstance(x, (torch.Tensor, KerasTensor)):
        x = ops.convert_to_tensor(x)
    if not str(x.dtype).replace("torch.", "").startswith(("float", "bfloat")):
        x = ops.cast(x, config.floatx())
    if mode == "tf":
        return x / 127.5 - 1.0
    axis = -1 if data_format == "channels_last" else len(x.shape) - 3
    shape = [1] * len(x.shape)
    shape[axis] = 3
    if mode == "torch":
        mean = torch.tensor(TORCH_MEAN).reshape(shape)
        return (x / 255.0 - mean) / torch.tensor(TORCH_STD).reshape(shape)
    x = ops.flip(x, axis=axis)
    return x - torch.tensor(CAFFE_MEAN).reshape(shape)


def decode_predictions(preds, top=5):
    """The ``top`` ImageNet classes of each prediction.

    The class index is Keras's ``imagenet_class_index.json`` in Keras's cache
    (``~/.keras/models`` or ``$KERAS_HOME/models``), downloaded with Keras's hash
    check when absent.

    Args:
        preds: array of shape ``(samples, 1000)``.
        top: how many classes to return per sample.

    Returns:
        One list per sample of ``(class_name, class_description, score)``
        tuples, best first.

    Raises:
        ValueError: when ``preds`` is not of shape ``(samples, 1000)``.
        OSError: when the class index is not cached and cannot be downloaded
            (the message says where to place it).
    """
    preds = ops.convert_to_numpy(preds)
    if preds.ndim != 2 or preds.shape[1] != 1000:
        raise arg_error("decode_predictions", "preds.shape", "(samples, 1000), "
                        "a batch of ImageNet predictions", preds.shape)  # fmt: skip
    index = _class_index()
    results = []
    for pred in preds:
        best = pred.argsort()[-top:][::-1]
        result = [(*index[str(i)], pred[i]) for i in best]
        result.sort(key=lambda row: row[2], reverse=True)
        results.append(result)
    return results


def _class_index() -> dict:
    try:
        path = get_file(CLASS_INDEX_FILE, CLASS_INDEX_PATH, cache_subdir="models",
                        file_hash=CLASS_INDEX_HASH)  # fmt: skip
    except OSError as error:
        target = os.path.join(config.keras_dir(), "models", CLASS_INDEX_FILE)
        raise OSError(
            f"decode_predictions: needs Keras's ImageNet class index "
            f"{CLASS_INDEX_FILE!r}, which is not in the cache and could not be "
            f"downloaded from {CLASS_INDEX_PATH}. To work offline, place that "
            f"file at {target}."
        ) from error
    if path not in _CLASS_INDEX:
        with open(path) as f:
            _CLASS_INDEX[path] = json.load(f)
    return _CLASS_INDEX[path]


# ----------------------------------------------------------- input shapes
def obtain_input_shape(
    input_shape,
    default_size,
    min_size,
    data_format,
    require_flatten,
    weights=None,
    owner="obtain_input_shape",
):
    """The model's input shape (Keras's rules): ``input_shape`` checked, or the
    default ``(default_size, default_size, 3)`` (``include_top``) or
    ``(None, None, 3)``; channels first where ``data_format`` says so."""
    first = data_format == "channels_first"
    channels = 3
    if weights != "imagenet" and input_shape and len(input_shape) == 3:
        channels = input_shape[0] if first else input_shape[-1]
        if channels not in (1, 3):
            warnings.warn(
                f"{owner}: this model usually expects 1 or 3 input channels; "
                f"got input_shape={input_shape!r}.",
                stacklevel=3,
            )
    default = _shape(channels, default_size, default_size, first)
    if weights == "imagenet" and require_flatten:
        if input_shape is not None and tuple(input_shape) != default:
            raise arg_error(owner, "input_shape", f"{default} (or None) with "
                            "include_top=True and weights='imagenet'",
                            input_shape)  # fmt: skip
        return default
    if input_shape:
        _check_shape(tuple(input_shape), min_size, first, weights, owner)
        input_shape = tuple(input_shape)
    elif require_flatten:
        input_shape = default
    else:
        input_shape = _shape(3, None, None, first)
    if require_flatten and None in input_shape:
        raise arg_error(owner, "input_shape", "static (no None) with "
                        "include_top=True", input_shape)  # fmt: skip
    return input_shape


def _shape(channels, rows, cols, first):
    return (channels, rows, cols) if first else (rows, cols, channels)


def _check_shape(shape, min_size, first, weights, owner):
    if len(shape) != 3:
        raise arg_error(owner, "input_shape", "a tuple of 3 integers "
                        "(rows, cols, channels)", shape)  # fmt: skip
    channels, spatial = (shape[0], shape[1:]) if first else (shape[-1], shape[:2])
    if channels != 3 and weights == "imagenet":
        raise arg_error(owner, "input_shape", "3 channels with "
                        "weights='imagenet'", shape)  # fmt: skip
    if any(size is not None and size < min_size for size in spatial):
        raise arg_error(owner, "input_shape", f"at least {min_size}x{min_size} "
                        "pixels for this model", shape)  # fmt: skip


def correct_pad(inputs, kernel_size):
    """Zero padding ``((top, bottom), (left, right))`` before a stride-2
    convolution of ``kernel_size`` so it matches TensorFlow's 'same' padding."""
    axis = 2 if config.image_data_format() == "channels_first" else 1
    size = inputs.shape[axis : axis + 2]
    if isinstance(kernel_size, int):
        kernel_size = (kernel_size, kernel_size)
    adjust = (1, 1) if size[0] is None else (1 - size[0] % 2, 1 - size[1] % 2)
    correct = (kernel_size[0] // 2, kernel_size[1] // 2)
    return (
        (correct[0] - adjust[0], correct[0]),
        (correct[1] - adjust[1], correct[1]),
    )

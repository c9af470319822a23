"""Images as files, PIL images and arrays: ``load_img``, ``img_to_array``,
``array_to_img``, ``save_img`` and ``smart_resize`` (``keras.utils`` and
``keras.preprocessing.image``).

Reading and writing files needs Pillow (``pip install lamina[image]``); a missing
Pillow raises ``ImportError`` saying so when one of those functions is called.

``resize_images`` is the resize of the image datasets and ``smart_resize``:
``bilinear`` and ``nearest`` sample half-pixel centres without antialiasing,
which gives TensorFlow's ``tf.image.resize`` numbers, Keras's on every backend;
``bicubic`` is torch's (a = -0.75), as Keras's torch backend computes it
(TensorFlow's bicubic uses a = -0.5, so the numbers differ slightly).
"""

from __future__ import annotations

import io
import pathlib
import warnings

import numpy as np
import torch

from lamina import config
from lamina.ops import image as image_ops
from lamina.utils.validation import arg_error, check_choice

try:
    from PIL import Image as pil_image
except ImportError:  # Pillow is an optional extra
    pil_image = None

RESIZE_INTERPOLATIONS = image_ops.RESIZE_INTERPOLATIONS


def _pil_methods():
    if pil_image is None:
        return {}
    resampling = getattr(pil_image, "Resampling", pil_image)
    return {
        "nearest": resampling.NEAREST,
        "bilinear": resampling.BILINEAR,
        "bicubic": resampling.BICUBIC,
        "hamming": resampling.HAMMING,
        "box": resampling.BOX,
        "lanczos": resampling.LANCZOS,
    }


PIL_INTERPOLATION_METHODS = _pil_methods()


def require_pil(function: str):
    if pil_image is None:
        raise ImportError(
            f"{function}: reading and writing images needs Pillow; install it with "
            "`pip install Pillow` (or `pip install lamina[image]`)."
        )


def check_interpolation(owner, interpolation):
    """``interpolation`` lower-cased if ``keras.ops.image.resize`` supports it."""
    return check_choice(
        owner, "interpolation", str(interpolation).lower(), RESIZE_INTERPOLATIONS
    )


# ------------------------------------------------------------------- resize
def resize_images(
    images, size, interpolation="bilinear", crop_to_aspect_ratio=False,
    pad_to_aspect_ratio=False, fill_value=0.0, data_format="channels_last",
):  # fmt: skip
    """Float32 images (rank 3 or 4, a torch tensor) resized to ``size`` by
    ``keras.ops.image.resize``; with ``crop_to_aspect_ratio`` the centre is first
    cropped to the target aspect ratio, with ``pad_to_aspect_ratio`` it is padded
    with ``fill_value``."""
    if not images.is_floating_point():
        images = images.to(torch.float32)
    if tuple(
        images.shape[-3:-1] if data_format == "channels_last" else images.shape[-2:]
    ) == tuple(size):
        return images
    return image_ops.resize(
        images, tuple(size), interpolation,
        crop_to_aspect_ratio=crop_to_aspect_ratio,
        pad_to_aspect_ratio=pad_to_aspect_ratio, fill_value=fill_value,
        data_format=data_format,
    )  # fmt: skip


def smart_resize(x, size, interpolation="bilinear", data_format="channels_last"):
    """Resizes images to ``size`` without distorting them: the largest centred
    crop with the target aspect ratio is taken, then resized.

    Args:
        x: an image ``(height, width, channels)`` or a batch of them (NumPy or
            torch; channels first with ``data_format="channels_first"``).
        size: ``(height, width)``.
        interpolation: ``"bilinear"``, ``"nearest"`` or ``"bicubic"``.
        data_format: ``"channels_last"`` or ``"channels_first"``.

    Returns:
        The resized images, NumPy for NumPy input, a tensor for a tensor.

    Example:
    >>> import numpy as np, lamina as keras
    >>> keras.preprocessing.image.smart_resize(np.ones((340, 500, 3)), (200, 200)).shape
    (200, 200, 3)
    """
    owner = "smart_resize"
    if len(size) != 2:
        raise arg_error(owner, "size", "a tuple (height, width)", size)
    interpolation = check_interpolation(owner, interpolation)
    data_format = config.standardize_data_format(data_format)
    tensor = x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x))
    if tensor.ndim not in (3, 4):
        raise ValueError(
            f"{owner}: `x` must be an image (rank 3) or a batch of images (rank 4); "
            f"got x of shape {tuple(tensor.shape)}."
        )
    out = resize_images(tensor, tuple(size), interpolation, crop_to_aspect_ratio=True,
                        data_format=data_format)  # fmt: skip
    return out.numpy() if isinstance(x, np.ndarray) else out


# ------------------------------------------------------------- PIL images
def array_to_img(x, data_format=None, scale=True, dtype=None):
    """A PIL image from a rank-3 array (1, 3 or 4 channels).

    Args:
        x: the image, ``(height, width, channels)`` (or channels first).
        data_format: ``"channels_last"`` or ``"channels_first"``; ``None``: the
            global setting.
        scale: rescale values so that the minimum is 0 and the maximum 255.
        dtype: the dtype to compute in (``None``: ``floatx``).

    Returns:
        A ``PIL.Image.Image`` (mode RGBA, RGB, L, or I for a single channel
        above 255).

    Raises:
        ValueError: for an array that is not rank 3 or has another number of
            channels.

    Example:
    >>> import numpy as np, lamina as keras
    >>> keras.utils.array_to_img(np.zeros((4, 5, 3))).size
    (5, 4)
    """
    require_pil("array_to_img")
    data_format = config.standardize_data_format(data_format)
    x = np.asarray(x, dtype=dtype or config.floatx())
    if x.ndim != 3:
        raise ValueError(
            "array_to_img: `x` must be one image of rank 3 (height, width, "
            f"channels); got x of shape {x.shape}."
        )
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        x_max = np.max(x)
        if x_max != 0:
            x /= x_max
        x *= 255
    channels = x.shape[2]
    if channels in (3, 4):
        return pil_image.fromarray(
            x.astype("uint8"), "RGB" if channels == 3 else "RGBA"
        )
    if channels == 1:
        if np.max(x) > 255:
            return pil_image.fromarray(x[:, :, 0].astype("int32"), "I")
        return pil_image.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(
        f"array_to_img: `x` must have 1, 3 or 4 channels; got x of shape {x.shape}."
    )


def img_to_array(img, data_format=None, dtype=None):
    """A PIL image (or any array-like image) as a rank-3 NumPy array.

    Args:
        img: a PIL image.
        data_format: ``"channels_last"`` or ``"channels_first"``; ``None``: the
            global setting.
        dtype: the array's dtype (``None``: ``floatx``).

    Returns:
        ``(height, width, channels)`` (or channels first); grayscale images get a
        channel axis of 1.

    Example:
    >>> import numpy as np, lamina as keras
    >>> img = keras.utils.array_to_img(np.zeros((4, 5, 1)), scale=False)
    >>> keras.utils.img_to_array(img).shape
    (4, 5, 1)
    """
    data_format = config.standardize_data_format(data_format)
    x = np.asarray(img, dtype=dtype or config.floatx())
    if x.ndim == 3:
        return x.transpose(2, 0, 1) if data_format == "channels_first" else x
    if x.ndim == 2:
        shape = (1, *x.shape) if data_format == "channels_first" else (*x.shape, 1)
        return x.reshape(shape)
    raise ValueError(
        f"img_to_array: `img` must be an image of rank 2 or 3; got shape {x.shape}."
    )


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs):
    """Saves an image array to a file (the format comes from the extension unless
    ``file_format`` is given; RGBA images saved as JPEG become RGB, with a
    warning). ``kwargs`` go to ``PIL.Image.save``.

    Example:
    >>> import numpy as np, os, tempfile, lamina as keras
    >>> path = os.path.join(tempfile.mkdtemp(), "x.png")
    >>> keras.utils.save_img(path, np.zeros((4, 5, 3)))
    >>> keras.utils.load_img(path).size
    (5, 4)
    """
    data_format = config.standardize_data_format(data_format)
    if file_format is None and isinstance(path, (str, pathlib.Path)):
        file_format = pathlib.Path(path).suffix[1:].lower()
    if file_format and file_format.lower() == "jpg":
        file_format = "jpeg"
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and file_format == "jpeg":
        warnings.warn(
            "save_img: JPEG has no alpha channel; the RGBA image is saved as RGB.",
            stacklevel=2,
        )
        img = img.convert("RGB")
    img.save(path, format=file_format, **kwargs)


def open_image(path, owner="load_img"):
    """A PIL image read whole from a path, bytes path or ``BytesIO``."""
    require_pil(owner)
    if isinstance(path, io.BytesIO):
        return pil_image.open(path)
    if isinstance(path, (pathlib.Path, bytes, str)):
        with open(path, "rb") as f:
            return pil_image.open(io.BytesIO(f.read()))
    raise arg_error(owner, "path", "a path or an io.BytesIO", path, TypeError)


def convert_mode(img, color_mode, owner="load_img"):
    """``img`` in the PIL mode of ``color_mode`` (grayscale keeps 16/32-bit)."""
    if color_mode == "grayscale":
        return img if img.mode in ("L", "I;16", "I") else img.convert("L")
    if color_mode in ("rgb", "rgba"):
        mode = color_mode.upper()
        return img if img.mode == mode else img.convert(mode)
    raise arg_error(
        owner, "color_mode", "one of 'grayscale', 'rgb', 'rgba'", color_mode
    )


def load_img(
    path, color_mode="rgb", target_size=None, interpolation="nearest",
    keep_aspect_ratio=False,
):  # fmt: skip
    """Loads an image file as a PIL image.

    Args:
        path: the file's path (or an ``io.BytesIO``).
        color_mode: ``"rgb"``, ``"rgba"`` or ``"grayscale"``.
        target_size: ``None`` (the file's size) or ``(height, width)``.
        interpolation: PIL's resampling for ``target_size``: ``"nearest"``,
            ``"bilinear"``, ``"bicubic"``, ``"lanczos"``, ``"box"``,
            ``"hamming"``.
        keep_aspect_ratio: crop the centre to the target aspect ratio first.

    Returns:
        A ``PIL.Image.Image``.

    Raises:
        ImportError: without Pillow.
        ValueError: for a bad ``color_mode`` or ``interpolation``.

    Example:
    >>> import numpy as np, os, tempfile, lamina as keras
    >>> path = os.path.join(tempfile.mkdtemp(), "x.png")
    >>> keras.utils.save_img(path, np.random.rand(6, 8, 3))
    >>> keras.utils.load_img(path, target_size=(3, 4)).size
    (4, 3)
    """
    img = convert_mode(open_image(path), color_mode)
    if target_size is None:
        return img
    size = (target_size[1], target_size[0])
    if img.size == size:
        return img
    if interpolation not in PIL_INTERPOLATION_METHODS:
        rule = "one of " + ", ".join(map(repr, PIL_INTERPOLATION_METHODS))
        raise arg_error("load_img", "interpolation", rule, interpolation)
    resample = PIL_INTERPOLATION_METHODS[interpolation]
    if not keep_aspect_ratio:
        return img.resize(size, resample)
    width, height = img.size
    crop_h = min(height, (width * size[1]) // size[0])
    crop_w = min(width, (height * size[0]) // size[1])
    top, left = (height - crop_h) // 2, (width - crop_w) // 2
    return img.resize(size, resample, box=[left, top, left + crop_w, top + crop_h])

"""``image_dataset_from_directory``: a folder of images as a dataset of batches."""

from __future__ import annotations

import numpy as np
import torch

from lamina import config
from lamina.utils import dataset_utils
from lamina.utils.image_utils import (
    check_interpolation,
    convert_mode,
    open_image,
    require_pil,
    resize_images,
)
from lamina.utils.validation import arg_error, check_choice

ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
CHANNELS = {"grayscale": 1, "rgb": 3, "rgba": 4}


class ImageLoader:
    """One image file as a float32 tensor of ``image_size`` (picklable, for
    ``DataLoader`` workers): PIL decodes (first frame of a GIF), the colour mode
    is converted as Keras converts it, then ``resize_images`` resizes."""

    def __init__(self, image_size, color_mode, interpolation, data_format, crop, pad):
        self.image_size = tuple(image_size)
        self.color_mode = color_mode
        self.interpolation = interpolation
        self.data_format = data_format
        self.crop, self.pad = crop, pad

    def __call__(self, path):
        img = convert_mode(open_image(path, "image_dataset_from_directory"),
                           self.color_mode, "image_dataset_from_directory")  # fmt: skip
        x = torch.from_numpy(np.array(img, dtype=np.float32))
        if x.ndim == 2:
            x = x.unsqueeze(-1)
        if self.data_format == "channels_first":
            x = x.permute(2, 0, 1)
        x = resize_images(x, self.image_size, self.interpolation, self.crop, self.pad,
                          data_format=self.data_format)  # fmt: skip
        return x.contiguous()


def _image_size(owner, image_size):
    if isinstance(image_size, int) and not isinstance(image_size, bool):
        image_size = (image_size, image_size)
    if (
        not isinstance(image_size, (list, tuple))
        or len(image_size) != 2
        or not all(isinstance(v, int) and v > 0 for v in image_size)
    ):
        raise arg_error(
            owner, "image_size", "a tuple of 2 positive integers", image_size
        )
    return tuple(image_size)


def image_dataset_from_directory(
    directory, labels="inferred", label_mode="int", class_names=None,
    color_mode="rgb", batch_size=32, image_size=(256, 256), shuffle=True, seed=None,
    validation_split=None, subset=None, interpolation="bilinear", follow_links=False,
    crop_to_aspect_ratio=False, pad_to_aspect_ratio=False, data_format=None,
    format="torch", verbose=True, num_workers=0,
):  # fmt: skip
    """A dataset of batches of images (and labels) from a folder of image files.

    With ``labels="inferred"`` each subfolder of ``directory`` is a class
    (alphanumeric order, or the order of ``class_names``) and its images,
    searched recursively, get its index as label. Formats: png, jpeg, bmp, gif
    (first frame).

    Args:
        directory: the folder.
        labels: ``"inferred"``, ``None`` (no labels), or one integer label per
            file in the alphanumeric order of the file paths.
        label_mode: ``"int"`` (int32 ids), ``"categorical"`` (float32 one-hot),
            ``"binary"`` (float32 ``(batch, 1)``, 2 classes), or ``None``.
        class_names: the classes (subfolder names) to use, in order.
        color_mode: ``"rgb"``, ``"rgba"`` or ``"grayscale"`` (3, 4 or 1 channels).
        batch_size: images per batch; ``None`` yields single images.
        image_size: ``(height, width)`` every image is resized to.
        shuffle: shuffle the files (a new order each epoch); otherwise they come
            in alphanumeric order.
        seed: the seed of the shuffles and of the ``validation_split``.
        validation_split: the fraction of files kept for validation.
        subset: ``"training"``, ``"validation"`` or ``"both"`` (a pair).
        interpolation: ``"bilinear"``, ``"nearest"`` or ``"bicubic"``.
        follow_links: follow symbolic links to folders.
        crop_to_aspect_ratio: crop the centre to the target aspect ratio
            before resizing (no distortion).
        pad_to_aspect_ratio: pad to the target aspect ratio (with zeros) instead.
        data_format: ``"channels_last"``/``"channels_first"``; ``None``: global.
        format: ``"torch"`` (Keras's ``"tf"`` and ``"grain"`` are accepted and
            give the same torch dataset: lamina needs neither library).
        verbose: print how many files and classes were found.
        num_workers: lamina's addition: worker processes decoding images
            (``DataLoader``'s ``num_workers``; 0 decodes in the training process).

    Returns:
        A ``BatchLoader`` (a ``torch.utils.data.DataLoader``) yielding
        ``(images, labels)``, images float32 ``(batch, height, width,
        channels)``; it has ``class_names`` and ``file_paths``. With
        ``subset="both"``, a ``(training, validation)`` pair.

    Differences from Keras: Keras's ``tf.data`` shuffles with a buffer of
    ``8 * batch_size`` after ordering ``file_paths`` with ``seed``; lamina draws
    a full permutation of the files each epoch from ``seed`` (the ``file_paths``
    and the subsets are Keras's). ``bicubic`` is torch's kernel (a = -0.75, as
    Keras's torch backend); TensorFlow's ``area``, ``lanczos3``, ``lanczos5``,
    ``gaussian`` and ``mitchellcubic`` are refused.

    Raises:
        ValueError: for bad arguments, before any file is read, and for a folder
            without images.
        ImportError: without Pillow.

    Example:
    >>> import numpy as np, os, tempfile, lamina as keras
    >>> root = tempfile.mkdtemp()
    >>> for cls in ("cat", "dog"):
    ...     os.mkdir(os.path.join(root, cls))
    ...     for i in range(3):
    ...         keras.utils.save_img(os.path.join(root, cls, f"{i}.png"),
    ...                              np.random.rand(10, 12, 3))
    >>> ds = keras.utils.image_dataset_from_directory(
    ...     root, image_size=(8, 8), batch_size=4, seed=1, verbose=False)
    >>> ds.class_names, len(ds)
    (['cat', 'dog'], 2)
    >>> images, labels = next(iter(ds))
    >>> tuple(images.shape), labels.dtype
    ((4, 8, 8, 3), torch.int32)
    """
    owner = "image_dataset_from_directory"
    require_pil(owner)
    labels, label_mode = dataset_utils.check_labels_arguments(
        owner, labels, label_mode, class_names
    )
    check_choice(owner, "color_mode", color_mode, CHANNELS)
    image_size = _image_size(owner, image_size)
    interpolation = check_interpolation(owner, interpolation)
    check_choice(owner, "format", format, ("torch", "tf", "grain"))
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError(
            f"{owner}: `crop_to_aspect_ratio` and `pad_to_aspect_ratio` cannot both "
            "be True; got both True."
        )
    dataset_utils.check_validation_split_arg(
        validation_split, subset, shuffle, seed, owner
    )
    dataset_utils.check_num_workers(owner, num_workers)
    seed = np.random.randint(1e6) if seed is None else seed
    paths, labels, class_names = dataset_utils.index_directory(
        directory, labels, ALLOWLIST_FORMATS, class_names, shuffle, seed,
        follow_links, verbose, owner,
    )  # fmt: skip
    dataset_utils.check_binary(owner, label_mode, class_names)
    data_format = config.standardize_data_format(data_format)
    load = ImageLoader(image_size, color_mode.lower(), interpolation, data_format,
                       crop_to_aspect_ratio, pad_to_aspect_ratio)  # fmt: skip
    num_classes = len(class_names) if class_names else 0

    def build(part_paths, part_labels, training):
        samples = dataset_utils.FileDataset(part_paths, load, part_labels, label_mode,
                                            num_classes)  # fmt: skip
        return dataset_utils.BatchLoader(
            samples, batch_size, shuffle=shuffle and training, seed=seed,
            num_workers=num_workers, class_names=class_names,
            file_paths=list(part_paths),
        )  # fmt: skip

    return dataset_utils.make_subsets(owner, "image", directory, paths, labels,
                                      validation_split, subset, build)  # fmt: skip

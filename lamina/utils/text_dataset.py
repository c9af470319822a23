"""``text_dataset_from_directory``: a folder of ``.txt`` files as a dataset."""

from __future__ import annotations

import numpy as np
import torch

from lamina.utils import dataset_utils
from lamina.utils.validation import arg_error, check_choice


class TextLoader:
    """A text file's content as a Python ``str`` (UTF-8), cut to ``max_length``
    characters (picklable, for ``DataLoader`` workers)."""

    def __init__(self, max_length=None):
        self.max_length = max_length

    def __call__(self, path):
        with open(path, encoding="utf-8", newline="") as f:
            text = f.read()
        return text if self.max_length is None else text[: self.max_length]


def collate_text(samples):
    """A batch of texts as a NumPy array of ``str`` objects (labels stacked as
    tensors), since torch has no string tensors."""
    if samples and isinstance(samples[0], tuple):
        texts, labels = zip(*samples)
        return _strings(texts), torch.stack(list(labels))
    return _strings(samples)


def _strings(texts):
    array = np.empty(len(texts), dtype=object)
    array[:] = list(texts)
    return array


def text_dataset_from_directory(
    directory, labels="inferred", label_mode="int", class_names=None, batch_size=32,
    max_length=None, shuffle=True, seed=None, validation_split=None, subset=None,
    follow_links=False, format="torch", verbose=True, num_workers=0,
):  # fmt: skip
    """A dataset of batches of texts (and labels) from a folder of ``.txt`` files.

    Folders, labels, subsets and file order follow
    ``image_dataset_from_directory``'s rules (Keras's).

    Args:
        directory: the folder (one subfolder per class with
            ``labels="inferred"``).
        labels: ``"inferred"``, ``None``, or one integer label per file.
        label_mode: ``"int"``, ``"categorical"``, ``"binary"`` or ``None``.
        class_names: the classes to use, in order.
        batch_size: texts per batch; ``None`` yields single texts.
        max_length: keep at most this many characters of each text.
        shuffle: shuffle (a new order each epoch); otherwise alphanumeric order.
        seed: the seed of the shuffles and of ``validation_split``.
        validation_split: the fraction kept for validation.
        subset: ``"training"``, ``"validation"`` or ``"both"``.
        follow_links: follow symbolic links to folders.
        format: ``"torch"`` (Keras's ``"tf"``/``"grain"`` give the same).
        verbose: print how many files and classes were found.
        num_workers: lamina's addition: ``DataLoader`` worker processes.

    Returns:
        A ``BatchLoader`` yielding ``(texts, labels)``: ``texts`` a NumPy array of
        Python ``str`` (Keras yields ``tf.string`` tensors, whose ``.numpy()``
        are ``bytes``), labels as in ``image_dataset_from_directory``.
        ``max_length`` counts characters (TensorFlow's ``substr`` counts bytes;
        the same for ASCII text).

    Example:
    >>> import os, tempfile, lamina as keras
    >>> root = tempfile.mkdtemp()
    >>> for cls in ("neg", "pos"):
    ...     os.mkdir(os.path.join(root, cls))
    ...     with open(os.path.join(root, cls, "a.txt"), "w") as f:
    ...         _ = f.write(f"a {cls} review")
    >>> ds = keras.utils.text_dataset_from_directory(root, shuffle=False, verbose=False)
    >>> texts, labels = next(iter(ds))
    >>> list(texts), labels.tolist()
    (['a neg review', 'a pos review'], [0, 1])
    """
    owner = "text_dataset_from_directory"
    labels, label_mode = dataset_utils.check_labels_arguments(
        owner, labels, label_mode, class_names
    )
    if max_length is not None and (
        isinstance(max_length, bool)
        or not isinstance(max_length, int)
        or max_length < 1
    ):
        raise arg_error(owner, "max_length", "None or an integer >= 1", max_length)
    check_choice(owner, "format", format, ("torch", "tf", "grain"))
    dataset_utils.check_validation_split_arg(
        validation_split, subset, shuffle, seed, owner
    )
    dataset_utils.check_num_workers(owner, num_workers)
    seed = np.random.randint(1e6) if seed is None else seed
    paths, labels, class_names = dataset_utils.index_directory(
        directory, labels, (".txt",), class_names, shuffle, seed, follow_links,
        verbose, owner,
    )  # fmt: skip
    dataset_utils.check_binary(owner, label_mode, class_names)
    load = TextLoader(max_length)
    num_classes = len(class_names) if class_names else 0

    def build(part_paths, part_labels, training):
        samples = dataset_utils.FileDataset(part_paths, load, part_labels, label_mode,
                                            num_classes)  # fmt: skip
        return dataset_utils.BatchLoader(
            samples, batch_size, shuffle=shuffle and training, seed=seed,
            collate_fn=collate_text if batch_size is not None else None,
            num_workers=num_workers, class_names=class_names,
            file_paths=list(part_paths),
        )  # fmt: skip

    return dataset_utils.make_subsets(owner, "text", directory, paths, labels,
                                      validation_split, subset, build)  # fmt: skip

"""The machinery of the ``*_dataset_from_directory`` utilities and
``split_dataset``, on ``torch.utils.data``.

Files are indexed as Keras indexes them (``index_directory``: class folders in
alphanumeric order, files sorted per folder, then shuffled with NumPy's
``RandomState(seed)``), so ``class_names``, ``file_paths`` and the
``validation_split`` subsets are Keras's. The datasets are ``BatchLoader``
objects: ``torch.utils.data.DataLoader`` subclasses that ``fit``/``evaluate``/
``predict`` consume directly, that yield torch tensors, and that load in parallel
with ``num_workers``.
"""

from __future__ import annotations

import itertools
import os
from multiprocessing.pool import ThreadPool

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Subset, TensorDataset

from lamina.utils.progbar import print_msg
from lamina.utils.validation import arg_error

LABEL_MODES = ("int", "categorical", "binary", None)


# ------------------------------------------------------------- arguments
def check_labels_arguments(owner, labels, label_mode, class_names):
    """Keras's rules for ``labels``/``label_mode``/``class_names``; returns
    ``(labels, label_mode)`` (both None when either asks for no labels)."""
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple)):
            rule = "'inferred', None, or a list/tuple of integer labels (one per file)"
            raise arg_error(owner, "labels", rule, labels)
        if class_names:
            raise ValueError(
                f"{owner}: `class_names` must be None unless labels='inferred'; "
                f"got class_names={class_names!r} with a list of labels."
            )
    if label_mode not in LABEL_MODES:
        raise arg_error(owner, "label_mode", "one of 'int', 'categorical', "
                        "'binary', None", label_mode)  # fmt: skip
    if labels is None or label_mode is None:
        return None, None
    return labels, label_mode


def check_validation_split_arg(validation_split, subset, shuffle, seed, owner):
    """Keras's rules: a fraction in (0, 1), given together with ``subset``, and a
    ``seed`` when shuffling (so the two subsets do not overlap)."""
    if validation_split and not 0 < validation_split < 1:
        raise arg_error(
            owner, "validation_split", "a number in (0, 1)", validation_split
        )
    if subset not in ("training", "validation", "both", None):
        rule = "one of 'training', 'validation', 'both', None"
        raise arg_error(owner, "subset", rule, subset)
    if bool(validation_split) != bool(subset):
        raise ValueError(
            f"{owner}: `subset` and `validation_split` must be given together; got "
            f"validation_split={validation_split!r} and subset={subset!r}."
        )
    if validation_split and shuffle and seed is None:
        raise ValueError(
            f"{owner}: `seed` must be given with `validation_split` when shuffling, "
            "so that the training and validation subsets do not overlap; got "
            "seed=None."
        )


def check_binary(owner, label_mode, class_names):
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError(
            f"{owner}: label_mode='binary' needs exactly 2 classes; got "
            f"class_names={class_names!r}."
        )


# ------------------------------------------------------------- indexing
def _valid_files(directory, follow_links, formats):
    walk = os.walk(directory, followlinks=follow_links)
    for root, _, files in sorted(walk, key=lambda entry: entry[0]):
        for fname in sorted(files):
            if fname.lower().endswith(formats):
                yield root, fname


def _index_subdirectory(directory, label, follow_links, formats):
    dirname = os.path.basename(directory)
    filenames = [
        os.path.join(dirname, os.path.relpath(os.path.join(root, fname), directory))
        for root, fname in _valid_files(directory, follow_links, formats)
    ]
    return filenames, [label] * len(filenames)


def _class_folders(directory, class_names, owner):
    found = [
        name.rstrip("/")
        for name in sorted(os.listdir(directory))
        if os.path.isdir(os.path.join(directory, name)) and not name.startswith(".")
    ]
    if class_names is None:
        return found
    if not set(class_names) <= set(found):
        raise ValueError(
            f"{owner}: `class_names` must name subfolders of {directory} (found "
            f"{found}); got class_names={list(class_names)!r}."
        )
    return list(class_names)


def index_directory(
    directory, labels, formats, class_names=None, shuffle=True, seed=None,
    follow_links=False, verbose=True, owner="index_directory",
):  # fmt: skip
    """``(file_paths, labels, class_names)`` of the files under ``directory``
    whose extension is in ``formats``, in Keras's order."""
    if not os.path.isdir(directory):
        raise arg_error(owner, "directory", "an existing folder", directory)
    if labels == "inferred":
        subdirs = _class_folders(directory, class_names, owner)
    else:
        subdirs = [""]
    with ThreadPool() as pool:
        results = [
            pool.apply_async(_index_subdirectory, (os.path.join(directory, sub), i,
                                                   follow_links, formats))
            for i, sub in enumerate(subdirs)
        ]  # fmt: skip
        parts = [r.get() for r in results]
    filenames = [f for names, _ in parts for f in names]
    if labels == "inferred":
        class_names = subdirs
        labels = np.array([lab for _, labs in parts for lab in labs], dtype="int32")
    elif labels is None:
        class_names = None
    else:
        if len(labels) != len(filenames):
            raise ValueError(
                f"{owner}: `labels` must have one label per file; got "
                f"{len(labels)} labels for {len(filenames)} files in {directory}."
            )
        class_names = [str(label) for label in sorted(set(labels))]
        labels = np.array(labels)  # a copy: the caller's list is not shuffled
    if verbose:
        classes = "" if labels is None else f" belonging to {len(class_names)} classes"
        print_msg(f"Found {len(filenames)} files{classes}.")
    file_paths = [os.path.join(directory, f) for f in filenames]
    if shuffle:
        seed = np.random.randint(1e6) if seed is None else seed
        np.random.RandomState(seed).shuffle(file_paths)
        if labels is not None:
            np.random.RandomState(seed).shuffle(labels)
    return file_paths, labels, class_names


def get_training_or_validation_split(samples, labels, validation_split, subset):
    """The ``subset`` of ``samples``/``labels``: the last ``validation_split``
    fraction is the validation subset (Keras's rule)."""
    if not validation_split:
        return samples, labels
    num_val = int(validation_split * len(samples))
    if subset == "training":
        print_msg(f"Using {len(samples) - num_val} files for training.")
        cut = slice(None, -num_val)
    else:
        print_msg(f"Using {num_val} files for validation.")
        cut = slice(-num_val, None)
    return samples[cut], None if labels is None else labels[cut]


# ------------------------------------------------------------- datasets
def encode_label(label, label_mode, num_classes):
    """One label as Keras yields it: int32 scalar, float32 ``(1,)`` (binary) or
    float32 one-hot ``(num_classes,)`` (categorical)."""
    if label_mode == "binary":
        return torch.tensor([float(label)], dtype=torch.float32)
    if label_mode == "categorical":
        one_hot = torch.zeros(num_classes, dtype=torch.float32)
        one_hot[int(label)] = 1.0
        return one_hot
    return torch.tensor(int(label), dtype=torch.int32)


class FileDataset(Dataset):
    """Samples decoded from files: ``load(path)``, paired with its encoded label
    unless ``label_mode`` is None. ``load`` is a picklable callable so that
    ``DataLoader`` workers can run it."""

    def __init__(self, paths, load, labels=None, label_mode=None, num_classes=0):
        self.paths = list(paths)
        self.load = load
        self.labels = None if label_mode is None else np.asarray(labels)
        self.label_mode = label_mode
        self.num_classes = num_classes

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, index):
        sample = self.load(self.paths[index])
        if self.labels is None:
            return sample
        return sample, encode_label(
            self.labels[index], self.label_mode, self.num_classes
        )


class Take:
    """The first ``count`` batches of a loader, re-iterable (``ds.take(n)``)."""

    def __init__(self, loader, count):
        self.loader, self.count = loader, count

    def __iter__(self):
        return itertools.islice(iter(self.loader), self.count)

    def __len__(self):
        return min(self.count, len(self.loader))


class BatchLoader(DataLoader):
    """The dataset of a ``*_dataset_from_directory`` or
    ``timeseries_dataset_from_array`` call: a ``torch.utils.data.DataLoader``
    with Keras's attributes.

    Iterating yields batches of torch tensors: ``(inputs, labels)``, or only
    inputs without labels (samples instead of batches with ``batch_size=None``).
    ``len(ds)`` is the number of batches; ``ds.class_names`` and
    ``ds.file_paths`` are Keras's; ``ds.take(n)`` gives the first ``n`` batches.
    Shuffling draws a new order each epoch from ``seed``; ``num_workers`` loads
    in worker processes (``DataLoader``'s own machinery).
    """

    def __init__(
        self, dataset, batch_size, shuffle=False, seed=None, collate_fn=None,
        num_workers=0, class_names=None, file_paths=None,
    ):  # fmt: skip
        generator = None
        if shuffle:
            generator = torch.Generator()
            generator.manual_seed(int(np.random.randint(1e6) if seed is None else seed))
        super().__init__(
            dataset, batch_size=batch_size, shuffle=bool(shuffle), generator=generator,
            collate_fn=collate_fn, num_workers=num_workers,
            persistent_workers=num_workers > 0,
        )  # fmt: skip
        self.class_names = class_names
        self.file_paths = file_paths

    def take(self, count):
        """The first ``count`` batches (an iterable that can be re-iterated)."""
        return Take(self, count)

    def cardinality(self):
        """The number of batches (``tf.data``'s name for ``len``)."""
        return len(self)


def check_num_workers(owner, num_workers):
    if (
        isinstance(num_workers, bool)
        or not isinstance(num_workers, int)
        or num_workers < 0
    ):
        raise arg_error(owner, "num_workers", "an integer >= 0", num_workers)
    return num_workers


def make_subsets(
    owner, kind, directory, paths, labels, validation_split, subset, build
):
    """``build(paths, labels, training)`` for the requested subset, or a
    ``(training, validation)`` pair for ``subset="both"``; an empty subset
    raises, naming the folder."""
    names = ("training", "validation") if subset == "both" else (subset,)
    datasets = []
    for name in names:
        part_paths, part_labels = get_training_or_validation_split(
            paths, labels, validation_split, name
        )
        if not part_paths:
            which = f"{name} " if name else ""
            raise ValueError(
                f"{owner}: `directory` must hold {which}{kind} files; found none in "
                f"{directory}."
            )
        datasets.append(build(part_paths, part_labels, name != "validation"))
    return tuple(datasets) if subset == "both" else datasets[0]


# ------------------------------------------------------------ split_dataset
def _split_sizes(left_size, right_size, total):
    """Keras's ``_rescale_dataset_split_sizes``: fractions or counts to counts."""
    owner = "split_dataset"
    for arg, value in (("left_size", left_size), ("right_size", right_size)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise arg_error(owner, arg, "None, an integer or a float", value, TypeError)
        too_big = value >= total if isinstance(value, int) else value >= 1
        if value <= 0 or too_big:
            rule = f"a count in (0, {total}) or a fraction in (0, 1)"
            raise arg_error(owner, arg, rule, value)
    if left_size is None and right_size is None:
        raise ValueError(
            f"{owner}: `left_size` or `right_size` must be given; got both None."
        )
    if isinstance(left_size, float) and isinstance(right_size, float):
        if left_size + right_size > 1:
            raise ValueError(
                f"{owner}: `left_size` + `right_size` must be at most 1; got "
                f"left_size={left_size!r} and right_size={right_size!r}."
            )
    left = round(left_size * total) if isinstance(left_size, float) else left_size
    right = round(right_size * total) if isinstance(right_size, float) else right_size
    left = total - right if left is None else left
    right = total - left if right is None else right
    if left + right > total or not left or not right:
        raise ValueError(
            f"{owner}: both sides must get samples and together at most the "
            f"{total} samples; got left_size={left_size!r} ({left} samples) and "
            f"right_size={right_size!r} ({right} samples)."
        )
    return int(left), int(right)


def _as_torch_dataset(dataset):
    if isinstance(dataset, Dataset):
        return dataset
    if isinstance(dataset, np.ndarray):
        return TensorDataset(torch.from_numpy(dataset))
    if isinstance(dataset, (list, tuple)) and dataset:
        arrays = [np.asarray(a) for a in dataset]
        if len({len(a) for a in arrays}) > 1:
            raise ValueError(
                "split_dataset: the arrays of `dataset` must have the same length; "
                f"got lengths {[len(a) for a in arrays]}."
            )
        return TensorDataset(*(torch.from_numpy(a) for a in arrays))
    rule = "a torch Dataset, a NumPy array, or a non-empty list/tuple of arrays"
    raise arg_error("split_dataset", "dataset", rule, dataset, TypeError)


def split_dataset(
    dataset, left_size=None, right_size=None, shuffle=False, seed=None,
    preferred_backend=None,
):  # fmt: skip
    """Splits a dataset into a left and a right part (e.g. train and test).

    Args:
        dataset: a ``torch.utils.data.Dataset``, a NumPy array, or a list/tuple
            of arrays of one length (their samples are zipped).
        left_size: a fraction in (0, 1) or a number of samples for the left
            part; ``None``: the complement of ``right_size``.
        right_size: the same for the right part.
        shuffle: shuffle before splitting.
        seed: the shuffling seed.
        preferred_backend: accepted for Keras compatibility; lamina always
            returns torch datasets.

    Returns:
        ``(left, right)``: ``torch.utils.data.Subset`` objects (``len()``, items
        are tuples of tensors for arrays).

    Without ``shuffle``, ``left`` holds the first samples and ``right`` the last
    ones, as Keras documents (Keras 3.15's torch backend shuffles even then, a
    bug); with ``shuffle``, the order is ``torch.utils.data.random_split``'s
    with a generator seeded by ``seed``, as in Keras's torch backend.

    Example:
    >>> import numpy as np, lamina as keras
    >>> left, right = keras.utils.split_dataset(np.arange(10), left_size=0.8)
    >>> len(left), len(right), int(right[0][0])
    (8, 2, 8)
    """
    if preferred_backend not in (None, "torch"):
        rule = "None or 'torch' (lamina's datasets are torch datasets)"
        raise arg_error("split_dataset", "preferred_backend", rule, preferred_backend)
    data = _as_torch_dataset(dataset)
    left, right = _split_sizes(left_size, right_size, len(data))
    if not shuffle:
        total = len(data)
        return Subset(data, range(left)), Subset(data, range(total - right, total))
    generator = torch.Generator()
    generator.manual_seed(int(np.random.randint(1e6) if seed is None else seed))
    order = torch.randperm(len(data), generator=generator).tolist()
    return Subset(data, order[:left]), Subset(data, order[len(data) - right :])

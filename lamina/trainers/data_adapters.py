"""Data adapters: turn what ``fit``/``evaluate``/``predict`` are given into batches
of torch tensors on the training device.

Supported inputs, as in Keras: NumPy arrays, torch tensors, array-likes (lists of
numbers, pandas objects), lists/tuples/dicts of those for multi-input and
multi-output models, Python generators/iterators yielding ``x``, ``(x, y)`` or
``(x, y, sample_weight)`` batches, ``keras.utils.PyDataset``-style objects
(``__len__`` and ``__getitem__`` returning batches), ``torch.utils.data.DataLoader``
and ``torch.utils.data.Dataset`` (batched here with ``batch_size`` and
``shuffle``), and ``tf.data.Dataset`` objects when TensorFlow happens to be
installed (read through ``as_numpy_iterator()``; TensorFlow is never imported).

Arrays are converted to tensors once (float64 becomes ``floatx``); each batch is
then a slice (or, when shuffling, one gather) of those tensors, so the data
pipeline costs next to nothing per step.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Mapping

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, IterableDataset

from lamina import config
from lamina.trainers.py_dataset import ordered_batches
from lamina.utils import tree
from lamina.utils.validation import arg_error, describe


def unpack_x_y_sample_weight(data, owner="unpack_x_y_sample_weight", arg="data"):
    """``(x, y, sample_weight)`` from ``x``, ``(x,)``, ``(x, y)`` or
    ``(x, y, sample_weight)``; ``owner`` and ``arg`` name the caller and its
    argument in the error for anything else."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data
    raise ValueError(
        f"{describe(owner)}: `{arg}` must be `x`, `(x,)`, `(x, y)` or "
        f"`(x, y, sample_weight)`; got a tuple of {len(data)} elements."
    )


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    if y is None:
        return x if not isinstance(x, (list, tuple)) else (x,)
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


# ------------------------------------------------------------------ arrays
def _is_array_like(x) -> bool:
    return isinstance(x, (np.ndarray, torch.Tensor)) or hasattr(x, "__array__")


def _is_leaf_list(x) -> bool:
    """A list of numbers (or of lists of numbers): one array, not a structure."""
    if not isinstance(x, (list, tuple)) or not x:
        return False
    first = x[0]
    return isinstance(first, (int, float, bool, np.number)) or _is_leaf_list(first)


def to_tensor(x, owner="to_tensor", arg="x") -> torch.Tensor | None:
    """One leaf as a tensor (zero-copy from NumPy where possible); ``owner`` and
    ``arg`` name the caller and the argument ``x`` came from in errors."""
    if x is None or isinstance(x, torch.Tensor):
        return x
    if hasattr(x, "to_numpy"):  # pandas
        x = x.to_numpy()
    try:
        array = np.asarray(x)
    except ValueError as error:  # NumPy refuses ragged nested lists
        raise _mixed_elements_error(x, owner, arg) from error
    if array.dtype == np.float64:
        array = array.astype(config.floatx())
    elif array.dtype == object:
        raise _mixed_elements_error(x, owner, arg)
    if not array.flags.writeable:
        array = array.copy()
    return torch.from_numpy(np.ascontiguousarray(array))


def _mixed_elements_error(x, owner, arg):
    return ValueError(
        f"{describe(owner)}: `{arg}` must be an array, or numbers (rows of one "
        f"length) that make one; got a {type(x).__name__} whose elements have "
        "mixed types or lengths."
    )


def convert_structure(structure, owner="convert_structure", arg="x"):
    """Every leaf of a (possibly nested) structure of arrays as a tensor."""
    if structure is None:
        return None
    if _is_leaf_list(structure):
        return to_tensor(structure, owner, arg)
    if isinstance(structure, (list, tuple)):
        return type(structure)(convert_structure(s, owner, arg) for s in structure)
    if isinstance(structure, Mapping):
        return {k: convert_structure(v, owner, arg) for k, v in structure.items()}
    return to_tensor(structure, owner, arg)


def to_device(structure, device):
    def move(x):
        if isinstance(x, torch.Tensor) and x.device != device:
            return x.to(device, non_blocking=True)
        return x

    if isinstance(structure, torch.Tensor):
        return move(structure)
    return tree.map_structure(move, structure) if structure is not None else None


def to_numpy(structure):
    """Every tensor of ``structure`` as a NumPy array (detached, on the CPU;
    half-precision floats become float32)."""

    def convert(t):
        if isinstance(t, torch.Tensor):
            t = t.detach()
            if t.dtype in (torch.bfloat16, torch.float16):
                t = t.float()
            return t.cpu().numpy()
        return t

    if isinstance(structure, torch.Tensor):
        return convert(structure)
    return tree.map_structure(convert, structure)


def align_inputs(model, x):
    """A dict of inputs for a model whose inputs are a list: ordered by the
    input names (Keras matches dict keys to input names)."""
    if not isinstance(x, dict):
        return x
    inputs_struct = model.__dict__.get("_inputs_struct")
    if inputs_struct is None or isinstance(inputs_struct, dict):
        return x
    names = [t._keras_history.layer.name for t in tree.flatten(inputs_struct)]
    if set(names) == set(x):
        aligned = [x[name] for name in names]
        return aligned[0] if len(aligned) == 1 else aligned
    return x


def single_batch(x, y, sample_weight, owner="single_batch"):
    """A batch of ``train_on_batch``/``test_on_batch``: tensors on the device,
    with one number of samples."""
    x, y, sample_weight = (
        to_device(convert_structure(part, owner, arg), config.get_device())
        for arg, part in (("x", x), ("y", y), ("sample_weight", sample_weight))
    )
    check_cardinality(x, y, sample_weight, owner)
    return (x, y, sample_weight)


def num_samples(structure) -> int:
    return int(next(t for t in tree.flatten(structure) if t is not None).shape[0])


def require_samples(iterator, owner) -> None:
    """Raise when in-memory data holds no sample: ``fit`` and ``evaluate`` on
    nothing would report a loss of nothing (``predict`` gives an empty result)."""
    if getattr(iterator.adapter, "num_samples", None) == 0:
        raise ValueError(
            f"{describe(owner)}: `x` must hold at least one sample; got 0 samples."
        )


def check_cardinality(x, y, sample_weight, owner="check_cardinality") -> int:
    """The common number of samples; a mismatch raises, listing every size."""
    sizes = {}
    for label, part in (("x", x), ("y", y), ("sample_weight", sample_weight)):
        leaves = (
            [t for t in tree.flatten(part) if t is not None] if part is not None else []
        )
        if leaves:
            sizes[label] = [int(t.shape[0]) if t.ndim else 1 for t in leaves]
    distinct = {n for values in sizes.values() for n in values}
    if len(distinct) > 1:
        detail = ", ".join(f"{'/'.join(map(str, v))} in {k}" for k, v in sizes.items())
        raise ValueError(
            f"{describe(owner)}: the arrays of `x`, `y` and `sample_weight` must "
            f"have the same number of samples (first axis); got {detail}."
        )
    if not distinct:
        raise arg_error(owner, "x", "arrays or tensors (not empty or None)", x)
    return distinct.pop()


def weights_from_classes(y, sample_weight, class_weight, owner="weights_from_classes"):
    """``sample_weight``, or per-sample weights from ``class_weight`` when it is
    given (both at once is an error)."""
    if class_weight is None:
        return sample_weight
    if sample_weight is not None:
        raise ValueError(
            f"{describe(owner)}: `class_weight` and `sample_weight` cannot both be "
            "given (fold the class weights into `sample_weight`); got "
            f"class_weight={class_weight!r} and sample_weight of shape "
            f"{_shapes(sample_weight)}."
        )
    return class_weight_to_sample_weights(y, class_weight, owner)


def _shapes(structure):
    if _is_array_like(structure) or _is_leaf_list(structure):
        return tuple(np.shape(structure))
    return [tuple(np.shape(t)) for t in tree.flatten(structure)]


def class_weight_to_sample_weights(
    y, class_weight, owner="class_weight_to_sample_weights"
) -> torch.Tensor:
    """Per-sample weights ``class_weight[label]`` (1.0 for missing classes); labels
    are ``y`` itself, or its argmax for one-hot ``y``."""
    if isinstance(y, (list, tuple, dict)):
        raise ValueError(
            f"{describe(owner)}: `class_weight` must be None for a model with "
            f"several outputs (`y` is a {type(y).__name__}); got "
            f"class_weight={class_weight!r}."
        )
    labels = to_tensor(y, owner, "y").detach().cpu()
    if labels.ndim > 2:
        raise ValueError(
            f"{describe(owner)}: `y` must be class ids (rank 1) or one-hot (rank 2) "
            f"to use `class_weight`; got y of shape {tuple(labels.shape)}."
        )
    if labels.ndim == 2:
        labels = labels.argmax(-1) if labels.shape[-1] > 1 else labels.squeeze(-1)
    labels = torch.round(labels.double()).long().numpy()
    weights = np.ones(labels.shape[0], dtype=config.floatx())
    for i, label in enumerate(labels):
        weights[i] = class_weight.get(int(label), 1.0)
    return torch.from_numpy(weights)


def train_validation_split(arrays, validation_split, owner="train_validation_split"):
    """The last ``validation_split`` fraction of ``arrays`` becomes validation data
    (before any shuffling), as in Keras."""
    flat = [t for t in tree.flatten(arrays) if t is not None]
    bad = [type(t).__name__ for t in flat if not _is_array_like(t)]
    if bad:
        raise ValueError(
            f"{describe(owner)}: `validation_split` needs arrays or tensors (pass "
            f"`validation_data` for other data); got validation_split="
            f"{validation_split!r} with data of type {', '.join(sorted(set(bad)))}."
        )
    arrays = convert_structure(arrays, owner)
    total = num_samples(arrays)
    split_at = int(math.floor(total * (1.0 - validation_split)))
    if split_at == 0 or split_at == total:
        raise ValueError(
            f"{describe(owner)}: `validation_split` must leave samples on both sides; "
            f"got validation_split={validation_split!r} for {total} samples, which "
            "is not enough to split."
        )

    def cut(start, end):
        return tree.map_structure(
            lambda t: None if t is None else t[start:end],
            arrays,
        )

    return cut(0, split_at), cut(split_at, total)


class ArrayAdapter:
    """Batches of in-memory arrays/tensors, optionally shuffled each epoch."""

    def __init__(
        self, x, y=None, sample_weight=None, batch_size=None, steps=None,
        shuffle=False, class_weight=None, owner="ArrayAdapter",
    ):  # fmt: skip
        x, y, sample_weight = (
            convert_structure(part, owner, arg)
            for arg, part in (("x", x), ("y", y), ("sample_weight", sample_weight))
        )
        if class_weight is not None:
            sample_weight = weights_from_classes(y, sample_weight, class_weight, owner)
        elif sample_weight is not None and isinstance(y, (list, tuple, dict)):
            if not isinstance(sample_weight, (list, tuple, dict)):
                sample_weight = tree.map_structure(lambda _: sample_weight, y)
        self.num_samples = check_cardinality(x, y, sample_weight, owner)
        self._data = pack_x_y_sample_weight(x, y, sample_weight)
        self._leaves = tree.flatten(self._data)
        if batch_size is not None and (
            isinstance(batch_size, bool)
            or not isinstance(batch_size, (int, np.integer))
            or batch_size < 1
        ):
            raise arg_error(owner, "batch_size", "None or an integer >= 1", batch_size)
        if not batch_size:
            batch_size = int(math.ceil(self.num_samples / steps)) if steps else 32
        # As in Keras, a batch larger than the data is the whole data.
        self.batch_size = max(1, min(int(batch_size), self.num_samples))
        # No samples is one empty batch, so `predict` gives an empty result.
        self.num_batches = max(1, math.ceil(self.num_samples / self.batch_size))
        self.shuffle = shuffle
        device = config.get_device()
        if device.type != "cpu" and _fits_on(device, self._leaves):
            self._leaves = [None if t is None else t.to(device) for t in self._leaves]

    def __iter__(self) -> Iterator:
        n, size, device = self.num_samples, self.batch_size, config.get_device()
        order = None
        if self.shuffle == "batch":
            blocks = list(torch.split(torch.arange(n), size))
            order = torch.cat([blocks[i] for i in torch.randperm(len(blocks))])
        elif self.shuffle:
            order = torch.randperm(n)
        leaves, data = self._leaves, self._data
        nested = isinstance(data, (list, tuple, dict))
        for start in range(0, max(n, 1), size):
            if order is None:
                batch = [None if t is None else t[start : start + size] for t in leaves]
            else:
                index = order[start : start + size]
                batch = [
                    None if t is None else t.index_select(0, index.to(t.device))
                    for t in leaves
                ]
            if device.type != "cpu":
                batch = [
                    None if t is None else t.to(device, non_blocking=True)
                    for t in batch
                ]
            yield tree.pack_sequence_as(data, batch) if nested else batch[0]


def _fits_on(device, leaves, budget=0.25) -> bool:
    """Whether the whole dataset takes under ``budget`` of the device's memory (it
    is then moved once instead of batch by batch)."""
    size = sum(t.numel() * t.element_size() for t in leaves if t is not None)
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return size < budget * free
    return False


def _batch_of(item, owner):
    """A batch from a generator/loader item: tensors for every array leaf."""
    if isinstance(item, list):
        item = tuple(item)
    return convert_structure(item, owner, "x")


class GeneratorAdapter:
    """Batches from a Python generator or iterator (consumed once, as in Keras)."""

    def __init__(self, generator, steps=None, owner="GeneratorAdapter"):
        self._iterator = iter(generator)
        self.num_batches = steps
        self.owner = owner

    def __iter__(self):
        device = config.get_device()
        for item in self._iterator:
            yield to_device(_batch_of(item, self.owner), device)


class SequenceAdapter:
    """Batches from a ``PyDataset``/``Sequence``-like object: ``len(obj)`` batches,
    ``obj[i]`` the i-th; ``on_epoch_end`` is called after each epoch."""

    def __init__(self, dataset, shuffle=False, owner="SequenceAdapter"):
        self._dataset = dataset
        self.num_batches = len(dataset)
        self.shuffle = shuffle
        self.owner = owner

    def __iter__(self):
        device = config.get_device()
        order = (
            torch.randperm(self.num_batches)
            if self.shuffle
            else range(self.num_batches)
        )
        for batch in ordered_batches(self._dataset, order):
            yield to_device(_batch_of(batch, self.owner), device)
        on_epoch_end = getattr(self._dataset, "on_epoch_end", None)
        if callable(on_epoch_end):
            on_epoch_end()


class TorchLoaderAdapter:
    """Batches from a ``torch.utils.data.DataLoader`` (re-iterated every epoch)."""

    def __init__(self, loader, owner="TorchLoaderAdapter"):
        self._loader = loader
        self.owner = owner
        try:
            self.num_batches = len(loader)
        except TypeError:
            self.num_batches = None

    def __iter__(self):
        device = config.get_device()
        for item in self._loader:
            yield to_device(_batch_of(item, self.owner), device)


class TFDatasetAdapter:
    """Batches from a ``tf.data.Dataset`` (when TensorFlow is installed; lamina
    never imports it): each epoch iterates ``as_numpy_iterator()`` and turns the
    NumPy batches into tensors. The number of batches is the dataset's
    ``cardinality()`` when finite and known."""

    def __init__(self, dataset, owner="TFDatasetAdapter"):
        self._dataset = dataset
        self.owner = owner
        self.num_batches = None
        cardinality = getattr(dataset, "cardinality", None)
        if callable(cardinality):
            count = int(cardinality())
            self.num_batches = count if count >= 0 else None  # -1 infinite, -2 unknown

    def __iter__(self):
        device = config.get_device()
        for item in self._dataset.as_numpy_iterator():
            yield to_device(_batch_of(item, self.owner), device)


def _is_tf_dataset(x) -> bool:
    """A ``tf.data.Dataset`` (or anything with its ``as_numpy_iterator``)."""
    return callable(getattr(x, "as_numpy_iterator", None)) and not _is_array_like(x)


def _is_generator(x) -> bool:
    return isinstance(x, Iterator) and not _is_array_like(x)


def _is_sequence_dataset(x) -> bool:
    return (
        hasattr(x, "__getitem__")
        and hasattr(x, "__len__")
        and not isinstance(x, (list, tuple, dict, str, Dataset))
        and not _is_array_like(x)
    )


def get_data_adapter(
    x, y=None, sample_weight=None, batch_size=None, steps=None, shuffle=False,
    class_weight=None, owner="get_data_adapter",
):  # fmt: skip
    """The adapter for ``x`` (see the module docstring for what is accepted)."""
    extra = (y, sample_weight, class_weight, owner)
    if isinstance(x, Dataset) and not isinstance(x, IterableDataset):
        _refuse_extra(x, *extra, "a torch Dataset")
        x = DataLoader(x, batch_size=batch_size or 32, shuffle=bool(shuffle))
    if isinstance(x, IterableDataset):
        _refuse_extra(x, *extra, "a torch IterableDataset")
        x = DataLoader(x, batch_size=batch_size or 32)
    if isinstance(x, DataLoader):
        _refuse_extra(x, *extra, "a torch DataLoader")
        return TorchLoaderAdapter(x, owner)
    if _is_tf_dataset(x):
        _refuse_extra(x, *extra, "a tf.data.Dataset")
        return TFDatasetAdapter(x, owner)
    if _is_generator(x):
        _refuse_extra(x, *extra, "a generator")
        return GeneratorAdapter(x, steps, owner)
    if _is_sequence_dataset(x):
        _refuse_extra(x, *extra, "a PyDataset")
        return SequenceAdapter(x, bool(shuffle), owner)
    return ArrayAdapter(
        x, y, sample_weight, batch_size, steps, shuffle, class_weight, owner
    )


def _refuse_extra(x, y, sample_weight, class_weight, owner, kind):
    given = [
        name
        for name, value in (("y", y), ("sample_weight", sample_weight))
        if value is not None
    ]
    if given:
        names = " and ".join(f"`{g}`" for g in given)
        raise ValueError(
            f"{describe(owner)}: {names} must be None when `x` is {kind}, which "
            f"yields the targets and weights itself; got x of type "
            f"{type(x).__name__} with {names}."
        )
    if class_weight is not None:
        warnings.warn(
            f"{describe(owner)}: `class_weight` is ignored when `x` is {kind}; fold "
            "it into the sample weights the data yields.",
            stacklevel=4,
        )


class EpochIterator:
    """Yields ``(step, batch)`` for one epoch, with Keras's ``steps_per_epoch``
    rules: a fixed step count keeps drawing from the same iterator across epochs
    (restarting it when exhausted); without one, an epoch is one pass."""

    def __init__(
        self, x, y=None, sample_weight=None, batch_size=None, steps_per_epoch=None,
        shuffle=False, class_weight=None, owner="EpochIterator",
        steps_arg="steps_per_epoch",
    ):  # fmt: skip
        if steps_per_epoch is not None and (
            not isinstance(steps_per_epoch, int) or steps_per_epoch < 1
        ):
            rule = "None or an integer >= 1"
            raise arg_error(owner, steps_arg, rule, steps_per_epoch)
        cap = config.max_steps_per_epoch()
        if cap and (not steps_per_epoch or cap < steps_per_epoch):
            warnings.warn(
                f"{describe(owner)}: limiting {steps_arg} to {cap} "
                "(keras.config.set_max_steps_per_epoch).",
                stacklevel=3,
            )
            steps_per_epoch = cap
        self.steps_per_epoch = steps_per_epoch
        self.owner = owner
        self.adapter = get_data_adapter(
            x, y, sample_weight, batch_size, steps_per_epoch, shuffle, class_weight,
            owner,
        )  # fmt: skip
        self._iterator = None
        self._seen = 0
        self._inferred_batches = None

    @property
    def num_batches(self) -> int | None:
        if self.steps_per_epoch:
            return self.steps_per_epoch
        return self.adapter.num_batches or self._inferred_batches

    def first_batch(self):
        """One batch, to build the model before training (it is not consumed)."""
        iterator = iter(self.adapter)
        batch = next(iterator, None)
        if isinstance(self.adapter, GeneratorAdapter):
            self.adapter = GeneratorAdapter(
                _chain(batch, iterator), self.steps_per_epoch, self.owner
            )
        return batch

    def __iter__(self):
        steps = self.steps_per_epoch
        if not steps:
            count = 0
            for count, batch in enumerate(self.adapter, start=1):
                yield count - 1, batch
            self._inferred_batches = self._inferred_batches or count
            return
        total = self.adapter.num_batches
        for step in range(steps):
            if self._iterator is None:
                self._iterator, self._seen = iter(self.adapter), 0
            batch = None
            if total is None or self._seen < total:
                batch = next(self._iterator, None)
            if batch is None:
                self._iterator = None
                warnings.warn(
                    f"{describe(self.owner)}: your input ran out of data; "
                    "interrupting the epoch. Make sure "
                    "that your dataset or generator can generate at least "
                    "`steps_per_epoch * epochs` batches.",
                    stacklevel=2,
                )
                return
            self._seen += 1
            yield step, batch
        if total is not None and self._seen >= total:
            self._iterator = None


def validation_iterator(model, validation_data, batch_size, steps, owner):
    """Batches of ``fit``'s ``validation_data`` (None without it)."""
    if validation_data is None:
        return None
    val_x, val_y, val_sw = unpack_x_y_sample_weight(
        validation_data, owner, "validation_data"
    )
    return EpochIterator(
        align_inputs(model, val_x), val_y, val_sw, batch_size, steps,
        owner=owner, steps_arg="validation_steps",
    )  # fmt: skip


def _chain(first, rest):
    if first is not None:
        yield first
    yield from rest

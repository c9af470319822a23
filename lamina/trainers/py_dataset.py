"""``PyDataset`` (Keras 3) and its Keras 2 name ``Sequence``: a dataset of batches
indexed like a list, for ``fit``/``evaluate``/``predict``; ``ordered_batches``
reads them in order, in parallel when the dataset asks for workers."""

from __future__ import annotations

import collections
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

from lamina.utils.validation import arg_error

_worker_dataset = None  # the dataset inside a worker process (set when it starts)


class PyDataset:
    """Base class for datasets of batches: implement ``__len__`` (the number of
    batches) and ``__getitem__(index)`` (a batch: ``x``, ``(x, y)`` or
    ``(x, y, sample_weight)``); ``on_epoch_end`` runs after each epoch.

    With ``workers > 1`` the batches are read in parallel, ``workers`` at a time,
    by threads, or by worker processes with ``use_multiprocessing=True`` (forked
    at the start of each epoch, so they see what ``on_epoch_end`` changed), up to
    ``max_queue_size`` batches ahead; they are delivered in index order, each
    exactly once.

    Args:
        workers: how many batches to read at once (1: in the training loop).
        use_multiprocessing: read in processes instead of threads (for Python
            work that holds the GIL).
        max_queue_size: how many batches may be read ahead.

    Example:
    >>> import numpy as np, lamina as keras
    >>> from lamina.trainers.py_dataset import PyDataset
    >>> class Batches(PyDataset):
    ...     def __len__(self):
    ...         return 2
    ...     def __getitem__(self, i):
    ...         return np.ones((4, 3), "float32"), np.zeros((4, 1), "float32")
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    >>> model.compile("sgd", "mse")
    >>> len(model.fit(Batches(), epochs=2, verbose=0).history["loss"])
    2
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        owner = type(self).__name__
        for arg, value in (("workers", workers), ("max_queue_size", max_queue_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise arg_error(owner, arg, "an integer >= 1", value)
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    @property
    def workers(self):
        return self._workers

    @property
    def use_multiprocessing(self):
        return self._use_multiprocessing

    @property
    def max_queue_size(self):
        return self._max_queue_size

    def __len__(self):
        raise NotImplementedError(
            f"{type(self).__name__}: a PyDataset must implement __len__ (its number "
            "of batches)."
        )

    def __getitem__(self, index):
        raise NotImplementedError(
            f"{type(self).__name__}: a PyDataset must implement __getitem__(index) "
            "returning a batch."
        )

    @property
    def num_batches(self):
        return len(self)

    def on_epoch_end(self):
        """Called after every epoch (shuffle the data here, for instance)."""


Sequence = PyDataset


def _read_in_worker(index):
    return _worker_dataset[index]


def _start_worker(dataset):
    global _worker_dataset
    _worker_dataset = dataset


def _executor(dataset, workers, use_multiprocessing):
    if not use_multiprocessing:
        return ThreadPoolExecutor(max_workers=workers), dataset.__getitem__
    # fork: the workers inherit the dataset as it is now (no pickling of it)
    context = multiprocessing.get_context("fork")
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_start_worker,
        initargs=(dataset,),
    )  # fmt: skip
    return pool, _read_in_worker


def ordered_batches(dataset, order):
    """``dataset[i]`` for ``i`` in ``order``, in that order: directly, or read
    ahead by the workers the dataset asks for (``workers``,
    ``use_multiprocessing``, ``max_queue_size``)."""
    workers = getattr(dataset, "workers", 1) or 1
    use_processes = bool(getattr(dataset, "use_multiprocessing", False))
    if workers <= 1 and not use_processes:
        for i in order:
            yield dataset[int(i)]
        return
    ahead = max(int(getattr(dataset, "max_queue_size", 10) or 1), workers)
    pool, read = _executor(dataset, max(workers, 1), use_processes)
    pending = collections.deque()
    indices = iter(int(i) for i in order)
    try:
        for i in indices:
            pending.append(pool.submit(read, i))
            if len(pending) >= ahead:
                break
        while pending:
            batch = pending.popleft().result()
            next_index = next(indices, None)
            if next_index is not None:
                pending.append(pool.submit(read, next_index))
            yield batch
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)

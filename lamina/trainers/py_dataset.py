"""``PyDataset`` (Keras 3) and its Keras 2 name ``Sequence``: a dataset of batches
indexed like a list, for ``fit``/``evaluate``/``predict``."""

from __future__ import annotations


class PyDataset:
    """Base class for datasets of batches: implement ``__len__`` (the number of
    batches) and ``__getitem__(index)`` (a batch: ``x``, ``(x, y)`` or
    ``(x, y, sample_weight)``); ``on_epoch_end`` runs after each epoch.

    ``workers``, ``use_multiprocessing`` and ``max_queue_size`` are accepted for
    Keras compatibility; lamina reads the batches in order, in the training process.

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

"""What the structured-data and text preprocessing layers share.

They take what Keras's take: torch tensors, NumPy arrays (strings as ``str``,
``bytes`` or object arrays: torch holds no strings), Python lists and scalars;
they return torch tensors (and NumPy string arrays where the output is strings).
Their symbolic output comes from ``compute_output_shape`` and the output dtype,
not from running ``call`` on stand-in tensors (their calls go through NumPy and
Python dictionaries, and string inputs have no stand-in tensors).

``adapt()`` reads data the same way in every layer (``batches``): an array,
tensor or list is one batch; any other iterable (a generator, a
``torch.utils.data.DataLoader``) yields batches, of which an ``(x, y)`` pair
gives ``x``; ``steps`` stops after that many batches.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np
import torch

from lamina.layers.keras_tensor import KerasTensor, Node
from lamina.layers.layer import Layer
from lamina.utils.validation import arg_error, check_int, describe

# Keras's ``sparse=True`` gives sparse tensors on TensorFlow only; lamina computes
# the same values densely (a note in each docstring says so).
SPARSE_NOTE = "accepted for compatibility; the output is a dense tensor."


class PreprocessingLayer(Layer):
    """Base of the preprocessing layers (see the module docstring)."""

    _promotes_integer_inputs = False  # their integer inputs are values or indices
    _list_input = False  # HashedCrossing: the input is a list of features

    def __call__(self, *args, **kwargs):
        if args and not isinstance(args[0], (torch.Tensor, np.ndarray, KerasTensor)):
            args = (self._as_array(args[0]), *args[1:])
        return super().__call__(*args, **kwargs)

    def _as_array(self, inputs):
        if self._list_input and isinstance(inputs, (list, tuple)):
            return [self._as_array_leaf(x) for x in inputs]
        return self._as_array_leaf(inputs)

    @staticmethod
    def _as_array_leaf(x):
        if isinstance(x, (torch.Tensor, np.ndarray, KerasTensor)):
            return x
        return np.asarray(x)

    # ---------------------------------------------------------- symbolic
    @property
    def output_dtype(self) -> str:
        return self.compute_dtype

    def _symbolic_call(self, args, kwargs):
        if not self.built:
            self._build_for(args[0])
        outputs = self.compute_output_spec(*args, **kwargs)
        Node(self, args, kwargs, outputs)
        return outputs

    def compute_output_spec(self, inputs, *args, **kwargs):
        if isinstance(inputs, (list, tuple)):
            shape = [tuple(x.shape) for x in inputs]
        else:
            shape = tuple(inputs.shape)
        return KerasTensor(self.compute_output_shape(shape), dtype=self.output_dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


def check_sparse(owner, sparse, output_mode) -> bool:
    """``sparse`` as Keras allows it: only where the output is encoded."""
    if sparse and output_mode == "int":
        raise arg_error(
            owner,
            "sparse",
            "False when `output_mode='int'` (only encoded outputs can be sparse)",
            sparse,
        )
    return bool(sparse)


def batches(owner, data, steps=None, lists_are_batches=False) -> Iterator:
    """The batches of ``data`` for ``adapt`` (see the module docstring).

    ``lists_are_batches``: a Python list is an iterable of batches
    (``Normalization``, ``Discretization``), not one batch (the lookups).
    """
    steps = check_int(owner, "steps", steps, minimum=1, allow_none=True)
    if isinstance(data, (np.ndarray, torch.Tensor, str, bytes)) or (
        isinstance(data, (list, tuple)) and not lists_are_batches
    ):
        return iter([data])
    if isinstance(data, dict) or not hasattr(data, "__iter__"):
        raise arg_error(
            owner,
            "data",
            "an array, a tensor, a list or an iterable of batches (a generator, "
            "a torch.utils.data.DataLoader)",
            type(data).__name__,
            TypeError,
        )
    found = (_features(batch) for batch in data)
    return itertools.islice(found, steps)


def _features(batch):
    """``x`` of an ``(x, y)`` or ``(x, y, sample_weight)`` batch."""
    if isinstance(batch, tuple):
        return batch[0]
    # A DataLoader collates (x, y) samples into a list [x_batch, y_batch].
    if (
        isinstance(batch, list)
        and len(batch) in (2, 3)
        and isinstance(batch[0], (torch.Tensor, np.ndarray, list))
        and isinstance(batch[1], torch.Tensor)
    ):
        return batch[0]
    return batch


def to_numpy(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def empty_adapt_error(owner) -> ValueError:
    return ValueError(
        f"{describe(owner)}: adapt() received no data (an empty iterable); "
        "give it at least one batch, e.g. layer.adapt(x) or layer.adapt([x1, x2])."
    )

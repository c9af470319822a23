"""``InputLayer`` and ``Input``: where a functional graph starts."""

from __future__ import annotations

import warnings

from lamina import config
from lamina.layers.keras_tensor import KerasTensor, Node
from lamina.layers.layer import Layer
from lamina.utils.validation import arg_error


class InputLayer(Layer):
    """The entry point of a model: holds the symbolic input tensor.

    Args:
        shape: shape without the batch axis, e.g. ``(28, 28, 1)``; ``None`` for
            unknown sizes.
        batch_size: optional fixed batch size.
        dtype: input dtype name (default ``floatx()``).
        sparse: accepted for compatibility; inputs are dense tensors.
        batch_shape: full shape including the batch axis (instead of ``shape``).
        input_tensor: an existing KerasTensor to wrap.
        optional: the input may be None.
        name: layer name (default ``input_layer``, ``input_layer_1``, ...).
    """

    def __init__(
        self,
        shape=None,
        batch_size=None,
        dtype=None,
        sparse=None,
        batch_shape=None,
        input_tensor=None,
        optional=False,
        name=None,
        **kwargs,
    ):
        if "input_shape" in kwargs:  # Keras 2 spelling
            shape = kwargs.pop("input_shape")
        if "batch_input_shape" in kwargs:
            batch_shape = kwargs.pop("batch_input_shape")
        kwargs.pop("ragged", None)
        # A string input has no torch dtype: the layer's own policy stays the
        # default, the tensor carries "string" (preprocessing layers take it).
        policy = None if dtype in ("string", "str") else dtype
        super().__init__(name=name, dtype=policy, **kwargs)
        if shape is not None and batch_shape is not None:
            raise arg_error(
                self, "shape", "left out when `batch_shape` is given", shape
            )
        if input_tensor is not None:
            if not isinstance(input_tensor, KerasTensor):
                raise arg_error(self, "input_tensor", "a KerasTensor", input_tensor)
            batch_shape = input_tensor.shape
        if batch_shape is None:
            if shape is None:
                raise arg_error(
                    self,
                    "shape",
                    "a tuple (e.g. (28, 28, 1)) when `batch_shape` is not given",
                    shape,
                )
            if isinstance(shape, int):
                shape = (shape,)
            batch_shape = (batch_size, *tuple(shape))
        self._batch_shape = tuple(None if d is None else int(d) for d in batch_shape)
        self._input_dtype = (
            dtype.name if hasattr(dtype, "name") else (dtype or config.floatx())
        )
        if self._input_dtype == "str":
            self._input_dtype = "string"
        if sparse:
            warnings.warn(
                f"InputLayer '{self.name}': sparse inputs are converted to dense "
                "tensors in lamina.",
                stacklevel=2,
            )
        self.sparse = bool(sparse)
        self.optional = bool(optional)
        self.built = True
        tensor = input_tensor or KerasTensor(
            self._batch_shape, dtype=self._input_dtype, name=self.name
        )
        Node(self, outputs=tensor)
        self._input_tensor = tensor

    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def dtype(self) -> str:
        return self._input_dtype

    def call(self, inputs):
        return inputs

    def get_config(self):
        return {
            "batch_shape": self._batch_shape,
            "dtype": self._input_dtype,
            "sparse": self.sparse,
            "ragged": False,
            "name": self.name,
            "optional": self.optional,
        }

    @classmethod
    def from_config(cls, config_dict):
        return cls(**config_dict)


def Input(
    shape=None,
    batch_size=None,
    dtype=None,
    sparse=None,
    batch_shape=None,  # noqa: N802
    name=None,
    tensor=None,
    optional=False,
):
    """A symbolic input tensor to start a functional model: ``Input((32,))`` is a
    KerasTensor of shape ``(None, 32)``."""
    layer = InputLayer(
        shape=shape,
        batch_size=batch_size,
        dtype=dtype,
        sparse=sparse,
        batch_shape=batch_shape,
        input_tensor=tensor,
        optional=optional,
        name=name,
    )
    return layer._input_tensor

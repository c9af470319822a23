"""Permute: reorder the non-batch axes."""

from __future__ import annotations

from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer
from lamina.utils.validation import arg_error


class Permute(Layer):
    """Permutes the axes of each sample, e.g. to connect RNNs and convnets.

    Args:
        dims: tuple of ints, a permutation of ``1..rank-1`` (1-indexed; the batch
            axis 0 never moves). ``(2, 1)`` swaps the first two non-batch axes.

    Input shape:
        Rank ``len(dims) + 1``. Output shape: the input axes in ``dims`` order.

    Weights:
        None.

    Raises:
        ValueError: ``dims`` is not a permutation of 1..n (at construction).

    Example:
    >>> import lamina as keras
    >>> keras.layers.Permute((2, 1)).compute_output_shape((None, 10, 64))
    (None, 64, 10)
    """

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        try:
            dims = tuple(dims)
        except TypeError:
            raise arg_error(self, "dims", "a tuple of axis indices", dims) from None
        if sorted(dims) != list(range(1, len(dims) + 1)) or any(
            isinstance(d, bool) for d in dims
        ):
            raise arg_error(
                self,
                "dims",
                f"a permutation of 1..{len(dims)} (1-indexed, the batch axis excluded)",
                dims,
            )
        self.dims = dims
        self._order = (0, *dims)
        self.input_spec = InputSpec(ndim=len(dims) + 1)

    def call(self, inputs):
        return inputs.permute(self._order)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[i] for i in self._order)

    def get_config(self):
        return {**super().get_config(), "dims": self.dims}

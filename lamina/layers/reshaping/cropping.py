"""Cropping1D/2D/3D: cut ``(before, after)`` cells off each spatial axis
(``BaseCropping``). The output is a view of the input: nothing is copied."""

from __future__ import annotations

from lamina.layers.call_context import call_context
from lamina.layers.docs import fill_docs
from lamina.layers.spatial import SpatialLayer, normalize_pairs
from lamina.ops import shapes
from lamina.utils.validation import shape_error


class BaseCropping(SpatialLayer):
    """Base of the cropping layers (not public).

    Args:
        rank: number of spatial axes.
        cropping: Keras's spellings, see ``normalize_pairs``.
        data_format: as in the public classes.
    """

    def __init__(self, *, rank, cropping, data_format=None, **kwargs):
        super().__init__(rank=rank, data_format=data_format, **kwargs)
        self._pairs = normalize_pairs(self, "cropping", cropping, rank)
        self.cropping = self._pairs[0] if rank == 1 else self._pairs
        index = [slice(None)] * (rank + 2)
        for axis, (before, after) in zip(self._spatial_axes, self._pairs):
            index[axis] = slice(before, -after if after else None)
        self._index = tuple(index)
        self._checked_shape = None

    def build(self, input_shape):
        self._check_lengths(tuple(input_shape))

    def _check_lengths(self, input_shape) -> None:
        output_shape = self.compute_output_shape(input_shape)
        if any(n is not None and n <= 0 for n in self._spatial(output_shape)):
            raise shape_error(
                self,
                f"an input longer than cropping={self.cropping} on every cropped "
                f"axis {self._layout()}",
                input_shape,
            )

    def call(self, inputs):
        if inputs.shape != self._checked_shape:  # sizes unknown at build
            if call_context.symbolic:
                return inputs[self._probe_index(inputs.shape)]
            self._check_lengths(tuple(inputs.shape))
            self._checked_shape = inputs.shape
        return inputs[self._index]

    def _probe_index(self, shape):
        """The crop for the stand-in sizes of symbolic shape inference, which may
        be shorter than the cropping: such an (unknown) axis is left whole, so its
        size still follows the stand-in and is inferred as unknown."""
        index = list(self._index)
        for axis, (before, after) in zip(self._spatial_axes, self._pairs):
            if shape[axis] <= before + after:
                index[axis] = slice(None)
        return tuple(index)

    def compute_output_shape(self, input_shape):
        return self._map_spatial(input_shape, shapes.cropped_length, *zip(*self._pairs))

    def get_config(self):
        return self._config(cropping=self.cropping, data_format=self.data_format)


ARGS = {
    "cropping_nd": """cropping: an int (the same on every side), a tuple of {rank}
    ints (symmetric, per axis) or a tuple of {rank} ``(before, after)`` pairs.
    All >= 0.""",
    "cropped_length": """Same layout, each spatial length ``n`` becoming
``n - before - after``.""",
    "raises": """ValueError: at construction, a negative or malformed ``cropping``
    or an unknown ``data_format``; at build (or call, for sizes unknown at build),
    an input of the wrong rank or not longer than its cropping on some axis.""",
}


@fill_docs(ARGS)
class Cropping1D(BaseCropping):
    """Crops the steps of ``(batch, steps, features)`` inputs.

    Args:
        cropping: an int (both ends) or a ``(before, after)`` pair of ints >= 0
            (default ``(1, 1)``).
        {kwargs}

    Input shape:
        ``(batch, steps, features)``.

    Output shape:
        ``(batch, steps - before - after, features)``.

    Weights:
        None.

    Raises:
        {raises}

    Example:
    >>> import lamina as keras
    >>> keras.layers.Cropping1D((1, 2)).compute_output_shape((None, 10, 4))
    (None, 7, 4)
    """

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(
            rank=1, cropping=cropping, data_format="channels_last", **kwargs
        )


@fill_docs(ARGS)
class Cropping2D(BaseCropping):
    """Crops the rows and columns of images.

    Args:
        {cropping_nd}
            Default ``((0, 0), (0, 0))``.
        {data_format}
        {kwargs}

    Input shape:
        ``(batch, rows, cols, channels)``, or ``(batch, channels, rows, cols)`` for
        channels_first.

    Output shape:
        {cropped_length}

    Weights:
        None.

    Raises:
        {raises}

    Example:
    >>> import lamina as keras
    >>> layer = keras.layers.Cropping2D(((2, 2), (4, 4)))
    >>> layer.compute_output_shape((None, 28, 28, 3))
    (None, 24, 20, 3)
    """

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(rank=2, cropping=cropping, data_format=data_format, **kwargs)


@fill_docs(ARGS)
class Cropping3D(BaseCropping):
    """Crops the three spatial axes of volumes.

    Args:
        {cropping_nd}
            Default ``((1, 1), (1, 1), (1, 1))``.
        {data_format}
        {kwargs}

    Input shape:
        ``(batch, dim1, dim2, dim3, channels)``, or
        ``(batch, channels, dim1, dim2, dim3)`` for channels_first.

    Output shape:
        {cropped_length}

    Weights:
        None.

    Raises:
        {raises}

    Example:
    >>> import lamina as keras
    >>> layer = keras.layers.Cropping3D((1, 2, (0, 3)))
    >>> layer.compute_output_shape((None, 8, 8, 8, 2))
    (None, 6, 4, 5, 2)
    """

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(rank=3, cropping=cropping, data_format=data_format, **kwargs)

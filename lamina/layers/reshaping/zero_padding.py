"""ZeroPadding1D/2D/3D: add ``(before, after)`` zeros to each spatial axis
(``BaseZeroPadding``), one ``torch.nn.functional.pad`` call."""

from __future__ import annotations

import torch.nn.functional as F

from lamina.layers.docs import fill_docs
from lamina.layers.spatial import SpatialLayer, normalize_pairs
from lamina.ops import shapes


class BaseZeroPadding(SpatialLayer):
    """Base of the zero-padding layers (not public).

    Args:
        rank: number of spatial axes.
        padding: Keras's spellings, see ``normalize_pairs``.
        data_format: as in the public classes.
    """

    def __init__(self, *, rank, padding, data_format=None, **kwargs):
        super().__init__(rank=rank, data_format=data_format, **kwargs)
        self._pairs = normalize_pairs(self, "padding", padding, rank)
        self.padding = self._pairs[0] if rank == 1 else self._pairs
        # F.pad lists (before, after) from the last axis backwards.
        widths = tuple(width for pair in reversed(self._pairs) for width in pair)
        self._widths = (0, 0, *widths) if self._channels_last else widths

    def call(self, inputs):
        return F.pad(inputs, self._widths)

    def compute_output_shape(self, input_shape):
        return self._map_spatial(input_shape, shapes.padded_length, *zip(*self._pairs))

    def get_config(self):
        return self._config(padding=self.padding, data_format=self.data_format)


ARGS = {
    "padding_nd": """padding: an int (the same on every side), a tuple of {rank}
    ints (symmetric, per axis) or a tuple of {rank} ``(before, after)`` pairs.
    All >= 0.""",
    "padded_length": """Same layout, each spatial length ``n`` becoming
``before + n + after``.""",
    "raises": """ValueError: at construction, a negative or malformed ``padding``
    or an unknown ``data_format``; at build, an input of the wrong rank.""",
}


@fill_docs(ARGS)
class ZeroPadding1D(BaseZeroPadding):
    """Pads the steps of ``(batch, steps, features)`` inputs with zeros.

    Args:
        padding: an int (both ends) or a ``(before, after)`` pair of ints >= 0
            (default 1).
        {data_format}
        {kwargs}

    Input shape:
        ``(batch, steps, features)``, or ``(batch, features, steps)`` for
        channels_first.

    Output shape:
        {padded_length}

    Weights:
        None.

    Raises:
        {raises}

    Example:
    >>> import lamina as keras
    >>> x = keras.ops.convert_to_tensor([[[1.0], [2.0]]])
    >>> keras.layers.ZeroPadding1D((1, 2))(x)[0, :, 0].tolist()
    [0.0, 1.0, 2.0, 0.0, 0.0]
    """

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(rank=1, padding=padding, data_format=data_format, **kwargs)


@fill_docs(ARGS)
class ZeroPadding2D(BaseZeroPadding):
    """Pads the rows and columns of images with zeros.

    Args:
        {padding_nd}
            Default ``(1, 1)``.
        {data_format}
        {kwargs}

    Input shape:
        ``(batch, rows, cols, channels)``, or ``(batch, channels, rows, cols)`` for
        channels_first.

    Output shape:
        {padded_length}

    Weights:
        None.

    Raises:
        {raises}

    Example:
    >>> import lamina as keras
    >>> layer = keras.layers.ZeroPadding2D(((1, 0), (2, 3)))
    >>> layer.compute_output_shape((None, 4, 4, 3))
    (None, 5, 9, 3)
    """

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(rank=2, padding=padding, data_format=data_format, **kwargs)


@fill_docs(ARGS)
class ZeroPadding3D(BaseZeroPadding):
    """Pads the three spatial axes of volumes with zeros.

    Args:
        {padding_nd}
            Default ``((1, 1), (1, 1), (1, 1))``.
        {data_format}
        {kwargs}

    Input shape:
        ``(batch, dim1, dim2, dim3, channels)``, or
        ``(batch, channels, dim1, dim2, dim3)`` for channels_first.

    Output shape:
        {padded_length}

    Weights:
        None.

    Raises:
        {raises}

    Example:
    >>> import lamina as keras
    >>> layer = keras.layers.ZeroPadding3D(2, data_format="channels_first")
    >>> layer.compute_output_shape((None, 3, 4, 4, 4))
    (None, 3, 8, 8, 8)
    """

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(rank=3, padding=padding, data_format=data_format, **kwargs)

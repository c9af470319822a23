"""UpSampling1D/2D/3D: repeat (or, in 2D, interpolate) each spatial axis by an
integer factor (``BaseUpSampling``, computed by ``lamina.ops.resize.upsample``)."""

from __future__ import annotations

from lamina.layers.docs import fill_docs
from lamina.layers.spatial import SpatialLayer
from lamina.ops import resize, shapes
from lamina.utils.validation import check_choice, normalize_tuple


class BaseUpSampling(SpatialLayer):
    """Base of the upsampling layers (not public).

    Args:
        rank: number of spatial axes.
        size, data_format, interpolation: as in the public classes.
    """

    def __init__(
        self, *, rank, size, data_format=None, interpolation="nearest", **kwargs
    ):
        super().__init__(rank=rank, data_format=data_format, **kwargs)
        self.size = normalize_tuple(self, "size", size, rank)
        self.interpolation = check_choice(
            self, "interpolation", interpolation, resize.INTERPOLATIONS
        )

    def call(self, inputs):
        return resize.upsample(inputs, self.size, self.interpolation, self.data_format)

    def compute_output_shape(self, input_shape):
        return self._map_spatial(input_shape, shapes.upsampled_length, self.size)

    def get_config(self):
        return self._config(
            size=self.size[0] if self.rank == 1 else self.size,
            data_format=self.data_format,
            interpolation=self.interpolation,
        )


ARGS = {
    "upsampled_length": """Same layout, each spatial length ``n`` becoming
``n * size``.""",
    "raises": """ValueError: at construction, a size < 1, a tuple of the wrong
    length, an unknown ``data_format`` (or ``interpolation``); at build, an input
    of the wrong rank.""",
}


@fill_docs(ARGS)
class UpSampling1D(BaseUpSampling):
    """Repeats each step of ``(batch, steps, features)`` inputs ``size`` times.

    Args:
        size: int >= 1, the upsampling factor (default 2).
        {kwargs}

    Input shape:
        ``(batch, steps, features)``.

    Output shape:
        ``(batch, steps * size, features)``.

    Weights:
        None.

    Raises:
        {raises}

    Example:
    >>> import lamina as keras
    >>> x = keras.ops.convert_to_tensor([[[1.0], [2.0]]])
    >>> keras.layers.UpSampling1D(3)(x)[0, :, 0].tolist()
    [1.0, 1.0, 1.0, 2.0, 2.0, 2.0]
    """

    def __init__(self, size=2, **kwargs):
        super().__init__(rank=1, size=size, data_format="channels_last", **kwargs)


@fill_docs(ARGS)
class UpSampling2D(BaseUpSampling):
    """Upsamples the rows and columns of images by integer factors.

    Args:
        size: int or tuple of 2 ints >= 1, the factors for rows and columns
            (default ``(2, 2)``).
        {data_format}
        interpolation: how new cells are filled, with TensorFlow/JAX's resize
            semantics (half-pixel centres, no antialiasing):
            ``"nearest"`` (default) repeats each cell, as does ``"area"`` for
            integer factors; ``"bilinear"`` interpolates linearly between the
            nearest input centres (clamped at the edges); ``"bicubic"`` (Keys'
            kernel, a = -0.5), ``"lanczos3"`` and ``"lanczos5"`` weight a wider
            neighbourhood, leaving out taps beyond the edges and renormalizing.
            Keras 3's torch backend computes ``"bicubic"`` with torch's kernel
            (a = -0.75, clamped taps) and has neither Lanczos nor ``"area"``.
        {kwargs}

    Input shape:
        ``(batch, rows, cols, channels)``, or ``(batch, channels, rows, cols)`` for
        channels_first.

    Output shape:
        {upsampled_length}

    Weights:
        None.

    Raises:
        {raises}

    Example:
    >>> import lamina as keras
    >>> x = keras.ops.convert_to_tensor([[[[0.0], [4.0]]]])
    >>> layer = keras.layers.UpSampling2D((1, 2), interpolation="bilinear")
    >>> layer(x)[0, 0, :, 0].tolist()
    [0.0, 1.0, 3.0, 4.0]
    """

    def __init__(
        self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs
    ):
        super().__init__(
            rank=2,
            size=size,
            data_format=data_format,
            interpolation=interpolation,
            **kwargs,
        )


@fill_docs(ARGS)
class UpSampling3D(BaseUpSampling):
    """Repeats each cell of volumes ``size`` times along each spatial axis.

    Args:
        size: int or tuple of 3 ints >= 1, the factors (default ``(2, 2, 2)``).
        {data_format}
        {kwargs}

    Input shape:
        ``(batch, dim1, dim2, dim3, channels)``, or
        ``(batch, channels, dim1, dim2, dim3)`` for channels_first.

    Output shape:
        {upsampled_length}

    Weights:
        None.

    Raises:
        {raises}

    Example:
    >>> import lamina as keras
    >>> keras.layers.UpSampling3D((1, 2, 3)).compute_output_shape((None, 2, 2, 2, 4))
    (None, 2, 4, 6, 4)
    """

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(rank=3, size=size, data_format=data_format, **kwargs)

"""``BasePooling``: max or average pooling over ``rank`` spatial axes; the public
MaxPooling1D/2D/3D and AveragePooling1D/2D/3D only fix ``rank`` and the mode.

Differences from Keras 3, on purpose: ``padding`` and ``strides`` are validated at
construction (Keras accepts ``padding="full"`` and ``strides=0``); ``same``
average pooling leaves padded cells out of every window's count, as TensorFlow
and JAX do (Keras 3's torch backend counts replicated edge cells when the padding
is uneven, e.g. ``pool_size=3, strides=2`` on an even length).
"""

from __future__ import annotations

from lamina.layers.spatial import SpatialLayer
from lamina.ops import pooling, shapes
from lamina.utils.validation import check_choice, normalize_tuple, shape_error

POOL_MODES = ("max", "average")


class BasePooling(SpatialLayer):
    """Base of the windowed pooling layers (not public).

    Args:
        rank: number of spatial axes.
        pool_mode: ``"max"`` or ``"average"``.
        pool_size, strides, padding, data_format: as in the public classes.
    """

    def __init__(
        self,
        *,
        rank,
        pool_mode,
        pool_size,
        strides=None,
        padding="valid",
        data_format=None,
        **kwargs,
    ):
        super().__init__(rank=rank, data_format=data_format, **kwargs)
        self.pool_mode = check_choice(self, "pool_mode", pool_mode, POOL_MODES)
        self.pool_size = normalize_tuple(self, "pool_size", pool_size, rank)
        if strides is None:
            self.strides = self.pool_size
        else:
            self.strides = normalize_tuple(self, "strides", strides, rank)
        self.padding = check_choice(self, "padding", padding, ("valid", "same"))

    def build(self, input_shape):
        output_shape = self.compute_output_shape(input_shape)
        if any(n is not None and n <= 0 for n in self._spatial(output_shape)):
            raise shape_error(
                self,
                f"an input at least as large as pool_size={self.pool_size} on "
                f"every spatial axis {self._layout()} for padding='valid'",
                tuple(input_shape),
            )

    def call(self, inputs):
        return pooling.pool(
            inputs,
            self.pool_mode,
            self.pool_size,
            self.strides,
            self.padding,
            self._channels_last,
        )

    def _plan_runner(self, input_shape, training, torch_layout=False, guard=True):
        return pooling.pool_runner(
            input_shape,
            self.pool_mode,
            self.pool_size,
            self.strides,
            self.padding,
            self._channels_last,
            torch_layout,
            guard,
        )

    def _torch_layout_rank(self, input_shape):
        return pooling.torch_layout_rank(self.pool_mode, self.rank, self._channels_last)

    def _torch_layout_runner(self, input_shape, training, guard):
        return self._plan_runner(input_shape, training, True, guard)

    def compute_output_shape(self, input_shape):
        return self._map_spatial(
            input_shape,
            lambda n, k, s: shapes.pool_output_length(n, k, self.padding, s),
            self.pool_size,
            self.strides,
        )

    def get_config(self):
        return self._config(
            pool_size=self.pool_size,
            padding=self.padding,
            strides=self.strides,
            data_format=self.data_format,
        )


# Argument paragraphs shared by the public classes' docstrings (``fill_docs``).
ARGS = {
    "pool_size": """pool_size: int or tuple of {rank} ints, the window size.""",
    "strides": """strides: int, tuple of {rank} ints, or None (default: the
    window moves by ``pool_size``, i.e. windows do not overlap).""",
    "max_padding": """padding: ``"valid"`` (windows inside the input) or ``"same"``
    (``ceil(n / strides)`` windows; the input is extended by cells that never
    win, the extra one of an odd total at the end, as TensorFlow). Case-insensitive.""",
    "average_padding": """padding: ``"valid"`` (windows inside the input) or
    ``"same"`` (``ceil(n / strides)`` windows reaching past the input, the extra
    cell of an odd total at the end; each window averages only its cells inside
    the input, as TensorFlow and JAX. Keras 3's torch backend instead averages
    replicated edge cells when the extension is uneven). Case-insensitive.""",
    "pool_length": """Same layout, each spatial length ``n`` becoming
``ceil((n - pool_size + 1) / strides)`` for ``"valid"`` and ``ceil(n / strides)``
for ``"same"``.""",
    "raises": """ValueError: at construction, a size or stride < 1, a tuple of the
    wrong length (the message names the argument), an unknown ``padding`` or
    ``data_format``; at build, an input of the wrong rank or, for ``"valid"``,
    smaller than the window.""",
}

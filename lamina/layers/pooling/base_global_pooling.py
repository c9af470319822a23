"""``BaseGlobalPooling``: max or mean over all ``rank`` spatial axes; the public
GlobalMaxPooling1D/2D/3D and GlobalAveragePooling1D/2D/3D only fix ``rank`` and
the mode.

As in Keras, only GlobalAveragePooling1D honours a mask (``sum(x * m) / sum(m)``
over the steps). Difference from Keras 3, on purpose: a sample whose steps are all
masked gives 0 rather than NaN (0 / 0).
"""

from __future__ import annotations

from lamina.layers.spatial import SpatialLayer
from lamina.ops import pooling
from lamina.utils.validation import check_choice

GLOBAL_POOLS = {"max": pooling.global_max_pool, "average": pooling.global_average_pool}


class BaseGlobalPooling(SpatialLayer):
    """Base of the global pooling layers (not public).

    Args:
        rank: number of spatial axes.
        pool_mode: ``"max"`` or ``"average"``.
        data_format, keepdims: as in the public classes.
    """

    def __init__(self, *, rank, pool_mode, data_format=None, keepdims=False, **kwargs):
        super().__init__(rank=rank, data_format=data_format, **kwargs)
        self.pool_mode = check_choice(self, "pool_mode", pool_mode, tuple(GLOBAL_POOLS))
        self.keepdims = bool(keepdims)
        self._reduce = GLOBAL_POOLS[self.pool_mode]
        self.supports_masking = rank == 1 and self.pool_mode == "average"

    def call(self, inputs, mask=None):
        if mask is not None and self.supports_masking:
            return pooling.global_average_pool(
                inputs, self.data_format, self.keepdims, mask
            )
        return self._reduce(inputs, self.data_format, self.keepdims)

    def compute_mask(self, inputs, mask=None):
        return None  # the pooled axes, and with them the mask, are gone

    def compute_output_shape(self, input_shape):
        if self.keepdims:
            return self._map_spatial(input_shape, lambda n: 1)
        channels = input_shape[self._channel_axis]
        return (input_shape[0], channels)

    def get_config(self):
        return self._config(data_format=self.data_format, keepdims=self.keepdims)


ARGS = {
    "keepdims": """keepdims: keep the spatial axes, with length 1 (default False:
    the output is ``(batch, channels)``).""",
    "global_shape": """``(batch, channels)``; with ``keepdims``, the input shape with
every spatial length 1.""",
    "raises": """ValueError: at construction, an unknown ``data_format``; at build,
    an input of the wrong rank.""",
}

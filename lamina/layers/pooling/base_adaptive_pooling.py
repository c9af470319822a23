"""``BaseAdaptivePooling``: max or mean over a fixed number of bins per spatial
axis, whatever the input size; the public AdaptiveMaxPooling1D/2D/3D and
AdaptiveAveragePooling1D/2D/3D only fix ``rank`` and the mode.

Bin ``i`` of an axis of length ``n`` split into ``out`` bins covers cells
``floor(i * n / out)`` to ``ceil((i + 1) * n / out) - 1``: torch's rule, which
Keras 3 follows on every backend.
"""

from __future__ import annotations

from lamina.layers.pooling.base_pooling import POOL_MODES
from lamina.layers.spatial import SpatialLayer
from lamina.ops import pooling
from lamina.utils.validation import check_choice, normalize_tuple


class BaseAdaptivePooling(SpatialLayer):
    """Base of the adaptive pooling layers (not public).

    Args:
        rank: number of spatial axes.
        pool_mode: ``"max"`` or ``"average"``.
        output_size, data_format: as in the public classes.
    """

    def __init__(self, *, rank, pool_mode, output_size, data_format=None, **kwargs):
        super().__init__(rank=rank, data_format=data_format, **kwargs)
        self.pool_mode = check_choice(self, "pool_mode", pool_mode, POOL_MODES)
        self.output_size = normalize_tuple(self, "output_size", output_size, rank)

    def call(self, inputs):
        return pooling.adaptive_pool(
            inputs, self.pool_mode, self.output_size, self._channels_last
        )

    def compute_output_shape(self, input_shape):
        return self._map_spatial(input_shape, lambda n, out: out, self.output_size)

    def get_config(self):
        return self._config(output_size=self.output_size, data_format=self.data_format)


ARGS = {
    "output_size": """output_size: int or tuple of {rank} ints >= 1, the number of
    bins (output cells) per spatial axis.""",
    "adaptive_shape": """Same layout, each spatial length replaced by its
``output_size``.""",
    "raises": """ValueError: at construction, an ``output_size`` < 1 or a tuple of
    the wrong length, an unknown ``data_format``; at build, an input of the wrong
    rank.""",
}

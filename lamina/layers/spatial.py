"""``SpatialLayer``: the one base of the layers that work on the ``rank`` spatial
axes of ``(batch, *spatial, channels)`` or ``(batch, channels, *spatial)`` inputs
(convolutions, pooling, cropping, zero padding, upsampling, LocallyConnected,
SpatialDropout).

It validates ``data_format`` once, knows where the spatial and channel axes are,
expects inputs of rank ``rank + 2`` (a subclass taking other ranks overrides
``_input_spec``), applies per-axis length rules (from ``lamina.ops.shapes``) to
the spatial axes of a shape, and writes configs with the keys of the public
class's signature. ``normalize_pairs`` reads Keras's per-axis ``(before, after)``
arguments.
"""

from __future__ import annotations

import functools
import inspect

from lamina import config
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer
from lamina.utils.validation import arg_error, check_choice

DATA_FORMATS = ("channels_last", "channels_first")
SPATIAL_NAMES = {1: ("steps",), 2: ("rows", "cols"), 3: ("dim1", "dim2", "dim3")}


class SpatialLayer(Layer):
    """Base of the spatial layers (not public).

    Args:
        rank: number of spatial axes (1, 2 or 3).
        data_format: ``"channels_last"`` or ``"channels_first"``; default
            ``keras.config.image_data_format()``.
        **kwargs: passed on to the next base (``Layer``'s arguments).
    """

    def __init__(self, *, rank, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.rank = rank
        if data_format is None:
            data_format = config.image_data_format()
        self.data_format = check_choice(self, "data_format", data_format, DATA_FORMATS)
        self._channels_last = self.data_format == "channels_last"
        self._channel_axis = -1 if self._channels_last else 1
        first = 1 if self._channels_last else 2
        self._spatial_axes = tuple(range(first, first + rank))
        self.input_spec = self._input_spec()

    def _input_spec(self, axes=None) -> InputSpec:
        """Rank ``rank + 2`` (errors name the layout), with ``axes`` fixed once
        their sizes are known (build)."""
        return InputSpec(ndim=self.rank + 2, axes=axes, name=self._layout())

    def _layout(self) -> str:
        """``(batch, rows, cols, channels)``: the axes this layer expects."""
        spatial = SPATIAL_NAMES[self.rank]
        if self._channels_last:
            axes = ("batch", *spatial, "channels")
        else:
            axes = ("batch", "channels", *spatial)
        return f"({', '.join(axes)})"

    def _spatial(self, shape) -> tuple:
        return tuple(shape[axis] for axis in self._spatial_axes)

    def _map_spatial(self, shape, length_rule, *per_axis) -> tuple:
        """``shape`` with spatial length ``n`` of axis ``i`` replaced by
        ``length_rule(n, *(arg[i] for arg in per_axis))``."""
        shape = list(shape)
        for i, axis in enumerate(self._spatial_axes):
            shape[axis] = length_rule(shape[axis], *(arg[i] for arg in per_axis))
        return tuple(shape)

    def _config(self, **values) -> dict:
        """The base config plus those of ``values`` that the public class takes
        (e.g. Cropping1D has no ``data_format``)."""
        taken = _public_arguments(type(self))
        return {
            **super().get_config(),
            **{key: value for key, value in values.items() if key in taken},
        }


@functools.cache
def _public_arguments(cls) -> frozenset:
    return frozenset(inspect.signature(cls.__init__).parameters)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def normalize_pairs(owner, arg: str, value, rank: int) -> tuple:
    """Per-axis ``(before, after)`` pairs of ints >= 0 from Keras's spellings: an
    int (every side), a ``(before, after)`` pair (``rank == 1``), or a tuple of
    ``rank`` entries, each an int (both sides) or a pair."""
    if rank == 1:
        rule = "an int or a (before, after) pair of ints, all >= 0"
    else:
        rule = (
            f"an int, a tuple of {rank} ints or a tuple of {rank} (before, after) "
            "pairs of ints, all >= 0"
        )

    def pair(entry):
        if _is_int(entry):
            return entry, entry
        entry = tuple(entry)
        if len(entry) != 2 or not all(_is_int(v) for v in entry):
            raise ValueError
        return entry

    try:
        if _is_int(value):
            pairs = ((value, value),) * rank
        elif rank == 1:
            pairs = (pair(tuple(value)),)
        else:
            entries = tuple(value)
            if len(entries) != rank:
                raise ValueError
            pairs = tuple(pair(entry) for entry in entries)
    except (TypeError, ValueError):
        raise arg_error(owner, arg, rule, value) from None
    if any(v < 0 for p in pairs for v in p):
        raise arg_error(owner, arg, rule, value)
    return pairs

"""Which input cells each output position of a locally-connected layer reads, and
the index maps between tf.keras's three kernel layouts.

Vocabulary: a *position* ``p`` is an output location (row-major over the output's
spatial axes, ``P`` of them), a *tap* ``t`` a location inside the kernel window
(row-major, ``T = prod(kernel_size)``), a *cell* an input location (row-major,
``N`` of them), ``C`` input channels and ``O`` filters. With ``same`` padding some
taps of edge windows fall outside the input: those (position, tap) pairs are *dead*
and connect nothing.

The layouts (tf.keras 2's, so weights load both ways):

1. ``(P, T * C, O)``: one filter bank per position over its flattened patch, patch
   order ``(tap, channel)`` for channels_last and ``(channel, tap)`` for
   channels_first.
2. A dense kernel between the whole input and the whole output,
   ``(*in_spatial, C, *out_spatial, O)`` for channels_last and
   ``(C, *in_spatial, O, *out_spatial)`` for channels_first; only entries of live
   (cell, position) pairs are used (tf.keras multiplies by a fixed mask).
3. The live entries only, a vector ordered as tf.keras's sorted
   ``(output_index, input_index)`` pairs of the flattened output and input
   (``output_index`` over ``(*out_spatial, O)`` or ``(O, *out_spatial)``,
   ``input_index`` over ``(*in_spatial, C)`` or ``(C, *in_spatial)``): exactly the
   values of the CSR matrix ``(P * O, N * C)`` that maps inputs to outputs.

Everything here is built once per layer from NumPy index arithmetic on the small
``(P, T)`` table and broadcasting; nothing sorts the ``nnz`` connections.
"""

from __future__ import annotations

from functools import cached_property
from math import prod

import numpy as np
import torch

from lamina.ops import shapes


class Geometry:
    """The connectivity of one locally-connected layer on inputs of one shape."""

    def __init__(
        self,
        in_sizes,
        kernel_size,
        strides,
        padding: str,
        channels: int,
        filters: int,
        channels_first: bool,
    ):
        self.in_sizes = tuple(in_sizes)
        self.kernel_size = tuple(kernel_size)
        self.strides = tuple(strides)
        self.padding = padding
        self.channels = channels
        self.filters = filters
        self.channels_first = channels_first
        self.out_sizes = tuple(
            shapes.conv_output_length(n, k, padding, s)
            for n, k, s in zip(self.in_sizes, self.kernel_size, self.strides)
        )
        self.pads = tuple(
            shapes.local_padding_pair(n, k, padding, s)
            for n, k, s in zip(self.in_sizes, self.kernel_size, self.strides)
        )
        self.positions = prod(self.out_sizes)
        self.taps = prod(self.kernel_size)
        self.cells = prod(self.in_sizes)
        self._value_index = {}

    # ------------------------------------------------------------ the tables
    @cached_property
    def cell_table(self) -> np.ndarray:
        """``(P, T)``: the input cell each tap of each window reads, -1 if dead."""
        rank = len(self.in_sizes)
        cell = np.zeros((1,) * (2 * rank), dtype=np.int64)
        live = np.ones((1,) * (2 * rank), dtype=bool)
        for axis, (n, k, s, (before, _)) in enumerate(
            zip(self.in_sizes, self.kernel_size, self.strides, self.pads)
        ):
            m = self.out_sizes[axis]
            coord = np.arange(m)[:, None] * s - before + np.arange(k)[None, :]
            shape = [1] * (2 * rank)
            shape[axis], shape[rank + axis] = m, k
            coord = coord.reshape(shape)
            live = live & (coord >= 0) & (coord < n)
            cell = cell * n + coord
        full = (*self.out_sizes, *self.kernel_size)
        cell = np.broadcast_to(cell, full).reshape(self.positions, self.taps)
        live = np.broadcast_to(live, full).reshape(self.positions, self.taps)
        return np.where(live, cell, -1)

    @cached_property
    def live_pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(position, tap, cell)`` of every live pair, in (position, tap) order."""
        position, tap = np.nonzero(self.cell_table >= 0)
        return position, tap, self.cell_table[position, tap]

    @cached_property
    def mask(self) -> np.ndarray:
        """``(N, P)`` bool: the cells each position reads (tf.keras's kernel mask)."""
        mask = np.zeros((self.cells, self.positions), dtype=bool)
        position, _, cell = self.live_pairs
        mask[cell, position] = True
        return mask

    @property
    def all_live(self) -> bool:
        return len(self.live_pairs[0]) == self.positions * self.taps

    # ------------------------------------------------------------ shapes
    def kernel_shape(self, layout: int) -> tuple[int, ...]:
        c, o, n, m = self.channels, self.filters, self.in_sizes, self.out_sizes
        if layout == 1:
            return self.positions, self.taps * c, o
        if layout == 2:
            return (c, *n, o, *m) if self.channels_first else (*n, c, *m, o)
        return (len(self.live_pairs[0]) * c * o,)

    @property
    def bias_shape(self) -> tuple[int, ...]:
        return (*self.out_sizes, self.filters)

    def output_shape(self, batch) -> tuple:
        if self.channels_first:
            return (batch, self.filters, *self.out_sizes)
        return (batch, *self.out_sizes, self.filters)

    def mask_shape(self) -> tuple[int, ...]:
        """The broadcastable shape of ``mask`` against the layout-2 kernel."""
        n, m = self.in_sizes, self.out_sizes
        return (1, *n, 1, *m) if self.channels_first else (*n, 1, *m, 1)

    # ------------------------------------------------ layout conversions
    def convert(self, kernel, source: int, target: int, index: dict):
        """A kernel in layout ``source`` in layout ``target``, through layout 3 (the
        live weights): a gather, then a copy into zeros. Differentiable, and the
        gradient comes back in the source's own (contiguous) layout."""
        if source == target:
            return kernel
        values = kernel if source == 3 else kernel.reshape(-1)[index[source]]
        if target == 3:
            return values
        shape = self.kernel_shape(target)
        return (
            kernel.new_zeros(prod(shape))
            .index_copy(0, index[target], values)
            .view(shape)
        )

    def index(self, *layouts: int, device=None) -> dict:
        """What ``convert`` needs between ``layouts``: ``{layout: value_index}``
        as tensors, for layouts 1 and 2."""
        return {
            layout: torch.from_numpy(self.value_index(layout)).to(device)
            for layout in set(layouts) - {3}
        }

    # ------------------------------------------------ the sparse matrices
    @cached_property
    def _pair_facts(self):
        """Per live pair: its rank among its position's live taps; per position: the
        number of live taps."""
        position, _, _ = self.live_pairs
        live_count = np.bincount(position, minlength=self.positions)
        first = np.concatenate(([0], np.cumsum(live_count)[:-1]))
        rank = np.arange(len(position)) - first[position]
        return rank, live_count, first

    def _entries(self):
        """The CSR matrix ``(P * O, N * C)`` that maps flat inputs to flat outputs,
        built from per-position blocks: ``crow``, each entry's block element, the
        blocks' (pair, channel) elements and each row's filter."""
        position, _, _ = self.live_pairs
        rank, live_count, first = self._pair_facts
        c, o, p = self.channels, self.filters, self.positions
        pair, channel = np.arange(len(position)), np.arange(c)
        if self.channels_first:  # row (filter, position), entries (channel, tap)
            pair, channel = np.tile(pair, c), np.repeat(channel, len(pair))
            order = np.lexsort((rank[pair], channel, position[pair]))
            pair, channel = pair[order], channel[order]
            row_position, row_filter = (
                np.tile(np.arange(p), o),
                np.repeat(np.arange(o), p),
            )
        else:  # row (position, filter), entries (tap, channel)
            pair, channel = np.repeat(pair, c), np.tile(channel, len(position))
            row_position, row_filter = (
                np.repeat(np.arange(p), o),
                np.tile(np.arange(o), p),
            )
        crow, entry = _expand(row_position, live_count * c, first * c)
        return crow, entry, pair, channel, row_filter

    @cached_property
    def sparse_structure(self) -> tuple[np.ndarray, np.ndarray]:
        """``(crow, col)`` of the CSR matrix whose values in order are layout 3."""
        crow, entry, pair, channel, _ = self._entries()
        cell = self.live_pairs[2][pair]
        if self.channels_first:
            return crow, (channel * self.cells + cell)[entry]
        return crow, (cell * self.channels + channel)[entry]

    def value_index(self, layout: int) -> np.ndarray:
        """Per layout-3 value, its flat index in a layout-1 or layout-2 kernel."""
        if layout not in self._value_index:
            crow, entry, pair, channel, row_filter = self._entries()
            filt = np.repeat(row_filter, np.diff(crow))
            position, tap, cell = (a[pair] for a in self.live_pairs)
            c, o, t, n, p = (
                self.channels,
                self.filters,
                self.taps,
                self.cells,
                self.positions,
            )
            first = self.channels_first
            if layout == 1 and first:  # (P, C, T, O)
                block, step = ((position * c + channel) * t + tap) * o, 1
            elif layout == 1:  # (P, T, C, O)
                block, step = ((position * t + tap) * c + channel) * o, 1
            elif first:  # (C, N, O, P)
                block, step = (channel * n + cell) * o * p + position, p
            else:  # (N, C, P, O)
                block, step = ((cell * c + channel) * p + position) * o, 1
            self._value_index[layout] = block[entry] + filt * step
        return self._value_index[layout]

    @cached_property
    def transposed_structure(self):
        """The CSR transpose ``(N * C, P * O)``: ``(crow, col, perm)`` with
        ``perm`` the position of each of its values among the layout-3 values."""
        position, _, cell = self.live_pairs
        rank, live_count, _ = self._pair_facts
        crow3 = self.sparse_structure[0]
        c, o, n, p = self.channels, self.filters, self.cells, self.positions
        by_cell = np.lexsort((position, cell))  # windows reading a cell, by position
        group = np.bincount(cell, minlength=n)
        group_first = np.concatenate(([0], np.cumsum(group)[:-1]))
        pair = np.repeat(by_cell, o)
        filt = np.tile(np.arange(o), len(by_cell))
        if self.channels_first:  # row (channel, cell), entries (filter, position)
            order = np.lexsort((position[pair], filt, cell[pair]))
            pair, filt = pair[order], filt[order]
            block_col = filt * p + position[pair]
            block_base = crow3[filt * p + position[pair]] + rank[pair]
            block_step = live_count[position[pair]]
            row_cell, row_channel = np.tile(np.arange(n), c), np.repeat(np.arange(c), n)
        else:  # row (cell, channel), entries (position, filter)
            block_col = position[pair] * o + filt
            block_base = crow3[position[pair] * o + filt] + rank[pair] * c
            block_step = None  # 1
            row_cell, row_channel = np.repeat(np.arange(n), c), np.tile(np.arange(c), n)
        crow, entry = _expand(row_cell, group * o, group_first * o)
        perm = np.repeat(row_channel, np.diff(crow))
        if block_step is not None:
            perm *= block_step[entry]
        perm += block_base[entry]
        return crow, block_col[entry], perm


def _expand(row_block, block_length, block_first):
    """CSR rows whose entries are contiguous blocks of a per-block array: row ``r``
    holds block ``row_block[r]``. Returns ``crow`` and, per entry, its index in the
    block array."""
    lengths = block_length[row_block]
    crow = np.zeros(len(row_block) + 1, dtype=np.int64)
    np.cumsum(lengths, out=crow[1:])
    shift = np.repeat(block_first[row_block] - crow[:-1], lengths)
    shift += np.arange(crow[-1])
    return crow, shift

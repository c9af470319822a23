"""The three ways to compute a locally-connected layer, one class each.

A strategy is chosen once, in ``build``, and holds what it needs (index buffers,
masks) as non-persistent buffers so ``.to(device)`` moves them. Its ``forward(x,
kernel, bias)`` takes the kernel in the layout the layer stores and returns the
biased, pre-activation output.

- ``PatchMatmul`` (implementation 1's): the patches gathered by one
  ``index_select`` (im2col), then one batched matmul over positions with the bias
  fused (``baddbmm``). Memory-light, few ops.
- ``DenseMatmul`` (implementation 2's): the flat input times the masked dense
  kernel ``(N * C, P * O)``: one ``addmm``. ``N / T`` times the work of the
  windows; worth it only for small layers.
- ``SparseMatmul`` (implementation 3's): one CSR sparse-dense matmul; its backward
  is two more sparse products (the transposed CSR for the input gradient, a
  sampled dense-dense product for the values) on structures built in ``build``.

A strategy may compute from another layout than its own: ``Geometry.convert``
gathers the live weights on each call, differentiably (``CANDIDATES`` says which
strategies each implementation may use; ``choose`` picks by ``predicted_costs``).
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
import torch.nn.functional as F

from lamina.layers.locally_connected.connectivity import Geometry

# torch announces once per process that CSR tensors are "beta"; they are what
# implementation 3 is, so the notice is noise to lamina's users.
warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")

try:  # shape inference runs `call` on fake tensors, which sparse kernels reject
    from torch._subclasses.fake_tensor import is_fake
except ImportError:  # pragma: no cover - older torch

    def is_fake(x) -> bool:
        return False


class Strategy(torch.nn.Module):
    """One way of computing the layer for one ``Geometry``. ``layout`` is the
    kernel layout the layer stores; where it is not the strategy's own
    (``native_layout``), ``operand`` converts the kernel on each call
    (differentiably: a gather or a scatter)."""

    native_layout = 1

    def __init__(self, geometry: Geometry, layout: int):
        super().__init__()
        self.geometry = geometry
        self.layout = layout
        self.index_layouts = ()
        if layout != self.native_layout:
            index = geometry.index(layout, self.native_layout)
            for key, tensor in index.items():
                self._buffer(f"index_{key}", tensor)
            self.index_layouts = tuple(index)

    def extra_repr(self) -> str:
        return f"stored_layout={self.layout}"

    def _buffer(self, name: str, array) -> None:
        self.register_buffer(name, torch.as_tensor(array), persistent=False)

    def operand(self, kernel):
        """The kernel in this strategy's own layout."""
        if self.layout == self.native_layout:
            return kernel
        index = {key: getattr(self, f"index_{key}") for key in self.index_layouts}
        return self.geometry.convert(kernel, self.layout, self.native_layout, index)

    def _flat_output(self, flat: torch.Tensor) -> torch.Tensor:
        return flat.reshape(self.geometry.output_shape(flat.shape[0]))


class PatchMatmul(Strategy):
    """Implementation 1: gather the patches (im2col), one batched matmul."""

    def __init__(self, geometry: Geometry, layout: int = 1):
        super().__init__(geometry, layout)
        cells = geometry.cell_table.reshape(-1)
        self.pad_cell = not geometry.all_live  # dead taps read an appended zero
        self._buffer("cells", np.where(cells < 0, geometry.cells, cells))

    def patches(self, x):
        """``(P, B, patch)``; channels_last patches are a strided view (no copy)."""
        geometry, batch = self.geometry, x.shape[0]
        first = geometry.channels_first
        flat = (
            x.reshape(batch, geometry.channels, -1)
            if first
            else x.reshape(batch, geometry.cells, geometry.channels)
        )
        if self.pad_cell:
            flat = F.pad(flat, (0, 1) if first else (0, 0, 0, 1))
        shape = (geometry.positions, geometry.taps)
        if first:  # (B, C, P, T) -> (P, B, C * T): one copy
            gathered = flat.index_select(2, self.cells).reshape(batch, -1, *shape)
            return gathered.permute(2, 0, 1, 3).reshape(shape[0], batch, -1)
        gathered = flat.index_select(1, self.cells)
        return gathered.reshape(batch, shape[0], -1).transpose(0, 1)

    def bias_view(self, bias):
        """The bias as ``(P, 1, O)``. With channels_first tf.keras adds the bias
        buffer reshaped (not transposed) to ``(O, *out)``; so do we."""
        positions, filters = self.geometry.positions, self.geometry.filters
        if self.geometry.channels_first:
            return bias.reshape(filters, positions).t().unsqueeze(1)
        return bias.reshape(positions, 1, filters)

    def forward(self, x, kernel, bias):
        patches, kernel = self.patches(x), self.operand(kernel)
        if bias is None:
            out = torch.bmm(patches, kernel)
        else:
            out = torch.baddbmm(self.bias_view(bias), patches, kernel)
        if out.requires_grad:
            # The output gradient arrives batch-major; torch's bmm backward would
            # then fall back to one small matmul per position.
            out.register_hook(torch.Tensor.contiguous)
        order = (1, 2, 0) if self.geometry.channels_first else (1, 0, 2)
        return self._flat_output(out.permute(order))


class DenseMatmul(Strategy):
    """Implementation 2: one matmul of the flat input with the masked dense kernel."""

    native_layout = 2

    def __init__(self, geometry: Geometry, layout: int = 2):
        super().__init__(geometry, layout)
        if layout == 2:
            self._buffer("mask", geometry.mask.reshape(geometry.mask_shape()))
        self.matrix_shape = (
            geometry.cells * geometry.channels,
            geometry.positions * geometry.filters,
        )

    def operand(self, kernel):
        """The ``(N * C, P * O)`` matrix, zero where nothing connects (tf.keras
        keeps whatever its initializer drew there, and masks it each call)."""
        dense = kernel * self.mask if self.layout == 2 else super().operand(kernel)
        return dense.reshape(self.matrix_shape)

    def forward(self, x, kernel, bias):
        flat, matrix = x.reshape(x.shape[0], -1), self.operand(kernel)
        if bias is None:
            return self._flat_output(flat @ matrix)
        # channels_first: tf.keras's bias buffer read as (O, *out), i.e. flat as is.
        return self._flat_output(torch.addmm(bias.reshape(-1), flat, matrix))


class SparseMatmul(Strategy):
    """Implementation 3: one CSR sparse matmul with the live weights as values."""

    native_layout = 3

    def __init__(self, geometry: Geometry, layout: int = 3):
        super().__init__(geometry, layout)
        crow, col = geometry.sparse_structure
        tcrow, tcol, perm = geometry.transposed_structure
        for name, array in dict(
            crow=crow, col=col, tcrow=tcrow, tcol=tcol, perm=perm
        ).items():
            self._buffer(name, array)
        self.matrix_shape = (
            geometry.positions * geometry.filters,
            geometry.cells * geometry.channels,
        )

    def forward(self, x, kernel, bias):
        batch = x.shape[0]
        if is_fake(x) or x.device.type == "meta":  # shape inference only
            return x.new_empty(self.geometry.output_shape(batch))
        values = self.operand(kernel)
        # torch has no half-precision CSR matmul on CPU: mixed precision runs this
        # strategy in the weights' dtype.
        flat = x.reshape(batch, -1).to(values.dtype)
        flat = _CsrMatmul.apply(values, flat, self)
        if bias is not None:
            flat = flat + bias.reshape(-1)
        return self._flat_output(flat.to(x.dtype))

    def matrix(self, values):
        return torch.sparse_csr_tensor(
            self.crow, self.col, values, self.matrix_shape, check_invariants=False
        )

    def transposed(self, values):
        return torch.sparse_csr_tensor(
            self.tcrow,
            self.tcol,
            values[self.perm],
            self.matrix_shape[::-1],
            check_invariants=False,
        )


class _CsrMatmul(torch.autograd.Function):
    """``x @ S.T`` for the CSR matrix ``S`` of ``values``; backward by the
    transposed CSR (input) and a sampled dense-dense product (values)."""

    @staticmethod
    def forward(ctx, values, flat, strategy):
        ctx.save_for_backward(values, flat)
        ctx.strategy = strategy
        with torch.autocast(flat.device.type, enabled=False):
            return (strategy.matrix(values) @ flat.t()).t()

    @staticmethod
    def backward(ctx, grad):
        values, flat = ctx.saved_tensors
        with torch.autocast(flat.device.type, enabled=False):
            return _CsrMatmul._backward(ctx, values.detach(), flat, grad)

    @staticmethod
    def _backward(ctx, values, flat, grad):
        strategy = ctx.strategy
        grad_values = grad_flat = None
        if ctx.needs_input_grad[0]:
            pattern = strategy.matrix(values)
            sampled = torch.sparse.sampled_addmm(pattern, grad.t(), flat, beta=0.0)
            grad_values = sampled.values()
        if ctx.needs_input_grad[1]:
            grad_flat = (strategy.transposed(values) @ grad.t()).t()
        return grad_values, grad_flat, None


STRATEGIES = {1: PatchMatmul, 2: DenseMatmul, 3: SparseMatmul}


# --------------------------------------------------------------------- auto
# Predicted forward+backward microseconds of each strategy, fitted on float32 CPU
# runs (one thread, batch 32) of 13 layer shapes; only the ranking matters.
NOMINAL_BATCH = 32


def predicted_costs(geometry: Geometry, batch: int = NOMINAL_BATCH) -> dict:
    """Model of each strategy's cost: a fixed overhead, plus per strategy
    1: gathering ``B * P * T`` rows of ``C`` values and the batched matmul;
    2: the dense matmul and building the ``(N * C, P * O)`` matrix;
    3: the sparse matmuls, linear in the ``nnz`` live weights."""
    g = geometry
    window_rows = batch * g.positions * g.taps
    macs1 = batch * g.positions * g.taps * g.channels * g.filters
    dense = g.cells * g.channels * g.positions * g.filters
    nnz = g.kernel_shape(3)[0]
    return {
        1: 150
        + window_rows * (0.008 + 0.001 * g.channels)
        + 7e-5 * macs1
        + 0.2 * g.positions,
        2: 160 + 6e-5 * batch * dense + 0.004 * dense,
        3: 250 + 5e-4 * batch * nnz,
    }


def conversion_cost(geometry: Geometry, layout: int, compute: int) -> float:
    """Extra microseconds for a strategy computing from another layout: gathering
    the layout-1 kernel (and scattering its gradient back), plus creating a
    dense kernel or its dense gradient where layout 2 is involved."""
    if layout == compute:
        return 0.0
    g = geometry
    cost = 0.002 * g.positions * g.taps * g.channels * g.filters
    if 2 in (layout, compute):
        cost += 0.003 * g.cells * g.channels * g.positions * g.filters
    return cost


# The strategies each implementation may compute with, on its stored layout.
# 1 and 3 are tf.keras's own computations. 2 is the masked dense matmul, or, where
# the dense product would mostly multiply zeros, implementation 1's batched matmul
# over the kernel's live blocks (tf.keras's implementation 2 skips the zeros too,
# with a sparsity-aware matmul). "auto" stores layout 1 and may use any of them.
CANDIDATES = {1: (1,), 2: (2, 1), 3: (3,), "auto": (1, 2, 3)}


def choose(geometry: Geometry, layout: int = 1, candidates=(1, 2, 3)) -> int:
    """The strategy predicted fastest among ``candidates`` for a kernel stored in
    ``layout``."""
    costs = predicted_costs(geometry)
    return min(
        candidates,
        key=lambda c: costs[c] + conversion_cost(geometry, layout, c),
    )

"""keras.ops cases (forward calls, no layers): the ops added with issue 11 whose
lamina formulation differs from Keras 3's torch backend.

- ``ops_cdist``: torch's fused ``cdist`` (exact differences) vs Keras's broadcast
  ``(P, R, M)`` difference tensor.
- ``ops_associative_scan``: a prefix sum of 4096 x 256 by the parallel prefix
  algorithm; the baseline is ``torch.cumsum``.
- ``ops_segment_max``: one ``scatter_reduce`` vs Keras's float32 round trip.
- ``ops_extract_patches``: strided views (``Tensor.unfold``) vs Keras's
  convolution with an identity kernel; the baseline is ``F.unfold``.
- ``ops_affine_transform``: one batched bilinear sampler vs Keras's per-image
  ``map_coordinates``; the baseline is ``F.grid_sample`` (same numbers for
  ``fill_value=0``).
- ``ops_istft``: both call ``torch.istft`` (the baseline) when frames and FFT
  have the same length.

Inputs are integers stored as float32 where sums are compared, so every
implementation computes them exactly.
"""

from __future__ import annotations

import keras
import numpy as np
import torch
import torch.nn.functional as F

import lamina
from bench.registry import Case, Workload, register

FRAMEWORKS = {"lamina": lamina, "keras": keras}


def _op_case(name, setup, call, torch_call):
    """Register ``name``: ``call(ops, *inputs)`` with lamina's and Keras's ops,
    ``torch_call(*inputs)`` for plain PyTorch; inputs are torch tensors."""

    def framework(impl):
        def build(w: Workload):
            inputs = [torch.tensor(v) for v in w["inputs"]]  # Keras edits some in place
            ops = FRAMEWORKS[impl].ops
            return lambda: call(ops, *inputs)

        return build

    def plain(w: Workload):
        inputs = [torch.tensor(v) for v in w["inputs"]]  # Keras edits some in place
        return lambda: torch_call(*inputs)

    register(
        Case(
            name=name,
            setup=setup,
            lamina=framework("lamina"),
            keras=framework("keras"),
            torch=plain,
        )
    )


def _inputs(*arrays):
    return lambda rng: {"inputs": [a(rng) for a in arrays]}


def _normal(*shape):
    return lambda rng: rng.standard_normal(shape, dtype=np.float32)


def _integers(*shape, high=4):
    return lambda rng: rng.integers(0, high, shape).astype(np.float32)


_op_case(
    "ops_cdist",
    _inputs(_normal(16, 256, 64), _normal(16, 256, 64)),
    lambda ops, x, y: ops.cdist(x, y),
    lambda x, y: torch.cdist(x, y, compute_mode="donot_use_mm_for_euclid_dist"),
)

_op_case(
    "ops_associative_scan",
    _inputs(_integers(4096, 256)),
    lambda ops, x: ops.associative_scan(torch.add, x, axis=0),
    lambda x: torch.cumsum(x, dim=0),
)

_SEGMENTS = 512
_op_case(
    "ops_segment_max",
    _inputs(
        _normal(65536, 32),
        lambda rng: np.sort(rng.integers(0, _SEGMENTS, 65536)).astype(np.int32),
    ),
    lambda ops, x, ids: ops.segment_max(x, ids, num_segments=_SEGMENTS),
    lambda x, ids: torch.full((_SEGMENTS, 32), float("-inf")).scatter_reduce(
        0, ids.long()[:, None].expand_as(x), x, "amax", include_self=False
    ),
)


def _patches_torch(images):
    nchw = images.permute(0, 3, 1, 2)
    n, c, h, w = nchw.shape
    cols = F.unfold(nchw, 3, stride=2)  # (N, C * 9, L), ordered (c, kh, kw)
    cols = cols.reshape(n, c, 9, -1).permute(0, 3, 2, 1).reshape(n, -1, 9 * c)
    return cols.reshape(n, (h - 3) // 2 + 1, (w - 3) // 2 + 1, 9 * c)


_op_case(
    "ops_extract_patches",
    _inputs(_normal(16, 64, 64, 8)),
    lambda ops, x: ops.image.extract_patches(x, 3, strides=2),
    _patches_torch,
)

_ROTATION = np.float32([0.9, -0.3, 6.0, 0.3, 0.9, -4.0, 0.0, 0.0])


def _grid_sample(images, transform):
    # Output pixel (x, y) reads the input at (a0 x + a1 y + a2, b0 x + b1 y + b2).
    n, h, w, _ = images.shape
    a0, a1, a2, b0, b1, b2 = transform[0, :6].tolist()
    ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    cols, rows = a0 * xs + a1 * ys + a2, b0 * xs + b1 * ys + b2
    grid = torch.stack([2 * cols / (w - 1) - 1, 2 * rows / (h - 1) - 1], -1)
    out = F.grid_sample(
        images.permute(0, 3, 1, 2),
        grid.expand(n, h, w, 2).float(),
        mode="bilinear",
        padding_mode="zeros",
        align_corners=True,
    )
    return out.permute(0, 2, 3, 1)


_op_case(
    "ops_affine_transform",
    _inputs(_normal(8, 64, 64, 3), lambda rng: np.tile(_ROTATION, (8, 1))),
    lambda ops, x, t: ops.image.affine_transform(x, t, data_format="channels_last"),
    _grid_sample,
)

_FRAMES, _FFT, _HOP = 512, 512, 128
_op_case(
    "ops_istft",
    _inputs(_normal(8, 64, _FFT // 2 + 1), _normal(8, 64, _FFT // 2 + 1)),
    lambda ops, re, im: ops.istft((re, im), _FRAMES, _HOP, _FFT),
    lambda re, im: torch.istft(
        torch.complex(re, im).transpose(-1, -2),
        _FFT,
        _HOP,
        _FRAMES,
        window=torch.hann_window(_FRAMES),
        center=True,
    ),
)

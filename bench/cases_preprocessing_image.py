"""Image augmentation throughput: ``RandomFlip`` + ``RandomRotation`` +
``RandomZoom`` (training, bilinear, reflect fill) on a batch of images.

The registered case is small, (8, 64, 64, 3), so the smoke test stays light;
the issue's figure, (64, 224, 224, 3), is ``python -m
bench.cases_preprocessing_image`` (images per second for each implementation,
interleaved) or ``LAMINA_BENCH_LARGE=1`` in ``bench/run.py``.

The draws differ between implementations, so the check compares shapes, dtypes
and value ranges; the arithmetic is checked exactly against Keras with shared
transformations in tests/cases_preprocessing_image.py. The torch baseline is
the same pipeline hand-written: one ``torch.where`` flip, then rotation and zoom
folded into one ``affine_grid`` + ``grid_sample`` (reflection padding).

Measured on this 2-core machine by ``python -m bench.cases_preprocessing_image
3`` (one call each, interleaved, three rounds), (64, 224, 224, 3), load ~12:

    lamina  12.3-13.9 s/batch   ~5 images/s
    keras   144-223 s/batch     ~0.4 images/s    lamina/keras 0.06-0.09x
    torch   1.1-1.3 s/batch     ~50 images/s     lamina/torch 9.5-11x

That lamina sampled ``reflect`` by four gathers per pixel. Since 2026-12-03
``reflect`` and ``mirror`` run on ``grid_sample``'s reflection padding (equal to
the per-tap formula: tests/test_ops.py) and the sampling positions are
broadcast from per-row and per-column terms; lamina vs torch in one run, load
3-5 (lamina's rotation and zoom are two resamplings, the baseline folds them
into one):

    lamina  0.49-0.81 s/batch   79-131 images/s
    torch   0.28-0.60 s/batch   107-232 images/s  lamina/torch 1.3-2.3x
"""

from __future__ import annotations

import math
import os
import sys
import time

import keras
import numpy as np
import torch
import torch.nn.functional as F

import lamina
from bench.registry import Case, CaseMismatch, register

SMALL = (8, 64, 64, 3)
LARGE = (64, 224, 224, 3)


def _setup(shape):
    def setup(rng: np.random.Generator):
        return {"images": rng.uniform(0, 255, size=shape).astype("float32")}

    return setup


def _pipeline_step(k):
    def build(workload):
        flip = k.layers.RandomFlip(seed=1)
        rotate = k.layers.RandomRotation(0.1, seed=2)
        zoom = k.layers.RandomZoom(0.2, seed=3)
        images = torch.from_numpy(workload["images"])

        def step():
            return zoom(rotate(flip(images, training=True), training=True),
                        training=True)  # fmt: skip

        return step

    return build


def torch_pipeline(workload):
    images = torch.from_numpy(workload["images"])
    generator = torch.Generator().manual_seed(0)

    def step():
        batch = images.shape[0]
        x = images.permute(0, 3, 1, 2)
        flips = torch.rand(batch, 1, 1, 1, generator=generator) <= 0.5
        x = torch.where(flips, x.flip(-1).flip(-2), x)
        angle = (torch.rand(batch, generator=generator) * 0.2 - 0.1) * 2 * math.pi
        scale = 1 + (torch.rand(batch, generator=generator) * 0.4 - 0.2)
        cos, sin = torch.cos(angle) * scale, torch.sin(angle) * scale
        zeros = torch.zeros_like(cos)
        theta = torch.stack([torch.stack([cos, -sin, zeros], 1),
                             torch.stack([sin, cos, zeros], 1)], 1)  # fmt: skip
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        x = F.grid_sample(x, grid, "bilinear", "reflection", align_corners=False)
        return x.permute(0, 2, 3, 1)

    return step


def same_shapes(workload, outputs):
    """Random draws differ: shapes, dtypes and the value range must agree."""
    images = workload["images"]
    for impl, (out,) in outputs.items():
        if out.shape != images.shape or out.dtype != images.dtype:
            raise CaseMismatch(f"{impl} returned {out.dtype}{out.shape}")
        if out.min() < images.min() - 1e-3 or out.max() > images.max() + 1e-3:
            raise CaseMismatch(f"{impl}'s values leave the input range")


def _case(name, shape):
    return Case(name, _setup(shape), _pipeline_step(lamina), torch_pipeline,
                _pipeline_step(keras), check=same_shapes)  # fmt: skip


register(_case("augment_flip_rotate_zoom_8x64", SMALL))
if os.environ.get("LAMINA_BENCH_LARGE", "") not in ("", "0"):
    register(_case("augment_flip_rotate_zoom_64x224", LARGE))


def main() -> None:
    """Images per second on (64, 224, 224, 3): one call per implementation per
    round, interleaved (a batch takes seconds: no repeat loops)."""
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    workload = _setup(LARGE)(np.random.default_rng(0))
    steps = {
        "lamina": _pipeline_step(lamina)(workload),
        "keras": _pipeline_step(keras)(workload),
        "torch": torch_pipeline(workload),
    }
    for round_ in range(rounds):
        for impl, step in steps.items():
            start = time.perf_counter()
            step()
            elapsed = time.perf_counter() - start
            print(f"round {round_} {impl:>6}: {elapsed:7.2f} s/batch, "
                  f"{LARGE[0] / elapsed:6.1f} images/s", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()

"""What a benchmark case is, the registry of cases, and the output check.

A case is data: a ``setup`` that draws the NumPy inputs and weights once, and one
builder per implementation that turns them into a ``step``, the zero-argument callable
that is timed. Every step returns its outputs, and before anything is timed the outputs
of all implementations are checked against each other: a benchmark of wrong code is
worthless.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

# torch_cl: plain PyTorch with channels_last activations and weights, for the
# cases where that layout is PyTorch's fastest (convolutional models)
IMPLEMENTATIONS = ("lamina", "keras", "torch", "torch_cl")

Workload = dict[str, Any]  # NumPy inputs and weights, shared by all implementations
Step = Callable[[], Any]  # one timed call; returns its outputs for the check
Builder = Callable[[Workload], Step]
Check = Callable[[Workload, dict[str, list[np.ndarray]]], None]


class CaseMismatch(AssertionError):
    """The implementations of a case do not compute the same thing."""


def check_allclose(workload: Workload, outputs: dict[str, list[np.ndarray]]) -> None:
    """Every implementation's outputs equal plain PyTorch's to float32 rounding."""
    reference = outputs["torch"]
    for impl, arrays in outputs.items():
        if len(arrays) != len(reference):
            raise CaseMismatch(
                f"{impl} returned {len(arrays)} outputs, torch {len(reference)}"
            )
        for index, (got, want) in enumerate(zip(arrays, reference)):
            if got.shape != want.shape:
                raise CaseMismatch(
                    f"{impl} output {index} has shape {got.shape}, torch {want.shape}"
                )
            if not np.allclose(got, want, atol=1e-5):
                error = np.max(np.abs(got - want))
                raise CaseMismatch(
                    f"{impl} output {index} differs from torch by up to {error:.3g}"
                )


@dataclass(frozen=True)
class Case:
    name: str
    setup: Callable[[np.random.Generator], Workload]
    lamina: Builder
    torch: Builder
    keras: Builder | None = None  # None where Keras 3 has no such layer
    torch_cl: Builder | None = None
    # a smaller workload for ``--smoke`` runs (the test suite), where the timed one
    # takes seconds per call
    smoke_setup: Callable[[np.random.Generator], Workload] | None = None
    check: Check = check_allclose

    def builders(self) -> dict[str, Builder]:
        found = {impl: getattr(self, impl) for impl in IMPLEMENTATIONS}
        return {impl: build for impl, build in found.items() if build is not None}


CASES: list[Case] = []


def register(case: Case) -> Case:
    if any(known.name == case.name for known in CASES):
        raise ValueError(f"benchmark case {case.name!r} is registered twice")
    CASES.append(case)
    return case


def select(pattern: str | None) -> list[Case]:
    """The cases whose name contains ``pattern`` (all of them for ``None``)."""
    return [case for case in CASES if not pattern or pattern in case.name]


def as_arrays(outputs) -> list[np.ndarray]:
    """A step's outputs (a tensor, an array, or a tuple of them) as NumPy arrays."""
    if isinstance(outputs, (tuple, list)):
        return [array for item in outputs for array in as_arrays(item)]
    if isinstance(outputs, torch.Tensor):
        return [outputs.detach().cpu().numpy()]
    if outputs is None:
        raise CaseMismatch("a step returned None (a missing gradient?)")
    return [np.asarray(outputs)]


def verify(case: Case, workload: Workload, steps: dict[str, Step]) -> None:
    """Run each step once and check that all implementations agree."""
    try:
        outputs = {impl: as_arrays(step()) for impl, step in steps.items()}
        case.check(workload, outputs)
    except CaseMismatch as error:
        raise CaseMismatch(f"case {case.name!r}: {error}") from None

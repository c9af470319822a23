"""Timing: warm up, size a loop to a minimum duration, then time repeated loops.

Implementations of one case are timed round-robin (one loop of each per round), so a
load spike from another process hits all of them rather than one.
"""

from __future__ import annotations

import gc
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Timing:
    """Seconds per call over ``repeat`` loops of ``number`` calls each."""

    median: float
    min: float
    number: int
    repeat: int

    def as_dict(self) -> dict:
        return {
            "median_us": self.median * 1e6,
            "min_us": self.min * 1e6,
            "number": self.number,
            "repeat": self.repeat,
        }


def timed_loop(step: Callable[[], object], number: int) -> float:
    """Seconds taken by ``number`` back-to-back calls of ``step``."""
    start = time.perf_counter()
    for _ in range(number):
        step()
    return time.perf_counter() - start


def calls_per_loop(step: Callable[[], object], min_time: float) -> int:
    """How many calls make one loop last at least ``min_time`` seconds.

    The calls made to find out are the warm-up: lazy builds, allocator caches and
    branch predictors settle before anything is recorded.
    """
    step()
    number = 1
    while True:
        elapsed = timed_loop(step, number)
        if elapsed >= min_time:
            return number
        wanted = math.ceil(number * 1.2 * min_time / max(elapsed, 1e-9))
        number = max(number + 1, min(wanted, 10 * number))


def measure(
    steps: dict[str, Callable[[], object]], *, repeat: int = 7, min_time: float = 0.1
) -> dict[str, Timing]:
    """Per-call median and min time of each step, timed round-robin."""
    numbers = {name: calls_per_loop(step, min_time) for name, step in steps.items()}
    per_call = {name: [] for name in steps}
    gc_was_enabled = gc.isenabled()
    gc.disable()  # as timeit does: a collection mid-loop is noise, not the workload
    try:
        for _ in range(repeat):
            for name, step in steps.items():
                per_call[name].append(timed_loop(step, numbers[name]) / numbers[name])
    finally:
        if gc_was_enabled:
            gc.enable()
    return {
        name: Timing(statistics.median(times), min(times), numbers[name], repeat)
        for name, times in per_call.items()
    }

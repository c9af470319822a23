"""``jit_compile=True``: which forward pass training uses."""

from __future__ import annotations

import time
import warnings

import torch

from lamina.utils import tree


class JitChooser:
    """Which forward pass ``jit_compile=True`` trains (or predicts) with.

    On a GPU, the compiled one. On a CPU, torch's generated kernels are not always
    faster than its eager ones (on the 2-core machine of the benchmarks the small
    CNN's compiled forward+backward runs 2-3x slower), so after compiling, a few
    whole steps of each are timed, alternating, and the faster path is kept (a
    warning says when that is eager). Both compute the same numbers.
    """

    TRIALS = 3  # timed steps per path, after one warm-up step each

    def __init__(self, compiled, eager, step_name="training"):
        self.step_name = step_name
        self.paths = {"compiled": compiled, "eager": eager}
        self.times = {"compiled": [], "eager": []}
        self.choice = None
        self._current = None
        self._start = 0.0
        self._shape = None
        self._steps = 0
        self._timed = False

    def pick(self, x):
        if self.choice is not None:
            return self.paths[self.choice]
        leaf = x if isinstance(x, torch.Tensor) else tree.flatten(x)[0]
        if not isinstance(leaf, torch.Tensor) or leaf.device.type != "cpu":
            self.choice = "compiled"
            return self.paths["compiled"]
        shape = tuple(leaf.shape)
        self._shape = self._shape or shape
        # steps 0, 1 warm up compiled, eager; then they alternate, timed
        self._current = ("compiled", "eager")[self._steps % 2]
        self._timed = self._steps >= 2 and shape == self._shape
        self._steps += 1
        self._start = time.perf_counter()
        return self.paths[self._current]

    def done(self):
        if self.choice is not None or not self._timed:
            return
        self.times[self._current].append(time.perf_counter() - self._start)
        if min(len(t) for t in self.times.values()) >= self.TRIALS:
            median = {k: sorted(v)[len(v) // 2] for k, v in self.times.items()}
            self.choice = min(median, key=median.get)
            if self.choice == "eager":
                warnings.warn(
                    f"jit_compile=True: the compiled {self.step_name} step was "
                    "slower than the eager one on this machine "
                    f"({median['compiled'] * 1e3:.1f} vs "
                    f"{median['eager'] * 1e3:.1f} ms per step); {self.step_name} "
                    "continues eagerly.",
                    stacklevel=4,
                )


def chosen_step(chooser: JitChooser):
    """A step function that runs the path ``chooser`` picks for each batch."""

    def step(data):
        outputs = chooser.pick(data)(data)
        chooser.done()
        return outputs

    step.chooser = chooser
    return step

"""Load-independent cost of each bench case's lamina step: the aten operators it
dispatches (the kernels: same list = same arithmetic cost) and the Python function
calls it makes (the framework overhead). Run from a worktree root:
    python bench/op_count.py OUT.json   (compare two checkouts: same aten lists = same kernels)
"""

import importlib
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path.cwd()))
import numpy as np
import torch
from torch.utils._python_dispatch import TorchDispatchMode

import bench  # noqa: F401
from bench.registry import CASES

for path in sorted(Path("bench").glob("cases_*.py")):
    importlib.import_module(f"bench.{path.stem}")


class Ops(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.ops = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops[str(func)] += 1
        return func(*args, **(kwargs or {}))


def python_calls(step):
    calls = 0

    def prof(frame, event, arg):
        nonlocal calls
        if event == "call":
            calls += 1

    sys.setprofile(prof)
    try:
        step()
    finally:
        sys.setprofile(None)
    return calls


def main():
    torch.set_num_threads(1)
    results = {}
    for case in CASES:
        if "fit_" in case.name or "data" in case.name:
            continue
        try:
            step = case.lamina(case.setup(np.random.default_rng(0)))
            step()
            step()  # warmed up: lazy builds and caches are done
            with Ops() as mode:
                step()
            results[case.name] = {
                "ops": dict(mode.ops),
                "python_calls": python_calls(step),
            }
        except Exception as e:  # noqa: BLE001
            results[case.name] = {"error": repr(e)[:200]}
    json.dump(results, open(sys.argv[1], "w"), indent=1)
    print(len(results))


if __name__ == "__main__":
    main()

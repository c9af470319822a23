"""Side-by-side benchmarks: lamina vs Keras 3 (torch backend) vs plain PyTorch.

    .venv/bin/python bench/run.py                 # every case
    .venv/bin/python bench/run.py -k dense --threads 1 --json bench.json

Each case is checked (all implementations compute the same outputs) before it is
timed. Times are per call: the median (and min) over ``--repeat`` loops, each loop
long enough to last ``--min-time`` seconds.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from dataclasses import dataclass
from pathlib import Path

if not __package__:  # run as a script: make the `bench` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import bench  # noqa: F401  (sets KERAS_BACKEND before keras is imported)

import importlib  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

import lamina  # noqa: E402
from bench.registry import CASES, IMPLEMENTATIONS, Case, select, verify  # noqa: E402
from bench.timing import Timing, measure  # noqa: E402

# Every bench/cases_*.py registers its cases on import: a new family needs no edit here.
for _path in sorted(Path(__file__).resolve().parent.glob("cases_*.py")):
    importlib.import_module(f"bench.{_path.stem}")

RATIO_BASES = ("torch", "keras", "best")  # best: the fastest other implementation
COLUMNS = (*IMPLEMENTATIONS, *(f"lamina/{base}" for base in RATIO_BASES))


@dataclass(frozen=True)
class Result:
    case: str
    timings: dict[str, Timing]

    def ratio(self, impl: str, baseline: str) -> float | None:
        if baseline == "best":
            others = [t.median for name, t in self.timings.items() if name != impl]
            if impl not in self.timings or not others:
                return None
            return self.timings[impl].median / min(others)
        if impl not in self.timings or baseline not in self.timings:
            return None
        return self.timings[impl].median / self.timings[baseline].median

    def as_dict(self) -> dict:
        return {
            "case": self.case,
            **{impl: t.as_dict() for impl, t in self.timings.items()},
            **{f"lamina/{b}": self.ratio("lamina", b) for b in RATIO_BASES},
        }


def run_case(
    case: Case,
    *,
    repeat: int = 7,
    min_time: float = 0.1,
    seed: int = 0,
    smoke: bool = False,
) -> Result:
    """Build every implementation of ``case``, check they agree, time them."""
    torch.manual_seed(seed)
    setup = (smoke and case.smoke_setup) or case.setup
    workload = setup(np.random.default_rng(seed))
    steps = {impl: build(workload) for impl, build in case.builders().items()}
    verify(case, workload, steps)
    return Result(case.name, measure(steps, repeat=repeat, min_time=min_time))


def run_cases(
    cases: list[Case] | None = None,
    *,
    repeat: int = 7,
    min_time: float = 0.1,
    smoke: bool = False,
    on_result=None,
) -> list[Result]:
    """Run ``cases`` (default: all); ``smoke`` builds, checks and calls each step
    only a few times, to prove the cases work rather than to time them."""
    if smoke:
        repeat, min_time = 1, 0.0
    results = []
    for case in CASES if cases is None else cases:
        results.append(run_case(case, repeat=repeat, min_time=min_time, smoke=smoke))
        if on_result is not None:
            on_result(results[-1])
    return results


# ------------------------------------------------------------------ report
def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine_facts() -> dict:
    return {
        "torch": torch.__version__,
        "keras": keras.__version__,
        "lamina": lamina.__version__,
        "python": platform.python_version(),
        "threads": torch.get_num_threads(),
        "cpu": cpu_model(),
    }


def format_cell(timing: Timing | None) -> str:
    """``median unit (min)``, e.g. ``213.4 us (201.2)``."""
    if timing is None:
        return "-"
    scale, unit, digits = (1e6, "us", 1) if timing.median < 1e-3 else (1e3, "ms", 2)
    return (
        f"{timing.median * scale:.{digits}f} {unit} ({timing.min * scale:.{digits}f})"
    )


def format_ratio(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.2f}x"


class Table:
    """Rows printed as results arrive, in columns sized for the selected cases."""

    def __init__(self, case_names: list[str]):
        self.name_width = max(len("case"), *map(len, case_names))

    def _line(self, name: str, cells) -> None:
        widths = (20, 20, 20, 20, 13, 13, 13)
        row = "  ".join(cell.rjust(width) for cell, width in zip(cells, widths))
        print(f"{name.ljust(self.name_width)}  {row}", flush=True)

    def header(self) -> None:
        self._line("case", COLUMNS)

    def row(self, result: Result) -> None:
        cells = [format_cell(result.timings.get(impl)) for impl in IMPLEMENTATIONS]
        cells += [format_ratio(result.ratio("lamina", base)) for base in RATIO_BASES]
        self._line(result.case, cells)


# -------------------------------------------------------------------- main
def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "-k", "--filter", help="run only the cases whose name contains this"
    )
    parser.add_argument(
        "--repeat", type=int, default=7, help="timed loops per implementation (7)"
    )
    parser.add_argument(
        "--min-time", type=float, default=0.1, help="seconds per timed loop (0.1)"
    )
    parser.add_argument(
        "--threads", type=int, help="torch intra-op threads (default: torch's own)"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--smoke", action="store_true", help="check and call each case once, fast"
    )
    parser.add_argument("--list", action="store_true", help="list the cases, exit")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    cases = select(args.filter)
    if args.list:
        print("\n".join(case.name for case in cases))
        return 0
    if not cases:
        print(f"no case name contains {args.filter!r}", file=sys.stderr)
        return 2
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    facts = machine_facts()
    print(", ".join(f"{key} {value}" for key, value in facts.items()))
    table = Table([case.name for case in cases])
    table.header()
    results = run_cases(
        cases,
        repeat=args.repeat,
        min_time=args.min_time,
        smoke=args.smoke,
        on_result=table.row,
    )
    print(
        "times per call: median (min) over the timed loops; ratios of medians, "
        "below 1.00x lamina is faster"
    )
    if args.json:
        report = {
            "machine": facts,
            "settings": {"repeat": args.repeat, "min_time": args.min_time},
            "results": [result.as_dict() for result in results],
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

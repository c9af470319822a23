"""Smoke test of the benchmarks: every case builds, its implementations agree, and
each step runs; a broken case fails here rather than in a benchmark run."""

import json
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import run  # noqa: E402
from bench.registry import CASES, Case, CaseMismatch, select  # noqa: E402


def test_every_case_agrees_and_runs():
    results = run.run_cases(smoke=True)
    assert [r.case for r in results] == [case.name for case in CASES]
    for case, result in zip(CASES, results):
        # Every implementation a case has is timed (Keras lacks LocallyConnected).
        assert set(result.timings) == set(case.builders())
        assert {"lamina", "torch"} <= set(result.timings)
        assert all(t.median > 0 for t in result.timings.values())


def test_a_wrong_implementation_fails_the_check():
    good = select("dense_fwd_bwd")[0]

    def wrong_torch(workload):
        step = good.torch(workload)
        return lambda: tuple(t * 1.001 for t in step())

    broken = Case("broken", good.setup, good.lamina, wrong_torch, good.keras)
    with pytest.raises(CaseMismatch, match="'broken'.*differs from torch"):
        run.run_case(broken, repeat=1, min_time=0.0)


def test_cli_filters_and_writes_json(tmp_path, capsys):
    threads = torch.get_num_threads()
    out = tmp_path / "bench.json"
    try:
        assert (
            run.main(["-k", "reshape", "--smoke", "--threads", "1", "--json", str(out)])
            == 0
        )
    finally:
        torch.set_num_threads(threads)
    report = json.loads(out.read_text())
    assert report["machine"]["threads"] == 1
    assert [r["case"] for r in report["results"]] == ["reshape_fwd_bwd"]
    assert set(report["results"][0]) >= {"lamina", "keras", "torch", "lamina/torch"}
    assert "reshape_fwd_bwd" in capsys.readouterr().out
    assert run.main(["-k", "no-such-case"]) == 2


def test_the_input_pipeline_bench_runs_tiny():
    from bench import cases_data

    rates = cases_data.main(["--smoke"])
    assert set(rates) == {"pipeline only", "lamina fit", "keras fit", "torch loop"}
    assert all(r > 0 for r in rates.values())

"""Smoke test of ``benchmarks/bench_dataframes.py``: a tiny recording, one run, no timings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest


@pytest.fixture
def bench(import_bench: Callable[[str], ModuleType]) -> ModuleType:
    return import_bench("bench_dataframes")


def test_every_section_runs_and_cleans_up(bench: ModuleType, tmp_path: Path) -> None:
    out = tmp_path / "report.md"
    sizes = ["--gb", "0.005", "--big-gb", "0.01", "--small-mb", "0.2", "--runs", "1"]
    assert bench.main([*sizes, "--tmp-dir", str(tmp_path), "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    for heading in (
        "to_parquet throughput",
        "64x64 RGB frames",
        "DuckDB and Polars",
        "Peak memory",
    ):
        assert heading in text
    assert "| `to_parquet(out.parquet)` | ok |" in text  # a 10 MB file fits under 256 MiB
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.md"]

"""Smoke test of ``benchmarks/bench_decode.py``: tiny recordings, one run, no timings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest


@pytest.fixture
def bench(import_bench: Callable[[str], ModuleType]) -> ModuleType:
    return import_bench("bench_decode")


def test_every_section_runs_and_cleans_up(bench: ModuleType, tmp_path: Path) -> None:
    out = tmp_path / "report.md"
    assert (
        bench.main(["--mb", "0.1", "--runs", "1", "--tmp-dir", str(tmp_path), "--out", str(out)])
        == 0
    )
    text = out.read_text(encoding="utf-8")
    assert "Decoding every record: 64x64 RGB u8" in text
    assert "depth u16, segmentation u8" in text
    assert "every record at its own entity path" in text
    assert "to_parquet, 64x64 RGB frames" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.md"]

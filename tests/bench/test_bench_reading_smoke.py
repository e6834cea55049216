"""Smoke test of ``benchmarks/bench_reading.py``: a small file and a few frames, once.

Asserts what the report says, never how fast anything was.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType

import pytest

BENCH_DIR = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture
def bench_reading(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(BENCH_DIR))
    import bench_reading as module

    return module


def test_quick_run_reports_both_sections_and_cleans_up(
    bench_reading: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bench_reading.main(
        ["--size-gb", "0.02", "--frames", "2", "--runs", "1", "--tmp-dir", str(tmp_path)]
    )
    report = capsys.readouterr().out
    assert "## Reading: the index against a full scan" in report
    assert "| 1% time-range query of one entity |" in report
    assert "## Compression: depth and segmentation" in report
    assert re.search(r"\| rerun-core zstd \(shuffle \+ zstd-1\) \| \d+\.\d\d \|", report)
    assert list(tmp_path.iterdir()) == []


def test_kinect_scene_is_deterministic_and_has_holes(bench_reading: ModuleType) -> None:
    depth, ids = bench_reading.kinect_scene(3)
    again, _ = bench_reading.kinect_scene(3)
    assert depth.dtype.name == "uint16"
    assert ids.dtype.name == "uint8"
    assert (depth == again).all()
    assert 0.01 < (depth == 0).mean() < 0.5
    assert len(set(ids.ravel().tolist())) >= 4

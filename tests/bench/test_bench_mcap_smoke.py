"""Smoke test of ``benchmarks/bench_mcap.py``: tiny N, one run, no timing asserts."""

from __future__ import annotations

from pathlib import Path

import pytest

BENCH_DIR = Path(__file__).resolve().parents[2] / "benchmarks"


def test_quick_run_prints_every_table(monkeypatch, capsys):
    pytest.importorskip("foxglove", reason="needs the [mcap] extra (foxglove-sdk)")
    monkeypatch.syspath_prepend(str(BENCH_DIR))
    import bench_mcap

    assert bench_mcap.main(["--quick"]) == 0
    out = capsys.readouterr().out
    for row in ("McapSink e2e", "McapSink.write", "foxglove-sdk open_mcap", "mcap (Python writer)"):
        assert out.count(f"| {row}") == (1 if "Python writer" in row else 2), row
    assert not list(BENCH_DIR.glob(".bench-mcap-*"))

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
    rows = (
        "McapSink e2e",
        "McapSink.write",
        "foxglove-sdk open_mcap",
        "foxglove-sdk, its RawImage objects",
        "foxglove-sdk, protobuf bytes",
        "mcap (Python writer)",
        "foxglove-sdk, RawImage objects, no side message",
    )
    for row in rows:
        assert out.count(f"| {row}") == 2, row  # 64x64 RGB and 640x480 depth
    assert not list(BENCH_DIR.glob(".bench-mcap-*"))

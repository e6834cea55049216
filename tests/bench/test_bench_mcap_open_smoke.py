"""Smoke test of ``benchmarks/bench_mcap_open.py``: small files, one run, no timing asserts."""

from __future__ import annotations

from pathlib import Path

import pytest

BENCH_DIR = Path(__file__).resolve().parents[2] / "benchmarks"


def test_quick_run_prints_both_tables(monkeypatch, capsys, tmp_path):
    pytest.importorskip("foxglove", reason="needs the [mcap] extra (foxglove-sdk)")
    pytest.importorskip("rerun", reason="needs the [rerun] extra (rerun-sdk)")
    monkeypatch.syspath_prepend(str(BENCH_DIR))
    import bench_mcap_open

    assert bench_mcap_open.main(["--quick", "--tmp-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for kind in ("mcap", "rrd"):
        assert f"Peak memory open_recording / whole list (.{kind})" in out
    assert out.count("| open_recording |") == 2
    assert not list(tmp_path.iterdir())

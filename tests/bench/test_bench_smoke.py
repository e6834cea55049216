"""Smoke test of ``benchmarks/bench.py``: every case once, tiny frames, no timing asserts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH_DIR = Path(__file__).resolve().parents[2] / "benchmarks"
CASES = ("rgb64", "rgb480", "rgb1080", "f32gray1080", "depth16", "seg8", "jpeg480")
PEERS = {
    "rerun": ("rerun", "rerun-sdk is not installed: pip install 'rerun-core[rerun]'"),
    "foxglove": ("foxglove", "foxglove-sdk is not installed (only in `make bench`'s venv)"),
    "mcap": ("mcap", "the mcap writer is not installed: pip install 'rerun-core[mcap]'"),
}


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(BENCH_DIR))
    import bench as module

    return module


def _run(bench: ModuleType, tmp_path: Path, *args: str) -> str:
    out = tmp_path / "report.md"
    code = bench.main(["--quick", "--out", str(out), "--tmp-dir", str(tmp_path), *args])
    text = out.read_text(encoding="utf-8")
    assert code == 0, text
    assert "## Errors" not in text
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".bench-tmp-")]
    return text


@pytest.mark.parametrize("group", ["ours", "limit", "rerun", "foxglove", "mcap"])
def test_every_case_runs_once(bench: ModuleType, tmp_path: Path, group: str) -> None:
    if group in PEERS:
        module, reason = PEERS[group]
        pytest.importorskip(module, reason=reason)
    text = _run(bench, tmp_path, "--targets", group, "--sections", "cases")
    for case in CASES:
        assert f"### {case}:" in text
    title = bench.bt.GROUP_TITLES[group]
    rows = [line for line in text.splitlines() if line.startswith(f"| {title} |")]
    assert len(rows) >= len(CASES), text
    assert "## Targets (SPEC §4)" in text


def test_scaling_and_memory_sections_run(bench: ModuleType, tmp_path: Path) -> None:
    text = _run(bench, tmp_path, "--targets", "ours", "--sections", "sizes,threads,memory")
    assert "## Scaling with image size" in text
    assert "| 8x8 |" in text
    assert "## Scaling with threads" in text
    assert "## Peak memory" in text
    assert "tracemalloc" in text
    assert "RSS VmHWM" in text


def test_unknown_group_is_a_usage_error(bench: ModuleType, tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="unknown target group"):
        bench.main(["--quick", "--targets", "nope", "--tmp-dir", str(tmp_path)])


def test_writepath_groups_run_once(tmp_path: Path) -> None:
    """In a child process: the run starts threads and sinks of its own."""
    out = tmp_path / "writepath.md"
    args = ["--quick", "--out", str(out), "--tmp-dir", str(tmp_path)]
    done = subprocess.run(
        [sys.executable, str(BENCH_DIR / "bench_writepath.py"), *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    text = out.read_text(encoding="utf-8")
    for row in ("rerun-core FileSink .rrc", "send_columns, MemorySink", "4 threads"):
        assert row in text
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".bench-tmp-")]

"""A process killed mid-logging leaves a recoverable file; the demo writes a valid one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import rerun_core as rc
from rerun_sinks import read_records, recover, verify

from .test_readers_cli import _cli


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX-only")
def test_sigkill_while_logging_leaves_recoverable_file(tmp_path: Path) -> None:
    path = tmp_path / "killed.rrc"
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import numpy as np, rerun_sinks as rr
                rec = rr.new_recording("crash", strict=True)
                rec.save({str(path)!r})
                frame = np.random.default_rng(0).integers(0, 255, (240, 320, 3), dtype=np.uint8)
                i = 0
                while True:
                    rec.set_time_sequence("frame", i)
                    rec.log_image("cam", frame)
                    i += 1
                    if i == 20:
                        print("logging", flush=True)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "logging"
    time.sleep(0.3)
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    child.stdout.close()
    assert child.returncode == -signal.SIGKILL

    report = verify(path)
    assert report.count >= 20
    fixed = tmp_path / "fixed.rrc"
    assert recover(path, fixed) == report.count
    records = list(read_records(fixed))
    assert [r.timepoint["frame"].value for r in records] == list(range(report.count))
    assert verify(fixed).ok


def test_demo_writes_a_verified_reproducible_file(tmp_path: Path) -> None:
    first, second = tmp_path / "a.rrc", tmp_path / "b.rrc"
    result = _cli("demo", str(first), "--frames", "3")
    assert result.returncode == 0, result.stderr
    assert "verified ok" in result.stdout
    assert _cli("demo", str(second), "--frames", "3").returncode == 0
    assert first.read_bytes() == second.read_bytes()
    kinds = {type(r.msg) for r in read_records(first)}
    assert kinds == {rc.AnnotationContextMsg, rc.ImageMsg, rc.DepthMsg, rc.SegmentationMsg}

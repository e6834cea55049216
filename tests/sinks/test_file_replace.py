"""FileSink on an existing path: a regular file is replaced (not truncated), others as before."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import numpy as np
import pytest

import rerun_sinks as rr

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX links and modes")


def _write_one(path: Path, value: int) -> None:
    with rr.FileSink(path) as sink:
        rec = rr.new_recording("replace", strict=True, sink=sink)
        rec.log_image("cam", np.full((4, 4, 3), value, np.uint8))
        rec.disconnect()


def _value(path: Path) -> int:
    [record] = rr.read_records(path)
    return int(record.msg.pixels[0, 0, 0])


def test_a_regular_file_is_replaced_with_its_permissions(tmp_path: Path) -> None:
    path = tmp_path / "a.rrc"
    _write_one(path, 1)
    os.chmod(path, 0o640)
    old = os.open(path, os.O_RDONLY)
    try:
        _write_one(path, 2)
        assert os.fstat(old).st_nlink == 0  # a new file: ext4 does not write it back at close
    finally:
        os.close(old)
    assert _value(path) == 2
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640


def test_a_symlinked_file_is_written_through_the_link(tmp_path: Path) -> None:
    target, link = tmp_path / "target.rrc", tmp_path / "link.rrc"
    _write_one(target, 1)
    link.symlink_to(target)
    _write_one(link, 2)
    assert link.is_symlink()
    assert _value(target) == 2


def test_a_file_with_other_names_is_truncated_in_place(tmp_path: Path) -> None:
    path, other = tmp_path / "a.rrc", tmp_path / "b.rrc"
    _write_one(path, 1)
    os.link(path, other)
    _write_one(path, 2)
    assert os.stat(path).st_ino == os.stat(other).st_ino
    assert _value(other) == 2


def test_a_file_we_may_not_write_is_not_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read-only file is opened (and refused, unless we are root) as before."""
    path = tmp_path / "a.rrc"
    _write_one(path, 1)
    old = os.open(path, os.O_RDONLY)
    monkeypatch.setattr(os, "access", lambda *args, **kwargs: False)
    try:
        _write_one(path, 2)  # as root, or on a file system that ignores modes
        assert os.fstat(old).st_nlink == 1  # the same file, truncated
    finally:
        os.close(old)
    assert _value(path) == 2

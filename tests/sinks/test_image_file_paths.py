"""log_image_file(img_path=...): a wrong type is a usage error, an unopenable path is bad data."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest

import rerun_sinks as rr


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("path", [0, 3.5, b"photo.jpg", ["photo.jpg"]], ids=repr)
def test_img_path_of_the_wrong_type_is_a_type_error(strict: bool, path: object) -> None:
    rec = rr.new_recording("app", strict=strict)
    mem = rec.memory_recording()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # lenient mode must not turn a usage error into a warning
        with pytest.raises(TypeError, match=r"img_path=\.\.\.\) must be a str or os.PathLike"):
            rec.log_image_file("x", img_path=path)
    assert mem.records == []
    assert rec.stats.dropped == 0


def test_an_int_is_never_opened_as_a_file_descriptor() -> None:
    read_end, write_end = os.pipe()
    os.write(write_end, b"not an image")
    os.close(write_end)  # so that reading it could never block
    try:
        with pytest.raises(TypeError):
            rr.new_recording("app").log_image_file("x", img_path=read_end)
        assert os.read(read_end, 100) == b"not an image"  # neither read nor closed
    finally:
        os.close(read_end)


UNOPENABLE = {
    "missing": (lambda tmp: tmp / "missing.jpg", FileNotFoundError, "missing.jpg"),
    "directory": (lambda tmp: tmp, IsADirectoryError, "Is a directory"),
    "nul-byte": (lambda tmp: str(tmp / "a\x00b.jpg"), OSError, "NUL byte"),
}


@pytest.mark.parametrize("case", UNOPENABLE)
def test_an_unopenable_path_raises_in_strict_mode(case: str, tmp_path: Path) -> None:
    make, error, fragment = UNOPENABLE[case]
    rec = rr.new_recording("app", strict=True)
    with pytest.raises(error, match=fragment):
        rec.log_image_file("x", img_path=make(tmp_path))


@pytest.mark.parametrize("case", UNOPENABLE)
def test_an_unopenable_path_is_dropped_warned_and_counted_in_lenient_mode(
    case: str, tmp_path: Path
) -> None:
    make, _, fragment = UNOPENABLE[case]
    rec = rr.new_recording("app")
    mem = rec.memory_recording()
    with pytest.warns(rr.RerunWarning, match=f"log_image_file.*{fragment}"):
        rec.log_image_file("x", img_path=make(tmp_path))
    assert mem.records == []
    assert rec.stats.dropped == 1

"""export, info and convert: portable file names, long entity names, reading past damage."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import rerun_core as rc
from rerun_sinks._convert import convert
from rerun_sinks._export import export, file_stem, shorten

CLI = shutil.which("rerun-core") or str(Path(sys.executable).with_name("rerun-core"))
LONG = "x" * 150 + "y" * 150
PORTABLE = re.compile(r"\d{6}_[\w.-]{1,80}\.(png|jpg)")
HOSTILE = ("c:", "..", "a\\..\\..\\b", "C:\\Windows\\x", "a*b?c<d>e|f", '"q"', "CON", "相机")


def _image(value: int) -> rc.ImageMsg:
    return rc.make_image_msg(np.full((2, 3, 3), value, np.uint8))


def _write(path: Path, entity_paths: list[tuple[str, ...]]) -> list[bytes]:
    encoded = [
        rc.encode_record(rc.make_record(parts, _image(index)))
        for index, parts in enumerate(entity_paths)
    ]
    path.write_bytes(b"".join(encoded))
    return encoded


def _damaged(tmp_path: Path) -> Path:
    """Four records; the second one has a flipped byte."""
    path = tmp_path / "damaged.rrc"
    encoded = _write(path, [("a",), ("b",), ("c",), (LONG,)])
    data = bytearray(path.read_bytes())
    data[len(encoded[0]) + 40] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], capture_output=True, text=True, check=False, timeout=120)


def test_exported_names_are_portable_and_inside_the_target(tmp_path: Path) -> None:
    _write(tmp_path / "in.rrc", [(part,) for part in HOSTILE] + [("w", "..", "..", "z"), (LONG,)])
    out = tmp_path / "deep" / "out"
    written = export(tmp_path / "in.rrc", out)
    assert len(written) == len(HOSTILE) + 2
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in written)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deep", "in.rrc"]
    for file in written:
        assert file.parent == out
        assert PORTABLE.fullmatch(file.name), file.name
        assert len(file.name.encode()) <= 100


def test_long_names_keep_distinct_stems() -> None:
    other = "x" * 150 + "z" * 150
    assert file_stem((LONG,)) != file_stem((other,))
    assert len(file_stem((LONG,)).encode()) <= 80
    assert len(file_stem(("相" * 100,)).encode()) <= 80
    assert file_stem(()) == "root"
    assert shorten("ab") == "ab"
    short = shorten(LONG)
    assert len(short) == 80
    assert short.startswith("xxx")
    assert short.endswith("yyy")


def test_export_and_convert_skip_damage_and_report_it(tmp_path: Path) -> None:
    path = _damaged(tmp_path)
    damage: list[rc.RecordSpan] = []
    written = export(path, tmp_path / "out", on_damage=damage.append)
    assert [p.name.split("_", 1)[1] for p in written[:2]] == ["a.png", "c.png"]
    assert len(written) == 3
    assert len(damage) == 1
    assert damage[0].offset > 0
    with pytest.raises(rc.DecodeError, match="CRC"):
        export(path, tmp_path / "strict")
    pytest.importorskip("mcap", reason="needs the [mcap] extra")
    damage.clear()
    assert convert(path, tmp_path / "out.mcap", on_damage=damage.append) == 3
    assert len(damage) == 1


@pytest.mark.parametrize(
    ("args", "done"),
    [
        (("info",), "3 records, 3 entities"),
        (("export", "--to", "OUT"), "wrote 3 files"),
        (("convert", "OUT.mcap"), "converted 3 records"),
        (("export", "--to", "OUT", "--entity", "c"), "wrote 1 files"),
        (("convert", "OUT.rrc", "--entity", "c"), "converted 1 records"),
        (("convert", "OUT.parquet"), "converted 3 records"),
    ],
    ids=["info", "export", "convert", "export-selection", "convert-selection", "parquet"],
)
def test_cli_continues_past_damage_and_exits_non_zero(
    tmp_path: Path, args: tuple[str, ...], done: str
) -> None:
    if args[:2] == ("convert", "OUT.mcap"):
        pytest.importorskip("mcap", reason="needs the [mcap] extra")
    if args[:2] == ("convert", "OUT.parquet"):
        pytest.importorskip("pyarrow", reason="needs the [data] extra")
    path = _damaged(tmp_path)
    result = _cli(args[0], str(path), *(a.replace("OUT", str(tmp_path / "out")) for a in args[1:]))
    assert result.returncode == 1
    assert done in result.stdout
    assert "skipped damaged bytes" in result.stderr
    assert "1 damaged region(s)" in result.stderr
    assert "Traceback" not in result.stderr


def test_info_shortens_long_entity_names(tmp_path: Path) -> None:
    _write(tmp_path / "long.rrc", [(LONG,)])
    result = _cli("info", str(tmp_path / "long.rrc"))
    assert result.returncode == 0, result.stderr
    assert LONG not in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) < 160

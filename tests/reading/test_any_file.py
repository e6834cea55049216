"""Any file: recognised by its first bytes in open_recording, read_records and the CLI."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import rerun_core as rc
from rerun_sinks import FileSink, open_recording, read_records, recover, verify
from rerun_sinks.errors import ForeignDataError

CLI = shutil.which("rerun-core") or str(Path(sys.executable).with_name("rerun-core"))


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], capture_output=True, text=True, check=False, timeout=300)


def _records() -> list[rc.Record]:
    records = [rc.make_record("world", rc.make_annotation_context_msg([(1, "a")]), timeless=True)]
    for frame in range(6):
        time = {"frame": ("sequence", frame)}
        stamp = {"timepoint": time, "log_tick": frame + 1, "log_time_ns": 10**18 + frame}
        rgb = np.full((8, 10, 3), frame * 20, np.uint8)
        depth = np.indices((64, 80)).sum(axis=0).astype(np.uint16) + frame
        records += [
            rc.make_record("world/cam/rgb", rc.make_image_msg(rgb), **stamp),
            rc.make_record("world/cam/depth", rc.make_depth_msg(depth), **stamp),
        ]
    return records


@pytest.fixture
def rrc(tmp_path: Path) -> Path:
    path = tmp_path / "rec.rrc"
    with FileSink(path) as sink:
        sink.write_many(_records())
    return path


@pytest.fixture
def mcap(tmp_path: Path) -> Path:
    pytest.importorskip("foxglove", reason="needs the [mcap] extra")
    from rerun_sinks import McapSink

    path = tmp_path / "rec.mcap"
    with McapSink(path) as sink:
        for record in _records():
            sink.write(record)
    return path


@pytest.fixture
def rrd(tmp_path: Path) -> Path:
    rr = pytest.importorskip("rerun", reason="needs the [rerun] extra")
    path = tmp_path / "rec.rrd"
    stream = rr.RecordingStream("app", recording_id="rec")
    stream.save(path)
    for frame in range(3):
        stream.set_time("frame", sequence=frame)
        stream.log("cam/rgb", rr.Image(np.full((4, 6, 3), frame, np.uint8)))
        stream.log("cam/depth", rr.DepthImage(np.full((4, 6), frame + 1, np.uint16)))
    stream.flush()
    stream.disconnect()
    return path


class TestRecognition:
    @pytest.mark.parametrize(
        ("content", "named"),
        [
            (b"\x89PNG\r\n\x1a\n" + bytes(40), "is a PNG image"),
            (b"\xff\xd8\xff\xe0" + bytes(40), "is a JPEG image"),
            (b"hello, I am only text\n", "is a text file"),
            (b"PAR1" + bytes(40), "is a Parquet file"),
            (bytes(range(7, 64)), "is unrecognised binary data (first bytes 07 08"),
        ],
    )
    def test_anything_else_gets_one_line_naming_what_it_is(
        self, tmp_path: Path, content: bytes, named: str
    ) -> None:
        path = tmp_path / "looks.rrc"
        path.write_bytes(content)
        with pytest.raises(ForeignDataError, match=re.escape(named)):
            open_recording(path)
        with pytest.raises(ForeignDataError, match=re.escape(named)):
            list(read_records(path))
        result = _cli("info", str(path))
        assert result.returncode == 1
        assert named in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1

    def test_a_zip_named_rrc(self, tmp_path: Path) -> None:
        path = tmp_path / "archive.rrc"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("a.txt", "x")
        with pytest.raises(ForeignDataError, match="is a ZIP archive, not a recording"):
            open_recording(path)

    def test_a_damaged_first_magic_is_still_a_recording(self, rrc: Path, tmp_path: Path) -> None:
        data = bytearray(rrc.read_bytes())
        data[1] ^= 0xFF
        bad = tmp_path / "bad.rrc"
        bad.write_bytes(bytes(data))
        with open_recording(bad) as f:
            assert list(f) == _records()[1:]  # the damaged first record is skipped

    def test_names_do_not_matter(self, rrc: Path, tmp_path: Path) -> None:
        renamed = tmp_path / "rec.mcap"
        renamed.write_bytes(rrc.read_bytes())
        with open_recording(renamed) as f:
            assert f.indexed
            assert list(f) == _records()


class TestMcap:
    def test_open_recording_reads_our_mcap_losslessly(self, mcap: Path) -> None:
        with open_recording(mcap) as f:
            assert not f.indexed
            assert list(f) == _records()
            assert f.entities == ("world", "world/cam/depth", "world/cam/rgb")
            got = list(f.query("world/cam/**", timeline="frame", start=2, stop=4))
            assert [r.timepoint["frame"].value for r in got] == [2, 2, 3, 3]
            assert f.latest_at("world/cam/rgb", "frame", 10) == _records()[-2]
        assert list(read_records(mcap)) == _records()

    def test_cli_reads_mcap(self, mcap: Path, tmp_path: Path) -> None:
        info = _cli("info", str(mcap))
        assert info.returncode == 0, info.stderr
        assert "13 records, 3 entities (read as .mcap)" in info.stdout
        ok = _cli("verify", str(mcap))
        assert ok.returncode == 0, ok.stderr
        assert ok.stdout.startswith("ok: 13 records")
        exported = _cli("export", str(mcap), "--to", str(tmp_path / "out"))
        assert exported.returncode == 0, exported.stderr
        assert "wrote 12 files" in exported.stdout
        back = tmp_path / "back.rrc"
        converted = _cli("convert", str(mcap), str(back))
        assert converted.returncode == 0, converted.stderr
        assert list(read_records(back)) == _records()

    def test_cli_info_on_a_cut_mcap_lists_the_intact_records_and_exits_1(
        self, tmp_path: Path
    ) -> None:
        pytest.importorskip("foxglove", reason="needs the [mcap] extra")
        from rerun_sinks import McapSink

        path = tmp_path / "cut.mcap"
        with McapSink(path) as sink:
            for record in _records():
                sink.write(record)
                sink.flush()  # one chunk per record: a cut keeps the chunks before it
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
        info = _cli("info", str(path))
        assert info.returncode == 1
        count = int(re.search(r"(\d+) records", info.stdout).group(1))  # type: ignore[union-attr]
        assert 0 < count < 13
        assert "is damaged or cut" in info.stderr
        assert "Traceback" not in info.stderr

    def test_recover_refuses_mcap_and_writes_nothing(self, mcap: Path, tmp_path: Path) -> None:
        out = tmp_path / "out.rrc"
        with pytest.raises(ForeignDataError, match=r"recover repairs \.rrc files only"):
            recover(mcap, out)
        assert not out.exists()
        result = _cli("recover", str(mcap), str(out))
        assert result.returncode == 1
        assert "recover repairs .rrc files only" in result.stderr
        assert not out.exists()


class TestRrd:
    def test_open_recording_reads_a_rerun_sdk_file(self, rrd: Path) -> None:
        with open_recording(rrd) as f:
            assert not f.indexed
            assert len(f) == 6
            assert f.entities == ("cam/depth", "cam/rgb")
            assert f.time_range("frame") == (0, 2)
            [depth] = f.query("cam/depth", timeline="frame", start=1, stop=2)
            assert np.array_equal(depth.msg.pixels, np.full((4, 6), 2, np.uint16))  # type: ignore[union-attr]

    def test_cli_reads_rrd_and_recover_refuses_it(self, rrd: Path, tmp_path: Path) -> None:
        info = _cli("info", str(rrd))
        assert info.returncode == 0, info.stderr
        assert "6 records, 2 entities (read as .rrd)" in info.stdout
        out = tmp_path / "out.rrc"
        result = _cli("recover", str(rrd), str(out))
        assert result.returncode == 1
        assert "is an .rrd file" in result.stderr
        assert not out.exists()


class TestCli:
    def test_info_answers_from_the_index_without_reading_records(
        self, rrc: Path, tmp_path: Path
    ) -> None:
        data = bytearray(rrc.read_bytes())
        spans = list(rc.scan_records(bytes(data)))
        for span in spans[1:-2]:  # damage every log record but the first and the last
            data[span.offset + span.length - 12] ^= 0xFF
        damaged = tmp_path / "damaged.rrc"
        damaged.write_bytes(bytes(data))
        result = _cli("info", str(damaged))
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert "13 records, 3 entities (from its index)" in lines[0]
        assert "ratio" in lines[1]
        assert "world/cam/depth: 6 x DepthMsg [uint16 64x80] time: frame 0..5" in result.stdout
        assert "world: 1 x AnnotationContextMsg [1 classes] timeless: 1" in result.stdout

    def test_info_without_an_index_scans_and_says_so(self, rrc: Path, tmp_path: Path) -> None:
        data = rrc.read_bytes()
        bare = tmp_path / "bare.rrc"
        bare.write_bytes(data[: struct.unpack_from("<Q", data, len(data) - 32)[0]])
        result = _cli("info", str(bare))
        assert result.returncode == 0, result.stderr
        assert "13 records, 3 entities (no index: scanned)" in result.stdout

    def test_export_and_convert_take_a_selection(self, rrc: Path, tmp_path: Path) -> None:
        out = tmp_path / "sel.rrc"
        args = ["--entity", "world/cam/**", "--timeline", "frame", "--start", "2", "--stop", "4"]
        result = _cli("convert", str(rrc), str(out), *args)
        assert result.returncode == 0, result.stderr
        assert "converted 4 records" in result.stdout  # "world" (the context) is not below
        with open_recording(out) as f:
            assert [r.timepoint.get("frame") for r in f] == [
                r.timepoint.get("frame")
                for r in _records()
                if r.entity_path[:2] == ("world", "cam") and 2 <= r.timepoint["frame"].value < 4
            ]
        exported = _cli(
            "export", str(rrc), "--to", str(tmp_path / "img"), "--entity", "world/cam/rgb"
        )
        assert exported.returncode == 0, exported.stderr
        assert "wrote 6 files" in exported.stdout

    def test_convert_with_compression(self, rrc: Path, tmp_path: Path) -> None:
        out = tmp_path / "packed.rrc"
        result = _cli("convert", str(rrc), str(out), "--compression", "zstd")
        assert result.returncode == 0, result.stderr
        kinds = {
            struct.unpack_from("<H", out.read_bytes(), s.offset + 6)[0]
            for s in rc.scan_records(out.read_bytes())
        }
        assert kinds == {1, 2, 3}
        assert list(read_records(out)) == _records()
        assert verify(out).index == "valid"
        bad = _cli("convert", str(rrc), str(tmp_path / "x.rrc"), "--compression", "gzip")
        assert bad.returncode == 2
        same = _cli("convert", str(rrc), str(rrc))
        assert same.returncode == 1
        assert "OUT must differ from FILE" in same.stderr


class TestForeignMcap:
    def test_open_recording_reads_a_foxglove_sdk_file(self, tmp_path: Path) -> None:
        foxglove = pytest.importorskip("foxglove", reason="needs the [mcap] extra")
        from foxglove.channels import RawImageChannel
        from foxglove.messages import RawImage, Timestamp

        path = tmp_path / "foreign.mcap"
        depth = np.arange(4 * 6, dtype=np.uint16).reshape(4, 6)
        context = foxglove.Context()
        with foxglove.open_mcap(path, context=context):
            channel = RawImageChannel("/robot/depth", context=context)
            for i in range(4):
                channel.log(
                    RawImage(
                        timestamp=Timestamp(i, 0),
                        width=6,
                        height=4,
                        encoding="16UC1",
                        step=12,
                        data=(depth + i).tobytes(),
                    ),
                    log_time=1_000 + i,
                )
        with open_recording(path) as f:
            assert f.entities == ("robot/depth",)
            assert f.timelines == {"log_time": "time"}
            assert f.time_range("log_time") == (1_000, 1_003)
            [second] = f.query("robot/**", timeline="log_time", start=1_001, stop=1_002)
            assert second.log_time_ns == 1_001
            assert np.array_equal(second.msg.pixels, depth + 1)  # type: ignore[union-attr]
        result = _cli("info", str(path))
        assert result.returncode == 0, result.stderr
        assert "4 records, 1 entities (read as .mcap)" in result.stdout

"""Readers and the rerun-core command line, run as a console script in a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import imagecodecs
import numpy as np
import pytest

import rerun_core as rc
from rerun_sinks._readers import read_records, recover, verify

CLI = shutil.which("rerun-core") or str(Path(sys.executable).with_name("rerun-core"))


def _records() -> list[rc.Record]:
    context = rc.make_annotation_context_msg([(0, "bg"), (1, "thing", (255, 0, 0))])
    rgb = np.arange(6 * 8 * 3, dtype=np.uint8).reshape(6, 8, 3)
    records = [rc.make_record("world", context, timeless=True)]
    for frame in range(3):
        time = {"frame": ("sequence", frame)}
        records += [
            rc.make_record("world/rgb", rc.make_image_msg(rgb + frame), timepoint=time),
            rc.make_record("world/bgr", rc.make_image_msg(rgb, color_model="BGR"), timepoint=time),
            rc.make_record("world/jpeg", rc.make_image_msg(rgb, jpeg_quality=90), timepoint=time),
            rc.make_record(
                "world/depth", rc.make_depth_msg(np.full((6, 8), 1.5, np.float32)), timepoint=time
            ),
            rc.make_record(
                "world/seg", rc.make_segmentation_msg(np.eye(6, 8, dtype=np.uint8)), timepoint=time
            ),
        ]
    return records


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    path = tmp_path / "rec.rrc"
    path.write_bytes(b"".join(rc.encode_record(r) for r in _records()))
    return path


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], capture_output=True, text=True, check=False, timeout=120)


class TestReaders:
    def test_read_records_is_zero_copy_and_equal(self, recording: Path) -> None:
        records = list(read_records(recording))
        assert records == _records()
        image = records[1].msg
        assert isinstance(image, rc.ImageMsg)
        assert image.pixels is not None
        with pytest.raises(ValueError, match="WRITEABLE"):
            image.pixels.setflags(write=True)
        assert not image.pixels.flags.owndata

    def test_empty_file(self, tmp_path: Path) -> None:
        empty = tmp_path / "empty.rrc"
        empty.write_bytes(b"")
        assert list(read_records(empty)) == []
        assert verify(empty).ok

    def test_verify_truncated_names_offset(self, recording: Path, tmp_path: Path) -> None:
        data = recording.read_bytes()
        last = sum(len(rc.encode_record(r)) for r in _records()[:-1])
        cut = tmp_path / "cut.rrc"
        cut.write_bytes(data[:-5])
        report = verify(cut)
        assert (report.ok, report.count, report.first_bad_offset) == (
            False,
            len(_records()) - 1,
            last,
        )
        assert recover(cut, tmp_path / "fixed.rrc") == len(_records()) - 1
        assert list(read_records(tmp_path / "fixed.rrc")) == _records()[:-1]

    def test_verify_counts_records_after_damage(self, recording: Path, tmp_path: Path) -> None:
        data = bytearray(recording.read_bytes())
        data[300] ^= 0xFF
        damaged = tmp_path / "damaged.rrc"
        damaged.write_bytes(bytes(data))
        report = verify(damaged)
        assert report.count == len(_records()) - 1
        assert report.first_bad_offset is not None
        assert report.first_bad_offset <= 300


class TestCli:
    def test_info_into_a_closed_pipe_stops_quietly(self, tmp_path: Path) -> None:
        """`rerun-core info f | head -1`: no "Broken pipe" error, SIGPIPE's exit status."""
        image = rc.make_image_msg(np.zeros((1, 1), np.uint8))
        path = tmp_path / "many.rrc"
        path.write_bytes(
            b"".join(rc.encode_record(rc.make_record(f"cam/{i}", image)) for i in range(3000))
        )
        with subprocess.Popen(
            [CLI, "info", str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        ) as process:
            assert process.stdout is not None
            assert process.stderr is not None
            assert process.stdout.readline()
            process.stdout.close()  # the reader goes away with most of the output unread
            stderr = process.stderr.read()
            status = process.wait(timeout=120)
        assert stderr == b""
        assert status == 141

    def test_info(self, recording: Path) -> None:
        result = _cli("info", str(recording))
        assert result.returncode == 0, result.stderr
        assert "16 records, 6 entities" in result.stdout
        assert "world/depth: 3 x DepthMsg [float32 6x8] time: frame 0..2" in result.stdout
        assert "world/bgr: 3 x ImageMsg [uint8 6x8x3 BGR]" in result.stdout

    def test_verify_ok_and_damaged(self, recording: Path, tmp_path: Path) -> None:
        ok = _cli("verify", str(recording))
        assert ok.returncode == 0
        assert ok.stdout.startswith("ok: 16 records")
        cut = tmp_path / "cut.rrc"
        cut.write_bytes(recording.read_bytes()[:-3])
        bad = _cli("verify", str(cut))
        assert bad.returncode == 1
        assert "first bad record at byte offset" in bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1
        assert "Traceback" not in bad.stderr

    def test_recover(self, recording: Path, tmp_path: Path) -> None:
        cut = tmp_path / "cut.rrc"
        cut.write_bytes(recording.read_bytes()[:-3])
        result = _cli("recover", str(cut), str(tmp_path / "fixed.rrc"))
        assert result.returncode == 0, result.stderr
        assert "recovered 15 records" in result.stdout
        assert _cli("verify", str(tmp_path / "fixed.rrc")).returncode == 0

    def test_recover_into_a_device_counts_without_syncing(self, recording: Path) -> None:
        """A dry run into /dev/null: the count, no fsync error (devices cannot sync)."""
        assert recover(recording, os.devnull) == 16
        result = _cli("recover", str(recording), os.devnull)
        assert result.returncode == 0, result.stderr
        assert "recovered 16 records" in result.stdout

    def test_export(self, recording: Path, tmp_path: Path) -> None:
        out = tmp_path / "out"
        result = _cli("export", str(recording), "--to", str(out))
        assert result.returncode == 0, result.stderr
        files = sorted(p.name for p in out.iterdir())
        assert len(files) == 15
        rgb = imagecodecs.png_decode((out / "000001_world_rgb.png").read_bytes())
        np.testing.assert_array_equal(rgb, np.arange(6 * 8 * 3, dtype=np.uint8).reshape(6, 8, 3))
        bgr = imagecodecs.png_decode((out / "000002_world_bgr.png").read_bytes())
        np.testing.assert_array_equal(bgr, rgb[..., ::-1])
        assert (out / "000003_world_jpeg.jpg").read_bytes()[:3] == b"\xff\xd8\xff"
        depth = imagecodecs.png_decode((out / "000004_world_depth.depth.png").read_bytes())
        assert depth.dtype == np.uint16
        assert int(depth[0, 0]) == 1500
        seg = imagecodecs.png_decode((out / "000005_world_seg.segmentation.png").read_bytes())
        assert seg.shape == (6, 8, 4)
        assert seg[0, 0].tolist() == [255, 0, 0, 255]
        assert seg[0, 1].tolist() == [0, 0, 0, 0]

    @pytest.mark.parametrize(
        "args",
        [
            ("info", "missing.rrc"),
            ("verify", "missing.rrc"),
            ("export", "missing.rrc", "--to", "x"),
        ],
    )
    def test_bad_arguments_one_line_error(self, args: tuple[str, ...]) -> None:
        result = _cli(*args)
        assert result.returncode != 0
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1

    def test_not_a_recording(self, tmp_path: Path) -> None:
        bogus = tmp_path / "photo.rrc"
        bogus.write_bytes(b"\xff\xd8\xff" + bytes(100))
        result = _cli("info", str(bogus))
        assert result.returncode == 1
        assert "is a JPEG image, not a recording" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


class TestConvert:
    def test_convert_to_mcap_is_read_by_the_mcap_reader(
        self, recording: Path, tmp_path: Path
    ) -> None:
        reader = pytest.importorskip("mcap.reader", reason="needs the [mcap] extra")
        out = tmp_path / "rec.mcap"
        result = _cli("convert", str(recording), str(out))
        assert result.returncode == 0, result.stderr
        assert "converted 16 records" in result.stdout
        with out.open("rb") as stream:
            topics = {channel.topic for _, channel, _ in reader.make_reader(stream).iter_messages()}
        assert "/world/rgb" in topics
        assert "/world/rgb/rerun_core" in topics

    def test_convert_to_rrd(self, recording: Path, tmp_path: Path) -> None:
        pytest.importorskip("rerun", reason="needs the [rerun] extra")
        out = tmp_path / "rec.rrd"
        result = _cli("convert", str(recording), str(out))
        assert result.returncode == 0, result.stderr
        assert out.stat().st_size > 0

    def test_convert_unknown_extension(self, recording: Path, tmp_path: Path) -> None:
        result = _cli("convert", str(recording), str(tmp_path / "x.txt"))
        assert result.returncode == 1
        assert "supported extensions: .mcap, .rrd" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_save_picks_the_sink_from_the_extension(tmp_path: Path) -> None:
    pytest.importorskip("mcap.reader", reason="needs the [mcap] extra")
    from rerun_sinks import new_recording
    from rerun_sinks._mcap import read_mcap_records

    rec = new_recording("save-ext", strict=True, clock=lambda: 7)
    rec.log_image("cam", np.zeros((2, 3, 3), np.uint8))
    rec.save(tmp_path / "out.mcap")
    rec.disconnect()
    assert [r.entity_path for r in read_mcap_records(tmp_path / "out.mcap")] == [("cam",)]

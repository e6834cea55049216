"""convert() and sink_for_path(): .rrc files to .mcap / .rrd, sinks chosen by extension."""

from __future__ import annotations

import pytest

from rerun_sinks._convert import convert, sink_for_path
from rerun_sinks._file import FileSink


def write_rrc(path, records) -> None:
    with FileSink(path) as sink:
        for record in records:
            sink.write(record)


def test_convert_to_mcap_keeps_every_record(tmp_path, records):
    pytest.importorskip("mcap", reason="needs the [mcap] extra: pip install 'rerun-core[mcap]'")
    from rerun_sinks._mcap import read_mcap_records

    write_rrc(tmp_path / "run.rrc", records)
    ticks: list[int] = []
    count = convert(tmp_path / "run.rrc", tmp_path / "run.mcap", progress=ticks.append)
    assert count == len(records) == len(ticks)
    assert set(ticks) == {1}
    assert list(read_mcap_records(tmp_path / "run.mcap")) == records


def test_convert_to_rrd(tmp_path, records):
    rrchunk = pytest.importorskip(
        "rerun.chunk", reason="needs the [rerun] extra (rerun-sdk >= 0.41)"
    )
    write_rrc(tmp_path / "run.rrc", records)
    assert convert(str(tmp_path / "run.rrc"), str(tmp_path / "RUN.RRD")) == len(records)
    chunks = rrchunk.RrdReader(tmp_path / "RUN.RRD").stream().to_chunks()
    paths = {chunk.entity_path for chunk in chunks}
    assert paths >= {"/" + "/".join(r.entity_path) for r in records}


def test_convert_rejects_other_extensions(tmp_path, records):
    write_rrc(tmp_path / "run.rrc", records[:1])
    with pytest.raises(
        ValueError, match=r"cannot write \.png .*supported extensions: \.mcap, \.rrd"
    ):
        convert(tmp_path / "run.rrc", tmp_path / "run.png")
    with pytest.raises(ValueError, match="without an extension"):
        convert(tmp_path / "run.rrc", tmp_path / "run")
    assert not (tmp_path / "run.png").exists()


def test_convert_of_an_empty_file_writes_an_empty_recording(tmp_path):
    pytest.importorskip("mcap", reason="needs the [mcap] extra: pip install 'rerun-core[mcap]'")
    from rerun_sinks._mcap import read_mcap_records

    (tmp_path / "empty.rrc").write_bytes(b"")
    assert convert(tmp_path / "empty.rrc", tmp_path / "empty.mcap") == 0
    assert list(read_mcap_records(tmp_path / "empty.mcap")) == []


def test_sink_for_path_picks_the_sink_from_the_extension(tmp_path, records):
    pytest.importorskip("mcap", reason="needs the [mcap] extra: pip install 'rerun-core[mcap]'")
    pytest.importorskip("rerun", reason="needs the [rerun] extra: pip install 'rerun-core[rerun]'")
    from rerun_sinks._mcap import McapSink
    from rerun_sinks._rerun import RerunSink

    for name, kind in [("a.rrc", FileSink), ("b.MCAP", McapSink), ("c.rrd", RerunSink)]:
        with sink_for_path(tmp_path / name) as sink:
            assert isinstance(sink, kind)
            sink.write(records[0])
        assert (tmp_path / name).stat().st_size > 0
    with pytest.raises(ValueError, match=r"save\(\) cannot write \.txt .*\.rrc, \.mcap, \.rrd"):
        sink_for_path(tmp_path / "d.txt")

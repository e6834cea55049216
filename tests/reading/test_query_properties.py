"""Hypothesis: any query of ``open_recording`` equals a brute-force filter over ``read_records``."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

import rerun_core as rc
from rerun_core import strategies as rcst
from rerun_sinks import FileSink, open_recording, read_records

ENTITIES = ("/", "a", "a/b", "a/b/c", "ab", "cam/rgb")
TIMELINES = ("frame", "time", "other")
KINDS = ("image", "depth", "segmentation", "annotation_context", "extension")
KIND_OF = {
    rc.ImageMsg: "image",
    rc.DepthMsg: "depth",
    rc.SegmentationMsg: "segmentation",
    rc.AnnotationContextMsg: "annotation_context",
    rc.ExtensionMsg: "extension",
}
SMALL = st.integers(-5, 20) | st.sampled_from([-(2**63), 2**63 - 1])


@st.composite
def recordings(draw: st.DrawFn) -> list[rc.Record]:
    """Records over a few shared entities and timelines, so queries select something."""
    records = []
    for tick, base in enumerate(draw(st.lists(rcst.records(), max_size=10))):
        timeless = draw(st.booleans())
        names = draw(st.lists(st.sampled_from(TIMELINES), max_size=3, unique=True))
        timepoint = (
            None
            if timeless
            else {n: (draw(st.sampled_from(("sequence", "time"))), draw(SMALL)) for n in names}
        )
        records.append(
            rc.make_record(
                draw(st.sampled_from(ENTITIES)),
                base.msg,
                timepoint=timepoint,
                timeless=timeless,
                log_tick=tick,
                log_time_ns=base.log_time_ns,
            )
        )
    return records


def bounds() -> st.SearchStrategy[int | None]:
    return st.none() | SMALL | st.sampled_from([-(2**70), 2**70])


@st.composite
def queries(draw: st.DrawFn) -> dict[str, object]:
    """Keyword arguments of ``RecordingFile.query``: any subset, bounds only with a timeline."""
    query: dict[str, object] = {}
    if draw(st.booleans()):
        query["entity"] = draw(st.sampled_from((*ENTITIES, "a/**", "/**", "a/b/**", "zz", "zz/**")))
    if draw(st.booleans()):
        query["kinds"] = draw(st.sets(st.sampled_from(KINDS)))
    if draw(st.booleans()):
        query["timeline"] = draw(st.sampled_from((*TIMELINES, "unknown")))
        query["start"], query["stop"] = draw(bounds()), draw(bounds())
    return query


def brute_query(records: list[rc.Record], **query: object) -> list[rc.Record]:
    """The definition of ``query``, one record at a time."""
    entity = query.get("entity")
    timeline = query.get("timeline")
    start, stop = query.get("start"), query.get("stop")
    kinds = query.get("kinds")
    out = []
    for record in records:
        if isinstance(entity, str):
            if entity.endswith("/**"):
                base = entity[:-3]
                parts = rc.parse_entity_path(base) if base else ()
                if record.entity_path[: len(parts)] != parts:
                    continue
            elif record.entity_path != rc.parse_entity_path(entity):
                continue
        if kinds is not None and KIND_OF[type(record.msg)] not in kinds:  # type: ignore[operator]
            continue
        if isinstance(timeline, str) and not record.timeless:
            time = record.timepoint.get(timeline)
            if time is None:
                continue
            if isinstance(start, int) and time.value < start:
                continue
            if isinstance(stop, int) and time.value >= stop:
                continue
        out.append(record)
    return out


def brute_latest_at(
    records: list[rc.Record], entity: str, timeline: str, t: int
) -> rc.Record | None:
    own = [r for r in records if r.entity_path == rc.parse_entity_path(entity)]
    timed = [r for r in own if timeline in r.timepoint and r.timepoint[timeline].value <= t]
    if timed:
        best = max(r.timepoint[timeline].value for r in timed)
        return [r for r in timed if r.timepoint[timeline].value == best][-1]
    timeless = [r for r in own if r.timeless]
    return timeless[-1] if timeless else None


@contextmanager
def written(records: list[rc.Record]) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "rec.rrc"
        with FileSink(path) as sink:
            for record in records:
                sink.write(record)
        yield path


@given(recordings(), st.lists(queries(), min_size=1, max_size=4))
def test_any_query_equals_a_brute_force_filter(
    records: list[rc.Record], qs: list[dict[str, object]]
) -> None:
    with written(records) as path, open_recording(path) as f:
        expected = list(read_records(path))
        assert expected == records
        assert len(f) == len(records)
        assert list(f) == records
        assert f.entities == tuple(sorted({rc.format_entity_path(r.entity_path) for r in records}))
        for query in qs:
            assert list(f.query(**query)) == brute_query(records, **query)  # type: ignore[arg-type]


@given(recordings(), st.sampled_from(ENTITIES), st.sampled_from((*TIMELINES, "unknown")), SMALL)
def test_latest_at_equals_a_brute_force_search(
    records: list[rc.Record], entity: str, timeline: str, t: int
) -> None:
    with written(records) as path, open_recording(path) as f:
        assert f.latest_at(entity, timeline, t) == brute_latest_at(records, entity, timeline, t)


@given(recordings())
def test_timelines_and_ranges_equal_a_brute_force_summary(records: list[rc.Record]) -> None:
    kinds: dict[str, str] = {}
    values: dict[str, list[int]] = {}
    for record in records:
        for name, time in record.timepoint.items():
            kinds.setdefault(name, time.kind)
            values.setdefault(name, []).append(time.value)
    with written(records) as path, open_recording(path) as f:
        assert f.timelines == dict(sorted(kinds.items()))
        for name in (*TIMELINES, "unknown"):
            expected = (min(values[name]), max(values[name])) if name in values else None
            assert f.time_range(name) == expected


@given(recordings(), st.data())
def test_random_access_equals_the_list(records: list[rc.Record], data: st.DataObject) -> None:
    with written(records) as path, open_recording(path) as f:
        for _ in range(3):
            index = data.draw(st.integers(-len(records) - 2, len(records) + 1))
            if -len(records) <= index < len(records):
                assert f[index] == records[index]
            else:
                try:
                    f[index]
                except IndexError:
                    continue
                raise AssertionError(index)

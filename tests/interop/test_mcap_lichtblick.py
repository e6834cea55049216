"""Our .mcap opened with Lichtblick's own MCAP loading code (tools/lichtblick_check).

Runs only where a Lichtblick source checkout is given (``LICHTBLICK_DIR``, a work tree or a
bare repository) and node/npm are installed: the check builds Lichtblick's
``packages/mcap-support`` (parseChannel, decompression) and ``packages/den/image`` (the
Image panel's RawImage decoders) with the ``@mcap/core`` reader Lichtblick pins, and
reports the alerts a Lichtblick user would see (see tools/lichtblick_check/check.ts).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import rerun_core as rc
from rerun_sinks import McapSink

from .conftest import build_golden_records

pytest.importorskip(
    "foxglove", reason="McapSink needs the [mcap] extra: pip install 'rerun-core[mcap]'"
)

TOOL = Path(__file__).resolve().parents[2] / "tools" / "lichtblick_check" / "run.sh"
LICHTBLICK = os.environ.get("LICHTBLICK_DIR", "")

pytestmark = [
    pytest.mark.skipif(
        not LICHTBLICK or not Path(LICHTBLICK).is_dir(),
        reason="set LICHTBLICK_DIR to a Lichtblick checkout "
        "(git clone https://github.com/lichtblick-suite/lichtblick) to open our .mcap with "
        "Lichtblick's loader",
    ),
    pytest.mark.skipif(
        shutil.which("node") is None or shutil.which("npm") is None,
        reason="the Lichtblick check needs node >= 20 and npm",
    ),
]


def lichtblick_reports(*paths: Path) -> list[dict]:
    done = subprocess.run(
        [str(TOOL), LICHTBLICK, *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(done.stdout)


def test_lichtblick_opens_our_file_without_alerts_and_decodes_every_image(tmp_path):
    records = build_golden_records()
    with McapSink(tmp_path / "ours.mcap") as sink:
        for record in records:
            sink.write(record)
    (report,) = lichtblick_reports(tmp_path / "ours.mcap")
    assert report["alerts"] == []
    assert report["statistics"]
    topics = {t["topic"]: t for t in report["topics"]}
    assert all(t["channels"] == 1 for t in topics.values())
    for topic in topics.values():
        assert topic["deserialized"] == topic["messages"] > 0
        if topic["schemaName"].startswith("foxglove."):
            assert topic["imagesDecoded"] == topic["messages"]
    sides = [t for t in topics.values() if t["schemaName"] == "rerun_core.Record"]
    assert sum(t["messages"] for t in sides) == len(records)
    images = [
        r for r in records if not isinstance(r.msg, rc.AnnotationContextMsg | rc.ExtensionMsg)
    ]
    assert sum(t["messages"] for t in topics.values() if t not in sides) == len(images)
    mixed = records[-4].msg  # the "mixed" entity: raw images on /mixed, JPEGs on their own topic
    assert topics["/mixed"]["encodings"] == {"rgb8": 2}
    assert topics["/mixed"]["firstPixelsRGBA"] == [
        *np.asarray(mixed.pixels)[0, 0],
        255,
        *np.asarray(mixed.pixels)[0, 1],
        255,
    ]
    assert topics["/mixed/compressed"]["encodings"] == {"jpeg": 2}
    first = topics["/mixed/rerun_core"]["firstMessage"]
    assert (first["kind"], first["color_model"], first["log_tick"]) == ("image", "RGB", "200")


def test_foxglove_sdk_file_opens_the_same_way(tmp_path):
    """The reference: what foxglove-sdk itself writes opens without alerts too."""
    import foxglove
    from foxglove.channels import RawImageChannel
    from foxglove.messages import RawImage, Timestamp

    context = foxglove.Context()
    writer = foxglove.open_mcap(tmp_path / "foxglove.mcap", context=context)
    channel = RawImageChannel("/cam", context=context)
    pixels = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)
    for i in range(3):
        channel.log(
            RawImage(
                timestamp=Timestamp(1, i),
                frame_id="cam",
                width=6,
                height=4,
                encoding="rgb8",
                step=18,
                data=pixels.tobytes(),
            ),
            log_time=10**9 + i,
        )
    writer.close()
    (report,) = lichtblick_reports(tmp_path / "foxglove.mcap")
    assert report["alerts"] == []
    (topic,) = report["topics"]
    assert (topic["messages"], topic["imagesDecoded"]) == (3, 3)
    assert topic["firstPixelsRGBA"] == [0, 1, 2, 255, 3, 4, 5, 255]

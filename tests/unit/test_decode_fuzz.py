"""Decoder fuzz: crafted metadata (CBOR tags, wrong scalar types, flipped bytes), CRCs valid.

Runs in a subprocess with a timeout, so a decoder that hangs fails the test instead of
blocking CI. Every input must decode or raise ``DecodeError``, nothing else.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

SCRIPT = r"""
import random, struct, sys, zlib

import cbor2
import numpy as np
import rerun_core as rc

# Every tag cbor2 decodes natively (some turn into Decimal, Fraction, datetime, sets,
# shared references), plus unknown ones.
TAGS = [0, 1, 2, 3, 4, 5, 25, 28, 29, 30, 35, 36, 37, 52, 54, 100, 256, 258, 260, 261,
        1004, 43000, 55799, 7, 999, 2**32, 2**63]
TAG_VALUES = [[10**9, 3], [-(10**9), 7], [3, 10**9], 0, 1, b"\x01" * 9, "x", [1, 2], {}]
SCALARS = [3.7, 1.0, float("nan"), float("inf"), "3", "", True, False, None, b"3",
           2**64 - 1, -(2**63), -1, [3], {"a": 1}, cbor2.CBORSimpleValue(99),
           cbor2.undefined]


def records():
    rgb = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    time = {"frame": ("sequence", 4), "t": ("time", 5)}
    msgs = [
        rc.make_image_msg(rgb, draw_order=1.5, ext={"e": 2, "s": "v", "f": [1.5]}),
        rc.make_image_msg(rgb, jpeg_quality=80),
        rc.make_depth_msg(np.ones((2, 3), np.uint16), meter=1000),
        rc.make_segmentation_msg(np.eye(2, 3, dtype=np.uint8)),
        rc.make_annotation_context_msg(
            [rc.ClassDescription(info=(1, "a", (1, 2, 3)),
                                 keypoint_annotations=[(0, "k"), (1, "l")],
                                 keypoint_connections=[(0, 1)])]
        ),
        rc.make_extension_msg({"n": np.arange(3), "b": True}, identifiers=[1, 2, 3]),
    ]
    for index, msg in enumerate(msgs):
        yield rc.make_record(f"a/b{index}", msg, timepoint=time, log_tick=index, log_time_ns=7)


def split(encoded):
    meta_len, payload_len = struct.unpack_from("<IQ", encoded, 8)
    start = 24 + meta_len + (-(24 + meta_len) % 8)
    return cbor2.loads(encoded[24 : 24 + meta_len]), encoded[start : start + payload_len]


def frame(cbor, payload):
    head = struct.pack("<4sBBHIQ", b"\x89RRC", 1, 0, 1, len(cbor), len(payload))
    body = head + struct.pack("<I", zlib.crc32(head)) + cbor + bytes(-(24 + len(cbor)) % 8)
    body += payload + bytes(-(len(payload) + 4) % 8)
    return body + struct.pack("<I", zlib.crc32(body))


def leaves(tree, path=()):
    yield path
    items = tree.items() if isinstance(tree, dict) else ()
    items = enumerate(tree) if isinstance(tree, list) else items
    for key, value in items:
        yield from leaves(value, (*path, key))


def replaced(tree, path, value):
    if not path:
        return value
    copy = dict(tree) if isinstance(tree, dict) else list(tree)
    copy[path[0]] = replaced(tree[path[0]], path[1:], value)
    return copy


def check(data, tried):
    tried[0] += 1
    try:
        rc.decode_record(data)
        list(rc.iter_records(data + data))
        list(rc.scan_records(data))
    except rc.DecodeError:
        return
    except Exception as error:
        print(f"{type(error).__name__}: {error!r:.300} for {data[:200]!r}")
        sys.exit(1)


rng = random.Random(16)
tried = [0]
for record in records():
    meta, payload = split(rc.encode_record(record))
    for path in list(leaves(meta)):
        for tag in TAGS:
            value = rng.choice(TAG_VALUES)
            tagged = replaced(meta, path, cbor2.CBORTag(tag, value))
            check(frame(cbor2.dumps(tagged), payload), tried)
        for value in SCALARS:
            check(frame(cbor2.dumps(replaced(meta, path, value)), payload), tried)
    cbor = cbor2.dumps(meta)
    for _ in range(300):
        mutated = bytearray(cbor)
        for _ in range(rng.randint(1, 4)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        check(frame(bytes(mutated), payload), tried)
print(tried[0])
"""


def test_decoder_rejects_crafted_metadata_without_hanging() -> None:
    try:
        result = subprocess.run(
            [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, check=False
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the decoder hung on crafted metadata (no answer within 120 s)")
    assert result.returncode == 0, result.stdout + result.stderr
    assert int(result.stdout) > 5000

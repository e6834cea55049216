"""make_encoded_image_msg takes the file's bytes from any C-contiguous byte buffer, copied once."""

from __future__ import annotations

import array
import io

import numpy as np
import pytest
from PIL import Image

import rerun_core as rc


def _file(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.arange(48, dtype=np.uint8).reshape(4, 4, 3)).save(out, format=fmt)
    return out.getvalue()


BUFFERS = {
    "bytes": bytes,
    "bytearray": bytearray,
    "memoryview": lambda data: memoryview(bytearray(data)),
    "numpy-1d": lambda data: np.frombuffer(data, np.uint8).copy(),
    "numpy-column": lambda data: np.frombuffer(data, np.uint8).copy().reshape(-1, 1),
    "array-B": lambda data: array.array("B", data),
}


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
@pytest.mark.parametrize("kind", BUFFERS)
def test_any_byte_buffer_gives_the_same_message(fmt: str, kind: str) -> None:
    data = _file(fmt)
    buffer = BUFFERS[kind](data)
    msg = rc.make_encoded_image_msg(buffer)
    assert msg == rc.make_encoded_image_msg(data)
    if isinstance(buffer, bytes):
        return
    view = memoryview(buffer).cast("B")
    view[:] = bytes(len(view))  # the caller reuses its buffer: the message must not change
    assert msg == rc.make_encoded_image_msg(data)


def test_bytes_are_kept_without_a_copy() -> None:
    data = _file("JPEG")
    assert rc.make_encoded_image_msg(data).encoded is data

"""``borrow=True``: large pixels stay a read-only view of the array; nothing else changes."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import rerun_core as rc
from rerun_core import strategies as rcst
from rerun_core._arrays import BORROW_BYTES, freeze

BUILDERS: dict[str, tuple[Any, st.SearchStrategy[Any]]] = {
    "image": (rc.make_image_msg, rcst.image_arrays()),
    "depth": (rc.make_depth_msg, rcst.depth_arrays()),
    "segmentation": (rc.make_segmentation_msg, rcst.segmentation_arrays()),
}
LARGE = {  # one array per builder of BORROW_BYTES or more that needs no conversion
    "image": np.arange(128 * 256 * 3, dtype=np.uint8).reshape(128, 256, 3),
    "depth": np.arange(128 * 256, dtype=np.float32).reshape(128, 256),
    "segmentation": (np.arange(256 * 256) % 300).astype(np.uint16).reshape(256, 256),
}


def test_freeze_borrows_a_large_array_as_a_read_only_view():
    arr = np.ones(BORROW_BYTES, np.uint8)
    view = freeze(arr, borrow=True)
    assert np.shares_memory(view, arr)
    assert not view.flags.writeable
    assert arr.flags.writeable  # the caller's array is left as it was
    assert type(view) is np.ndarray


@pytest.mark.parametrize(
    ("arr", "dtype"),
    [
        (np.ones(BORROW_BYTES - 1, np.uint8), None),  # small: a copy is cheaper
        (np.ones((512, 256), np.uint8)[:, ::2], None),  # not C-contiguous
        (np.ones(BORROW_BYTES, ">u2"), None),  # big-endian: converted
        (np.ones(BORROW_BYTES, np.int64), np.uint16),  # narrowed
    ],
)
def test_freeze_copies_what_it_cannot_borrow(arr, dtype):
    frozen = freeze(arr, dtype, borrow=True)
    assert not np.shares_memory(frozen, arr)
    assert type(frozen.base) is bytes


def test_freeze_copies_by_default():
    arr = np.ones(BORROW_BYTES, np.uint8)
    assert not np.shares_memory(freeze(arr), arr)


@pytest.mark.parametrize("kind", BUILDERS)
def test_builders_borrow_large_pixels_only_when_asked(kind):
    builder, _ = BUILDERS[kind]
    arr = LARGE[kind]
    borrowed, copied = builder(arr, borrow=True), builder(arr)
    assert np.shares_memory(borrowed.pixels, arr)
    assert not borrowed.pixels.flags.writeable
    assert not np.shares_memory(copied.pixels, arr)
    assert borrowed == copied


def test_a_borrowed_message_sees_the_callers_changes():
    """What borrowing means: the caller must leave the array alone while the message is used."""
    arr = LARGE["image"].copy()
    msg = rc.make_image_msg(arr, borrow=True)
    arr[0, 0, 0] = 255
    assert msg.pixels[0, 0, 0] == 255


def test_jpeg_images_ignore_borrow():
    arr = np.zeros((256, 256, 3), np.uint8)
    msg = rc.make_image_msg(arr, jpeg_quality=90, borrow=True)
    assert msg.pixels is None
    assert msg == rc.make_image_msg(arr, jpeg_quality=90)


@pytest.mark.parametrize("kind", BUILDERS)
@given(data=st.data())
def test_borrowing_never_changes_the_message_or_its_bytes(kind: str, data: st.DataObject) -> None:
    builder, arrays = BUILDERS[kind]
    image = data.draw(arrays, label="image")
    borrowed, copied = builder(image, borrow=True), builder(image)
    assert borrowed == copied
    assert rc.encode_record(rc.make_record("cam", borrowed)) == rc.encode_record(
        rc.make_record("cam", copied)
    )


def test_send_columns_options_do_not_include_borrow():
    with pytest.raises(TypeError, match="unexpected options borrow"):
        rc.make_column_msgs(np.zeros((2, 4, 4), np.uint8), borrow=True)


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float16", "float32", "float64"])
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_every_large_image_layout_is_borrowed_with_the_same_bytes(dtype, channels):
    rng = np.random.default_rng(channels)
    arr = (rng.random((256, 256, channels)) * 200).astype(dtype)
    borrowed, copied = rc.make_image_msg(arr, borrow=True), rc.make_image_msg(arr)
    assert np.shares_memory(borrowed.pixels, arr)
    record = rc.make_record("cam", borrowed, timepoint={"frame": rc.TimeValue("sequence", 3)})
    same = rc.make_record("cam", copied, timepoint={"frame": rc.TimeValue("sequence", 3)})
    assert rc.encode_record(record) == rc.encode_record(same)
    assert b"".join(rc.RecordEncoder().encode_parts(record)) == rc.encode_record(same)

"""Builders are pure: inputs are never mutated, messages never alias writable caller memory."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import rerun_core as rc
from rerun_core import strategies as rcst

PIXEL_BUILDERS: dict[str, tuple[Callable[..., Any], st.SearchStrategy[Any]]] = {
    "image": (rc.make_image_msg, rcst.image_arrays()),
    "depth": (rc.make_depth_msg, rcst.depth_arrays()),
    "segmentation": (rc.make_segmentation_msg, rcst.segmentation_arrays()),
}


class Snapshot:
    """Everything observable about an array: values, dtype (with byte order), layout, flags."""

    def __init__(self, arr: np.ndarray) -> None:
        self.arr = arr
        self.values = arr.copy()
        self.layout = (arr.dtype, arr.shape, arr.strides)
        self.flags = (arr.flags.writeable, arr.flags.c_contiguous, arr.flags.f_contiguous)

    def assert_unchanged(self) -> None:
        arr = self.arr
        assert (arr.dtype, arr.shape, arr.strides) == self.layout
        assert (arr.flags.writeable, arr.flags.c_contiguous, arr.flags.f_contiguous) == self.flags
        assert np.array_equal(arr, self.values, equal_nan=arr.dtype.kind in "fc")


def snapshot_ext(ext: dict[str, Any]) -> tuple[dict[str, Any], list[Snapshot]]:
    arrays = [Snapshot(v) for v in ext.values() if isinstance(v, np.ndarray)]
    others = {k: copy.deepcopy(v) for k, v in ext.items() if not isinstance(v, np.ndarray)}
    return others, arrays


def assert_ext_unchanged(
    ext: dict[str, Any], before: tuple[dict[str, Any], list[Snapshot]]
) -> None:
    others, arrays = before
    for snap in arrays:
        snap.assert_unchanged()
    assert {k: v for k, v in ext.items() if not isinstance(v, np.ndarray)}.keys() == others.keys()
    for key, value in others.items():
        assert repr(ext[key]) == repr(value)


def scribble(arr: np.ndarray) -> None:
    """Overwrite every element of a writable array so that at least the first one changes."""
    first = arr.flat[0]
    arr[...] = 0 if first == 1 else 1


def pixel_arrays(msg: Any) -> list[np.ndarray]:
    """Every array a message holds: pixels and ext / extension components."""
    arrays = []
    if getattr(msg, "pixels", None) is not None:
        arrays.append(msg.pixels)
    arrays.extend(getattr(msg, "ext", {}).values())
    arrays.extend(getattr(msg, "components", {}).values())
    return arrays


@pytest.mark.parametrize("kind", PIXEL_BUILDERS)
@given(data=st.data())
def test_builders_never_mutate_their_input(kind: str, data: st.DataObject) -> None:
    builder, arrays = PIXEL_BUILDERS[kind]
    image = data.draw(arrays, label="image")
    ext = data.draw(rcst.ext_components(), label="ext")
    draw_order = data.draw(rcst.draw_orders(), label="draw_order")
    image_before, ext_before, ext_keys = Snapshot(image), snapshot_ext(ext), list(ext)

    builder(image, draw_order=draw_order, ext=ext)

    image_before.assert_unchanged()
    assert list(ext) == ext_keys
    assert_ext_unchanged(ext, ext_before)


@given(descriptions=rcst.class_descriptions())
def test_annotation_builder_never_mutates_its_input(descriptions: Any) -> None:
    before = repr(descriptions)
    rc.make_annotation_context_msg(descriptions)
    assert repr(descriptions) == before


@given(ext=rcst.ext_components(single_instance=False))
def test_extension_builder_never_mutates_its_input(ext: dict[str, Any]) -> None:
    before, keys = snapshot_ext(ext), list(ext)
    rc.make_extension_msg(ext)
    assert list(ext) == keys
    assert_ext_unchanged(ext, before)


@pytest.mark.parametrize("kind", PIXEL_BUILDERS)
@given(data=st.data())
def test_mutating_the_input_after_the_build_does_not_change_the_message(
    kind: str, data: st.DataObject
) -> None:
    builder, arrays = PIXEL_BUILDERS[kind]
    image = data.draw(arrays, label="image")
    ext = data.draw(rcst.ext_components(), label="ext")
    msg = builder(image, ext=ext)
    pixels_before = msg.pixels.copy()
    ext_before = {k: v.copy() for k, v in msg.ext.items()}
    if not image.flags.writeable:
        # A caller that owns read-only memory can make it writable again.
        with contextlib.suppress(ValueError):
            image.setflags(write=True)
    if image.flags.writeable:
        assert not np.shares_memory(msg.pixels, image)
        scribble(image)
    for value in ext.values():
        if isinstance(value, np.ndarray) and value.flags.writeable:
            scribble(value)
    ext["late_addition"] = 1
    ext.clear()

    assert np.array_equal(msg.pixels, pixels_before, equal_nan=True)
    assert set(msg.ext) == set(ext_before)
    for name, value in ext_before.items():
        assert np.array_equal(msg.ext[name], value, equal_nan=value.dtype.kind == "f")


@given(ext=rcst.ext_components(single_instance=False))
def test_mutating_extension_input_after_the_build_does_not_change_the_message(
    ext: dict[str, Any],
) -> None:
    msg = rc.make_extension_msg(ext)
    before = {k: v.copy() for k, v in msg.components.items()}
    for value in ext.values():
        if isinstance(value, np.ndarray) and value.flags.writeable:
            scribble(value)
        elif isinstance(value, list) and value:
            value[0] = value[-1] if len(value) > 1 else value[0]
    ext.clear()
    assert set(msg.components) == set(before)
    for name, value in before.items():
        got = msg.components[name]
        assert np.array_equal(got, value, equal_nan=value.dtype.kind == "f")


@pytest.mark.parametrize("kind", PIXEL_BUILDERS)
@given(data=st.data())
def test_building_twice_gives_equal_messages(kind: str, data: st.DataObject) -> None:
    builder, arrays = PIXEL_BUILDERS[kind]
    image = data.draw(arrays, label="image")
    ext = data.draw(rcst.ext_components(), label="ext")
    draw_order = data.draw(rcst.draw_orders(), label="draw_order")
    first = builder(image, draw_order=draw_order, ext=ext)
    assert builder(image, draw_order=draw_order, ext=ext) == first
    assert builder(image.copy(), draw_order=draw_order, ext=dict(ext)) == first
    assert builder(first.pixels, draw_order=draw_order, ext=ext) == first


@given(descriptions=rcst.class_descriptions())
def test_building_annotation_contexts_twice_gives_equal_messages(descriptions: Any) -> None:
    first = rc.make_annotation_context_msg(descriptions)
    assert rc.make_annotation_context_msg(descriptions) == first
    assert rc.make_annotation_context_msg(first.class_descriptions) == first


@given(ext=rcst.ext_components(single_instance=False))
def test_building_extension_messages_twice_gives_equal_messages(ext: dict[str, Any]) -> None:
    first = rc.make_extension_msg(ext)
    assert rc.make_extension_msg(ext) == first
    assert rc.make_extension_msg(first.components) == first


@given(msg=rcst.messages())
def test_message_arrays_are_read_only_for_good(msg: rc.Message) -> None:
    for arr in pixel_arrays(msg):
        assert not arr.flags.writeable
        assert arr.flags.c_contiguous
        with pytest.raises(ValueError, match=r"WRITEABLE|writeable|read-only"):
            arr.setflags(write=True)
        with pytest.raises(ValueError, match="read-only"):
            arr[...] = arr

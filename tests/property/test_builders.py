"""Builders round-trip every valid input and reject every invalid one (public strategies only)."""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import rerun_core as rc
from rerun_core import strategies as rcst

IMAGE_DTYPES = ("uint8", "uint16", "float16", "float32", "float64")
DEPTH_DTYPES = ("uint8", "uint16", "float32", "float64")
SEGMENTATION_DTYPES = (
    "bool",
    "uint8",
    "uint16",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint32",
    "uint64",
)
DEFAULT_MODELS = {1: rc.ColorModel.L, 3: rc.ColorModel.RGB, 4: rc.ColorModel.RGBA}


def native(arr: np.ndarray) -> np.ndarray:
    """Return ``arr`` as a C-ordered, little-endian copy with the same values."""
    return np.ascontiguousarray(arr.astype(arr.dtype.newbyteorder("<")))


def as_hwc(image: np.ndarray) -> np.ndarray:
    """HxW -> HxWx1; HxWxC and 1xHxWxC -> HxWxC."""
    shape = (*image.shape, 1) if image.ndim == 2 else image.shape[-3:]
    return native(image).reshape(shape)


def as_hw(image: np.ndarray) -> np.ndarray:
    """HxW and HxWx1 -> HxW."""
    return native(image).reshape(image.shape[:2])


def assert_stored(pixels: np.ndarray) -> None:
    assert not pixels.flags.writeable
    with pytest.raises(ValueError, match=r"(?i)writeable"):
        pixels.setflags(write=True)
    assert pixels.flags.c_contiguous
    assert pixels.dtype.byteorder in "=<|"


def expected_ext(ext: dict[str, Any]) -> dict[str, np.ndarray]:
    return {
        (name if name.startswith("ext.") else f"ext.{name}"): native(np.atleast_1d(value))
        for name, value in ext.items()
    }


def assert_ext_equal(got: Any, ext: dict[str, Any]) -> None:
    expected = expected_ext(ext)
    assert set(got) == set(expected)
    for name, value in expected.items():
        assert got[name].dtype == value.dtype, name
        assert np.array_equal(got[name], value, equal_nan=value.dtype.kind == "f"), name
        assert not got[name].flags.writeable


# -- round trips ------------------------------------------------------------------------------


@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("dtype", IMAGE_DTYPES)
@given(data=st.data())
def test_image_round_trips(dtype: str, channels: int, data: st.DataObject) -> None:
    image = data.draw(rcst.image_arrays(dtype=dtype, channels=channels), label="image")
    model = data.draw(st.none() | rcst.color_models_for(channels), label="color_model")
    draw_order = data.draw(rcst.draw_orders(), label="draw_order")

    msg = rc.make_image_msg(image, color_model=model, draw_order=draw_order)

    expected = as_hwc(image)
    assert msg.pixels is not None
    assert msg.pixels.dtype == np.dtype(dtype)
    assert msg.pixels.shape == expected.shape
    assert np.array_equal(msg.pixels, expected, equal_nan=True)
    assert_stored(msg.pixels)
    assert (msg.height, msg.width, msg.channels) == expected.shape
    assert msg.encoded is None
    assert msg.media_type is None
    want_model = DEFAULT_MODELS[channels] if model is None else rc.ColorModel(model)
    assert msg.color_model is want_model
    assert msg.draw_order == (None if draw_order is None else float(draw_order))
    assert dict(msg.ext) == {}
    assert attrs.evolve(msg) == msg  # the builder's checks imply every ImageMsg invariant


@pytest.mark.parametrize("dtype", DEPTH_DTYPES)
@given(data=st.data())
def test_depth_round_trips(dtype: str, data: st.DataObject) -> None:
    image = data.draw(rcst.depth_arrays(dtype=dtype), label="image")
    meter = data.draw(rcst.meters(), label="meter")

    msg = rc.make_depth_msg(image, meter=meter)

    expected = as_hw(image)
    assert msg.pixels.dtype == np.dtype(dtype)
    assert msg.pixels.shape == expected.shape
    assert np.array_equal(msg.pixels, expected, equal_nan=True)
    assert_stored(msg.pixels)
    assert msg.meter == meter
    default = 1.0 if np.dtype(dtype).kind == "f" else 1000.0
    assert msg.effective_meter == (default if meter is None else meter)
    assert attrs.evolve(msg) == msg


@pytest.mark.parametrize("dtype", SEGMENTATION_DTYPES)
@given(data=st.data())
def test_segmentation_round_trips(dtype: str, data: st.DataObject) -> None:
    image = data.draw(rcst.segmentation_arrays(dtype=dtype), label="image")

    msg = rc.make_segmentation_msg(image)

    expected = as_hw(image).astype(np.int64)
    assert msg.pixels.shape == expected.shape
    assert np.array_equal(msg.pixels.astype(np.int64), expected)
    assert msg.pixels.dtype == (np.uint8 if expected.max() < 256 else np.uint16)
    assert_stored(msg.pixels)
    assert attrs.evolve(msg) == msg


@given(
    image=rcst.image_arrays(max_side=4),
    depth=rcst.depth_arrays(max_side=4),
    ids=rcst.segmentation_arrays(max_side=4),
    ext=rcst.ext_components(),
)
def test_ext_round_trips_on_every_pixel_message(
    image: np.ndarray, depth: np.ndarray, ids: np.ndarray, ext: dict[str, Any]
) -> None:
    built = (
        rc.make_image_msg(image, ext=ext),
        rc.make_depth_msg(depth, ext=ext),
        rc.make_segmentation_msg(ids, ext=ext),
    )
    for msg in built:
        assert_ext_equal(msg.ext, ext)
        assert attrs.evolve(msg) == msg


@given(ext=rcst.ext_components(single_instance=False))
def test_extension_msg_round_trips(ext: dict[str, Any]) -> None:
    assert_ext_equal(rc.make_extension_msg(ext).components, ext)


@given(image=rcst.image_arrays(dtype="uint8", channels=3, max_side=8), q=st.integers(1, 100))
def test_jpeg_quality_keeps_geometry_and_options(image: np.ndarray, q: int) -> None:
    msg = rc.make_image_msg(image, jpeg_quality=q, draw_order=1.5, ext={"a": 1})
    assert msg.pixels is None
    assert msg.encoded is not None
    assert msg.media_type is rc.ImageFormat.JPEG
    assert msg.shape == as_hwc(image).shape
    assert msg.draw_order == 1.5
    assert list(msg.ext) == ["ext.a"]


# -- valid inputs never raise, invalid inputs always do ---------------------------------------


@given(msg=rcst.messages())
def test_valid_messages_build(msg: rc.Message) -> None:
    assert isinstance(
        msg,
        rc.ImageMsg | rc.DepthMsg | rc.SegmentationMsg | rc.AnnotationContextMsg | rc.ExtensionMsg,
    )


@given(record=rcst.records())
def test_valid_records_build(record: rc.Record) -> None:
    assert isinstance(record, rc.Record)
    assert all(isinstance(part, str) and part for part in record.entity_path)
    if record.timeless:
        assert dict(record.timepoint) == {}
    assert record.log_tick >= 0


@given(path=rcst.entity_paths())
def test_entity_paths_normalise(path: str) -> None:
    parts = rc.parse_entity_path(path)
    assert parts == tuple(part for part in path.split("/") if part)
    assert rc.parse_entity_path(rc.format_entity_path(parts)) == parts


@given(call=rcst.invalid_image_inputs())
def test_invalid_images_raise(call: tuple[tuple[Any, ...], dict[str, Any]]) -> None:
    args, kwargs = call
    with pytest.raises(rc.RerunCoreError):
        rc.make_image_msg(*args, **kwargs)


@given(call=rcst.invalid_depth_inputs())
def test_invalid_depth_raises(call: tuple[tuple[Any, ...], dict[str, Any]]) -> None:
    args, kwargs = call
    with pytest.raises(rc.RerunCoreError):
        rc.make_depth_msg(*args, **kwargs)


@given(call=rcst.invalid_segmentation_inputs())
def test_invalid_segmentation_raises(call: tuple[tuple[Any, ...], dict[str, Any]]) -> None:
    args, kwargs = call
    with pytest.raises(rc.RerunCoreError):
        rc.make_segmentation_msg(*args, **kwargs)


@given(case=rcst.invalid_inputs())
def test_invalid_inputs_raise(case: tuple[Any, tuple[Any, ...], dict[str, Any]]) -> None:
    builder, args, kwargs = case
    assert builder in (rc.make_image_msg, rc.make_depth_msg, rc.make_segmentation_msg)
    with pytest.raises(rc.RerunCoreError):
        builder(*args, **kwargs)


# -- evolve and annotation colours ------------------------------------------------------------


@given(msg=rcst.messages())
def test_evolve_without_changes_gives_an_equal_message(msg: rc.Message) -> None:
    assert attrs.evolve(msg) == msg


@given(record=rcst.records())
def test_evolve_without_changes_gives_an_equal_record(record: rc.Record) -> None:
    assert attrs.evolve(record) == record


def _hex(rgba: tuple[int, ...]) -> str:
    return "#" + bytes(rgba).hex()


COLOR_FORMS = {
    "int4": tuple,
    "list": list,
    "uint8": lambda c: np.array(c, dtype=np.uint8),
    "int64": lambda c: np.array(c, dtype=np.int64),
    "float4": lambda c: tuple(v / 255 for v in c),
    "float64 array": lambda c: np.array(c, dtype=np.float64) / 255,
    "float32 array": lambda c: np.array(c, dtype=np.float32) / np.float32(255),
    "hex8": _hex,
    "HEX8 no hash": lambda c: bytes(c).hex().upper(),
}
OPAQUE_FORMS = {
    "int3": lambda c: tuple(c[:3]),
    "float3": lambda c: tuple(v / 255 for v in c[:3]),
    "hex6": lambda c: _hex(c[:3]),
}


def _recolor(info: rc.AnnotationInfo, form: Any) -> rc.AnnotationInfo:
    color = info.color
    if color is not None and (form in COLOR_FORMS.values() or color[3] == 255):
        color = form(color)
    return rc.AnnotationInfo(info.id, info.label, color)


def _rebuild(msg: rc.AnnotationContextMsg, form: Any) -> rc.AnnotationContextMsg:
    return rc.make_annotation_context_msg(
        [
            rc.ClassDescription(
                info=_recolor(cd.info, form),
                keypoint_annotations=[_recolor(k, form) for k in cd.keypoint_annotations],
                keypoint_connections=cd.keypoint_connections,
            )
            for cd in msg.class_descriptions
        ]
    )


@given(descriptions=rcst.class_descriptions())
def test_every_colour_form_gives_equal_annotation_contexts(descriptions: Any) -> None:
    msg = rc.make_annotation_context_msg(descriptions)
    for cd in msg.class_descriptions:
        for info in (cd.info, *cd.keypoint_annotations):
            if info.color is not None:
                assert isinstance(info.color, tuple)
                assert len(info.color) == 4
                assert all(type(v) is int and 0 <= v <= 255 for v in info.color)
    for name, form in {**COLOR_FORMS, **OPAQUE_FORMS}.items():
        assert _rebuild(msg, form) == msg, name


def expected_rgba(color: Any) -> tuple[int, ...]:
    """The RGBA the contract promises: hex digits, ints as given, floats times 255."""
    if isinstance(color, str):
        digits = color.removeprefix("#")
        channels = [int(digits[i : i + 2], 16) for i in range(0, len(digits), 2)]
    else:
        values = np.asarray(color)
        if values.dtype.kind == "f":
            channels = [round(float(v) * 255) for v in values]
        else:
            channels = [int(v) for v in values]
    return tuple(channels) if len(channels) == 4 else (*channels, 255)


@given(color=rcst.colors())
def test_any_colour_form_normalises_to_rgba(color: Any) -> None:
    msg = rc.make_annotation_context_msg([(7, "x", color)])
    rgba = msg.class_descriptions[0].info.color
    assert rgba == expected_rgba(color)
    for form in COLOR_FORMS.values():
        assert rc.make_annotation_context_msg([(7, "x", form(rgba))]) == msg


# -- regression: numbers too large for a float are typed errors, not OverflowError --------


@pytest.mark.parametrize(
    ("builder", "kwargs"),
    [
        (rc.make_image_msg, {"draw_order": 10**400}),
        (rc.make_depth_msg, {"draw_order": 10**400}),
        (rc.make_depth_msg, {"meter": 10**400}),
    ],
)
def test_numbers_too_large_for_a_float_raise_rerun_core_error(builder: Any, kwargs: Any) -> None:
    with pytest.raises(rc.RerunCoreError):
        builder(np.zeros((2, 2), np.uint8), **kwargs)

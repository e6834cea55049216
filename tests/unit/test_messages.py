"""Messages: immutable, compared by value, re-validated by attrs.evolve."""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType
from typing import Any

import attrs
import numpy as np
import pytest

import rerun_core as rc
from rerun_core._messages import trusted_constructor
from rerun_core.errors import InvalidArgumentError, UnsupportedDtypeError
from rerun_core.unchecked import stamp_record


def _rgb() -> np.ndarray:
    return np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)


class TestImmutability:
    def test_pixels_cannot_be_made_writable(self) -> None:
        msg = rc.make_image_msg(_rgb())
        assert msg.pixels is not None
        assert not msg.pixels.flags.writeable
        with pytest.raises(ValueError, match="WRITEABLE"):
            msg.pixels.setflags(write=True)

    def test_fields_cannot_be_assigned(self) -> None:
        msg = rc.make_depth_msg(np.ones((2, 2), np.uint16))
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            msg.meter = 5.0  # type: ignore[misc]

    def test_ext_values_are_read_only(self) -> None:
        msg = rc.make_image_msg(_rgb(), ext={"a": 1})
        with pytest.raises(TypeError):
            msg.ext["ext.b"] = np.array([1])  # type: ignore[index]
        assert not msg.ext["ext.a"].flags.writeable

    def test_direct_construction_freezes_a_caller_array(self) -> None:
        pixels = np.zeros((2, 2), np.uint16)
        msg = rc.DepthMsg(pixels=pixels)
        pixels[0, 0] = 7
        assert msg.pixels[0, 0] == 0
        assert not msg.pixels.flags.writeable

    def test_messages_are_final(self) -> None:
        with pytest.raises(TypeError):
            type("Sub", (rc.ImageMsg,), {})


class TestEquality:
    def test_equal_by_value(self) -> None:
        assert rc.make_image_msg(_rgb()) == rc.make_image_msg(_rgb().copy())

    def test_dtype_matters(self) -> None:
        a = rc.make_image_msg(np.zeros((2, 2), np.float32))
        b = rc.make_image_msg(np.zeros((2, 2), np.float64))
        assert a != b

    def test_shape_matters(self) -> None:
        a = rc.make_image_msg(np.zeros((2, 3), np.uint8))
        b = rc.make_image_msg(np.zeros((3, 2), np.uint8))
        assert a != b

    def test_nan_equals_nan(self) -> None:
        img = np.full((2, 2), np.nan, np.float32)
        assert rc.make_image_msg(img) == rc.make_image_msg(img)
        assert rc.make_depth_msg(img) == rc.make_depth_msg(img)

    def test_ext_compared_by_value(self) -> None:
        assert rc.make_image_msg(_rgb(), ext={"a": 1}) == rc.make_image_msg(
            _rgb(), ext={"ext.a": 1}
        )
        assert rc.make_image_msg(_rgb(), ext={"a": 1}) != rc.make_image_msg(_rgb(), ext={"a": 2})
        assert rc.make_image_msg(_rgb(), ext={"a": 1}) != rc.make_image_msg(_rgb(), ext={"a": 1.0})

    def test_color_model_matters(self) -> None:
        assert rc.make_image_msg(_rgb()) != rc.make_image_msg(_rgb(), color_model="BGR")

    def test_messages_are_hashable_consistently(self) -> None:
        assert hash(rc.make_image_msg(_rgb())) == hash(rc.make_image_msg(_rgb()))


class TestEvolve:
    def test_evolve_without_changes_is_equal(self) -> None:
        msg = rc.make_image_msg(_rgb(), draw_order=2.0)
        assert attrs.evolve(msg) == msg

    def test_evolve_revalidates_pixels(self) -> None:
        msg = rc.make_image_msg(_rgb())
        with pytest.raises(InvalidArgumentError, match="declares height, width, channels"):
            attrs.evolve(msg, pixels=np.zeros((2, 2, 3), np.uint8))

    def test_evolve_revalidates_dtype(self) -> None:
        msg = rc.make_depth_msg(np.zeros((2, 2), np.uint16))
        with pytest.raises(UnsupportedDtypeError, match="int64"):
            attrs.evolve(msg, pixels=np.zeros((2, 2), np.int64))

    def test_evolve_revalidates_options(self) -> None:
        msg = rc.make_depth_msg(np.zeros((2, 2), np.uint16))
        with pytest.raises(InvalidArgumentError, match="meter"):
            attrs.evolve(msg, meter=-1)
        with pytest.raises(InvalidArgumentError, match="needs 4 channels"):
            attrs.evolve(rc.make_image_msg(_rgb()), color_model="RGBA")

    def test_evolve_freezes_new_pixels(self) -> None:
        msg = rc.make_segmentation_msg(np.zeros((2, 2), np.uint8))
        new = np.ones((3, 3), np.uint8)
        evolved = attrs.evolve(msg, pixels=new)
        new[:] = 9
        assert int(evolved.pixels.max()) == 1

    def test_evolve_encoded_checks_header(self) -> None:
        msg = rc.make_image_msg(_rgb(), jpeg_quality=90)
        with pytest.raises(InvalidArgumentError, match="declares"):
            attrs.evolve(msg, height=99)

    def test_extension_msg_revalidates_lengths(self) -> None:
        msg = rc.make_extension_msg({"a": [1, 2]})
        with pytest.raises(InvalidArgumentError, match="same number N"):
            attrs.evolve(msg, identifiers=[1, 2, 3])


class TestRecord:
    def test_record_fields(self) -> None:
        msg = rc.make_image_msg(_rgb())
        record = rc.make_record(
            "/camera//rgb/",
            msg,
            timepoint={"frame": rc.TimeValue("sequence", 3)},
            log_tick=4,
            log_time_ns=5,
        )
        assert record.entity_path == ("camera", "rgb")
        assert record.timepoint == {"frame": rc.TimeValue("sequence", 3)}
        assert (record.timeless, record.log_tick, record.log_time_ns) == (False, 4, 5)

    def test_root_path_is_empty_tuple(self) -> None:
        record = rc.make_record("/", rc.make_annotation_context_msg([(0, "bg")]), timeless=True)
        assert record.entity_path == ()
        assert rc.format_entity_path(record.entity_path) == "/"

    def test_timepoint_accepts_tuples(self) -> None:
        msg = rc.make_image_msg(_rgb())
        a = rc.make_record("a", msg, timepoint={"t": ("time", 10)})
        b = rc.make_record("a", msg, timepoint={"t": rc.TimeValue("time", 10)})
        assert a == b

    def test_timepoint_is_read_only(self) -> None:
        record = rc.make_record("a", rc.make_image_msg(_rgb()), timepoint={"t": ("time", 1)})
        with pytest.raises(TypeError):
            record.timepoint["u"] = rc.TimeValue("time", 2)  # type: ignore[index]

    @pytest.mark.parametrize("value", [-(2**63), 2**63 - 1])
    def test_time_values_are_int64(self, value: int) -> None:
        assert (rc.TimeValue.MIN, rc.TimeValue.MAX) == (-(2**63), 2**63 - 1)
        assert rc.TimeValue("time", value).value == value
        with pytest.raises(InvalidArgumentError, match="time value must be in"):
            rc.TimeValue("time", value + (1 if value > 0 else -1))


class TestTrustedConstruction:
    """The builders' fast path: fields already checked, no converters or validators."""

    def test_builds_an_equal_message(self) -> None:
        msg = rc.make_image_msg(_rgb(), draw_order=2)
        build = trusted_constructor(rc.ImageMsg)
        copy = build(**{f.name: getattr(msg, f.name) for f in attrs.fields(rc.ImageMsg)})
        assert type(copy) is rc.ImageMsg
        assert copy == msg
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            copy.height = 3  # type: ignore[misc]

    @pytest.mark.parametrize("change", ["missing", "extra", "misspelt"])
    def test_every_field_is_required(self, change: str) -> None:
        fields: dict[str, object] = {"kind": "sequence", "value": 1}
        if change == "missing":
            del fields["value"]
        elif change == "extra":
            fields["other"] = 2
        else:
            fields["valu"] = fields.pop("value")
        with pytest.raises(TypeError, match=r"keyword(-only)? argument"):
            trusted_constructor(rc.TimeValue)(**fields)

    @pytest.mark.parametrize(
        ("builder", "array"),
        [
            (rc.make_image_msg, np.arange(60, dtype=np.uint8).reshape(4, 5, 3)),
            (rc.make_depth_msg, np.arange(20, dtype=np.uint16).reshape(4, 5)),
            (rc.make_segmentation_msg, np.arange(20, dtype=np.uint8).reshape(4, 5)),
        ],
    )
    def test_array_subclasses_are_stored_as_plain_arrays(
        self, tmp_path: Path, builder: Any, array: np.ndarray
    ) -> None:
        np.save(tmp_path / "a.npy", array)
        mapped = np.load(tmp_path / "a.npy", mmap_mode="r")  # an np.memmap
        msg = builder(mapped)
        assert type(msg.pixels) is np.ndarray
        assert attrs.evolve(msg) == msg == builder(array)
        record = rc.make_record("cam", msg)
        assert rc.decode_record(rc.encode_record(record)) == record

    def test_stamp_record_equals_make_record(self) -> None:
        msg = rc.make_image_msg(_rgb())
        timepoint = MappingProxyType({"frame": rc.TimeValue("sequence", 3)})
        stamped = stamp_record(
            ("cam",), msg, timepoint, timeless=False, log_tick=4, log_time_ns=np.int64(5)
        )
        made = rc.make_record("cam", msg, timepoint=timepoint, log_tick=4, log_time_ns=5)
        assert stamped == made
        assert attrs.evolve(stamped) == stamped
        assert type(stamped.log_time_ns) is int

    @pytest.mark.parametrize(
        ("kwargs", "fragment"),
        [
            ({"log_time_ns": 2**63}, "time value must be in"),
            ({"log_time_ns": 1.5}, "time value must be an integer"),
            ({"log_tick": -1}, "log_tick must be in"),
            ({"timeless": True}, "a timeless record carries no timeline"),
        ],
    )
    def test_stamp_record_checks_the_numbers(
        self, kwargs: dict[str, object], fragment: str
    ) -> None:
        args = {"timeless": False, "log_tick": 0, "log_time_ns": 0, **kwargs}
        timepoint = MappingProxyType({"frame": rc.TimeValue("sequence", 3)})
        with pytest.raises(InvalidArgumentError, match=fragment):
            stamp_record(("cam",), rc.make_image_msg(_rgb()), timepoint, **args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("path", "parts"),
    [
        ("a", ("a",)),
        ("a/b", ("a", "b")),
        ("/a/b", ("a", "b")),
        ("a//b/", ("a", "b")),
        ("/", ()),
        ("//", ()),
        ("world/my camera", ("world", "my camera")),
        (("a", "b"), ("a", "b")),
    ],
)
def test_entity_path_normalisation(path: str, parts: tuple[str, ...]) -> None:
    assert rc.parse_entity_path(path) == parts


class TestImageKinds:
    """An ``ImageMsg`` holds raw pixels or JPEG bytes; ``jpeg`` is the one home of the rule."""

    def test_a_compressed_image_is_jpeg(self) -> None:
        msg = rc.make_image_msg(_rgb(), jpeg_quality=90)

        assert msg.pixels is None
        assert msg.media_type is rc.ImageFormat.JPEG
        assert msg.jpeg is msg.encoded
        assert msg.jpeg.startswith(b"\xff\xd8")

    def test_encoded_jpeg_bytes_are_kept(self) -> None:
        data = rc.make_image_msg(_rgb(), jpeg_quality=90).jpeg

        assert rc.make_encoded_image_msg(data).jpeg == data

    def test_a_raw_image_has_no_jpeg(self) -> None:
        msg = rc.make_image_msg(_rgb())

        assert not hasattr(msg, "jpeg")
        with pytest.raises(AttributeError, match="raw pixels, not JPEG bytes"):
            _ = msg.jpeg


class TestAnnotationHolders:
    """The holders accept anything; the builder leaves them typed as their fields say."""

    def test_holders_accept_anything_at_construction(self) -> None:
        odd = rc.AnnotationInfo("x", 3, object())

        assert odd.id == "x"
        assert rc.ClassDescription(info=odd).keypoint_annotations is None

    def test_validated_fields_have_their_declared_types(self) -> None:
        given = rc.ClassDescription(
            info=(np.int64(1), "person", "#ff000080"),
            keypoint_annotations=[rc.AnnotationInfo(np.uint8(2), "head", [0.0, 1.0, 0.0])],
            keypoint_connections=[2, 2],
        )

        (desc,) = rc.make_annotation_context_msg([given]).class_descriptions

        assert desc.info == rc.AnnotationInfo(1, "person", (255, 0, 0, 128))
        assert type(desc.info.id) is int
        assert desc.keypoint_annotations == (rc.AnnotationInfo(2, "head", (0, 255, 0, 255)),)
        assert type(desc.keypoint_annotations[0].id) is int
        assert desc.keypoint_connections == ((2, 2),)

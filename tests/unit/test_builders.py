"""What the builders accept and how they normalise it (SPEC section 2)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

import rerun_core as rc
from rerun_core import ColorModel, ImageFormat


class FakeTensor:
    """A torch-like object: ``.numpy(force=True)``, no array interface."""

    def __init__(self, array: np.ndarray) -> None:
        self._array = array
        self.forced: bool | None = None

    def numpy(self, *, force: bool = False) -> np.ndarray:
        self.forced = force
        return self._array


class TestImageShapes:
    @pytest.mark.parametrize(
        ("shape", "expected"),
        [
            ((4, 5), (4, 5, 1)),
            ((4, 5, 1), (4, 5, 1)),
            ((4, 5, 3), (4, 5, 3)),
            ((4, 5, 4), (4, 5, 4)),
            ((1, 4, 5, 3), (4, 5, 3)),
            ((1, 1, 4, 5, 3), (4, 5, 3)),
            ((1, 4, 5), (4, 5, 1)),
            ((1, 5, 3), (1, 5, 3)),
            ((5, 1, 3), (5, 1, 3)),
            ((1, 1, 3), (1, 1, 3)),
            ((3, 4, 4), (3, 4, 4)),
            ((1, 1), (1, 1, 1)),
        ],
    )
    def test_shapes(self, shape: tuple[int, ...], expected: tuple[int, int, int]) -> None:
        msg = rc.make_image_msg(np.zeros(shape, np.uint8))
        assert msg.pixels is not None
        assert msg.pixels.shape == expected
        assert (msg.height, msg.width, msg.channels) == expected

    @pytest.mark.parametrize(("channels", "model"), [(1, "L"), (3, "RGB"), (4, "RGBA")])
    def test_default_color_model(self, channels: int, model: str) -> None:
        assert rc.make_image_msg(np.zeros((2, 2, channels), np.uint8)).color_model.value == model

    @pytest.mark.parametrize("name", ["BGR", "bgr", ColorModel.BGR])
    def test_bgr_is_metadata_only(self, name: str | ColorModel) -> None:
        img = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
        msg = rc.make_image_msg(img, color_model=name)
        assert msg.color_model is ColorModel.BGR
        assert msg.pixels is not None
        np.testing.assert_array_equal(msg.pixels, img)

    def test_bgra(self) -> None:
        msg = rc.make_image_msg(np.zeros((2, 2, 4), np.uint16), color_model="BGRA")
        assert msg.color_model is ColorModel.BGRA


class TestImageDtypes:
    @pytest.mark.parametrize("dtype", ["uint8", "uint16", "float16", "float32", "float64"])
    def test_dtype_kept(self, dtype: str) -> None:
        msg = rc.make_image_msg(np.ones((2, 3), dtype))
        assert msg.pixels is not None
        assert msg.pixels.dtype == np.dtype(dtype)

    def test_nan_and_inf_kept(self) -> None:
        img = np.array([[np.nan, np.inf], [-np.inf, 2.0]], np.float32)
        msg = rc.make_image_msg(img)
        assert msg.pixels is not None
        np.testing.assert_array_equal(msg.pixels[..., 0], img)

    @pytest.mark.parametrize(
        "make",
        [
            pytest.param(lambda a: a.astype(a.dtype.newbyteorder(">")), id="big-endian"),
            pytest.param(np.asfortranarray, id="fortran"),
            pytest.param(lambda a: np.repeat(a, 2, axis=1)[:, ::2], id="strided"),
            pytest.param(lambda a: a[::-1, ::-1][::-1, ::-1], id="negative-strides"),
        ],
    )
    def test_layouts_normalised(self, make: object) -> None:
        img = np.arange(4 * 6 * 3, dtype=np.uint16).reshape(4, 6, 3)
        given = make(img)  # type: ignore[operator]
        msg = rc.make_image_msg(given)
        assert msg.pixels is not None
        assert msg.pixels.flags.c_contiguous
        assert msg.pixels.dtype.byteorder in "=<|"
        np.testing.assert_array_equal(msg.pixels, img)

    def test_broadcast_input(self) -> None:
        img = np.broadcast_to(np.array([1, 2, 3], np.uint8), (4, 5, 3))
        msg = rc.make_image_msg(img)
        assert msg.pixels is not None
        np.testing.assert_array_equal(msg.pixels, img)

    def test_immutable_input_is_not_copied(self) -> None:
        first = rc.make_image_msg(np.zeros((4, 4, 3), np.uint8))
        assert first.pixels is not None
        again = rc.make_image_msg(first.pixels)
        assert again.pixels is first.pixels
        frozen = np.frombuffer(bytes(48), np.uint8).reshape(4, 4, 3)
        assert rc.make_image_msg(frozen).pixels is frozen

    def test_read_only_view_of_writable_memory_is_copied(self) -> None:
        img = np.zeros((2, 2), np.uint8)
        view = img.view()
        view.setflags(write=False)
        msg = rc.make_image_msg(view)
        img[0, 0] = 5
        assert msg.pixels is not None
        assert msg.pixels[0, 0, 0] == 0


class TestImageInputs:
    def test_pil_image(self) -> None:
        pil = Image.new("RGB", (5, 4), (10, 20, 30))
        msg = rc.make_image_msg(pil)
        assert msg.shape == (4, 5, 3)
        assert msg.pixels is not None
        assert msg.pixels[0, 0].tolist() == [10, 20, 30]

    def test_torch_like_tensor(self) -> None:
        tensor = FakeTensor(np.ones((2, 2, 3), np.float32))
        msg = rc.make_image_msg(tensor)
        assert tensor.forced is True
        assert msg.shape == (2, 2, 3)

    def test_nested_list_of_floats(self) -> None:
        assert rc.make_image_msg([[0.0, 0.5], [1.0, 0.25]]).shape == (2, 2, 1)


class TestJpegQuality:
    def test_compresses_and_keeps_options(self) -> None:
        img = np.zeros((8, 10, 3), np.uint8)
        msg = rc.make_image_msg(img, jpeg_quality=75, draw_order=3.0, ext={"k": "v"})
        assert msg.media_type is ImageFormat.JPEG
        assert msg.pixels is None
        assert msg.encoded is not None
        assert msg.encoded[:3] == b"\xff\xd8\xff"
        assert msg.shape == (8, 10, 3)
        assert msg.draw_order == 3.0
        assert msg.ext["ext.k"].tolist() == ["v"]

    def test_gray(self) -> None:
        msg = rc.make_image_msg(np.zeros((8, 10), np.uint8), jpeg_quality=50)
        assert (msg.channels, msg.color_model) == (1, ColorModel.L)

    def test_deterministic(self) -> None:
        img = np.random.default_rng(1).integers(0, 255, (16, 16, 3), dtype=np.uint8)
        assert rc.make_image_msg(img, jpeg_quality=90) == rc.make_image_msg(img, jpeg_quality=90)


class TestEncoded:
    @staticmethod
    def _save(image: Image.Image, fmt: str, **kwargs: object) -> bytes:
        out = io.BytesIO()
        image.save(out, format=fmt, **kwargs)
        return out.getvalue()

    def test_jpeg_kept_compressed(self) -> None:
        data = self._save(Image.new("RGB", (7, 5)), "JPEG")
        msg = rc.make_encoded_image_msg(data)
        assert msg.encoded == data
        assert (msg.shape, msg.media_type, msg.color_model) == (
            (5, 7, 3),
            ImageFormat.JPEG,
            ColorModel.RGB,
        )

    def test_gray_jpeg_has_one_channel(self) -> None:
        msg = rc.make_encoded_image_msg(self._save(Image.new("L", (7, 5)), "JPEG"))
        assert (msg.channels, msg.color_model) == (1, ColorModel.L)

    def test_progressive_jpeg(self) -> None:
        data = self._save(Image.new("RGB", (33, 17)), "JPEG", progressive=True)
        assert rc.make_encoded_image_msg(data).shape == (17, 33, 3)

    @pytest.mark.parametrize("media_type", ["jpeg", "JPEG", "jpg", "image/jpeg", ImageFormat.JPEG])
    def test_media_type_forms(self, media_type: object) -> None:
        data = self._save(Image.new("RGB", (4, 4)), "JPEG")
        assert rc.make_encoded_image_msg(data, media_type=media_type).media_type is ImageFormat.JPEG  # type: ignore[arg-type]

    def test_png_decoded(self) -> None:
        pixels = np.arange(5 * 7 * 4, dtype=np.uint8).reshape(5, 7, 4)
        msg = rc.make_encoded_image_msg(
            self._save(Image.fromarray(pixels), "PNG"), media_type="png"
        )
        assert msg.media_type is None
        assert msg.pixels is not None
        np.testing.assert_array_equal(msg.pixels, pixels)
        assert msg.color_model is ColorModel.RGBA

    def test_png_16_bit_gray_kept(self) -> None:
        pixels = np.array([[0, 300], [40000, 65535]], np.uint16)
        msg = rc.make_encoded_image_msg(self._save(Image.fromarray(pixels), "PNG"))
        assert msg.pixels is not None
        assert msg.pixels.dtype == np.uint16
        np.testing.assert_array_equal(msg.pixels[..., 0], pixels)

    def test_bytearray_and_memoryview(self) -> None:
        data = self._save(Image.new("RGB", (4, 4)), "JPEG")
        assert rc.make_encoded_image_msg(bytearray(data)) == rc.make_encoded_image_msg(
            memoryview(data)
        )


class TestDepth:
    @pytest.mark.parametrize(
        ("dtype", "default"),
        [("uint8", 1000.0), ("uint16", 1000.0), ("float32", 1.0), ("float64", 1.0)],
    )
    def test_effective_meter(self, dtype: str, default: float) -> None:
        msg = rc.make_depth_msg(np.zeros((2, 2), dtype))
        assert msg.meter is None
        assert msg.effective_meter == default
        assert msg.pixels.dtype == np.dtype(dtype)
        assert rc.make_depth_msg(np.zeros((2, 2), dtype), meter=5).effective_meter == 5.0

    @pytest.mark.parametrize("shape", [(3, 4), (3, 4, 1), (1, 3, 4), (1, 1, 3, 4)])
    def test_shapes(self, shape: tuple[int, ...]) -> None:
        assert rc.make_depth_msg(np.zeros(shape, np.float32)).pixels.shape == (3, 4)

    def test_float64_kept_and_nan_kept(self) -> None:
        msg = rc.make_depth_msg(np.array([[np.nan, 1.5]]), draw_order=1)
        assert msg.pixels.dtype == np.float64
        assert np.isnan(msg.pixels[0, 0])
        assert msg.draw_order == 1.0


class TestSegmentation:
    def test_bool_becomes_uint8(self) -> None:
        msg = rc.make_segmentation_msg(np.array([[True, False]]))
        assert msg.pixels.dtype == np.uint8
        assert msg.pixels.tolist() == [[1, 0]]

    @pytest.mark.parametrize(
        "dtype", ["int8", "int16", "int32", "int64", "uint16", "uint32", "uint64"]
    )
    def test_small_ids_stored_as_uint8(self, dtype: str) -> None:
        ids = [[0, 7], [np.iinfo(dtype).max if dtype == "int8" else 255, 3]]
        msg = rc.make_segmentation_msg(np.array(ids, dtype))
        assert msg.pixels.dtype == np.uint8
        assert msg.pixels.tolist() == ids

    @pytest.mark.parametrize("dtype", ["int32", "int64", "uint16", "uint32", ">u2", ">i4"])
    def test_large_ids_stored_as_uint16(self, dtype: str) -> None:
        msg = rc.make_segmentation_msg(np.array([[0, 256], [65535, 3]], dtype))
        assert msg.pixels.dtype == np.uint16
        assert msg.pixels.tolist() == [[0, 256], [65535, 3]]

    def test_hw1(self) -> None:
        assert rc.make_segmentation_msg(np.zeros((3, 4, 1), np.uint8)).pixels.shape == (3, 4)


class TestAnnotationContext:
    @pytest.mark.parametrize(
        "color",
        [
            (255, 0, 0),
            (255, 0, 0, 255),
            (1.0, 0, 0),
            (1.0, 0.0, 0.0, 1.0),
            "#ff0000",
            "FF0000FF",
            np.array([255, 0, 0], np.uint8),
            np.array([1.0, 0.0, 0.0], np.float32),
        ],
    )
    def test_every_color_form_is_equal(self, color: object) -> None:
        expected = rc.make_annotation_context_msg([(1, "car", (255, 0, 0, 255))])
        assert rc.make_annotation_context_msg([(1, "car", color)]) == expected

    def test_single_items(self) -> None:
        as_tuple = rc.make_annotation_context_msg((1, "person"))
        as_info = rc.make_annotation_context_msg(rc.AnnotationInfo(1, "person"))
        as_class = rc.make_annotation_context_msg(
            rc.ClassDescription(info=rc.AnnotationInfo(1, "person"))
        )
        assert as_tuple == as_info == as_class
        assert as_tuple.class_descriptions[0].info == rc.AnnotationInfo(1, "person", None)

    def test_info_none_is_class_zero(self) -> None:
        msg = rc.make_annotation_context_msg(
            rc.ClassDescription(keypoint_annotations=[(0, "nose")])
        )
        assert msg.class_descriptions[0].info.id == 0

    def test_connections_as_pairs_or_flat(self) -> None:
        keypoints = [(0, "a"), (1, "b"), (2, "c")]
        pairs = rc.ClassDescription(
            info=(1, "p"), keypoint_annotations=keypoints, keypoint_connections=[(0, 1), (1, 2)]
        )
        flat = rc.ClassDescription(
            info=(1, "p"), keypoint_annotations=keypoints, keypoint_connections=[0, 1, 1, 2]
        )
        array = rc.ClassDescription(
            info=(1, "p"),
            keypoint_annotations=keypoints,
            keypoint_connections=np.array([[0, 1], [1, 2]]),
        )
        msgs = [rc.make_annotation_context_msg(c) for c in (pairs, flat, array)]
        assert msgs[0] == msgs[1] == msgs[2]
        assert msgs[0].class_descriptions[0].keypoint_connections == ((0, 1), (1, 2))

    def test_connections_without_keypoints_accepted(self) -> None:
        msg = rc.make_annotation_context_msg(
            rc.ClassDescription(info=(1, "p"), keypoint_connections=[(5, 9)])
        )
        assert msg.class_descriptions[0].keypoint_connections == ((5, 9),)

    def test_empty_connections(self) -> None:
        msg = rc.make_annotation_context_msg(
            rc.ClassDescription(info=(1, "p"), keypoint_connections=[])
        )
        assert msg.class_descriptions[0].keypoint_connections == ()


class TestExt:
    def test_prefix_and_scalars(self) -> None:
        msg = rc.make_image_msg(
            np.zeros((2, 2), np.uint8),
            ext={"a": 1, "ext.b": 2.5, "my-comp": "x", "n": None, "f": True},
        )
        assert sorted(msg.ext) == ["ext.a", "ext.b", "ext.f", "ext.my-comp"]
        assert msg.ext["ext.b"].tolist() == [2.5]
        assert msg.ext["ext.f"].dtype == np.bool_

    def test_length_one_array(self) -> None:
        msg = rc.make_depth_msg(np.zeros((2, 2), np.uint16), ext={"a": np.array([3])})
        assert msg.ext["ext.a"].tolist() == [3]

    def test_no_process_wide_type_registry(self) -> None:
        first = rc.make_image_msg(np.zeros((2, 2), np.uint8), ext={"conf": 2})
        second = rc.make_image_msg(np.zeros((2, 2), np.uint8), ext={"conf": 2.7})
        longer = rc.make_image_msg(np.zeros((2, 2), np.uint8), ext={"conf": "hello world, longer"})
        assert first.ext["ext.conf"].tolist() == [2]
        assert second.ext["ext.conf"].tolist() == [2.7]
        assert longer.ext["ext.conf"].tolist() == ["hello world, longer"]

    def test_extension_msg_splat_and_instances(self) -> None:
        msg = rc.make_extension_msg({"v": [1, 2, 3], "w": 5}, identifiers=[7, 8, 9])
        assert msg.identifiers == (7, 8, 9)
        assert msg.components["ext.v"].tolist() == [1, 2, 3]
        assert msg.components["ext.w"].tolist() == [5]

"""Hypothesis strategies for property tests of code that uses ``rerun_core``.

Install the ``testing`` extra (``pip install rerun-core[testing]``) to use this module; it
is the only part of ``rerun_core`` that imports Hypothesis. Every strategy draws small
inputs (sides of 1..16 pixels by default) so that suites stay fast.

Valid inputs are accepted by the matching builder; invalid inputs are rejected with a
:class:`rerun_core.RerunCoreError`::

    import pytest
    from hypothesis import given
    import rerun_core as rc
    from rerun_core import strategies as rcst

    @given(rcst.image_arrays(dtype="uint8", channels=3), rcst.draw_orders())
    def test_images_build(image, draw_order):
        msg = rc.make_image_msg(image, draw_order=draw_order)
        assert msg.pixels.shape[-1] == 3

    @given(rcst.invalid_inputs())
    def test_bad_inputs_raise(case):
        builder, args, kwargs = case
        with pytest.raises(rc.RerunCoreError):
            builder(*args, **kwargs)

    @given(rcst.records())
    def test_my_sink_accepts_every_record(record): ...

Array strategies return arrays in varied layouts, all valid: native or big-endian byte
order, C or Fortran order, strided or reversed views, read-only arrays and arrays backed
by immutable ``bytes``. Image arrays are ``HxW`` (gray), ``HxWxC`` or ``1xHxWxC`` (a batch
of one); depth and segmentation arrays are ``HxW`` or ``HxWx1``.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from rerun_core import (
    AnnotationInfo,
    ClassDescription,
    ColorModel,
    ImageFormat,
    Message,
    Record,
    TimeValue,
    make_annotation_context_msg,
    make_depth_msg,
    make_encoded_image_msg,
    make_extension_msg,
    make_image_msg,
    make_record,
    make_segmentation_msg,
)

__all__ = [
    "class_descriptions",
    "color_models_for",
    "colors",
    "depth_arrays",
    "draw_orders",
    "entity_paths",
    "ext_components",
    "image_arrays",
    "image_channels",
    "image_dtypes",
    "invalid_depth_inputs",
    "invalid_image_inputs",
    "invalid_inputs",
    "invalid_segmentation_inputs",
    "messages",
    "meters",
    "records",
    "segmentation_arrays",
]

Array = np.ndarray[Any, Any]
Call = tuple[tuple[Any, ...], dict[str, Any]]
BuilderCall = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]

_IMAGE_DTYPES = ("uint8", "uint16", "float16", "float32", "float64")
_DEPTH_DTYPES = ("uint8", "uint16", "float32", "float64")
_SEGMENTATION_DTYPES = (
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
_MODELS_BY_CHANNELS = {
    1: (ColorModel.L,),
    3: (ColorModel.RGB, ColorModel.BGR),
    4: (ColorModel.RGBA, ColorModel.BGRA),
}
_MAX_CLASS_ID = 65535
_INT64 = (-(2**63), 2**63 - 1)
_LAYOUTS = ("c", "fortran", "strided", "reversed", "readonly", "bytes")
_BAD_EXT_NAMES = ("", "1abc", "a b", "a.b", "ext.", "ext.ext.a", "näme", "-x", "a/b", "a\n")
_DEFAULT_MAX_SIDE = 16


# -- helpers ----------------------------------------------------------------------------------


def _dtype(value: npt.DTypeLike) -> np.dtype[Any]:
    return np.dtype(value)


def _check_sides(min_side: int, max_side: int) -> None:
    if not 1 <= min_side <= max_side:
        msg = f"need 1 <= min_side <= max_side; got min_side={min_side}, max_side={max_side}."
        raise ValueError(msg)


def _sides(min_side: int, max_side: int) -> st.SearchStrategy[int]:
    return st.integers(min_side, max_side)


def _values(dtype: np.dtype[Any], *, special: bool) -> st.SearchStrategy[Any]:
    """Element values of ``dtype``; floats include NaN and infinities when ``special``."""
    if dtype.kind != "f":
        return hnp.from_dtype(dtype)
    # Bounded floats never overflow the dtype, so Hypothesis rejects nothing.
    finite = hnp.from_dtype(dtype, allow_nan=False, allow_infinity=False)
    if special:
        return finite | st.sampled_from((np.nan, np.inf, -np.inf))
    return finite


def _relayout(base: Array, layout: str, *, big_endian: bool) -> Array:
    """Return an array equal to ``base`` (same shape and values) in another memory layout."""
    arr = base.astype(base.dtype.newbyteorder(">")) if big_endian else base
    if layout == "fortran":
        return np.asfortranarray(arr)
    if layout == "strided":
        big = np.zeros(tuple(2 * n for n in arr.shape), dtype=arr.dtype)
        view = big[tuple(slice(None, None, 2) for _ in arr.shape)]
        view[...] = arr
        return view
    if layout == "reversed":
        flipped = np.ascontiguousarray(arr[::-1])
        return flipped[::-1]
    if layout == "readonly":
        copy = arr.copy()
        copy.setflags(write=False)
        return copy
    if layout == "bytes":
        return np.frombuffer(arr.tobytes(), dtype=arr.dtype).reshape(arr.shape)
    return arr


@st.composite
def _laid_out_arrays(
    draw: st.DrawFn,
    dtype: np.dtype[Any],
    shape: tuple[int, ...],
    elements: st.SearchStrategy[Any] | None = None,
) -> Array:
    """Draw an array of ``dtype`` and ``shape`` and put it in a random (valid) layout."""
    if elements is None:
        elements = _values(dtype, special=draw(st.booleans()))
    base = draw(hnp.arrays(dtype, shape, elements=elements))
    layout = draw(st.sampled_from(_LAYOUTS))
    big_endian = dtype.itemsize > 1 and draw(st.booleans())
    return _relayout(base, layout, big_endian=big_endian)


# -- images -----------------------------------------------------------------------------------


def image_dtypes() -> st.SearchStrategy[np.dtype[Any]]:
    """Draw an image dtype: uint8, uint16, float16, float32, float64."""
    return st.sampled_from([np.dtype(d) for d in _IMAGE_DTYPES])


def image_channels() -> st.SearchStrategy[int]:
    """Draw an image channel count: 1 (gray), 3 (RGB/BGR), 4 (RGBA/BGRA)."""
    return st.sampled_from((1, 3, 4))


@st.composite
def _image_arrays(
    draw: st.DrawFn,
    dtype: np.dtype[Any] | None,
    channels: int | None,
    min_side: int,
    max_side: int,
) -> Array:
    chosen = draw(image_dtypes()) if dtype is None else dtype
    count = draw(image_channels()) if channels is None else channels
    height, width = draw(_sides(min_side, max_side)), draw(_sides(min_side, max_side))
    form = draw(st.sampled_from(("hw", "hwc", "batch") if count == 1 else ("hwc", "batch")))
    shape: tuple[int, ...] = {
        "hw": (height, width),
        "hwc": (height, width, count),
        "batch": (1, height, width, count),
    }[form]
    return draw(_laid_out_arrays(chosen, shape))


def image_arrays(
    *,
    dtype: npt.DTypeLike | None = None,
    channels: int | None = None,
    max_side: int = _DEFAULT_MAX_SIDE,
    min_side: int = 1,
) -> st.SearchStrategy[Array]:
    """Draw valid ``make_image_msg`` inputs: HxW (gray), HxWxC or 1xHxWxC arrays.

    ``dtype`` and ``channels`` fix the dtype and channel count (default: any);
    H and W are in ``min_side..max_side``. Floats include NaN and infinities sometimes;
    layouts vary (big-endian, Fortran order, strided views, read-only, bytes-backed).
    """
    _check_sides(min_side, max_side)
    fixed = None if dtype is None else _dtype(dtype)
    if fixed is not None and fixed.name not in _IMAGE_DTYPES:
        msg = f"dtype must be one of {_IMAGE_DTYPES}; got {fixed}."
        raise ValueError(msg)
    if channels is not None and channels not in _MODELS_BY_CHANNELS:
        msg = f"channels must be 1, 3 or 4; got {channels}."
        raise ValueError(msg)
    return _image_arrays(fixed, channels, min_side, max_side)


def color_models_for(channels: int) -> st.SearchStrategy[ColorModel | str]:
    """Draw colour models valid for ``channels``, as ``ColorModel`` members or their names."""
    if channels not in _MODELS_BY_CHANNELS:
        msg = f"channels must be 1, 3 or 4; got {channels}."
        raise ValueError(msg)
    models = _MODELS_BY_CHANNELS[channels]
    return st.sampled_from(models) | st.sampled_from([m.value for m in models])


# -- depth and segmentation -------------------------------------------------------------------


@st.composite
def _single_channel_arrays(
    draw: st.DrawFn,
    dtype: np.dtype[Any],
    min_side: int,
    max_side: int,
    elements: st.SearchStrategy[Any] | None = None,
) -> Array:
    height, width = draw(_sides(min_side, max_side)), draw(_sides(min_side, max_side))
    shape = (height, width, 1) if draw(st.booleans()) else (height, width)
    return draw(_laid_out_arrays(dtype, shape, elements))


def _fixed_dtype(dtype: npt.DTypeLike | None, allowed: tuple[str, ...]) -> np.dtype[Any] | None:
    if dtype is None:
        return None
    fixed = _dtype(dtype)
    if fixed.name not in allowed:
        msg = f"dtype must be one of {allowed}; got {fixed}."
        raise ValueError(msg)
    return fixed


def depth_arrays(
    *, dtype: npt.DTypeLike | None = None, max_side: int = _DEFAULT_MAX_SIDE, min_side: int = 1
) -> st.SearchStrategy[Array]:
    """Draw valid ``make_depth_msg`` inputs: HxW or HxWx1 uint8/uint16/float32/float64 arrays.

    Floats include NaN (the invalid-depth marker) and infinities sometimes.
    """
    _check_sides(min_side, max_side)
    fixed = _fixed_dtype(dtype, _DEPTH_DTYPES)
    dtypes = (
        st.sampled_from([np.dtype(d) for d in _DEPTH_DTYPES]) if fixed is None else st.just(fixed)
    )
    return dtypes.flatmap(lambda d: _single_channel_arrays(d, min_side, max_side))


def meters() -> st.SearchStrategy[float | None]:
    """Draw valid ``meter=`` values: ``None`` (the default) or a finite float > 0."""
    return st.none() | st.floats(
        min_value=0.0, max_value=1e12, exclude_min=True, allow_nan=False, allow_infinity=False
    )


@st.composite
def _segmentation_arrays(
    draw: st.DrawFn, dtype: np.dtype[Any] | None, min_side: int, max_side: int
) -> Array:
    if dtype is None:
        dtype = draw(st.sampled_from([np.dtype(d) for d in _SEGMENTATION_DTYPES]))
    if dtype.kind == "b":
        elements: st.SearchStrategy[Any] = st.booleans()
    else:
        cap = draw(st.sampled_from((1, 255, _MAX_CLASS_ID)))
        elements = st.integers(0, min(cap, int(np.iinfo(dtype).max)))
    return draw(_single_channel_arrays(dtype, min_side, max_side, elements))


def segmentation_arrays(
    *, dtype: npt.DTypeLike | None = None, max_side: int = _DEFAULT_MAX_SIDE, min_side: int = 1
) -> st.SearchStrategy[Array]:
    """Draw valid ``make_segmentation_msg`` inputs: HxW or HxWx1 arrays of class ids.

    Dtypes: bool, uint8, uint16, int8/16/32/64 and uint32/64, with ids in 0..65535
    (sometimes all below 256, sometimes only 0 and 1).
    """
    _check_sides(min_side, max_side)
    fixed = _fixed_dtype(dtype, _SEGMENTATION_DTYPES)
    return _segmentation_arrays(fixed, min_side, max_side)


# -- annotation contexts ----------------------------------------------------------------------


@st.composite
def _rgba(draw: st.DrawFn) -> tuple[int, int, int, int]:
    red, green, blue = (draw(st.integers(0, 255)) for _ in range(3))
    alpha = draw(st.sampled_from((255, 0)) | st.integers(0, 255))
    return (red, green, blue, alpha)


def _color_forms(rgba: tuple[int, int, int, int]) -> list[object]:
    """Every accepted spelling of one colour."""
    forms: list[object] = [
        rgba,
        list(rgba),
        np.array(rgba, dtype=np.uint8),
        tuple(c / 255 for c in rgba),
        np.array(rgba, dtype=np.float64) / 255,
        "#" + bytes(rgba).hex(),
        bytes(rgba).hex().upper(),
    ]
    if rgba[3] == 255:
        rgb = rgba[:3]
        forms += [rgb, tuple(c / 255 for c in rgb), "#" + bytes(rgb).hex(), bytes(rgb).hex()]
    return forms


def colors() -> st.SearchStrategy[object]:
    """Draw valid annotation colours: 3 or 4 ints 0..255, floats 0..1, or hex strings."""
    return _rgba().flatmap(lambda rgba: st.sampled_from(_color_forms(rgba)))


def _labels() -> st.SearchStrategy[str | None]:
    return st.none() | st.text(max_size=8)


def _ids(max_size: int) -> st.SearchStrategy[list[int]]:
    return st.lists(st.integers(0, _MAX_CLASS_ID), unique=True, max_size=max_size)


@st.composite
def _infos(draw: st.DrawFn, identifier: int) -> object:
    label = draw(_labels())
    color = draw(st.none() | colors())
    form = draw(st.sampled_from(("info", "tuple1", "tuple2", "tuple3", "list3")))
    if form == "info":
        return AnnotationInfo(identifier, label, color)
    if form == "tuple1":
        return (identifier,)
    if form == "tuple2":
        return (identifier, label)
    if form == "tuple3":
        return (identifier, label, color)
    return [identifier, label, color]


@st.composite
def _class_description(draw: st.DrawFn, identifier: int) -> object:
    info = draw(_infos(identifier))
    if draw(st.booleans()):
        return info
    keypoint_ids = draw(_ids(4))
    keypoints = [draw(_infos(k)) for k in keypoint_ids]
    pairs: list[tuple[int, int]] = []
    if keypoint_ids:
        pairs = draw(
            st.lists(st.tuples(st.sampled_from(keypoint_ids), st.sampled_from(keypoint_ids)))
        )
    connections: object = pairs
    if draw(st.booleans()):
        connections = [i for pair in pairs for i in pair]
    keep_empty_keypoints: bool = draw(st.booleans())
    keep_empty_connections: bool = draw(st.booleans())
    return ClassDescription(
        info=info,
        keypoint_annotations=keypoints if keypoints or keep_empty_keypoints else None,
        keypoint_connections=connections if pairs or keep_empty_connections else None,
    )


@st.composite
def _class_descriptions(draw: st.DrawFn) -> object:
    ids = draw(_ids(6))
    items = [draw(_class_description(i)) for i in ids]
    if len(items) == 1 and draw(st.booleans()) and not isinstance(items[0], list):
        return items[0]  # a single item on its own
    return tuple(items) if draw(st.booleans()) else items


def class_descriptions() -> st.SearchStrategy[Any]:
    """Draw valid ``make_annotation_context_msg`` inputs.

    A list or tuple (sometimes a single item) of ``ClassDescription``, ``AnnotationInfo``
    or ``(id, label[, color])`` items with unique ids in 0..65535, labels, colours in any
    accepted form, and keypoints whose connections name only their keypoint ids.
    """
    return _class_descriptions()


# -- extension components, paths, draw orders -------------------------------------------------


def _ext_names() -> st.SearchStrategy[str]:
    return st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,11}", fullmatch=True)


_SCALAR_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                  "uint64", "float16", "float32", "float64")  # fmt: skip


def _ext_texts() -> st.SearchStrategy[str]:
    return st.text(st.characters(exclude_characters="\x00"), max_size=8)


def _ext_scalars() -> st.SearchStrategy[object]:
    numpy_scalars = st.sampled_from([np.dtype(d) for d in _SCALAR_DTYPES]).flatmap(
        lambda dtype: _values(dtype, special=True).map(dtype.type)
    )
    return st.one_of(
        st.booleans(),
        st.integers(*_INT64),
        st.floats(),
        _ext_texts(),
        numpy_scalars,
    )


@st.composite
def _ext_arrays(draw: st.DrawFn, length: int) -> object:
    if draw(st.booleans()):
        dtype = draw(st.sampled_from([np.dtype(d) for d in _SCALAR_DTYPES]))
        arr = draw(hnp.arrays(dtype, (length,), elements=_values(dtype, special=True)))
        return _relayout(arr, draw(st.sampled_from(_LAYOUTS)), big_endian=draw(st.booleans()))
    element = draw(
        st.sampled_from((st.booleans(), st.integers(*_INT64), st.floats(), _ext_texts()))
    )
    values: list[object] = draw(st.lists(element, min_size=length, max_size=length))
    return values


@st.composite
def _ext_components(draw: st.DrawFn, single_instance: bool) -> dict[str, object]:
    bare_names = draw(st.lists(_ext_names(), unique=True, max_size=4))
    length = 1 if single_instance else draw(st.integers(1, 6))
    result: dict[str, object] = {}
    for bare in bare_names:
        name = "ext." + bare if draw(st.booleans()) else bare
        if draw(st.booleans()):
            result[name] = draw(_ext_scalars())
        else:
            result[name] = draw(_ext_arrays(length if draw(st.booleans()) else 1))
    return result


def ext_components(*, single_instance: bool = True) -> st.SearchStrategy[dict[str, object]]:
    """Draw valid ``ext=`` dicts: names ``[A-Za-z_][A-Za-z0-9_-]*``, some prefixed ``ext.``.

    Values are bool/int/float/str scalars (Python or numpy) or 1-D arrays and lists.
    With ``single_instance`` (images, depth, segmentation) every value is one instance;
    otherwise (``make_extension_msg``) each has 1 or N values, N shared by all.
    """
    return _ext_components(single_instance)


def _path_parts() -> st.SearchStrategy[str]:
    alphabet = st.characters(categories=("L", "N", "P", "S", "Zs"), exclude_characters="/")
    return st.text(alphabet, min_size=1, max_size=6).filter(
        lambda p: p == p.strip() and p.isprintable()
    )


@st.composite
def _entity_paths(draw: st.DrawFn) -> str:
    parts = draw(st.lists(_path_parts(), max_size=4))
    separators = st.sampled_from(("/", "/", "//"))
    path = "".join(part + draw(separators) for part in parts)
    if not draw(st.booleans()):  # keep a trailing slash sometimes
        path = path.rstrip("/")
    if draw(st.booleans()) or not path:
        path = "/" + path
    return path


def entity_paths() -> st.SearchStrategy[str]:
    """Draw valid entity paths such as ``"camera/rgb"``, ``"/a//b/"`` and the root ``"/"``."""
    return _entity_paths()


def draw_orders() -> st.SearchStrategy[float | None]:
    """Draw valid ``draw_order=`` values: ``None`` or a finite float."""
    return st.none() | st.floats(allow_nan=False, allow_infinity=False)


# -- messages and records ---------------------------------------------------------------------


@st.composite
def _raw_image_msgs(draw: st.DrawFn) -> Message:
    image = draw(image_arrays())
    channels = 1 if image.ndim == 2 else image.shape[-1]
    model = draw(st.none() | color_models_for(channels))
    return make_image_msg(
        image,
        color_model=model,
        draw_order=draw(draw_orders()),
        ext=draw(st.none() | ext_components()),
    )


@st.composite
def _jpeg_image_msgs(draw: st.DrawFn) -> Message:
    image = draw(image_arrays(dtype="uint8", channels=draw(st.sampled_from((1, 3)))))
    return make_image_msg(
        image,
        jpeg_quality=draw(st.integers(1, 100)),
        draw_order=draw(draw_orders()),
        ext=draw(st.none() | ext_components()),
    )


@st.composite
def _encoded_image_msgs(draw: st.DrawFn) -> Message:
    fmt = draw(st.sampled_from(ImageFormat))
    dtype: np.dtype[Any]
    if fmt is ImageFormat.JPEG:
        dtype, shape_channels = np.dtype(np.uint8), draw(st.sampled_from((1, 3)))
    else:
        dtype, shape_channels = draw(
            st.sampled_from(
                [(np.dtype(np.uint8), c) for c in (1, 3, 4)] + [(np.dtype(np.uint16), 1)]
            )
        )
    height, width = draw(_sides(1, _DEFAULT_MAX_SIDE)), draw(_sides(1, _DEFAULT_MAX_SIDE))
    shape = (height, width) if shape_channels == 1 else (height, width, shape_channels)
    pixels = draw(hnp.arrays(dtype, shape))
    out = io.BytesIO()
    if fmt is ImageFormat.JPEG:
        Image.fromarray(pixels).save(out, format="JPEG", quality=draw(st.integers(1, 100)))
    else:
        Image.fromarray(pixels).save(out, format="PNG")
    media_type = draw(st.sampled_from((None, fmt, fmt.value, fmt.value.upper())))
    data = out.getvalue()
    wrapped = draw(st.sampled_from((bytes, bytearray, memoryview)))(data)
    return make_encoded_image_msg(
        wrapped,
        media_type=media_type,
        draw_order=draw(draw_orders()),
        ext=draw(st.none() | ext_components()),
    )


@st.composite
def _depth_msgs(draw: st.DrawFn) -> Message:
    return make_depth_msg(
        draw(depth_arrays()),
        meter=draw(meters()),
        draw_order=draw(draw_orders()),
        ext=draw(st.none() | ext_components()),
    )


@st.composite
def _segmentation_msgs(draw: st.DrawFn) -> Message:
    return make_segmentation_msg(
        draw(segmentation_arrays()),
        draw_order=draw(draw_orders()),
        ext=draw(st.none() | ext_components()),
    )


@st.composite
def _extension_msgs(draw: st.DrawFn) -> Message:
    ext = draw(ext_components(single_instance=False))
    lengths = {len(np.atleast_1d(np.asarray(v))) for v in ext.values()} - {1}
    identifiers = None
    if draw(st.booleans()):
        count = lengths.pop() if lengths else draw(st.integers(1, 6))
        identifiers = draw(st.lists(st.integers(0, 2**64 - 1), min_size=count, max_size=count))
    return make_extension_msg(ext, identifiers=identifiers)


def messages() -> st.SearchStrategy[Message]:
    """Draw any valid message, built by the public builders.

    Raw images (every dtype, channel count and colour model), JPEG-compressed images
    (``jpeg_quality``), encoded PNG/JPEG images made with Pillow, depth, segmentation,
    annotation contexts and extension messages, with draw orders and ``ext`` components.
    """
    return st.one_of(
        _raw_image_msgs(),
        _jpeg_image_msgs(),
        _encoded_image_msgs(),
        _depth_msgs(),
        _segmentation_msgs(),
        class_descriptions().map(make_annotation_context_msg),
        _extension_msgs(),
    )


def _timeline_names() -> st.SearchStrategy[str]:
    return st.text(min_size=1, max_size=8).filter(str.isprintable)


def _time_values() -> st.SearchStrategy[TimeValue]:
    return st.builds(TimeValue, st.sampled_from(("sequence", "time")), st.integers(*_INT64))


@st.composite
def _records(draw: st.DrawFn) -> Record:
    timeless = draw(st.booleans())
    timepoint = None
    if not timeless:
        timepoint = draw(st.none() | st.dictionaries(_timeline_names(), _time_values(), max_size=3))
    return make_record(
        draw(entity_paths()),
        draw(messages()),
        timepoint=timepoint,
        timeless=timeless,
        log_tick=draw(st.integers(0, _INT64[1])),
        log_time_ns=draw(st.integers(*_INT64)),
    )


def records() -> st.SearchStrategy[Record]:
    """Draw valid records: any message at any entity path, timeless or on 0..3 timelines."""
    return _records()


# -- invalid inputs ---------------------------------------------------------------------------

_UNSUPPORTED_IMAGE_DTYPES = ("int8", "int16", "int32", "int64", "uint32", "uint64", "bool",
                             "complex64", "complex128", "object", "<U3", "S2",
                             "datetime64[s]")  # fmt: skip
_UNSUPPORTED_DEPTH_DTYPES = (*_UNSUPPORTED_IMAGE_DTYPES, "float16")
_UNSUPPORTED_SEGMENTATION_DTYPES = ("float16", "float32", "float64", "complex64", "complex128",
                                    "object", "<U3", "S2", "datetime64[s]")  # fmt: skip
_NOT_ARRAYS = ("not an image", None, [[1, 2], [3]], {"a": 1}, object(), b"\x00\x01")


def _side() -> st.SearchStrategy[int]:
    return st.integers(1, 8)


def _tall() -> st.SearchStrategy[int]:
    """Sides >= 2: an array whose first axis is 1 could be read as a valid 1xHxW image."""
    return st.integers(2, 8)


def _zeros(
    *shape: st.SearchStrategy[int] | int, dtype: npt.DTypeLike = np.uint8
) -> st.SearchStrategy[Array]:
    """Zero arrays of ``dtype`` whose axes are drawn from ``shape``."""
    axes = [st.just(n) if isinstance(n, int) else n for n in shape]
    return st.tuples(*axes).map(lambda dims: np.zeros(dims, dtype=dtype))


def _bad_draw_orders() -> st.SearchStrategy[object]:
    return st.sampled_from(
        (float("nan"), float("inf"), -float("inf"), 10**400, "1", "front", 1j, [1.0])
    )


def _bad_ext() -> st.SearchStrategy[object]:
    """``ext=`` values no pixel builder accepts."""
    bad_values: tuple[object, ...] = (
        1j,
        b"raw",
        object(),
        np.zeros(1, "c8"),
        np.zeros((1, 1)),
        np.zeros(0),
        [],
    )
    return st.one_of(
        st.lists(st.integers(0, 9), min_size=2, max_size=5).map(lambda v: {"values": v}),
        st.sampled_from(_BAD_EXT_NAMES).map(lambda name: {name: 1}),
        st.sampled_from((1, 2.5, b"name", ("a",))).map(lambda name: {name: 1}),
        st.sampled_from(bad_values).map(lambda value: {"value": value}),
        _ext_names().map(lambda name: {name: 1, "ext." + name: 2}),
        st.sampled_from(([("a", 1)], "a=1", 5)),
    )


def _bad_shapes(*, single_channel: bool) -> st.SearchStrategy[Array]:
    """Arrays whose shape the image (or, ``single_channel``, depth/segmentation) builder rejects."""
    side, tall = _side(), _tall()
    strategies = [
        _zeros(st.integers(0, 8)),  # 1-D
        _zeros(),  # 0-D
        _zeros(st.integers(2, 3), side, side, 3),  # a batch of more than one
        _zeros(1, st.integers(2, 3), side, side, 1),  # still 4-D after dropping the batch axis
        _zeros(0, side),  # empty
        _zeros(side, 0),
        _zeros(0, side, 3),
        _zeros(1, 0, side, 3),
        _zeros(st.sampled_from((3, 4)), side, st.integers(5, 12) | st.just(2)),  # CHW
        _zeros(tall, side, st.sampled_from((2, 5, 6, 8))),  # 2 or 5+ channels
    ]
    if single_channel:
        strategies.append(_zeros(tall, side, st.sampled_from((3, 4))))  # colour
    return st.one_of(strategies)


def _bad_dtype_arrays(
    dtypes: tuple[str, ...], channels: tuple[int, ...]
) -> st.SearchStrategy[Array]:
    side = _side()
    dtype = st.sampled_from(dtypes)
    gray = dtype.flatmap(lambda d: _zeros(side, side, dtype=d))
    hwc = st.tuples(dtype, st.sampled_from(channels)).flatmap(
        lambda dc: _zeros(side, side, dc[1], dtype=dc[0])
    )
    return gray | hwc


def _with(
    arrays: st.SearchStrategy[Any], **kwargs: st.SearchStrategy[Any]
) -> st.SearchStrategy[Call]:
    """``((array,), kwargs)`` pairs."""
    return st.tuples(arrays, st.fixed_dictionaries(kwargs)).map(lambda ak: ((ak[0],), ak[1]))


def _bad_options(valid: st.SearchStrategy[Array]) -> st.SearchStrategy[Call]:
    """Draw a valid array with a bad ``draw_order`` or ``ext``."""
    return _with(valid, draw_order=_bad_draw_orders()) | _with(valid, ext=_bad_ext())


def _bad_max_pixels() -> st.SearchStrategy[Call]:
    @st.composite
    def build(draw: st.DrawFn) -> Call:
        image = np.zeros((draw(_tall()), draw(_tall())), dtype=np.uint8)
        limit = draw(st.sampled_from((0, -1, image.size - 1, 1.5, "big")))
        return (image,), {"max_pixels": limit}

    return build()


def _bad_jpeg() -> st.SearchStrategy[Call]:
    side, quality = _side(), st.integers(1, 100)
    bad_quality = (
        st.integers(max_value=0) | st.integers(min_value=101) | st.sampled_from((80.0, "80"))
    )
    not_uint8 = st.sampled_from(("uint16", "float16", "float32", "float64"))
    return st.one_of(
        _with(_zeros(side, side, 3), jpeg_quality=bad_quality),
        _with(not_uint8.flatmap(lambda d: _zeros(side, side, 3, dtype=d)), jpeg_quality=quality),
        _with(_zeros(side, side, 4), jpeg_quality=quality),
        _with(
            _zeros(side, side, 4),
            jpeg_quality=quality,
            color_model=st.sampled_from((ColorModel.RGBA, "RGBA", "BGRA")),
        ),
        _with(
            _zeros(side, side, 3),
            jpeg_quality=quality,
            color_model=st.sampled_from((ColorModel.BGR, "BGR")),
        ),
    )


def _bad_color_models() -> st.SearchStrategy[Call]:
    @st.composite
    def build(draw: st.DrawFn) -> Call:
        channels = draw(image_channels())
        image = np.zeros((draw(_side()), draw(_side()), channels), dtype=np.uint8)
        wrong = [m for m in ColorModel if m.channels != channels]
        model = draw(
            st.sampled_from(wrong)
            | st.sampled_from([m.value for m in wrong])
            | st.sampled_from(("XYZ", "RGBX", "", "YUV", 3))
        )
        return (image,), {"color_model": model}

    return build()


def invalid_image_inputs() -> st.SearchStrategy[Call]:
    """Draw ``(args, kwargs)`` that ``make_image_msg`` must reject with a ``RerunCoreError``.

    Unsupported dtypes, bad shapes (2 or 5+ channels, 1-D, 0-D, non-unit batches, empty,
    channel-first), non-arrays, mismatched colour models, bad ``jpeg_quality`` (out of
    range, or on non-uint8 or non-L/RGB images), bad ``draw_order``, ``ext`` or ``max_pixels``.
    """
    return st.one_of(
        _with(_bad_dtype_arrays(_UNSUPPORTED_IMAGE_DTYPES, (1, 3, 4))),
        _with(_bad_shapes(single_channel=False)),
        _with(st.sampled_from(_NOT_ARRAYS)),
        _bad_color_models(),
        _bad_jpeg(),
        _bad_options(image_arrays(max_side=8)),
        _bad_max_pixels(),
    )


def invalid_depth_inputs() -> st.SearchStrategy[Call]:
    """Draw ``(args, kwargs)`` that ``make_depth_msg`` must reject with a ``RerunCoreError``.

    Unsupported dtypes (float16 included), more than one channel, bad shapes, non-arrays,
    ``meter`` <= 0, NaN, infinite or not a number, bad ``draw_order`` or ``ext``.
    """
    bad_meter = (
        st.floats(max_value=0.0)
        | st.integers(max_value=0)
        | st.sampled_from((float("nan"), float("inf"), 10**400, "1000", 1j))
    )
    return st.one_of(
        _with(_bad_dtype_arrays(_UNSUPPORTED_DEPTH_DTYPES, (1,))),
        _with(_bad_shapes(single_channel=True)),
        _with(st.sampled_from(_NOT_ARRAYS)),
        _with(depth_arrays(max_side=8), meter=bad_meter),
        _bad_options(depth_arrays(max_side=8)),
    )


@st.composite
def _out_of_range_ids(draw: st.DrawFn) -> Array:
    names = ("int8", "int16", "int32", "int64", "uint32", "uint64")
    dtype: np.dtype[Any] = np.dtype(draw(st.sampled_from(names)))
    info = np.iinfo(dtype)
    bad = []
    if info.min < 0:
        bad.append(st.integers(int(info.min), -1))
    if info.max > _MAX_CLASS_ID:
        bad.append(st.integers(_MAX_CLASS_ID + 1, int(info.max)))
    shape = (draw(_side()), draw(_side()))
    ids = draw(hnp.arrays(dtype, shape, elements=st.integers(0, min(255, int(info.max)))))
    ids.flat[draw(st.integers(0, ids.size - 1))] = draw(st.one_of(bad))
    return ids


def invalid_segmentation_inputs() -> st.SearchStrategy[Call]:
    """Draw ``(args, kwargs)`` that ``make_segmentation_msg`` must reject with a ``RerunCoreError``.

    Ids outside 0..65535 (negative or too large, in any integer width), float and other
    non-integer dtypes, more than one channel, bad shapes, non-arrays, bad
    ``draw_order`` or ``ext``.
    """
    return st.one_of(
        _with(_out_of_range_ids()),
        _with(_bad_dtype_arrays(_UNSUPPORTED_SEGMENTATION_DTYPES, (1,))),
        _with(_bad_shapes(single_channel=True)),
        _with(st.sampled_from(_NOT_ARRAYS)),
        _bad_options(segmentation_arrays(max_side=8)),
    )


def invalid_inputs() -> st.SearchStrategy[BuilderCall]:
    """Draw ``(builder, args, kwargs)`` for a pixel builder that must raise ``RerunCoreError``."""

    def tag(builder: Callable[..., Any]) -> Callable[[Call], BuilderCall]:
        return lambda call: (builder, call[0], call[1])

    return st.one_of(
        invalid_image_inputs().map(tag(make_image_msg)),
        invalid_depth_inputs().map(tag(make_depth_msg)),
        invalid_segmentation_inputs().map(tag(make_segmentation_msg)),
    )

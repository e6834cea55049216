"""Immutable log messages.

Rules:
- every message is a frozen, slotted, final attrs class compared by value (arrays by
  dtype, shape and values, NaN equal to NaN);
- converters freeze arrays into read-only memory and normalise options, validators
  check the invariants; both run again on ``attrs.evolve``, so no message is invalid;
- the builders (``make_*_msg``) do the friendly input handling and every check, then build
  through ``trusted_constructor`` so the pixels are not inspected a second time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar, final

import attrs
import numpy as np

from rerun_core._annotation import ClassDescription, normalize_class_descriptions
from rerun_core._arrays import arrays_equal, describe, freeze
from rerun_core._enums import ColorModel, ImageFormat, to_color_model, to_image_format
from rerun_core._ext import Components, components_equal, normalize_components
from rerun_core._jpeg import read_jpeg_header
from rerun_core._scalars import check_draw_order, check_int, check_meter
from rerun_core.errors import InvalidArgumentError, UnsupportedDtypeError

__all__ = [
    "DEPTH_DTYPES",
    "IMAGE_DTYPES",
    "SEGMENTATION_DTYPES",
    "AnnotationContextMsg",
    "DepthMsg",
    "ExtensionMsg",
    "ImageMsg",
    "Message",
    "Sealed",
    "SegmentationMsg",
    "trusted_constructor",
]

IMAGE_DTYPES = tuple(np.dtype(t) for t in ("uint8", "uint16", "float16", "float32", "float64"))
DEPTH_DTYPES = tuple(np.dtype(t) for t in ("uint8", "uint16", "float32", "float64"))
SEGMENTATION_DTYPES = tuple(np.dtype(t) for t in ("uint8", "uint16"))

_ARRAY_EQ = attrs.cmp_using(eq=arrays_equal)
_COMPONENTS_EQ = attrs.cmp_using(eq=components_equal)
_NO_HEADER_LIMIT = 2**62
_T = TypeVar("_T", bound=attrs.AttrsInstance)


class Sealed:
    """Base of the final value types: subclassing them raises ``TypeError`` at runtime."""

    __slots__ = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Allow direct children only."""
        super().__init_subclass__(**kwargs)
        if Sealed not in cls.__bases__:
            msg = f"{cls.__bases__[0].__name__} is final; wrap it instead of subclassing it."
            raise TypeError(msg)


def trusted_constructor(cls: type[_T]) -> Callable[..., _T]:
    """Return a function that builds ``cls`` from fields a builder already checked.

    The function takes every field by keyword and skips the converters and validators
    that ``cls(...)`` runs; builders use it on the hot path. ``attrs.evolve`` still
    validates, and the tests check ``attrs.evolve(msg) == msg`` for every built message.
    Like attrs' own ``__init__``, it is generated code: one slot assignment per field.
    """
    names = [field.name for field in attrs.fields(cls)]
    namespace: dict[str, Any] = {"new": object.__new__, "cls": cls}
    namespace.update({f"set_{name}": cls.__dict__[name].__set__ for name in names})
    source = "\n".join(
        [
            f"def build(*, {', '.join(names)}):",
            "    instance = new(cls)",
            *(f"    set_{name}(instance, {name})" for name in names),
            "    return instance",
        ]
    )
    exec(compile(source, f"<trusted constructor of {cls.__name__}>", "exec"), namespace)
    build: Callable[..., _T] = namespace["build"]
    build.__doc__ = f"Build a {cls.__name__} from checked fields (no converters, no validators)."
    return build


def _optional_frozen(value: object) -> np.ndarray[Any, Any] | None:
    return None if value is None else freeze(np.asarray(value))


def _optional_bytes(value: object) -> bytes | None:
    if value is None or isinstance(value, bytes):
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    msg = f"encoded must be bytes or None; got {type(value).__name__}."
    raise InvalidArgumentError(msg, param="encoded")


def _optional_image_format(value: object) -> ImageFormat | None:
    return None if value is None else to_image_format(value)


def _identifiers(value: object) -> tuple[int, ...] | None:
    if value is None:
        return None
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        msg = f"identifiers must be a sequence of integers or None; got {type(value).__name__}."
        raise InvalidArgumentError(msg, param="identifiers")
    return tuple(check_int(i, param="identifiers", low=0, high=2**64 - 1) for i in value)


def _single_instance(value: object) -> Components:
    return normalize_components(value, single_instance=True)


def _many_instances(value: object) -> Components:
    return normalize_components(value, single_instance=False)


def _encoded_shape(encoded: bytes | None, media_type: ImageFormat | None) -> tuple[int, int, int]:
    if encoded is None or media_type is not ImageFormat.JPEG:  # the rule of ImageMsg.jpeg
        msg = f"encoded images must be JPEG (PNG is decoded to pixels); got {media_type}."
        raise InvalidArgumentError(msg, param="media_type")
    return read_jpeg_header(encoded, max_pixels=_NO_HEADER_LIMIT)


def _check_pixels(
    pixels: np.ndarray[Any, Any], *, kind: str, ndim: int, dtypes: tuple[np.dtype[Any], ...]
) -> None:
    if pixels.dtype not in dtypes:
        allowed = ", ".join(str(d) for d in dtypes)
        msg = f"{kind} pixels must have dtype {allowed}; got {describe(pixels)}."
        raise UnsupportedDtypeError(msg, param="pixels")
    if pixels.ndim != ndim or pixels.size == 0:
        msg = f"{kind} pixels must be a non-empty {ndim}-D array; got {describe(pixels)}."
        raise InvalidArgumentError(msg, param="pixels")


@final
@attrs.frozen(kw_only=True)
class ImageMsg(Sealed):
    """A gray or colour image: raw pixels (HxWxC) or encoded JPEG bytes."""

    height: int
    width: int
    channels: int
    color_model: ColorModel = attrs.field(converter=to_color_model)
    pixels: np.ndarray[Any, Any] | None = attrs.field(
        default=None, converter=_optional_frozen, eq=_ARRAY_EQ, hash=False
    )
    encoded: bytes | None = attrs.field(default=None, converter=_optional_bytes)
    media_type: ImageFormat | None = attrs.field(default=None, converter=_optional_image_format)
    draw_order: float | None = attrs.field(default=None, converter=check_draw_order)
    ext: Components = attrs.field(
        factory=dict, converter=_single_instance, eq=_COMPONENTS_EQ, hash=False
    )

    def __attrs_post_init__(self) -> None:
        """Check that pixels or encoded bytes agree with the declared geometry."""
        if (self.pixels is None) == (self.encoded is None):
            msg = "ImageMsg needs exactly one of pixels= and encoded=; got both or neither."
            raise InvalidArgumentError(msg, param="pixels")
        if self.color_model.channels != self.channels:
            msg = (
                f"color_model {self.color_model.value} needs {self.color_model.channels} "
                f"channels; the image has {self.channels}."
            )
            raise InvalidArgumentError(msg, param="color_model")
        if self.pixels is not None:
            _check_pixels(self.pixels, kind="image", ndim=3, dtypes=IMAGE_DTYPES)
            found = tuple(self.pixels.shape)
        else:
            found = _encoded_shape(self.encoded, self.media_type)
        if found != self.shape:
            msg = (
                f"ImageMsg declares height, width, channels = {self.shape} but its data has "
                f"{found}; pass matching values (attrs.evolve does not infer them)."
            )
            raise InvalidArgumentError(msg, param="pixels")

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(height, width, channels)``."""
        return (self.height, self.width, self.channels)

    @property
    def jpeg(self) -> bytes:
        """The JPEG bytes of an encoded image (one whose ``pixels`` is ``None``).

        The rule lives here and in the validator: an encoded image is always JPEG
        (``make_encoded_image_msg`` decodes a PNG to pixels), so a sink that finds no
        pixels writes these bytes as JPEG. A raw image raises ``AttributeError``.
        """
        if self.encoded is None:
            msg = "this ImageMsg holds raw pixels, not JPEG bytes; read .pixels instead."
            raise AttributeError(msg)
        return self.encoded


@final
@attrs.frozen(kw_only=True)
class DepthMsg(Sealed):
    """A depth image (HxW); ``meter`` is how many units make one metre."""

    pixels: np.ndarray[Any, Any] = attrs.field(converter=freeze, eq=_ARRAY_EQ, hash=False)
    meter: float | None = attrs.field(default=None, converter=check_meter)
    draw_order: float | None = attrs.field(default=None, converter=check_draw_order)
    ext: Components = attrs.field(
        factory=dict, converter=_single_instance, eq=_COMPONENTS_EQ, hash=False
    )

    def __attrs_post_init__(self) -> None:
        """Check the pixel dtype and shape."""
        _check_pixels(self.pixels, kind="depth", ndim=2, dtypes=DEPTH_DTYPES)

    @property
    def effective_meter(self) -> float:
        """``meter``, or the default: 1000 (millimetres) for integers, 1.0 (metres) for floats."""
        if self.meter is not None:
            return self.meter
        return 1.0 if self.pixels.dtype.kind == "f" else 1000.0


@final
@attrs.frozen(kw_only=True)
class SegmentationMsg(Sealed):
    """An image of class ids (HxW, uint8 or uint16)."""

    pixels: np.ndarray[Any, Any] = attrs.field(converter=freeze, eq=_ARRAY_EQ, hash=False)
    draw_order: float | None = attrs.field(default=None, converter=check_draw_order)
    ext: Components = attrs.field(
        factory=dict, converter=_single_instance, eq=_COMPONENTS_EQ, hash=False
    )

    def __attrs_post_init__(self) -> None:
        """Check the pixel dtype and shape."""
        _check_pixels(self.pixels, kind="segmentation", ndim=2, dtypes=SEGMENTATION_DTYPES)


@final
@attrs.frozen(kw_only=True)
class AnnotationContextMsg(Sealed):
    """Class ids mapped to labels, colours and keypoint skeletons."""

    class_descriptions: tuple[ClassDescription, ...] = attrs.field(
        converter=normalize_class_descriptions
    )


@final
@attrs.frozen(kw_only=True)
class ExtensionMsg(Sealed):
    """User components logged on their own, optionally one value per identifier."""

    components: Components = attrs.field(converter=_many_instances, eq=_COMPONENTS_EQ, hash=False)
    identifiers: tuple[int, ...] | None = attrs.field(default=None, converter=_identifiers)

    def __attrs_post_init__(self) -> None:
        """Check that all components have 1 value or N values (N identifiers when given)."""
        lengths = {name: array.shape[0] for name, array in self.components.items()}
        instanced = {n for n in lengths.values() if n != 1}
        if self.identifiers is not None:
            instanced.add(len(self.identifiers))
        if len(instanced) > 1:
            counts = dict(lengths)
            if self.identifiers is not None:
                counts["identifiers"] = len(self.identifiers)
            msg = (
                f"every component must have 1 value or the same number N of values "
                f"(and N identifiers, when given); got {counts}."
            )
            raise InvalidArgumentError(msg, param="ext")


Message = ImageMsg | DepthMsg | SegmentationMsg | AnnotationContextMsg | ExtensionMsg

"""Annotation contexts: class ids mapped to labels, colours and keypoint skeletons.

Rules:
- ``AnnotationInfo`` and ``ClassDescription`` accept anything at construction (legacy
  scripts build them with odd values); ``normalize_class_descriptions`` validates;
- ids are integers in 0..65535 and unique (class ids per context, keypoint ids per class);
- colours are 3 or 4 ints in 0..255, 3 or 4 floats in 0..1 (any float makes it floats)
  or a hex string, normalised to one RGBA tuple of ints;
- keypoint connections are pairs, or a flat even-length sequence, of keypoint ids.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import numpy as np

from rerun_core._scalars import MAX_CLASS_ID, check_int
from rerun_core.errors import InvalidArgumentError

__all__ = ["AnnotationInfo", "ClassDescription", "normalize_class_descriptions"]

Rgba = tuple[int, int, int, int]
_HEX = re.compile(r"#?([0-9a-fA-F]{6}|[0-9a-fA-F]{8})")


def _as_given(value: object) -> Any:
    """Keep a constructor argument as given: ``normalize_class_descriptions`` checks it."""
    return value


@attrs.frozen
class AnnotationInfo:
    """An id with an optional label and colour (legacy-compatible value holder).

    The fields are typed as they are once validated, in every ``AnnotationContextMsg``;
    the constructor accepts anything (legacy scripts pass odd values), and
    ``make_annotation_context_msg`` checks and normalises it (the colour to RGBA).
    """

    id: int = attrs.field(default=0, converter=_as_given)
    label: str | None = attrs.field(default=None, converter=_as_given)
    color: Rgba | None = attrs.field(default=None, converter=_as_given)


@attrs.frozen
class ClassDescription:
    """A class, its keypoints and the connections between them (legacy-compatible).

    Typed as validated, like ``AnnotationInfo``: ``info`` is then an ``AnnotationInfo``
    (``None`` becomes id 0), keypoints a tuple and connections ``(from_id, to_id)`` pairs.
    """

    info: AnnotationInfo = attrs.field(default=None, converter=_as_given)
    keypoint_annotations: tuple[AnnotationInfo, ...] = attrs.field(
        default=None, converter=_as_given
    )
    keypoint_connections: tuple[tuple[int, int], ...] = attrs.field(
        default=None, converter=_as_given
    )


def normalize_class_descriptions(value: object) -> tuple[ClassDescription, ...]:
    """Validate one class description-like item or an iterable of them."""
    if _is_single_item(value):
        items: list[object] = [value]
    elif isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        msg = (
            "class_descriptions must be a ClassDescription, an AnnotationInfo, an "
            f"(id, label[, color]) tuple, or a list of them; got {type(value).__name__}."
        )
        raise InvalidArgumentError(msg, param="class_descriptions")
    else:
        items = list(value)
    descriptions = tuple(_class_description(item) for item in items)
    _check_unique([d.info.id for d in descriptions], what="class ids")
    return descriptions


def _is_single_item(value: object) -> bool:
    if isinstance(value, ClassDescription | AnnotationInfo):
        return True
    return isinstance(value, tuple) and 1 <= len(value) <= 3 and _is_integer(value[0])


def _is_integer(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _class_description(item: object) -> ClassDescription:
    if not isinstance(item, ClassDescription):
        return ClassDescription(_annotation_info(item, what="class"), (), ())
    given: object = item.info  # a holder may hold anything until it is validated here
    info = _annotation_info(AnnotationInfo() if given is None else given, what="class")
    keypoints = _keypoint_annotations(item.keypoint_annotations)
    connections = _keypoint_connections(item.keypoint_connections)
    if keypoints:
        known = {k.id for k in keypoints}
        unknown = sorted({i for pair in connections for i in pair} - known)
        if unknown:
            msg = (
                f"keypoint_connections of class {info.id} name keypoint ids {unknown} that are "
                f"not among its keypoint_annotations {sorted(known)}. Add them or fix the pairs."
            )
            raise InvalidArgumentError(msg, param="keypoint_connections")
    return ClassDescription(info, keypoints, connections)


def _annotation_info(item: object, *, what: str) -> AnnotationInfo:
    if isinstance(item, AnnotationInfo):
        fields: tuple[object, ...] = (item.id, item.label, item.color)
    elif isinstance(item, tuple | list) and 1 <= len(item) <= 3:
        fields = (*item, None, None)[:3]
    else:
        msg = (
            f"each {what} must be an AnnotationInfo, ClassDescription or (id, label[, color]) "
            f"tuple; got {type(item).__name__} {item!r}."
        )
        raise InvalidArgumentError(msg, param="class_descriptions")
    identifier, label, color = fields
    class_id = check_int(identifier, param=f"{what} id", low=0, high=MAX_CLASS_ID)
    if label is not None and not isinstance(label, str):
        msg = (
            f"{what} {class_id} label must be a str or None; got {type(label).__name__} {label!r}."
        )
        raise InvalidArgumentError(msg, param="label")
    return AnnotationInfo(class_id, label, normalize_color(color))


def _keypoint_annotations(value: object) -> tuple[AnnotationInfo, ...]:
    if value is None:
        return ()
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        msg = f"keypoint_annotations must be a list of AnnotationInfo; got {type(value).__name__}."
        raise InvalidArgumentError(msg, param="keypoint_annotations")
    keypoints = tuple(_annotation_info(k, what="keypoint") for k in value)
    _check_unique([k.id for k in keypoints], what="keypoint ids")
    return keypoints


def _keypoint_connections(value: object) -> tuple[tuple[int, int], ...]:
    if value is None:
        return ()
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        msg = f"keypoint_connections must be pairs of ids; got {type(value).__name__}."
        raise InvalidArgumentError(msg, param="keypoint_connections")
    items = list(value)
    if all(_is_integer(i) for i in items):
        if len(items) % 2:
            msg = (
                f"keypoint_connections given as a flat list must have an even length; got "
                f"{len(items)} ids. Pass (from_id, to_id) pairs instead."
            )
            raise InvalidArgumentError(msg, param="keypoint_connections")
        pairs: list[object] = [tuple(items[i : i + 2]) for i in range(0, len(items), 2)]
    else:
        pairs = items
    return tuple(_connection(pair) for pair in pairs)


def _connection(pair: object) -> tuple[int, int]:
    if not isinstance(pair, tuple | list) or len(pair) != 2:
        msg = (
            "keypoint_connections must be (from_id, to_id) pairs or a flat list of ids; "
            f"got item {pair!r}."
        )
        raise InvalidArgumentError(msg, param="keypoint_connections")
    low, high = (check_int(i, param="keypoint id", low=0, high=MAX_CLASS_ID) for i in pair)
    return (low, high)


def _check_unique(ids: list[int], *, what: str) -> None:
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        msg = f"{what} must be unique; {duplicates} appear more than once. Merge or renumber them."
        raise InvalidArgumentError(msg, param="class_descriptions")


def normalize_color(value: object) -> Rgba | None:
    """Return a colour as an RGBA tuple of ints in 0..255 (``None`` stays ``None``)."""
    if value is None:
        return None
    if isinstance(value, str):
        match = _HEX.fullmatch(value)
        if match is None:
            msg = f"color hex strings look like '#ff8800' or '#ff8800cc'; got {value!r}."
            raise InvalidArgumentError(msg, param="color")
        digits = match.group(1)
        return _rgba([int(digits[i : i + 2], 16) for i in range(0, len(digits), 2)])
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        array = np.asarray(None)
    if array.ndim != 1 or array.shape[0] not in (3, 4) or array.dtype.kind not in "iuf":
        msg = (
            "color must be 3 or 4 ints in 0..255, 3 or 4 floats in 0..1, or a hex string; "
            f"got {value!r}."
        )
        raise InvalidArgumentError(msg, param="color")
    if array.dtype.kind == "f":
        floats = [float(v) for v in array]
        if not all(math.isfinite(v) and 0.0 <= v <= 1.0 for v in floats):
            msg = (
                f"float colors must be in 0..1; got {value!r}. Use ints for 0..255 "
                "(a colour with any float in it is read as floats)."
            )
            raise InvalidArgumentError(msg, param="color")
        return _rgba([round(v * 255) for v in floats])
    ints = [int(v) for v in array]
    if not all(0 <= v <= 255 for v in ints):
        msg = f"int colors must be in 0..255; got {value!r}."
        raise InvalidArgumentError(msg, param="color")
    return _rgba(ints)


def _rgba(channels: list[int]) -> Rgba:
    red, green, blue, *alpha = channels
    return (red, green, blue, alpha[0] if alpha else 255)

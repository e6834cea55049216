"""``make_annotation_context_msg`` and ``make_extension_msg``: messages without pixels."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rerun_core._annotation import AnnotationInfo, ClassDescription
from rerun_core._messages import AnnotationContextMsg, ExtensionMsg
from rerun_core.errors import InvalidArgumentError

__all__ = ["make_annotation_context_msg", "make_extension_msg"]

ClassDescriptionLike = ClassDescription | AnnotationInfo | tuple[Any, ...]


def make_annotation_context_msg(
    class_descriptions: ClassDescriptionLike | Iterable[ClassDescriptionLike],
) -> AnnotationContextMsg:
    """Validate class descriptions (ids, labels, colours, keypoints) into a message."""
    return AnnotationContextMsg(class_descriptions=class_descriptions)


def make_extension_msg(
    ext: Mapping[str, Any], *, identifiers: Sequence[int] | None = None
) -> ExtensionMsg:
    """Validate user components (1 or N values each, N identifiers when given)."""
    if not isinstance(ext, Mapping):
        msg = (
            f"ext must be a dict of name -> value; got {type(ext).__name__}. "
            'Pass e.g. {"speed": [1.5, 2.5]}.'
        )
        raise InvalidArgumentError(msg, param="ext")
    return ExtensionMsg(components=ext, identifiers=identifiers)

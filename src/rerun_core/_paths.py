"""Entity paths: ``"/"``-separated names stored as a tuple of parts.

Rules: ``"a//b/"`` -> ``("a", "b")``; ``"/"`` is the root, ``()``; the empty string,
parts with leading or trailing whitespace and non-printable characters are rejected.
"""

from __future__ import annotations

from collections.abc import Sequence

from rerun_core.errors import InvalidArgumentError

__all__ = ["format_entity_path", "parse_entity_path"]


def parse_entity_path(path: str | Sequence[str] | object) -> tuple[str, ...]:
    """Return ``path`` (a string or a sequence of parts) as a validated tuple of parts."""
    if isinstance(path, str):
        if not path:
            msg = "entity_path must not be empty; use '/' for the root or e.g. 'camera/rgb'."
            raise InvalidArgumentError(msg, param="entity_path")
        parts = tuple(part for part in path.split("/") if part)
    elif isinstance(path, Sequence) and not isinstance(path, bytes):
        given: tuple[object, ...] = tuple(path)
        parts = tuple(part for part in given if isinstance(part, str) and part)
        if len(parts) != len(given):
            msg = f"entity_path parts must be non-empty strings; got {path!r}."
            raise InvalidArgumentError(msg, param="entity_path")
    else:
        msg = f"entity_path must be a str like 'camera/rgb'; got {type(path).__name__}."
        raise InvalidArgumentError(msg, param="entity_path")
    for part in parts:
        if part != part.strip():
            msg = f"entity_path part {part!r} has leading or trailing whitespace; strip it."
            raise InvalidArgumentError(msg, param="entity_path")
        if not part.isprintable() or "/" in part:
            msg = (
                f"entity_path part {part!r} contains a non-printable character or '/'; "
                "use printable names separated by '/'."
            )
            raise InvalidArgumentError(msg, param="entity_path")
    return parts


def format_entity_path(parts: tuple[str, ...]) -> str:
    """Return the display form of a parsed path: ``"a/b"``, or ``"/"`` for the root."""
    return "/".join(parts) or "/"

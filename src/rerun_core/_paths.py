"""Entity paths: ``"/"``-separated names stored as a tuple of parts.

Rules: ``"a//b/"`` -> ``("a", "b")``; ``"/"`` is the root, ``()``; the empty string,
parts with leading or trailing whitespace and non-printable characters are rejected.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NoReturn

from rerun_core.errors import InvalidArgumentError

__all__ = ["format_entity_path", "parse_entity_path"]


def parse_entity_path(path: str | Sequence[str] | object) -> tuple[str, ...]:
    """Return ``path`` (a string or a sequence of parts) as a validated tuple of parts."""
    if type(path) is str and path:
        parts: tuple[object, ...] = tuple(part for part in path.split("/") if part)
    elif type(path) is tuple or (isinstance(path, Sequence) and not isinstance(path, str | bytes)):
        parts = tuple(path)
    else:
        _reject(path, path)
    checked: list[str] = []
    for part in parts:
        if not (isinstance(part, str) and _valid_part(part)):
            _reject(path, part)
        checked.append(part)
    return tuple(checked)


def _valid_part(part: str) -> bool:
    return part.isprintable() and part.strip() == part != "" and "/" not in part


def _reject(path: object, part: object) -> NoReturn:
    if path == "":
        msg = "entity_path must not be empty; use '/' for the root or e.g. 'camera/rgb'."
    elif part is path:
        msg = f"entity_path must be a str like 'camera/rgb'; got {type(path).__name__}."
    elif not isinstance(part, str) or not part:
        msg = f"entity_path parts must be non-empty strings; got {path!r}."
    elif part != part.strip():
        msg = f"entity_path part {part!r} has leading or trailing whitespace; strip it."
    else:
        msg = (
            f"entity_path part {part!r} contains a non-printable character or '/'; "
            "use printable names separated by '/'."
        )
    raise InvalidArgumentError(msg, param="entity_path")


def format_entity_path(parts: tuple[str, ...]) -> str:
    """Return the display form of a parsed path: ``"a/b"``, or ``"/"`` for the root."""
    return "/".join(parts) or "/"

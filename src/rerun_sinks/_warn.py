"""Warnings shown at the user's line, de-duplicated by the library itself.

Rules: a warning points at the first frame outside ``rerun_sinks`` (any module in the
package's directory); it always reaches the ``warnings`` machinery, even from code run
without a ``__name__`` in its globals (``exec(code, {})``); a ``once_per_site`` warning is
shown once per user file and line, whatever its text and whatever the ``warnings`` filters
say (Python's own registry is bypassed).
"""

from __future__ import annotations

import os
import sys
import threading
import warnings

from rerun_sinks.errors import RerunWarning

__all__ = ["reset_warnings", "warn_once_per_process", "warn_once_per_site", "warn_user"]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_lock = threading.Lock()
_seen_sites: set[tuple[str, int]] = set()
_seen_keys: set[str] = set()


def _user_frame() -> tuple[str, int, dict[str, object]]:
    frame = sys._getframe(1)
    while frame.f_back is not None and os.path.abspath(frame.f_code.co_filename).startswith(
        _PACKAGE_DIR
    ):
        frame = frame.f_back
    return frame.f_code.co_filename, frame.f_lineno, frame.f_globals


def _emit(message: str, site: tuple[str, int, dict[str, object]]) -> None:
    """Hand the warning to ``warnings``, always with a module name (``None`` would drop it)."""
    filename, lineno, module_globals = site
    module = module_globals.get("__name__")
    if not isinstance(module, str):  # exec(code, {}): the name warnings.warn gives it
        module = "<string>"
    warnings.warn_explicit(message, RerunWarning, filename, lineno, module=module, registry=None)


def warn_user(message: str) -> None:
    """Warn with a :class:`RerunWarning` pointing at the user's line."""
    _emit(message, _user_frame())


def warn_once_per_site(message: str) -> None:
    """Warn unless a warning was already shown for this user file and line."""
    site = _user_frame()
    with _lock:
        if site[:2] in _seen_sites:
            return
        _seen_sites.add(site[:2])
    _emit(message, site)


def warn_once_per_process(key: str, message: str) -> None:
    """Warn unless a warning with this ``key`` was already shown in this process."""
    with _lock:
        if key in _seen_keys:
            return
        _seen_keys.add(key)
    _emit(message, _user_frame())


def reset_warnings() -> None:
    """Forget which warnings were shown (for tests)."""
    with _lock:
        _seen_sites.clear()
        _seen_keys.clear()

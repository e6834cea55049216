"""Making room for a file written anew at a path that may hold an older one.

Rules:
- ext4 writes a truncated file's new data back when it is closed (its replace-by-truncate
  heuristic, ``auto_da_alloc``): 135 ms for a 250 MB recording, about 7 us per 64x64
  frame; a writer that creates the file afresh pays nothing of the kind;
- so a writable regular file with one name at the path is removed first, and the new
  file gets its permission bits; a symlink, a file with other hard links, one we may not
  write (refused by the writer, as before) or one that cannot be removed (e.g. open
  elsewhere on Windows) stays, and the writer truncates it as before.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from typing import TypeVar

__all__ = ["rewrite"]

_T = TypeVar("_T")


def rewrite(path: str, create: Callable[[], _T]) -> _T:
    """Return ``create()``, which opens ``path`` for writing, after removing an old file there.

    ``create`` truncates or creates the file itself (``os.open`` with ``O_TRUNC``, a
    library's writer); the new file gets the removed one's permission bits.
    """
    try:
        old = os.lstat(path)
    except OSError:
        return create()
    if not (stat.S_ISREG(old.st_mode) and old.st_nlink == 1 and old.st_size > 0):
        return create()
    if not os.access(path, os.W_OK):
        return create()
    try:
        os.unlink(path)
    except OSError:
        return create()
    made = create()
    os.chmod(path, stat.S_IMODE(old.st_mode))
    return made

"""Reading every intact record of a possibly damaged ``.rrc`` file.

Rules: damaged regions are skipped and handed to ``on_damage`` (as ``scan_records``
delimits them); reading resumes at the next intact record. Without ``on_damage``, the
first damaged region raises its ``DecodeError``, as ``read_records`` does.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

from rerun_core import Record, RecordDecoder, RecordSpan, scan_records
from rerun_sinks._formats import foreign_records, sniff_format
from rerun_sinks._readers import _map

__all__ = ["intact_records"]


def intact_records(
    path: str | os.PathLike[str], on_damage: Callable[[RecordSpan], None] | None = None
) -> Iterator[Record]:
    """Yield the intact records of ``path`` in file order; report each damaged region.

    ``.mcap`` and ``.rrd`` files (recognised by their first bytes) are read by their
    readers, which raise on damage.
    """
    kind = sniff_format(path)
    if kind != "rrc":
        yield from foreign_records(path, kind)
        return
    data = _map(path)
    view = memoryview(data)
    decoder = RecordDecoder()
    for span in scan_records(data):
        if span.error is None:
            yield from decoder.iter_records(view[span.offset : span.offset + span.length])
        elif on_damage is None:
            raise span.error
        else:
            on_damage(span)

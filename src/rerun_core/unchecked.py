"""Trusted construction: the fast paths of a recording engine, for parts already checked.

The functions here skip the checks that ``Record(...)``, ``make_record`` and ``TimeValue(...)``
make, so they may only be given values that ``rerun_core`` itself produced or checked:

- ``entity_path``: a tuple from ``parse_entity_path``;
- ``msg``: a message from a ``make_*_msg`` builder or a message constructor;
- ``timepoint``: ``NO_TIMELINES`` or a read-only mapping (``MappingProxyType``) of
  ``TimeValue`` that no one mutates afterwards (records share it);
- ``new_time_value``: ``kind`` a ``TimeKind`` literal and ``value`` an int that fits in int64;
- ``column_timepoints``: columns of int64 values (``new_time_value``'s rule), one per frame.

``stamp_record`` still checks the tick, the clock reading and timeless-without-timelines.
Anything else unchecked is the caller's bug: the record would encode, but not decode equal.
User input never goes here; it goes through the builders.
"""

from __future__ import annotations

from rerun_core._batch import column_timepoints
from rerun_core._record import NO_TIMELINES, TimeKind, new_time_value, stamp_record

__all__ = ["NO_TIMELINES", "TimeKind", "column_timepoints", "new_time_value", "stamp_record"]

"""Fixtures for the rerun_sinks tests: fresh global state and a deterministic clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rerun_sinks._state import reset_for_tests


@pytest.fixture(autouse=True)
def _fresh_state() -> Iterator[None]:
    reset_for_tests()
    yield
    reset_for_tests()


class FakeClock:
    """Returns 1000, 2000, 3000, ... nanoseconds."""

    def __init__(self) -> None:
        self.now = 0

    def __call__(self) -> int:
        self.now += 1000
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()

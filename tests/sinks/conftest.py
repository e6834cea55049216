"""Fixtures for the rerun_sinks tests: fresh global state and a deterministic clock."""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
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


@pytest.fixture
def written_buffers(monkeypatch: pytest.MonkeyPatch) -> list[np.ndarray]:
    """Every buffer ``os.pwritev`` writes from now on, as a uint8 view (the write still happens)."""
    real_pwritev = os.pwritev
    seen: list[np.ndarray] = []

    def spy(fd: int, buffers: list[bytes | memoryview], offset: int) -> int:
        seen.extend(np.frombuffer(b, np.uint8) for b in buffers)
        return real_pwritev(fd, buffers, offset)

    monkeypatch.setattr(os, "pwritev", spy)
    return seen

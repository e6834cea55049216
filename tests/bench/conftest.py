"""Fixtures for the benchmark smoke tests: import a script of ``benchmarks/`` by name."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

BENCH_DIR = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture
def import_bench(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], ModuleType]:
    """Return ``importlib.import_module``, with ``benchmarks/`` on ``sys.path`` for the test."""
    monkeypatch.syspath_prepend(str(BENCH_DIR))
    return importlib.import_module

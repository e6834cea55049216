"""Smoke test of ``benchmarks/bench_tensors.py``: tiny frames, copy counts, no timing asserts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest


@pytest.fixture
def bench(import_bench: Callable[[str], ModuleType]) -> ModuleType:
    return import_bench("bench_tensors")


def test_every_source_logs_with_one_copy_of_the_frame(bench: ModuleType) -> None:
    result = bench.measure(1, 0.01, quick=True)
    names = {source.name for source in result.sources}
    assert {"numpy", "dlpack", "array", "numpy-chw", "dlpack-chw"} <= names
    for source in result.sources:
        assert len(source.times) == 1
        # tracemalloc's peak during one call, in frames: the one copy into the message,
        # plus the record's small objects (64x64 frames make them ~10-20 % here).
        assert 1.0 <= source.copies < 1.5, (source.name, source.copies)


def test_the_report_has_a_row_per_source_and_the_limit(bench: ModuleType, tmp_path: Path) -> None:
    out = tmp_path / "tensors.md"
    assert bench.main(["--quick", "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "| DLPack-only CPU tensor HxWx3 |" in text
    assert "| limit: np.copyto of the frame |" in text

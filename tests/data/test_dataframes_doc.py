"""docs/DATAFRAMES.md: every Python block runs, in order, and its asserts hold."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "DATAFRAMES.md"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def test_the_doc_has_an_example_per_engine():
    code = "\n".join(python_blocks(DOC.read_text(encoding="utf-8")))
    for call in (
        "duckdb.sql(",
        "pl.scan_parquet(",
        'datasets.load_dataset("parquet"',
        "ray.data.read_parquet(",
        ".decode_image()",
        "pa.table(f)",
        "rr.from_parquet(",
    ):
        assert call in code


def test_every_python_block_runs(tmp_path):
    script = tmp_path / "doc.py"
    script.write_text("\n\n".join(python_blocks(DOC.read_text(encoding="utf-8"))))
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]


def test_the_readme_duckdb_example_runs(tmp_path):
    readme = (DOC.parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## From a recording to DuckDB\n", 1)[1]
    (block,) = python_blocks(section.split("\n## ", 1)[0])
    demo = [sys.executable, "-c", "from rerun_sinks._cli import main; main()", "demo", "demo.rrc"]
    subprocess.run(demo, cwd=tmp_path, check=True, capture_output=True)
    result = subprocess.run(
        [sys.executable, "-c", block], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "world/camera/rgb" in result.stdout
    assert "30" in result.stdout  # 30 frames per camera entity

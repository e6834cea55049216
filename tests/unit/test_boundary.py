"""The core is pure: it never imports the sinks and its builders do no I/O."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import rerun_core
import rerun_core.unchecked
import rerun_sinks


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_importing_core_does_not_import_sinks() -> None:
    result = _run(
        """
        import sys
        import rerun_core
        import rerun_core.errors
        assert "rerun_sinks" not in sys.modules, sorted(m for m in sys.modules if "rerun" in m)
        print("ok")
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_builders_do_no_file_or_socket_io() -> None:
    result = _run(
        """
        import io, sys
        import numpy as np
        from PIL import Image
        import rerun_core as rc

        png, jpeg = io.BytesIO(), io.BytesIO()
        Image.new("RGB", (8, 8)).save(png, format="PNG")
        Image.new("RGB", (8, 8)).save(jpeg, format="JPEG")
        rc.make_image_msg(np.zeros((8, 8, 3), np.uint8), jpeg_quality=90)  # warm lazy imports
        rc.make_encoded_image_msg(jpeg.getvalue())  # (codecs are imported on first use)

        events = []
        watched = ("open", "socket.", "os.", "shutil.", "subprocess.", "mmap.", "tempfile.")
        def hook(event, args):
            if event.startswith(watched):
                events.append(event)
        sys.addaudithook(hook)

        img = rc.make_image_msg(np.zeros((8, 8, 3), np.uint8), draw_order=1.0, ext={"a": 1})
        rc.make_image_msg(np.zeros((8, 8, 3), np.uint8), jpeg_quality=90)
        rc.make_encoded_image_msg(png.getvalue())
        rc.make_encoded_image_msg(jpeg.getvalue())
        rc.make_depth_msg(np.zeros((8, 8), np.uint16), meter=1000)
        rc.make_segmentation_msg(np.zeros((8, 8), np.int32))
        rc.make_annotation_context_msg([(1, "a", "#ff0000")])
        rc.make_extension_msg({"v": [1, 2]}, identifiers=[3, 4])
        rc.make_record("a/b", img, timepoint={"f": ("sequence", 1)})
        try:
            rc.make_encoded_image_msg(b"garbage")
        except rc.RerunCoreError:
            pass
        print(events)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_sinks_reexport_core_value_types() -> None:
    for name in ("ImageFormat", "AnnotationInfo", "ClassDescription", "ColorModel"):
        assert getattr(rerun_sinks, name) is getattr(rerun_core, name)


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_only_the_core_imports_private_core_modules() -> None:
    """``rerun_sinks`` and the benchmarks use ``rerun_core``'s public modules only.

    Ruff's banned-api (TID251) names each private module; this also catches new ones.
    """
    root = Path(__file__).resolve().parents[2]
    offenders = [
        f"{path.relative_to(root)}: {name}"
        for folder in ("src/rerun_sinks", "benchmarks")
        for path in sorted((root / folder).rglob("*.py"))
        for name in sorted(_imported_modules(path))
        if name.startswith("rerun_core._")
    ]
    assert offenders == [], "use rerun_core's public API or rerun_core.unchecked"


def test_unchecked_all_is_sorted_and_complete() -> None:
    public = {
        name
        for name, value in vars(rerun_core.unchecked).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    public -= {"annotations"}
    assert rerun_core.unchecked.__all__ == sorted(rerun_core.unchecked.__all__)
    assert set(rerun_core.unchecked.__all__) == public


CODECS_LOADED_ON_FIRST_USE = (
    "PIL",
    "cattrs",
    "cbor2",
    "imagecodecs",
    "png",
    "pyspng",
    "simplejpeg",
)


def test_importing_the_core_loads_no_codec() -> None:
    """SDKs that embed the core pay for a codec only when they use it."""
    result = _run(
        f"""
        import sys
        import rerun_core
        print(sorted(m for m in {CODECS_LOADED_ON_FIRST_USE!r} if m in sys.modules))
        rerun_core.encode_record
        print(sorted(m for m in {CODECS_LOADED_ON_FIRST_USE!r} if m in sys.modules))
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["[]", "['cattrs', 'cbor2']"]

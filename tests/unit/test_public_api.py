"""One public surface: docs/API.md, ``__all__`` and the packages' namespaces agree.

The rule (docs/API.md): a public name is imported in its package's ``__init__.py``, listed
in its sorted ``__all__`` and given a row in docs/API.md. In ``rerun_sinks`` a name whose
module needs an optional extra is listed in ``_LAZY`` and imported on first use.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import tomllib
import types
from importlib import metadata
from pathlib import Path

import pytest

import rerun_core
import rerun_sinks

ROOT = Path(__file__).resolve().parents[2]
API_DOC = ROOT / "docs" / "API.md"
USER_DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PACKAGES = {"rerun_core": rerun_core, "rerun_sinks": rerun_sinks}
HOW = (
    "see docs/API.md: import the name in __init__.py, add it to the sorted __all__ and "
    "give it a row in the package's table"
)


def documented_names(package: str) -> list[str]:
    """The first-cell names of the table under ``## `package` `` in docs/API.md."""
    section = API_DOC.read_text(encoding="utf-8").split(f"## `{package}`\n", 1)[1]
    section = section.split("\n## ", 1)[0]
    return re.findall(r"^\| `(\w+)` \|", section, flags=re.MULTILINE)


def namespace_names(module: types.ModuleType) -> set[str]:
    """Public names bound in ``module`` (lazy ones of ``rerun_sinks`` included)."""
    names = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    names -= {"annotations", "TYPE_CHECKING"}
    return names | set(getattr(module, "_LAZY", {}))


@pytest.mark.parametrize("package", PACKAGES)
def test_every_exported_name_is_documented_and_every_documented_name_exported(
    package: str,
) -> None:
    exported = PACKAGES[package].__all__
    documented = documented_names(package)
    assert exported == sorted(exported), f"{package}.__all__ is not sorted"
    assert len(documented) == len(set(documented)), f"a name has two rows in docs/API.md; {HOW}"
    assert sorted(set(exported) - set(documented)) == [], f"not in docs/API.md; {HOW}"
    assert sorted(set(documented) - set(exported)) == [], f"not in {package}.__all__; {HOW}"


@pytest.mark.parametrize("package", PACKAGES)
def test_all_is_exactly_the_namespace_and_every_name_resolves(package: str) -> None:
    module = PACKAGES[package]
    assert set(module.__all__) == namespace_names(module), HOW
    for name in module.__all__:
        assert getattr(module, name) is not None
    assert set(module.__all__) <= set(dir(module))


def test_lazy_names_come_from_their_modules() -> None:
    for name, module in rerun_sinks._LAZY.items():
        assert getattr(sys.modules[module], name) is getattr(rerun_sinks, name)
        assert name in rerun_sinks.__all__


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'McapSinkk'"):
        _ = rerun_sinks.McapSinkk  # type: ignore[attr-defined]


def extras_modules() -> list[str]:
    """Top-level modules of every optional extra's distributions (``dev`` aside)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    dists = {
        re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0].lower().replace("_", "-")
        for extra, requirements in project["optional-dependencies"].items()
        if extra != "dev"
        for requirement in requirements
    }
    dists.discard(project["name"])
    return sorted(
        module
        for module, owners in metadata.packages_distributions().items()
        if any(owner.lower().replace("_", "-") in dists for owner in owners)
    )


def test_importing_the_sinks_needs_no_extra() -> None:
    blocked = extras_modules()
    assert "mcap" in blocked
    assert "rerun" in blocked
    code = f"""
        import importlib.abc, sys
        BLOCKED = {blocked!r}

        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in BLOCKED:
                    raise ImportError(f"blocked extra: {{name}}")

        sys.meta_path.insert(0, Block())
        import rerun_sinks
        eager = [n for n in rerun_sinks.__all__ if n not in rerun_sinks._LAZY]
        for name in eager:
            getattr(rerun_sinks, name)
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
        print(loaded)
        """
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


PRIVATE_IMPORT = re.compile(r"(?:from|import)\s+rerun_(?:core|sinks)\._\w+")
ALIASES = {"rr": ("rerun_sinks", rerun_sinks), "rc": ("rerun_core", rerun_core)}


@pytest.mark.parametrize("doc", USER_DOCS, ids=lambda path: path.name)
def test_docs_import_only_public_names(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    assert PRIVATE_IMPORT.findall(text) == [], "import it from rerun_sinks or rerun_core"
    for package, names in re.findall(r"from (rerun_core|rerun_sinks) import ([\w, ]+)", text):
        missing = [
            n for n in names.replace(" ", "").split(",") if n not in PACKAGES[package].__all__
        ]
        assert missing == [], f"{doc.name} imports names {package} does not export"
    for block in re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL):
        for alias, (package, module) in ALIASES.items():
            if f"import {package} as {alias}" in block:
                used = set(re.findall(rf"\b{alias}\.(\w+)", block))
                assert sorted(used - set(module.__all__)) == [], f"{doc.name}: {alias}.<name>"

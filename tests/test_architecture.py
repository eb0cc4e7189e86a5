"""The layering of ARCHITECTURE.md, checked: import-linter contracts, the form known only to the circuit,
no private name imported across packages, at most four top-level modules."""
from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "neurobias"

#: the top-level modules the package keeps (ARCHITECTURE.md)
TOP_LEVEL = {"__init__.py", "errors.py", "_version.py", "testing.py"}


def _modules() -> list[tuple[str, Path]]:
    """Every module of the package as (dotted name, path)."""
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out.append((".".join(parts), path))
    return out


def _is_package(dotted: str) -> bool:
    return (ROOT.joinpath(*dotted.split(".")) / "__init__.py").is_file()


def _scope_of_private(target: str) -> str | None:
    """The package a private dotted name belongs to, or None when ``target`` is public.

    ``neurobias.analysis._field`` and ``neurobias.analysis.gain._check`` belong
    to ``neurobias.analysis``; ``neurobias.config._x`` to ``neurobias.config``
    when it is a package; ``neurobias._version`` to ``neurobias``.
    """
    parts = target.split(".")
    for i, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            owner = ".".join(parts[:i])
            return owner if _is_package(owner) else ".".join(parts[: i - 1])
    return None


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def private_imports() -> list[str]:
    """``file:line: what`` for every import of a private neurobias name from outside the package that owns it."""
    found = []
    for module, path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                source = _resolve(module, path, node)
                targets = [f"{source}.{a.name}" for a in node.names]
            else:
                continue
            for target in targets:
                if not target.startswith("neurobias."):
                    continue
                scope = _scope_of_private(target)
                if scope is not None and not (module == scope or module.startswith(scope + ".")):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {target}")
    return sorted(set(found))


def test_import_contracts_hold():
    exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    if not Path(exe).exists():
        pytest.fail("lint-imports not found: install the dev extra (import-linter)")
    proc = subprocess.run([exe, "--no-cache", "--config", str(ROOT / "pyproject.toml")], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout


def test_contracts_have_no_ignore_list():
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    assert len(config["contracts"]) >= 5
    for contract in config["contracts"]:
        assert "ignore_imports" not in contract, contract["name"]
        assert not contract.get("unmatched_ignore_imports_alerting"), contract["name"]


def test_only_the_circuit_branches_on_the_form():
    branch = re.compile(r"\bform\s*(==|!=)")
    hits = []
    for _, path in _modules():
        if path.is_relative_to(PACKAGE / "circuit"):
            continue
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if branch.search(line):
                hits.append(f"{path.relative_to(ROOT)}:{i}: {line.strip()}")
    assert hits == [], "branches on the circuit's form outside neurobias/circuit:\n" + "\n".join(hits)


def test_no_private_name_is_imported_from_another_package():
    hits = private_imports()
    assert hits == [], "private names imported across packages:\n" + "\n".join(hits)


def test_the_private_import_rule():
    # the rule itself, on names (no files needed): a private module or name belongs to its package
    assert _scope_of_private("neurobias.analysis._field") == "neurobias.analysis"
    assert _scope_of_private("neurobias.analysis._field.VectorField") == "neurobias.analysis"
    assert _scope_of_private("neurobias.analysis.gain._check_circuit") == "neurobias.analysis"
    assert _scope_of_private("neurobias.recordings.formats._arrays.x") == "neurobias.recordings.formats"
    assert _scope_of_private("neurobias.analysis.gain.effective_gain") is None
    assert _scope_of_private("neurobias._version.__version__") == "neurobias"
    assert _scope_of_private("neurobias.__version__") is None


def test_at_most_four_top_level_modules():
    found = {p.name for p in PACKAGE.glob("*.py")}
    assert found <= TOP_LEVEL, f"top-level modules beyond {sorted(TOP_LEVEL)}: {sorted(found - TOP_LEVEL)}"


def test_console_script_points_at_the_cli_package():
    import tomllib

    from neurobias.cli import main

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"neurobias": "neurobias.cli:main"}
    assert callable(main)


def test_no_public_name_is_shadowed_by_a_subpackage():
    """Importing ``neurobias.X`` sets the attribute ``X`` of ``neurobias``: a public name must not be a subpackage's."""
    import neurobias

    root = Path(neurobias.__file__).parent
    subpackages = {p.name for p in root.iterdir() if (p / "__init__.py").is_file()}
    assert not subpackages & set(neurobias.__all__), sorted(subpackages & set(neurobias.__all__))

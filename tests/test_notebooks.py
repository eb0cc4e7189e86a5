"""Every notebook in ``notebooks/`` runs from top to bottom on tiny settings, so none can rot.

The cell tagged ``parameters`` of each notebook is replaced by tiny values
(:data:`TINY`); the notebook then runs with nbclient in a fresh kernel whose
working directory is ``notebooks/`` (as when a user opens it there).  A
notebook without a ``parameters`` cell, or a tiny setting naming a variable
that the notebook does not define, fails the test.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from conftest import recording_path

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

# tiny values per notebook (name -> python source of the value); OUT is added by the test
TINY: dict[str, dict[str, str]] = {
    "01_train_and_simulate": {"N_UNITS": "16", "STEPS": "5"},
    "02_fixed_points_and_continuation": {"N_UNITS": "16", "STEPS": "5", "CANDIDATES": "8"},
    "03_fit_a_recording": {"N_UNITS": "64", "STEPS": "150", "SHUFFLES": "3"},
}


def test_there_are_at_least_three_notebooks() -> None:
    assert len(NOTEBOOKS) >= 3, [p.name for p in NOTEBOOKS]
    assert {p.stem for p in NOTEBOOKS} <= set(TINY), "give every notebook its tiny settings in TINY"


def _tiny_parameters(nb, settings: dict[str, str], out: Path) -> None:  # noqa: ANN001
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, "a notebook needs exactly one cell tagged `parameters`"
    source = cells[0].source
    defined = set(re.findall(r"^([A-Z_][A-Z0-9_]*)\s*=", source, flags=re.M))
    wanted = {**settings, "OUT": repr(str(out))} if "OUT" in defined else dict(settings)
    missing = set(wanted) - defined
    assert not missing, f"the parameters cell defines no {sorted(missing)}"
    cells[0].source = source + "\n# tiny settings of the test suite\n" + "\n".join(
        f"{k} = {v}" for k, v in wanted.items())


# notebooks that read a public recording (from $NEUROBIAS_DATA: the tests never download)
NEEDS_RECORDING = {"03_fit_a_recording": "churchland2012"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, tmp_path: Path) -> None:
    if path.stem in NEEDS_RECORDING and recording_path(NEEDS_RECORDING[path.stem]) is None:
        pytest.skip(f"recording {NEEDS_RECORDING[path.stem]!r} is not in $NEUROBIAS_DATA (the tests never download)")
    nb = nbformat.read(path, as_version=4)
    _tiny_parameters(nb, TINY.get(path.stem, {}), tmp_path / "out")
    # kernel "python3" is ipykernel's native kernel: this interpreter, the project's environment
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}},
        allow_errors=False,
    )
    # the kernel draws inline, as for a user (the test session itself may have chosen Agg)
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    client.execute(env=env)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors, errors
    # every cell that draws shows its figure
    for cell in nb.cells:
        if cell.cell_type == "code" and re.search(r"\bplot_\w+\(|plt\.subplots\(", cell.source):
            shown = [o for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
            assert shown, f"this cell draws but shows no figure:\n{cell.source}"

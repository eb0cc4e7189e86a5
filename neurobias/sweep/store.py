"""The on-disk layout of a sweep: its manifest and one directory per cell, each committed atomically.

::

    DIR/sweep.json          the manifest: base config (TOML), grid, cell names
    DIR/cells/c0000/        a finished cell: cell.json + what ``neurobias run`` writes
    DIR/cells/c0001/        a failed cell: cell.json with the error (and no results.nc)
    DIR/cells/.c0002.tmp-…  a cell being written (or left by a killed worker)

A cell is written into a hidden temporary directory and renamed to its final
name in one :func:`os.rename`, so ``cells/<name>`` either does not exist or is
complete: a sweep stopped at any moment (even by SIGKILL) leaves only finished
cells and temporary directories, which the next start removes and redoes.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neurobias.errors import InputError
from neurobias.io.files import atomic_write_text, read_text
from neurobias.workflows.rundir import SWEEP_CELL_RECORD, SWEEP_CELLS, SWEEP_MANIFEST

__all__ = [
    "MANIFEST",
    "CELL_RECORD",
    "CellRecord",
    "cells_dir",
    "write_manifest",
    "read_manifest",
    "read_record",
    "new_temp_dir",
    "commit_cell",
    "remove_temp_dirs",
    "remove_cell",
]

MANIFEST = SWEEP_MANIFEST
CELL_RECORD = SWEEP_CELL_RECORD
_TMP_MARK = ".tmp-"


@dataclass(frozen=True)
class CellRecord:
    """What ``cells/<name>/cell.json`` holds.

    Attributes
    ----------
    name : str
    status : {"ok", "failed"}
    overrides : tuple of str
        The ``key=value`` overrides of the cell.
    error : str
        One line, ``"<ExceptionType>: <message>"`` (empty when ok).
    traceback : str
        The full traceback of a failure (empty when ok, or for an invalid config).
    wall_time_s : float
        Seconds the cell ran.
    host : str
        Name of the machine that ran it.
    worker : str
        Name of the Dask worker that ran it (empty outside Dask).
    """

    name: str
    status: str
    overrides: tuple[str, ...]
    error: str = ""
    traceback: str = ""
    wall_time_s: float = 0.0
    host: str = ""
    worker: str = ""

    def to_json(self) -> str:
        return json.dumps({**self.__dict__, "overrides": list(self.overrides)}, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str) -> "CellRecord":
        try:
            d = json.loads(text)
            return cls(name=str(d["name"]), status=str(d["status"]), overrides=tuple(d["overrides"]),
                       error=str(d.get("error", "")), traceback=str(d.get("traceback", "")),
                       wall_time_s=float(d.get("wall_time_s", 0.0)), host=str(d.get("host", "")),
                       worker=str(d.get("worker", "")))
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"{source} is not a neurobias cell record: {exc}") from None


def cells_dir(out: Path) -> Path:
    """``out/cells``."""
    return Path(out) / SWEEP_CELLS


def write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    """Write ``out/sweep.json``, or check that an existing one describes the same sweep.

    Raises
    ------
    InputError
        ``out`` holds a sweep of another base config or grid.
    """
    path = Path(out) / MANIFEST
    if path.exists():
        old = read_manifest(out)
        for key in ("config", "grid"):
            if old.get(key) != manifest[key]:
                what = "base config" if key == "config" else "grid"
                raise InputError(f"{out} holds a sweep with another {what}; choose another --out to start a new "
                                 f"sweep (or the same config and grid to continue that one)")
        return
    atomic_write_text(path, json.dumps(manifest, indent=2) + "\n")


def read_manifest(out: Path) -> dict[str, Any]:
    """The manifest of the sweep in ``out`` (InputError if there is none)."""
    path = Path(out) / MANIFEST
    if not path.exists():
        raise InputError(f"{out} is not a sweep directory: {MANIFEST} not found (run `neurobias sweep` first)")
    try:
        manifest = json.loads(read_text(path, what="sweep manifest"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(manifest, dict) or not {"config", "grid", "cells"} <= set(manifest):
        raise InputError(f"{path} is not a neurobias sweep manifest (needs config, grid and cells)")
    return manifest


def read_record(out: Path, name: str) -> CellRecord | None:
    """The record of cell ``name``, or None when the cell has not finished."""
    path = cells_dir(out) / name / CELL_RECORD
    if not path.exists():
        return None
    return CellRecord.from_json(read_text(path, what="cell record"), str(path))


def new_temp_dir(out: Path, name: str) -> Path:
    """A fresh hidden directory ``cells/.<name>.tmp-<random>`` to write one attempt of a cell into."""
    d = cells_dir(out) / f".{name}{_TMP_MARK}{secrets.token_hex(6)}"
    d.mkdir(parents=True)
    return d


def commit_cell(tmp: Path, record: CellRecord) -> CellRecord:
    """Write the record into ``tmp`` and rename ``tmp`` to ``cells/<name>`` in one step.

    If another attempt of the same cell committed first (a task that Dask ran
    twice), ``tmp`` is removed and that attempt's record is returned.
    """
    atomic_write_text(tmp / CELL_RECORD, record.to_json())
    final = tmp.parent / record.name
    try:
        os.rename(tmp, final)
    except OSError:
        if (final / CELL_RECORD).exists():
            shutil.rmtree(tmp, ignore_errors=True)
            return CellRecord.from_json(read_text(final / CELL_RECORD, what="cell record"), str(final))
        raise
    return record


def remove_temp_dirs(out: Path) -> int:
    """Remove the temporary directories of unfinished attempts; returns how many there were."""
    d = cells_dir(out)
    if not d.is_dir():
        return 0
    n = 0
    for p in d.iterdir():
        if p.name.startswith(".") and _TMP_MARK in p.name and p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
            n += 1
    return n


def remove_cell(out: Path, name: str) -> None:
    """Remove the directory of a finished cell (to redo a failed one).

    It is first renamed to a temporary name (one atomic step), so the cell is
    never seen half-removed.
    """
    final = cells_dir(out) / name
    if not final.exists():
        return
    doomed = final.with_name(f".{name}{_TMP_MARK}{secrets.token_hex(6)}")
    os.rename(final, doomed)
    shutil.rmtree(doomed, ignore_errors=True)

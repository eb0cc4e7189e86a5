"""``sweep``: every cell of a grid as one ``run``, on Dask, restartable, failures recorded."""
from __future__ import annotations

import os
import secrets
import socket
import time
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from neurobias._version import __version__
from neurobias.config import RunConfig, config_from_toml, config_to_toml
from neurobias.errors import ConfigError, InputError, check_device, check_instance
from neurobias.sweep.cluster import check_scheduler, connect
from neurobias.config import toml_literal
from neurobias.sweep.grid import Cell, cell_config, check_grid, expand_grid
from neurobias.sweep.store import (
    CellRecord,
    commit_cell,
    new_temp_dir,
    read_record,
    remove_cell,
    remove_temp_dirs,
    write_manifest,
)

__all__ = ["SweepOutput", "run_sweep", "run_cell"]


@dataclass(frozen=True)
class SweepOutput:
    """What :func:`sweep` returns.

    Attributes
    ----------
    out : Path
        The sweep directory (read it with :func:`neurobias.open_sweep`).
    records : dict of str to CellRecord
        The record of every cell by name, in grid order.
    ran : tuple of str
        Cells run by this call (finished or failed).
    skipped : tuple of str
        Cells finished by an earlier call and not run again.
    """

    out: Path
    records: dict[str, CellRecord]
    ran: tuple[str, ...]
    skipped: tuple[str, ...]

    @property
    def failed(self) -> tuple[str, ...]:
        """Names of the cells whose run failed."""
        return tuple(n for n, r in self.records.items() if r.status == "failed")


def run_cell(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Run one cell (on a Dask worker): ``run`` into a temporary directory, then commit it.

    Parameters
    ----------
    spec : mapping
        ``out`` (sweep directory), ``name``, ``overrides`` (list of str),
        ``config`` (the cell's resolved config as TOML) and ``device``.

    Returns
    -------
    dict
        The committed :class:`~neurobias.sweep.store.CellRecord` as a dict.
        Any exception of the run is caught and recorded (``status="failed"``).
    """
    from neurobias.workflows.run import run

    out, name = Path(spec["out"]), str(spec["name"])
    done = read_record(out, name)
    if done is not None:  # Dask ran the task again (e.g. its result was on a worker that died): keep the first
        return done.__dict__
    tmp = new_temp_dir(out, name)
    t0 = time.perf_counter()
    status, error, tb = "ok", "", ""
    try:
        config = config_from_toml(str(spec["config"]), source=f"cell {name}")
        run(config, out=tmp, progress=False, device=str(spec.get("device", "cpu")))
    except Exception as exc:  # noqa: BLE001 - a failing cell is recorded, never fatal to the sweep
        status, error, tb = "failed", f"{type(exc).__name__}: {' '.join(str(exc).split())}", traceback.format_exc()
    record = CellRecord(name=name, status=status, overrides=tuple(spec["overrides"]), error=error, traceback=tb,
                        wall_time_s=time.perf_counter() - t0, host=socket.gethostname(), worker=_worker_name())
    return commit_cell(tmp, record).__dict__


def _worker_name() -> str:
    """The name of the Dask worker running this code, or "" outside a worker."""
    try:
        from distributed import get_worker

        return str(get_worker().name)
    except (ImportError, ValueError):
        return ""


def _fail_here(out: Path, cell: Cell, error: str) -> CellRecord:
    """Record a cell as failed from the sweep's own process (invalid config, or a task Dask gave up on)."""
    record = CellRecord(name=cell.name, status="failed", overrides=tuple(cell.overrides()), error=error,
                        host=socket.gethostname())
    return commit_cell(new_temp_dir(out, cell.name), record)


def run_sweep(
    config: RunConfig,
    grid: Mapping[str, Sequence[Any]],
    *,
    out: str | os.PathLike,
    scheduler: str = "local",
    workers: int | None = None,
    slurm: Mapping[str, Any] | None = None,
    retry_failed: bool = False,
    device: str = "cpu",
    progress: bool = True,
) -> SweepOutput:
    """Run every cell of a grid of configs as one :func:`neurobias.run`, on Dask.

    Each cell writes ``out/cells/<name>/`` atomically (see
    :mod:`neurobias.sweep.store`); calling ``sweep`` again with the same config
    and grid skips finished cells and redoes unfinished ones, also after the
    sweep or its workers were killed.  A cell whose run raises is recorded as
    failed, with its error, and the other cells go on.  A worker that dies
    mid-cell has its cell rescheduled by Dask on another worker.

    Parameters
    ----------
    config : RunConfig
        The base config.
    grid : mapping of str to sequence
        Config key (``section.key`` or ``seed``) -> values; the cells are the
        Cartesian product, the last key varying fastest.
    out : path
        Sweep directory (created if needed; must be on a file system the
        workers share).
    scheduler : str
        ``local`` (a Dask LocalCluster of ``workers`` processes), ``tcp://HOST:PORT``
        (an existing Dask scheduler), ``slurm`` (dask-jobqueue, options ``slurm``)
        or ``sync`` (no Dask: one cell after another in this process).
    workers : int, optional
        Workers to start (``local``: default one per CPU; ``slurm``: jobs, default 1).
    slurm : mapping, optional
        Keyword arguments of ``dask_jobqueue.SLURMCluster``.
    retry_failed : bool
        Run cells that failed in an earlier call again (by default they stay failed).
    device : {"cpu", "cuda", "cuda:N"}
        Where each cell trains and simulates.
    progress : bool
        Show one progress bar over cells.

    Returns
    -------
    SweepOutput

    Raises
    ------
    ConfigError
        A grid key that is not a config key, or every cell's config is invalid.
    InputError
        ``out`` holds a sweep of another config or grid, a bad scheduler or
        worker count, or the scheduler cannot be reached.
    """
    check_instance("config", config, RunConfig, what="a neurobias RunConfig")
    grid = check_grid(config, grid)
    check_scheduler(scheduler, workers)
    device = check_device(device)
    cells = expand_grid(grid)
    from neurobias.io import check_writable_dir

    out_dir = check_writable_dir(out)
    write_manifest(out_dir, {
        "neurobias_version": __version__,
        "config": config_to_toml(config),
        "grid": {k: [toml_literal(v, k) for v in vs] for k, vs in grid.items()},
        "cells": {c.name: c.overrides() for c in cells},
    })
    remove_temp_dirs(out_dir)
    records: dict[str, CellRecord] = {}
    skipped: list[str] = []
    pending: list[tuple[Cell, RunConfig]] = []
    invalid: list[tuple[Cell, str]] = []
    for cell in cells:
        record = read_record(out_dir, cell.name)
        if record is not None and (record.status == "ok" or not retry_failed):
            records[cell.name] = record
            skipped.append(cell.name)
            continue
        if record is not None:
            remove_cell(out_dir, cell.name)
        try:
            pending.append((cell, cell_config(config, cell)))
        except ConfigError as exc:
            invalid.append((cell, f"ConfigError: {' '.join(str(exc).split())}"))
    if invalid and not pending and not skipped:
        raise ConfigError(f"no cell of the grid has a valid config; cell {invalid[0][0].name}: "
                          f"{invalid[0][1].removeprefix('ConfigError: ')}")
    ran: list[str] = []
    with tqdm(total=len(cells), initial=len(skipped), desc="sweep", unit="cell", disable=not progress,
              dynamic_ncols=True) as bar:
        for cell, error in invalid:
            records[cell.name] = _fail_here(out_dir, cell, error)
            ran.append(cell.name)
            bar.update(1)
        specs = [{"out": str(out_dir.resolve()), "name": cell.name, "overrides": cell.overrides(),
                  "config": config_to_toml(cfg), "device": device} for cell, cfg in pending]
        by_name = {cell.name: cell for cell, _ in pending}
        if specs:
            with connect(scheduler, workers=workers, slurm=slurm) as client:
                for name, record in _execute(client, specs, out_dir, by_name):
                    records[name] = record
                    ran.append(name)
                    bar.update(1)
                    if record.status == "failed":
                        bar.write(f"cell {name} failed: {record.error}")
    remove_temp_dirs(out_dir)
    ordered = {c.name: records[c.name] for c in cells}
    return SweepOutput(out=out_dir, records=ordered, ran=tuple(ran), skipped=tuple(skipped))


def _execute(client: Any, specs: list[dict[str, Any]], out_dir: Path, by_name: Mapping[str, Cell]):  # noqa: ANN202
    """Yield ``(name, CellRecord)`` as cells finish, in this process (client None) or on Dask."""
    if client is None:
        for spec in specs:
            yield spec["name"], CellRecord(**run_cell(spec))
        return
    from distributed import as_completed

    token = secrets.token_hex(4)
    futures = {client.submit(run_cell, spec, key=f"neurobias-cell-{spec['name']}-{token}", pure=False): spec["name"]
               for spec in specs}
    for future in as_completed(futures):
        name = futures[future]
        try:
            record = CellRecord(**future.result())
        except Exception as exc:  # noqa: BLE001 - e.g. KilledWorker: the cell killed every worker it ran on
            record = read_record(out_dir, name) or _fail_here(out_dir, by_name[name], f"{type(exc).__name__}: {exc}")
        yield name, record

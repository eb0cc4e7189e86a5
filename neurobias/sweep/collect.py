"""``open_sweep``: the results of every cell as one Dataset with the grid's keys as dimensions."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from neurobias.config import parse_value
from neurobias.errors import InputError, check_choice
from neurobias.sweep.store import cells_dir, read_manifest, read_record
from neurobias.workflows.rundir import RunDir

__all__ = ["open_sweep", "metric_over_grid", "METRICS"]

#: per-cell variables of :func:`open_sweep` taken from ``results.nc`` (name -> dims besides the grid)
_FROM_RESULTS: dict[str, tuple[str, ...]] = {"nmse": ("context",), "loss": ("step",), "tonic": ("context", "unit")}
#: scalar per-cell variables and the ``results.nc`` attribute they come from
_FROM_ATTRS: dict[str, str] = {"steps_done": "steps_done", "train_wall_time_s": "train_wall_time_s"}
#: metrics that :func:`metric_over_grid` can show
METRICS: tuple[str, ...] = ("nmse", "final_loss", "steps_done", "train_wall_time_s", "wall_time_s")


def _coord(values: list[Any]) -> np.ndarray:
    """A coordinate for a grid key: numbers stay numbers, bools bools, anything else becomes its text."""
    if all(isinstance(v, bool) for v in values):
        return np.array(values, dtype=bool)
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return np.array(values, dtype=np.int64 if all(isinstance(v, int) for v in values) else np.float64)
    return np.array([v if isinstance(v, str) else json.dumps(v) for v in values], dtype=str)


def _union(existing: list[Any], new: np.ndarray) -> list[Any]:
    out = list(existing)
    out.extend(v for v in new.tolist() if v not in out)
    return out


def open_sweep(path: str | os.PathLike) -> xr.Dataset:
    """Read a sweep directory into one Dataset with the grid's keys as dimensions.

    Parameters
    ----------
    path : path
        A directory written by :func:`neurobias.sweep` / ``neurobias sweep``.

    Returns
    -------
    xarray.Dataset
        One dimension per grid key (named as the key, e.g. ``circuit.g``, with
        the values as coordinate: numbers, bools, or text for anything else),
        and, for every cell:

        * ``nmse`` (grid..., context): NMSE per context of the evaluation;
        * ``final_loss`` (grid...): training loss of the last step;
        * ``loss`` (grid..., step): training loss per step (NaN after a cell's last step);
        * ``tonic`` (grid..., context, unit): learned tonic inputs;
        * ``steps_done``, ``train_wall_time_s``, ``wall_time_s`` (grid...);
        * ``status`` (grid...): ``ok``, ``failed`` or ``pending`` (not finished);
        * ``error`` (grid...): the error of a failed cell (empty otherwise);
        * ``cell`` (grid...): the cell's directory name under ``cells/``.

        Contexts and units are the union over cells; what a cell lacks, and
        every number of a failed or pending cell, is NaN.  Attributes:
        ``config`` (base config TOML), ``grid`` (JSON),
        ``sweep_neurobias_version`` (the version that started the sweep, from
        ``sweep.json``; each cell's files carry their own), ``errors`` (JSON:
        cell name -> error, failed cells only), ``n_ok``, ``n_failed``,
        ``n_pending``, ``sweep_dir``.

    Raises
    ------
    InputError
        ``path`` is not a sweep directory.
    """
    from neurobias.io import read_dataset

    out = Path(path)
    manifest = read_manifest(out)
    grid: dict[str, list[Any]] = {k: [parse_value(v) for v in vs] for k, vs in manifest["grid"].items()}
    keys = list(grid)
    shape = tuple(len(grid[k]) for k in keys)
    names = list(manifest["cells"])
    if len(names) != int(np.prod(shape)):
        raise InputError(f"{out}/sweep.json lists {len(names)} cells for a grid of {int(np.prod(shape))}")
    status = np.full(shape, "pending", dtype=object)
    error = np.full(shape, "", dtype=object)
    cell_names = np.array(names, dtype=object).reshape(shape)
    wall = np.full(shape, np.nan)
    results: dict[tuple[int, ...], xr.Dataset] = {}
    errors: dict[str, str] = {}
    for flat, name in enumerate(names):
        idx = np.unravel_index(flat, shape)
        record = read_record(out, name)
        if record is None:
            continue
        status[idx], error[idx], wall[idx] = record.status, record.error, record.wall_time_s
        if record.status == "ok":
            results[idx] = read_dataset(RunDir(cells_dir(out) / name).file("results"), kind="results")
        else:
            errors[name] = record.error
    contexts: list[Any] = []
    n_unit = n_step = 0
    for ds in results.values():
        contexts = _union(contexts, ds["context"].values)
        n_unit, n_step = max(n_unit, ds.sizes["unit"]), max(n_step, ds.sizes["step"])
    sizes = {"context": len(contexts), "unit": n_unit, "step": n_step}
    data = {v: np.full(shape + tuple(sizes[d] for d in dims), np.nan) for v, dims in _FROM_RESULTS.items()}
    scalars = {v: np.full(shape, np.nan) for v in (*_FROM_ATTRS, "final_loss")}
    for idx, ds in results.items():
        ds = ds.reindex(context=contexts, unit=np.arange(n_unit), step=np.arange(n_step))
        for v, dims in _FROM_RESULTS.items():
            data[v][idx] = ds[v].transpose(*dims).values
        for v, attr in _FROM_ATTRS.items():
            scalars[v][idx] = float(ds.attrs[attr])
        loss = ds["loss"].values
        finite = loss[np.isfinite(loss)]
        scalars["final_loss"][idx] = finite[-1] if finite.size else np.nan
    coords: dict[str, Any] = {k: (k, _coord(grid[k])) for k in keys}
    coords.update(context=np.array(contexts, dtype=str), unit=np.arange(n_unit), step=np.arange(n_step))
    variables: dict[str, Any] = {v: ((*keys, *dims), data[v]) for v, dims in _FROM_RESULTS.items()}
    variables.update({v: (tuple(keys), a) for v, a in scalars.items()})
    variables["wall_time_s"] = (tuple(keys), wall, {"long_name": "seconds the cell ran (run and commit)"})
    variables["status"] = (tuple(keys), status.astype(str))
    variables["error"] = (tuple(keys), error.astype(str))
    variables["cell"] = (tuple(keys), cell_names.astype(str))
    ds = xr.Dataset(variables, coords=coords)
    ds["nmse"].attrs["long_name"] = "normalised mean squared error per context"
    ds["final_loss"].attrs["long_name"] = "training loss of the last step"
    ds.attrs = {
        "config": str(manifest["config"]),
        "grid": json.dumps(manifest["grid"]),
        "sweep_neurobias_version": str(manifest.get("neurobias_version", "")),
        "errors": json.dumps(errors),
        "n_ok": int((status == "ok").sum()),
        "n_failed": int((status == "failed").sum()),
        "n_pending": int((status == "pending").sum()),
        "sweep_dir": str(out.resolve()),
    }
    return ds


def metric_over_grid(ds: xr.Dataset, metric: str, *, x: str | None = None, hue: str | None = None,
                     context: str | None = None) -> xr.DataArray:
    """A metric of :func:`open_sweep` reduced to at most two grid keys.

    Parameters
    ----------
    ds : xarray.Dataset
        From :func:`open_sweep`.
    metric : str
        One of :data:`METRICS`.
    x, hue : str, optional
        Grid keys to keep (default: the first two keys); the other grid keys
        are averaged over (ignoring failed cells).
    context : str, optional
        For ``nmse``: this context only (default: mean over contexts).

    Returns
    -------
    xarray.DataArray
        Dims ``(x,)`` or ``(x, hue)``; attrs ``metric``, ``averaged_over`` (text).
    """
    check_choice("metric", metric, METRICS)
    grid_keys = [d for d in ds["status"].dims]
    for name, key in (("x", x), ("hue", hue)):
        if key is not None and key not in grid_keys:
            raise InputError(f"`{name}` must be a grid key ({', '.join(grid_keys)}); got {key!r}")
    x = x or grid_keys[0]
    if hue is None and len(grid_keys) > 1:
        hue = next(k for k in grid_keys if k != x)
    if hue == x:
        raise InputError(f"`x` and `hue` must be different grid keys; both are {x!r}")
    da = ds[metric]
    averaged = []
    if "context" in da.dims:
        if context is not None:
            names = [str(c) for c in ds["context"].values]
            if context not in names:
                raise InputError(f"`context` must be one of {', '.join(names)}; got {context!r}")
            da = da.sel(context=context)
        else:
            da = da.mean("context", skipna=False)
            averaged.append("context")
    rest = [k for k in grid_keys if k not in (x, hue)]
    if rest:
        da = da.mean(rest, skipna=True)
        averaged.extend(rest)
    keep = [k for k in (x, hue) if k is not None]
    da = da.transpose(*keep)
    da.attrs = {"metric": metric, "averaged_over": ", ".join(averaged), "context": context or ""}
    return da

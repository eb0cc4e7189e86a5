"""One entry point for every recording format: :func:`load_recording`."""
from __future__ import annotations

import inspect
import os
from pathlib import Path
from typing import Any

import xarray as xr

from neurobias.errors import InputError

__all__ = ["load_recording", "FORMATS"]

#: file suffix -> format name
FORMATS: dict[str, str] = {".nwb": "nwb", ".mat": "mat", ".npz": "npz", ".nc": "netcdf", ".nc4": "netcdf"}


def load_recording(path: str | os.PathLike, *, format: str | None = None, **options: Any) -> xr.Dataset:
    """Read a recording into the canonical Dataset.

    Parameters
    ----------
    path : path
        An NWB, MATLAB (``.mat``), ``.npz`` or netCDF (``.nc``) file.
    format : {"nwb", "mat", "npz", "netcdf"}, optional
        Default: from the suffix.
    **options
        Passed to the loader.

        * ``nwb`` (:func:`~neurobias.recordings.formats.nwb.load_nwb`):
          ``event``, ``conditions``, ``window_ms``, ``bin_ms``.
        * ``mat`` and ``npz``: ``rate`` (variable name), ``axes`` (the order of
          its axes, a permutation of ``(condition or trial, time, neuron)``),
          ``time`` (variable name, times in ms; ``time_scale`` multiplies them,
          e.g. 1000 for seconds) or ``bin_ms`` and ``t0_ms``, ``conditions``
          (variable name or list; required for trials), ``neurons``,
          ``lengths`` (valid bins per trial: the rest becomes NaN padding),
          ``behaviour`` (mapping name -> variable), ``units``, ``citation``,
          ``licence``, ``allow_nan``.
        * ``netcdf``: ``allow_nan``.

    Returns
    -------
    xarray.Dataset
        The canonical recording (see :mod:`neurobias.recordings.dataset`).

    Raises
    ------
    InputError
        One clear message: missing file or variable, wrong axis order,
        NaN padding (unless ``allow_nan``), mismatched lengths.
    """
    p = Path(path)
    fmt = format or FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise InputError(f"cannot tell the format of {p} from its suffix; pass `format` (one of "
                         f"{', '.join(sorted(set(FORMATS.values())))})")
    if fmt == "nwb":
        from neurobias.recordings.formats.nwb import load_nwb as loader
    elif fmt == "mat":
        from neurobias.recordings.formats.matlab import load_mat as loader
    elif fmt == "npz":
        from neurobias.recordings.formats.npz import load_npz as loader
    elif fmt == "netcdf":
        from neurobias.recordings.formats.netcdf import load_netcdf as loader
    else:
        raise InputError(f"`format` must be one of {', '.join(sorted(set(FORMATS.values())))}; got {fmt!r}")
    valid = _options(fmt, loader)
    unknown = sorted(set(options) - valid)
    if unknown:
        raise InputError(f"option(s) {unknown} do not apply to {fmt} files; valid: {sorted(valid)}")
    missing = [k for k in ("rate", "axes") if fmt in ("mat", "npz") and k not in options]
    if missing:
        raise InputError(f"reading a {fmt} file needs {missing}: `rate` names the variable holding the rates and "
                         f"`axes` its axis order, e.g. rate='dataTensor', axes=('time', 'neuron', 'condition')")
    return loader(p, **options)


def _options(fmt: str, loader: Any) -> set[str]:
    """Keyword options a loader accepts (the array mapping for .mat and .npz)."""
    if fmt in ("mat", "npz"):
        from neurobias.recordings.formats.arrays import recording_from_arrays as loader
    params = inspect.signature(loader).parameters
    return {k for k, v in params.items() if v.kind == inspect.Parameter.KEYWORD_ONLY and k != "source"}

"""One entry point for every recording format: :func:`load_recording`."""
from __future__ import annotations

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
        from neurobias.recordings.formats.nwb import load_nwb
        return load_nwb(p, **options)
    if fmt == "mat":
        from neurobias.recordings.formats.matlab import load_mat
        return load_mat(p, **options)
    if fmt == "npz":
        from neurobias.recordings.formats.npz import load_npz
        return load_npz(p, **options)
    if fmt == "netcdf":
        from neurobias.recordings.formats.netcdf import load_netcdf
        return load_netcdf(p, **options)
    raise InputError(f"`format` must be one of {', '.join(sorted(set(FORMATS.values())))}; got {fmt!r}")

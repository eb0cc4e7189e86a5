"""netCDF recordings: neurobias ``recording`` files, or any netCDF holding the canonical layout."""
from __future__ import annotations

from pathlib import Path

import xarray as xr

from neurobias.errors import InputError, NeurobiasError
from neurobias.recordings.dataset import validate

__all__ = ["load_netcdf"]


def load_netcdf(path: str | Path, *, allow_nan: bool = False) -> xr.Dataset:
    """Read a canonical recording from a netCDF file.

    Files written by neurobias (kind ``recording``) are read with
    :func:`neurobias.io.read_dataset`; other netCDF files must hold ``rate``
    with the canonical dimensions and coordinates (see
    :mod:`neurobias.recordings.dataset`); missing provenance attributes are
    set to ``""`` with ``source`` the path.
    """
    from neurobias.io.netcdf import read_dataset

    p = Path(path)
    if not p.is_file():
        raise InputError(f"file not found: {p}")
    try:
        with xr.open_dataset(p, engine="h5netcdf", decode_times=False, cache=False) as opened:
            kind = opened.attrs.get("kind")
            ds = None if kind == "recording" else opened.load()
    except NeurobiasError:
        raise
    except Exception as exc:  # noqa: BLE001 - h5netcdf raises many types for bad files
        raise InputError(f"{p} is not a readable netCDF4 file ({type(exc).__name__}: {exc})") from None
    if ds is None:
        ds = read_dataset(p, kind="recording")
    ds = ds.drop_encoding()
    attrs = dict(ds.attrs)
    attrs.setdefault("source", str(p))
    for key in ("units", "citation", "licence"):
        attrs.setdefault(key, ds["rate"].attrs.get("units", "") if key == "units" and "rate" in ds else "")
    ds.attrs = attrs
    validate(ds, allow_nan=allow_nan)
    return ds

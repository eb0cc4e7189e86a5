"""Atomic, validated netCDF4/HDF5 reading and writing (engine ``h5netcdf``).

Attribute encoding
------------------
netCDF attributes hold numbers, strings and 1-d arrays of them only.
:func:`write_dataset` converts the others (global and per-variable
attributes alike) as follows; reading does not convert back:

* ``bool`` / ``numpy.bool_`` -> int ``1`` or ``0``;
* ``None`` -> the empty string ``""``;
* ``dict`` (any mapping) -> a JSON string with sorted keys;
* list / tuple of numbers -> 1-d float or int array; of strings -> list of
  strings; empty, nested, mixed or containing bools -> a JSON string;
* complex values -> rejected (:class:`~neurobias.errors.SchemaError`).

Zero-length dimensions (e.g. ``input`` of a circuit without inputs) round
trip as they are: h5netcdf writes empty variables and coordinates, with or
without compression (tested).  Float variables are written with zlib
compression (level 4); variable encodings that came with the dataset (e.g.
from a previous read) are dropped so that stale chunk sizes cannot break a
write.
"""
from __future__ import annotations

import json
import numbers
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from neurobias._version import __version__
from neurobias.errors import InputError, NeurobiasError, SchemaError, check_choice, check_instance
from neurobias.io.files import atomic_path
from neurobias.io.schema import KINDS, SCHEMA_VERSION, check_header, describe_coordinates, validate

__all__ = ["write_dataset", "read_dataset", "netcdf_safe_attrs"]

_COMPRESSION = {"zlib": True, "complevel": 4}


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (tuple, set, frozenset)):
        return list(value)
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _to_json(value: Any, name: str) -> str:
    try:
        return json.dumps(value, sort_keys=True, default=_json_default, allow_nan=True)
    except (TypeError, ValueError) as exc:
        raise SchemaError(f"attribute `{name}` cannot be stored: {exc}") from None


def _safe_attr(value: Any, name: str) -> Any:
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return int(bool(value))
    if isinstance(value, (complex, np.complexfloating)):
        raise SchemaError(
            f"attribute `{name}` is complex ({value!r}); store its real and imaginary parts separately"
        )
    if isinstance(value, (str, bytes)):
        return value
    if isinstance(value, numbers.Number):
        return value
    if isinstance(value, Mapping):
        return _to_json(value, name)
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "c":
            raise SchemaError(
                f"attribute `{name}` is a complex array; store its real and imaginary parts separately"
            )
        if value.dtype.kind == "b":
            return value.astype(np.int8)
        if value.dtype.kind in "iuf" and value.ndim <= 1:
            return value
        if value.dtype.kind in "US" and value.ndim == 1 and value.size > 0:
            return [str(v) for v in value]
        return _to_json(value, name)
    if isinstance(value, (list, tuple)):
        items = list(value)
        if items and all(isinstance(v, str) for v in items):
            return items
        if items and all(
            isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) for v in items
        ):
            return np.asarray(items)
        if any(isinstance(v, (complex, np.complexfloating)) for v in items):
            raise SchemaError(
                f"attribute `{name}` holds complex values; store real and imaginary parts separately"
            )
        return _to_json(items, name)
    raise SchemaError(
        f"attribute `{name}` has type {type(value).__name__}, which netCDF cannot store; "
        f"use a number, string, list or dict"
    )


def netcdf_safe_attrs(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """Convert attributes to netCDF-safe types (see the module docstring).

    Parameters
    ----------
    attrs : mapping of str to any

    Returns
    -------
    dict
        New dict; the input is not modified.

    Raises
    ------
    SchemaError
        For complex values or types that cannot be stored.
    """
    return {str(k): _safe_attr(v, str(k)) for k, v in attrs.items()}


def _prepare(ds: xr.Dataset, kind: str) -> tuple[xr.Dataset, dict[str, dict[str, Any]]]:
    check_instance("ds", ds, xr.Dataset, what="an xarray.Dataset")
    check_choice("kind", kind, KINDS)
    check_header(ds, kind=kind, source="dataset to write", require=False)
    out = ds.drop_encoding()
    for name, var in out.variables.items():
        if var.dtype.kind == "c":
            raise SchemaError(
                f"variable `{name}` is complex ({var.dtype}); netCDF has no complex type: "
                f"store `{name}_real` and `{name}_imag` separately"
            )
        if var.dtype.kind == "O":
            flat = np.asarray(var.values).ravel()
            if not all(isinstance(v, str) for v in flat):
                raise SchemaError(
                    f"variable `{name}` has dtype object with non-string values; netCDF stores numbers "
                    f"and strings only"
                )
    out.attrs = {**out.attrs, "neurobias_version": __version__, "schema_version": SCHEMA_VERSION, "kind": kind}
    # Validate before the attribute conversion, so that e.g. a bool given for
    # a required int attribute is rejected rather than silently stored as 1.
    validate(out, kind)
    out = describe_coordinates(out, kind)
    for var in out.variables.values():
        var.attrs = netcdf_safe_attrs(var.attrs)
    out.attrs = netcdf_safe_attrs(out.attrs)
    encoding: dict[str, dict[str, Any]] = {}
    for name, var in out.variables.items():
        if var.dtype.kind == "f" and var.ndim > 0:
            encoding[str(name)] = dict(_COMPRESSION)
    return out, encoding


def _to_netcdf(ds: xr.Dataset, path: Path, encoding: dict[str, dict[str, Any]]) -> None:
    """Write ``ds`` to ``path`` with h5netcdf (the one place that calls the writer)."""
    ds.to_netcdf(path, mode="w", engine="h5netcdf", format="NETCDF4", encoding=encoding)


def write_dataset(ds: xr.Dataset, path: str | os.PathLike, *, kind: str) -> Path:
    """Validate ``ds`` against the schema of ``kind`` and write it atomically.

    Adds the global attributes ``neurobias_version``, ``schema_version`` and
    ``kind`` (the input dataset is not modified), gives every coordinate
    without a ``long_name`` the description of its dimension
    (:func:`neurobias.io.schema.describe_coordinates`), converts attributes to
    netCDF-safe types (see the module docstring) and writes a netCDF4 file
    with h5netcdf: to a temporary file in the target directory, fsync-ed,
    then renamed over ``path``.  On any failure no partial file is left and
    an existing ``path`` is untouched.

    Parameters
    ----------
    ds : xarray.Dataset
    path : str or path-like
        Target file (conventionally ``.nc``); parent directories are created.
    kind : str
        One of :data:`neurobias.io.schema.KINDS` (``circuit``, ``results``, ``trajectories``,
        ``fixed_points``, ``continuation``, ...).

    Returns
    -------
    pathlib.Path
        The written path.

    Raises
    ------
    SchemaError
        If ``ds`` does not match the schema, or holds complex data.
    InputError
        If ``kind`` is unknown or the file cannot be written.
    """
    prepared, encoding = _prepare(ds, kind)
    target = Path(path)
    with atomic_path(target) as tmp:
        try:
            _to_netcdf(prepared, tmp, encoding)
        except OSError as exc:
            raise InputError(f"cannot write {target}: {exc}") from None
    return target


#: the first bytes of an HDF5 file (netCDF4), and of a classic netCDF file (versions 1, 2 and 5)
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_CLASSIC_SIGNATURES = (b"CDF\x01", b"CDF\x02", b"CDF\x05")


def _has_netcdf_signature(path: Path) -> bool:
    """Whether ``path`` begins like an HDF5 or netCDF file (HDF5 allows a user block of 512, 1024, ... bytes)."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
            if head.startswith(_CLASSIC_SIGNATURES) or head == _HDF5_SIGNATURE:
                return True
            size = os.fstat(f.fileno()).st_size
            offset = 512
            while offset + 8 <= size:
                f.seek(offset)
                if f.read(8) == _HDF5_SIGNATURE:
                    return True
                offset *= 2
    except OSError:
        return True  # unreadable here: keep the general message
    return False


def read_dataset(path: str | os.PathLike, *, kind: str | None = None) -> xr.Dataset:
    """Read and validate a neurobias netCDF file, fully into memory.

    The file is opened with h5netcdf, loaded and closed before returning, so
    it can be overwritten or deleted afterwards.  Times are not decoded (time
    coordinates are plain floats in ms).

    Parameters
    ----------
    path : str or path-like
    kind : str, optional
        Expected kind; when omitted the file's own ``kind`` is used.

    Returns
    -------
    xarray.Dataset

    Raises
    ------
    InputError
        ``"file not found: <path>"``, or ``kind`` unknown.
    SchemaError
        If the file is not a readable netCDF4/HDF5 file (e.g. truncated), is
        not a neurobias file, is of another kind, has a newer schema_version
        than this version reads, or does not match its schema.
    """
    if kind is not None and kind not in KINDS:
        raise InputError(f"`kind` must be one of {', '.join(KINDS)} or None; got {kind!r}")
    p = Path(path)
    if not os.path.exists(p):  # os.path, not Path: False (not OSError) for a name too long
        raise InputError(f"file not found: {p}")
    if os.path.isdir(p):
        raise InputError(f"{p} is a directory, not a file")
    try:
        with xr.open_dataset(
            p,
            engine="h5netcdf",
            decode_times=False,
            decode_timedelta=False,
            cache=False,
        ) as opened:
            ds = opened.load()
    except NeurobiasError:
        raise
    except PermissionError as exc:
        raise InputError(f"cannot read {p}: {exc.strerror or exc}") from None
    except Exception as exc:  # noqa: BLE001 - h5py/h5netcdf raise many types for bad files
        if not _has_netcdf_signature(p):
            raise SchemaError(
                f"{p} is not a readable netCDF4/HDF5 file: it is not netCDF4/HDF5 at all (it does not begin with "
                "the HDF5 or netCDF signature), so it is no file neurobias wrote"
            ) from None
        raise SchemaError(
            f"{p} is not a readable netCDF4/HDF5 file ({type(exc).__name__}: {exc}); if neurobias wrote it, it was "
            "cut short (e.g. copied incompletely): run the command that made it again"
        ) from None
    ds = ds.drop_encoding()
    file_kind = check_header(ds, kind=kind, source=str(p), require=True)
    validate(ds, file_kind, source=str(p))
    return ds

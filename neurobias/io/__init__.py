"""Files: the on-disk schema, atomic netCDF4/HDF5 I/O and plain-file helpers.

Nothing else in neurobias opens files.  Public API:

* :func:`write_dataset`, :func:`read_dataset`: validated, atomic netCDF I/O;
* :func:`validate`, :data:`SCHEMA_VERSION`, :data:`KINDS`: the schema;
* :func:`circuit_to_dataset`, :func:`circuit_from_dataset`,
  :func:`sha256_array`, :func:`open_circuit`, :func:`save_circuit`,
  :func:`open_results`: circuits and results;
* :func:`atomic_write_bytes`, :func:`atomic_write_text`, :func:`atomic_path`,
  :func:`check_writable_dir`, :func:`read_text`, :func:`read_bytes`: other
  files (TOML, figures, reports).

The names are imported lazily, so ``import neurobias.io`` (and the
stdlib-only :mod:`neurobias.io.files`) does not import xarray.
"""
from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import xarray as xr

    from neurobias.circuit.circuit import Circuit
    from neurobias.io.circuit import circuit_from_dataset, circuit_to_dataset
    from neurobias.io.files import (
        atomic_path,
        atomic_write_bytes,
        atomic_write_text,
        check_writable_dir,
        read_bytes,
        read_text,
    )
    from neurobias.io.hashing import sha256_array
    from neurobias.io.netcdf import netcdf_safe_attrs, read_dataset, write_dataset
    from neurobias.io.schema import KINDS, SCHEMA_VERSION, validate

__all__ = [
    "SCHEMA_VERSION",
    "KINDS",
    "validate",
    "write_dataset",
    "read_dataset",
    "netcdf_safe_attrs",
    "circuit_to_dataset",
    "circuit_from_dataset",
    "sha256_array",
    "open_circuit",
    "save_circuit",
    "open_results",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_writable_dir",
    "read_bytes",
    "read_text",
]

_LAZY = {
    "SCHEMA_VERSION": "neurobias.io.schema",
    "KINDS": "neurobias.io.schema",
    "validate": "neurobias.io.schema",
    "write_dataset": "neurobias.io.netcdf",
    "read_dataset": "neurobias.io.netcdf",
    "netcdf_safe_attrs": "neurobias.io.netcdf",
    "circuit_to_dataset": "neurobias.io.circuit",
    "circuit_from_dataset": "neurobias.io.circuit",
    "sha256_array": "neurobias.io.hashing",
    "atomic_path": "neurobias.io.files",
    "atomic_write_bytes": "neurobias.io.files",
    "atomic_write_text": "neurobias.io.files",
    "check_writable_dir": "neurobias.io.files",
    "read_bytes": "neurobias.io.files",
    "read_text": "neurobias.io.files",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'neurobias.io' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def open_circuit(path: str | os.PathLike) -> "Circuit":
    """Read a ``circuit`` file and rebuild the :class:`Circuit`.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    Circuit

    Raises
    ------
    InputError
        If the file does not exist.
    SchemaError
        If it is not a valid ``circuit`` file or the weights do not match
        their fingerprints.
    """
    from neurobias.io.circuit import circuit_from_dataset
    from neurobias.io.hashing import sha256_array
    from neurobias.io.netcdf import read_dataset

    return circuit_from_dataset(read_dataset(path, kind="circuit"))


def save_circuit(circuit: "Circuit", path: str | os.PathLike, *, config_toml: str = "") -> Path:
    """Write a circuit to a ``circuit`` file atomically; returns the path.

    See :func:`circuit_to_dataset` and :func:`write_dataset`.
    """
    from neurobias.io.circuit import circuit_to_dataset
    from neurobias.io.hashing import sha256_array
    from neurobias.io.netcdf import write_dataset

    return write_dataset(circuit_to_dataset(circuit, config_toml=config_toml), path, kind="circuit")


def open_results(path: str | os.PathLike) -> "xr.Dataset":
    """Read and validate a ``results`` file, fully into memory.

    Raises
    ------
    InputError
        If the file does not exist.
    SchemaError
        If it is not a valid ``results`` file.
    """
    from neurobias.io.hashing import sha256_array
    from neurobias.io.netcdf import read_dataset

    return read_dataset(path, kind="results")

"""What a neurobias file holds, for people: :func:`file_info` and :func:`format_info` (``neurobias info``).

Describes any file neurobias writes: a netCDF file of any kind in
:data:`neurobias.io.schema.KINDS` (validated against its schema on reading),
a training checkpoint (``.npz``), or a run directory (each neurobias file in
it, one line each).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from neurobias.errors import InputError, NeurobiasError, SchemaError

__all__ = ["file_info", "format_info"]

_HEADER = ("kind", "schema_version", "neurobias_version")
_SHORT = 72  # characters of an attribute value shown before it is cut


def _short(value: Any) -> str:
    if isinstance(value, np.ndarray):
        text = np.array2string(value, threshold=8, separator=", ")
    else:
        text = str(value)
    text = " ".join(text.split())
    return text if len(text) <= _SHORT else text[: _SHORT - 1] + "…"


def _netcdf_info(path: Path) -> dict[str, Any]:
    from neurobias.io.netcdf import read_dataset

    ds = read_dataset(path)
    attrs = dict(ds.attrs)
    # the weights' fingerprints: a circuit file's own (sha256_<name>), else those of the circuit the file belongs
    # to (results: weights_sha256_after_<name>, the circuit.nc written after training; others: circuit_sha256_<name>)
    hashes: dict[str, str] = {}
    for prefix in ("sha256_", "weights_sha256_after_", "circuit_sha256_"):
        hashes = {k.removeprefix(prefix): str(v) for k, v in attrs.items() if k.startswith(prefix)}
        if hashes:
            break
    before = {k.removeprefix("weights_sha256_before_"): str(v) for k, v in attrs.items()
              if k.startswith("weights_sha256_before_")}
    config = str(attrs.get("config", ""))
    variables = {name: {"dims": list(var.dims), "dtype": str(var.dtype), "shape": list(var.shape)}
                 for name, var in ds.data_vars.items()}
    contexts: list[str] = []
    if "context" in ds.coords:
        contexts = [str(c) for c in dict.fromkeys(np.asarray(ds["context"].values).ravel().tolist())]
    elif "contexts" in attrs:
        contexts = [str(c) for c in np.atleast_1d(attrs["contexts"]).tolist()]
    seed = attrs.get("seed")
    run_seed = attrs.get("run_seed")
    skip = set(_HEADER) | {"config", "seed", "run_seed"} | {
        k for k in attrs if k.startswith(("sha256_", "weights_sha256_", "circuit_sha256_"))}
    return {
        "path": str(path),
        "format": "netcdf",
        "kind": str(attrs["kind"]),
        "schema_version": int(attrs["schema_version"]),
        "neurobias_version": str(attrs.get("neurobias_version", "?")),
        "dims": {str(k): int(v) for k, v in ds.sizes.items()},
        "variables": variables,
        "contexts": contexts,
        "seed": None if seed is None else int(np.asarray(seed).ravel()[0]),
        "run_seed": None if run_seed is None else int(np.asarray(run_seed).ravel()[0]),
        "config": config,
        "hashes": hashes,
        "hashes_before_training": before,
        "attrs": {k: _short(v) for k, v in attrs.items() if k not in skip},
    }


def _checkpoint_info(path: Path) -> dict[str, Any]:
    from neurobias.io.checkpoint import load_checkpoint

    arrays, meta = load_checkpoint(path)
    seed = meta.get("seed")
    config = str(meta.get("config", ""))
    if not config and meta.get("fingerprint"):
        # a run's checkpoint is fingerprinted by its resolved config (TOML)
        import tomllib

        try:
            parsed = tomllib.loads(str(meta["fingerprint"]))
        except tomllib.TOMLDecodeError:
            parsed = None
        if parsed is not None:
            config = str(meta["fingerprint"])
            seed = parsed.get("seed", seed)
    return {
        "path": str(path),
        "format": "checkpoint",
        "kind": "checkpoint",
        "schema_version": int(meta.get("checkpoint_version", 0)),
        "neurobias_version": str(meta.get("neurobias_version", "?")),
        "dims": {},
        "variables": {k: {"dims": [], "dtype": str(v.dtype), "shape": list(v.shape)} for k, v in arrays.items()},
        "contexts": [str(c) for c in meta.get("contexts", [])],
        "seed": None if seed is None else int(seed),
        "run_seed": None,
        "config": config,
        "hashes": {},
        "hashes_before_training": {},
        "attrs": {k: _short(v) for k, v in meta.items()
                  if k not in ("config", "contexts", "seed") and not (k == "fingerprint" and v == config)},
    }


def file_info(path: str | os.PathLike) -> dict[str, Any]:
    """Describe a neurobias file (or every neurobias file of a directory) as plain data.

    Parameters
    ----------
    path : str or path-like
        A netCDF file written by neurobias (any kind), a training checkpoint
        (``.npz``) or a directory (e.g. a run directory).

    Returns
    -------
    dict
        For a file: ``path``, ``format`` (``"netcdf"`` or ``"checkpoint"``),
        ``kind``, ``schema_version``, ``neurobias_version``, ``dims`` (name to
        size), ``variables`` (name to dims, dtype and shape), ``contexts``,
        ``seed`` (None when the file has none), ``run_seed`` (for an analysis of a
        run: the seed of the run it analyses, else None), ``config`` (the resolved TOML
        text, may be empty), ``hashes`` (weight name to sha256 of its float64
        values: of the file's own weights for a circuit file, else of the
        circuit the file belongs to, as its ``circuit.nc`` stores them),
        ``hashes_before_training`` (for a results file: the same before
        training, else empty) and ``attrs``
        (the other attributes, shortened).  For a directory: ``path``,
        ``format = "directory"`` and ``files``, a list of such dicts (files
        that are not neurobias files are listed under ``other``).

    Raises
    ------
    InputError
        The path does not exist.
    SchemaError
        The file is not a readable neurobias file (the message says why).
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"file not found: {p}")
    if p.is_dir():
        files, other = [], []
        for child in sorted(p.iterdir()):
            if child.name.startswith(".") or child.is_dir():
                continue
            if child.suffix in (".nc", ".npz"):
                try:
                    files.append(file_info(child))
                    continue
                except NeurobiasError as exc:
                    other.append(f"{child.name} (not readable: {exc})")
                    continue
            other.append(child.name)
        return {"path": str(p), "format": "directory", "files": files, "other": other}
    if p.suffix == ".npz":
        return _checkpoint_info(p)
    try:
        return _netcdf_info(p)
    except SchemaError:
        raise
    except NeurobiasError as exc:
        raise SchemaError(f"{p} is not a neurobias file: {exc}") from None


def _one_line(info: dict[str, Any]) -> str:
    dims = ", ".join(f"{k}={v}" for k, v in info["dims"].items())
    seed = "" if info["seed"] is None else f", seed {info['seed']}"
    return f"{Path(info['path']).name}: {info['kind']} (schema {info['schema_version']}{seed}) {dims}".rstrip()


def format_info(info: dict[str, Any], *, config: bool = False) -> str:
    """Text for :func:`file_info`'s result, as ``neurobias info`` prints it.

    Parameters
    ----------
    info : dict
        From :func:`file_info`.
    config : bool
        Print only the embedded config (TOML), or say that there is none.
    """
    if info["format"] == "directory":
        if config:
            with_config = [f for f in info["files"] if f["config"]]
            if not with_config:
                return f"{info['path']}: no neurobias file here carries a config"
            return with_config[0]["config"].rstrip("\n")
        lines = [f"{info['path']}/: {len(info['files'])} neurobias file(s)"]
        lines += ["  " + _one_line(f) for f in info["files"]]
        if info["other"]:
            lines.append("  other: " + ", ".join(info["other"]))
        return "\n".join(lines)
    if config:
        return info["config"].rstrip("\n") if info["config"] else f"{info['path']}: no config is stored in this file"
    what = "training checkpoint" if info["format"] == "checkpoint" else f"neurobias {info['kind']} file"
    lines = [f"{info['path']}: {what} (schema {info['schema_version']}, written by neurobias "
             f"{info['neurobias_version']})"]
    if info["dims"]:
        lines.append("  dims:      " + ", ".join(f"{k}={v}" for k, v in info["dims"].items()))
    if info["variables"]:
        lines.append("  variables:")
        for name, var in info["variables"].items():
            shape = f"({', '.join(var['dims'])})" if var["dims"] else f"shape {tuple(var['shape'])}"
            lines.append(f"    {name:<22} {shape} {var['dtype']}")
    if info["contexts"]:
        lines.append("  contexts:  " + ", ".join(info["contexts"]))
    lines.append("  seed:      " + ("none stored" if info["seed"] is None else str(info["seed"])))
    if info["run_seed"] is not None:
        lines.append(f"  run seed:  {info['run_seed']} (the seed of the run this file analyses)")
    if info["hashes"]:
        lines.append("  weights (sha256 of the float64 values in circuit.nc):")
        before = info.get("hashes_before_training", {})
        for k, v in info["hashes"].items():
            note = ""
            if k in before:
                note = "  (unchanged by training)" if before[k] == v else f"  (before training: {before[k]})"
            lines.append(f"    {k:<22} {v}{note}")
    n_lines = len(info["config"].splitlines())
    lines.append(f"  config:    {n_lines} lines of TOML (print them with --config)" if n_lines
                 else "  config:    none stored")
    if info["attrs"]:
        lines.append("  attributes:")
        lines += [f"    {k:<22} {v}" for k, v in info["attrs"].items()]
    return "\n".join(lines)

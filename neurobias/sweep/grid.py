"""The grid of a sweep: ``key=v1,v2,...`` options, the ``[sweep]`` table, cells and their configs.

A grid maps config keys (the ``section.key`` names of ``--set``, or ``seed``)
to the values each takes.  Its cells are the Cartesian product, in the order
the keys were given, the last key varying fastest; cell ``i`` is named
``c{i:04d}``.  Every cell is the base config with one override per key.
"""
from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from neurobias.config import (
    SECTIONS,
    RunConfig,
    apply_overrides,
    config_from_dict,
    parse_value,
    task_param_hints,
    toml_literal,
)
from neurobias.errors import ConfigError, InputError, check_number, coerce

__all__ = [
    "Cell",
    "SweepSettings",
    "parse_grid_option",
    "merge_grids",
    "check_grid",
    "expand_grid",
    "cell_config",
    "load_sweep_config",
    "SCHEDULER_HELP",
]

SCHEDULER_HELP = "local (a Dask LocalCluster), tcp://HOST:PORT (an existing Dask scheduler), slurm or sync"


def _split_top_level(text: str) -> list[str]:
    """Split at commas that are not inside brackets or quotes (``[1, 2],[3, 4]`` is two values)."""
    parts: list[str] = []
    depth, quote, start = 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            if ch == quote and text[i - 1] != "\\":
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def parse_grid_option(text: str) -> tuple[str, tuple[Any, ...]]:
    """Parse one ``--grid`` option, ``key=v1,v2,...``.

    Each value is read as a TOML literal (``1.5``, ``true``, ``[1.0, 2.0]``,
    ``"text"``); anything else is a bare string (``relu``).  Commas inside
    brackets or quotes do not split values.

    Returns
    -------
    key : str
    values : tuple
        At least one value, no duplicates.

    Raises
    ------
    InputError
        No ``=``, an empty key or value, or a repeated value.
    """
    if not isinstance(text, str) or "=" not in text:
        raise InputError(f"--grid must look like key=v1,v2,... (e.g. circuit.g=1.0,1.5); got {text!r}")
    key, raw = text.split("=", 1)
    key = key.strip()
    if not key:
        raise InputError(f"--grid {text!r} has no key before '='")
    raw_values = _split_top_level(raw)
    if any(not v for v in raw_values):
        raise InputError(f"--grid {text!r} has an empty value; give values separated by commas")
    values = tuple(parse_value(v) for v in raw_values)
    _check_unique(key, values)
    return key, values


def _check_unique(key: str, values: Sequence[Any]) -> None:
    seen: list[str] = []
    for v in values:
        lit = toml_literal(v, key)
        if lit in seen:
            raise InputError(f"grid key `{key}` lists the value {lit} twice")
        seen.append(lit)


def merge_grids(*grids: Mapping[str, Sequence[Any]]) -> dict[str, tuple[Any, ...]]:
    """Merge grids in order; a later grid's values for a key replace an earlier one's (key order kept)."""
    out: dict[str, tuple[Any, ...]] = {}
    for grid in grids:
        for key, values in grid.items():
            out[key] = tuple(values)
    return out


def check_grid(config: RunConfig, grid: Mapping[str, Sequence[Any]]) -> dict[str, tuple[Any, ...]]:
    """Check that every grid key names a config key and lists at least one distinct value.

    Task parameters are checked against the base task and every task named in
    a ``task.name`` grid key.

    Returns
    -------
    dict of str to tuple
        The grid with tuples of values.

    Raises
    ------
    ConfigError
        An unknown key (naming the valid ones) or an empty list of values.
    """
    if not isinstance(grid, Mapping) or not grid:
        raise InputError("`grid` must map at least one config key to a list of values (e.g. --grid circuit.g=1,2)")
    task_names = {config.task.name, *(str(v) for v in grid.get("task.name", ()))}
    task_keys: set[str] = {"name"}
    for name in task_names:
        task_keys.update(task_param_hints(name))
    out: dict[str, tuple[Any, ...]] = {}
    for key, values in grid.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or len(values) == 0:
            raise ConfigError(f"grid key `{key}` must list at least one value; got {values!r}")
        if key != "seed":
            parts = key.split(".")
            if len(parts) != 2 or parts[0] not in SECTIONS:
                raise ConfigError(f"grid key `{key}` must be `seed` or `section.key` with a section among "
                                  f"{', '.join(SECTIONS)}")
            section, name = parts
            valid = sorted(task_keys) if section == "task" else [f.name for f in dataclasses.fields(SECTIONS[section])]
            if name not in valid:
                raise ConfigError(f"unknown grid key `{key}` (valid keys of [{section}]: {', '.join(valid)})")
        _check_unique(key, values)
        out[key] = tuple(values)
    return out


@dataclass(frozen=True)
class Cell:
    """One cell of a grid.

    Attributes
    ----------
    index : int
        Position in the Cartesian product (last key fastest).
    name : str
        ``c{index:04d}``, the name of its directory.
    values : tuple of (str, value)
        The grid key and the value it takes, in grid order.
    position : tuple of int
        Index of the value along each grid key.
    """

    index: int
    name: str
    values: tuple[tuple[str, Any], ...]
    position: tuple[int, ...]

    def overrides(self) -> list[str]:
        """The ``key=value`` overrides that turn the base config into this cell's config."""
        return [f"{k}={toml_literal(v, k)}" for k, v in self.values]


def expand_grid(grid: Mapping[str, Sequence[Any]]) -> list[Cell]:
    """The cells of ``grid`` in order (the Cartesian product, last key fastest)."""
    keys = list(grid)
    ranges = [range(len(grid[k])) for k in keys]
    cells = []
    for i, pos in enumerate(itertools.product(*ranges)):
        values = tuple((k, grid[k][j]) for k, j in zip(keys, pos))
        cells.append(Cell(index=i, name=f"c{i:04d}", values=values, position=tuple(pos)))
    return cells


def cell_config(config: RunConfig, cell: Cell) -> RunConfig:
    """The config of ``cell``: the base config with the cell's overrides (ConfigError if invalid)."""
    return apply_overrides(config, cell.overrides())


# --------------------------------------------------------------------------- the [sweep] table
@dataclass(frozen=True)
class SweepSettings:
    """The ``[sweep]`` table of a config file (read by ``neurobias sweep``, ignored by ``neurobias run``).

    Attributes
    ----------
    grid : dict of str to tuple
        ``[sweep.grid]``: config key -> list of values (``--grid`` adds or replaces keys).
    scheduler : str
        ``local``, ``tcp://HOST:PORT``, ``slurm`` or ``sync``.
    workers : int or None
        Dask workers to start (``local``: processes; ``slurm``: one job each).
    slurm : dict
        ``[sweep.slurm]``: keyword arguments of ``dask_jobqueue.SLURMCluster``
        (``cores``, ``memory``, ``walltime``, ``queue``, ``account``,
        ``job_extra_directives``, ...).
    """

    grid: Mapping[str, tuple[Any, ...]] = dataclasses.field(default_factory=dict)
    scheduler: str = "local"
    workers: int | None = None
    slurm: Mapping[str, Any] = dataclasses.field(default_factory=dict)


_SWEEP_KEYS = ("grid", "scheduler", "workers", "slurm")


def _settings_from_table(table: Any, source: str) -> SweepSettings:
    try:
        table = coerce(table, Mapping, name="sweep", error=ConfigError)
        for key in table:
            if key not in _SWEEP_KEYS:
                raise ConfigError(f"unknown config key `sweep.{key}` (valid keys: {', '.join(_SWEEP_KEYS)})")
        grid: dict[str, tuple[Any, ...]] = {}
        grid_table = coerce(table.get("grid", {}), Mapping, name="sweep.grid", error=ConfigError)
        for key, values in _flatten(grid_table).items():
            grid[key] = coerce(values, tuple[Any, ...], name=f"sweep.grid.{key}", error=ConfigError)
            if not grid[key]:
                raise ConfigError(f"config key `sweep.grid.{key}` must be a non-empty list of values; got []")
        scheduler = coerce(table.get("scheduler", "local"), str, name="sweep.scheduler", error=ConfigError)
        workers = table.get("workers")
        if workers is not None:
            workers = check_number("sweep.workers", workers, ge=1, integer=True, error=ConfigError)
        slurm = coerce(table.get("slurm", {}), Mapping, name="sweep.slurm", error=ConfigError)
    except ConfigError as exc:
        raise ConfigError(f"{exc} (in {source})") from None
    return SweepSettings(grid=grid, scheduler=scheduler, workers=workers, slurm=dict(slurm))


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"circuit": {"g": [...]}}`` and ``{"circuit.g": [...]}`` both give ``{"circuit.g": [...]}``."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        full = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, f"{full}."))
        else:
            out[full] = value
    return out


def load_sweep_config(path: Any) -> tuple[RunConfig, SweepSettings]:
    """Read a run config file and its optional ``[sweep]`` table.

    Returns
    -------
    config : RunConfig
        The validated run config (without the ``[sweep]`` table).
    settings : SweepSettings

    Raises
    ------
    ConfigError
        The file is missing or malformed, or the config or the ``[sweep]`` table is invalid.
    """
    import tomllib

    from neurobias.io.files import read_text

    try:
        text = read_text(path, what="config file")
    except InputError as exc:
        raise ConfigError(str(exc)) from None
    source = f"config file {path}"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"malformed TOML in {source}: {exc}") from None
    settings = _settings_from_table(data.pop("sweep", {}), source)
    try:
        config = config_from_dict(data)
    except ConfigError as exc:
        raise ConfigError(f"{exc} (in {source})") from None
    return config, settings

"""The run config: typed, frozen dataclasses from TOML, dicts and ``--set`` overrides.

A run is described by one :class:`RunConfig`: a ``seed`` and the sections
``circuit``, ``task``, ``tonic``, ``training``, ``simulation`` and ``output``
(see ``docs/config.md`` for every key).  Every section is a frozen dataclass
whose ``__post_init__`` checks types and ranges, so a config that exists is
valid.  The resolved config (every key, defaults filled in) travels with the
results as TOML text (:func:`config_to_toml`); reading it back gives an equal
config.

Type rules (for files, dicts and overrides alike) are those of
:func:`neurobias.errors.coerce`: an int is accepted where a float is expected
(and stored as float), a bool is never accepted as a number, a bool must be
``true``/``false``, lists become tuples, floats must be finite.

Example
-------
>>> cfg = load_config("run.toml")                                 # doctest: +SKIP
>>> cfg = apply_overrides(cfg, ["training.steps=10", "circuit.phi=relu"])  # doctest: +SKIP
>>> cfg.training.steps                                           # doctest: +SKIP
10
"""
from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from neurobias.config.literals import parse_override, toml_document
from neurobias.errors import (ConfigError, InputError, NeurobiasError, check_choice, check_instance, check_number,
                              coerce, suggest)

__all__ = [
    "RunConfig",
    "CircuitConfig",
    "TaskConfig",
    "TonicConfig",
    "TrainingConfig",
    "SimulationConfig",
    "OutputConfig",
    "FrozenParams",
    "SECTIONS",
    "default_config",
    "load_config",
    "config_from_toml",
    "config_from_dict",
    "config_to_dict",
    "config_to_toml",
    "apply_overrides",
    "task_param_hints",
]



def _suggest(word: str, choices: Sequence[str], *, prefix: str = "") -> str:
    close = suggest(word, choices)
    return f"; did you mean `{prefix}{close[1:-1]}`?" if close else ""


def _choices(name: str) -> tuple[str, ...]:
    """A choice list, imported from the module that owns the concept (lazily: those modules import torch)."""
    from neurobias.circuit import DTYPES, FORMS, PHI_NAMES
    from neurobias.circuit.connectivity import CONNECTIVITIES, WEIGHT_INITS
    from neurobias.circuit.dynamics import METHODS
    from neurobias.training.model import MODES
    from neurobias.training.schedule import SCHEDULES
    from neurobias.training.tonic import PARAMETRIZATIONS

    return {"connectivity": CONNECTIVITIES, "init": WEIGHT_INITS, "phi": PHI_NAMES, "form": FORMS,
            "method": METHODS, "mode": MODES, "schedule": SCHEDULES, "parametrization": PARAMETRIZATIONS,
            "dtype": tuple(DTYPES)}[name]


def _field(default: Any, *, choices: str | None = None, units: str = "", **bounds: float) -> Any:
    """A section key: its default, and the choice list (by concept) or the bounds its value must meet."""
    return field(default=default, metadata={"choices": choices, "units": units, "bounds": bounds})


# --------------------------------------------------------------------------- FrozenParams
class FrozenParams(Mapping[str, Any]):
    """An immutable, hashable mapping (the task parameters of a :class:`TaskConfig`).

    Compares equal to any mapping with the same items; keeps insertion order
    (the field order of the task's ``Params``).  Values must be hashable
    (lists are stored as tuples by :class:`TaskConfig`).
    """

    __slots__ = ("_data",)

    def __init__(self, items: Mapping[str, Any] | Sequence[tuple[str, Any]] = ()) -> None:
        object.__setattr__(self, "_data", dict(items))

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._data.items(), key=lambda kv: kv[0])))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mapping):
            return NotImplemented
        return dict(self._data) == dict(other.items())

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("FrozenParams is immutable")

    def __repr__(self) -> str:
        return f"FrozenParams({self._data!r})"


# --------------------------------------------------------------------------- sections
class _Section:
    """Shared ``__post_init__``: each key's type, then its choices or bounds, then checks across keys."""

    _name: ClassVar[str] = ""

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            key = f"{self._name}.{f.name}"
            value = coerce(getattr(self, f.name), hints[f.name], name=key, error=ConfigError)
            if f.metadata.get("choices"):
                check_choice(key, value, _choices(f.metadata["choices"]), error=ConfigError)
            if f.metadata.get("bounds"):
                value = check_number(key, value, integer=hints[f.name] is int, units=f.metadata["units"],
                                     error=ConfigError, **f.metadata["bounds"])
            object.__setattr__(self, f.name, value)
        self._check()

    def _check(self) -> None:
        """Checks across keys (a section's keys are checked one by one from their declarations)."""


@dataclass(frozen=True)
class CircuitConfig(_Section):
    """Section ``[circuit]``: how the fixed random circuit is drawn.

    Attributes
    ----------
    n_units : int
        Number of units (> 0).
    connectivity : {"gaussian", "sparse", "dale", "uniform"}
        Recurrent weight distribution.
    g : float
        Gain (spectral radius scale) of ``gaussian``, ``sparse`` and ``dale`` (>= 0).
    p : float
        Connection probability of ``sparse``, in (0, 1].
    exc_fraction : float
        Fraction of excitatory units of ``dale``, in (0, 1).
    gamma : float
        Half-width of ``uniform``, > 0.
    input_init, readout_init : {"gaussian", "uniform"}
        Distribution of the input and readout weights.
    input_scale, readout_scale : float
        Scale of the input and readout weights (>= 0).
    tau : float
        Time constant in ms (> 0).
    phi : {"tanh", "relu", "softplus", "sigmoid", "linear"}
        Transfer function.
    form : {"current", "rate"}
        Form of the dynamics.
    """

    _name: ClassVar[str] = "circuit"
    n_units: int = _field(256, gt=0)
    connectivity: str = _field("gaussian", choices="connectivity")
    g: float = _field(1.5, ge=0)
    p: float = _field(0.1, gt=0, le=1)
    exc_fraction: float = _field(0.8, gt=0, lt=1)
    gamma: float = _field(0.1, gt=0)
    input_init: str = _field("gaussian", choices="init")
    input_scale: float = _field(1.0, ge=0)
    readout_init: str = _field("gaussian", choices="init")
    readout_scale: float = _field(1.0, ge=0)
    tau: float = _field(10.0, gt=0, units="ms")
    phi: str = _field("tanh", choices="phi")
    form: str = _field("current", choices="form")


def _task_registry() -> types.ModuleType:
    import neurobias.tasks as tasks  # lazy: keeps `import neurobias.config` light

    return tasks


def _task_class(name: str) -> type:
    reg = _task_registry()
    names = tuple(reg.available())
    if name not in names:
        close = suggest(name, names)
        hint = f" (did you mean {close}?)" if close else ""
        raise ConfigError(
            f"config key `task.name` must be one of the registered tasks "
            f"{', '.join(repr(n) for n in names)}; got {name!r}{hint}"
        )
    return reg.get_task(name)


def task_param_hints(name: str) -> dict[str, tuple[Any, Any]]:
    """The parameters of the registered task ``name``: ``{key: (type, default)}``.

    Raises
    ------
    ConfigError
        If ``name`` is not a registered task.
    """
    params_cls = _task_class(name).Params
    hints = typing.get_type_hints(params_cls)
    out: dict[str, tuple[Any, Any]] = {}
    for f in dataclasses.fields(params_cls):
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:  # pragma: no cover - the task protocol requires defaults
            raise TypeError(f"task {name!r} Params field {f.name!r} has no default")
        out[f.name] = (hints[f.name], _freeze(default))
    return out


def _freeze(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    return value


@dataclass(frozen=True)
class TaskConfig:
    """Section ``[task]``: the task name and its parameters.

    The parameters are the fields of the registered task's ``Params``
    dataclass, given as flat keys of the ``[task]`` table.  On construction
    they are checked against the field types (unknown key: error naming the
    closest valid one) and completed with the task's defaults, so
    :attr:`params` always holds every parameter.  Value constraints that need
    ``dt`` (durations, Nyquist) are checked by :class:`RunConfig`.

    Attributes
    ----------
    name : str
        Registered task name (see :func:`neurobias.tasks.available`).
    params : FrozenParams
        Every parameter of the task, in the field order of its ``Params``.
    """

    name: str = "sine"
    params: Mapping[str, Any] = field(default_factory=FrozenParams)

    def __post_init__(self) -> None:
        name = coerce(self.name, str, name="task.name", error=ConfigError)
        if not isinstance(self.params, Mapping):
            raise ConfigError(
                f"config key `task.params` must be a mapping of parameter names to values; "
                f"got {type(self.params).__name__}"
            )
        hints = task_param_hints(name)
        resolved: dict[str, Any] = {}
        for key in self.params:
            if key not in hints:
                raise ConfigError(
                    f"unknown config key `task.{key}` for task {name!r}"
                    f"{_suggest(str(key), list(hints), prefix='task.')} "
                    f"(valid keys: {', '.join(['name', *hints])})"
                )
        for key, (hint, default) in hints.items():
            value = self.params.get(key, default)
            resolved[key] = coerce(value, hint, name=f"task.{key}", error=ConfigError)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "params", FrozenParams(resolved))

    def make_params(self) -> Any:
        """The task's ``Params`` dataclass instance holding :attr:`params`."""
        return _task_class(self.name).Params(**dict(self.params))

    def make_task(self, *, dt: float) -> Any:
        """Build the task with integration step ``dt`` (ms).

        Raises
        ------
        ConfigError
            If the task rejects the parameters (e.g. a duration that is not a
            multiple of ``dt``).
        """
        try:
            return _task_registry().make_task(self.name, dt=dt, **dict(self.params))
        except NeurobiasError as exc:
            raise ConfigError(
                f"config section `task` is invalid for task {self.name!r} with dt = {dt:g} ms: {exc}"
            ) from None


@dataclass(frozen=True)
class TonicConfig(_Section):
    """Section ``[tonic]``: how the per-context tonic inputs are parametrised.

    Attributes
    ----------
    parametrization : {"full", "subset", "lowrank"}
        ``full``: one free value per unit and context; ``subset``: only a
        random fraction of units receives a tonic input; ``lowrank``:
        ``tonic = coeffs (context, rank) @ basis (rank, unit)``.
    fraction : float
        Fraction of units with a tonic input (``subset``), in (0, 1].
    rank : int
        Rank of the ``lowrank`` parametrisation (>= 1, <= ``circuit.n_units``).
    shared_baseline : bool
        Add a context-independent baseline shared by all contexts.
    init_std : float
        Standard deviation of the initial tonic inputs (>= 0; 0 = zeros).
    """

    _name: ClassVar[str] = "tonic"
    parametrization: str = _field("full", choices="parametrization")
    fraction: float = _field(0.5, gt=0, le=1)
    rank: int = _field(4, ge=1)
    shared_baseline: bool = False
    init_std: float = _field(0.0, ge=0)


@dataclass(frozen=True)
class TrainingConfig(_Section):
    """Section ``[training]``: what is trained and how.

    Attributes
    ----------
    mode : {"bias", "bias+readout", "readout", "full"}
        Trainable parameters: tonic inputs only; tonic inputs and readout;
        readout only; everything.
    steps : int
        Optimiser steps (>= 0).
    lr : float
        Peak learning rate (> 0).
    batch_size : int
        Trials per context per step (> 0).
    clip_grad : float
        Gradient-norm clipping threshold (> 0), or 0 for no clipping.
    schedule : {"constant", "cosine", "step"}
        Learning-rate schedule.
    lr_min : float
        Final learning rate of the schedule, in [0, lr].
    target_loss : float
        Stop once the loss is <= this (>= 0; 0 = never stop early).
    checkpoint_every : int
        Steps between checkpoints (>= 0; 0 = no checkpoints).
    log_every : int
        Steps between log lines (>= 1).
    dtype : {"float32", "float64"}
        Floating-point precision of training.
    checkpoint_chunk : int
        Gradient checkpointing over time (>= 0; 0 = off): the backward pass keeps one state every
        ``checkpoint_chunk`` time steps and integrates each chunk again, so BPTT memory grows with
        ``T / checkpoint_chunk + checkpoint_chunk`` instead of ``T``; same loss and gradients.
    restarts : int
        Tonic banks trained side by side from independent draws of ``tonic.init_std`` (>= 1); each
        context keeps its best restart.  Above 1 it needs ``mode = "bias"``, ``tonic.init_std`` > 0 and no
        ``tonic.shared_baseline`` (see :func:`neurobias.train`).
    """

    _name: ClassVar[str] = "training"
    mode: str = _field("bias", choices="mode")
    steps: int = _field(1000, ge=0)
    lr: float = _field(0.01, gt=0)
    batch_size: int = _field(8, gt=0)
    clip_grad: float = 1.0
    schedule: str = _field("cosine", choices="schedule")
    lr_min: float = 0.0
    target_loss: float = _field(0.0, ge=0)
    checkpoint_every: int = _field(100, ge=0)
    log_every: int = _field(10, ge=1)
    dtype: str = _field("float32", choices="dtype")
    checkpoint_chunk: int = _field(0, ge=0)
    restarts: int = _field(1, ge=1)

    def _check(self) -> None:
        if self.clip_grad < 0:
            raise ConfigError(
                f"config key `training.clip_grad` must be a positive float, or 0 for no clipping; "
                f"got {self.clip_grad!r}"
            )
        if not 0 <= self.lr_min <= self.lr:
            raise ConfigError(
                f"config key `training.lr_min` must lie in [0, training.lr = {self.lr!r}]; "
                f"got {self.lr_min!r}"
            )


@dataclass(frozen=True)
class SimulationConfig(_Section):
    """Section ``[simulation]``: numerical integration.

    Attributes
    ----------
    dt : float
        Integration step in ms (> 0).
    noise_std : float
        Standard deviation of the private noise per sqrt(ms) (>= 0).
    method : {"euler", "exp_euler"}
        Integrator.
    x0_std : float
        Standard deviation of the random initial state (>= 0; 0 = zeros).
    """

    _name: ClassVar[str] = "simulation"
    dt: float = _field(1.0, gt=0, units="ms")
    noise_std: float = _field(0.0, ge=0, units="per sqrt(ms)")
    method: str = _field("euler", choices="method")
    x0_std: float = _field(0.0, ge=0)


@dataclass(frozen=True)
class OutputConfig(_Section):
    """Section ``[output]``: what a run saves.

    Attributes
    ----------
    n_trials : int
        Trials per context simulated and saved in the results (>= 1).
    figures : bool
        Whether to write figures.
    """

    _name: ClassVar[str] = "output"
    n_trials: int = _field(4, ge=1)
    figures: bool = True


SECTIONS: dict[str, type] = {
    "circuit": CircuitConfig,
    "task": TaskConfig,
    "tonic": TonicConfig,
    "training": TrainingConfig,
    "simulation": SimulationConfig,
    "output": OutputConfig,
}
_TOP_KEYS = ("seed", *SECTIONS)
#: tables of a config file that belong to another command and are not part of a run's config:
#: ``[sweep]`` (grid, scheduler, workers, SLURM options) is read by ``neurobias sweep``
_OTHER_TABLES = ("sweep",)


@dataclass(frozen=True)
class RunConfig:
    """The resolved configuration of one run (frozen, validated, hashable).

    Attributes
    ----------
    seed : int
        Master seed (>= 0).
    circuit, task, tonic, training, simulation, output
        The sections; see their classes.

    Raises
    ------
    ConfigError
        On construction, if a section has the wrong type or the sections are
        inconsistent (``tonic.rank`` > ``circuit.n_units`` with the lowrank
        parametrisation; ``training.restarts`` > 1 outside ``bias`` mode, with
        ``tonic.init_std`` = 0 or a shared baseline; task parameters invalid
        for ``simulation.dt``).
    """

    seed: int = 0
    circuit: CircuitConfig = field(default_factory=CircuitConfig)
    task: TaskConfig = field(default_factory=TaskConfig)
    tonic: TonicConfig = field(default_factory=TonicConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    simulation: SimulationConfig = field(default_factory=SimulationConfig)
    output: OutputConfig = field(default_factory=OutputConfig)

    def __post_init__(self) -> None:
        seed = coerce(self.seed, int, name="seed", error=ConfigError)
        if seed < 0:
            raise ConfigError(f"config key `seed` must be an int >= 0; got {seed!r}")
        object.__setattr__(self, "seed", seed)
        for name, cls in SECTIONS.items():
            value = getattr(self, name)
            if not isinstance(value, cls):
                raise ConfigError(
                    f"RunConfig.{name} must be a {cls.__name__} (section `[{name}]`); "
                    f"got {type(value).__name__}"
                )
        if self.training.restarts > 1:
            for ok, key, expected, got in (
                    (self.training.mode == "bias", "training.mode", '"bias"', self.training.mode),
                    (self.tonic.init_std > 0, "tonic.init_std", "> 0", self.tonic.init_std),
                    (not self.tonic.shared_baseline, "tonic.shared_baseline", "false",
                     self.tonic.shared_baseline)):
                if not ok:
                    raise ConfigError(f"config key `{key}` must be {expected} when `training.restarts` > 1 "
                                      f"(restarts = {self.training.restarts}); got {got!r}")
        if self.tonic.parametrization == "lowrank" and self.tonic.rank > self.circuit.n_units:
            raise ConfigError(
                f"config key `tonic.rank` must be <= circuit.n_units = {self.circuit.n_units} "
                f"for the lowrank parametrization; got {self.tonic.rank}"
            )
        self.task.make_task(dt=self.simulation.dt)

    def make_task(self) -> Any:
        """The configured task, built with ``simulation.dt``."""
        return self.task.make_task(dt=self.simulation.dt)


# --------------------------------------------------------------------------- public API
def default_config() -> RunConfig:
    """The default configuration (every key at its documented default)."""
    return RunConfig()


def _section_fields(name: str) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(SECTIONS[name]))


def config_from_dict(d: Mapping[str, Any]) -> RunConfig:
    """Build a validated config from a nested mapping (the parsed TOML).

    Missing sections and keys take their defaults.  The ``task`` table holds
    ``name`` plus the task's parameters as flat keys.  A ``sweep`` table (the
    grid and scheduler of ``neurobias sweep``) is not part of a run's config
    and is skipped.

    Parameters
    ----------
    d : mapping
        ``{"seed": int, "circuit": {...}, "task": {"name": ..., ...}, ...}``.

    Returns
    -------
    RunConfig

    Raises
    ------
    ConfigError
        Unknown section or key (naming the closest valid one), a section that
        is not a table, a value of the wrong type or out of range.
    """
    if not isinstance(d, Mapping):
        raise ConfigError(f"a config must be a mapping of sections; got {type(d).__name__}")
    kwargs: dict[str, Any] = {}
    for top, value in d.items():
        if top in _OTHER_TABLES:
            continue  # read by another command (see _OTHER_TABLES)
        if top not in _TOP_KEYS:
            if isinstance(value, Mapping):
                raise ConfigError(f"unknown config section `[{top}]`{_suggest(str(top), list(SECTIONS))}"
                                  f" (valid sections: {', '.join(SECTIONS)})")
            raise ConfigError(f"unknown top-level config key `{top}`{_suggest(str(top), list(_TOP_KEYS))}")
        if top == "seed":
            kwargs["seed"] = value
            continue
        if not isinstance(value, Mapping):
            raise ConfigError(
                f"config section `[{top}]` must be a table of keys; got {type(value).__name__} {value!r}"
            )
        if top == "task":
            params = {k: v for k, v in value.items() if k != "name"}
            kwargs["task"] = TaskConfig(name=value.get("name", TaskConfig.name), params=params)
            continue
        valid = _section_fields(top)
        for key in value:
            if key not in valid:
                raise ConfigError(
                    f"unknown config key `{top}.{key}`{_suggest(str(key), valid, prefix=top + '.')}"
                    f" (valid keys: {', '.join(valid)})"
                )
        kwargs[top] = SECTIONS[top](**value)
    return RunConfig(**kwargs)


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def config_to_dict(cfg: RunConfig) -> dict[str, Any]:
    """The config as nested plain dicts (tuples as lists), TOML-shaped.

    ``config_from_dict(config_to_dict(cfg)) == cfg``.
    """
    check_instance("cfg", cfg, RunConfig, what="a RunConfig")
    out: dict[str, Any] = {"seed": cfg.seed}
    for name in SECTIONS:
        section = getattr(cfg, name)
        if name == "task":
            out["task"] = {"name": section.name, **{k: _plain(v) for k, v in section.params.items()}}
        else:
            out[name] = {f.name: _plain(getattr(section, f.name)) for f in dataclasses.fields(section)}
    return out


def config_to_toml(cfg: RunConfig) -> str:
    """The config as deterministic TOML text (every key, in a fixed order).

    ``config_from_toml(config_to_toml(cfg)) == cfg``; the same config always
    gives the same text.
    """
    return toml_document(config_to_dict(cfg))


def config_from_toml(text: str, *, source: str = "<string>") -> RunConfig:
    """Parse and validate TOML text (see :func:`load_config`).

    Parameters
    ----------
    text : str
        TOML document.
    source : str
        Name used in error messages (e.g. the file path).

    Raises
    ------
    ConfigError
        Malformed TOML (with line and column) or an invalid config.
    """
    check_instance("text", text, str, what="a str")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"malformed TOML in {source}: {exc}") from None
    try:
        return config_from_dict(data)
    except ConfigError as exc:
        if source == "<string>":
            raise
        raise ConfigError(f"{exc} (in {source})") from None


def load_config(path: str | Any) -> RunConfig:
    """Read and validate a TOML config file.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    RunConfig

    Raises
    ------
    ConfigError
        One line naming the problem: the file is missing or unreadable, the
        TOML is malformed (with line and column), a section or key is unknown
        (with the closest valid name), or a value has the wrong type or range.
    """
    from neurobias.io.files import read_bytes

    try:
        raw = read_bytes(path, what="config file")
    except InputError as exc:
        raise ConfigError(str(exc)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {path} is not UTF-8 text: {exc}") from None
    return config_from_toml(text, source=f"config file {path}")


def apply_overrides(cfg: RunConfig, overrides: Sequence[str]) -> RunConfig:
    """Return a copy of ``cfg`` with ``section.key=value`` overrides applied.

    Each override is ``section.key=value`` or ``seed=value``.  The value is
    parsed as a TOML literal (``10``, ``1e-3``, ``true``, ``[1.0, 2.0]``,
    ``"text"``); anything that is not a TOML literal is taken as a bare
    string (``circuit.phi=relu``).  It is checked against the type of the
    key's default (an int is fine for a float, nothing else converts).  Later
    overrides of the same key win.

    Switching task with ``task.name=...``: parameters of the old task that
    still hold their defaults are dropped (the new task's defaults apply);
    parameters that differ from the old task's defaults are carried over to
    the new task if it has a parameter of the same name, and are an error
    otherwise.  ``task.<param>`` overrides given alongside apply to the new
    task, whatever their order.

    Parameters
    ----------
    cfg : RunConfig
    overrides : sequence of str

    Returns
    -------
    RunConfig

    Raises
    ------
    ConfigError
        Naming the override: no ``=``, unknown section or key (with the
        closest valid one), a value of the wrong type, or an invalid result.
    """
    check_instance("cfg", cfg, RunConfig, what="a RunConfig")
    if isinstance(overrides, str) or not isinstance(overrides, Sequence):
        raise InputError(
            f"`overrides` must be a sequence of 'section.key=value' strings; got {type(overrides).__name__}"
        )
    parsed: list[tuple[str, str, str, Any]] = []  # (raw, section, key, value)
    for raw in overrides:
        path, value = parse_override(raw)
        if path == ("seed",):
            section, key = "", "seed"
        elif len(path) == 2:
            section, key = path
        else:
            raise ConfigError(f"malformed override {raw!r}: the left side must be 'section.key' or 'seed'; "
                              f"got {'.'.join(path)!r}")
        if section and section not in SECTIONS:
            raise ConfigError(
                f"unknown config section `{section}` in override {raw!r}"
                f"{_suggest(section, list(SECTIONS))} (valid sections: {', '.join(SECTIONS)})"
            )
        parsed.append((raw, section, key, value))

    d = config_to_dict(cfg)
    # 1. the task switch, before any task parameter
    for raw, section, key, value in parsed:
        if section == "task" and key == "name":
            try:
                new_name = coerce(value, str, name="task.name", error=ConfigError)
                _task_class(new_name)
            except ConfigError as exc:
                raise ConfigError(f"override {raw!r}: {exc}") from None
            if new_name == d["task"]["name"]:
                continue
            old_hints = task_param_hints(d["task"]["name"])
            new_hints = task_param_hints(new_name)
            kept = {
                k: v
                for k, v in cfg.task.params.items()
                if k in old_hints and v != old_hints[k][1]
            }
            lost = [k for k in kept if k not in new_hints]
            if lost:
                raise ConfigError(
                    f"override {raw!r}: task {cfg.task.name!r} parameter(s) "
                    f"{', '.join(f'`task.{k}`' for k in lost)} set to non-default values are not "
                    f"parameters of task {new_name!r} (valid: {', '.join(new_hints) or 'none'}); "
                    f"remove them from the config"
                )
            d["task"] = {"name": new_name, **{k: _plain(v) for k, v in kept.items()}}
    task_hints = task_param_hints(d["task"]["name"])
    # 2. every other key, type-checked against its default's type
    for raw, section, key, value in parsed:
        if section == "task" and key == "name":
            continue
        full = f"{section}.{key}" if section else key
        if not section:
            hint: Any = int
        elif section == "task":
            if key not in task_hints:
                raise ConfigError(
                    f"unknown config key `task.{key}` in override {raw!r} for task {d['task']['name']!r}"
                    f"{_suggest(key, list(task_hints), prefix='task.')}"
                    f" (valid keys: {', '.join(['name', *task_hints])})"
                )
            hint = task_hints[key][0]
        else:
            valid = _section_fields(section)
            if key not in valid:
                raise ConfigError(
                    f"unknown config key `{full}` in override {raw!r}"
                    f"{_suggest(key, valid, prefix=section + '.')} (valid keys: {', '.join(valid)})"
                )
            hint = typing.get_type_hints(SECTIONS[section])[key]
        try:
            coerced = coerce(value, hint, name=full, error=ConfigError)
        except ConfigError as exc:
            raise ConfigError(f"override {raw!r}: {exc}") from None
        if section:
            d[section][key] = _plain(coerced)
        else:
            d["seed"] = coerced
    return config_from_dict(d)

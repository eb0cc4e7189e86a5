"""The TOML config of ``neurobias fit-recordings``: how to read, preprocess, fit and compare a recording.

Five tables, every key optional (defaults below)::

    seed = 0
    [recording]         # options of neurobias.recordings.load_recording (format, rate, axes, time, ...)
    [recording.design]  # the context x stimulus design: context labels, stimulus values, their time course
    [preprocess]        # trim, smooth_ms, condition_average, soft_normalize, mean_center, pca_components
    [fit]               # model = "condition" (TonicFit), "context" (ContextFit) or "lowrank"
                        # (LowRankContextFit), and that estimator's hyperparameters
    [crossval]          # held-out conditions / time / trials, the baselines on the same splits
    [compare]           # metrics, n_shuffles, dsa_shuffles, n_components, fp_candidates

``[crossval]`` runs only when the config has the table.

Every key is declared once below with its type and default, and checked by
the package's one type engine (:func:`neurobias.errors.coerce`); ``--set
fit.steps=200`` overrides are read by the one override parser
(:func:`neurobias.config.literals.parse_override`).  Unknown tables or keys
and values of the wrong type raise :class:`ConfigError` naming the key.
"""
from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from neurobias.config.literals import parse_override, toml_document
from neurobias.errors import ConfigError, check_choice, check_number, coerce, suggest

__all__ = ["FIT_KEYS", "CONTEXT_FIT_KEYS", "LOWRANK_FIT_KEYS", "MODEL_KEYS", "PREPROCESS_KEYS", "COMPARE_KEYS",
           "RECORDING_KEYS", "DESIGN_KEYS", "CROSSVAL_KEYS", "COMPARE_DEFAULTS", "load_fit_config", "fit_config_to_toml",
           "compare_overrides"]

#: ``[preprocess]``: key -> (type, default)
PREPROCESS_KEYS: dict[str, tuple[Any, Any]] = {
    "trim": (bool, True),  # cut NaN-padded trials to their common length
    "smooth_ms": (float, 0.0),  # Gaussian smoothing width in ms (0: none)
    "condition_average": (bool, False),  # fit condition averages only (no split-half noise ceiling)
    "soft_normalize": (float, 0.0),  # soft normalisation constant in the recording's units (0: none)
    "mean_center": (str, "none"),  # none, or what recordings.preprocess.mean_center subtracts (condition, all)
    "pca_components": (int, 0),  # PCA denoising (0: none)
}
#: ``[fit]``: the hyperparameters of :class:`neurobias.fitting.TonicFit` (key -> (type, default)); the same
#: defaults as ``TonicFit``'s keywords (a test holds them equal)
FIT_KEYS: dict[str, tuple[Any, Any]] = {
    "n_units": (int, 256), "mode": (str, "bias"), "readout": (str, "subset"), "learn_x0": (bool, True),
    "learn_tonic": (bool, True), "g": (float, 1.5), "tau": (float, 50.0), "phi": (str, "tanh"), "substeps": (int | None, None), "steps": (int, 1000),
    "lr": (float, 0.05), "weight_lr": (float | None, None), "lr_min": (float, 0.0), "schedule": (str, "cosine"),
    "clip_grad": (float, 1.0), "holdout": (str, "auto"), "holdout_block": (int, 5), "n_shuffles": (int, 100),
    "dtype": (str, "float64"), "seed": (int, 0),
}
#: ``[fit]`` with ``model = "context"``: the hyperparameters of :class:`neurobias.fitting.ContextFit` (a test
#: holds the defaults equal to its keywords)
CONTEXT_FIT_KEYS: dict[str, tuple[Any, Any]] = {
    "n_units": (int, 256), "mode": (str, "bias"), "tonic": (str, "context"), "initial_state": (str, "shared"),
    "readout": (str, "subset"), "g": (float, 1.5), "tau": (float, 100.0), "phi": (str, "tanh"),
    "input_scale": (float, 1.0), "substeps": (int | None, None), "steps": (int, 500), "lr": (float, 0.05),
    "weight_lr": (float | None, None), "lr_min": (float, 0.0), "schedule": (str, "cosine"), "clip_grad": (float, 1.0),
    "dtype": (str, "float64"), "seed": (int, 0),
}
#: ``[fit]`` with ``model = "lowrank"``: :class:`neurobias.fitting.LowRankContextFit` (a trained rank-``rank``
#: recurrence; its readout defaults to ``linear``)
LOWRANK_FIT_KEYS: dict[str, tuple[Any, Any]] = {**CONTEXT_FIT_KEYS, "readout": (str, "linear"), "rank": (int, 1)}
#: ``[fit] model`` -> the keys of that model's table
MODEL_KEYS: dict[str, dict[str, tuple[Any, Any]]] = {
    "condition": FIT_KEYS, "context": CONTEXT_FIT_KEYS, "lowrank": LOWRANK_FIT_KEYS}
#: ``[recording.design]``: how each condition's context label and stimulus values are read (key -> (type, default))
DESIGN_KEYS: dict[str, tuple[Any, Any]] = {
    "inputs": (tuple[str, ...] | None, None),  # the stimulus input names
    "context": (str | None, None),  # a coordinate/variable of the recording: the context label of each condition
    "stimulus": (tuple[str, ...] | None, None),  # variables of the recording, one per input: its value per condition
    "conditions": (Mapping | None, None),  # or a table: condition name -> {context = "...", stimulus = [...]}
    "window_ms": (tuple[float, float] | None, None),  # the stimulus is on for start <= time < stop (ms)
    "course": (str | None, None),  # or a variable (input, time) of the recording: each input's time course
}
#: ``[crossval]``: key -> (type, default)
CROSSVAL_KEYS: dict[str, tuple[Any, Any]] = {
    "schemes": (tuple[str, ...], ("conditions", "auto")),  # conditions, time, trials; auto: trials or time
    "by": (str | None, None),  # held-out conditions: one fold per value of this input
    "held_out": (tuple[tuple[str, ...], ...] | None, None),  # or explicit folds: the conditions each holds out
    "block": (int, 5),  # bins per held-out time block
    "n_shuffles": (int, 100),  # size of the shuffled-condition null
    "noise_variance": (str | None, None),  # a variable (condition, time, neuron): the ceiling of averages
    "baselines": (tuple[str, ...], ()),  # names of neurobias.fitting.baselines.BASELINES
    # nested tuning inside every fold: a table {name = [values]} (every combination) or an array of tables (one per
    # candidate); applied to every model that has the named parameters and can predict unseen conditions
    "tune": (Any, None),
    "tune_by": (str | None, None),  # input whose values define the inner held-out-condition folds (default: `by`)
    "tune_folds": (int | None, None),  # use at most this many inner folds (None: all)
}
#: ``[compare]``: key -> (type, default)
COMPARE_KEYS: dict[str, tuple[Any, Any]] = {
    "metrics": (tuple[str, ...], ("r2", "cca", "shape", "rsa", "dsa", "rotation", "fixed_points")),
    "n_shuffles": (int, 100),
    "dsa_shuffles": (int, 5),
    "n_components": (int, 10),
    "fp_candidates": (int, 64),
}
#: ``[recording]``: the keyword options of ``load_recording`` (their values are checked by it)
RECORDING_KEYS: dict[str, tuple[Any, Any]] = {k: (Any, None) for k in (
    "format", "rate", "axes", "time", "bin_ms", "t0_ms", "time_scale", "conditions", "neurons", "lengths", "units",
    "citation", "licence", "behaviour", "allow_nan", "event", "window_ms")}
_TABLES: dict[str, dict[str, tuple[Any, Any]]] = {
    "recording": RECORDING_KEYS, "preprocess": PREPROCESS_KEYS, "fit": FIT_KEYS, "crossval": CROSSVAL_KEYS,
    "compare": COMPARE_KEYS}

COMPARE_DEFAULTS: dict[str, Any] = {k: d for k, (_, d) in COMPARE_KEYS.items()}


def _check_keys(name: str, table: Mapping[str, Any], keys: Mapping[str, Any], *, what: str = "") -> None:
    for key in table:
        if key not in keys:
            close = suggest(key, list(keys))
            raise ConfigError(f"unknown config key `{name}.{key}`{f'; did you mean {close}?' if close else ''} "
                              f"(valid keys{what}: {', '.join(keys)})")


def _typed(name: str, table: Mapping[str, Any], keys: Mapping[str, tuple[Any, Any]]) -> dict[str, Any]:
    return {k: coerce(table.get(k, default), hint, name=f"{name}.{k}", error=ConfigError)
            for k, (hint, default) in keys.items()}


def _check_table(name: str, table: Any) -> dict[str, Any]:
    """The table ``name`` with its defaults filled in and every value coerced to its declared type."""
    table = coerce(table, Mapping, name=name, error=ConfigError)
    if name == "recording":  # its options are checked by load_recording; its design here
        _check_keys(name, table, {**RECORDING_KEYS, "design": None})
        out = dict(table)
        if "design" in out:
            design = coerce(out["design"], Mapping, name="recording.design", error=ConfigError)
            _check_keys("recording.design", design, DESIGN_KEYS)
            out["design"] = _typed("recording.design", design, DESIGN_KEYS)
        return out
    if name == "fit":
        model = check_choice("fit.model", coerce(table.get("model", "condition"), str, name="fit.model",
                                                 error=ConfigError), tuple(MODEL_KEYS), error=ConfigError)
        keys = MODEL_KEYS[model]
        _check_keys(name, {k: v for k, v in table.items() if k != "model"}, keys,
                    what="" if model == "condition" else f" of fit.model = {model!r}")
        return {"model": model, **_typed(name, table, keys)}
    _check_keys(name, table, _TABLES[name])
    return _typed(name, table, _TABLES[name])


def load_fit_config(path: str | Path | None, *, overrides: Sequence[str] = (), seed: int | None = None,
                    text: str | None = None) -> dict:
    """Read and check a fit config.

    Parameters
    ----------
    path : str or Path or None
        TOML file; None for the defaults.
    overrides : sequence of str, keyword-only
        ``table.key=value`` (and ``seed=value``) overrides, applied on top.
    seed : int, optional, keyword-only
        Replaces the config's seed.
    text : str, optional, keyword-only
        TOML text read instead of ``path`` (e.g. the config stored in ``fit.nc``).

    Returns
    -------
    dict
        ``{"seed", "recording", "preprocess", "fit", "crossval", "compare"}``;
        every table with its defaults filled in (``fit["seed"]`` is the
        config's seed, ``fit["model"]`` the estimator); ``crossval`` is None
        when the config has no ``[crossval]`` table.

    Raises
    ------
    ConfigError
        Unreadable TOML, unknown tables or keys, values of the wrong type.
    """
    raw: dict[str, Any] = {}
    if text is not None:
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"the config text is not valid TOML: {exc}") from None
    elif path is not None:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"config file not found: {p}")
        try:
            raw = tomllib.loads(p.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{p} is not valid TOML: {exc}") from None
    for override in overrides:
        keys, value = parse_override(override)
        if keys == ("seed",):
            raw["seed"] = value
            continue
        if len(keys) != 2:
            raise ConfigError(f"malformed override {override!r}: the left side must be 'table.key' or 'seed'")
        table = raw.setdefault(keys[0], {})
        if not isinstance(table, dict):
            raise ConfigError(f"cannot apply override {override!r}: `{keys[0]}` is not a table")
        table[keys[1]] = value
    for name in raw:
        if name != "seed" and name not in _TABLES:
            close = suggest(name, list(_TABLES))
            raise ConfigError(f"unknown config table `[{name}]`{f'; did you mean {close}?' if close else ''} "
                              f"(valid: seed, {', '.join(f'[{t}]' for t in _TABLES)})")
    cfg_seed = check_number("seed", raw.get("seed", 0) if seed is None else seed, ge=0, integer=True,
                            error=ConfigError)
    cfg: dict[str, Any] = {"seed": cfg_seed, **{name: _check_table(name, raw.get(name, {})) for name in _TABLES}}
    if "crossval" not in raw:
        cfg["crossval"] = None  # no cross-validation unless the config asks for it
    cfg["fit"]["seed"] = cfg_seed
    from neurobias.circuit import PHI_NAMES  # the choice lists, from the modules that own them
    from neurobias.fitting.baselines import BASELINES
    from neurobias.fitting.context_fit import INITIAL_STATES, TONICS
    from neurobias.fitting.crossval import SCHEMES
    from neurobias.fitting.readout import READOUTS
    from neurobias.recordings.preprocess import MEAN_CENTER_OVER
    from neurobias.training.model import MODES
    from neurobias.training.schedule import SCHEDULES
    from neurobias.circuit import DTYPES

    choices: dict[str, Any] = {"preprocess.mean_center": ("none", *MEAN_CENTER_OVER), "fit.mode": MODES,
                               "fit.readout": READOUTS, "fit.phi": PHI_NAMES, "fit.schedule": SCHEDULES,
                               "fit.dtype": tuple(DTYPES), "fit.tonic": TONICS, "fit.initial_state": INITIAL_STATES}
    for key, options in choices.items():
        table, name = key.split(".")
        if name in cfg[table]:
            check_choice(key, cfg[table][name], options, error=ConfigError)
    if cfg["crossval"] is not None:
        for scheme in cfg["crossval"]["schemes"]:
            check_choice("crossval.schemes", scheme, ("auto", *SCHEMES), error=ConfigError)
        for baseline in cfg["crossval"]["baselines"]:
            check_choice("crossval.baselines", baseline, tuple(BASELINES), error=ConfigError)
        if cfg["crossval"]["tune_folds"] is not None:
            check_number("crossval.tune_folds", cfg["crossval"]["tune_folds"], ge=2, integer=True, error=ConfigError)
        if not cfg["crossval"]["schemes"]:
            raise ConfigError("config key `crossval.schemes` must name at least one scheme (conditions, time, trials, "
                              "auto)")
    return cfg


def compare_overrides(overrides: Sequence[str]) -> dict[str, Any]:
    """The ``compare.KEY=VALUE`` overrides of ``compare-recordings``, checked: ``{key: value}``.

    Raises
    ------
    ConfigError
        An override of another table or an unknown key, or a value of the wrong type.
    """
    out: dict[str, Any] = {}
    for override in overrides:
        keys, value = parse_override(override)
        if len(keys) != 2 or keys[0] != "compare" or keys[1] not in COMPARE_KEYS:
            raise ConfigError(f"override {override!r}: only compare.KEY with KEY in {', '.join(COMPARE_KEYS)}")
        out[keys[1]] = coerce(value, COMPARE_KEYS[keys[1]][0], name=override.split("=", 1)[0].strip(),
                              error=ConfigError)
    return out


def fit_config_to_toml(cfg: Mapping[str, Any]) -> str:
    """The resolved config as TOML text (stored in ``fit.nc``; reading it back gives the same config).

    Keys holding None (their default, which TOML cannot spell) are left out, and so is an absent ``[crossval]``.
    """
    doc = {**cfg, "fit": {k: v for k, v in cfg["fit"].items() if k != "seed"}}
    if isinstance(cfg["recording"].get("design"), Mapping):
        design = {k: v for k, v in cfg["recording"]["design"].items() if v is not None}
        doc["recording"] = {**cfg["recording"], "design": design}
    if doc.get("crossval") is None:
        doc.pop("crossval", None)
    return toml_document(doc)

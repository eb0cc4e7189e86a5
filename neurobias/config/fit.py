"""The TOML config of ``neurobias fit-recordings``: how to read, preprocess, fit and compare a recording.

Four tables, every key optional (defaults below)::

    seed = 0
    [recording]     # options of neurobias.recordings.load_recording (format, rate, axes, time, ...)
    [preprocess]    # trim, smooth_ms, condition_average, soft_normalize, mean_center, pca_components
    [fit]           # TonicFit hyperparameters (n_units, mode, readout, learn_x0, g, tau, steps, lr, holdout, ...)
    [compare]       # metrics, n_shuffles, dsa_shuffles, n_components, fp_candidates

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

__all__ = ["FIT_KEYS", "PREPROCESS_KEYS", "COMPARE_KEYS", "RECORDING_KEYS", "COMPARE_DEFAULTS", "load_fit_config",
           "fit_config_to_toml", "compare_overrides"]

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
    "g": (float, 1.5), "tau": (float, 50.0), "phi": (str, "tanh"), "substeps": (int | None, None), "steps": (int, 1000),
    "lr": (float, 0.05), "weight_lr": (float | None, None), "lr_min": (float, 0.0), "schedule": (str, "cosine"),
    "clip_grad": (float, 1.0), "holdout": (str, "auto"), "holdout_block": (int, 5), "n_shuffles": (int, 100),
    "dtype": (str, "float64"), "seed": (int, 0),
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
    "recording": RECORDING_KEYS, "preprocess": PREPROCESS_KEYS, "fit": FIT_KEYS, "compare": COMPARE_KEYS}

COMPARE_DEFAULTS: dict[str, Any] = {k: d for k, (_, d) in COMPARE_KEYS.items()}


def _check_table(name: str, table: Any) -> dict[str, Any]:
    """The table ``name`` with its defaults filled in and every value coerced to its declared type."""
    keys = _TABLES[name]
    table = coerce(table, Mapping, name=name, error=ConfigError)
    for key in table:
        if key not in keys:
            close = suggest(key, list(keys))
            raise ConfigError(f"unknown config key `{name}.{key}`{f'; did you mean {close}?' if close else ''} "
                              f"(valid keys: {', '.join(keys)})")
    if name == "recording":
        return dict(table)  # checked by load_recording
    return {k: coerce(table.get(k, default), hint, name=f"{name}.{k}", error=ConfigError)
            for k, (hint, default) in keys.items()}


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
        ``{"seed", "recording", "preprocess", "fit", "compare"}``; every table
        with its defaults filled in (``fit["seed"]`` is the config's seed).

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
    cfg["fit"]["seed"] = cfg_seed
    from neurobias.circuit import PHI_NAMES  # the choice lists, from the modules that own them
    from neurobias.fitting.estimator import READOUTS
    from neurobias.recordings.preprocess import MEAN_CENTER_OVER
    from neurobias.training.model import MODES
    from neurobias.training.schedule import SCHEDULES

    for key, choices in {"preprocess.mean_center": ("none", *MEAN_CENTER_OVER), "fit.mode": MODES,
                         "fit.readout": READOUTS, "fit.phi": PHI_NAMES, "fit.schedule": SCHEDULES}.items():
        table, name = key.split(".")
        check_choice(key, cfg[table][name], choices, error=ConfigError)
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

    Keys holding None (their default, which TOML cannot spell) are left out.
    """
    return toml_document({**cfg, "fit": {k: v for k, v in cfg["fit"].items() if k != "seed"}})

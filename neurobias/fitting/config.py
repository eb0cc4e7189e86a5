"""The TOML config of ``neurobias fit-recordings``: how to read, preprocess, fit and compare a recording.

Four tables, every key optional (defaults below)::

    seed = 0
    [recording]     # options of neurobias.recordings.load_recording (format, rate, axes, time, ...)
    [preprocess]    # trim, smooth_ms, condition_average, soft_normalize, mean_center, pca_components
    [fit]           # TonicFit hyperparameters (n_units, mode, readout, learn_x0, g, tau, steps, lr, holdout, ...)
    [compare]       # metrics, n_shuffles, dsa_shuffles, n_components, fp_candidates

Unknown tables or keys, and values of the wrong type, raise ConfigError
naming them. ``--set fit.steps=200`` style overrides are applied on top.
"""
from __future__ import annotations

import inspect
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from neurobias.errors import ConfigError

__all__ = ["PREPROCESS_DEFAULTS", "COMPARE_DEFAULTS", "load_fit_config", "fit_config_to_toml", "parse_override"]

PREPROCESS_DEFAULTS: dict[str, Any] = {
    "trim": True,  # cut NaN-padded trials to their common length
    "smooth_ms": 0.0,  # Gaussian smoothing width (0: none)
    "condition_average": False,  # fit condition averages only (no split-half noise ceiling)
    "soft_normalize": 0.0,  # soft normalisation constant in the recording's units (0: none)
    "mean_center": "none",  # none, all (per-neuron mean) or condition (cross-condition mean, averages only)
    "pca_components": 0,  # PCA denoising (0: none)
}
COMPARE_DEFAULTS: dict[str, Any] = {
    "metrics": ["r2", "cca", "shape", "rsa", "dsa", "rotation", "fixed_points"],
    "n_shuffles": 100,
    "dsa_shuffles": 5,
    "n_components": 10,
    "fp_candidates": 64,
}
_TYPE_NAMES = {int: "an integer", float: "a number", bool: "true or false", str: "a string", list: "a list"}
_OPTIONAL_FLOATS = {"weight_lr"}  # default None (omitted from the TOML text), else a float
_RECORDING_KEYS = {"format", "rate", "axes", "time", "bin_ms", "t0_ms", "time_scale", "conditions", "neurons",
                   "lengths", "units", "citation", "licence", "behaviour", "allow_nan", "event", "window_ms"}


def _fit_defaults() -> dict[str, Any]:
    from neurobias.fitting.estimator import TonicFit

    params = inspect.signature(TonicFit.__init__).parameters
    return {k: p.default for k, p in params.items()
            if k not in ("self", "circuit", "conditions", "units", "device", "progress")}


def _check_table(name: str, table: Any, defaults: dict[str, Any] | None, allowed: set[str] | None = None) -> dict:
    if not isinstance(table, dict):
        raise ConfigError(f"[{name}] must be a table; got {type(table).__name__}")
    keys = set(defaults) if defaults is not None else (allowed or set())
    unknown = sorted(set(table) - keys)
    if unknown:
        raise ConfigError(f"unknown key(s) in [{name}]: {unknown}; valid keys: {sorted(keys)}")
    out = dict(defaults or {})
    for k, v in table.items():
        if defaults is not None and defaults[k] is None and k in _OPTIONAL_FLOATS:
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise ConfigError(f"[{name}] {k} must be a number; got {v!r}")
            v = float(v)
        elif defaults is not None and defaults[k] is not None:
            want = type(defaults[k])
            ok = isinstance(v, want) and not (isinstance(v, bool) and want is not bool)
            if want is float and isinstance(v, int) and not isinstance(v, bool):
                v, ok = float(v), True
            if not ok:
                raise ConfigError(f"[{name}] {k} must be {_TYPE_NAMES.get(want, want.__name__)}; got {v!r}")
        out[k] = v
    return out


def parse_override(text: str) -> tuple[str, str, Any]:
    """``"fit.steps=200"`` -> ``("fit", "steps", 200)`` (the value is a TOML literal or a bare string)."""
    if "=" not in text or "." not in text.split("=", 1)[0]:
        raise ConfigError(f"an override must look like TABLE.KEY=VALUE (e.g. fit.steps=200); got {text!r}")
    key, raw = text.split("=", 1)
    table, name = key.strip().split(".", 1)
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return table, name, value


def load_fit_config(path: str | Path | None, *, overrides: Sequence[str] = (), seed: int | None = None,
                    text: str | None = None) -> dict:
    """Read and check a fit config; returns ``{"seed", "recording", "preprocess", "fit", "compare"}``.

    ``text`` (TOML) is read instead of ``path`` when given (e.g. the config stored in ``fit.nc``).

    Raises
    ------
    ConfigError
        Unreadable TOML, unknown tables or keys, wrong types.
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
    for text in overrides:
        table, name, value = parse_override(text)
        raw.setdefault(table, {})
        if not isinstance(raw[table], dict):
            raise ConfigError(f"cannot override {text!r}: {table!r} is not a table")
        raw[table][name] = value
    unknown = sorted(set(raw) - {"seed", "recording", "preprocess", "fit", "compare"})
    if unknown:
        raise ConfigError(f"unknown table(s) or key(s) {unknown}; valid: seed, [recording], [preprocess], [fit], "
                          f"[compare]")
    cfg_seed = raw.get("seed", 0) if seed is None else seed
    if isinstance(cfg_seed, bool) or not isinstance(cfg_seed, int) or cfg_seed < 0:
        raise ConfigError(f"seed must be an integer >= 0; got {cfg_seed!r}")
    fit = _check_table("fit", raw.get("fit", {}), _fit_defaults())
    fit["seed"] = cfg_seed
    cfg = {
        "seed": cfg_seed,
        "recording": _check_table("recording", raw.get("recording", {}), None, _RECORDING_KEYS),
        "preprocess": _check_table("preprocess", raw.get("preprocess", {}), PREPROCESS_DEFAULTS),
        "fit": fit,
        "compare": _check_table("compare", raw.get("compare", {}), COMPARE_DEFAULTS),
    }
    if cfg["preprocess"]["mean_center"] not in ("none", "all", "condition"):
        raise ConfigError(f"[preprocess] mean_center must be none, all or condition; got "
                          f"{cfg['preprocess']['mean_center']!r}")
    return cfg


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + " }"
    return repr(v)


def fit_config_to_toml(cfg: dict) -> str:
    """The resolved config as TOML text (stored in ``fit.nc``; reading it back gives the same config)."""
    lines = [f"seed = {cfg['seed']}"]
    for table in ("recording", "preprocess", "fit", "compare"):
        lines.append(f"\n[{table}]")
        for k, v in cfg[table].items():
            if (table == "fit" and k == "seed") or v is None:  # None: the default, which TOML cannot spell
                continue
            lines.append(f"{k} = {_toml_value(v)}")
    return "\n".join(lines) + "\n"

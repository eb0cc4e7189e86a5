"""Configs: the run config (``neurobias run``), the fit config (``neurobias fit-recordings``) and their TOML.

Every config is read with one type engine (:func:`neurobias.errors.coerce`)
and one ``--set KEY=VALUE`` parser (:func:`parse_override`); choice lists
come from the modules that own the concepts.

- :mod:`neurobias.config.run`: :class:`RunConfig` and its sections,
  :func:`load_config`, :func:`apply_overrides`, :func:`config_to_toml`, ...
- :mod:`neurobias.config.fit`: :func:`load_fit_config`, :func:`fit_config_to_toml`.
- :mod:`neurobias.config.literals`: :func:`parse_value`, :func:`parse_override`,
  :func:`toml_literal`.
"""
from __future__ import annotations

from neurobias.config.literals import parse_override, parse_value, toml_literal
from neurobias.config.run import (
    SECTIONS,
    CircuitConfig,
    FrozenParams,
    OutputConfig,
    RunConfig,
    SimulationConfig,
    TaskConfig,
    TonicConfig,
    TrainingConfig,
    apply_overrides,
    config_from_dict,
    config_from_toml,
    config_to_dict,
    config_to_toml,
    default_config,
    load_config,
    task_param_hints,
)

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
    "parse_value",
    "parse_override",
    "toml_literal",
]

"""Configs: the run config (``neurobias run``), the fit config (``neurobias fit-recordings``) and their TOML.

Every config is read with one type engine (:func:`neurobias.errors.coerce`)
and one ``--set KEY=VALUE`` parser (:func:`parse_override`); choice lists
come from the modules that own the concepts.

- :mod:`neurobias.config.run`: :class:`RunConfig` and its sections,
  :func:`load_config`, :func:`apply_overrides`, :func:`config_to_toml`, ...
- :mod:`neurobias.config.fit`: :func:`load_fit_config`, :func:`fit_config_to_toml`.
- :mod:`neurobias.config.literals`: :func:`parse_value`, :func:`parse_override`,
  :func:`toml_literal`, :func:`toml_document`.
"""
from __future__ import annotations

from neurobias.config import literals, run
from neurobias.config.literals import *  # noqa: F403  (the names of __all__ below)
from neurobias.config.run import *  # noqa: F403

__all__ = [*run.__all__, *literals.__all__]

"""Reproduction of Williams et al. (2024), "Expressivity of neural networks with random weights and learned biases".

:func:`reproduce` runs the experiments of :data:`EXPERIMENTS` at a size of
:mod:`~neurobias.reproduce.settings` and writes figures and the ``williams``
section of a results document (``neurobias reproduce`` on the command
line).  The experiments themselves live in
:mod:`~neurobias.reproduce.feedforward_experiments` and
:mod:`~neurobias.reproduce.recurrent_experiments`, the 3-bit flip-flop (many stable
fixed points) in :mod:`~neurobias.reproduce.flipflop`; closed-loop forecasting
in :mod:`~neurobias.reproduce.forecast`.  Every claim's criterion is declared in
:data:`~neurobias.reproduce.criteria.CRITERIA`; verdicts come from it alone.
"""
from __future__ import annotations

import importlib
from typing import Any

# imported on first use, so that `neurobias --help` (which reads the settings) stays fast
_LAZY = {
    "reproduce": "driver", "render": "driver", "EXPERIMENTS": "driver", "SECTION_KEY": "driver",
    "Claim": "outcome", "Outcome": "outcome",
    "CRITERIA": "criteria", "Criterion": "criteria", "Revision": "criteria", "judge": "criteria",
    "Settings": "settings", "SETTINGS": "settings", "get_settings": "settings",
}

__all__ = ["reproduce", "render", "EXPERIMENTS", "SECTION_KEY", "Claim", "Outcome", "Settings", "SETTINGS",
           "get_settings", "CRITERIA", "Criterion", "Revision", "judge"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'neurobias.reproduce' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"neurobias.reproduce.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

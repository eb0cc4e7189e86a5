"""Reproduction of Williams et al. (2024), "Expressivity of neural networks with random weights and learned biases".

:func:`reproduce` runs the experiments of :data:`EXPERIMENTS` at a size of
:mod:`~neurobias.reproduce.settings` and writes figures and the ``williams``
section of a results document (``neurobias reproduce`` on the command
line).  The experiments themselves live in
:mod:`~neurobias.reproduce.feedforward_experiments` and
:mod:`~neurobias.reproduce.recurrent_experiments`; closed-loop forecasting
in :mod:`~neurobias.reproduce.forecast`.
"""
from neurobias.reproduce.driver import EXPERIMENTS, SECTION_KEY, render, reproduce
from neurobias.reproduce.outcome import Claim, Outcome
from neurobias.reproduce.settings import SETTINGS, Settings, get_settings

__all__ = ["reproduce", "render", "EXPERIMENTS", "SECTION_KEY", "Claim", "Outcome", "Settings", "SETTINGS",
           "get_settings"]

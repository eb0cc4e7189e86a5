"""Fitting circuits to recordings: :class:`TonicFit`, :func:`fit_recordings`, and the context fit.

:class:`ContextFit` gives each context one tonic input shared by its conditions
(stimuli through input weights) and predicts unseen conditions;
:func:`cross_validate` scores it and its baselines (:class:`LowRankContextFit`,
:class:`ConditionTonicFit`, :class:`LinearDynamicalFit`) on held-out
conditions, time or trials against a named noise ceiling.
"""
from neurobias.fitting.baselines import ConditionTonicFit, LinearDynamicalFit
from neurobias.fitting.context_fit import ContextFit, LowRankContextFit
from neurobias.fitting.crossval import cross_validate
from neurobias.fitting.estimator import READOUTS, TonicFit
from neurobias.fitting.fit import fit_recordings, fit_to_dataset
from neurobias.fitting.splits import condition_folds

__all__ = ["TonicFit", "fit_recordings", "fit_to_dataset", "READOUTS", "ContextFit", "LowRankContextFit",
           "ConditionTonicFit", "LinearDynamicalFit", "cross_validate", "condition_folds"]

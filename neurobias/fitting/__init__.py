"""Fitting circuits to recordings: :class:`TonicFit` and :func:`fit_recordings`."""
from neurobias.fitting.estimator import READOUTS, TonicFit
from neurobias.fitting.fit import fit_recordings, fit_to_dataset

__all__ = ["TonicFit", "fit_recordings", "fit_to_dataset", "READOUTS"]

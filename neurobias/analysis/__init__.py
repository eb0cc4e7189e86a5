"""Analyses: pure functions, xarray in and out, no file I/O, no plotting.

* :func:`find_fixed_points`: fixed points and slow points of a circuit in each
  context, with their spectra and stability; :func:`initial_candidates` and
  :func:`classify_states` let another search engine start from the same states
  and be judged by the same rules.
* :func:`find_periodic_orbits`, :func:`continue_periodic_orbits`: limit
  cycles of each context (Newton shooting, Floquet multipliers) and their
  continuation between contexts.
* :func:`neurobias.analysis.hopf.first_lyapunov_coefficient`: whether a Hopf
  point is supercritical or subcritical (the fixed-point continuation stores it
  for each Hopf point as ``bif_lyapunov``).
* :func:`expected_jaccard`, :func:`set_overlap`, :func:`shuffled_correlation`
  (:mod:`neurobias.analysis.unit_sets`): overlaps of sets of units and
  correlations across units, against chance.
* :mod:`neurobias.analysis.references`: circuits whose fixed points are known
  exactly (:func:`multistable_chain`, :func:`mirrored_multistable` (dense),
  :func:`saddle_node_ghost`) and
  :func:`match_fixed_points`.
"""
from neurobias.analysis.fixed_points import classify_states, find_fixed_points, initial_candidates
from neurobias.analysis.periodic_orbits import continue_periodic_orbits, find_periodic_orbits
from neurobias.analysis.references import (
    KnownFixedPoints,
    fold_bias,
    fold_point,
    match_fixed_points,
    mirrored_multistable,
    multistable_chain,
    saddle_node_ghost,
)
from neurobias.analysis.unit_sets import (
    SetOverlap,
    ShuffledCorrelation,
    expected_jaccard,
    set_overlap,
    shuffled_correlation,
)

__all__ = [
    "find_fixed_points",
    "initial_candidates",
    "classify_states",
    "find_periodic_orbits",
    "continue_periodic_orbits",
    "KnownFixedPoints",
    "multistable_chain",
    "mirrored_multistable",
    "saddle_node_ghost",
    "fold_bias",
    "fold_point",
    "match_fixed_points",
    "expected_jaccard",
    "set_overlap",
    "SetOverlap",
    "shuffled_correlation",
    "ShuffledCorrelation",
]

"""Analyses: pure functions, xarray in and out, no file I/O, no plotting.

* :func:`find_fixed_points`: fixed points and slow points of a circuit in each
  context, with their spectra and stability; :func:`initial_candidates` and
  :func:`classify_states` let another search engine start from the same states
  and be judged by the same rules.
* :mod:`neurobias.analysis.references`: circuits whose fixed points are known
  exactly (:func:`multistable_chain`, :func:`saddle_node_ghost`) and
  :func:`match_fixed_points`.
"""
from neurobias.analysis.fixed_points import classify_states, find_fixed_points, initial_candidates
from neurobias.analysis.references import (
    KnownFixedPoints,
    fold_bias,
    fold_point,
    match_fixed_points,
    multistable_chain,
    saddle_node_ghost,
)

__all__ = [
    "find_fixed_points",
    "initial_candidates",
    "classify_states",
    "KnownFixedPoints",
    "multistable_chain",
    "saddle_node_ghost",
    "fold_bias",
    "fold_point",
    "match_fixed_points",
]

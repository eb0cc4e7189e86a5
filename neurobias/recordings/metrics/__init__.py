"""Model-vs-data metrics: pure functions, trajectories in, Dataset (with a null) out.

=====================  ==============================================  ==========================
function               what                                           null
=====================  ==============================================  ==========================
``r2``                 R² per neuron and overall                       conditions permuted
``cca_similarity``     mean canonical correlation on top PCs           conditions permuted
``shape_distance``     angular Procrustes distance (Williams 2021)     conditions permuted
``rsa``                Spearman of condition RDMs                      conditions permuted
``dsa_distance``       Dynamical Similarity Analysis (Ostrow 2023)     conditions permuted per bin
``rotation_strength``  jPCA-style rotation (Churchland 2012)           conditions permuted per bin
=====================  ==============================================  ==========================

``shuffle_conditions`` is the null of the first four (the conditions of an
array of shape (condition, ...) permuted, a derangement when possible), for
callers that build their own null.
"""
from neurobias.recordings.metrics._common import shuffle_conditions
from neurobias.recordings.metrics.cca import cca_similarity
from neurobias.recordings.metrics.dsa import dsa_distance
from neurobias.recordings.metrics.r2 import r2
from neurobias.recordings.metrics.rotation import rotation_strength
from neurobias.recordings.metrics.rsa import rsa
from neurobias.recordings.metrics.shape import shape_distance

__all__ = ["r2", "cca_similarity", "shape_distance", "rsa", "dsa_distance", "rotation_strength", "shuffle_conditions"]

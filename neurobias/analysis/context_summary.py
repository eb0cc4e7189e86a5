"""One table of how the contexts differ: :func:`summarize_contexts`.

Gathers, per context and per pair of contexts, the headline numbers of the
other analyses (performance, tonic inputs, effective gain, fixed-point
structure) into one Dataset with dims ``(context,)`` and ``(context, context_b)``.
It computes nothing itself: every number comes from
:func:`~neurobias.analysis.tonic_patterns.tonic_similarity`,
:func:`~neurobias.analysis.gain.effective_gain` and
:func:`~neurobias.analysis.fixed_point_comparison.compare_fixed_point_structure`.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from neurobias.analysis.fixed_point_comparison import (
    check_threshold,
    check_rank,
    as_fixed_points,
    check_against_circuit,
    check_kinds,
    fixed_point_structure,
)
from neurobias.analysis.gain import _check_bank_units, effective_gain
from neurobias.analysis.tonic_patterns import as_bank, tonic_similarity
from neurobias.circuit.circuit import Circuit
from neurobias.errors import InputError, check_instance

__all__ = ["summarize_contexts"]

_FP_PAIR_VARS = ("n_matched", "n_unmatched_a", "n_unmatched_b", "n_stability_changed", "mean_displacement",
                 "max_displacement", "mean_eig_change", "mean_leading_change", "mean_slow_angle")


def summarize_contexts(
    results: xr.Dataset,
    fixed_points: xr.Dataset | None = None,
    *,
    circuit: Circuit | None = None,
    threshold: float | None = None,
    kind: str | Sequence[str] = "fixed",
    gain_threshold: float = 0.5,
) -> xr.Dataset:
    """Summary table per context and per pair of contexts.

    Parameters
    ----------
    results : xarray.Dataset
        A results Dataset (``results.nc``, the output of :func:`neurobias.train`
        + evaluation): ``tonic (context, unit)`` required; ``nmse (context,)``
        and the trajectories ``x (context, trial, time, unit)`` used when present.
    fixed_points : xarray.Dataset, optional
        Output of :func:`neurobias.analysis.find_fixed_points` for these
        contexts (matched by name: the same set of contexts).
    circuit : Circuit, optional
        The trained circuit: enables the effective gain (needs the trajectories
        ``x`` in ``results``) and checks that ``results`` and ``fixed_points``
        belong to it.
    threshold, kind
        Matching options of :func:`~neurobias.analysis.compare_fixed_point_structure`.
    gain_threshold : float
        ``threshold`` of :func:`~neurobias.analysis.effective_gain` (a unit is on
        when ``phi' > gain_threshold * sup phi'``).

    Returns
    -------
    xarray.Dataset
        Coordinates ``context`` (in the order of ``results``), ``context_b``
        (the same names) and, with fixed points, ``stability``.  Always:

        * ``tonic_norm (context,)``: ``|b_c|``, state units;
        * ``tonic_cosine``, ``tonic_distance (context, context_b)``: cosine
          similarity and Euclidean distance of the tonic inputs.

        With ``nmse`` in ``results``: ``nmse (context,)``.  With ``circuit`` (at
        the trial-and-time average state, ``mode="state_mean"``):
        ``on_fraction``, ``spectral_abscissa (context,)`` (largest real part of
        the eigenvalues of ``W_eff``; stable below 1), ``gain_change``,
        ``switched (context, context_b)``.  With ``fixed_points``:
        ``fp_counts (context, stability)``, ``n_points (context,)`` (points of ``kind``) and
        ``n_matched``, ``n_unmatched_a``, ``n_unmatched_b``,
        ``n_stability_changed``, ``mean_displacement``, ``max_displacement``,
        ``mean_eig_change``, ``mean_leading_change``, ``mean_slow_angle
        (context, context_b)`` (slow-subspace angles need eigenvectors in the
        Dataset or ``circuit``).  Variables whose input is missing are left out;
        ``attrs["parts"]`` lists the parts present.

    Raises
    ------
    InputError
        No tonic bank, contexts of ``fixed_points`` other than those of
        ``results``, units that do not match ``circuit``, results or fixed points
        of another circuit.
    """
    if not isinstance(results, xr.Dataset):
        raise InputError(
            "`results` must be a results Dataset with `tonic` (context, unit) (results.nc); "
            f"got {type(results).__name__}"
        )
    bank = as_bank(results, name="results")
    contexts = bank.contexts
    names = contexts.tolist()
    kinds = check_kinds(kind)
    thr = check_threshold(threshold)
    circ = None if circuit is None else check_instance("circuit", circuit, Circuit, what="a neurobias Circuit")
    if circ is not None:
        _check_bank_units(bank, circ)
    parts = ["tonic"]
    pair = ("context", "context_b")
    data: dict[str, Any] = {
        "tonic_norm": (("context",), np.linalg.norm(bank.values, axis=1),
                       {"long_name": "norm of the tonic input", "units": "state units"}),
        "tonic_cosine": tonic_similarity(bank.values, metric="cosine").values,
        "tonic_distance": tonic_similarity(bank.values, metric="euclidean").values,
    }
    data["tonic_cosine"] = (pair, data["tonic_cosine"], {"long_name": "cosine similarity of tonic inputs"})
    data["tonic_distance"] = (pair, data["tonic_distance"], {"long_name": "Euclidean distance of tonic inputs",
                                                             "units": "state units"})
    if "nmse" in results.data_vars:
        nmse = results["nmse"]
        if nmse.dims != ("context",):
            raise InputError(f"`results` variable `nmse` must have dims (context,); got {nmse.dims}")
        data["nmse"] = (("context",), _by_context("results.nmse", nmse, names),
                        {"long_name": "normalised mean squared error"})
        parts.append("nmse")
    coords: dict[str, Any] = {"context": contexts, "context_b": ("context_b", contexts.copy())}
    if circ is not None:
        if "x" not in results.data_vars:
            raise InputError(
                "`results` must contain the trajectories `x` (context, trial, time, unit) for the effective gain "
                "when `circuit` is given"
            )
        gain = effective_gain(circ, results, threshold=gain_threshold)
        g = gain.sel(context=names, context_b=names)
        data["on_fraction"] = (("context",), g["on_fraction"].values, g["on_fraction"].attrs)
        data["spectral_abscissa"] = (("context",), g["spectral_abscissa"].values, g["spectral_abscissa"].attrs)
        data["gain_change"] = (pair, g["gain_change"].values, g["gain_change"].attrs)
        data["switched"] = (pair, g["switched"].values, g["switched"].attrs)
        parts.append("gain")
    if fixed_points is not None:
        points = as_fixed_points(fixed_points)
        if sorted(points.contexts) != sorted(names):
            raise InputError(
                f"`fixed_points` must have the contexts of `results` {names}; got {list(points.contexts)}: "
                "fixed points of another run?"
            )
        if circ is not None:
            check_against_circuit(points, circ, bank)
        n_modes = check_rank("n_modes", 5, points.eig.shape[1], low=1)
        n_slow = check_rank("n_slow", 2, points.n_units, low=0)
        pairs = [(a, b) for i, a in enumerate(names) for b in names[i:]]
        st = fixed_point_structure(points, circ, bank if circ is not None else None, pairs=pairs, threshold=thr,
                                   kinds=kinds, n_modes=n_modes, n_slow=n_slow)
        st = st.sel(context=names, context_b=names)
        data["fp_counts"] = (("context", "stability"), st["counts"].values, st["counts"].attrs)
        data["n_points"] = (("context",), st["n_points"].values, st["n_points"].attrs)
        for name in _FP_PAIR_VARS:
            data[name] = (pair, st[name].values, st[name].attrs)
        coords["stability"] = st["stability"].values
        parts.append("fixed_points")
    return xr.Dataset(data, coords=coords, attrs={"parts": parts, "kind": list(kinds)})


def _by_context(name: str, da: xr.DataArray, names: list[str]) -> np.ndarray:
    """Values of a (context,) DataArray in the order ``names`` (by name when labelled)."""
    if "context" not in da.coords:
        if da.sizes["context"] != len(names):
            raise InputError(f"`{name}` must have {len(names)} contexts; got {da.sizes['context']}")
        return np.asarray(da.values, dtype=np.float64)
    got = [str(c) for c in da["context"].values]
    if sorted(got) != sorted(names):
        raise InputError(f"`{name}` must have the contexts {names}; got {got}")
    return np.asarray(da.values, dtype=np.float64)[[got.index(c) for c in names]]

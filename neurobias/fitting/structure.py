"""Fixed-point structure of a fitted circuit, per condition."""
from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from neurobias.circuit.circuit import Circuit

__all__ = ["fixed_point_structure"]


def fixed_point_structure(circuit: Circuit, tonic: Any, *, conditions: Any, final_states: Any = None,
                          n_candidates: int = 64, seed: int = 0) -> xr.Dataset:
    """Summarise the fixed points of each condition's tonic input.

    Uses :func:`neurobias.find_fixed_points` (``F(x) = 0`` for the flow).

    Parameters
    ----------
    circuit : Circuit
        The fitted circuit.
    tonic : array_like of shape (condition, unit)
    conditions : sequence of str
    final_states : array_like of shape (condition, unit), optional
        States at the end of each condition's fitted trajectory; the fixed
        point nearest to it is the condition's *end point*.
    n_candidates : int
    seed : int

    Returns
    -------
    xarray.Dataset
        Per ``condition``: ``n_fixed_points``, ``n_stable``; at the end point
        (or the first stable point when ``final_states`` is None):
        ``end_leading_real (1/ms)``, ``end_frequency_hz`` (largest ``|Im λ| / 2π``
        among the 10 eigenvalues with the largest real part), ``end_distance``
        (state units, from the final state).
    """
    from neurobias.analysis.fixed_points import find_fixed_points

    names = [str(c) for c in conditions]
    fps = find_fixed_points(circuit, np.asarray(tonic, dtype=np.float64), contexts=names, n_candidates=n_candidates,
                            seed=seed, explore_rounds=2)
    fixed = fps.where(fps["kind"] == "fixed", drop=True) if fps.sizes["fp"] else fps
    ctx = np.asarray(fixed["context"].values).astype(str) if fixed.sizes["fp"] else np.array([], str)
    stab = np.asarray(fixed["stability"].values).astype(str) if fixed.sizes["fp"] else np.array([], str)
    n_fp = np.array([np.sum(ctx == c) for c in names])
    n_stable = np.array([np.sum((ctx == c) & (stab == "stable")) for c in names])
    lead = np.full(len(names), np.nan)
    freq = np.full(len(names), np.nan)
    dist = np.full(len(names), np.nan)
    ends = None if final_states is None else np.asarray(final_states, dtype=np.float64)
    for i, c in enumerate(names):
        idx = np.flatnonzero(ctx == c)
        if idx.size == 0:
            continue
        x = fixed["x"].values[idx]
        if ends is not None:
            d = np.linalg.norm(x - ends[i], axis=1)
            j = int(np.argmin(d))
            dist[i] = d[j]
        else:
            stable = np.flatnonzero(stab[idx] == "stable")
            j = int(stable[0]) if stable.size else 0
        ev_re = fixed["eig_real"].values[idx[j]]
        ev_im = fixed["eig_imag"].values[idx[j]]
        lead[i] = ev_re[0]
        lead_im = np.abs(ev_im[:10])
        lead_im = lead_im[np.isfinite(lead_im)]  # a partial spectrum (matrix-free) ends in NaN
        freq[i] = (lead_im.max() if lead_im.size else np.nan) * 1000.0 / (2 * np.pi)
    return xr.Dataset(
        {"n_fixed_points": (("condition",), n_fp, {"long_name": "fixed points of the condition's tonic input",
                                                    "units": "1"}),
         "n_stable": (("condition",), n_stable, {"long_name": "stable fixed points of the condition", "units": "1"}),
         "end_leading_real": (("condition",), lead, {"long_name": "largest real part of the Jacobian's eigenvalues "
                                                                  "at the end point", "units": "1/ms"}),
         "end_frequency_hz": (("condition",), freq, {"long_name": "largest |Im(eigenvalue)| / 2 pi among the 10 "
                                                                  "leading eigenvalues at the end point",
                                                     "units": "Hz"}),
         "end_distance": (("condition",), dist, {"long_name": "distance from the final state of the fitted "
                                                              "trajectory to the end point", "units": "state units"})},
        coords={"condition": ("condition", np.array(names, dtype=object), {"long_name": "condition"})},
    )

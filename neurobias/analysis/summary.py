"""Counts that summarise fixed-point and continuation Datasets (pure: Dataset in, numbers out).

The sentences built from them live in :mod:`neurobias.workflows.prose`.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

__all__ = ["fixed_point_counts", "continuation_events"]


def fixed_point_counts(fixed_points: xr.Dataset) -> xr.Dataset:
    """Counts per context: fixed points, stable ones, saddles, unstable ones, oscillatory ones and slow points.

    Returns
    -------
    xarray.Dataset
        Variables ``n_fixed``, ``n_stable``, ``n_saddle``, ``n_unstable``,
        ``n_marginal``, ``n_oscillatory``, ``n_slow`` of dims (context,).
    """
    ctx = fixed_points["context"].values.astype(str)
    names = list(dict.fromkeys(ctx))
    kind = fixed_points["kind"].values.astype(str)
    stab = fixed_points["stability"].values.astype(str)
    osc = fixed_points["oscillatory"].values.astype(bool) if "oscillatory" in fixed_points else np.zeros(len(ctx), bool)
    out = {}
    for label, sel in (
        ("n_fixed", kind == "fixed"),
        ("n_stable", (kind == "fixed") & (stab == "stable")),
        ("n_saddle", (kind == "fixed") & (stab == "saddle")),
        ("n_unstable", (kind == "fixed") & (stab == "unstable")),
        ("n_marginal", (kind == "fixed") & (stab == "marginal")),
        ("n_oscillatory", (kind == "fixed") & osc),
        ("n_slow", kind == "slow"),
    ):
        out[label] = (("context",), np.array([int((sel & (ctx == c)).sum()) for c in names], dtype=np.int64))
    return xr.Dataset(out, coords={"context": names})


def continuation_events(continuation: xr.Dataset) -> dict[str, Any]:
    """What happened to the branches of a continuation, as numbers.

    Parameters
    ----------
    continuation : xarray.Dataset
        Output of :func:`neurobias.analysis.continuation.continue_fixed_points`.

    Returns
    -------
    dict
        ``n_branch``, ``n_reached_end``, ``n_returned`` (turned back at a fold),
        ``n_stopped`` (any other end), ``n_unreached`` (end points reached by no
        branch), ``bifurcations`` and ``collisions``: lists of ``(kind, s)``
        sorted by ``s`` (the continuation parameter, 0 at the start, 1 at the
        end).  Collisions (an unstable pair of eigenvalues meeting on the real
        axis) change no stability and are kept apart from the bifurcations.
    """
    reasons = continuation["end_reason"].values.astype(str)
    events: list[tuple[str, float]] = []
    if "bif_kind" in continuation:
        events = sorted(((str(k), float(s)) for k, s in zip(continuation["bif_kind"].values,
                                                          continuation["bif_s"].values)), key=lambda e: e[1])
    reached, returned = int((reasons == "reached_end").sum()), int((reasons == "returned_to_start").sum())
    return {"n_branch": int(continuation.sizes["branch"]), "n_reached_end": reached, "n_returned": returned,
            "n_stopped": len(reasons) - reached - returned, "n_unreached": int(continuation.sizes.get("unreached", 0)),
            "bifurcations": [e for e in events if e[0] != "collision"],
            "collisions": [e for e in events if e[0] == "collision"]}

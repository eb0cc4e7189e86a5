"""Plain-language summaries of fixed-point and continuation Datasets (pure: Dataset in, text out)."""
from __future__ import annotations

import numpy as np
import xarray as xr

__all__ = ["fixed_point_counts", "summarize_fixed_points", "summarize_continuation"]


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


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def summarize_fixed_points(fixed_points: xr.Dataset) -> str:
    """One sentence per context: how many fixed points, how many stable, oscillatory instabilities, slow points."""
    counts = fixed_point_counts(fixed_points)
    parts = []
    for c in counts["context"].values:
        row = counts.sel(context=c)
        n, st, osc, slow = (int(row[k]) for k in ("n_fixed", "n_stable", "n_oscillatory", "n_slow"))
        text = f"{c}: {_plural(n, 'fixed point')} ({st} stable"
        if osc:
            text += f", {osc} with an oscillatory leading mode"
        text += ")"
        if slow:
            text += f" and {_plural(slow, 'slow point')}"
        parts.append(text)
    return "; ".join(parts) + "."


def summarize_continuation(continuation: xr.Dataset) -> str:
    """What happens to the fixed points between the two ends of a continuation, in one paragraph."""
    start = continuation.attrs.get("start_label", "start")
    end = continuation.attrs.get("end_label", "end")
    n_branch = continuation.sizes["branch"]
    reasons = continuation["end_reason"].values.astype(str)
    kinds = continuation["bif_kind"].values.astype(str) if "bif_kind" in continuation else np.array([], str)
    s_b = continuation["bif_s"].values if "bif_s" in continuation else np.array([])
    text = (f"Moving the tonic input from {start} to {end}, {_plural(n_branch, 'fixed point')} of {start} "
            f"{'was' if n_branch == 1 else 'were'} followed: {int((reasons == 'reached_end').sum())} reached {end}, "
            f"{int((reasons == 'returned_to_start').sum())} turned back at a fold")
    other = int(((reasons != "reached_end") & (reasons != "returned_to_start")).sum())
    if other:
        text += f", {other} stopped early"
    text += "."
    # a collision (an unstable pair meeting on the real axis) changes no stability: not a bifurcation
    bif = [(k, s) for k, s in zip(kinds, s_b) if k != "collision"]
    collisions = [s for k, s in zip(kinds, s_b) if k == "collision"]
    if bif:
        events = ", ".join(f"{k.replace('_', ' ')} at s = {s:.3f}" for k, s in sorted(bif, key=lambda t: t[1]))
        text += f" Bifurcations: {events}."
    else:
        text += " No bifurcation was found on the way."
    if collisions:
        text += (" Collisions of an unstable complex pair on the real axis (not bifurcations: no stability "
                 f"changes): s = {', '.join(f'{s:.3f}' for s in sorted(collisions))}.")
    n_un = continuation.sizes.get("unreached", 0)
    if n_un:
        text += (f" {_plural(n_un, 'fixed point')} of {end} {'is' if n_un == 1 else 'are'} reached by no branch "
                 f"from {start}.")
    return text

"""Sentences for the commands' summaries: fixed points and continuations in words.

The analyses return numbers (:mod:`neurobias.analysis.summary`); the words
a user reads are written here and in :mod:`neurobias.workflows.report`.
"""
from __future__ import annotations

import xarray as xr

from neurobias.analysis.summary import continuation_events, fixed_point_counts

__all__ = ["plural", "summarize_fixed_points", "summarize_continuation"]


def plural(n: int, word: str) -> str:
    """``"1 fixed point"``, ``"2 fixed points"``."""
    return f"{n} {word}" + ("" if n == 1 else "s")


def summarize_fixed_points(fixed_points: xr.Dataset) -> str:
    """One sentence per context: how many fixed points, how many stable, oscillatory instabilities, slow points.

    Parameters
    ----------
    fixed_points : xarray.Dataset
        Output of :func:`neurobias.analysis.find_fixed_points`.

    Returns
    -------
    str
        ``"A: 3 fixed points (2 stable); B: 1 fixed point (1 stable) and 2 slow points."``
    """
    counts = fixed_point_counts(fixed_points)
    parts = []
    for c in counts["context"].values:
        row = counts.sel(context=c)
        n, st, osc, slow = (int(row[k]) for k in ("n_fixed", "n_stable", "n_oscillatory", "n_slow"))
        text = f"{c}: {plural(n, 'fixed point')} ({st} stable"
        if osc:
            text += f", {osc} with an oscillatory leading mode"
        text += ")"
        if slow:
            text += f" and {plural(slow, 'slow point')}"
        parts.append(text)
    return "; ".join(parts) + "."


def summarize_continuation(continuation: xr.Dataset) -> str:
    """What happens to the fixed points between the two ends of a continuation, in one paragraph.

    ``continuation`` is the Dataset of
    :func:`neurobias.analysis.continuation.continue_fixed_points`; the numbers
    come from :func:`neurobias.analysis.summary.continuation_events`.
    Bifurcations (folds, branch points, Hopf points, ...) and collisions of
    unstable eigenvalue pairs (which change no stability) are listed apart.
    """
    start = continuation.attrs.get("start_label", "start")
    end = continuation.attrs.get("end_label", "end")
    ev = continuation_events(continuation)
    n_branch = ev["n_branch"]
    text = (f"Moving the tonic input from {start} to {end}, {plural(n_branch, 'fixed point')} of {start} "
            f"{'was' if n_branch == 1 else 'were'} followed: {ev['n_reached_end']} reached {end}, "
            f"{ev['n_returned']} turned back at a fold")
    if ev["n_stopped"]:
        text += f", {ev['n_stopped']} stopped early"
    text += "."
    if ev["bifurcations"]:
        text += f" Bifurcations: {_events(ev['bifurcations'])}."
    else:
        text += " No bifurcation was found on the way."
    if ev["collisions"]:
        text += (f" Collisions of unstable eigenvalue pairs on the real axis (no change of stability): "
                 f"{_events(ev['collisions'], kind=False)}.")
    n_un = ev["n_unreached"]
    if n_un:
        text += (f" {plural(n_un, 'fixed point')} of {end} {'is' if n_un == 1 else 'are'} reached by no branch "
                 f"from {start}.")
    return text


def _events(events: list[tuple[str, float]], *, kind: bool = True) -> str:
    """``"fold at s = 0.312, hopf at s = 0.500"`` (or ``"s = 0.312, ..."`` without the kind).

    Three decimals, more (up to six) where two different values would otherwise read alike: a folded branch
    can cross the same ``s`` several times, with a bifurcation on each sheet.
    """
    values = sorted({float(s) for _, s in events})
    digits = 3
    while digits < 6 and len({f"{v:.{digits}f}" for v in values}) < len(values):
        digits += 1
    return ", ".join(f"{k.replace('_', ' ') + ' at ' if kind else ''}s = {s:.{digits}f}" for k, s in events)

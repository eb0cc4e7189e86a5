"""Figures of limit cycles: the orbits in principal-component space, and cycles along a continuation."""
from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from neurobias.plotting._common import FULL_WIDTH, colours, new_figure, require
from neurobias.plotting.bifurcation import plot_bifurcation

__all__ = ["plot_orbits", "plot_cycle_diagram", "plot_cycle_frequency"]


def plot_orbits(periodic_orbits: xr.Dataset, *, ax: Axes | None = None) -> Axes:
    """Every found orbit projected on the first two principal components of all orbits together.

    Parameters
    ----------
    periodic_orbits : xarray.Dataset
        Output of :func:`neurobias.analysis.find_periodic_orbits`.
    ax : Axes, optional

    Returns
    -------
    Axes
        One closed curve per converged orbit, labelled with its context and
        period; a dot marks phase 0 (the section).
    """
    ds = require(periodic_orbits, {"x": ("orbit", "phase", "unit"), "period": ("orbit",),
                                   "converged": ("orbit",)}, "plot_orbits")
    if ax is None:
        ax = new_figure(FULL_WIDTH * 0.6, 4.0).subplots()
    conv = ds["converged"].values.astype(bool)
    x = ds["x"].values[conv]
    names = ds["context"].values.astype(str)[conv] if "context" in ds else np.arange(int(conv.sum())).astype(str)
    periods = ds["period"].values[conv]
    if len(x):
        pts = x.reshape(-1, x.shape[-1])
        mean = pts.mean(axis=0)
        if pts.shape[1] >= 2:
            _, sv, vt = np.linalg.svd(pts - mean, full_matrices=False)
            axes = vt[:2]
            share = sv[:2] ** 2 / max(float((sv ** 2).sum()), 1e-300)
        else:
            axes, share = np.array([[1.0]]), np.array([1.0])
        for orbit, name, T, col in zip(x, names, periods, colours(len(x))):
            proj = (orbit - mean) @ axes.T
            closed = np.vstack([proj, proj[:1]])
            yy = closed[:, 1] if closed.shape[1] > 1 else np.zeros(len(closed))
            ax.plot(closed[:, 0], yy, color=col, lw=1.6, label=f"{name}: T = {T:.1f} ms ({1000 / T:.2f} Hz)")
            ax.plot(closed[0, 0], yy[0], "o", color=col, ms=4)
        ax.set_xlabel(f"PC 1 ({100 * share[0]:.0f} %)")
        ax.set_ylabel(f"PC 2 ({100 * share[1]:.0f} %)" if len(share) > 1 else "")
        ax.legend(fontsize=8, frameon=True, framealpha=0.85, loc="best")
    else:
        ax.text(0.5, 0.5, "no periodic orbit found", ha="center", va="center", transform=ax.transAxes)
    ax.set_title("limit cycles", fontsize=10)
    ax.grid(alpha=0.3)
    return ax


def plot_cycle_diagram(continuation: xr.Dataset, cycles: xr.Dataset, *, fig: Figure | None = None) -> Figure:
    """The fixed-point bifurcation diagram over the frequency and amplitude of the cycles against ``s``.

    Parameters
    ----------
    continuation : xarray.Dataset
        Output of :func:`neurobias.analysis.continue_fixed_points`.
    cycles : xarray.Dataset
        Output of :func:`neurobias.analysis.continue_periodic_orbits` on the same path.
    fig : Figure, optional
        Drawn into (two rows sharing ``s``); default a new figure.

    Returns
    -------
    Figure
        Top: :func:`plot_bifurcation`.  Bottom: :func:`plot_cycle_frequency`
        (frequency and amplitude of each cycle branch, with the Hopf points of
        the fixed-point branches as vertical lines).
    """
    cyc = require(cycles, {"s": ("branch", "step"), "frequency": ("branch", "step"),
                           "amplitude": ("branch", "step")}, "plot_cycle_diagram")
    if fig is None:
        fig = new_figure(FULL_WIDTH * 0.8, 6.0)
    top, bottom = fig.subplots(2, 1, sharex=True)
    plot_bifurcation(continuation, ax=top)
    plot_cycle_frequency(cyc, continuation, ax=bottom)
    bottom.set_xlabel(top.get_xlabel())
    top.set_xlabel("")
    return fig


def plot_cycle_frequency(cycles: xr.Dataset, continuation: xr.Dataset | None = None, *, ax: Axes | None = None) -> Axes:
    """Frequency (solid) and amplitude (dotted, right axis) of each cycle branch against ``s``.

    Parameters
    ----------
    cycles : xarray.Dataset
        Output of :func:`neurobias.analysis.continue_periodic_orbits`.
    continuation : xarray.Dataset, optional
        Output of :func:`neurobias.analysis.continue_fixed_points` on the same
        path: its Hopf points are drawn as dashed vertical lines.
    ax : Axes, optional

    Returns
    -------
    Axes
        The frequency axes (Hz); the amplitude (state units) is on its twin.
        Where a branch ends at a Hopf point, a circle marks the extrapolated
        end (frequency ``1000 / end_period``, amplitude 0); where its period
        diverges, a cross at frequency 0.  Unstable stretches of a branch are
        dashed; located bifurcations of cycles are marked (square: fold,
        triangle: period doubling, diamond: torus).
    """
    cyc = require(cycles, {"s": ("branch", "step"), "frequency": ("branch", "step"),
                           "amplitude": ("branch", "step")}, "plot_cycle_frequency")
    if ax is None:
        ax = new_figure(FULL_WIDTH * 0.8, 3.2).subplots()
    right = ax.twinx()
    for b, col in zip(range(cyc.sizes["branch"]), colours(max(cyc.sizes["branch"], 1))):
        s, f, a = cyc["s"].values[b], cyc["frequency"].values[b], cyc["amplitude"].values[b]
        ok = np.isfinite(s)
        name = str(cyc["branch_context"].values[b]) if "branch_context" in cyc else f"branch {b}"
        if "n_unstable" in cyc:  # unstable stretches (after a fold of cycles, say) thin and dashed
            stable = cyc["n_unstable"].values[b] == 0
            ax.plot(s[ok], f[ok], "--", color=col, lw=0.9)
            ax.plot(s[ok], np.where(stable[ok], f[ok], np.nan), "-", color=col, lw=1.6,
                    label=f"cycle from {name} (dashed: unstable)" if not stable[ok].all() else f"cycle from {name}")
        else:
            ax.plot(s[ok], f[ok], "-", color=col, lw=1.6, label=f"cycle from {name}")
        right.plot(s[ok], a[ok], ":", color=col, lw=1.4)
        reason = str(cyc["end_reason"].values[b]) if "end_reason" in cyc else ""
        if reason == "hopf":
            s_end, T_end = float(cyc["end_s"].values[b]), float(cyc["end_period"].values[b])
            ax.plot([s_end], [1000.0 / T_end], "o", mfc="none", color=col, ms=6)
            right.plot([s_end], [0.0], "o", mfc="none", color=col, ms=6)
        elif reason == "period_diverges":  # the frequency goes to 0 at end_s
            ax.plot([float(cyc["end_s"].values[b])], [0.0], "x", color=col, ms=7, mew=1.5)
    if "event_kind" in cyc:
        marks = {"fold": ("s", "fold of cycles"), "period_doubling": ("^", "period doubling"),
                 "torus": ("D", "torus bifurcation")}
        shown = set()
        for e, kind in enumerate(cyc["event_kind"].values.astype(str)):
            if kind not in marks or "event_located" not in cyc or not bool(cyc["event_located"].values[e]):
                continue
            b, s_ev = int(cyc["event_branch"].values[e]), float(cyc["event_s"].values[e])
            row = np.flatnonzero(np.abs(cyc["s"].values[b] - s_ev) <= 1e-12)  # the located point on the branch
            if not len(row):
                continue
            ax.plot([s_ev], [float(cyc["frequency"].values[b, row[0]])], marks[kind][0], color="k", mfc="none",
                    ms=6, label=None if kind in shown else marks[kind][1])
            shown.add(kind)
    if continuation is not None and "bif_kind" in continuation:
        for s_h in continuation["bif_s"].values[continuation["bif_kind"].values.astype(str) == "hopf"]:
            ax.axvline(float(s_h), color="tab:orange", lw=0.8, ls="--")
    start, end = cyc.attrs.get("start_label", "start"), cyc.attrs.get("end_label", "end")
    ax.set_xlabel(f"s (tonic input: {start} at 0 \u2192 {end} at 1)")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylabel("frequency (Hz)")
    right.set_ylabel("amplitude (dotted)")
    ax.legend(fontsize=8, frameon=False, loc="best")
    ax.grid(alpha=0.3)
    ax.set_title("limit cycles along the path (dashed: Hopf points of the fixed points)", fontsize=10)
    return ax

"""Figures of fixed points: positions on the trajectories' principal components, and spectra."""
from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from neurobias.errors import InputError
from neurobias.plotting._common import FULL_WIDTH, grid_shape, new_figure, require

__all__ = ["plot_fixed_points", "plot_spectra", "STABILITY_COLOURS"]

#: colour of each stability class
STABILITY_COLOURS = {"stable": "tab:blue", "saddle": "tab:orange", "unstable": "tab:red", "marginal": "tab:gray"}


def _contexts(fixed_points: xr.Dataset, trajectories: xr.Dataset | None) -> list[str]:
    if trajectories is not None and "context" in trajectories.coords:
        return [str(c) for c in trajectories["context"].values]
    return list(dict.fromkeys(str(c) for c in fixed_points["context"].values))


def _panels(n: int, height_each: float = 2.6) -> tuple[Figure, list]:
    rows, cols = grid_shape(n, max_cols=3)
    fig = new_figure(FULL_WIDTH, height_each * rows + 0.4)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel().tolist()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def plot_fixed_points(fixed_points: xr.Dataset, trajectories: xr.Dataset | None = None) -> Figure:
    """Fixed and slow points of each context on the first two principal components of its trajectories.

    Parameters
    ----------
    fixed_points : xarray.Dataset
        Output of :func:`neurobias.analysis.find_fixed_points` (flat ``fp`` dim
        with a ``context`` coordinate).
    trajectories : xarray.Dataset, optional
        With ``x (context, trial, time, unit)`` (e.g. ``results.nc``): drawn in
        grey, and their principal components (per context, a display choice)
        define the axes.  Without it, the fixed points' own components are used.

    Returns
    -------
    Figure
        One panel per context; fixed points coloured by stability, slow points
        as small hollow circles.
    """
    fp = require(fixed_points, {"x": ("fp", "unit"), "stability": ("fp",), "kind": ("fp",)}, "plot_fixed_points")
    if trajectories is not None:
        require(trajectories, {"x": ("context", "trial", "time", "unit")}, "plot_fixed_points")
    contexts = _contexts(fp, trajectories)
    fig, axes = _panels(len(contexts))
    fp_ctx = fp["context"].values.astype(str)
    for ax, ctx in zip(axes, contexts):
        pts = fp["x"].values[fp_ctx == ctx]
        if trajectories is not None:
            traj = trajectories["x"].sel(context=ctx).transpose("trial", "time", "unit").values
            flat = traj.reshape(-1, traj.shape[-1])
        else:
            traj, flat = None, pts
        mean = flat.mean(axis=0) if len(flat) else np.zeros(fp.sizes["unit"])
        if len(flat) >= 2 and flat.shape[1] >= 2:
            _, _, vt = np.linalg.svd(flat - mean, full_matrices=False)
            basis = vt[:2].T if vt.shape[0] >= 2 else np.eye(flat.shape[1])[:, :2]
        else:
            basis = np.eye(fp.sizes["unit"])[:, : min(2, fp.sizes["unit"])]
        if basis.shape[1] < 2:
            basis = np.concatenate([basis, np.zeros((basis.shape[0], 2 - basis.shape[1]))], axis=1)
        if traj is not None:
            for trial in traj:
                p = (trial - mean) @ basis
                ax.plot(p[:, 0], p[:, 1], color="0.7", lw=0.8, zorder=1)
        sel = fp.isel(fp=np.flatnonzero(fp_ctx == ctx))
        for kind, stab, x in zip(sel["kind"].values, sel["stability"].values, sel["x"].values):
            p = (x - mean) @ basis
            colour = STABILITY_COLOURS.get(str(stab), "k")
            if str(kind) == "fixed":
                ax.plot(p[0], p[1], "o", color=colour, ms=7, mec="k", mew=0.6, zorder=3)
            else:
                ax.plot(p[0], p[1], "o", mfc="none", color=colour, ms=5, zorder=2)
        n_fixed = int((sel["kind"].values == "fixed").sum())
        n_stable = int(((sel["kind"].values == "fixed") & (sel["stability"].values == "stable")).sum())
        ax.set_title(f"{ctx}: {n_fixed} fixed ({n_stable} stable)", fontsize=9, loc="left")
        ax.set_xlabel("PC 1", fontsize=8)
        ax.set_ylabel("PC 2", fontsize=8)
        ax.tick_params(labelsize=7)
    handles = [Line2D([], [], ls="", marker="o", color=c, mec="k", label=k) for k, c in STABILITY_COLOURS.items()]
    handles.append(Line2D([], [], ls="", marker="o", mfc="none", color="k", label="slow point"))
    if trajectories is not None:
        handles.append(Line2D([], [], color="0.7", label="trajectories"))
    fig.legend(handles=handles, loc="outside right upper", fontsize=8, frameon=False)
    return fig


def plot_spectra(fixed_points: xr.Dataset, *, kind: str = "fixed") -> Figure:
    """Eigenvalues of the Jacobian at every fixed point, one complex-plane panel per context.

    Parameters
    ----------
    fixed_points : xarray.Dataset
        Output of :func:`neurobias.analysis.find_fixed_points`.
    kind : {"fixed", "slow"}
        Which points to show.

    Returns
    -------
    Figure
        Real part against imaginary part (1/ms); the dashed line is Re = 0.
    """
    fp = require(fixed_points, {"eig_real": ("fp", "mode"), "eig_imag": ("fp", "mode"), "kind": ("fp",)},
                 "plot_spectra")
    if kind not in ("fixed", "slow"):
        raise InputError(f"`kind` must be 'fixed' or 'slow'; got {kind!r}")
    contexts = _contexts(fp, None)
    fig, axes = _panels(len(contexts), height_each=2.4)
    fp_ctx = fp["context"].values.astype(str)
    for ax, ctx in zip(axes, contexts):
        idx = np.flatnonzero((fp_ctx == ctx) & (fp["kind"].values == kind))
        stab = fp["stability"].values[idx] if "stability" in fp else np.full(len(idx), "")
        for i, st in zip(idx, stab):
            ax.plot(fp["eig_real"].values[i], fp["eig_imag"].values[i], ".", ms=3, alpha=0.7,
                    color=STABILITY_COLOURS.get(str(st), "k"))
        ax.axvline(0.0, color="k", lw=0.8, ls="--")
        ax.set_title(f"{ctx}: {len(idx)} {kind} point(s)", fontsize=9, loc="left")
        ax.set_xlabel("Re \u03bb (1/ms)", fontsize=8)
        ax.set_ylabel("Im \u03bb (1/ms)", fontsize=8)
        ax.tick_params(labelsize=7)
    return fig

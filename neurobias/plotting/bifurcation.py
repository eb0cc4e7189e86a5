"""The bifurcation diagram of a continuation Dataset."""
from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from neurobias.plotting._common import FULL_WIDTH, new_figure, require

__all__ = ["plot_bifurcation"]

_MARKERS = {"fold": ("v", "tab:red"), "branch_point": ("s", "tab:purple"), "hopf": ("*", "tab:orange"),
            "period_doubling": ("D", "tab:brown"), "neimark_sacker": ("P", "tab:pink"),
            "collision": ("d", "tab:gray")}


def _projection(ds: xr.Dataset) -> tuple[np.ndarray, str]:
    """Project every branch point on the first principal direction of all points (display only)."""
    x = ds["x"].values
    pts = x.reshape(-1, x.shape[-1])
    pts = pts[np.isfinite(pts).all(axis=1)]
    if pts.shape[1] == 1 or len(pts) < 2:
        return np.array([1.0]) if pts.shape[1] == 1 else np.eye(pts.shape[1])[0], "x"
    centred = pts - pts.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return vt[0], "projection of x on PC 1 of the branches"


def plot_bifurcation(continuation: xr.Dataset, *, ax: Axes | None = None) -> Axes:
    """Fixed points against the path parameter ``s``, by stability, with bifurcations marked.

    Solid lines: stable (index 0); dashed: unstable (index >= 1); grey dotted:
    spectrum not computed.  Folds (red triangles), branch points (purple
    squares), Hopf points (orange stars), period doubling and Neimark-Sacker
    points of a map (brown diamonds, pink pluses) and collisions of an unstable
    pair on the real axis (grey thin diamonds, not bifurcations) are marked;
    fixed points at ``s = 1`` that no branch reaches are black crosses.

    Parameters
    ----------
    continuation : xarray.Dataset
        Output of :func:`neurobias.analysis.continue_fixed_points`.
    ax : Axes, optional

    Returns
    -------
    Axes
    """
    ds = require(continuation, {"x": ("branch", "step", "unit"), "s": ("branch", "step"),
                                "index": ("branch", "step")}, "plot_bifurcation")
    if ax is None:
        ax = new_figure(FULL_WIDTH * 0.8, 3.6).subplots()
    direction, ylabel = _projection(ds)
    proj = np.einsum("bsu,u->bs", np.nan_to_num(ds["x"].values), direction)
    for b in range(ds.sizes["branch"]):
        s = ds["s"].values[b]
        ok = np.isfinite(s)
        s, y, idx = s[ok], proj[b][ok], ds["index"].values[b][ok]
        labels = ds["label"].values[b][ok] if "label" in ds else np.full(len(s), "")
        # carry the last computed index forward over points without a spectrum
        known = idx.copy()
        for k in range(1, len(known)):
            if known[k] < 0:
                known[k] = known[k - 1]
        for k in range(len(s) - 1):
            # a located bifurcation is a row of the branch: the segment leaving it takes the next point's stability
            j = k + 1 if str(labels[k]) in _MARKERS and known[k + 1] >= 0 else k
            style = "-" if known[j] == 0 else ("--" if known[j] > 0 else ":")
            colour = "tab:blue" if known[j] == 0 else ("tab:gray" if known[j] < 0 else "tab:green")
            ax.plot(s[k:k + 2], y[k:k + 2], style, color=colour, lw=1.6)
    if "bif_kind" in ds:
        for kind, s_b, x_b in zip(ds["bif_kind"].values, ds["bif_s"].values, ds["bif_x"].values):
            marker, colour = _MARKERS.get(str(kind), ("o", "k"))
            ax.plot([s_b], [x_b @ direction], marker, color=colour, ms=9, zorder=5)
    if "unreached_x" in ds and ds.sizes.get("unreached", 0):
        ax.plot(np.ones(ds.sizes["unreached"]), ds["unreached_x"].values @ direction, "x", color="k", ms=8)
    start = ds.attrs.get("start_label", "start")
    end = ds.attrs.get("end_label", "end")
    ax.set_xlabel(f"s (tonic input: {start} at 0 \u2192 {end} at 1)")
    ax.set_ylabel(ylabel)
    ax.set_title(f"fixed points from {start} to {end}", fontsize=10)
    present = set(str(k) for k in ds["bif_kind"].values) if "bif_kind" in ds else set()
    handles = [
        Line2D([], [], color="tab:blue", ls="-", label="stable"),
        Line2D([], [], color="tab:green", ls="--", label="unstable"),
        *[Line2D([], [], ls="", marker=m, color=c, label=k.replace("_", " "))
          for k, (m, c) in _MARKERS.items() if k in present],
    ]
    if ds.sizes.get("unreached", 0):
        handles.append(Line2D([], [], ls="", marker="x", color="k", label="not reached"))
    ax.legend(handles=handles, fontsize=8, loc="best", frameon=False)
    ax.grid(alpha=0.3)
    return ax

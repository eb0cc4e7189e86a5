"""Figures of a context comparison (the ``comparison`` Dataset of :func:`neurobias.compare_contexts`).

* :func:`plot_similarity`: cosine similarity and Euclidean distance of the
  contexts' tonic inputs, as annotated matrices;
* :func:`plot_tonic_pca`: PCA of the tonic-input bank: context scores,
  explained variance, and the participation ratio against its unit-shuffle null;
* :func:`plot_task_variance`: normalised task variance per unit and context,
  units sorted by cluster, with the cluster boundaries;
* :func:`plot_matched`: fixed points of every context on shared axes with
  lines joining the points matched between contexts, and per pair of
  contexts the counts of matched and unmatched points and their displacement.

Each takes the Dataset (read back with ``read_dataset(path, kind="comparison")``)
and returns a new :class:`matplotlib.figure.Figure`; nothing is computed
beyond display choices (orderings and projections for drawing).
"""
from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from neurobias.errors import InputError
from neurobias.plotting._common import FULL_WIDTH, colours, names, new_figure, require

__all__ = ["plot_similarity", "plot_tonic_pca", "plot_task_variance", "plot_matched"]


def _annotate(ax, values: np.ndarray, fmt: str, *, cmap, norm, fontsize: float) -> None:  # noqa: ANN001
    for (i, j), v in np.ndenumerate(values):
        if not np.isfinite(v):
            text, colour = "n/a", "k"
        else:
            r, g, b, _ = cmap(norm(v))
            colour = "white" if 0.299 * r + 0.587 * g + 0.114 * b < 0.5 else "black"
            text = format(v, fmt)
        ax.text(j, i, text, ha="center", va="center", fontsize=fontsize, color=colour)


def _matrix(fig: Figure, ax, values: np.ndarray, labels: list[str], *, cmap_name: str, vmin: float,  # noqa: ANN001
            vmax: float, title: str, cbar: str, fmt: str) -> None:
    from matplotlib.colors import Normalize

    cmap = colormaps[cmap_name].with_extremes(bad="0.85")
    norm = Normalize(vmin=vmin, vmax=vmax)
    image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, norm=norm, interpolation="nearest")
    n = len(labels)
    ax.set_xticks(np.arange(n), labels=labels, rotation=35 if n > 2 else 0, ha="right" if n > 2 else "center",
                  fontsize=8)
    ax.set_yticks(np.arange(n), labels=labels, fontsize=8)
    ax.set_title(title, fontsize=9, loc="left")
    if n <= 12:
        _annotate(ax, values, fmt, cmap=cmap, norm=norm, fontsize=8 if n <= 6 else 6)
    cb = fig.colorbar(image, ax=ax, shrink=0.85)
    cb.set_label(cbar, fontsize=8)
    cb.ax.tick_params(labelsize=7)


def plot_similarity(comparison: xr.Dataset) -> Figure:
    """The contexts' tonic inputs compared pairwise: cosine similarity and Euclidean distance.

    Parameters
    ----------
    comparison : xarray.Dataset
        With ``tonic_cosine`` and ``tonic_distance (context, context_b)``.

    Returns
    -------
    Figure
        Two annotated matrices: cosine on a diverging scale from -1 to 1
        (1: same direction), distance from 0 (state units).
    """
    ds = require(comparison, {"tonic_cosine": ("context", "context_b"), "tonic_distance": ("context", "context_b")},
                 "plot_similarity")
    labels = names(ds["context"])
    n = len(labels)
    cos = np.asarray(ds["tonic_cosine"].transpose("context", "context_b").values, dtype=float)
    dist = np.asarray(ds["tonic_distance"].transpose("context", "context_b").values, dtype=float)
    fig = new_figure(FULL_WIDTH, min(6.0, 2.6 + 0.28 * n))
    ax_c, ax_d = fig.subplots(1, 2)
    _matrix(fig, ax_c, cos, labels, cmap_name="RdBu_r", vmin=-1.0, vmax=1.0, title="cosine similarity of tonic inputs",
            cbar="cosine", fmt=".2f")
    finite = dist[np.isfinite(dist)]
    top = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    _matrix(fig, ax_d, dist, labels, cmap_name="viridis", vmin=0.0, vmax=top, title="Euclidean distance",
            cbar="distance (state units)", fmt=".3g")
    return fig


def plot_tonic_pca(comparison: xr.Dataset) -> Figure:
    """PCA of the tonic-input bank: where each context sits, how the variance splits, and the shuffle null.

    Parameters
    ----------
    comparison : xarray.Dataset
        With ``pca_scores (context, pca_component)``,
        ``pca_explained_variance_ratio (pca_component,)``,
        ``pca_participation_ratio``, ``pca_p_value`` and
        ``pca_null_participation_ratio (pca_shuffle,)``.

    Returns
    -------
    Figure
        Left: context scores on PC1 and PC2 (on PC1 alone with two contexts).
        Middle: fraction of the variance per component, and cumulative.
        Right: histogram of the participation ratio of unit-shuffled banks,
        the observed value as a vertical line.
    """
    ds = require(comparison, {"pca_scores": ("context", "pca_component"),
                              "pca_explained_variance_ratio": ("pca_component",),
                              "pca_participation_ratio": (), "pca_p_value": (),
                              "pca_null_participation_ratio": ("pca_shuffle",)}, "plot_tonic_pca")
    labels = names(ds["context"])
    scores = np.asarray(ds["pca_scores"].transpose("context", "pca_component").values, dtype=float)
    ratio = np.asarray(ds["pca_explained_variance_ratio"].values, dtype=float)
    null = np.asarray(ds["pca_null_participation_ratio"].values, dtype=float)
    pr, p = float(ds["pca_participation_ratio"]), float(ds["pca_p_value"])
    K = ratio.size
    fig = new_figure(FULL_WIDTH, 2.9)
    ax_s, ax_v, ax_n = fig.subplots(1, 3, width_ratios=[1.3, 1.0, 1.1])
    cols = colours(len(labels))
    xs = scores[:, 0] if K >= 1 else np.zeros(len(labels))
    ys = scores[:, 1] if K >= 2 else np.zeros(len(labels))
    for x, y, c, lab in zip(xs, ys, cols, labels):
        ax_s.plot(x, y, "o", color=c, ms=8, mec="k", mew=0.5)
        ax_s.annotate(lab, (x, y), xytext=(4, 4), textcoords="offset points", fontsize=7)
    pct = [f" ({100 * r:.0f}%)" if np.isfinite(r) else "" for r in ratio]
    ax_s.set_xlabel("PC 1" + (pct[0] if K else ""), fontsize=8)
    if K >= 2:
        ax_s.set_ylabel("PC 2" + pct[1], fontsize=8)
    ax_s.axhline(0, color="0.85", lw=0.6, zorder=0)
    ax_s.axvline(0, color="0.85", lw=0.6, zorder=0)
    ax_s.margins(0.25)
    if K < 2:
        ax_s.set_yticks([])
        ax_s.set_ylim(-1.0, 1.0)
    ax_s.set_title("tonic input of each context", fontsize=9, loc="left")

    if K <= 1:
        note = ("With two contexts the centred bank\nhas one direction (their difference):\n"
                "it holds all the variance, and\nthe participation ratio is 1\nwhatever the tonic inputs.")
        for ax in (ax_v, ax_n):
            ax.set_axis_off()
        ax_v.text(0.0, 0.5, note, transform=ax_v.transAxes, fontsize=8, va="center", ha="left")
        ax_s.tick_params(labelsize=7)
        return fig
    comp = np.arange(1, K + 1)
    ax_v.bar(comp, ratio, color="tab:blue", alpha=0.8, label="per component")
    if K:
        ax_v.plot(comp, np.nancumsum(ratio), "k.-", lw=1, label="cumulative")
    ax_v.set_ylim(0, 1.05)
    ax_v.set_xticks(comp)
    ax_v.set_xlabel("principal component", fontsize=8)
    ax_v.set_ylabel("fraction of variance", fontsize=8)
    ax_v.legend(fontsize=7, frameon=False, loc="upper left")
    ax_v.set_title("explained variance", fontsize=9, loc="left")

    finite = null[np.isfinite(null)]
    if finite.size:
        lo, hi = float(min(finite.min(), pr)), float(max(finite.max(), pr))
        bins = np.linspace(lo - 0.05, hi + 0.05, 25) if hi > lo else 10
        counts, _, _ = ax_n.hist(finite, bins=bins, color="0.6", label=f"units shuffled ({finite.size})")
        ax_n.set_ylim(0, 1.45 * float(np.max(counts)))  # room for the legend above the histogram
        # with 3 contexts the ratio lies in [1, 2] and shuffles give ~2: any unequal distances reach the floor p
        ax_n.set_title(f"participation ratio (p = {p:.2g})" if K > 2 else
                       f"participation ratio (no test with {K + 1} contexts)", fontsize=9, loc="left")
    else:
        ax_n.text(0.5, 0.5, "no shuffle null", ha="center", va="center", transform=ax_n.transAxes, fontsize=8)
        ax_n.set_title("participation ratio", fontsize=9, loc="left")
    if np.isfinite(pr):
        ax_n.axvline(pr, color="tab:red", lw=2, label=f"tonic bank ({pr:.2f})")
    ax_n.set_xlabel(f"participation ratio (max {K})", fontsize=8)
    ax_n.set_ylabel("count", fontsize=8)
    if ax_n.get_legend_handles_labels()[0]:  # nothing to label when the ratio and its null are undefined
        ax_n.legend(fontsize=7, loc="upper left", frameon=True, framealpha=0.95, edgecolor="none")
    for ax in (ax_s, ax_v, ax_n):
        ax.tick_params(labelsize=7)
    return fig


def plot_task_variance(comparison: xr.Dataset) -> Figure:
    """Normalised task variance per unit (columns) and context (rows), units grouped by cluster.

    Parameters
    ----------
    comparison : xarray.Dataset
        With ``tv_norm (context, unit)``; ``cluster (unit,)`` (-1: inactive)
        when the units were clustered.

    Returns
    -------
    Figure
        A heat map from 0 to 1 (1: the context where the unit varies most);
        units sorted by cluster, within a cluster by preferred context and
        value; white lines at the cluster boundaries, inactive units last (grey).
    """
    ds = require(comparison, {"tv_norm": ("context", "unit")}, "plot_task_variance")
    labels = names(ds["context"])
    tv = np.asarray(ds["tv_norm"].transpose("context", "unit").values, dtype=float)
    C, N = tv.shape
    if "cluster" in ds:
        cluster = np.asarray(ds["cluster"].values).astype(int)
    else:
        cluster = np.where(np.all(np.isfinite(tv), axis=0), 0, -1)
    filled = np.nan_to_num(tv, nan=-1.0)
    pref = np.argmax(filled, axis=0) if C else np.zeros(N, dtype=int)
    big = cluster.max() + 1 if cluster.size else 0
    key_cluster = np.where(cluster < 0, big, cluster)
    strength = filled[pref, np.arange(N)] - (np.sort(filled, axis=0)[-2] if C > 1 else 0.0)
    order = np.lexsort((-strength, pref, key_cluster))
    shown = tv[:, order]
    fig = new_figure(FULL_WIDTH, min(6.0, 2.0 + 0.32 * C))
    ax = fig.add_subplot()
    cmap = colormaps["magma"].with_extremes(bad="0.8")
    image = ax.imshow(np.ma.masked_invalid(shown), aspect="auto", cmap=cmap, vmin=0.0, vmax=1.0,
                      interpolation="nearest", extent=(-0.5, N - 0.5, C - 0.5, -0.5))
    ax.set_yticks(np.arange(C), labels=labels, fontsize=8)
    sorted_cl = cluster[order]
    ids = [c for c in dict.fromkeys(sorted_cl.tolist())]
    centres, tick_labels = [], []
    for c in ids:
        where = np.flatnonzero(sorted_cl == c)
        start, stop = where[0], where[-1] + 1
        if start > 0:
            ax.axvline(start - 0.5, color="white", lw=1.5)
        centres.append((start + stop - 1) / 2)
        tick_labels.append("inactive" if c < 0 else f"cluster {c}\n({stop - start})")
    sec = ax.secondary_xaxis("top")
    sec.set_xticks(centres, labels=tick_labels, fontsize=7)
    sec.tick_params(length=0)
    k = ds.attrs.get("cluster_k")
    how = f"{k} clusters by {ds.attrs.get('cluster_criterion', 'silhouette')}" if "cluster" in ds else "not clustered"
    ax.set_xlabel(f"unit (n = {N}), sorted by cluster ({how}) and preferred context", fontsize=8)
    across = "over time within a trial" if ds.attrs.get("tv_across") == "time" else "across trials"
    ax.set_title(f"normalised task variance (variance of the rate {across} / its maximum over contexts)",
                 fontsize=9, loc="left", pad=22)
    ax.tick_params(labelsize=7)
    cb = fig.colorbar(image, ax=ax, pad=0.015, fraction=0.05)
    cb.set_label("task variance / max", fontsize=8)
    cb.ax.tick_params(labelsize=7)
    return fig


def plot_matched(comparison: xr.Dataset, fixed_points: xr.Dataset) -> Figure:
    """Fixed points matched between contexts: where they sit, and per pair how many matched and how far they moved.

    Parameters
    ----------
    comparison : xarray.Dataset
        With ``fp_match_a``, ``fp_match_b (fp_match,)`` (``fp`` labels of
        matched points) and ``fp_n_matched``, ``fp_n_unmatched_a``,
        ``fp_n_unmatched_b``, ``fp_mean_displacement (context, context_b)``.
    fixed_points : xarray.Dataset
        The fixed points the comparison was made from (``x (fp, unit)``,
        ``context``, ``kind``, ``stability (fp,)``).

    Returns
    -------
    Figure
        Left: the fixed points of all contexts on the first two principal
        axes of their positions, coloured by context (filled: stable; hollow:
        unstable or saddle), grey lines joining matched points. Right: per
        pair of contexts, matched and unmatched counts and the mean
        displacement of the matched points (state units).
    """
    ds = require(comparison, {"fp_match_a": ("fp_match",), "fp_match_b": ("fp_match",),
                              "fp_n_matched": ("context", "context_b"), "fp_n_unmatched_a": ("context", "context_b"),
                              "fp_n_unmatched_b": ("context", "context_b"),
                              "fp_mean_displacement": ("context", "context_b")}, "plot_matched")
    fp = require(fixed_points, {"x": ("fp", "unit"), "kind": ("fp",), "stability": ("fp",)}, "plot_matched")
    labels = names(ds["context"])
    C = len(labels)
    cols = dict(zip(labels, colours(C)))
    fixed = fp.isel(fp=np.flatnonzero(fp["kind"].values.astype(str) == "fixed"))
    X = np.asarray(fixed["x"].values, dtype=float)
    ctx = fixed["context"].values.astype(str)
    stab = fixed["stability"].values.astype(str)
    labels_fp = np.asarray(fixed["fp"].values) if "fp" in fixed.coords else np.arange(X.shape[0])
    if X.shape[0] and X.shape[1] and X.shape[0] != len(labels_fp):
        raise InputError("plot_matched: `fixed_points` must have one `fp` label per point")

    fig = new_figure(FULL_WIDTH, 3.8 if C <= 4 else 3.8 + 0.12 * C * (C - 1) / 2)
    axd = fig.subplot_mosaic([["pos", "count"], ["pos", "disp"]], width_ratios=[1.25, 1.0])
    ax = axd["pos"]
    mean = X.mean(axis=0) if X.shape[0] else np.zeros(fp.sizes["unit"])
    if X.shape[0] >= 2:
        _, _, vt = np.linalg.svd(X - mean, full_matrices=False)
        basis = vt[:2].T
    else:
        basis = np.eye(fp.sizes["unit"])[:, :2]
    if basis.shape[1] < 2:
        basis = np.concatenate([basis, np.zeros((basis.shape[0], 2 - basis.shape[1]))], axis=1)
    P = (X - mean) @ basis if X.shape[0] else np.zeros((0, 2))
    where = {int(lab): i for i, lab in enumerate(labels_fp)}
    for a, b in zip(np.asarray(ds["fp_match_a"].values), np.asarray(ds["fp_match_b"].values)):
        ia, ib = where.get(int(a)), where.get(int(b))
        if ia is not None and ib is not None:
            ax.plot(P[[ia, ib], 0], P[[ia, ib], 1], color="0.55", lw=1.0, zorder=1)
    for i in range(P.shape[0]):
        c = cols.get(ctx[i], "k")
        filled = stab[i] == "stable"
        ax.plot(P[i, 0], P[i, 1], "o", ms=7, mec=c if not filled else "k", mew=1.3 if not filled else 0.5,
                mfc=c if filled else "white", zorder=2)
    handles = [Line2D([], [], ls="", marker="o", mfc=cols[c], mec="k", label=c) for c in labels]
    handles += [Line2D([], [], ls="", marker="o", mfc="white", mec="k", label="not stable"),
                Line2D([], [], color="0.55", label="matched")]
    ax.legend(handles=handles, fontsize=7, frameon=False, loc="best")
    ax.set_xlabel("PC 1 of the fixed points", fontsize=8)
    ax.set_ylabel("PC 2", fontsize=8)
    ax.set_title(f"fixed points of all contexts ({P.shape[0]})", fontsize=9, loc="left")
    ax.margins(0.15)

    pairs = [(i, j) for i in range(C) for j in range(i + 1, C)]
    pair_labels = [f"{labels[i]} vs {labels[j]}" for i, j in pairs]
    y = np.arange(len(pairs))
    nm = np.array([ds["fp_n_matched"].values[i, j] for i, j in pairs], dtype=float)
    ua = np.array([ds["fp_n_unmatched_a"].values[i, j] for i, j in pairs], dtype=float)
    ub = np.array([ds["fp_n_unmatched_b"].values[i, j] for i, j in pairs], dtype=float)
    disp = np.array([ds["fp_mean_displacement"].values[i, j] for i, j in pairs], dtype=float)
    thr = (np.array([ds["fp_threshold"].values[i, j] for i, j in pairs], dtype=float) if "fp_threshold" in ds
           else np.full(len(pairs), np.nan))
    axc, axp = axd["count"], axd["disp"]
    h = 0.6
    axc.barh(y, nm, height=h, color="tab:green", label="matched")
    axc.barh(y, ua, height=h, left=nm, color="tab:orange", label="only in first")
    axc.barh(y, ub, height=h, left=nm + ua, color="tab:purple", label="only in second")
    axc.set_yticks(y, labels=pair_labels, fontsize=7)
    axc.invert_yaxis()
    axc.set_xlabel("fixed points", fontsize=8)
    axc.set_title("matched and unmatched fixed points", fontsize=9, loc="left")
    axc.xaxis.get_major_locator().set_params(integer=True)
    shown = np.nan_to_num(disp)
    axp.barh(y, shown, height=h, color="tab:blue", label="mean displacement")
    if np.any(np.isfinite(thr)):
        axp.plot(thr, y, ls="", marker="|", ms=14, mew=2, color="k", label="matching threshold")
    top = float(np.nanmax(np.concatenate([shown, np.nan_to_num(thr), [0.0]])))
    top = top if top > 0 else 1.0
    for yi, v, m in zip(y, shown, nm):
        axp.text(v + 0.01 * top, yi, " none matched" if m == 0 else f" {v:.3g}", va="center", fontsize=7)
    axp.set_xlim(0, 1.3 * top)
    axp.set_yticks(y, labels=pair_labels, fontsize=7)
    axp.invert_yaxis()
    axp.set_xlabel("distance (state units)", fontsize=8)
    axp.set_title("how far matched points moved", fontsize=9, loc="left")
    h1, l1 = axc.get_legend_handles_labels()
    h2, l2 = axp.get_legend_handles_labels()
    fig.legend(h1 + h2, l1 + l2, loc="outside lower center", ncols=5, fontsize=7, frameon=False)
    for a in (ax, axc, axp):
        a.tick_params(labelsize=7)
    return fig

"""Figures of the reproduction, drawn from measured Datasets (they compute nothing)."""
from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

__all__ = ["width_figure", "width_law_figure", "multitask_figure", "traces_figure", "gain_figure",
           "lorenz_attractor_figure", "reaching_figure", "flipflop_figure"]

_COLORS = {"bias": "tab:blue", "readout": "tab:orange", "full": "tab:green", "mask": "tab:purple",
           "mask_st": "tab:pink", "esn": "tab:orange", "ar": "tab:red", "bias-only": "tab:blue",
           "echo-state network": "tab:orange", "linear autoregression": "tab:red", "true x": "black"}


def width_figure(ds: xr.Dataset) -> Figure:
    """Test accuracy against width (left) and against trained parameters (right), mean ± sd over seeds."""
    names = list(ds["dataset"].values)
    fig = Figure(figsize=(10, 3.6 * len(names)), layout="constrained")
    axes = fig.subplots(len(names), 2, squeeze=False)
    for d, name in enumerate(names):
        for mode in ds["mode"].values:
            acc = ds["test_accuracy"].sel(dataset=name, mode=mode)
            mean, sd = 100 * acc.mean("seed").values, 100 * acc.std("seed").values
            for ax, x in ((axes[d, 0], ds["width"].values),
                          (axes[d, 1], ds["trained_parameters"].sel(dataset=name, mode=mode).values)):
                ax.errorbar(x, mean, yerr=sd, marker="o", ms=3, capsize=2, color=_COLORS[str(mode)], label=str(mode))
        axes[d, 0].set(xscale="log", xlabel="hidden width", ylabel="test accuracy (%)", title=f"{name}: vs width")
        axes[d, 1].set(xscale="log", xlabel="trained parameters", title=f"{name}: vs trained parameters")
        axes[d, 0].set_xscale("log", base=2)
        axes[d, 0].legend(frameon=False)
    return fig


def width_law_figure(laws: dict[str, xr.Dataset]) -> Figure:
    """Width bias-only training needs against epsilon, per seed (points), with the law fitted to each seed (lines)."""
    fig = Figure(figsize=(5.2 * len(laws), 3.8), layout="constrained")
    axes = fig.subplots(1, len(laws), squeeze=False)[0]
    for ax, (name, law) in zip(axes, laws.items()):
        eps = law["epsilon"].values
        grid = np.geomspace(eps.min(), eps.max(), 50)
        for s in range(law.sizes["seed"]):
            color = f"C{s}"
            ax.plot(100 * eps, law["width_needed"].values[s], "o", color=color, ms=4,
                    label=f"seed {law['seed'].values[s]}")
            k, a = float(law["exponent"].values[s]), float(law["intercept"].values[s])
            if np.isfinite(k):
                ax.plot(100 * grid, np.exp(a + k * np.log(1 / grid)), "-", color=color, lw=1,
                        label=f"k = {k:.2f}")
        if np.isfinite(law["width_needed"].values).any():
            ax.set_yscale("log")
        else:
            ax.text(0.5, 0.5, "no epsilon reached within the measured widths", transform=ax.transAxes,
                    ha="center", va="center")
        ax.set(xscale="log", xlabel="epsilon (accuracy points below full training)",
               ylabel="hidden width needed (bias-only)",
               title=f"{name}: width ~ epsilon^(-k)\n(not reached within width {law.attrs['widths'][-1]:g}: not shown)")
        ax.set_xticks(100 * eps, [f"{100 * e:g}" for e in eps])
        ax.minorticks_off()
        ax.set_xlim(100 * eps.max() * 1.3, 100 * eps.min() / 1.3)
        ax.legend(frameon=False, fontsize=7)
    return fig


def multitask_figure(m: dict[str, xr.Dataset]) -> Figure:
    """Accuracy per task and method (left); normalised task variance of units sorted by cluster (right)."""
    acc = m["accuracy"]["test_accuracy"]
    names = list(acc["context"].values)
    fig = Figure(figsize=(12, 4.2), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2, width_ratios=(1, 1.3))
    x = np.arange(len(names))
    methods = list(acc["training"].values)
    bar = 0.8 / len(methods)
    for i, method in enumerate(methods):
        ax1.bar(x + (i - (len(methods) - 1) / 2) * bar, 100 * acc.sel(training=method).values, width=bar,
                label=str(method), color=_COLORS[str(method)])
    ax1.set_xticks(x, names, rotation=30, ha="right")
    ax1.set(ylabel="test accuracy (%)", ylim=(0, 118), title="one network, one bias vector per task")
    ax1.set_yticks(np.arange(0, 101, 20))
    ax1.legend(frameon=False, loc="upper center", ncol=len(methods))
    cl = m["clusters"]["cluster"].values
    tvn = m["tv"]["tv_norm"].values
    active = cl >= 0
    order = np.lexsort((-np.nan_to_num(tvn[:, active]).max(axis=0), cl[active]))
    img = tvn[:, active][:, order]
    im = ax2.imshow(img, aspect="auto", interpolation="nearest", cmap="viridis", vmin=0, vmax=1)
    bounds = np.cumsum(np.bincount(cl[active]))[:-1]
    for b in bounds:
        ax2.axvline(b - 0.5, color="white", lw=0.8)
    ax2.set_yticks(np.arange(len(names)), names)
    ax2.set(xlabel="active hidden units, sorted by cluster", title=f"normalised task variance (k = {m['clusters'].attrs['k']})")
    fig.colorbar(im, ax=ax2, shrink=0.8)
    return fig


def traces_figure(ds: xr.Dataset, *, title: str, max_contexts: int = 4) -> Figure:
    """Output ``z`` (solid) and target (dashed) of the first trial of each context of an evaluation Dataset."""
    contexts = list(ds["context"].values)[:max_contexts]
    outputs = list(ds["output"].values)
    fig = Figure(figsize=(3.2 * len(contexts), 2.6 * len(outputs)), layout="constrained")
    axes = fig.subplots(len(outputs), len(contexts), squeeze=False, sharex=True)
    t = ds["time"].values
    for j, c in enumerate(contexts):
        for i, o in enumerate(outputs):
            ax = axes[i, j]
            ax.plot(t, ds["target"].sel(context=c, output=o).isel(trial=0), "k--", lw=1, label="target")
            ax.plot(t, ds["z"].sel(context=c, output=o).isel(trial=0), color="tab:blue", lw=1.2, label="circuit")
            ax.set_title(f"{c}: {o}", fontsize=9)
        axes[-1, j].set_xlabel("time (ms)")
    axes[0, 0].legend(frameon=False, fontsize=8)
    fig.suptitle(title)
    return fig


def gain_figure(ds: xr.Dataset) -> Figure:
    """Evaluation NMSE against the gain g per training mode: each seed thin, their mean bold (``nmse (seed, mode, g)``)."""
    fig = Figure(figsize=(5, 3.6), layout="constrained")
    ax = fig.subplots()
    seeds = [int(s) for s in ds["seed"].values]
    for mode in ds["mode"].values:
        color = _COLORS[str(mode)]
        for s in seeds:
            ax.plot(ds["g"].values, ds["nmse"].sel(mode=mode, seed=s).values, color=color, lw=0.6, alpha=0.5)
        ax.plot(ds["g"].values, ds["nmse"].sel(mode=mode).mean("seed").values, marker="o", color=color, lw=1.8,
                label=f"{mode} (mean)" if len(seeds) > 1 else str(mode))
    which = f"seed {seeds[0]}" if len(seeds) == 1 else f"mean over seeds {', '.join(map(str, seeds))}; thin: each seed"
    ax.set(yscale="log", xlabel="gain g of the random recurrent weights", ylabel="evaluation NMSE",
           title=f"Van der Pol: bias-only vs full training\n({which})")
    ax.legend(frameon=False)
    return fig


def lorenz_attractor_figure(truth: np.ndarray, forecasts: dict[str, np.ndarray], *, n_warmup: int, n_show: int,
                            maps: dict[str, np.ndarray], title: str) -> Figure:
    """Closed-loop traces after a teacher-forced warm-up, and return maps of successive maxima.

    Parameters
    ----------
    truth : ndarray of shape (time,)
        The true series of the trial shown (warm-up and what follows), standardised.
    forecasts : dict of str to ndarray of shape (free,)
        Closed-loop output of each forecaster, starting at sample ``n_warmup``.
    n_warmup, n_show : int
        Teacher-forced samples; closed-loop samples drawn.
    maps : dict of str to ndarray of shape (pair, 2)
        Pairs (m_k, m_{k+1}) of successive local maxima of each series, one panel each.
    title : str
    """
    fig = Figure(figsize=(11, 6.5), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=(1.0, 1.1))
    ax = top.subplots()
    ax.plot(np.arange(truth.shape[0]), truth, "k", lw=1.3, label="true x")
    for name, f in forecasts.items():
        f = f[:n_show]
        ax.plot(n_warmup + np.arange(f.shape[0]), f, lw=0.9, color=_COLORS.get(name), label=name)
    ax.axvline(n_warmup - 0.5, color="grey", ls=":")
    ax.set(xlabel="sample", ylabel="standardised x", title=title + ": teacher-forced warm-up, then closed loop",
           xlim=(0, n_warmup + n_show), ylim=(-3.5, 3.5))  # a run-away forecast leaves the frame
    ax.legend(frameon=False, fontsize=8, ncol=5, loc="upper right")
    axes = np.atleast_1d(bottom.subplots(1, len(maps), sharex=True, sharey=True))
    for a, (name, pairs) in zip(axes, maps.items()):
        a.scatter(pairs[:, 0], pairs[:, 1], s=2, color=_COLORS.get(name, "tab:gray"))
        a.set_title(name, fontsize=9)
        a.set(xlabel="maximum k")
    axes[0].set(ylabel="maximum k + 1")
    bottom.suptitle("return maps of successive local maxima of x (long closed-loop runs; true x: held-out "
                    "trajectories)", fontsize=10)
    return fig


def reaching_figure(paths: dict[str, np.ndarray], held_out: dict[str, np.ndarray], losses: dict[str, np.ndarray],
                    *, levels: tuple[float, ...] = ()) -> Figure:
    """Hand paths for trained (solid) and held-out (dashed) targets per mode, and the loss curves with ``levels``."""
    modes = list(paths)
    fig = Figure(figsize=(4 * (len(modes) + 1), 3.8), layout="constrained")
    axes = fig.subplots(1, len(modes) + 1)
    for ax, mode in zip(axes, modes):
        for p in paths[mode]:
            ax.plot(p[:, 0], p[:, 1], color=_COLORS[mode], lw=1.2)
        for p in held_out[mode]:
            ax.plot(p[:, 0], p[:, 1], color="grey", lw=1, ls="--")
        ax.set(aspect="equal", title=f"{mode}: trained (solid), held-out (dashed)", xlabel="x", ylabel="y")
    ax = axes[-1]
    for mode, loss in losses.items():
        ax.plot(np.arange(1, loss.size + 1), loss, color=_COLORS[mode], label=mode)
    for level in levels:
        ax.axhline(level, color="grey", ls=":", lw=0.8)
    ax.set(xscale="log", yscale="log", xlabel="training step", ylabel="loss (MSE)", title="training")
    ax.legend(frameon=False)
    return fig


def stability_figure(stab: xr.Dataset, nmse: xr.Dataset | None = None) -> Figure:
    """Spectral norm, spectral radius and Jacobian abscissa against g (``stab`` of
    :func:`~neurobias.reproduce.gain_stability.gain_stability`), beside the NMSE curve ``nmse (mode, g)`` or,
    without it, the share of tonic inputs past a Hopf point per seed."""
    fig = Figure(figsize=(9, 3.6), layout="constrained")
    ax, bx = fig.subplots(1, 2)
    g = stab["g"].values
    for name, label, style in (("spectral_norm", "||W||_2", "s-"), ("spectral_radius", "spectral radius of W", "o-"),
                               ("abscissa", "max Re eig(tau J) over tonic inputs", "^-")):
        v = stab[name].values
        ax.errorbar(g, v.mean(0), yerr=v.std(0) if v.shape[0] > 1 else None, fmt=style, label=label, capsize=2)
    ax.axhline(1.0, color="grey", lw=0.6, ls="--")
    ax.axhline(0.0, color="grey", lw=0.6)
    n = stab.sizes["seed"]
    ax.set(xlabel="gain g", title="stability against g" + (f" (mean ± sd over {n} seeds)" if n > 1 else ""))
    ax.legend(frameon=False, fontsize=8)
    if nmse is not None:
        for mode in nmse["mode"].values:
            bx.plot(nmse["g"].values, nmse["nmse"].sel(mode=mode).values, marker="o", color=_COLORS[str(mode)],
                    label=str(mode))
        bx.set(yscale="log", xlabel="gain g", ylabel="evaluation NMSE", title="Van der Pol NMSE")
        bx.legend(frameon=False)
    else:
        v = 100 * stab["oscillatory_unstable"].values
        for s, row in enumerate(v):
            bx.plot(g, row, "o-", lw=0.8, ms=3, label=f"seed {stab['seed'].values[s]}")
        bx.set(xlabel="gain g", ylabel="% of tonic inputs", title="tonic inputs past a Hopf point")
        bx.legend(frameon=False, fontsize=8)
    return fig


def flipflop_figure(curve: xr.Dataset, reference: xr.Dataset, examples: dict[str, dict[str, np.ndarray]], *,
                    n_memories: int, title: str) -> Figure:
    """Flip-flop: NMSE and stable fixed points / memories against width, and fixed points on 2 PCs.

    Parameters
    ----------
    curve : xarray.Dataset
        ``nmse``, ``n_stable``, ``n_memories (seed, mode, width)`` of the modes trained across widths.
    reference : xarray.Dataset
        ``nmse``, ``n_stable``, ``n_memories (seed,)`` of full training at ``attrs["width"]`` units.
    examples : dict of str to dict
        Per trained circuit shown: ``points (fp, 2)`` (fixed points on the top 2 PCs), ``stable (fp,)`` (bool),
        ``trajectory (time, 2)`` (one evaluation trial), ``explained (2,)`` (variance fractions of the PCs) and
        ``labels`` (per point, the output sign pattern it holds, e.g. ``"+-+"``, or ``""``; written beside the
        stable points).
    n_memories : int
        2^N, drawn as a dashed line.
    title : str
    """
    fig = Figure(figsize=(4.2 * (2 + len(examples)), 3.8), layout="constrained")
    axes = fig.subplots(1, 2 + len(examples))
    widths = curve["width"].values
    ref_w = reference.attrs["width"]

    def spread(ax, x, v, color, label, marker="o", ls="-", ms=6):  # mean over seeds, bars from min to max
        mean, lo, hi = v.mean(0), v.min(0), v.max(0)
        ax.errorbar(x, mean, yerr=(mean - lo, hi - mean), marker=marker, ls=ls, ms=ms, capsize=2, color=color,
                    label=label)

    for mode in curve["mode"].values:
        color = _COLORS.get(str(mode).replace("bias+readout", "readout"), None)
        spread(axes[0], widths, curve["nmse"].sel(mode=mode).values, color, str(mode))
        spread(axes[1], widths, curve["n_stable"].sel(mode=mode).values, color, f"{mode}: stable fixed points")
        spread(axes[1], widths, curve["n_memories"].sel(mode=mode).values, color, f"{mode}: memories held",
               marker="s", ls=":")
    spread(axes[0], [ref_w], reference["nmse"].values[:, None], _COLORS["full"], f"full ({ref_w} units)", marker="*")
    spread(axes[1], [ref_w], reference["n_stable"].values[:, None], _COLORS["full"], "full: stable fixed points",
           marker="*", ms=14)
    spread(axes[1], [ref_w], reference["n_memories"].values[:, None], "darkgreen", "full: memories held",
           marker="D", ms=4)
    axes[1].axhline(n_memories, color="grey", ls="--", lw=0.8)
    axes[0].set(xscale="log", yscale="log", xlabel="units", ylabel="evaluation NMSE", title="task error")
    axes[1].set(xscale="log", xlabel="units", ylabel="count",
                title=f"stable fixed points, memories (2^N = {n_memories})")
    for ax in axes[:2]:
        ax.set_xscale("log", base=2)
        ax.legend(frameon=False, fontsize=7)
    for ax, (label, ex) in zip(axes[2:], examples.items()):
        ax.plot(ex["trajectory"][:, 0], ex["trajectory"][:, 1], color="lightgrey", lw=0.8, label="one trial")
        pts, stable = ex["points"], ex["stable"]
        ax.scatter(pts[stable, 0], pts[stable, 1], s=40, color="black", label=f"stable ({int(stable.sum())})", zorder=3)
        ax.scatter(pts[~stable, 0], pts[~stable, 1], s=40, facecolors="none", edgecolors="tab:red",
                   label=f"unstable ({int((~stable).sum())})", zorder=3)
        for (x, y), text, st in zip(pts, ex.get("labels", ()), stable):
            if st and text:  # the output sign pattern a stable point holds
                ax.annotate(text, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
        ev = ex["explained"]
        ax.set(xlabel=f"PC1 ({100 * ev[0]:.0f}% of trial variance)", ylabel=f"PC2 ({100 * ev[1]:.0f}%)",
               title=f"fixed points, {label}")
        ax.legend(frameon=False, fontsize=7)
    fig.suptitle(title)
    return fig

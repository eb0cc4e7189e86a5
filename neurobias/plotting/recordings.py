"""Figures of a fit to recordings: data vs model on the data's PCs, R² per neuron, metrics against their nulls.

Every function takes the Datasets written by ``neurobias fit-recordings`` /
``compare-recordings`` (kinds ``fit`` and ``recording_comparison``), draws
and returns the Figure; none computes results (the PC projections are in the
comparison Dataset).
"""
from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from neurobias.errors import InputError

__all__ = ["plot_pcs", "plot_r2_neurons", "plot_metrics_null", "plot_fit_loss", "METRIC_PANELS"]

#: (variable, label, better) of the metric-vs-null panels
METRIC_PANELS: tuple[tuple[str, str, str], ...] = (
    ("r2", "R² (held out)", "higher"),
    ("cca_cca", "mean CCA", "higher"),
    ("shape_angular_distance", "Procrustes angle (rad)", "lower"),
    ("rsa_rsa", "RSA (Spearman)", "higher"),
    ("dsa_dsa", "DSA distance", "lower"),
    ("rot_data_r2_skew", "rotation R² (data)", "higher"),
    ("rot_model_r2_skew", "rotation R² (model)", "higher"),
)


def _need(ds: object, names: tuple[str, ...], func: str) -> xr.Dataset:
    if not isinstance(ds, xr.Dataset):
        raise InputError(f"{func}: expected an xarray.Dataset; got {type(ds).__name__}")
    missing = [n for n in names if n not in ds]
    if missing:
        raise InputError(f"{func}: the Dataset lacks {missing}")
    return ds


def plot_pcs(comparison: xr.Dataset, *, n_pcs: int = 3) -> Figure:
    """Data (solid) and model (dashed) on the data's top PCs over time, one colour per condition.

    Parameters
    ----------
    comparison : xarray.Dataset
        With ``pc_data`` and ``pc_model (condition, time, pc)``.
    n_pcs : int
        PCs shown (one panel each), plus a PC1-PC2 plane.
    """
    ds = _need(comparison, ("pc_data", "pc_model"), "plot_pcs")
    k = min(n_pcs, ds.sizes["pc"])
    fig = Figure(figsize=(7.5, 2.4 * ((k + 2) // 2)), layout="constrained")
    axes = fig.subplots((k + 2) // 2, 2, squeeze=False).ravel()
    t = ds["time"].values
    n_cond = ds.sizes["condition"]
    cmap = __import__("matplotlib").colormaps["viridis"]
    for c in range(n_cond):
        col = cmap(c / max(1, n_cond - 1))
        for i in range(k):
            axes[i].plot(t, ds["pc_data"].values[c, :, i], color=col, lw=1.4)
            axes[i].plot(t, ds["pc_model"].values[c, :, i], color=col, lw=1.2, ls="--")
        axes[k].plot(ds["pc_data"].values[c, :, 0], ds["pc_data"].values[c, :, 1], color=col, lw=1.4)
        axes[k].plot(ds["pc_model"].values[c, :, 0], ds["pc_model"].values[c, :, 1], color=col, lw=1.2, ls="--")
    for i in range(k):
        axes[i].set(xlabel="time (ms)", ylabel=f"PC{i + 1}")
    axes[k].set(xlabel="PC1", ylabel="PC2", title="solid: data, dashed: model")
    for ax in axes[k + 1:]:
        ax.set_visible(False)
    fig.suptitle("held-out data vs model on the data's principal components")
    return fig


def plot_r2_neurons(fit: xr.Dataset) -> Figure:
    """Histogram of held-out R² per neuron, with the overall R², its null and the noise ceiling."""
    ds = _need(fit, ("r2_neuron", "r2_null"), "plot_r2_neurons")
    fig = Figure(figsize=(5.0, 3.2), layout="constrained")
    ax = fig.subplots()
    vals = ds["r2_neuron"].values
    vals = vals[np.isfinite(vals)]
    ax.hist(np.clip(vals, -1.0, 1.0), bins=30, range=(-1.0, 1.0), color="#5b7db1", label="neurons (clipped at -1)")
    def line(v: float, **kw: object) -> None:  # values below -1 are drawn at the clip edge, labelled exactly
        ax.axvline(max(-1.0, v), **kw)

    line(ds.attrs["r2_test"], color="k", lw=2, label=f"overall {ds.attrs['r2_test']:.3f}")
    if ds.sizes.get("shuffle", 0):
        line(float(np.mean(ds["r2_null"].values)), color="#b13b3b", ls=":", lw=2,
             label=f"shuffled conditions {float(np.mean(ds['r2_null'].values)):.3f}")
    ceiling = ds.attrs.get("noise_ceiling", float("nan"))
    if np.isfinite(ceiling):
        line(ceiling, color="#2a8a3e", ls="--", lw=2, label=f"split-half ceiling {ceiling:.3f}")
    ax.set_xlim(-1.05, 1.05)
    ax.set(xlabel="held-out R²", ylabel="neurons", title=f"R² per neuron ({ds.attrs.get('mode', '')} mode)")
    ax.legend(fontsize=7, loc="upper left")
    return fig


def plot_metrics_null(comparison: xr.Dataset) -> Figure:
    """One panel per metric: the null's histogram and the observed value."""
    ds = _need(comparison, (), "plot_metrics_null")
    panels = [p for p in METRIC_PANELS if p[0] in ds and f"{p[0]}_null" in ds]
    if not panels:
        raise InputError("plot_metrics_null: the Dataset holds no metric with a null")
    cols = 3
    rows = (len(panels) + cols - 1) // cols
    fig = Figure(figsize=(7.5, 2.3 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, (name, label, better) in zip(axes, panels):
        null = ds[f"{name}_null"].values
        obs = float(ds[name])
        if null.size:
            lo, hi = min(float(null.min()), obs), max(float(null.max()), obs)
            pad = 0.05 * (hi - lo) if hi > lo else 0.05 * max(abs(hi), 1.0)
            ax.hist(null, bins=30, range=(lo - pad, hi + pad), color="#8f98a8", label="null")
        ax.axvline(obs, color="#b13b3b", lw=2, label="observed")
        p = float(ds[f"{name}_p_value"]) if f"{name}_p_value" in ds else float("nan")
        ax.set_title(f"{label}\n{obs:.3f} (p = {p:.3g}, {better} is better)", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    axes[0].legend(fontsize=7)
    fig.suptitle("model vs data: each metric against its shuffled-condition null")
    return fig


def plot_fit_loss(fit: xr.Dataset) -> Figure:
    """Fitting loss per step (log scale)."""
    ds = _need(fit, ("loss",), "plot_fit_loss")
    fig = Figure(figsize=(5.0, 3.0), layout="constrained")
    ax = fig.subplots()
    ax.semilogy(np.arange(ds.sizes["step"]), ds["loss"].values, color="#1d2b45")
    ax.set(xlabel="step", ylabel="loss (MSE on fitted bins)", title=f"fit ({ds.attrs.get('mode', '')} mode)")
    return fig

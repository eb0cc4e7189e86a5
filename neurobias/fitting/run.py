"""What ``neurobias fit-recordings`` and ``compare-recordings`` do: read, preprocess, fit, compare, write.

Each function checks everything it can before the first write, and every
file is written atomically through :mod:`neurobias.io`, so a failure leaves
no half-written output.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xarray as xr

from neurobias.errors import InputError
from neurobias.recordings.dataset import is_single_trial, validate

__all__ = ["FitOutput", "prepare_recording", "fit_recording_file", "compare_fit_dir", "fit_provenance_attrs"]


@dataclass(frozen=True)
class FitOutput:
    """What a command wrote: its Dataset and the files by name."""

    dataset: xr.Dataset
    files: dict[str, Path] = field(default_factory=dict)
    summary: str = ""


def fit_provenance_attrs(circuit: Any, *, config_toml: str, seed: int,
                         recording: xr.Dataset | None = None) -> dict[str, Any]:
    """The provenance attributes of ``fit.nc`` and ``comparison.nc``.

    Parameters
    ----------
    circuit : Circuit
        The fitted circuit (the one in the fit directory's ``circuit.nc``).
    config_toml : str
        The resolved fit config as TOML text.
    seed : int
        The fit's seed (``seed`` of the config).
    recording : xarray.Dataset, optional
        The recording that was fitted (the fit directory's ``recording.nc``).

    Returns
    -------
    dict
        ``config``, ``run_seed``, ``circuit_sha256_<weight>`` (see
        :func:`neurobias.io.circuit.provenance_attrs`) and, with ``recording``,
        ``recording_sha256``: the sha256 of its ``rate`` array.
    """
    from neurobias.io.circuit import provenance_attrs
    from neurobias.io.hashing import sha256_array

    attrs = provenance_attrs(circuit, config_toml=config_toml, seed=seed)
    if recording is not None:
        attrs["recording_sha256"] = sha256_array(recording["rate"].values)
    return attrs


def prepare_recording(recording: xr.Dataset, *, trim: bool = True, smooth_ms: float = 0.0,
                      condition_average: bool = False, soft_normalize: float = 0.0, mean_center: str = "none",
                      pca_components: int = 0) -> xr.Dataset:
    """Apply the ``[preprocess]`` steps in a fixed order: trim, smooth, average, normalise, centre, PCA.

    Returns
    -------
    xarray.Dataset
        A NaN-free recording ready to fit.
    """
    from neurobias.recordings import preprocess as P

    validate(recording, allow_nan=True)
    rec = P.trim_trials(recording) if trim else recording
    validate(rec)  # NaN padding left without `trim` is an error here
    if smooth_ms > 0:
        rec = P.smooth(rec, sigma_ms=smooth_ms)
    if condition_average and is_single_trial(rec):
        rec = P.condition_average(rec)
    if soft_normalize > 0:
        rec = P.soft_normalize(rec, soft=soft_normalize)
    if mean_center != "none":
        rec = P.mean_center(rec, over=mean_center)
    if pca_components > 0:
        rec = P.pca_denoise(rec, n_components=pca_components)
    return rec


def fit_recording_file(recording: str | os.PathLike, *, config: dict[str, Any], out: str | os.PathLike,
                       progress: bool = True, figures: bool = True) -> FitOutput:
    """Read RECORDING, preprocess, fit, and write ``out/{recording,fit,circuit}.nc`` and figures.

    Parameters
    ----------
    recording : path
    config : dict
        From :func:`neurobias.config.fit.load_fit_config`.
    out : path
        Output directory (created).
    progress, figures : bool

    Returns
    -------
    FitOutput
    """
    from neurobias.config.fit import fit_config_to_toml
    from neurobias.fitting.estimator import TonicFit
    from neurobias.fitting.fit import fit_to_dataset
    from neurobias.io import save_circuit, write_dataset
    from neurobias.io.hashing import sha256_array
    from neurobias.io.files import check_writable_dir
    from neurobias.recordings.load import load_recording

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} exists and is not a directory")
    rec_opts = dict(config["recording"])
    if isinstance(rec_opts.get("axes"), list):
        rec_opts["axes"] = tuple(rec_opts["axes"])
    if isinstance(rec_opts.get("window_ms"), list):
        rec_opts["window_ms"] = tuple(rec_opts["window_ms"])
    raw = load_recording(recording, **rec_opts)
    rec = prepare_recording(raw, **config["preprocess"])
    toml = fit_config_to_toml(config)
    est = TonicFit(**config["fit"], progress=progress).fit(rec)
    ds = fit_to_dataset(est, config=toml)
    for key in ("units", "source", "citation", "licence"):
        ds.attrs[f"recording_{key}"] = str(rec.attrs.get(key, ""))
    ds.attrs.update(fit_provenance_attrs(est.circuit_, config_toml=toml, seed=int(config["seed"]), recording=rec))
    ds.attrs["source_recording_sha256"] = sha256_array(raw["rate"].values)
    out.mkdir(parents=True, exist_ok=True)
    check_writable_dir(out)
    files = {
        "recording": write_dataset(rec.assign_attrs(config=toml, run_seed=int(config["seed"]),
                                                    source_recording_sha256=ds.attrs["source_recording_sha256"]),
                                   out / "recording.nc", kind="recording"),
        "circuit": save_circuit(est.circuit_, out / "circuit.nc", config_toml=toml),
        "fit": write_dataset(ds, out / "fit.nc", kind="fit"),
    }
    if figures:
        from neurobias.io.figures import save_figure
        from neurobias.plotting.recordings import plot_fit_loss, plot_r2_neurons

        files["figure_r2_neurons"] = save_figure(plot_r2_neurons(ds), out / "figures" / "r2_neurons.png")
        files["figure_fit_loss"] = save_figure(plot_fit_loss(ds), out / "figures" / "fit_loss.png")
    ceiling = ds.attrs["noise_ceiling"]
    summary = (f"fitted {len(est.conditions_)} conditions x {len(est.neurons_)} neurons with {est.circuit_.n_units} "
               f"units in {est.mode!r} mode ({len(est.loss_)} steps, {est.wall_time_s_:.1f} s); held-out R2 "
               f"{est.r2_test_:.3f} ({ds.attrs['holdout']} holdout), fitted R2 {est.r2_train_:.3f}"
               + (f", split-half noise ceiling {ceiling:.3f}" if ceiling == ceiling else "")
               + (f", shuffled-condition null {est.r2_null_.mean():.3f}" if est.r2_null_.size else ""))
    return FitOutput(ds, files, summary)


def compare_fit_dir(fit_dir: str | os.PathLike, *, compare: dict[str, Any] | None = None, progress: bool = True,
                    figures: bool = True) -> FitOutput:
    """Compare the fit in ``fit_dir`` with its data; write ``comparison.nc``, figures and ``report.html``.

    Parameters
    ----------
    fit_dir : path
        A directory written by :func:`fit_recording_file`.
    compare : dict, optional
        ``[compare]`` options (default: those stored in ``fit.nc``'s config).
    """
    import tomllib

    from neurobias.fitting.compare import compare_fit
    from neurobias.config.fit import COMPARE_DEFAULTS
    from neurobias.io import open_circuit, read_dataset
    from neurobias.io.files import atomic_write_text
    from neurobias.io.netcdf import write_dataset

    import time

    t_start = time.perf_counter()
    d = Path(fit_dir)
    if not (d / "fit.nc").is_file():
        raise InputError(f"{d} has no fit.nc; run `neurobias fit-recordings RECORDING --out {d}` first")
    fit = read_dataset(d / "fit.nc", kind="fit")
    circuit = open_circuit(d / "circuit.nc")
    opts = dict(COMPARE_DEFAULTS)
    stored = tomllib.loads(fit.attrs.get("config", "") or "").get("compare", {})
    opts.update(stored)
    opts.update(compare or {})
    cmp = compare_fit(fit, circuit=circuit, metrics=tuple(opts["metrics"]), n_shuffles=int(opts["n_shuffles"]),
                      dsa_shuffles=int(opts["dsa_shuffles"]), n_components=int(opts["n_components"]),
                      fp_candidates=int(opts["fp_candidates"]), seed=int(fit.attrs["seed"]), progress=progress)
    cmp.attrs.update(fit_provenance_attrs(circuit, config_toml=str(fit.attrs.get("config", "")),
                                          seed=int(fit.attrs.get("run_seed", fit.attrs["seed"])),
                                          recording=read_dataset(d / "recording.nc", kind="recording")
                                          if (d / "recording.nc").is_file() else None))
    if "recording_sha256" not in cmp.attrs and "recording_sha256" in fit.attrs:
        cmp.attrs["recording_sha256"] = str(fit.attrs["recording_sha256"])
    cmp.attrs["wall_time_s"] = time.perf_counter() - t_start
    files = {"comparison": write_dataset(cmp, d / "comparison.nc", kind="recording_comparison")}
    figs: dict[str, Any] = {}
    if figures:
        from neurobias.io.figures import save_figure
        from neurobias.plotting.recordings import plot_fit_loss, plot_metrics_null, plot_pcs, plot_r2_neurons

        figs = {"pcs": plot_pcs(cmp), "r2_neurons": plot_r2_neurons(fit), "metrics_null": plot_metrics_null(cmp),
                "fit_loss": plot_fit_loss(fit)}
        for name, fig in figs.items():
            files[f"figure_{name}"] = save_figure(fig, d / "figures" / f"{name}.png")
    from neurobias.report import render_recording_report

    files["report"] = atomic_write_text(d / "report.html", render_recording_report(fit, cmp, figures=figs,
                                                                                    name=d.name))
    return FitOutput(cmp, files, summarize_comparison(fit, cmp))


def summarize_comparison(fit: xr.Dataset, cmp: xr.Dataset) -> str:
    """Plain-language lines: each metric, its null mean and p-value."""
    lines = [f"held-out R2 {fit.attrs['r2_test']:.3f} ({fit.attrs['holdout']} holdout, {fit.attrs['mode']} mode)"]
    ceiling = fit.attrs.get("noise_ceiling", float("nan"))
    if ceiling == ceiling:
        lines[0] += f"; split-half noise ceiling {ceiling:.3f}"
    from neurobias.plotting.recordings import METRIC_PANELS

    for name, label, better in METRIC_PANELS:
        if name in cmp and f"{name}_null" in cmp:
            null = cmp[f"{name}_null"].values
            lines.append(f"{label}: {float(cmp[name]):.3f} (null mean {null.mean():.3f} over {null.size}, "
                         f"p = {float(cmp[f'{name}_p_value']):.3g}; {better} is better)")
    if "fp_n_fixed_points" in cmp:
        lines.append("fixed points per condition: " + ", ".join(
            f"{c}: {int(n)} ({int(s)} stable)" for c, n, s in zip(cmp["condition"].values,
                                                                  cmp["fp_n_fixed_points"].values,
                                                                  cmp["fp_n_stable"].values)))
    return "\n".join(lines)

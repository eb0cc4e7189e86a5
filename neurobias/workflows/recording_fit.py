"""What ``neurobias fit-recordings`` and ``compare-recordings`` do: read, preprocess, fit, compare, write.

Names: :class:`~neurobias.fitting.TonicFit` is the estimator (its ``fit``
learns tonic inputs from a recording Dataset, as :func:`neurobias.fitting.fit_recordings`
does in one call); :func:`fit_recording_file` is the command that reads a
recording file and writes a fit directory
(:class:`~neurobias.workflows.rundir.FitDir`); :func:`compare_fit_dir`
compares a fit directory with its data.  Each function checks everything it
can before the first write, and every file is written atomically.
"""
from __future__ import annotations

import os
import time
from typing import Any

from neurobias.errors import InputError
from neurobias.workflows.output import Output
from neurobias.workflows.rundir import FitDir

__all__ = ["fit_recording_file", "compare_fit_dir"]


def fit_recording_file(recording: str | os.PathLike, *, config: dict[str, Any], out: str | os.PathLike,
                  progress: bool = True, figures: bool = True) -> Output:
    """Read RECORDING, preprocess, fit, and write the fit directory ``out`` (recording, circuit, fit, figures).

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
    Output
        The ``fit`` Dataset, the files written and a one-line summary.
    """
    from neurobias.config.fit import fit_config_to_toml
    from neurobias.fitting.estimator import TonicFit
    from neurobias.fitting.fit import fit_to_dataset
    from neurobias.io import save_circuit
    from neurobias.io.circuit import provenance_attrs
    from neurobias.io.hashing import sha256_array
    from neurobias.io.files import check_writable_dir
    from neurobias.recordings.load import load_recording
    from neurobias.recordings.preprocess import prepare_recording

    fit_dir = FitDir(out)
    out = fit_dir.path
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
    ds.attrs.update(provenance_attrs(est.circuit_, config_toml=toml, seed=int(config["seed"]), recording=rec))
    ds.attrs["source_recording_sha256"] = sha256_array(raw["rate"].values)
    out.mkdir(parents=True, exist_ok=True)
    check_writable_dir(out)
    files = {
        "recording": fit_dir.write("recording", rec.assign_attrs(
            config=toml, run_seed=int(config["seed"]), source_recording_sha256=ds.attrs["source_recording_sha256"])),
        "circuit": save_circuit(est.circuit_, fit_dir.file("circuit"), config_toml=toml),
        "fit": fit_dir.write("fit", ds),
    }
    if figures:
        from neurobias.plotting.recordings import plot_fit_loss, plot_r2_neurons

        files.update(fit_dir.write_figures({"r2_neurons": plot_r2_neurons(ds), "fit_loss": plot_fit_loss(ds)}))
    from neurobias.workflows.report import summarize_fit

    return Output(ds, files, summarize_fit(est, ds))


def compare_fit_dir(fit_dir: str | os.PathLike, *, compare: dict[str, Any] | None = None,
                          progress: bool = True, figures: bool = True) -> Output:
    """Compare the fit in ``fit_dir`` with its data; write ``comparison.nc``, figures and ``report.html``.

    Parameters
    ----------
    fit_dir : path
        A directory written by :func:`fit_recording_file`.
    compare : dict, optional
        ``[compare]`` options (default: those stored in ``fit.nc``'s config).
    progress, figures : bool

    Returns
    -------
    Output
        The ``recording_comparison`` Dataset, the files written and a summary (one line per metric).
    """
    import tomllib

    from neurobias.fitting.compare import compare_fit
    from neurobias.config.fit import COMPARE_DEFAULTS
    from neurobias.io import open_circuit
    from neurobias.io.circuit import provenance_attrs

    t_start = time.perf_counter()
    d = FitDir(fit_dir)
    if not d.has("fit"):
        raise InputError(f"{d.path} has no {d.file('fit').name}; run `{d.command('fit')}` first")
    fit = d.read("fit")
    circuit = open_circuit(d.file("circuit"))
    opts = dict(COMPARE_DEFAULTS)
    stored = tomllib.loads(fit.attrs.get("config", "") or "").get("compare", {})
    opts.update(stored)
    opts.update(compare or {})
    cmp = compare_fit(fit, circuit=circuit, metrics=tuple(opts["metrics"]), n_shuffles=int(opts["n_shuffles"]),
                      dsa_shuffles=int(opts["dsa_shuffles"]), n_components=int(opts["n_components"]),
                      fp_candidates=int(opts["fp_candidates"]), seed=int(fit.attrs["seed"]), progress=progress)
    cmp.attrs.update(provenance_attrs(circuit, config_toml=str(fit.attrs.get("config", "")),
                                      seed=int(fit.attrs.get("run_seed", fit.attrs["seed"])),
                                      recording=d.read_if_present("recording")))
    if "recording_sha256" not in cmp.attrs and "recording_sha256" in fit.attrs:
        cmp.attrs["recording_sha256"] = str(fit.attrs["recording_sha256"])
    cmp.attrs["wall_time_s"] = time.perf_counter() - t_start
    files = {"comparison": d.write("comparison", cmp)}
    figs: dict[str, Any] = {}
    if figures:
        from neurobias.plotting.recordings import plot_fit_loss, plot_metrics_null, plot_pcs, plot_r2_neurons

        figs = {"pcs": plot_pcs(cmp), "r2_neurons": plot_r2_neurons(fit), "metrics_null": plot_metrics_null(cmp),
                "fit_loss": plot_fit_loss(fit)}
        files.update(d.write_figures(figs))
    from neurobias.workflows.report import render_recording_report, summarize_recording_comparison

    files["report"] = d.write_text("report", render_recording_report(fit, cmp, figures=figs, name=d.path.name))
    return Output(cmp, files, summarize_recording_comparison(fit, cmp))

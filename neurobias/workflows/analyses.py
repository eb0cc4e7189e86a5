"""The analyses of a run directory: what ``neurobias fixed-points``, ``continue``, ``compare-contexts`` and ``report`` do.

Each command opens a :class:`~neurobias.workflows.rundir.RunDir`, calls the pure
analyses of :mod:`neurobias.analysis`, stamps the run's provenance on the result
and writes its Dataset and figures back into the directory, atomically.
Analysis files computed from an earlier run in the same directory are refused.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import xarray as xr

from neurobias.errors import InputError
from neurobias.workflows.output import Output
from neurobias.workflows.rundir import RunDir

__all__ = ["analyse_fixed_points", "analyse_continuation", "analyse_contexts", "write_report"]


def analyse_fixed_points(
    run_dir: str | os.PathLike,
    *,
    n_candidates: int = 256,
    seed: int = 0,
    tol: float = 1e-10,
    figures: bool = True,
    out: str | os.PathLike | None = None,
    progress: bool = False,
) -> Output:
    """Find the fixed points of every context of a run and write ``fixed_points.nc`` and figures.

    Parameters
    ----------
    run_dir : path
        A directory written by :func:`neurobias.run`.
    n_candidates, seed, tol
        See :func:`neurobias.analysis.find_fixed_points` (input is zero).
    figures : bool
        Write ``figures/fixed_points.png`` and ``figures/spectra.png``.
    out : path, optional
        Output file (default ``RUN_DIR/fixed_points.nc``).
    progress : bool
        Show a progress bar.

    Returns
    -------
    Output
        The ``fixed_points`` Dataset, the files written and a one-paragraph summary.
    """
    from neurobias.analysis import find_fixed_points
    from neurobias.workflows.prose import summarize_fixed_points

    d = RunDir(run_dir)
    circuit, results = d.open()
    d.check_writable(d.file("fixed_points") if out is None else Path(out), figures=figures,
                     what="fixed-points file")
    ds = find_fixed_points(circuit, results, n_candidates=n_candidates, seed=seed, tol=tol, progress=progress)
    ds = d.stamp(ds)
    files = {"fixed_points": d.write("fixed_points", ds, out=out)}
    if figures:
        from neurobias.plotting.fixed_points import plot_fixed_points, plot_spectra

        files.update(d.write_figures({"fixed_points": plot_fixed_points(ds, results), "spectra": plot_spectra(ds)}))
    return Output(ds, files, summarize_fixed_points(ds))


def analyse_continuation(
    run_dir: str | os.PathLike,
    *,
    start: str,
    end: str,
    steps: int = 1000,
    n_candidates: int = 256,
    seed: int = 0,
    figures: bool = True,
    out: str | os.PathLike | None = None,
    progress: bool = False,
) -> Output:
    """Follow the fixed points of context ``start`` to context ``end`` of a run; write ``continuation.nc``.

    The start points are read from ``RUN_DIR/fixed_points.nc`` when it exists
    (written by :func:`analyse_fixed_points`), otherwise found first.

    Parameters
    ----------
    run_dir : path
    start, end : str
        Context names of the run.
    steps, n_candidates, seed
        See :func:`neurobias.analysis.continue_fixed_points`.
    figures : bool
        Write ``figures/bifurcation.png``.
    out : path, optional
        Output file (default ``RUN_DIR/continuation.nc``).
    progress : bool
        Show a progress bar.

    Returns
    -------
    Output
        The ``continuation`` Dataset, the files written and a one-paragraph summary.
    """
    from neurobias.analysis.continuation import continue_fixed_points
    from neurobias.workflows.prose import summarize_continuation

    d = RunDir(run_dir)
    circuit, results = d.open()
    names = d.contexts()
    for flag, value in (("--from", start), ("--to", end)):
        if value not in names:
            raise InputError(f"{flag} {value!r} is not a context of {d.path}; choose from {', '.join(names)}")
    if start == end:
        raise InputError(f"--from and --to must be two different contexts; got {start!r} twice")
    d.check_writable(d.file("continuation") if out is None else Path(out), figures=figures,
                     what="continuation file")
    fixed = None
    fp = d.read_if_present("fixed_points")
    if fp is not None:
        sel = (fp["context"].values.astype(str) == start) & (fp["kind"].values.astype(str) == "fixed")
        fixed = fp["x"].values[sel]
    ds = continue_fixed_points(circuit, tonic=results, start=start, end=end, fixed_points=fixed, steps=steps,
                               n_candidates=n_candidates, seed=seed, progress=progress)
    ds = d.stamp(ds)
    files = {"continuation": d.write("continuation", ds, out=out)}
    if figures:
        from neurobias.plotting.bifurcation import plot_bifurcation

        files.update(d.write_figures({"bifurcation": plot_bifurcation(ds)}))
    return Output(ds, files, summarize_continuation(ds))


def analyse_contexts(
    run_dir: str | os.PathLike,
    *,
    figures: bool = True,
    out: str | os.PathLike | None = None,
    n_shuffles: int = 200,
    seed: int = 0,
) -> Output:
    """Compare the contexts of a run; write ``comparison.nc`` and figures.

    Uses ``RUN_DIR/fixed_points.nc`` when present (written by
    :func:`analyse_fixed_points`); without it the fixed-point parts are
    skipped and ``attrs["skipped"]`` says so.

    Parameters
    ----------
    run_dir : path
        A directory written by :func:`neurobias.run`, with at least two contexts.
    figures : bool
        Write ``figures/similarity.png``, ``figures/pca.png``,
        ``figures/task_variance.png`` (with task variance), and with fixed
        points ``figures/matched.png`` and ``figures/spectra.png``.
    out : path, optional
        Output file (default ``RUN_DIR/comparison.nc``).
    n_shuffles, seed
        See :func:`neurobias.analysis.context_comparison.compare_contexts`.

    Returns
    -------
    Output
        The comparison Dataset, the files written and
        :func:`~neurobias.workflows.report.summarize_comparison`'s text.
    """
    from neurobias.analysis.context_comparison import compare_contexts
    from neurobias.workflows.report import summarize_comparison

    d = RunDir(run_dir)
    circuit, results = d.open()
    if results.sizes["context"] < 2:
        raise InputError(f"compare-contexts needs at least two contexts; {d.file('results')} has one "
                         f"({results['context'].values[0]!s})")
    d.check_writable(d.file("comparison") if out is None else Path(out), figures=figures, what="comparison file")
    fixed = d.read_if_present("fixed_points")
    ds = compare_contexts(circuit, results, fixed, n_shuffles=n_shuffles, seed=seed)
    ds = d.stamp(ds)
    files = {"comparison": d.write("comparison", ds, out=out)}
    if figures:
        figs = _comparison_figures(ds, fixed)
        if fixed is not None:
            from neurobias.plotting.fixed_points import plot_spectra

            figs["spectra"] = plot_spectra(fixed)
        files.update(d.write_figures(figs))
    return Output(ds, files, summarize_comparison(ds, run_name=str(d.path)))


def _comparison_figures(ds: xr.Dataset, fixed: xr.Dataset | None) -> dict[str, Any]:
    from neurobias.plotting.comparison import plot_matched, plot_similarity, plot_task_variance, plot_tonic_pca

    figs: dict[str, Any] = {"similarity": plot_similarity(ds), "pca": plot_tonic_pca(ds)}
    if "tv_norm" in ds:
        figs["task_variance"] = plot_task_variance(ds)
    if fixed is not None and "fp_match" in ds.dims:
        figs["matched"] = plot_matched(ds, fixed)
    return figs


def write_report(run_dir: str | os.PathLike, *, out: str | os.PathLike | None = None) -> Output:
    """Write ``RUN_DIR/report.html``: one self-contained page over everything the run directory holds.

    Uses ``results.nc`` and, when present, ``fixed_points.nc``, ``continuation.nc``
    and ``comparison.nc``; sections whose file is missing say which command computes it.

    Parameters
    ----------
    run_dir : path
        A directory written by :func:`neurobias.run`.
    out : path, optional
        Output file (default ``RUN_DIR/report.html``).

    Returns
    -------
    Output
        The results Dataset and ``{"report": path}``.
    """
    from neurobias.workflows.prose import summarize_continuation, summarize_fixed_points
    from neurobias.plotting import figure_set
    from neurobias.workflows.report import render_report, summarize_comparison

    d = RunDir(run_dir)
    _, results = d.open()
    d.check_writable(d.file("report") if out is None else Path(out), what="report")
    figs: dict[str, Any] = dict(figure_set(results))
    texts: dict[str, str] = {}
    fixed = d.read_if_present("fixed_points")
    if fixed is not None:
        from neurobias.plotting.fixed_points import plot_fixed_points, plot_spectra

        figs["fixed_points"] = plot_fixed_points(fixed, results)
        figs["spectra"] = plot_spectra(fixed)
        texts["fixed-points"] = summarize_fixed_points(fixed)
    cont = d.read_if_present("continuation")
    if cont is not None:
        from neurobias.plotting.bifurcation import plot_bifurcation

        figs["bifurcation"] = plot_bifurcation(cont).figure
        texts["continuation"] = summarize_continuation(cont)
    comparison = d.read_if_present("comparison")
    if comparison is not None:
        figs.update(_comparison_figures(comparison, fixed if "fp_match" in comparison.dims else None))
        texts["comparison"] = summarize_comparison(comparison, run_name=str(d.path))
    html_text = render_report(results, figures=figs, fixed_points=fixed, continuation=cont, comparison=comparison,
                              texts=texts, run_name=str(d.path))
    path = d.write_text("report", html_text, out=out)
    return Output(results, {"report": path}, f"report: {path}")

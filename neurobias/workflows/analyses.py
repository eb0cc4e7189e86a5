"""The analyses of a run directory: what ``neurobias fixed-points``, ``periodic-orbits``, ``continue``,
``compare-contexts`` and ``report`` do.

Each command opens a :class:`~neurobias.workflows.rundir.RunDir`, calls the pure
analyses of :mod:`neurobias.analysis`, stamps the run's provenance on the result
and writes its Dataset and figures back into the directory, atomically.
Analysis files computed from an earlier run in the same directory are refused.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from neurobias.errors import InputError
from neurobias.workflows.output import Output
from neurobias.workflows.rundir import RunDir

__all__ = ["analyse_fixed_points", "analyse_periodic_orbits", "analyse_continuation", "analyse_contexts",
           "write_report"]


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


def analyse_periodic_orbits(
    run_dir: str | os.PathLike,
    *,
    contexts: list[str] | None = None,
    transient: float = 3000.0,
    duration: float = 4000.0,
    steps_per_tau: float = 5.0,
    n_multipliers: int | None = None,
    tol: float = 1e-10,
    seed: int = 0,
    figures: bool = True,
    out: str | os.PathLike | None = None,
    progress: bool = False,
) -> Output:
    """Find the limit cycle of every context of a run (or of ``contexts``); write ``periodic_orbits.nc``.

    Each context's circuit is simulated from rest; the periodicity of the
    trajectory seeds Newton shooting (see
    :func:`neurobias.analysis.find_periodic_orbits`).  A context that does not
    oscillate is kept in the file, marked not converged with a one-line reason.
    When the task trained a frequency per context (``condition_frequency_hz`` in
    ``results.nc``), the file holds it as ``trained_frequency`` next to the
    frequency of the free cycle.

    Parameters
    ----------
    run_dir : path
        A directory written by :func:`neurobias.run`.
    contexts : list of str, optional
        Context names (default: every context of the run).
    transient, duration, steps_per_tau, n_multipliers, tol, seed
        See :func:`neurobias.analysis.find_periodic_orbits` (input is zero).
    figures : bool
        Write ``figures/orbits.png`` (the cycles in principal-component space).
    out : path, optional
        Output file (default ``RUN_DIR/periodic_orbits.nc``).
    progress : bool
        Show a progress bar over contexts.

    Returns
    -------
    Output
        The ``periodic_orbits`` Dataset (dim ``orbit``, one per context), the
        files written and one line per context.
    """
    from neurobias.analysis.periodic_orbits import find_periodic_orbits
    from neurobias.workflows.report import summarize_periodic_orbits

    d = RunDir(run_dir)
    circuit, results = d.open()
    chosen = _chosen_contexts(d, contexts, flag="--context")
    d.check_writable(d.file("periodic_orbits") if out is None else Path(out), figures=figures,
                     what="periodic-orbits file")
    ds = find_periodic_orbits(circuit, results, contexts=chosen, transient=transient, duration=duration,
                              steps_per_tau=steps_per_tau, n_multipliers=n_multipliers, tol=tol, seed=seed,
                              progress=progress)
    ds = _with_trained_frequency(ds, results)
    ds = d.stamp(ds)
    files = {"periodic_orbits": d.write("periodic_orbits", ds, out=out)}
    if figures:
        from neurobias.plotting.orbits import plot_orbits

        files.update(d.write_figures({"orbits": plot_orbits(ds)}))
    return Output(ds, files, summarize_periodic_orbits(ds))


def _chosen_contexts(d: RunDir, contexts: list[str] | None, *, flag: str) -> list[str]:
    names = d.contexts()
    if contexts is None:
        return names
    if isinstance(contexts, str):
        contexts = [contexts]
    chosen = list(dict.fromkeys(str(c) for c in contexts))
    if not chosen:
        raise InputError(f"{flag} needs at least one context; choose from {', '.join(names)}")
    for c in chosen:
        if c not in names:
            raise InputError(f"{flag} {c!r} is not a context of {d.path}; choose from {', '.join(names)}")
    return chosen


def _with_trained_frequency(ds: xr.Dataset, results: xr.Dataset) -> xr.Dataset:
    """Add ``trained_frequency (orbit)`` when the run's task trained one frequency per context."""
    if "condition_frequency_hz" not in results or results["condition_frequency_hz"].dims != ("context",):
        return ds
    freq = results["condition_frequency_hz"]
    values = [float(freq.sel(context=c)) for c in ds["context"].values.astype(str)]
    ds["trained_frequency"] = (("orbit",), np.asarray(values, dtype=np.float64),
                               {"long_name": "frequency the context was trained to produce", "units": "Hz"})
    return ds


def analyse_continuation(
    run_dir: str | os.PathLike,
    *,
    start: str,
    end: str,
    steps: int = 1000,
    n_candidates: int = 256,
    seed: int = 0,
    orbits: bool = True,
    figures: bool = True,
    out: str | os.PathLike | None = None,
    orbits_out: str | os.PathLike | None = None,
    progress: bool = False,
) -> Output:
    """Follow the fixed points, and the limit cycles, of context ``start`` to context ``end`` of a run.

    Writes ``continuation.nc`` (fixed points).  The fixed points of both
    contexts (those followed from ``start``, and those of ``end`` that the
    branches are matched against) are read from ``RUN_DIR/fixed_points.nc``
    when it exists (written by :func:`analyse_fixed_points`), otherwise found
    first.  With ``orbits``, the
    limit cycles of the two end contexts (read from ``RUN_DIR/periodic_orbits.nc``
    when it holds both, otherwise found first) are followed along the same path
    when at least one end oscillates, and ``orbit_continuation.nc`` is written:
    period, frequency and amplitude against ``s``, where each cycle branch ends,
    and, for a branch that ends at a Hopf point, (``hopf_s``,
    ``hopf_difference``) the nearest Hopf point of the fixed-point
    continuation (for one whose period diverges, ``fold_s`` and
    ``fold_difference``: the nearest fold).  When no cycle is continued, an
    ``orbit_continuation.nc`` left in the run directory by an earlier call is
    removed (it would describe another path).

    Parameters
    ----------
    run_dir : path
    start, end : str
        Context names of the run.
    steps, n_candidates, seed
        See :func:`neurobias.analysis.continue_fixed_points` (``seed`` also seeds
        :func:`neurobias.analysis.continue_periodic_orbits`).
    orbits : bool
        Also continue the limit cycles of the end contexts.
    figures : bool
        Write ``figures/bifurcation.png`` (with cycles: the fixed-point diagram over
        frequency and amplitude of the cycles against ``s``).
    out : path, optional
        Output file (default ``RUN_DIR/continuation.nc``).
    orbits_out : path, optional
        Output file of the cycles (default ``RUN_DIR/orbit_continuation.nc``).
    progress : bool
        Show a progress bar.

    Returns
    -------
    Output
        The ``continuation`` Dataset, the files written and a summary: the
        fixed points' paragraph, then where along the path the circuit oscillates
        and where it settles.
    """
    from neurobias.analysis.continuation import continue_fixed_points
    from neurobias.analysis.periodic_orbits import oscillation_along_path
    from neurobias.workflows.prose import summarize_continuation
    from neurobias.workflows.report import summarize_path

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
    if orbits:
        d.check_writable(d.file("orbit_continuation") if orbits_out is None else Path(orbits_out),
                         what="orbit-continuation file")
    fixed = end_fixed = None
    fp = d.read_if_present("fixed_points")
    if fp is not None:  # the fixed points already found for both contexts are followed and matched, not searched again
        kinds, contexts = fp["kind"].values.astype(str), fp["context"].values.astype(str)
        fixed = fp["x"].values[(contexts == start) & (kinds == "fixed")]
        end_fixed = fp["x"].values[(contexts == end) & (kinds == "fixed")]
    ds = continue_fixed_points(circuit, tonic=results, start=start, end=end, fixed_points=fixed,
                               end_fixed_points=end_fixed, steps=steps, n_candidates=n_candidates, seed=seed,
                               progress=progress)
    cycles, why_not = _continue_cycles(d, start, end, seed=seed, progress=progress) if orbits else \
        (None, "not asked for (--no-orbits)")
    ds = d.stamp(ds)
    files = {"continuation": d.write("continuation", ds, out=out)}
    path = oscillation_along_path(ds, cycles, circuit)
    if cycles is not None:
        for name in ("hopf_s", "hopf_difference", "fold_s", "fold_difference"):
            cycles[name] = path[name]
        cycles = d.stamp(cycles)
        files["orbit_continuation"] = d.write("orbit_continuation", cycles, out=orbits_out)
    elif out is None and orbits_out is None and d.discard("orbit_continuation"):
        why_not += f"; the older {d.file('orbit_continuation').name} was removed (it described another path)"
    if figures:
        if cycles is not None:
            from neurobias.plotting.orbits import plot_cycle_diagram

            fig = plot_cycle_diagram(ds, cycles)
        else:
            from neurobias.plotting.bifurcation import plot_bifurcation

            fig = plot_bifurcation(ds)
        files.update(d.write_figures({"bifurcation": fig}))
    return Output(ds, files, summarize_continuation(ds) + "\n" + summarize_path(path, why_not=why_not))


def _continue_cycles(d: RunDir, start: str, end: str, *, seed: int, progress: bool) -> tuple[xr.Dataset | None, str]:
    """The cycle branches from the two ends of the path, or None and why there are none."""
    from neurobias.analysis.periodic_orbits import continue_periodic_orbits, find_periodic_orbits

    circuit, results = d.open()
    po = d.read_if_present("periodic_orbits")
    have = set(po["context"].values.astype(str)) if po is not None else set()
    if {start, end} <= have:
        keep = np.isin(po["context"].values.astype(str), [start, end])
        ends = po.isel(orbit=np.nonzero(keep)[0])
    else:
        settings = {} if po is None else dict(steps_per_tau=float(po.attrs["steps_per_tau"]),
                                              n_multipliers=int(po.attrs["n_multipliers"]))
        ends = find_periodic_orbits(circuit, results, contexts=[start, end], seed=seed, progress=progress,
                                    **settings)
    conv = ends["converged"].values.astype(bool)
    if not conv.any():
        return None, f"neither {start} nor {end} has a limit cycle: no cycle to follow"
    cycles = continue_periodic_orbits(circuit, ends, tonic=results, start=start, end=end, seed=seed,
                                      progress=progress)
    return cycles, ""


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

    Uses ``results.nc`` and, when present, ``fixed_points.nc``, ``continuation.nc``,
    ``periodic_orbits.nc``, ``orbit_continuation.nc`` and ``comparison.nc``; sections
    whose file is missing say which command computes it.

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
    orbits, oscillation = _report_oscillations(d, cont, figs, texts)
    html_text = render_report(results, figures=figs, fixed_points=fixed, continuation=cont, comparison=comparison,
                              texts=texts, run_name=str(d.path), periodic_orbits=orbits, oscillation=oscillation)
    path = d.write_text("report", html_text, out=out)
    return Output(results, {"report": path}, f"report: {path}")


def _report_oscillations(d: RunDir, cont: xr.Dataset | None, figs: dict[str, Any], texts: dict[str, str]
                         ) -> tuple[xr.Dataset | None, xr.Dataset | None]:
    """The limit cycles and the path's oscillation intervals for the report; adds their figures and texts."""
    from neurobias.analysis.periodic_orbits import oscillation_along_path

    circuit, _ = d.open()
    orbits = d.read_if_present("periodic_orbits")
    if orbits is not None:
        from neurobias.plotting.orbits import plot_orbits

        figs["orbits"] = plot_orbits(orbits).figure
    if cont is None:
        return orbits, None
    start, end = str(cont.attrs.get("start_label", "")), str(cont.attrs.get("end_label", ""))
    cycles = d.read_if_present("orbit_continuation")
    if cycles is not None and (str(cycles.attrs.get("start_label")), str(cycles.attrs.get("end_label"))) != (start,
                                                                                                           end):
        cycles = None  # it follows another path than continuation.nc
    if cycles is None:
        ends_known = orbits is not None and {start, end} <= set(orbits["context"].values.astype(str))
        still = ends_known and not orbits["converged"].values[
            np.isin(orbits["context"].values.astype(str), [start, end])].any()
        if not still:
            texts["oscillations"] = (f"Cycles along the path from {start} to {end} not computed yet: run "
                                     f"`neurobias continue {d.path} --from {start} --to {end}` (without "
                                     "--no-orbits).")
            return orbits, None
    oscillation = oscillation_along_path(cont, cycles, circuit)
    if cycles is not None:
        from neurobias.plotting.orbits import plot_cycle_diagram, plot_cycle_frequency

        figs["bifurcation"] = plot_cycle_diagram(cont, cycles)
        figs["cycle_frequency"] = plot_cycle_frequency(cycles, cont).figure
    return orbits, oscillation

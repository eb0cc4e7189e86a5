"""Analyses of a run directory: what ``neurobias fixed-points``, ``continue``, ``compare-contexts`` and ``report`` do.

These functions read ``RUN_DIR/circuit.nc`` and ``RUN_DIR/results.nc`` (written
by :func:`neurobias.run`), call the pure analyses of :mod:`neurobias.analysis`
and write their Datasets and figures back into the run directory, atomically.
:func:`compare_contexts` and :func:`summarize_comparison` are pure (Datasets in,
Dataset or text out); :func:`comparison_of_run` wraps them for a run directory.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from neurobias.errors import InputError, check_number

__all__ = [
    "AnalysisOutput",
    "fixed_points_of_run",
    "continuation_of_run",
    "comparison_of_run",
    "compare_contexts",
    "summarize_comparison",
    "report_of_run",
    "open_run",
]


@dataclass(frozen=True)
class AnalysisOutput:
    """A Dataset computed for a run, and the files written for it."""

    dataset: xr.Dataset
    files: dict[str, Path] = field(default_factory=dict)
    summary: str = ""


def open_run(run_dir: str | os.PathLike) -> tuple[Any, xr.Dataset, Path]:
    """Open a run directory: its circuit, its results and the directory path."""
    from neurobias.io import open_circuit, open_results

    d = Path(run_dir)
    if not os.path.isdir(d):
        raise InputError(f"run directory not found: {d} (write one with `neurobias run CONFIG --out {d}`)")
    for name in ("circuit.nc", "results.nc"):
        if not (d / name).exists():
            raise InputError(f"{d} is not a run directory: {name} is missing (write it with `neurobias run`)")
    circuit = open_circuit(d / "circuit.nc")
    results = open_results(d / "results.nc")
    if results.sizes["unit"] != circuit.n_units:
        raise InputError(f"{d}/results.nc has {results.sizes['unit']} units but {d}/circuit.nc has "
                         f"{circuit.n_units}: the files come from different runs")
    return circuit, results, d


def _provenance(ds: xr.Dataset, results: xr.Dataset, circuit: Any) -> xr.Dataset:
    """Add what produced ``ds``: the run's config and seed, the circuit's and the tonic inputs' fingerprints."""
    from neurobias.io.circuit import provenance_attrs

    ds.attrs.update(provenance_attrs(circuit, config_toml=str(results.attrs.get("config", "")),
                                     seed=int(results.attrs.get("seed", -1)), tonic=results["tonic"].values))
    return ds


#: the command that writes each analysis file of a run directory
_WRITER = {"fixed_points": "fixed-points", "continuation": "continue", "comparison": "compare-contexts"}


def _read_product(path: Path, kind: str, circuit: Any, results: xr.Dataset) -> xr.Dataset:
    """Read an analysis file of a run directory, refusing one computed from another circuit or tonic inputs.

    A run redone into the same directory leaves the older analysis files
    there; their weight and tonic-input fingerprints (``circuit_sha256_*``,
    ``tonic_sha256``, written by :func:`_provenance`) then differ from those
    of the run's ``circuit.nc`` and ``results.nc``.  Files without
    fingerprints are accepted as they are.
    """
    from neurobias.io import read_dataset
    from neurobias.io.circuit import weight_hashes
    from neurobias.io.hashing import sha256_array

    ds = read_dataset(path, kind=kind)
    expected = {f"circuit_sha256_{name}": digest for name, digest in weight_hashes(circuit).items()}
    expected["tonic_sha256"] = sha256_array(results["tonic"].values)
    stale = sorted(k for k, v in expected.items() if k in ds.attrs and str(ds.attrs[k]) != v)
    if stale:
        what = "other tonic inputs" if stale == ["tonic_sha256"] else "another circuit"
        raise InputError(
            f"{path} was computed from {what} than the run in {path.parent} ({', '.join(stale)} differ: "
            f"the run was redone after it was written); compute it again with `neurobias {_WRITER[kind]} "
            f"{path.parent}` or delete it")
    return ds


def _check_outputs(out: Path, run_dir: Path, *, figures: bool, what: str) -> None:
    """Report an output that cannot be written before the analysis starts (nothing is created)."""
    from neurobias.io.files import check_writable_file

    check_writable_file(out, what=what)
    if figures:
        check_writable_file(run_dir / "figures" / "check.png", what="figure")


def fixed_points_of_run(
    run_dir: str | os.PathLike,
    *,
    n_candidates: int = 256,
    seed: int = 0,
    tol: float = 1e-10,
    figures: bool = True,
    out: str | os.PathLike | None = None,
    progress: bool = False,
) -> AnalysisOutput:
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
    """
    from neurobias.analysis import find_fixed_points
    from neurobias.analysis.summary import summarize_fixed_points
    from neurobias.io import write_dataset

    circuit, results, d = open_run(run_dir)
    target = Path(out) if out is not None else d / "fixed_points.nc"
    _check_outputs(target, d, figures=figures, what="fixed-points file")
    ds = find_fixed_points(circuit, results, n_candidates=n_candidates, seed=seed, tol=tol, progress=progress)
    ds = _provenance(ds, results, circuit)
    files = {"fixed_points": write_dataset(ds, target, kind="fixed_points")}
    if figures:
        from neurobias.io.figures import save_figure
        from neurobias.plotting.fixed_points import plot_fixed_points, plot_spectra

        files["figure_fixed_points"] = save_figure(plot_fixed_points(ds, results), d / "figures" / "fixed_points.png")
        files["figure_spectra"] = save_figure(plot_spectra(ds), d / "figures" / "spectra.png")
    return AnalysisOutput(ds, files, summarize_fixed_points(ds))


def continuation_of_run(
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
) -> AnalysisOutput:
    """Follow the fixed points of context ``start`` to context ``end`` of a run; write ``continuation.nc``.

    The start points are read from ``RUN_DIR/fixed_points.nc`` when it exists
    (written by :func:`fixed_points_of_run`), otherwise found first.

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
    """
    from neurobias.analysis.continuation import continue_fixed_points
    from neurobias.analysis.summary import summarize_continuation
    from neurobias.io import write_dataset

    circuit, results, d = open_run(run_dir)
    names = [str(c) for c in results["context"].values]
    for flag, value in (("--from", start), ("--to", end)):
        if value not in names:
            raise InputError(f"{flag} {value!r} is not a context of {d}; choose from {', '.join(names)}")
    if start == end:
        raise InputError(f"--from and --to must be two different contexts; got {start!r} twice")
    target = Path(out) if out is not None else d / "continuation.nc"
    _check_outputs(target, d, figures=figures, what="continuation file")
    fixed = None
    fp_file = d / "fixed_points.nc"
    if fp_file.exists():
        fp = _read_product(fp_file, "fixed_points", circuit, results)
        sel = (fp["context"].values.astype(str) == start) & (fp["kind"].values.astype(str) == "fixed")
        fixed = fp["x"].values[sel]
    ds = continue_fixed_points(circuit, tonic=results, start=start, end=end, fixed_points=fixed, steps=steps,
                               n_candidates=n_candidates, seed=seed, progress=progress)
    ds = _provenance(ds, results, circuit)
    files = {"continuation": write_dataset(ds, target, kind="continuation")}
    if figures:
        from neurobias.io.figures import save_figure
        from neurobias.plotting.bifurcation import plot_bifurcation

        ax = plot_bifurcation(ds)
        files["figure_bifurcation"] = save_figure(ax.figure, d / "figures" / "bifurcation.png")
    return AnalysisOutput(ds, files, summarize_continuation(ds))


# ------------------------------------------------------------------ comparison
def _bools_to_int8(ds: xr.Dataset) -> xr.Dataset:
    for name in list(ds.data_vars):
        if ds[name].dtype == bool:
            ds[name] = ds[name].astype(np.int8)
    return ds


def _prefixed(ds: xr.Dataset, prefix: str, *, dims: dict[str, str] | None = None, names: dict[str, str] | None = None,
              drop: tuple[str, ...] = ()) -> xr.Dataset:
    """``ds`` without attributes, its variables renamed ``prefix + name`` and its private dims renamed.

    ``names`` overrides single variable names; a name that already starts with
    ``prefix`` (or equals it without the underscore) keeps it.
    """
    ds = ds.drop_vars([v for v in drop if v in ds.variables])
    dims = dict(dims or {})
    names = dict(names or {})
    mapping: dict[str, str] = {}
    for name in ds.data_vars:
        name = str(name)
        if name in names:
            mapping[name] = names[name]
        elif name.startswith(prefix) or name == prefix.rstrip("_"):
            continue
        else:
            mapping[name] = prefix + name
    for old, new in dims.items():
        if old in ds.dims or old in ds.coords:
            mapping[old] = new
    out = ds.rename(mapping)
    out.attrs = {}
    return _bools_to_int8(out)


def compare_contexts(
    circuit: Any,
    results: xr.Dataset,
    fixed_points: xr.Dataset | None = None,
    *,
    n_shuffles: int = 200,
    seed: int = 0,
) -> xr.Dataset:
    """Everything that tells the contexts of a trained circuit apart, in one Dataset (pure: no file I/O).

    Gathers the analyses of :mod:`neurobias.analysis` with their defaults:

    * :func:`~neurobias.analysis.context_summary.summarize_contexts`: the table
      per context and per pair of contexts (names kept; its fixed-point
      variables get the prefix ``fp_``);
    * ``tonic_correlation (context, context_b)``: Pearson correlation of the
      tonic inputs across units (:func:`~neurobias.analysis.tonic_patterns.tonic_similarity`);
    * :func:`~neurobias.analysis.tonic_patterns.tonic_pca` (centred,
      ``n_shuffles`` unit shuffles): ``pca_*``, dims ``pca_component``, ``pca_shuffle``;
    * :func:`~neurobias.analysis.gain.effective_gain` at the trial-and-time
      average state of the trajectories in ``results``: ``gain``, ``gain_*``,
      dims ``gain_mode``, ``gain_mode_top``;
    * :func:`~neurobias.analysis.alignment.tonic_alignment` (``n_shuffles``
      shuffles): ``align_*``, dim ``align_mode``;
    * :func:`~neurobias.analysis.task_variance.task_variance` of the rates
      (``tv``, ``tv_*``): across the trials of a context (Yang et al. 2019)
      when their conditions or inputs differ, otherwise (e.g. sine generation,
      one condition per context) across time within the trial
      (``attrs["tv_across"]`` says which);
      :func:`~neurobias.analysis.task_variance.cluster_units` (``cluster``,
      ``cluster_*``, dims ``cluster_id``, ``cluster_k``; needs 3 active units
      with 3 distinct profiles) and
      :func:`~neurobias.analysis.task_variance.tonic_variance_correlation`
      (``tv_pearson``, ... dim ``tv_group``);
    * with ``fixed_points``: the fixed-point structure (in the summary),
      every matched pair of fixed points between every two contexts
      (:func:`~neurobias.analysis.fixed_point_comparison.match_fixed_points_between`,
      ``fp_match_*``, dim ``fp_match``), the manifold of fixed and slow points
      of each context (:func:`~neurobias.analysis.attractors.detect_manifold`,
      ``manifold_*``) and, when the circuit has inputs, the selection vectors
      (:func:`~neurobias.analysis.attractors.selection_vectors`, ``sel_*``).

    Parts that cannot be computed are left out and say why in
    ``attrs["skipped"]``; ``attrs["parts"]`` lists those present. The layout
    of every variable is in docs/schema.md (kind ``comparison``).

    Parameters
    ----------
    circuit : Circuit
        The trained circuit.
    results : xarray.Dataset
        Its ``results`` Dataset (``tonic (context, unit)``, trajectories ``x``
        and ``r (context, trial, time, unit)``, ``nmse``), at least two contexts.
    fixed_points : xarray.Dataset, optional
        :func:`~neurobias.analysis.find_fixed_points` of ``circuit`` with these tonic inputs.
    n_shuffles : int
        Unit shuffles of the PCA and alignment nulls.
    seed : int
        Seed of the shuffles and of k-means.

    Returns
    -------
    xarray.Dataset
        Dims ``context``, ``context_b``, ``unit`` shared by all parts.

    Raises
    ------
    InputError
        Fewer than two contexts, results or fixed points of another circuit, bad options.
    """
    from neurobias.analysis.alignment import tonic_alignment
    from neurobias.analysis.attractors import detect_manifold, selection_vectors
    from neurobias.analysis.context_summary import summarize_contexts
    from neurobias.analysis.fixed_point_comparison import match_fixed_points_between
    from neurobias.analysis.gain import effective_gain
    from neurobias.analysis.task_variance import cluster_units, task_variance, tonic_variance_correlation
    from neurobias.analysis.tonic_patterns import as_bank, tonic_pca, tonic_similarity

    n_shuffles = check_number("n_shuffles", n_shuffles, ge=0, integer=True)
    seed = check_number("seed", seed, ge=0, integer=True)
    if not isinstance(results, xr.Dataset):
        raise InputError(f"`results` must be a results Dataset (results.nc); got {type(results).__name__}")
    bank = as_bank(results, name="results")
    names = bank.contexts.tolist()
    if len(names) < 2:
        raise InputError(f"comparing contexts needs at least two contexts; the results have one ({names[0]!r})")
    if "x" not in results.data_vars:
        raise InputError("`results` must hold the trajectories `x` (context, trial, time, unit), as results.nc does")
    results = results.sel(context=names)
    parts: list[str] = []
    skipped: list[str] = []

    summary = summarize_contexts(results, fixed_points, circuit=circuit)
    fp_names = {v: f"fp_{v}" for v in ("n_points", "n_matched", "n_unmatched_a", "n_unmatched_b",
                                       "n_stability_changed", "mean_displacement", "max_displacement",
                                       "mean_eig_change", "mean_leading_change", "mean_slow_angle")}
    summary = summary.rename({k: v for k, v in fp_names.items() if k in summary.data_vars})
    fp_kind = list(summary.attrs.get("kind", ["fixed"]))
    summary_parts = list(summary.attrs.get("parts", []))
    summary.attrs = {}
    pieces = [_bools_to_int8(summary)]
    parts += [p for p in ("tonic", "nmse") if p in summary_parts]
    corr = tonic_similarity(bank.values, metric="correlation")
    pieces.append(xr.Dataset({"tonic_correlation": (("context", "context_b"), corr.values,
                                                    {"long_name": "Pearson correlation of tonic inputs across units"})},
                             coords={"context": bank.contexts, "context_b": ("context_b", bank.contexts.copy())}))

    pca = tonic_pca(results, n_shuffles=n_shuffles, seed=seed)
    pca = pca.drop_vars("mean")
    pieces.append(_prefixed(pca, "pca_", dims={"component": "pca_component", "shuffle": "pca_shuffle"}))
    parts.append("pca")

    gain = effective_gain(circuit, results)
    gain_attrs = dict(gain.attrs)
    pieces.append(_prefixed(gain, "gain_", dims={"mode": "gain_mode", "mode_top": "gain_mode_top"},
                            drop=("on_fraction", "spectral_abscissa", "gain_change", "switched")))
    parts.append("gain")

    align = tonic_alignment(circuit, results, n_shuffles=n_shuffles, seed=seed)
    align_attrs = dict(align.attrs)
    rename = {name: "align_" + str(name).replace("_alignment", "") for name in align.data_vars}
    rename.update({"eig_real": "align_wrec_eig_real", "eig_imag": "align_wrec_eig_imag",
                   "singular_value": "align_wrec_singular_value"})
    pieces.append(_prefixed(align, "align_", dims={"mode": "align_mode"}, names=rename))
    parts.append("alignment")

    attrs: dict[str, Any] = {
        "contexts": names, "n_shuffles": n_shuffles, "seed": seed,
        "gain_mode": str(gain_attrs["mode"]), "gain_threshold": float(gain_attrs["threshold"]),
        "gain_max_slope": float(gain_attrs["max_slope"]), "align_null_abs_cos": float(align_attrs["null_abs_cos"]),
        "form": circuit.form, "phi": circuit.phi, "tau": float(circuit.tau),
    }

    activity, across = _task_variance_activity(results)
    if activity is not None:
        tv = task_variance(activity)
        attrs.update(tv_variable="r", tv_across=across, tv_normalize=str(tv.attrs["normalize"]),
                     tv_min_variance=float(tv.attrs["min_variance"]))
        pieces.append(_prefixed(tv, "tv_"))
        parts.append("task_variance")
        n_active = int(np.sum(tv["active"].values))
        profiles = np.asarray(tv["tv_norm"].values)[:, np.asarray(tv["active"].values, dtype=bool)]
        n_distinct = int(np.unique(np.round(profiles.T, 12), axis=0).shape[0]) if n_active else 0
        clusters = None
        if n_active < 3:
            skipped.append(f"unit clusters: only {n_active} unit(s) have task variance (3 needed)")
        elif n_distinct < 3:
            skipped.append(f"unit clusters: the active units have only {n_distinct} distinct task-variance "
                           "profile(s) (3 needed)")
        else:
            # at most n_distinct - 1 clusters: k-means cannot fill more clusters than there are distinct points
            clusters = cluster_units(tv, seed=seed, k_range=(2, max(2, min(8, n_distinct - 1))))
            attrs.update(cluster_k=int(clusters.attrs["k"]), cluster_criterion=str(clusters.attrs["criterion"]),
                         cluster_n_active=int(clusters.attrs["n_active"]))
            pieces.append(_prefixed(clusters, "cluster_", dims={"k": "cluster_k"}))
            parts.append("clusters")
        tvc = tonic_variance_correlation(results, tv, clusters)
        pieces.append(_prefixed(tvc, "tv_", dims={"group": "tv_group"}))
    else:
        skipped.append(f"task variance and unit clusters: {across}")

    if fixed_points is None:
        skipped.append("fixed-point structure, matches, manifolds and selection vectors: no fixed points "
                       "(run `neurobias fixed-points RUN_DIR` first)")
    else:
        parts.append("fixed_points")
        attrs["fp_kind"] = fp_kind
        pieces.append(_match_table(fixed_points, names, circuit, results, match_fixed_points_between))
        parts.append("matches")
        man = [detect_manifold(fixed_points, c) for c in names]
        pieces.append(xr.Dataset(
            {
                "manifold_dimension": (("context",), np.array([int(m["dimension"]) for m in man], dtype=np.int64),
                                       {"long_name": "0 isolated points, 1 line, 2 plane or ring"}),
                "manifold_shape": (("context",), np.array([str(m["shape"].values) for m in man], dtype=str),
                                   {"long_name": "none, isolated, line, ring, arc or plane"}),
                "manifold_n_points": (("context",), np.array([int(m["n_points"]) for m in man], dtype=np.int64),
                                      {"long_name": "fixed and slow points of the context"}),
                "manifold_participation_ratio": (("context",), np.array([float(m["participation_ratio"])
                                                                          for m in man]),
                                                 {"long_name": "participation ratio of the points' positions"}),
                "manifold_extent": (("context",), np.array([float(m["extent"]) for m in man]),
                                    {"long_name": "standard deviation along PC1", "units": "state units"}),
                "manifold_max_gap": (("context",), np.array([float(m["max_gap"]) for m in man]),
                                     {"long_name": "largest gap, fraction of the range"}),
            },
            coords={"context": bank.contexts},
        ))
        parts.append("manifold")
        if circuit.n_inputs:
            sel = selection_vectors(circuit, results, fixed_points)
            attrs["selection_reference"] = str(sel.attrs["reference"])
            pieces.append(_prefixed(sel.sel(context=names), "sel_"))
            parts.append("selection")
        else:
            skipped.append("selection vectors: the circuit has no input channel")
    try:
        ds = xr.merge(pieces, join="exact", compat="no_conflicts", combine_attrs="drop")
    except ValueError as exc:  # pragma: no cover - a bug: the parts disagree on a shared coordinate
        raise RuntimeError(f"the comparison parts do not fit in one Dataset: {exc}") from exc
    attrs["parts"] = ", ".join(parts)
    attrs["skipped"] = "; ".join(skipped)
    ds.attrs = attrs
    return ds


def _trials_differ(results: xr.Dataset) -> bool:
    """Whether the trials of a context differ in their conditions (``trial_*`` variables) or inputs."""
    for name, var in results.data_vars.items():
        if str(name).startswith("trial_") and var.dims == ("context", "trial"):
            vals = np.asarray(var.values)
            if any(len(set(row.tolist())) > 1 for row in vals):
                return True
    if "inputs" in results.data_vars and results["inputs"].size:
        u = np.asarray(results["inputs"].transpose("context", "trial", "time", "input").values)
        return bool(np.any(u != u[:, :1]))
    return False


def _task_variance_activity(results: xr.Dataset) -> tuple[xr.DataArray | None, str]:
    """The rates to measure task variance on, and across what: ``"trials"`` or ``"time"`` (or why not).

    Yang et al. (2019) take the variance across the trials (conditions) of a
    context.  When the trials of a context do not differ (one condition per
    context, e.g. sine generation), the variance across time within the trial
    is used instead: ``task_variance`` is given the rates with the ``trial``
    and ``time`` axes exchanged, so it averages over trials the variance over time.
    """
    r = results["r"].transpose("context", "trial", "time", "unit")
    n_trials, n_time = r.sizes["trial"], r.sizes["time"]
    if n_trials >= 2 and _trials_differ(results):
        return r, "trials"
    if n_time < 2:
        return None, f"the trials of a context do not differ and have {n_time} time point"
    swapped = xr.DataArray(
        np.ascontiguousarray(r.values.transpose(0, 2, 1, 3)), dims=("context", "trial", "time", "unit"),
        coords={"context": r["context"].values, "unit": r["unit"].values},
    )
    return swapped, "time"


def _match_table(fixed_points: xr.Dataset, names: list[str], circuit: Any, results: xr.Dataset,
                 match: Any) -> xr.Dataset:
    """Every matched pair of fixed points between every two contexts (``a`` before ``b``), flat along ``fp_match``."""
    cols: dict[str, list[Any]] = {k: [] for k in ("context_a", "context_b", "a", "b", "distance", "eig_change_max")}
    thr = np.full((len(names), len(names)), np.nan)
    for i, a in enumerate(names):
        for j in range(i + 1, len(names)):
            b = names[j]
            # slow-subspace angles per match are skipped (n_slow=0): the summary holds their mean per pair
            m = match(fixed_points, a, b, circuit=circuit, tonic=results, n_slow=0)
            thr[i, j] = thr[j, i] = float(m.attrs["threshold"])
            n = m.sizes["match"]
            cols["context_a"] += [a] * n
            cols["context_b"] += [b] * n
            cols["a"] += m["fp_a"].values.tolist()
            cols["b"] += m["fp_b"].values.tolist()
            cols["distance"] += m["distance"].values.tolist()
            cols["eig_change_max"] += m["eig_change_max"].values.tolist()
    n_all = len(cols["a"])
    dim = ("fp_match",)
    return xr.Dataset(
        {
            "fp_match_context_a": (dim, np.array(cols["context_a"], dtype=str).reshape(n_all),
                                   {"long_name": "first context of the pair"}),
            "fp_match_context_b": (dim, np.array(cols["context_b"], dtype=str).reshape(n_all),
                                   {"long_name": "second context of the pair"}),
            "fp_match_a": (dim, np.array(cols["a"], dtype=np.int64).reshape(n_all),
                           {"long_name": "fp label (in fixed_points.nc) of the point of context_a"}),
            "fp_match_b": (dim, np.array(cols["b"], dtype=np.int64).reshape(n_all),
                           {"long_name": "fp label of the matched point of context_b"}),
            "fp_match_distance": (dim, np.array(cols["distance"], dtype=np.float64).reshape(n_all),
                                  {"long_name": "|x_b - x_a|", "units": "state units"}),
            "fp_match_eig_change": (dim, np.array(cols["eig_change_max"], dtype=np.float64).reshape(n_all),
                                    {"long_name": "max_k |lambda_b,k - lambda_a,k| of the leading eigenvalues",
                                     "units": "1/ms"}),
            "fp_threshold": (("context", "context_b"), thr,
                             {"long_name": "matching threshold of the pair", "units": "state units"}),
        },
        coords={"fp_match": np.arange(n_all), "context": np.array(names, dtype=str),
                "context_b": ("context_b", np.array(names, dtype=str))},
    )


def _fmt(v: float, digits: int = 3) -> str:
    return "n/a" if not np.isfinite(v) else f"{v:.{digits}g}"


def _pct(v: float) -> str:
    return "n/a" if not np.isfinite(v) else f"{100 * v:.0f}%"


def summarize_comparison(comparison: xr.Dataset, *, run_name: str = "RUN_DIR") -> str:
    """Plain-language paragraphs (one per line) on how the contexts differ, from :func:`compare_contexts`'s Dataset.

    Which contexts are most and least similar in their tonic inputs, the
    dimensionality of the tonic bank against its shuffle null, the unit
    clusters of task variance, the effective gain, and what changes in the
    fixed points (or which command computes them).
    """
    ds = comparison
    names = [str(c) for c in ds["context"].values]
    C = len(names)
    paras: list[str] = []

    cos = np.asarray(ds["tonic_cosine"].values, dtype=float)
    dist = np.asarray(ds["tonic_distance"].values, dtype=float)
    norms = np.asarray(ds["tonic_norm"].values, dtype=float)
    iu = [(i, j) for i in range(C) for j in range(i + 1, C)]
    vals = np.array([cos[i, j] for i, j in iu])
    norm_txt = ", ".join(f"{c} {_fmt(n)}" for c, n in zip(names, norms))
    if C == 2:
        text = (f"Tonic inputs: the two contexts' tonic inputs have cosine similarity {_fmt(vals[0], 2)} "
                f"(1 = same direction, 0 = orthogonal) and lie {_fmt(dist[0, 1])} apart (Euclidean, state units); "
                f"their norms are {norm_txt}.")
    elif np.all(np.isnan(vals)):
        text = f"Tonic inputs: cosine similarities are undefined (a zero tonic input); norms {norm_txt}."
    else:
        hi, lo = iu[int(np.nanargmax(vals))], iu[int(np.nanargmin(vals))]
        text = (f"Tonic inputs: the most similar contexts are {names[hi[0]]} and {names[hi[1]]} (cosine "
                f"{_fmt(cos[hi], 2)}, distance {_fmt(dist[hi])}); the least similar are {names[lo[0]]} and "
                f"{names[lo[1]]} (cosine {_fmt(cos[lo], 2)}, distance {_fmt(dist[lo])}). Norms: {norm_txt}.")
    paras.append(text)

    if "pca_participation_ratio" in ds:
        pr = float(ds["pca_participation_ratio"])
        K = int(ds.sizes["pca_component"])
        ratio = np.asarray(ds["pca_explained_variance_ratio"].values, dtype=float)
        null = np.asarray(ds["pca_null_participation_ratio"].values, dtype=float)
        p = float(ds["pca_p_value"])
        if K <= 1:
            text = ("Dimensionality: with two contexts the tonic inputs differ along a single direction "
                    "(their difference), so the bank's dimensionality carries no information.")
        else:
            text = (f"Dimensionality: the contexts' tonic inputs differ along {_fmt(pr, 2)} effective dimensions "
                    f"(participation ratio of the centred bank, at most {K}); PC1 carries {_pct(ratio[0])} of the "
                    "variance.")
            if null.size:
                verdict = ("more aligned across contexts (lower-dimensional) than chance" if p < 0.05 else
                           "no more aligned across contexts than chance")
                text += (f" With each context's units shuffled the ratio is {_fmt(float(np.mean(null)), 2)} "
                         f"± {_fmt(float(np.std(null)), 2)} (p = {_fmt(p, 2)}, {null.size} shuffles): the differences "
                         f"are {verdict}.")
        paras.append(text)

    if "tv" in ds:
        n_units = int(ds.sizes["unit"])
        n_active = int(np.sum(ds["tv_active"].values))
        if ds.attrs.get("tv_across") == "time":
            what = ("variance of each unit's rate over time within a trial, averaged over trials: the trials of a "
                    "context do not differ, so the variance across conditions of Yang et al. 2019 is replaced by "
                    "the variance over time")
        else:
            what = "variance of each unit's rate across the trials of a context, averaged over time; Yang et al. 2019"
        text = f"Task variance ({what}): {n_active} of {n_units} units are active."
        if "cluster" in ds:
            k = int(ds.attrs.get("cluster_k", ds.sizes["cluster_id"]))
            sil = np.asarray(ds["cluster_silhouette"].values, dtype=float)
            ks = np.asarray(ds["cluster_k"].values)
            s_k = sil[list(ks).index(k)] if k in ks else np.nan
            text += f" Their normalised profiles fall into {k} clusters (k-means, mean silhouette {_fmt(s_k, 2)}):"
            cent = np.asarray(ds["cluster_centroids"].transpose("cluster_id", "context").values, dtype=float)
            sizes = np.asarray(ds["cluster_size"].values)
            descr = []
            for j in range(cent.shape[0]):
                high = [names[c] for c in np.flatnonzero(cent[j] > 0.5)]
                if len(high) == C:
                    where = "in every context"
                elif len(high) <= 1:
                    where = f"mostly in {names[int(np.argmax(cent[j]))]}"
                else:
                    where = "in " + ", ".join(high[:-1]) + " and " + high[-1]
                prof = ", ".join(f"{c} {v:.2f}" for c, v in zip(names, cent[j]))
                descr.append(f"cluster {j} ({int(sizes[j])} units) varies {where} ({prof})")
            text += " " + "; ".join(descr) + "."
        if "tv_pearson_pooled" in ds and "all" in [str(g) for g in ds["tv_group"].values]:
            r = float(ds["tv_pearson_pooled"].sel(tv_group="all"))
            p = float(ds["tv_pearson_p_pooled"].sel(tv_group="all"))
            if np.isfinite(r):
                text += (f" A unit's tonic input and its task variance correlate with r = {_fmt(r, 2)} "
                         f"(Pearson, all contexts pooled, p = {_fmt(p, 2)}).")
        paras.append(text)

    if "on_fraction" in ds:
        on = np.asarray(ds["on_fraction"].values, dtype=float)
        absc = np.asarray(ds["spectral_abscissa"].values, dtype=float)
        sw = np.asarray(ds["switched"].values, dtype=float)
        text = ("Effective gain at the time-averaged state: units with phi' above half its maximum ('on'): "
                + ", ".join(f"{c} {_pct(v)}" for c, v in zip(names, on)) + ".")
        if iu:
            svals = np.array([sw[i, j] for i, j in iu])
            b = iu[int(np.nanargmax(svals))] if np.any(np.isfinite(svals)) else iu[0]
            if np.isfinite(sw[b]) and sw[b] > 0:
                text += (f" Changing context switches up to {_pct(sw[b])} of the units on or off ({names[b[0]]} vs "
                         f"{names[b[1]]}).")
            else:
                text += " No unit switches on or off between contexts."
        text += (" Largest real part of the effective connectivity's eigenvalues (the operating point is stable "
                 "below 1): " + ", ".join(f"{c} {_fmt(v)}" for c, v in zip(names, absc)) + ".")
        paras.append(text)

    if "fp_counts" in ds:
        counts = ds["fp_counts"]
        per = []
        for c in names:
            row = counts.sel(context=c)
            n = int(row.sum())
            n_st = int(row.sel(stability="stable")) if "stable" in counts["stability"].values else 0
            per.append(f"{c} {n} ({n_st} stable)")
        kinds = ds.attrs.get("fp_kind", ["fixed"])
        kinds = [kinds] if isinstance(kinds, str) else list(kinds)
        what = "Fixed points" if kinds == ["fixed"] else f"Points ({' and '.join(kinds)})"
        text = f"{what} per context: " + ", ".join(per) + "."
        pairs = []
        for i, j in iu:
            a, b = names[i], names[j]
            nm = int(ds["fp_n_matched"].values[i, j])
            ua, ub = int(ds["fp_n_unmatched_a"].values[i, j]), int(ds["fp_n_unmatched_b"].values[i, j])
            t = f"{a} vs {b}: {nm} matched"
            if nm:
                t += (f", moved by {_fmt(float(ds['fp_mean_displacement'].values[i, j]))} on average (state units), "
                      f"leading eigenvalue changed by {_fmt(float(ds['fp_mean_leading_change'].values[i, j]))}/ms")
                changed = int(ds["fp_n_stability_changed"].values[i, j])
                if changed:
                    t += f", {changed} changed stability"
            if ua or ub:
                thr = float(ds["fp_threshold"].values[i, j]) if "fp_threshold" in ds else float("nan")
                t += f"; {ua} of {a} and {ub} of {b} have no partner within {_fmt(thr)} (state units)"
            pairs.append(t)
        if pairs:
            text += " Between contexts (Hungarian matching on distance): " + "; ".join(pairs) + "."
        paras.append(text)
    else:
        paras.append(f"Fixed points were not compared: run `neurobias fixed-points {run_name}` first, then "
                     f"`neurobias compare-contexts {run_name}` again.")

    if "manifold_shape" in ds:
        shapes = [str(s) for s in ds["manifold_shape"].values]
        npts = np.asarray(ds["manifold_n_points"].values)
        if all(s in ("none", "isolated") for s in shapes):
            text = "No line or ring of fixed and slow points in any context (isolated points only)."
        else:
            text = ("Manifolds of fixed and slow points (line or ring attractors): "
                    + ", ".join(f"{c} {s} ({int(n)} point{'s' if n != 1 else ''})"
                                for c, s, n in zip(names, shapes, npts)) + ".")
        paras.append(text)
    if "sel_selection_angle" in ds:
        inputs = [str(u) for u in ds["input"].values]
        ang = np.asarray(ds["sel_selection_angle"].transpose("context", "input").values, dtype=float)
        dot = np.asarray(ds["sel_selection_dot"].transpose("context", "input").values, dtype=float)
        rel = np.asarray(ds["sel_slowest_real"].values, dtype=float)
        rows = []
        for c, a_row, d_row, lam in zip(names, ang, dot, rel):
            proj = ", ".join(f"{u} {_fmt(abs(d), 3)} ({_fmt(a, 2)}°)" for u, a, d in zip(inputs, a_row, d_row))
            if not np.isfinite(lam):
                tc = "no point"
            elif lam < 0:
                tc = f"slowest mode decays in {_fmt(-1.0 / lam, 3)} ms"
            elif lam > 0:
                tc = f"slowest mode grows with time constant {_fmt(1.0 / lam, 3)} ms: an unstable point"
            else:
                tc = "slowest mode neutral"
            rows.append(f"{c}: {proj}; {tc}")
        paras.append("Selection vectors (left eigenvector l of the slowest mode at the central fixed or slow point, "
                     "Mante et al. 2013): |l . b| for each input direction b (angle between them): "
                     + "; ".join(rows) + ". The input with the larger |l . b| is the one integrated along the "
                     "slow direction.")
    if ds.attrs.get("skipped"):
        paras.append(f"Not computed: {ds.attrs['skipped']}.")
    return "\n".join(paras)


def comparison_of_run(
    run_dir: str | os.PathLike,
    *,
    figures: bool = True,
    out: str | os.PathLike | None = None,
    n_shuffles: int = 200,
    seed: int = 0,
) -> AnalysisOutput:
    """Compare the contexts of a run; write ``comparison.nc`` and figures.

    Uses ``RUN_DIR/fixed_points.nc`` when present (written by
    :func:`fixed_points_of_run`); without it the fixed-point parts are
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
        See :func:`compare_contexts`.

    Returns
    -------
    AnalysisOutput
        The comparison Dataset, the files written and :func:`summarize_comparison`'s text.
    """
    from neurobias.io import write_dataset

    circuit, results, d = open_run(run_dir)
    if results.sizes["context"] < 2:
        raise InputError(f"compare-contexts needs at least two contexts; {d}/results.nc has one "
                         f"({results['context'].values[0]!s})")
    target = Path(out) if out is not None else d / "comparison.nc"
    _check_outputs(target, d, figures=figures, what="comparison file")
    fixed = None
    if (d / "fixed_points.nc").exists():
        fixed = _read_product(d / "fixed_points.nc", "fixed_points", circuit, results)
    ds = compare_contexts(circuit, results, fixed, n_shuffles=n_shuffles, seed=seed)
    ds = _provenance(ds, results, circuit)
    files = {"comparison": write_dataset(ds, target, kind="comparison")}
    if figures:
        files.update(_comparison_figures(ds, fixed, d))
    return AnalysisOutput(ds, files, summarize_comparison(ds, run_name=str(d)))


def _comparison_figure_objects(ds: xr.Dataset, fixed: xr.Dataset | None) -> dict[str, Any]:
    from neurobias.plotting.comparison import plot_matched, plot_similarity, plot_task_variance, plot_tonic_pca

    figs: dict[str, Any] = {"similarity": plot_similarity(ds), "pca": plot_tonic_pca(ds)}
    if "tv_norm" in ds:
        figs["task_variance"] = plot_task_variance(ds)
    if fixed is not None and "fp_match" in ds.dims:
        figs["matched"] = plot_matched(ds, fixed)
    return figs


def _comparison_figures(ds: xr.Dataset, fixed: xr.Dataset | None, d: Path) -> dict[str, Path]:
    from neurobias.io.figures import save_figure

    files = {f"figure_{name}": save_figure(fig, d / "figures" / f"{name}.png")
             for name, fig in _comparison_figure_objects(ds, fixed).items()}
    if fixed is not None:
        from neurobias.plotting.fixed_points import plot_spectra

        files["figure_spectra"] = save_figure(plot_spectra(fixed), d / "figures" / "spectra.png")
    return files


def _check_same_contexts(ds: xr.Dataset, results: xr.Dataset, path: Path) -> None:
    got = [str(c) for c in ds["context"].values]
    want = [str(c) for c in results["context"].values]
    if got != want or ds.sizes.get("unit") != results.sizes["unit"]:
        raise InputError(f"{path} does not belong to this run (contexts {got}, {ds.sizes.get('unit')} units; the "
                         f"run has {want}, {results.sizes['unit']} units): run `neurobias compare-contexts` again")


def report_of_run(run_dir: str | os.PathLike, *, out: str | os.PathLike | None = None) -> AnalysisOutput:
    """Write ``RUN_DIR/report.html``: one self-contained page over everything the run directory holds.

    Uses ``results.nc`` and, when present, ``fixed_points.nc``, ``continuation.nc``
    and ``comparison.nc``; sections whose file is missing say which command computes it.
    Returns the results Dataset and ``{"report": path}``.
    """
    from neurobias.analysis.summary import summarize_continuation, summarize_fixed_points
    from neurobias.io import atomic_write_text
    from neurobias.plotting import figure_set
    from neurobias.report import render_report

    from neurobias.io.files import check_writable_file

    circuit, results, d = open_run(run_dir)
    target = Path(out) if out is not None else d / "report.html"
    check_writable_file(target, what="report")
    figs: dict[str, Any] = dict(figure_set(results))
    texts: dict[str, str] = {}
    fixed = cont = comparison = None
    if (d / "fixed_points.nc").exists():
        from neurobias.plotting.fixed_points import plot_fixed_points, plot_spectra

        fixed = _read_product(d / "fixed_points.nc", "fixed_points", circuit, results)
        figs["fixed_points"] = plot_fixed_points(fixed, results)
        figs["spectra"] = plot_spectra(fixed)
        texts["fixed-points"] = summarize_fixed_points(fixed)
    if (d / "continuation.nc").exists():
        from neurobias.plotting.bifurcation import plot_bifurcation

        cont = _read_product(d / "continuation.nc", "continuation", circuit, results)
        figs["bifurcation"] = plot_bifurcation(cont).figure
        texts["continuation"] = summarize_continuation(cont)
    if (d / "comparison.nc").exists():
        comparison = _read_product(d / "comparison.nc", "comparison", circuit, results)
        _check_same_contexts(comparison, results, d / "comparison.nc")
        figs.update(_comparison_figure_objects(comparison, fixed if "fp_match" in comparison.dims else None))
        texts["comparison"] = summarize_comparison(comparison, run_name=str(d))
    html_text = render_report(results, figures=figs, fixed_points=fixed, continuation=cont, comparison=comparison,
                              texts=texts, run_name=str(d))
    path = atomic_write_text(target, html_text)
    return AnalysisOutput(results, {"report": path}, f"report: {path}")

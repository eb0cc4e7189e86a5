"""Everything that tells the contexts of a trained circuit apart, in one Dataset: :func:`compare_contexts`.

Pure: a circuit, its ``results`` Dataset and optionally its fixed points in,
one ``comparison`` Dataset out (layout in docs/schema.md); no file I/O.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from neurobias.errors import InputError, check_instance, check_number

__all__ = ["compare_contexts"]


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
    check_instance("results", results, xr.Dataset, what="a results Dataset (results.nc)")
    bank = as_bank(results, name="results")
    names = bank.contexts.tolist()
    if len(names) < 2:
        raise InputError(f"comparing contexts needs at least two contexts; the results have one ({names[0]!r})")
    if "x" not in results.data_vars:
        raise InputError("`results` must hold the trajectories `x` (context, trial, time, unit), as results.nc does")
    results = results.sel(context=names)
    parts: list[str] = []
    skipped: list[str] = []

    summary = summarize_contexts(results, fixed_points=fixed_points, circuit=circuit)
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
        tvc = tonic_variance_correlation(results, tv, clusters=clusters)
        pieces.append(_prefixed(tvc, "tv_", dims={"group": "tv_group"}))
    else:
        skipped.append(f"task variance and unit clusters: {across}")

    if fixed_points is None:
        skipped.append("fixed-point structure, matches, manifolds and selection vectors: no fixed points "
                       "were given")
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
        ds = xr.merge(pieces, join="exact", compat="no_conflicts", combine_attrs="drop_conflicts")
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

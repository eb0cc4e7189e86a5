"""Prose for pages and terminals: the HTML reports and the plain-language summaries of the commands.

Every function here is pure: Datasets (and figures) in, text out.
:func:`render_report` writes the self-contained page of a run (figures
embedded; no external requests), :func:`render_recording_report` that of a
fit directory; :func:`summarize_comparison`, :func:`summarize_fit` and
:func:`summarize_recording_comparison` are the terminal summaries of
``compare-contexts``, ``fit-recordings`` and ``compare-recordings``.
:func:`neurobias.workflows.write_report` gathers what a run directory holds
and writes ``report.html`` atomically.  The one-paragraph summaries of fixed
points and continuations come from :mod:`neurobias.workflows.prose` (the
numbers they put in words from :mod:`neurobias.analysis.summary`).
"""
from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from neurobias._version import __version__

__all__ = ["render_report", "figure_to_data_uri", "SECTIONS", "render_recording_section", "render_recording_report",
           "summarize_comparison", "summarize_fit", "summarize_recording_comparison", "summarize_periodic_orbits",
           "summarize_path", "render_oscillations_section"]

#: section ids, in order
SECTIONS: tuple[str, ...] = (
    "overview", "config", "training", "performance", "tonic", "fixed-points", "continuation", "oscillations",
    "comparison",
)

_CSS = """
body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; margin: 0; color: #1d2330;
       background: #f6f7f9; line-height: 1.45; }
header { background: #1d2b45; color: white; padding: 18px 32px; }
header h1 { margin: 0; font-size: 1.5em; }
header p { margin: 4px 0 0; opacity: 0.85; }
nav { background: #e8ebf0; padding: 8px 32px; font-size: 0.92em; }
nav a { margin-right: 14px; color: #1d4fa0; text-decoration: none; }
main { max-width: 1100px; margin: 0 auto; padding: 8px 32px 40px; }
section { background: white; border-radius: 8px; padding: 14px 22px; margin: 18px 0;
          box-shadow: 0 1px 3px rgba(0,0,0,0.08); }
h2 { font-size: 1.2em; border-bottom: 1px solid #e3e6eb; padding-bottom: 6px; }
img { max-width: 100%; height: auto; display: block; margin: 10px 0; }
table { border-collapse: collapse; margin: 8px 0; font-size: 0.92em; }
th, td { border: 1px solid #d9dde3; padding: 4px 10px; text-align: right; }
th { background: #f0f2f5; }
td.l, th.l { text-align: left; }
pre { background: #f4f5f7; padding: 10px; overflow-x: auto; font-size: 0.85em; border-radius: 4px; }
.missing { color: #8a6d00; background: #fff8e1; padding: 8px 12px; border-radius: 4px; }
.ok { color: #17692c; } .bad { color: #a51d1d; }
code { background: #f0f2f5; padding: 1px 4px; border-radius: 3px; }
figure { margin: 14px 0; } figcaption { font-size: 0.88em; color: #4a5262; }
"""


def figure_to_data_uri(fig: Figure, *, dpi: int = 110) -> str:
    """A PNG ``data:`` URI of ``fig`` (embedded, so the page needs no other file)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _img(fig: Figure | None, alt: str) -> str:
    if fig is None:
        return ""
    return f'<img src="{figure_to_data_uri(fig)}" alt="{html.escape(alt)}">'


def _table(header: list[str], rows: list[list[Any]], *, left: int = 1) -> str:
    def cell(tag: str, v: Any, i: int) -> str:
        cls = ' class="l"' if i < left else ""
        if isinstance(v, (float, np.floating)):
            v = f"{v:.4g}"
        return f"<{tag}{cls}>{html.escape(str(v))}</{tag}>"

    head = "".join(cell("th", h, i) for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(cell("td", v, i) for i, v in enumerate(r)) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _missing(text: str) -> str:
    return f'<p class="missing">{text}</p>'


def _section(sid: str, title: str, body: str) -> str:
    return f'<section id="{sid}"><h2>{html.escape(title)}</h2>{body}</section>'


def _training_steps(results: xr.Dataset) -> tuple[int, int | None, float, bool]:
    """``(steps taken, steps configured or None, target loss, stopped early)`` of a run's training.

    A step is one update of the trained parameters; the loss is evaluated once per parameter state,
    so the loss history holds one value more than the steps taken.
    """
    import tomllib

    done = int(results.attrs.get("steps_done", max(results.sizes.get("step", 1) - 1, 0)))
    try:
        training = tomllib.loads(str(results.attrs.get("config", ""))).get("training", {})
    except tomllib.TOMLDecodeError:
        training = {}
    planned = training.get("steps")
    target = float(training.get("target_loss", 0.0) or 0.0)
    planned = int(planned) if isinstance(planned, int) else None
    early = planned is not None and done < planned and target > 0
    return done, planned, target, early


def _stability_words(index: int, n_units: int) -> str:
    """A fixed point's stability from its index (the number of eigenvalues with a positive real part)."""
    if index == 0:
        return "stable"
    if index >= n_units:
        return "unstable in every direction"
    return f"a saddle with {index} unstable direction{'s' if index != 1 else ''}"


def _nearest_fixed_point(fixed_points: xr.Dataset | None, context: str, x: np.ndarray) -> tuple[int | None, float]:
    """The ``fp`` label of the fixed point of ``context`` nearest ``x`` and its distance (None, nan: none)."""
    if fixed_points is None or "context" not in fixed_points.coords or fixed_points.sizes.get("fp", 0) == 0:
        return None, float("nan")
    mine = np.asarray(fixed_points["context"].values).astype(str) == context
    if not mine.any():
        return None, float("nan")
    states = np.asarray(fixed_points["x"].values, dtype=float)[mine]
    dist = np.linalg.norm(states - x[None, :], axis=1)
    k = int(np.argmin(dist))
    return int(np.asarray(fixed_points["fp"].values)[mine][k]), float(dist[k])


def _continuation_paths(continuation: xr.Dataset, fixed_points: xr.Dataset | None) -> list[dict[str, Any]]:
    """Per branch of a continuation: its start and end fixed points, how it ended, its bifurcations.

    A continuation end state is identified with a fixed point of the same context when they lie within
    ``1e-6 * (1 + |x|)`` of each other (both are converged to far tighter residuals).
    """
    start = str(continuation.attrs.get("start_label", "start"))
    end = str(continuation.attrs.get("end_label", "end"))
    n_units = int(continuation.sizes.get("unit", 0))
    kinds = np.asarray(continuation["bif_kind"].values).astype(str) if "bif_kind" in continuation else []
    bif_branch = np.asarray(continuation["bif_branch"].values) if "bif_branch" in continuation else []
    bif_step = np.asarray(continuation["bif_step"].values) if "bif_step" in continuation else []
    bif_s = np.asarray(continuation["bif_s"].values, dtype=float) if "bif_s" in continuation else []
    paths = []
    for b in range(continuation.sizes["branch"]):
        n = int(continuation["n_points"].values[b])
        if n == 0:
            continue
        x = np.asarray(continuation["x"].values[b, :n], dtype=float)
        s = np.asarray(continuation["s"].values[b, :n], dtype=float)
        index = np.asarray(continuation["index"].values[b, :n])
        x0, x1 = x[0], x[n - 1]
        fp0, _ = _nearest_fixed_point(fixed_points, start, x0)
        reason = str(continuation["end_reason"].values[b])
        fp1, d1 = _nearest_fixed_point(fixed_points, end, x1) if reason == "reached_end" else (None, float("nan"))
        same = fp1 is not None and d1 <= 1e-6 * (1.0 + float(np.linalg.norm(x1)))
        events = []
        for k, kind in enumerate(kinds):
            if int(bif_branch[k]) != b:
                continue
            row = int(bif_step[k])
            before, after = int(index[max(row - 1, 0)]), int(index[min(row + 1, n - 1)])
            l1 = float(continuation["bif_lyapunov"].values[k]) if "bif_lyapunov" in continuation else float("nan")
            events.append({"kind": str(kind), "s": float(bif_s[k]), "before": before, "after": after,
                           "lyapunov": l1})
        paths.append({"branch": b, "start": start, "end": end, "reason": reason, "start_fp": fp0,
                      "end_fp": fp1 if same else None, "end_gap": d1, "start_index": int(index[0]),
                      "end_index": int(index[n - 1]), "s_last": float(s[-1]), "n_units": n_units,
                      "moved": float(np.linalg.norm(x1 - x0)), "events": sorted(events, key=lambda e: e["s"])})
    return paths


#: said once, below the continuation sentences, when one of them names the kind of a Hopf point
HOPF_KINDS = ("(Super- and subcritical by the sign of the first Lyapunov coefficient: at a supercritical Hopf point "
              "the small cycles attract within the plane of the critical pair, so they are stable where the fixed "
              "point has no other unstable direction and saddles where it has; at a subcritical one they repel.)")


def _hopf_note(paths: list[dict[str, Any]]) -> str:
    """:data:`HOPF_KINDS` when a sentence on these branches names the kind of a Hopf point, else empty."""
    named = any(e["kind"] == "hopf" and np.isfinite(e.get("lyapunov", float("nan"))) and e["lyapunov"] != 0
                for p in paths for e in p["events"])
    return HOPF_KINDS if named else ""


def _bifurcation_words(event: dict[str, Any], n_units: int) -> str:
    name = {"hopf": "a Hopf bifurcation", "fold": "a fold", "branch_point": "a branch point"}.get(
        event["kind"], f"a {event['kind'].replace('_', ' ')}")
    l1 = event.get("lyapunov", float("nan"))
    if event["kind"] == "hopf" and np.isfinite(l1) and l1 != 0:
        # within the centre manifold the small cycles attract (l1 < 0) or repel (l1 > 0); they are stable only
        # when the fixed point has no other unstable direction (HOPF_KINDS explains this once, below the sentences)
        name = f"a {'super' if l1 < 0 else 'sub'}critical Hopf bifurcation"
        if l1 < 0 and min(event["before"], event["after"]) > 0:
            name += " (its small cycles are saddles)"
    before, after = event["before"], event["after"]
    if before > 0 and after == 0:
        change = "becomes stable"
    elif before == 0 and after > 0:
        change = "loses stability"
    elif before != after:
        change = f"goes from {before} to {after} unstable directions"
    else:
        change = "keeps its stability"
    return f"{change} at {name} (s = {event['s']:.3g})"


def _continuation_sentence(path: dict[str, Any]) -> str:
    """One sentence on one branch: where it goes, what bifurcations it crosses, which fixed point it reaches."""
    start, end, n_units = path["start"], path["end"], path["n_units"]
    who = f"{start}'s fixed point" + (f" fp = {path['start_fp']}" if path["start_fp"] is not None else "")
    text = (f"As the tonic input moves in a straight line from {start}'s (s = 0) to {end}'s (s = 1), {who} "
            f"({_stability_words(path['start_index'], n_units)})")
    events = [_bifurcation_words(e, n_units) for e in path["events"] if e["kind"] != "fold"]
    folds = [e for e in path["events"] if e["kind"] == "fold"]
    if events:
        text += " " + ", then ".join(events) + ","
    if folds:
        text += f" turns at {len(folds)} fold{'s' if len(folds) != 1 else ''},"
    if path["reason"] == "reached_end":
        if path["end_fp"] is not None:
            text += (f" and arrives at {end}'s fixed point fp = {path['end_fp']} "
                     f"({_stability_words(path['end_index'], n_units)}), {_fmt(path['moved'])} state units from where "
                     "it started.")
        elif np.isfinite(path["end_gap"]):
            text += (f" and arrives at a fixed point of {end} ({_stability_words(path['end_index'], n_units)}) that "
                     f"the fixed-point search did not find (the nearest found lies {_fmt(path['end_gap'])} away).")
        else:
            text += f" and arrives at a fixed point of {end} ({_stability_words(path['end_index'], n_units)})."
    elif path["reason"] == "returned_to_start":
        text += f" and returns to {start} at another of its fixed points, never reaching {end}."
    else:
        text += f" and stops at s = {path['s_last']:.3g} ({path['reason'].replace('_', ' ')}) before reaching {end}."
    return text


def _matching_note(comparison: xr.Dataset, paths: list[dict[str, Any]]) -> str:
    """How the distance matching of the comparison and the continuation's branches relate, for their pair."""
    if not paths or "fp_n_matched" not in comparison:
        return ""
    names = [str(c) for c in comparison["context"].values]
    start, end = paths[0]["start"], paths[0]["end"]
    if start not in names or end not in names or start == end:
        return ""
    i, j = names.index(start), names.index(end)
    matched = int(comparison["fp_n_matched"].values[i, j])
    joined = [p for p in paths if p["end_fp"] is not None]
    thr = float(comparison["fp_threshold"].values[i, j]) if "fp_threshold" in comparison else float("nan")
    text = (f"Two ways to pair the fixed points of {start} and {end}: matching by distance (above) pairs two "
            f"points only when they lie within {_fmt(thr)} state units of each other and paired {matched}; the "
            f"continuation follows each fixed point of {start} as the tonic input changes and carried "
            f"{len(joined)} of them onto a fixed point of {end}")
    if joined:
        far = [p for p in joined if np.isfinite(thr) and p["moved"] > thr]
        text += f" ({', '.join(_fmt(p['moved']) for p in joined)} state units away)"
        if far and matched < len(joined):
            text += (". The counts differ because the fixed points moved further than the matching threshold: "
                     "they are the same fixed points continued, not new ones")
            return text + "."
    if matched != len(joined):
        text += (". The counts differ: matching by distance pairs fixed points that lie near each other whether or "
                 "not one turns into the other, the continuation only those joined by a branch of fixed points")
    return text + "."


#: figures of the comparison section: (name, caption)
COMPARISON_FIGURES: tuple[tuple[str, str], ...] = (
    ("similarity", "Similarity of the tonic inputs: cosine (1: same direction, 0: orthogonal, -1: opposite) and "
                   "Euclidean distance between every two contexts."),
    ("pca", "PCA of the tonic inputs (contexts as samples, centred): where each context sits, how the variance "
            "splits between components, and the participation ratio (effective number of dimensions) against "
            "banks whose units were shuffled independently per context."),
    ("task_variance", "Normalised task variance of every unit in every context (1: the context where the unit "
                      "varies most), units grouped by k-means cluster of these profiles."),
    ("matched", "Fixed points of all contexts on common axes, lines joining those matched between contexts "
                "(Hungarian assignment on distance, with a threshold), and per pair of contexts how many matched "
                "and how far they moved."),
)


def _num(v: Any, digits: int = 3) -> str:
    v = float(v)
    return "n/a" if not np.isfinite(v) else f"{v:.{digits}g}"


def _comparison_html(ds: xr.Dataset, figures: Mapping[str, Figure | None], text: str, have_fixed: bool,
                     run_name: str, *, note: str = "") -> str:
    """The body of the "Comparing contexts" section from a ``comparison`` Dataset."""
    contexts = [str(c) for c in ds["context"].values]
    body = "".join(f"<p>{html.escape(par)}</p>" for par in text.split("\n") if par.strip())
    header = ["context", "tonic norm"]
    cols: list[list[str]] = [[_num(v) for v in ds["tonic_norm"].values]]
    if "nmse" in ds:
        header.append("NMSE")
        cols.append([_num(v) for v in ds["nmse"].values])
    if "pca_scores" in ds:
        for k in range(min(2, ds.sizes["pca_component"])):
            header.append(f"PC{k + 1} score")
            cols.append([_num(v) for v in ds["pca_scores"].isel(pca_component=k).values])
    if "on_fraction" in ds:
        header += ["units on", "max Re eig W_eff"]
        cols.append([f"{100 * float(v):.0f}%" for v in ds["on_fraction"].values])
        cols.append([_num(v) for v in ds["spectral_abscissa"].values])
    if "fp_counts" in ds:
        header += ["fixed points", "stable"]
        cols.append([str(int(v)) for v in ds["fp_counts"].sum("stability").values])
        cols.append([str(int(v)) for v in ds["fp_counts"].sel(stability="stable").values])
    if "manifold_shape" in ds:
        header.append("slow manifold")
        cols.append([str(v) for v in ds["manifold_shape"].values])
    rows = [[c] + [col[i] for col in cols] for i, c in enumerate(contexts)]
    body += "<p>Per context:</p>" + _table(header, rows)

    pairs = [(i, j) for i in range(len(contexts)) for j in range(i + 1, len(contexts))]
    header = ["context", "context_b", "cosine", "correlation", "distance"]
    getters = [lambda i, j: _num(ds["tonic_cosine"].values[i, j]),
               lambda i, j: _num(ds["tonic_correlation"].values[i, j]) if "tonic_correlation" in ds else "n/a",
               lambda i, j: _num(ds["tonic_distance"].values[i, j])]
    if "switched" in ds:
        header.append("units switched")
        getters.append(lambda i, j: f"{100 * float(ds['switched'].values[i, j]):.0f}%")
    if "fp_n_matched" in ds:
        header += ["fixed points matched by distance", "unmatched", "mean displacement"]
        getters.append(lambda i, j: str(int(ds["fp_n_matched"].values[i, j])))
        getters.append(lambda i, j: f"{int(ds['fp_n_unmatched_a'].values[i, j])} / "
                                    f"{int(ds['fp_n_unmatched_b'].values[i, j])}")
        getters.append(lambda i, j: _num(ds["fp_mean_displacement"].values[i, j]))
    rows = [[contexts[i], contexts[j]] + [g(i, j) for g in getters] for i, j in pairs]
    body += "<p>Per pair of contexts:</p>" + _table(header, rows, left=2)
    if note:
        body += f'<p class="matching">{html.escape(note)} See <a href="#continuation">Continuation</a>.</p>'

    for name, caption in COMPARISON_FIGURES:
        fig = figures.get(name)
        if fig is not None:
            body += (f"<figure>{_img(fig, name)}<figcaption>{html.escape(caption)}</figcaption></figure>")
    if have_fixed:
        body += ('<p>The eigenvalue spectra of the fixed points of every context are in '
                 '<a href="#fixed-points">Fixed points</a>.</p>')
    elif "fp_n_matched" not in ds:
        body += _missing("Fixed points not compared yet: run <code>neurobias fixed-points "
                         f"{html.escape(run_name)}</code>, then <code>neurobias compare-contexts "
                         f"{html.escape(run_name)}</code> again.")
    return body


def render_report(
    results: xr.Dataset,
    *,
    figures: Mapping[str, Figure | None],
    fixed_points: xr.Dataset | None = None,
    continuation: xr.Dataset | None = None,
    comparison: xr.Dataset | None = None,
    texts: Mapping[str, str] | None = None,
    run_name: str = "run",
    periodic_orbits: xr.Dataset | None = None,
    oscillation: xr.Dataset | None = None,
) -> str:
    """Render the report of a run as one HTML document.

    Parameters
    ----------
    results : xarray.Dataset
        The run's ``results`` Dataset.
    figures : mapping of str to Figure
        Figures by name: ``loss``, ``outputs``, ``tonic``, ``rates``,
        ``fixed_points``, ``spectra``, ``bifurcation``, and for the
        comparison section ``similarity``, ``pca``, ``task_variance``,
        ``matched``, for the oscillations section ``orbits`` and
        ``cycle_frequency`` (missing ones are left out).
    fixed_points, continuation, comparison : xarray.Dataset, optional
        Analyses of the run; a section without its Dataset says how to compute it.
    texts : mapping of str to str, optional
        Plain-language summaries by section id (``fixed-points``, ``continuation``, ``comparison``;
        ``oscillations``: why the cycles along the path are not shown, when ``oscillation`` is None).
    run_name : str
        Shown in the title.
    periodic_orbits : xarray.Dataset, optional
        The limit cycles of the contexts (``neurobias periodic-orbits``).
    oscillation : xarray.Dataset, optional
        :func:`neurobias.analysis.periodic_orbits.oscillation_along_path` of the run's continuation.

    Returns
    -------
    str
        A complete HTML5 page with every section of :data:`SECTIONS`.
    """
    texts = dict(texts or {})
    attrs = results.attrs
    contexts = [str(c) for c in results["context"].values]
    nmse = results["nmse"].values
    mode = attrs.get("training_mode", "?")
    task = attrs.get("task", "?")
    sections = []
    done, planned, target, early = _training_steps(results)
    steps_text = str(done) if planned is None else f"{done} of {planned}"
    if early:
        steps_text += " (target loss reached)"

    overview = (
        f"<p>One fixed circuit of <b>{results.sizes['unit']}</b> units was trained in <b>{html.escape(str(mode))}</b> "
        f"mode on the task <b>{html.escape(str(task))}</b> with <b>{len(contexts)}</b> contexts "
        f"({html.escape(', '.join(contexts))}). Each context has its own tonic input; "
        + ("no synaptic weight changed during training." if mode == "bias" else
           "the weights listed under Training were trained too.")
        + "</p>"
        + _table(["", "value"], [
            ["neurobias version", attrs.get("neurobias_version", __version__)],
            ["schema version", attrs.get("schema_version", "")],
            ["seed", attrs.get("seed", "")],
            ["optimiser steps", steps_text],
            ["worst NMSE", float(np.max(nmse)) if len(nmse) else float("nan")],
        ])
    )
    if attrs.get("task_citation"):
        overview += f"<p>Task source: {html.escape(str(attrs['task_citation']))}</p>"
    sections.append(_section("overview", "Overview", overview))
    sections.append(_section("config", "Configuration",
                             "<p>The resolved config of the run (every key, defaults included); "
                             "<code>neurobias run</code> with this file reproduces the run.</p>"
                             "<details><summary>config (TOML)</summary>"
                             f"<pre>{html.escape(str(attrs.get('config', '')))}</pre></details>"))

    weights = [k[len("weights_sha256_after_"):] for k in attrs if str(k).startswith("weights_sha256_after_")]
    hash_rows = [[name, str(attrs[f"weights_sha256_after_{name}"]),
                  "unchanged" if attrs.get(f"weights_sha256_before_{name}") == attrs[f"weights_sha256_after_{name}"]
                  else "changed by training"]
                 for name in weights]
    loss = results["loss"].values
    if len(loss):
        training = (f"<p>{done} optimiser steps (updates of the trained parameters)"
                    + (f" of the {planned} configured" if planned is not None else "") + ". ")
        if early:
            training += (f"<b>Training stopped early, at step {done} of {planned}, because the loss reached the "
                         f"target loss {target:.4g}</b> (<code>training.target_loss</code>); the remaining "
                         f"{planned - done} steps were not needed. ")
        elif planned is not None and done >= planned:
            training += "Every configured step ran" + (
                f" (the target loss {target:.4g} was not reached). " if target > 0 else ". ")
        training += (f"The loss was evaluated once per parameter state, before each step and once after the last "
                     f"({len(loss)} values), and went from {loss[0]:.4g} to {loss[-1]:.4g}.</p>")
    else:
        training = "<p>No training steps were taken.</p>"
    training += _img(figures.get("loss"), "training loss")
    if hash_rows:
        training += ("<p>Weights: the sha256 of each array's float64 values as <code>circuit.nc</code> stores them "
                     "(<code>neurobias info circuit.nc</code> shows the same), and whether training changed it:</p>")
        training += _table(["weight", "sha256 (circuit.nc)", "training"], hash_rows, left=3)
    sections.append(_section("training", "Training", training))

    perf_rows = [[c, float(v)] for c, v in zip(contexts, nmse)]
    performance = ("<p>Normalised mean squared error of the readout against the target, per context, on "
                   "fresh trials simulated in float64 (0 is perfect, 1 is as good as predicting the mean).</p>"
                   + _table(["context", "NMSE"], perf_rows) + _img(figures.get("outputs"), "outputs vs targets")
                   + _img(figures.get("rates"), "rates"))
    sections.append(_section("performance", "Performance per context", performance))

    tonic = results["tonic"].values
    norms = np.linalg.norm(tonic, axis=1)
    tonic_rows = [[c, float(n_), float(tonic[i].mean()), float(tonic[i].std())] for i, (c, n_) in
                  enumerate(zip(contexts, norms))]
    tonic_html = ("<p>The learned tonic inputs, one vector over units per context.</p>"
                  + _table(["context", "norm", "mean", "std"], tonic_rows)
                  + _img(figures.get("tonic"), "tonic inputs"))
    if comparison is not None:
        tonic_html += '<p>How similar they are: see <a href="#comparison">Comparing contexts</a>.</p>'
    elif figures.get("similarity") is not None:
        tonic_html += _img(figures.get("similarity"), "similarity")
    if texts.get("tonic"):
        tonic_html = f"<p>{html.escape(texts['tonic'])}</p>" + tonic_html
    sections.append(_section("tonic", "Tonic inputs", tonic_html))

    if fixed_points is None:
        fp_html = _missing(f"Not computed yet: run <code>neurobias fixed-points {html.escape(run_name)}</code>.")
    else:
        from neurobias.analysis.summary import fixed_point_counts

        counts = fixed_point_counts(fixed_points)
        rows = [[str(c)] + [int(counts[k].sel(context=c)) for k in
                            ("n_fixed", "n_stable", "n_saddle", "n_unstable", "n_oscillatory", "n_slow")]
                for c in counts["context"].values]
        fp_html = (f"<p>{html.escape(texts.get('fixed-points', ''))}</p>"
                   "<p>A fixed point is a state where the flow vanishes, F(x) = 0 (residual at most "
                   f"{fixed_points.attrs.get('tol', '')}). Stable: every eigenvalue of the Jacobian has a negative "
                   "real part; saddle: some do not.</p>"
                   + _table(["context", "fixed", "stable", "saddle", "unstable", "oscillatory", "slow"], rows)
                   + _img(figures.get("fixed_points"), "fixed points") + _img(figures.get("spectra"), "spectra"))
    sections.append(_section("fixed-points", "Fixed points", fp_html))

    if continuation is None:
        c0, c1 = (contexts + contexts)[:2] if len(contexts) < 2 else contexts[:2]
        cont_html = _missing("Not computed yet: run <code>neurobias continue "
                             f"{html.escape(run_name)} --from {html.escape(c0)} --to {html.escape(c1)}</code>.")
    else:
        paths = _continuation_paths(continuation, fixed_points)
        shown = paths[:5]
        words = " ".join(_continuation_sentence(p) for p in shown)
        if len(paths) > len(shown):
            words += f" ({len(paths) - len(shown)} more branches are in the figure and in continuation.nc.)"
        note = _hopf_note(shown)
        cont_html = (f"<p>{html.escape(texts.get('continuation', ''))}</p>"
                     + (f'<p class="meaning">{html.escape(words)}</p>' if words else "")
                     + (f"<p>{html.escape(note)}</p>" if note else "")
                     + _img(figures.get("bifurcation"), "bifurcation diagram"))
    sections.append(_section("continuation", "Continuation between contexts", cont_html))
    sections.append(render_oscillations_section(periodic_orbits, oscillation, figures=figures, run_name=run_name,
                                                path_missing=texts.get("oscillations", "")))

    if comparison is None:
        cmp_html = _missing(f"Not computed yet: run <code>neurobias compare-contexts {html.escape(run_name)}</code>.")
    else:
        note = "" if continuation is None else _matching_note(comparison,
                                                                _continuation_paths(continuation, fixed_points))
        cmp_html = _comparison_html(comparison, figures, texts.get("comparison", ""), fixed_points is not None,
                                    run_name, note=note)
    sections.append(_section("comparison", "Comparing contexts", cmp_html))

    nav = "".join(f'<a href="#{sid}">{sid.replace("-", " ")}</a>' for sid in SECTIONS)
    title = f"neurobias report: {html.escape(run_name)}"
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title>"
        f"<style>{_CSS}</style></head><body>"
        f"<header><h1>{title}</h1><p>task {html.escape(str(task))} \u00b7 {len(contexts)} contexts \u00b7 "
        f"{results.sizes['unit']} units \u00b7 {html.escape(str(mode))} mode \u00b7 neurobias "
        f"{html.escape(str(attrs.get('neurobias_version', __version__)))}</p></header>"
        f"<nav>{nav}</nav><main>{''.join(sections)}</main></body></html>\n"
    )


def render_recording_section(fit: xr.Dataset, comparison: xr.Dataset | None, *,
                             figures: Mapping[str, Figure | None]) -> str:
    """The "Model vs recordings" section (id ``recordings``) of a fit to a recording.

    Parameters
    ----------
    fit : xarray.Dataset
        A ``fit`` Dataset (``neurobias fit-recordings``).
    comparison : xarray.Dataset, optional
        A ``recording_comparison`` Dataset (``neurobias compare-recordings``).
    figures : mapping of str to Figure
        ``pcs``, ``r2_neurons``, ``metrics_null``, ``fit_loss`` (missing ones left out).
    """
    a = fit.attrs
    ceiling = float(a.get("noise_ceiling", float("nan")))
    null = fit["r2_null"].values
    holdout = {"trials": "the other half of each condition's trials (split-half)",
               "time": "held-out blocks of time bins", "none": "the fitted data (nothing held out)"}.get(
        str(a.get("holdout")), str(a.get("holdout")))
    body = (
        f"<p>One fixed random circuit of <b>{int(fit.sizes['unit'])}</b> units, one tonic input per condition "
        f"(<b>{fit.sizes['condition']}</b> conditions, <b>{fit.sizes['neuron']}</b> recorded neurons), fitted in "
        f"<b>{html.escape(str(a.get('mode')))}</b> mode with a <b>{html.escape(str(a.get('readout')))}</b> readout. "
        f"Scored on {html.escape(holdout)}.</p>"
        + _table(["", "value"], [
            ["held-out R²", _num(a.get("r2_test"))],
            ["fitted R²", _num(a.get("r2_train"))],
            ["split-half noise ceiling", _num(ceiling) if ceiling == ceiling else "n/a (no single trials)"],
            ["shuffled-condition null (mean)", _num(float(null.mean())) if null.size else "n/a"],
            ["recording", str(a.get("recording_source", ""))],
            ["citation", str(a.get("recording_citation", ""))],
        ])
        + _img(figures.get("r2_neurons"), "R² per neuron") + _img(figures.get("fit_loss"), "fitting loss")
    )
    if comparison is None:
        body += _missing("Metrics not computed yet: run <code>neurobias compare-recordings DIR</code>.")
        return _section("recordings", "Model vs recordings", body)
    from neurobias.plotting.recordings import METRIC_PANELS

    rows = []
    for name, label, better in METRIC_PANELS:
        if name in comparison and f"{name}_null" in comparison:
            nl = comparison[f"{name}_null"].values
            rows.append([label, _num(float(comparison[name])), _num(float(nl.mean())) if nl.size else "n/a",
                         _num(float(comparison[f"{name}_p_value"])), better])
    body += "<p>Each metric against its null (model conditions shuffled):</p>"
    body += _table(["metric", "observed", "null mean", "p", "better"], rows)
    body += _img(figures.get("metrics_null"), "metrics vs null") + _img(figures.get("pcs"), "data vs model PCs")
    if "fp_n_fixed_points" in comparison:
        fp_rows = [[str(c), int(n), int(st), _num(float(lr)), _num(float(fq))] for c, n, st, lr, fq in zip(
            comparison["condition"].values, comparison["fp_n_fixed_points"].values, comparison["fp_n_stable"].values,
            comparison["fp_end_leading_real"].values, comparison["fp_end_frequency_hz"].values)]
        body += ("<p>Fixed points of the fitted circuit per condition (F(x) = 0); the end point is the fixed point "
                 "nearest the end of the condition's trajectory.</p>"
                 + _table(["condition", "fixed points", "stable", "end: leading Re λ (1/ms)", "end: frequency (Hz)"],
                          fp_rows))
    return _section("recordings", "Model vs recordings", body)


def render_recording_report(fit: xr.Dataset, comparison: xr.Dataset | None, *,
                            figures: Mapping[str, Figure | None], name: str = "fit") -> str:
    """A complete HTML page holding the recordings section (for a ``fit-recordings`` directory)."""
    title = f"neurobias report: {html.escape(name)}"
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title>"
        f"<style>{_CSS}</style></head><body>"
        f"<header><h1>{title}</h1><p>circuit fitted to recordings \u00b7 {html.escape(str(fit.attrs.get('mode')))} "
        f"mode \u00b7 neurobias {html.escape(str(fit.attrs.get('neurobias_version', __version__)))}</p></header>"
        f"<nav><a href=\"#recordings\">recordings</a></nav><main>"
        f"{render_recording_section(fit, comparison, figures=figures)}</main></body></html>\n"
    )


# ------------------------------------------------------------------ summaries
def _fmt(v: float, digits: int = 3) -> str:
    return "n/a" if not np.isfinite(v) else f"{v:.{digits}g}"


def _pct(v: float) -> str:
    return "n/a" if not np.isfinite(v) else f"{100 * v:.0f}%"


def summarize_comparison(comparison: xr.Dataset, *, run_name: str = "RUN_DIR") -> str:
    """Plain-language paragraphs (one per line) on how the contexts differ.

    ``comparison`` is the Dataset of
    :func:`neurobias.analysis.context_comparison.compare_contexts`; ``run_name``
    is the run directory named in the advice on which command to run next.

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
        elif K == 2 and C == 3:
            text = (f"Dimensionality: with three contexts the centred tonic inputs span at most 2 dimensions, so 2 "
                    f"components explain 100% of the variance by construction; PC1 carries {_pct(ratio[0])} and "
                    f"the participation ratio is {_fmt(pr, 2)} (of at most 2), which only says how unequal the "
                    "three distances between the contexts are. Shuffling each context's units gives nearly equal "
                    "distances and a ratio near 2 whatever was learned, so any unequal distances would reach the "
                    "smallest p-value the shuffles allow: no test of alignment is made with three contexts.")
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


def summarize_fit(estimator: Any, fit: xr.Dataset) -> str:
    """One line on a fitted :class:`~neurobias.fitting.TonicFit`: its size, mode, time and held-out R2.

    Parameters
    ----------
    estimator : TonicFit
        The fitted estimator.
    fit : xarray.Dataset
        Its ``fit`` Dataset (for ``holdout`` and ``noise_ceiling``).
    """
    est = estimator
    ceiling = fit.attrs["noise_ceiling"]
    return (f"fitted {len(est.conditions_)} conditions x {len(est.neurons_)} neurons with {est.circuit_.n_units} "
            f"units in {est.mode!r} mode ({len(est.loss_)} steps, {est.wall_time_s_:.1f} s); held-out R2 "
            f"{est.r2_test_:.3f} ({fit.attrs['holdout']} holdout), fitted R2 {est.r2_train_:.3f}"
            + (f", split-half noise ceiling {ceiling:.3f}" if ceiling == ceiling else "")
            + (f", shuffled-condition null {est.r2_null_.mean():.3f}" if est.r2_null_.size else ""))


def summarize_context_fit(fit: xr.Dataset) -> str:
    """One line on a fitted context model (``fit.nc`` of ``fit.model = "context"`` or ``"lowrank"``)."""
    a = fit.attrs
    return (f"fitted {fit.sizes['condition']} conditions in {fit.sizes['context']} contexts x {fit.sizes['neuron']} "
            f"neurons with {a['n_units']} units ({a['model']}, {a['mode']!r} mode, tonic per {a['tonic']}, "
            f"{a['substeps']} Euler steps per bin, {a['wall_time_s']:.1f} s); R2 on the fitted data "
            f"{a['r2_train']:.3f} (held-out numbers: crossval.nc)")


def summarize_crossval(cv: xr.Dataset) -> str:
    """One line per model of a cross-validation table (``crossval.nc``): held-out R², null mean, fraction of ceiling."""
    lines = []
    for j, scheme in enumerate(cv["scheme"].values):
        lines.append(f"held-out {scheme}: ceiling {float(cv['ceiling'][j]):.3f} ({cv['ceiling_kind'].values[j]})")
        for i, model in enumerate(cv["model"].values):
            if not int(cv["predicts"][i, j]):
                lines.append(f"  {model}: cannot predict held-out {scheme} (no input for an unseen condition)")
                continue
            lines.append(f"  {model}: R2 {float(cv['r2'][i, j]):.3f}, null mean {float(cv['r2_null_mean'][i, j]):.3f}"
                         f" (p = {float(cv['r2_p_value'][i, j]):.3f}), {float(cv['r2_of_ceiling'][i, j]):.2f} of "
                         "the ceiling")
    return "\n".join(lines)


def summarize_recording_comparison(fit: xr.Dataset, cmp: xr.Dataset) -> str:
    """Plain-language lines on a fit compared with its recording: each metric, its null mean and p-value.

    Parameters
    ----------
    fit : xarray.Dataset
        The ``fit`` Dataset (``fit.nc``).
    cmp : xarray.Dataset
        Its ``recording_comparison`` Dataset.
    """
    lines = [f"held-out R2 {fit.attrs['r2_test']:.3f} ({fit.attrs['holdout']} holdout, {fit.attrs['mode']} mode)"]
    ceiling = fit.attrs.get("noise_ceiling", float("nan"))
    if ceiling == ceiling:
        lines[0] += f"; split-half noise ceiling {ceiling:.3f}"
    from neurobias.plotting.recordings import METRIC_PANELS

    for name, label, better in METRIC_PANELS:
        if name in cmp and f"{name}_null" in cmp:
            null = cmp[f"{name}_null"].values
            null = null[np.isfinite(null)]
            if null.size == 0:  # no shuffles asked for: the metric without a null
                lines.append(f"{label}: {float(cmp[name]):.3f} (no shuffled null; {better} is better)")
                continue
            lines.append(f"{label}: {float(cmp[name]):.3f} (null mean {null.mean():.3f} over {null.size}, "
                         f"p = {float(cmp[f'{name}_p_value']):.3g}; {better} is better)")
    if "fp_n_fixed_points" in cmp:
        lines.append("fixed points per condition: " + ", ".join(
            f"{c}: {int(n)} ({int(s)} stable)" for c, n, s in zip(cmp["condition"].values,
                                                                  cmp["fp_n_fixed_points"].values,
                                                                  cmp["fp_n_stable"].values)))
    return "\n".join(lines)


# ------------------------------------------------------------------ oscillations: limit cycles and the path
def _floquet(ds: xr.Dataset, i: int) -> tuple[float, int]:
    """Largest modulus of the non-trivial Floquet multipliers of orbit ``i`` and how many lie outside |mu| = 1."""
    mu = ds["multiplier_real"].values[i] + 1j * ds["multiplier_imag"].values[i]
    mu = mu[np.isfinite(mu)]
    if len(mu) < 2:
        return float("nan"), 0
    rest = np.delete(mu, int(np.argmin(np.abs(mu - 1.0))))
    return float(np.abs(rest).max()), int(np.sum(np.abs(rest) > 1.0))


def _frequency_phrase(f: float, f_trained: float) -> str:
    """``"5.3 % faster than the trained 1 Hz"`` (or slower, or at it)."""
    if not np.isfinite(f_trained):
        return ""
    rel = (f - f_trained) / f_trained
    if abs(rel) < 0.0005:
        return f"at the trained {f_trained:g} Hz"
    return f"{100 * abs(rel):.1f} % {'faster' if rel > 0 else 'slower'} than the trained {f_trained:g} Hz"


def summarize_periodic_orbits(periodic_orbits: xr.Dataset) -> str:
    """One line per context: its free limit cycle (period, frequency, against the trained one, stability) or why none.

    ``periodic_orbits`` is the Dataset of
    :func:`neurobias.analysis.find_periodic_orbits` (with ``trained_frequency``
    when the run's task trained one frequency per context).
    """
    ds = periodic_orbits
    lines = []
    for i, ctx in enumerate(ds["context"].values.astype(str)):
        if not bool(ds["converged"].values[i]):
            lines.append(f"{ctx}: no limit cycle ({ds['reason'].values[i]})")
            continue
        T, f = float(ds["period"].values[i]), float(ds["frequency"].values[i])
        trained = float(ds["trained_frequency"].values[i]) if "trained_frequency" in ds else float("nan")
        largest, n_out = _floquet(ds, i)
        phrase = _frequency_phrase(f, trained)
        text = f"{ctx}: oscillates freely at {f:.4g} Hz (period {T:.1f} ms)" + (f", {phrase}" if phrase else "")
        if n_out == 0:
            text += (f"; a stable cycle (every other Floquet multiplier inside the unit circle, the largest of "
                     f"modulus {largest:.3g}: a perturbation shrinks by that factor per period)")
        else:
            text += (f"; an unstable cycle ({n_out} Floquet multiplier{'s' if n_out > 1 else ''} outside the unit "
                     f"circle, the largest of modulus {largest:.3g})")
        lines.append(text)
    return "\n".join(lines)


#: a cycle branch whose period diverges within this distance in s of a fold of the fixed points is named a
#: saddle-node on the invariant circle
SNIC_MATCH = 1e-3


def summarize_path(path: xr.Dataset, *, why_not: str = "") -> str:
    """Where along the path of a continuation the circuit oscillates, at what frequencies, and where it settles.

    ``path`` is the Dataset of :func:`neurobias.analysis.periodic_orbits.oscillation_along_path`;
    ``why_not`` says why no cycle was followed (shown when none was).
    """
    start, end = path.attrs.get("start_label", "start"), path.attrs.get("end_label", "end")
    parts = []
    kinds = path["interval_kind"].values.astype(str)
    osc = [i for i, k in enumerate(kinds) if k == "oscillates"]
    if not osc:
        parts.append(f"No limit cycle was followed from {start} (s = 0) to {end} (s = 1)"
                     + (f": {why_not}." if why_not else "."))
    for i in osc:
        lo, hi = float(path["s_low"][i]), float(path["s_high"][i])
        f0, f1 = float(path["frequency_low"][i]), float(path["frequency_high"][i])
        parts.append(f"The circuit oscillates for {lo:.4g} <= s <= {hi:.4g} (the cycle of "
                     f"{path['interval_context'].values[i]}, from {f0:.4g} to {f1:.4g} Hz).")
    for b in range(path.sizes["branch"]):
        reason = str(path["cycle_end_reason"].values[b])
        s_end = float(path["cycle_end_s"].values[b])
        who = f"The cycle of {path['cycle_context'].values[b]}" if "cycle_context" in path else "A cycle"
        if reason == "hopf":
            s_h, diff = float(path["hopf_s"].values[b]), float(path["hopf_difference"].values[b])
            where = (f"the Hopf point of the fixed-point continuation is at s = {s_h:.6f} (difference {diff:.1e})"
                     if np.isfinite(s_h) else "the fixed-point continuation has no Hopf point to compare with")
            parts.append(f"{who} ends at s = {s_end:.6f}, shrinking onto a fixed point (Hopf); {where}.")
        elif reason == "period_diverges":
            s_f = float(path["fold_s"].values[b]) if "fold_s" in path else float("nan")
            if np.isfinite(s_f) and abs(s_end - s_f) <= SNIC_MATCH:
                where = (f"the fixed-point continuation has a fold at s = {s_f:.6f} (difference {s_end - s_f:.1e}): "
                         "a saddle-node on the invariant circle")
            else:
                where = ("no fold of the followed fixed points lies near it"
                         + (f" (the nearest at s = {s_f:.6f})" if np.isfinite(s_f) else "")
                         + ": a homoclinic orbit, or a saddle-node on a branch of fixed points not followed")
            parts.append(f"{who} ends near s = {s_end:.6f}, its period growing without bound; {where}.")
        elif reason == "reached_end":
            parts.append(f"{who} continues all the way to the other end of the path (s = {s_end:.4g}).")
        else:
            parts.append(f"{who} was followed no further than s = {s_end:.4g} ({reason.replace('_', ' ')}); "
                         "beyond it the path is not described.")
    names = {"fold": "a fold of cycles (two cycles meet and vanish; the branch turns back)",
             "period_doubling": "a period doubling (a multiplier through -1)",
             "torus": "a torus bifurcation (a pair of multipliers through the unit circle)"}
    if "cycle_event_kind" in path:
        for e in range(path.sizes["cycle_event"]):
            b = int(path["cycle_event_branch"].values[e])
            who = f"the cycle of {path['cycle_context'].values[b]}" if "cycle_context" in path else "a cycle"
            kind = str(path["cycle_event_kind"].values[e])
            where = (f"at s = {float(path['cycle_event_s'].values[e]):.6f}"
                     if bool(path["cycle_event_located"].values[e])
                     else f"near s = {float(path['cycle_event_s'].values[e]):.4g} (estimated from one continuation "
                          "step, not located)")
            parts.append(f"On the way {who} has {names.get(kind, kind)} {where}.")
        for c in range(path.sizes["coexistence"]):
            b = int(path["coexist_branch"].values[c])
            who = f"the cycle of {path['cycle_context'].values[b]}" if "cycle_context" in path else "a cycle"
            parts.append(f"For {float(path['coexist_low'].values[c]):.4g} <= s <= "
                         f"{float(path['coexist_high'].values[c]):.4g} {who}, stable there, coexists with a stable "
                         "fixed point: the circuit oscillates or settles depending on where it starts (bistability).")
    for i, k in enumerate(kinds):
        if k != "settles":
            continue
        lo, hi, mid = float(path["s_low"][i]), float(path["s_high"][i]), float(path["settle_s"][i])
        n = int(path["settle_n_stable"][i])
        n_branch = path.sizes.get("branch", 0)
        # the circuit settles only where every cycle followed has ended at a Hopf point, where its period
        # diverges, or at the path's end: a cycle stopped early (or none followed) leaves open whether the
        # circuit oscillates there instead
        complete = n_branch > 0 and all(str(r) in ("hopf", "reached_end", "period_diverges")
                                        for r in path["cycle_end_reason"].values)
        text = f"For {lo:.4g} < s < {hi:.4g} " + ("no followed cycle exists" if n_branch else "no cycle was followed")
        if n:
            z = path["settle_z"].values[i]
            out = (", output " + ", ".join(f"{name} = {v:.3g}" for name, v in zip(path["output"].values, z))
                   if z.size and np.all(np.isfinite(z)) else "")
            where = f"(at s = {mid:.3g}{out}" + (f"; {n} stable fixed points there" if n > 1 else "") + ")"
            if complete:
                text += f"; the circuit settles at a stable fixed point {where}."
            else:
                text += (f"; the fixed points followed include a stable one {where}, but whether the circuit "
                         "oscillates instead was not examined" + (" (a cycle was followed only part of the way)."
                                                                  if n_branch else "."))
        else:
            text += ("; no stable fixed point was found there on the followed branches either (what the circuit "
                     "does there is not described by these continuations).")
        parts.append(text)
    return " ".join(parts)


def render_oscillations_section(
    periodic_orbits: xr.Dataset | None,
    path: xr.Dataset | None,
    *,
    figures: Mapping[str, Figure | None],
    run_name: str = "RUN_DIR",
    path_missing: str = "",
) -> str:
    """The "Oscillations" section (id ``oscillations``): each context's free limit cycle and the cycles along the path.

    Parameters
    ----------
    periodic_orbits : xarray.Dataset, optional
        A ``periodic_orbits`` Dataset (``neurobias periodic-orbits``).
    path : xarray.Dataset, optional
        :func:`neurobias.analysis.periodic_orbits.oscillation_along_path` of the run's continuation.
    figures : mapping of str to Figure
        ``orbits`` (cycles in PC space) and ``cycle_frequency`` (frequency against ``s``).
    run_name : str
        The run directory named in the advice on which command to run.
    path_missing : str
        Plain text shown instead of the path part when ``path`` is None (default: which command computes it).
    """
    name = html.escape(run_name)
    if periodic_orbits is None:
        body = _missing(f"Limit cycles not computed yet: run <code>neurobias periodic-orbits {name}</code>.")
    else:
        ds = periodic_orbits
        rows = []
        for i, ctx in enumerate(ds["context"].values.astype(str)):
            trained = float(ds["trained_frequency"].values[i]) if "trained_frequency" in ds else float("nan")
            if not bool(ds["converged"].values[i]):
                rows.append([ctx, _num(trained), "none", "", "", "not converged", "", str(ds["reason"].values[i])])
                continue
            f = float(ds["frequency"].values[i])
            largest, _ = _floquet(ds, i)
            rows.append([ctx, _num(trained), f"{f:.4g}", f"{float(ds['period'].values[i]):.1f}",
                         _pct_signed((f - trained) / trained) if np.isfinite(trained) else "",
                         str(ds["stability"].values[i]), _num(largest), ""])
        lines = summarize_periodic_orbits(ds).splitlines()
        body = ("<p>A limit cycle is a closed orbit the circuit runs around on its own, with the tonic input held "
                "at the context's value and no input (period T: phi_T(x0) = x0). It was found by Newton shooting, "
                "seeded from a simulation; its stability comes from its Floquet multipliers (the eigenvalues of "
                "the monodromy matrix; one of them is 1, along the orbit; the cycle is stable when all others "
                "have modulus below 1).</p>"
                + "<ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in lines) + "</ul>"
                + _table(["context", "trained (Hz)", "free cycle (Hz)", "period (ms)", "difference", "stability",
                          "largest other |multiplier|", "why no cycle"], rows)
                + _img(figures.get("orbits"), "limit cycles in principal-component space"))
    if path is None:
        body += _missing(html.escape(path_missing)) if path_missing else _missing(
            f"Cycles along the path between two contexts not computed yet: run <code>neurobias continue {name} "
            "--from A --to B</code>.")
    else:
        body += (f"<p>{html.escape(summarize_path(path))}</p>"
                 + _img(figures.get("cycle_frequency"), "frequency of the cycles against s"))
    return _section("oscillations", "Oscillations", body)


def _pct_signed(v: float) -> str:
    return "n/a" if not np.isfinite(v) else f"{100 * v:+.1f} %"

"""A self-contained HTML report of a run (figures embedded; no external requests).

:func:`render_report` is pure: Datasets and figures in, one HTML string out.
:func:`neurobias.analysis_runs.report_of_run` gathers what a run directory holds
and writes ``report.html`` atomically.
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

__all__ = ["render_report", "figure_to_data_uri", "SECTIONS", "render_recording_section", "render_recording_report"]

#: section ids, in order
SECTIONS: tuple[str, ...] = (
    "overview", "config", "training", "performance", "tonic", "fixed-points", "continuation", "comparison",
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
                     run_name: str) -> str:
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
        header += ["matched fixed points", "unmatched", "mean displacement"]
        getters.append(lambda i, j: str(int(ds["fp_n_matched"].values[i, j])))
        getters.append(lambda i, j: f"{int(ds['fp_n_unmatched_a'].values[i, j])} / "
                                    f"{int(ds['fp_n_unmatched_b'].values[i, j])}")
        getters.append(lambda i, j: _num(ds["fp_mean_displacement"].values[i, j]))
    rows = [[contexts[i], contexts[j]] + [g(i, j) for g in getters] for i, j in pairs]
    body += "<p>Per pair of contexts:</p>" + _table(header, rows, left=2)

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
        ``matched`` (missing ones are left out).
    fixed_points, continuation, comparison : xarray.Dataset, optional
        Analyses of the run; a section without its Dataset says how to compute it.
    texts : mapping of str to str, optional
        Plain-language summaries by section id (``fixed-points``, ``continuation``, ``comparison``).
    run_name : str
        Shown in the title.

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
            ["steps", attrs.get("steps_done", "")],
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

    frozen = [k[len("sha256_before_"):] for k in attrs if str(k).startswith("sha256_before_")]
    hash_rows = [[name, attrs[f"sha256_before_{name}"][:16] + "...",
                  "unchanged" if attrs[f"sha256_before_{name}"] == attrs.get(f"sha256_after_{name}") else "CHANGED"]
                 for name in frozen]
    loss = results["loss"].values
    training = (
        f"<p>{len(loss)} optimiser steps; loss from {loss[0]:.4g} to {loss[-1]:.4g}.</p>" if len(loss) else
        "<p>No training steps were taken.</p>"
    )
    training += _img(figures.get("loss"), "training loss")
    if hash_rows:
        training += "<p>Frozen weights (sha256 of their bytes before and after training):</p>"
        training += _table(["weight", "sha256 (start)", "after training"], hash_rows)
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
        cont_html = (f"<p>{html.escape(texts.get('continuation', ''))}</p>"
                     + _img(figures.get("bifurcation"), "bifurcation diagram"))
    sections.append(_section("continuation", "Continuation between contexts", cont_html))

    if comparison is None:
        cmp_html = _missing(f"Not computed yet: run <code>neurobias compare-contexts {html.escape(run_name)}</code>.")
    else:
        cmp_html = _comparison_html(comparison, figures, texts.get("comparison", ""), fixed_points is not None,
                                    run_name)
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

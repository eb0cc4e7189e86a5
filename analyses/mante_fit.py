"""Context as a tonic input on prefrontal recordings (Mante et al. 2013): held-out conditions, baselines, attractors.

The data (``neurobias.recordings.mante2013()``): 20 prefrontal units, condition
averages of correct trials in 2 contexts (colour, motion) x 6 motion x 6
colour coherences (71 conditions with data in every unit), 15 bins of 50 ms.
Preprocessing inside every fold, from its fitted part only: soft normalisation
``rate / (range + 5 Hz)`` and each neuron's mean subtracted.

1. The table: every model x (held-out conditions: one motion-coherence level
   held out per fold, in both contexts, 6 folds; held-out time: every second
   block of 3 bins) with R², the mean of its shuffled-condition null and its
   p-value, and R² as a fraction of the noise ceiling (no single trials here:
   the ceiling is ``1 - noise / total`` with the noise variance of each
   average from its trial count, assuming Poisson spike counts).
2. The science: the context-tonic model (fixed ``W_rec`` and ``W_in``, one
   tonic input per context, learned readout) fitted to all conditions; its
   fixed and slow points in each context with the stimulus off; the slowest
   mode (line attractor?) and the selection vector (left eigenvector) against
   the motion and colour input directions, and the line direction read out
   into neuron space against the data's choice axis (regression of the late
   rates on choice, motion and colour coherence, Mante et al. 2013).

Writes the section ``mante_fit`` of ``docs/results.md``. Run from the
repository root (the data through ``neurobias.datasets.fetch("mante2013")``: ``$NEUROBIAS_DATA``)::

    python analyses/mante_fit.py
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
LOAD_AT_START = os.getloadavg()  # the machine is often shared: its load is part of every wall time
CONTEXT_KW = dict(g=1.0, tau=250.0, input_scale=0.2, lr=0.05, seed=0)
#: nested tuning, declared before the run that uses it (2026-12-06, second revision): five candidates of
#: (tau, g, input scale), chosen inside every fold from its fitted conditions only (inner folds: held-out motion
#: coherences), for every recurrent model alike; the centre (250 ms, 1, 0.2) and each parameter moved alone
TUNE_RECURRENT = [
    {"tau": 125.0, "g": 1.0, "input_scale": 0.2},
    {"tau": 250.0, "g": 1.0, "input_scale": 0.2},
    {"tau": 500.0, "g": 1.0, "input_scale": 0.2},
    {"tau": 250.0, "g": 1.5, "input_scale": 0.2},
    {"tau": 250.0, "g": 1.0, "input_scale": 0.5},
]
TUNE_LDS = {"n_latents": [4, 8, 12]}

#: said in the results, prominently
TUNING_NOTE = ("**Tuning.** Every recurrent model's `tau`, `g` (gain of the random recurrent weights) and input "
               "scale (standard deviation of the input weights) are chosen inside each fold from five candidates "
               "(tau, g, input scale) = (125 ms, 1, 0.2), (250, 1, 0.2), (500, 1, 0.2), (250, 1.5, 0.2), "
               "(250, 1, 0.5), and the latent dimension of the linear dynamical system from 4, 8 or 12, by nested "
               "cross-validation: the pooled R² of {inner} inner folds, each holding out one motion coherence of the "
               "fold's fitted conditions (preprocessed from the inner fitted part only); the fold's held-out "
               "entries never enter the choice. The learning rates and step counts are fixed for all models alike.")

#: the numbers this section showed before, kept visible with the reasons they were replaced
HISTORY = ("**Earlier measurements.** (1) 2026-12-05, replaced 2026-12-06: with `tau` = 250 ms, `g` = 1 and input "
           "scale 0.2 all chosen on one held-out-condition fold and the same folds then scoring them, held-out-"
           "condition R² as a fraction of the ceiling was: context tonic, bias (linear readout) 0.33; bias+readout "
           "0.49; no context tonic 0.41; full training 0.47; low-rank RNN 0.43 to 0.48; linear dynamical system "
           "(8 PCs, not tuned) 0.42. Replaced because the selection used scored data. (2) 2026-12-06, replaced the "
           "same day: `tau` (125, 250, 500 ms) and the system's latent dimension tuned inside each fold, but `g` = 1 "
           "and the input scale 0.2 still the values chosen on scored data: bias (`W_out` subset) 0.05; bias "
           "(linear readout) 0.30; bias+readout 0.47; no context tonic 0.39; full training 0.46; low-rank RNN 0.42, "
           "0.43, 0.47 (rank 1, 2, 3); linear dynamical system 0.42. Replaced because `g` and the input scale were "
           "still a selection on scored data; the table above tunes all three inside each fold.")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Fit the context-tonic model and its baselines to Mante et al. 2013 and "
                                "write the measured numbers to docs/results.md.")
    p.add_argument("--units", type=int, default=512, help="units of the two fixed-circuit context models")
    p.add_argument("--baseline-units", type=int, default=128, help="units of the other recurrent models")
    p.add_argument("--steps", type=int, default=200, help="Adam steps of every fit")
    p.add_argument("--n-shuffles", type=int, default=200, help="size of the shuffled-condition nulls")
    p.add_argument("--candidates", type=int, default=64, help="fixed-point candidates per context")
    p.add_argument("--tune-folds", type=int, default=2, help="inner folds of the nested tuning (at most)")
    p.add_argument("--no-doc", action="store_true", help="do not write docs/results.md")
    p.add_argument("--science-only", action="store_true",
                   help="fit nothing for the table: read it from docs/outcomes/mante_fit.json (stored by the last "
                        "full run) and redo the fixed-point analysis of the fitted model, then rewrite the sections")
    return p.parse_args(argv)


def models(a: argparse.Namespace) -> dict:
    from neurobias.fitting.baselines import ConditionTonicFit, LinearDynamicalFit
    from neurobias.fitting.context_fit import ContextFit, LowRankContextFit

    big = dict(n_units=a.units, steps=a.steps, **CONTEXT_KW)
    small = dict(n_units=a.baseline_units, steps=a.steps, **CONTEXT_KW)
    out = {
        "context tonic, bias (fixed circuit and readout: `W_out` subset)": ContextFit(mode="bias", readout="subset",
                                                                                    **big),
        "context tonic, bias (fixed circuit and linear readout)": ContextFit(mode="bias", readout="linear", **big),
        "context tonic, bias+readout (fixed circuit, learned readout)": ContextFit(
            mode="bias+readout", readout="linear", weight_lr=0.01, **big),
        "no context tonic (one tonic shared by both contexts), bias+readout": ContextFit(
            mode="bias+readout", readout="linear", weight_lr=0.01, tonic="shared", **small),
        "one tonic input per condition (TonicFit), bias": ConditionTonicFit(
            n_units=a.baseline_units, mode="bias", readout="subset", g=1.0, tau=250.0, steps=a.steps,
            holdout_block=3, seed=0),
        "context tonic, full (every weight trained)": ContextFit(mode="full", readout="linear", weight_lr=1e-3,
                                                                 **small),
        **{f"low-rank RNN, rank {r} (trained), context tonic": LowRankContextFit(rank=r, weight_lr=0.01, **small)
           for r in (1, 2, 3)},
        "linear dynamical system (least squares, PCs tuned)": LinearDynamicalFit(n_latents=8),
    }
    # the per-condition baseline cannot be tuned by held-out conditions (it cannot predict them)
    return {name: (est, None if isinstance(est, ConditionTonicFit) else
                   TUNE_LDS if isinstance(est, LinearDynamicalFit) else TUNE_RECURRENT)
            for name, est in out.items()}


def table(rec, a: argparse.Namespace) -> tuple[dict, dict]:
    from neurobias.fitting.crossval import cross_validate

    var = rec["rate_variance"].values
    common = dict(soft=5.0, center=True, noise_variance=var, n_shuffles=a.n_shuffles, seed=0)
    rows, times = {}, {}
    for name, (est, tune) in models(a).items():
        t0 = time.perf_counter()
        nested = dict(tune=tune, tune_by="motion", tune_folds=a.tune_folds) if tune is not None else {}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            cond = cross_validate(est, rec, scheme="conditions", by="motion", **common, **nested)
            t1 = time.perf_counter()
            held_t = cross_validate(est, rec, scheme="time", block=3, **common, **nested)
        times[name] = time.perf_counter() - t0
        times[name + " (held-out conditions)"] = t1 - t0
        rows[name] = (summarise(cond), summarise(held_t), sorted({str(w.message) for w in caught}))
        print(f"{name}: conditions R² {float(cond['r2']):.3f}, time R² {float(held_t['r2']):.3f} "
              f"({times[name]:.0f} s)", flush=True)
    return rows, times


def most_chosen(summary: dict) -> tuple[list[dict], int]:
    """The candidates nested tuning chose in the most held-out-condition folds (all of them on a tie, in fold
    order), and in how many folds each was chosen."""
    chosen = [tuple(sorted(c.items())) for c in summary["chosen"]]
    top = max(chosen.count(c) for c in chosen)
    return [dict(c) for c in dict.fromkeys(c for c in chosen if chosen.count(c) == top)], top


def science(rec, a: argparse.Namespace, *, params: dict) -> dict:
    """The context-tonic model on all conditions: fixed points, line attractor, selection vectors, choice axis."""
    from neurobias.analysis.attractors import selection_vectors
    from neurobias.analysis.fixed_points import find_fixed_points
    from neurobias.circuit.nonlinearity import get_phi
    from neurobias.fitting.context_fit import ContextFit, condition_targets
    from neurobias.recordings.design import read_design
    import torch

    d = read_design(rec)
    y = condition_targets(rec, d.conditions)
    flat = y.reshape(-1, y.shape[2])
    yn = (y - flat.mean(axis=0)) / (flat.max(axis=0) - flat.min(axis=0) + 5.0)
    data = rec.copy(data={**{k: v.values for k, v in rec.data_vars.items()}, "rate": yn})
    data["rate"].attrs["units"] = "normalised"
    t0 = time.perf_counter()
    model = ContextFit(mode="bias+readout", readout="linear", weight_lr=0.01, n_units=a.units, steps=a.steps,
                       **{**CONTEXT_KW, **params}).fit(data)
    fit_s = time.perf_counter() - t0
    tonic = model.tonic_dataarray()
    t0 = time.perf_counter()
    fp = find_fixed_points(model.circuit_, tonic, n_candidates=a.candidates, seed=0)
    sel = selection_vectors(model.circuit_, tonic, fp, input_names=("motion", "color"))
    fp_s = time.perf_counter() - t0
    # the data's choice axis: late rates regressed on choice, motion, colour (Mante et al. 2013)
    relevant = np.where(d.context_index == d.contexts.index("motion"), d.stimulus[:, 0], d.stimulus[:, 1])
    keep = relevant != 0
    late = yn[:, -5:].mean(axis=1)
    design = np.column_stack([np.sign(relevant), d.stimulus, np.ones(len(relevant))])[keep]
    beta = np.linalg.lstsq(design, late[keep], rcond=None)[0]  # (regressor, neuron)
    choice_axis = beta[0]
    c = model.circuit_
    out = {"fit_s": fit_s, "fp_s": fp_s, "r2_train": model.r2_train_, "params": params, "contexts": {}}
    rng = np.random.default_rng(0)
    rand = rng.normal(size=(2000, choice_axis.size))
    null_angles = np.degrees(np.arccos(np.abs(rand @ choice_axis) / (np.linalg.norm(rand, axis=1)
                                                                     * np.linalg.norm(choice_axis))))
    out["angle_null_p05"] = float(np.percentile(null_angles, 5))
    for k, ctx in enumerate(tonic["context"].values):
        rows = fp["context"].values == ctx
        kinds = fp["kind"].values[rows]
        stab = fp["stability"].values[rows][kinds == "fixed"]
        x = fp["x"].values[rows]
        spread = float("nan")
        if x.shape[0] >= 2:
            s = np.linalg.svd(x - x.mean(axis=0), compute_uv=False)
            spread = float(s[0] ** 2 / (s ** 2).sum())
        r_vec = sel["line_direction"].values[k]
        centre = sel["point_x"].values[k]
        gain = get_phi(c.phi).deriv(torch.tensor(centre)).numpy()
        line_neuron = c.W_out @ (gain * r_vec)
        cosang = abs(line_neuron @ choice_axis) / (np.linalg.norm(line_neuron) * np.linalg.norm(choice_axis))
        cosang = cosang if np.isfinite(cosang) else np.nan  # a context without points
        dots = sel["selection_dot"].values[k]
        out["contexts"][str(ctx)] = {
            "n_fixed": int((kinds == "fixed").sum()), "n_slow": int((kinds == "slow").sum()),
            "stability": ", ".join(f"{int((stab == s).sum())} {s}" for s in sorted(set(stab))) or "none",
            "spread_pc1": spread,
            "slowest": float(sel["slowest_real"].values[k]), "next": float(sel["next_real"].values[k]),
            "oscillatory": int(sel["oscillatory"].values[k]),
            "sel_motion": float(dots[0]), "sel_color": float(dots[1]),
            "line_choice_angle": float(np.degrees(np.arccos(np.minimum(1.0, cosang)))),
        }
    r0, r1 = sel["line_direction"].values
    l0, l1 = sel["selection"].values
    ang = lambda u, v: float(np.degrees(np.arccos(min(1.0, abs(u @ v) / (np.linalg.norm(u) * np.linalg.norm(v))))))
    out["line_angle_between_contexts"] = ang(r0, r1)
    out["selection_angle_between_contexts"] = ang(l0, l1)
    return out


def summarise(ds) -> dict:
    """What the section shows of one cross-validation result (stored in docs/outcomes/mante_fit.json)."""
    names = [str(v)[6:] for v in ds.data_vars if str(v).startswith("tuned_")]
    return {
        "predicts": int(ds.attrs["predicts"]), "r2": float(ds["r2"]),
        "null_mean": float(ds["r2_null"].mean()) if ds.sizes["shuffle"] else float("nan"),
        "p_value": float(ds["r2_p_value"]), "r2_of_ceiling": float(ds["r2_of_ceiling"]),
        "ceiling": float(ds["ceiling"]), "folds": [str(f) for f in ds["fold"].values],
        "r2_fold": [float(v) for v in ds["r2_fold"].values],
        "chosen": [{n: float(ds[f"tuned_{n}"].values[i]) for n in names} for i in range(ds.sizes["fold"])]
        if names else [],
    }


def _chosen(summary: dict) -> str:
    """The values chosen by nested tuning in each fold, e.g. ``tau 250, 500, ...``."""
    chosen = summary["chosen"]
    if not chosen:
        return "not tuned"
    return "; ".join(f"{n} " + ", ".join(f"{c[n]:g}" for c in chosen) for n in chosen[0])


def _fmt(summary: dict) -> str:
    if not summary["predicts"]:
        return "not defined (no tonic input for an unseen condition) | | "
    return (f"{summary['r2']:.3f} | {summary['null_mean']:.3f} (p = {summary['p_value']:.3f}) | "
            f"{summary['r2_of_ceiling']:.2f}")


def verdict(sci: dict) -> list[str]:
    """The comparison with Mante et al. (2013), read off the measured numbers."""
    out = []
    for ctx, v in sci["contexts"].items():
        rel, irr = (v["sel_motion"], v["sel_color"]) if ctx == "motion" else (v["sel_color"], v["sel_motion"])
        other = "colour" if ctx == "motion" else "motion"
        relname = "motion" if ctx == "motion" else "colour"
        selected = abs(rel) > abs(irr)
        real = not v["oscillatory"] and np.isfinite(v["slowest"])
        gap = v["next"] / v["slowest"] if real and v["slowest"] < 0 else float("nan")
        line = real and gap >= 3 and v["n_fixed"] + v["n_slow"] >= 2 and v["spread_pc1"] >= 0.9
        near = v["line_choice_angle"] < sci["angle_null_p05"]
        tau_ms = -1.0 / v["slowest"] if v["slowest"] < 0 else float("inf")
        out.append(
            f"* **{ctx} context**: selection of the relevant input: **{'yes' if selected else 'no'}** "
            f"(|l . b_{relname}| = {abs(rel):.3f} {'>' if selected else '<='} |l . b_{other}| = {abs(irr):.3f}). "
            f"Line attractor: **{'yes' if line else 'no'}** ({v['n_fixed']} fixed and {v['n_slow']} slow points; "
            + (f"slowest mode {'real' if real else 'complex (a damped oscillation)'}, time constant "
               f"{tau_ms:.0f} ms{'' if not real else f', next mode {gap:.1f}x faster'}). " if v["slowest"] < 0 else
               f"slowest mode not decaying: eigenvalue {v['slowest']:.2e} /ms). ")
            + f"Line direction vs the "
            f"data's choice axis: {v['line_choice_angle']:.0f} deg ({'closer' if near else 'not closer'} than 95% "
            f"of random directions, {sci['angle_null_p05']:.0f} deg).")
    out.append(f"* **Across contexts**: line directions {sci['line_angle_between_contexts']:.0f} deg apart (the "
               f"paper: one shared line), selection vectors {sci['selection_angle_between_contexts']:.0f} deg "
               "apart (the paper: they change with the context).")
    return out


def science_section(sci: dict, a: argparse.Namespace, *, tied: bool) -> list[str]:
    """The fixed-point analysis of the model fitted with one candidate, as Markdown lines."""
    lines = ["#### " + ", ".join(f"`{k}` = {v:g}" for k, v in sci["params"].items()), ""] if tied else []
    lines += [
              f"The fixed-circuit model with learned readout ({a.units} units, "
              + ", ".join(f"`{k}` = {v:g}" for k, v in sci["params"].items())
              + f", chosen in {sci['folds_chosen']} of the 6 held-out-condition folds by its nested tuning"
              + (", tied" if tied else ", the most often") + ") fitted to all 71 conditions "
              f"({sci['fit_s']:.0f} s, R² {sci['r2_train']:.3f} on them); fixed and slow points with the stimulus "
              f"off ({a.candidates} candidates per context, {sci['fp_s']:.0f} s); at the most central point of each "
              "context the slowest eigenvalue of the Jacobian, its right eigenvector (line direction) and left "
              "eigenvector (selection vector, `neurobias.analysis.selection_vectors`); the line direction read out "
              "into neuron space (`W_out diag(phi') r`) against the data's choice axis (regression coefficients "
              "of the late rates, last 5 bins, on choice, motion and colour coherence, as in Mante et al. 2013). "
              f"Random directions in 20 dimensions are within {sci['angle_null_p05']:.0f} degrees of the choice "
              "axis 5% of the time.", "",
              "| context | fixed points (stability) | slow points | variance of the points on their first PC | "
              "slowest eigenvalue (1/ms) | next (1/ms) | selection . motion input | selection . colour input | "
              "line vs data choice axis (deg) |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for ctx, v in sci["contexts"].items():
        lines.append(f"| {ctx} | {v['n_fixed']} ({v['stability']}) | {v['n_slow']} | {v['spread_pc1']:.2f} | "
                     f"{v['slowest']:.2e}{' (complex)' if v['oscillatory'] else ''} | {v['next']:.2e} | "
                     f"{v['sel_motion']:+.3f} | {v['sel_color']:+.3f} | {v['line_choice_angle']:.0f} |")
    lines += ["", f"Angle between the two contexts' line directions: {sci['line_angle_between_contexts']:.0f} deg; "
              f"between their selection vectors: {sci['selection_angle_between_contexts']:.0f} deg.", "",
              "**Against the paper.** Mante et al. (2013) found, in each context, an approximate line attractor "
              "along the choice axis (one slow mode, the others fast), the same line in both contexts, and "
              "context-dependent selection: the selection vector changes with the context so that the relevant "
              "input (motion in the motion context, colour in the colour context) projects onto it more than the "
              "irrelevant one. The table above gives the corresponding numbers of the fitted model: a line "
              "attractor shows as a slowest eigenvalue near 0 with the next one clearly more negative and points "
              "spread along one direction; selection shows as |selection . motion| > |selection . colour| in the "
              "motion context and the reverse in the colour context. Read off the numbers above:", "",
              *verdict(sci), ""]
    return lines


def section(rows: dict, times: dict, scis: list[dict], wall_s: float, cmd: str, a: argparse.Namespace, *,
            note: str = "") -> str:
    any_cond, any_time = next(iter(rows.values()))[:2]
    lines = [
        "## Context as a tonic input: prefrontal cortex (Mante et al. 2013)",
        "",
        f"Command: `{cmd}` on a 2-core machine shared with other jobs ({platform.machine()}, Python "
        f"{platform.python_version()}): {wall_s / 60:.1f} min in all. Data: `neurobias.recordings.mante2013()`, "
        "20 units, 71 conditions (2 contexts x 6 motion x 6 colour coherences; one condition without trials in "
        "some unit dropped), 15 bins of 50 ms. In every fold: soft normalisation (range + 5 Hz) and centring "
        "from the fitted part only. Context models: `tau`, `g` and the input scale tuned (below; Euler steps of "
        f"`dt <= tau / 5`), {a.steps} Adam steps; the first three rows with "
        f"{a.units} units, the other recurrent models with {a.baseline_units}.",
        "",
        TUNING_NOTE.format(inner=a.tune_folds),
        "",
        "**Held-out conditions**: six folds, each holding out one motion coherence in both contexts (12 of the 71 "
        "conditions; the extreme coherences are extrapolations). **Held-out time**: every second block of 3 bins. "
        f"Null: predictions permuted across conditions ({a.n_shuffles} permutations; mean and p-value). "
        f"**Ceiling**: no single trials in this data set, so no split-half reliability; the ceiling is "
        f"`1 - noise / total` with the variance of each average from its trial count under a Poisson "
        f"assumption (Fano factor 1; spike-count noise is usually over-dispersed, so the true ceiling is probably "
        f"lower): {float(any_cond['ceiling']):.3f} on held-out conditions, {float(any_time['ceiling']):.3f} on "
        "held-out time. R²/ceiling is each model's R² as a fraction of it.",
        "",
        "| model | held-out conditions R² | null mean (p) | R²/ceiling | held-out time R² | null mean (p) | "
        "R²/ceiling | chosen per fold (conditions / time) | wall time |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, (cond, held_t, warned) in rows.items():
        warn = " (warned: loss ended above its start in some fold)" if any("ended above its start" in w for w in warned) else ""
        lines.append(f"| {name}{warn} | {_fmt(cond)} | {_fmt(held_t)} | {_chosen(cond)} / {_chosen(held_t)} | "
                     f"{times[name]:.0f} s |")
    lines += ["", f"Per-fold held-out-condition R² of the fixed-circuit model with learned readout: "
              + ", ".join(f"{f}: {v:.2f}" for f, v in zip(
                  rows[BIAS_READOUT][0]['folds'], rows[BIAS_READOUT][0]['r2_fold'])) + "."]
    lines += ["", HISTORY]
    lines += ["", "### Fixed points, line attractors and selection vectors of the fitted model", ""]
    if note:
        lines += [note, ""]
    if len(scis) > 1:
        lines += [f"Nested tuning of the fixed-circuit model with learned readout chose {len(scis)} candidates "
                  f"equally often ({scis[0]['folds_chosen']} of {len(rows[BIAS_READOUT][0]['folds'])} folds each), "
                  "so the model is fitted and analysed with each of them:", ""]
    for sci in scis:
        lines += science_section(sci, a, tied=len(scis) > 1)
    return "\n".join(lines)


#: the speed goal of the tuned fits of every held-out-condition fold, seconds on 2 cores
GOAL_S = 600.0


def performance(times: dict, a: argparse.Namespace, cmd: str, load: dict) -> str:
    name = "context tonic, bias (fixed circuit and linear readout)"
    folds = times[name + " (held-out conditions)"]
    return "\n".join([
        "## Context fit on the Mante et al. (2013) data",
        "",
        f"Measured by `{cmd}` (see results.md, section \"Context as a tonic input\") on a 2-core machine shared "
        f"with other jobs ({platform.machine()}, Python {platform.python_version()}, one torch thread): the "
        f"context-tonic model in bias mode with {a.units} units, {a.steps} Adam steps per fit, 71 conditions x 15 "
        f"bins, `tau`, `g` and the input scale tuned by nested cross-validation ({len(TUNE_RECURRENT)} candidates, "
        f"at most {a.tune_folds} inner folds, so {len(TUNE_RECURRENT) * a.tune_folds + 1} fits per fold): all six "
        f"held-out-condition folds in {times[name + ' (held-out conditions)']:.0f} s "
        f"({times[name + ' (held-out conditions)'] / 60:.1f} min), with the held-out-time fit {times[name]:.0f} s; "
        f"load average {load['start']:.1f} at the start of the run and {load['end_15min']:.1f} over the last 15 "
        "minutes of it (other jobs ran beside it). Goal: under 10 minutes on 2 cores; in this run the folds "
        f"took {'no more' if folds <= GOAL_S else 'more'} than that. The goal is judged by `python "
        "benchmarks/context_fit.py`, which times the same folds alone (its section below). Without nested tuning "
        "(one fit per fold) the same six folds took 46 s on 2026-12-05.",
    ])


#: the model whose fixed points are analysed
BIAS_READOUT = "context tonic, bias+readout (fixed circuit, learned readout)"
STORE = ROOT / "docs" / "outcomes" / "mante_fit.json"


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from neurobias.io.files import atomic_write_text, read_text
    from neurobias.recordings.shared import mante2013

    t0 = time.perf_counter()
    rec = mante2013()
    note = ""
    if a.science_only:  # the table as the last full run measured it, with that run's options
        saved = json.loads(read_text(STORE, what="stored Mante fit outcome"))
        rows = {k: tuple(v) for k, v in saved["rows"].items()}
        times, table_wall, cmd, load = saved["times"], saved["table_wall_s"], saved["command"], saved["load"]
        a = argparse.Namespace(**{**saved["args"], "science_only": True, "no_doc": a.no_doc})
    else:
        rows, times = table(rec, a)
        table_wall = time.perf_counter() - t0
        cmd = ("python analyses/mante_fit.py"
               + "".join(f" {x}" for x in (argv if argv is not None else sys.argv[1:]))).strip()
        load = {"start": LOAD_AT_START[0], "end_15min": os.getloadavg()[2]}
        if not a.no_doc:
            atomic_write_text(STORE, json.dumps({
                "measured": time.strftime("%Y-%m-%d", time.gmtime()), "command": cmd, "table_wall_s": table_wall,
                "load": load, "args": {k: v for k, v in vars(a).items() if k not in ("science_only", "no_doc")},
                "times": times, "rows": rows}, indent=1) + "\n")
    t1 = time.perf_counter()
    candidates, count = most_chosen(rows[BIAS_READOUT][0])
    scis = [{**science(rec, a, params=c), "folds_chosen": count} for c in candidates]
    if a.science_only:
        note = (f"The fixed-point analysis below was redone on {time.strftime('%Y-%m-%d', time.gmtime())} by "
                f"`python analyses/mante_fit.py --science-only` ({time.perf_counter() - t1:.0f} s) from the table "
                "stored by that run in `docs/outcomes/mante_fit.json`.")
    wall = table_wall + (0.0 if a.science_only else time.perf_counter() - t1)
    text = section(rows, times, scis, wall, cmd, a, note=note)
    print(text)
    if not a.no_doc:
        from neurobias.io.results_doc import write_section

        write_section(ROOT / "docs" / "results.md", "mante_fit", text)
        write_section(ROOT / "docs" / "performance.md", "mante_fit", performance(times, a, cmd, load))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

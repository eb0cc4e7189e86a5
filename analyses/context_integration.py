"""Mante et al. (2013) on a circuit that learned context-dependent integration through its tonic inputs alone.

Mante, Sussillo, Shenoy & Newsome (2013), "Context-dependent computation by
recurrent dynamics in prefrontal cortex", Nature 503:78-84, trained a network
to integrate motion or color evidence depending on a context cue, and found in
each context an approximate line attractor of slow points, along which the
choice is integrated, with a *selection vector* (left eigenvector of the
slowest mode) that picks the relevant input.  Here the context is not an input:
one fixed random circuit (``models/context_integration.toml``) is trained in
bias mode, so the two contexts differ only in their learned tonic inputs.

The script

1. trains the circuit with :func:`neurobias.run` (``--steps``, ``--units``);
2. measures the behaviour: accuracy per context and the sensitivity of the
   choice output to each stream (least-squares slope of the mean decision-epoch
   output on the motion and color coherences);
3. finds fixed and slow points per context with zero sensory input and a looser
   slow-point threshold (``--slow-q``), starting also from the states the trials
   visit (:func:`neurobias.analysis.find_fixed_points`);
4. looks for a line attractor per context (:func:`neurobias.analysis.attractors.detect_manifold`);
5. computes the selection vector and the line direction at the central point of
   each context and their angles with the motion and color input directions
   (:func:`neurobias.analysis.attractors.selection_vectors`);
6. measures the relaxation towards the line: the time constants of the two
   slowest modes there, and simulated decays of perturbations orthogonal to
   the line (distance to the line falls by a factor e) against the drift along it;
7. writes ``fixed_points.nc``, ``comparison.nc`` and ``report.html`` into the
   run directory, ``OUT/context_integration.json`` with every number, and the
   section "Context-dependent integration (Mante et al. 2013)" of ``docs/results.md``.

Run from the repository root::

    python analyses/context_integration.py --out runs/context_integration

The defaults finish in a few minutes on 2 CPU cores.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SECTION_TITLE = "Context-dependent integration (Mante et al. 2013)"
START, END = "<!-- context_integration:start -->", "<!-- context_integration:end -->"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Train a bias-only context_integration circuit and repeat the analysis of Mante et al. 2013 "
        "(line attractor per context, selection vectors, relaxation towards the line).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--out", default="runs/context_integration", help="output directory (the run directory)")
    p.add_argument("--config", default=str(ROOT / "models" / "context_integration.toml"), help="run config")
    p.add_argument("--steps", type=int, default=None, help="training steps (default: the config's)")
    p.add_argument("--units", type=int, default=None, help="number of units (default: the config's)")
    p.add_argument("--seed", type=int, default=None, help="seed of the run (default: the config's)")
    p.add_argument("--candidates", type=int, default=256, help="fixed-point candidates per context")
    p.add_argument("--slow-q", type=float, default=1e-4,
                   help="largest q = |F|^2/2 ((state/ms)^2) of a slow point (find_fixed_points' default is 1e-6)")
    p.add_argument("--descent-steps", type=int, default=1000, help="Adam steps of the slow-point descent")
    p.add_argument("--descent-states", type=int, default=150, help="visited states the descent starts from")
    p.add_argument("--results-md", default=str(ROOT / "docs" / "results.md"),
                   help="markdown file whose section is (re)written")
    p.add_argument("--no-docs", action="store_true", help="do not write the markdown section")
    return p.parse_args(argv)


# ------------------------------------------------------------------ behaviour
def behaviour(results: Any) -> dict[str, dict[str, float]]:
    """Accuracy and the choice output's sensitivity to each stream, per context."""
    out: dict[str, dict[str, float]] = {}
    mask = results["mask"].values[..., 0]
    target = results["target"].values[..., 0]
    z = results["z"].values[..., 0]
    for c, name in enumerate(str(v) for v in results["context"].values):
        decision = (mask[c] > 0) & (target[c] != 0)  # (trial, time): the decision epoch of trials with a choice
        has = decision.any(axis=1)
        mean_z = np.array([z[c, k, decision[k]].mean() if has[k] else np.nan for k in range(z.shape[1])])
        choice = results["trial_choice"].values[c]
        ok = has & (choice != 0)
        acc = float(np.mean(np.sign(mean_z[ok]) == choice[ok]))
        motion = results["trial_motion_coherence"].values[c]
        color = results["trial_color_coherence"].values[c]
        A = np.column_stack([np.ones(ok.sum()), motion[ok], color[ok]])
        coef = np.linalg.lstsq(A, mean_z[ok], rcond=None)[0]
        out[name] = {"accuracy": acc, "n_trials": int(ok.sum()), "slope_motion": float(coef[1]),
                     "slope_color": float(coef[2])}
    return out


# ---------------------------------------------------------------- slow points
def descent_slow_points(circuit: Any, tonic: np.ndarray, states: np.ndarray, *, steps: int, lr: float = 0.02
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Minimise ``q = |F|^2 / 2`` from ``states`` (n, unit) by Adam without Newton (Sussillo & Barak 2013).

    Mante et al. (2013) found their line attractors this way: the descent is
    stopped after ``steps`` steps and the end points with ``q`` below a
    threshold are the slow points, which collect along slow manifolds (a
    Newton corrector would instead carry them on to the fixed points).
    Returns the end points (n, unit) and their ``q`` (n,), (state/ms)^2.
    """
    import torch

    from neurobias.circuit.dynamics import vector_field

    W = torch.tensor(circuit.W_rec)
    ext = torch.tensor(tonic).expand(states.shape[0], -1)
    X = torch.tensor(states, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([X], lr=lr)
    for _ in range(steps):
        F = vector_field(X, ext, W, tau=circuit.tau, phi=circuit.phi, form=circuit.form)
        q = 0.5 * (F * F).sum(-1)
        opt.zero_grad()
        q.sum().backward()
        opt.step()
    with torch.no_grad():
        F = vector_field(X, ext, W, tau=circuit.tau, phi=circuit.phi, form=circuit.form)
        q = 0.5 * (F * F).sum(-1)
    return X.detach().numpy(), q.numpy()


def with_slow_points(fp: Any, circuit: Any, tonic: Any, slow: dict[str, np.ndarray]) -> Any:
    """``fp`` with the descent slow points of each context appended as ``kind = "slow"`` (same variables)."""
    import torch
    import xarray as xr

    from neurobias.circuit.dynamics import jacobian, vector_field

    names = [str(c) for c in tonic["context"].values]
    blocks = [fp]
    next_fp = int(fp["fp"].values.max()) + 1 if fp.sizes["fp"] else 0
    for c, X in slow.items():
        if not len(X):
            continue
        ext = torch.tensor(np.repeat(tonic["tonic"].values[names.index(c)][None], len(X), axis=0))
        xt = torch.tensor(X)
        W = torch.tensor(circuit.W_rec)
        with torch.no_grad():
            F = vector_field(xt, ext, W, tau=circuit.tau, phi=circuit.phi, form=circuit.form).numpy()
            lam = torch.linalg.eigvals(jacobian(xt, ext, W, tau=circuit.tau, phi=circuit.phi, form=circuit.form))
        lam = lam.numpy()
        order = np.lexsort((-lam.imag, -lam.real), axis=-1)
        lam = np.take_along_axis(lam, order, axis=-1)
        index = np.sum(lam.real > 0, axis=1)
        stab = np.where(index == 0, "stable", np.where(index == lam.shape[1], "unstable", "saddle"))
        n = len(X)
        blocks.append(xr.Dataset(
            {
                "x": (("fp", "unit"), X), "r": (("fp", "unit"), np.tanh(X) if circuit.phi == "tanh" and
                                                circuit.form == "current" else X),
                "residual": (("fp",), np.abs(F).max(axis=1)), "q": (("fp",), 0.5 * (F * F).sum(axis=1)),
                "eig_real": (("fp", "mode"), lam.real), "eig_imag": (("fp", "mode"), lam.imag),
                "index": (("fp",), index.astype(np.int64)), "stability": (("fp",), stab.astype(str)),
                "oscillatory": (("fp",), (lam[:, 0].imag != 0).astype(np.int8)),
                "kind": (("fp",), np.full(n, "slow")), "n_hits": (("fp",), np.ones(n, dtype=np.int64)),
                "source": (("fp",), np.full(n, "descent")),
            },
            coords={"fp": np.arange(next_fp, next_fp + n), "context": ("fp", np.full(n, c)),
                    "unit": fp["unit"].values, "mode": fp["mode"].values},
        ))
        next_fp += n
    out = xr.concat(blocks, dim="fp", data_vars="all", coords="different", compat="equals", join="exact",
                    combine_attrs="override")
    out.attrs["slow_points"] = "descent on q from visited states (analyses/context_integration.py)"
    return out


# ----------------------------------------------------------------- relaxation
def relaxation(circuit: Any, tonic: Any, context: str, x_star: np.ndarray, line: np.ndarray, cloud: np.ndarray, *,
               dt: float, n_directions: int = 8, size: float = 0.5, duration: float = 400.0,
               seed: int = 0) -> dict[str, float]:
    """Perturb the state off the line at ``x_star`` and measure how fast it returns, and where it goes.

    ``n_directions`` random perturbations of norm ``size`` orthogonal to the
    unit vector ``line``, followed for ``duration`` ms with no sensory input.
    Returns the medians over directions of: the time for the distance to the
    straight line through ``x_star`` along ``line`` to fall below ``1/e`` of
    its start (ms; inf if it never does: the local relaxation towards the
    line), the distance to the nearest point of ``cloud`` (the context's fixed
    and slow points, (n, unit)) at the end, and the distance travelled along
    ``line`` at the end (state units).
    """
    from neurobias import simulate

    rng = np.random.default_rng(seed)
    t_hat = line / np.linalg.norm(line)
    d = rng.standard_normal((n_directions, x_star.size))
    d -= np.outer(d @ t_hat, t_hat)
    d *= size / np.linalg.norm(d, axis=1, keepdims=True)
    x0 = x_star[None, :] + d
    sim = simulate(circuit, tonic, x0=x0, duration=duration, dt=dt, contexts=[context])
    x = sim["x"].sel(context=context).transpose("trial", "time", "unit").values  # (trial, time, unit)
    rel = x - x_star
    along = rel @ t_hat
    perp = np.linalg.norm(rel - along[..., None] * t_hat, axis=-1)
    times = sim["time"].values
    perp0 = np.linalg.norm(d, axis=1)
    t_e = []
    for k in range(n_directions):
        below = np.flatnonzero(perp[k] <= perp0[k] / np.e)
        t_e.append(float(times[below[0]]) if below.size else float("inf"))
    end = x[:, -1, :]
    to_cloud = np.min(np.linalg.norm(end[:, None, :] - cloud[None, :, :], axis=-1), axis=1)
    return {
        "t_decay_ms": float(np.median(t_e)),
        "final_distance_to_points": float(np.median(to_cloud)),
        "drift_along_line": float(np.median(np.abs(along[:, -1]))),
        "duration_ms": float(duration),
        "size": float(size),
    }


def angle(a: np.ndarray, b: np.ndarray) -> float:
    """Angle between two lines (sign-free), degrees."""
    c = abs(float(a @ b)) / (np.linalg.norm(a) * np.linalg.norm(b))
    return float(np.degrees(np.arccos(min(1.0, c))))


# ------------------------------------------------------------------- markdown
def _f(v: float, fmt: str = ".3g") -> str:
    return "n/a" if v is None or not np.isfinite(v) else format(v, fmt)


def tau_of(lam: float) -> str:
    """Time constant of an eigenvalue (1/ms) in ms: ``-1/lam`` when it decays, ``grows, 1/lam`` otherwise."""
    if not np.isfinite(lam) or lam == 0:
        return "n/a"
    return f"{-1.0 / lam:.3g}" if lam < 0 else f"grows, {1.0 / lam:.3g}"


def markdown(numbers: dict[str, Any]) -> str:
    ctx = numbers["contexts"]
    inputs = numbers["inputs"]
    lines = [START, f"## {SECTION_TITLE}", ""]
    cfg = numbers["config"]
    lines += [
        f"A fixed random circuit of {cfg['n_units']} tanh units (Gaussian `W_rec`, g = {cfg['g']}, "
        f"tau = {cfg['tau']} ms) receives two noisy evidence streams (`motion`, `color`) through fixed input "
        "weights; in context `motion` it must report the sign of the motion coherence, in context `color` that of "
        "the color coherence. The context reaches the circuit only through its tonic input: bias-only training "
        f"({numbers['steps_done']} Adam steps) learned one vector of {cfg['n_units']} values per context and "
        "nothing else (" + ("the sha256 of every weight is unchanged by training" if numbers["weights_unchanged"]
                            else "WARNING: a weight's sha256 changed during training") + "). "
        "Config: `models/context_integration.toml`.",
        "",
        "Command (repository root) and its measured wall time:",
        "",
        "```",
        numbers["command"],
        "```",
        "",
        f"Wall time **{numbers['wall_s']:.0f} s** in all ({numbers['timing']['train_s']:.0f} s training, "
        f"{numbers['timing']['fixed_points_s']:.0f} s fixed points, {numbers['timing']['analysis_s']:.0f} s "
        f"analyses, {numbers['timing']['compare_report_s']:.0f} s compare-contexts and report) on "
        f"{numbers['machine']}; measured {numbers['date']}.",
        "",
        "### Behaviour",
        "",
        "| context | accuracy | choice slope on motion coherence | choice slope on color coherence |",
        "|---|---|---|---|",
    ]
    for c in ctx:
        b = numbers["behaviour"][c]
        lines.append(f"| {c} | {100 * b['accuracy']:.1f}% ({b['n_trials']} trials) | {_f(b['slope_motion'])} | "
                     f"{_f(b['slope_color'])} |")
    lines += [
        "",
        "Slope: least-squares regression of the mean readout in the decision epoch on both coherences of the "
        "trial (fresh evaluation trials with input noise).",
        "",
        "### Fixed points, line attractor, selection vectors",
        "",
        "Fixed and slow points with the sensory inputs off (definitions below the table).",
        "",
        "| | " + " | ".join(ctx) + " |",
        "|---|" + "---|" * len(ctx),
    ]
    pc = numbers["per_context"]

    def row(label: str, key: str, fmt: Any = _f) -> str:
        return f"| {label} | " + " | ".join(fmt(pc[c][key]) for c in ctx) + " |"

    lines += [
        row("fixed points", "fixed_points_text", str),
        row("slow points (descent from visited states, q below threshold)", "n_slow", str),
        row("manifold of fixed + slow points (detect_manifold)", "manifold_shape", str),
        row("PC1 share of their position variance (%)", "manifold_pc1", lambda v: _f(100 * v, ".0f")),
        row("participation ratio of their positions", "manifold_pr"),
        row("extent along PC1 (sd, state units)", "manifold_extent"),
        row("largest gap along PC1 (fraction of the range)", "manifold_max_gap"),
        row("central fixed point (where the vectors below are taken)", "central_stability", str),
        row("its slowest eigenvalue, real part (1/ms)", "slowest_real"),
        row("... imaginary part (1/ms; nonzero: a complex pair)", "slowest_imag"),
        row("... time constant (ms)", "tau_slowest", str),
        row("its next eigenvalue, real part (1/ms)", "next_real"),
        row("... time constant (ms)", "tau_next", str),
        row("stable fixed points: slowest time constant (ms, median)", "tau_stable_slowest", str),
        row("angle slowest mode vs manifold PC1 (deg)", "line_vs_tangent"),
    ]
    for u in inputs:
        lines.append(row(f"selection vector . {u} input", f"sel_dot_{u}"))
    for u in inputs:
        lines.append(row(f"angle selection vector vs {u} input (deg)", f"sel_angle_{u}"))
    for u in inputs:
        lines.append(row(f"angle slowest mode vs {u} input (deg)", f"line_angle_{u}"))
    lines += [
        row("relevant / irrelevant abs(selection . input)", "selection_ratio"),
        row("perturbed off the line: time to fall by e (ms)", "relax_t_decay"),
        row("... after 400 ms: distance to the nearest fixed/slow point", "relax_final"),
        row("... after 400 ms: distance travelled along the line", "relax_drift"),
        "",
        f"Between the contexts: slowest modes {_f(numbers['between']['line_angle'])} deg apart, selection "
        f"vectors {_f(numbers['between']['selection_angle'])} deg apart, tonic inputs cosine "
        f"{_f(numbers['between']['tonic_cosine'])}.",
        "",
        "Fixed points: `max|F| <= 1e-10` (Newton, `find_fixed_points`). Slow points: end points of "
        f"{numbers['descent_steps']} Adam steps on `q = |F|^2/2` from {numbers['descent_states']} states the "
        f"trials visit, kept when `q <= {numbers['slow_q']:g}` (state/ms)^2 (speed below "
        f"{np.sqrt(2 * numbers['slow_q']):.3g} state units/ms), as Mante et al. did. Selection vector: left "
        "eigenvector `l` of the slowest mode at the central fixed point (`l . r = 1`, `r` the right "
        "eigenvector); `l . b_j` is how far a pulse of input `j` moves the state along that mode (Mante et al. "
        "2013). Perturbations: 0.5 state units orthogonal to the manifold's PC1 (or to `r` without a line) at "
        "the central point, 8 random directions, inputs off, medians.",
        "",
        "### What was found",
        "",
    ]
    lines += numbers["verdict"]
    lines += ["", END]
    return "\n".join(lines) + "\n"


def write_section(path: Path, text: str) -> None:
    from neurobias.io import atomic_write_text

    if path.exists():
        old = path.read_text(encoding="utf-8")
        if START in old and END in old:
            new = re.sub(re.escape(START) + r".*?" + re.escape(END) + r"\n?", lambda _: text, old, flags=re.S)
        else:
            new = old.rstrip("\n") + "\n\n" + text
    else:
        new = ("# Measured results\n\nNumbers measured by the scripts in `analyses/`; each section says the command "
               "that produced it, when, and how long it took.\n\n" + text)
    atomic_write_text(path, new)


def verdict(numbers: dict[str, Any]) -> list[str]:
    """Plain sentences on what was (and was not) found, from the numbers."""
    out = []
    pc = numbers["per_context"]
    for c in numbers["contexts"]:
        p = pc[c]
        other = [u for u in numbers["inputs"] if u != c]
        s = (f"- **{c}**: {p['n_fixed']} fixed point{'s' if p['n_fixed'] != 1 else ''} ({p['n_stable']} stable, "
             f"{p['n_saddle']} saddle) and {p['n_slow']} slow point{'s' if p['n_slow'] != 1 else ''}; ")
        lam = p["slowest_real"]
        speed = np.sqrt(2 * numbers["slow_q"])
        if p["manifold_shape"] == "line":
            s += (f"together they form a line (PC1 holds {_f(100 * p['manifold_pc1'], '.0f')}% of their position "
                  f"variance, sd {_f(p['manifold_extent'])} state units along it, largest gap "
                  f"{_f(100 * p['manifold_max_gap'], '.0f')}% of its length) on which the flow is slow (speed "
                  f"below {speed:.2g} state units/ms).")
            if np.isfinite(lam) and lam > 0 and not p["oscillatory"]:
                s += (f" It is not a neutrally stable line attractor as in Mante et al.: its middle is a "
                      f"{p['central_stability']} from which the state moves away along the line (slowest mode, "
                      f"within {_f(p['line_vs_tangent'], '.2g')} deg of it) with time constant {_f(1 / lam)} ms, "
                      f"towards the {p['n_stable']} stable fixed points near its ends (the choices; slowest time "
                      f"constant there {p['tau_stable_slowest']} ms); across the line the next mode decays in "
                      f"{p['tau_next']} ms.")
            elif p["oscillatory"]:
                s += (f" At its central fixed point ({p['central_stability']}) the slowest modes are a complex "
                      f"pair (period {_f(2 * np.pi / abs(p['slowest_imag']))} ms).")
            else:
                s += (f" An approximate line attractor: at its central fixed point ({p['central_stability']}) the "
                      f"slowest mode decays in {p['tau_slowest']} ms against {p['tau_next']} ms for the next one.")
        else:
            gap = (f", largest gap {_f(100 * p['manifold_max_gap'], '.0f')}% of the range"
                   if np.isfinite(p["manifold_max_gap"]) else "")
            s += (f"no line attractor: detect_manifold classifies them `{p['manifold_shape']}` (PC1 holds "
                  f"{_f(100 * p['manifold_pc1'], '.0f')}% of their position variance{gap}).")
            if p["oscillatory"]:
                s += (f" At the central fixed point ({p['central_stability']}) the slowest modes are a complex "
                      f"pair (period {_f(2 * np.pi / abs(p['slowest_imag']))} ms).")
            else:
                s += (f" At the central fixed point ({p['central_stability']}) the slowest mode has time constant "
                      f"{p['tau_slowest']} ms against {p['tau_next']} ms for the next one.")
        s += (f" A perturbation off the line falls by e in {_f(p['relax_t_decay'])} ms and ends, 400 ms later, "
              f"{_f(p['relax_final'])} state units from the nearest fixed or slow point, having moved "
              f"{_f(p['relax_drift'])} along the line.")
        if other and c in numbers["inputs"]:
            verb = "picks" if p["selection_ratio"] > 1 else "does not favour"
            s += (f" The selection vector {verb} the relevant `{c}` input: `l . b` = "
                  f"{_f(abs(p[f'sel_dot_{c}']))} against {_f(abs(p[f'sel_dot_{other[0]}']))} for `{other[0]}` "
                  f"(ratio {_f(p['selection_ratio'])}); the slowest mode makes "
                  f"{_f(p[f'line_angle_{c}'], '.2g')} and {_f(p[f'line_angle_{other[0]}'], '.2g')} deg with the two "
                  "inputs.")
        out.append(s)
    b = numbers["behaviour"]
    acc = ", ".join(f"{c} {100 * b[c]['accuracy']:.0f}%" for c in numbers["contexts"])
    slopes = "; ".join(f"{c}: motion {_f(b[c]['slope_motion'])}, color {_f(b[c]['slope_color'])}"
                       for c in numbers["contexts"])
    gated = all(b[c]["accuracy"] >= 0.8 and abs(b[c][f"slope_{c}"]) > 3 * max(
        abs(b[c][f"slope_{u}"]) for u in numbers["inputs"] if u != c) for c in numbers["contexts"]
        if c in numbers["inputs"])
    if gated:
        out.append(f"- Behaviour: accuracy {acc}; in each context the choice follows the relevant stream and "
                   f"largely ignores the other (slopes {slopes}), although the inputs reach the circuit through "
                   "the same fixed weights in both contexts: the tonic input alone gates them.")
    else:
        out.append(f"- Behaviour: accuracy {acc} (slopes {slopes}): the circuit does not (yet) gate the two "
                   "streams by context; train longer.")
    return out


# ------------------------------------------------------------------------ main
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    t_start = time.perf_counter()
    import torch

    import neurobias
    from neurobias.analysis import find_fixed_points
    from neurobias.analysis.attractors import detect_manifold, selection_vectors
    from neurobias.workflows import analyse_contexts, write_report
    from neurobias.io import write_dataset

    overrides = []
    if args.steps is not None:
        overrides.append(f"training.steps={args.steps}")
    if args.units is not None:
        overrides.append(f"circuit.n_units={args.units}")
    if args.seed is not None:
        overrides.append(f"seed={args.seed}")
    config = neurobias.apply_overrides(neurobias.load_config(args.config), overrides)
    out = Path(args.out)

    t0 = time.perf_counter()
    run = neurobias.run(config, out=out, overwrite=True, progress=False)  # a rerun replaces the run
    t_train = time.perf_counter() - t0
    circuit, results = run.circuit, run.results
    contexts = [str(c) for c in results["context"].values]
    inputs = list(circuit.input_names)
    print(f"trained {results.attrs['steps_done']} steps in {t_train:.0f} s; NMSE "
          + ", ".join(f"{c} {v:.3g}" for c, v in zip(contexts, results["nmse"].values)), flush=True)
    beh = behaviour(results)

    # candidates from the states the trials visit (end of stimulus and decision epochs): they lie along the line
    t0 = time.perf_counter()
    x = results["x"].transpose("context", "trial", "time", "unit").values
    visited = x[:, :, x.shape[2] // 2::4, :].reshape(len(contexts), -1, circuit.n_units)
    fp = find_fixed_points(circuit, results, initial_states=visited, n_candidates=args.candidates,
                           slow_q=args.slow_q, seed=0)
    rng = np.random.default_rng(0)
    slow: dict[str, np.ndarray] = {}
    n_descent: dict[str, int] = {}
    for i, c in enumerate(contexts):
        pool = x[i, :, x.shape[2] // 10::4, :].reshape(-1, circuit.n_units)
        start = pool[rng.choice(len(pool), size=min(args.descent_states, len(pool)), replace=False)]
        end, q = descent_slow_points(circuit, results["tonic"].values[i], start, steps=args.descent_steps)
        slow[c] = end[q <= args.slow_q]
        n_descent[c] = len(start)
    fp = with_slow_points(fp, circuit, results, slow)
    fp.attrs["config"] = str(results.attrs["config"])
    fp.attrs["run_seed"] = int(results.attrs["seed"])
    write_dataset(fp, out / "fixed_points.nc", kind="fixed_points")
    t_fp = time.perf_counter() - t0
    print(f"fixed points in {t_fp:.0f} s: " + ", ".join(
        f"{c} {int(np.sum((fp['context'].values == c) & (fp['kind'].values == 'fixed')))} fixed + "
        f"{int(np.sum((fp['context'].values == c) & (fp['kind'].values == 'slow')))} slow" for c in contexts),
        flush=True)

    t0 = time.perf_counter()
    sel = selection_vectors(circuit, results, fp, kind="fixed")
    per: dict[str, dict[str, Any]] = {}
    for c in contexts:
        man = detect_manifold(fp, c)
        s = sel.sel(context=c)
        mask = fp["context"].values == c
        kinds, stab = fp["kind"].values[mask], fp["stability"].values[mask]
        n_fixed = int(np.sum(kinds == "fixed"))
        ratio = man["explained_variance_ratio"].values
        tangent = man["tangent"].values
        line = s["line_direction"].values
        lam1, lam2 = float(s["slowest_real"]), float(s["next_real"])
        p: dict[str, Any] = {
            "n_fixed": n_fixed, "n_stable": int(np.sum((kinds == "fixed") & (stab == "stable"))),
            "n_slow": int(np.sum(kinds == "slow")), "n_points": int(man["n_points"]),
            "manifold_shape": str(man["shape"].values), "manifold_dimension": int(man["dimension"]),
            "manifold_pr": float(man["participation_ratio"]),
            "manifold_pc1": float(ratio[0]) if ratio.size else float("nan"),
            "manifold_extent": float(man["extent"]),
            "slowest_real": lam1, "slowest_imag": float(s["slowest_imag"]), "next_real": lam2,
            "tau_slowest": tau_of(lam1), "tau_next": tau_of(lam2),
            "line_vs_tangent": angle(line, tangent) if int(man["n_points"]) >= 2 and np.all(np.isfinite(tangent))
            and np.all(np.isfinite(line)) else float("nan"),
            "oscillatory": int(s["oscillatory"]),
            "selection_norm": float(s["selection_norm"]),
        }
        p["n_saddle"] = int(np.sum((kinds == "fixed") & (stab == "saddle")))
        p["fixed_points_text"] = f"{n_fixed} ({p['n_stable']} stable, {p['n_saddle']} saddle)"
        p["n_descent_starts"] = n_descent[c]
        st_rows = np.flatnonzero(mask & (fp["kind"].values == "fixed") & (fp["stability"].values == "stable"))
        lam_st = fp["eig_real"].values[st_rows, 0]
        p["tau_stable_slowest"] = (f"{np.median(-1.0 / lam_st):.3g}" if lam_st.size and np.all(lam_st < 0) else "n/a")
        p["central_stability"] = str(fp["stability"].values[fp["fp"].values == int(s["point"])][0]) \
            if int(s["point"]) >= 0 else "none"
        p["manifold_max_gap"] = float(man["max_gap"])
        for u in inputs:
            p[f"sel_dot_{u}"] = float(s["selection_dot"].sel(input=u))
            p[f"sel_angle_{u}"] = float(s["selection_angle"].sel(input=u))
            p[f"line_angle_{u}"] = float(s["line_angle"].sel(input=u))
        if c in inputs and len(inputs) == 2:
            other = [u for u in inputs if u != c][0]
            p["selection_ratio"] = abs(p[f"sel_dot_{c}"]) / abs(p[f"sel_dot_{other}"])
        else:
            p["selection_ratio"] = float("nan")
        # relaxation: along the manifold's PC1 when it is a line, else along the slowest mode's direction
        direction = tangent if p["manifold_shape"] == "line" else line
        if int(s["point"]) >= 0 and np.all(np.isfinite(direction)):
            rel = relaxation(circuit, results, c, s["point_x"].values, direction, fp["x"].values[mask], dt=1.0)
        else:
            rel = {"t_decay_ms": float("nan"), "final_distance_to_points": float("nan"),
                   "drift_along_line": float("nan")}
        p["relax_t_decay"], p["relax_final"], p["relax_drift"] = (rel["t_decay_ms"], rel["final_distance_to_points"],
                                                                  rel["drift_along_line"])
        p["relax_direction"] = "manifold PC1" if p["manifold_shape"] == "line" else "slowest mode"
        per[c] = p
    both = [sel.sel(context=c) for c in contexts[:2]]
    tonic = results["tonic"].values
    between = {
        "line_angle": angle(both[0]["line_direction"].values, both[1]["line_direction"].values),
        "selection_angle": angle(both[0]["selection"].values, both[1]["selection"].values),
        "tonic_cosine": float(tonic[0] @ tonic[1] / (np.linalg.norm(tonic[0]) * np.linalg.norm(tonic[1]))),
    }
    t_an = time.perf_counter() - t0

    t0 = time.perf_counter()
    cmp = analyse_contexts(out)
    report = write_report(out)
    t_cr = time.perf_counter() - t0
    wall = time.perf_counter() - t_start

    cmdline = "python analyses/context_integration.py " + " ".join(argv if argv is not None else sys.argv[1:])
    numbers: dict[str, Any] = {
        "command": cmdline.strip(),
        "wall_s": wall,
        "timing": {"train_s": t_train, "fixed_points_s": t_fp, "analysis_s": t_an, "compare_report_s": t_cr},
        "machine": f"{os.cpu_count()} CPU cores ({platform.machine()}, torch {torch.__version__}, "
                   f"{torch.get_num_threads()} torch thread{'s' if torch.get_num_threads() != 1 else ''})",
        "date": time.strftime("%Y-%m-%d"),
        "config": {"n_units": circuit.n_units, "g": config.circuit.g, "tau": circuit.tau},
        "steps_done": int(results.attrs["steps_done"]),
        "weights_unchanged": bool(all(
            results.attrs[k] == results.attrs.get("weights_sha256_after_" + k[len("weights_sha256_before_"):])
            for k in results.attrs if str(k).startswith("weights_sha256_before_"))),
        "nmse": {c: float(v) for c, v in zip(contexts, results["nmse"].values)},
        "contexts": contexts, "inputs": inputs, "slow_q": args.slow_q, "candidates": args.candidates,
        "descent_steps": args.descent_steps, "descent_states": args.descent_states,
        "behaviour": beh, "per_context": per, "between": between,
        "files": {k: str(v) for k, v in {**cmp.files, **report.files}.items()},
    }
    numbers["verdict"] = verdict(numbers)
    from neurobias.io import atomic_write_text

    atomic_write_text(out / "context_integration.json", json.dumps(numbers, indent=2, default=float) + "\n")
    text = markdown(numbers)
    print(text)
    if not args.no_docs:
        write_section(Path(args.results_md), text)
        print(f"wrote the section of {args.results_md}")
    print(f"wall time {wall:.0f} s; numbers in {out / 'context_integration.json'}; report {report.files['report']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

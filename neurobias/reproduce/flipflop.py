"""Many stable fixed points from bias-only learning? The 3-bit flip-flop.

The public reviews of Williams et al. (2024) asked for a task that needs many
stable fixed points.  The N-bit flip-flop (Sussillo & Barak 2013) is the
textbook one: each of N outputs holds the sign of the last pulse on its
input, and a trained network stores the 2^N memories as 2^N stable fixed
points at zero input.  :func:`flipflop_memories` trains the 3-bit flip-flop
with every weight (the reference, at ``flipflop_units`` units) and with the
tonic input only (one per context, random weights fixed) at several widths,
then finds the fixed points of each trained circuit with
:func:`~neurobias.analysis.fixed_points.find_fixed_points` and counts

* :func:`count_stable_fixed_points`: stable fixed points (``max|F| <= 1e-10``) per context;
* :func:`count_memories`: the output sign patterns ``s`` in ``{-1, 1}^N`` held by a
  stable fixed point (``s_i z_i >= 0.5`` on every output), at most ``2^N``.

The circuit family: current form ``tau dx/dt = -x + W tanh(x) + W_in u + b``,
``tau = 10`` ms, ``dt = 5`` ms, ``W ~ N(0, g^2 / N)`` with ``g = 1.2``, input
weights ``N(0, 1)``, readout ``N(0, 3^2 / N)``.
"""
from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import xarray as xr

from neurobias.analysis.fixed_points import find_fixed_points
from neurobias.circuit.circuit import Circuit, check_circuit
from neurobias.errors import InputError, check_number, check_positive
from neurobias.reproduce import figures
from neurobias.reproduce.outcome import Claim, Outcome
from neurobias.reproduce.settings import Settings
from neurobias.reproduce.tuning import lowest_final_loss
from neurobias.tasks import Task, make_task
from neurobias.training.evaluate import evaluate
from neurobias.training.train import train

__all__ = ["flipflop_memories", "flipflop_task", "flipflop_circuit", "count_stable_fixed_points", "count_memories",
           "FLIPFLOP_BITS", "FLIPFLOP_LR_GRID", "FLIPFLOP_TUNING_SEED", "FLIPFLOP_CANDIDATES", "MEMORY_MARGIN"]

#: bits of the flip-flop: 2^3 = 8 memories
FLIPFLOP_BITS = 3
#: learning rates tried for each mode, on the same grid and budget, before the modes are compared
FLIPFLOP_LR_GRID: tuple[float, ...] = (1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1)
#: circuit and training seed of the learning-rate tuning runs (never one of the compared seeds)
FLIPFLOP_TUNING_SEED = 1000
#: starting states per context given to find_fixed_points
FLIPFLOP_CANDIDATES = 256
#: a stable fixed point holds the pattern s when s_i z_i >= this on every output (targets are +-1)
MEMORY_MARGIN = 0.5
_G, _TAU, _DT, _READOUT = 1.2, 10.0, 5.0, 3.0
_SMOOTH = 20  # final loss of a tuning run: mean of its last this many steps


def flipflop_task(*, n_bits: int = FLIPFLOP_BITS) -> Task:
    """The experiment's flip-flop: one context (``"normal"``), 500 ms trials, ``dt = 5`` ms, 10 ms pulses at 4 Hz."""
    return make_task("flipflop", dt=_DT, n_bits=n_bits, conventions=("normal",), duration_ms=500.0)


def flipflop_circuit(task: Task, *, n_units: int, seed: int) -> Circuit:
    """A random tanh circuit of the experiment's family (see the module docstring) for ``task``.

    Parameters
    ----------
    task : Task
    n_units : int
    seed : int
        Seed of the weights.
    """
    return Circuit.random(n_units, n_inputs=task.n_inputs, n_outputs=task.n_outputs, connectivity="gaussian", g=_G,
                          phi="tanh", form="current", tau=_TAU, input_scale=1.0, readout_scale=_READOUT,
                          input_names=task.input_names, output_names=task.output_names, seed=seed)


def _fixed_mask(fps: xr.Dataset, tol: float) -> np.ndarray:
    """Points of ``fps`` that are fixed points (kind ``fixed``), stable, with ``max|F| <= tol``; shape (fp,)."""
    for name in ("kind", "stability", "residual", "context"):
        if name not in fps:
            raise InputError(f"`fps` must be a Dataset of find_fixed_points with variable {name!r}; got variables "
                             f"{', '.join(map(str, fps.data_vars)) or 'none'}")
    tol = check_positive("tol", tol)
    return ((fps["kind"].values == "fixed") & (fps["stability"].values == "stable")
            & (fps["residual"].values <= tol))


def count_stable_fixed_points(fps: xr.Dataset, *, contexts: Sequence[str] | None = None,
                              tol: float = 1e-10) -> xr.DataArray:
    """Stable fixed points per context.

    Parameters
    ----------
    fps : xarray.Dataset
        Output of :func:`~neurobias.analysis.fixed_points.find_fixed_points`
        (``kind``, ``stability``, ``residual``, ``context`` along ``fp``).
    contexts : sequence of str, optional
        Contexts counted, in this order (default: ``fps.attrs["contexts"]``,
        else the contexts present in ``fps``); a context without any point counts 0.
    tol : float
        Largest residual ``max|F|`` (state units / ms) of a point counted.

    Returns
    -------
    xarray.DataArray of int, dims (context,)
        Points of kind ``"fixed"``, stability ``"stable"`` and residual ``<= tol``.
    """
    keep = _fixed_mask(fps, tol)
    names = _contexts(fps, contexts)
    ctx = fps["context"].values.astype(str)
    counts = [int(np.sum(keep & (ctx == c))) for c in names]
    return xr.DataArray(np.asarray(counts, dtype=np.int64), dims=("context",), coords={"context": list(names)},
                        name="n_stable")


def _contexts(fps: xr.Dataset, contexts: Sequence[str] | None) -> list[str]:
    if contexts is not None:
        return [str(c) for c in contexts]
    stored = fps.attrs.get("contexts")
    if stored is not None:
        return [str(c) for c in np.atleast_1d(stored)]
    return list(dict.fromkeys(str(c) for c in fps["context"].values))


def count_memories(fps: xr.Dataset, circuit: Circuit, *, contexts: Sequence[str] | None = None,
                   margin: float = MEMORY_MARGIN, tol: float = 1e-10) -> xr.DataArray:
    """Output sign patterns held by stable fixed points, per context.

    A stable fixed point (as in :func:`count_stable_fixed_points`) with
    readout ``z = W_out r + b_out`` holds the pattern ``s`` in ``{-1, 1}^output``
    when ``s_i z_i >= margin`` for every output ``i``; a point with some
    ``|z_i| < margin`` holds none.  Distinct patterns are counted, so two
    stable points with the same pattern count once: the count is at most
    ``2^output``, the number of memories of a flip-flop with that many bits.

    Parameters
    ----------
    fps : xarray.Dataset
        Output of :func:`~neurobias.analysis.fixed_points.find_fixed_points` for ``circuit`` (needs ``r (fp, unit)``).
    circuit : Circuit
        The circuit whose readout is applied.
    contexts : sequence of str, optional
        As in :func:`count_stable_fixed_points`.
    margin : float
        Smallest ``s_i z_i`` (output units), positive.
    tol : float
        Largest residual ``max|F|`` of a point counted.

    Returns
    -------
    xarray.DataArray of int, dims (context,)
    """
    circuit = check_circuit(circuit)
    margin = check_positive("margin", margin)
    keep = _fixed_mask(fps, tol)
    if "r" not in fps or fps["r"].shape[-1] != circuit.n_units:
        got = fps["r"].shape if "r" in fps else "no variable r"
        raise InputError(f"`fps` must hold rates r of shape (fp, unit) with unit = {circuit.n_units} (the circuit's); "
                         f"got {got}")
    z = fps["r"].values @ circuit.W_out.T + circuit.b_out  # (fp, output)
    held = keep & np.all(np.abs(z) >= margin, axis=1)
    ctx = fps["context"].values.astype(str)
    names = _contexts(fps, contexts)
    counts = [len({tuple(np.sign(row).astype(int)) for row in z[held & (ctx == c)]}) for c in names]
    return xr.DataArray(np.asarray(counts, dtype=np.int64), dims=("context",), coords={"context": list(names)},
                        name="n_memories")


def _train(circuit: Circuit, task: Task, mode: str, *, steps: int, batch: int, lr: float, seed: int,
           progress: bool):
    return train(circuit, task, mode=mode, steps=steps, lr=lr, batch_size=batch, checkpoint_every=0,
                 progress=progress, seed=seed)


def _tune_lr(task: Task, settings: Settings, mode: str, *, progress: bool) -> tuple[float, dict[float, float]]:
    """The rate of :data:`FLIPFLOP_LR_GRID` with the lowest final loss after ``flipflop_steps`` steps.

    On :data:`FLIPFLOP_TUNING_SEED`, at ``flipflop_units`` units, the same grid and budget for every mode.
    """
    circuit = flipflop_circuit(task, n_units=settings.flipflop_units, seed=FLIPFLOP_TUNING_SEED)
    return lowest_final_loss(
        lambda lr: _train(circuit, task, mode, steps=settings.flipflop_steps, batch=settings.flipflop_batch, lr=lr,
                          seed=FLIPFLOP_TUNING_SEED, progress=progress), FLIPFLOP_LR_GRID, smooth=_SMOOTH)


def _measure(circuit: Circuit, task: Task, mode: str, settings: Settings, *, lr: float, seed: int,
             progress: bool) -> dict:
    """Train one circuit, score it and count its stable fixed points and memories (context 0)."""
    res = _train(circuit, task, mode, steps=settings.flipflop_steps, batch=settings.flipflop_batch, lr=lr, seed=seed,
                 progress=progress)
    ev = evaluate(res.circuit, res.tonic, task, n_trials=settings.eval_trials, seed=seed)
    fps = find_fixed_points(res.circuit, res.tonic, contexts=task.contexts, n_candidates=FLIPFLOP_CANDIDATES,
                            seed=seed)
    fixed = fps["kind"].values == "fixed"
    return {"nmse": float(ev["nmse"].mean()), "n_fixed": int(fixed.sum()),
            "n_stable": int(count_stable_fixed_points(fps, contexts=task.contexts).values[0]),
            "n_memories": int(count_memories(fps, res.circuit, contexts=task.contexts).values[0]),
            "max_residual": float(fps["residual"].values[fixed].max()) if fixed.any() else float("nan"),
            "circuit": res.circuit, "fps": fps, "ev": ev}


def _projection(m: dict) -> dict:
    """Fixed points of a measured circuit on the top 2 PCs of the rates its evaluation trials visit."""
    r = m["ev"]["r"].isel(context=0).values.reshape(-1, m["circuit"].n_units)  # (trial * time, unit)
    centre = r.mean(axis=0)
    _, sv, vt = np.linalg.svd(r - centre, full_matrices=False)
    fps = m["fps"]
    fixed = fps["kind"].values == "fixed"
    pts = (fps["r"].values[fixed] - centre) @ vt[:2].T
    traj = (m["ev"]["r"].isel(context=0, trial=0).values - centre) @ vt[:2].T
    explained = sv[:2] ** 2 / np.sum(sv ** 2)
    z = fps["r"].values[fixed] @ m["circuit"].W_out.T + m["circuit"].b_out  # (fp, output)
    labels = ["".join("+" if v > 0 else "-" for v in row) if np.all(np.abs(row) >= MEMORY_MARGIN) else ""
              for row in z]
    return {"points": pts, "stable": fps["stability"].values[fixed] == "stable", "trajectory": traj,
            "explained": explained, "labels": labels}


def flipflop_memories(settings: Settings, *, progress: bool = False) -> Outcome:
    """3-bit flip-flop: full training (reference) vs bias-only across widths; stable fixed points and memories.

    Each mode's learning rate is first chosen from :data:`FLIPFLOP_LR_GRID` by
    the lowest final loss after ``flipflop_steps`` steps (the budget of the compared runs) at
    ``flipflop_units`` units on :data:`FLIPFLOP_TUNING_SEED` (the same grid,
    budget and circuit for every mode).  Then, for every seed of
    ``flipflop_seeds`` (circuit, training, evaluation and fixed-point search),
    full training at ``flipflop_units`` units and every mode of
    ``flipflop_modes`` at every width of ``flipflop_widths`` train for
    ``flipflop_steps`` steps of ``flipflop_batch`` trials; each trained
    circuit is scored (NMSE over ``eval_trials`` fresh trials) and its fixed
    points at zero input are found and counted.
    """
    t0 = time.perf_counter()
    task = flipflop_task()
    seeds = tuple(settings.flipflop_seeds)
    widths = tuple(int(w) for w in settings.flipflop_widths)
    modes = tuple(settings.flipflop_modes)
    for w in widths:
        check_number("flipflop_widths", w, gt=0, integer=True)
    if "bias" not in modes:
        raise InputError(f"`flipflop_modes` must include 'bias' (the compared mode); got {modes}")
    tuned = {m: _tune_lr(task, settings, m, progress=progress) for m in ("full", *modes)}
    lr = {m: tuned[m][0] for m in tuned}
    full, trained, examples = {}, {}, {}
    for seed in seeds:
        full[seed] = _measure(flipflop_circuit(task, n_units=settings.flipflop_units, seed=seed), task, "full",
                              settings, lr=lr["full"], seed=seed, progress=progress)
        for mode in modes:
            for w in widths:
                trained[seed, mode, w] = _measure(flipflop_circuit(task, n_units=w, seed=seed), task, mode, settings,
                                                  lr=lr[mode], seed=seed, progress=progress)
        if seed == seeds[0]:
            examples = {f"full, {settings.flipflop_units} units": _projection(full[seed]),
                        f"bias, {widths[-1]} units": _projection(trained[seed, "bias", widths[-1]])}
        for m in (full[seed], *(trained[seed, mode, w] for mode in modes for w in widths)):
            for key in ("circuit", "fps", "ev"):
                m.pop(key)  # keep only the numbers
    keys = ("nmse", "n_fixed", "n_stable", "n_memories", "max_residual")
    curve = xr.Dataset(
        {k: (("seed", "mode", "width"), np.array([[[trained[s, m, w][k] for w in widths] for m in modes]
                                                   for s in seeds], dtype=np.float64)) for k in keys},
        coords={"seed": list(seeds), "mode": list(modes), "width": list(widths)})
    reference = xr.Dataset({k: (("seed",), np.array([full[s][k] for s in seeds], dtype=np.float64)) for k in keys},
                           coords={"seed": list(seeds)}, attrs={"width": settings.flipflop_units})
    n_mem = 2 ** FLIPFLOP_BITS

    def cells(values: list[float], fmt: str) -> str:
        return ", ".join(format(v, fmt) for v in values)

    rows = [f"| full (reference) | {settings.flipflop_units} | {lr['full']:g} | "
            f"{cells([full[s]['nmse'] for s in seeds], '.3g')} | {cells([full[s]['n_fixed'] for s in seeds], 'd')} | "
            f"{cells([full[s]['n_stable'] for s in seeds], 'd')} | "
            f"{cells([full[s]['n_memories'] for s in seeds], 'd')} | "
            f"{max(full[s]['max_residual'] for s in seeds):.1e} |"]
    for mode in modes:
        for w in widths:
            ms = [trained[s, mode, w] for s in seeds]
            rows.append(f"| {mode} | {w} | {lr[mode]:g} | {cells([m['nmse'] for m in ms], '.3g')} | "
                        f"{cells([m['n_fixed'] for m in ms], 'd')} | {cells([m['n_stable'] for m in ms], 'd')} | "
                        f"{cells([m['n_memories'] for m in ms], 'd')} | "
                        f"{np.nanmax([m['max_residual'] for m in ms]):.1e} |")
    md = ("| training | units | learning rate (tuned) | evaluation NMSE, per seed | fixed points | stable fixed points "
          f"| memories held (of {n_mem}) | largest max\\|F\\| (1/ms) |\n|---|---|---|---|---|---|---|---|\n"
          + "\n".join(rows)
          + f"\n\n{FLIPFLOP_BITS}-bit flip-flop (Sussillo & Barak 2013): 10 ms pulses of random sign at 4 Hz "
          "per input, "
          "each output holds the sign of its input's last pulse; one context; 500 ms trials from rest, dt = 5 ms. "
          f"Circuits: current form, tanh, tau = {_TAU:g} ms, W ~ N(0, {_G:g}^2 / N), input weights N(0, 1), readout "
          f"N(0, {_READOUT:g}^2 / N); bias-only trains the tonic input alone (one vector), random weights fixed. "
          f"{settings.flipflop_steps} Adam steps of {settings.flipflop_batch} trials for every run; NMSE over "
          f"{settings.eval_trials} fresh trials. Learning rates: each mode's chosen from "
          f"{', '.join(f'{x:g}' for x in FLIPFLOP_LR_GRID)} by the lowest final loss (mean of the last {_SMOOTH} "
          f"steps) after {settings.flipflop_steps} steps at {settings.flipflop_units} units on a separate "
          f"tuning seed ({FLIPFLOP_TUNING_SEED}); final losses of the tuning runs: "
          + "; ".join(f"{m} " + ", ".join(f"{x:g}: {v:.3g}" for x, v in tuned[m][1].items()) for m in tuned)
          + f". Fixed points at zero input: find_fixed_points with {FLIPFLOP_CANDIDATES} starting states, "
          f"max|F| <= 1e-10; a memory is an output sign pattern s held by a stable fixed point (s_i z_i >= "
          f"{MEMORY_MARGIN:g} on every output). Seeds {', '.join(str(s) for s in seeds)} (circuit, training, "
          f"evaluation, fixed-point search); the figure's projections show seed {seeds[0]}.")
    largest = widths[-1]
    full_mem = {s: float(full[s]["n_memories"]) for s in seeds}
    bias_mem = {s: float(trained[s, "bias", largest]["n_memories"]) for s in seeds}

    def per_seed(d: dict) -> str:
        return ", ".join(f"{v:.0f} (seed {s})" for s, v in d.items())

    claims = (
        Claim(key="flipflop_full_memories",
              ours=f"{settings.flipflop_units} units, NMSE " + cells([full[s]['nmse'] for s in seeds], '.3g')
                   + "; stable fixed points " + cells([full[s]['n_stable'] for s in seeds], 'd')
                   + f"; memories {per_seed(full_mem)}",
              values=tuple(full_mem.values()), seeds=seeds),
        Claim(key="flipflop_bias_memories",
              ours=f"bias-only at width {largest}: NMSE "
                   + cells([trained[s, "bias", largest]['nmse'] for s in seeds], '.3g') + "; stable fixed points "
                   + cells([trained[s, "bias", largest]['n_stable'] for s in seeds], 'd')
                   + f"; memories {per_seed(bias_mem)} (widths {', '.join(map(str, widths))})",
              values=tuple(bias_mem.values()), seeds=seeds),
    )
    fig = figures.flipflop_figure(curve, reference, examples, n_memories=n_mem,
                                  title=f"{FLIPFLOP_BITS}-bit flip-flop: bias-only vs full training "
                                        f"(seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))}; "
                                        f"projections: seed {seeds[0]})")
    return Outcome(name="flipflop", title="Many stable fixed points: the 3-bit flip-flop", claims=claims,
                   markdown=md, figures={"williams_flipflop": fig}, wall_s=time.perf_counter() - t0)

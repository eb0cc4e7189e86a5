"""Recurrent experiments of Williams et al. (2024) with the core circuit trained in ``bias`` mode.

The circuits are ``Circuit.random(..., form="rate", phi="tanh")``: with
``tau = dt / alpha`` the Euler step is the paper's
``r_t = (1 - alpha) r_{t-1} + alpha tanh(W r_{t-1} + B x_{t-1} + b)``,
recurrent weights ``N(0, g^2 / N)``, input weights ``N(0, input_scale^2)``,
readout ``z = C r`` with ``C`` entries ``N(0, readout_scale^2 / N)`` (fixed in
bias mode).  Training is :func:`neurobias.train` (Adam, cosine schedule,
gradient clipping 1) and scoring :func:`neurobias.evaluate`.

* :func:`sine`: several frequencies, one context each;
* :func:`vanderpol_gain`: Van der Pol trajectories, bias-only vs full training across ``g``;
* :func:`lorenz_forecast`: forecasts 1 and 27 samples ahead, teacher-forced and in closed loop, on held-out
  trajectories, with the closed loop's attractor statistics; against full training, an echo-state network and a
  linear autoregression;
* :func:`reaching`: centre-out reaching, steps to a loss for bias-only vs full,
  generalisation to held-out targets by interpolating tonic inputs.
"""
from __future__ import annotations

import time

import numpy as np
import xarray as xr
from scipy.stats import t as t_dist
from scipy.stats import wasserstein_distance

from neurobias.circuit.circuit import Circuit
from neurobias.reproduce import figures
from neurobias.reproduce.attractor_stats import (largest_lyapunov, lobe_fraction, maxima_distance, return_map,
                                                 spectrum_distance)
from neurobias.reproduce.forecast import (autoregressive_closed_loop, closed_loop, drive, lag_matrix, nrmse,
                                          ridge_regression, valid_prediction_time)
from neurobias.reproduce.outcome import Claim, Outcome
from neurobias.reproduce.seeds import map_seeds
from neurobias.reproduce.settings import Settings
from neurobias.reproduce.tuning import lowest_final_loss
from neurobias.tasks import Task, make_task
from neurobias.tasks.lorenz import autocorrelation_hwhm
from neurobias.training.evaluate import evaluate
from neurobias.training.train import train

__all__ = ["circuit_for", "sine", "vanderpol_gain", "vanderpol_nmse", "lorenz_forecast", "reaching",
           "steps_to_level", "VDP_ALPHA", "vanderpol_task", "REACH_LEVELS", "REACH_LEVEL", "REACH_LR_GRID",
           "REACH_TUNING_SEED", "LYAPUNOV_EXPONENT",
           "LORENZ_LR_GRID", "LORENZ_TUNING_SEED", "LORENZ_TRAIN_REFERENCE", "LORENZ_TEST_REFERENCE", "AR_ORDERS",
           "ESN_RIDGES", "ROSENSTEIN"]

#: largest Lyapunov exponent of the Lorenz system at sigma = 10, rho = 28, beta = 8/3 (per time unit)
LYAPUNOV_EXPONENT = 0.9056
_LR = {"bias": 0.05, "full": 0.005, "readout": 0.02}
_SMOOTH = 20  # steps in the moving average of the loss before comparing it with a level


def circuit_for(task: Task, *, n_units: int, g: float, alpha: float, seed: int = 0, input_scale: float = 1.0,
                readout_scale: float = 3.0) -> Circuit:
    """A random rate circuit for ``task`` whose Euler step at the task's ``dt`` has leak ``alpha``.

    Parameters
    ----------
    task : Task
    n_units : int
    g : float
        Gain of the recurrent weights, ``N(0, g^2 / n_units)``.
    alpha : float
        ``dt / tau`` in (0, 1]; 1 gives the discrete map ``r_t = tanh(W r + B x + b)``.
    seed : int
    input_scale, readout_scale : float
        Standard deviation of the input weights; scale of the readout (``N(0, readout_scale^2 / n_units)``).
    """
    return Circuit.random(n_units, n_inputs=task.n_inputs, n_outputs=task.n_outputs, connectivity="gaussian", g=g,
                          phi="tanh", form="rate", tau=task.dt / alpha, input_scale=input_scale,
                          readout_scale=readout_scale, input_names=task.input_names,
                          output_names=task.output_names, seed=seed)


def _train(circuit: Circuit, task: Task, mode: str, settings: Settings, *, steps: int | None = None,
           target_loss: float = 0.0, progress: bool = False, batch: int | None = None, seed: int = 0,
           lr: float | None = None):
    return train(circuit, task, mode=mode, steps=settings.rnn_steps if steps is None else steps,
                 lr=_LR[mode] if lr is None else lr, batch_size=settings.rnn_batch if batch is None else batch,
                 target_loss=target_loss, checkpoint_every=0, progress=progress, seed=seed)


def _per_seed(values: dict[int, float]) -> str:
    return ", ".join(f"{v:.3g} (seed {s})" for s, v in values.items())


# ----------------------------------------------------------------------------- sine
def sine(settings: Settings, *, progress: bool = False) -> Outcome:
    """Sine generation at several frequencies, one tonic input per frequency, for every seed of ``rnn_seeds``."""
    t0 = time.perf_counter()
    task = make_task("sine", dt=10.0, frequencies_hz=(1.0, 2.0, 3.0, 4.0), duration_ms=1000.0, mask_start_ms=100.0)
    seeds = tuple(settings.rnn_seeds)
    per_seed, first, unchanged = {}, None, True
    for seed in seeds:
        circuit = circuit_for(task, n_units=settings.rnn_units, g=1.5, alpha=0.2, seed=seed)
        res = _train(circuit, task, "bias", settings, steps=2 * settings.rnn_steps, batch=1, progress=progress,
                     seed=seed)
        ev = evaluate(res.circuit, res.tonic, task, n_trials=1)
        per_seed[seed] = ev["nmse"].values
        unchanged &= res.hashes_before == res.hashes_after
        if first is None:
            first, steps_done = ev, res.steps_done
    nmse = np.array([per_seed[s] for s in seeds])  # (seed, frequency)
    md = ("| context | evaluation NMSE, " + ", ".join(f"seed {s}" for s in seeds) + " |\n|---|"
          + "---|" * len(seeds) + "\n"
          + "\n".join(f"| {c} | " + " | ".join(f"{v:.3g}" for v in nmse[:, j]) + " |"
                      for j, c in enumerate(task.contexts))
          + f"\n\n{settings.rnn_units} tanh units, g = 1.5, alpha = 0.2 (dt = 10 ms, tau = 50 ms), bias-only, "
          f"{steps_done} Adam steps; circuit and training seeded by the seed; 1 s trials from rest, the first "
          f"100 ms not scored; weights' sha256 unchanged by training: {unchanged}. The figure shows seed {seeds[0]}.")
    largest = {s: float(np.max(per_seed[s])) for s in seeds}
    claim = Claim(key="sine", ours=f"{nmse.shape[1]} frequencies with one network of {settings.rnn_units} units; "
                  f"largest NMSE {_per_seed(largest)}", values=tuple(largest.values()), seeds=seeds)
    fig = figures.traces_figure(first, title=f"sine generation, bias-only (seed {seeds[0]})")
    return Outcome(name="sine", title="Sine generation, one context per frequency", claims=(claim,), markdown=md,
                   figures={"williams_sine": fig}, wall_s=time.perf_counter() - t0)


# ----------------------------------------------------------------------------- Van der Pol
VDP_ALPHA = 0.5


def vanderpol_task() -> Task:
    return make_task("vanderpol", dt=10.0, mus=(0.5, 1.5), duration_ms=400.0, cue_ms=50.0)


def vanderpol_nmse(settings: Settings, *, seed: int = 0,
                   progress: bool = False) -> tuple[xr.Dataset, dict[str, xr.Dataset]]:
    """Evaluation NMSE (mean over contexts) of bias-only and full training for every gain, for one seed.

    Returns
    -------
    nmse : xarray.Dataset
        ``nmse (mode, g)``, ``final_loss (mode, g)``.
    examples : dict of str to xarray.Dataset
        Evaluation Datasets at the largest gain, by mode.
    """
    task = vanderpol_task()
    modes = ("bias", "full")
    out = np.empty((len(modes), len(settings.vdp_gains)))
    loss = np.empty_like(out)
    examples = {}
    for j, g in enumerate(settings.vdp_gains):
        circuit = circuit_for(task, n_units=settings.rnn_units, g=g, alpha=VDP_ALPHA, seed=seed)
        for i, mode in enumerate(modes):
            res = _train(circuit, task, mode, settings, progress=progress, seed=seed)
            ev = evaluate(res.circuit, res.tonic, task, n_trials=settings.eval_trials)
            out[i, j] = float(ev["nmse"].mean())
            loss[i, j] = float(res.loss[-10:].mean())
            if j == len(settings.vdp_gains) - 1:
                examples[mode] = ev
    ds = xr.Dataset({"nmse": (("mode", "g"), out), "final_loss": (("mode", "g"), loss)},
                    coords={"mode": list(modes), "g": np.asarray(settings.vdp_gains, dtype=np.float64)})
    return ds, examples


def vanderpol_gain(settings: Settings, *, progress: bool = False, workers: int = 1) -> Outcome:
    """Van der Pol trajectories across the gain g, bias-only vs full training, for every seed of ``rnn_seeds``.

    ``workers`` processes share the seeds (:func:`~neurobias.reproduce.seeds.map_seeds`);
    the results do not depend on it.
    """
    t0 = time.perf_counter()
    seeds = tuple(settings.rnn_seeds)
    runs = map_seeds(vanderpol_nmse, settings, seeds, workers=workers, progress=progress)
    stack = xr.concat([runs[s][0] for s in seeds], dim=xr.DataArray(list(seeds), dims="seed", name="seed"))
    gains = stack["g"].values
    b, f = stack["nmse"].sel(mode="bias").values, stack["nmse"].sel(mode="full").values  # (seed, g)

    def cell(x: np.ndarray) -> str:
        return f"{np.mean(x):.3g}" if x.size == 1 else f"{np.mean(x):.3g} ({np.min(x):.3g}-{np.max(x):.3g})"

    md = ("| g | bias-only NMSE, mean (range over seeds) | full NMSE, mean (range over seeds) |\n|---|---|---|\n"
          + "\n".join(f"| {g:g} | {cell(b[:, j])} | {cell(f[:, j])} |" for j, g in enumerate(gains))
          + f"\n\nTask: initial condition in [-2, 2]^2 cued for 50 ms, damping mu = 0.5 and 1.5 (one context each), "
          f"400 ms trials (dt = 10 ms, 0.04 oscillator time units per ms); {settings.rnn_units} units, "
          f"alpha = {VDP_ALPHA}; "
          f"{settings.rnn_steps} Adam steps of {settings.rnn_batch} trials per context; NMSE over "
          f"{settings.eval_trials} fresh trials per context, averaged over contexts; seeds "
          f"{', '.join(str(s) for s in seeds)} (circuit and training). The figures show the mean over seeds and "
          f"seed {seeds[0]}'s traces.")
    at = f" at g = {', '.join(f'{g:g}' for g in gains)}"
    small = {s: float(b[i, 0] / b[i].min()) for i, s in enumerate(seeds)}
    flat = {s: float(f[i].max() / f[i].min()) for i, s in enumerate(seeds)}
    claims = (
        Claim(key="vanderpol_bias_small_g", ours="bias-only NMSE (mean over seeds) "
              + ", ".join(f"{x:.3g}" for x in b.mean(axis=0)) + at + f"; smallest-g / best "
              + _per_seed(small), values=tuple(small.values()), seeds=seeds),
        Claim(key="vanderpol_full_flat", ours="full-training NMSE (mean over seeds) "
              + ", ".join(f"{y:.3g}" for y in f.mean(axis=0)) + at + "; max/min over g "
              + _per_seed(flat), values=tuple(flat.values()), seeds=seeds),
    )
    example = runs[seeds[0]][1]["bias"]
    figs = {"williams_vanderpol_gain": figures.gain_figure(stack),
            "williams_vanderpol": figures.traces_figure(example, title=f"Van der Pol, bias-only, g = {gains[-1]:g} "
                                                                      f"(seed {seeds[0]})")}
    return Outcome(name="vanderpol", title="Van der Pol oscillator across the gain g", claims=claims,
                   markdown=md, figures=figs, wall_s=time.perf_counter() - t0)


# ----------------------------------------------------------------------------- Lorenz
#: learning rates tried for each mode on the Lorenz forecast (the same number of rates, the same budget)
LORENZ_LR_GRID: dict[str, tuple[float, ...]] = {"bias": (3e-3, 1e-2, 3e-2, 1e-1), "full": (1e-4, 3e-4, 1e-3, 3e-3)}
#: circuit and training seed of the Lorenz learning-rate tuning runs (never one of the compared seeds)
LORENZ_TUNING_SEED = 1000
#: reference seeds of the training trajectories and of the held-out trajectories every score is measured on
LORENZ_TRAIN_REFERENCE, LORENZ_TEST_REFERENCE = 0, 1
#: lags tried by the linear autoregression, and ridge penalties tried by the echo-state readout
AR_ORDERS: tuple[int, ...] = (1, 2, 4, 8, 16, 32)
ESN_RIDGES: tuple[float, ...] = (1e-8, 1e-6, 1e-4, 1e-2, 1.0)
#: Rosenstein estimate of the largest Lyapunov exponent (see neurobias.reproduce.attractor_stats), in samples
ROSENSTEIN = {"dim": 5, "delay": 10, "theiler": 100, "fit": (50, 250)}
_HORIZONS = (1, 27)
_N_WARMUP = 100  # teacher-forced samples before a closed loop
_N_VALIDATION = 4  # training trajectories held back to choose the AR order and the ESN ridge
_ESN_SAMPLES = 2000  # samples of each training trajectory the echo-state readout is fitted on
_WASHOUT = 50


def _lorenz_tasks(duration: float) -> tuple[Task, Task]:
    """The training task (reference 0) and the same task on held-out trajectories standardised like it."""
    kw = dict(horizons=_HORIZONS, dt=1.0, duration_ms=duration, washout_ms=float(_WASHOUT))
    train_task = make_task("lorenz", reference_seed=LORENZ_TRAIN_REFERENCE, **kw)
    test_task = make_task("lorenz", reference_seed=LORENZ_TEST_REFERENCE,
                          standardisation=train_task.raw_moments(), **kw)
    return train_task, test_task


def _lorenz_circuit(task: Task, settings: Settings, seed: int) -> Circuit:
    return circuit_for(task, n_units=settings.lorenz_units, g=0.9, alpha=1.0, input_scale=0.5, seed=seed)


def _tuning_steps(settings: Settings) -> int:
    return max(1, settings.lorenz_steps // 2)


def _tune_lorenz_lr(task: Task, settings: Settings, mode: str, *, progress: bool) -> tuple[float, dict[float, float]]:
    """The rate of ``LORENZ_LR_GRID[mode]`` with the lowest final training loss on :data:`LORENZ_TUNING_SEED`.

    Every rate trains for half of ``lorenz_steps`` (the same budget for every mode and rate).
    """
    circuit = _lorenz_circuit(task, settings, LORENZ_TUNING_SEED)
    return lowest_final_loss(
        lambda lr: _train(circuit, task, mode, settings, steps=_tuning_steps(settings), progress=progress,
                          seed=LORENZ_TUNING_SEED, lr=lr), LORENZ_LR_GRID[mode], smooth=_SMOOTH)


def _masked_nrmse(pred: np.ndarray, batch) -> float:
    m = batch.mask[..., 0] > 0
    return nrmse(pred[m], batch.targets[..., 0][m])


def _fit_ar(series: np.ndarray, h: int) -> tuple[int, np.ndarray, float, dict[int, float]]:
    """Linear autoregression ``x_{k+h}`` from the last p samples; p chosen on held-back training trajectories."""
    fit, val = series[:-_N_VALIDATION], series[-_N_VALIDATION:]

    def design(x: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray]:
        lags = lag_matrix(x, p)[:, :x.shape[1] - p + 1 - h]  # (run, k, p): the target is h samples later
        return lags.reshape(-1, p), x[:, p - 1 + h:].reshape(-1, 1)

    scores = {}
    for p in AR_ORDERS:
        w, c = ridge_regression(*design(fit, p), ridge=1e-10)
        X, y = design(val, p)
        scores[p] = nrmse(X @ w.T + c, y)
    best = min(scores, key=scores.get)
    w, c = ridge_regression(*design(series, best), ridge=1e-10)
    return best, w[0], float(c[0]), scores


def _ar_teacher_forced(w: np.ndarray, c: float, inputs: np.ndarray) -> np.ndarray:
    """Forecasts at every step of windows (trial, time) from the last ``w.size`` inputs (NaN before that)."""
    p = w.size
    out = np.full(inputs.shape, np.nan)
    out[:, p - 1:] = lag_matrix(inputs, p) @ w + c
    return out


def _fit_esn(circuit: Circuit, series: np.ndarray) -> tuple[dict[int, tuple[np.ndarray, np.ndarray]], dict]:
    """Ridge readouts (one per horizon) of the circuit's teacher-forced rates; ridge chosen on held-back trajectories."""
    x = series[:, :_ESN_SAMPLES]
    rates, _ = drive(circuit, np.zeros(circuit.n_units), x[..., None], dt=1.0)
    readouts, chosen = {}, {}
    for h in _HORIZONS:
        feats, target = rates[:, _WASHOUT:x.shape[1] - h], x[:, _WASHOUT + h:, None]

        def flat(a: np.ndarray) -> np.ndarray:
            return a.reshape(-1, a.shape[-1])

        scores = {}
        for ridge in ESN_RIDGES:
            w, c = ridge_regression(flat(feats[:-_N_VALIDATION]), flat(target[:-_N_VALIDATION]), ridge=ridge)
            scores[ridge] = nrmse(flat(feats[-_N_VALIDATION:]) @ w.T + c, flat(target[-_N_VALIDATION:]))
        best = min(scores, key=scores.get)
        readouts[h] = ridge_regression(flat(feats), flat(target), ridge=best)
        chosen[h] = (best, scores)
    return readouts, chosen


def _attractor(free: np.ndarray, true: np.ndarray, *, sample_interval: float) -> dict[str, float]:
    """Statistics of a long closed-loop run (trial, sample) against the true held-out series (trajectory, sample)."""
    names = ("distribution", "maxima", "spectrum", "lyapunov", "lobe")
    if not np.all(np.isfinite(free)):
        return dict.fromkeys(names, float("nan"))
    sd, n = float(np.std(true)), free.shape[1]
    run = free[:, min(200, n // 4):]  # the first samples still carry the warm-up
    lam = largest_lyapunov(run, **ROSENSTEIN) / sample_interval / LYAPUNOV_EXPONENT
    return {"distribution": float(wasserstein_distance(free[:, n // 2:].ravel(), true.ravel()) / sd),
            "maxima": maxima_distance(run, true, scale=sd),
            "spectrum": spectrum_distance(run, true),
            "lyapunov": lam,
            "lobe": lobe_fraction(run, centre=float(np.mean(true)))}


def _cell(values: list[float], digits: str = ".3f") -> str:
    """Mean over seeds with its 95 % Student-t interval (one value: the value; NaN entries counted apart)."""
    v = np.asarray(values, dtype=np.float64)
    ok = v[np.isfinite(v)]
    if ok.size == 0:
        return "n/a"
    text = f"{ok.mean():{digits}}"
    if ok.size > 1:
        half = float(t_dist.ppf(0.975, ok.size - 1) * ok.std(ddof=1) / np.sqrt(ok.size))
        text += f" ({ok.mean() - half:{digits}} to {ok.mean() + half:{digits}})"
    if ok.size < v.size:
        text += f", n/a in {v.size - ok.size} of {v.size}"
    return text


def lorenz_forecast(settings: Settings, *, progress: bool = False) -> Outcome:
    """Lorenz x forecast 1 and 27 samples ahead (teacher-forced), in closed loop, and its attractor; with baselines.

    Training windows come from the task's reference trajectories
    (:data:`LORENZ_TRAIN_REFERENCE`); every score is measured on other
    trajectories (:data:`LORENZ_TEST_REFERENCE`) standardised with the
    training trajectories' mean and sd.  Bias-only and full training
    (learning rates chosen from :data:`LORENZ_LR_GRID` by the final training
    loss after half of ``lorenz_steps`` on :data:`LORENZ_TUNING_SEED`, then
    ``lorenz_steps`` steps for both), an
    echo-state network (the same random circuit, ridge readout of its
    teacher-forced rates) and a linear autoregression are run for every seed
    of ``settings.lorenz_seeds`` (circuit and training; the autoregression
    has no seed).  Closed loops run ``lorenz_long`` samples after a
    teacher-forced warm-up; their attractor statistics
    (:mod:`neurobias.reproduce.attractor_stats`) are compared with the
    held-out trajectories'.
    """
    t0 = time.perf_counter()
    duration = 200.0
    train_task, test_task = _lorenz_tasks(duration)
    dt_lorenz = train_task.params.sample_interval
    hwhm = autocorrelation_hwhm(train_task.reference())
    train_series, true_series = train_task.reference(), test_task.reference()
    seeds = tuple(settings.lorenz_seeds)
    n_free = settings.lorenz_free
    n_long = max(settings.lorenz_long, n_free)
    # held-out windows: teacher-forced scores, and warm-ups of the closed loops
    batches = [test_task.sample(settings.eval_trials, i, np.random.default_rng(1)) for i in range(len(_HORIZONS))]
    long_task = make_task("lorenz", horizons=(1,), dt=1.0, duration_ms=float(_N_WARMUP + n_free),
                          washout_ms=float(_WASHOUT), reference_seed=LORENZ_TEST_REFERENCE,
                          standardisation=train_task.raw_moments())
    obs = long_task.sample(settings.eval_trials, 0, np.random.default_rng(2)).inputs
    truth = obs[:, _N_WARMUP:]

    tuned = {m: _tune_lorenz_lr(train_task, settings, m, progress=progress) for m in ("bias", "full")}
    lr = {m: tuned[m][0] for m in tuned}
    methods = ("bias", "full", "esn", "ar")
    tf = {(m, h): [] for m in methods for h in _HORIZONS}
    cl27, vpt = {m: [] for m in methods}, {m: [] for m in methods}
    stats: dict[str, list[dict[str, float]]] = {m: [] for m in methods}
    traces: dict[str, np.ndarray] = {}
    ar_fits = {h: _fit_ar(train_series, h) for h in _HORIZONS}
    esn_chosen = {}

    def closed(name: str, free: np.ndarray) -> None:
        short = free[:, :n_free, None]
        vpt[name].append(float(np.median(valid_prediction_time(short, truth))))
        cl27[name].append(nrmse(short[:, :27], truth[:, :27]) if np.all(np.isfinite(short[:, :27])) else float("nan"))
        stats[name].append(_attractor(free, true_series, sample_interval=dt_lorenz))

    for seed in seeds:
        circuit = _lorenz_circuit(train_task, settings, seed)
        for mode in ("bias", "full"):
            res = _train(circuit, train_task, mode, settings, steps=settings.lorenz_steps, progress=progress,
                         seed=seed, lr=lr[mode])
            for i, h in enumerate(_HORIZONS):
                _, out = drive(res.circuit, res.tonic[i], batches[i].inputs, dt=1.0)
                tf[mode, h].append(_masked_nrmse(out[..., 0], batches[i]))
            free = closed_loop(res.circuit, res.tonic[0], obs, n_warmup=_N_WARMUP, n_free=n_long, dt=1.0)[..., 0]
            closed(mode, free)
            if seed == seeds[0]:
                traces[mode] = free
        readouts, esn_chosen[seed] = _fit_esn(circuit, train_series)
        rates, _ = drive(circuit, np.zeros(circuit.n_units), batches[0].inputs, dt=1.0)
        for i, h in enumerate(_HORIZONS):
            w, c = readouts[h]
            tf["esn", h].append(_masked_nrmse(rates @ w[0] + c[0], batches[i]))
        esn = circuit.replace(W_out=readouts[1][0], b_out=readouts[1][1])
        free = closed_loop(esn, np.zeros(circuit.n_units), obs, n_warmup=_N_WARMUP, n_free=n_long, dt=1.0)[..., 0]
        closed("esn", free)
        if seed == seeds[0]:
            traces["esn"] = free
    # the autoregression has no seed: measured once
    for i, h in enumerate(_HORIZONS):
        _, w, c, _ = ar_fits[h]
        tf["ar", h].append(_masked_nrmse(_ar_teacher_forced(w, c, batches[i].inputs[..., 0]), batches[i]))
    _, w1, c1, _ = ar_fits[1]
    traces["ar"] = autoregressive_closed_loop(w1, c1, obs[:, :_N_WARMUP, 0], n_free=n_long)
    closed("ar", traces["ar"])
    persistence = {h: _masked_nrmse(batches[i].inputs[..., 0], batches[i]) for i, h in enumerate(_HORIZONS)}
    constant = {"hold": np.broadcast_to(obs[:, _N_WARMUP - 1:_N_WARMUP], truth.shape), "mean": np.zeros_like(truth)}
    for name, pred in constant.items():
        vpt[name] = [float(np.median(valid_prediction_time(pred, truth)))]
        cl27[name] = [nrmse(pred[:, :27], truth[:, :27])]
    half = true_series.shape[0] // 2  # the sampling floor: held-out trajectories against each other
    floor = _attractor(true_series[:half], true_series[half:], sample_interval=dt_lorenz)
    floor["lyapunov"] = largest_lyapunov(true_series, **ROSENSTEIN) / dt_lorenz / LYAPUNOV_EXPONENT
    floor["lobe"] = lobe_fraction(true_series, centre=float(np.mean(true_series)))

    lyap_samples = 1.0 / (LYAPUNOV_EXPONENT * dt_lorenz)
    label = {"bias": "bias-only", "full": "full (all weights)", "esn": "echo-state network (ridge readout)",
             "ar": "linear autoregression (no seed)"}
    stat_cols = ("distribution", "maxima", "spectrum", "lyapunov", "lobe")

    def stat(m: str, key: str) -> list[float]:
        return [s[key] for s in stats[m]]

    md = (f"Observed coordinate x, sampled every {dt_lorenz:g} Lorenz time units; half-width at half-maximum of its "
          f"autocorrelation: {hwhm:.1f} samples (paper: 27). One Lyapunov time = {lyap_samples:.0f} samples.\n\n"
          f"Training windows come from 16 trajectories (reference seed {LORENZ_TRAIN_REFERENCE}); every number below is "
          f"measured on 16 other trajectories (reference seed {LORENZ_TEST_REFERENCE}) never used in training, choosing "
          "or fitting, standardised with the training trajectories' mean and sd. Seeds "
          f"{', '.join(str(s) for s in seeds)} (circuit and training); cells give the mean over seeds with its 95 % "
          "Student-t interval where there are several.\n\n"
          "**Teacher-forced and short closed-loop forecasts** (NRMSE: root mean squared error over the sd of the "
          "truth; valid prediction time: median samples until the error exceeds 0.4 sd)\n\n"
          "| forecaster | NRMSE 1 ahead | NRMSE 27 ahead | NRMSE, first 27 closed-loop steps | valid prediction "
          "time, closed loop (samples) |\n|---|---|---|---|---|\n"
          + "\n".join(f"| {label[m]} | {_cell(tf[m, 1], '.3g')} | {_cell(tf[m, 27])} | {_cell(cl27[m])} | "
                      f"{_cell(vpt[m], '.0f')} |" for m in methods)
          + f"\n| persistence (x_k+h = x_k) | {persistence[1]:.3g} | {persistence[27]:.3f} | | |"
          + "".join(f"\n| {lbl} | | | {cl27[n][0]:.3f} | {vpt[n][0]:.0f} |"
                    for n, lbl in (("hold", "last warm-up observation held"), ("mean", "the mean, 0")))
          + f"\n\n**Attractor of the long closed loop** ({n_long} samples = {n_long / lyap_samples:.1f} Lyapunov times "
          f"after {_N_WARMUP} teacher-forced samples, {settings.eval_trials} runs; the first {min(200, n_long // 4)} "
          "samples left out) against the held-out trajectories. Distribution: Wasserstein-1 distance between the "
          "values of x over the second half of the runs and the true ones (sd of x; the criterion of the closed-loop "
          "claim); maxima: Wasserstein-1 distance between the successive local maxima (sd of x); spectrum: "
          "total-variation distance between normalised Welch spectra (0 to 1); Lyapunov: largest Lyapunov exponent "
          f"of the output (Rosenstein et al. 1993: embedding dimension {ROSENSTEIN['dim']}, delay "
          f"{ROSENSTEIN['delay']} samples, temporal neighbours within {ROSENSTEIN['theiler']} samples excluded, slope "
          f"over steps {ROSENSTEIN['fit'][0]}-{ROSENSTEIN['fit'][1]}) over the true {LYAPUNOV_EXPONENT} per Lorenz "
          "time unit (1 = the Lorenz rate, about 0 = periodic, n/a = no neighbour at a positive distance, e.g. a "
          "fixed point); lobe: fraction of time with x above the true mean. The last row is the floor the sampling "
          "sets: the first 8 held-out trajectories against the other 8 (Lyapunov and lobe: all 16).\n\n"
          "| forecaster | distribution | maxima | spectrum | Lyapunov exponent / true | lobe |\n|---|---|---|---|---|---|\n"
          + "\n".join(f"| {label[m]} | " + " | ".join(_cell(stat(m, k)) for k in stat_cols) + " |" for m in methods)
          + "\n| true x (held-out trajectories) | " + " | ".join(f"{floor[k]:.3f}" for k in stat_cols) + " |"
          + f"\n\n{settings.lorenz_units} tanh units, discrete map (alpha = 1), g = 0.9, input weights N(0, 0.5^2). "
          f"Bias-only and full: one network with one tonic input per horizon, {settings.lorenz_steps} Adam steps of "
          f"{settings.rnn_batch} windows of {duration:.0f} samples per horizon (first {_WASHOUT} not scored); "
          "learning rates chosen by the lowest final training loss (mean of the last 20 steps) after "
          f"{_tuning_steps(settings)} steps (the same for both modes) on a separate tuning seed "
          f"({LORENZ_TUNING_SEED}): "
          + "; ".join(f"{m} {lr[m]:g} from " + ", ".join(f"{x:g}: {v:.3g}" for x, v in tuned[m][1].items())
                      for m in ("bias", "full"))
          + ". Echo-state network: the same random circuit with zero tonic input, driven by the training trajectories "
          f"(first {_ESN_SAMPLES} samples, the first {_WASHOUT} dropped), linear readout by ridge regression per "
          f"horizon, the ridge (relative to the mean variance of the rates) chosen from "
          f"{', '.join(f'{r:g}' for r in ESN_RIDGES)} on the last {_N_VALIDATION} training trajectories, then "
          "refitted on all 16; chosen (1 / 27 ahead): "
          + ", ".join(f"seed {s} {esn_chosen[s][1][0]:g} / {esn_chosen[s][27][0]:g}" for s in seeds)
          + ". Linear autoregression: least squares on the last p samples per horizon, p chosen from "
          f"{', '.join(str(p) for p in AR_ORDERS)} the same way: p = {ar_fits[1][0]} (1 ahead), {ar_fits[27][0]} "
          f"(27 ahead). Closed loops use the one-step forecaster (tonic input of the 1-ahead context). The figure "
          f"shows seed {seeds[0]}.")
    ratio = {s: tf["bias", 27][i] / persistence[27] for i, s in enumerate(seeds)}
    dist = {s: stats["bias"][i]["distribution"] for i, s in enumerate(seeds)}
    lam = {s: stats["bias"][i]["lyapunov"] for i, s in enumerate(seeds)}
    log_lam = {s: float(abs(np.log2(v))) if np.isfinite(v) and v > 0 else float("nan") for s, v in lam.items()}

    def means(m: str, values: list[float]) -> str:
        return f"{label[m].split(' (')[0]} {_cell(values)}"

    claims = (
        Claim(key="lorenz_teacher_forced",
              ours="held-out NRMSE 27 ahead: " + "; ".join(means(m, tf[m, 27]) for m in methods)
                   + f"; persistence {persistence[27]:.3f}; bias / persistence {_per_seed(ratio)}",
              values=tuple(ratio.values()), seeds=seeds),
        Claim(key="lorenz_closed_loop",
              ours="distance of the closed-loop distribution of x from the true one (W1, sd of x): "
                   + "; ".join(means(m, stat(m, "distribution")) for m in methods) + f"; bias {_per_seed(dist)}",
              values=tuple(dist.values()), seeds=seeds),
        Claim(key="lorenz_lyapunov",
              ours="largest Lyapunov exponent of the closed loop over the Lorenz one: "
                   + "; ".join(means(m, stat(m, "lyapunov")) for m in methods)
                   + f"; true x {floor['lyapunov']:.3f}; bias |log2| {_per_seed(log_lam)}",
              values=tuple(log_lam.values()), seeds=seeds),
    )
    fig = figures.lorenz_attractor_figure(
        obs[0, :, 0], {label[m].split(" (")[0]: traces[m][0] for m in ("bias", "full", "esn", "ar")}, n_warmup=_N_WARMUP,
        n_show=n_free,
        maps={"true x": return_map(true_series), **{label[m].split(" (")[0]: return_map(traces[m])
                                                   for m in ("bias", "full", "esn", "ar")
                                                   if np.all(np.isfinite(traces[m]))}},
        title=f"Lorenz x on held-out trajectories, seed {seeds[0]}")
    return Outcome(name="lorenz", title="Lorenz forecasting", claims=claims, markdown=md,
                   figures={"williams_lorenz": fig}, wall_s=time.perf_counter() - t0)


# ----------------------------------------------------------------------------- reaching
def _paths(ev: xr.Dataset) -> np.ndarray:
    """Hand paths of the first trial of each context, of shape (context, time, 2), in speed x ms."""
    z = ev["z"].isel(trial=0).values
    return np.cumsum(z, axis=1) * float(ev["time"].values[1] - ev["time"].values[0])


def _angle_error(ev: xr.Dataset, angles: np.ndarray) -> float:
    """Mean absolute angle (deg) between the end displacement of every trial and its target direction."""
    disp = ev["z"].sum("time").values  # (context, trial, 2)
    got = np.degrees(np.arctan2(disp[..., 1], disp[..., 0]))
    diff = (got - angles[:, None] + 180.0) % 360.0 - 180.0
    return float(np.mean(np.abs(diff)))


#: loss levels (MSE) at which the reaching experiment counts the steps each mode needed
REACH_LEVELS: tuple[float, ...] = (1e-2, 3e-3, 1e-3, 3e-4, 1e-4)
#: the loss level of the pre-declared reaching criterion (see neurobias.reproduce.criteria)
REACH_LEVEL = 1e-3


def steps_to_level(loss: np.ndarray, level: float, *, window: int = _SMOOTH) -> int | None:
    """First training step at which the moving average of the last ``window`` losses is <= ``level``; None if never.

    Parameters
    ----------
    loss : ndarray of shape (step,)
        Loss per training step (the per-step loss is noisy: each step draws new trials).
    level : float
    window : int
        Steps averaged (fewer at the start: the first ``window - 1`` steps average what exists).

    Returns
    -------
    int or None
        A 1-based step count.
    """
    loss = np.asarray(loss, dtype=np.float64)
    if loss.size == 0:
        return None
    c = np.cumsum(loss)
    n = np.arange(1, loss.size + 1)
    before = np.zeros_like(c)  # sum of the losses that left the window
    before[window:] = c[:-window]
    avg = (c - before) / np.minimum(n, window)
    hit = np.flatnonzero(avg <= level)
    return int(hit[0] + 1) if hit.size else None


#: learning rates tried for each mode, on the same grid and budget, before the modes are compared
REACH_LR_GRID: tuple[float, ...] = (1e-3, 3e-3, 1e-2, 3e-2, 1e-1)
#: circuit and training seed of the learning-rate tuning runs (never one of the compared seeds)
REACH_TUNING_SEED = 1000


def _tune_reaching_lr(task: Task, settings: Settings, mode: str, *, progress: bool) -> tuple[float, dict[float, float]]:
    """The rate of :data:`REACH_LR_GRID` with the lowest final loss after ``rnn_steps`` steps, and every final loss."""
    circuit = circuit_for(task, n_units=settings.rnn_units, g=1.5, alpha=0.2, seed=REACH_TUNING_SEED)
    return lowest_final_loss(
        lambda lr: _train(circuit, task, mode, settings, steps=settings.rnn_steps, progress=progress,
                          seed=REACH_TUNING_SEED, lr=lr), REACH_LR_GRID, smooth=_SMOOTH)


def reaching(settings: Settings, *, progress: bool = False) -> Outcome:
    """Centre-out reaching: steps to each of :data:`REACH_LEVELS` for bias-only vs full, and held-out targets.

    Each mode's learning rate is first chosen from :data:`REACH_LR_GRID` by
    the lowest final loss after ``settings.rnn_steps`` steps on a separate
    tuning seed (:data:`REACH_TUNING_SEED`), the same grid and budget for
    both. Then, for every seed of ``settings.rnn_seeds`` (circuit and
    training), both modes train for the same number of steps
    (``3 * settings.rnn_steps``, no early stop); the steps each needed to
    bring the moving average of its loss to a level are read from the loss
    curves.
    """
    t0 = time.perf_counter()
    angles = np.arange(8) * 45.0
    task = make_task("reaching", dt=10.0, angles_deg=tuple(angles))
    mid = angles + 22.5
    held = make_task("reaching", dt=10.0, angles_deg=tuple(mid))
    max_steps = 3 * settings.rnn_steps
    modes = ("bias", "full")
    tuned = {m: _tune_reaching_lr(task, settings, m, progress=progress) for m in modes}
    lr = {m: tuned[m][0] for m in modes}
    seeds = tuple(settings.rnn_seeds)
    steps, err_train, err_held, final = {}, {}, {}, {}
    for seed in seeds:
        circuit = circuit_for(task, n_units=settings.rnn_units, g=1.5, alpha=0.2, seed=seed)
        paths, held_paths, losses = {}, {}, {}
        for mode in modes:
            res = _train(circuit, task, mode, settings, steps=max_steps, progress=progress, seed=seed, lr=lr[mode])
            losses[mode] = res.loss
            ev = evaluate(res.circuit, res.tonic, task, n_trials=settings.eval_trials)
            between = 0.5 * (res.tonic + np.roll(res.tonic, -1, axis=0))  # tonic halfway between neighbours
            ev_held = evaluate(res.circuit, between, held, n_trials=settings.eval_trials)
            err_train[seed, mode], err_held[seed, mode] = _angle_error(ev, angles), _angle_error(ev_held, mid)
            final[seed, mode] = float(np.mean(res.loss[-_SMOOTH:]))
            paths[mode], held_paths[mode] = _paths(ev), _paths(ev_held)
            steps[seed, mode] = [steps_to_level(res.loss, lv) for lv in REACH_LEVELS]
        if seed == seeds[0]:
            fig = figures.reaching_figure(paths, held_paths, losses, levels=REACH_LEVELS)

    def fmt(x: int | None) -> str:
        return f"{x}" if x is not None else "-"

    def ratio(seed: int, i: int) -> str:
        b, f = steps[seed, "bias"][i], steps[seed, "full"][i]
        return f"{b / f:.1f}" if b and f else "n/a"

    md = ("| loss level (MSE, moving average of 20 steps) | bias-only steps per seed | full steps per seed | "
          "ratio per seed |\n|---|---|---|---|\n"
          + "\n".join(f"| {lv:g} | {', '.join(fmt(steps[s, 'bias'][i]) for s in seeds)} | "
                      f"{', '.join(fmt(steps[s, 'full'][i]) for s in seeds)} | "
                      f"{', '.join(ratio(s, i) for s in seeds)} |" for i, lv in enumerate(REACH_LEVELS))
          + f"\n\n('-': not reached in {max_steps} steps.)\n\n| training | learning rate (tuned) | final loss "
          "(mean of last 20 steps), per seed | direction error, trained targets (deg), mean | direction error, "
          "held-out targets, interpolated tonic input (deg), mean |\n|---|---|---|---|---|\n"
          + "\n".join(f"| {m} | {lr[m]:g} | {', '.join(f'{final[s, m]:.3g}' for s in seeds)} | "
                      f"{np.mean([err_train[s, m] for s in seeds]):.1f} | "
                      f"{np.mean([err_held[s, m] for s in seeds]):.1f} |" for m in modes)
          + f"\n\n8 targets at 0, 45, ..., 315 deg, one context each; go cue at 50-150 ms, 250 ms minimum-jerk reach, "
          f"500 ms trials (dt = 10 ms); {settings.rnn_units} units, g = 1.5, alpha = 0.2; {max_steps} steps for both "
          f"modes, {settings.rnn_batch} trials per context per step; seeds {', '.join(str(s) for s in seeds)} "
          "(circuit and training). Learning rates: each mode's chosen from "
          f"{', '.join(f'{x:g}' for x in REACH_LR_GRID)} by the lowest final loss after {settings.rnn_steps} steps "
          f"on a separate tuning seed ({REACH_TUNING_SEED}); final losses of the tuning runs: "
          + "; ".join(f"{m} " + ", ".join(f"{x:g}: {v:.3g}" for x, v in tuned[m][1].items()) for m in modes)
          + ". Held-out targets at 22.5 + 45k deg are driven by the mean of the two neighbouring targets' tonic "
          f"inputs (weights unchanged). The figure shows seed {seeds[0]}.")
    i_level = REACH_LEVELS.index(REACH_LEVEL)
    at_level = {s: [max_steps if x is None else x for x in (steps[s, "bias"][i_level], steps[s, "full"][i_level])]
                for s in seeds}
    level_ratio = {s: at_level[s][0] / at_level[s][1] for s in seeds}
    held_bias = {s: err_held[s, "bias"] for s in seeds}
    claims = (
        Claim(key="reaching_steps",
              ours=f"steps to loss {REACH_LEVEL:g} (learning rates tuned: bias {lr['bias']:g}, full {lr['full']:g}): "
                   "bias " + ", ".join(fmt(steps[s, 'bias'][i_level]) for s in seeds) + "; full "
                   + ", ".join(fmt(steps[s, 'full'][i_level]) for s in seeds) + " (per seed; a mode that does not "
                   f"reach it counts {max_steps}); ratio {_per_seed(level_ratio)}",
              values=tuple(level_ratio.values()), seeds=seeds),
        Claim(key="reaching_heldout",
              ours=f"direction error on held-out targets, mean over seeds: bias "
                   f"{np.mean(list(held_bias.values())):.1f} deg, full "
                   f"{np.mean([err_held[s, 'full'] for s in seeds]):.1f} deg",
              values=tuple(held_bias.values()), seeds=seeds),
    )
    return Outcome(name="reaching", title="Centre-out reaching", claims=claims, markdown=md,
                   figures={"williams_reaching": fig}, wall_s=time.perf_counter() - t0)

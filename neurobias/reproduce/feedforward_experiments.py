"""Feed-forward experiments of Williams et al. (2024): the width scaling curve and the multi-task network.

* :func:`width_scaling`: test accuracy against hidden width for bias-only,
  readout-only and full training (one hidden ReLU layer, uniform
  ``[-0.1, 0.1]`` weights), and at matched numbers of trained parameters;
* :func:`multitask`: one random network with one bias vector per task
  against separately, fully trained networks; task variance of the hidden
  units, their k-means clusters and the bias / task-variance correlation;
  bias learning against mask learning.

Each returns an :class:`~neurobias.reproduce.outcome.Outcome`; the measured
data are xarray Datasets computed by the pure functions
:func:`width_accuracies` and :func:`multitask_measurements`.
"""
from __future__ import annotations

import time

import numpy as np
import xarray as xr

from neurobias.analysis.task_variance import cluster_units, task_variance, tonic_variance_correlation
from neurobias.datasets import Split, load, pad_features
from neurobias.feedforward import BiasNet, fit, hidden_activity, trained_parameter_count
from neurobias.reproduce import figures
from neurobias.reproduce.outcome import Claim, Outcome
from neurobias.reproduce.settings import Settings

__all__ = ["width_accuracies", "width_scaling", "multitask_measurements", "multitask", "MULTITASK_TASKS",
           "WIDTH_MODES"]

WIDTH_MODES: tuple[str, ...] = ("bias", "readout", "full")
MULTITASK_TASKS: tuple[str, ...] = (
    "digits", "digits-parity", "digits-rotated", "mnist1d", "mnist1d-magnitude", "mnist1d-permuted",
)
_LR = {"bias": 0.01, "readout": 0.01, "full": 0.001, "bias+readout": 0.01, "mask": 0.05}


def width_accuracies(settings: Settings, *, progress: bool = False) -> xr.Dataset:
    """Test accuracy of one-hidden-layer networks against width, for every mode, data set and seed.

    Returns
    -------
    xarray.Dataset
        ``test_accuracy (dataset, mode, width, seed)`` and ``train_accuracy``
        (fractions), ``trained_parameters (dataset, mode, width)``,
        ``fit_seconds (dataset, mode, width, seed)``.
    """
    shape = (len(settings.ff_datasets), len(WIDTH_MODES), len(settings.widths), len(settings.seeds))
    test, train, seconds = np.empty(shape), np.empty(shape), np.empty(shape)
    params = np.empty(shape[:3], dtype=np.int64)
    for d, name in enumerate(settings.ff_datasets):
        split = load(name)
        for m, mode in enumerate(WIDTH_MODES):
            for w, width in enumerate(settings.widths):
                params[d, m, w] = trained_parameter_count(split.n_features, (width,), split.n_classes, mode=mode)
                for s, seed in enumerate(settings.seeds):
                    net = BiasNet(split.n_features, (width,), split.n_classes, mode=mode, init="uniform",
                                  gamma=0.1, seed=seed)
                    res = fit(net, split, steps=settings.ff_steps, batch_size=settings.ff_batch, lr=_LR[mode],
                              seed=seed, progress=progress)
                    test[d, m, w, s], train[d, m, w, s] = res.test_accuracy[0], res.train_accuracy[0]
                    seconds[d, m, w, s] = res.wall_time_s
    dims = ("dataset", "mode", "width", "seed")
    return xr.Dataset(
        {"test_accuracy": (dims, test), "train_accuracy": (dims, train),
         "trained_parameters": (dims[:3], params), "fit_seconds": (dims, seconds)},
        coords={"dataset": list(settings.ff_datasets), "mode": list(WIDTH_MODES),
                "width": np.asarray(settings.widths), "seed": np.asarray(settings.seeds)},
        attrs={"steps": settings.ff_steps, "batch_size": settings.ff_batch, "init": "uniform", "gamma": 0.1},
    )


def _matched(ds: xr.Dataset, dataset: str, mode: str, n_params: float) -> float:
    """Mean accuracy of ``mode`` interpolated (in log parameters) at ``n_params``; NaN outside its range."""
    x = np.log(ds["trained_parameters"].sel(dataset=dataset, mode=mode).values.astype(np.float64))
    y = ds["test_accuracy"].sel(dataset=dataset, mode=mode).mean("seed").values
    lx = np.log(n_params)
    if lx < x.min() or lx > x.max():
        return float("nan")
    return float(np.interp(lx, x, y))


def _pct(v: float) -> str:
    return "n/a" if not np.isfinite(v) else f"{100 * v:.1f}%"


def width_scaling(settings: Settings, *, progress: bool = False) -> Outcome:
    """The width scaling experiment (claims, tables, figure)."""
    t0 = time.perf_counter()
    ds = width_accuracies(settings, progress=progress)
    acc = ds["test_accuracy"]
    spread = " (mean ± sd over seeds)" if len(settings.seeds) > 1 else ""
    lines = ["| data set | width | " + " | ".join(f"{m}{spread}" for m in WIDTH_MODES) + " |",
             "|---|---|" + "---|" * len(WIDTH_MODES)]
    for name in settings.ff_datasets:
        for width in settings.widths:
            cells = []
            for mode in WIDTH_MODES:
                a = acc.sel(dataset=name, mode=mode, width=width).values
                cells.append(f"{100 * a.mean():.1f} ± {100 * a.std():.1f}%" if a.size > 1 else f"{100 * a[0]:.1f}%")
            lines.append(f"| {name} | {width} | " + " | ".join(cells) + " |")
    matched = ["", "At matched numbers of trained parameters (accuracy of readout-only and full training "
               "interpolated linearly in log(parameters) at the count of bias-only; n/a outside their range):", "",
               "| data set | width (bias-only) | trained parameters | bias-only | readout-only | full |",
               "|---|---|---|---|---|---|"]
    for name in settings.ff_datasets:
        for width in settings.widths:
            n = float(ds["trained_parameters"].sel(dataset=name, mode="bias", width=width))
            b = float(acc.sel(dataset=name, mode="bias", width=width).mean())
            matched.append(f"| {name} | {width} | {int(n)} | {_pct(b)} | {_pct(_matched(ds, name, 'readout', n))} "
                           f"| {_pct(_matched(ds, name, 'full', n))} |")
    claims = []
    for name in settings.ff_datasets:
        bias_curve = acc.sel(dataset=name, mode="bias").mean("seed").values
        full_curve = acc.sel(dataset=name, mode="full").mean("seed").values
        gap_small, gap_large = full_curve[0] - bias_curve[0], full_curve[-1] - bias_curve[-1]
        last = acc.sel(dataset=name, width=settings.widths[-1])
        per_seed = 100 * (last.sel(mode="full") - last.sel(mode="bias")).values
        claims.append(Claim(
            key=f"width_{name}",
            ours=f"bias-only {_pct(bias_curve[0])} at width {settings.widths[0]} -> {_pct(bias_curve[-1])} at "
                 f"{settings.widths[-1]}; gap to full {100 * gap_small:.1f} -> {100 * gap_large:.1f} points "
                 "(means over seeds)",
            values=tuple(per_seed), seeds=tuple(settings.seeds),
        ))
    fig = figures.width_figure(ds)
    md = "\n".join(lines + matched) + (
        f"\n\nOne hidden ReLU layer, weights and initial biases uniform on [-0.1, 0.1] (readout too; it is fixed "
        f"in bias-only mode), Adam {settings.ff_steps} steps of {settings.ff_batch} samples, cosine schedule, "
        f"learning rates {', '.join(f'{m} {_LR[m]}' for m in WIDTH_MODES)}; seeds {list(settings.seeds)}; "
        "the output bias is trained in every mode.")
    return Outcome(name="width", title="Accuracy against width (feed-forward)", claims=tuple(claims), markdown=md,
                   figures={"williams_width": fig}, wall_s=time.perf_counter() - t0)


def _standardised(split: Split) -> Split:
    """Inputs shifted and scaled by one mean and one standard deviation of the training inputs."""
    mean, std = float(split.x_train.mean()), float(split.x_train.std())
    return Split.make(name=split.name, x_train=(split.x_train - mean) / std, y_train=split.y_train,
                      x_test=(split.x_test - mean) / std, y_test=split.y_test, n_classes=split.n_classes)


def _tasks() -> list[Split]:
    splits = [_standardised(load(name)) for name in MULTITASK_TASKS]
    n = max(s.n_features for s in splits)
    return [pad_features(s, n) for s in splits]


def multitask_measurements(settings: Settings, *, progress: bool = False) -> dict[str, xr.Dataset]:
    """Train the multi-task networks and measure them.

    One network of ``settings.mt_width`` hidden units (seed 0, uniform
    [-0.1, 0.1]) is trained in ``bias`` mode on all tasks of
    :data:`MULTITASK_TASKS` at once (each task's inputs standardised by one
    scalar mean and standard deviation, so that the data sets share an input
    scale, then zero-padded to 64 features), another with the same weights in
    ``mask`` mode, and one network per task in ``full`` mode.

    Returns
    -------
    dict of str to xarray.Dataset
        ``accuracy``: ``test_accuracy (training, context)`` for
        ``bias``, ``mask``, ``full``; ``tv``: :func:`task_variance` of the
        bias network's hidden units over ``mt_samples`` test inputs per task;
        ``clusters``: :func:`cluster_units` of it; ``correlation``:
        :func:`tonic_variance_correlation` of the learned biases with it;
        ``units``: per task, ``on_bias``, ``on_mask``, ``on_random`` (units
        active on at least one of the task's test inputs, for the mask: and
        kept by the mask), ``jaccard`` of the bias and mask sets and
        ``bias_score_corr`` (Pearson correlation of learned bias and mask score).
    """
    splits = _tasks()
    names = [s.name for s in splits]
    outs = [s.n_classes for s in splits]
    n_in, width = splits[0].n_features, settings.mt_width
    kw = dict(steps=settings.mt_steps, batch_size=settings.ff_batch, seed=0, progress=progress)
    nets, results = {}, {}
    for mode in ("bias", "mask"):
        nets[mode] = BiasNet(n_in, (width,), outs, n_tasks=len(splits), mode=mode, seed=0)
        results[mode] = fit(nets[mode], splits, lr=_LR[mode], **kw).test_accuracy
    results["full"] = np.array([fit(BiasNet(n_in, (width,), s.n_classes, mode="full", seed=0), s, lr=_LR["full"],
                                    **kw).test_accuracy[0] for s in splits])
    accuracy = xr.Dataset({"test_accuracy": (("training", "context"), np.stack([results[m] for m in ("bias", "mask", "full")]))},
                          coords={"training": ["bias", "mask", "full"], "context": names})
    n = min(settings.mt_samples, *(len(s.y_test) for s in splits))
    random_net = BiasNet(n_in, (width,), outs, n_tasks=len(splits), mode="bias", seed=0)
    acts = {key: np.stack([hidden_activity(net, s.x_test[:n], task=t) for t, s in enumerate(splits)])
            for key, net in (("bias", nets["bias"]), ("mask", nets["mask"]), ("random", random_net))}
    da = xr.DataArray(acts["bias"][:, :, None, :], dims=("context", "trial", "time", "unit"),
                      coords={"context": names, "unit": np.arange(width)})
    tv = task_variance(da, min_variance=1e-8)
    clusters = cluster_units(tv, k_range=(2, min(8, len(names) + 2)), seed=0, n_init=4)
    bias = xr.DataArray(nets["bias"].biases[0].detach().double().numpy(), dims=("context", "unit"),
                        coords={"context": names, "unit": np.arange(width)})
    corr = tonic_variance_correlation(bias, tv, clusters=clusters)
    on = {key: (a > 0).any(axis=1) for key, a in acts.items()}  # (task, unit)
    mask_on = on["mask"] & (nets["mask"].masks()[0].numpy() > 0)
    inter = (on["bias"] & mask_on).sum(axis=1)
    union = (on["bias"] | mask_on).sum(axis=1)
    scores = nets["mask"].scores[0].detach().double().numpy()
    b = bias.values
    score_corr = np.array([np.corrcoef(b[t], scores[t])[0, 1] for t in range(len(names))])
    units = xr.Dataset(
        {"on_bias": ("context", on["bias"].sum(axis=1)), "on_mask": ("context", mask_on.sum(axis=1)),
         "on_random": ("context", on["random"].sum(axis=1)), "jaccard": ("context", inter / np.maximum(union, 1)),
         "bias_score_corr": ("context", score_corr)},
        coords={"context": names}, attrs={"width": width, "samples_per_task": n},
    )
    return {"accuracy": accuracy, "tv": tv, "clusters": clusters, "correlation": corr, "units": units}


def multitask(settings: Settings, *, progress: bool = False) -> Outcome:
    """The multi-task experiment (claims, tables, figure)."""
    t0 = time.perf_counter()
    m = multitask_measurements(settings, progress=progress)
    acc = m["accuracy"]["test_accuracy"]
    names = list(acc["context"].values)
    gap = (acc.sel(training="full") - acc.sel(training="bias")).values
    lines = ["| task | bias-only, one network | mask, same network | full, one network per task | gap full - bias |",
             "|---|---|---|---|---|"]
    for i, name in enumerate(names):
        lines.append(f"| {name} | {_pct(float(acc.sel(training='bias', context=name)))} | "
                     f"{_pct(float(acc.sel(training='mask', context=name)))} | "
                     f"{_pct(float(acc.sel(training='full', context=name)))} | {100 * gap[i]:.1f} points |")
    cl = m["clusters"]
    k, sil = int(cl.attrs["k"]), float(np.nanmean(cl["silhouette_unit"].values))
    cent = cl["centroids"].values
    lines += ["", f"Task variance over {m['units'].attrs['samples_per_task']} test inputs per task; k-means on "
              f"the normalised profiles of the {cl.attrs['n_active']} active units (k by silhouette): k = {k}, "
              f"mean silhouette {sil:.2f}.", "",
              "| cluster | units | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for j in range(k):
        lines.append(f"| {j} | {int(cl['cluster_size'][j])} | " + " | ".join(f"{v:.2f}" for v in cent[j]) + " |")
    corr = m["correlation"]
    pear = corr["pearson"].sel(group="all").values
    lines += ["", "Pearson correlation across units between a task's learned bias and the unit's task variance "
              "in that task:", "", "| task | r | p |", "|---|---|---|"]
    for i, name in enumerate(names):
        lines.append(f"| {name} | {pear[i]:.2f} | {float(corr['pearson_p'].sel(group='all').values[i]):.2g} |")
    u = m["units"]
    lines += ["", f"Units switched on per task (of {u.attrs['width']}; 'on' = active on at least one of the task's "
              "test inputs, and for the mask also kept by it), and how similar the two solutions are:", "",
              "| task | random network | bias-learned | mask-learned | Jaccard(bias, mask) | r(bias, mask score) |",
              "|---|---|---|---|---|---|"]
    for name in names:
        s = u.sel(context=name)
        lines.append(f"| {name} | {int(s['on_random'])} | {int(s['on_bias'])} | {int(s['on_mask'])} | "
                     f"{float(s['jaccard']):.2f} | {float(s['bias_score_corr']):.2f} |")
    worst = int(np.argmax(gap))
    n_large = int(np.sum(gap > 0.05))
    seeds = (0,)  # one network per size: the multi-task network is measured for one seed
    claims = (
        Claim(
            key="multitask_gap",
            ours=f"{len(names)} tasks, {settings.mt_width} units: gap full - bias "
                 f"{', '.join(f'{n} {100 * g:.1f}' for n, g in zip(names, gap))} points; largest {names[worst]}; "
                 "our tasks come from digits and MNIST-1D, not the paper's 7 image sets",
            values=(float(n_large),), seeds=seeds,
        ),
        Claim(key="clusters", ours=f"k = {k} clusters, mean silhouette {sil:.2f}; cluster sizes "
                                   f"{', '.join(str(int(v)) for v in cl['cluster_size'].values)}",
              values=(sil if k >= 2 else float("nan"),), seeds=seeds),
        Claim(key="bias_variance", ours="Pearson r per task " + ", ".join(f"{n} {r:.2f}" for n, r in zip(names, pear)),
              values=(float(np.mean(pear)),), seeds=seeds),
        Claim(key="masks",
              ours=f"mask accuracy {', '.join(_pct(float(v)) for v in acc.sel(training='mask').values)}; "
                   f"Jaccard(bias, mask) {', '.join(f'{v:.2f}' for v in u['jaccard'].values)}",
              values=(float(np.mean(u["jaccard"].values)),), seeds=seeds),
    )
    md = "\n".join(lines) + (
        f"\n\nTasks: {', '.join(names)} (each task's inputs standardised by one scalar mean and sd of its "
        f"training inputs, MNIST-1D zero-padded to 64 features); hidden width "
        f"{settings.mt_width}; bias and mask networks trained jointly ({settings.mt_steps} Adam steps, one minibatch "
        f"of {settings.ff_batch} per task per step), full networks one per task with the same steps; each task "
        "has its own fixed random readout and a trained output bias.")
    fig = figures.multitask_figure(m)
    return Outcome(name="multitask", title="One random network, one bias vector per task", claims=claims,
                   markdown=md, figures={"williams_multitask": fig}, wall_s=time.perf_counter() - t0)

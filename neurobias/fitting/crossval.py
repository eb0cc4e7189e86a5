"""Cross-validation of recording fits: held-out conditions, held-out time, held-out trials; nulls and the ceiling.

Schemes (``scheme=``):

* ``conditions``: whole stimulus conditions are held out (folds from
  :func:`neurobias.fitting.splits.condition_folds`); the model is fitted on the
  others and predicts the held-out ones from their context label and stimulus;
* ``time``: every condition is fitted on the first block of bins and every
  second block after it (:func:`neurobias.fitting.splits.time_blocks`) and
  scored on the others;
* ``trials``: single trials only; fitted on the average of a random half of
  each condition's trials, scored on the average of the other half.

Preprocessing (optional soft normalisation, centring) is computed on the
fitted part of each fold only (its training conditions, bins or half) and
applied to both parts. The held-out predictions of all folds are pooled and
scored with R² (:func:`neurobias.recordings.metrics.r2.r2_arrays`); the null
permutes the pooled predictions across conditions.

The ceiling is named for what it is (``ceiling_kind``):

* single trials, ``conditions`` / ``time``: the Spearman-Brown corrected
  split-half reliability ``2 r / (1 + r)`` of the full condition averages,
  ``r`` the Pearson correlation of the two halves' averages over the scored
  entries (each neuron centred): the expected R² of the true means against
  the full averages. The split-half R² (one half's averages predicting the
  other's) is reported as ``split_half_r2``; it counts the noise of both
  halves and is not a ceiling;
* single trials, ``trials``: the split-half reliability ``r`` itself (the
  target is one half's average);
* condition averages with ``noise_variance`` (the variance of each average,
  e.g. from trial counts under a Poisson assumption):
  ``1 - sum(noise variance) / sum of squares of the targets``;
* otherwise none (NaN).

Nested tuning (``tune=``): estimator parameters chosen from a grid inside each
fold, by the pooled R² of held-out conditions within that fold's fitted part
only (inner folds by ``tune_by``, each with its own preprocessing statistics;
with ``scheme="time"`` the inner fits and scores use the fitted bins only), so
the held-out entries of the fold never influence the choice. The chosen values
are returned per fold.
"""
from __future__ import annotations

import itertools
import time as _time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from neurobias.errors import InputError, check_choice, check_number, describe_shape
from neurobias.fitting.context_fit import condition_targets
from neurobias.fitting.splits import ConditionFold, condition_folds, time_blocks
from neurobias.recordings.dataset import is_single_trial, make_recording, validate
from neurobias.recordings.design import Design, make_design, read_design, set_design
from neurobias.recordings.metrics import shuffle_conditions
from neurobias.recordings.metrics.r2 import r2_arrays
from neurobias.recordings.preprocess import split_halves

__all__ = ["cross_validate", "SCHEMES", "spearman_brown", "tuning_candidates"]

SCHEMES: tuple[str, ...] = ("conditions", "time", "trials")


def spearman_brown(r: float, factor: float = 2.0) -> float:
    """Reliability of an average over ``factor`` times the trials of one with reliability ``r``: ``k r / (1 + (k-1) r)``."""
    return float(factor * r / (1.0 + (factor - 1.0) * r))


def _clone(estimator: Any) -> Any:
    return type(estimator)(**estimator.get_params())


def _pearson_centred(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean(axis=(0, 1))
    b = b - b.mean(axis=(0, 1))
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))


class _Prep:
    """Per-neuron centring and soft normalisation, statistics from the fitted entries only."""

    def __init__(self, fitted: np.ndarray, *, soft: float | None, center: bool) -> None:
        flat = fitted.reshape(-1, fitted.shape[-1])
        self.mean = flat.mean(axis=0) if center else np.zeros(flat.shape[1])
        self.scale = 1.0 / (flat.max(axis=0) - flat.min(axis=0) + soft) if soft is not None else np.ones(flat.shape[1])

    def __call__(self, y: np.ndarray) -> np.ndarray:
        return (y - self.mean) * self.scale


def _recording(y: np.ndarray, d: Design, idx: np.ndarray, neurons: list[str]) -> xr.Dataset:
    rec = make_recording(y[idx], time=d.time, conditions=[d.conditions[i] for i in idx], neurons=neurons,
                         units="normalised", source="cross-validation fold")
    return set_design(rec, context=[d.contexts[d.context_index[i]] for i in idx], stimulus=d.stimulus[idx],
                      inputs=d.inputs, course=d.course)


def tuning_candidates(estimator: Any, tune: Any) -> list[dict[str, Any]]:
    """The candidates of nested tuning, each a complete mapping of the tuned parameter names to values.

    Parameters
    ----------
    estimator : object
        With ``get_params()``; a name a candidate leaves out keeps the
        estimator's value.
    tune : mapping of str to sequence, or sequence of mappings
        A grid (every combination of the candidate values of each name) or an
        explicit list of candidates (e.g. ``[{"tau": 125.0}, {"tau": 250.0, "g": 1.5}]``).

    Returns
    -------
    list of dict
        One dict per candidate with every tuned name, in order.

    Raises
    ------
    InputError
        An empty or malformed ``tune``, or a name the estimator does not have.
    """
    params = estimator.get_params()

    def known(name: Any, where: str) -> None:
        if name not in params:
            raise InputError(f"{where} names a parameter the estimator does not have: {name!r}; "
                             f"{type(estimator).__name__} has {sorted(params)}")

    if isinstance(tune, Mapping) and tune:
        for name, values in tune.items():
            known(name, "`tune`")
            if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or len(values) < 1:
                raise InputError(f"`tune[{name!r}]` must be a non-empty sequence of candidate values; got {values!r}")
        names = list(tune)
        return [dict(zip(names, combo)) for combo in itertools.product(*(tune[n] for n in names))]
    if (isinstance(tune, Sequence) and not isinstance(tune, (str, bytes)) and len(tune) > 0
            and all(isinstance(c, Mapping) and c for c in tune)):
        names = list(dict.fromkeys(k for c in tune for k in c))
        for i, c in enumerate(tune):
            for name in c:
                known(name, f"`tune[{i}]`")
        return [{n: c.get(n, params[n]) for n in names} for c in tune]
    raise InputError("`tune` must be a non-empty mapping of parameter name -> candidate values, or a non-empty "
                     f"sequence of non-empty mappings (one per candidate); got {tune!r}")


def _describe(candidates: list[dict[str, Any]]) -> str:
    return "; ".join(", ".join(f"{k}={v}" for k, v in c.items()) for c in candidates)


def _inner_folds(d: Design, tr: np.ndarray, neurons: list[str], y: np.ndarray, by: str,
                 limit: int | None) -> list[tuple[np.ndarray, np.ndarray]]:
    """Held-out-condition folds within the conditions ``tr`` (indices into the design), as (fit, test) indices."""
    sub = read_design(_recording(y, d, tr, neurons))
    folds = condition_folds(sub, by=by)
    if limit is not None and len(folds) > limit:
        folds = [folds[int(i)] for i in np.unique(np.round(np.linspace(0, len(folds) - 1, limit)).astype(int))]
    index = {c: i for i, c in enumerate(d.conditions)}
    return [(np.array([index[c] for c in f.train]), np.array([index[c] for c in f.test])) for f in folds]


def _inner_r2(estimator: Any, params: dict[str, Any], source: np.ndarray, d: Design, neurons: list[str],
              folds: list[tuple[np.ndarray, np.ndarray]], fit_mask: np.ndarray, scheme: str,
              soft: float | None, center: bool) -> float:
    preds, targets = [], []
    for itr, ite in folds:
        prep = _Prep(source[itr][:, fit_mask], soft=soft, center=center)
        model = type(estimator)(**{**estimator.get_params(), **params})
        model.fit(_recording(prep(source), d, itr, neurons), time_mask=None if scheme != "time" else fit_mask)
        design = make_design(conditions=[d.conditions[i] for i in ite],
                             context=[d.contexts[d.context_index[i]] for i in ite], stimulus=d.stimulus[ite],
                             inputs=d.inputs, time=d.time, course=d.course)
        preds.append(np.asarray(model.predict(design)["rate"].values, dtype=np.float64))
        targets.append(prep(source[ite]))
    r2, _ = r2_arrays(np.concatenate(targets), np.concatenate(preds), mask=fit_mask)
    return float(r2)


def cross_validate(
    estimator: Any, recording: xr.Dataset, *, scheme: str = "conditions", by: str | None = None,
    held_out: Any = None, block: int = 5, soft: float | None = None, center: bool = False,
    noise_variance: Any = None, n_shuffles: int = 100, seed: int = 0,
    tune: Mapping[str, Sequence[Any]] | None = None, tune_by: str | None = None, tune_folds: int | None = None,
) -> xr.Dataset:
    """Held-out R² of ``estimator`` on ``recording``, with its shuffled-condition null and the ceiling.

    Parameters
    ----------
    estimator : ContextFit, LowRankContextFit, ConditionTonicFit, LinearDynamicalFit, ...
        An unfitted estimator with ``get_params``, ``fit(recording, time_mask=)``
        and ``predict(design)``; cloned for every fold.
    recording : xarray.Dataset
        Recording with a design (:func:`neurobias.recordings.design.set_design`).
    scheme : {"conditions", "time", "trials"}
        See the module docstring.
    by, held_out
        The folds of ``conditions`` (:func:`neurobias.fitting.splits.condition_folds`).
    block : int
        Bins per time block (``time``).
    soft : float, optional
        Soft normalisation ``rate / (range + soft)`` per neuron (range over the
        fitted entries; ``soft`` in the recording's units); None: none.
    center : bool
        Subtract each neuron's mean over the fitted entries.
    noise_variance : array_like of shape (condition, time, neuron), optional
        Variance of each condition average (recording units squared), for the
        ceiling of condition-average recordings.
    n_shuffles : int
        Size of the shuffled-condition null.
    seed : int
        Seeds the trial halves and the null.
    tune : mapping of str to sequence, or sequence of mappings, optional
        Nested tuning: candidate values of estimator parameters (names of
        ``estimator.get_params()``), as a grid (every combination) or an
        explicit list of candidates (:func:`tuning_candidates`); every
        candidate is scored inside each fold by the pooled R² of inner held-out-condition folds over that
        fold's fitted part only, and the best one is fitted on the whole
        fitted part. None: the estimator's parameters as given.
    tune_by : str, optional
        Input whose values define the inner folds (one per value present in
        the fitted conditions); default ``by``. Needed with ``tune`` unless
        ``by`` is given.
    tune_folds : int, optional
        Use at most this many inner folds (evenly spaced over the values of
        ``tune_by``) to bound the cost; None: all.

    Returns
    -------
    xarray.Dataset
        ``r2``, ``r2_null (shuffle)``, ``r2_p_value``, ``ceiling`` (attribute
        ``ceiling_kind``), ``r2_of_ceiling``, ``split_half_r2``, ``r2_fold
        (fold)`` with ``fold`` names; ``prediction`` and ``target`` (condition,
        time, neuron) of the held-out conditions in the preprocessed units;
        attributes ``scheme``, ``model``, ``predicts`` (1, or 0 with ``reason``
        when the model cannot predict the held-out entries) and ``wall_time_s``.
        With ``tune``: ``tuned_<name> (fold)`` the value chosen in each fold,
        ``tune_r2 (fold, candidate)`` the inner R² of every candidate, and the
        attribute ``tuning`` describing the grid and the inner folds.
    """
    t_start = _time.perf_counter()
    check_choice("scheme", scheme, SCHEMES)
    n_shuffles = check_number("n_shuffles", n_shuffles, ge=0, integer=True)
    if soft is not None and not (isinstance(soft, (int, float)) and soft >= 0):
        raise InputError(f"`soft` must be a number >= 0 or None; got {soft!r}")
    validate(recording, min_conditions=2)
    grid = tuning_candidates(estimator, tune) if tune is not None else None
    if grid is not None:
        tune_by = by if tune_by is None else tune_by
        if tune_by is None:
            raise InputError("`tune` needs `tune_by` (an input whose values define the inner held-out-condition "
                             "folds) when the outer folds are not given by `by`")
        if tune_folds is not None:
            tune_folds = check_number("tune_folds", tune_folds, ge=2, integer=True)
    d = read_design(recording)
    if grid is not None:
        if tune_by not in d.inputs:
            raise InputError(f"`tune_by` must be one of the inputs {list(d.inputs)}; got {tune_by!r}")
        if not getattr(estimator, "predicts_unseen_conditions", True):
            raise InputError(f"`tune` chooses parameters by held-out conditions, which {type(estimator).__name__} "
                             "cannot predict (it has no input for an unseen condition)")
    neurons = [str(v) for v in recording["neuron"].values]
    y = condition_targets(recording, d.conditions)
    n_c, n_t, _ = y.shape
    single = is_single_trial(recording)
    half_a = half_b = None
    if single:
        a, b = split_halves(recording, seed=seed)
        half_a, half_b = condition_targets(a, d.conditions), condition_targets(b, d.conditions)
    var = None
    if noise_variance is not None:
        var = np.asarray(noise_variance, dtype=np.float64)
        if var.shape != y.shape or not np.all(np.isfinite(var)) or np.any(var < 0):
            raise InputError(f"`noise_variance` must be finite, >= 0 and of shape (condition, time, neuron) = "
                             f"{describe_shape(y.shape)}; got {describe_shape(var.shape)}")
    every = np.ones(n_t, bool)
    if scheme == "conditions":
        folds = condition_folds(d, by=by, held_out=held_out)
        fit_mask, score_mask = every, every
    elif scheme == "time":
        score_mask = time_blocks(n_t, block)
        if not score_mask.any():
            raise InputError(f"`block` = {block} leaves no held-out time in {n_t} bins; use a smaller block")
        fit_mask = ~score_mask
        folds = [ConditionFold(f"held-out blocks of {block} bins", d.conditions, d.conditions)]
    else:
        if not single:
            raise InputError("`scheme='trials'` needs single trials; condition averages can hold out 'conditions' "
                             "or 'time'")
        fit_mask, score_mask = every, every
        folds = [ConditionFold("split halves", d.conditions, d.conditions)]
    can_predict = scheme != "conditions" or getattr(estimator, "predicts_unseen_conditions", True)
    preds, targets, ha, hb, noise, fold_r2, chosen, inner_r2 = [], [], [], [], [], [], [], []
    for fold in folds:
        tr = np.array([d.conditions.index(c) for c in fold.train])
        te = np.array([d.conditions.index(c) for c in fold.test])
        source = half_a if scheme == "trials" else y
        prep = _Prep(source[tr][:, fit_mask], soft=soft, center=center)
        target = prep(half_b[te] if scheme == "trials" else y[te])
        targets.append(target)
        if single:
            ha.append(prep(half_a[te]))
            hb.append(prep(half_b[te]))
        if var is not None:
            noise.append(var[te] * prep.scale ** 2)
        if not can_predict:
            continue
        model = _clone(estimator)
        if grid is not None:
            inner = _inner_folds(d, tr, neurons, source, tune_by, tune_folds)
            scores = [_inner_r2(estimator, params, source, d, neurons, inner, fit_mask, scheme, soft, center)
                      for params in grid]
            best = int(np.nanargmax(scores)) if np.any(np.isfinite(scores)) else 0
            chosen.append(grid[best])
            inner_r2.append(scores)
            model = type(estimator)(**{**estimator.get_params(), **grid[best]})
        model.fit(_recording(prep(source), d, tr, neurons), time_mask=None if scheme != "time" else fit_mask)
        design = make_design(conditions=list(fold.test), context=[d.contexts[d.context_index[i]] for i in te],
                             stimulus=d.stimulus[te], inputs=d.inputs, time=d.time, course=d.course)
        pred = np.asarray(model.predict(design)["rate"].values, dtype=np.float64)
        preds.append(pred)
        fold_r2.append(r2_arrays(target, pred, mask=score_mask)[0])
    target_all = np.concatenate(targets)
    if can_predict:
        pred_all = np.concatenate(preds)
        r2, _ = r2_arrays(target_all, pred_all, mask=score_mask)
        rng = np.random.default_rng(seed)
        null = np.array([r2_arrays(target_all, shuffle_conditions(pred_all, rng), mask=score_mask)[0]
                         for _ in range(int(n_shuffles))])
        p_value = (1 + int((null >= r2).sum())) / (1 + int(n_shuffles))
    else:
        pred_all = np.full_like(target_all, np.nan)
        r2, null, p_value, fold_r2 = float("nan"), np.full(int(n_shuffles), np.nan), float("nan"), [np.nan] * len(folds)
    split_half_r2 = float("nan")
    if single:
        a_all, b_all = np.concatenate(ha)[:, score_mask], np.concatenate(hb)[:, score_mask]
        r = _pearson_centred(a_all, b_all)
        split_half_r2 = r2_arrays(b_all, a_all)[0]
        if scheme == "trials":
            ceiling, kind = r, ("split-half reliability r (Pearson correlation of the two halves' averages, each "
                                "neuron centred): the reliability of one half's average")
        else:
            ceiling, kind = spearman_brown(r), ("Spearman-Brown corrected split-half reliability 2r/(1+r) of the "
                                                "full condition averages (r: Pearson correlation of the two "
                                                "halves' averages, each neuron centred)")
    elif var is not None:
        scored = target_all[:, score_mask]
        tot = ((scored - scored.mean(axis=(0, 1))) ** 2).sum()
        ceiling = float(1.0 - np.concatenate(noise)[:, score_mask].sum() / tot)
        kind = "1 - (given noise variance of the condition averages) / (variance of the targets)"
    else:
        ceiling, kind = float("nan"), "none (no single trials and no noise variance)"
    conds = [c for f in folds for c in f.test]
    tuned: dict[str, Any] = {}
    if grid is not None and chosen:
        for name in chosen[0]:
            vals = np.array([c[name] for c in chosen])
            tuned[f"tuned_{name}"] = (("fold",), vals if vals.dtype.kind in "biuf" else vals.astype(str).astype(object),
                                      {"long_name": f"value of `{name}` chosen by nested tuning in each fold"})
        tuned["tune_r2"] = (("fold", "candidate"), np.asarray(inner_r2, dtype=np.float64),
                            {"long_name": "inner held-out-condition R² of each candidate", "units": "1"})
    out = xr.Dataset(
        {
            "r2": ((), float(r2), {"long_name": "R² of the pooled held-out predictions"}),
            "r2_null": (("shuffle",), null, {"long_name": "R² with the predictions permuted across conditions"}),
            "r2_p_value": ((), float(p_value), {"long_name": "fraction of the null at least as good (plus one)"}),
            "ceiling": ((), float(ceiling), {"long_name": "noise ceiling of the held-out R²", "ceiling_kind": kind}),
            "r2_of_ceiling": ((), float(r2 / ceiling) if np.isfinite(ceiling) and ceiling > 0 else float("nan"),
                              {"long_name": "R² as a fraction of the ceiling"}),
            "split_half_r2": ((), float(split_half_r2),
                              {"long_name": "R² of one half's averages predicting the other's (not a ceiling)"}),
            "r2_fold": (("fold",), np.asarray(fold_r2, dtype=np.float64), {"long_name": "R² of each fold"}),
            "prediction": (("condition", "time", "neuron"), pred_all,
                           {"long_name": "held-out prediction", "units": "normalised" if soft is not None else
                            recording["rate"].attrs.get("units", "")}),
            "target": (("condition", "time", "neuron"), target_all,
                       {"long_name": "held-out target", "units": "normalised" if soft is not None else
                        recording["rate"].attrs.get("units", "")}),
            **tuned,
        },
        coords={"fold": np.array([f.name for f in folds], dtype=object), "condition": np.array(conds, dtype=object),
                "time": ("time", d.time, {"units": "ms"}), "neuron": np.array(neurons, dtype=object),
                "scored": ("time", score_mask.astype(np.int8), {"long_name": "1 for the scored bins"}),
                "shuffle": ("shuffle", np.arange(len(null)), {"long_name": "shuffle index"})},
        attrs={"scheme": scheme, "model": type(estimator).__name__, "predicts": int(can_predict),
               "reason": "" if can_predict else "one tonic input per condition: an unseen condition has no input",
               "n_shuffles": int(n_shuffles), "seed": int(seed),
               "tuning": "none: the estimator's parameters as given" if grid is None else
               (f"nested: {len(grid)} candidates ({_describe(grid)}), "
                f"chosen in each fold by the pooled R² of inner held-out-condition folds by `{tune_by}` "
                f"({'all' if tune_folds is None else f'at most {tune_folds}'}) within its fitted part"),
               "wall_time_s": float(_time.perf_counter() - t_start)},
    )
    if grid is not None:
        out = out.assign_coords(candidate=("candidate", np.arange(len(grid)),
                                           {"long_name": "index of the candidate in the tuning grid",
                                            "values": _describe(grid)}))
    return out

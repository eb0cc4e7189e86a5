"""What ``neurobias fit-recordings`` and ``compare-recordings`` do: read, preprocess, fit, compare, write.

Names: :class:`~neurobias.fitting.TonicFit` is the estimator (its ``fit``
learns tonic inputs from a recording Dataset, as :func:`neurobias.fitting.fit_recordings`
does in one call); :func:`fit_recording_file` is the command that reads a
recording file and writes a fit directory
(:class:`~neurobias.workflows.rundir.FitDir`); :func:`compare_fit_dir`
compares a fit directory with its data.  Each function checks everything it
can before the first write, and every file is written atomically.
"""
from __future__ import annotations

import os
import time
from typing import Any

from collections.abc import Mapping

from neurobias.errors import ConfigError, InputError, coerce
from neurobias.workflows.output import Output
from neurobias.workflows.rundir import FitDir

__all__ = ["fit_recording_file", "compare_fit_dir", "apply_design"]


def _load(recording: str | os.PathLike, options: dict[str, Any]) -> Any:
    """The recording: a file read as ``[recording]`` says, or a public recording by name (``mante2013``)."""
    from pathlib import Path

    from neurobias.recordings import shared
    from neurobias.recordings.load import load_recording

    opts = {k: v for k, v in options.items() if k != "design"}
    name = str(recording)
    if not Path(name).exists() and name in shared.__all__:
        if opts:
            raise ConfigError(f"the public recording {name!r} is read by neurobias.recordings.{name}(); the "
                              f"[recording] options {sorted(opts)} do not apply to it")
        return getattr(shared, name)()
    for key in ("axes", "window_ms"):
        if isinstance(opts.get(key), list):
            opts[key] = tuple(opts[key])
    return load_recording(recording, **opts)


def _variable(rec: Any, name: str, key: str, dims: tuple[str, ...]) -> Any:
    if name not in rec.variables:
        raise ConfigError(f"config key `recording.design.{key}` names {name!r}, which the recording does not have "
                          f"(it has {', '.join(sorted(map(str, rec.variables)))})")
    var = rec[name]
    if var.dims != dims:
        raise InputError(f"`{name}` (config key `recording.design.{key}`) must have dims {dims}; got {var.dims}")
    return var.values


def apply_design(rec: Any, design: dict[str, Any] | None) -> Any:
    """``rec`` with the design of the ``[recording.design]`` table (unchanged without one).

    Context labels and stimulus values come from the recording's own
    variables (``context``, ``stimulus``) or from the table of conditions
    (``conditions``); the time course from ``window_ms`` or a variable
    (``course``). Errors name the config key and the condition.
    """
    from neurobias.recordings.dataset import condition_names
    from neurobias.recordings.design import set_design

    if design is None:
        return rec
    inputs = design["inputs"]
    if not inputs:
        raise ConfigError("config key `recording.design.inputs` must name the stimulus inputs, e.g. "
                          "inputs = [\"motion\", \"color\"]")
    lead = rec["rate"].dims[0]
    if design["conditions"] is not None:
        if design["context"] is not None or design["stimulus"] is not None:
            raise ConfigError("give the design either as `recording.design.conditions` (a table per condition) or "
                              "as `context` and `stimulus` (variables of the recording), not both")
        table = {str(k): v for k, v in design["conditions"].items()}
        conds = [str(c) for c in rec["condition"].values]
        labels, values = [], []
        for c in conds:
            if c not in table:
                raise InputError(f"condition {c!r} has no context label: `recording.design.conditions` has no "
                                 f"entry for it (it lists {len(table)} of the {len(condition_names(rec))} conditions)")
            row = coerce(table[c], Mapping, name=f"recording.design.conditions.{c}", error=ConfigError)
            if not str(row.get("context", "")).strip():
                raise InputError(f"condition {c!r} has no context label (`recording.design.conditions.{c}.context`)")
            stim = coerce(row.get("stimulus", ()), tuple[float, ...],
                          name=f"recording.design.conditions.{c}.stimulus", error=ConfigError)
            if len(stim) != len(inputs):
                raise InputError(f"condition {c!r}: `recording.design.conditions.{c}.stimulus` must have "
                                 f"{len(inputs)} values (one per input {', '.join(inputs)}); got {len(stim)}")
            labels.append(str(row["context"]))
            values.append(stim)
        unknown = sorted(set(table) - set(conds))
        if unknown:
            raise InputError(f"`recording.design.conditions` names conditions {unknown} that are not in the recording")
    else:
        if design["context"] is None or design["stimulus"] is None:
            raise ConfigError("the design needs `recording.design.context` and `recording.design.stimulus` (variables "
                              "of the recording) or `recording.design.conditions` (a table per condition)")
        if len(design["stimulus"]) != len(inputs):
            raise InputError(f"config key `recording.design.stimulus` must name {len(inputs)} variables (one per "
                             f"input {', '.join(inputs)}); got {len(design['stimulus'])}")
        labels = list(_variable(rec, design["context"], "context", (lead,)))
        values = [_variable(rec, v, "stimulus", (lead,)) for v in design["stimulus"]]
        values = list(zip(*values))
    if (design["window_ms"] is None) == (design["course"] is None):
        raise ConfigError("the design needs exactly one of `recording.design.window_ms` ([start, stop] in ms) and "
                          "`recording.design.course` (a variable (input, time) of the recording)")
    course = None if design["course"] is None else _variable(rec, design["course"], "course", ("input", "time"))
    return set_design(rec, context=labels, stimulus=values, inputs=inputs, window=design["window_ms"], course=course)


def _redesign(rec: Any, design: Any) -> Any:
    """``rec`` (after preprocessing) with ``design`` attached again, by condition name."""
    from neurobias.recordings.design import set_design

    conds = [str(c) for c in rec["condition"].values]
    idx = [design.conditions.index(c) for c in conds]
    return set_design(rec, context=[design.contexts[design.context_index[i]] for i in idx],
                      stimulus=design.stimulus[idx], inputs=design.inputs, course=design.course)


def _estimator(model: str, params: dict[str, Any], *, progress: bool, block: int = 5) -> Any:
    from neurobias.fitting.baselines import ConditionTonicFit
    from neurobias.fitting.context_fit import ContextFit, LowRankContextFit

    if model == "context":
        return ContextFit(**params, progress=progress)
    if model == "lowrank":
        return LowRankContextFit(**params, progress=progress)
    keep = ("n_units", "mode", "readout", "learn_x0", "learn_tonic", "g", "tau", "phi", "substeps", "steps", "lr",
            "weight_lr", "lr_min", "schedule", "clip_grad", "dtype", "seed")
    return ConditionTonicFit(**{k: params[k] for k in keep}, holdout_block=block, progress=progress)


def _crossval_plan(raw: Any, config: dict[str, Any]) -> dict[str, Any]:
    """Everything cross-validation needs, checked before anything is fitted or written."""
    from neurobias.fitting.baselines import BASELINES, make_baseline
    from neurobias.fitting.splits import condition_folds
    from neurobias.recordings.dataset import is_single_trial
    from neurobias.recordings.design import read_design
    from neurobias.recordings.preprocess import prepare_recording

    cv, pre = config["crossval"], config["preprocess"]
    if pre["mean_center"] not in ("none", "all") or pre["pca_components"] > 0:
        raise ConfigError("with [crossval], `preprocess.mean_center` must be 'none' or 'all' and "
                          "`preprocess.pca_components` 0: their statistics would include the held-out data "
                          "(soft normalisation and centring are computed on the fitted part of each fold)")
    base = prepare_recording(raw, trim=pre["trim"], smooth_ms=pre["smooth_ms"],
                             condition_average=pre["condition_average"])
    design = read_design(raw)
    base = _redesign(base, design)
    single = is_single_trial(base)
    schemes = []
    for scheme in cv["schemes"]:
        scheme = ("trials" if single else "time") if scheme == "auto" else scheme
        if scheme == "trials" and not single:
            raise InputError("`crossval.schemes` holds 'trials', which needs single trials; this recording has "
                             "condition averages (hold out 'conditions' or 'time')")
        if scheme not in schemes:
            schemes.append(scheme)
    if "conditions" in schemes:
        if (cv["by"] is None) == (cv["held_out"] is None):
            raise ConfigError("held-out conditions need exactly one of `crossval.by` (an input: one fold per value) "
                              "and `crossval.held_out` (the conditions each fold holds out)")
        if cv["by"] is not None and cv["by"] not in design.inputs:
            raise InputError(f"`crossval.by` must be one of the inputs {list(design.inputs)}; got {cv['by']!r}")
        condition_folds(design, by=cv["by"], held_out=cv["held_out"])  # a context with no training condition
    if "time" in schemes and not (base.sizes["time"] // cv["block"]) >= 2:
        raise InputError(f"`crossval.block` = {cv['block']} leaves no held-out time in {base.sizes['time']} bins")
    variance = None
    if cv["noise_variance"] is not None:
        name = cv["noise_variance"]
        if name not in raw.variables or raw[name].dims != ("condition", "time", "neuron"):
            raise InputError(f"`crossval.noise_variance` must name a variable (condition, time, neuron) of the "
                             f"recording; got {name!r}")
        variance = raw[name].sel(condition=list(design.conditions)).values
    params = {k: v for k, v in config["fit"].items() if k != "model"}
    models = {config["fit"]["model"]: _estimator(config["fit"]["model"], params, progress=False, block=cv["block"])}
    for name in cv["baselines"]:
        models[name] = make_baseline(name, params={**params, "progress": False}, holdout_block=cv["block"])
    for est in models.values():
        est.check_params()  # every hyperparameter in its domain, before any fit
    tuning = _tuning_plan(cv, design, models, fitted=config["fit"]["model"])
    descriptions = {config["fit"]["model"]: f"the fitted model ({config['fit']['model']})",
                    **{n: BASELINES[n] for n in cv["baselines"]}}
    soft = pre["soft_normalize"] if pre["soft_normalize"] > 0 else None
    return {"recording": base, "schemes": schemes, "models": models, "descriptions": descriptions,
            "noise_variance": variance, "soft": soft, "center": pre["mean_center"] == "all", "tuning": tuning}


def _tuning_plan(cv: dict[str, Any], design: Any, models: dict[str, Any], *, fitted: str) -> dict[str, Any]:
    """Per model, the nested-tuning options of :func:`cross_validate` (empty: fitted as given), checked up front."""
    from neurobias.fitting.crossval import tuning_candidates

    if cv["tune"] is None:
        if cv["tune_by"] is not None or cv["tune_folds"] is not None:
            raise ConfigError("`crossval.tune_by` and `crossval.tune_folds` need `crossval.tune` (the candidates)")
        return {name: {} for name in models}
    tune_by = cv["tune_by"] if cv["tune_by"] is not None else cv["by"]
    if tune_by is None:
        raise ConfigError("`crossval.tune` needs `crossval.tune_by` (an input whose values define the inner "
                          "held-out-condition folds) when the folds are not given by `crossval.by`")
    if tune_by not in design.inputs:
        raise InputError(f"`crossval.tune_by` must be one of the inputs {list(design.inputs)}; got {tune_by!r}")
    if not getattr(models[fitted], "predicts_unseen_conditions", True):
        raise ConfigError(f"`crossval.tune` chooses parameters by held-out conditions, which the fitted model "
                          f"({fitted}: one tonic input per condition) cannot predict")
    tuning_candidates(models[fitted], cv["tune"])  # the fitted model must have every tuned parameter
    out = {}
    for name, est in models.items():
        names = set(cv["tune"]) if isinstance(cv["tune"], dict) else {k for c in cv["tune"] for k in c}
        if getattr(est, "predicts_unseen_conditions", True) and names <= set(est.get_params()):
            out[name] = dict(tune=cv["tune"], tune_by=tune_by, tune_folds=cv["tune_folds"])
        else:
            out[name] = {}
    return out


def _crossval(plan: dict[str, Any], config: dict[str, Any], toml: str) -> Any:
    """The table of models x schemes (``crossval.nc``)."""
    import numpy as np
    import xarray as xr

    from neurobias.fitting.crossval import cross_validate

    cv = config["crossval"]
    names, schemes = list(plan["models"]), plan["schemes"]
    shape = (len(names), len(schemes))
    r2, p, frac, pred, wall = (np.full(shape, np.nan) for _ in range(5))
    null = np.full((*shape, cv["n_shuffles"]), np.nan)
    ceiling, split_half = np.full(len(schemes), np.nan), np.full(len(schemes), np.nan)
    kinds = [""] * len(schemes)
    folds, fold_r2 = None, None
    tuned = _TuningTable(len(names), len(schemes))
    for i, name in enumerate(names):
        for j, scheme in enumerate(schemes):
            res = cross_validate(plan["models"][name], plan["recording"], scheme=scheme, by=cv["by"],
                                 held_out=cv["held_out"], block=cv["block"], soft=plan["soft"],
                                 center=plan["center"], noise_variance=plan["noise_variance"],
                                 n_shuffles=cv["n_shuffles"], seed=int(config["seed"]),
                                 **plan["tuning"][name])
            tuned.record(i, j, res)
            r2[i, j], p[i, j], frac[i, j] = float(res["r2"]), float(res["r2_p_value"]), float(res["r2_of_ceiling"])
            null[i, j], pred[i, j], wall[i, j] = res["r2_null"].values, res.attrs["predicts"], res.attrs["wall_time_s"]
            ceiling[j], split_half[j] = float(res["ceiling"]), float(res["split_half_r2"])
            kinds[j] = str(res["ceiling"].attrs["ceiling_kind"])
            if scheme == "conditions":
                if folds is None:
                    folds, fold_r2 = [str(f) for f in res["fold"].values], np.full((len(names), res.sizes["fold"]),
                                                                                   np.nan)
                fold_r2[i] = res["r2_fold"].values
    null_mean = np.full(shape, np.nan)
    for i, j in zip(*np.nonzero(pred.astype(bool))):
        null_mean[i, j] = null[i, j].mean() if null.shape[2] else np.nan
    r2_long = "R² of the pooled held-out predictions"
    data = {
        "r2": (("model", "scheme"), r2, {"long_name": r2_long}),
        "r2_null": (("model", "scheme", "shuffle"), null,
                    {"long_name": "held-out R² with the predictions permuted across conditions"}),
        "r2_null_mean": (("model", "scheme"), null_mean,
                         {"long_name": "mean of the shuffled-condition null"}),
        "r2_p_value": (("model", "scheme"), p, {"long_name": "fraction of the null at least as good (plus one)"}),
        "ceiling": (("scheme",), ceiling, {"long_name": "noise ceiling of the held-out R²"}),
        "ceiling_kind": (("scheme",), np.array(kinds, dtype=object), {"long_name": "what the ceiling is"}),
        "split_half_r2": (("scheme",), split_half,
                          {"long_name": "R² of one half's averages predicting the other's (not a ceiling)"}),
        "r2_of_ceiling": (("model", "scheme"), frac, {"long_name": "held-out R² as a fraction of the ceiling"}),
        "predicts": (("model", "scheme"), pred.astype(np.int8),
                     {"long_name": "1 when the model can predict the held-out entries (0: no input for an "
                                   "unseen condition)"}),
        "wall_time_s": (("model", "scheme"), wall, {"long_name": "wall time of the cross-validation", "units": "s"}),
        "description": (("model",), np.array([plan["descriptions"][n] for n in names], dtype=object),
                        {"long_name": "what the model is"}),
    }
    if folds is not None:
        data["r2_fold"] = (("model", "fold"), fold_r2, {"long_name": "held-out-condition R² of each fold"})
    coords = {"model": ("model", np.array(names, dtype=object), {"long_name": "fitted model, then the baselines"}),
              "scheme": ("scheme", np.array(schemes, dtype=object), {"long_name": "what is held out"}),
              "shuffle": ("shuffle", np.arange(null.shape[2]), {"long_name": "shuffle index"})}
    if folds is not None:
        coords["fold"] = ("fold", np.array(folds, dtype=object), {"long_name": "held-out conditions of each fold"})
    data.update(tuned.variables())
    coords.update(tuned.coords())
    return xr.Dataset(data, coords=coords, attrs={"n_shuffles": int(cv["n_shuffles"]), "seed": int(config["seed"]),
                                                  "config": toml})


class _TuningTable:
    """Collects the nested-tuning results of every (model, scheme) for ``crossval.nc``."""

    def __init__(self, n_models: int, n_schemes: int) -> None:
        self.shape = (n_models, n_schemes)
        self.descriptions = [[""] * n_schemes for _ in range(n_models)]
        self.chosen: dict[tuple[int, int], dict[str, Any]] = {}
        self.scores: dict[tuple[int, int], Any] = {}
        self.candidates = ""

    def record(self, i: int, j: int, res: Any) -> None:
        self.descriptions[i][j] = str(res.attrs["tuning"])
        if "tune_r2" in res:
            self.chosen[i, j] = {str(v)[6:]: res[v].values for v in res.data_vars if str(v).startswith("tuned_")}
            self.scores[i, j] = res["tune_r2"].values
            self.candidates = str(res["candidate"].attrs["values"])

    def variables(self) -> dict[str, Any]:
        import numpy as np

        out: dict[str, Any] = {"tuning": (("model", "scheme"), np.array(self.descriptions, dtype=object),
                                          {"long_name": "how the model's parameters were chosen in each fold"})}
        if not self.chosen:
            return out
        n_folds = max(len(s) for s in self.scores.values())
        n_cand = max(s.shape[1] for s in self.scores.values())
        names = list(next(iter(self.chosen.values())))
        r2 = np.full((*self.shape, n_folds, n_cand), np.nan)
        for (i, j), s in self.scores.items():
            r2[i, j, :s.shape[0], :s.shape[1]] = s
        out["tune_r2"] = (("model", "scheme", "outer_fold", "candidate"), r2,
                          {"long_name": "inner held-out-condition R² of each tuning candidate", "units": "1"})
        for name in names:
            values = [v[name] for v in self.chosen.values()]
            numeric = all(np.asarray(v).dtype.kind in "biuf" for v in values)
            arr = np.full((*self.shape, n_folds), np.nan) if numeric else np.full((*self.shape, n_folds), "", object)
            for (i, j), v in self.chosen.items():
                arr[i, j, :len(v[name])] = v[name] if numeric else np.asarray(v[name]).astype(str)
            out[f"tuned_{name}"] = (("model", "scheme", "outer_fold"), arr,
                                    {"long_name": f"value of `{name}` chosen by nested tuning in each outer fold "
                                                  "(missing where the model was not tuned)"})
        return out

    def coords(self) -> dict[str, Any]:
        import numpy as np

        if not self.chosen:
            return {}
        n_folds = max(len(s) for s in self.scores.values())
        n_cand = max(s.shape[1] for s in self.scores.values())
        return {"outer_fold": ("outer_fold", np.arange(n_folds),
                               {"long_name": "outer fold index (held-out conditions: the order of `fold`; time and "
                                             "trials: one fold)"}),
                "candidate": ("candidate", np.arange(n_cand),
                              {"long_name": "index of the tuning candidate", "values": self.candidates})}


def fit_recording_file(recording: str | os.PathLike, *, config: dict[str, Any], out: str | os.PathLike,
                       progress: bool = True, figures: bool = True) -> Output:
    """Read RECORDING, preprocess, fit, cross-validate, and write the fit directory ``out``.

    Parameters
    ----------
    recording : path or str
        A recording file, read as ``config["recording"]`` says, or the name of
        a public recording of :mod:`neurobias.recordings.shared` (``mante2013``, ...).
    config : dict
        From :func:`neurobias.config.fit.load_fit_config`: ``[fit] model``
        picks the estimator (``condition``: :class:`~neurobias.fitting.TonicFit`,
        ``context``: :class:`~neurobias.fitting.ContextFit`, ``lowrank``:
        :class:`~neurobias.fitting.LowRankContextFit`); ``[crossval]``, when
        present, scores the model and its baselines on held-out data.
    out : path
        Output directory (created).
    progress, figures : bool

    Returns
    -------
    Output
        The ``fit`` Dataset, the files written (recording, circuit, fit,
        crossval, figures) and a summary.

    Raises
    ------
    InputError, ConfigError
        Everything about the design (a condition without a context label,
        stimulus values of the wrong length), the folds (a context left with
        no training condition), the models and the recording is checked
        before the first write: nothing is written then.
    """
    from neurobias.config.fit import fit_config_to_toml
    from neurobias.fitting.estimator import TonicFit
    from neurobias.fitting.fit import context_fit_to_dataset, fit_to_dataset
    from neurobias.io import save_circuit
    from neurobias.io.circuit import provenance_attrs
    from neurobias.io.hashing import sha256_array
    from neurobias.io.files import check_writable_dir
    from neurobias.recordings.design import has_design, read_design
    from neurobias.recordings.preprocess import prepare_recording

    fit_dir = FitDir(out)
    out = fit_dir.path
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} exists and is not a directory")
    raw = apply_design(_load(recording, config["recording"]), config["recording"].get("design"))
    model = config["fit"]["model"]
    params = {k: v for k, v in config["fit"].items() if k != "model"}
    design = None
    if model != "condition" or config["crossval"] is not None:
        if not has_design(raw):
            raise InputError(f"`fit.model = {model!r}` and [crossval] need the context x stimulus design of every "
                             "condition: give it in [recording.design] (see docs/recordings.md)")
        design = read_design(raw)
    plan = _crossval_plan(raw, config) if config["crossval"] is not None else None
    rec = prepare_recording(raw, **config["preprocess"])
    if design is not None:
        rec = _redesign(rec, design)
    toml = fit_config_to_toml(config)
    if model == "condition":
        est = TonicFit(**params, progress=progress).fit(rec)
        ds = fit_to_dataset(est, config=toml)
    else:
        est = _estimator(model, params, progress=progress).fit(rec)
        ds = context_fit_to_dataset(est, rec, config=toml)
    for key in ("units", "source", "citation", "licence"):
        ds.attrs[f"recording_{key}"] = str(rec.attrs.get(key, ""))
    ds.attrs.update(provenance_attrs(est.circuit_, config_toml=toml, seed=int(config["seed"]), recording=rec))
    ds.attrs["source_recording_sha256"] = sha256_array(raw["rate"].values)
    cv = None
    if plan is not None:
        cv = _crossval(plan, config, toml)
        cv.attrs.update(provenance_attrs(est.circuit_, config_toml=toml, seed=int(config["seed"]), recording=rec))
    out.mkdir(parents=True, exist_ok=True)
    check_writable_dir(out)
    files = {
        "recording": fit_dir.write("recording", rec.assign_attrs(
            config=toml, run_seed=int(config["seed"]), source_recording_sha256=ds.attrs["source_recording_sha256"])),
        "circuit": save_circuit(est.circuit_, fit_dir.file("circuit"), config_toml=toml),
        "fit": fit_dir.write("fit", ds),
    }
    if cv is not None:
        files["crossval"] = fit_dir.write("crossval", cv)
    if figures:
        from neurobias.plotting.recordings import plot_fit_loss, plot_r2_neurons

        files.update(fit_dir.write_figures({"r2_neurons": plot_r2_neurons(ds), "fit_loss": plot_fit_loss(ds)}))
    from neurobias.workflows.report import summarize_context_fit, summarize_crossval, summarize_fit

    summary = summarize_fit(est, ds) if model == "condition" else summarize_context_fit(ds)
    if cv is not None:
        summary += "\n" + summarize_crossval(cv)
    return Output(ds, files, summary)


def compare_fit_dir(fit_dir: str | os.PathLike, *, compare: dict[str, Any] | None = None,
                          progress: bool = True, figures: bool = True) -> Output:
    """Compare the fit in ``fit_dir`` with its data; write ``comparison.nc``, figures and ``report.html``.

    Parameters
    ----------
    fit_dir : path
        A directory written by :func:`fit_recording_file`.
    compare : dict, optional
        ``[compare]`` options (default: those stored in ``fit.nc``'s config).
    progress, figures : bool

    Returns
    -------
    Output
        The ``recording_comparison`` Dataset, the files written and a summary (one line per metric).
    """
    import tomllib

    from neurobias.fitting.compare import compare_fit
    from neurobias.config.fit import COMPARE_DEFAULTS
    from neurobias.io import open_circuit
    from neurobias.io.circuit import provenance_attrs

    t_start = time.perf_counter()
    d = FitDir(fit_dir)
    if not d.has("fit"):
        raise InputError(f"{d.path} has no {d.file('fit').name}; run `{d.command('fit')}` first")
    fit = d.read("fit")
    circuit = open_circuit(d.file("circuit"))
    opts = dict(COMPARE_DEFAULTS)
    stored = tomllib.loads(fit.attrs.get("config", "") or "").get("compare", {})
    opts.update(stored)
    opts.update(compare or {})
    cmp = compare_fit(fit, circuit=circuit, metrics=tuple(opts["metrics"]), n_shuffles=int(opts["n_shuffles"]),
                      dsa_shuffles=int(opts["dsa_shuffles"]), n_components=int(opts["n_components"]),
                      fp_candidates=int(opts["fp_candidates"]), seed=int(fit.attrs["seed"]), progress=progress)
    cmp.attrs.update(provenance_attrs(circuit, config_toml=str(fit.attrs.get("config", "")),
                                      seed=int(fit.attrs.get("run_seed", fit.attrs["seed"])),
                                      recording=d.read_if_present("recording")))
    if "recording_sha256" not in cmp.attrs and "recording_sha256" in fit.attrs:
        cmp.attrs["recording_sha256"] = str(fit.attrs["recording_sha256"])
    cmp.attrs["wall_time_s"] = time.perf_counter() - t_start
    files = {"comparison": d.write("comparison", cmp)}
    figs: dict[str, Any] = {}
    if figures:
        from neurobias.plotting.recordings import plot_fit_loss, plot_metrics_null, plot_pcs, plot_r2_neurons

        figs = {"pcs": plot_pcs(cmp), "r2_neurons": plot_r2_neurons(fit), "metrics_null": plot_metrics_null(cmp),
                "fit_loss": plot_fit_loss(fit)}
        files.update(d.write_figures(figs))
    from neurobias.workflows.report import render_recording_report, summarize_recording_comparison

    files["report"] = d.write_text("report", render_recording_report(fit, cmp, figures=figs, name=d.path.name))
    return Output(cmp, files, summarize_recording_comparison(fit, cmp))

"""``neurobias fit-recordings`` with the context model: the design from the config, crossval.nc, bad inputs."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neurobias.io import read_dataset, write_dataset

CONDITIONS = [f"{ctx}{k}" for ctx in "AB" for k in range(3)]
STIM = {"A0": (-1.0, 0.5), "A1": (0.0, 0.0), "A2": (1.0, -0.5), "B0": (-1.0, 0.5), "B1": (0.0, 0.0),
        "B2": (1.0, -0.5)}


def _recording(path: Path) -> Path:
    """Condition averages (6 conditions, 2 contexts) from a known 12-unit circuit, written WITHOUT a design."""
    from neurobias import Circuit
    from neurobias.fitting.synthetic import synthetic_context_recording

    circuit = Circuit.random(12, n_inputs=2, n_outputs=0, g=1.2, tau=20.0, seed=0, input_names=("a", "b"))
    rng = np.random.default_rng(1)
    rec = synthetic_context_recording(
        circuit, rng.normal(0.0, 0.8, (2, 12)), contexts=("A", "B"), conditions=CONDITIONS,
        context=[c[0] for c in CONDITIONS], stimulus=[STIM[c] for c in CONDITIONS], n_time=12, bin_ms=5.0,
        window=(0.0, 30.0), units=np.arange(5))
    rec = rec.drop_vars([v for v in ("context", "stimulus", "input", "stimulus_course") if v in rec.variables])
    write_dataset(rec, path, kind="recording")
    return path


def _config(path: Path, *, rows: dict | None = None, crossval: str = "", fit: str = "", by: str = 'by = "a"') -> Path:
    rows = {c: {"context": c[0], "stimulus": list(STIM[c])} for c in CONDITIONS} if rows is None else rows
    table = "\n".join(f'{c} = {{ context = "{r["context"]}", stimulus = {list(r["stimulus"])} }}' for c, r in rows.items())
    path.write_text(f"""seed = 1
[recording.design]
inputs = ["a", "b"]
window_ms = [0.0, 30.0]
[recording.design.conditions]
{table}
[fit]
model = "context"
n_units = 16
steps = 3
{fit}
[crossval]
schemes = ["conditions", "time"]
{by}
block = 3
n_shuffles = 4
{crossval}
""", encoding="utf-8")
    return path


def test_context_fit_writes_fit_and_crossval_with_long_names(tmp_path: Path, run_cli) -> None:
    rec = _recording(tmp_path / "rec.nc")
    cfg = _config(tmp_path / "fit.toml", crossval='baselines = ["condition_tonic", "shared_tonic", "linear"]')
    out = tmp_path / "out"
    rc, stdout, stderr = run_cli(["fit-recordings", rec, "--config", cfg, "--out", out, "--no-progress",
                                  "--no-figures"])
    assert rc == 0, stderr
    fit = read_dataset(out / "fit.nc", kind="fit")
    assert fit.attrs["model"] == "ContextFit" and fit.sizes["context"] == 2 and fit.sizes["condition"] == 6
    # every condition carries its context's tonic input
    for c, ctx in zip(fit["condition"].values, fit["condition_context"].values):
        k = list(fit["context"].values).index(ctx)
        np.testing.assert_array_equal(fit["tonic"].sel(condition=c).values, fit["tonic_context"].values[k])
    cv = read_dataset(out / "crossval.nc", kind="crossval")
    assert list(cv["model"].values) == ["context", "condition_tonic", "shared_tonic", "linear"]
    assert list(cv["scheme"].values) == ["conditions", "time"]
    assert cv.sizes["shuffle"] == 4 and cv.sizes["fold"] == 3  # one fold per value of input a
    # one tonic input per condition cannot predict a held-out condition; it can predict held-out time
    i = list(cv["model"].values).index("condition_tonic")
    assert int(cv["predicts"][i, 0]) == 0 and np.isnan(float(cv["r2"][i, 0]))
    assert int(cv["predicts"][i, 1]) == 1 and np.isfinite(float(cv["r2"][i, 1]))
    assert np.all(np.isfinite(cv["r2"].values[[0, 2, 3]]))
    for ds in (fit, cv):
        for name, var in ds.variables.items():
            if name not in ds.dims:
                assert var.attrs.get("long_name"), name
    assert "held-out conditions" in stdout and "cannot predict held-out conditions" in stdout


@pytest.mark.parametrize(("change", "message"), [
    ({"rows": {c: {"context": c[0], "stimulus": list(STIM[c])} for c in CONDITIONS[1:]}},
     "condition 'A0' has no context label"),
    ({"rows": {c: {"context": "" if c == "B1" else c[0], "stimulus": list(STIM[c])} for c in CONDITIONS}},
     "condition 'B1' has no context label"),
    ({"rows": {c: {"context": c[0], "stimulus": list(STIM[c])[:1] if c == "A2" else list(STIM[c])}
               for c in CONDITIONS}},
     "condition 'A2': `recording.design.conditions.A2.stimulus` must have 2 values (one per input a, b); got 1"),
    ({"crossval": 'by = "a"'}, "is not valid TOML"),  # a key given twice
])
def test_bad_design_is_one_line_exit_2_and_nothing_written(tmp_path: Path, run_cli, change: dict,
                                                             message: str) -> None:
    rec = _recording(tmp_path / "rec.nc")
    cfg = _config(tmp_path / "fit.toml", **change)
    out = tmp_path / "never"
    rc, _, stderr = run_cli(["fit-recordings", rec, "--config", cfg, "--out", out, "--no-progress"])
    assert rc == 2 and message in stderr, stderr
    assert len(stderr.strip().splitlines()) == 1
    assert not out.exists()


@pytest.mark.parametrize(("overrides", "message"), [
    (['crossval.held_out=[["A0", "A1", "A2"]]'], "leaves context 'A' with no training condition"),
    (["fit.model=nope"], "`fit.model` must be one of 'condition', 'context', 'lowrank'; got 'nope'"),
    (['crossval.baselines=["shared_tonic", "lowrank9"]'], "`crossval.baselines` must be one of"),
    (["crossval.by=c"], "`crossval.by` must be one of the inputs ['a', 'b']; got 'c'"),
    (['crossval.schemes=["trials"]'], "needs single trials"),
    (["fit.holdout=time"], "unknown config key `fit.holdout`"),
    (["fit.steps=-1"], "`steps` must be an int >= 0; got -1"),
    (["preprocess.pca_components=2"], "their statistics would include the held-out data"),
])
def test_bad_folds_models_and_keys_are_one_line_exit_2(tmp_path: Path, run_cli, overrides: list,
                                                        message: str) -> None:
    rec = _recording(tmp_path / "rec.nc")
    cfg = _config(tmp_path / "fit.toml", by="" if any("held_out" in o for o in overrides) else 'by = "a"')
    out = tmp_path / "never"
    sets = [x for o in overrides for x in ("--set", o)]
    rc, _, stderr = run_cli(["fit-recordings", rec, "--config", cfg, "--out", out, "--no-progress", *sets])
    assert rc == 2 and message in stderr, stderr
    assert len(stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_existing_output_directory_is_left_untouched(tmp_path: Path, run_cli) -> None:
    rec = _recording(tmp_path / "rec.nc")
    rows = {c: {"context": c[0], "stimulus": list(STIM[c])} for c in CONDITIONS[1:]}
    cfg = _config(tmp_path / "fit.toml", rows=rows)
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine", encoding="utf-8")
    rc, _, stderr = run_cli(["fit-recordings", rec, "--config", cfg, "--out", out])
    assert rc == 2 and "has no context label" in stderr
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


def test_context_config_defaults_are_the_estimators_defaults() -> None:
    import inspect

    from neurobias.config.fit import CONTEXT_FIT_KEYS, LOWRANK_FIT_KEYS
    from neurobias.errors import coerce
    from neurobias.fitting import ContextFit, LowRankContextFit

    for cls, keys in ((ContextFit, CONTEXT_FIT_KEYS), (LowRankContextFit, LOWRANK_FIT_KEYS)):
        params = inspect.signature(cls.__init__).parameters
        assert {k: p.default for k, p in params.items() if k not in ("self", "circuit", "units", "device",
                                                                      "progress")} == \
            {k: d for k, (_, d) in keys.items()}
        for key, (hint, default) in keys.items():
            assert coerce(default, hint, name=key) == default


def test_shipped_mante_config_parses_and_names_existing_baselines() -> None:
    from neurobias.config.fit import fit_config_to_toml, load_fit_config

    cfg = load_fit_config(Path(__file__).resolve().parents[1] / "models" / "fit_mante.toml")
    assert cfg["fit"]["model"] == "context" and cfg["fit"]["n_units"] == 512 and cfg["fit"]["mode"] == "bias"
    assert cfg["crossval"]["by"] == "motion" and "shared_tonic" in cfg["crossval"]["baselines"]
    assert load_fit_config(None, text=fit_config_to_toml(cfg)) == cfg
    # the config tunes the same candidates as the analysis script whose numbers results.md shows
    import importlib.util

    spec = importlib.util.spec_from_file_location("mante_fit", Path(__file__).resolve().parents[1] / "analyses" /
                                                  "mante_fit.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert [dict(c) for c in cfg["crossval"]["tune"]] == script.TUNE_RECURRENT
    assert cfg["crossval"]["tune_folds"] == 2


def test_parallel_integration_under_no_grad_with_parameters(monkeypatch) -> None:
    """A fit's last loss is evaluated under no_grad on parameters that require grad; the row-parallel integration
    (worker threads start with grad mode on) must give the serial result, not fail."""
    import importlib

    import torch

    from neurobias import Circuit

    simulate = importlib.import_module("neurobias.circuit.simulate")

    c = Circuit.random(256, n_inputs=0, n_outputs=0, g=1.2, tau=20.0, seed=0)
    x0 = torch.nn.Parameter(torch.tensor(np.random.default_rng(0).normal(0, 0.5, (64, 256))))
    ext = torch.zeros(64, 5, 256, dtype=torch.float64)
    monkeypatch.setattr(simulate, "CPU_THREADS", 2)
    assert len(getattr(simulate, "_row_blocks")(64, 256, torch.device("cpu"), 0.0)) == 2  # the parallel path
    with torch.no_grad():
        par = simulate.integrate(x0, ext, c.dynamics(), dt=1.0, method="euler")
    monkeypatch.setattr(simulate, "CPU_THREADS", 1)
    with torch.no_grad():
        ser = simulate.integrate(x0, ext, c.dynamics(), dt=1.0, method="euler")
    torch.testing.assert_close(par, ser, rtol=0, atol=0)


def test_controls_for_what_was_learned_freeze_the_other_parameters(tmp_path: Path) -> None:
    """Tonic inputs only: the initial states stay zero; initial states only: the tonic inputs stay zero."""
    from neurobias.fitting import TonicFit

    rec = read_dataset(_recording(tmp_path / "rec.nc"))
    kw = dict(n_units=16, steps=4, holdout="time", holdout_block=3, n_shuffles=0, progress=False)
    both = TonicFit(**kw).fit(rec)
    tonic_only = TonicFit(**kw, learn_x0=False).fit(rec)
    x0_only = TonicFit(**kw, learn_tonic=False).fit(rec)
    assert np.abs(both.tonic_).max() > 0 and np.abs(both.x0_).max() > 0
    assert np.abs(tonic_only.tonic_).max() > 0 and not np.any(tonic_only.x0_)
    assert np.abs(x0_only.x0_).max() > 0 and not np.any(x0_only.tonic_)
    with pytest.raises(Exception, match="leave nothing to learn"):
        TonicFit(**kw, learn_x0=False, learn_tonic=False).fit(rec)


def test_every_named_baseline_builds_and_unknown_names_are_refused() -> None:
    from neurobias.errors import InputError
    from neurobias.fitting.baselines import BASELINES, make_baseline

    params = {"n_units": 16, "steps": 2, "tau": 40.0, "mode": "bias", "readout": "subset", "seed": 3,
              "input_scale": 0.5}
    for name in BASELINES:
        est = make_baseline(name, params=params, holdout_block=2)
        est.check_params()
        clone = type(est)(**est.get_params())  # the scikit-learn protocol cross-validation relies on
        assert clone.get_params() == est.get_params()
        if "n_units" in est.get_params():
            assert est.get_params()["n_units"] == 16 and est.get_params()["seed"] == 3
    assert make_baseline("lowrank2", params=params).rank == 2
    assert make_baseline("condition_initial_state_only", params=params).learn_tonic is False
    with pytest.raises(InputError, match="unknown baseline 'lowrank9'"):
        make_baseline("lowrank9", params=params)


def test_nested_tuning_from_the_config_is_written_per_model_and_fold(tmp_path: Path, run_cli) -> None:
    rec = _recording(tmp_path / "rec.nc")
    cfg = _config(tmp_path / "fit.toml", crossval='baselines = ["condition_tonic", "shared_tonic", "linear"]\n'
                                                  'tune = [{ tau = 10.0 }, { tau = 40.0, g = 1.2 }]\ntune_folds = 2')
    out = tmp_path / "out"
    rc, _, stderr = run_cli(["fit-recordings", rec, "--config", cfg, "--out", out, "--no-progress", "--no-figures"])
    assert rc == 0, stderr
    cv = read_dataset(out / "crossval.nc", kind="crossval")
    models = list(cv["model"].values)
    assert cv.sizes["candidate"] == 2 and cv["candidate"].attrs["values"] == "tau=10.0, g=1.5; tau=40.0, g=1.2"
    # the context models have tau and g: tuned in every outer fold of both schemes, with an inner R² per candidate
    for name in ("context", "shared_tonic"):
        i = models.index(name)
        assert "nested: 2 candidates" in str(cv["tuning"].values[i, 0])
        chosen = cv["tuned_tau"].values[i, 0, :cv.sizes["fold"]]
        assert set(chosen) <= {10.0, 40.0}
        assert np.all(np.isfinite(cv["tune_r2"].values[i, 0, :cv.sizes["fold"]]))
        # the time scheme has one outer fold
        assert np.isfinite(cv["tuned_tau"].values[i, 1, 0]) and np.all(np.isnan(cv["tuned_tau"].values[i, 1, 1:]))
        # the value of g goes with the chosen candidate
        np.testing.assert_array_equal(cv["tuned_g"].values[i, 0, :cv.sizes["fold"]],
                                      np.where(chosen == 10.0, 1.5, 1.2))
    # one tonic per condition cannot be tuned by held-out conditions; the linear system has no tau: both as given
    for name in ("condition_tonic", "linear"):
        i = models.index(name)
        assert str(cv["tuning"].values[i, 0]).startswith("none") and np.all(np.isnan(cv["tuned_tau"].values[i]))
    for name, var in cv.variables.items():
        if name not in cv.dims:
            assert var.attrs.get("long_name"), name


@pytest.mark.parametrize(("tune", "message"), [
    ('tune = { nope = [1.0] }', "`tune` names a parameter the estimator does not have: 'nope'"),
    ('tune = { tau = [10.0] }\ntune_by = "c"', "`crossval.tune_by` must be one of the inputs ['a', 'b']; got 'c'"),
    ('tune_folds = 2', "`crossval.tune_by` and `crossval.tune_folds` need `crossval.tune`"),
    ('tune = { tau = [10.0] }\ntune_folds = 1', "config key `crossval.tune_folds` must be an int >= 2; got 1"),
    ('tune = []', "`tune` must be a non-empty mapping"),
])
def test_bad_tuning_options_are_one_line_exit_2(tmp_path: Path, run_cli, tune: str, message: str) -> None:
    rec = _recording(tmp_path / "rec.nc")
    cfg = _config(tmp_path / "fit.toml", crossval=tune)
    out = tmp_path / "never"
    rc, _, stderr = run_cli(["fit-recordings", rec, "--config", cfg, "--out", out, "--no-progress"])
    assert rc == 2 and message in stderr, stderr
    assert len(stderr.strip().splitlines()) == 1
    assert not out.exists()

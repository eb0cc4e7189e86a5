"""The context as a tonic input: design, ContextFit, baselines, held-out-condition cross-validation, ceiling.

Ground truths come from outside the code under test: a known teacher circuit
(recovery), a linear system simulated here with numpy (the least-squares
baseline), the closed-form reliability of a known signal plus known noise
(the ceiling), and the teacher's own fixed points (fixed-point recovery).
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from conftest import recording_path

from neurobias.analysis.fixed_points import find_fixed_points
from neurobias.circuit.circuit import Circuit
from neurobias.errors import InputError
from neurobias.fitting.baselines import ConditionTonicFit, LinearDynamicalFit
from neurobias.fitting.context_fit import ContextFit, LowRankContextFit, auto_substeps
from neurobias.fitting.crossval import cross_validate, spearman_brown
from neurobias.fitting.splits import ConditionFold, check_fold, condition_folds
from neurobias.fitting.synthetic import synthetic_context_recording
from neurobias.recordings.dataset import make_recording
from neurobias.recordings.design import make_design, read_design, set_design
from neurobias.recordings.shared import mante2013

LEVELS = (-1.0, 0.0, 1.0)


def _teacher() -> tuple[Circuit, np.ndarray]:
    """20 units, two stimulus inputs; context A (weak tonic input) has 3 fixed points (1 stable), B (strong) 1."""
    circuit = Circuit.random(20, n_inputs=2, n_outputs=1, g=1.5, tau=50.0, input_names=("a", "b"), seed=1)
    rng = np.random.default_rng(101)
    return circuit, np.stack([0.1 * rng.normal(size=20), 1.0 * rng.normal(size=20)])


def _grid() -> tuple[list[str], list[str], np.ndarray]:
    conds, ctx, stim = [], [], []
    for k in ("A", "B"):
        for a, b in itertools.product(LEVELS, LEVELS):
            conds.append(f"{k} a={a:g} b={b:g}")
            ctx.append(k)
            stim.append([a, b])
    return conds, ctx, np.array(stim)


def _teacher_recording(**kw):
    circuit, tonic = _teacher()
    conds, ctx, stim = _grid()
    opts = dict(n_time=20, bin_ms=20.0, window=(0.0, 200.0), substeps=2, n_trials=8, noise_std=0.3, seed=0)
    opts.update(kw)
    return synthetic_context_recording(circuit, tonic, contexts=["A", "B"], conditions=conds, context=ctx,
                                       stimulus=stim, **opts)


def _structure(fp, context):
    sel = (fp["context"].values == context) & (fp["kind"].values == "fixed")
    return sorted(str(s) for s in fp["stability"].values[sel])


# ------------------------------------------------------------------ recovery
def test_synthetic_recovery_of_held_out_conditions_and_fixed_points():
    """Held-out conditions at >= 0.9 of the corrected ceiling; the no-context-tonic baseline clearly worse;
    the fitted tonic inputs give each context the teacher's fixed points and stabilities."""
    circuit, tonic = _teacher()
    rec = _teacher_recording()
    units = np.arange(20)
    fit = ContextFit(circuit=circuit, units=units, steps=150, lr=0.05, seed=0)
    shared = ContextFit(circuit=circuit, units=units, steps=150, lr=0.05, seed=0, tonic="shared")
    cv = cross_validate(fit, rec, scheme="conditions", by="a", n_shuffles=50, seed=0)
    cv_shared = cross_validate(shared, rec, scheme="conditions", by="a", n_shuffles=50, seed=0)
    assert "Spearman-Brown" in cv["ceiling"].attrs["ceiling_kind"]
    assert 0.5 < float(cv["ceiling"]) < 0.99  # a noisy recording: the ceiling matters
    assert float(cv["split_half_r2"]) < float(cv["ceiling"])  # split-half R² counts both halves' noise
    assert float(cv["r2_of_ceiling"]) >= 0.9
    assert float(cv["r2_p_value"]) <= 1 / 51 + 1e-12
    assert float(cv_shared["r2_of_ceiling"]) <= float(cv["r2_of_ceiling"]) - 0.25
    # fixed points with the stimulus off, teacher vs fitted on all conditions
    model = ContextFit(circuit=circuit, units=units, steps=150, lr=0.05, seed=0).fit(rec)
    assert model.best_step_ >= 0 and model.loss_[model.best_step_] == model.loss_.min()
    true_fp = find_fixed_points(circuit, tonic, contexts=["A", "B"], n_candidates=128, seed=0)
    fit_fp = find_fixed_points(model.circuit_, model.tonic_dataarray(), n_candidates=128, seed=0)
    for ctx in ("A", "B"):
        assert _structure(fit_fp, ctx) == _structure(true_fp, ctx)
    assert _structure(true_fp, "A") == ["saddle", "saddle", "stable"] and _structure(true_fp, "B") == ["stable"]


def test_predict_unseen_conditions_matches_the_teacher():
    """A fit with the true circuit predicts noise-free held-out conditions of the teacher closely."""
    circuit, tonic = _teacher()
    conds, ctx, stim = _grid()
    rec = _teacher_recording(n_trials=0, noise_std=0.0)
    held = [c for c in conds if "a=1 " in c]
    train = rec.sel(condition=[c for c in conds if c not in held])
    model = ContextFit(circuit=circuit, units=np.arange(20), steps=300, seed=0).fit(train)
    pred = model.predict(rec.sel(condition=held))
    assert model.score(rec.sel(condition=held)) > 0.98
    assert list(pred["context"].values) == [c.split()[0] for c in held]
    assert pred["rate"].dims == ("condition", "time", "neuron")


# --------------------------------------------------------------- baselines
def test_linear_dynamical_fit_recovers_an_exact_linear_system():
    """Data from x_{t+1} = A x_t + B u_{t+1} + c_k, embedded in 6 neurons: held-out conditions exactly."""
    rng = np.random.default_rng(3)
    a_mat = np.array([[0.9, 0.2], [-0.2, 0.9]])
    b_mat = rng.normal(size=(2, 2))
    c_off = {"A": np.array([0.1, 0.0]), "B": np.array([-0.1, 0.2])}
    embed = rng.normal(size=(6, 2))
    conds, ctx, stim = _grid()
    n_time = 12
    course = np.ones((2, n_time))
    x = np.zeros((len(conds), n_time, 2))
    x[:, 0] = [c_off[k] * 0 + np.array([0.3, -0.2]) for k in ctx]
    for t in range(1, n_time):
        x[:, t] = x[:, t - 1] @ a_mat.T + stim @ b_mat.T + np.stack([c_off[k] for k in ctx])
    rate = x @ embed.T + 1.0
    rec = set_design(make_recording(rate, time=10.0 * np.arange(n_time), conditions=conds, units="normalised"),
                     context=ctx, stimulus=stim, inputs=("a", "b"), course=course)
    cv = cross_validate(LinearDynamicalFit(n_latents=2, ridge=0.0), rec, scheme="conditions", by="b",
                        n_shuffles=10)
    assert float(cv["r2"]) > 1 - 1e-9
    np.testing.assert_allclose(cv["prediction"].values, cv["target"].values, atol=1e-8)
    assert np.isnan(float(cv["ceiling"]))  # no trials, no noise variance: no ceiling, said so
    assert cv["ceiling"].attrs["ceiling_kind"].startswith("none")


def test_condition_tonic_baseline_says_it_cannot_predict_unseen_conditions():
    rec = _teacher_recording(n_trials=0, noise_std=0.0, n_time=10)
    est = ConditionTonicFit(n_units=24, steps=5, holdout_block=2)
    cv = cross_validate(est, rec, scheme="conditions", by="a", n_shuffles=5)
    assert cv.attrs["predicts"] == 0 and "unseen condition" in cv.attrs["reason"]
    assert np.isnan(float(cv["r2"]))
    cv_time = cross_validate(est, rec, scheme="time", block=2, n_shuffles=5)
    assert cv_time.attrs["predicts"] == 1 and np.isfinite(float(cv_time["r2"]))
    fitted = est.fit(rec.sel(condition=list(rec["condition"].values[:-1])))
    with pytest.raises(InputError, match="cannot predict a condition it never saw"):
        fitted.predict(rec)


def test_held_out_time_and_trial_schemes_score_what_they_hold_out():
    rec = _teacher_recording(n_time=10)
    lds = LinearDynamicalFit(n_latents=4)
    time_cv = cross_validate(lds, rec, scheme="time", block=2, n_shuffles=5)
    assert time_cv["scored"].values.tolist() == [0, 0, 1, 1, 0, 0, 1, 1, 0, 0]
    trials = cross_validate(lds, rec, scheme="trials", n_shuffles=5)
    assert "reliability of one half" in trials["ceiling"].attrs["ceiling_kind"]
    avg = _teacher_recording(n_time=10, n_trials=0)
    with pytest.raises(InputError, match="needs single trials"):
        cross_validate(lds, avg, scheme="trials")


# ----------------------------------------------------------------- ceiling
def test_spearman_brown_ceiling_matches_the_closed_form_reliability():
    """Known signal + known noise: the reliability of the full averages is SS_signal / (SS_signal + SS_noise)."""
    rng = np.random.default_rng(7)
    n_cond, n_time, n_neuron, n_trials, sigma = 40, 10, 30, 20, 1.0
    signal = rng.normal(size=(n_cond, n_time, n_neuron)) * 0.5
    trials = np.repeat(signal, n_trials, axis=0) + rng.normal(0.0, sigma, size=(n_cond * n_trials, n_time, n_neuron))
    names = [f"c{i}" for i in range(n_cond)]
    rec = make_recording(trials, time=np.arange(n_time) * 10.0, conditions=list(np.repeat(names, n_trials)),
                         layout="trial", units="normalised")
    rec = set_design(rec, context=["A"] * (n_cond * n_trials), stimulus=np.zeros((n_cond * n_trials, 1)),
                     inputs=("s",), window=(0.0, 100.0))
    cv = cross_validate(LinearDynamicalFit(n_latents=2), rec, scheme="time", block=2, n_shuffles=0)
    scored = cv["scored"].values.astype(bool)
    s = signal[:, scored]
    ss_signal = ((s - s.mean(axis=(0, 1))) ** 2).sum()
    ss_noise = s.size * sigma ** 2 / n_trials
    expected = ss_signal / (ss_signal + ss_noise)
    assert abs(float(cv["ceiling"]) - expected) < 0.02
    assert spearman_brown(0.5) == pytest.approx(2 / 3, abs=1e-15)
    assert spearman_brown(0.2, factor=4) == pytest.approx(0.5, abs=1e-15)


def test_noise_variance_ceiling_is_one_minus_noise_over_total():
    rec = _teacher_recording(n_trials=0, noise_std=0.0, n_time=10)
    y = rec["rate"].values
    var = np.full(y.shape, 1e-3)
    cv = cross_validate(LinearDynamicalFit(n_latents=3), rec, scheme="conditions", by="b", noise_variance=var,
                        n_shuffles=0)
    t = cv["target"].values
    expected = 1 - var.sum() / ((t - t.mean(axis=(0, 1))) ** 2).sum()
    assert float(cv["ceiling"]) == pytest.approx(expected, rel=1e-12)
    with pytest.raises(InputError, match="noise_variance"):
        cross_validate(LinearDynamicalFit(), rec, scheme="time", noise_variance=var[:, :3])


def test_preprocessing_statistics_come_from_the_training_part_only():
    """Soft normalisation and centring of a fold do not change when the held-out conditions change."""
    rec = _teacher_recording(n_trials=0, noise_std=0.0, n_time=10)
    y = rec["rate"].values.copy()
    d = read_design(rec)
    held = [i for i, c in enumerate(d.conditions) if "a=1 " in c]
    kw = dict(scheme="conditions", held_out=[[d.conditions[i] for i in held]], soft=0.5, center=True, n_shuffles=0)
    a = cross_validate(LinearDynamicalFit(n_latents=3), rec, **kw)
    y2 = y.copy()
    y2[held] += 5.0  # only the held-out conditions change
    rec2 = rec.copy(data={**{k: v.values for k, v in rec.data_vars.items()}, "rate": y2})
    b = cross_validate(LinearDynamicalFit(n_latents=3), rec2, **kw)
    np.testing.assert_allclose(a["prediction"].values, b["prediction"].values, rtol=0, atol=1e-12)
    assert not np.allclose(a["target"].values, b["target"].values)


# ------------------------------------------------------------ optimisation
def test_context_fit_keeps_its_best_parameters_and_warns_when_ending_worse():
    """The loop behind ContextFit (neurobias.training.optimise, tested in test_optimise) keeps the best step."""
    from neurobias.errors import ConvergenceWarning

    rec = _teacher_recording(n_trials=0, noise_std=0.0, n_time=6)
    circuit, _ = _teacher()
    with pytest.warns(ConvergenceWarning):
        fit = ContextFit(circuit=circuit, units=np.arange(20), steps=15, lr=50.0, progress=False).fit(rec)
    assert fit.loss_[fit.best_step_] == np.min(fit.loss_)
    assert fit.loss_[fit.best_step_] <= fit.loss_[0]


def test_default_substeps_follow_tau_and_the_bin():
    assert auto_substeps(50.0, 100.0) == 3  # dt = 16.7 ms <= 20 ms
    assert auto_substeps(20.0, 100.0) == 1
    assert auto_substeps(10.0, 10.0) == 5
    rec = _teacher_recording(n_trials=0, noise_std=0.0, n_time=6)
    circuit, _ = _teacher()
    assert ContextFit(circuit=circuit, units=np.arange(20), steps=1).fit(rec).substeps_ == 2


# -------------------------------------------------------------- bad inputs
def test_bad_inputs_raise_one_line_naming_the_problem():
    rec = make_recording(np.zeros((4, 5, 3)), time=np.arange(5) * 10.0, conditions=list("abcd"),
                         units="normalised")
    stim = np.zeros((4, 2))
    with pytest.raises(InputError, match=r"`context` must label every condition; condition 2 has no label"):
        set_design(rec, context=["x", "x", "", "y"], stimulus=stim, inputs=("s", "t"), window=(0, 50))
    with pytest.raises(InputError, match=r"`stimulus` must have shape \(condition, input\) = \(4, 2\); got \(3, 2\)"):
        set_design(rec, context=list("xxyy"), stimulus=stim[:3], inputs=("s", "t"), window=(0, 50))
    with pytest.raises(InputError, match=r"`context` must have one label per condition \(4\); got 3"):
        set_design(rec, context=list("xxy"), stimulus=stim, inputs=("s", "t"), window=(0, 50))
    with pytest.raises(InputError, match="has no `context`"):
        read_design(rec)
    with pytest.raises(InputError, match="has no `context`"):
        ContextFit(steps=1).fit(rec)
    good = set_design(rec, context=list("xxyy"), stimulus=[[0, 0], [1, 0], [0, 0], [1, 0]], inputs=("s", "t"),
                      window=(0, 50))
    d = read_design(good)
    with pytest.raises(InputError, match="leaves context 'y' with no training condition"):
        condition_folds(d, held_out=[["c", "d"]])
    with pytest.raises(InputError, match="leaves context 'x' with no training condition"):
        check_fold(d, ConditionFold("f", ("c", "d"), ("a", "b")))
    with pytest.raises(InputError, match="`by` must be one of the inputs"):
        condition_folds(d, by="nope")


def test_design_round_trip_and_time_course():
    t = np.arange(6) * 10.0
    ds = make_design(conditions=["p", "q", "r"], context=["u", "v", "u"], stimulus=[[1.0], [2.0], [3.0]],
                     inputs=("s",), time=t, window=(10.0, 30.0))
    d = read_design(ds)
    assert d.contexts == ("u", "v") and d.context_index.tolist() == [0, 1, 0]
    assert d.course.tolist() == [[0, 1, 1, 0, 0, 0]]
    np.testing.assert_array_equal(d.inputs_array()[:, :, 0], np.outer([1.0, 2.0, 3.0], [0, 1, 1, 0, 0, 0]))
    for name in ("context", "stimulus", "stimulus_course"):
        assert ds[name].attrs["long_name"]
    trials = make_recording(np.zeros((4, 6, 2)), time=t, conditions=["p", "p", "q", "q"], layout="trial")
    with pytest.raises(InputError, match="trials of condition 'p' disagree"):
        set_design(trials, context=["u", "v", "u", "u"], stimulus=np.zeros((4, 1)), inputs=("s",), window=(0, 60))
    ok = set_design(trials, context=["u", "u", "v", "v"], stimulus=np.zeros((4, 1)), inputs=("s",), window=(0, 60))
    assert read_design(ok).conditions == ("p", "q")


def test_predict_refuses_unknown_contexts_and_inputs():
    circuit, _ = _teacher()
    rec = _teacher_recording(n_trials=0, noise_std=0.0, n_time=6)
    model = ContextFit(circuit=circuit, units=np.arange(20), steps=2).fit(rec)
    other = make_design(conditions=["z"], context=["C"], stimulus=[[0.0, 0.0]], inputs=("a", "b"),
                        time=rec["time"].values, window=(0.0, 200.0))
    with pytest.raises(InputError, match=r"contexts \['C'\] the model was not fitted on"):
        model.predict(other)
    with pytest.raises(InputError, match="not fitted yet"):
        ContextFit().predict(other)


# -------------------------------------------------------------- Mante data
_MANTE = recording_path("mante2013")


@pytest.mark.skipif(_MANTE is None, reason="the mante2013 recording is not under $NEUROBIAS_DATA")
def test_mante2013_loader_labels_contexts_by_what_the_counts_say():
    rec = mante2013()
    d = read_design(rec)
    assert d.contexts == ("color", "motion") and d.inputs == ("motion", "color")
    assert rec.sizes["condition"] == 71 and rec.attrs["dropped_conditions"] == "color m-0.05 c-0.06"
    n = rec["n_trials"].values.sum(axis=1)
    strong = np.abs(d.stimulus) == 0.5
    motion = d.context_index == 1
    # correct trials are more frequent at strong coherence of the relevant input
    assert n[motion & strong[:, 0]].mean() > 1.2 * n[motion & ~strong[:, 0]].mean()
    assert n[~motion & strong[:, 1]].mean() > 1.2 * n[~motion & ~strong[:, 1]].mean()


# ------------------------------------------------------------ model variants
def test_bias_mode_keeps_the_circuit_and_same_seed_gives_the_same_fit():
    circuit, _ = _teacher()
    rec = _teacher_recording(n_trials=0, noise_std=0.0, n_time=8)
    a = ContextFit(circuit=circuit, units=np.arange(20), steps=5, seed=3).fit(rec)
    b = ContextFit(circuit=circuit, units=np.arange(20), steps=5, seed=3).fit(rec)
    np.testing.assert_array_equal(a.tonic_, b.tonic_)
    np.testing.assert_array_equal(a.initial_state_, b.initial_state_)
    np.testing.assert_array_equal(a.circuit_.W_rec, circuit.W_rec)
    np.testing.assert_array_equal(a.circuit_.W_in, circuit.W_in)
    assert a.circuit_.input_names == ("a", "b") and a.tonic_.shape == (2, 20)
    shared = ContextFit(circuit=circuit, units=np.arange(20), steps=5, tonic="shared",
                        initial_state="context").fit(rec)
    np.testing.assert_array_equal(shared.tonic_[0], shared.tonic_[1])
    assert not np.array_equal(shared.initial_state_[0], shared.initial_state_[1])


def test_low_rank_fit_trains_a_rank_r_recurrence():
    rec = _teacher_recording(n_trials=0, noise_std=0.0, n_time=8)
    model = LowRankContextFit(rank=2, n_units=30, steps=20, weight_lr=0.01, seed=0).fit(rec)
    assert np.linalg.matrix_rank(model.circuit_.W_rec, tol=1e-10) == 2
    assert model.loss_[model.best_step_] < model.loss_[0]
    assert model.predict(rec)["rate"].shape == (18, 8, 20)
    with pytest.raises(InputError, match="`rank` must be an integer in"):
        LowRankContextFit(rank=0, n_units=30).fit(rec)

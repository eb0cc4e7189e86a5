"""Nested tuning in cross_validate: parameters chosen inside each fold, from its fitted part only."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from neurobias.errors import InputError
from neurobias.fitting.baselines import LinearDynamicalFit
from neurobias.fitting.crossval import cross_validate, tuning_candidates
from neurobias.recordings.dataset import make_recording
from neurobias.recordings.design import read_design, set_design

LEVELS = (-1.0, -0.5, 0.0, 0.5, 1.0)


def _linear_recording(noise: float = 0.0):
    """Exact 2-latent linear dynamics ``x_t = A x_{t-1} + B u + c_k`` embedded in 6 neurons (2 contexts x 5 x 3)."""
    rng = np.random.default_rng(7)
    a_mat = np.array([[0.9, 0.25], [-0.25, 0.9]])
    b_mat = rng.normal(size=(2, 2))
    c_off = {"A": np.array([0.1, 0.0]), "B": np.array([-0.1, 0.2])}
    embed = rng.normal(size=(6, 2))
    conds, ctx, stim = [], [], []
    for k in ("A", "B"):
        for a, b in itertools.product(LEVELS, (-1.0, 0.0, 1.0)):
            conds.append(f"{k} a={a:g} b={b:g}")
            ctx.append(k)
            stim.append([a, b])
    stim = np.array(stim)
    n_time = 12
    x = np.zeros((len(conds), n_time, 2))
    x[:, 0] = [0.3, -0.2]
    for t in range(1, n_time):
        x[:, t] = x[:, t - 1] @ a_mat.T + stim @ b_mat.T + np.stack([c_off[k] for k in ctx])
    rate = x @ embed.T + 1.0 + noise * rng.normal(size=(len(conds), n_time, 6))
    return set_design(make_recording(rate, time=10.0 * np.arange(n_time), conditions=conds, units="normalised"),
                      context=ctx, stimulus=stim, inputs=("a", "b"), course=np.ones((2, n_time)))


def test_nested_tuning_chooses_the_true_latent_dimension_in_every_fold():
    """The data have exactly 2 latent dimensions: 1 underfits, 2 is exact; every fold must choose 2."""
    rec = _linear_recording()
    cv = cross_validate(LinearDynamicalFit(ridge=0.0), rec, scheme="conditions", by="a", n_shuffles=0,
                        tune={"n_latents": [1, 2]})
    assert cv["tuned_n_latents"].values.tolist() == [2] * len(LEVELS)
    assert cv["tune_r2"].shape == (len(LEVELS), 2)
    assert np.all(cv["tune_r2"].values[:, 1] > 1 - 1e-9)
    assert np.all(cv["tune_r2"].values[:, 0] < 0.99)
    assert float(cv["r2"]) > 1 - 1e-9
    assert cv.attrs["tuning"].startswith("nested: 2 candidates (n_latents=1; n_latents=2)")
    assert cv["candidate"].attrs["values"] == "n_latents=1; n_latents=2"


def test_an_explicit_candidate_list_fills_unnamed_parameters_from_the_estimator():
    """A list of candidates tunes exactly those combinations; a name a candidate leaves out keeps the given value."""
    rec = _linear_recording()
    est = LinearDynamicalFit(ridge=0.0, n_latents=2)
    assert tuning_candidates(est, [{"n_latents": 1}, {"ridge": 1e3}]) == [{"n_latents": 1, "ridge": 0.0},
                                                                       {"n_latents": 2, "ridge": 1e3}]
    cv = cross_validate(est, rec, scheme="conditions", by="a", n_shuffles=0,
                        tune=[{"n_latents": 1}, {"n_latents": 2}, {"n_latents": 2, "ridge": 1e6}])
    # the exact dimension without ridge shrinkage wins in every fold
    assert cv["tuned_n_latents"].values.tolist() == [2] * len(LEVELS)
    assert cv["tuned_ridge"].values.tolist() == [0.0] * len(LEVELS)
    assert cv["tune_r2"].shape == (len(LEVELS), 3)
    assert np.all(cv["tune_r2"].values[:, 1] > cv["tune_r2"].values[:, 2])
    with pytest.raises(InputError, match="`tune\\[1\\]` names a parameter the estimator does not have: 'nope'"):
        tuning_candidates(est, [{"n_latents": 1}, {"nope": 2}])
    with pytest.raises(InputError, match="sequence of non-empty mappings"):
        tuning_candidates(est, [{"n_latents": 1}, {}])


def test_one_candidate_equal_to_the_given_parameters_changes_nothing():
    rec = _linear_recording(noise=0.05)
    kw = dict(scheme="conditions", by="a", n_shuffles=0, soft=0.5, center=True)
    plain = cross_validate(LinearDynamicalFit(n_latents=2), rec, **kw)
    tuned = cross_validate(LinearDynamicalFit(n_latents=2), rec, tune={"n_latents": [2]}, **kw)
    np.testing.assert_array_equal(plain["prediction"].values, tuned["prediction"].values)
    assert plain.attrs["tuning"].startswith("none")


def test_the_held_out_conditions_never_influence_the_choice():
    """Changing only the held-out conditions' data changes neither the inner scores nor the predictions."""
    rec = _linear_recording(noise=0.2)
    d = read_design(rec)
    held = [c for c in d.conditions if " a=0.5 " in c]
    kw = dict(scheme="conditions", held_out=[held], tune_by="a", soft=0.5, center=True, n_shuffles=0,
              tune={"n_latents": [1, 2, 3], "ridge": [1e-3, 10.0]})
    a = cross_validate(LinearDynamicalFit(), rec, **kw)
    y2 = rec["rate"].values.copy()
    y2[[d.conditions.index(c) for c in held]] *= -3.0
    rec2 = rec.copy(data={**{k: v.values for k, v in rec.data_vars.items()}, "rate": y2})
    b = cross_validate(LinearDynamicalFit(), rec2, **kw)
    np.testing.assert_array_equal(a["tune_r2"].values, b["tune_r2"].values)
    np.testing.assert_array_equal(a["tuned_n_latents"].values, b["tuned_n_latents"].values)
    np.testing.assert_allclose(a["prediction"].values, b["prediction"].values, rtol=0, atol=1e-12)


def test_tune_folds_bounds_the_inner_folds_and_time_scheme_tunes_on_fitted_bins():
    rec = _linear_recording(noise=0.05)
    cv = cross_validate(LinearDynamicalFit(), rec, scheme="time", block=3, n_shuffles=0, tune_by="a",
                        tune={"n_latents": [1, 2]}, tune_folds=2)
    assert "at most 2" in cv.attrs["tuning"]
    assert cv["tuned_n_latents"].values.tolist() == [2]
    # changing only the scored bins leaves the choice and the inner scores unchanged
    y2 = rec["rate"].values.copy()
    scored = cv["scored"].values.astype(bool)
    y2[:, scored] += 4.0
    rec2 = rec.copy(data={**{k: v.values for k, v in rec.data_vars.items()}, "rate": y2})
    cv2 = cross_validate(LinearDynamicalFit(), rec2, scheme="time", block=3, n_shuffles=0, tune_by="a",
                         tune={"n_latents": [1, 2]}, tune_folds=2)
    np.testing.assert_array_equal(cv["tune_r2"].values, cv2["tune_r2"].values)


@pytest.mark.parametrize("kw, match", [
    (dict(by="a", tune={"latents": [1, 2]}), "`tune` names a parameter the estimator does not have: 'latents'"),
    (dict(by="a", tune={"n_latents": []}), r"`tune\['n_latents'\]` must be a non-empty sequence"),
    (dict(by="a", tune={}), "`tune` must be a non-empty mapping"),
    (dict(held_out=[["A a=0 b=0", "B a=0 b=0"]], tune={"n_latents": [1, 2]}), "`tune` needs `tune_by`"),
    (dict(by="a", tune={"n_latents": [1, 2]}, tune_folds=1), "tune_folds"),
    (dict(by="a", tune={"n_latents": [1, 2]}, tune_by="speed"), "`tune_by` must be one of the inputs"),
])
def test_bad_tuning_options_name_the_argument(kw, match):
    """Each bad option raises an InputError naming it."""
    with pytest.raises(InputError, match=match):
        cross_validate(LinearDynamicalFit(), _linear_recording(), scheme="conditions", n_shuffles=0, **kw)


def test_tuning_refuses_a_model_that_cannot_predict_unseen_conditions():
    from neurobias.fitting.baselines import ConditionTonicFit

    with pytest.raises(InputError, match="`tune` chooses parameters by held-out conditions, which ConditionTonicFit"):
        cross_validate(ConditionTonicFit(n_units=8, steps=2), _linear_recording(), scheme="time", tune_by="a",
                       n_shuffles=0, tune={"lr": [0.01, 0.1]})

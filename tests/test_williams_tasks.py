"""Tests of the recurrent tasks added for the Williams et al. reproduction, and of closed-loop forecasting."""
from __future__ import annotations

import numpy as np
import pytest

from neurobias.circuit.circuit import Circuit
from neurobias.errors import InputError
from neurobias.reproduce.forecast import (autoregressive_closed_loop, closed_loop, drive, lag_matrix, nrmse,
                                          ridge_regression, valid_prediction_time)
from neurobias.tasks import LorenzForecastTask, ReachingTask, VanDerPolTask, available, make_task
from neurobias.tasks.lorenz import autocorrelation_hwhm, lorenz
from neurobias.tasks.reaching import speed_profile
from neurobias.tasks.vanderpol import van_der_pol


def test_new_tasks_are_registered():
    assert {"vanderpol", "lorenz", "reaching"} <= set(available())


def test_van_der_pol_with_zero_damping_is_a_harmonic_oscillator():
    x0, y0 = np.array([1.0, -0.5]), np.array([0.0, 2.0])
    out = van_der_pol(x0, y0, mu=0.0, ds=0.1, n_steps=50, substeps=4)
    s = 0.1 * np.arange(1, 51)
    # x' = y, y' = -x: x = x0 cos s + y0 sin s
    np.testing.assert_allclose(out[..., 0], x0[:, None] * np.cos(s) + y0[:, None] * np.sin(s), atol=1e-7)
    np.testing.assert_allclose(out[..., 1], -x0[:, None] * np.sin(s) + y0[:, None] * np.cos(s), atol=1e-7)


def test_van_der_pol_task_cue_mask_and_limit_cycle():
    task = VanDerPolTask(VanDerPolTask.Params(mus=(1.0, 2.0), duration_ms=2000.0, time_scale=0.02), dt=10.0)
    b = task.sample(3, "vdp_mu1", np.random.default_rng(0))
    n_cue = 2
    assert np.all(b.mask[:, :n_cue] == 0) and np.all(b.mask[:, n_cue:] == 1)
    np.testing.assert_allclose(b.inputs[:, 0], 0.4 * np.stack([b.conditions["x0"], b.conditions["y0"]], 1))
    assert np.all(b.inputs[:, n_cue:] == 0)
    # the limit cycle of mu = 1 has amplitude ~2 in x (0.8 after scaling)
    assert np.abs(b.targets[:, -100:, 0]).max() == pytest.approx(0.8, abs=0.03)
    assert task.contexts == ("vdp_mu1", "vdp_mu2")
    with pytest.raises(InputError, match="`mus`"):
        VanDerPolTask(VanDerPolTask.Params(mus=(1.0, 1.0)), dt=10.0)


def test_lorenz_fixed_point_stays_and_targets_are_shifted_inputs():
    beta, rho = 8.0 / 3.0, 28.0
    c = np.sqrt(beta * (rho - 1))
    fp = np.array([[c, c, rho - 1]])
    np.testing.assert_allclose(lorenz(fp, n_samples=20, sample_interval=0.01)[0], np.repeat(fp, 20, 0), atol=1e-9)
    task = make_task("lorenz", dt=1.0, horizons=(1, 5), duration_ms=60.0, washout_ms=10.0)
    rng = np.random.default_rng(0)
    one, five = task.sample(4, "ahead1", rng), task.sample(4, "ahead5", np.random.default_rng(0))
    np.testing.assert_array_equal(one.inputs, five.inputs)
    np.testing.assert_array_equal(one.targets[:, :-1], one.inputs[:, 1:])
    np.testing.assert_array_equal(five.targets[:, :-5], five.inputs[:, 5:])
    assert np.all(one.mask[:, :10] == 0) and np.all(one.mask[:, 10:] == 1)
    ref = task.reference()
    assert ref.mean() == pytest.approx(0.0, abs=1e-12) and ref.std() == pytest.approx(1.0)


def test_autocorrelation_hwhm_of_a_cosine():
    period = 120
    k = np.arange(24000)
    # the autocorrelation of a long cosine is cos(2 pi lag / period): 0.5 at period / 6
    assert autocorrelation_hwhm(np.cos(2 * np.pi * k / period), max_lag=60) == pytest.approx(period / 6, rel=0.01)


def test_default_lorenz_horizon_is_near_the_autocorrelation_hwhm():
    task = LorenzForecastTask(dt=1.0)
    assert autocorrelation_hwhm(task.reference()) == pytest.approx(27, abs=3)


def test_reaching_velocity_profile_and_displacement():
    assert speed_profile(np.array([-0.1, 0.0, 0.5, 1.0, 1.2])).tolist() == [0.0, 0.0, 1.0, 0.0, 0.0]
    s = np.linspace(0, 1, 200001)
    assert np.trapezoid(speed_profile(s), s) == pytest.approx(8 / 15, rel=1e-6)
    task = ReachingTask(dt=1.0)
    for context, angle in zip(task.contexts, task.params.angles_deg):
        b = task.sample(3, context, np.random.default_rng(0))
        disp = b.targets.sum(axis=1) * task.dt
        np.testing.assert_allclose(np.linalg.norm(disp, axis=1), 250.0 * 8 / 15, rtol=1e-3)
        np.testing.assert_allclose(np.degrees(np.arctan2(disp[:, 1], disp[:, 0])) % 360, angle, atol=1e-6)
        go = b.conditions["go_ms"]
        for i in range(3):
            before = task.time <= go[i]
            assert np.all(b.targets[i, before] == 0) and np.all(b.targets[i, -1] == 0)
            assert np.all(b.inputs[i, :, 0] == (np.arange(task.n_time) >= go[i] / task.dt))


def _delay_circuit(a: float) -> Circuit:
    # one linear unit, map form (tau = dt = 1): x_{k+1} = u_k, z = a x
    return Circuit.from_arrays(W_rec=[[0.0]], W_in=[[1.0]], W_out=[[a]], tau=1.0, phi="linear", form="rate")


def test_closed_loop_feeds_the_output_back():
    obs = np.array([[[1.0], [2.0], [3.0]]])
    pred = closed_loop(_delay_circuit(0.5), np.zeros(1), obs, n_warmup=3, n_free=4, dt=1.0)
    # after the warm-up x = 3; then z_j = 0.5^(j+1) * 3
    np.testing.assert_allclose(pred[0, :, 0], 3.0 * 0.5 ** np.arange(1, 5))
    with pytest.raises(InputError, match="`n_warmup`"):
        closed_loop(_delay_circuit(1.0), np.zeros(1), obs, n_warmup=4, n_free=1, dt=1.0)
    with pytest.raises(InputError, match="`tonic`"):
        closed_loop(_delay_circuit(1.0), np.zeros(2), obs, n_warmup=1, n_free=1, dt=1.0)


def test_drive_gives_the_rates_and_outputs_of_the_delay_map():
    obs = np.array([[[1.0], [2.0], [3.0]], [[-1.0], [0.5], [4.0]]])
    rates, out = drive(_delay_circuit(0.5), np.zeros(1), obs, dt=1.0)
    # x_{k+1} = u_k: the rate after the input of step k is that input
    np.testing.assert_array_equal(rates, obs)
    np.testing.assert_allclose(out, 0.5 * obs)
    with pytest.raises(InputError, match="`observations`"):
        drive(_delay_circuit(0.5), np.zeros(1), obs[..., 0], dt=1.0)


def test_ridge_regression_recovers_a_linear_map_and_shrinks_with_the_penalty():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 3))
    w = np.array([[1.0, -2.0, 0.5]])
    y = X @ w.T + 3.0
    got_w, got_c = ridge_regression(X, y, ridge=0.0)
    np.testing.assert_allclose(got_w, w, atol=1e-12)
    np.testing.assert_allclose(got_c, [3.0], atol=1e-12)
    # one centred feature: the ridge solution is sum(x y) / (sum(x^2) + ridge * mean var * n) = 1 / (1 + ridge)
    x = np.array([[-1.0], [1.0]])
    np.testing.assert_allclose(ridge_regression(x, 2.0 * x, ridge=1.0)[0], [[1.0]])
    with pytest.raises(InputError, match="`ridge`"):
        ridge_regression(X, y, ridge=-1.0)
    with pytest.raises(InputError, match="`features`"):
        ridge_regression(X, y[:10], ridge=0.0)


def test_lag_matrix_and_the_autoregressive_closed_loop():
    x = np.arange(6.0)[None, :]
    np.testing.assert_array_equal(lag_matrix(x, 2)[0], [[1, 0], [2, 1], [3, 2], [4, 3], [5, 4]])
    # x_{k+1} = 2 x_k - x_{k-1} continues a straight line; x_{k+1} = 0.5 x_k halves
    np.testing.assert_allclose(autoregressive_closed_loop(np.array([2.0, -1.0]), 0.0, x, n_free=3), [[6, 7, 8]])
    np.testing.assert_allclose(autoregressive_closed_loop(np.array([0.5]), 1.0, np.array([[4.0]]), n_free=2),
                               [[3.0, 2.5]])
    with pytest.raises(InputError, match="`order`"):
        lag_matrix(x, 0)
    with pytest.raises(InputError, match="`warmup`"):
        autoregressive_closed_loop(np.ones(3), 0.0, np.ones((1, 2)), n_free=1)


def test_forecast_scores():
    truth = np.zeros((2, 10, 1))
    pred = truth.copy()
    pred[0, 4:] = 1.0
    np.testing.assert_array_equal(valid_prediction_time(pred, truth), [4.0, 10.0])
    t = np.sin(np.arange(100.0))
    assert nrmse(t, t) == 0.0
    assert nrmse(np.zeros_like(t), t) == pytest.approx(np.sqrt(np.mean(t ** 2)) / t.std())


def test_lorenz_input_noise_reaches_inputs_only():
    kw = dict(dt=1.0, horizons=(1, 3), duration_ms=40.0, washout_ms=0.0)
    clean = make_task("lorenz", **kw).sample(50, "ahead3", np.random.default_rng(5))
    noisy = make_task("lorenz", input_noise=0.1, **kw).sample(50, "ahead3", np.random.default_rng(5))
    np.testing.assert_array_equal(noisy.targets, clean.targets)
    assert np.std(noisy.inputs - clean.inputs) == pytest.approx(0.1, rel=0.05)
    with pytest.raises(InputError, match="`input_noise`"):
        make_task("lorenz", input_noise=-1.0, **kw)


def test_lorenz_held_out_trajectories_standardised_with_given_moments():
    kw = dict(dt=1.0, horizons=(1, 3), duration_ms=40.0, washout_ms=0.0)
    train = make_task("lorenz", **kw)
    raw = make_task("lorenz", standardisation=(0.0, 1.0), **kw).reference()
    # Lorenz's x at sigma = 10, rho = 28, beta = 8/3: mean 0 by symmetry, sd about 7.9
    assert abs(raw.mean()) < 1.0 and 7.0 < raw.std() < 9.0
    mean, sd = train.raw_moments()
    assert mean == pytest.approx(raw.mean(), abs=1e-12) and sd == pytest.approx(raw.std())
    held_raw = make_task("lorenz", reference_seed=1, standardisation=(0.0, 1.0), **kw).reference()
    assert not np.isin(held_raw[:, :50], raw).any()  # other trajectories
    held = make_task("lorenz", reference_seed=1, standardisation=(mean, sd), **kw)
    np.testing.assert_allclose(held.reference(), (held_raw - mean) / sd, rtol=1e-12, atol=1e-12)
    own = make_task("lorenz", reference_seed=1, **kw).reference()
    assert held.reference().mean() != pytest.approx(0.0, abs=1e-6)  # not refitted on the held-out data
    assert own.mean() == pytest.approx(0.0, abs=1e-12)
    batch = held.sample(8, "ahead3", np.random.default_rng(0))
    assert np.isin(batch.inputs[..., 0], held.reference()).all()
    for bad in ((1.0,), (0.0, 0.0), (0.0, -1.0), (float("nan"), 1.0)):
        with pytest.raises(InputError, match="`standardisation"):
            make_task("lorenz", standardisation=bad, **kw)


def test_steps_to_level_reads_the_moving_average_of_the_loss():
    from neurobias.reproduce.recurrent_experiments import steps_to_level

    loss = np.r_[np.ones(30), np.zeros(40)]
    # the 20-step average after step 30 + m holds 20 - m ones: <= 0.5 from m = 10, 0 from m = 20
    assert steps_to_level(loss, 0.5) == 40
    assert steps_to_level(loss, 0.0) == 50
    assert steps_to_level(loss, -1.0) is None
    assert steps_to_level(np.array([0.1, 0.1]), 0.2) == 1  # before 20 steps: the mean of what exists
    assert steps_to_level(np.array([0.3, 0.1]), 0.2) == 2
    assert steps_to_level(np.array([]), 1.0) is None
    noisy = np.r_[np.ones(25), [0.0], np.ones(25)]  # one lucky step does not count as reaching 0.1
    assert steps_to_level(noisy, 0.1) is None

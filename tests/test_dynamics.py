"""Tests of the vector field, its Jacobian, the integrators and `simulate` against ground truths.

Ground truths: exact solutions of linear and leak-only circuits, the discrete
map of the rate form, autograd and finite-difference Jacobians, the
Ornstein-Uhlenbeck stationary variance, and tiny tanh circuits whose fixed
points are known in closed form (:mod:`neurobias.testing`).  Everything runs in
float64.
"""
from __future__ import annotations

import numpy as np
import pytest
import scipy.optimize
import torch

from neurobias.circuit import (
    FORMS,
    METHODS,
    PHI_NAMES,
    Circuit,
    Dynamics,
    simulate,
)
from neurobias.testing import (
    assert_allclose,
    assert_fixed_points_match,
    assert_identical,
    bistable_unit,
    leak_circuit,
    leak_solution,
    linear_circuit,
    linear_solution,
    two_unit_tanh,
)

F64 = torch.float64




def _np_phi(name: str, x: np.ndarray) -> np.ndarray:
    """Independent numpy versions of the transfer functions."""
    if name == "tanh":
        return np.tanh(x)
    if name == "relu":
        return np.maximum(x, 0.0)
    if name == "softplus":
        return np.log1p(np.exp(x))
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-x))
    if name == "linear":
        return x.copy()
    raise AssertionError(f"no numpy reference for phi={name!r}")


def test_every_phi_has_a_numpy_reference():
    for name in PHI_NAMES:
        _np_phi(name, np.zeros(1))


def _final_state(ds) -> np.ndarray:
    return ds["x"].isel(context=0, trial=0, time=-1).values


# ------------------------------------------------------------ convergence order
def _error_slope(form: str, method: str) -> tuple[float, list[float]]:
    circuit = linear_circuit(4, g=0.8, n_inputs=1, tau=10.0, form=form, seed=1)
    rng = np.random.default_rng(2)
    u, tonic, x0 = 0.7, rng.normal(size=4), rng.normal(size=4)
    t_end = 20.0
    exact = linear_solution(circuit, circuit.W_in @ [u] + tonic, x0, [t_end])[0]
    dts = [1.0, 0.5, 0.25, 0.125, 0.0625]
    errors = []
    for dt in dts:
        n_time = int(round(t_end / dt))
        ds = simulate(circuit, tonic, inputs=np.full((1, n_time, 1), u), x0=x0, dt=dt, method=method)
        assert ds["time"].values[-1] == t_end
        errors.append(float(np.max(np.abs(_final_state(ds) - exact))))
    slope = float(np.polyfit(np.log(dts), np.log(errors), 1)[0])
    return slope, errors


@pytest.mark.parametrize("form", FORMS)
def test_euler_global_error_is_first_order(form):
    slope, errors = _error_slope(form, "euler")
    assert abs(slope - 1.0) < 0.1, (slope, errors)
    assert min(errors) > 1e-7  # far above round-off: the slope measures truncation error
    assert np.all(np.diff(errors) < 0)


@pytest.mark.parametrize("form", FORMS)
def test_exp_euler_is_first_order_with_recurrence(form):
    slope, errors = _error_slope(form, "exp_euler")
    assert abs(slope - 1.0) < 0.1, (slope, errors)
    assert min(errors) > 1e-7


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("phi", PHI_NAMES)
def test_exp_euler_is_exact_without_recurrence(phi, form):
    circuit = leak_circuit(3, phi=phi, form=form, n_inputs=2, tau=7.0, seed=4)
    rng = np.random.default_rng(5)
    u, tonic, x0 = rng.normal(size=2), rng.normal(size=3), rng.normal(size=3)
    dt, n_time = 0.7, 40
    inputs = np.broadcast_to(u, (1, n_time, 2))
    ds = simulate(circuit, tonic, inputs=inputs, x0=x0, dt=dt, method="exp_euler")
    exact = leak_solution(circuit, circuit.W_in @ u + tonic, x0, ds["time"].values)
    assert_allclose(ds["x"].isel(context=0, trial=0), exact, rtol=0.0, atol=1e-12)
    # ... while forward Euler is not exact on the same problem (the check can fail).
    ds_euler = simulate(circuit, tonic, inputs=inputs, x0=x0, dt=dt, method="euler")
    assert np.max(np.abs(ds_euler["x"].isel(context=0, trial=0).values - exact)) > 1e-4


def test_linear_solution_reference_solves_the_ode():
    # The reference itself: x(0) = x0 and dx/dt = F(x) (central differences in time).
    circuit = linear_circuit(4, g=0.8, seed=1)
    rng = np.random.default_rng(0)
    ext, x0 = rng.normal(size=4), rng.normal(size=4)
    assert_allclose(linear_solution(circuit, ext, x0, [0.0])[0], x0)
    t, h = 3.0, 1e-4
    xs = linear_solution(circuit, ext, x0, [t - h, t, t + h])
    f = circuit.dynamics().vector_field(torch.tensor(xs[1]), torch.tensor(ext)).numpy()
    assert_allclose((xs[2] - xs[0]) / (2 * h), f, rtol=0.0, atol=1e-8)


# ------------------------------------------------------- rate form = discrete map
@pytest.mark.parametrize("phi", PHI_NAMES)
def test_rate_form_euler_at_dt_tau_is_the_discrete_map(phi):
    tau = 2.5
    circuit = Circuit.random(5, n_inputs=2, n_outputs=1, g=0.9, tau=tau, phi=phi, form="rate", seed=3)
    rng = np.random.default_rng(6)
    n_ctx, n_trial, n_time = 2, 3, 12
    bank = rng.normal(size=(n_ctx, 5))
    inputs = rng.normal(size=(n_trial, n_time, 2))
    x0 = rng.normal(size=(n_trial, 5))
    ds = simulate(circuit, bank, inputs=inputs, x0=x0, dt=tau, method="euler")
    W, U = circuit.W_rec, circuit.W_in
    for c in range(n_ctx):
        h = x0.copy()
        for k in range(n_time):
            h = _np_phi(phi, h @ W.T + inputs[:, k] @ U.T + bank[c])
            assert_allclose(ds["x"].values[c, :, k], h, rtol=1e-12, atol=1e-12, err_msg=f"context {c}, step {k}")
    assert_allclose(ds["r"], ds["x"], rtol=0, atol=0)  # rate form: the state is the rate


# ---------------------------------------------------------------------- Jacobian
def _point(phi: str, form: str, n: int, seed: int):
    """A state, drive and W_rec whose pre-activations stay >= 0.1 away from 0 (relu's kink)."""
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(n, n)) * 1.2 / np.sqrt(n)
    pre = rng.choice([-1.0, 1.0], size=n) * (0.1 + rng.random(n))
    if form == "current":
        x, ext = pre, rng.normal(size=n)
    else:
        x = rng.normal(size=n)
        ext = pre - W @ x
    return torch.tensor(x, dtype=F64), torch.tensor(ext, dtype=F64), torch.tensor(W, dtype=F64)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("phi", PHI_NAMES)
def test_jacobian_matches_autograd_and_finite_differences(phi, form):
    n, tau = 5, 3.0
    x, ext, W = _point(phi, form, n, seed=11)
    dyn = Dynamics(W_rec=W, tau=tau, phi=phi, form=form)

    def field(y):
        return dyn.vector_field(y, ext)

    J = dyn.jacobian(x, ext)
    assert J.shape == (n, n) and J.dtype == F64
    assert_allclose(J, torch.func.jacrev(field)(x), rtol=1e-12, atol=1e-12)
    h = 1e-6
    eye = torch.eye(n, dtype=F64)
    fd = torch.stack([(field(x + h * eye[j]) - field(x - h * eye[j])) / (2 * h) for j in range(n)], dim=-1)
    assert_allclose(J, fd, rtol=0.0, atol=1e-6)
    # The Jacobian is not trivially the leak (the check can fail).
    assert torch.max(torch.abs(J + eye / tau)) > 1e-2


@pytest.mark.parametrize("form", FORMS)
def test_jacobian_broadcasts_over_batch_dimensions(form):
    n, tau, phi = 4, 5.0, "tanh"
    rng = np.random.default_rng(0)
    W = torch.tensor(rng.normal(size=(n, n)) / 2, dtype=F64)
    x = torch.tensor(rng.normal(size=(2, 3, n)), dtype=F64)
    ext = torch.tensor(rng.normal(size=(2, 3, n)), dtype=F64)
    dyn = Dynamics(W_rec=W, tau=tau, phi=phi, form=form)
    J = dyn.jacobian(x, ext)
    assert J.shape == (2, 3, n, n)
    for i in range(2):
        for j in range(3):
            single = torch.func.jacrev(lambda y: dyn.vector_field(y, ext[i, j]))(x[i, j])
            assert_allclose(J[i, j], single)


# ------------------------------------------------------------------------- noise
def test_noise_same_seed_same_trajectory_other_seed_differs():
    circuit = Circuit.random(6, n_outputs=1, g=1.2, seed=0)
    kw = dict(duration=20.0, dt=0.5, noise_std=0.3, n_trials=3)
    for method in METHODS:
        a = simulate(circuit, np.zeros(6), seed=1, method=method, **kw)
        b = simulate(circuit, np.zeros(6), seed=1, method=method, **kw)
        c = simulate(circuit, np.zeros(6), seed=2, method=method, **kw)
        assert_identical(a["x"], b["x"])
        assert np.max(np.abs(a["x"].values - c["x"].values)) > 1e-2
        assert a.attrs["seed"] == 1 and c.attrs["seed"] == 2
        # trials of one run get independent noise
        assert np.max(np.abs(a["x"].values[0, 0] - a["x"].values[0, 1])) > 1e-2


def test_noise_without_seed_records_a_seed_that_reproduces_the_run():
    circuit = Circuit.random(4, n_outputs=1, seed=0)
    a = simulate(circuit, np.zeros(4), duration=5.0, noise_std=0.2)
    assert isinstance(a.attrs["seed"], int) and a.attrs["seed"] >= 0
    b = simulate(circuit, np.zeros(4), duration=5.0, noise_std=0.2, seed=a.attrs["seed"])
    assert_identical(a["x"], b["x"])
    quiet = simulate(circuit, np.zeros(4), duration=5.0)
    assert quiet.attrs["seed"] == -1 and quiet.attrs["noise_std"] == 0.0


_SIGMA, _TAU, _N_UNITS, _N_TRIALS, _T_END = 0.5, 10.0, 100, 400, 80.0


def _noisy_leak_samples(method: str, dt: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """States of a leak-only circuit at t = _T_END: samples of shape (trial * unit,) and the exact mean."""
    circuit = leak_circuit(_N_UNITS, phi="tanh", form="current", tau=_TAU, seed=0)
    tonic = np.linspace(-1.0, 1.0, _N_UNITS)
    ds = simulate(circuit, tonic, duration=_T_END, dt=dt, method=method, noise_std=_SIGMA, seed=seed,
                  n_trials=_N_TRIALS)
    x_end = ds["x"].isel(context=0, time=-1).values  # (trial, unit)
    mean = leak_solution(circuit, tonic, np.zeros(_N_UNITS), [_T_END])[0]
    return (x_end - mean).ravel(), x_end.mean(axis=0) - mean


def test_exp_euler_noise_has_the_ornstein_uhlenbeck_variance():
    dev, mean_err = _noisy_leak_samples("exp_euler", dt=1.0, seed=3)
    n = dev.size
    # Exact for exponential Euler at any dt: sigma^2 tau / 2 (1 - exp(-2 t / tau)).
    expected = _SIGMA**2 * _TAU / 2.0 * (1.0 - np.exp(-2.0 * _T_END / _TAU))
    var = np.mean(dev**2)  # deviations from the exact mean
    se = expected * np.sqrt(2.0 / n)
    assert abs(var - expected) < 4.0 * se, (var, expected, se)
    assert np.max(np.abs(mean_err)) < 5.0 * np.sqrt(expected / _N_TRIALS)
    # and the variance does not depend on the step (exact noise increment)
    dev_coarse, _ = _noisy_leak_samples("exp_euler", dt=8.0, seed=4)
    assert abs(np.mean(dev_coarse**2) - expected) < 4.0 * se


def test_euler_maruyama_variance_converges_to_ou_variance():
    stationary = _SIGMA**2 * _TAU / 2.0
    biases = []
    for i, dt in enumerate([8.0, 4.0, 2.0, 1.0]):
        dev, _ = _noisy_leak_samples("euler", dt=dt, seed=10 + i)
        var = np.mean(dev**2)
        a, k = dt / _TAU, int(round(_T_END / dt))
        # Exact variance of the Euler-Maruyama recursion x <- (1 - a) x + sigma sqrt(dt) xi.
        discrete = _SIGMA**2 * dt / (1.0 - (1.0 - a) ** 2) * (1.0 - (1.0 - a) ** (2 * k))
        se = discrete * np.sqrt(2.0 / dev.size)
        assert abs(var - discrete) < 4.0 * se, (dt, var, discrete)
        biases.append(var / stationary - 1.0)
    assert np.all(np.diff(biases) < 0), biases  # shrinks with dt ...
    assert biases[0] > 0.5 and abs(biases[-1]) < 0.08, biases  # ... from 67 % at dt = 0.8 tau to ~5 %


# ------------------------------------------------------------------- time axis
def test_time_coordinate_and_first_step():
    circuit = Circuit.random(3, n_inputs=1, n_outputs=1, g=1.0, tau=4.0, seed=0)
    dt, n_time = 0.1, 10
    rng = np.random.default_rng(0)
    x0, tonic, inputs = rng.normal(size=3), rng.normal(size=3), rng.normal(size=(1, n_time, 1))
    ds = simulate(circuit, tonic, inputs=inputs, x0=x0, dt=dt)
    assert ds["time"].attrs["units"] == "ms"
    assert_allclose(ds["time"], dt * np.arange(1, n_time + 1), rtol=0, atol=0)
    assert ds["x"].dims == ("context", "trial", "time", "unit")
    # the first stored state is one step after x0 (at t = dt), driven by inputs[:, 0]
    drive = circuit.W_rec @ np.tanh(x0) + circuit.W_in @ inputs[0, 0] + tonic
    assert_allclose(ds["x"].values[0, 0, 0], x0 + dt / circuit.tau * (-x0 + drive))
    by_duration = simulate(circuit, tonic, duration=1.0, dt=dt)
    assert by_duration.sizes["time"] == n_time
    assert_allclose(by_duration["time"][-1], 1.0)


def test_readout_and_rates_follow_their_definitions():
    circuit = Circuit.random(5, n_inputs=1, n_outputs=2, g=1.3, seed=2).replace(b_out=[0.5, -1.0])
    ds = simulate(circuit, np.ones(5) * 0.2, duration=5.0, dt=0.5, x0=np.linspace(-1, 1, 5))
    assert_allclose(ds["r"], np.tanh(ds["x"].values))
    assert_allclose(ds["z"], ds["r"].values @ circuit.W_out.T + circuit.b_out)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("method", METHODS)
def test_rescaling_tau_and_dt_together_rescales_time_only(method, form):
    circuit = Circuit.random(6, n_inputs=1, n_outputs=1, g=1.5, tau=5.0, form=form, seed=1)
    rng = np.random.default_rng(1)
    bank, inputs, x0 = rng.normal(size=(2, 6)), rng.normal(size=(2, 30, 1)), rng.normal(size=6)
    base = simulate(circuit, bank, inputs=inputs, x0=x0, dt=0.5, method=method, noise_std=0.4, seed=5)
    # factor 4: every scaling is by a power of two, so the trajectories are bit-identical
    # (noise_std in units per sqrt(ms) scales by 1 / sqrt(4)).
    fast = simulate(circuit.replace(tau=20.0), bank, inputs=inputs, x0=x0, dt=2.0, method=method,
                    noise_std=0.2, seed=5)
    assert_identical(fast["x"], base["x"])
    assert_allclose(fast["time"], 4.0 * base["time"].values, rtol=0, atol=0)
    # factor 3 (no noise): equal to round-off
    quiet = simulate(circuit, bank, inputs=inputs, x0=x0, dt=0.5, method=method)
    slow = simulate(circuit.replace(tau=15.0), bank, inputs=inputs, x0=x0, dt=1.5, method=method)
    assert_allclose(slow["x"], quiet["x"].values, rtol=1e-12, atol=1e-12)
    assert_allclose(slow["time"], 3.0 * quiet["time"].values)


# --------------------------------------------------- reference fixed points
REFERENCES = {
    "bistable_current": lambda: bistable_unit(1.0),
    "bistable_rate": lambda: bistable_unit(0.6, form="rate"),
    "excitatory_pair": lambda: two_unit_tanh(1.2),
    "inhibitory_pair": lambda: two_unit_tanh(0.8, inhibitory=True),
    "rate_pair": lambda: two_unit_tanh(0.5, form="rate", inhibitory=True),
}


def _field_np(ref, x: np.ndarray) -> np.ndarray:
    c = ref.circuit
    return c.dynamics().vector_field(torch.tensor(x, dtype=F64), torch.tensor(ref.tonic, dtype=F64)).numpy()


def _jac_np(ref, x: np.ndarray) -> np.ndarray:
    c = ref.circuit
    return c.dynamics().jacobian(torch.tensor(x, dtype=F64), torch.tensor(ref.tonic, dtype=F64)).numpy()


@pytest.mark.parametrize("name", REFERENCES)
def test_reference_fixed_points_are_zeros_with_the_stated_stability(name):
    ref = REFERENCES[name]()
    for fp, stable in zip(ref.fixed_points, ref.stable):
        assert_allclose(_field_np(ref, fp), np.zeros_like(fp), rtol=0, atol=1e-13)
        growth = np.max(np.linalg.eigvals(_jac_np(ref, fp)).real)
        assert (growth < -1e-3) if stable else (growth > 1e-3), (fp, growth)


@pytest.mark.parametrize("name", REFERENCES)
def test_reference_fixed_points_are_the_complete_set(name):
    # A root finder from many starts finds exactly the stated set, matched both ways.
    ref = REFERENCES[name]()
    n = ref.circuit.n_units
    starts = np.random.default_rng(0).uniform(-2.0, 2.0, size=(60, n))
    if ref.circuit.form == "rate":
        starts *= 0.5
    found = []
    for x0 in starts:
        sol = scipy.optimize.root(lambda x: _field_np(ref, x), x0, jac=lambda x: _jac_np(ref, x), method="hybr")
        if sol.success and np.max(np.abs(_field_np(ref, sol.x))) < 1e-12:
            found.append(sol.x)
    assert len(found) >= 30
    assert_fixed_points_match(np.array(found), ref.fixed_points, atol=1e-8)


@pytest.mark.parametrize("name", REFERENCES)
def test_simulation_settles_on_the_stable_fixed_points(name):
    ref = REFERENCES[name]()
    n = ref.circuit.n_units
    x0 = np.random.default_rng(1).uniform(-1.0, 1.0, size=(40, n))
    x0 = x0[np.max(np.abs(x0), axis=1) > 0.05]
    # 400 tau: long enough to leave the saddle's stable manifold (slowest rate (w - 1) / tau ~ 0.1 / tau)
    ds = simulate(ref.circuit, ref.tonic, x0=x0, duration=400.0 * ref.circuit.tau, dt=ref.circuit.tau / 2,
                  method="exp_euler")
    ends = ds["x"].isel(context=0, time=-1).values
    assert_fixed_points_match(ends, ref.fixed_points[ref.stable], atol=1e-6)


# --------------------------------------------------------------- the helpers
def test_assert_allclose_is_strict():
    assert_allclose(torch.tensor([1.0, 2.0], dtype=F64), np.array([1.0, 2.0 + 1e-13]))
    assert_allclose(np.zeros((2, 3)), 0.0)
    with pytest.raises(AssertionError, match="shape"):
        assert_allclose(np.zeros(3), np.zeros((1, 3)))
    with pytest.raises(AssertionError):
        assert_allclose([1.0], [1.0 + 1e-9])
    with pytest.raises(AssertionError):
        assert_allclose([np.nan], [np.nan])
    assert_allclose([np.nan], [np.nan], equal_nan=True)
    assert_allclose([1.0], [1.1], rtol=0.1)


def test_assert_identical_and_fixed_point_matching_can_fail():
    assert_identical(np.arange(3.0), np.arange(3.0))
    with pytest.raises(AssertionError, match="dtype"):
        assert_identical(np.arange(3.0), np.arange(3.0, dtype=np.float32))
    with pytest.raises(AssertionError, match="differ"):
        assert_identical(np.array([0.0]), np.array([-0.0]))
    expected = np.array([[0.0, 0.0], [1.0, 1.0], [-1.0, -1.0]])
    assert_fixed_points_match(expected[::-1] + 1e-9, expected, atol=1e-8)
    with pytest.raises(AssertionError, match="expected but not found"):
        assert_fixed_points_match(expected[:2], expected, atol=1e-8)
    with pytest.raises(AssertionError, match="found but not expected"):
        assert_fixed_points_match(np.vstack([expected, [[2.0, 0.0]]]), expected, atol=1e-8)

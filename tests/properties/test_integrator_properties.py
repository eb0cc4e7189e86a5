"""Integrator invariants (Hypothesis), in float64.

* A linear circuit (``phi="linear"``, either form) obeys ``tau dx/dt = (W - I) x + ext``,
  solved exactly here with a matrix exponential (an augmented matrix carries the
  constant drive, so nothing is inverted). Forward Euler and exponential Euler
  converge to it with order 1: the slope of log(error) against log(dt) is 1.
* Without recurrence, exponential Euler is exact.
* Time rescaling: the dynamics depend on time only through ``t / tau``, so scaling
  ``tau`` and ``dt`` by the same factor ``c`` (and the noise by ``1/sqrt(c)``, whose
  increments scale with ``sqrt(dt)``) gives the same states at every step, with
  the time coordinate scaled by ``c``.
"""
from __future__ import annotations

import numpy as np
import scipy.linalg
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from neurobias.circuit import FORMS, METHODS, PHI_NAMES, Circuit, simulate

SETTINGS = settings(max_examples=12, deadline=None, derandomize=True, database=None)


def exact_linear(W: np.ndarray, ext: np.ndarray, x0: np.ndarray, tau: float, t: float) -> np.ndarray:
    """x(t) of ``tau dx/dt = (W - I) x + ext``: the top block of ``expm(t A) [x0; 1]``."""
    n = len(x0)
    A = np.zeros((n + 1, n + 1))
    A[:n, :n] = (W - np.eye(n)) / tau
    A[:n, n] = ext / tau
    return (scipy.linalg.expm(t * A) @ np.append(x0, 1.0))[:n]


@st.composite
def linear_problems(draw):  # noqa: ANN201
    n = draw(st.integers(1, 6))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    g = draw(st.floats(0.1, 1.5))
    W = rng.normal(0.0, g / np.sqrt(n), size=(n, n))
    return {
        "W": W, "W_in": rng.normal(size=(n, 2)), "u": rng.normal(size=2), "tonic": rng.normal(size=n),
        "x0": rng.normal(size=n), "tau": draw(st.floats(2.0, 50.0)), "form": draw(st.sampled_from(FORMS)),
        "method": draw(st.sampled_from(METHODS)),
    }


def _final_error(p: dict, dt: float, t_end: float) -> float:
    circuit = Circuit.from_arrays(W_rec=p["W"], W_in=p["W_in"], tau=p["tau"], phi="linear", form=p["form"])
    n_time = int(round(t_end / dt))
    inputs = np.broadcast_to(p["u"], (1, n_time, 2))
    ds = simulate(circuit, p["tonic"], inputs=inputs, x0=p["x0"], dt=dt, method=p["method"])
    assert np.isclose(float(ds["time"].values[-1]), t_end, rtol=1e-12)
    exact = exact_linear(p["W"], p["W_in"] @ p["u"] + p["tonic"], p["x0"], p["tau"], t_end)
    return float(np.max(np.abs(ds["x"].values[0, 0, -1] - exact)))


@SETTINGS
@given(p=linear_problems())
def test_linear_circuit_converges_with_order_one(p):
    t_end = 2.0 * p["tau"]
    dts = p["tau"] * np.array([0.04, 0.02, 0.01, 0.005])
    errors = np.array([_final_error(p, dt, t_end) for dt in dts])
    scale = np.max(np.abs(exact_linear(p["W"], p["W_in"] @ p["u"] + p["tonic"], p["x0"], p["tau"], t_end))) + 1.0
    assume(errors[-1] > 1e-9 * scale)  # truncation error, far above round-off (not a problem solved exactly)
    slope = float(np.polyfit(np.log(dts), np.log(errors), 1)[0])
    assert abs(slope - 1.0) < 0.1, (slope, errors)
    assert np.all(np.diff(errors) < 0), errors


@SETTINGS
@given(p=linear_problems())
def test_exp_euler_is_exact_without_recurrence(p):
    p = {**p, "W": np.zeros_like(p["W"]), "method": "exp_euler"}
    t_end = 2.0 * p["tau"]
    err = _final_error(p, 0.1 * p["tau"], t_end)
    assert err < 1e-12 * (1 + np.max(np.abs(p["x0"])) + np.max(np.abs(p["W_in"] @ p["u"] + p["tonic"])))
    # ... while Euler is not (the check can fail)
    assert _final_error({**p, "method": "euler"}, 0.1 * p["tau"], t_end) > 1e-6 * np.max(np.abs(p["x0"] - 0))


@SETTINGS
@given(
    n=st.integers(1, 5), seed=st.integers(0, 2**32 - 1), c=st.floats(0.25, 4.0),
    tau=st.floats(2.0, 30.0), phi=st.sampled_from(PHI_NAMES), form=st.sampled_from(FORMS),
    method=st.sampled_from(METHODS), noise=st.sampled_from([0.0, 0.05]),
)
def test_scaling_tau_and_dt_together_leaves_the_trajectory_unchanged(n, seed, c, tau, phi, form, method, noise):
    rng = np.random.default_rng(seed)
    W, W_in = rng.normal(0.0, 1.2 / np.sqrt(n), size=(n, n)), rng.normal(size=(n, 1))
    tonic, x0 = rng.normal(size=(2, n)), rng.normal(size=n)
    inputs = rng.normal(size=(2, 1, 30, 1))  # (context, trial, time, input): a different input each step
    dt = 0.2 * tau

    def run(tau_: float, dt_: float, noise_: float):  # noqa: ANN202
        circuit = Circuit.from_arrays(W_rec=W, W_in=W_in, tau=tau_, phi=phi, form=form)
        return simulate(circuit, tonic, inputs=inputs, x0=x0, dt=dt_, method=method, noise_std=noise_, seed=5)

    a, b = run(tau, dt, noise), run(c * tau, c * dt, noise / np.sqrt(c))
    np.testing.assert_allclose(b["time"].values, c * a["time"].values, rtol=1e-12)
    for var in ("x", "r", "z"):
        np.testing.assert_allclose(b[var].values, a[var].values, rtol=1e-9, atol=1e-12, err_msg=var)
    assume(c < 0.9 or c > 1.1)
    # the time constant matters on its own: scaling tau alone changes the trajectory (the check can fail)
    changed = run(c * tau, dt, noise)
    assert not np.allclose(changed["x"].values, a["x"].values, rtol=1e-6, atol=1e-9)

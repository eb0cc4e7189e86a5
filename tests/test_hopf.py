"""The first Lyapunov coefficient of Hopf points, against a separate NumPy implementation.

The reference evaluates Kuznetsov's formula (Elements of Applied Bifurcation Theory, eq. 3.20) with the
transfer function's derivatives written out by hand (tanh, sigmoid), NumPy's eigenvectors and NumPy's solves;
the code under test takes the derivatives by differences of the circuit's Jacobian products and its vectors
by inverse iteration.  Hopf points are built, not searched: a state ``x`` and a gain ``gamma`` of the weights
at which the rightmost complex pair of the Jacobian is on the imaginary axis (``brentq`` on its real part),
and the tonic input that makes ``x`` a fixed point.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.optimize import brentq
from scipy.special import expit, logit

from neurobias.analysis.continuation import continue_fixed_points
from neurobias.analysis.hopf import first_lyapunov_coefficient
from neurobias.circuit import Circuit

TAU = 10.0


def _derivatives(phi: str, u: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if phi == "tanh":
        t = np.tanh(u)
        d1 = 1 - t * t
        return d1, -2 * t * d1, -2 * d1 * (1 - 3 * t * t)
    s = expit(u)
    d1 = s * (1 - s)
    return d1, d1 * (1 - 2 * s), d1 * (1 - 6 * s + 6 * s * s)


def _reference_l1(W: np.ndarray, x: np.ndarray, b: np.ndarray, phi: str, form: str) -> float:
    """Kuznetsov's formula in NumPy for ``tau dx/dt = -x + W phi(x) + b`` (current) or ``-x + phi(W x + b)``
    (rate); the result does not depend on ``tau``."""
    n = len(x)
    if form == "current":
        d1, d2, d3 = _derivatives(phi, x)
        A = -np.eye(n) + W * d1[None, :]

        def B(u, v):
            return W @ (d2 * u * v)

        def C(u, v, w):
            return W @ (d3 * u * v * w)
    else:
        d1, d2, d3 = _derivatives(phi, W @ x + b)
        A = -np.eye(n) + d1[:, None] * W

        def B(u, v):
            return d2 * (W @ u) * (W @ v)

        def C(u, v, w):
            return d3 * (W @ u) * (W @ v) * (W @ w)
    ev, V = np.linalg.eig(A)
    i = int(np.argmin(np.abs(ev.real) + 1e3 * (ev.imag <= 0)))
    omega = ev[i].imag
    q = V[:, i] / np.linalg.norm(V[:, i])
    evl, U = np.linalg.eig(A.T)
    p = U[:, int(np.argmin(np.abs(evl + 1j * omega)))]
    p = p / np.conj(np.vdot(p, q))
    qb = np.conj(q)
    total = (np.vdot(p, C(q, q, qb)) - 2 * np.vdot(p, B(q, np.linalg.solve(A, B(q, qb))))
             + np.vdot(p, B(qb, np.linalg.solve(2j * omega * np.eye(n) - A, B(q, q)))))
    return float(total.real / (2 * omega))


PHI = {"tanh": (np.tanh, np.arctanh), "sigmoid": (expit, logit)}


def _hopf_point(W0: np.ndarray, x: np.ndarray, phi: str, form: str) -> tuple[np.ndarray, np.ndarray, float] | None:
    """``W = gamma W0`` and ``b`` with a Hopf point at ``x``; returns ``W``, ``b`` and ``omega`` (per tau), or
    None when no ``gamma`` in (0.05, 8) brings a pair across the imaginary axis."""
    n = len(x)
    f, f_inv = PHI[phi]

    def jac(gamma):
        W = gamma * W0
        if form == "current":
            return -np.eye(n) + W * _derivatives(phi, x)[0][None, :]
        return -np.eye(n) + _derivatives(phi, f_inv(x))[0][:, None] * W  # W x + b = phi^-1(x) at the point

    def rightmost_pair(gamma):
        ev = np.linalg.eigvals(jac(gamma))
        return ev[ev.imag > 1e-9].real.max() if np.any(ev.imag > 1e-9) else np.nan

    gammas = np.linspace(0.05, 8.0, 800)
    vals = np.array([rightmost_pair(g) for g in gammas])
    k = next((j for j in range(len(gammas) - 1) if vals[j] < 0 < vals[j + 1]), None)
    if k is None:
        return None
    gamma = brentq(rightmost_pair, gammas[k], gammas[k + 1], xtol=1e-15)
    W = gamma * W0
    b = x - W @ f(x) if form == "current" else f_inv(x) - W @ x
    ev = np.linalg.eigvals(jac(gamma))
    pairs = ev[ev.imag > 1e-9]
    return W, b, float(pairs.imag[np.argmax(pairs.real)])


def _l1(W, x, b, phi, form, omega_per_tau):
    c = Circuit.from_arrays(W_rec=W, tau=TAU, phi=phi, form=form)
    return first_lyapunov_coefficient(c.dynamics(dtype="float64"), torch.tensor(x), torch.tensor(b),
                                      omega_per_tau / TAU)


@pytest.mark.parametrize("phi,form,n,seed", [("tanh", "current", 2, 0), ("tanh", "current", 2, 3),
                                             ("tanh", "current", 6, 1), ("tanh", "current", 9, 2),
                                             ("sigmoid", "rate", 2, 4), ("sigmoid", "rate", 7, 5),
                                             ("tanh", "rate", 5, 6)])
def test_the_first_lyapunov_coefficient_matches_a_separate_numpy_formula(phi, form, n, seed):
    rng = np.random.default_rng(seed)
    point = None
    for _ in range(100):  # draws until one has a Hopf point (the first few for most seeds)
        if point is not None:
            break
        R = rng.standard_normal((n, n))
        W0 = R + 1.5 * (R - R.T)  # a rotating part: complex eigenvalues
        if form == "current":
            x = rng.uniform(-1.2, 1.2, n)
        else:
            x = rng.uniform(0.15, 0.85, n) if phi == "sigmoid" else rng.uniform(-0.7, 0.7, n)
        point = _hopf_point(W0, x, phi, form)
    assert point is not None, "no Hopf point in 100 draws"
    W, b, omega = point
    assert np.abs(np.tril(W, -1)).max() > 0.1 and np.abs(np.triu(W, 1)).max() > 0.1  # dense, not triangular
    ref = _reference_l1(W, x, b, phi, form)
    assert abs(ref) > 1e-3
    assert _l1(W, x, b, phi, form, omega) == pytest.approx(ref, rel=1e-7, abs=1e-10)


def test_no_coefficient_where_the_critical_pair_is_not_an_eigenvalue():
    """The guard on the critical vectors: a frequency that is not the Jacobian's gives NaN, not a number."""
    W = np.array([[0.791, -1.482], [5.078, 5.59]])
    W_h, b, omega = _hopf_point(W / 2.0, np.array([-1.0, 1.2]), "tanh", "current")
    assert np.isfinite(_l1(W_h, np.array([-1.0, 1.2]), b, "tanh", "current", omega))
    assert np.isnan(_l1(W_h, np.array([-1.0, 1.2]), b, "tanh", "current", 1.3 * omega))


def test_a_relu_circuit_has_no_lyapunov_coefficient():
    c = Circuit.from_arrays(W_rec=[[1.5, -1.0], [1.0, 1.5]], tau=TAU, phi="relu")
    assert np.isnan(first_lyapunov_coefficient(c.dynamics(dtype="float64"), torch.tensor([0.3, 0.2]),
                                               torch.tensor([0.1, 0.1]), 0.05))


def test_the_continuation_reports_each_hopf_point_super_or_subcritical():
    """The rotation block whose cycle shrinks, stable, onto its Hopf point (tests/test_periodic_orbits.py) is
    supercritical; the circuit whose unstable cycle shrinks onto it (tests/test_cycle_bifurcations.py) subcritical."""
    super_c = Circuit.from_arrays(W_rec=[[1.5, -1.0], [1.0, 1.5]], tau=TAU)
    fp = continue_fixed_points(super_c, start=np.zeros(2), end=np.array([2.0, 1.0]), fixed_points=np.zeros((1, 2)),
                               find_end=False)
    W_sub = np.array([[0.791, -1.482], [5.078, 5.59]])
    b_near, direction = np.array([0.7775, 0.5814]), np.array([-0.9297, -0.3682])
    sub_c = Circuit.from_arrays(W_rec=W_sub, tau=TAU)
    fp_sub = continue_fixed_points(sub_c, start=b_near - 0.05 * direction, end=b_near + 0.05 * direction)
    for ds, W, b0, b1, sign in ((fp, super_c.W_rec, np.zeros(2), np.array([2.0, 1.0]), -1),
                                (fp_sub, W_sub, b_near - 0.05 * direction, b_near + 0.05 * direction, 1)):
        kinds = ds["bif_kind"].values.tolist()
        assert kinds.count("hopf") == 1
        k = kinds.index("hopf")
        l1 = float(ds["bif_lyapunov"].values[k])
        assert np.sign(l1) == sign
        x, s = ds["bif_x"].values[k], float(ds["bif_s"].values[k])
        assert l1 == pytest.approx(_reference_l1(np.asarray(W), x, b0 + s * (b1 - b0), "tanh", "current"), rel=1e-6)
        assert np.all(np.isnan(np.delete(ds["bif_lyapunov"].values, k)))


def test_the_report_names_the_kind_of_hopf_point_only_as_far_as_it_holds():
    from neurobias.workflows.report import HOPF_KINDS, _bifurcation_words, _hopf_note

    def event(l1, before, after):
        return {"kind": "hopf", "s": 0.5, "before": before, "after": after, "lyapunov": l1}

    def words(l1, before, after):
        return _bifurcation_words(event(l1, before, after), 10)

    assert words(-0.3, 0, 2) == "loses stability at a supercritical Hopf bifurcation (s = 0.5)"
    assert words(0.3, 2, 0) == "becomes stable at a subcritical Hopf bifurcation (s = 0.5)"
    # with other unstable directions, cycles that attract in the plane of the pair are saddles
    assert words(-0.3, 2, 4) == "goes from 2 to 4 unstable directions at a supercritical Hopf bifurcation (its small " \
        "cycles are saddles) (s = 0.5)"
    assert words(float("nan"), 0, 2) == "loses stability at a Hopf bifurcation (s = 0.5)"
    # the report explains the two kinds once, below the sentences, when one of them names a kind
    assert _hopf_note([{"events": [event(float("nan"), 0, 2)]}, {"events": [event(-0.3, 0, 2)]}]) == HOPF_KINDS
    assert _hopf_note([{"events": [event(float("nan"), 0, 2), {"kind": "fold", "s": 0.1, "before": 0,
                                                                "after": 1, "lyapunov": float("nan")}]}]) == ""

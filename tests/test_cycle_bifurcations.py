"""Bifurcations of cycles, located, against separate SciPy computations: a fold of cycles (2 units), a period
doubling (3 units) and a torus bifurcation (4 units).

The circuit has two units and a subcritical Hopf point: its first Lyapunov coefficient is positive (1.18 for
the eigenvectors normalised to unit length), so that the cycle born there is unstable and grows as the fixed
point gains stability, until it meets the large stable cycle in a fold of cycles.  Between the fold and the
Hopf point a stable cycle and a stable fixed point coexist.  (Found by a search over random 2-unit circuits for
a positive coefficient and a unique fixed point.)

The reference fold is computed with SciPy alone: the return map ``P(r; s)`` of the ray ``x = c + r e_0`` (DOP853,
rtol 1e-12), a cycle being ``P(r; s) = r``; along the family of cycles ``s(r)`` is smallest at the fold.  The
reference Hopf point is Newton's method on ``x = W tanh(x) + b(s)`` and ``trace J = 0``.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.optimize import brentq, fsolve, minimize_scalar

from neurobias.analysis import periodic_orbits as po
from neurobias.analysis.continuation import continue_fixed_points
from neurobias.analysis.periodic_orbits import continue_periodic_orbits, find_periodic_orbits, oscillation_along_path
from neurobias.circuit import Circuit
from neurobias.workflows.report import summarize_path

TAU = 10.0
W = np.array([[0.791, -1.482], [5.078, 5.59]])
B_HOPF_NEAR = np.array([0.7775, 0.5814])
DIRECTION = np.array([-0.9297, -0.3682])
B_START, B_END = B_HOPF_NEAR - 0.05 * DIRECTION, B_HOPF_NEAR + 0.05 * DIRECTION  # fixed point at 0; cycle at 1


def _b(s: float) -> np.ndarray:
    return B_START + s * (B_END - B_START)


def _flow(t, x, b):
    return -x + W @ np.tanh(x) + b  # in units of tau: the orbits' shapes and s do not depend on tau


def _reference_fold() -> float:
    """``s`` at the fold of cycles, from the return map of a ray (SciPy only)."""
    opts = dict(method="DOP853", rtol=1e-12, atol=1e-13)
    c = fsolve(lambda x: _flow(0, x, _b(0.435)), np.array([0.5, 0.5]), xtol=1e-13)

    def ret(r: float, s: float) -> float:
        b = _b(s)
        x0 = np.array([c[0] + r, c[1]])
        up = np.sign(_flow(0, x0, b)[1])
        first = solve_ivp(_flow, (0.0, 0.5), x0, args=(b,), **opts)  # leave the ray before watching for it

        def back(t, x, b):
            return x[1] - c[1]

        back.terminal, back.direction = True, up
        sol = solve_ivp(_flow, (0.0, 100.0), first.y[:, -1], args=(b,), events=back, **opts)
        return float(sol.y_events[0][0][0] - c[0])

    def s_of(r: float) -> float:
        return brentq(lambda s: ret(r, s) - r, 0.43, 0.445, xtol=1e-15, rtol=1e-15)

    # no cycle crosses the ray below the fold; two do above it
    assert all(ret(r, 0.43) < r for r in (0.5, 1.0, 1.5, 2.0, 2.5, 3.0))
    assert ret(0.5, 0.44) < 0.5 and ret(1.8, 0.44) > 1.8 and ret(3.0, 0.44) < 3.0
    best = minimize_scalar(s_of, bounds=(1.4, 2.6), method="bounded", options=dict(xatol=1e-6))
    return float(best.fun)


def _reference_hopf() -> float:
    def F(y):
        x, s = y[:2], y[2]
        J = -np.eye(2) + W / np.cosh(x)[None, :] ** 2
        return np.append(_flow(0, x, _b(s)), np.trace(J))

    y = fsolve(F, np.array([-1.0, 1.2, 0.5]), xtol=1e-14)
    assert np.abs(F(y)).max() < 1e-12
    return float(y[2])


@pytest.fixture(scope="module")
def fold_branch():
    c = Circuit.from_arrays(W_rec=W, tau=TAU)
    orbits = find_periodic_orbits(c, B_END[None], steps_per_tau=20.0)
    assert bool(orbits["converged"][0])
    return c, continue_periodic_orbits(c, orbits, start=B_START, end=B_END)


def test_a_fold_of_cycles_is_located_and_the_branch_ends_at_the_subcritical_hopf_point(fold_branch):
    c, cyc = fold_branch
    s_fold, s_hopf = _reference_fold(), _reference_hopf()
    assert 0.43 < s_fold < s_hopf < 0.51
    assert cyc["end_reason"].values.tolist() == ["hopf"]
    kinds = cyc["event_kind"].values.tolist()
    assert kinds == ["fold", "hopf"]
    fold = kinds.index("fold")
    assert bool(cyc["event_located"].values[fold]) and not bool(cyc["event_located"].values[kinds.index("hopf")])
    # RK4 at tau / 20 against DOP853: the fold agrees to the discretisation error (1.5e-6 at tau / 5, 4e-9 at
    # tau / 40: fourth order)
    assert abs(float(cyc["event_s"].values[fold]) - s_fold) <= 1e-7
    assert abs(float(cyc["end_s"][0]) - s_hopf) <= 1e-5
    n = int(cyc["n_points"][0])
    s, unstable = cyc["s"].values[0, :n], cyc["n_unstable"].values[0, :n]
    turn = int(np.argmin(s))  # the located fold is a point of the branch, labelled
    assert cyc["label"].values[0, turn] == "fold" and s[turn] == float(cyc["event_s"].values[fold])
    assert np.all(unstable[:turn] == 0) and np.all(unstable[turn + 1:] == 1)  # stable, then unstable
    # the branch went back up towards the Hopf point on small cycles, not past it
    assert np.all(np.diff(s[turn + 1:]) > 0) and s[-1] < s_hopf
    # the fixed-point continuation finds the same Hopf point; the path summary names the fold and the coexistence
    fp = continue_fixed_points(c, start=B_START, end=B_END)
    path = oscillation_along_path(fp, cyc, c)
    assert abs(float(path["hopf_s"][0]) - s_hopf) <= 1e-8
    assert path["cycle_event_kind"].values.tolist() == ["fold"] and bool(path["cycle_event_located"][0])
    # the stable cycle and the stable fixed point coexist from the fold to the Hopf point
    assert path.sizes["coexistence"] == 1
    assert float(path["coexist_low"][0]) == float(cyc["event_s"].values[fold])
    assert abs(float(path["coexist_high"][0]) - s_hopf) <= 1e-8
    text = summarize_path(path)
    assert f"has a fold of cycles (two cycles meet and vanish; the branch turns back) at s = " \
           f"{float(cyc['event_s'].values[fold]):.6f}" in text
    assert f"For {float(cyc['event_s'].values[fold]):.4g} <= s <= {s_hopf:.4g} the cycle of context0, stable " \
           "there, coexists with a stable fixed point" in text
    # and a free simulation shows it: inside that stretch the cycle keeps oscillating, and a state next to the
    # fixed point comes to rest
    s_mid = 0.5 * (s_fold + s_hopf)
    opts = dict(method="DOP853", rtol=1e-10, atol=1e-12)
    x_cycle = cyc["x0"].values[0, 0]
    osc = solve_ivp(_flow, (0.0, 400.0), x_cycle, args=(_b(s_mid),), **opts)
    assert np.ptp(osc.y[0, osc.t > 300.0]) > 1.0
    rest = fsolve(lambda x: _flow(0, x, _b(s_mid)), np.array([-1.0, 1.2]), xtol=1e-13)
    settle = solve_ivp(_flow, (0.0, 400.0), rest + 1e-3, args=(_b(s_mid),), **opts)
    assert np.abs(settle.y[:, -1] - rest).max() < 1e-6


def _parabola(s_f: float, sigma_f: float, kappa: float):
    """A branch ``s(sigma) = s_f + kappa (sigma - sigma_f)^2`` with its unit tangent's s-component."""
    def correct(sigma: float):
        ds = 2 * kappa * (sigma - sigma_f)
        return SimpleNamespace(s=s_f + kappa * (sigma - sigma_f) ** 2), (None, None, ds / np.hypot(1.0, ds))
    return correct


@pytest.mark.parametrize("sigma_f", [0.001, 0.37, 0.999])
def test_the_locator_finds_where_a_test_function_vanishes_inside_the_step(sigma_f):
    correct = _parabola(0.25, sigma_f, 3.0)
    calls = []

    def counted(sigma):
        calls.append(sigma)
        return correct(sigma)

    f_a, f_b = correct(0.0)[1][2], correct(1.0)[1][2]
    sigma, found = po._locate(counted, 1.0, f_a, f_b, lambda sol, t: t[2])
    assert found.s == pytest.approx(0.25, abs=1e-14) and sigma == pytest.approx(sigma_f, abs=1e-7)
    assert len(calls) <= po.LOCATE_ITERATIONS and all(0.0 < c < 1.0 for c in calls)


def test_the_locator_gives_up_without_a_sign_change_or_when_the_corrector_fails():
    correct = _parabola(0.25, 0.5, 3.0)
    assert po._locate(correct, 0.4, correct(0.0)[1][2], correct(0.4)[1][2], lambda sol, t: t[2]) is None

    def failing(sigma):
        raise po._NoConvergence("no")

    assert po._locate(failing, 1.0, -1.0, 1.0, lambda sol, t: t[2]) is None
    # a corrector that fails after a first evaluation far from the root: nothing is claimed located
    calls = []

    def fails_later(sigma):
        calls.append(sigma)
        if len(calls) > 1:
            raise po._NoConvergence("no")
        return _parabola(0.25, 0.37, 3.0)(sigma)

    f_b = _parabola(0.25, 0.37, 3.0)(1.0)[1][2]
    assert po._locate(fails_later, 1.0, _parabola(0.25, 0.37, 3.0)(0.0)[1][2], f_b, lambda sol, t: t[2]) is None
    assert len(calls) == 2
    # a test function that is not finite, or one that changes sign without passing through zero
    assert po._locate(correct, 1.0, -1.0, 1.0, lambda sol, t: float("nan")) is None
    jump = po._locate(lambda sigma: (SimpleNamespace(s=sigma), None), 1.0, -1.0, 1.0,
                      lambda sol, t: -1.0 if sol.s < 0.3 else 1.0)
    assert jump is None


def test_orbit_continuation_files_without_event_located_still_read(tmp_path):
    """Files written before ``event_located`` existed validate and feed the path summary."""
    from neurobias.io.schema import validate

    c = Circuit.from_arrays(W_rec=[[1.5, -1.0], [1.0, 1.5]], tau=TAU)
    orbits = find_periodic_orbits(c, np.zeros((1, 2)))
    cyc = continue_periodic_orbits(c, orbits, start=np.zeros(2), end=np.array([2.0, 1.0]), steps=5)
    old = cyc.drop_vars("event_located")
    old.attrs["kind"], old.attrs["schema_version"] = "orbit_continuation", 1
    validate(old, "orbit_continuation")
    fp = continue_fixed_points(c, start=np.zeros(2), end=np.array([2.0, 1.0]), fixed_points=np.zeros((1, 2)),
                               find_end=False)
    assert "cycle of" in summarize_path(oscillation_along_path(fp, old, c))


def test_the_cycle_figure_marks_the_fold_and_dashes_the_unstable_cycles(fold_branch):
    import matplotlib

    matplotlib.use("Agg")
    from neurobias.plotting.orbits import plot_cycle_frequency

    _, cyc = fold_branch
    ax = plot_cycle_frequency(cyc)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "fold of cycles" in labels and "cycle from context0 (dashed: unstable)" in labels
    fold = cyc["event_kind"].values.tolist().index("fold")
    marker = next(line for line in ax.lines if line.get_label() == "fold of cycles")
    assert marker.get_xdata()[0] == float(cyc["event_s"].values[fold])
    solid = next(line for line in ax.lines if line.get_label().startswith("cycle from"))
    # the solid line leaves out the unstable cycles: NaN exactly where n_unstable > 0
    n = int(cyc["n_points"][0])
    assert np.array_equal(np.isnan(solid.get_ydata()), cyc["n_unstable"].values[0, :n] > 0)
    import matplotlib.pyplot as plt

    plt.close(ax.figure)


# ---------------------------------------------------------------------------------------- period doubling, torus
#: a 3-unit circuit whose cycle at s = 1 has a real multiplier that reaches -1 as s decreases (a chaotic
#: 3-neuron network at b = 0, brought back to a cycle by a bias on unit 3); a 4-unit circuit of two coupled
#: rotation blocks whose cycle's complex pair of multipliers leaves the unit circle as the second block's bias
#: drops (found by a helper search; each crossing is computed below from scratch)
PD_CIRCUIT = (np.array([[2.0, -1.2, 0.0], [1.9995, 1.71, 1.15], [-4.75, 0.0, 1.1]]),
              np.array([0.05, 0.0, 0.1]), np.array([-0.05, 0.05, 0.6]), (0.3, 0.45))
TORUS_CIRCUIT = (np.array([[2.0, -2.0, -0.2, 0.0], [2.0, 2.0, 0.0, 0.1], [0.3, 0.0, 1.5, -2.5], [0.0, 0.0, 2.5, 1.5]]),
                 np.array([0.07, 0.0, 1.3, 1.3]), np.array([0.05, 0.0, 1.5, 1.5]), (0.45, 0.55))


def _cycle_and_multipliers(W, b, x0, T):
    """The cycle through the section ``x_0 = 0`` near ``(x0, T)`` (Newton on the DOP853 flow map and its
    variational equation, in units of tau) and its Floquet multipliers."""
    n = len(b)
    opts = dict(method="DOP853", rtol=1e-12, atol=1e-13)

    def rhs(t, y):
        x, V = y[:n], y[n:].reshape(n, n)
        return np.concatenate([-x + W @ np.tanh(x) + b, ((-np.eye(n) + W / np.cosh(x)[None, :] ** 2) @ V).ravel()])

    for _ in range(30):
        end = solve_ivp(rhs, (0.0, T), np.concatenate([x0, np.eye(n).ravel()]), **opts).y[:, -1]
        M = end[n:].reshape(n, n)
        r = end[:n] - x0
        f_end = -end[:n] + W @ np.tanh(end[:n]) + b
        K = np.column_stack([(M - np.eye(n))[:, 1:], f_end])  # x0[0] stays 0 (the section)
        step = np.linalg.solve(K, -r)
        x0 = x0 + np.concatenate([[0.0], step[:-1]])
        T = T + step[-1]
        if np.abs(step).max() < 1e-12:
            break
    assert np.abs(r).max() < 1e-10
    return x0, T, np.linalg.eigvals(M)


def _reference_crossing(case, kind: str) -> float:
    """``s`` where the multiplier crosses (``min Re mu + 1`` for a period doubling, the complex pair's
    ``|mu| - 1`` for a torus), by ``brentq``, the cycle followed from ``s = 1``."""
    W, b0, b1, (lo, hi) = case
    n = len(b0)
    warm = solve_ivp(lambda t, x: -x + W @ np.tanh(x) + b1, (0.0, 500.0), np.full(n, 0.1), method="DOP853",
                     rtol=1e-10, atol=1e-12, dense_output=True)
    g = warm.y[0]
    i = np.nonzero((g[:-1] < 0) & (g[1:] >= 0))[0]
    times = [brentq(lambda t: warm.sol(t)[0], warm.t[j], warm.t[j + 1], xtol=1e-13) for j in i[-3:]]
    state = {"x0": warm.sol(times[-1]), "T": times[-1] - times[-2]}

    def test(s: float) -> float:
        x0, T, mu = _cycle_and_multipliers(W, b0 + s * (b1 - b0), state["x0"], state["T"])
        state["x0"], state["T"] = x0, T
        if kind == "period_doubling":
            return float(mu[np.abs(mu.imag) < 1e-9].real.min() + 1.0)
        return float(np.abs(mu[mu.imag > 1e-9]).max() - 1.0)

    for s in np.linspace(1.0, hi, 8):  # walk the cycle down from s = 1
        test(float(s))
    assert test(hi) > 0 > test(lo) if kind == "period_doubling" else test(hi) < 0 < test(lo)
    return brentq(test, lo, hi, xtol=1e-13)


@pytest.mark.parametrize("case,kind", [(PD_CIRCUIT, "period_doubling"), (TORUS_CIRCUIT, "torus")],
                         ids=["period_doubling", "torus"])
def test_period_doubling_and_torus_bifurcations_of_cycles_are_located(case, kind):
    W, b0, b1, _ = case
    c = Circuit.from_arrays(W_rec=W, tau=TAU)
    orbits = find_periodic_orbits(c, b1[None], steps_per_tau=80.0)
    cyc = continue_periodic_orbits(c, orbits, start=b0, end=b1)
    s_ref = _reference_crossing(case, kind)
    assert cyc["end_reason"].values.tolist() == ["reached_end"]
    assert cyc["event_kind"].values.tolist() == [kind] and bool(cyc["event_located"][0])
    # RK4 at tau / 80 against DOP853 (1e-6 at the default step, 1e-8 at tau / 40)
    assert abs(float(cyc["event_s"][0]) - s_ref) <= 1e-8
    n = int(cyc["n_points"][0])
    at = int(np.flatnonzero(cyc["label"].values[0, :n] == kind)[0])
    assert float(cyc["s"].values[0, at]) == float(cyc["event_s"][0])
    mu = cyc["multiplier_real"].values[0, at] + 1j * cyc["multiplier_imag"].values[0, at]
    if kind == "period_doubling":
        assert np.min(np.abs(mu + 1.0)) <= 1e-8
    else:
        assert np.min(np.abs(np.abs(mu[np.abs(mu.imag) > 1e-3]) - 1.0)) <= 1e-8
    # stable from s = 1 down to the crossing, one unstable direction (two for the pair) beyond it
    unstable = cyc["n_unstable"].values[0, :n]
    assert np.all(unstable[:at] == 0) and np.all(unstable[at + 1:] == (1 if kind == "period_doubling" else 2))


def test_a_bifurcation_met_by_the_branches_from_both_ends_is_listed_once():
    """Two branches of one family of cycles, from s = 0 and from s = 1, both pass its fold: the path lists the
    fold once (where it was located) and the stretch of coexistence once."""
    import xarray as xr

    s0 = np.array([0.0, 0.2, 0.4, 0.45, 0.5])  # from s = 0: stable cycles up to the fold at 0.5, then unstable
    s1 = np.array([1.0, 0.8, 0.6, 0.5, np.nan])  # from s = 1: unstable cycles down to the same fold
    cycles = xr.Dataset(
        {"s": (("branch", "step"), np.stack([s0, s1])),
         "frequency": (("branch", "step"), np.full((2, 5), 2.0)),
         "n_unstable": (("branch", "step"), np.array([[0, 0, 0, 0, 0], [1, 1, 1, 1, -1]])),
         "end_s": (("branch",), np.array([0.5, 0.5])),
         "end_reason": (("branch",), np.array(["max_steps", "max_steps"])),
         "branch_context": (("branch",), np.array(["A", "B"])),
         "event_branch": (("event",), np.array([0, 1, 1])),
         "event_kind": (("event",), np.array(["fold", "fold", "torus"])),
         "event_s": (("event",), np.array([0.5, 0.5 + 1e-9, 0.7])),
         "event_located": (("event",), np.array([False, True, False]))})
    continuation = xr.Dataset(
        {"s": (("branch", "step"), np.array([[0.0, 0.3, 0.6, 1.0]])),
         "x": (("branch", "step", "unit"), np.zeros((1, 4, 2))),
         "index": (("branch", "step"), np.array([[0, 0, 0, 0]])),
         "bif_kind": (("bifurcation",), np.array([], dtype=str)),
         "bif_s": (("bifurcation",), np.array([], dtype=float))})
    path = oscillation_along_path(continuation, cycles)
    assert path["cycle_event_kind"].values.tolist() == ["fold", "torus"]
    assert path["cycle_event_s"].values[0] == 0.5 + 1e-9 and bool(path["cycle_event_located"].values[0])
    assert path["cycle_event_branch"].values.tolist() == [1, 1]
    # the stable cycles of branch A (s from 0 to 0.5) coexist with the stable fixed point over that stretch
    assert path["coexist_branch"].values.tolist() == [0]
    assert path["coexist_low"].values.tolist() == [0.0] and path["coexist_high"].values.tolist() == [0.5]

"""Periodic orbits and their continuation against independent high-accuracy computations.

The reference for a cycle is a 2-unit oscillating block integrated by SciPy
(DOP853, rtol 1e-12): period from Poincare-section crossings located on the
dense output, monodromy by central finite differences of the flow map
(Richardson-extrapolated in the step); never the shooting code itself.
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

from neurobias.analysis.continuation import continue_fixed_points
from neurobias.analysis.periodic_orbits import continue_periodic_orbits, find_periodic_orbits
from neurobias.circuit import Circuit
from neurobias.circuit.dynamics import Dynamics

TAU = 10.0
A, W_ROT = 1.1, 0.6  # a weakly attracting cycle: the non-trivial multiplier is not tiny
B_BLOCK = np.array([0.05, -0.03])


def _block_flow(x):
    W = np.array([[A, -W_ROT], [W_ROT, A]])
    return (-x + W @ np.tanh(x) + B_BLOCK) / TAU


def _reference_cycle() -> tuple[float, np.ndarray]:
    """Period (ms) and multipliers of the 2-unit block's cycle, by SciPy alone."""
    opts = dict(method="DOP853", rtol=1e-12, atol=1e-14)
    warm = solve_ivp(lambda t, x: _block_flow(x), (0.0, 3000.0), np.array([0.5, 0.0]), **opts)
    sol = solve_ivp(lambda t, x: _block_flow(x), (0.0, 600.0), warm.y[:, -1], dense_output=True, **opts)
    level = 0.0
    g = sol.y[0] - level
    times = [brentq(lambda t: sol.sol(t)[0] - level, sol.t[i], sol.t[i + 1], xtol=1e-14)
             for i in np.nonzero((g[:-1] < 0) & (g[1:] >= 0))[0]]
    assert len(times) >= 3
    T = float(np.mean(np.diff(times)))
    x0 = sol.sol(times[-1])

    def flow_map(x):
        return solve_ivp(lambda t, y: _block_flow(y), (0.0, T), x, **opts).y[:, -1]

    def central(d):
        return np.column_stack([(flow_map(x0 + d * e) - flow_map(x0 - d * e)) / (2 * d) for e in np.eye(2)])

    d = 1e-3
    M = (4.0 * central(d / 2) - central(d)) / 3.0  # Richardson: O(d^4)
    return T, np.linalg.eigvals(M)


def _listening_circuit(n: int = 64) -> Circuit:
    """Units 0 and 1 oscillate; units 2.. only listen to them (no input from each other or back)."""
    rng = np.random.default_rng(7)
    W = np.zeros((n, n))
    W[:2, :2] = [[A, -W_ROT], [W_ROT, A]]
    W[2:, :2] = rng.standard_normal((n - 2, 2))
    return Circuit.from_arrays(W_rec=W, W_out=rng.standard_normal((1, n)) / 8, tau=TAU)


def test_cycle_of_a_block_with_listeners_matches_an_independent_2d_computation():
    c = _listening_circuit()
    tonic = np.zeros(64)
    tonic[:2] = B_BLOCK
    tonic[2:] = np.linspace(-0.5, 0.5, 62)
    ds = find_periodic_orbits(c, tonic[None], steps_per_tau=80)
    T_ref, mu_ref = _reference_cycle()
    assert bool(ds["converged"][0]) and ds["reason"].values[0] == ""
    T = float(ds["period"][0])
    assert T == pytest.approx(T_ref, rel=1e-8)
    assert float(ds["frequency"][0]) == pytest.approx(1000.0 / T_ref, rel=1e-8)
    mu = ds["multiplier_real"].values[0] + 1j * ds["multiplier_imag"].values[0]
    assert mu.shape == (64,) and np.all(np.isfinite(mu))  # all 64 multipliers (exact Newton for N <= 64)
    trivial = int(np.argmin(np.abs(mu - 1.0)))
    assert abs(mu[trivial] - 1.0) <= 1e-8
    assert float(ds["trivial_multiplier_error"][0]) <= 1e-8
    rest = np.delete(mu, trivial)
    # the block's own non-trivial multiplier, against the finite-difference monodromy
    mu2_ref = mu_ref[np.argmin(np.abs(mu_ref - 1.0)) - 1]
    assert abs(mu_ref[np.argmin(np.abs(mu_ref - 1.0))] - 1.0) <= 1e-7  # the reference sees the trivial one too
    assert 1e-3 < abs(mu2_ref) < 1.0
    assert rest[0].real == pytest.approx(mu2_ref.real, rel=1e-8) and abs(rest[0].imag) <= 1e-12
    # the 62 listening units relax with the leak alone: multipliers exp(-T / tau)
    np.testing.assert_allclose(np.abs(rest[1:]), np.exp(-T_ref / TAU), rtol=1e-8)
    assert ds["stability"].values[0] == "stable" and int(ds["n_unstable"][0]) == 0
    # the orbit on its phase grid closes, and is a solution of the block's ODE
    x = ds["x"].values[0]
    assert x.shape == (100, 64)
    assert float(ds["amplitude"][0]) == pytest.approx(0.5 * np.ptp(x, axis=0).max())
    assert float(ds["residual"][0]) <= 1e-9
    assert ds["z"].shape == (1, 100, 1)


def test_newton_picard_with_few_tangent_vectors_finds_the_same_cycle():
    c = _listening_circuit()
    tonic = np.zeros(64)
    tonic[:2] = B_BLOCK
    full = find_periodic_orbits(c, tonic[None], steps_per_tau=20)
    few = find_periodic_orbits(c, tonic[None], steps_per_tau=20, n_multipliers=6)
    assert float(few["period"][0]) == pytest.approx(float(full["period"][0]), rel=1e-10)
    mu_full = full["multiplier_real"].values[0, :2]
    mu_few = few["multiplier_real"].values[0, :2]
    np.testing.assert_allclose(mu_few, mu_full, rtol=1e-7)
    assert few.sizes["multiplier"] == 6


def test_contexts_without_a_cycle_are_reported_not_converged_with_a_reason():
    c = _listening_circuit(8)
    bank = np.zeros((2, 8))
    bank[0, :2] = B_BLOCK  # oscillates
    bank[1, :2] = [2.0, 2.0]  # pushes the block far out: a stable fixed point
    ds = find_periodic_orbits(c, bank, steps_per_tau=10)
    assert ds["converged"].values.tolist() == [True, False]
    assert "fixed point" in ds["reason"].values[1]
    assert "\n" not in ds["reason"].values[1]
    assert np.isnan(ds["period"].values[1]) and ds["stability"].values[1] == "not converged"
    assert np.isnan(ds["x"].values[1]).all()


def test_a_period_guess_twice_the_period_is_refused_not_returned():
    c = _listening_circuit(8)
    tonic = np.zeros(8)
    tonic[:2] = B_BLOCK
    good = find_periodic_orbits(c, tonic[None], steps_per_tau=10)
    bad = find_periodic_orbits(c, tonic[None], steps_per_tau=10, period_guess=2 * float(good["period"][0]))
    assert not bool(bad["converged"][0])
    assert "period" in bad["reason"].values[0]


def test_a_cycle_branch_stopped_by_its_step_budget_ends_at_its_last_point():
    """``end_s`` and ``end_period`` of a branch that ran out of steps are its last point's, not NaN."""
    c = Circuit.from_arrays(W_rec=[[1.5, -1.0], [1.0, 1.5]], tau=TAU)
    orbits = find_periodic_orbits(c, np.zeros((1, 2)))
    cyc = continue_periodic_orbits(c, orbits, start=np.zeros(2), end=np.array([2.0, 1.0]), steps=3)
    assert cyc["end_reason"].values.tolist() == ["max_steps"]
    n = int(cyc["n_points"][0])
    assert 0.0 < float(cyc["end_s"][0]) == float(cyc["s"].values[0, n - 1]) < 1.0
    assert float(cyc["end_period"][0]) == pytest.approx(1000.0 / float(cyc["frequency"].values[0, n - 1]), rel=1e-12)


def test_cycle_continuation_ends_at_the_hopf_point_of_the_fixed_point_branch():
    a, w = 1.5, 1.0
    c = Circuit.from_arrays(W_rec=[[a, -w], [w, a]], tau=TAU)
    b_end = np.array([2.0, 1.0])
    orbits = find_periodic_orbits(c, np.zeros((1, 2)))
    fp = continue_fixed_points(c, start=np.zeros(2), end=b_end, fixed_points=np.zeros((1, 2)), find_end=False)
    hopf = fp["bif_kind"].values == "hopf"
    s_h, omega = float(fp["bif_s"].values[hopf][0]), float(fp["bif_eig_imag"].values[hopf][0])
    cyc = continue_periodic_orbits(c, orbits, start=np.zeros(2), end=b_end)
    assert cyc["end_reason"].values.tolist() == ["hopf"]
    assert float(cyc["end_s"][0]) == pytest.approx(s_h, abs=1e-6)
    # the cycle is born with the Hopf pair's frequency
    assert float(cyc["end_period"][0]) == pytest.approx(2 * np.pi / omega, rel=1e-4)
    n = int(cyc["n_points"][0])
    s, amp = cyc["s"].values[0, :n], cyc["amplitude"].values[0, :n]
    assert np.all(np.diff(s) > 0) and amp[-1] < 0.02 * amp[0]
    assert cyc["event_kind"].values.tolist() == ["hopf"]


def test_tangent_products_match_the_jacobian():
    import torch

    rng = np.random.default_rng(0)
    W = torch.tensor(rng.standard_normal((5, 5)), dtype=torch.float64)
    x, ext = (torch.tensor(rng.standard_normal(5), dtype=torch.float64) for _ in range(2))
    V = torch.tensor(rng.standard_normal((5, 3)), dtype=torch.float64)
    for form in ("current", "rate"):
        dyn = Dynamics(W_rec=W, tau=TAU, phi="tanh", form=form)
        J = dyn.jacobian(x, ext)
        torch.testing.assert_close(dyn.jacobian_product(x, ext, V), J @ V, rtol=1e-14, atol=1e-14)
        F, JV = dyn.field_and_jacobian_product(x, ext, V)
        torch.testing.assert_close(F, dyn.vector_field(x, ext), rtol=1e-14, atol=1e-14)
        torch.testing.assert_close(JV, J @ V, rtol=1e-14, atol=1e-14)


def test_files_and_figures_of_orbits_and_cycle_branches(tmp_path):
    from matplotlib.figure import Figure

    from neurobias.io.netcdf import read_dataset, write_dataset
    from neurobias.plotting.orbits import plot_cycle_diagram, plot_orbits

    c = Circuit.from_arrays(W_rec=[[1.5, -1.0], [1.0, 1.5]], W_out=[[1.0, 0.5]], tau=TAU)
    orbits = find_periodic_orbits(c, np.array([[0.0, 0.0], [3.0, 3.0]]))
    assert orbits["converged"].values.tolist() == [True, False]
    back = read_dataset(write_dataset(orbits, tmp_path / "orbits.nc", kind="periodic_orbits"), kind="periodic_orbits")
    np.testing.assert_array_equal(back["period"].values, orbits["period"].values)
    for name, var in orbits.data_vars.items():
        assert var.attrs.get("long_name"), name
    b_end = np.array([0.6, 0.3])
    fp = continue_fixed_points(c, start=np.zeros(2), end=b_end, fixed_points=np.zeros((1, 2)), find_end=False)
    cyc = continue_periodic_orbits(c, orbits.isel(orbit=[0]), start=np.zeros(2), end=b_end, steps=3)
    assert cyc["end_reason"].values.tolist() == ["max_steps"]
    write_dataset(cyc, tmp_path / "cycles.nc", kind="orbit_continuation")
    ax = plot_orbits(orbits)
    assert len(ax.lines) == 2  # one converged orbit: its curve and its section point
    assert isinstance(plot_cycle_diagram(fp, cyc), Figure)


def _slaved_circuit(n: int = 64, seed: int = 7) -> tuple[Circuit, np.ndarray, np.ndarray]:
    """The oscillating block drives ``n - 2`` units that feed one another forward (strictly lower triangular)
    and never back, and a path that pushes the block's drive until its cycle dies.

    The monodromy matrix of its cycle is far from normal: the slaved units' response to a shift of the
    block's phase makes its largest singular value 13.8 at the start while its eigenvalues other than 1 are
    0.14 and below.
    """
    rng = np.random.default_rng(seed)
    W = np.zeros((n, n))
    W[:2, :2] = [[A, -W_ROT], [W_ROT, A]]
    W[2:, :2] = 2.0 * rng.standard_normal((n - 2, 2))
    W[2:, 2:] = np.tril(0.9 / np.sqrt(n) * rng.standard_normal((n - 2, n - 2)), -1)
    b0 = np.zeros(n)
    b0[:2] = B_BLOCK
    b0[2:] = rng.uniform(-0.5, 0.5, n - 2)
    b1 = b0.copy()
    b1[:2] = [1.2, 0.6]
    return Circuit.from_arrays(W_rec=W, W_out=rng.standard_normal((1, n)) / 8, tau=TAU), b0, b1


def _block_hopf_s(b0: np.ndarray, b1: np.ndarray) -> float:
    """Where the block's fixed point loses its oscillation, by the 2-unit block alone.

    On the path ``b(s) = b0 + s (b1 - b0)`` the block's fixed point solves ``x = W_b tanh(x) + b(s)``; its
    Jacobian ``(-I + W_b diag(sech^2 x)) / tau`` has a complex pair whose real part is half the trace, zero
    where ``A (sech^2 x_0 + sech^2 x_1) = 2``.  The slaved units relax at ``-1 / tau`` and take no part.
    """
    Wb = np.array([[A, -W_ROT], [W_ROT, A]])
    guess = np.zeros(2)
    pair = [False]

    def trace(s: float) -> float:
        nonlocal guess
        b = b0[:2] + s * (b1[:2] - b0[:2])
        x = guess.copy()
        for _ in range(50):  # Newton's method in two dimensions
            g = -x + Wb @ np.tanh(x) + b
            x = x - np.linalg.solve(-np.eye(2) + Wb / np.cosh(x)[None, :] ** 2, g)
        assert np.abs(-x + Wb @ np.tanh(x) + b).max() <= 1e-12
        guess = x
        sech2 = 1.0 / np.cosh(x) ** 2
        J = (-np.eye(2) + Wb * sech2[None, :]) / TAU
        pair[0] = bool(np.linalg.det(J) > np.trace(J) ** 2 / 4)
        return A * sech2.sum() - 2.0

    grid = np.linspace(0.0, 1.0, 201)
    values = [trace(s) for s in grid]
    i = next(j for j in range(200) if values[j] > 0 >= values[j + 1])
    guess = np.zeros(2)
    trace(float(grid[i]))
    s_h = float(brentq(trace, grid[i], grid[i + 1], xtol=1e-14))
    assert abs(trace(s_h)) <= 1e-12 and pair[0]  # the trace vanishes with the eigenvalues a complex pair
    return s_h


def test_cycle_continuation_with_few_tangent_vectors_reaches_the_hopf_point_of_a_non_normal_cycle():
    """Shooting steps on a block of 6 tangent vectors converge like Newton's method, so the branch is
    followed to the Hopf point in a few dozen steps (the Picard correction alone converged linearly where the
    monodromy matrix is far from normal, the steps shrank, and the branch stopped short at its step budget)."""
    c, b0, b1 = _slaved_circuit()
    s_h = _block_hopf_s(b0, b1)
    orbits = find_periodic_orbits(c, b0[None], n_multipliers=6)
    assert bool(orbits["converged"][0])
    cyc = continue_periodic_orbits(c, orbits, start=b0, end=b1, steps=60)
    assert cyc["end_reason"].values.tolist() == ["hopf"]
    assert float(cyc["end_s"][0]) == pytest.approx(s_h, abs=1e-6)
    n = int(cyc["n_points"][0])
    assert np.all(np.diff(cyc["s"].values[0, :n]) > 0)


def test_a_shooting_step_with_a_few_tangent_vectors_is_the_newton_step():
    """The step from a point off the cycle, with a block of 4 tangent vectors, against NumPy's solve of the
    bordered system formed from the whole monodromy matrix (central differences of SciPy's DOP853 flow map);
    then the continuation's system, with the derivative along a change of the drive and an arclength row."""
    import torch

    from neurobias.analysis import periodic_orbits as po

    c, b0, _ = _slaved_circuit(24, seed=3)
    orbits = find_periodic_orbits(c, b0[None], n_multipliers=4)
    x_star, T = orbits["x"].values[0, 0], float(orbits["period"][0])
    rng = np.random.default_rng(0)
    x0 = x_star + 1e-3 * rng.standard_normal(24)
    dyn = lambda t, x, b=b0: (-x + c.W_rec @ np.tanh(x) + b) / TAU  # noqa: E731

    def flow(x, b=b0):
        return solve_ivp(dyn, (0.0, T), x, args=(b,), method="DOP853", rtol=1e-12, atol=1e-14).y[:, -1]

    end = flow(x0)
    d = 1e-4
    M = np.column_stack([(flow(x0 + d * e) - flow(x0 - d * e)) / (2 * d) for e in np.eye(24)])
    f_end, f_0 = dyn(0, end), dyn(0, x0)
    K = np.zeros((25, 25))
    K[:24, :24], K[:24, 24], K[24, :24] = M - np.eye(24), f_end, f_0
    ref = np.linalg.solve(K, np.concatenate([x0 - end, [0.0]]))
    # the step of the code, from its own RK4 flow map (fine enough to agree with DOP853 to 1e-9)
    sh = po._Shooter(torch.tensor(c.W_rec), torch.tensor(b0), TAU, "tanh", "current", TAU / 80, 100)
    xt = torch.tensor(x0)
    V = po._initial_basis(sh.f(xt), 4, 0)
    end_t, MV, _ = sh.integrate(xt, T, V=V)
    assert np.abs(end_t.numpy() - end).max() <= 1e-9
    blk = po._Block(V, MV, None)
    r = end_t - xt
    dx, dT, _ = po._correction(sh, xt, T, blk, sh.f(end_t), sh.f(xt), r, 0.0, None, None, rtol=1e-10)
    step = np.concatenate([dx.numpy(), [dT]])
    assert np.abs(step - ref).max() <= 1e-6 * np.abs(ref).max()
    # the Picard correction alone (the complement of the block neglected) is not that step here
    w = po._monodromy_times(sh, xt, T, r - V @ (V.T @ r))
    dx_p, dT_p, _ = po._reduced_solve(blk, sh.f(end_t), sh.f(xt), r, w, 0.0, None)
    picard = np.concatenate([dx_p.numpy(), [dT_p]])
    assert np.abs(picard - ref).max() > 1e-2 * np.abs(ref).max()
    # continuation: the drive moves along db with s; the arclength row c_x . dx + c_T dT + c_s ds = -g
    db = np.linspace(-0.3, 0.5, 24)
    phis = (flow(x0, b0 + d * db) - flow(x0, b0 - d * db)) / (2 * d)
    c_x, c_T, c_s, g = rng.standard_normal(24) / np.sqrt(24), 0.3 / T, 0.5, 1e-3
    K2 = np.zeros((26, 26))
    K2[:25, :25] = K
    K2[:24, 25] = phis
    K2[25, :24], K2[25, 24], K2[25, 25] = c_x, c_T, c_s
    ref2 = np.linalg.solve(K2, np.concatenate([x0 - end, [0.0, -g]]))
    dbt = torch.tensor(db)
    end_t, MV, _ = sh.integrate(xt, T, V=torch.cat([V, torch.zeros(24, 1, dtype=V.dtype)], 1), forcing=dbt)
    blk = po._Block(V, MV[:, :-1], MV[:, -1].clone())
    dx, dT, ds = po._correction(sh, xt, T, blk, sh.f(end_t), sh.f(xt), end_t - xt, 0.0,
                                (torch.tensor(c_x), c_T, c_s, g), dbt, rtol=1e-10)
    step2 = np.concatenate([dx.numpy(), [dT, ds]])
    assert np.abs(step2 - ref2).max() <= 1e-6 * np.abs(ref2).max()


def _saddle_nodes_2d(W: np.ndarray, b_end: np.ndarray) -> list[float]:
    """Every ``s`` in (0, 1) where fixed points of ``x = W tanh(x) + s b_end`` (2 units) appear or vanish.

    Newton's method on ``(x, s)`` for the fixed-point equation and ``det(I - W diag(sech^2 x)) = 0`` (its
    derivative by central differences), from a grid of starting states; solutions are deduplicated.
    """
    def F(y):
        x, s = y[:2], y[2]
        return np.append(x - W @ np.tanh(x) - s * b_end, np.linalg.det(np.eye(2) - W / np.cosh(x)[None, :] ** 2))

    def J(y):
        return np.column_stack([(F(y + 1e-7 * e) - F(y - 1e-7 * e)) / 2e-7 for e in np.eye(3)])

    found: list[float] = []
    for x0 in np.linspace(-3, 3, 13):
        for x1 in np.linspace(-3, 3, 13):
            y = np.array([x0, x1, 0.5])
            for _ in range(60):
                try:
                    step = np.linalg.solve(J(y), -F(y))
                except np.linalg.LinAlgError:
                    break
                y = y + step
                if np.abs(step).max() < 1e-14 or not np.all(np.isfinite(y)) or np.abs(y).max() > 50:
                    break
            if np.all(np.isfinite(y)) and np.abs(y).max() <= 50 and np.abs(F(y)).max() < 1e-12 and 0.0 < y[2] < 1.0:
                if all(abs(y[2] - s) > 1e-9 for s in found):
                    found.append(float(y[2]))
    return sorted(found)


def test_a_cycle_whose_period_diverges_ends_at_the_saddle_node_on_it():
    """A rotation block pushed along one unit's drive: its cycle slows down and dies where a saddle-node pair of
    fixed points appears on it (SNIC).  The branch ends there, at the saddle-node found in two dimensions; the
    last cycle followed has the period of a free DOP853 simulation, and past the saddle-node the circuit rests."""
    from neurobias.analysis.periodic_orbits import oscillation_along_path
    from neurobias.workflows.report import summarize_path

    W = np.array([[1.2, -0.3], [0.3, 1.2]])
    b_end = np.array([1.5, 0.0])
    c = Circuit.from_arrays(W_rec=W, tau=TAU)
    orbits = find_periodic_orbits(c, np.zeros((1, 2)))
    cyc = continue_periodic_orbits(c, orbits, start=np.zeros(2), end=b_end)
    assert cyc["end_reason"].values.tolist() == ["period_diverges"]
    s_c = float(cyc["end_s"][0])
    saddle_nodes = _saddle_nodes_2d(W, b_end)
    s_sn = min(saddle_nodes, key=lambda s: abs(s - s_c))
    assert abs(s_c - s_sn) <= 5e-5
    n = int(cyc["n_points"][0])
    s_last, T_last = float(cyc["s"].values[0, n - 1]), float(cyc["period"].values[0, n - 1])
    assert T_last >= 5 * float(cyc["period"].values[0, 0]) and 0 < s_sn - s_last < 0.01
    # the last cycle followed, against a free simulation (period from upward crossings of x_0 = its mean)
    opts = dict(method="DOP853", rtol=1e-11, atol=1e-13)
    flow = lambda t, x, b: (-x + W @ np.tanh(x) + b) / TAU  # noqa: E731
    x_start = cyc["x0"].values[0, n - 1]
    sol = solve_ivp(flow, (0.0, 4 * T_last), x_start, args=(s_last * b_end,), dense_output=True, **opts)
    level = float(np.mean(sol.y[0]))
    g = sol.y[0] - level
    times = [brentq(lambda t: sol.sol(t)[0] - level, sol.t[i], sol.t[i + 1], xtol=1e-12)
             for i in np.nonzero((g[:-1] < 0) & (g[1:] >= 0))[0]]
    assert len(times) >= 3
    assert float(np.mean(np.diff(times))) == pytest.approx(T_last, rel=1e-6)
    # just past the saddle-node the same state comes to rest
    past = solve_ivp(flow, (0.0, 20 * T_last), x_start, args=((s_sn + 0.002) * b_end,), **opts)
    assert np.abs(flow(0, past.y[:, -1], (s_sn + 0.002) * b_end)).max() < 1e-9
    # the path summary names the fold of the fixed-point continuation
    fp = continue_fixed_points(c, start=np.zeros(2), end=b_end)
    path = oscillation_along_path(fp, cyc, c)
    assert abs(float(path["fold_s"][0]) - s_sn) <= 1e-8
    assert "its period growing without bound; the fixed-point continuation has a fold at " \
        f"s = {s_sn:.6f}" in summarize_path(path)
    assert "a saddle-node on the invariant circle" in summarize_path(path)


def _arclength_points(period, T_first: float, *, h: float = 0.125, s_stop: float = 1.0) -> list[dict]:
    """Points ``(s, T)`` of a synthetic branch ``T = period(s)`` spaced as the continuation spaces them: steps of
    ``h`` in the arclength of ``(s, T / T_first)``."""
    pts, s = [], 0.0
    while s < s_stop and len(pts) < 5000:
        pts.append(dict(s=s, T=float(period(s))))
        slope = (period(s + 1e-9) - period(s)) / 1e-9 / T_first
        s += h / np.sqrt(1.0 + slope * slope)
    return pts


@pytest.mark.parametrize("h", [0.0625, 0.125, 0.25])
def test_a_diverging_period_is_told_from_one_that_only_grows_fast(h):
    """The branch's watch for a diverging period, fed synthetic branches point by point: the period of a cycle
    approaching a saddle-node on the invariant circle, ``A / sqrt(s_c - s) + B``, ends it near ``s_c`` (to 1e-4
    with ``B = 0``, to 5e-3 while ``B`` is still a large part of the period); periods that grow five-fold and
    more without diverging on the path (exponentially, through a narrow peak, towards a divergence beyond the
    path's end) never do."""
    from neurobias.analysis.periodic_orbits import _DivergingPeriod

    def first_end(period, s_stop=1.0):
        T_first = float(period(0.0))
        watch, pts = _DivergingPeriod(T_first), []
        for p in _arclength_points(period, T_first, h=h, s_stop=s_stop):
            pts.append(p)
            s_c = watch.add(pts)
            if s_c is not None:
                return s_c, p["s"]
        return None

    for s_c, B in ((0.31, 0.0), (0.62, -20.0), (0.9, 40.0)):
        found = first_end(lambda s: 25.0 / np.sqrt(s_c - s) + B, s_stop=s_c)
        assert found is not None
        assert abs(found[0] - s_c) <= (1e-4 if B == 0.0 else 5e-3) and found[1] < s_c
    for period in (lambda s: 100.0 * np.exp(4.0 * s), lambda s: 100.0 * np.exp(6.0 * s),
                   lambda s: 10.0 / np.sqrt(1e-3 + (s - 0.5) ** 2), lambda s: 30.0 / (1.3 - s) ** 2):
        assert first_end(period) is None

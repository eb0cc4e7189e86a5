"""Bifurcations of fixed points read pair by pair, against answers computed independently.

Ground truths: closed forms, or an independent low-dimensional computation
(Newton with numpy's dense solver along the branch, eigenvalues from numpy,
SciPy's ``brentq`` on the test function), never the continuation itself.
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import block_diag
from scipy.optimize import brentq

from neurobias.analysis.continuation import continue_fixed_points
from neurobias.analysis.eigen_tracking import match_eigenvalues, pair_events
from neurobias.circuit import Circuit

TAU = 10.0


def _solve(F, J, x0, *, iterations: int = 50) -> np.ndarray:
    """Newton's method with numpy's dense solver (the reference's own root finder), to machine precision."""
    x = np.array(x0, dtype=np.float64)
    for _ in range(iterations):
        dx = np.linalg.solve(J(x), -F(x))
        x = x + dx
        if np.max(np.abs(dx)) <= 1e-15 * (1.0 + np.max(np.abs(x))):
            break
    assert np.max(np.abs(F(x))) <= 1e-13
    return x


def _tanh_fp(W: np.ndarray, b: np.ndarray, guess: np.ndarray) -> np.ndarray:
    """The fixed point of -x + W tanh(x) + b near ``guess`` (current form)."""
    n = W.shape[0]
    return _solve(lambda x: -x + W @ np.tanh(x) + b, lambda x: -np.eye(n) + W * (1.0 / np.cosh(x) ** 2)[None, :],
                  guess)


def _rotation(a: float, w: float) -> np.ndarray:
    return np.array([[a, -w], [w, a]])


def _block_hopf(a: float, w: float, beta: np.ndarray) -> float:
    """The first s > 0 where the fixed point of x = W tanh(x) + s beta (2 units, from 0) has trace J = 0."""
    W = _rotation(a, w)

    def trace(x):
        return -2.0 + a * np.sum(1.0 / np.cosh(x) ** 2)

    x, prev = np.zeros(2), trace(np.zeros(2))
    grid = np.linspace(0.0, 4.0, 801)
    for s0, s1 in zip(grid[:-1], grid[1:]):
        x1 = _tanh_fp(W, s1 * beta, x)
        if np.sign(trace(x1)) != np.sign(prev):
            guess = x
            s_b = brentq(lambda s: trace(_tanh_fp(W, s * beta, guess)), s0, s1, xtol=1e-16, rtol=1e-15)
            x_b = _tanh_fp(W, s_b * beta, guess)
            # a Hopf point: the pair is complex there (det J > (trace J / 2)^2 = 0)
            g = 1.0 / np.cosh(x_b) ** 2
            assert np.linalg.det(-np.eye(2) + W * g[None, :]) > 1e-3
            return float(s_b)
        x, prev = x1, trace(x1)
    raise AssertionError("no Hopf point in the reference scan")


def test_hopf_point_of_a_rotation_block_to_1e_10():
    a, w = 1.5, 3.0
    beta = np.array([0.5, 1.5])
    s_ref = _block_hopf(a, w, beta)
    c = Circuit.from_arrays(W_rec=_rotation(a, w), tau=TAU)
    b_end = beta * s_ref / 0.45  # the Hopf point at s = 0.45 of the path
    ds = continue_fixed_points(c, start=np.zeros(2), end=b_end, fixed_points=np.zeros((1, 2)), find_end=False)
    assert list(ds["bif_kind"].values) == ["hopf"]
    assert ds["bif_s"].values[0] == pytest.approx(0.45, abs=1e-10)
    # the critical pair sits on the imaginary axis with nonzero frequency, at a true fixed point
    assert abs(ds["bif_eig_real"].values[0]) <= 1e-12
    assert abs(ds["bif_eig_imag"].values[0]) > 0.1
    assert ds["bif_residual"].values[0] <= 1e-10
    assert bool(ds["bif_located"].values[0])
    # the located point is a row of the branch, labelled there: table and branch agree
    row = int(ds["bif_step"].values[0])
    assert ds["label"].values[0, row] == "hopf"
    assert ds["s"].values[0, row] == ds["bif_s"].values[0]
    np.testing.assert_array_equal(ds["x"].values[0, row], ds["bif_x"].values[0])
    # an unstable focus before (two unstable modes), stable after
    assert ds["index"].values[0, row - 1] == 2 and ds["index"].values[0, row + 1] == 0


# (a, w, direction of the tonic input, s of the Hopf point); each block's branch has no fold before s = 1
_BLOCKS = [(1.3, 4.0, np.array([0.5, 1.5]), 0.25), (1.5, 3.0, np.array([0.5, 1.5]), 0.5),
           (1.2, 10.0, np.array([0.5, 1.5]), 0.75)]


def _three_blocks() -> tuple[np.ndarray, np.ndarray, list[float]]:
    """Three rotation blocks, all unstable foci at the start, each crossing at its own s (found by SciPy)."""
    W = block_diag(*[_rotation(a, w) for a, w, _, _ in _BLOCKS])
    b_end, targets = [], []
    for a, w, beta, target in _BLOCKS:
        b_end.append(beta * _block_hopf(a, w, beta) / target)
        targets.append(target)
    return W, np.concatenate(b_end), targets


def test_several_unstable_pairs_each_cross_at_its_own_s():
    W, b_end, targets = _three_blocks()
    c = Circuit.from_arrays(W_rec=W, tau=TAU)
    ds = continue_fixed_points(c, start=np.zeros(6), end=b_end, fixed_points=np.zeros((1, 6)), find_end=False)
    assert int(ds["start_index"][0]) == 6  # three unstable pairs at once
    hopf = ds["bif_kind"].values == "hopf"
    assert set(ds["bif_kind"].values) == {"hopf"}
    np.testing.assert_allclose(np.sort(ds["bif_s"].values[hopf]), targets, rtol=0, atol=1e-8)
    # the unstable count drops by two at each located crossing
    rows = ds["bif_step"].values[hopf]
    assert [int(ds["index"].values[0, r + 1]) for r in sorted(rows)] == [4, 2, 0]
    # the same bifurcations when the spectrum is computed only every 7 steps
    sparse = continue_fixed_points(c, start=np.zeros(6), end=b_end, fixed_points=np.zeros((1, 6)), find_end=False,
                                   eig_every=7)
    assert list(sparse["bif_kind"].values) == list(ds["bif_kind"].values)
    np.testing.assert_allclose(sparse["bif_s"].values, ds["bif_s"].values, rtol=0, atol=1e-10)
    assert (sparse["index"].values[0] == -1).any()  # spectra were skipped away from the crossings


def _tracked_hopf_reference(W: np.ndarray, b_end: np.ndarray) -> list[float]:
    """Hopf points along the branch from the origin, by numpy/SciPy alone: Newton along s, numpy eigenvalues matched by
    nearest neighbour between grid points, brentq on the real part of each crossing pair."""
    n = W.shape[0]

    def fp(s, guess):
        return _tanh_fp(W, s * b_end, guess)

    def eig(x):
        return np.linalg.eigvals((-np.eye(n) + W * (1.0 / np.cosh(x) ** 2)[None, :]) / TAU)

    grid = np.linspace(0.0, 1.0, 401)
    x = fp(0.0, np.zeros(n))
    lam = eig(x)
    out = []
    for s0, s1 in zip(grid[:-1], grid[1:]):
        x1 = fp(s1, x)
        lam1 = eig(x1)
        matched = lam1[[int(np.argmin(np.abs(lam1 - v))) for v in lam]]
        for i in range(n):
            if lam[i].imag > 1e-6 and matched[i].imag > 1e-6 and np.sign(lam[i].real) != np.sign(matched[i].real):
                start, target = x, lam[i]

                def re(s):
                    vals = eig(fp(s, start))
                    return float(vals[np.argmin(np.abs(vals - target))].real)

                out.append(brentq(re, s0, s1, xtol=1e-15))
        x, lam = x1, matched
    return sorted(out)


def test_dense_coupled_circuit_hopf_points_match_an_independent_tracking():
    # the three blocks coupled by a dense random matrix: not block-diagonal, not triangular
    W, b_end, _ = _three_blocks()
    W = W + 0.15 * np.random.default_rng(3).standard_normal(W.shape)
    c = Circuit.from_arrays(W_rec=W, tau=TAU)
    ds = continue_fixed_points(c, start=np.zeros(6), end=b_end, fixed_points=np.zeros((1, 6)), find_end=False)
    ref = _tracked_hopf_reference(W, b_end)
    assert len(ref) >= 2
    got = np.sort(ds["bif_s"].values[ds["bif_kind"].values == "hopf"])
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-8)


def test_unstable_pair_meeting_on_the_real_axis_is_a_collision_not_hopf():
    W = np.array([[2.834, -0.626], [0.855, 2.834]])
    c = Circuit.from_arrays(W_rec=W, tau=TAU)
    ds = continue_fixed_points(c, start=np.zeros(2), end=np.array([-2.111, -3.796]), seed=0, n_candidates=64)
    kinds = list(ds["bif_kind"].values)
    assert "hopf" not in kinds
    assert "hopf" not in set(ds["label"].values.ravel())
    coll = ds["bif_kind"].values == "collision"
    assert coll.sum() == 1
    s_c = float(ds["bif_s"].values[coll][0])
    assert 0.393 < s_c < 0.398  # between the focus at 0.393 and the node at 0.398 (both unstable)
    # independent check at the collision: the Jacobian's discriminant vanishes, both eigenvalues unstable
    x = ds["bif_x"].values[coll][0]
    J = (-np.eye(2) + W * (1.0 / np.cosh(x) ** 2)[None, :]) / TAU
    disc = np.trace(J) ** 2 - 4 * np.linalg.det(J)
    assert abs(disc) <= 1e-9 and np.trace(J) > 0


def test_branch_point_of_a_symmetric_circuit_matches_the_closed_form():
    # W = [[p, q], [q, p]]: on the symmetric branch x1 = x2 = y, -y + (p + q) tanh(y) + b = 0; the antisymmetric
    # eigenvalue (-1 + (p - q) sech^2 y) / tau crosses zero at sech^2 y = 1 / (p - q) while s keeps its direction
    p, q, B = 0.5, -1.0, 2.0
    c = Circuit.from_arrays(W_rec=[[p, q], [q, p]], tau=TAU)
    ds = continue_fixed_points(c, start=np.zeros(2), end=np.array([B, B]), fixed_points=np.zeros((1, 2)),
                               find_end=False)
    y = np.arccosh(np.sqrt(p - q))
    s_ref = (y - (p + q) * np.tanh(y)) / B
    assert list(ds["bif_kind"].values) == ["branch_point"]
    assert ds["bif_s"].values[0] == pytest.approx(s_ref, abs=1e-10)
    np.testing.assert_allclose(ds["bif_x"].values[0], [y, y], atol=1e-8)
    assert abs(ds["bif_eig_real"].values[0]) <= 1e-8 and ds["bif_eig_imag"].values[0] == 0.0
    assert ds["end_reason"].values[0] == "reached_end"
    row = int(ds["bif_step"].values[0])
    assert ds["index"].values[0, row - 1] == 1 and ds["index"].values[0, row + 1] == 0
    assert ds["label"].values[0, row] == "branch_point"


def test_rate_form_map_is_judged_by_its_multipliers_and_period_doubling_is_located():
    # one unit, rate form, stepped at dt = tau: the map r -> tanh(w r + b) with multiplier mu = w (1 - r^2).
    # With w = -3 the flow is always stable (lambda = (mu - 1) / tau < 0) but the map is unstable at b = 0
    # (mu = -3); mu = -1 where 1 - r^2 = 1/3: r* = sqrt(2/3), b* = artanh(r*) - w r*
    w, B = -3.0, 4.0
    c = Circuit.from_arrays(W_rec=[[w]], tau=TAU, form="rate")
    ds = continue_fixed_points(c, start=np.zeros(1), end=np.array([B]), fixed_points=np.zeros((1, 1)),
                               find_end=False, dt=TAU)
    r_star = np.sqrt(2.0 / 3.0)
    s_ref = (np.arctanh(r_star) - w * r_star) / B
    assert ds.attrs["stability"] == "flow and map"
    assert ds.attrs["map_dt"] == TAU and ds.attrs["map_method"] == "euler"
    assert list(ds["bif_kind"].values) == ["period_doubling"]
    assert ds["bif_s"].values[0] == pytest.approx(s_ref, abs=1e-10)
    assert ds["bif_x"].values[0, 0] == pytest.approx(r_star, abs=1e-9)
    assert ds["bif_multiplier_real"].values[0] == pytest.approx(-1.0, abs=1e-10)
    n = int(ds["n_points"][0])
    index, map_index = ds["index"].values[0, :n], ds["map_index"].values[0, :n]
    assert (index == 0).all()  # stable as a flow everywhere
    row = int(ds["bif_step"].values[0])
    assert (map_index[:row] == 1).all() and (map_index[row + 1:] == 0).all()
    # the flow alone reports nothing
    flow = continue_fixed_points(c, start=np.zeros(1), end=np.array([B]), fixed_points=np.zeros((1, 1)),
                                 find_end=False)
    assert flow.attrs["stability"] == "flow" and flow.sizes["bifurcation"] == 0 and "map_index" not in flow


def test_neimark_sacker_of_a_rate_form_map():
    # two units, rate form at dt = tau: r -> tanh(W r + b) with W = rho R(theta); at r = 0 the multipliers are
    # rho e^{+-i theta} (modulus 1.2 > 1: unstable map, stable flow since Re(mu) - 1 < 0); along b = s (B, 0)
    # the modulus falls through 1 at a point found independently by SciPy
    rho, theta, B = 1.2, 2.0, 1.5
    W = rho * np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    c = Circuit.from_arrays(W_rec=W, tau=TAU, form="rate")
    ds = continue_fixed_points(c, start=np.zeros(2), end=np.array([B, 0.0]), fixed_points=np.zeros((1, 2)),
                               find_end=False, dt=TAU)

    def fp(s, guess):
        def F(r):
            return r - np.tanh(W @ r + np.array([s * B, 0.0]))

        def J(r):
            return np.eye(2) - (1.0 - np.tanh(W @ r + np.array([s * B, 0.0])) ** 2)[:, None] * W

        return _solve(F, J, guess)

    def modulus(s, guess=np.zeros(2)):
        r = fp(s, guess)
        g = 1.0 - np.tanh(W @ r + np.array([s * B, 0.0])) ** 2
        return np.abs(np.linalg.eigvals(g[:, None] * W)).max() - 1.0

    grid = np.linspace(0.0, 1.0, 201)
    vals = [modulus(s) for s in grid]
    k = next(i for i in range(200) if np.sign(vals[i]) != np.sign(vals[i + 1]))
    s_ref = brentq(modulus, grid[k], grid[k + 1], xtol=1e-14)
    ns = ds["bif_kind"].values == "neimark_sacker"
    assert ns.sum() == 1
    assert ds["bif_s"].values[ns][0] == pytest.approx(s_ref, abs=1e-9)
    mu = ds["bif_multiplier_real"].values[ns][0] + 1j * ds["bif_multiplier_imag"].values[ns][0]
    assert abs(mu) == pytest.approx(1.0, abs=1e-10) and abs(mu.imag) > 0.1
    assert "hopf" not in set(ds["bif_kind"].values)


def test_pair_events_read_one_eigenvalue_at_a_time():
    # a complex pair turning real while unstable: a collision; another pair crossing the axis: Hopf
    before = np.array([0.07 + 0.01j, 0.07 - 0.01j, 0.01 + 0.5j, 0.01 - 0.5j, -1.0])
    after = np.array([0.08, 0.05, -0.01 + 0.5j, -0.01 - 0.5j, -1.0])
    shuffled = after[[3, 0, 4, 2, 1]]
    matched = match_eigenvalues(before, shuffled)
    kinds = sorted(e.kind for e in pair_events(before, matched))
    assert kinds == ["collision", "hopf"]
    # sorting by real part would have paired the pairs differently; matching keeps each eigenvalue's identity
    # (the two real eigenvalues born from the colliding pair are equally near both members: either order)
    np.testing.assert_array_equal(matched[2:], after[2:])
    assert sorted(matched[:2].real) == [0.05, 0.08]


def test_map_stability_of_fixed_points_found_for_the_flow():
    from neurobias.analysis import find_fixed_points
    from neurobias.analysis.maps import map_multipliers, map_stability

    # r -> tanh(w r + b) with w = -3, b = 0: the only fixed point is r = 0 with multiplier w = -3 at dt = tau;
    # for the flow lambda = (w - 1) / tau < 0: stable. Closed form for both.
    c = Circuit.from_arrays(W_rec=[[-3.0]], tau=TAU, form="rate")
    fps = find_fixed_points(c, np.zeros((1, 1)), n_candidates=16, seed=0)
    fixed = fps.where(fps["kind"] == "fixed", drop=True)
    assert fixed.sizes["fp"] == 1 and str(fixed["stability"].values[0]) == "stable"
    judged = map_stability(fixed, c, np.zeros((1, 1)), dt=TAU)
    assert judged.attrs["stability"] == "flow and map"
    assert str(judged["map_stability"].values[0]) == "unstable" and int(judged["map_index"].values[0]) == 1
    assert judged["leading_multiplier_real"].values[0] == pytest.approx(-3.0, abs=1e-12)
    assert str(judged["stability"].values[0]) == "stable"  # the flow's verdict is kept
    # half the step: mu = 1 + (1/2) tau lambda = 1 - 2 = -1 is marginal; a quarter: 1 - 1 = 0 stable
    assert map_multipliers(np.array([-4.0 / TAU]), tau=TAU, dt=TAU / 2)[0] == pytest.approx(-1.0)
    quarter = map_stability(fixed, c, np.zeros((1, 1)), dt=TAU / 4)
    assert str(quarter["map_stability"].values[0]) == "stable"


# ----------------------------------------------------------------------------- near a Bogdanov-Takens point
A_BT, W_BT = 1.5, 0.5


def _bogdanov_takens() -> tuple[np.ndarray, np.ndarray]:
    """Weights and the drive ``b`` of the 2-unit rotation circuit at which its Jacobian is nilpotent.

    With ``D = diag(sech^2 x)``, ``J = (-I + W D) / tau`` has trace and determinant zero where
    ``a (d_0 + d_1) = 2`` and ``(a^2 + w^2) d_0 d_1 = 1``: ``d_0, d_1`` are the roots of a quadratic.
    """
    W = np.array([[A_BT, -W_BT], [W_BT, A_BT]])
    p, q = 2.0 / A_BT, 1.0 / (A_BT ** 2 + W_BT ** 2)
    d = np.array([p + np.sqrt(p * p - 4 * q), p - np.sqrt(p * p - 4 * q)]) / 2
    x = np.arccosh(1.0 / np.sqrt(d)) * np.array([1.0, -1.0])
    return W, x - W @ np.tanh(x)


def _branch_events_2d(W: np.ndarray, b0: np.ndarray, b1: np.ndarray, x_start: np.ndarray) -> list[tuple[str, float]]:
    """Folds and Hopf points along the fixed points of ``b0 + s (b1 - b0)`` from ``x_start``, in two dimensions.

    The branch ``G(x, s) = x - W tanh(x) - b(s) = 0`` is followed by pseudo-arclength steps of 1e-3 (NumPy's
    dense solves and SVD) until ``s`` leaves [0, 1]; where ``det J`` (a fold) or, with ``det J > 0``, the
    trace (a Hopf point) changes sign between two steps, the event solves ``G = 0`` together with its test
    function by Newton's method in (x, s) from the bracket, with a finite-difference derivative of the test.
    """
    db = b1 - b0

    def G(y):
        return y[:2] - W @ np.tanh(y[:2]) - b0 - y[2] * db

    def DG(y):
        return np.column_stack([np.eye(2) - W / np.cosh(y[:2])[None, :] ** 2, -db])

    def J(y):
        return (-np.eye(2) + W / np.cosh(y[:2])[None, :] ** 2) / TAU

    tests = {"fold": lambda y: np.linalg.det(J(y)), "hopf": lambda y: np.trace(J(y))}
    y = _solve(lambda x: G(np.append(x, 0.0)), lambda x: DG(np.append(x, 0.0))[:, :2], x_start)
    y = np.append(y, 0.0)
    t = np.linalg.svd(DG(y))[2][-1]
    t = t if t[2] > 0 else -t
    h, events = 1e-3, []
    while 0.0 <= y[2] <= 1.0:
        y_new = _solve(lambda z: np.append(G(z), t @ (z - y) - h), lambda z: np.vstack([DG(z), t]), y + h * t)
        t_new = np.linalg.svd(DG(y_new))[2][-1]
        t_new = t_new if t_new @ t > 0 else -t_new
        for kind, test in tests.items():
            if np.sign(test(y)) == np.sign(test(y_new)):
                continue
            if kind == "hopf" and min(np.linalg.det(J(y)), np.linalg.det(J(y_new))) <= 0:
                continue  # the trace of two real eigenvalues of opposite sign: no pair crosses

            def Fe(z, test=test):
                return np.append(G(z), test(z))

            def Je(z, test=test):
                grad = np.array([(test(z + 1e-7 * e) - test(z - 1e-7 * e)) / 2e-7 for e in np.eye(3)])
                return np.vstack([DG(z), grad])

            z = _solve(Fe, Je, 0.5 * (y + y_new))
            if 0.0 <= z[2] <= 1.0:
                events.append((kind, float(z[2])))
        y, t = y_new, t_new
    return sorted(events, key=lambda e: e[1])


@pytest.mark.parametrize("offset,angle", [(0.002, 2.1), (0.01, 2.1), (0.001, 2.3), (0.003, 2.3)])
def test_a_hopf_point_next_to_a_fold_near_a_bogdanov_takens_point_is_found(offset, angle):
    """Near a Bogdanov-Takens point a fold, a stable pair forming on the real axis and a Hopf point lie within
    one continuation step: every fold and Hopf point of the branch is found, none is reported as a collision."""
    W, b_bt = _bogdanov_takens()
    direction = np.array([np.cos(angle), np.sin(angle)])
    normal = np.array([-direction[1], direction[0]])
    b0, b1 = b_bt + offset * normal - 0.6 * direction, b_bt + offset * normal + 0.6 * direction
    c = Circuit.from_arrays(W_rec=W, tau=TAU)
    ds = continue_fixed_points(c, start=b0, end=b1)
    through = [i for i in range(ds.sizes["branch"]) if float(ds["s"].values[i, 0]) == 0.0
               and ds["end_reason"].values[i] == "reached_end"]
    assert len(through) == 1
    first = through[0]
    ref = _branch_events_2d(W, b0, b1, ds["x"].values[first, 0])
    assert sum(kind == "hopf" for kind, _ in ref) >= 2  # the case at hand: two Hopf points, one by a fold
    mine = ds["bif_branch"].values == first
    got = sorted(((str(k), float(s)) for k, s in zip(ds["bif_kind"].values[mine], ds["bif_s"].values[mine])
                  if k != "collision"), key=lambda e: e[1])
    assert [k for k, _ in got] == [k for k, _ in ref]
    np.testing.assert_allclose([s for _, s in got], [s for _, s in ref], rtol=0, atol=1e-8)
    # a pair that forms on the real axis with negative real part is no event; an unstable one is a collision
    for s_c in ds["bif_s"].values[mine & (ds["bif_kind"].values == "collision")]:
        lam = ds["bif_eig_real"].values[(ds["bif_s"].values == s_c)][0]
        assert lam > 0


def test_near_a_bogdanov_takens_point_leading_windows_find_the_same_events():
    """The 2-unit circuit near its Bogdanov-Takens point driving 60 units that never feed back (their own
    coupling has gain 0.45, so their eigenvalues stay left of -0.5 / tau): with leading windows of the
    spectrum the branch's folds and Hopf points are the two-dimensional reference's."""
    W2, b_bt = _bogdanov_takens()
    rng = np.random.default_rng(5)
    n = 62
    W = np.zeros((n, n))
    W[:2, :2] = W2
    W[2:, :2] = 0.5 * rng.standard_normal((n - 2, 2))
    W[2:, 2:] = 0.45 / np.sqrt(n - 2) * rng.standard_normal((n - 2, n - 2))
    direction = np.array([np.cos(2.1), np.sin(2.1)])
    normal = np.array([-direction[1], direction[0]])
    b0, b1 = np.zeros(n), np.zeros(n)
    b0[:2], b1[:2] = b_bt + 0.002 * normal - 0.6 * direction, b_bt + 0.002 * normal + 0.6 * direction
    b0[2:], b1[2:] = 0.3 * rng.standard_normal(n - 2), 0.3 * rng.standard_normal(n - 2)
    c = Circuit.from_arrays(W_rec=W, tau=TAU)
    ds = continue_fixed_points(c, start=b0, end=b1, spectra="leading")
    assert ds.attrs["spectra"].startswith("leading")
    through = [i for i in range(ds.sizes["branch"]) if float(ds["s"].values[i, 0]) == 0.0
               and ds["end_reason"].values[i] == "reached_end"]
    assert len(through) == 1
    ref = _branch_events_2d(W2, b0[:2], b1[:2], ds["x"].values[through[0], 0, :2])
    assert sum(kind == "hopf" for kind, _ in ref) >= 2
    mine = ds["bif_branch"].values == through[0]
    got = sorted(((str(k), float(s)) for k, s in zip(ds["bif_kind"].values[mine], ds["bif_s"].values[mine])
                  if k != "collision"), key=lambda e: e[1])
    assert [k for k, _ in got] == [k for k, _ in ref]
    np.testing.assert_allclose([s for _, s in got], [s for _, s in ref], rtol=0, atol=1e-8)


# ---- several bifurcations at once: in one continuation step, or at one point ----------------------------------

P_SYM, Q_SYM, B_SYM = 0.5, -1.0, 2.0


def _symmetric_branch_point(drive: float) -> float:
    """``s`` of the branch point of ``W = [[p, q], [q, p]]`` driven by ``s * drive`` on both units (closed form).

    On the symmetric branch ``x_1 = x_2 = y``: ``-y + (p + q) tanh(y) + s drive = 0``; the antisymmetric
    eigenvalue ``(-1 + (p - q) sech^2 y) / tau`` is zero at ``sech^2 y = 1 / (p - q)``.
    """
    y = np.arccosh(np.sqrt(P_SYM - Q_SYM))
    return float((y - (P_SYM + Q_SYM) * np.tanh(y)) / drive)


def _symmetric_block() -> np.ndarray:
    return np.array([[P_SYM, Q_SYM], [Q_SYM, P_SYM]])


def _events(ds, branch: int = 0) -> list[tuple[str, float]]:
    mine = ds["bif_branch"].values == branch
    return [(str(k), float(s)) for k, s in zip(ds["bif_kind"].values[mine], ds["bif_s"].values[mine])]


def _padded(W: np.ndarray, n_pad: int, seed: int) -> np.ndarray:
    """``W`` with ``n_pad`` units that it drives and that never feed back (gain 0.45: eigenvalues left of
    ``-0.5 / tau``), so that leading windows of the spectrum have work to do."""
    rng = np.random.default_rng(seed)
    n0 = W.shape[0]
    out = np.zeros((n0 + n_pad, n0 + n_pad))
    out[:n0, :n0] = W
    out[n0:, :n0] = 0.3 * rng.standard_normal((n_pad, n0))
    out[n0:, n0:] = 0.45 / np.sqrt(n_pad) * rng.standard_normal((n_pad, n_pad))
    return out


@pytest.mark.parametrize("spectra", ["all", "leading"])
@pytest.mark.parametrize("ratio", [1.0, 1.002])
def test_two_branch_points_in_one_step_are_both_located(ratio, spectra):
    """Two symmetric blocks whose branch points lie at the same ``s`` (ratio 1) or 1e-3 apart, inside one
    continuation step: ``det J`` keeps its sign over the step (two real eigenvalues through zero), yet both
    branch points are found at their closed-form ``s``."""
    W = block_diag(_symmetric_block(), _symmetric_block())
    drives = np.array([B_SYM, B_SYM, ratio * B_SYM, ratio * B_SYM])
    n_pad = 0 if spectra == "all" else 40
    c = Circuit.from_arrays(W_rec=_padded(W, n_pad, seed=3) if n_pad else W, tau=TAU)
    end = np.concatenate([drives, np.zeros(n_pad)])
    ds = continue_fixed_points(c, start=np.zeros(4 + n_pad), end=end, fixed_points=np.zeros((1, 4 + n_pad)),
                               find_end=False, spectra=spectra)
    ref = sorted([_symmetric_branch_point(B_SYM), _symmetric_branch_point(ratio * B_SYM)])
    got = _events(ds)
    assert [k for k, _ in got] == ["branch_point", "branch_point"]
    np.testing.assert_allclose([s for _, s in got], ref, rtol=0, atol=1e-10)
    assert bool(ds["bif_located"].all())
    assert np.abs(ds["bif_eig_real"].values).max() <= 1e-8
    assert ds["end_reason"].values[0] == "reached_end"
    index = ds["index"].values[0, :int(ds["n_points"][0])]
    assert index[0] == 2 and index[-1] == 0


def _padded_start(W: np.ndarray, x_block: np.ndarray) -> np.ndarray:
    """The fixed point of the units that ``_padded`` added (no tonic input of their own), given the block's
    state ``x_block``: a contraction (gain 0.45), iterated to round-off."""
    n0 = x_block.shape[0]
    z = np.zeros(W.shape[0] - n0)
    for _ in range(400):
        z = W[n0:, n0:] @ np.tanh(z) + W[n0:, :n0] @ np.tanh(x_block)
    return np.concatenate([x_block, z])


def _fold_and_symmetric(offset: float) -> tuple[Circuit, np.ndarray, np.ndarray, float, float]:
    """One unit with self-excitation 2 (a fold at ``s_bp + offset``) next to a symmetric block (a branch
    point at ``s_bp``); the branch starts from the unit's lower stable state."""
    w = 2.0
    x_fold = -np.arccosh(np.sqrt(w))  # -1 + w sech^2 x = 0 on the lower branch
    b_fold = x_fold - w * np.tanh(x_fold)  # -x + w tanh x + b = 0 there
    s_bp = _symmetric_branch_point(B_SYM)
    drive = np.array([b_fold / (s_bp + offset), B_SYM, B_SYM])
    x0 = brentq(lambda x: -x + w * np.tanh(x), -3.0, -1.0)
    c = Circuit.from_arrays(W_rec=block_diag([[w]], _symmetric_block()), tau=TAU)
    return c, drive, np.array([x0, 0.0, 0.0]), s_bp, s_bp + offset


@pytest.mark.parametrize("spectra", ["all", "leading"])
def test_a_branch_point_on_both_sides_of_a_fold_in_one_step(spectra):
    """A fold 1e-3 beyond a branch point in ``s``: the branch crosses the branch point, turns at the fold and
    crosses it again, all within one step, where the ends of the step show no change of ``det J``'s sign
    beyond the fold's.  Both crossings and the fold are found (closed forms)."""
    c, drive, x0, s_bp, s_fold = _fold_and_symmetric(1e-3)
    n_pad = 0 if spectra == "all" else 40
    if n_pad:
        W = _padded(np.asarray(c.W_rec, dtype=np.float64), n_pad, seed=4)
        c = Circuit.from_arrays(W_rec=W, tau=TAU)
        x0 = _padded_start(W, x0)
    ds = continue_fixed_points(c, start=np.zeros(3 + n_pad), end=np.concatenate([drive, np.zeros(n_pad)]),
                               fixed_points=x0[None], find_end=False, spectra=spectra)
    got = _events(ds)
    assert [k for k, _ in got] == ["branch_point", "fold", "branch_point"]
    assert got[1][1] == pytest.approx(s_fold, abs=1e-11)
    # a point next to a branch point is resolved along the second branch's direction only to about 1e-9
    np.testing.assert_allclose([got[0][1], got[2][1]], [s_bp, s_bp], rtol=0, atol=1e-9)
    assert bool(ds["bif_located"].all())
    assert ds["end_reason"].values[0] == "returned_to_start"


def test_a_fold_before_the_branch_point_finds_no_branch_point():
    """The same circuit with the fold 1e-3 before the branch point: the branch turns back first and never
    reaches it, so only the fold is reported."""
    c, drive, x0, s_bp, s_fold = _fold_and_symmetric(-1e-3)
    ds = continue_fixed_points(c, start=np.zeros(3), end=drive, fixed_points=x0[None], find_end=False)
    got = _events(ds)
    assert [k for k, _ in got] == ["fold"]
    assert got[0][1] == pytest.approx(s_fold, abs=1e-11)


def _hopf_drive(a: float, w: float, s_hopf: float, beta: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    """Drive of a rotation block whose branch from 0 has its Hopf point at ``s = s_hopf``, and the state there.

    ``beta=None``: the fixed point at ``s_hopf`` is ``x* = (y, y)`` with ``trace J = (-2 + 2 a sech^2 y) / tau =
    0``, i.e. ``sech^2 y = 1 / a``, and ``b* = x* - W tanh(x*)`` makes it the fixed point: the drive is
    ``b* / s_hopf`` (closed form).  Otherwise the drive is ``beta`` scaled so that the first Hopf point of
    ``s beta``, found by SciPy's ``brentq`` along an independent planar tracking, falls at ``s_hopf`` (state
    not returned).
    """
    if beta is not None:
        return beta * _block_hopf(a, w, beta) / s_hopf, None
    y = np.arccosh(np.sqrt(a))
    x_star = np.array([y, y])
    return (x_star - _rotation(a, w) @ np.tanh(x_star)) / s_hopf, x_star


_DIRECTIONS = {"designed": None, "oblique": np.array([1.0, 0.5])}
_TWO_BLOCKS = (1.5, 2.0)  # a, w of both rotation blocks


def _two_rotation_blocks(second: float, direction: str):  # noqa: ANN202
    """The continuation from 0 of two identical rotation blocks with Hopf points at ``s = 0.5`` and ``second``,
    and each block's (drive, state at its Hopf point or None)."""
    a, w = _TWO_BLOCKS
    first_block = _hopf_drive(a, w, 0.5, _DIRECTIONS[direction])
    second_block = _hopf_drive(a, w, second, _DIRECTIONS[direction])
    c = Circuit.from_arrays(W_rec=block_diag(_rotation(a, w), _rotation(a, w)), tau=TAU)
    ds = continue_fixed_points(c, start=np.zeros(4), end=np.concatenate([first_block[0], second_block[0]]),
                               fixed_points=np.zeros((1, 4)), find_end=False)
    return ds, first_block, second_block


@pytest.mark.parametrize("direction", sorted(_DIRECTIONS))
@pytest.mark.parametrize("second", [0.5, 0.5005])
def test_two_hopf_points_of_one_frequency_in_one_step(second, direction):
    """Two identical rotation blocks crossing at ``s = 0.5`` and at ``second``: two pairs of the same
    frequency cross the imaginary axis within one step (or at one point).  Each is found at its own point,
    not both at the nearer one."""
    ds, (_, x1), (_, x2) = _two_rotation_blocks(second, direction)
    rows = np.nonzero(ds["bif_kind"].values == "hopf")[0]
    assert rows.size == 2
    np.testing.assert_allclose(np.sort(ds["bif_s"].values[rows]), [0.5, second], rtol=0, atol=1e-9)
    if x1 is not None:
        first = int(np.argmin(ds["bif_s"].values[rows]))
        np.testing.assert_allclose(ds["bif_x"].values[rows[first], :2], x1, atol=1e-8)
        np.testing.assert_allclose(ds["bif_x"].values[rows[1 - first], 2:], x2, atol=1e-8)
    assert int(ds["index"].values[0, 0]) == 4


@pytest.mark.parametrize("direction", sorted(_DIRECTIONS))
@pytest.mark.parametrize("second", [0.5, 0.5005])
def test_two_blocks_folding_close_together_keep_each_blocks_bifurcations(second, direction):
    """The same two blocks followed on to ``s = 1``: each block is bistable on its own stretch of ``s``, so the
    branch turns at each block's two folds in turn.  With ``second = 0.5005`` a fold of one block falls where
    the other is within about 1e-3 of its own, where the branch's sheets lie close together; with ``0.5`` the
    folds coincide, and at each a second eigenvalue passes through zero with the fold's (a branch point).  The
    events are each block's own, from an independent planar continuation of that block alone."""
    ds, (d1, _), (d2, _) = _two_rotation_blocks(second, direction)
    assert ds["end_reason"].values[0] == "reached_end"
    W2 = _rotation(*_TWO_BLOCKS)
    ref = sorted(_branch_events_2d(W2, np.zeros(2), d1, np.zeros(2))
                 + _branch_events_2d(W2, np.zeros(2), d2, np.zeros(2)), key=lambda e: e[1])
    assert [k for k, _ in ref].count("fold") == 4
    got = sorted(((k, s) for k, s in _events(ds) if k != "collision"), key=lambda e: e[1])
    if second == 0.5:  # both blocks fold at once: at each such point a fold and a branch point
        folds = sorted(s for k, s in ref if k == "fold")[::2]
        ref = [e for e in ref if e[0] != "fold"] + [("fold", s) for s in folds] + [("branch_point", s) for s in folds]
    assert sorted(k for k, _ in got) == sorted(k for k, _ in ref)
    for kind in {k for k, _ in ref}:
        np.testing.assert_allclose([s for k, s in got if k == kind], sorted(s for k, s in ref if k == kind),
                                   rtol=0, atol=1e-8)
    assert bool(ds["bif_located"].all())


@pytest.mark.parametrize("spectra", ["all", "leading"])
def test_a_pair_unstable_for_less_than_one_step_is_found(spectra):
    """A rotation block with self-excitation just above 1 (``a = 1.0005``) driven through zero fast: its pair is
    unstable only while both states are within about 0.02 of zero, for 1.2e-3 in ``s``, less than one step, so
    both ends of the step see a stable pair.  Both Hopf points are found, against SciPy's ``brentq`` on
    ``trace J`` along a fine independent tracking of the block (NumPy Newton, steps of 5e-5 in ``s``)."""
    a, w, B = 1.0005, 2.0, 50.0
    W2 = _rotation(a, w)
    d = np.array([1.0, 0.3])
    b0, b1 = -B * d, B * d

    def trace(x):
        return -2.0 + a * np.sum(1.0 / np.cosh(x) ** 2)

    ref, x, prev = [], _tanh_fp(W2, b0, np.zeros(2)), None
    for s in np.linspace(0.0, 1.0, 20001):
        x = _tanh_fp(W2, b0 + s * (b1 - b0), x)
        if prev is not None and np.sign(trace(x)) != np.sign(prev[1]):
            guess = prev[2]
            ref.append(brentq(lambda q: trace(_tanh_fp(W2, b0 + q * (b1 - b0), guess)), prev[0], s, xtol=1e-15))
        prev = (s, trace(x), x.copy())
    assert len(ref) == 2 and ref[1] - ref[0] < 2e-3
    n_pad = 0 if spectra == "all" else 40
    W = _padded(W2, n_pad, seed=6) if n_pad else W2
    x0 = _tanh_fp(W2, b0, np.zeros(2))
    start, end = np.concatenate([b0, np.zeros(n_pad)]), np.concatenate([b1, np.zeros(n_pad)])
    c = Circuit.from_arrays(W_rec=W, tau=TAU)
    ds = continue_fixed_points(c, start=start, end=end, fixed_points=(_padded_start(W, x0) if n_pad else x0)[None],
                               find_end=False, spectra=spectra)
    got = _events(ds)
    assert [k for k, _ in got] == ["hopf", "hopf"]
    np.testing.assert_allclose([s for _, s in got], ref, rtol=0, atol=1e-10)
    # no continuation point lies between the two: the pair is stable at every computed point
    s_rows = ds["s"].values[0, :int(ds["n_points"][0])]
    labels = ds["label"].values[0, :int(ds["n_points"][0])]
    assert not np.any((s_rows > ref[0]) & (s_rows < ref[1]) & (labels == ""))

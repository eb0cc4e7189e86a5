"""Matrix-free fixed points: the Krylov solvers, the dense reference circuit and the two solver paths.

Ground truths: LAPACK solves and eigen-decompositions of the same small
matrices (independent of the Krylov code), and :func:`mirrored_multistable`,
whose fixed points come from scalar root finding and a contraction (see its
docstring), never from the finder.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from scipy.sparse.csgraph import connected_components

import neurobias as nb
from neurobias.analysis import _newton, find_fixed_points, match_fixed_points, mirrored_multistable
from neurobias.analysis._field import Field
from neurobias.analysis.fixed_points import KRYLOV_MIN_UNITS, resolve_solver
from neurobias.analysis.krylov import cg, gmres, leading_eigenvalues, leading_eigenvalues_batched
from neurobias.errors import InputError

TOL = 1e-10


def _random_operators(batch: int, n: int, radius: float, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(batch, n, n, generator=g, dtype=torch.float64) * radius / np.sqrt(n)
    return torch.eye(n, dtype=torch.float64) - W


def test_gmres_matches_lapack_per_system_tolerance():
    A = _random_operators(6, 70, 0.8, 0)
    b = torch.randn(6, 70, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    rtol = torch.tensor([1e-12, 1e-12, 1e-6, 1e-6, 1e-3, 1e-3], dtype=torch.float64)
    res = gmres(lambda v, sel: (A[sel] @ v.unsqueeze(-1)).squeeze(-1), b, rtol=rtol, restart=10, max_restarts=50)
    assert bool(res.converged.all())
    true_rel = ((A @ res.x.unsqueeze(-1)).squeeze(-1) - b).norm(dim=-1) / b.norm(dim=-1)
    assert bool((true_rel <= rtol * 1.0001).all())
    exact = torch.linalg.solve(A, b)
    assert float((res.x[:2] - exact[:2]).abs().max()) <= 1e-9
    # a loose tolerance stops early (fewer products than the tight systems)
    assert float(true_rel[4:].max()) > 1e-10


@pytest.mark.parametrize("restart", [25, 60])
def test_gmres_batch_equals_systems_solved_one_by_one(restart):
    # 20 systems leaving a cycle at different steps, one or a few at a time: those that left keep their
    # solution (they never leave twice) and their products stop (the batch uses exactly the products of the
    # 20 systems solved alone), whether the batch has been compacted yet or not.  With cycles of 25 vectors
    # few rows leave within one cycle (no compaction); with 60 (the whole space) all leave within the first
    # cycle, so its rows are compacted, several times, while it runs
    A = _random_operators(20, 60, 1.1, 5)
    b = torch.randn(20, 60, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    rtol = torch.logspace(-1, -11, 20, dtype=torch.float64)

    formed = []  # (rows, whether every vector has unit norm: an Arnoldi product) of every product asked for

    def mv(v, sel):
        unit = bool(torch.allclose(v.norm(dim=-1), torch.ones(len(v), dtype=v.dtype), rtol=1e-12, atol=0))
        formed.append((int(sel.numel()), unit))
        return (A[sel] @ v.unsqueeze(-1)).squeeze(-1)

    batch = gmres(mv, b, rtol=rtol, restart=restart, max_restarts=8)
    in_batch = sum(f for f, _ in formed)
    if restart == 60:  # the whole space: every system converges, most within the first cycle
        first_residual = next(k for k, (_, unit) in enumerate(formed) if not unit)
        first_cycle = [f for f, _ in formed[:first_residual]]
        assert first_cycle[0] == 20 and min(first_cycle) < 5  # more than three quarters left within it
        assert bool(batch.converged.all())
    formed.clear()
    alone = [gmres(lambda v, sel, i=i: mv(v, sel + i), b[i:i + 1], rtol=float(rtol[i]), restart=restart,
                   max_restarts=8) for i in range(20)]
    assert in_batch == sum(f for f, _ in formed) == batch.n_matvec == sum(r.n_matvec for r in alone)
    for i, r in enumerate(alone):
        assert bool(batch.converged[i]) == bool(r.converged[0])
        torch.testing.assert_close(batch.x[i], r.x[0], rtol=0, atol=1e-10 * float(r.x.abs().max()))
    ok = batch.converged
    true_rel = ((A @ batch.x.unsqueeze(-1)).squeeze(-1) - b).norm(dim=-1) / b.norm(dim=-1)
    assert bool(ok.any()) and bool((true_rel[ok] <= rtol[ok] * 1.0001).all())


def test_gmres_restarts_and_breakdown():
    # the identity: the exact solution after one step (lucky breakdown), no NaN
    b = torch.randn(3, 20, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    res = gmres(lambda v, sel: v, b, rtol=1e-12, restart=5)
    torch.testing.assert_close(res.x, b, rtol=0, atol=1e-14)
    assert res.n_matvec <= 3 * 2
    # restarts: a Krylov dimension of 3 on a 40-unit system still converges
    A = _random_operators(2, 40, 0.5, 3)
    b = torch.randn(2, 40, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    res = gmres(lambda v, sel: (A[sel] @ v.unsqueeze(-1)).squeeze(-1), b, rtol=1e-11, restart=3, max_restarts=200)
    torch.testing.assert_close(res.x, torch.linalg.solve(A, b), rtol=0, atol=1e-9)
    with pytest.raises(InputError, match="rtol"):
        gmres(lambda v, sel: v, b, rtol=0.0)


def test_cg_matches_lapack():
    A = _random_operators(4, 50, 1.5, 5)
    S = A.transpose(1, 2) @ A + 0.05 * torch.eye(50, dtype=torch.float64)
    b = torch.randn(4, 50, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    res = cg(lambda v, sel: (S[sel] @ v.unsqueeze(-1)).squeeze(-1), b, rtol=1e-12, maxiter=2000)
    assert bool(res.converged.all())
    torch.testing.assert_close(res.x, torch.linalg.solve(S, b), rtol=0, atol=1e-8)


@pytest.mark.parametrize("radius", [1.6, 0.7])
def test_leading_eigenvalues_exact_count(radius):
    A = -_random_operators(1, 120, radius, 7)[0].numpy()  # -I + W: some eigenvalues unstable when radius > 1
    lead = leading_eigenvalues(lambda v: A @ v, 120, k=2, margin=1e-9, vectors=True)
    ev = np.linalg.eigvals(A)
    ev = ev[np.lexsort((-ev.imag, -ev.real))]
    assert lead.complete
    assert lead.values.real[-1] < 0
    assert int((lead.values.real > 0).sum()) == int((ev.real > 0).sum())
    # every eigenvalue with real part above the last one computed was found (sets compared, not order)
    wanted = ev[ev.real > lead.values.real[-1] + 1e-8]
    for w in wanted:
        assert np.abs(lead.values - w).min() <= 1e-8
    # right eigenvectors
    V = lead.vectors
    np.testing.assert_allclose(A @ V, V * lead.values[None, :], atol=1e-8)


def _sorted_eigvals(A: np.ndarray) -> np.ndarray:
    ev = np.linalg.eigvals(A)
    return ev[np.lexsort((-ev.imag, -ev.real))]


def test_batched_leading_eigenvalues_match_lapack_with_exact_counts():
    # a batch of operators -I + W with spectral radii from stable to strongly unstable: the number of
    # unstable eigenvalues differs per operator (0 to ~20), so k doubles for some of them and not others
    radii = [0.5, 0.9, 1.2, 1.6, 1.9]
    ops = torch.stack([-_random_operators(1, 90, r, 20 + i)[0] for i, r in enumerate(radii)])
    lead = leading_eigenvalues_batched(lambda v, sel: (ops[sel] @ v.unsqueeze(-1)).squeeze(-1), len(radii), 90,
                                       k=3, margin=1e-9, n_vectors=2, dense=lambda sel: ops[sel])
    for b in range(len(radii)):
        A = ops[b].numpy()
        ev = _sorted_eigvals(A)
        got = lead.values[b, :lead.n_values[b]]
        assert np.isnan(lead.values[b, lead.n_values[b]:]).all()
        assert got.real[-1] < 0
        assert int((got.real > 0).sum()) == int((ev.real > 0).sum())
        # every eigenvalue above the last one computed is there, to 1e-9
        for w in ev[ev.real > got.real[-1] + 1e-8]:
            assert np.abs(got - w).min() <= 1e-9
        V = lead.vectors[b]
        np.testing.assert_allclose(A @ V, V * got[None, :2], atol=1e-9)
        np.testing.assert_allclose(np.linalg.norm(V, axis=0), 1.0, atol=1e-12)
    assert lead.n_matvec > 0


def test_batched_leading_eigenvalues_long_cycles_capped_at_half_the_space():
    # restart=64 asked on 90 x 90 operators: cycles of 45 vectors, still Krylov-Schur (not the dense fall-back
    # that a Krylov space of more than half the space would mean), same values as LAPACK
    ops = torch.stack([-_random_operators(1, 90, r, 70 + i)[0] for i, r in enumerate((0.8, 1.5))])
    lead = leading_eigenvalues_batched(lambda v, sel: (ops[sel] @ v.unsqueeze(-1)).squeeze(-1), 2, 90, k=4,
                                       margin=1e-9, restart=64)
    assert lead.n_dense == 0 and lead.n_matvec > 0
    for b in range(2):
        ev = _sorted_eigvals(ops[b].numpy())
        got = lead.values[b, :lead.n_values[b]]
        assert int((got.real > 0).sum()) == int((ev.real > 0).sum())
        for w in got:
            assert np.abs(ev - w).min() <= 1e-9


def test_batched_leading_eigenvalues_fall_back_to_dense_when_arnoldi_does_not_settle():
    ops = torch.stack([-_random_operators(1, 60, 1.3, 40 + i)[0] for i in range(3)])
    lead = leading_eigenvalues_batched(lambda v, sel: (ops[sel] @ v.unsqueeze(-1)).squeeze(-1), 3, 60, k=2,
                                       margin=1e-9, dense=lambda sel: ops[sel], max_restarts=1)
    assert lead.n_dense == 3 and (lead.n_values == 60).all()
    for b in range(3):
        np.testing.assert_allclose(lead.values[b, :lead.n_values[b]], _sorted_eigvals(ops[b].numpy()), atol=1e-10)
    # without `dense`, the matrices are built from products with the unit vectors
    built = leading_eigenvalues_batched(lambda v, sel: (ops[sel] @ v.unsqueeze(-1)).squeeze(-1), 3, 60, k=2,
                                        margin=1e-9, max_restarts=1)
    np.testing.assert_allclose(built.values, lead.values, atol=1e-10)
    with pytest.raises(InputError, match="`k`"):
        leading_eigenvalues_batched(lambda v, sel: v, 1, 10, k=0)
    with pytest.raises(InputError, match="`n_vectors`"):
        leading_eigenvalues_batched(lambda v, sel: v, 1, 10, n_vectors=-1)


def test_batched_leading_eigenvalues_small_and_degenerate_operators():
    rng = np.random.default_rng(3)
    # sizes where k doubling lands on n - 3 (the thick restart must still take an Arnoldi step), more vectors
    # than values asked for, and low-rank operators -I + u v^T whose Krylov space is invariant (breakdown)
    cases = [(-np.eye(n) + 1.5 * rng.standard_normal((n, n)) / np.sqrt(n), 8) for n in (11, 19, 35, 67)]
    for r in (1, 3):
        cases.append((-np.eye(120) + rng.standard_normal((120, r)) @ rng.standard_normal((r, 120)) / np.sqrt(120), 4))
    for A, k in cases:
        n = A.shape[0]
        At = torch.as_tensor(A)[None]
        lead = leading_eigenvalues_batched(lambda v, sel: (At[sel] @ v.unsqueeze(-1)).squeeze(-1), 1, n, k=k,
                                           margin=1e-9, n_vectors=k + 2)
        got = lead.values[0, :lead.n_values[0]]
        ev = _sorted_eigvals(A)
        assert int((got.real > 0).sum()) == int((ev.real > 0).sum())
        for w in got:  # every value returned is an eigenvalue
            assert np.abs(ev - w).min() <= 1e-8 * max(1.0, abs(w))
        if n == 120:  # the breakdown is continued, not sent to the dense fall-back (values that went astray would)
            assert lead.n_dense == 0
        V = lead.vectors[0]
        assert V.shape == (n, k + 2)
        np.testing.assert_allclose(A @ V, V * got[None, :k + 2], atol=1e-8)
    single = leading_eigenvalues(lambda v: cases[0][0] @ v, 11, k=8, margin=1e-9, vectors=True)
    ev = _sorted_eigvals(cases[0][0])
    assert single.complete and int((single.values.real > 0).sum()) == int((ev.real > 0).sum())


def test_lapack_eigenvalues_follow_the_schur_diagonal():
    """The Krylov-Schur restart selects by the eigenvalues that dgees and dtrsen return: in diagonal order."""
    from scipy.linalg.lapack import dgees, dtrsen

    def blocks(T):
        """Eigenvalue at each diagonal position from the 1 x 1 and 2 x 2 blocks, by an independent solver."""
        m = T.shape[0]
        out = np.zeros(m, complex)
        i = 0
        while i < m:
            if i + 1 < m and T[i + 1, i] != 0.0:
                w = np.linalg.eigvals(T[i:i + 2, i:i + 2])
                out[i], out[i + 1] = sorted(w, key=lambda z: -z.imag)
                i += 2
            else:
                out[i] = T[i, i]
                i += 1
        return out

    rng = np.random.default_rng(11)
    for m in (1, 2, 3, 17, 48):
        T, _, wr, wi, Q, _, info = dgees(lambda a, b: 0, rng.standard_normal((m, m)), compute_v=1, sort_t=0)
        assert info == 0
        np.testing.assert_allclose(wr + 1j * wi, blocks(T), atol=1e-12)
        d = wr + 1j * wi
        select = np.zeros(m, dtype=np.int32)
        select[np.lexsort((-d.imag, -d.real))[: (m + 1) // 2]] = 1
        T2, Q2, wr2, wi2, got, _, _, info = dtrsen(select, T, Q, job="N")
        assert info == 0 and got >= (m + 1) // 2
        np.testing.assert_allclose(wr2 + 1j * wi2, blocks(T2), atol=1e-12)
        # the selected values (those of largest real part, with a split pair's partner) lead
        np.testing.assert_allclose(np.sort(wr2[:got]), np.sort(d.real)[m - got:], atol=1e-9)


def test_mirrored_multistable_is_dense_irreducible_and_exact():
    ref = mirrored_multistable(n_units=40, n_core=3, seed=3)
    W = np.asarray(ref.circuit.W_rec)
    assert (W != 0).mean() > 0.9
    # not triangular under any permutation: a strongly connected component of more than one unit
    off = (W != 0).astype(int)
    np.fill_diagonal(off, 0)
    _, labels = connected_components(off, directed=True, connection="strong")
    assert np.bincount(labels).max() >= 39
    assert ref.x.shape == (27, 40)
    F = ref.circuit.dynamics().vector_field(torch.tensor(ref.x), torch.tensor(ref.tonic))
    assert float(F.abs().max()) <= 1e-14
    # all distinct
    d = np.max(np.abs(ref.x[:, None] - ref.x[None]), axis=-1) + np.eye(27)
    assert d.min() > 1e-3
    # the eigenvalues from the block structure agree with a dense decomposition; the index too
    g = 1.0 - np.tanh(ref.x) ** 2
    for i in range(27):
        J = (-np.eye(40) + W * g[i][None, :]) / ref.circuit.tau
        ev = np.linalg.eigvals(J)
        ev = ev[np.lexsort((-ev.imag, -ev.real))]
        np.testing.assert_allclose(ev, ref.eigenvalues[i], atol=1e-12)
        assert int((ev.real > 0).sum()) == ref.index[i]
    assert sorted(np.bincount(ref.index).tolist()) == sorted([8, 12, 6, 1])


def test_mirrored_multistable_rate_form_and_odd_size():
    cur = mirrored_multistable(n_units=21, n_core=2, seed=1)
    rate = mirrored_multistable(n_units=21, n_core=2, seed=1, form="rate")
    np.testing.assert_allclose(rate.x, np.tanh(cur.x), atol=1e-15)
    F = rate.circuit.dynamics().vector_field(torch.tensor(rate.x), torch.tensor(rate.tonic))
    assert float(F.abs().max()) <= 1e-14
    with pytest.raises(InputError, match="follower_gain"):
        mirrored_multistable(n_units=21, follower_gain=1.0)


def test_solver_choice():
    assert resolve_solver("auto", KRYLOV_MIN_UNITS) == "krylov"
    assert resolve_solver("auto", KRYLOV_MIN_UNITS - 1) == "dense"
    assert resolve_solver("dense", 10_000) == "dense"
    with pytest.raises(InputError, match="`solver`"):
        resolve_solver("lu", 10)


def _fixed(ds):
    return ds.isel(fp=np.flatnonzero(ds.kind.values == "fixed"))


@pytest.mark.parametrize("form", ["current", "rate"])
def test_krylov_and_dense_find_the_same_fixed_points(form):
    ref = mirrored_multistable(n_units=64, n_core=3, form=form, seed=2)
    out = {}
    for solver in ("dense", "krylov"):
        ds = find_fixed_points(ref.circuit, ref.tonic, solver=solver, seed=0)
        assert ds.attrs["solver"] == solver
        fx = _fixed(ds)
        found, known = match_fixed_points(fx.x.values, ref.x, atol=1e-8)
        assert known.all() and (found >= 0).all() and fx.sizes["fp"] == 27
        assert float(fx.residual.max()) <= TOL
        np.testing.assert_array_equal(fx.index.values, ref.index[found])
        out[solver] = (fx, found)
    (fd, md), (fk, mk) = out["dense"], out["krylov"]
    assert fd.attrs["eigenvalues"] == "all" and fk.attrs["eigenvalues"] == "leading"
    # the same points; the leading eigenvalues agree with the dense decomposition
    order_d, order_k = np.argsort(md), np.argsort(mk)
    np.testing.assert_allclose(fk.x.values[order_k], fd.x.values[order_d], atol=1e-9)
    np.testing.assert_array_equal(fk.stability.values[order_k], fd.stability.values[order_d])
    ed = fd.eig_real.values[order_d] + 1j * fd.eig_imag.values[order_d]
    ek = fk.eig_real.values[order_k] + 1j * fk.eig_imag.values[order_k]
    for a, b in zip(ed, ek):
        known = b[np.isfinite(b)]
        assert known.size >= 8 and known.real[-1] < 0
        for w in known[:-1]:  # the last may be half of a conjugate pair
            assert np.abs(a - w).min() <= 1e-9


def _hard_circuit(n: int, g: float, seed: int) -> tuple[nb.Circuit, np.ndarray, np.ndarray]:
    """A random dense circuit with gain ``g`` and a tonic input that makes a chosen ``x*`` a fixed point.

    ``x*`` is small, so ``phi'(x*)`` is near 1 and ``W_eff = W diag(phi')`` has a spectrum reaching past 1:
    the Newton systems about it are hard for GMRES preconditioned by ``-I / tau`` alone.
    """
    rng = np.random.default_rng(seed)
    W = rng.normal(0.0, g / np.sqrt(n), (n, n))
    x_star = 0.1 * rng.standard_normal(n)
    bias = x_star - W @ np.tanh(x_star)  # F(x*) = (-x* + W tanh(x*) + b) / tau = 0 exactly
    circuit = nb.Circuit.from_arrays(W_rec=W, W_out=np.zeros((1, n)), tau=10.0, phi="tanh", form="current")
    return circuit, bias, x_star


def test_lu_steps_solve_the_newton_systems_with_one_lapack_thread():
    """The LU step equals NumPy's solve of an independently formed ``tau J = -I + W diag(1 - tanh(x)^2)``, on
    matrices above the size where torch's MKL batched LU goes wrong with several threads, called with two
    torch threads and two workers; the caller's thread count is left as found."""
    n = 256
    circuit, bias, _ = _hard_circuit(n, 1.5, seed=2)
    field = Field(dyn=circuit.dynamics(), ext=torch.tensor(bias[None]))
    x = torch.tensor(np.random.default_rng(5).normal(0.0, 0.7, (5, n)))
    ctx = torch.zeros(5, dtype=torch.long)
    rhs = field.tau * field.F(x, ctx)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        d, ok = _newton._lu_steps(field, x, ctx, rhs, workers=2)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    assert bool(ok.all())
    W = np.asarray(circuit.W_rec)
    for m in range(5):
        xm = x[m].numpy()
        tauJ = -np.eye(n) + W * (1.0 - np.tanh(xm) ** 2)[None, :]
        expected = np.linalg.solve(tauJ, -rhs[m].numpy())
        np.testing.assert_allclose(d[m].numpy(), expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("seed", [1, 4])
def test_krylov_finder_on_a_random_circuit_with_gain_above_one(monkeypatch, seed):
    """A gain-1.5 random dense circuit with a known fixed point ``x*``: both solvers find it to 1e-9, with
    the index LAPACK gives, and the points both find agree to 1e-9.

    About ``x*`` the spectrum of ``W_eff`` reaches past 1 and GMRES preconditioned by ``-I / tau`` stalls; the
    matrix-free path then takes exact (LU) Newton steps near the point (counted here).  With inexact steps
    alone its points stopped just under ``tol``, 2e-8 to 5e-8 from ``x*`` at these seeds.  A few starting
    states near ``x*`` make sure the search reaches it whatever path the random candidates take.
    """
    n = 160
    circuit, bias, x_star = _hard_circuit(n, 1.5, seed=seed)
    calls = []
    lu_steps = _newton._lu_steps

    def counted(field, x, ctx, rhs, **kw):
        calls.append(x.shape[0])
        return lu_steps(field, x, ctx, rhs, **kw)

    monkeypatch.setattr(_newton, "_lu_steps", counted)
    gain = 1.0 - np.tanh(x_star) ** 2
    index = int((np.linalg.eigvals(-np.eye(n) + circuit.W_rec * gain[None, :]).real > 0).sum())
    assert index > 5  # a saddle of high index, where GMRES does badly
    near_star = x_star + 1e-3 * np.random.default_rng(seed).standard_normal((4, n))
    out = {}
    for solver in ("dense", "krylov"):
        calls.clear()
        fx = _fixed(find_fixed_points(circuit, bias, solver=solver, seed=0, n_candidates=64,
                                      initial_states=near_star))
        assert float(fx.residual.max()) <= TOL
        found, known = match_fixed_points(fx.x.values, x_star[None], atol=1e-9)
        assert known.all(), solver
        assert int(fx.index.values[np.flatnonzero(found >= 0)[0]]) == index
        out[solver] = (fx, sum(calls))
    (fd, _), (fk, lu_krylov) = out["dense"], out["krylov"]
    assert lu_krylov > 0
    both, _ = match_fixed_points(fk.x.values, fd.x.values, atol=1e-6)
    shared = np.flatnonzero(both >= 0)
    assert shared.size >= 3
    np.testing.assert_allclose(fk.x.values[shared], fd.x.values[both[shared]], rtol=0.0, atol=1e-9)
    np.testing.assert_array_equal(fk.index.values[shared], fd.index.values[both[shared]])


def test_krylov_finder_needs_no_lu_on_the_reference_circuit(monkeypatch):
    """GMRES converges in a few products on the reference circuits (also at 512 units, counted once
    outside the suite: every system within 18 products), so the matrix-free path never factorises there."""

    def forbidden(*a, **k):
        raise AssertionError("an LU step on a circuit where GMRES converges in a few products")

    monkeypatch.setattr(_newton, "_lu_steps", forbidden)
    ref = mirrored_multistable(n_units=64, n_core=3, seed=2)
    fx = _fixed(find_fixed_points(ref.circuit, ref.tonic, solver="krylov", seed=0))
    assert fx.sizes["fp"] == 27


@pytest.mark.slow
def test_krylov_243_fixed_points_dense_512_unit_circuit():
    ref = mirrored_multistable(n_units=512, n_core=5, spectra=False, seed=0)
    ds = find_fixed_points(ref.circuit, ref.tonic, solver="krylov")
    fx = _fixed(ds)
    found, known = match_fixed_points(fx.x.values, ref.x, atol=1e-8)
    assert known.all(), f"missed {(~known).sum()} of 243"
    assert (found >= 0).all() and fx.sizes["fp"] == 243
    assert float(fx.residual.max()) <= TOL
    np.testing.assert_array_equal(fx.index.values, ref.index[found])
    assert sorted(np.bincount(ref.index[found]).tolist()) == sorted(
        [sum(1 for c in itertools.product(range(3), repeat=5) if sum(v == 1 for v in c) == k) for k in range(6)])


@pytest.mark.parametrize("case", ["fold", "hopf"])
@pytest.mark.parametrize("solver", ["gmres", "recycled"])
def test_continuation_matrix_free_corrections_match_dense(monkeypatch, case, solver):
    """GMRES corrections (alone or with reused LU factors) give the continuation of the factorised ones."""
    from scipy.optimize import brentq

    from neurobias.analysis import continuation
    from neurobias.analysis.continuation import continue_fixed_points
    from neurobias.circuit import Circuit

    if case == "fold":
        xs = brentq(lambda x: x - 2.0 * np.tanh(x), 0.5, 10.0)
        c = Circuit.from_arrays(W_rec=[[2.0]], tau=10.0)
        kw = dict(start=np.array([0.0]), end=np.array([1.0]), fixed_points=np.array([[-xs], [0.0], [xs]]))
    else:
        c = Circuit.from_arrays(W_rec=[[1.5, -1.0], [1.0, 1.5]], tau=10.0)
        kw = dict(start=np.zeros(2), end=np.array([2.0, 1.0]), fixed_points=np.zeros((1, 2)))
    dense = continue_fixed_points(c, find_end=False, **kw)
    monkeypatch.setattr(continuation, "MATRIX_FREE_MIN_UNITS" if solver == "gmres" else "RECYCLE_MIN_UNITS", 0)
    free = continue_fixed_points(c, find_end=False, **kw)
    expected = "gmres" if solver == "gmres" else "gmres with reused lu"
    assert (dense.attrs["linear_solver"], free.attrs["linear_solver"]) == ("lu", expected)
    assert np.nanmax(free["residual"].values) <= 1e-10
    np.testing.assert_array_equal(free["bif_kind"].values, dense["bif_kind"].values)
    np.testing.assert_allclose(free["bif_s"].values, dense["bif_s"].values, atol=1e-9)
    assert list(free["end_reason"].values) == list(dense["end_reason"].values)
    np.testing.assert_array_equal(free["n_points"].values, dense["n_points"].values)


@pytest.mark.parametrize("kind", ["sparse", "low_rank", "dense"])
@pytest.mark.parametrize("form", ["current", "rate"])
def test_structured_products_equal_dense(kind, form):
    """Sparse and low-rank-plus-diagonal weights are detected and give the dense products (float64)."""
    from neurobias.circuit import Circuit

    rng = np.random.default_rng(0)
    n = 300
    if kind == "sparse":
        W = rng.normal(0, 1 / np.sqrt(30), (n, n)) * (rng.random((n, n)) < 0.05)
    elif kind == "low_rank":  # a rank-3 network (as low-rank RNNs are trained)
        W = rng.normal(0, 1, (n, 3)) @ rng.normal(0, 1 / n, (3, n))
    else:
        W = rng.normal(0, 1 / np.sqrt(n), (n, n))
    dyn = Circuit.from_arrays(W_rec=W, tau=10.0, form=form).dynamics()
    assert dyn.structure == kind
    x = torch.tensor(rng.normal(0, 1, (4, n)))
    ext = torch.tensor(rng.normal(0, 0.3, (4, n)))
    v = torch.tensor(rng.normal(0, 1, (4, n)))
    g = dyn.gain(x, ext)
    J = dyn.jacobian(x, ext)
    torch.testing.assert_close(dyn.jvp_at(g, v), (J @ v.unsqueeze(-1)).squeeze(-1), rtol=0, atol=1e-13)
    torch.testing.assert_close(dyn.vjp_at(g, v), (J.transpose(1, 2) @ v.unsqueeze(-1)).squeeze(-1), rtol=0,
                               atol=1e-13)

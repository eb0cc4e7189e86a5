"""find_fixed_points against circuits whose fixed points are known exactly.

Ground truth comes from :mod:`neurobias.analysis.references` (closed form or
float64 scalar root finding), never from snapshots.  Matching is both ways:
every known point is found and every found point is known.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import xarray as xr

from neurobias.analysis import (
    classify_states,
    find_fixed_points,
    initial_candidates,
    fold_bias,
    fold_point,
    match_fixed_points,
    multistable_chain,
    saddle_node_ghost,
)
from neurobias.analysis._field import Field
from neurobias.analysis._linalg import lu_checked, one_lapack_thread
from neurobias.analysis._spectra import classify
from neurobias.circuit import Circuit, simulate
from neurobias.errors import InputError
from neurobias.io import read_dataset, validate, write_dataset

TOL = 1e-10


def fixed_only(ds: xr.Dataset) -> xr.Dataset:
    return ds.isel(fp=np.flatnonzero(ds.kind.values == "fixed"))


def residuals(circuit: Circuit, x: np.ndarray, ext: np.ndarray) -> np.ndarray:
    F = circuit.dynamics().vector_field(torch.tensor(x), torch.tensor(ext))
    return F.abs().amax(-1).numpy()


def assert_matches_reference(ds: xr.Dataset, ref, *, atol: float = 1e-8) -> None:
    fx = fixed_only(ds)
    found_match, known_found = match_fixed_points(fx.x.values, ref.x, atol=atol)
    assert known_found.all(), f"missed {(~known_found).sum()} of {len(ref.x)} fixed points (indices {ref.index[~known_found]})"
    assert (found_match >= 0).all(), f"{(found_match < 0).sum()} found points are not fixed points of the reference"
    assert fx.sizes["fp"] == len(ref.x), "duplicates among the found fixed points"
    assert float(fx.residual.max()) <= TOL
    np.testing.assert_array_equal(fx.index.values, ref.index[found_match])
    np.testing.assert_allclose(fx.eig_real.values, ref.eigenvalues[found_match], rtol=0, atol=1e-10)
    np.testing.assert_allclose(fx.eig_imag.values, 0.0, atol=1e-12)
    stable = fx.stability.values == "stable"
    np.testing.assert_array_equal(stable, ref.stable[found_match])
    assert set(fx.stability.values[~stable]) <= {"saddle", "unstable"}


# ------------------------------------------------------------- ground truth
@pytest.fixture(scope="module")
def chain243():
    ref = multistable_chain(n_units=32, n_core=5, seed=3)
    return ref, find_fixed_points(ref.circuit, ref.tonic, n_candidates=512, seed=0)


def test_reference_chain_is_exact():
    ref = multistable_chain(n_units=40, n_core=4, seed=1, form="current")
    assert ref.x.shape == (81, 40)
    assert residuals(ref.circuit, ref.x, ref.tonic).max() <= 1e-14
    assert ref.stable.sum() == 16 and np.bincount(ref.index).tolist() == [16, 32, 24, 8, 1]
    J = ref.circuit.dynamics().jacobian(torch.tensor(ref.x), torch.tensor(ref.tonic))
    ev = np.sort(np.linalg.eigvals(J.numpy()).real, axis=-1)[:, ::-1]
    np.testing.assert_allclose(ev, ref.eigenvalues, atol=1e-13)
    rate = multistable_chain(n_units=40, n_core=4, seed=1, form="rate")
    assert residuals(rate.circuit, rate.x, rate.tonic).max() <= 1e-14
    np.testing.assert_allclose(rate.x, np.tanh(ref.x), atol=0)


def test_finds_all_243_fixed_points(chain243):
    ref, ds = chain243
    assert len(ref.x) == 243 and ref.stable.sum() == 32
    assert_matches_reference(ds, ref)
    assert int((ds.stability == "stable").sum()) == 32
    assert ds.attrs["n_fixed_points"].tolist() == [243]
    assert ds.attrs["n_slow_points"].tolist() == [0]
    # every candidate is accounted for, and the hits add up
    a = ds.attrs
    assert (a["n_converged"] + a["n_slow"] + a["n_failed"] == a["candidates_tried"]).all()
    assert int(fixed_only(ds).n_hits.sum()) == int(a["n_converged"][0])


def test_no_duplicates_within_merge_tolerance(chain243):
    _, ds = chain243
    x = ds.x.values
    d = np.abs(x[:, None, :] - x[None, :, :]).max(-1)
    scale = 1 + np.maximum(np.abs(x).max(-1)[:, None], np.abs(x).max(-1)[None, :])
    np.fill_diagonal(d, np.inf)
    assert (d > ds.attrs["merge_tol"] * scale).all()


def test_rate_form_points_are_phi_of_current_form_points():
    cur = multistable_chain(n_units=12, n_core=3, seed=2, form="current")
    rate = multistable_chain(n_units=12, n_core=3, seed=2, form="rate")
    ds_c = find_fixed_points(cur.circuit, cur.tonic, n_candidates=128)
    ds_r = find_fixed_points(rate.circuit, rate.tonic, n_candidates=128)
    assert_matches_reference(ds_c, cur)
    assert_matches_reference(ds_r, rate)
    fc, fr = fixed_only(ds_c), fixed_only(ds_r)
    # r* = phi(x*) and x* = W r* + b: the same set, with the same spectra (W D and D W)
    fm, kf = match_fixed_points(fr.x.values, np.tanh(fc.x.values), atol=1e-9)
    assert kf.all() and (fm >= 0).all()
    np.testing.assert_allclose(fr.eig_real.values, fc.eig_real.values[fm], atol=1e-10)
    h = fr.x.values @ np.array(rate.circuit.W_rec).T + rate.tonic
    fm2, kf2 = match_fixed_points(h, fc.x.values, atol=1e-9)
    assert kf2.all() and (fm2 >= 0).all()
    np.testing.assert_allclose(fc.r.values, np.tanh(fc.x.values), atol=0)
    np.testing.assert_array_equal(fr.r.values, fr.x.values)


def test_random_circuit_rate_and_current_forms_agree():
    c = Circuit.random(10, g=1.3, seed=4, n_outputs=0)
    b = np.random.default_rng(4).normal(0, 0.3, 10)
    ds_c = fixed_only(find_fixed_points(c, b, n_candidates=128, seed=1))
    ds_r = fixed_only(find_fixed_points(c.replace(form="rate"), b, n_candidates=128, seed=1))
    assert ds_c.sizes["fp"] >= 1
    fm, kf = match_fixed_points(ds_r.x.values, np.tanh(ds_c.x.values), atol=1e-8)
    assert kf.all() and (fm >= 0).all()
    np.testing.assert_array_equal(ds_r.index.values, ds_c.index.values[fm])


@pytest.mark.parametrize("form", ["current", "rate"])
def test_linear_circuit_unique_fixed_point_and_exact_spectrum(form):
    rng = np.random.default_rng(0)
    n = 6
    w = rng.normal(size=(n, n))
    w *= 0.8 / np.max(np.abs(np.linalg.eigvals(w)))
    w_in = rng.normal(size=(n, 2))
    c = Circuit.from_arrays(W_rec=w, W_in=w_in, tau=20.0, phi="linear", form=form)
    b = rng.normal(size=(2, n))
    u = np.array([[0.5, -1.0], [0.0, 2.0]])
    ds = find_fixed_points(c, b, inputs=u, n_candidates=64, contexts=["a", "b"])
    assert ds.kind.values.tolist() == ["fixed", "fixed"]
    assert ds.context.values.tolist() == ["a", "b"]
    expected_ev = np.linalg.eigvals((w - np.eye(n)) / 20.0)
    expected_ev = expected_ev[np.lexsort((-expected_ev.imag, -expected_ev.real))]
    for i in range(2):
        x_star = np.linalg.solve(np.eye(n) - w, b[i] + w_in @ u[i])
        np.testing.assert_allclose(ds.x.values[i], x_star, atol=1e-11)
        np.testing.assert_allclose(ds.eig_real.values[i], expected_ev.real, atol=1e-13)
        np.testing.assert_allclose(ds.eig_imag.values[i], expected_ev.imag, atol=1e-13)
    assert ds.stability.values.tolist() == ["stable", "stable"]
    assert ds.index.values.tolist() == [0, 0]
    assert ds.oscillatory.values.tolist() == [int(abs(expected_ev[0].imag) > 0)] * 2
    np.testing.assert_allclose(ds.attrs["inputs"], u)


def test_oscillatory_and_unstable_classification():
    # linear rotation: eigenvalues (a - 1 +- i b) / tau
    for a, stability, index in ((0.5, "stable", 0), (1.5, "unstable", 2)):
        c = Circuit.from_arrays(W_rec=[[a, -2.0], [2.0, a]], tau=10.0, phi="linear")
        ds = find_fixed_points(c, np.zeros(2), n_candidates=16)
        assert ds.sizes["fp"] == 1
        assert ds.stability.item() == stability and ds.index.item() == index and ds.oscillatory.item() == 1
        np.testing.assert_allclose(ds.eig_real.values[0], [(a - 1) / 10] * 2, atol=1e-15)
        np.testing.assert_allclose(ds.eig_imag.values[0], [0.2, -0.2], atol=1e-15)


def test_classify_rules():
    tau = 10.0
    values = np.array([
        [-0.1 + 0j, -0.2 + 0j],
        [0.0 + 0j, -0.2 + 0j],  # marginal
        [0.1 + 0j, -0.2 + 0j],  # saddle
        [0.1 + 0.3j, 0.1 - 0.3j],  # unstable focus
        [1e-13 + 0j, -0.3 + 0j],  # within the marginal tolerance
    ])
    index, stability, osc = classify(values, tau)
    assert index.tolist() == [0, 0, 1, 2, 0]
    assert stability.tolist() == ["stable", "marginal", "saddle", "unstable", "marginal"]
    assert osc.tolist() == [0, 0, 0, 1, 0]


def test_jacobian_matches_central_differences_at_found_points():
    for form, phi in (("current", "tanh"), ("rate", "tanh"), ("current", "softplus"), ("rate", "sigmoid")):
        c = Circuit.random(8, g=1.4, seed=5, phi=phi, form=form)
        b = np.random.default_rng(5).normal(0, 0.5, 8)
        ds = fixed_only(find_fixed_points(c, b, n_candidates=64))
        assert ds.sizes["fp"] >= 1
        x = torch.tensor(ds.x.values)
        ext = torch.tensor(b)
        dyn = c.dynamics()
        J = dyn.jacobian(x, ext).numpy()
        h = 1e-6
        fd = np.zeros_like(J)
        for j in range(8):
            e = torch.zeros(8, dtype=torch.float64)
            e[j] = h
            fp = dyn.vector_field(x + e, ext)
            fm = dyn.vector_field(x - e, ext)
            fd[:, :, j] = ((fp - fm) / (2 * h)).numpy()
        np.testing.assert_allclose(J, fd, atol=1e-6)
        # the spectrum in the Dataset is that of this Jacobian
        ev = np.linalg.eigvals(J)
        ev = np.take_along_axis(ev, np.lexsort((-ev.imag, -ev.real), axis=-1), axis=-1)
        np.testing.assert_allclose(ds.eig_real.values, ev.real, atol=1e-12)


def test_field_helpers_agree_with_dynamics():
    for form in ("current", "rate"):
        c = Circuit.random(7, g=1.2, seed=6, form=form)
        ext = torch.tensor(np.random.default_rng(6).normal(size=(2, 7)))
        f = Field(c.dynamics(), ext)
        x = torch.tensor(np.random.default_rng(7).normal(size=(5, 7)))
        ctx = torch.tensor([0, 1, 1, 0, 1])
        v = torch.tensor(np.random.default_rng(8).normal(size=(5, 7)))
        J = c.dynamics().jacobian(x, ext[ctx])
        torch.testing.assert_close(f.J(x, ctx), J, rtol=0, atol=0)
        torch.testing.assert_close(f.J_scaled(x, ctx) / c.tau, J, rtol=1e-15, atol=1e-17)
        torch.testing.assert_close(f.Jv(x, ctx, v), (J @ v[..., None])[..., 0], rtol=1e-13, atol=1e-15)
        torch.testing.assert_close(f.JTv(x, ctx, v), (J.mT @ v[..., None])[..., 0], rtol=1e-13, atol=1e-15)


def test_rate_form_euler_map_has_the_same_fixed_points():
    ref = multistable_chain(n_units=10, n_core=2, seed=8, form="rate")
    ds = fixed_only(find_fixed_points(ref.circuit, ref.tonic, n_candidates=64))
    c = ref.circuit
    x = torch.tensor(ds.x.values)
    # the discrete map r <- phi(W r + b), i.e. Euler with dt = tau
    nxt = c.dynamics().step(x, torch.tensor(ref.tonic), dt=c.tau, method="euler")
    assert float((nxt - x).abs().max()) <= c.tau * TOL
    direct = torch.tanh(x @ torch.tensor(np.array(c.W_rec)).T + torch.tensor(ref.tonic))
    assert float((direct - x).abs().max()) <= c.tau * TOL


def test_classify_states_judges_merges_and_classifies_given_states():
    ref = multistable_chain(n_units=6, n_core=2, seed=3)  # 9 known fixed points
    rng = np.random.default_rng(0)
    k = ref.x.shape[0]
    junk = rng.normal(size=(4, 6)) * 3.0
    per_ctx = np.concatenate([ref.x, ref.x + 1e-12, junk])  # every point twice, then states that are not fixed
    bank = xr.DataArray(np.stack([ref.tonic, ref.tonic]), dims=("context", "unit"), coords={"context": ["a", "b"]})
    ds = classify_states(ref.circuit, bank, np.stack([per_ctx, per_ctx]), tol=TOL)
    validate(ds, "fixed_points")
    fixed = fixed_only(ds)
    for name in ("a", "b"):
        pts = fixed.isel(fp=np.flatnonzero(fixed.context.values == name))
        found, known = match_fixed_points(pts.x.values, ref.x, atol=1e-9)
        assert known.all() and np.all(found >= 0) and pts.sizes["fp"] == k  # each once: duplicates merged
        np.testing.assert_array_equal(pts.index.values, ref.index[found])
        np.testing.assert_array_equal(pts.n_hits.values, np.full(k, 2))
        assert set(pts.source.values) == {"user"}
    assert ds.attrs["n_converged"].tolist() == [2 * k, 2 * k]
    assert ds.attrs["n_failed"].tolist() == [4 - int((ds.kind.values == "slow").sum()) // 2] * 2
    assert ds.attrs["n_candidates"] == per_ctx.shape[0] and ds.attrs["seed"] == -1
    # the source coordinate of initial_candidates travels into the result
    cands = initial_candidates(ref.circuit, bank, n_candidates=12, seed=1)
    assert cands.dims == ("context", "candidate", "unit") and set(cands.source.values) <= {"trajectory", "random"}
    with pytest.raises(InputError, match=r"`states` must have shape \(context, n, unit\) = \(2, n, 6\)"):
        classify_states(ref.circuit, bank, per_ctx)
    bad = xr.DataArray(np.stack([per_ctx, per_ctx]), dims=("context", "candidate", "unit"),
                       coords={"source": ("candidate", ["elsewhere"] * per_ctx.shape[0])})
    with pytest.raises(InputError, match="`states` coordinate `source`"):
        classify_states(ref.circuit, bank, bad)


# ------------------------------------------------------------- slow points
def test_ghost_is_a_slow_point_never_a_fixed_point():
    margin = 1e-3
    ref = saddle_node_ghost(2.0, margin=margin, tau=10.0)
    ds = find_fixed_points(ref.circuit, ref.tonic, n_candidates=64)
    fx = fixed_only(ds)
    slow = ds.isel(fp=np.flatnonzero(ds.kind.values == "slow"))
    assert_matches_reference(ds, ref)
    assert slow.sizes["fp"] == 1
    np.testing.assert_allclose(slow.x.values[0], ref.ghosts[0], atol=1e-4)
    assert float(slow.residual[0]) > TOL
    np.testing.assert_allclose(float(slow.q[0]), margin**2 / (2 * 10.0**2), rtol=1e-3)
    assert float(slow.q[0]) <= ds.attrs["slow_q"]
    assert ds.attrs["n_slow"][0] >= 1 and ds.attrs["n_slow_points"].tolist() == [1]
    assert fx.sizes["fp"] == 1 and ds.kind.values.tolist() == ["fixed", "slow"]
    # a stricter slow threshold turns the slow point into a failure
    strict = find_fixed_points(ref.circuit, ref.tonic, n_candidates=64, slow_q=1e-12)
    assert strict.kind.values.tolist() == ["fixed"]
    assert strict.attrs["n_failed"][0] >= 1


# ------------------------------------------------------------- contexts, inputs, candidates
def test_each_context_gets_its_own_fixed_points():
    w = 2.0
    bf = fold_bias(w)
    c = Circuit.from_arrays(W_rec=[[w]], tau=10.0)
    tonic = xr.DataArray(np.array([[0.0], [2 * bf], [-2 * bf], [0.5 * bf]]), dims=("context", "unit"),
                         coords={"context": ["zero", "up", "down", "tilt"]})
    ds = find_fixed_points(c, tonic, contexts=["up", "zero", "tilt"], n_candidates=32)
    assert ds.attrs["contexts"] == ["up", "zero", "tilt"]
    assert ds.attrs["n_fixed_points"].tolist() == [1, 3, 3]
    assert ds.context.values.tolist() == ["up", "zero", "zero", "zero", "tilt", "tilt", "tilt"]
    for name, b in (("up", 2 * bf), ("zero", 0.0), ("tilt", 0.5 * bf)):
        sel = ds.isel(fp=np.flatnonzero(ds.context.values == name))
        x = np.sort(sel.x.values[:, 0])
        np.testing.assert_allclose(-x + w * np.tanh(x) + b, 0.0, atol=1e-14)
        if len(x) == 3:  # outer roots beyond the fold points, middle one between
            assert x[0] < -fold_point(w) < x[1] < fold_point(w) < x[2]
    zero = ds.isel(fp=np.flatnonzero(ds.context.values == "zero"))
    assert zero.stability.values.tolist() == ["stable", "stable", "unstable"]
    # groupby works on the flat layout
    assert dict(ds.groupby("context").count()["index"].to_series()) == {"tilt": 3, "up": 1, "zero": 3}


def test_tonic_from_results_dataset_and_inputs_broadcast():
    c = Circuit.from_arrays(W_rec=[[2.0]], W_in=[[1.0]], tau=10.0)
    bf = fold_bias(2.0)
    results = xr.Dataset({"tonic": (("context", "unit"), [[0.0], [0.0]])}, coords={"context": ["a", "b"]})
    # input u adds W_in u to the drive of both contexts: push both past the fold
    ds = find_fixed_points(c, results, inputs=[3 * bf], n_candidates=16)
    assert ds.attrs["n_fixed_points"].tolist() == [1, 1]
    assert (ds.x.values > 0).all()


def test_initial_states_are_used():
    ref = multistable_chain(n_units=6, n_core=2, seed=9)
    start = ref.x[[0, 4]] + 1e-3
    ds = find_fixed_points(ref.circuit, ref.tonic, n_candidates=0, initial_states=start, explore_rounds=0)
    fm, _ = match_fixed_points(ds.x.values, ref.x, atol=1e-8)
    assert sorted(fm.tolist()) == [0, 4]
    assert ds.source.values.tolist() == ["user", "user"]
    assert ds.attrs["candidates_tried"].tolist() == [2]
    # per-context initial states
    ds2 = find_fixed_points(ref.circuit, np.stack([ref.tonic, ref.tonic]), n_candidates=0,
                            initial_states=start[:, None, :], explore_rounds=0)
    assert ds2.attrs["n_fixed_points"].tolist() == [1, 1]


def test_descent_and_exploration_options():
    ref = multistable_chain(n_units=16, n_core=3, seed=10)
    plain = find_fixed_points(ref.circuit, ref.tonic, n_candidates=64, descent_steps=0)
    assert_matches_reference(plain, ref)
    # from a handful of candidates the first round finds a few; exploration completes the set
    few = find_fixed_points(ref.circuit, ref.tonic, n_candidates=16, explore_rounds=0)
    assert set(few.source.values) <= {"trajectory", "random"}
    assert few.sizes["fp"] < 20
    more = find_fixed_points(ref.circuit, ref.tonic, n_candidates=16, explore_rounds=10)
    assert_matches_reference(more, ref)
    assert "explore" in set(more.source.values)


def test_same_seed_same_result_other_seed_same_set():
    ref = multistable_chain(n_units=10, n_core=3, seed=11)
    a = find_fixed_points(ref.circuit, ref.tonic, n_candidates=64, seed=3)
    b = find_fixed_points(ref.circuit, ref.tonic, n_candidates=64, seed=3)
    xr.testing.assert_identical(a, b)
    c = find_fixed_points(ref.circuit, ref.tonic, n_candidates=64, seed=4)
    np.testing.assert_allclose(c.x.values, a.x.values, atol=1e-9)  # sorted the same way


def test_eigenvectors_are_right_and_left_eigenvectors():
    c = Circuit.random(9, g=1.5, seed=12)
    b = np.random.default_rng(12).normal(0, 0.3, 9)
    ds = fixed_only(find_fixed_points(c, b, n_candidates=64, eigenvectors=True, n_modes=4))
    assert ds.sizes["mode_top"] == 4 and ds.sizes["fp"] >= 1
    J = c.dynamics().jacobian(torch.tensor(ds.x.values), torch.tensor(b)).numpy()
    lam = ds.eig_real.values[:, :4] + 1j * ds.eig_imag.values[:, :4]
    R = ds.right_real.values + 1j * ds.right_imag.values  # (fp, mode_top, unit)
    L = ds.left_real.values + 1j * ds.left_imag.values
    for p in range(ds.sizes["fp"]):
        for k in range(4):
            np.testing.assert_allclose(J[p] @ R[p, k], lam[p, k] * R[p, k], atol=1e-10)
            np.testing.assert_allclose(L[p, k] @ J[p], lam[p, k] * L[p, k], atol=1e-8)
            np.testing.assert_allclose(np.linalg.norm(R[p, k]), 1.0, atol=1e-12)
        np.testing.assert_allclose(L[p] @ R[p].T, np.eye(4), atol=1e-8)


# ------------------------------------------------------------- files
def test_writes_and_reads_as_a_fixed_points_file(tmp_path, chain243):
    ref = saddle_node_ghost(2.0)
    ds = find_fixed_points(ref.circuit, ref.tonic, n_candidates=32, eigenvectors=True)
    validate(ds, "fixed_points")
    back = read_dataset(write_dataset(ds, tmp_path / "fp.nc", kind="fixed_points"), kind="fixed_points")
    assert back.attrs["kind"] == "fixed_points"
    for name in ("x", "r", "residual", "q", "eig_real", "eig_imag", "index", "oscillatory", "right_real",
                 "left_imag", "n_hits"):
        np.testing.assert_array_equal(back[name].values, ds[name].values)
    for name in ("stability", "kind", "source", "context"):
        assert [str(v) for v in back[name].values] == [str(v) for v in ds[name].values]
    assert list(np.atleast_1d(back.attrs["n_fixed_points"])) == [1]
    # the 243-point result and an empty one round trip too
    _, big = chain243
    back = read_dataset(write_dataset(big, tmp_path / "big.nc", kind="fixed_points"))
    assert [str(v) for v in back.stability.values] == big.stability.values.tolist()
    empty = big.isel(fp=[])
    back = read_dataset(write_dataset(empty, tmp_path / "empty.nc", kind="fixed_points"))
    assert back.sizes["fp"] == 0


# ------------------------------------------------------------- numerics guard
def test_solves_are_checked_after_a_user_raises_the_thread_count():
    # after torch.set_num_threads(n > 1), MKL's batched LU of large matrices can be
    # silently wrong (torch 2.13 CPU); every solve is verified, and fixed points stay exact.
    c = Circuit.random(224, g=0.9, seed=13)
    simulate(c, np.zeros(224), duration=10.0)
    torch.set_num_threads(2)
    A = torch.tensor(np.random.default_rng(0).normal(size=(4, 224, 224))) + 20 * torch.eye(224, dtype=torch.float64)
    b = torch.tensor(np.random.default_rng(1).normal(size=(4, 224)))
    x, ok, _, _ = lu_checked(A, b)  # outside one_lapack_thread: may be wrong, but then flagged
    good = (A @ x[..., None])[..., 0] - b
    assert bool((good[ok].abs().amax(-1) <= 1e-8).all())
    with one_lapack_thread():
        _, ok1, _, _ = lu_checked(A, b)
    assert bool(ok1.all())
    torch.set_num_threads(2)
    try:
        ds = find_fixed_points(c, np.full(224, 0.1), n_candidates=8, explore_rounds=0)
        assert ds.sizes["fp"] == 1 and float(ds.residual[0]) <= TOL
        assert torch.get_num_threads() == 2  # the solves ran on one thread; the caller's setting is restored
    finally:
        torch.set_num_threads(1)


# ------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        (dict(n_candidates=-1), r"`n_candidates` must be an int >= 0; got -1"),
        (dict(n_candidates=0), r"`n_candidates` must be >= 1 when no `initial_states`"),
        (dict(n_candidates=2.5), r"`n_candidates` must be an int >= 0; got 2.5"),
        (dict(tol=0.0), r"`tol` must be a positive float"),
        (dict(tol=-1e-3), r"`tol` must be a positive float"),
        (dict(slow_q=float("nan")), r"`slow_q` must be a positive float; got nan"),
        (dict(seed=-1), r"`seed` must be an int >= 0; got -1"),
        (dict(max_newton=0), r"`max_newton` must be an int >= 1; got 0"),
        (dict(n_modes=4), r"`n_modes` must be an int in \[0, 3\]; got 4"),
        (dict(initial_states=np.zeros((2, 4))), r"`initial_states` must have shape \(n, unit\) = \(n, 3\)"),
        (dict(initial_states=np.zeros((5, 2, 3))), r"`initial_states` must have shape .*\(context, n, unit\) = \(2, n, 3\)"),
        (dict(initial_states=[[np.nan, 0, 0]]), r"`initial_states` must be finite"),
        (dict(inputs=np.zeros(3)), r"`inputs` must have shape \(input,\) = \(1,\) or \(context, input\) = \(2, 1\); got \(3,\)"),
        (dict(inputs=np.zeros((3, 1))), r"`inputs` must have shape"),
        (dict(contexts=["a", "nope"]), r"`contexts` names \['nope'\] not in the tonic bank's contexts"),
        (dict(device="nodevice"), r"`device` must be 'cpu', 'cuda' or 'cuda:N'; got 'nodevice'"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, pattern):
    c = Circuit.from_arrays(W_rec=np.eye(3) * 0.5, W_in=np.ones((3, 1)), tau=10.0)
    tonic = xr.DataArray(np.zeros((2, 3)), dims=("context", "unit"), coords={"context": ["a", "b"]})
    with pytest.raises(InputError, match=pattern):
        find_fixed_points(c, tonic, **kwargs)


def test_bad_circuit_and_tonic():
    with pytest.raises(InputError, match="`circuit` must be a neurobias Circuit"):
        find_fixed_points(np.eye(2), np.zeros(2))
    c = Circuit.from_arrays(W_rec=np.eye(3) * 0.5, tau=10.0)
    with pytest.raises(InputError, match="`tonic` must have shape"):
        find_fixed_points(c, np.zeros(4))


def test_neighbour_lines_scanned_once_per_pair(monkeypatch):
    """A line between two new points is scanned from one end only, no line is lost, and the minima are kept.

    Two contexts with equal drives (so every state is a fixed point of both), the known points in a shuffled
    order and only some of them new, in another order: lines are identified by their end points.
    """
    from neurobias.analysis import _candidates as cand
    from neurobias.analysis.references import mirrored_multistable

    ref = mirrored_multistable(n_units=40, n_core=3, seed=3, spectra=False)
    tonic = np.asarray(ref.tonic, dtype=np.float64)
    field = Field(dyn=ref.circuit.dynamics(device="cpu"), ext=torch.tensor(np.stack([tonic, tonic])))
    x = torch.tensor(ref.x, dtype=torch.float64)
    rng = np.random.default_rng(0)
    both_x, both_c = torch.cat([x, x]), torch.repeat_interleave(torch.arange(2), len(x))
    perm = torch.as_tensor(rng.permutation(2 * len(x)))
    known_x, known_c = both_x[perm], both_c[perm]
    pick = torch.as_tensor(rng.permutation(2 * len(x))[: 2 * len(x) * 3 // 5])
    new_x, new_c = known_x[pick], known_c[pick]
    half = torch.ones(2, x.shape[1], dtype=torch.float64)
    no_dirs = x.new_zeros((len(new_x), 0, x.shape[1]))
    scans: list[list[frozenset]] = []
    real_minima = cand._line_minima

    def end(state: torch.Tensor, c: int) -> tuple[int, int]:
        gap = (known_x - state).abs().amax(-1).masked_fill(known_c != c, float("inf"))
        j = int(gap.argmin())
        assert float(gap[j]) <= 1e-12 * (1.0 + float(state.abs().max()))
        return c, j

    def recording(field, base, step, c, grid, known):
        assert bool((step.abs().amax(-1) > 0).all())  # no line from a point to itself
        scans.append([frozenset((end(b, int(ci)), end(b + s, int(ci)))) for b, s, ci in zip(base, step, c)])
        return real_minima(field, base, step, c, grid, known)

    monkeypatch.setattr(cand, "_line_minima", recording)
    once = cand.explore(field, new_x, new_c, no_dirs, known_x, known_c, half, n_neighbours=8)
    monkeypatch.setattr(cand, "_mirrored", lambda same, nn, valid: torch.zeros_like(valid))
    full = cand.explore(field, new_x, new_c, no_dirs, known_x, known_c, half, n_neighbours=8)
    lines_once, lines_full = scans
    assert len(lines_full) == len(new_x) * 8
    # every line of the full scan is scanned, each once
    assert set(lines_once) == set(lines_full) and len(lines_once) == len(set(lines_once))
    # both kinds of lines occur: pairs scanned from both ends in the full scan, and lines scanned from one end
    from collections import Counter
    counts = Counter(lines_full)
    assert 2 in counts.values() and 1 in counts.values()
    assert all(len({c for c, _ in line}) == 1 for line in lines_once)  # never across contexts
    # the same minima, to the rounding of the float32 states that rank them
    for a, b in ((full, once), (once, full)):
        gap = torch.cdist(a[0], b[0], compute_mode="donot_use_mm_for_euclid_dist").amin(1)
        assert float(gap.max()) <= 1e-5 * float(x.abs().max())

"""Continuation with leading spectra (Krylov-Schur windows) against answers found without them.

Ground truths: the closed-form-free reference of ``test_bifurcations`` (SciPy's
``brentq`` on the trace of a 2 x 2 block) for circuits in which those blocks
drive a dense random follower population, numpy's full eigenvalues at the
branch points, and the same continuation with every eigenvalue (LAPACK).
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import block_diag

from neurobias.analysis import continuation as cont
from neurobias.analysis.continuation import continue_fixed_points
from neurobias.circuit import Circuit
from neurobias.errors import InputError

from test_bifurcations import _BLOCKS, _block_hopf, _rotation

TAU = 10.0


def _blocks_with_followers(n_followers: int = 194, seed: int = 0) -> tuple[Circuit, np.ndarray, list[float]]:
    """Three rotation blocks (Hopf points at known s) driving a dense random population that never feeds back.

    The Jacobian is block lower-triangular, so its eigenvalues are those of the
    blocks (crossing at the reference s) and those of the followers (gain
    at most 0.5: real parts at most -0.5 / tau, never crossing).
    """
    rng = np.random.default_rng(seed)
    core = block_diag(*[_rotation(a, w) for a, w, _, _ in _BLOCKS])
    n = 6 + n_followers
    W = np.zeros((n, n))
    W[:6, :6] = core
    W[6:, :6] = rng.standard_normal((n_followers, 6)) * 0.3 / np.sqrt(6)
    W[6:, 6:] = rng.standard_normal((n_followers, n_followers)) * 0.5 / np.sqrt(n_followers) * 0.9
    b_end = np.concatenate([beta * _block_hopf(a, w, beta) / target for a, w, beta, target in _BLOCKS]
                           + [0.5 * rng.standard_normal(n_followers)])
    return Circuit.from_arrays(W_rec=W, tau=TAU), b_end, [target for *_, target in _BLOCKS]


def test_leading_windows_locate_every_hopf_point_of_a_large_circuit():
    c, b_end, targets = _blocks_with_followers()
    n = c.n_units
    ds = continue_fixed_points(c, start=np.zeros(n), end=b_end, fixed_points=np.zeros((1, n)), find_end=False,
                               spectra="leading")
    assert ds.attrs["spectra"].startswith("leading")
    assert ds.attrs["n_spectra_krylov"] > 0.5 * int(ds["n_points"][0])  # Krylov-Schur did the work
    assert set(ds["bif_kind"].values) == {"hopf"}
    np.testing.assert_allclose(np.sort(ds["bif_s"].values), targets, rtol=0, atol=1e-8)
    assert np.all(np.abs(ds["bif_eig_real"].values) <= 1e-12)
    rows = sorted(ds["bif_step"].values)
    assert int(ds["start_index"][0]) == 6
    assert [int(ds["index"].values[0, r + 1]) for r in rows] == [4, 2, 0]
    # the stored leading modes are numpy's leading eigenvalues at the same points
    W = c.W_rec
    for r in range(0, int(ds["n_points"][0]), 5):
        x = ds["x"].values[0, r]
        J = (-np.eye(n) + W * (1.0 / np.cosh(x) ** 2)[None, :]) / TAU
        ref = np.linalg.eigvals(J)
        ref = np.sort(ref.real)[::-1][: ds.sizes["mode"]]
        np.testing.assert_allclose(ds["eig_real"].values[0, r], ref, rtol=0, atol=1e-11)
    # spectra every third point: the crossings are bracketed, filled in and located the same
    sparse = continue_fixed_points(c, start=np.zeros(n), end=b_end, fixed_points=np.zeros((1, n)), find_end=False,
                                   spectra="leading", eig_every=3)
    assert list(sparse["bif_kind"].values) == list(ds["bif_kind"].values)
    np.testing.assert_allclose(sparse["bif_s"].values, ds["bif_s"].values, rtol=0, atol=1e-10)
    assert (sparse["index"].values[0] == -1).any()


def test_windows_that_do_not_pair_fall_back_on_every_eigenvalue(monkeypatch):
    c, b_end, targets = _blocks_with_followers(n_followers=120)
    n = c.n_units
    monkeypatch.setattr(cont._Spectra, "pair", lambda self, before, after: None)  # no two windows trusted
    ds = continue_fixed_points(c, start=np.zeros(n), end=b_end, fixed_points=np.zeros((1, n)), find_end=False,
                               spectra="leading")
    assert ds.attrs["n_spectra_dense"] >= int(ds["n_points"][0]) - 1
    np.testing.assert_allclose(np.sort(ds["bif_s"].values), targets, rtol=0, atol=1e-8)
    rows = sorted(ds["bif_step"].values)
    assert [int(ds["index"].values[0, r + 1]) for r in rows] == [4, 2, 0]


def test_leading_and_every_eigenvalue_agree_on_a_dense_random_circuit(monkeypatch):
    rng = np.random.default_rng(3)
    n = 256
    c = Circuit.random(n_units=n, g=1.5, tau=TAU, phi="tanh", form="current", seed=n)
    start, end = rng.standard_normal(n), 0.3 * rng.standard_normal(n)
    x = np.zeros(n)
    for _ in range(20000):  # relax to the start's stable fixed point
        dx = (-x + c.W_rec @ np.tanh(x) + start) / TAU
        x += dx
        if np.max(np.abs(dx)) < 1e-12:
            break
    every = continue_fixed_points(c, start=start, end=end, fixed_points=x[None], find_end=False, spectra="all")
    # the large-circuit path as a whole: leading windows and GMRES preconditioned with reused LU factors
    monkeypatch.setattr(cont, "RECYCLE_MIN_UNITS", 0)
    lead = continue_fixed_points(c, start=start, end=end, fixed_points=x[None], find_end=False, spectra="leading")
    assert every.attrs["spectra"].startswith("all") and every.attrs["n_spectra_krylov"] == 0
    assert every.attrs["linear_solver"] == "lu"
    assert lead.attrs["n_spectra_krylov"] > 0 and lead.attrs["linear_solver"] == "gmres with reused lu"
    assert 0 < lead.attrs["n_factorisations"] < int(lead["n_points"][0]) // 2  # reused, not one per step
    assert np.nanmax(lead["residual"].values) <= 1e-10
    assert every.sizes["bifurcation"] >= 1  # the path meets bifurcations
    assert list(lead["bif_kind"].values) == list(every["bif_kind"].values)
    np.testing.assert_allclose(lead["bif_s"].values, every["bif_s"].values, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(lead["index"].values, every["index"].values)
    np.testing.assert_allclose(lead["eig_real"].values, every["eig_real"].values, rtol=0, atol=1e-10)
    np.testing.assert_allclose(np.abs(lead["eig_imag"].values), np.abs(every["eig_imag"].values), rtol=0, atol=1e-10)


def test_auto_spectra_by_size_and_map(monkeypatch):
    c, b_end, _ = _blocks_with_followers(n_followers=60)
    n = c.n_units
    kw = dict(start=np.zeros(n), end=b_end * 0.2, fixed_points=np.zeros((1, n)), find_end=False, steps=3)
    assert continue_fixed_points(c, **kw).attrs["spectra"].startswith("all")
    monkeypatch.setattr(cont, "LEADING_SPECTRA_MIN_UNITS", n)
    assert continue_fixed_points(c, **kw).attrs["spectra"].startswith("leading")
    # a map's period doubling sits at the far left of the spectrum: every eigenvalue, even when large
    assert continue_fixed_points(c, **kw, dt=TAU).attrs["spectra"].startswith("all")


@pytest.mark.parametrize(("kwargs", "match"), [
    (dict(spectra="some"), r"`spectra` must be one of 'auto', 'all', 'leading'; got 'some'"),
    (dict(spectra="leading", dt=10.0), r"`spectra='leading'` follows the events of the flow only"),
])
def test_bad_spectra(kwargs, match):
    c = Circuit.from_arrays(W_rec=_rotation(1.5, 3.0), tau=TAU)
    with pytest.raises(InputError, match=match):
        continue_fixed_points(c, start=np.zeros(2), end=np.ones(2), fixed_points=np.zeros((1, 2)), **kwargs)


def test_branch_point_found_from_the_leading_windows():
    # the symmetric pair of test_bifurcations (closed form) driving 198 followers that never feed back; the
    # sign of det J comes from the windows (the parity of real unstable eigenvalues), not from an LU
    p, q, B = 0.5, -1.0, 2.0
    rng = np.random.default_rng(1)
    n_f = 198
    n = 2 + n_f
    W = np.zeros((n, n))
    W[:2, :2] = [[p, q], [q, p]]
    W[2:, :2] = rng.standard_normal((n_f, 2)) * 0.3
    W[2:, 2:] = rng.standard_normal((n_f, n_f)) * 0.45 / np.sqrt(n_f)
    c = Circuit.from_arrays(W_rec=W, tau=TAU)
    end = np.concatenate([[B, B], 0.3 * rng.standard_normal(n_f)])
    ds = continue_fixed_points(c, start=np.zeros(n), end=end, fixed_points=np.zeros((1, n)), find_end=False,
                               spectra="leading")
    assert ds.attrs["n_spectra_krylov"] > 0
    sparse = continue_fixed_points(c, start=np.zeros(n), end=end, fixed_points=np.zeros((1, n)), find_end=False,
                                   spectra="leading", eig_every=4)
    assert list(sparse["bif_kind"].values) == ["branch_point"]
    assert sparse["bif_s"].values[0] == pytest.approx(float(ds["bif_s"].values[0]), abs=1e-10)
    y = np.arccosh(np.sqrt(p - q))
    s_ref = (y - (p + q) * np.tanh(y)) / B
    assert list(ds["bif_kind"].values) == ["branch_point"]
    assert ds["bif_s"].values[0] == pytest.approx(s_ref, abs=1e-10)
    np.testing.assert_allclose(ds["bif_x"].values[0, :2], [y, y], atol=1e-8)
    assert abs(ds["bif_eig_real"].values[0]) <= 1e-8
    row = int(ds["bif_step"].values[0])
    assert ds["index"].values[0, row - 1] == 1 and ds["index"].values[0, row + 1] == 0

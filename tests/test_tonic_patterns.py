"""Tests of the tonic-input pattern analyses against ground truths and invariants.

Ground truths: similarities of identical, opposite and orthogonal vectors;
PCA of rank-1 and orthogonal banks; task variance of constructed
trajectories with known variances; planted clusters of units; the Jacobian of
:mod:`neurobias.circuit.dynamics`; tonic inputs placed exactly on an
eigenvector, singular vector, readout row or input column.  Invariants:
permuting units changes no statistic, permuting contexts permutes the outputs.
Everything in float64; warnings are errors (pyproject).
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
import torch
import xarray as xr

from neurobias.analysis._stats import (
    correlation,
    expected_abs_cos,
    kmeans,
    participation_ratio,
    principal_angles,
    silhouette_samples,
    silhouette_score,
)
from neurobias.analysis.alignment import tonic_alignment
from neurobias.analysis.gain import effective_connectivity, effective_gain
from neurobias.analysis.task_variance import cluster_units, task_variance, tonic_variance_correlation
from neurobias.analysis.tonic_patterns import tonic_pca, tonic_similarity
from neurobias.circuit import FORMS, PHI_NAMES, Circuit, get_phi, simulate
from neurobias.errors import InputError
from neurobias.testing import assert_allclose




def bank(values, contexts=None) -> xr.DataArray:
    values = np.asarray(values, dtype=np.float64)
    contexts = contexts or [f"c{i}" for i in range(values.shape[0])]
    return xr.DataArray(values, dims=("context", "unit"),
                        coords={"context": list(contexts), "unit": np.arange(values.shape[1])})


def activity(r: np.ndarray, contexts=None) -> xr.Dataset:
    """A trajectories-like Dataset with rates ``r`` of shape (context, trial, time, unit)."""
    C, K, T, N = r.shape
    contexts = contexts or [f"c{i}" for i in range(C)]
    return xr.Dataset({"r": (("context", "trial", "time", "unit"), r)},
                      coords={"context": list(contexts), "trial": np.arange(K), "time": 1.0 + np.arange(T),
                              "unit": np.arange(N)})


def planted_profiles(n_per=(14, 10, 6), *, seed=0, n_trials=4, n_time=3) -> tuple[xr.Dataset, np.ndarray]:
    """Trajectories whose units fall in 3 groups, group g varying (almost) only in context g."""
    rng = np.random.default_rng(seed)
    groups = np.concatenate([np.full(n, g) for g, n in enumerate(n_per)])
    N, C = groups.size, 3
    sd = 0.05 + 0.02 * rng.random((C, N))
    sd[groups, np.arange(N)] = 1.0 + 0.1 * rng.random(N)
    z = rng.normal(size=(n_trials, n_time))
    z = (z - z.mean(axis=0)) / z.std(axis=0)  # exactly unit variance across trials at every time
    r = sd[:, None, None, :] * z[None, :, :, None] + rng.normal(size=(C, 1, n_time, N))
    return activity(r), groups


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two labelings define the same partition (up to relabelling)."""
    pairs = set(zip(a.tolist(), b.tolist()))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


# ------------------------------------------------------------------ similarity
def test_similarity_ground_truth():
    v = np.array([1.0, 2.0, -3.0, 0.5])
    w = np.array([2.0, -1.0, 0.0, 0.0])  # orthogonal to v
    tonic = bank([v, 3 * v, -v, w])
    cos = tonic_similarity(tonic)
    assert cos.dims == ("context", "context_b")
    assert list(cos["context_b"].values) == ["c0", "c1", "c2", "c3"]
    assert_allclose(cos.sel(context="c0", context_b="c1"), 1.0)
    assert_allclose(cos.sel(context="c0", context_b="c2"), -1.0)
    assert_allclose(cos.sel(context="c0", context_b="c3"), 0.0)
    assert_allclose(cos.values, cos.values.T)
    # correlation: zero-mean vectors make it equal to the cosine
    vz, wz = v - v.mean(), np.array([1.0, -1.0, 1.0, -1.0])
    wz = wz - (wz @ vz) / (vz @ vz) * vz
    corr = tonic_similarity(bank([vz + 5.0, 2 * vz - 1.0, -vz, wz]), metric="correlation")
    assert_allclose(corr.values[0, 1:], [1.0, -1.0, 0.0])
    assert_allclose(corr.values, np.corrcoef(np.array([vz + 5.0, 2 * vz - 1.0, -vz, wz])))
    euc = tonic_similarity(bank([[0.0, 0.0], [3.0, 4.0], [0.0, 0.0]]), metric="euclidean")
    assert_allclose(euc.values, [[0, 5, 0], [5, 0, 5], [0, 5, 0]], atol=0)


def test_similarity_undefined_is_nan():
    cos = tonic_similarity(bank([[0.0, 0.0], [1.0, 2.0]]))
    assert np.isnan(cos.values[0]).all() and np.isnan(cos.values[:, 0]).all()
    corr = tonic_similarity(bank([[3.0, 3.0, 3.0], [1.0, 2.0, 0.0]]), metric="correlation")
    assert np.isnan(corr.values[0, 1]) and corr.values[1, 1] == pytest.approx(1.0, abs=1e-12)


# ------------------------------------------------------------------------- PCA
def test_pca_variance_sums_to_total_and_reconstructs():
    rng = np.random.default_rng(1)
    B = rng.normal(size=(5, 12))
    for center in (True, False):
        p = tonic_pca(bank(B), n_shuffles=0, center=center)
        X = B - B.mean(axis=0) if center else B
        total = np.sum(X * X) / (4 if center else 5)
        assert_allclose(p["total_variance"], total)
        assert_allclose(p["explained_variance"].sum(), total)
        assert_allclose(p["explained_variance_ratio"].sum(), 1.0)
        assert p.sizes["component"] == (4 if center else 5)
        L = p["loadings"].values
        assert_allclose(L @ L.T, np.eye(L.shape[0]))
        assert_allclose(p["scores"].values @ L + p["mean"].values, B)
        assert np.all(np.diff(p["explained_variance"].values) <= 0)
        assert_allclose(p["participation_ratio"], participation_ratio(p["explained_variance"].values))
    assert np.isnan(tonic_pca(bank(B), n_shuffles=0)["p_value"])


def test_pca_participation_ratio_ground_truth():
    rng = np.random.default_rng(2)
    v = rng.normal(size=20)
    rank1 = np.outer([1.0, -2.0, 0.5, 3.0], v)
    for center in (True, False):
        assert_allclose(tonic_pca(bank(rank1), n_shuffles=0, center=center)["participation_ratio"], 1.0)
    # C orthogonal vectors of equal norm: PR = C uncentred, C - 1 centred
    C = 4
    Q = np.linalg.qr(rng.normal(size=(20, C)))[0].T * 2.5
    assert_allclose(tonic_pca(bank(Q), n_shuffles=0, center=False)["participation_ratio"], C)
    assert_allclose(tonic_pca(bank(Q), n_shuffles=0, center=True)["participation_ratio"], C - 1)


def test_pca_shuffle_null():
    rng = np.random.default_rng(3)
    v = rng.normal(size=40)
    aligned = np.outer(rng.normal(size=6), v) + 0.01 * rng.normal(size=(6, 40))
    p = tonic_pca(bank(aligned), n_shuffles=199, seed=4)
    assert p.sizes["shuffle"] == 199
    assert p["p_value"] == pytest.approx(1 / 200)
    assert p["null_participation_ratio"].min() > 1.5 * p["participation_ratio"]
    again = tonic_pca(bank(aligned), n_shuffles=199, seed=4)
    xr.testing.assert_identical(p, again)
    other = tonic_pca(bank(aligned), n_shuffles=199, seed=5)
    assert not np.array_equal(other["null_participation_ratio"], p["null_participation_ratio"])
    # an unstructured bank is not significant
    noise = tonic_pca(bank(rng.normal(size=(6, 40))), n_shuffles=199, seed=4)
    assert noise["p_value"] > 0.01


# ----------------------------------------------------------------- invariances
def test_unit_permutation_changes_no_statistic():
    rng = np.random.default_rng(5)
    B = rng.normal(size=(4, 30))
    perm = rng.permutation(30)
    Bp = bank(B[:, perm])
    for metric in ("cosine", "correlation", "euclidean"):
        assert_allclose(tonic_similarity(Bp, metric=metric), tonic_similarity(bank(B), metric=metric))
    p, pp = tonic_pca(bank(B), n_shuffles=0), tonic_pca(Bp, n_shuffles=0)
    for name in ("explained_variance", "participation_ratio", "total_variance", "scores"):
        assert_allclose(pp[name], p[name], rtol=1e-10, atol=1e-12)
    assert_allclose(pp["loadings"].values, p["loadings"].values[:, perm], rtol=1e-10, atol=1e-12)

    ds, groups = planted_profiles()
    perm = rng.permutation(ds.sizes["unit"])
    ds_p = ds.isel(unit=perm).assign_coords(unit=np.arange(ds.sizes["unit"]))
    tv, tv_p = task_variance(ds), task_variance(ds_p)
    assert_allclose(tv_p["tv"].values, tv["tv"].values[:, perm])
    cl, cl_p = cluster_units(tv), cluster_units(tv_p)
    assert cl.attrs["k"] == cl_p.attrs["k"] == 3
    assert np.array_equal(cl_p["cluster"].values, cl["cluster"].values[perm])  # exactly, labels included
    assert_allclose(cl_p["silhouette"], cl["silhouette"], rtol=1e-10, atol=1e-12)
    assert_allclose(cl_p["silhouette_unit"].values, cl["silhouette_unit"].values[perm], rtol=1e-10, atol=1e-12)
    assert_allclose(cl_p["centroids"], cl["centroids"], rtol=1e-10, atol=1e-12)
    b_units = bank(rng.normal(size=(3, ds.sizes["unit"])))
    corr = tonic_variance_correlation(b_units, tv, clusters=cl)
    corr_p = tonic_variance_correlation(bank(b_units.values[:, perm]), tv_p, clusters=cl_p)
    for name in ("pearson", "spearman", "n", "pearson_pooled"):
        assert_allclose(corr_p[name], corr[name], rtol=1e-10, atol=1e-12)

    # circuit analyses: relabel the units of the circuit, the tonic inputs and the states together
    n = 9
    circuit = Circuit.random(n, n_inputs=1, n_outputs=2, seed=3)
    perm = rng.permutation(n)
    circuit_p = Circuit.from_arrays(W_rec=circuit.W_rec[np.ix_(perm, perm)], W_in=circuit.W_in[perm],
                                    W_out=circuit.W_out[:, perm])
    b = rng.normal(size=(3, n))
    states = bank(rng.normal(size=(3, n)))
    g = effective_gain(circuit, bank(b), states=states)
    g_p = effective_gain(circuit_p, bank(b[:, perm]), states=bank(states.values[:, perm]))
    assert_allclose(g_p["gain"].values, g["gain"].values[:, perm])
    for name in ("on_fraction", "spectral_radius", "singular_value", "gain_change", "switched"):
        assert_allclose(g_p[name], g[name], rtol=1e-10, atol=1e-12)
    assert_allclose(np.sort_complex(g_p["eig_real"] + 1j * g_p["eig_imag"]),
                    np.sort_complex(g["eig_real"] + 1j * g["eig_imag"]), rtol=1e-9, atol=1e-10)
    a, a_p = tonic_alignment(circuit, bank(b), n_shuffles=0), tonic_alignment(circuit_p, bank(b[:, perm]), n_shuffles=0)
    for name in ("eig_alignment", "left_alignment", "right_alignment", "readout_cos", "input_cos"):
        assert_allclose(a_p[name], a[name], rtol=1e-8, atol=1e-10)


def test_context_relabelling_permutes_outputs():
    rng = np.random.default_rng(6)
    names = ["a", "b", "c", "d"]
    B = rng.normal(size=(4, 10))
    order = [2, 0, 3, 1]
    t1, t2 = bank(B, names), bank(B[order], [names[i] for i in order])
    s1, s2 = tonic_similarity(t1), tonic_similarity(t2)
    assert list(s2["context"].values) == [names[i] for i in order]
    assert_allclose(s2.values, s1.values[np.ix_(order, order)])
    p1, p2 = tonic_pca(t1, n_shuffles=0), tonic_pca(t2, n_shuffles=0)
    assert_allclose(p2["explained_variance"], p1["explained_variance"], rtol=1e-10, atol=1e-12)
    assert_allclose(p2["scores"].values, p1["scores"].values[order], rtol=1e-10, atol=1e-12)

    r = rng.normal(size=(4, 3, 5, 10))
    tv1 = task_variance(activity(r, names))
    tv2 = task_variance(activity(r[order], [names[i] for i in order]))
    assert_allclose(tv2["tv_norm"].values, tv1["tv_norm"].values[order])

    circuit = Circuit.random(10, seed=1)
    states1 = bank(0.5 * rng.normal(size=(4, 10)), names)
    g1 = effective_gain(circuit, t1, states=states1)
    g2 = effective_gain(circuit, t2, states=states1)  # states matched to tonic by name
    assert_allclose(g2["gain"].values, g1["gain"].values[order])
    assert_allclose(g2["gain_change"].values, g1["gain_change"].values[np.ix_(order, order)])
    a1, a2 = tonic_alignment(circuit, t1, n_shuffles=0), tonic_alignment(circuit, t2, n_shuffles=0)
    assert_allclose(a2["eig_alignment"].values, a1["eig_alignment"].values[order])


# -------------------------------------------------------------- task variance
def test_task_variance_exact():
    rng = np.random.default_rng(7)
    C, K, T, N = 3, 4, 5, 6
    sd = rng.uniform(0.5, 2.0, size=(C, T, N))
    sd[:, :, 5] = 0.0  # unit 5 never varies across trials: inactive
    z = np.array([1.0, -1.0, 1.0, -1.0])  # variance 1 across trials (ddof 0)
    r = sd[:, None] * z[None, :, None, None] + rng.normal(size=(C, 1, T, N))  # + a trial-independent mean
    tv = task_variance(activity(r))
    want = np.mean(sd**2, axis=1)  # (context, unit)
    assert_allclose(tv["tv"].values, want)
    assert_allclose(tv["tv_total"].values, want.sum(axis=0))
    assert tv["active"].values.tolist() == [True] * 5 + [False]
    assert np.isnan(tv["tv_norm"].values[:, 5]).all()
    assert_allclose(tv["tv_norm"].values[:, :5], want[:, :5] / want[:, :5].max(axis=0))
    tv_sum = task_variance(activity(r), normalize="sum")
    assert_allclose(tv_sum["tv_norm"].values[:, :5].sum(axis=0), np.ones(5))
    # the DataArray and the "x" variable are accepted too
    assert_allclose(task_variance(activity(r)["r"])["tv"], want)
    assert_allclose(task_variance(activity(r).rename(r="x"), variable="x")["tv"], want)


def test_cluster_units_recovers_planted_clusters():
    ds, groups = planted_profiles()
    cl = cluster_units(task_variance(ds), k_range=(2, 6))
    assert cl.attrs["k"] == 3
    assert list(cl["k"].values) == [2, 3, 4, 5, 6]
    assert int(np.nanargmax(cl["silhouette"].values)) == 1
    assert cl["silhouette"].sel(k=3) > 0.8
    assert same_partition(cl["cluster"].values, groups)
    assert cl["cluster_size"].values.tolist() == [14, 10, 6]  # numbered by size
    # centroid of each cluster peaks in its own context
    assert sorted(np.argmax(cl["centroids"].values, axis=1).tolist()) == [0, 1, 2]
    gap = cluster_units(task_variance(ds), k_range=(1, 5), criterion="gap")
    assert gap.attrs["k"] == 3 and same_partition(gap["cluster"].values, groups)
    fixed = cluster_units(task_variance(ds), k=2)
    assert fixed.attrs["k"] == 2 and fixed.sizes["k"] == 1


def test_cluster_units_inactive_units_get_minus_one():
    ds, groups = planted_profiles()
    r = ds["r"].values.copy()
    r[:, :, :, 0] = 0.25  # constant: inactive
    tv = task_variance(activity(r))
    cl = cluster_units(tv)
    assert cl["cluster"].values[0] == -1 and np.isnan(cl["silhouette_unit"].values[0])
    assert cl.attrs["n_active"] == groups.size - 1
    assert same_partition(cl["cluster"].values[1:], groups[1:])


def test_tonic_variance_correlation():
    rng = np.random.default_rng(8)
    C, N = 3, 20
    b = rng.normal(size=(C, N))
    tv = xr.Dataset({"tv": (("context", "unit"), 2.0 * b + 1.0), "tv_norm": (("context", "unit"), np.exp(b))},
                    coords={"context": ["c0", "c1", "c2"], "unit": np.arange(N)})
    labels = np.array([0] * 8 + [1] * 9 + [-1] * 3)
    clusters = xr.DataArray(labels, dims=("unit",), coords={"unit": np.arange(N)})
    # contexts of the tonic bank in another order: matched by name
    out = tonic_variance_correlation(bank(b[[2, 0, 1]], ["c2", "c0", "c1"]), tv, clusters=clusters)
    assert out["group"].values.tolist() == ["all", "cluster0", "cluster1", "inactive"]
    assert_allclose(out["pearson"].values, np.ones((C, 4)))
    assert_allclose(out["spearman"].values, np.ones((C, 4)))
    assert_allclose(out["pearson_pooled"].values, np.ones(4))
    assert out["n"].sel(context="c1").values.tolist() == [20, 8, 9, 3]
    assert out["n_pooled"].values.tolist() == [60, 24, 27, 9]
    nonlin = tonic_variance_correlation(bank(b), tv, variable="tv_norm")
    assert_allclose(nonlin["spearman"].values, np.ones((C, 1)))
    assert np.all(nonlin["pearson"].values < 1.0 - 1e-6)
    with_nan = tv.copy(deep=True)
    with_nan["tv"][0, :4] = np.nan  # pairs with a NaN are left out
    assert tonic_variance_correlation(bank(b), with_nan)["n"].values[:, 0].tolist() == [16, 20, 20]


def test_correlation_matches_scipy():
    import scipy.stats

    rng = np.random.default_rng(9)
    x, y = rng.normal(size=30), rng.normal(size=30)
    y[:15] += x[:15]
    ref_p = scipy.stats.pearsonr(x, y)
    ref_s = scipy.stats.spearmanr(x, y)
    r, p, _ = correlation(x, y)
    assert r == pytest.approx(ref_p.statistic, abs=1e-12) and p == pytest.approx(ref_p.pvalue, rel=1e-8)
    r, p, _ = correlation(x, y, method="spearman")
    assert r == pytest.approx(ref_s.statistic, abs=1e-12) and p == pytest.approx(ref_s.pvalue, rel=1e-8)
    assert all(np.isnan(v) for v in correlation(np.ones(5), x[:5])[:2])


# ---------------------------------------------------------------- effective gain
@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("phi", PHI_NAMES)
def test_effective_gain_is_the_jacobian(phi, form):
    rng = np.random.default_rng(10)
    N, C = 6, 3
    circuit = Circuit.random(N, n_inputs=2, phi=phi, form=form, tau=7.0, seed=3)
    b = bank(rng.normal(size=(C, N)))
    x = xr.DataArray(rng.normal(size=(C, N)), dims=("context", "unit"), coords={"context": b["context"].values})
    g = effective_gain(circuit, b, states=x)
    w_eff = effective_connectivity(circuit, g["gain"])
    J = circuit.dynamics().jacobian(torch.tensor(x.values), torch.tensor(b.values)).numpy()
    assert_allclose((w_eff.values - np.eye(N)) / circuit.tau, J)
    if form == "current":
        assert_allclose((-np.eye(N) + circuit.W_rec * g["gain"].values[:, None, :]) / circuit.tau, J)
    for c in range(C):
        lam = np.linalg.eigvals(J[c] * circuit.tau + np.eye(N))
        got = g["eig_real"].values[c] + 1j * g["eig_imag"].values[c]
        assert_allclose(np.sort_complex(got), np.sort_complex(lam), rtol=1e-9, atol=1e-9)
        assert np.all(np.diff(g["eig_real"].values[c]) <= 0)
        s = np.linalg.svd(w_eff.values[c], compute_uv=False)
        assert_allclose(g["singular_value"].values[c], s[:5], rtol=1e-10, atol=1e-12)
        U, V = g["singular_left"].values[c], g["singular_right"].values[c]
        assert_allclose(w_eff.values[c] @ V.T, U.T * s[:5], rtol=1e-9, atol=1e-10)
    assert_allclose(g["spectral_radius"].values, np.abs(g["eig_real"] + 1j * g["eig_imag"]).max("mode").values)
    assert_allclose(np.diag(g["gain_change"].values), np.zeros(C), atol=0)


@pytest.mark.parametrize("form", FORMS)
def test_effective_gain_from_trajectories(form):
    rng = np.random.default_rng(11)
    N = 5
    circuit = Circuit.random(N, n_inputs=2, phi="tanh", form=form, seed=2)
    b = bank(rng.normal(size=(2, N)))
    ds = simulate(circuit, b, inputs=rng.normal(size=(3, 8, 2)))
    d = get_phi("tanh").deriv
    x = ds["x"].values
    if form == "current":
        pre = x
    else:
        pre = x @ circuit.W_rec.T + ds["inputs"].values @ circuit.W_in.T + b.values[:, None, None, :]
    g = effective_gain(circuit, b, states=ds)
    want = d(torch.tensor(pre.mean(axis=(1, 2)))).numpy()
    assert_allclose(g["gain"].values, want)
    assert_allclose(g["state"].values, x.mean(axis=(1, 2)))
    gm = effective_gain(circuit, ds, mode="gain_mean")  # tonic and trajectories from one Dataset
    assert_allclose(gm["gain"].values, d(torch.tensor(pre)).numpy().mean(axis=(1, 2)))
    assert gm.attrs["source"] == "trajectories"


def test_effective_gain_switches_units():
    # relu, current form: gain is 1 where the state is positive
    N = 4
    circuit = Circuit.random(N, phi="relu", seed=0)
    b = bank(np.zeros((2, N)), ["A", "B"])
    states = xr.DataArray([[1.0, 2.0, -1.0, -3.0], [1.0, -2.0, 1.0, 3.0]], dims=("context", "unit"),
                          coords={"context": ["A", "B"]})
    g = effective_gain(circuit, b, states=states)
    assert g["gain"].values.tolist() == [[1, 1, 0, 0], [1, 0, 1, 1]]
    assert g["on_fraction"].values.tolist() == [0.5, 0.75]
    assert_allclose(g["switched_on"].values, [[0, 0.5], [0.25, 0]], atol=0)  # off in row, on in column
    assert_allclose(g["switched_off"].values, [[0, 0.25], [0.5, 0]], atol=0)
    assert_allclose(g["switched"].values, [[0, 0.75], [0.75, 0]], atol=0)
    assert_allclose(g["gain_change"].values, [[0, 0.75], [0.75, 0]], atol=0)
    assert g.attrs["max_slope"] == 1.0
    sig = effective_gain(Circuit.random(N, phi="sigmoid", seed=0), b, states=states * 0)
    assert sig.attrs["max_slope"] == pytest.approx(0.25) and sig["on_fraction"].values.tolist() == [1.0, 1.0]


# ------------------------------------------------------------------ alignment
def test_alignment_ground_truth():
    rng = np.random.default_rng(12)
    N = 8
    A = rng.normal(size=(N, N))
    W = (A + A.T) / 2  # symmetric: real orthogonal eigenvectors
    W_out = rng.normal(size=(2, N))
    W_in = rng.normal(size=(N, 1))
    circuit = Circuit.from_arrays(W_rec=W, W_in=W_in, W_out=W_out)
    lam, vec = np.linalg.eigh(W)
    top = vec[:, -1]  # eigenvalue with the largest real part: mode 0
    U, s, Vt = np.linalg.svd(W)
    tonic = bank([3.0 * top, -Vt[0], 2.0 * W_out[1], -W_in[:, 0], vec[:, 0]])
    a = tonic_alignment(circuit, tonic, n_modes=N, n_shuffles=0)
    assert_allclose(a["eig_real"].values, lam[::-1], rtol=1e-10, atol=1e-12)
    assert_allclose(a["eig_alignment"].values[0, 0], 1.0)
    assert_allclose(a["eig_alignment"].values[0, 1:], np.zeros(N - 1), atol=1e-12)
    assert_allclose(a["right_alignment"].values[1, 0], 1.0)
    assert_allclose(a["readout_alignment"].values[2, 1], 1.0)
    assert_allclose(a["readout_cos"].values[2, 1], 1.0)
    assert_allclose(a["input_cos"].values[3, 0], -1.0)
    assert_allclose(a["eig_alignment"].values[4, N - 1], 1.0)  # smallest eigenvalue comes last
    # squared alignments with a complete orthonormal basis sum to 1
    assert_allclose((a["eig_alignment"] ** 2).sum("mode").values, np.ones(5))
    assert_allclose((a["left_alignment"] ** 2).sum("mode").values, np.ones(5))
    assert a.attrs["null_abs_cos"] == pytest.approx(expected_abs_cos(N))


def test_alignment_complex_eigenvectors_and_null():
    rng = np.random.default_rng(13)
    N = 30
    circuit = Circuit.random(N, n_outputs=1, seed=4)
    lam, vec = np.linalg.eig(circuit.W_rec)
    k = int(np.argmax(lam.real))
    if abs(lam[k].imag) > 0:  # complex pair: the real part a and imaginary part c of v = a + ic
        v = vec[:, k] / np.linalg.norm(vec[:, k])
        b_vec = v.real
        want = abs(np.vdot(v, b_vec)) / np.linalg.norm(b_vec)
    else:
        b_vec, want = vec[:, k].real, 1.0
    tonic = bank(np.stack([b_vec, rng.normal(size=N)]))
    a = tonic_alignment(circuit, tonic, n_modes=4, n_shuffles=199, seed=1)
    assert_allclose(a["eig_alignment"].values[0, 0], want, rtol=1e-10)
    assert a["eig_alignment_p"].values[0, 0] == pytest.approx(1 / 200)
    assert 0 < a["eig_alignment_null"].values[0, 0] < 0.5
    assert np.all(a["eig_alignment"].values <= 1.0 + 1e-12)


def test_expected_abs_cos():
    assert expected_abs_cos(1) == pytest.approx(1.0)
    assert expected_abs_cos(2) == pytest.approx(2 / math.pi)
    assert expected_abs_cos(3) == pytest.approx(0.5)
    assert expected_abs_cos(10_000) == pytest.approx(math.sqrt(2 / (math.pi * 10_000)), rel=1e-3)
    rng = np.random.default_rng(14)
    u = rng.normal(size=(200_000, 5))
    mc = np.mean(np.abs(u[:, 0]) / np.linalg.norm(u, axis=1))
    assert mc == pytest.approx(expected_abs_cos(5), abs=3e-3)


# ---------------------------------------------------------------- shared stats
def test_principal_angles():
    theta = 0.3
    A = np.array([[1.0], [0.0], [0.0]])
    B = np.array([[math.cos(theta)], [math.sin(theta)], [0.0]])
    assert_allclose(principal_angles(A, B), [theta])
    tiny = 1e-9
    Bt = np.array([[math.cos(tiny)], [math.sin(tiny)], [0.0]])
    assert_allclose(principal_angles(A, Bt), [tiny], rtol=1e-6, atol=0)
    rng = np.random.default_rng(15)
    X, Y = rng.normal(size=(10, 3)), rng.normal(size=(10, 2))
    got = principal_angles(X, Y)
    assert got.shape == (2,) and np.all(np.diff(got) >= 0)
    assert_allclose(got, np.sort(scipy.linalg.subspace_angles(X, Y)), rtol=1e-10, atol=1e-12)
    assert_allclose(principal_angles(Y, X), got)
    assert_allclose(principal_angles(X, X @ rng.normal(size=(3, 3))), np.zeros(3), atol=1e-7)
    assert_allclose(principal_angles(np.eye(4)[:, :2], np.eye(4)[:, 2:]), [math.pi / 2] * 2)
    with pytest.raises(InputError, match="full column rank"):
        principal_angles(np.ones((4, 2)), Y[:4])
    with pytest.raises(InputError, match="same number of rows"):
        principal_angles(X, Y[:5])


def test_kmeans_and_silhouette():
    rng = np.random.default_rng(16)
    centers = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    X = np.concatenate([c + 0.3 * rng.normal(size=(n, 2)) for c, n in zip(centers, (20, 15, 10))])
    truth = np.repeat([0, 1, 2], (20, 15, 10))
    labels, cent, inertia = kmeans(X, 3, seed=0)
    assert same_partition(labels, truth)
    assert inertia == pytest.approx(sum(np.sum((X[labels == j] - cent[j]) ** 2) for j in range(3)))
    again = kmeans(X, 3, seed=0)
    assert np.array_equal(again[0], labels) and np.array_equal(again[1], cent)
    # silhouette against a direct implementation
    D = np.sqrt(((X[:, None] - X[None]) ** 2).sum(-1))
    s = []
    for i in range(len(X)):
        own = labels == labels[i]
        a = D[i, own].sum() / (own.sum() - 1)
        b = min(D[i, labels == j].mean() for j in set(labels.tolist()) - {labels[i]})
        s.append((b - a) / max(a, b))
    assert_allclose(silhouette_samples(X, labels), np.array(s))
    assert silhouette_score(X, labels) == pytest.approx(np.mean(s))
    assert silhouette_samples(X[:3], np.array([0, 1, 1]))[0] == 0.0  # singleton
    assert participation_ratio([1.0, 1.0, 1.0]) == pytest.approx(3.0)
    assert np.isnan(participation_ratio([0.0, 0.0]))


# ---------------------------------------------------------------- netCDF-ready
def test_outputs_are_netcdf_ready(tmp_path):
    rng = np.random.default_rng(17)
    circuit = Circuit.random(12, n_inputs=1, n_outputs=1, seed=5)
    b = bank(rng.normal(size=(3, 12)))
    ds = simulate(circuit, b, inputs=rng.normal(size=(4, 6, 1)))
    tv = task_variance(ds)
    outputs = {
        "similarity": tonic_similarity(b).to_dataset(),
        "pca": tonic_pca(b, n_shuffles=10),
        "tv": tv,
        "clusters": cluster_units(tv, k_range=(2, 3)),
        "corr": tonic_variance_correlation(b, tv),
        "gain": effective_gain(circuit, ds),
        "alignment": tonic_alignment(circuit, b, n_shuffles=5),
    }
    for name, out in outputs.items():
        assert not any(v.dtype.kind == "c" for v in out.variables.values()), name
        path = tmp_path / f"{name}.nc"
        out.to_netcdf(path, engine="h5netcdf")
        with xr.open_dataset(path, engine="h5netcdf") as back:
            xr.testing.assert_allclose(back.load(), out)


# ------------------------------------------------------------------ bad input
def test_bad_arguments_raise_input_error():
    rng = np.random.default_rng(18)
    good = bank(rng.normal(size=(3, 5)))
    circuit = Circuit.random(5, seed=0)
    with pytest.raises(InputError, match=r"`tonic` must have shape \(context, unit\); got \(5,\)"):
        tonic_similarity(np.zeros(5))
    with pytest.raises(InputError, match="`tonic` must be finite"):
        tonic_similarity(np.array([[1.0, np.nan]]))
    with pytest.raises(InputError, match="`tonic` must have dims"):
        tonic_similarity(good.rename(unit="neuron"))
    with pytest.raises(InputError, match="`metric` must be one of"):
        tonic_similarity(good, metric="manhattan")
    with pytest.raises(InputError, match="at least 2 contexts"):
        tonic_pca(good.isel(context=[0]))
    with pytest.raises(InputError, match="`n_shuffles` must be an int >= 0"):
        tonic_pca(good, n_shuffles=-1)
    with pytest.raises(InputError, match="`center`"):
        tonic_pca(good, center="yes")
    with pytest.raises(InputError, match="`seed`"):
        tonic_pca(good, seed=-3)
    with pytest.raises(InputError, match="at least 2 trials"):
        task_variance(activity(rng.normal(size=(2, 1, 3, 5))))
    with pytest.raises(InputError, match=r"dims \(context, trial, time, unit\)"):
        task_variance(activity(rng.normal(size=(2, 2, 3, 5)))["r"].isel(time=0))
    with pytest.raises(InputError, match="`normalize` must be one of"):
        task_variance(activity(rng.normal(size=(2, 2, 3, 5))), normalize="l2")
    with pytest.raises(InputError, match="`variable`"):
        task_variance(activity(rng.normal(size=(2, 2, 3, 5))), variable="z")
    tv = task_variance(activity(rng.normal(size=(3, 3, 2, 5))))
    with pytest.raises(InputError, match="`k` must be at most"):
        cluster_units(tv, k=5)
    with pytest.raises(InputError, match="`k_range`"):
        cluster_units(tv, k_range=(1, 3))
    with pytest.raises(InputError, match="`criterion`"):
        cluster_units(tv, criterion="elbow")
    with pytest.raises(InputError, match="at least 3 active units"):
        cluster_units(tv.isel(unit=[0, 1]))
    with pytest.raises(InputError, match="same units"):
        tonic_variance_correlation(bank(rng.normal(size=(3, 4))), tv)
    with pytest.raises(InputError, match="same contexts"):
        tonic_variance_correlation(bank(rng.normal(size=(3, 5)), ["x", "y", "z"]), tv)
    other = Circuit.random(7, seed=0)
    with pytest.raises(InputError, match="another circuit"):
        effective_gain(other, good, states=good)
    with pytest.raises(InputError, match="another circuit"):
        tonic_alignment(other, good)
    with pytest.raises(InputError, match="`states` is required"):
        effective_gain(circuit, good)
    with pytest.raises(InputError, match="needs trajectories"):
        effective_gain(circuit, good, states=good, mode="gain_mean")
    with pytest.raises(InputError, match="`threshold`"):
        effective_gain(circuit, good, states=good, threshold=2.0)
    with pytest.raises(InputError, match="`mode`"):
        effective_gain(circuit, good, states=good, mode="median")
    with pytest.raises(InputError, match="same contexts"):
        effective_gain(circuit, good, states=good.assign_coords(context=["p", "q", "r"]))
    ds = simulate(circuit, good, duration=3.0)
    with pytest.raises(InputError, match="other tonic inputs"):
        effective_gain(circuit, good + 1.0, states=ds)
    with pytest.raises(InputError, match="`circuit` must be a neurobias Circuit"):
        tonic_alignment("circuit", good)
    with pytest.raises(InputError, match="`n_modes`"):
        tonic_alignment(circuit, good, n_modes=0)


def test_kmeans_with_duplicate_points_keeps_every_cluster_finite():
    # many identical profiles (e.g. two identical contexts): the empty-cluster repair
    # must not empty another cluster or produce NaN centroids
    from neurobias.analysis._stats import kmeans

    X = np.array([[0.0, 0.0]] * 6 + [[1.0, 1.0]] * 6 + [[3.0, 0.0]])
    labels, centers, inertia = kmeans(X, 3, seed=0)
    assert np.all(np.isfinite(centers))
    assert sorted(np.bincount(labels, minlength=3).tolist()) == [1, 6, 6]
    assert inertia == 0.0

"""Tests of the fixed-point comparisons, attractor analyses and the context summary.

Ground truths: decoupled bistable tanh units whose fixed points a tonic input
destroys (known counts, matches and displacements); a linear circuit with a
perfect line attractor built from a chosen non-orthogonal eigenbasis (known
left and right eigenvectors, hence the selection vector); points placed on a
line, a circle, an arc and at random.  Invariants: identical contexts give the
identity matching with zero distances, identical spectra and zero angles;
permuting units changes no statistic; relabelling contexts permutes the outputs.
Everything in float64; warnings are errors (pyproject).
"""
from __future__ import annotations

import numpy as np
import pytest
import scipy.optimize
import torch
import xarray as xr

from neurobias.analysis import find_fixed_points, fold_bias
from neurobias.analysis._spectra import classify, eig_sorted
from neurobias.analysis.attractors import detect_manifold, selection_vectors
from neurobias.analysis.context_summary import summarize_contexts
from neurobias.analysis.fixed_point_comparison import (
    MATCH_RTOL,
    compare_fixed_point_structure,
    match_fixed_points_between,
)
from neurobias.analysis.gain import effective_gain
from neurobias.analysis.tonic_patterns import tonic_similarity
from neurobias.circuit import Circuit
from neurobias.errors import InputError
from neurobias.testing import assert_allclose




# ------------------------------------------------------------------ helpers
def bank(values, contexts) -> xr.DataArray:
    values = np.asarray(values, dtype=np.float64)
    return xr.DataArray(values, dims=("context", "unit"),
                        coords={"context": list(contexts), "unit": np.arange(values.shape[1])})


def fp_dataset(circuit: Circuit, tonic: xr.DataArray, points: dict[str, np.ndarray], kind: str = "fixed") -> xr.Dataset:
    """A minimal Dataset with the layout of find_fixed_points for given points (zero input)."""
    xs, ctx = [], []
    for c, X in points.items():
        xs.append(np.asarray(X, dtype=np.float64))
        ctx += [c] * len(X)
    x = np.concatenate(xs)
    ext = np.stack([tonic.sel(context=c).values for c in ctx])
    J = circuit.dynamics().jacobian(torch.tensor(x), torch.tensor(ext))
    values = eig_sorted(J, vectors=False).values
    index, stability, osc = classify(values, circuit.tau)
    F = circuit.dynamics().vector_field(torch.tensor(x), torch.tensor(ext))
    n, N = x.shape
    return xr.Dataset(
        {"x": (("fp", "unit"), x), "residual": (("fp",), np.abs(F.numpy()).max(axis=1)),
         "eig_real": (("fp", "mode"), values.real.copy()), "eig_imag": (("fp", "mode"), values.imag.copy()),
         "index": (("fp",), index), "stability": (("fp",), stability), "oscillatory": (("fp",), osc),
         "kind": (("fp",), np.array([kind] * n))},
        coords={"fp": np.arange(n), "context": ("fp", np.array(ctx)), "unit": np.arange(N), "mode": np.arange(N)},
        attrs={"contexts": list(points), "form": circuit.form, "phi": circuit.phi, "tau": circuit.tau},
    )


def relabel(fp: xr.Dataset, mapping: dict[str, str]) -> xr.Dataset:
    out = fp.assign_coords(context=("fp", np.array([mapping.get(str(c), str(c)) for c in fp["context"].values])))
    out.attrs = {**fp.attrs, "contexts": [mapping.get(c, c) for c in fp.attrs["contexts"]]}
    return out


def duplicate_context(fp: xr.Dataset, new: str) -> xr.Dataset:
    """``fp`` (one context) plus an exact copy of its points labelled ``new``."""
    old = str(fp.attrs["contexts"][0])
    copy = fp.assign_coords(context=("fp", np.array([new] * fp.sizes["fp"])))
    both = xr.concat([fp, copy], dim="fp")
    both = both.assign_coords(fp=np.arange(both.sizes["fp"]))
    both.attrs = dict(fp.attrs)
    both.attrs["contexts"] = [old, new]
    both.attrs["inputs"] = [list(np.asarray(fp.attrs["inputs"]).reshape(-1))] * 2
    return both


def permute_units(circuit: Circuit, tonic: xr.DataArray, fp: xr.Dataset, p: np.ndarray):
    c2 = circuit.replace(W_rec=circuit.W_rec[p][:, p], W_in=circuit.W_in[p], W_out=circuit.W_out[:, p])
    t2 = tonic.copy(data=tonic.values[:, p])
    fp2 = fp.isel(unit=p).assign_coords(unit=fp["unit"].values)
    return c2, t2, fp2


@pytest.fixture(scope="module")
def random_case():
    circuit = Circuit.random(6, n_inputs=2, n_outputs=1, g=3.0, seed=2)
    rng = np.random.default_rng(1)
    tonic = bank(rng.normal(0.0, 0.3, size=(2, 6)), ["A", "B"])
    fp = find_fixed_points(circuit, tonic, n_candidates=64, eigenvectors=True, seed=0)
    return circuit, tonic, fp


@pytest.fixture(scope="module")
def bistable_case():
    """Two decoupled bistable tanh units; context B's bias pushes unit 0 past its fold."""
    w = np.array([2.0, 2.5])
    circuit = Circuit.from_arrays(W_rec=np.diag(w), W_in=np.eye(2), W_out=np.eye(1, 2), tau=10.0)
    b = fold_bias(2.0) + 0.05
    tonic = bank([[0.0, 0.0], [b, 0.0]], ["A", "B"])
    fp = find_fixed_points(circuit, tonic, n_candidates=64, seed=0)
    return circuit, tonic, fp, w, b


# ------------------------------------------------------------- identical contexts
def test_identical_contexts_identity_zero_distance_identical_spectra(random_case):
    circuit, tonic, fp = random_case
    one = fp.isel(fp=np.flatnonzero(fp["context"].values == "A"))
    one.attrs = {**fp.attrs, "contexts": ["A"], "inputs": [[0.0, 0.0]]}
    both = duplicate_context(one, "A2")
    n = one.sizes["fp"]
    assert n >= 3, "the random circuit should have several fixed points"
    t2 = bank(np.stack([tonic.sel(context="A").values] * 2), ["A", "A2"])
    for kwargs in ({"circuit": circuit, "tonic": t2}, {}):  # eigenvectors from the circuit, then from the Dataset
        m = match_fixed_points_between(both, "A", "A2", **kwargs)
        assert m.sizes["match"] == n
        assert m.sizes["unmatched_a"] == m.sizes["unmatched_b"] == 0
        np.testing.assert_array_equal(m["fp_b"].values - n, m["fp_a"].values)
        np.testing.assert_array_equal(m["fp_a"].values, np.arange(n))
        assert np.all(m["distance"].values == 0.0)
        assert np.all(m["eig_change"].values == 0.0)
        assert np.all(m["leading_change_real"].values == 0.0)
        assert_allclose(m["slow_angle"], 0.0, atol=1e-6)
        np.testing.assert_array_equal(m["stability_a"].values, m["stability_b"].values)
    # a context against itself
    m = match_fixed_points_between(fp, "B", "B", circuit=circuit, tonic=tonic)
    np.testing.assert_array_equal(m["fp_a"].values, m["fp_b"].values)
    assert np.all(m["distance"].values == 0.0) and m.sizes["unmatched_a"] == 0
    s = compare_fixed_point_structure(both)
    assert int(s["n_matched"].sel(context="A", context_b="A2")) == n
    assert float(s["max_displacement"].sel(context="A", context_b="A2")) == 0.0
    assert float(s["max_eig_change"].sel(context="A", context_b="A2")) == 0.0
    assert_allclose(s["mean_slow_angle"], 0.0, atol=1e-6)
    np.testing.assert_array_equal(s["counts"].sel(context="A").values, s["counts"].sel(context="A2").values)


def test_eigenvectors_from_dataset_and_from_circuit_agree(random_case):
    circuit, tonic, fp = random_case
    a = match_fixed_points_between(fp, "A", "B", circuit=circuit, tonic=tonic)
    plain = fp.drop_vars(["right_real", "right_imag", "left_real", "left_imag"])
    b = match_fixed_points_between(plain, "A", "B", circuit=circuit, tonic=tonic)
    assert a.attrs["slow_source"] == "fixed_points" and b.attrs["slow_source"] == "circuit"
    assert_allclose(a["slow_angle"], b["slow_angle"], atol=1e-7)
    c = match_fixed_points_between(plain, "A", "B")
    assert c.attrs["slow_source"] == "unavailable" and np.all(np.isnan(c["slow_angle"].values))
    np.testing.assert_array_equal(c["fp_b"].values, a["fp_b"].values)


# ------------------------------------------------------------------ invariances
def test_unit_permutation_changes_no_statistic(random_case):
    circuit, tonic, fp = random_case
    p = np.random.default_rng(5).permutation(circuit.n_units)
    c2, t2, fp2 = permute_units(circuit, tonic, fp, p)
    plain, plain2 = (f.drop_vars(["right_real", "right_imag", "left_real", "left_imag"]) for f in (fp, fp2))
    for f1, f2 in ((fp, fp2), (plain, plain2)):
        m1 = match_fixed_points_between(f1, "A", "B", circuit=circuit, tonic=tonic)
        m2 = match_fixed_points_between(f2, "A", "B", circuit=c2, tonic=t2)
        for name in ("fp_a", "fp_b", "unmatched_a", "unmatched_b", "stability_a", "stability_b"):
            np.testing.assert_array_equal(m1[name].values, m2[name].values)
        for name in ("distance", "eig_change", "leading_change_real"):
            assert_allclose(m2[name], m1[name], rtol=1e-10, atol=1e-12)
        assert_allclose(m2["slow_angle"], m1["slow_angle"], atol=1e-7)
        assert_allclose(m2["displacement"], m1["displacement"].values[:, p], atol=1e-12)
        assert m1.attrs["threshold"] == pytest.approx(m2.attrs["threshold"], rel=1e-12)
    s1 = compare_fixed_point_structure(plain, circuit=circuit, tonic=tonic)
    s2 = compare_fixed_point_structure(plain2, circuit=c2, tonic=t2)
    for name in s1.data_vars:
        assert_allclose(s2[name], s1[name], rtol=1e-9, atol=1e-7, equal_nan=True, err_msg=name)
    v1 = selection_vectors(circuit, tonic, fp)
    v2 = selection_vectors(c2, t2, fp2)
    for name in ("selection_dot", "selection_angle", "line_angle", "slowest_real", "selection_norm", "point"):
        assert_allclose(v2[name], v1[name], rtol=1e-9, atol=1e-9, err_msg=name)
    assert_allclose(v2["selection"], v1["selection"].values[:, p], rtol=1e-9, atol=1e-9)
    d1, d2 = detect_manifold(fp, "A"), detect_manifold(fp2, "A")
    for name in ("dimension", "participation_ratio", "explained_variance", "n_components_needed"):
        assert_allclose(d2[name], d1[name], rtol=1e-9, atol=1e-12, err_msg=name)


def test_context_relabelling_permutes_outputs(random_case):
    circuit, tonic, fp = random_case
    s = compare_fixed_point_structure(fp)
    swapped = relabel(fp, {"A": "B", "B": "A"})
    s2 = compare_fixed_point_structure(swapped)
    for name in s.data_vars:
        v1 = s[name]
        v2 = s2[name].sel(context=["B", "A"])
        if "context_b" in v1.dims:
            v2 = v2.sel(context_b=["B", "A"])
        assert_allclose(v2.values, v1.values, atol=0, rtol=0, equal_nan=True, err_msg=name)
    m = match_fixed_points_between(fp, "A", "B")
    m2 = match_fixed_points_between(swapped, "B", "A")
    np.testing.assert_array_equal(m["fp_a"].values, m2["fp_a"].values)
    np.testing.assert_array_equal(m["fp_b"].values, m2["fp_b"].values)
    # swapping the arguments swaps the sides
    r = match_fixed_points_between(fp, "B", "A")
    assert sorted(zip(r["fp_b"].values, r["fp_a"].values)) == sorted(zip(m["fp_a"].values, m["fp_b"].values))
    np.testing.assert_array_equal(r["unmatched_a"].values, m["unmatched_b"].values)


# -------------------------------------------------------------- known tonic inputs
def test_bias_past_the_fold_destroys_known_fixed_points(bistable_case):
    circuit, tonic, fp, w, b = bistable_case
    x_star = [scipy.optimize.brentq(lambda x, w=wi: x - w * np.tanh(x), 0.5, 5.0) for wi in w]
    x_up = scipy.optimize.brentq(lambda x: x - w[0] * np.tanh(x) - b, 0.5, 5.0)
    s = compare_fixed_point_structure(fp, circuit=circuit, tonic=tonic)
    np.testing.assert_array_equal(s["counts"].sel(context="A").values, [4, 0, 4, 1])  # 3 x 3 points
    np.testing.assert_array_equal(s["counts"].sel(context="B").values, [2, 0, 1, 0])  # unit 0 on its upper branch
    ab = s.sel(context="A", context_b="B")
    assert int(ab["n_matched"]) == 3 and int(ab["n_unmatched_a"]) == 6 and int(ab["n_unmatched_b"]) == 0
    assert int(s["n_unmatched_b"].sel(context="B", context_b="A")) == 6
    assert int(ab["n_stability_changed"]) == 0
    assert float(ab["mean_displacement"]) == pytest.approx(x_up - x_star[0], rel=1e-8)
    m = match_fixed_points_between(fp, "A", "B", circuit=circuit, tonic=tonic)
    xa = fp["x"].sel(fp=m["fp_a"].values).values
    xb = fp["x"].sel(fp=m["fp_b"].values).values
    assert_allclose(xa[:, 0], x_star[0], rtol=1e-9)  # the surviving points are those on the upper branch
    assert_allclose(xb[:, 1], xa[:, 1], atol=1e-9)  # unit 1 is untouched
    assert_allclose(m["displacement"].values[:, 0], x_up - x_star[0], rtol=1e-8)
    # eigenvalues: unit 0's mode at the new point, (-1 + w (1 - tanh^2)) / tau
    lam = lambda x, wi: (-1.0 + wi * (1.0 - np.tanh(x) ** 2)) / circuit.tau  # noqa: E731
    assert np.max(m["eig_change"].values) == pytest.approx(abs(lam(x_up, w[0]) - lam(x_star[0], w[0])), rel=1e-6)
    assert_allclose(m["slow_angle"], 0.0, atol=1e-6)  # decoupled: eigenvectors are the axes
    xu = fp["x"].sel(fp=m["unmatched_a"].values).values
    assert np.all(np.abs(xu[:, 0] - x_star[0]) > 1.0)
    assert m.attrs["threshold"] > x_up - x_star[0]
    # a threshold below the displacement matches nothing
    tight = match_fixed_points_between(fp, "A", "B", threshold=0.5 * (x_up - x_star[0]))
    assert tight.sizes["match"] == 0 and tight.sizes["unmatched_a"] == 9 and tight.sizes["unmatched_b"] == 3
    assert compare_fixed_point_structure(fp, threshold=0.0)["n_matched"].sel(context="A", context_b="A") == 9


def test_default_threshold_rule(bistable_case):
    _, _, fp, _, _ = bistable_case
    m = match_fixed_points_between(fp, "A", "B")
    x = fp["x"].values
    assert m.attrs["threshold"] == pytest.approx(MATCH_RTOL * (1.0 + np.sqrt(np.mean(np.sum(x * x, axis=1)))))


def test_pairs_option_leaves_others_empty(bistable_case):
    _, _, fp, _, _ = bistable_case
    s = compare_fixed_point_structure(fp, pairs=[("A", "B")])
    assert int(s["n_matched"].sel(context="A", context_b="B")) == 3
    assert int(s["n_matched"].sel(context="A", context_b="A")) == -1
    assert np.isnan(float(s["mean_displacement"].sel(context="B", context_b="B")))


# -------------------------------------------------------------- line attractor
def line_attractor(form: str = "current"):
    """Linear circuit with W = V diag(1, 0.5, 0.2, -0.3) V^-1: a line of fixed points along v_0."""
    rng = np.random.default_rng(11)
    V = rng.normal(size=(4, 4)) + 2.0 * np.eye(4)  # non-orthogonal basis
    W = V @ np.diag([1.0, 0.5, 0.2, -0.3]) @ np.linalg.inv(V)
    W_in = rng.normal(size=(4, 2))
    circuit = Circuit.from_arrays(W_rec=W, W_in=W_in, W_out=np.ones((1, 4)), phi="linear", form=form,
                                  input_names=["motion", "color"])
    y = rng.normal(size=4)
    tonic = bank([np.zeros(4), (np.eye(4) - W) @ y], ["motion", "color"])  # fixed points s v_0 and y + s v_0
    s = np.linspace(-2.0, 2.0, 11)[:, None]
    points = {"motion": s * V[:, 0], "color": y + s * V[:, 0]}
    return circuit, tonic, points, V


@pytest.mark.parametrize("form", ["current", "rate"])
def test_selection_vector_of_a_line_attractor(form):
    circuit, tonic, points, V = line_attractor(form)
    fp = fp_dataset(circuit, tonic, points)
    out = selection_vectors(circuit, tonic, fp)
    Vinv = np.linalg.inv(V)
    r = V[:, 0] / np.linalg.norm(V[:, 0])
    l_true = Vinv[0] * np.linalg.norm(V[:, 0])  # rescaled so that l . r = 1
    for c in ("motion", "color"):
        row = out.sel(context=c)
        sign = np.sign(row["line_direction"].values @ r)
        assert_allclose(row["line_direction"].values, sign * r, atol=1e-10)
        assert_allclose(row["selection"].values, sign * l_true, atol=1e-10)
        assert float(row["selection"].values @ row["line_direction"].values) == pytest.approx(1.0, abs=1e-12)
        assert_allclose(row["selection_dot"].values, sign * l_true @ circuit.W_in, atol=1e-10)
        cos = np.abs(l_true @ circuit.W_in) / (np.linalg.norm(l_true) * np.linalg.norm(circuit.W_in, axis=0))
        assert_allclose(row["selection_angle"].values, np.degrees(np.arccos(cos)), atol=1e-7)
        assert float(row["slowest_real"]) == pytest.approx(0.0, abs=1e-12)
        assert float(row["next_real"]) == pytest.approx((0.5 - 1.0) / circuit.tau, abs=1e-12)
        assert int(row["point"]) == int(np.flatnonzero(fp["context"].values == c)[5])  # the middle of the line
    assert list(out["input"].values) == ["motion", "color"]
    one = selection_vectors(circuit, tonic, fp, input_names=["color"], contexts=["color"])
    assert one.sizes["input"] == 1 and one.sizes["context"] == 1
    m = detect_manifold(fp, "color")
    assert int(m["dimension"]) == 1 and m["shape"].item() == "line"
    assert abs(float(m["tangent"].values @ r)) == pytest.approx(1.0, abs=1e-10)
    assert_allclose(m["tangent_alignment"], 1.0, atol=1e-10)


# -------------------------------------------------------------- manifolds
def manifold_fp(X: np.ndarray, kind: str = "slow") -> xr.Dataset:
    n, N = X.shape
    return xr.Dataset(
        {"x": (("fp", "unit"), X), "eig_real": (("fp", "mode"), np.zeros((n, N))),
         "eig_imag": (("fp", "mode"), np.zeros((n, N))), "index": (("fp",), np.zeros(n, np.int64)),
         "stability": (("fp",), np.array(["marginal"] * n)), "kind": (("fp",), np.array([kind] * n))},
        coords={"fp": np.arange(n), "context": ("fp", np.array(["c"] * n)), "unit": np.arange(N),
                "mode": np.arange(N)},
    )


def _frame(N: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    Q = np.linalg.qr(rng.normal(size=(N, 2)))[0]
    return Q[:, 0], Q[:, 1], rng.normal(size=N)


def test_manifold_line_ring_arc_and_isolated_points():
    u, v, c0 = _frame()
    t = np.linspace(-1.0, 1.0, 15)[:, None]
    line = detect_manifold(manifold_fp(c0 + 3.0 * t * u), "c")
    assert int(line["dimension"]) == 1 and line["shape"].item() == "line"
    assert float(line["participation_ratio"]) == pytest.approx(1.0, abs=1e-9)
    assert abs(float(line["tangent"].values @ u)) == pytest.approx(1.0, abs=1e-9)
    theta = np.linspace(0.0, 2 * np.pi, 24, endpoint=False)[:, None]
    ring = detect_manifold(manifold_fp(c0 + 2.0 * (np.cos(theta) * u + np.sin(theta) * v)), "c")
    assert int(ring["dimension"]) == 2 and ring["shape"].item() == "ring" and bool(ring["closed"])
    assert float(ring["participation_ratio"]) == pytest.approx(2.0, abs=1e-9)
    assert float(ring["radial_cv"]) == pytest.approx(0.0, abs=1e-9)
    half = np.linspace(0.0, np.pi, 16)[:, None]
    arc = detect_manifold(manifold_fp(c0 + 2.0 * (np.cos(half) * u + np.sin(half) * v)), "c")
    assert int(arc["dimension"]) == 2 and not bool(arc["closed"]) and arc["shape"].item() == "arc"
    rng = np.random.default_rng(4)
    cloud = detect_manifold(manifold_fp(rng.normal(size=(10, 6))), "c")
    assert int(cloud["dimension"]) == 0 and cloud["shape"].item() == "isolated"
    few = detect_manifold(manifold_fp(c0 + np.array([[0.0], [1.0], [2.0]]) * u), "c")
    assert int(few["dimension"]) == 0
    # three isolated fixed points on a line, densely enough counted: gaps show them apart
    gapped = detect_manifold(manifold_fp(c0 + np.array([[-2.0], [-1.95], [0.0], [1.95], [2.0]]) * u), "c")
    assert int(gapped["dimension"]) == 0
    g = np.linspace(-1.0, 1.0, 6)
    grid = np.array([[a, b] for a in g for b in g])
    plane = detect_manifold(manifold_fp(c0 + grid[:, :1] * u + grid[:, 1:] * v), "c")
    assert int(plane["dimension"]) == 2 and plane["shape"].item() == "plane" and not bool(plane["closed"])
    fixed_only = detect_manifold(manifold_fp(c0 + 3.0 * t * u), "c", kind="fixed")
    assert int(fixed_only["n_points"]) == 0 and fixed_only["shape"].item() == "none"


# -------------------------------------------------------------- summary table
def test_summarize_contexts_gathers_the_other_analyses(bistable_case):
    circuit, tonic, fp, _, _ = bistable_case
    rng = np.random.default_rng(0)
    x = rng.normal(0.0, 1.0, size=(2, 3, 4, 2))
    results = xr.Dataset(
        {"tonic": tonic, "nmse": (("context",), np.array([0.1, 0.2])),
         "x": (("context", "trial", "time", "unit"), x)},
        coords={"context": ["A", "B"], "unit": np.arange(2)},
    )
    out = summarize_contexts(results, fixed_points=fp, circuit=circuit)
    assert out.attrs["parts"] == ["tonic", "nmse", "gain", "fixed_points"]
    assert_allclose(out["nmse"], [0.1, 0.2])
    assert_allclose(out["tonic_norm"], np.linalg.norm(tonic.values, axis=1))
    assert_allclose(out["tonic_distance"], tonic_similarity(tonic, metric="euclidean").values)
    gain = effective_gain(circuit, results)
    assert_allclose(out["on_fraction"], gain["on_fraction"].values)
    assert_allclose(out["spectral_abscissa"], gain["spectral_abscissa"].values)
    s = compare_fixed_point_structure(fp, circuit=circuit, tonic=tonic)
    for name in ("n_matched", "n_unmatched_a", "mean_displacement", "mean_slow_angle"):
        assert_allclose(out[name], s[name].values, equal_nan=True, err_msg=name)
    assert_allclose(out["fp_counts"], s["counts"].values)
    # contexts follow the results' order
    rev = results.isel(context=[1, 0])
    out_rev = summarize_contexts(rev, fixed_points=fp, circuit=circuit)
    assert list(out_rev["context"].values) == ["B", "A"]
    assert_allclose(out_rev["n_matched"].sel(context="A", context_b="B"), out["n_matched"].sel(context="A",
                                                                                               context_b="B"))
    bare = summarize_contexts(results.drop_vars(["nmse"]))
    assert bare.attrs["parts"] == ["tonic"] and "n_matched" not in bare
    # one context: a 1 x 1 pair table (the comparison itself needs two)
    only_b = fp.isel(fp=np.flatnonzero(fp["context"].values == "B"))
    only_b.attrs = {**fp.attrs, "contexts": ["B"], "inputs": [[0.0, 0.0]]}
    single = summarize_contexts(results.isel(context=[1]), fixed_points=only_b, circuit=circuit)
    assert int(single["n_matched"].item()) == 3 and float(single["tonic_cosine"].item()) == pytest.approx(1.0)


# -------------------------------------------------------------------- bad input
def test_bad_input_gets_one_clear_error(bistable_case, random_case):
    circuit, tonic, fp, _, _ = bistable_case
    only_a = fp.isel(fp=np.flatnonzero(fp["context"].values == "A"))
    only_a.attrs = {**fp.attrs, "contexts": ["A"]}
    with pytest.raises(InputError, match="at least two contexts"):
        compare_fixed_point_structure(only_a)
    with pytest.raises(InputError, match="context_b"):
        match_fixed_points_between(fp, "A", "C")
    with pytest.raises(InputError, match="`context`"):
        detect_manifold(fp, "nope")
    with pytest.raises(InputError, match="`pairs`"):
        compare_fixed_point_structure(fp, pairs=[("A", "Z")])
    other, other_tonic, _ = random_case
    with pytest.raises(InputError, match="unit = 6"):
        compare_fixed_point_structure(fp, circuit=other)
    with pytest.raises(InputError, match="another circuit"):  # right size, wrong weights
        wrong = circuit.replace(W_rec=np.diag([2.2, 2.5]))
        match_fixed_points_between(fp, "A", "B", circuit=wrong, tonic=tonic)
    with pytest.raises(InputError, match="`threshold`"):
        match_fixed_points_between(fp, "A", "B", threshold=-1.0)
    with pytest.raises(InputError, match="`kind`"):
        match_fixed_points_between(fp, "A", "B", kind="stable")
    with pytest.raises(InputError, match="`fixed_points`"):
        compare_fixed_point_structure(fp["x"])
    with pytest.raises(InputError, match="`tonic` is only used with `circuit`"):
        compare_fixed_point_structure(fp, tonic=tonic)
    with pytest.raises(InputError, match="`input_names`"):
        selection_vectors(circuit, tonic, fp, input_names=["motion"])
    with pytest.raises(InputError, match="`tonic` must hold every context"):
        selection_vectors(circuit, tonic.sel(context=["A"]), fp)
    results = xr.Dataset({"tonic": tonic.sel(context=["A"])})
    with pytest.raises(InputError, match="contexts of `tonic`"):
        summarize_contexts(results, fixed_points=fp)
    with pytest.raises(InputError, match="trajectories"):
        summarize_contexts(xr.Dataset({"tonic": tonic}), circuit=circuit)
    rate = Circuit.from_arrays(W_rec=np.diag([2.0, 2.5]), form="rate")
    with pytest.raises(InputError, match="form"):  # points of the current form
        compare_fixed_point_structure(fp, circuit=rate)
    line, line_tonic, points, _ = line_attractor("rate")
    with pytest.raises(InputError, match="`tonic` is required"):  # the rate form's Jacobian needs the drive
        compare_fixed_point_structure(fp_dataset(line, line_tonic, points), circuit=line)


# ------------------------------------------------------------ files and edge cases
def test_fixed_points_read_back_from_netcdf_give_the_same_comparison(random_case, tmp_path):
    from neurobias.io import read_dataset, write_dataset

    circuit, tonic, fp = random_case
    path = write_dataset(fp, tmp_path / "fixed_points.nc", kind="fixed_points")
    back = read_dataset(path, kind="fixed_points")
    a = compare_fixed_point_structure(fp, circuit=circuit, tonic=tonic)
    b = compare_fixed_point_structure(back, circuit=circuit, tonic=tonic)
    for name in a.data_vars:
        assert_allclose(b[name], a[name].values, rtol=0, atol=0, equal_nan=True, err_msg=name)
    for out in (a, match_fixed_points_between(fp, "A", "B"), selection_vectors(circuit, tonic, fp),
                detect_manifold(fp, "A"), summarize_contexts(xr.Dataset({"tonic": tonic}), fixed_points=fp)):
        for var in out.variables.values():  # netCDF-ready: no complex or object arrays
            assert var.dtype.kind in "iufU", var.dtype


def test_a_context_without_points(bistable_case):
    circuit, tonic, fp, _, _ = bistable_case
    only_a = fp.isel(fp=np.flatnonzero(fp["context"].values == "A"))
    only_a.attrs = {**fp.attrs, "contexts": ["A", "B"]}  # B listed, no point found there
    m = match_fixed_points_between(only_a, "A", "B", circuit=circuit, tonic=tonic)
    assert m.sizes["match"] == 0 and m.sizes["unmatched_a"] == 9 and m.sizes["unmatched_b"] == 0
    s = compare_fixed_point_structure(only_a)
    assert int(s["n_points"].sel(context="B")) == 0 and int(s["n_unmatched_a"].sel(context="A", context_b="B")) == 9
    assert np.isnan(float(s["mean_displacement"].sel(context="A", context_b="B")))
    assert detect_manifold(only_a, "B")["shape"].item() == "none"
    v = selection_vectors(circuit, tonic, only_a)
    assert int(v["point"].sel(context="B")) == -1 and np.all(np.isnan(v["selection"].sel(context="B").values))

"""Analysis invariants (Hypothesis): unit permutation and context relabelling.

Numbering the units differently (``P W P^T``, ``b P^T``, ``W_out P^T``) is the same
circuit: its fixed points are the permuted points, with the same eigenvalues,
index and stability; every comparison of contexts is invariant (similarities,
variances, alignments, spectra, matching) or permutes along ``unit`` (gains,
loadings).  Renaming or reordering the contexts moves every per-context result
with its context.  The fixed points are checked on circuits whose fixed points
are known exactly (:func:`neurobias.analysis.multistable_chain`: 9 per context),
so that the search is complete and the sets can be compared.
"""
from __future__ import annotations

import functools

import numpy as np
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from neurobias.analysis import find_fixed_points, match_fixed_points, multistable_chain
from neurobias.analysis.alignment import tonic_alignment
from neurobias.analysis.fixed_point_comparison import compare_fixed_point_structure
from neurobias.analysis.gain import effective_gain
from neurobias.analysis.tonic_patterns import SIMILARITY_METRICS, tonic_pca, tonic_similarity
from neurobias.circuit import Circuit

SETTINGS = settings(max_examples=10, deadline=None, derandomize=True, database=None)
N = 4  # units of the reference circuits: 2 tristable cores and 2 slaves
NAMES = ("ctx_a", "ctx_b")
SEARCH = {"n_candidates": 16, "seed": 0, "explore_modes": 2}
ATOL = 1e-8


@functools.lru_cache(maxsize=None)
def reference(seed: int) -> tuple[Circuit, np.ndarray]:
    """A circuit with exactly 9 fixed points in each of two contexts (the slaves' biases differ)."""
    known = multistable_chain(N, 2, seed=seed)
    shift = np.random.default_rng(seed).normal(0.0, 0.3, size=N)
    shift[:2] = 0.0  # the cores keep their three branches each
    return known.circuit, np.stack([known.tonic, known.tonic + shift])


@functools.lru_cache(maxsize=None)
def fixed_points(seed: int) -> xr.Dataset:
    circuit, bank = reference(seed)
    return find_fixed_points(circuit, bank, contexts=NAMES, **SEARCH)


def permuted(circuit: Circuit, perm: np.ndarray) -> Circuit:
    """The same circuit with unit ``i`` renamed: new unit ``i`` is old unit ``perm[i]``."""
    return Circuit.from_arrays(W_rec=circuit.W_rec[np.ix_(perm, perm)], W_in=circuit.W_in[perm],
                               W_out=circuit.W_out[:, perm], b_out=circuit.b_out, tau=circuit.tau, phi=circuit.phi,
                               form=circuit.form)


def rows(fp: xr.Dataset, context: str) -> xr.Dataset:
    return fp.isel(fp=np.flatnonzero(fp["context"].values.astype(str) == context))


def assert_same_points(a: xr.Dataset, b: xr.Dataset, *, perm: np.ndarray | None = None) -> None:
    """The same fixed points (b's units un-permuted by ``perm``), paired one to one, with the same spectra."""
    xa, xb = a["x"].values, b["x"].values
    if perm is not None:
        xb = xb[:, np.argsort(perm)]
    assert len(xa) == len(xb) == 9
    match, found = match_fixed_points(xb, xa, atol=ATOL)
    assert found.all() and sorted(match) == list(range(len(xa)))
    for j, i in enumerate(match):
        for var in ("index", "stability", "kind", "oscillatory"):
            assert a[var].values[i] == b[var].values[j], var
        for var in ("eig_real", "eig_imag"):
            np.testing.assert_allclose(b[var].values[j], a[var].values[i], rtol=0, atol=1e-10, err_msg=var)


# ------------------------------------------------------------------ fixed points
@SETTINGS
@given(seed=st.integers(0, 2), perm=st.permutations(range(N)))
def test_fixed_points_permute_with_the_units(seed, perm):
    perm = np.asarray(perm)
    circuit, bank = reference(seed)
    found = find_fixed_points(permuted(circuit, perm), bank[:, perm], contexts=NAMES, **SEARCH)
    for name in NAMES:
        assert_same_points(rows(fixed_points(seed), name), rows(found, name), perm=perm)
    # ground truth: the first context's points are those of the reference
    known = multistable_chain(N, 2, seed=seed)
    _, hit = match_fixed_points(rows(found, NAMES[0])["x"].values[:, np.argsort(perm)], known.x, atol=ATOL)
    assert hit.all()


@SETTINGS
@given(seed=st.integers(0, 2), swap=st.booleans(),
       names=st.lists(st.text("abcxyz_", min_size=1, max_size=5), min_size=2, max_size=2, unique=True))
def test_fixed_points_follow_renamed_and_reordered_contexts(seed, swap, names):
    circuit, bank = reference(seed)
    order = [1, 0] if swap else [0, 1]
    found = find_fixed_points(circuit, bank[order], contexts=names, **SEARCH)
    assert sorted(set(found["context"].values.astype(str))) == sorted(names)
    for new, old in zip(names, order):
        assert_same_points(rows(fixed_points(seed), NAMES[old]), rows(found, new))


@SETTINGS
@given(seed=st.integers(0, 2), perm=st.permutations(range(N)), swap=st.booleans())
def test_fixed_point_comparison_is_invariant_and_follows_contexts(seed, perm, swap):
    fp = fixed_points(seed)
    base = compare_fixed_point_structure(fp)
    perm = np.asarray(perm)
    # units renumbered: every count, distance and spectral change is the same
    moved = fp.copy()
    moved["x"] = fp["x"].copy(data=fp["x"].values[:, perm])
    moved["r"] = fp["r"].copy(data=fp["r"].values[:, perm])
    other = compare_fixed_point_structure(moved)
    for var in base.data_vars:
        np.testing.assert_allclose(other[var].values, base[var].values, rtol=1e-12, atol=1e-12, err_msg=var)
    # contexts swapped: the tables are transposed, with n_unmatched_a and _b exchanged
    order = [1, 0] if swap else [0, 1]
    renamed = {NAMES[i]: f"new_{i}" for i in range(2)}
    keep = np.concatenate([np.flatnonzero(fp["context"].values.astype(str) == NAMES[i]) for i in order])
    relabelled = fp.isel(fp=keep)
    relabelled = relabelled.assign_coords(
        context=("fp", [renamed[str(c)] for c in relabelled["context"].values]), fp=np.arange(len(keep)))
    comp = compare_fixed_point_structure(relabelled)
    new_names = [renamed[NAMES[i]] for i in order]
    assert list(comp["context"].values.astype(str)) == new_names
    for var in ("n_points", "counts"):
        np.testing.assert_array_equal(comp[var].values, base[var].values[order], err_msg=var)
    for var in ("n_matched", "n_stability_changed", "mean_displacement", "max_eig_change"):
        np.testing.assert_allclose(comp[var].values, base[var].values[np.ix_(order, order)], rtol=1e-12,
                                   err_msg=var)


# ------------------------------------------------------------------ tonic-input analyses
@st.composite
def banks(draw):  # noqa: ANN201
    n_ctx, n = draw(st.integers(2, 4)), draw(st.integers(3, 8))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    values = rng.normal(size=(n_ctx, n))
    names = [f"c{i}" for i in range(n_ctx)]
    bank = xr.DataArray(values, dims=("context", "unit"), coords={"context": names, "unit": np.arange(n)})
    circuit = Circuit.from_arrays(W_rec=rng.normal(0, 1.3 / np.sqrt(n), size=(n, n)), W_in=rng.normal(size=(n, 2)),
                                  W_out=rng.normal(size=(1, n)), tau=10.0, phi="tanh")
    perm = np.asarray(draw(st.permutations(range(n))))
    order = np.asarray(draw(st.permutations(range(n_ctx))))
    return circuit, bank, perm, order


def transformed(bank: xr.DataArray, perm: np.ndarray, order: np.ndarray) -> xr.DataArray:
    """Units renumbered by ``perm`` and contexts reordered by ``order`` (with their names)."""
    out = bank.isel(unit=perm, context=order)
    return out.assign_coords(unit=np.arange(bank.sizes["unit"]))


@SETTINGS
@given(case=banks())
def test_similarity_is_unit_invariant_and_context_equivariant(case):
    _, bank, perm, order = case
    for metric in SIMILARITY_METRICS:
        base, other = tonic_similarity(bank, metric=metric), tonic_similarity(transformed(bank, perm, order),
                                                                             metric=metric)
        assert list(other["context"].values) == list(bank["context"].values[order])
        np.testing.assert_allclose(other.values, base.values[np.ix_(order, order)], rtol=1e-12, atol=1e-14,
                                   err_msg=metric)


@SETTINGS
@given(case=banks())
def test_pca_is_unit_invariant_and_context_equivariant(case):
    _, bank, perm, order = case
    base, other = tonic_pca(bank, n_shuffles=0), tonic_pca(transformed(bank, perm, order), n_shuffles=0)
    for var in ("explained_variance", "explained_variance_ratio", "total_variance", "participation_ratio"):
        np.testing.assert_allclose(other[var].values, base[var].values, rtol=1e-10, atol=1e-12, err_msg=var)

    def centred(ds: xr.Dataset) -> np.ndarray:  # scores @ loadings: free of the components' signs and rotations
        return ds["scores"].transpose("context", ...).values @ ds["loadings"].transpose(..., "unit").values

    np.testing.assert_allclose(centred(other), centred(base)[np.ix_(order, perm)], atol=1e-10)


@SETTINGS
@given(case=banks())
def test_alignment_is_unit_invariant_and_context_equivariant(case):
    circuit, bank, perm, order = case
    base = tonic_alignment(circuit, bank, n_modes=3, n_shuffles=0)
    other = tonic_alignment(permuted(circuit, perm), transformed(bank, perm, order), n_modes=3, n_shuffles=0)
    for var in base.data_vars:
        a = base[var]
        expected = a.isel(context=order).values if "context" in a.dims else a.values
        np.testing.assert_allclose(other[var].transpose(*a.dims).values, expected, rtol=1e-7, atol=1e-9,
                                   err_msg=var)


@SETTINGS
@given(case=banks())
def test_gain_permutes_with_units_and_follows_contexts(case):
    circuit, bank, perm, order = case
    states = bank * 0.5 + 0.1  # operating points chosen by the caller, permuted like everything else
    base = effective_gain(circuit, bank, states=states)
    other = effective_gain(permuted(circuit, perm), transformed(bank, perm, order),
                           states=transformed(states, perm, order))
    np.testing.assert_allclose(other["gain"].values, base["gain"].values[np.ix_(order, perm)], rtol=1e-12)
    np.testing.assert_array_equal(other["on"].values, base["on"].values[np.ix_(order, perm)])
    for var in ("on_fraction", "spectral_radius", "spectral_abscissa"):
        np.testing.assert_allclose(other[var].values, base[var].values[order], rtol=1e-9, err_msg=var)
    for var in ("eig_real", "eig_imag", "singular_value"):
        np.testing.assert_allclose(other[var].values, base[var].values[order], rtol=1e-9, atol=1e-10, err_msg=var)
    np.testing.assert_allclose(other["gain_change"].values, base["gain_change"].values[np.ix_(order, order)],
                               rtol=1e-12)


@SETTINGS
@given(seed=st.integers(0, 2), perm=st.permutations(range(N)), swap=st.booleans())
def test_context_summary_is_unit_invariant_and_follows_contexts(seed, perm, swap):
    from neurobias.analysis.context_summary import summarize_contexts

    circuit, bank = reference(seed)
    fp = fixed_points(seed)
    x = np.random.default_rng(seed).normal(size=(2, 2, 3, N))  # trajectories, for the effective gain
    results = xr.Dataset({"tonic": (("context", "unit"), bank), "nmse": (("context",), [0.1, 0.3]),
                          "x": (("context", "trial", "time", "unit"), x)},
                         coords={"context": list(NAMES), "unit": np.arange(N)})
    base = summarize_contexts(results, fixed_points=fp, circuit=circuit)
    perm, order = np.asarray(perm), [1, 0] if swap else [0, 1]
    moved_results = results.isel(context=order, unit=perm).assign_coords(unit=np.arange(N))
    moved_fp = fp.copy()
    for var in ("x", "r"):
        moved_fp[var] = fp[var].copy(data=fp[var].values[:, perm])
    other = summarize_contexts(moved_results, fixed_points=moved_fp, circuit=permuted(circuit, perm))
    assert list(other["context"].values) == [NAMES[i] for i in order]
    assert other.attrs["parts"] == base.attrs["parts"]
    for var in base.data_vars:
        a = base[var]
        expected = a.values
        if "context" in a.dims:
            expected = np.take(expected, order, axis=a.dims.index("context"))
        if "context_b" in a.dims:
            expected = np.take(expected, order, axis=a.dims.index("context_b"))
        np.testing.assert_allclose(other[var].transpose(*a.dims).values, expected, rtol=1e-9, atol=1e-12,
                                   err_msg=var)

"""Model-vs-data metrics: identity, invariances, ground truths, nulls, errors."""
from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from neurobias.errors import InputError
from neurobias.recordings import metrics as M
from neurobias.recordings.metrics.shape import procrustes_arrays


def _traj(n_cond: int = 5, n_time: int = 30, n_neuron: int = 8, seed: int = 0) -> xr.DataArray:
    """Smooth, condition-dependent trajectories (rotations at condition-specific phases plus a drift)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_time) * 10.0
    latent = np.stack([np.stack([np.cos(2 * np.pi * 2 * t / 1000 + p), np.sin(2 * np.pi * 2 * t / 1000 + p),
                                 (1 + c) * t / t[-1]], axis=-1) for c, p in enumerate(np.linspace(0, 2.5, n_cond))])
    x = latent @ rng.normal(size=(3, n_neuron)) + 0.01 * rng.normal(size=(n_cond, n_time, n_neuron))
    return xr.DataArray(x, dims=("condition", "time", "neuron"), coords={"time": t})


def _rotate(x: xr.DataArray, seed: int = 1) -> xr.DataArray:
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(x.sizes["neuron"],) * 2))
    return x.copy(data=x.values @ q)


def _permute(x: xr.DataArray, seed: int = 2) -> xr.DataArray:
    return x.copy(data=x.values[:, :, np.random.default_rng(seed).permutation(x.sizes["neuron"])])


def test_r2_identity_ground_truth_and_neuron_order() -> None:
    x = _traj()
    out = M.r2(x, x, n_shuffles=10)
    assert out["r2"] == 1.0 and np.all(out["r2_neuron"].values == 1.0)
    assert np.all(out["r2_null"].values < 0.9) and out["r2_p_value"] == 1 / 11
    mean = x.mean(("condition", "time"))
    assert np.isclose(float(M.r2(x, x * 0 + mean, n_shuffles=0)["r2"]), 0.0, atol=1e-12)
    perm = np.random.default_rng(0).permutation(8)
    assert np.isclose(float(M.r2(x[:, :, perm], (x + 0.1)[:, :, perm], n_shuffles=0)["r2"]),
                      float(M.r2(x, x + 0.1, n_shuffles=0)["r2"]))
    with pytest.raises(InputError, match="same neurons"):
        M.r2(x, x[:, :, :4])


@pytest.mark.parametrize(
    ("fn", "var", "best"),
    [(M.cca_similarity, "cca", 1.0), (M.shape_distance, "angular_distance", 0.0), (M.rsa, "rsa", 1.0)],
)
def test_identity_and_invariance(fn, var, best) -> None:
    x = _traj()
    for other in (x, _rotate(x), _permute(x)):
        out = fn(x, other, n_shuffles=5)
        assert np.isclose(float(out[var]), best, atol=1e-6), (var, float(out[var]))
    null = fn(x, x, n_shuffles=20)[f"{var}_null"].values
    assert np.all(null < 0.99) if best == 1.0 else np.all(null > 0.05)


def test_cca_and_shape_accept_different_widths() -> None:
    x = _traj(n_neuron=8)
    wide = np.concatenate([x.values, np.zeros((5, 30, 4))], axis=2)
    assert np.isclose(float(M.cca_similarity(x, wide, n_shuffles=0)["cca"]), 1.0)
    assert np.isclose(float(M.shape_distance(x, wide, n_shuffles=0)["angular_distance"]), 0.0, atol=1e-6)


def test_shape_distance_is_a_metric() -> None:
    rng = np.random.default_rng(0)
    a, b, c = (rng.normal(size=(40, 6)) for _ in range(3))
    dab, dbc, dac = procrustes_arrays(a, b)[0], procrustes_arrays(b, c)[0], procrustes_arrays(a, c)[0]
    assert np.isclose(dab, procrustes_arrays(b, a)[0])
    assert dac <= dab + dbc + 1e-12
    assert np.isclose(procrustes_arrays(a, 3.0 * a + 1.0)[0], 0.0, atol=1e-7)  # scale and offset invariant
    assert 0 < dab <= np.pi / 2


def test_rsa_rdm_follows_conditions() -> None:
    x = _traj()
    out = M.rsa(x, x, n_shuffles=0)
    np.testing.assert_allclose(out["rdm_data"].values, out["rdm_model"].values)
    assert np.allclose(np.diag(out["rdm_data"].values), 0.0)


def test_rotation_strength_of_a_pure_rotation() -> None:
    t = np.arange(60) * 10.0
    phases = np.linspace(0, 3, 5)
    x = np.stack([a * np.stack([np.cos(2 * np.pi * 2 * t / 1000 + p), np.sin(2 * np.pi * 2 * t / 1000 + p)], -1)
                  for a, p in zip(np.linspace(1, 2, 5), phases)])
    da = xr.DataArray(np.concatenate([x, np.zeros((5, 60, 1))], -1), dims=("condition", "time", "neuron"),
                      coords={"time": t})
    out = M.rotation_strength(da, n_components=2, n_shuffles=10)
    assert np.isclose(float(out["r2_skew"]), 1.0, atol=1e-9)
    assert np.isclose(float(out["rotation_ratio"]), 1.0, atol=1e-9)
    assert abs(float(out["frequency_hz"]) - 2.0) < 0.02  # midpoint differences bias it by O((w dt)^2)
    assert np.all(out["r2_skew_null"].values < 0.5)
    rot = M.rotation_strength(da.copy(data=da.values @ np.linalg.qr(np.random.default_rng(0).normal(size=(3, 3)))[0]),
                              n_components=2, n_shuffles=0)
    assert np.isclose(float(rot["r2_skew"]), 1.0, atol=1e-9)


def test_dsa_identity_and_rotation() -> None:
    x = _traj(n_cond=4, n_time=20, n_neuron=6)
    same = M.dsa_distance(x, _rotate(x), n_components=3, n_delays=1, rank=3, iters=50, n_shuffles=1)
    assert float(same["dsa"]) < 0.05
    assert float(same["dsa_null"][0]) > float(same["dsa"])


def test_metric_errors() -> None:
    x = _traj()
    with pytest.raises(InputError, match=r"same \(condition, time\) shape"):
        M.cca_similarity(x, x[:, :20])
    with pytest.raises(InputError, match="at least 2 conditions"):
        M.rsa(x[:1], x[:1])
    bad = x.copy(data=np.where(np.arange(30)[None, :, None] > 25, np.nan, x.values))
    with pytest.raises(InputError, match="NaN"):
        M.shape_distance(bad, x)
    with pytest.raises(InputError, match="n_shuffles"):
        M.r2(x, x, n_shuffles=-1)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(3, 7), scale=st.floats(0.1, 10.0))
def test_shape_and_cca_invariances_property(seed: int, n: int, scale: float) -> None:
    """For random data: symmetric, zero/one on rotated and rescaled copies, bounded."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(4, 6, n))
    q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    b = scale * a @ q + rng.normal(size=n)  # rotation, reflection, scale and offset
    other = rng.normal(size=(4, 6, n))
    assert np.isclose(float(M.shape_distance(a, b, n_shuffles=0)["angular_distance"]), 0.0, atol=1e-6)
    assert np.isclose(float(M.cca_similarity(a, b, n_components=n, n_shuffles=0)["cca"]), 1.0, atol=1e-9)
    d_ab = float(M.shape_distance(a, other, n_shuffles=0)["angular_distance"])
    d_ba = float(M.shape_distance(other, a, n_shuffles=0)["angular_distance"])
    assert np.isclose(d_ab, d_ba) and 0.0 <= d_ab <= np.pi / 2 + 1e-12
    cc = M.cca_similarity(a, other, n_components=n, n_shuffles=0)["canonical_correlation"].values
    assert np.all((cc >= 0) & (cc <= 1))

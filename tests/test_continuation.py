"""Continuation of fixed points between tonic inputs: folds and Hopf points against known answers."""
from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy.optimize import brentq, fsolve

from neurobias.analysis.continuation import continue_fixed_points
from neurobias.circuit import Circuit
from neurobias.errors import InputError


def _bistable(w: float = 2.0, tau: float = 10.0) -> tuple[Circuit, np.ndarray]:
    """One self-exciting tanh unit: x = w tanh(x) + b; three fixed points at b = 0."""
    c = Circuit.from_arrays(W_rec=[[w]], tau=tau)
    xs = brentq(lambda x: x - w * np.tanh(x), 0.5, 10.0)
    return c, np.array([[-xs], [0.0], [xs]])


def test_fold_of_one_unit_matches_formula():
    w = 2.0
    c, fps = _bistable(w)
    ds = continue_fixed_points(c, start=np.array([0.0]), end=np.array([1.0]), fixed_points=fps, find_end=False)
    # saddle-node where d/dx (x - w tanh x) = 0: x_f = -arccosh(sqrt(w)), b_f = x_f - w tanh(x_f)
    x_f = -np.arccosh(np.sqrt(w))
    b_f = x_f - w * np.tanh(x_f)
    folds = ds["bif_kind"].values == "fold"
    assert folds.sum() == 1  # met by two branches, listed once
    assert ds["bif_s"].values[folds][0] == pytest.approx(b_f, abs=1e-9)
    assert ds["bif_x"].values[folds][0, 0] == pytest.approx(x_f, abs=1e-6)
    # the lower node and the middle point annihilate: both return to the start, the upper node reaches s = 1
    reasons = list(ds["end_reason"].values)
    assert reasons == ["returned_to_start", "returned_to_start", "reached_end"]
    assert list(ds["returns_to"].values) == [1, 0, -1]
    # stability along each branch: the stable node has index 0 before the fold, 1 after
    assert ds["start_index"].values.tolist() == [0, 1, 0]
    n0 = int(ds["n_points"][0])
    assert ds["index"].values[0, n0 - 1] == 1
    # every point is a fixed point of b(s)
    res = ds["residual"].values
    assert np.nanmax(res) <= 1e-10
    x, s = ds["x"].values[..., 0], ds["s"].values
    ok = np.isfinite(s)
    assert np.allclose((-x + w * np.tanh(x) + s)[ok] / 10.0, 0.0, atol=1e-10)


def test_end_point_reached_exactly_and_unreached_reported():
    c, fps = _bistable(2.0)
    # only follow the upper node; ask for the fixed points at s = 1 (only the upper one exists at b = 1)
    ds = continue_fixed_points(c, start=np.array([0.0]), end=np.array([1.0]), fixed_points=fps[2:], find_end=True,
                               seed=0, n_candidates=64)
    n_pts = int(ds["n_points"][0])
    assert ds["s"].values[0, n_pts - 1] == pytest.approx(1.0, abs=1e-14)
    assert ds.sizes["unreached"] == 0
    # going the other way (b from 1 to 0) the single start point cannot reach the two new ones at b = 0
    back = continue_fixed_points(c, start=np.array([1.0]), end=np.array([0.0]),
                                 fixed_points=ds["x"].values[0, n_pts - 1][None], find_end=True, seed=0,
                                 n_candidates=64)
    assert back.sizes["unreached"] == 2
    assert sorted(back["unreached_index"].values.tolist()) == [0, 1]
    # the end points given (as a search found them) instead of searched for: the same report, polished to 1e-10
    given = continue_fixed_points(c, start=np.array([1.0]), end=np.array([0.0]),
                                  fixed_points=ds["x"].values[0, n_pts - 1][None], end_fixed_points=fps + 1e-7)
    assert given.attrs["n_end_fixed_points"] == 3
    assert sorted(given["unreached_index"].values.tolist()) == [0, 1]
    np.testing.assert_allclose(np.sort(given["unreached_x"].values[:, 0]), np.sort(back["unreached_x"].values[:, 0]),
                               rtol=0, atol=1e-12)
    with pytest.raises(InputError, match=r"1 of the given `end_fixed_points` are not fixed points of the end tonic"):
        continue_fixed_points(c, start=np.array([1.0]), end=np.array([0.0]),
                              fixed_points=ds["x"].values[0, n_pts - 1][None], end_fixed_points=np.array([[0.5]]))


def _hopf_reference(W: np.ndarray, b_end: np.ndarray, tau: float) -> float:
    """The first s at which trace J = 0 along the fixed-point branch from 0 (2-unit tanh circuit), by scipy."""
    def fp(s, x0):
        return fsolve(lambda x: -x + W @ np.tanh(x) + s * b_end, x0, xtol=1e-12)

    def trace(x):
        g = 1.0 / np.cosh(x) ** 2
        return np.trace((-np.eye(2) + W * g[None, :]) / tau)

    x = np.zeros(2)
    grid = np.linspace(0.0, 1.0, 201)
    prev = trace(x)
    for s0, s1 in zip(grid[:-1], grid[1:]):
        x1 = fp(s1, x)
        if np.sign(trace(x1)) != np.sign(prev):
            guess = x
            return brentq(lambda s: trace(fp(s, guess)), s0, s1, xtol=1e-14)
        x, prev = x1, trace(x1)
    raise AssertionError("no Hopf point in the reference scan")


def test_hopf_point_of_two_unit_circuit():
    a, w, tau = 1.5, 1.0, 10.0
    W = np.array([[a, -w], [w, a]])
    b_end = np.array([2.0, 1.0])
    c = Circuit.from_arrays(W_rec=W, tau=tau)
    ds = continue_fixed_points(c, start=np.zeros(2), end=b_end, fixed_points=np.zeros((1, 2)), find_end=False)
    hopf = ds["bif_kind"].values == "hopf"
    assert hopf.sum() == 1
    assert ds["bif_s"].values[hopf][0] == pytest.approx(_hopf_reference(W, b_end, tau), abs=1e-8)
    # at the start the origin is an unstable focus (a - 1 +- i w) / tau: two unstable complex modes
    assert int(ds["start_index"][0]) == 2
    assert ds["eig_real"].values[0, 0, 0] == pytest.approx((a - 1) / tau, abs=1e-12)
    assert abs(ds["eig_imag"].values[0, 0, 0]) == pytest.approx(w / tau, abs=1e-12)
    # the branch has an S shape in s: two folds (hysteresis), verified by counting fixed points with scipy
    assert (ds["bif_kind"].values == "fold").sum() == 2


def test_rate_form_and_user_path():
    # the same bistable unit in rate form: r = tanh(w r + b); a path through three tonic inputs
    w = 2.0
    c = Circuit.from_arrays(W_rec=[[w]], tau=5.0, form="rate")
    r_star = brentq(lambda r: r - np.tanh(w * r), 0.1, 1.0)
    ds = continue_fixed_points(c, path=np.array([[0.0], [0.5], [1.2]]), fixed_points=np.array([[r_star]]),
                               find_end=False)
    n_pts = int(ds["n_points"][0])
    r, s = ds["x"].values[0, :n_pts, 0], ds["s"].values[0, :n_pts]
    b = np.interp(s, [0.0, 0.5, 1.0], [0.0, 0.5, 1.2])
    assert np.allclose(r, np.tanh(w * r + b), atol=1e-9)
    assert s[-1] == pytest.approx(1.0)


def test_context_names_from_a_bank():
    c, fps = _bistable(2.0)
    bank = xr.DataArray(np.array([[0.0], [1.0]]), dims=("context", "unit"), coords={"context": ["low", "high"]})
    ds = continue_fixed_points(c, tonic=bank, start="low", end="high", fixed_points=fps, find_end=False)
    assert ds.attrs["start_label"] == "low" and ds.attrs["end_label"] == "high"
    assert ds.sizes["branch"] == 3


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(start="nope", end="high"), r"`start` = 'nope' is not a context; choose from low, high"),
        (dict(start=np.zeros(3), end=np.ones(1)), r"`start` must be a context name or a tonic input of shape \(unit,\) = \(1,\)"),
        (dict(start=np.zeros(1), end=np.ones(1), fixed_points=np.array([[np.nan]])), r"`fixed_points` must be finite"),
        (dict(start=np.zeros(1), end=np.ones(1), fixed_points=np.array([[0.3]])), r"not fixed points of the start"),
        (dict(start=np.zeros(1), end=np.ones(1), steps=0), r"`steps` must be an int >= 1; got 0"),
        (dict(path=np.zeros((1, 1))), r"`path` must have shape \(point, unit\)"),
        (dict(), r"give `start` and `end`"),
    ],
)
def test_bad_arguments(kwargs, match):
    c, fps = _bistable(2.0)
    bank = xr.DataArray(np.array([[0.0], [1.0]]), dims=("context", "unit"), coords={"context": ["low", "high"]})
    kwargs = {"tonic": bank, "fixed_points": fps, "find_end": False, **kwargs}
    with pytest.raises(InputError, match=match):
        continue_fixed_points(c, **kwargs)

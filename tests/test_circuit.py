"""Tests of the connectivity generators, the frozen `Circuit` and `simulate`'s argument checks."""
from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
import xarray as xr

from neurobias.circuit import PHI_NAMES, Circuit, get_phi, simulate
from neurobias.circuit import connectivity as conn
from neurobias.errors import InputError
from neurobias.testing import assert_allclose, assert_identical

N = 400  # large enough for 10-15 % statistics, small enough for eigvals in ms


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def _radius(w: np.ndarray) -> float:
    return float(np.max(np.abs(np.linalg.eigvals(w))))


def _raises(match_parts: list[str]):
    """pytest.raises(InputError) whose message contains every part literally."""
    return pytest.raises(InputError, match="(?s)" + "".join(f"(?=.*{re.escape(p)})" for p in match_parts))


# ---------------------------------------------------------------- connectivity
@pytest.mark.parametrize("g", [0.5, 1.5])
def test_gaussian_variance_and_spectral_radius(g):
    w = conn.gaussian(N, g=g, rng=_rng(1))
    assert w.shape == (N, N) and w.dtype == np.float64
    # sample variance of N^2 entries: relative standard error sqrt(2 / N^2) = 0.35 %
    assert abs(w.var() / (g**2 / N) - 1.0) < 0.02
    assert abs(w.mean()) < 5.0 * g / N**1.5
    assert abs(_radius(w) / g - 1.0) < 0.10  # circular law


@pytest.mark.parametrize("p", [0.05, 0.2])
def test_sparse_density_weights_and_radius(p):
    g = 1.5
    w = conn.sparse(N, g=g, p=p, rng=_rng(2))
    nonzero = w != 0
    assert abs(nonzero.mean() / p - 1.0) < 0.10
    assert abs(w[nonzero].var() / (g**2 / (p * N)) - 1.0) < 0.10
    assert abs(_radius(w) / g - 1.0) < 0.15


@pytest.mark.parametrize("exc_fraction", [0.8, 0.5])
def test_dale_signs_balance_diagonal_and_radius(exc_fraction):
    g = 1.5
    w = conn.dale(N, g=g, exc_fraction=exc_fraction, rng=_rng(3))
    n_exc = int(round(exc_fraction * N))
    assert np.all(w[:, :n_exc] >= 0) and np.all(w[:, n_exc:] <= 0)
    assert np.count_nonzero(w[:, :n_exc]) > 0.99 * N * (n_exc - 1)  # not trivially zero
    assert np.all(np.diag(w) == 0)
    assert_allclose(w.sum(axis=1), 0.0, rtol=0, atol=1e-12 * np.abs(w).sum(axis=1).max())
    # Rajan & Abbott (2006): with balanced rows the bulk of the spectrum fills a disc set by
    # the column variances; g is that radius (as for gaussian and sparse).
    moduli = np.abs(np.linalg.eigvals(w))
    assert abs(np.quantile(moduli, 0.98) / g - 1.0) < 0.15, np.quantile(moduli, 0.98) / g
    spread = np.sqrt(np.mean((w - w.mean(axis=0)) ** 2))
    assert_allclose(spread, g / np.sqrt(N))


def test_uniform_bounds_and_variance():
    gamma = 0.3
    w = conn.uniform((N, N), gamma=gamma, rng=_rng(4))
    assert np.all(np.abs(w) <= gamma)
    assert w.max() > 0.99 * gamma and w.min() < -0.99 * gamma
    assert abs(w.var() / (gamma**2 / 3.0) - 1.0) < 0.02


@pytest.mark.parametrize("init", ["gaussian", "uniform"])
def test_input_and_readout_weight_scales(init):
    w_in = conn.input_weights(N, 50, init=init, scale=2.0, rng=_rng(5))
    assert w_in.shape == (N, 50)
    expected_var = 4.0 if init == "gaussian" else 4.0 / 3.0
    assert abs(w_in.var() / expected_var - 1.0) < 0.03
    w_out = conn.readout_weights(50, N, init=init, scale=2.0, rng=_rng(6))
    assert w_out.shape == (50, N)
    assert abs(w_out.var() / (4.0 / N) - 1.0) < 0.03  # same variance for both inits


@pytest.mark.parametrize(
    "call, parts",
    [
        (lambda: conn.gaussian(0, g=1.0, rng=_rng()), ["`n_units`", "0"]),
        (lambda: conn.gaussian(10, g=-1.0, rng=_rng()), ["`g`", "-1.0"]),
        (lambda: conn.sparse(10, g=1.0, p=0.0, rng=_rng()), ["`p`", "(0, 1]"]),
        (lambda: conn.dale(10, g=1.0, exc_fraction=1.0, rng=_rng()), ["`exc_fraction`", "(0, 1)"]),
        (lambda: conn.dale(10, g=1.0, exc_fraction=0.01, rng=_rng()), ["`exc_fraction`", "n_units = 10"]),
        (lambda: conn.uniform((3, 3), gamma=float("nan"), rng=_rng()), ["`gamma`", "nan"]),
        (lambda: conn.input_weights(3, 2, init="normal", rng=_rng()), ["`input_init`", "'normal'"]),
    ],
)
def test_connectivity_argument_errors(call, parts):
    with _raises(parts):
        call()


@pytest.mark.parametrize("connectivity", conn.CONNECTIVITIES)
def test_same_seed_same_circuit_other_seed_differs(connectivity):
    kw = dict(n_inputs=2, n_outputs=3, connectivity=connectivity)
    a, b, c = Circuit.random(30, seed=7, **kw), Circuit.random(30, seed=7, **kw), Circuit.random(30, seed=8, **kw)
    for name in ("W_rec", "W_in", "W_out", "b_out"):
        assert_identical(getattr(a, name), getattr(b, name), err_msg=name)
    for name in ("W_rec", "W_in", "W_out"):
        assert not np.array_equal(getattr(a, name), getattr(c, name)), name
    assert a.seed == 7 and a.connectivity == connectivity
    assert (a.n_units, a.n_inputs, a.n_outputs) == (30, 2, 3)


def test_random_draws_from_the_documented_generators_in_order():
    circuit = Circuit.random(20, n_inputs=2, n_outputs=1, g=1.2, seed=3)
    rng = np.random.default_rng(3)
    assert_identical(circuit.W_rec, conn.gaussian(20, g=1.2, rng=rng))
    assert_identical(circuit.W_in, conn.input_weights(20, 2, rng=rng))
    assert_identical(circuit.W_out, conn.readout_weights(1, 20, rng=rng))
    assert_identical(circuit.b_out, np.zeros(1))


@pytest.mark.parametrize(
    "kwargs, parts",
    [
        (dict(connectivity="gausian"), ["`connectivity`", "'gausian'"]),
        (dict(seed=-1), ["`seed`", "-1"]),
        (dict(seed=1.5), ["`seed`", "1.5"]),
        (dict(n_inputs=-1), ["`n_inputs`", "-1"]),
        (dict(phi="tahn"), ["`phi`", "'tahn'", "did you mean 'tanh'"]),
    ],
)
def test_random_argument_errors(kwargs, parts):
    with _raises(parts):
        Circuit.random(5, **kwargs)


# ------------------------------------------------------------ Circuit.from_arrays
def _arrays(n=4, n_in=2, n_out=3):
    rng = _rng(0)
    return dict(W_rec=rng.normal(size=(n, n)), W_in=rng.normal(size=(n, n_in)),
                W_out=rng.normal(size=(n_out, n)), b_out=rng.normal(size=n_out))


def test_from_arrays_keeps_values_as_float64_copies():
    arrays = _arrays()
    circuit = Circuit.from_arrays(**arrays, tau=5, phi="relu", form="rate")
    for name, value in arrays.items():
        got = getattr(circuit, name)
        assert got.dtype == np.float64
        assert_identical(got, value)
        assert not np.shares_memory(got, value)
    arrays["W_rec"][0, 0] += 1.0  # the caller's array changes; the circuit does not
    assert circuit.W_rec[0, 0] != arrays["W_rec"][0, 0]
    assert circuit.tau == 5.0 and isinstance(circuit.tau, float)
    assert circuit.input_names == ("input0", "input1") and circuit.output_names == ("output0", "output1", "output2")


def test_from_arrays_defaults_give_no_inputs_and_no_outputs():
    circuit = Circuit.from_arrays(W_rec=np.eye(3))
    assert circuit.W_in.shape == (3, 0) and circuit.W_out.shape == (0, 3) and circuit.b_out.shape == (0,)
    assert (circuit.tau, circuit.phi, circuit.form, circuit.connectivity, circuit.seed) == (
        10.0, "tanh", "current", "user", None)


@pytest.mark.parametrize(
    "name, value, parts",
    [
        ("W_rec", np.zeros((4, 3)), ["`W_rec`", "(unit, unit)", "(4, 3)"]),
        ("W_rec", np.zeros(4), ["`W_rec`", "(unit, unit)", "(4,)"]),
        ("W_rec", np.zeros((2, 2, 2)), ["`W_rec`", "(unit, unit)", "(2, 2, 2)"]),
        ("W_rec", [[1.0, 2.0], [3.0]], ["`W_rec`", "(unit, unit)"]),
        ("W_in", np.zeros((3, 2)), ["`W_in`", "(unit, input)", "(4, 2)", "(3, 2)"]),
        ("W_in", np.zeros(4), ["`W_in`", "(unit, input)", "(4,)"]),
        ("W_out", np.zeros((3, 5)), ["`W_out`", "(output, unit)", "(3, 4)", "(3, 5)"]),
        ("W_out", np.zeros(4), ["`W_out`", "(output, unit)", "(4,)"]),
        ("b_out", np.zeros(2), ["`b_out`", "(output,)", "(3,)", "(2,)"]),
        ("b_out", np.zeros((3, 1)), ["`b_out`", "(output,)", "(3,)", "(3, 1)"]),
    ],
)
def test_from_arrays_shape_errors_name_argument_expected_and_got(name, value, parts):
    arrays = _arrays()
    arrays[name] = value
    with _raises(parts):
        Circuit.from_arrays(**arrays)


@pytest.mark.parametrize("name", ["W_rec", "W_in", "W_out", "b_out"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_from_arrays_rejects_non_finite_weights(name, bad):
    arrays = _arrays()
    arrays[name] = arrays[name].copy()
    arrays[name].flat[1] = bad
    with _raises([f"`{name}`", "finite", "1 NaN or infinite"]):
        Circuit.from_arrays(**arrays)


@pytest.mark.parametrize("tau", [0.0, -1.0, float("nan"), float("inf"), True, "10"])
def test_from_arrays_rejects_bad_tau(tau):
    with _raises(["`tau`", "positive", repr(tau)]):
        Circuit.from_arrays(W_rec=np.eye(2), tau=tau)


def test_from_arrays_rejects_unknown_phi_with_a_suggestion_and_unknown_form():
    with _raises(["`phi`", "'softpls'", "did you mean 'softplus'", *PHI_NAMES]):
        Circuit.from_arrays(W_rec=np.eye(2), phi="softpls")
    with _raises(["`form`", "'voltage'", "current", "rate"]):
        Circuit.from_arrays(W_rec=np.eye(2), form="voltage")
    with _raises(["`input_names`", "2 entries", "got 1"]):
        Circuit.from_arrays(W_rec=np.eye(2), W_in=np.ones((2, 2)), input_names=["a"])
    with _raises(["`output_names`", "unique"]):
        Circuit.from_arrays(W_rec=np.eye(2), W_out=np.ones((2, 2)), output_names=["z", "z"])


def test_get_phi_registry():
    assert set(PHI_NAMES) == {"tanh", "relu", "softplus", "sigmoid", "linear"}
    with _raises(["`phi`", "['tanh']"]):
        get_phi(["tanh"])  # unhashable: still a clean InputError


def test_circuit_is_frozen_and_its_arrays_read_only():
    circuit = Circuit.random(4, n_inputs=1, seed=0)
    for name in ("W_rec", "W_in", "W_out", "b_out"):
        arr = getattr(circuit, name)
        assert not arr.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            arr[...] = 0.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        circuit.tau = 1.0  # type: ignore[misc]


def test_direct_constructor_call_is_refused():
    arrays = _arrays()
    with pytest.raises(TypeError, match="from_arrays"):
        Circuit(**arrays, tau=10.0, phi="tanh", form="current", input_names=("a", "b"),
                output_names=("x", "y", "z"))


def test_replace_changes_fields_and_revalidates():
    circuit = Circuit.random(4, n_inputs=2, n_outputs=1, seed=0)
    other = circuit.replace(tau=20.0, phi="relu")
    assert (other.tau, other.phi) == (20.0, "relu") and (circuit.tau, circuit.phi) == (10.0, "tanh")
    assert_identical(other.W_rec, circuit.W_rec)
    assert not other.W_rec.flags.writeable
    with _raises(["`tau`", "-1.0"]):
        circuit.replace(tau=-1.0)
    with _raises(["`W_rec`", "finite"]):
        circuit.replace(W_rec=np.full((4, 4), np.nan))
    with _raises(["`W_in`", "(unit, input)", "(3, 2)", "(4, 2)"]):
        circuit.replace(W_rec=np.eye(3))  # W_in no longer fits
    with _raises(["`phi`", "'tan'"]):
        circuit.replace(phi="tan")
    with _raises(["unknown field", "gain"]):
        circuit.replace(gain=2.0)


# ------------------------------------------------------------ simulate: arguments
@pytest.fixture
def small():
    return Circuit.random(4, n_inputs=2, n_outputs=1, seed=0)


@pytest.mark.parametrize(
    "kwargs, parts",
    [
        (dict(inputs=np.zeros((3, 5, 1))), ["`inputs`", "(trial, time, input)", "input = 2", "(3, 5, 1)"]),
        (dict(inputs=np.zeros(5)), ["`inputs`", "(trial, time, input)", "(5,)"]),
        (dict(inputs=np.zeros((3, 3, 5, 2))), ["`inputs`", "context = 2", "(3, 3, 5, 2)"]),
        (dict(inputs=np.full((1, 5, 2), np.nan)), ["`inputs`", "finite"]),
        (dict(duration=10.5, dt=1.0), ["`duration`", "10.5", "multiple of `dt`"]),
        (dict(duration=0.1, dt=1.0), ["`duration`", "multiple of `dt`"]),
        (dict(duration=-5.0), ["`duration`", "-5.0"]),
        (dict(duration="10"), ["`duration`", "positive float (ms)", "'10'"]),
        (dict(duration=10.0, dt=-1.0), ["`dt`", "-1.0"]),
        (dict(duration=10.0, dt=0.0), ["`dt`", "positive"]),
        (dict(duration=10.0, dt=float("nan")), ["`dt`", "nan"]),
        (dict(), ["`inputs`", "`duration`"]),
        (dict(duration=10.0, method="rk4"), ["`method`", "'rk4'", "euler", "exp_euler"]),
        (dict(duration=10.0, noise_std=-0.1), ["`noise_std`", "-0.1"]),
        (dict(duration=10.0, x0=np.zeros(3)), ["`x0`", "unit = 4", "(3,)"]),
        (dict(inputs=np.zeros((3, 5, 2)), x0=np.zeros((2, 4))), ["`x0`", "2 trials", "3"]),
    ],
)
def test_simulate_argument_errors(small, kwargs, parts):
    with _raises(parts):
        simulate(small, np.zeros((2, 4)), **kwargs)


@pytest.mark.parametrize(
    "tonic, parts",
    [
        (np.array([0.0, np.nan, 0.0, 0.0]), ["`tonic`", "finite"]),
        (np.zeros((2, 5)), ["`tonic`", "(context, unit)", "(n_contexts, 4)", "(2, 5)"]),
        (np.zeros(3), ["`tonic`", "(unit,) = (4,)", "(3,)"]),
        (np.zeros((1, 2, 4)), ["`tonic`", "(context, unit)", "(1, 2, 4)"]),
        (xr.DataArray(np.zeros((2, 4)), dims=("context", "neuron")), ["`tonic`", "(context, unit)", "neuron"]),
        (xr.Dataset({"bias": (("context", "unit"), np.zeros((2, 4)))}), ["`tonic`", "'tonic'"]),
    ],
)
def test_simulate_tonic_errors(small, tonic, parts):
    with _raises(parts):
        simulate(small, tonic, duration=5.0)


def test_simulate_rejects_a_non_circuit():
    with _raises(["`circuit`", "dict"]):
        simulate({"W_rec": np.eye(2)}, np.zeros(2), duration=1.0)


def test_simulate_shapes_and_broadcasting(small):
    rng = _rng(1)
    bank = rng.normal(size=(2, 4))
    shared = rng.normal(size=(3, 5, 2))
    ds = simulate(small, bank, inputs=shared)
    assert dict(ds.sizes) == {"context": 2, "trial": 3, "time": 5, "unit": 4, "output": 1, "input": 2}
    # (trial, time, input) is the same as giving it to every context
    per_ctx = simulate(small, bank, inputs=np.stack([shared, shared]))
    assert_identical(per_ctx["x"], ds["x"])
    # x0 of shape (unit,) is shared by every trial and context
    x0 = rng.normal(size=4)
    a = simulate(small, bank, inputs=shared, x0=x0)
    b = simulate(small, bank, inputs=shared, x0=np.broadcast_to(x0, (2, 3, 4)))
    assert_identical(a["x"], b["x"])
    assert_identical(ds["tonic"], bank)
    several = simulate(small, bank, duration=3.0, n_trials=4)
    assert several.sizes["trial"] == 4 and several["inputs"].shape == (2, 4, 3, 2)


# ----------------------------------------------------------- simulate: labelled tonic
def test_labelled_tonic_names_contexts_and_selects_them(small):
    rng = _rng(2)
    values = rng.normal(size=(3, 4))
    names = ["left", "right", "rest"]
    labelled = xr.DataArray(values, dims=("context", "unit"), coords={"context": names})
    plain = simulate(small, values, duration=4.0)
    ds = simulate(small, labelled, duration=4.0)
    assert list(ds["context"].values) == names
    assert_identical(ds["x"].values, plain["x"].values)
    # transposed DataArray and a Dataset holding it give the same result
    assert_identical(simulate(small, labelled.T, duration=4.0)["x"], ds["x"])
    assert_identical(simulate(small, xr.Dataset({"tonic": labelled}), duration=4.0)["x"], ds["x"])
    # select (and reorder) contexts by name
    picked = simulate(small, labelled, duration=4.0, contexts=["rest", "left"])
    assert list(picked["context"].values) == ["rest", "left"]
    assert_identical(picked["x"].values, plain["x"].values[[2, 0]])
    assert_identical(picked["tonic"].values, values[[2, 0]])
    with _raises(["`contexts`", "'up'", "left"]):
        simulate(small, labelled, duration=4.0, contexts=["up"])


def test_unlabelled_tonic_takes_context_names(small):
    ds = simulate(small, np.zeros((2, 4)), duration=2.0, contexts=["a", "b"])
    assert list(ds["context"].values) == ["a", "b"]
    default = simulate(small, np.zeros(4), duration=2.0)
    assert list(default["context"].values) == ["context0"]
    with _raises(["`contexts`", "2 contexts", "got 3"]):
        simulate(small, np.zeros((2, 4)), duration=2.0, contexts=["a", "b", "c"])
    with _raises(["context names", "unique"]):
        simulate(small, np.zeros((2, 4)), duration=2.0, contexts=["a", "a"])

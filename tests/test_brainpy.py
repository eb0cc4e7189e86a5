"""The BrainPy bridge: the same vector field, the same trajectories, round trips, and SlowPointFinder.

Skipped as a whole when BrainPy is not installed (``pip install
'neurobias[brainpy]'``).  Everything runs in float64 (the bridge switches JAX
to x64).  BrainPy 2.8.2 / brainpy-state 0.1.0 / jax 0.10.2 emit no warnings
on these paths, so no warning filter is needed here (the suite turns every
warning into an error).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

bp = pytest.importorskip("brainpy", reason="BrainPy is not installed (pip install 'neurobias[brainpy]')")

import brainpy.math as bm  # noqa: E402
import jax.numpy as jnp  # noqa: E402

from neurobias.analysis import (  # noqa: E402
    find_fixed_points,
    initial_candidates,
    match_fixed_points,
    multistable_chain,
)
from neurobias.analysis import _candidates  # noqa: E402
from neurobias.backends.brainpy import (  # noqa: E402
    enable_x64,
    from_brainpy,
    jax_dynamics,
    slow_point_finder,
    to_brainpy,
)
from neurobias.circuit import FORMS, METHODS, PHI_NAMES, Circuit, simulate  # noqa: E402
from neurobias.errors import InputError  # noqa: E402
from neurobias.io import read_dataset, validate, write_dataset  # noqa: E402

AGREE = 1e-10
enable_x64()  # before any JAX array is made (the bridge's functions also call it)


def circuit_for(phi: str, form: str, n: int = 10, seed: int = 1) -> Circuit:
    return Circuit.random(n, n_inputs=2, n_outputs=3, g=1.3, phi=phi, form=form, seed=seed,
                          input_names=["a", "b"], output_names=["p", "q", "s"])


def run_brainpy(model, u: np.ndarray, dt: float) -> dict[str, np.ndarray]:
    runner = bp.DSRunner(model, monitors=["x", "r", "z"], dt=dt, progress_bar=False)
    runner.run(inputs=jnp.asarray(u))
    return {k: np.asarray(runner.mon[k]) for k in ("x", "r", "z")}


# ----------------------------------------------------------------------------- the vector field
@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("phi", PHI_NAMES)
def test_jax_dynamics_equal_neurobias(phi: str, form: str) -> None:
    c = circuit_for(phi, form, n=16)
    rng = np.random.default_rng(0)
    # states from small to large (softplus switches to x above 20)
    x = rng.normal(size=(64, 16)) * np.repeat([0.3, 3.0, 30.0, 100.0], 16)[:, None]
    ext = rng.normal(size=(64, 16)) * 2.0
    want = c.dynamics().vector_field(torch.tensor(x), torch.tensor(ext)).numpy()
    jd = jax_dynamics(c)
    got = np.asarray(jd.vector_field(jnp.asarray(x), jnp.asarray(ext)))
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=0, atol=AGREE)
    # rates and gain (phi' by JAX's differentiation) equal the torch ones
    np.testing.assert_allclose(np.asarray(jd.rates(jnp.asarray(x))), c.rates(x), rtol=0, atol=AGREE)
    # (softplus is x above 20 in both libraries, so JAX's derivative there is 1 where torch's sigmoid gives
    # 1 - 2e-9: the gains agree to 1e-8)
    want_g = c.dynamics().gain(torch.tensor(x), torch.tensor(ext)).numpy()
    np.testing.assert_allclose(np.asarray(jd.gain(jnp.asarray(x), jnp.asarray(ext))), want_g, rtol=0, atol=1e-8)
    # the model's own field (drive W_in u + tonic) is the same function
    b = rng.normal(size=16)
    u = rng.normal(size=2)
    model = to_brainpy(c, b, inputs=u)
    ext1 = u @ c.W_in.T + b
    want1 = c.dynamics().vector_field(torch.tensor(x), torch.tensor(ext1)).numpy()
    np.testing.assert_allclose(np.asarray(model.vector_field(jnp.asarray(x))), want1, rtol=0, atol=AGREE)


# ----------------------------------------------------------------------------- trajectories
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("phi", PHI_NAMES)
def test_dsrunner_trajectories_equal_simulate(phi: str, form: str, method: str) -> None:
    c = circuit_for(phi, form)
    rng = np.random.default_rng(2)
    bank = rng.normal(size=(2, 10))
    u = rng.normal(size=(30, 2))
    x0 = rng.normal(size=10) * 2.0
    dt = 0.7
    sim = simulate(c, bank, contexts=["go", "stop"], inputs=u[None], x0=x0, dt=dt, method=method)
    model = to_brainpy(c, sim.tonic, context="stop", x0=x0, dt=dt, method=method)
    assert model.context == "stop" and model.dt == dt and model.method == method
    mon = run_brainpy(model, u, dt)
    for k in ("x", "r", "z"):
        want = sim[k].sel(context="stop").values[0]
        assert mon[k].shape == want.shape and mon[k].dtype == np.float64
        np.testing.assert_allclose(mon[k], want, rtol=0, atol=AGREE, err_msg=k)


def test_batching_mode_and_constant_input() -> None:
    c = circuit_for("tanh", "current")
    rng = np.random.default_rng(3)
    b = rng.normal(size=10)
    u_const = rng.normal(size=2)
    x0 = rng.normal(size=10)
    model = to_brainpy(c, b, inputs=u_const, x0=x0, dt=0.5, method="exp_euler", mode=bm.BatchingMode(3))
    assert model.x.shape == (3, 10)
    runner = bp.DSRunner(model, monitors=["x"], dt=0.5, progress_bar=False)
    runner.run(20.0)  # no inputs: the constant input is used
    sim = simulate(c, b, inputs=np.broadcast_to(u_const, (3, 40, 2)), x0=x0, dt=0.5, method="exp_euler")
    got = np.asarray(runner.mon["x"])  # (batch, time, unit)
    np.testing.assert_allclose(got, sim.x.values[0], rtol=0, atol=AGREE)


def test_only_the_tonic_input_is_trainable() -> None:
    c = circuit_for("softplus", "rate")
    rng = np.random.default_rng(4)
    b = rng.normal(size=10)
    model = to_brainpy(c, b)
    assert [k.split(".")[-1] for k in model.train_vars()] == ["tonic"]
    x = jnp.asarray(rng.normal(size=10))

    def loss():
        return jnp.sum(model.vector_field(x) ** 2)

    grads = bm.grad(loss, grad_vars=model.train_vars())()
    g_bp = np.asarray(next(iter(grads.values())))
    bt = torch.tensor(b, requires_grad=True)
    F = c.dynamics().vector_field(torch.tensor(np.asarray(x)), bt)
    (F * F).sum().backward()
    np.testing.assert_allclose(g_bp, bt.grad.numpy(), rtol=0, atol=AGREE)


def test_to_brainpy_errors() -> None:
    c = circuit_for("tanh", "current")
    bank = np.zeros((2, 10))
    with pytest.raises(InputError, match="context"):
        to_brainpy(c, bank)
    with pytest.raises(InputError, match="context"):
        to_brainpy(c, bank, context="nope")
    with pytest.raises(InputError, match="method"):
        to_brainpy(c, bank[0], method="rk4")
    with pytest.raises(InputError, match="inputs"):
        to_brainpy(c, bank[0], inputs=np.zeros(3))
    with pytest.raises(InputError, match="circuit"):
        to_brainpy("circuit", bank[0])


# ----------------------------------------------------------------------------- back from BrainPy
def test_round_trip_to_from_brainpy() -> None:
    c = circuit_for("sigmoid", "rate")
    b = np.random.default_rng(5).normal(size=10)
    model = to_brainpy(c, b)
    c2, b2 = from_brainpy(model)
    for name in ("W_rec", "W_in", "W_out", "b_out"):
        assert np.array_equal(getattr(c2, name), getattr(c, name)), name
    assert (c2.tau, c2.phi, c2.form, c2.input_names, c2.output_names, c2.seed, c2.connectivity) == (
        c.tau, c.phi, c.form, c.input_names, c.output_names, c.seed, c.connectivity)
    assert np.array_equal(b2, b)
    # a tonic input trained in BrainPy comes back
    model.tonic.value = jnp.asarray(b + 1.0)
    assert np.array_equal(from_brainpy(model)[1], b + 1.0)


def _drive_cell(cell, u: np.ndarray) -> np.ndarray:
    out = []
    for t in range(u.shape[0]):
        out.append(np.asarray(cell.update(jnp.asarray(u[t]))))
    return np.stack(out)


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "softplus"])
def test_from_brainpy_rnncell(activation: str) -> None:
    rng = np.random.default_rng(6)
    # explicit weights: BrainPy's random initializers are slow to run eagerly
    cell = bp.dyn.RNNCell(num_in=2, num_out=8, activation=activation, Wi_initializer=jnp.asarray(rng.normal(size=(2, 8))),
                          Wh_initializer=jnp.asarray(rng.normal(size=(8, 8)) * 0.5),
                          b_initializer=jnp.asarray(rng.normal(size=8) * 0.5))
    u = rng.normal(size=(6, 2))
    want = _drive_cell(cell, u)
    c, b = from_brainpy(cell, dt=2.0)
    assert (c.form, c.phi, c.tau) == ("rate", activation, 2.0)
    sim = simulate(c, b, inputs=u[None], dt=2.0)
    np.testing.assert_allclose(sim.x.values[0, 0], want, rtol=0, atol=AGREE)


def test_from_brainpy_reservoir() -> None:
    rng = np.random.default_rng(7)
    w_rec = rng.normal(size=(12, 12)) * 0.4 * (rng.random((12, 12)) < 0.5)
    res = bp.dyn.Reservoir(2, 12, leaky_rate=0.3, activation="tanh", in_connectivity=1.0, rec_connectivity=1.0,
                           Win_initializer=jnp.asarray(rng.normal(size=(2, 12))),
                           Wrec_initializer=jnp.asarray(w_rec), b_initializer=jnp.asarray(rng.normal(size=12) * 0.3))
    u = rng.normal(size=(6, 2))
    want = _drive_cell(res, u)
    c, b = from_brainpy(res, dt=1.0)
    assert c.form == "rate" and c.phi == "tanh"
    assert c.tau == pytest.approx(1.0 / 0.3)
    sim = simulate(c, b, inputs=u[None], dt=1.0)
    np.testing.assert_allclose(sim.x.values[0, 0], want, rtol=0, atol=AGREE)


def test_from_brainpy_rejects_other_models() -> None:
    zero = bp.init.ZeroInit()
    with pytest.raises(InputError, match="GRUCell"):
        from_brainpy(bp.dyn.GRUCell(num_in=2, num_out=4, Wi_initializer=zero, Wh_initializer=zero))
    with pytest.raises(InputError, match="activation_type"):
        from_brainpy(bp.dyn.Reservoir(2, 4, activation_type="external", in_connectivity=1.0, rec_connectivity=1.0,
                                      Win_initializer=zero, Wrec_initializer=zero))
    with pytest.raises(InputError, match="activation"):
        from_brainpy(bp.dyn.RNNCell(num_in=2, num_out=4, activation="elu", Wi_initializer=zero,
                                    Wh_initializer=zero))
    with pytest.raises(InputError):
        from_brainpy(np.eye(3))


# ----------------------------------------------------------------------------- SlowPointFinder
def test_initial_candidates_are_find_fixed_points_first_round(monkeypatch: pytest.MonkeyPatch) -> None:
    ref = multistable_chain(n_units=6, n_core=2, seed=0)
    bank = np.stack([ref.tonic, ref.tonic + 0.01])
    seen = []
    original = _candidates.first_round

    def spy(*args, **kwargs):
        out = original(*args, **kwargs)
        seen.append(out)
        return out

    monkeypatch.setattr(_candidates, "first_round", spy)
    find_fixed_points(ref.circuit, bank, n_candidates=40, seed=3, explore_rounds=0)
    x0, ctx0, _ = seen[0]
    mine = initial_candidates(ref.circuit, bank, n_candidates=40, seed=3)
    assert mine.shape == (2, 40, 6)
    for c in range(2):
        assert np.array_equal(mine[c], x0[ctx0 == c].numpy())


def test_slow_point_finder_dataset_and_true_fixed_points(tmp_path) -> None:
    ref = multistable_chain(n_units=6, n_core=2, seed=0)  # 9 fixed points, 4 stable
    bank = np.stack([ref.tonic, ref.tonic])
    cands = initial_candidates(ref.circuit, ref.tonic, n_candidates=48, seed=0)[0]  # (n, unit), both contexts
    ds = slow_point_finder(ref.circuit, bank, contexts=["a", "b"], initial_states=cands, n_iter=3000,
                           num_batch=3000)
    validate(ds, "fixed_points")
    back = read_dataset(write_dataset(ds, tmp_path / "fp.nc", kind="fixed_points"), kind="fixed_points")
    np.testing.assert_array_equal(back.x.values, ds.x.values)
    assert ds.attrs["engine"] == "brainpy"
    assert list(ds.attrs["contexts"]) == ["a", "b"]
    assert int(np.sum(ds.attrs["candidates_tried"])) == 2 * 48
    # the layout of find_fixed_points
    ref_ds = find_fixed_points(ref.circuit, bank, contexts=["a", "b"], n_candidates=16, explore_rounds=0)
    assert {k: ds[k].dims for k in ds.data_vars} == {k: ref_ds[k].dims for k in ref_ds.data_vars}
    assert set(ds.coords) == set(ref_ds.coords)
    fixed = ds.isel(fp=np.flatnonzero(ds.kind.values == "fixed"))
    assert fixed.sizes["fp"] >= 2 * 4  # at least the stable ones in each context
    for name in ("a", "b"):
        pts = fixed.isel(fp=np.flatnonzero(fixed.context.values == name))
        # true fixed points: neurobias's own residual, and each one a known fixed point with its index
        F = ref.circuit.dynamics().vector_field(torch.tensor(pts.x.values), torch.tensor(ref.tonic))
        assert float(F.abs().max()) <= 1e-10
        np.testing.assert_allclose(pts.residual.values, F.abs().amax(-1).numpy(), rtol=0, atol=1e-16)
        found_match, known_found = match_fixed_points(pts.x.values, ref.x, atol=1e-8)
        assert np.all(found_match >= 0)
        assert np.array_equal(pts.index.values, ref.index[found_match])
        assert known_found[ref.stable].all()
        assert len(np.unique(found_match)) == pts.sizes["fp"]  # no duplicates


def test_slow_point_finder_errors() -> None:
    ref = multistable_chain(n_units=4, n_core=1, seed=0)
    with pytest.raises(InputError, match="initial_states"):
        slow_point_finder(ref.circuit, ref.tonic)
    with pytest.raises(InputError, match="initial_states"):
        slow_point_finder(ref.circuit, ref.tonic, initial_states=np.zeros((3, 5)))
    with pytest.raises(InputError, match="n_iter"):
        slow_point_finder(ref.circuit, ref.tonic, initial_states=np.zeros((3, 4)), n_iter=0)


def test_find_fixed_points_engine_brainpy_dispatches() -> None:
    ref = multistable_chain(n_units=4, n_core=1, seed=0)  # 3 fixed points, 2 stable
    ds = find_fixed_points(ref.circuit, ref.tonic, n_candidates=32, seed=0, engine="brainpy")
    assert ds.attrs["engine"] == "brainpy"
    fixed = ds.isel(fp=np.flatnonzero(ds.kind.values == "fixed"))
    assert fixed.sizes["fp"] >= 2 and float(fixed.residual.max()) <= 1e-10
    with pytest.raises(InputError, match="`engine` must be 'neurobias' or 'brainpy'; got 'scipy'"):
        find_fixed_points(ref.circuit, ref.tonic, engine="scipy")

"""The circuit's Dynamics: the one place that knows the form.

Products J v and J^T v against central differences of the flow (float64),
the two forms against each other through their closed-form change of
variables, and the scoped one-thread rule (a library call leaves the caller's
torch thread count as it found it).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import neurobias as nb
from neurobias.analysis import find_fixed_points, multistable_chain
from neurobias.analysis.continuation import continue_fixed_points
from neurobias.analysis.gain import effective_gain
from neurobias.circuit import FORMS, PHI_NAMES, Circuit, Dynamics, get_phi, one_thread
from neurobias.errors import InputError
from neurobias.reproduce.forecast import closed_loop
from neurobias.tasks import make_task
from neurobias.testing import assert_allclose
from neurobias.training import train

F64 = torch.float64


def _point(circuit: Circuit, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    rng = np.random.default_rng(seed)
    n = circuit.n_units
    return (torch.tensor(rng.normal(size=(3, n)), dtype=F64), torch.tensor(rng.normal(size=(3, n)), dtype=F64))


# ----------------------------------------------------------------- J v, J^T v
@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("phi", ["tanh", "softplus", "sigmoid", "linear"])
def test_jacobian_products_match_central_differences(phi: str, form: str) -> None:
    c = Circuit.random(9, g=1.3, phi=phi, form=form, tau=7.0, seed=2)
    dyn = c.dynamics()
    x, ext = _point(c, 1)
    v = torch.tensor(np.random.default_rng(3).normal(size=(3, 9)), dtype=F64)
    h = 1e-6
    # J v is the directional derivative of F along v; J^T v has entries v . dF/dx_j
    fd_jv = (dyn.vector_field(x + h * v, ext) - dyn.vector_field(x - h * v, ext)) / (2 * h)
    assert_allclose(dyn.jvp(x, ext, v), fd_jv, rtol=0, atol=1e-8)
    fd_jtv = torch.zeros_like(x)
    for j in range(9):
        e = torch.zeros(9, dtype=F64)
        e[j] = h
        fd_jtv[:, j] = (v * (dyn.vector_field(x + e, ext) - dyn.vector_field(x - e, ext))).sum(-1) / (2 * h)
    assert_allclose(dyn.vjp(x, ext, v), fd_jtv, rtol=0, atol=1e-8)
    J = dyn.jacobian(x, ext)
    assert_allclose(dyn.jvp(x, ext, v), (J @ v[..., None])[..., 0], rtol=1e-13, atol=1e-15)
    assert_allclose(dyn.vjp(x, ext, v), (J.mT @ v[..., None])[..., 0], rtol=1e-13, atol=1e-15)
    assert_allclose(dyn.jacobian_scaled(x, ext), c.tau * J, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("form", FORMS)
def test_drive_sensitivity_matches_central_differences(form: str) -> None:
    c = Circuit.random(6, g=1.2, form=form, seed=4)
    dyn = c.dynamics()
    x, ext = _point(c, 5)
    h = 1e-6
    fd = torch.zeros_like(x)
    for j in range(6):
        e = torch.zeros(6, dtype=F64)
        e[j] = h
        fd[:, j] = ((dyn.vector_field(x, ext + e) - dyn.vector_field(x, ext - e)) / (2 * h))[:, j]
    assert_allclose(dyn.drive_sensitivity(x, ext), fd, rtol=0, atol=1e-8)


# ----------------------------------------------------------------- the forms in closed form
@pytest.mark.parametrize("phi", PHI_NAMES)
def test_each_form_written_out(phi: str) -> None:
    """drive, rates, gain and readout of both forms against the formulas written here in numpy."""
    f, d = get_phi(phi).fn, get_phi(phi).deriv
    base = Circuit.random(5, n_outputs=2, g=1.1, phi=phi, seed=6)
    W, W_out = base.W_rec, base.W_out
    b_out = np.array([0.3, -0.2])
    x, ext = _point(base, 7)
    xn, en = x.numpy(), ext.numpy()
    phi_np = lambda a: f(torch.tensor(a)).numpy()  # noqa: E731
    dphi_np = lambda a: d(torch.tensor(a)).numpy()  # noqa: E731
    cur = base.replace(b_out=b_out).dynamics()
    rate = base.replace(b_out=b_out, form="rate").dynamics()
    assert not cur.state_is_rate and rate.state_is_rate
    assert_allclose(cur.drive(x, ext), phi_np(xn) @ W.T + en, rtol=1e-14, atol=1e-14)
    assert_allclose(rate.drive(x, ext), phi_np(xn @ W.T + en), rtol=1e-14, atol=1e-14)
    assert_allclose(cur.rates(x), phi_np(xn), rtol=0, atol=0)
    assert_allclose(rate.rates(x), xn, rtol=0, atol=0)
    assert_allclose(cur.gain(x, ext), dphi_np(xn), rtol=0, atol=0)
    assert_allclose(rate.gain(x, ext), dphi_np(xn @ W.T + en), rtol=1e-14, atol=1e-14)
    Wo, bo = torch.tensor(W_out), torch.tensor(b_out)
    assert_allclose(cur.readout(x, Wo, bo), phi_np(xn) @ W_out.T + b_out, rtol=1e-14, atol=1e-14)
    assert_allclose(rate.readout(x, Wo, bo), xn @ W_out.T + b_out, rtol=1e-14, atol=1e-14)
    for dyn in (cur, rate):
        assert_allclose(dyn.vector_field(x, ext), (dyn.drive(x, ext) - x) / base.tau, rtol=0, atol=0)
    assert_allclose(base.rates(xn), phi_np(xn), rtol=0, atol=0)


@pytest.mark.parametrize("method", ["euler", "exp_euler"])
def test_rate_trajectory_maps_onto_the_current_trajectory(method: str) -> None:
    """If r(t) solves the rate form with constant drive b, then h = W r + b solves the current form.

    tau h' = W tau r' = -W r + W phi(W r + b) = -h + W phi(h) + b; both integrators are
    affine in the state, so the identity holds step by step.
    """
    rate = Circuit.random(12, g=1.5, form="rate", seed=8)
    cur = rate.replace(form="current")
    rng = np.random.default_rng(9)
    b = rng.normal(size=12) * 0.5
    r0 = np.tanh(rng.normal(size=12))
    h0 = rate.W_rec @ r0 + b
    dr = nb.simulate(rate, b, x0=r0, duration=200.0, dt=0.5, method=method)
    dh = nb.simulate(cur, b, x0=h0, duration=200.0, dt=0.5, method=method)
    assert_allclose(dh["x"].values, dr["x"].values @ rate.W_rec.T + b, rtol=0, atol=1e-12)


@pytest.mark.parametrize("form", FORMS)
def test_fixed_points_and_spectra_of_the_two_forms_correspond(form: str) -> None:
    """Currents h* of one form and rates r* = tanh(h*) of the other: W diag(g) and diag(g) W share eigenvalues."""
    ref = multistable_chain(n_units=6, n_core=2, seed=1, form=form)
    other = multistable_chain(n_units=6, n_core=2, seed=1, form="rate" if form == "current" else "current")
    mine, theirs = ref.circuit.dynamics(), other.circuit.dynamics()
    b = torch.tensor(ref.tonic)
    assert float(mine.vector_field(torch.tensor(ref.x), b).abs().max()) <= 1e-13
    assert float(theirs.vector_field(torch.tensor(other.x), b).abs().max()) <= 1e-13
    ev_mine = np.linalg.eigvals(mine.jacobian(torch.tensor(ref.x), b).numpy())
    ev_theirs = np.linalg.eigvals(theirs.jacobian(torch.tensor(other.x), b).numpy())
    assert_allclose(np.sort_complex(ev_mine), np.sort_complex(ev_theirs), rtol=0, atol=1e-12)


def test_dynamics_checks_its_arguments() -> None:
    W = torch.zeros(2, 2, dtype=F64)
    with pytest.raises(InputError, match="`form` must be one of 'current', 'rate'; got 'voltage'"):
        Dynamics(W_rec=W, tau=1.0, phi="tanh", form="voltage")
    with pytest.raises(InputError, match=r"`tau` must be a positive float \(ms\); got 0"):
        Dynamics(W_rec=W, tau=0, phi="tanh", form="rate")
    with pytest.raises(InputError, match="`phi` must be one of"):
        Dynamics(W_rec=W, tau=1.0, phi="tahn", form="rate")
    c = Circuit.random(3, seed=0)
    with pytest.raises(InputError, match=r"`W_rec` must have shape \(unit, unit\) = \(3, 3\); got \(2, 2\)"):
        c.dynamics(W_rec=W)
    with pytest.raises(InputError, match="`dtype` must be one of 'float32', 'float64'; got torch.float64"):
        c.dynamics(dtype=torch.float64)
    assert c.dynamics(dtype="float32").W_rec.dtype == torch.float32


# ----------------------------------------------------------------- the thread rule is scoped
def test_one_thread_restores_what_it_found_and_nests() -> None:
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        with one_thread():
            assert torch.get_num_threads() == 1
            with one_thread():
                assert torch.get_num_threads() == 1
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
        with pytest.raises(RuntimeError, match="inside"):
            with one_thread():
                raise RuntimeError("inside")
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_library_calls_leave_the_callers_thread_count_unchanged() -> None:
    before = torch.get_num_threads()
    c = Circuit.random(8, n_inputs=1, n_outputs=1, g=1.4, seed=3)
    bank = np.random.default_rng(0).normal(size=(2, 8)) * 0.3
    ref = multistable_chain(n_units=4, n_core=1, seed=0)
    task = make_task("sine", dt=10.0, frequencies_hz=(5.0, 10.0), duration_ms=50.0)
    calls = {
        "simulate": lambda: nb.simulate(c, bank, duration=20.0),
        "find_fixed_points": lambda: find_fixed_points(c, bank, n_candidates=8, explore_rounds=0),
        "continue_fixed_points": lambda: continue_fixed_points(ref.circuit, start=ref.tonic, end=ref.tonic + 0.1,
                                                               steps=5),
        "effective_gain": lambda: effective_gain(c, bank, states=nb.simulate(c, bank, duration=20.0)),
        "train": lambda: train(Circuit.random(8, n_inputs=task.n_inputs, n_outputs=task.n_outputs, seed=1), task,
                               steps=1, batch_size=1, dtype="float64", seed=0, progress=False),
        "closed_loop": lambda: closed_loop(Circuit.random(4, n_inputs=1, n_outputs=1, seed=2, form="rate"), np.zeros(4),
                                     np.zeros((1, 3, 1)), n_warmup=2, n_free=2, dt=1.0),
    }
    try:
        torch.set_num_threads(2)
        for name, call in calls.items():
            call()
            assert torch.get_num_threads() == 2, name
    finally:
        torch.set_num_threads(before)


def test_the_analyses_do_not_import_the_backend_and_the_circuit_imports_no_higher_layer() -> None:
    import subprocess
    import sys

    code = (
        "import sys, neurobias.circuit; "
        "assert not [m for m in sys.modules if m.startswith(('neurobias.analysis', 'neurobias.training', "
        "'neurobias.io', 'neurobias.backends'))], 'circuit imported a higher layer'; "
        "import neurobias.analysis, neurobias.analysis.fixed_points; "
        "assert 'neurobias.backends.brainpy' not in sys.modules and 'brainpy' not in sys.modules"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr

"""``simulate``'s two engines: the torch loop and the XLA kernel compute the same trajectories.

Ground truths from outside the code under test: the Euler recursion of a
linear circuit solved in closed form (a matrix power), and a one-unit circuit
stepped in plain Python floats.  The engines are compared with each other for
every form, transfer function and method, with inputs, tonic inputs and initial
states.  The rule of ``engine="auto"`` (:func:`neurobias.circuit.choose_engine`)
and the errors of ``engine=`` are checked without JAX where they can be.
"""
from __future__ import annotations

import math
import sys

import numpy as np
import pytest
import torch

import neurobias as nb
from neurobias.circuit import (ENGINES, FORMS, JAX_MIN_UNITS, JAX_MIN_WORK, METHODS, PHI_NAMES, Circuit,
                               choose_engine, step_fraction)
from neurobias.errors import InputError
from neurobias.testing import assert_allclose, linear_circuit


def _jax():
    return pytest.importorskip("jax", reason="jax is not installed (pip install 'neurobias[jax]')")


def _case(form: str, phi: str, *, n: int = 12, n_inputs: int = 2, seed: int = 0):
    circuit = Circuit.random(n, n_inputs=n_inputs, n_outputs=2, g=0.8, phi=phi, form=form, seed=seed)
    rng = np.random.default_rng(seed + 1)
    tonic = rng.normal(0.0, 0.5, size=(2, n))
    inputs = rng.normal(0.0, 1.0, size=(3, 30, n_inputs))
    x0 = rng.normal(0.0, 0.5, size=(2, 3, n))
    if form == "rate" and phi in ("relu", "softplus", "sigmoid"):
        x0 = np.abs(x0)
    return circuit, tonic, inputs, x0


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("phi", PHI_NAMES)
@pytest.mark.parametrize("form", FORMS)
def test_engines_agree_float64(form: str, phi: str, method: str) -> None:
    _jax()
    circuit, tonic, inputs, x0 = _case(form, phi)
    kw = dict(inputs=inputs, x0=x0, dt=1.0, method=method, dtype="float64")
    a = nb.simulate(circuit, tonic, engine="torch", **kw)
    b = nb.simulate(circuit, tonic, engine="jax", **kw)
    assert (a.attrs["engine"], b.attrs["engine"]) == ("torch", "jax")
    for name in ("x", "r", "z"):
        assert b[name].dtype == np.float64
        assert b[name].dims == a[name].dims
        assert_allclose(b[name], a[name], rtol=1e-12, atol=1e-12, err_msg=f"{form}/{phi}/{method}: {name}")
    assert_allclose(b["inputs"], a["inputs"], rtol=0, atol=0)
    assert_allclose(b["tonic"], a["tonic"], rtol=0, atol=0)


@pytest.mark.parametrize("phi", PHI_NAMES)
@pytest.mark.parametrize("form", FORMS)
def test_engines_agree_float32(form: str, phi: str) -> None:
    _jax()
    circuit, tonic, inputs, x0 = _case(form, phi, seed=3)
    kw = dict(inputs=inputs, x0=x0, dt=1.0, dtype="float32")
    a = nb.simulate(circuit, tonic, engine="torch", **kw)
    b = nb.simulate(circuit, tonic, engine="jax", **kw)
    for name in ("x", "r", "z"):
        assert b[name].dtype == np.float32 and a[name].dtype == np.float32
        assert_allclose(b[name], a[name], rtol=1e-5, atol=1e-5, err_msg=f"{form}/{phi}: {name}")


@pytest.mark.parametrize("form", FORMS)
def test_engines_agree_without_inputs_and_with_a_large_step(form: str) -> None:
    """Constant drive (no ``inputs``), and a step fraction above 1/2 (the other branch of ``lerp``)."""
    _jax()
    circuit, tonic, _, _ = _case(form, "tanh", n=9)
    kw = dict(duration=21.0, dt=7.0, n_trials=2, dtype="float64")  # h = 0.7
    a = nb.simulate(circuit, tonic, engine="torch", **kw)
    b = nb.simulate(circuit, tonic, engine="jax", **kw)
    assert b.sizes == a.sizes and b.sizes["time"] == 3
    for name in ("x", "r", "z"):
        assert_allclose(b[name], a[name], rtol=1e-12, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("engine", ["torch", "jax"])
@pytest.mark.parametrize("form", FORMS)
def test_linear_circuit_matches_the_closed_form_of_the_euler_recursion(form: str, engine: str) -> None:
    """``x_k = x* + M^k (x0 - x*)`` with ``M = (1 - h) I + h W``, ``x* = (I - W)^-1 ext``."""
    if engine == "jax":
        _jax()
    circuit = linear_circuit(6, g=0.7, n_inputs=1, form=form, seed=4)
    rng = np.random.default_rng(5)
    b = rng.normal(size=6)
    x0 = rng.normal(size=6)
    dt, steps = 2.0, 25
    ds = nb.simulate(circuit, b, x0=x0, duration=dt * steps, dt=dt, engine=engine, dtype="float64")
    h = dt / circuit.tau
    W = circuit.W_rec
    M = (1.0 - h) * np.eye(6) + h * W
    x_star = np.linalg.solve(np.eye(6) - W, b)
    want = np.stack([x_star + np.linalg.matrix_power(M, k) @ (x0 - x_star) for k in range(1, steps + 1)])
    assert_allclose(ds["x"].isel(context=0, trial=0), want, rtol=1e-12, atol=1e-12)
    assert_allclose(ds["r"].isel(context=0, trial=0), want, rtol=1e-12, atol=1e-12)  # phi = identity
    assert_allclose(ds["z"].isel(context=0, trial=0), want @ circuit.W_out.T + circuit.b_out, rtol=1e-12,
                    atol=1e-12)


@pytest.mark.parametrize("engine", ["torch", "jax"])
@pytest.mark.parametrize("method", METHODS)
def test_one_unit_tanh_circuit_matches_python_floats(engine: str, method: str) -> None:
    """``x <- x + h (w tanh(x) + v u_k + b - x)`` stepped with :mod:`math`, current form, an input and a tonic input."""
    if engine == "jax":
        _jax()
    w, v, b, x0, tau, dt = 1.3, 0.6, -0.2, 0.4, 10.0, 1.5
    circuit = Circuit.from_arrays(W_rec=[[w]], W_in=[[v]], W_out=[[2.0]], b_out=[0.5], tau=tau, phi="tanh")
    u = np.sin(0.3 * np.arange(40))
    ds = nb.simulate(circuit, [b], inputs=u[None, :, None], x0=[x0], dt=dt, method=method, engine=engine)
    h = dt / tau if method == "euler" else 1.0 - math.exp(-dt / tau)
    x, want = x0, []
    for uk in u:
        x = x + h * (w * math.tanh(x) + v * uk + b - x)
        want.append(x)
    want_arr = np.array(want)
    assert_allclose(ds["x"].values.ravel(), want_arr, rtol=1e-13, atol=1e-13)
    assert_allclose(ds["r"].values.ravel(), np.tanh(want_arr), rtol=1e-13, atol=1e-13)
    assert_allclose(ds["z"].values.ravel(), 2.0 * np.tanh(want_arr) + 0.5, rtol=1e-13, atol=1e-13)


# ----------------------------------------------------------------------------- the rule of "auto"
def test_engines_are_named() -> None:
    assert ENGINES == ("auto", "torch", "jax")
    assert JAX_MIN_UNITS >= 1 and JAX_MIN_WORK >= 1


def _big(n_steps: int = 1000) -> dict[str, int]:
    """Arguments whose work reaches the thresholds."""
    n = max(JAX_MIN_UNITS, 8)
    rows = max(1, math.ceil(JAX_MIN_WORK / (n * n * n_steps)))
    return dict(n_units=n, n_rows=rows, n_steps=n_steps)


def test_auto_picks_jax_for_enough_work_on_the_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    from neurobias.circuit import _xla

    monkeypatch.setattr(_xla, "available", lambda: True)
    big = _big()
    assert choose_engine(**big) == "jax"
    assert choose_engine(engine="auto", device="cpu", noise_std=0.0, **big) == "jax"
    # one row less than the work threshold, or one unit less than the units threshold: torch
    n, steps = big["n_units"], big["n_steps"]
    rows = JAX_MIN_WORK // (n * n * steps)
    if rows * n * n * steps >= JAX_MIN_WORK:
        rows -= 1
    assert choose_engine(n_units=n, n_rows=rows, n_steps=steps) == "torch"
    if JAX_MIN_UNITS > 1:
        small = JAX_MIN_UNITS - 1
        assert choose_engine(n_units=small, n_rows=10 * JAX_MIN_WORK, n_steps=1) == "torch"


def test_auto_picks_torch_with_noise_on_a_gpu_or_without_jax(monkeypatch: pytest.MonkeyPatch) -> None:
    from neurobias.circuit import _xla

    big = _big()
    monkeypatch.setattr(_xla, "available", lambda: True)
    assert choose_engine(noise_std=0.1, **big) == "torch"
    assert choose_engine(device="cuda", **big) == "torch"
    assert choose_engine(device=torch.device("cuda", 0), **big) == "torch"
    monkeypatch.setattr(_xla, "available", lambda: False)
    assert choose_engine(**big) == "torch"


def test_forced_engines(monkeypatch: pytest.MonkeyPatch) -> None:
    from neurobias.circuit import _xla

    monkeypatch.setattr(_xla, "available", lambda: True)
    assert choose_engine(engine="torch", noise_std=1.0, device="cuda", **_big()) == "torch"
    assert choose_engine(engine="jax", n_units=2, n_rows=1, n_steps=1) == "jax"
    with pytest.raises(InputError, match=r"`engine`='jax'.*`noise_std`=0.5"):
        choose_engine(engine="jax", n_units=2, n_rows=1, n_steps=1, noise_std=0.5)
    with pytest.raises(InputError, match=r"`engine`='jax' runs on the CPU only; got `device`='cuda'"):
        choose_engine(engine="jax", n_units=2, n_rows=1, n_steps=1, device="cuda")


@pytest.mark.parametrize("bad", ["xla", "JAX", "", None, 1])
def test_bad_engine_names_the_argument(bad: object) -> None:
    circuit = Circuit.random(4, seed=0)
    with pytest.raises(InputError, match="`engine`"):
        nb.simulate(circuit, np.zeros(4), duration=2.0, engine=bad)
    with pytest.raises(InputError, match="`engine`"):
        choose_engine(engine=bad, n_units=4, n_rows=1, n_steps=2)


def test_jax_engine_with_noise_is_refused_by_simulate() -> None:
    circuit = Circuit.random(4, seed=0)
    with pytest.raises(InputError, match=r"`engine`='jax' simulates without noise; got `noise_std`=0.1"):
        nb.simulate(circuit, np.zeros(4), duration=2.0, noise_std=0.1, seed=1, engine="jax")


def test_jax_engine_without_jax_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``import jax`` failing (a None entry in ``sys.modules``), "jax" is refused and "auto" falls back."""
    for name in [m for m in sys.modules if m == "jax" or m.startswith("jax.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "jax", None)
    with pytest.raises(ImportError):
        import jax  # noqa: F401
    circuit = Circuit.random(4, seed=0)
    with pytest.raises(InputError, match=r"`engine`='jax' needs jax, which is not installed.*neurobias\[jax\]"):
        nb.simulate(circuit, np.zeros(4), duration=2.0, engine="jax")
    assert choose_engine(**_big()) == "torch"
    ds = nb.simulate(circuit, np.zeros(4), duration=2.0)
    assert ds.attrs["engine"] == "torch"


def test_auto_records_its_choice_and_noise_stays_with_torch() -> None:
    circuit = Circuit.random(4, seed=0)
    ds = nb.simulate(circuit, np.zeros(4), duration=3.0, noise_std=0.2, seed=7)
    assert ds.attrs["engine"] == "torch"
    again = nb.simulate(circuit, np.zeros(4), duration=3.0, noise_std=0.2, seed=7, engine="torch")
    assert_allclose(ds["x"], again["x"], rtol=0, atol=0)
    small = nb.simulate(circuit, np.zeros(4), duration=3.0)
    assert small.attrs["engine"] == choose_engine(n_units=4, n_rows=1, n_steps=3) == "torch"


def test_jax_engine_leaves_global_state_as_found() -> None:
    jax = _jax()
    x64, threads = bool(jax.config.jax_enable_x64), torch.get_num_threads()
    circuit = Circuit.random(5, seed=2)
    ds = nb.simulate(circuit, np.ones(5), duration=4.0, engine="jax", dtype="float64")
    assert ds["x"].dtype == np.float64 and ds.attrs["engine"] == "jax"
    assert bool(jax.config.jax_enable_x64) == x64 and torch.get_num_threads() == threads
    ds32 = nb.simulate(circuit, np.ones(5), duration=4.0, engine="jax", dtype="float32")
    assert ds32["x"].dtype == np.float32
    ds["x"].values[0, 0, 0, 0] = 1.0  # the arrays are the caller's to change, as with torch


def test_jax_engine_output_is_written_and_validated(tmp_path) -> None:
    _jax()
    from neurobias.io import read_dataset, write_dataset

    circuit = Circuit.random(5, n_inputs=1, seed=2)
    ds = nb.simulate(circuit, np.ones(5), inputs=np.ones((2, 3, 1)), engine="jax")
    path = write_dataset(ds, tmp_path / "trajectories.nc", kind="trajectories")
    back = read_dataset(path)
    assert back.attrs["engine"] == "jax"
    assert_allclose(back["x"], ds["x"], rtol=0, atol=0)


def test_step_fraction_is_the_one_both_engines_use() -> None:
    """The closed-form tests above assume ``h = dt / tau`` (Euler) and ``1 - exp(-dt / tau)``."""
    assert step_fraction(dt=2.0, tau=10.0, method="euler") == 0.2
    assert_allclose(step_fraction(dt=2.0, tau=10.0, method="exp_euler"), 1.0 - math.exp(-0.2))


def test_importing_neurobias_imports_no_jax() -> None:
    """JAX is optional and heavy: only ``engine="jax"`` imports it."""
    import subprocess

    code = ("import sys, numpy as np, neurobias as nb, neurobias.circuit\n"
            "nb.simulate(nb.Circuit.random(4, seed=0), np.zeros(4), duration=3.0)\n"
            "assert 'jax' not in sys.modules, sorted(m for m in sys.modules if m.startswith('jax'))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]

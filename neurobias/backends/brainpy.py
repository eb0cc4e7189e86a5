"""The BrainPy bridge: a neurobias circuit as a BrainPy model, and BrainPy's slow-point finder.

BrainPy (``brainpy>=2.8,<2.9`` with ``brainpy-state==0.1.0``; the optional
extra ``neurobias[brainpy]``) is imported only when a function of this module
is called (about 1.5 s).  Every call switches JAX to float64 *for the whole
process* (``jax.config.update("jax_enable_x64", True)`` and
``brainpy.math.enable_x64()``, which also makes float64 BrainPy's default
float type): the bridge is exact only in float64.

* :func:`to_brainpy`: one context of a circuit as a BrainPy
  ``DynamicalSystem`` (:func:`network_class`) that ``bp.DSRunner`` runs,
  with monitors ``x``, ``r``, ``z``, and BrainPy can train further (the tonic
  input is its only ``TrainVar``).  Trajectories equal those of
  :func:`neurobias.simulate` to float64 rounding (tested to 1e-10) for every
  ``phi``, both forms and both integrators.
* :func:`from_brainpy`: back to a :class:`~neurobias.Circuit` and a tonic
  input, for the models :func:`to_brainpy` makes and for BrainPy's
  ``RNNCell`` and ``Reservoir`` (see its docstring for exactly which).
* :func:`slow_point_finder`: BrainPy's ``SlowPointFinder`` (Adam on the mean
  squared speed) on the neurobias vector field, returning the Dataset of
  :func:`neurobias.analysis.find_fixed_points` (``attrs["engine"] = "brainpy"``).
* :func:`jax_dynamics`: the circuit's :class:`~neurobias.circuit.Dynamics`
  with JAX arrays, the vector field the three functions above use; it equals
  the torch one of :meth:`neurobias.Circuit.dynamics` (tested to 1e-10).

A *fixed point* is ``F(x) = 0`` for the flow, as in
:func:`~neurobias.analysis.find_fixed_points`; BrainPy's ``SlowPointFinder``
is run with ``f_type="continuous"`` on that same ``F``.
"""
from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
import xarray as xr

from neurobias.analysis.fixed_points import (
    classify_states,
    initial_candidates,
    resolve_initial_states,
    resolve_inputs,
)
from neurobias.circuit.circuit import Circuit, check_circuit
from neurobias.circuit.dynamics import METHODS, Dynamics
from neurobias.circuit.nonlinearity import PHI_NAMES, Nonlinearity, get_phi
from neurobias.circuit.simulate import resolve_tonic
from neurobias.errors import InputError, check_finite, check_number, check_positive, check_shape

__all__ = [
    "to_brainpy",
    "from_brainpy",
    "slow_point_finder",
    "jax_dynamics",
    "enable_x64",
    "network_class",
    "REQUIREMENTS",
    "ENGINE_METHOD",
]

REQUIREMENTS: tuple[str, ...] = ("brainpy>=2.8,<2.9", "brainpy-state==0.1.0")
ENGINE_METHOD = (
    "brainpy.analysis.SlowPointFinder.find_fps_with_gd_method "
    "(Adam on mean_i F_i(x)^2, f_type='continuous') from the given candidates"
)
# neurobias integrator name -> BrainPy odeint method
_BP_METHODS: dict[str, str] = {"euler": "euler", "exp_euler": "exp_euler"}
_NETWORK_CLASS: Any = None


# --------------------------------------------------------------------------- lazy BrainPy / JAX
def _brainpy() -> tuple[Any, Any]:
    """Import BrainPy, switch JAX to float64 (globally) and return ``(brainpy, brainpy.math)``."""
    try:
        import jax
        import brainpy as bp
        import brainpy.math as bm
    except ImportError as exc:
        raise ImportError(
            f"the BrainPy bridge needs {' and '.join(REQUIREMENTS)}: "
            f"pip install 'neurobias[brainpy]' ({exc})"
        ) from exc
    jax.config.update("jax_enable_x64", True)
    bm.enable_x64()
    return bp, bm


def enable_x64() -> None:
    """Import BrainPy and switch JAX (and BrainPy's default float type) to float64, for the whole process.

    Every function of this module calls it; call it yourself before making
    JAX arrays for :func:`jax_dynamics` or a model of :func:`to_brainpy`
    (arrays made while JAX was in float32 stay float32).
    """
    _brainpy()


def _softplus(x: Any) -> Any:
    """``softplus`` exactly as torch computes it: ``x`` above 20, else ``log1p(exp(x))``."""
    import jax.numpy as jnp

    return jnp.where(x > 20.0, x, jnp.log1p(jnp.exp(jnp.minimum(x, 20.0))))


def _jax_phi(name: str) -> Callable[[Any], Any]:
    """The JAX version of the transfer function ``name`` (same values as the torch one)."""
    import jax
    import jax.numpy as jnp

    table: dict[str, Callable[[Any], Any]] = {
        "tanh": jnp.tanh,
        "relu": jax.nn.relu,
        "softplus": _softplus,
        "sigmoid": jax.nn.sigmoid,
        "linear": lambda x: x,
    }
    get_phi(name)  # a clear error for unknown names
    if name not in table:
        raise InputError(
            f"`phi` {name!r} has no JAX version in the BrainPy bridge (it knows {', '.join(table)}); "
            f"add one to neurobias.backends.brainpy._jax_phi"
        )
    return table[name]


@functools.lru_cache(maxsize=None)
def _jax_nonlinearity(name: str) -> Nonlinearity:
    """``phi`` and ``phi'`` in JAX (the derivative by forward-mode differentiation, elementwise)."""
    import jax
    import jax.numpy as jnp

    fn = _jax_phi(name)
    return Nonlinearity(name, fn, lambda x: jax.jvp(fn, (x,), (jnp.ones_like(x),))[1])


def jax_dynamics(circuit: Circuit, *, W_rec: Any = None) -> Dynamics:
    """The circuit's :class:`~neurobias.circuit.Dynamics` in JAX (float64): the vector field BrainPy runs.

    ``jax_dynamics(circuit).vector_field(x, ext)`` is ``F(x) = (-x + A(x)) /
    tau`` (state units per ms) with ``x`` and ``ext = W_in u + b`` JAX arrays
    of shape (..., unit): the same formula as the torch one of
    :meth:`neurobias.Circuit.dynamics` (tested to 1e-10), pure and traceable
    (``jax.jit``, ``jax.grad``); ``drive``, ``rates`` and ``readout`` work the
    same way.  Switches JAX to float64 (see :func:`enable_x64`).

    Parameters
    ----------
    circuit : Circuit
    W_rec : jax array of shape (unit, unit), optional
        The recurrent weights to use (default the circuit's, as a float64 JAX array).

    Returns
    -------
    Dynamics
        With a JAX ``W_rec`` and a JAX :class:`~neurobias.circuit.Nonlinearity`.

    Raises
    ------
    InputError
        For a ``phi`` without a JAX version.
    """
    _brainpy()
    import jax.numpy as jnp

    circuit = check_circuit(circuit)
    W = jnp.asarray(circuit.W_rec, dtype=jnp.float64) if W_rec is None else W_rec
    return Dynamics(W_rec=W, tau=circuit.tau, phi=_jax_nonlinearity(circuit.phi), form=circuit.form)


# --------------------------------------------------------------------------- checks
def _one_context(circuit: Circuit, tonic: Any, context: str | int | None) -> tuple[np.ndarray, str]:
    """The tonic input of one context, shape (unit,), and its name."""
    bank, names = resolve_tonic(tonic, circuit.n_units)
    if context is None:
        if bank.shape[0] != 1:
            raise InputError(
                f"`context` must name one of the {bank.shape[0]} contexts of `tonic` {list(names)} "
                f"(a BrainPy model holds one tonic input); got None"
            )
        return bank[0], names[0]
    if isinstance(context, (int, np.integer)) and not isinstance(context, bool):
        if not 0 <= int(context) < bank.shape[0]:
            raise InputError(f"`context` index must be in 0..{bank.shape[0] - 1}; got {context}")
        return bank[int(context)], names[int(context)]
    if str(context) not in names:
        raise InputError(f"`context` {context!r} is not one of the contexts of `tonic` {list(names)}")
    i = names.index(str(context))
    return bank[i], names[i]


def _vector(name: str, value: Any, n: int, dims: str) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    check_shape(name, arr, (n,), dims=dims)
    check_finite(name, arr)
    return arr


# --------------------------------------------------------------------------- the BrainPy model
def network_class() -> type:
    """The BrainPy class of the models :func:`to_brainpy` makes (built on first use).

    ``NeurobiasRateNetwork(bp.DynamicalSystem)``: one context of a neurobias
    circuit.  Attributes:

    * ``W_rec (unit, unit)``, ``W_in (unit, input)``, ``W_out (output, unit)``,
      ``b_out (output,)``: fixed arrays (``bm.asarray``, not Variables), in
      neurobias's convention (``W_rec[i, j]`` is from unit ``j`` onto ``i``);
    * ``tonic (unit,)``: the tonic input, a ``bm.TrainVar`` (the only one);
    * ``u_const (input,)``: the constant input used when ``update()`` gets none;
    * ``x0 (unit,)``: the initial state (``reset_state`` returns to it);
    * state ``bm.Variable`` s ``x`` (unit,) (currents for ``form="current"``,
      rates for ``form="rate"``), ``r = phi(x)`` (or ``x``) and
      ``z = W_out r + b_out`` (output,), each with a leading batch axis in a
      batching mode;
    * ``circuit``: the neurobias :class:`~neurobias.Circuit` it was made from
      (``dynamics()`` is its vector field in JAX, with this model's ``W_rec``);
    * ``tau`` (ms), ``phi``, ``form``, ``input_names``, ``output_names``,
      ``seed``, ``connectivity``: the circuit's, for reading; ``method``,
      ``dt`` (the step of the neurobias run it mirrors, ms), ``context``.

    ``update(u=None)`` makes one step of length ``bp.share['dt']`` (the
    runner's ``dt``) with ``bp.odeint(method=...)`` on
    ``dx/dt = (-x + A) / tau``, where the drive ``A = A(x)`` (recurrent plus
    external input) is evaluated at the start of the step and passed to the
    integrator as a parameter, and returns ``z``.
    """
    global _NETWORK_CLASS
    if _NETWORK_CLASS is None:
        _NETWORK_CLASS = _build_network_class()
    return _NETWORK_CLASS


def _build_network_class() -> type:
    bp, bm = _brainpy()
    import jax.numpy as jnp
    from brainpy.initialize import variable_

    class NeurobiasRateNetwork(bp.DynamicalSystem):
        """One context of a neurobias rate circuit as a BrainPy dynamical system (see :func:`network_class`)."""

        def __init__(
            self, *, circuit: Circuit, tonic: np.ndarray, u_const: np.ndarray, x0: np.ndarray, method: str,
            dt: float, context: str, mode: Any = None, name: str | None = None,
        ) -> None:
            super().__init__(mode=mode, name=name)
            self.circuit = circuit
            self.num = circuit.n_units
            self.W_rec = bm.asarray(circuit.W_rec)
            self.W_in = bm.asarray(circuit.W_in)
            self.W_out = bm.asarray(circuit.W_out)
            self.b_out = bm.asarray(circuit.b_out)
            self.tonic = bm.TrainVar(bm.asarray(np.asarray(tonic, dtype=np.float64)))
            self.u_const = bm.asarray(np.asarray(u_const, dtype=np.float64))
            self.x0 = bm.asarray(np.asarray(x0, dtype=np.float64))
            self.tau, self.phi, self.form = circuit.tau, circuit.phi, circuit.form
            self.method = str(method)
            self.dt = float(dt)
            self.context = str(context)
            self.input_names, self.output_names = circuit.input_names, circuit.output_names
            self.seed, self.connectivity = circuit.seed, circuit.connectivity
            self.integral = bp.odeint(self.derivative, method=_BP_METHODS[self.method], dt=self.dt)
            self.x = variable_(self._init_x, (self.num,), self.mode)
            self.r = variable_(self._init_r, (self.num,), self.mode)
            self.z = variable_(self._init_z, (int(self.W_out.shape[0]),), self.mode)

        # initial values, broadcast to the (possibly batched) shape
        def _init_x(self, shape: Sequence[int]) -> Any:
            return jnp.broadcast_to(bm.as_jax(self.x0), tuple(shape))

        def dynamics(self) -> Dynamics:
            """The vector field of this model (JAX arrays)."""
            return jax_dynamics(self.circuit, W_rec=bm.as_jax(self.W_rec))

        def _rates(self, x: Any) -> Any:
            return self.dynamics().rates(x)

        def _init_r(self, shape: Sequence[int]) -> Any:
            return jnp.broadcast_to(self._rates(bm.as_jax(self.x0)), tuple(shape))

        def _init_z(self, shape: Sequence[int]) -> Any:
            z = self.dynamics().readout(bm.as_jax(self.x0), bm.as_jax(self.W_out), bm.as_jax(self.b_out))
            return jnp.broadcast_to(z, tuple(shape))

        def reset_state(self, batch_or_mode: Any = None, **kwargs: Any) -> None:
            if batch_or_mode is None:
                batch_or_mode = kwargs.get("batch_size", None)
            self.x.value = variable_(self._init_x, (self.num,), batch_or_mode).value
            self.r.value = variable_(self._init_r, (self.num,), batch_or_mode).value
            self.z.value = variable_(self._init_z, (int(self.W_out.shape[0]),), batch_or_mode).value

        def derivative(self, x: Any, t: Any, A: Any) -> Any:
            """``dx/dt = (-x + A) / tau`` with the drive ``A`` held fixed over the step."""
            return (-x + A) / self.tau

        def external(self, u: Any = None) -> Any:
            """The external drive ``W_in u + tonic``, shape (unit,) or (batch, unit)."""
            ext = self.tonic.value
            u = bm.as_jax(self.u_const) if u is None else bm.as_jax(u)
            if self.W_in.shape[1]:
                ext = ext + u @ bm.as_jax(self.W_in).T
            return ext

        def vector_field(self, x: Any, u: Any = None) -> Any:
            """``F(x)`` at input ``u`` (default ``u_const``), state units per ms."""
            return self.dynamics().vector_field(bm.as_jax(x), self.external(u))

        def update(self, u: Any = None) -> Any:
            dt = bp.share["dt"]
            t = bp.share.load("t", 0.0)
            x = self.x.value
            A = self.dynamics().drive(x, self.external(u))
            x_new = self.integral(x, t, A, dt=dt)
            r = self._rates(x_new)
            self.x.value = x_new
            self.r.value = r
            self.z.value = r @ bm.as_jax(self.W_out).T + bm.as_jax(self.b_out)
            return self.z.value

    return NeurobiasRateNetwork


def to_brainpy(
    circuit: Circuit,
    tonic: Any,
    *,
    context: str | int | None = None,
    inputs: Any = None,
    x0: Any = None,
    dt: float = 1.0,
    method: str = "euler",
    mode: Any = None,
    name: str | None = None,
) -> Any:
    """One context of a circuit as a BrainPy ``DynamicalSystem`` (see :func:`network_class`).

    The model integrates ``tau dx/dt = -x + A(x)`` with the drive
    ``A = W_rec phi(x) + W_in u + b`` (``form="current"``) or
    ``A = phi(W_rec x + W_in u + b)`` (``form="rate"``), ``b`` the context's
    tonic input, exactly as :func:`neurobias.simulate`.  Run it with::

        runner = bp.DSRunner(model, monitors=["x", "r", "z"], dt=model.dt)
        runner.run(inputs=u)          # u of shape (time, input); or runner.run(duration)

    ``runner.mon["x"][k]`` is the state after step ``k + 1``, i.e.
    ``simulate(...).x[..., k, :]`` (neurobias's time axis starts at ``dt``,
    BrainPy's ``runner.mon.ts`` at 0).  The step is the runner's ``dt``
    (``bp.share["dt"]``): give ``dt=model.dt`` to mirror the neurobias run.

    Integrators: ``method="euler"`` is BrainPy's ``odeint(method="euler")``,
    ``x + dt F(x)``.  ``method="exp_euler"`` is BrainPy's exponential Euler
    (``odeint(method="exp_euler")``): it advances ``dx/dt = f(x)`` by
    ``x + dt exprel(dt l) f(x)`` where ``l = d(sum f)/dx`` is found by
    autodiff of the derivative function with respect to its state argument.
    The model passes the drive ``A(x)``, evaluated at the start of the step,
    to the derivative function as a parameter, so ``l = -1/tau`` exactly and
    the step is ``x + tau (1 - exp(-dt/tau)) F(x)``: neurobias's
    ``exp_euler`` (exact for the leak).  (Had the recurrent term been written
    inside the derivative function, BrainPy would take ``l`` as the column
    sums of the Jacobian, ``(-1 + phi'(x_j) sum_i W_ij)/tau`` for the current
    form, a different scheme.)  Both agree with neurobias to float64
    rounding (tested to 1e-10).

    Training in BrainPy: ``model.train_vars()`` holds only ``tonic`` (the
    weights are fixed arrays, so gradients are never taken with respect to
    them): bias-only training, as neurobias's ``bias`` mode.

    Parameters
    ----------
    circuit : Circuit
    tonic : array_like of shape (context, unit) or (unit,), DataArray or Dataset
        Tonic input bank (anything :func:`neurobias.circuit.simulate.resolve_tonic`
        accepts), state units.
    context : str or int, optional
        The context to take (name or position); required when the bank has
        more than one.
    inputs : array_like of shape (input,), optional
        Constant input used when ``update()`` is called without one (default
        zeros); e.g. for BrainPy's ``SlowPointFinder`` on the model.
    x0 : array_like of shape (unit,), optional
        Initial state (default zeros, as in :func:`neurobias.simulate`).
    dt : float
        Step (ms) the model is meant to run with; stored as ``model.dt`` and
        used as the integrator's default step.
    method : {"euler", "exp_euler"}
    mode : brainpy.math.Mode, optional
        BrainPy computing mode (e.g. ``bm.BatchingMode(batch_size)``;
        default non-batching).
    name : str, optional
        BrainPy node name.

    Returns
    -------
    NeurobiasRateNetwork
        A ``brainpy.DynamicalSystem``.

    Raises
    ------
    InputError
        Naming the offending argument.
    ImportError
        If BrainPy is not installed.
    """
    circuit = check_circuit(circuit)
    if method not in METHODS:
        raise InputError(f"`method` must be one of {', '.join(METHODS)}; got {method!r}")
    dt = check_positive("dt", dt)
    n = circuit.n_units
    b, ctx_name = _one_context(circuit, tonic, context)
    u = np.zeros(circuit.n_inputs) if inputs is None else _vector(
        "inputs", inputs, circuit.n_inputs, "(input,)")
    x_init = np.zeros(n) if x0 is None else _vector("x0", x0, n, "(unit,)")
    _jax_phi(circuit.phi)  # fail early for a phi without a JAX version
    cls = network_class()
    return cls(circuit=circuit, tonic=b, u_const=u, x0=x_init, method=method, dt=dt, context=ctx_name, mode=mode,
               name=name)


# --------------------------------------------------------------------------- back from BrainPy
def _values(a: Any) -> np.ndarray:
    """A BrainPy array, Variable or jax array as a float64 numpy copy."""
    import brainpy.math as bm

    return np.array(bm.as_numpy(a.value if isinstance(a, bm.Variable) else a), dtype=np.float64)


def _identify_phi(fn: Any, where: str) -> str:
    """The neurobias ``phi`` equal to the elementwise activation ``fn`` (checked on a grid), or InputError."""
    import jax.numpy as jnp

    grid = np.concatenate([np.linspace(-12.0, 12.0, 241), [-30.0, 30.0]])
    try:
        got = np.asarray(fn(jnp.asarray(grid)), dtype=np.float64)
    except Exception as exc:  # noqa: BLE001 - any failure means we cannot use it
        raise InputError(f"{where}: cannot evaluate the activation {fn!r} ({exc})") from None
    if got.shape == grid.shape:
        for name in PHI_NAMES:
            want = get_phi(name).fn(torch.as_tensor(grid)).numpy()
            if np.allclose(got, want, rtol=0.0, atol=1e-9):
                return name
    raise InputError(
        f"{where}: the activation {getattr(fn, '__name__', fn)!r} is none of neurobias's transfer functions "
        f"({', '.join(PHI_NAMES)})"
    )


def from_brainpy(model: Any, *, dt: float = 1.0, connectivity: str | None = None) -> tuple[Circuit, np.ndarray]:
    """A neurobias circuit and tonic input from a BrainPy rate network with dense weights.

    Supported models, exactly:

    1. The models of :func:`to_brainpy` (``NeurobiasRateNetwork``): every
       field comes back (weights, ``tau``, ``phi``, ``form``, names, seed,
       connectivity label) and the
       tonic input is the current value of ``model.tonic`` (trained values
       included).  ``dt`` is ignored.
    2. ``brainpy.dyn.RNNCell`` (``h_t = act(x_t Wi + h_{t-1} Wh + b)``):
       the rate form stepped with Euler at ``dt = tau``, so the circuit has
       ``form="rate"``, ``W_rec = Wh^T``, ``W_in = Wi^T``, tonic ``b`` (zeros
       if ``b`` is None), ``tau = dt``, and ``simulate(circuit, tonic,
       dt=dt)`` reproduces the cell step by step.
    3. ``brainpy.dyn.Reservoir`` with ``activation_type="internal"``, dense
       weights (``comp_type="dense"``), no noise (``noise_in = noise_rec =
       0``), a 1-D input and ``leaky_rate > 0``
       (``r <- (1 - a) r + a act(u Win + r Wrec + bias)``): the rate form
       stepped with Euler at ``dt = a tau``, so ``tau = dt / a``,
       ``W_rec = Wrec^T``, ``W_in = Win^T``, tonic ``bias``.

    For 2 and 3 the activation must equal one of neurobias's transfer
    functions (``tanh``, ``relu``, ``softplus``, ``sigmoid``, ``linear``;
    checked numerically on a grid, so a user's own ``tanh`` works too), the
    circuit has no readout (``W_out`` of shape (0, unit)), and weights held in
    Variables or ``TrainVar`` s (training mode) are copied at their current
    values.  Anything else (GRU/LSTM cells, sparse or just-in-time
    connectivity, spiking networks, networks of several nodes) raises
    :class:`~neurobias.InputError`.

    Parameters
    ----------
    model : brainpy.DynamicalSystem
    dt : float
        For ``RNNCell`` and ``Reservoir``: the step in ms that one BrainPy
        update stands for (default 1 ms); it sets ``tau``.
    connectivity : str, optional
        Label for the circuit (default ``"brainpy.<class name>"``, or the
        original label for models of :func:`to_brainpy`).

    Returns
    -------
    circuit : Circuit
    tonic : ndarray of shape (unit,)
    """
    bp, bm = _brainpy()
    cls = network_class()
    dt = check_positive("dt", dt)
    if isinstance(model, cls):
        circuit = model.circuit.replace(
            W_rec=_values(model.W_rec), W_in=_values(model.W_in), W_out=_values(model.W_out),
            b_out=_values(model.b_out), connectivity=connectivity or model.circuit.connectivity,
        )
        return circuit, _values(model.tonic)
    kind = type(model).__name__
    label = connectivity or f"brainpy.{kind}"
    if isinstance(model, bp.dyn.RNNCell):
        phi = _identify_phi(model.activation, "RNNCell")
        Wh, Wi = _values(model.Wh), _values(model.Wi)
        b = np.zeros(Wh.shape[0]) if model.b is None else _values(model.b).reshape(-1)
        circuit = Circuit.from_arrays(W_rec=Wh.T, W_in=Wi.T, tau=dt, phi=phi, form="rate", connectivity=label)
        return circuit, b
    if isinstance(model, bp.dyn.Reservoir):
        problems = []
        if model.activation_type != "internal":
            problems.append(f"activation_type={model.activation_type!r} (only 'internal' is a neurobias form)")
        if model.comp_type != "dense":
            problems.append(f"comp_type={model.comp_type!r} (only 'dense')")
        if model.noise_ff != 0 or model.noise_rec != 0:
            problems.append("noise_in/noise_rec > 0 (only noiseless reservoirs)")
        if len(model.input_shape) != 1:
            problems.append(f"input_shape={model.input_shape} (only 1-D inputs)")
        if not model.leaky_rate > 0:
            problems.append(f"leaky_rate={model.leaky_rate} (must be > 0)")
        if problems:
            raise InputError("Reservoir not supported by from_brainpy: " + "; ".join(problems))
        phi = _identify_phi(model.activation, "Reservoir")
        Wrec, Win = _values(model.Wrec), _values(model.Win)
        b = np.zeros(Wrec.shape[0]) if model.bias is None else _values(model.bias).reshape(-1)
        circuit = Circuit.from_arrays(W_rec=Wrec.T, W_in=Win.T, tau=dt / float(model.leaky_rate), phi=phi,
                                      form="rate", connectivity=label)
        return circuit, b
    raise InputError(
        f"`model` must be a network made by to_brainpy, a brainpy.dyn.RNNCell or a dense, noiseless "
        f"brainpy.dyn.Reservoir with activation_type='internal'; got {kind}"
    )


# --------------------------------------------------------------------------- slow points
def slow_point_finder(
    circuit: Circuit,
    tonic: Any,
    *,
    contexts: Sequence[str] | None = None,
    inputs: Any = None,
    initial_states: Any = None,
    n_candidates: int = 0,
    seed: int = 0,
    n_iter: int = 20000,
    lr: float = 0.2,
    lr_decay: float = 0.9999,
    num_batch: int = 1000,
    stop_loss: float | None = None,
    dtype: str = "float64",
    tol: float = 1e-10,
    slow_q: float = 1e-6,
    merge_tol: float = 1e-6,
    n_modes: int | None = None,
    eigenvectors: bool = False,
    progress: bool = False,
) -> xr.Dataset:
    """Fixed and slow points found by BrainPy's ``SlowPointFinder``, in the layout of ``find_fixed_points``.

    For each context, ``brainpy.analysis.SlowPointFinder(f_cell,
    f_type="continuous")`` with ``f_cell(x) = F(x)`` (:func:`jax_dynamics`
    at the context's drive ``W_in u + b_c``) runs
    ``find_fps_with_gd_method``: Adam (``beta1 = 0.9``, ``beta2 = 0.999``,
    ``eps = 1e-8``, learning rate ``lr * lr_decay**step``, BrainPy's
    defaults) on the loss ``mean over candidates of mean_i F_i(x)^2``, for
    ``n_iter`` steps or until that loss falls below ``stop_loss`` (checked
    every ``num_batch`` steps).  BrainPy's own filters (``filter_loss``,
    ``keep_unique``, ``exclude_outliers``) are not used; instead every final
    state is judged exactly as :func:`~neurobias.analysis.find_fixed_points`
    judges its candidates, with neurobias's float64 torch
    :func:`~neurobias.circuit.dynamics.vector_field`: ``max|F| <= tol`` is a
    fixed point (``kind="fixed"``), otherwise ``q = |F|^2/2 <= slow_q`` a slow
    point (``kind="slow"``), otherwise a failure (counted in
    ``n_failed``); duplicates are merged with the same tolerance and the same
    helpers, and spectra, ``index``, ``stability`` and ``oscillatory`` come
    from the same code.  Nothing is polished by Newton: residuals are
    BrainPy's.

    Parameters
    ----------
    circuit : Circuit
    tonic : array_like of shape (context, unit) or (unit,), DataArray or Dataset
    contexts : sequence of str, optional
        Names for, or a selection from, the contexts of ``tonic``.
    inputs : array_like of shape (input,) or (context, input), optional
        Constant input (default zero).
    initial_states : array_like of shape (n, unit) or (context, n, unit), optional
        Starting states (the same array ``find_fixed_points`` accepts).
    n_candidates : int
        Extra starting states per context from neurobias's first-round
        generator (:func:`neurobias.analysis.initial_candidates`, with ``seed``); at least one
        of ``initial_states`` and ``n_candidates`` must give some.
    seed : int
        Seed of the generated candidates (the descent itself is deterministic).
    n_iter : int
        Adam steps (BrainPy's ``num_opt``); BrainPy runs whole batches, so
        this is rounded up to a multiple of ``num_batch`` (the attribute
        ``iterations_run`` says how many ran).
    lr, lr_decay : float
        Initial learning rate (state units) and its decay per step.
    num_batch : int
        Steps per batch; BrainPy checks ``stop_loss`` and prints after each.
        BrainPy 2.8 traces and compiles its loop again for every batch (about
        1 s each on a 2-core CPU), so its own default of 100 spends most of
        a 20,000-step run compiling; 1000 keeps that overhead small.
    stop_loss : float, optional
        BrainPy's ``tolerance`` on the mean loss (default ``tol**2``, the
        largest value at which every candidate could already satisfy ``max|F|
        <= tol``; in practice the descent runs ``n_iter`` steps).
    dtype : {"float64", "float32"}
        Precision of BrainPy's descent (the judging is always float64).
        ``"float32"`` is BrainPy's own default precision: its residuals stop
        near 1e-8 (state units per ms), so with ``tol = 1e-10`` its points
        come back as slow points.
    tol, slow_q, merge_tol, n_modes, eigenvectors
        As in :func:`~neurobias.analysis.find_fixed_points`.
    progress : bool
        Let BrainPy print its progress.

    Returns
    -------
    xarray.Dataset
        The layout of :func:`~neurobias.analysis.find_fixed_points` (flat
        ``fp`` dimension with a ``context`` coordinate, ``x``, ``r``,
        ``residual``, ``q``, ``eig_real``, ``eig_imag``, ``index``,
        ``stability``, ``oscillatory``, ``kind``, ``n_hits``, ``source``),
        valid for the schema kind ``fixed_points``; attributes as there plus
        ``engine = "brainpy"``, ``brainpy_version``, ``n_iter``, ``lr``,
        ``lr_decay``, ``num_batch``, ``stop_loss``, ``dtype``, ``iterations_run`` and
        ``wall_time_s`` (per context, aligned with ``contexts``).  ``seed``
        is -1 when no candidates were generated.

    Raises
    ------
    InputError
        Naming the offending argument.
    ImportError
        If BrainPy is not installed.
    """
    circuit = check_circuit(circuit)
    N = circuit.n_units
    n_candidates = check_number("n_candidates", n_candidates, ge=0, integer=True)
    seed = check_number("seed", seed, ge=0, integer=True)
    n_iter = check_number("n_iter", n_iter, ge=1, integer=True)
    num_batch = min(check_number("num_batch", num_batch, ge=1, integer=True), n_iter)
    lr = check_positive("lr", lr)
    lr_decay = check_positive("lr_decay", lr_decay)
    tol = check_positive("tol", tol)
    slow_q = check_positive("slow_q", slow_q)
    merge_tol = check_positive("merge_tol", merge_tol)
    stop_loss = tol * tol if stop_loss is None else check_positive("stop_loss", stop_loss)
    if dtype not in ("float64", "float32"):
        raise InputError(f"`dtype` must be 'float64' or 'float32'; got {dtype!r}")
    if n_modes is None:
        n_modes = min(8, N)
    elif isinstance(n_modes, bool) or not isinstance(n_modes, (int, np.integer)) or not 0 <= n_modes <= N:
        raise InputError(f"`n_modes` must be an integer in 0..{N}; got {n_modes!r}")
    bank, names = resolve_tonic(tonic, N, contexts)
    C = bank.shape[0]
    u = resolve_inputs(inputs, C, circuit.n_inputs)
    user = resolve_initial_states(initial_states, C, N)
    if n_candidates == 0 and user.shape[1] == 0:
        raise InputError("give `initial_states` of shape (n, unit) or (context, n, unit), or `n_candidates` >= 1")
    _jax_phi(circuit.phi)
    starts = [user]
    sources = [np.full(user.shape[1], "user")]
    if n_candidates:
        gen = initial_candidates(circuit, bank, contexts=names, inputs=u, n_candidates=n_candidates, seed=seed)
        starts.append(gen.values)
        sources.append(gen["source"].values)
    x_start = np.concatenate(starts, axis=1)  # (C, n, N)
    ext = u @ circuit.W_in.T + bank

    bp, bm = _brainpy()
    import jax.numpy as jnp

    dyn = jax_dynamics(circuit, W_rec=jnp.asarray(circuit.W_rec, dtype=dtype))
    finals = np.zeros_like(x_start)
    iterations = np.zeros(C, dtype=np.int64)
    walls = np.zeros(C)
    for c in range(C):
        ext_c = jnp.asarray(ext[c], dtype=dtype)

        def f_cell(x: Any, ext_c: Any = ext_c) -> Any:
            return dyn.vector_field(x, ext_c)

        t0 = time.perf_counter()
        finder = bp.analysis.SlowPointFinder(f_cell=f_cell, f_type="continuous", verbose=progress)
        optimizer = bp.optim.Adam(lr=bp.optim.ExponentialDecayLR(lr, 1, lr_decay), beta1=0.9, beta2=0.999,
                                  eps=1e-8)
        finder.find_fps_with_gd_method(candidates=jnp.asarray(x_start[c], dtype=dtype), tolerance=stop_loss,
                                       num_batch=num_batch, num_opt=n_iter, optimizer=optimizer)
        finals[c] = np.asarray(finder.fixed_points, dtype=np.float64)
        walls[c] = time.perf_counter() - t0
        iterations[c] = int(np.asarray(finder.opt_losses).shape[0])

    states = xr.DataArray(finals, dims=("context", "candidate", "unit"),
                          coords={"source": ("candidate", np.concatenate(sources).astype(str))})
    ds = classify_states(circuit, bank, states, contexts=names, inputs=u, tol=tol, slow_q=slow_q,
                         merge_tol=merge_tol, n_modes=n_modes, eigenvectors=eigenvectors,
                         seed=seed if n_candidates else -1)
    ds.attrs.update({
        "engine": "brainpy",
        "method": ENGINE_METHOD,
        "brainpy_version": str(bp.__version__),
        "n_iter": n_iter,
        "lr": lr,
        "lr_decay": lr_decay,
        "num_batch": num_batch,
        "stop_loss": stop_loss,
        "dtype": dtype,
        "iterations_run": iterations,
        "wall_time_s": walls,
    })
    return ds

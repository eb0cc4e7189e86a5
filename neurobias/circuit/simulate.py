"""Simulation: the differentiable integrator and the xarray-returning :func:`simulate`."""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import torch
import xarray as xr
from torch import Tensor

from neurobias.circuit.circuit import Circuit, check_circuit, torch_dtype
from neurobias.circuit.dynamics import METHODS, Dynamics, noise_scale, step_fraction
from neurobias.circuit.threads import CPU_THREADS, one_thread
from neurobias.errors import InputError, check_choice, check_device, check_finite, check_number, describe_shape

__all__ = ["integrate", "simulate", "resolve_tonic", "resolve_device", "new_seed", "choose_engine", "ENGINES",
           "JAX_MIN_UNITS", "JAX_MIN_WORK"]

#: the loops :func:`simulate` can run: ``"auto"`` picks one of the other two (:func:`choose_engine`)
ENGINES: tuple[str, ...] = ("auto", "torch", "jax")
#: fewest units for which ``engine="auto"`` picks JAX (see :func:`choose_engine`): the smallest circuit at which
#: XLA's compiled loop was measured faster than torch's (``benchmarks/engine_choice.py``, docs/performance.md)
JAX_MIN_UNITS = 64
#: least work, ``rows x units^2 x steps`` multiply-adds, for which ``engine="auto"`` picks JAX.  Measured on 2
#: shared cores (``benchmarks/engine_choice.py``, table in docs/performance.md): XLA's compiled loop was faster
#: than torch's at every size measured (0.4x to 0.95x its time), and compiling a new shape costs about 0.3 s.
#: From 4e9 torch takes about 0.3 s or more, so a first call costs at most about 1.6x torch's time and later
#: ones less; below, a first call would cost several times torch's time to save under 0.1 s per later call
JAX_MIN_WORK = 4_000_000_000


def new_seed() -> int:
    """A fresh non-negative seed from OS entropy (recorded so the run can be repeated)."""
    return int(np.random.SeedSequence().entropy % (2**63))


def resolve_device(device: str | torch.device) -> torch.device:
    """Check a device argument: ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or a :class:`torch.device`.

    Raises
    ------
    InputError
        Another name, or a CUDA device on a machine (or torch build) without CUDA.
    """
    dev = torch.device(check_device(device))
    if dev.type == "cuda":
        if torch.version.cuda is None:  # a CPU-only build of torch: no GPU can be used until torch is replaced
            raise InputError(
                f"`device` is {str(device)!r} but CUDA is not available: torch {torch.__version__} here is a "
                "CPU-only build; install a CUDA "
                f"build with `pip install torch=={torch.__version__.split('+')[0]} --index-url "
                "https://download.pytorch.org/whl/cuXYZ` (XYZ: a CUDA version your NVIDIA driver supports, as "
                "listed on https://pytorch.org/get-started/locally/), or use device='cpu'")
        if not torch.cuda.is_available():
            raise InputError(f"`device` is {str(device)!r} but CUDA is not available to torch {torch.__version__} "
                             f"here; use device='cpu'")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise InputError(f"`device` {str(device)!r} does not exist: {torch.cuda.device_count()} CUDA device(s)")
    return dev


def _drive_sequence(ext: Tensor, batch_shape: torch.Size) -> tuple[Tensor, bool]:
    """The external drive as ``(time, batch, unit)`` (or one ``(batch, unit)`` when constant in time).

    Returns the tensor and whether it is constant in time.  Leading dims of
    size one stay size one (they broadcast in the fused matrix product), so a
    drive shared by the whole batch, or constant in time (a stride-0 time
    axis, as :func:`simulate` makes without inputs), is never copied per step.
    """
    n_time, n = ext.shape[-2], ext.shape[-1]
    lead = ext.shape[:-2]
    shared = all(d == 1 for d in lead)
    b = math.prod(batch_shape)
    if n_time == 1 or ext.stride(-2) == 0:
        first = ext[..., 0, :]
        return (first.reshape(1, n) if shared else first.expand(*batch_shape, n).reshape(b, n)), True
    if shared:
        return ext.reshape(n_time, 1, n), False
    return ext.expand(*batch_shape, n_time, n).movedim(-2, 0).reshape(n_time, b, n), False


def integrate(
    x0: Tensor,
    ext: Tensor,
    dynamics: Dynamics,
    *,
    dt: float,
    method: str = "euler",
    noise_std: float = 0.0,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Integrate the circuit; differentiable with respect to every tensor argument.

    Each step is ``x <- lerp(x, A(x), h)`` (:meth:`neurobias.circuit.Dynamics.step`):
    one fused matrix product with the external drive, one ``phi``, one
    ``lerp``.  When no argument requires a gradient (or under
    :func:`torch.no_grad`) the states are written into one preallocated tensor
    and autograd records nothing; otherwise the graph of every step is kept
    for backpropagation through time.

    Parameters
    ----------
    x0 : Tensor of shape (..., unit)
        Initial state at time 0.
    ext : Tensor of shape (..., time, unit)
        External drive ``W_in u_k + b`` applied during step ``k`` (from time
        ``k dt`` to ``(k + 1) dt``); leading dims broadcast with ``x0``.  A
        time axis of stride 0 (``b.expand(...)``) marks a constant drive.
    dynamics : Dynamics
        The vector field (:meth:`neurobias.Circuit.dynamics`, or one whose
        ``W_rec`` autograd tracks).
    dt : float
        Step in ms.
    method : {"euler", "exp_euler"}
        Integrator.
    noise_std : float
        Process noise in state units per sqrt(ms) (see
        :func:`neurobias.circuit.dynamics.noise_scale`).
    generator : torch.Generator, optional
        Source of the noise (required for reproducibility when ``noise_std > 0``).

    Returns
    -------
    Tensor of shape (..., time, unit)
        States at times ``dt, 2 dt, ..., T dt`` (the initial state is not
        included), contiguous.
    """
    x, _ = _integrate(x0, ext, dynamics, dt=dt, method=method, noise_std=noise_std, generator=generator,
                      keep_rates=False)
    return x


def _integrate(
    x0: Tensor, ext: Tensor, dyn: Dynamics, *, dt: float, method: str, noise_std: float,
    generator: torch.Generator | None, keep_rates: bool,
) -> tuple[Tensor, Tensor | None]:
    """:func:`integrate`, also returning the rates ``phi(x)`` (state not the rate, no autograd) when ``keep_rates``.

    The rates are those the steps compute anyway (``phi`` of each state feeds
    the next step's matrix product), so keeping them costs one copy per step
    instead of a second pass of ``phi`` over the trajectory.
    """
    h = step_fraction(dt=dt, tau=dyn.tau, method=method)
    sigma = noise_scale(dt=dt, tau=dyn.tau, noise_std=noise_std, method=method)
    n_time, n = ext.shape[-2], x0.shape[-1]
    batch_shape = torch.broadcast_shapes(x0.shape[:-1], ext.shape[:-2])
    b = math.prod(batch_shape)
    x = x0.expand(*batch_shape, n).reshape(b, n)
    if n_time == 0:
        return x.new_zeros((*batch_shape, 0, n)), None
    seq, constant = _drive_sequence(ext, batch_shape)
    grad = torch.is_grad_enabled() and any(t.requires_grad for t in (x0, ext, dyn.W_rec))
    if grad:
        # unbind, not seq[k]: the backward of T selections would zero-fill a (time, batch, unit) gradient
        # T times (O(T^2)); unbind's backward stacks the T gradients once
        drives = [seq] * n_time if constant else seq.unbind(0)
        states = []
        for e in drives:
            x = torch.lerp(x, dyn.drive(x, e), h)
            if sigma:
                x = x + sigma * torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
            states.append(x)
        return torch.stack(states, dim=1).reshape(*batch_shape, n_time, n), None
    out = torch.empty((b, n_time, n), dtype=x.dtype, device=x.device)
    rates = torch.empty_like(out) if keep_rates and not dyn.state_is_rate else None
    parts = _row_blocks(b, n, x.device, sigma)
    kw = dict(h=h, sigma=sigma, generator=generator)
    if len(parts) == 1:
        _steps_into(out, rates, x, seq, constant, dyn, **kw)
    else:  # rows are independent without noise: one Python thread per block (the ops release the GIL)
        from concurrent.futures import ThreadPoolExecutor

        def block(rows: slice) -> None:
            e = seq if seq.shape[-2] == 1 else seq[..., rows, :]
            # grad mode is per thread: a worker starts with it on even when the caller runs under no_grad
            with torch.no_grad():
                _steps_into(out[rows], None if rates is None else rates[rows], x[rows], e, constant, dyn, **kw)

        with ThreadPoolExecutor(len(parts)) as pool:
            list(pool.map(block, parts))
    if rates is not None:
        rates = rates.reshape(*batch_shape, n_time, n)
    return out.reshape(*batch_shape, n_time, n), rates


#: smallest work per step (rows x units^2 multiply-adds) worth a thread of its own
_MIN_BLOCK_WORK = 1 << 21


def _row_blocks(b: int, n: int, device: torch.device, sigma: float) -> list[slice]:
    """Blocks of batch rows to integrate in parallel Python threads (CPU, no noise, enough work), else one."""
    workers = min(CPU_THREADS, b * n * n // _MIN_BLOCK_WORK) if device.type == "cpu" and not sigma else 1
    if workers <= 1:
        return [slice(0, b)]
    edges = [round(i * b / workers) for i in range(workers + 1)]
    return [slice(lo, hi) for lo, hi in zip(edges[:-1], edges[1:])]


def _steps_into(out: Tensor, rates: Tensor | None, x: Tensor, seq: Tensor, constant: bool, dyn: Dynamics, *,
                h: float, sigma: float, generator: torch.Generator | None) -> None:
    """The step loop without autograd: states into ``out`` (rows, time, unit), rates ``phi(x)`` into ``rates``."""
    f = dyn.rates
    n_time = out.shape[1]
    for k in range(n_time):
        e = seq if constant else seq[k]
        r = None
        if rates is not None:
            r = f(x)
            if k > 0:
                rates[:, k - 1].copy_(r)
        x = torch.lerp(x, dyn.drive(x, e, rates=r), h, out=out[:, k])
        if sigma:
            x.add_(torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device), alpha=sigma)
    if rates is not None:
        rates[:, -1].copy_(f(x))


def resolve_tonic(
    tonic: Any, n_units: int, contexts: Sequence[str] | None = None
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Normalise a tonic-input bank to a float64 array of shape (context, unit) and context names.

    ``tonic`` may be an array of shape (context, unit) or (unit,) (one context),
    an :class:`xarray.DataArray` with dims ``(context, unit)`` (its ``context``
    coordinate gives the names), or a Dataset with a ``tonic`` variable (such as
    ``results.nc``).  ``contexts`` gives names, or selects contexts by name from a
    labelled bank.
    """
    if isinstance(contexts, (str, bytes)):
        raise InputError(f"`contexts` must be a sequence of context names such as [{contexts!r}]; got the string "
                         f"{contexts!r}")
    names: tuple[str, ...] | None = None
    if isinstance(tonic, xr.Dataset):
        if "tonic" not in tonic:
            raise InputError("`tonic` Dataset must contain a variable 'tonic' of dims (context, unit)")
        tonic = tonic["tonic"]
    if isinstance(tonic, xr.DataArray):
        if tonic.ndim == 1:
            tonic = tonic.expand_dims(context=["context0"])
        if set(tonic.dims) != {"context", "unit"}:
            raise InputError(f"`tonic` DataArray must have dims (context, unit); got {tonic.dims}")
        tonic = tonic.transpose("context", "unit")
        if "context" in tonic.coords:
            names = tuple(str(c) for c in tonic["context"].values)
            if contexts is not None:
                missing = [c for c in contexts if c not in names]
                if missing:
                    raise InputError(f"`contexts` names {missing} not in the tonic bank's contexts {list(names)}")
                tonic = tonic.sel(context=list(contexts))
                names = tuple(contexts)
        tonic = tonic.values
    arr = np.array(tonic, dtype=np.float64, copy=True)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != n_units:
        raise InputError(
            f"`tonic` must have shape (context, unit) = (n_contexts, {n_units}) or (unit,) = ({n_units},); "
            f"got {describe_shape(np.shape(tonic))}"
        )
    check_finite("tonic", arr)
    if names is None:
        if contexts is not None:
            names = tuple(str(c) for c in contexts)
            if len(names) != arr.shape[0]:
                raise InputError(f"`contexts` must name {arr.shape[0]} contexts; got {len(names)}")
        else:
            names = tuple(f"context{i}" for i in range(arr.shape[0]))
    if len(set(names)) != len(names):
        raise InputError(f"context names must be unique; got {list(names)}")
    return arr, names


def _expand(
    name: str, value: Any, shape_tail: tuple[int, ...], n_ctx: int, dims: str,
    given: tuple[int, ...] | None = None,
) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    tail_nd = len(shape_tail)
    if arr.ndim == tail_nd:
        arr = arr[None]
    if arr.ndim == tail_nd + 1:
        arr = np.broadcast_to(arr[None], (n_ctx, *arr.shape))
    ok = arr.ndim == tail_nd + 2 and arr.shape[0] == n_ctx and all(
        want < 0 or got == want for got, want in zip(arr.shape[2:], shape_tail)
    )
    if not ok:
        shape = np.shape(value) if given is None else given  # what the user passed, before broadcasting
        raise InputError(f"`{name}` must have shape {dims}; got {describe_shape(shape)}")
    check_finite(name, arr)
    return arr


def choose_engine(
    *, engine: str = "auto", n_units: int, n_rows: int, n_steps: int, noise_std: float = 0.0,
    device: str | torch.device = "cpu",
) -> str:
    """The loop :func:`simulate` runs: ``"torch"`` or ``"jax"``.

    ``engine="torch"`` and ``"jax"`` are checked and returned (``"jax"`` needs
    ``jax`` installed, a CPU ``device`` and no noise).  ``"auto"`` picks
    ``"jax"`` when all of these hold, else ``"torch"``:

    * ``device`` is the CPU (the JAX engine runs on the CPU only);
    * ``noise_std == 0`` (the JAX engine has no noise: the torch engine draws it
      from a seeded torch generator, whose stream JAX cannot reproduce);
    * ``jax`` can be imported;
    * ``n_units >= JAX_MIN_UNITS`` and ``n_rows * n_units**2 * n_steps >= JAX_MIN_WORK``
      (enough work for XLA's compiled loop to be the faster one and to win
      back its compilation for a new shape over repeated calls; thresholds
      measured by ``benchmarks/engine_choice.py``, see ``docs/performance.md``).

    The rule depends on the arguments only: the same call picks the same
    engine every time (the engines agree to rounding, not bit for bit).

    Parameters
    ----------
    engine : {"auto", "torch", "jax"}
    n_units : int
        Units of the circuit.
    n_rows : int
        Independent trajectories (contexts x trials).
    n_steps : int
        Time steps.
    noise_std : float
        Process noise, state units per sqrt(ms).
    device : str or torch.device

    Returns
    -------
    str
        ``"torch"`` or ``"jax"``.

    Raises
    ------
    InputError
        ``engine`` not one of :data:`ENGINES`, or ``engine="jax"`` where the JAX
        engine cannot run (naming the argument that rules it out).
    """
    from neurobias.circuit import _xla

    check_choice("engine", engine, ENGINES)
    on_cpu = torch.device(device).type == "cpu"
    if engine == "torch":
        return "torch"
    if engine == "jax":
        if noise_std > 0:
            raise InputError(f"`engine`='jax' simulates without noise; got `noise_std`={noise_std} (use "
                             "engine='torch' or 'auto' for a noisy simulation)")
        if not on_cpu:
            raise InputError(f"`engine`='jax' runs on the CPU only; got `device`={str(device)!r} (use "
                             "engine='torch' on a GPU)")
        if not _xla.available():
            raise InputError("`engine`='jax' needs jax, which is not installed here: pip install 'neurobias[jax]' "
                             "(or use engine='torch')")
        return "jax"
    work = n_rows * n_units * n_units * n_steps
    if (on_cpu and noise_std == 0 and n_units >= JAX_MIN_UNITS and work >= JAX_MIN_WORK
            and _xla.available()):
        return "jax"
    return "torch"


def simulate(
    circuit: Circuit,
    tonic: Any,
    *,
    inputs: Any = None,
    x0: Any = None,
    duration: float | None = None,
    dt: float = 1.0,
    method: str = "euler",
    noise_std: float = 0.0,
    seed: int | None = None,
    contexts: Sequence[str] | None = None,
    n_trials: int | None = None,
    dtype: str = "float64",
    device: str | torch.device = "cpu",
    engine: str = "auto",
) -> xr.Dataset:
    """Simulate a circuit in every context of a tonic-input bank.

    Parameters
    ----------
    circuit : Circuit
    tonic : array_like of shape (context, unit) or (unit,), DataArray or Dataset
        Tonic input per context (see :func:`resolve_tonic`), state units.
    inputs : array_like, optional
        Input time series of shape (trial, time, input), shared by all contexts,
        or (context, trial, time, input); ``inputs[..., k, :]`` drives step ``k``.
        Default: zero input for ``duration`` ms.
    x0 : array_like, optional
        Initial state of shape (unit,), (trial, unit) or (context, trial, unit).
        Default zeros.
    duration : float, optional
        Length in ms when ``inputs`` is None (a multiple of ``dt``).
    dt : float
        Step in ms.
    method : {"euler", "exp_euler"}
    noise_std : float
        Process noise, state units per sqrt(ms).
    seed : int, optional
        Noise seed; when None and ``noise_std > 0`` a fresh seed is drawn and
        recorded in ``attrs["seed"]``.
    contexts : sequence of str, optional
        Names for (or a selection from) the contexts of ``tonic``.
    n_trials : int, optional
        Trials per context when neither ``inputs`` nor ``x0`` fixes it (default 1).
    dtype : {"float64", "float32"}
        Precision of the computation and of ``x``, ``r``, ``z`` (float64 by
        default; float32 halves memory and time).
    device : {"cpu", "cuda", "cuda:N"} or torch.device
        Where the computation runs; the Dataset is always in host memory.
    engine : {"auto", "torch", "jax"}
        The loop that integrates: ``"torch"`` (a Python loop of torch
        operations on one intra-op thread, any device, with or without noise),
        ``"jax"`` (the same steps compiled by XLA into one loop; CPU only, no
        noise, needs ``jax``: ``pip install 'neurobias[jax]'``), or ``"auto"``,
        which picks by :func:`choose_engine` (measured rule, see
        ``docs/performance.md``).  Both compute the same vector field
        (:class:`neurobias.circuit.Dynamics`) and the same steps; the
        trajectories agree to rounding.  The engine used is ``attrs["engine"]``.

    Returns
    -------
    xarray.Dataset
        ``x``, ``r`` of dims (context, trial, time, unit); ``z`` (context, trial,
        time, output); ``inputs`` (context, trial, time, input); ``tonic``
        (context, unit); coordinate ``time`` in ms (``dt, ..., T dt``); attrs
        ``dt``, ``method``, ``noise_std``, ``seed``, ``tau``, ``phi``, ``form``,
        ``engine``.

    Raises
    ------
    InputError
        Bad arguments; ``engine="jax"`` with ``noise_std > 0``, on a CUDA
        ``device``, or without ``jax`` installed.
    """
    check_circuit(circuit)
    dt = check_number("dt", dt, gt=0, units="ms")
    check_choice("method", method, METHODS)
    noise_std = check_number("noise_std", noise_std, ge=0, units="state units per sqrt(ms)")
    check_choice("engine", engine, ENGINES)
    n = circuit.n_units
    bank, names = resolve_tonic(tonic, n, contexts)
    n_ctx = bank.shape[0]
    if inputs is None:
        if duration is None:
            raise InputError("give `inputs` of shape (trial, time, input) or a `duration` in ms")
        duration = check_number("duration", duration, gt=0, units="ms")
        n_time = int(round(duration / dt))
        if n_time < 1 or abs(n_time * dt - duration) > 1e-9 * max(1.0, duration):
            raise InputError(f"`duration` ({duration} ms) must be a positive multiple of `dt` ({dt} ms)")
        trials = 1
        if x0 is not None and np.ndim(x0) >= 2:
            trials = np.shape(x0)[-2]
        if n_trials is not None:
            trials = int(n_trials)
        u = np.zeros((n_ctx, trials, n_time, circuit.n_inputs))
    else:
        u = _expand("inputs", inputs, (-1, circuit.n_inputs), n_ctx,
                    f"(trial, time, input) or (context, trial, time, input) with input = {circuit.n_inputs}"
                    f" and context = {n_ctx}")
    n_trial, n_time = u.shape[1], u.shape[2]
    if x0 is None:
        x_init = np.zeros((n_ctx, n_trial, n))
    else:
        x_arr = np.asarray(x0, dtype=np.float64)
        if x_arr.ndim == 1:
            x_arr = np.broadcast_to(x_arr, (n_trial, *x_arr.shape))
        x_init = _expand("x0", x_arr, (n,), n_ctx,
                         f"(unit,), (trial, unit) or (context, trial, unit) with unit = {n}",
                         given=np.shape(x0))
        if x_init.shape[1] != n_trial:
            if x_init.shape[1] == 1:
                x_init = np.broadcast_to(x_init, (n_ctx, n_trial, n))
            else:
                raise InputError(f"`x0` has {x_init.shape[1]} trials but `inputs` has {n_trial}")
    torch_dtype(dtype)
    device = resolve_device(device)
    engine = choose_engine(engine=engine, n_units=n, n_rows=n_ctx * n_trial, n_steps=n_time, noise_std=noise_std,
                           device=device)
    if noise_std > 0 and seed is None:
        seed = new_seed()
    gen = torch.Generator(device=device)
    if seed is not None:
        gen.manual_seed(int(seed))

    if engine == "jax":
        x, r, z = _simulate_xla(circuit, x_init, bank, None if inputs is None else u, n_time=n_time, dt=float(dt),
                                method=method, dtype=dtype)
    else:
        x, r, z = _simulate_torch(circuit, x_init, bank, None if inputs is None else u, n_time=n_time,
                                  dt=float(dt), method=method, noise_std=float(noise_std), gen=gen, dtype=dtype,
                                  device=device)
    time = dt * np.arange(1, n_time + 1)
    coords = {
        "context": np.array(names, dtype=str),
        "trial": np.arange(n_trial),
        "time": ("time", time, {"units": "ms"}),
        "unit": np.arange(n),
        "output": np.array(circuit.output_names, dtype=str),
        "input": np.array(circuit.input_names, dtype=str),
    }
    ds = xr.Dataset(
        {
            "x": (("context", "trial", "time", "unit"), x,
                  {"long_name": "state (currents for form=current, rates for form=rate)", "units": "state units"}),
            "r": (("context", "trial", "time", "unit"), r,
                  {"long_name": "rate phi(x)"}),
            "z": (("context", "trial", "time", "output"), z,
                  {"long_name": "readout W_out r + b_out"}),
            "inputs": (("context", "trial", "time", "input"), np.ascontiguousarray(u),
                       {"long_name": "external input u, weighted by W_in"}),
            "tonic": (("context", "unit"), bank, {"long_name": "tonic input of each context",
                                                  "units": "state units"}),
        },
        coords=coords,
        attrs={
            "dt": float(dt), "method": method, "noise_std": float(noise_std),
            "seed": -1 if seed is None else int(seed), "tau": circuit.tau, "phi": circuit.phi,
            "form": circuit.form, "engine": engine,
        },
    )
    return ds


def _simulate_torch(circuit: Circuit, x_init: np.ndarray, bank: np.ndarray, u: np.ndarray | None, *, n_time: int,
                    dt: float, method: str, noise_std: float, gen: torch.Generator, dtype: str,
                    device: torch.device) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`simulate`'s loop in torch (:func:`_integrate`): ``x``, ``r``, ``z`` as host arrays."""
    n_ctx, n_trial, n = x_init.shape

    tdtype = torch_dtype(dtype)

    def t(a: np.ndarray) -> Tensor:
        return torch.tensor(np.asarray(a), dtype=tdtype, device=device)

    with one_thread(), torch.no_grad():
        dyn = circuit.dynamics(dtype=dtype, device=device)
        W_in, W_out, b_out = t(circuit.W_in), t(circuit.W_out), t(circuit.b_out)
        if u is None:  # a drive constant in time: a stride-0 view, never copied per step
            ext = t(bank)[:, None, None, :].expand(n_ctx, n_trial, n_time, n)
        else:
            ext = t(u) @ W_in.T + t(bank)[:, None, None, :]
        x, r = _integrate(t(x_init), ext, dyn, dt=float(dt), method=method, noise_std=float(noise_std),
                          generator=gen, keep_rates=True)
        if r is None:  # the state is the rate
            r = x
        z = r @ W_out.T + b_out
    return x.cpu().numpy(), r.cpu().numpy(), z.cpu().numpy()


def _simulate_xla(circuit: Circuit, x_init: np.ndarray, bank: np.ndarray, u: np.ndarray | None, *, n_time: int,
                  dt: float, method: str, dtype: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`simulate`'s loop on XLA (:mod:`neurobias.circuit._xla`): ``x``, ``r``, ``z`` as host arrays."""
    from neurobias.circuit import _xla

    n_ctx, n_trial, n = x_init.shape
    rows = n_ctx * n_trial
    dyn = Dynamics(W_rec=circuit.W_rec, tau=circuit.tau, phi=circuit.phi, form=circuit.form)
    bias = np.broadcast_to(bank[:, None, :], (n_ctx, n_trial, n)).reshape(rows, n)
    x, r, z = _xla.simulate_rows(
        dyn, x0=x_init.reshape(rows, n), bias=bias, inputs=None if u is None else u.reshape(rows, n_time, -1),
        W_in=circuit.W_in, W_out=circuit.W_out, b_out=circuit.b_out, n_time=n_time,
        h=step_fraction(dt=dt, tau=circuit.tau, method=method), dtype=dtype)
    shape = (n_ctx, n_trial, n_time)
    return x.reshape(*shape, n), (x if r is None else r).reshape(*shape, n), z.reshape(*shape, -1)

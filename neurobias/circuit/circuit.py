"""The :class:`Circuit`: fixed synaptic weights and the static description of the dynamics.

A circuit is frozen: its arrays are read-only float64 copies, validated once at
construction.  Tonic inputs are *not* part of the circuit; they are given per
context to :func:`neurobias.simulate` and learned by :func:`neurobias.train`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import torch

from neurobias.circuit import connectivity as conn
from neurobias.circuit.dynamics import FORMS, Dynamics
from neurobias.circuit.nonlinearity import PHI_NAMES, get_phi
from neurobias.errors import (InputError, check_choice, check_finite, check_instance, check_number,
                              check_shape, describe_shape)

__all__ = ["Circuit", "FORMS", "DTYPES", "torch_dtype", "check_circuit"]

#: the floating-point types neurobias computes in, by the name every ``dtype=`` option takes
DTYPES: dict[str, "torch.dtype"] = {"float32": torch.float32, "float64": torch.float64}


def torch_dtype(dtype: str) -> "torch.dtype":
    """The torch dtype of a ``dtype=`` option: ``"float32"`` or ``"float64"``.

    Raises
    ------
    InputError
        Any other value (a torch dtype included: options take the name).
    """
    if not isinstance(dtype, str) or dtype not in DTYPES:
        raise InputError(f"`dtype` must be one of {', '.join(repr(k) for k in DTYPES)}; got {dtype!r}")
    return DTYPES[dtype]


def check_circuit(circuit: Any) -> "Circuit":
    """Return ``circuit`` if it is a :class:`Circuit`.

    Raises
    ------
    InputError
        Anything else, naming what came.
    """
    check_instance("circuit", circuit, Circuit, what="a neurobias Circuit")
    return circuit


def _as_matrix(name: str, value: Any, shape: tuple[int, ...], dims: str) -> np.ndarray:
    try:
        arr = np.array(value, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise InputError(f"`{name}` must be a numeric array of shape {dims}; could not convert: {exc}") from None
    check_shape(name, arr, shape, dims=dims)
    check_finite(name, arr)
    arr.setflags(write=False)
    return arr


def _names(name: str, value: Sequence[str] | None, n: int, prefix: str) -> tuple[str, ...]:
    if value is None:
        return tuple(f"{prefix}{i}" for i in range(n))
    names = tuple(str(v) for v in value)
    if len(names) != n:
        raise InputError(f"`{name}` must have {n} entries; got {len(names)}")
    if len(set(names)) != n:
        raise InputError(f"`{name}` must be unique; got {list(names)}")
    return names


@dataclass(frozen=True, eq=False)
class Circuit:
    """A rate circuit with fixed weights.

    Dynamics (time in ms), for context ``c`` with tonic input ``b_c``:

    * ``form="current"`` (default): ``tau dx/dt = -x + W_rec phi(x) + W_in u + b_c``,
      rates ``r = phi(x)``;
    * ``form="rate"``: ``tau dr/dt = -r + phi(W_rec r + W_in u + b_c)``; the state
      is the rate, ``r = x``.

    Output ``z = W_out r + b_out``.  Build one with :meth:`random` or
    :meth:`from_arrays`; do not call the constructor directly.

    Attributes
    ----------
    W_rec : ndarray of shape (unit, unit)
        Recurrent weights; ``W_rec[i, j]`` is from unit ``j`` onto unit ``i``.
    W_in : ndarray of shape (unit, input)
        Input weights (``input`` may have length 0).
    W_out : ndarray of shape (output, unit)
        Readout weights.
    b_out : ndarray of shape (output,)
        Readout offset.
    tau : float
        Time constant in ms.
    phi : str
        Transfer function name, one of ``tanh, relu, softplus, sigmoid, linear``.
    form : str
        ``"current"`` or ``"rate"``.
    input_names, output_names : tuple of str
        Channel names.
    seed : int or None
        Seed the (initial) weights were drawn from (None for user weights).
    connectivity : str
        How ``W_rec`` was made (``gaussian``, ``sparse``, ``dale``, ``uniform``, ``user``); after training
        in a mode that changes weights, followed by which ones, e.g. ``"gaussian, then W_rec, W_in, W_out
        trained (full mode)"``.
    """

    W_rec: np.ndarray
    W_in: np.ndarray
    W_out: np.ndarray
    b_out: np.ndarray
    tau: float
    phi: str
    form: str
    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    seed: int | None = None
    connectivity: str = "user"
    _checked: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        if not self._checked:
            raise TypeError("build a Circuit with Circuit.from_arrays(...) or Circuit.random(...)")

    # ------------------------------------------------------------------ builders
    @classmethod
    def from_arrays(
        cls,
        *,
        W_rec: Any,
        W_in: Any = None,
        W_out: Any = None,
        b_out: Any = None,
        tau: float = 10.0,
        phi: str = "tanh",
        form: str = "current",
        input_names: Sequence[str] | None = None,
        output_names: Sequence[str] | None = None,
        seed: int | None = None,
        connectivity: str = "user",
    ) -> "Circuit":
        """Build a validated circuit from user weights.

        Parameters
        ----------
        W_rec : array_like of shape (unit, unit)
        W_in : array_like of shape (unit, input), optional
            Default: no input channels, shape (unit, 0).
        W_out : array_like of shape (output, unit), optional
            Default: no readout, shape (0, unit).
        b_out : array_like of shape (output,), optional
            Default: zeros.
        tau : float
            Time constant in ms, > 0.
        phi : str
            Transfer function name.
        form : {"current", "rate"}
        input_names, output_names : sequence of str, optional
            Default ``input0, ...`` and ``output0, ...``.
        seed : int, optional
            Seed recorded with the circuit.
        connectivity : str
            Label recorded with the circuit.

        Raises
        ------
        InputError
            Naming the argument, the expected shape or range and what came.
        """
        try:
            w_rec_shape = np.shape(W_rec)
        except Exception:  # noqa: BLE001 - ragged input
            w_rec_shape = ()
        if len(w_rec_shape) != 2 or w_rec_shape[0] != w_rec_shape[1] or w_rec_shape[0] < 1:
            raise InputError(
                f"`W_rec` must be a square matrix of shape (unit, unit) with unit >= 1; "
                f"got shape {describe_shape(w_rec_shape)}"
            )
        n = int(w_rec_shape[0])
        W_rec_a = _as_matrix("W_rec", W_rec, (n, n), "(unit, unit)")
        if W_in is None:
            W_in = np.zeros((n, 0))
        n_in = np.shape(W_in)[1] if np.ndim(W_in) == 2 else -1
        if n_in < 0:
            raise InputError(f"`W_in` must have shape (unit, input) = ({n}, n_inputs); got {describe_shape(np.shape(W_in))}")
        W_in_a = _as_matrix("W_in", W_in, (n, n_in), "(unit, input)")
        if W_out is None:
            W_out = np.zeros((0, n))
        n_out = np.shape(W_out)[0] if np.ndim(W_out) == 2 else -1
        if n_out < 0:
            raise InputError(f"`W_out` must have shape (output, unit) = (n_outputs, {n}); got {describe_shape(np.shape(W_out))}")
        W_out_a = _as_matrix("W_out", W_out, (n_out, n), "(output, unit)")
        if b_out is None:
            b_out = np.zeros(n_out)
        b_out_a = _as_matrix("b_out", b_out, (n_out,), "(output,)")
        tau = check_number("tau", tau, gt=0, units="ms")
        get_phi(phi)
        check_choice("form", form, FORMS)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise InputError(f"`seed` must be a non-negative integer or None; got {seed!r}")
        return cls(
            W_rec=W_rec_a,
            W_in=W_in_a,
            W_out=W_out_a,
            b_out=b_out_a,
            tau=float(tau),
            phi=str(phi),
            form=str(form),
            input_names=_names("input_names", input_names, n_in, "input"),
            output_names=_names("output_names", output_names, n_out, "output"),
            seed=None if seed is None else int(seed),
            connectivity=str(connectivity),
            _checked=True,
        )

    @classmethod
    def random(
        cls,
        n_units: int,
        *,
        n_inputs: int = 0,
        n_outputs: int = 1,
        connectivity: str = "gaussian",
        g: float = 1.5,
        p: float = 0.1,
        exc_fraction: float = 0.8,
        gamma: float = 0.1,
        input_init: str = "gaussian",
        input_scale: float = 1.0,
        readout_init: str = "gaussian",
        readout_scale: float = 1.0,
        tau: float = 10.0,
        phi: str = "tanh",
        form: str = "current",
        input_names: Sequence[str] | None = None,
        output_names: Sequence[str] | None = None,
        seed: int = 0,
    ) -> "Circuit":
        """Draw a random circuit from one seed.

        One :func:`numpy.random.default_rng` ``(seed)`` draws, in this order,
        ``W_rec`` (see :mod:`neurobias.circuit.connectivity`), ``W_in``, ``W_out``;
        ``b_out`` is zero.

        Parameters
        ----------
        n_units : int
            Number of units.
        n_inputs, n_outputs : int
            Numbers of input and output channels (>= 0).
        connectivity : {"gaussian", "sparse", "dale", "uniform"}
            ``gaussian``: N(0, g^2/N); ``sparse``: probability ``p``, radius ~g;
            ``dale``: excitatory fraction ``exc_fraction``, balanced rows, radius ~g;
            ``uniform``: U[-gamma, gamma].
        g, p, exc_fraction, gamma : float
            Parameters of the connectivity (only the relevant ones are used).
        input_init, readout_init : {"gaussian", "uniform"}
        input_scale, readout_scale : float
            See :func:`~neurobias.circuit.connectivity.input_weights` and
            :func:`~neurobias.circuit.connectivity.readout_weights`.
        tau : float
            Time constant in ms.
        phi, form : str
            Transfer function and form of the dynamics.
        seed : int
            Seed (>= 0).
        """
        for name, val in (("seed", seed), ("n_inputs", n_inputs), ("n_outputs", n_outputs)):
            check_number(name, val, ge=0, integer=True)
        rng = np.random.default_rng(seed)
        if connectivity == "gaussian":
            w = conn.gaussian(n_units, g=g, rng=rng)
        elif connectivity == "sparse":
            w = conn.sparse(n_units, g=g, p=p, rng=rng)
        elif connectivity == "dale":
            w = conn.dale(n_units, g=g, exc_fraction=exc_fraction, rng=rng)
        elif connectivity == "uniform":
            check_number("n_units", n_units, gt=0, integer=True)
            w = conn.uniform((n_units, n_units), gamma=gamma, rng=rng)
        else:
            raise InputError(
                f"`connectivity` must be one of {', '.join(conn.CONNECTIVITIES)}; got {connectivity!r}"
            )
        w_in = conn.input_weights(n_units, n_inputs, init=input_init, scale=input_scale, rng=rng)
        w_out = conn.readout_weights(n_outputs, n_units, init=readout_init, scale=readout_scale, rng=rng)
        return cls.from_arrays(
            W_rec=w, W_in=w_in, W_out=w_out, b_out=np.zeros(n_outputs), tau=tau, phi=phi,
            form=form, input_names=input_names, output_names=output_names, seed=seed,
            connectivity=connectivity,
        )

    # ---------------------------------------------------------------- properties
    @property
    def n_units(self) -> int:
        """Number of units."""
        return self.W_rec.shape[0]

    @property
    def n_inputs(self) -> int:
        """Number of input channels."""
        return self.W_in.shape[1]

    @property
    def n_outputs(self) -> int:
        """Number of output channels."""
        return self.W_out.shape[0]

    @property
    def state_is_rate(self) -> bool:
        """True when the state is the rate (``form="rate"``): then rates need no ``phi`` and the gain
        (hence the Jacobian) depends on the drive as well as the state."""
        return self.form == "rate"

    def dynamics(
        self, *, dtype: str = "float64", device: str | torch.device = "cpu", W_rec: torch.Tensor | None = None
    ) -> Dynamics:
        """The vector field of this circuit as torch tensors: drive, flow, rates, gain, Jacobian, steps.

        Parameters
        ----------
        dtype : {"float64", "float32"}
        device : str or torch.device
        W_rec : Tensor of shape (unit, unit), optional
            Recurrent weights to use instead of this circuit's (e.g. a trainable
            parameter that autograd tracks); ``dtype`` and ``device`` are then its own.

        Returns
        -------
        Dynamics
            With ``W_rec`` as a tensor of shape (unit, unit), and this circuit's ``tau``,
            ``phi`` and ``form``.
        """
        if W_rec is None:
            W_rec = torch.tensor(self.W_rec, dtype=torch_dtype(dtype), device=device)
        elif tuple(W_rec.shape) != self.W_rec.shape:
            raise InputError(f"`W_rec` must have shape (unit, unit) = {describe_shape(self.W_rec.shape)}; "
                             f"got {describe_shape(tuple(W_rec.shape))}")
        return Dynamics(W_rec=W_rec, tau=self.tau, phi=self.phi, form=self.form)

    def rates(self, x: Any) -> np.ndarray:
        """The rates of states ``x`` (..., unit) as a float64 ndarray: ``phi(x)`` (current) or ``x`` (rate)."""
        xt = torch.as_tensor(np.asarray(x, dtype=np.float64))
        return self.dynamics().rates(xt).numpy().copy()

    def weights(self) -> dict[str, np.ndarray]:
        """The four weight arrays by name: ``W_rec``, ``W_in``, ``W_out``, ``b_out``."""
        return {"W_rec": self.W_rec, "W_in": self.W_in, "W_out": self.W_out, "b_out": self.b_out}

    def replace(self, **changes: Any) -> "Circuit":
        """Return a new validated circuit with some fields changed (e.g. trained weights)."""
        kwargs = dict(
            W_rec=self.W_rec, W_in=self.W_in, W_out=self.W_out, b_out=self.b_out, tau=self.tau,
            phi=self.phi, form=self.form, input_names=self.input_names,
            output_names=self.output_names, seed=self.seed, connectivity=self.connectivity,
        )
        unknown = set(changes) - set(kwargs)
        if unknown:
            raise InputError(f"Circuit.replace got unknown field(s) {sorted(unknown)}; valid: {sorted(kwargs)}")
        kwargs.update(changes)
        return Circuit.from_arrays(**kwargs)

    def __repr__(self) -> str:
        return (
            f"Circuit(n_units={self.n_units}, n_inputs={self.n_inputs}, n_outputs={self.n_outputs}, "
            f"tau={self.tau} ms, phi={self.phi!r}, form={self.form!r}, connectivity={self.connectivity!r}, "
            f"seed={self.seed})"
        )


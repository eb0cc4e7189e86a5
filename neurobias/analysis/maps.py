"""Fixed points judged as fixed points of a discrete map: multipliers and map stability.

A circuit stepped with a fixed time step is the map ``x -> step(x) = x + h tau F(x)``
(:func:`neurobias.circuit.dynamics.step`; ``h = dt / tau`` for Euler, ``1 - exp(-dt / tau)``
for exponential Euler).  Its fixed points are those of the flow, but its
stability is not: the Jacobian of the map is ``I + h tau J`` with ``J = dF/dx``,
so each eigenvalue ``lambda`` of the flow gives the *multiplier*
``mu = 1 + h tau lambda``, and the fixed point is stable for the map when every
``|mu| < 1``.  A point stable for the flow can be unstable for the map (a
multiplier below -1 when ``h tau lambda < -2``: the map overshoots), which is
what happens to the rate form at ``dt = tau`` (the map ``r <- phi(W r + b)`` of
Williams et al. 2024) whenever ``phi' W`` has an eigenvalue of modulus above 1
outside the flow's unstable half-plane.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
import xarray as xr

from neurobias.circuit.circuit import Circuit
from neurobias.circuit.dynamics import METHODS, step_fraction
from neurobias.circuit.simulate import resolve_tonic
from neurobias.errors import InputError, check_choice, check_number

__all__ = ["map_multipliers", "map_stability"]


def map_multipliers(eigenvalues: Any, *, tau: float, dt: float, method: str = "euler") -> np.ndarray:
    """Multipliers ``1 + h tau lambda`` of the map ``x -> step(x)`` from the flow's eigenvalues.

    Parameters
    ----------
    eigenvalues : array_like, complex
        Eigenvalues of ``dF/dx`` in 1/ms, any shape.
    tau, dt : float
        Time constant and map step in ms.
    method : {"euler", "exp_euler"}

    Returns
    -------
    ndarray of the same shape, complex
    """
    check_choice("method", method, METHODS)
    for name, value in (("tau", tau), ("dt", dt)):
        check_number(name, value, gt=0, units="ms")
    h = step_fraction(dt=float(dt), tau=float(tau), method=method)
    return 1.0 + h * float(tau) * np.asarray(eigenvalues, dtype=np.complex128)


def map_stability(
    fixed_points: xr.Dataset, circuit: Circuit, tonic: Any, *, dt: float, method: str = "euler",
    inputs: Any = None,
) -> xr.Dataset:
    """Add the map's view of each fixed point to a :func:`find_fixed_points` Dataset.

    Parameters
    ----------
    fixed_points : xarray.Dataset
        Output of :func:`neurobias.analysis.find_fixed_points` (``x (fp, unit)``, ``context (fp)``).
    circuit : Circuit
    tonic : array_like of shape (context, unit), DataArray or Dataset
        The tonic bank the points were found with (its context names must cover ``context``).
    dt : float
        Map step in ms (``dt = tau`` with the rate form: the map of Williams et al.).
    method : {"euler", "exp_euler"}
    inputs : array_like of shape (input,), optional
        Constant external input (default zero).

    Returns
    -------
    xarray.Dataset
        A copy with ``map_index (fp)`` (multipliers of modulus above 1),
        ``map_stability (fp)`` (``stable``, ``marginal``, ``saddle``, ``unstable``
        for the map), ``multiplier_modulus (fp)`` (the largest ``|mu|``) and
        ``leading_multiplier_real``, ``leading_multiplier_imag (fp)``; attributes
        ``stability = "flow and map"``, ``map_dt``, ``map_method``.  The flow's
        ``index`` and ``stability`` are kept as they were.
    """
    if not isinstance(fixed_points, xr.Dataset) or "x" not in fixed_points:
        raise InputError("`fixed_points` must be the Dataset of find_fixed_points (a variable x of dims (fp, unit))")
    n = circuit.n_units
    bank, names = resolve_tonic(tonic, n)
    u = np.zeros(circuit.n_inputs) if inputs is None else np.asarray(inputs, dtype=np.float64)
    if u.shape != (circuit.n_inputs,):
        raise InputError(f"`inputs` must have shape (input,) = ({circuit.n_inputs},); got {u.shape}")
    ctx = fixed_points["context"].values.astype(str) if "context" in fixed_points else np.array([names[0]] * 0)
    missing = sorted(set(ctx) - set(names))
    if missing:
        raise InputError(f"`tonic` has no context {missing}; it has {list(names)}")
    x = fixed_points["x"].values
    m = x.shape[0]
    ext = np.array([bank[names.index(c)] for c in ctx]).reshape(m, n) + circuit.W_in @ u
    J = circuit.dynamics().jacobian(torch.tensor(x, dtype=torch.float64), torch.tensor(ext, dtype=torch.float64))
    lam = torch.linalg.eigvals(J).numpy() if m else np.zeros((0, n), complex)
    mu = map_multipliers(lam, tau=circuit.tau, dt=dt, method=method)
    mod = np.abs(mu)
    tol = 1e-9
    index = (mod > 1 + tol).sum(-1).astype(np.int64)
    marginal = (np.abs(mod - 1) <= tol).any(-1)
    label = np.where(index == n, "unstable", np.where(index > 0, "saddle", np.where(marginal, "marginal", "stable")))
    lead = mu[np.arange(m), np.argmax(mod, axis=-1)] if m else np.zeros(0, complex)
    out = fixed_points.copy()
    out["map_index"] = (("fp",), index, {"long_name": "multipliers of the map with modulus above 1"})
    out["map_stability"] = (("fp",), label.astype(str), {"long_name": "stable, marginal, saddle or unstable, "
                                                                       "judged by the map's multipliers"})
    out["multiplier_modulus"] = (("fp",), mod.max(-1) if m else np.zeros(0),
                                 {"long_name": "largest modulus of the map's multipliers"})
    out["leading_multiplier_real"] = (("fp",), lead.real.copy(), {"long_name": "multiplier of largest modulus, "
                                                                               "real part"})
    out["leading_multiplier_imag"] = (("fp",), lead.imag.copy(), {"long_name": "multiplier of largest modulus, "
                                                                               "imaginary part"})
    out.attrs.update(stability="flow and map", map_dt=float(dt), map_method=str(method))
    return out

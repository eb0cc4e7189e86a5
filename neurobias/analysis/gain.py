"""Effective gain per context: which units a context switches on or off, and the effective connectivity.

Linearising the dynamics at a context's operating point gives the Jacobian of
:func:`neurobias.circuit.dynamics.jacobian`,

* ``form="current"``: ``J = (-I + W_rec diag(g)) / tau`` with ``g = phi'(x)``;
* ``form="rate"``:    ``J = (-I + diag(g) W_rec) / tau`` with ``g = phi'(W_rec x + ext)``;

so ``W_eff = W_rec diag(g)`` (current) or ``diag(g) W_rec`` (rate) is the
effective connectivity and ``J = (-I + W_eff) / tau``.  Both products have the
same eigenvalues; an eigenvalue ``lambda`` of ``W_eff`` is the eigenvalue
``(lambda - 1) / tau`` (per ms) of ``J``, so the operating point is linearly
stable when every ``Re lambda < 1``.  The gain is computed with the
nonlinearity's own derivative (:func:`neurobias.circuit.get_phi`), so the
identity with the Jacobian holds to rounding.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
import xarray as xr

from neurobias.analysis.tonic_patterns import Bank, as_bank
from neurobias.circuit.circuit import Circuit, check_circuit
from neurobias.circuit.simulate import resolve_device
from neurobias.circuit.nonlinearity import get_phi
from neurobias.errors import InputError, check_choice, check_number

__all__ = ["effective_gain", "effective_connectivity", "GAIN_MODES"]

GAIN_MODES: tuple[str, ...] = ("state_mean", "gain_mean")


def _check_bank_units(bank: Bank, circuit: Circuit) -> None:
    if bank.values.shape[1] != circuit.n_units:
        raise InputError(
            f"`tonic` must have shape (context, unit) with unit = {circuit.n_units} (the circuit's units); "
            f"got {bank.values.shape[1]} units: results of another circuit?"
        )


def _gain_at(circuit: Circuit, x: np.ndarray, ext: np.ndarray, device: torch.device) -> np.ndarray:
    """``phi'`` at state ``x`` (..., unit) with drive ``ext`` (..., unit), as in the Jacobian."""
    with torch.no_grad():
        g = circuit.dynamics(device=device).gain(torch.tensor(np.asarray(x), dtype=torch.float64, device=device),
                                                 torch.tensor(np.asarray(ext), dtype=torch.float64, device=device))
    return g.cpu().numpy().astype(np.float64)


def _max_slope(phi: str) -> float:
    """``sup phi'`` estimated on a fine grid of [-50, 50] (1 for tanh, relu, softplus, linear; 1/4 for sigmoid)."""
    grid = torch.linspace(-50.0, 50.0, 200_001, dtype=torch.float64)
    return float(get_phi(phi).deriv(grid).max())


def effective_connectivity(circuit: Circuit, gain: Any) -> xr.DataArray:
    """Effective connectivity ``W_eff`` per context, such that ``jacobian = (-I + W_eff) / tau``.

    Parameters
    ----------
    circuit : Circuit
    gain : DataArray (context, unit) or array of shape (context, unit)
        ``phi'`` at the operating point (e.g. ``effective_gain(...)["gain"]``).

    Returns
    -------
    DataArray of dims (context, unit, unit_pre)
        ``W_rec[i, j] g[j]`` for ``form="current"``, ``g[i] W_rec[i, j]`` for
        ``form="rate"`` (from ``unit_pre`` ``j`` onto ``unit`` ``i``).
    """
    circuit = check_circuit(circuit)
    if isinstance(gain, xr.DataArray):
        if set(gain.dims) != {"context", "unit"}:
            raise InputError(f"`gain` must have dims (context, unit); got {tuple(map(str, gain.dims))}")
        gain = gain.transpose("context", "unit")
        contexts = gain["context"].values if "context" in gain.coords else np.arange(gain.sizes["context"])
        g = np.asarray(gain.values, dtype=np.float64)
    else:
        g = np.asarray(gain, dtype=np.float64)
        if g.ndim == 1:
            g = g[None]
        contexts = np.arange(g.shape[0]) if g.ndim == 2 else None
    if g.ndim != 2 or g.shape[1] != circuit.n_units or not np.all(np.isfinite(g)):
        raise InputError(
            f"`gain` must be finite with shape (context, unit) and unit = {circuit.n_units}; got shape {g.shape}"
        )
    with torch.no_grad():
        w_eff = circuit.dynamics().effective_connectivity(torch.from_numpy(g)).numpy()
    units = np.arange(circuit.n_units)
    return xr.DataArray(
        w_eff, dims=("context", "unit", "unit_pre"), coords={"context": contexts, "unit": units, "unit_pre": units},
        name="W_eff", attrs={"form": circuit.form, "long_name": "effective connectivity"},
    )


def _operating_point(
    circuit: Circuit, bank: Bank, states: Any, mode: str, device: torch.device
) -> tuple[np.ndarray, np.ndarray, str]:
    """Return (state (context, unit), gain (context, unit), source)."""
    C, N = bank.values.shape
    if isinstance(states, xr.DataArray):
        if set(states.dims) != {"context", "unit"} or states.ndim != 2:
            raise InputError(
                "`states` DataArray must have dims (context, unit) (one operating point per context); "
                f"got {tuple(map(str, states.dims))}"
            )
        if mode != "state_mean":
            raise InputError(
                f"`mode` = {mode!r} needs trajectories (a Dataset with `x`); `states` of dims (context, unit) "
                "are single operating points: use mode='state_mean'"
            )
        states = states.transpose("context", "unit")
        x = _align_contexts("states", states, bank)
        if x.shape[1] != N:
            raise InputError(f"`states` must have unit = {N}; got {x.shape[1]}: results of another circuit?")
        return x, _gain_at(circuit, x, bank.values, device), "states"
    if not isinstance(states, xr.Dataset):
        raise InputError(
            "`states` must be a DataArray (context, unit) of operating points or a trajectories Dataset with "
            f"`x` (context, trial, time, unit); got {type(states).__name__}"
        )
    if "x" not in states.data_vars:
        raise InputError("`states` Dataset must contain the state `x` of dims (context, trial, time, unit)")
    xa = states["x"]
    if set(xa.dims) != {"context", "trial", "time", "unit"}:
        raise InputError(f"`states` variable `x` must have dims (context, trial, time, unit); got {xa.dims}")
    xa = xa.transpose("context", "trial", "time", "unit")
    if xa.sizes["unit"] != N:
        raise InputError(f"`states` must have unit = {N}; got {xa.sizes['unit']}: results of another circuit?")
    if xa.sizes["trial"] * xa.sizes["time"] == 0:
        raise InputError("`states` trajectories must have at least one trial and one time point")
    if "tonic" in states.data_vars:
        other = as_bank(states["tonic"], name="states.tonic")
        same = other.values.shape == bank.values.shape and sorted(other.contexts.tolist()) == sorted(
            bank.contexts.tolist())
        if not same or not np.allclose(_align_contexts("states", states["tonic"], bank), bank.values,
                                       rtol=1e-9, atol=1e-12):
            raise InputError(
                "`states` trajectories carry a `tonic` bank different from `tonic`: they were simulated with "
                "other tonic inputs (or another circuit)"
            )
    X = _align_contexts("states", xa, bank)  # (context, trial, time, unit)
    if not np.all(np.isfinite(X)):
        raise InputError("`states` variable `x` must be finite; it has NaN or infinite entries")
    drive = np.zeros_like(X)
    if circuit.state_is_rate and circuit.n_inputs and "inputs" in states.data_vars:
        ua = states["inputs"].transpose("context", "trial", "time", "input")
        if ua.sizes["input"] != circuit.n_inputs:
            raise InputError(
                f"`states` variable `inputs` must have input = {circuit.n_inputs}; got {ua.sizes['input']}"
            )
        drive = _align_contexts("states", ua, bank) @ circuit.W_in.T
    ext = drive + bank.values[:, None, None, :]
    x_mean = X.mean(axis=(1, 2))
    if mode == "state_mean":
        return x_mean, _gain_at(circuit, x_mean, ext.mean(axis=(1, 2)), device), "trajectories"
    return x_mean, _gain_at(circuit, X, ext, device).mean(axis=(1, 2)), "trajectories"


def _align_contexts(name: str, da: xr.DataArray, bank: Bank) -> np.ndarray:
    """Values of ``da`` with its ``context`` axis (first) in the bank's order."""
    if "context" not in da.coords:
        if da.sizes["context"] != bank.contexts.size:
            raise InputError(f"`{name}` must have {bank.contexts.size} contexts; got {da.sizes['context']}")
        return np.asarray(da.values, dtype=np.float64)
    names = [str(c) for c in da["context"].values]
    if sorted(names) != sorted(bank.contexts.tolist()):
        raise InputError(
            f"`{name}` must have the same contexts as `tonic`; got {names} and {bank.contexts.tolist()}"
        )
    index = {c: i for i, c in enumerate(names)}
    return np.asarray(da.values, dtype=np.float64)[[index[c] for c in bank.contexts.tolist()]]


def effective_gain(
    circuit: Circuit,
    tonic: Any,
    *,
    states: Any = None,
    mode: str = "state_mean",
    threshold: float = 0.5,
    n_modes: int = 5,
    device: str | torch.device = "cpu",
) -> xr.Dataset:
    """Effective gain ``phi'`` at each context's operating point, and the effective connectivity it makes.

    Operating point of context ``c``:

    * ``states`` a DataArray (context, unit): those states (e.g. fixed points
      chosen by the caller), with drive ``ext = b_c`` (no external input);
    * ``states`` a trajectories Dataset with ``x`` (context, trial, time, unit)
      (e.g. from :func:`neurobias.simulate` or ``results.nc``); with
      ``states=None`` and ``tonic`` such a Dataset (``results.nc`` holds both),
      that one.  ``mode="state_mean"`` evaluates ``phi'`` once at the
      trial-and-time average ``x̄`` (rate form: at the average pre-activation
      ``W_rec x̄ + W_in ū + b_c``, ``ū`` the average input); ``mode="gain_mean"``
      averages ``phi'`` along the trajectories, ``mean_{trial,t} phi'(x_t)``
      (the average linearisation; the Jacobian identity below then does not
      hold at any single state).

    Parameters
    ----------
    circuit : Circuit
    tonic : DataArray (context, unit), Dataset with ``tonic``, or array (context, unit)
        Tonic inputs, state units.
    states : DataArray (context, unit) or Dataset, optional
        Contexts are matched to ``tonic`` by name.
    mode : {"state_mean", "gain_mean"}
    threshold : float
        A unit is *on* when ``gain > threshold * sup phi'`` (``sup phi'`` is 1 for
        tanh, relu, softplus and linear, 1/4 for sigmoid); in [0, 1].
    n_modes : int
        Number of top singular modes of ``W_eff`` to report (capped at ``unit``).
    device : str or torch.device
        Where the gain is computed (float64; for long trajectories); the
        spectra of ``W_eff`` and the results are in host memory.

    Returns
    -------
    xarray.Dataset
        * ``gain (context, unit)``: ``phi'`` (dimensionless);
        * ``state (context, unit)``: the operating point (the average state for trajectories);
        * ``on (context, unit)`` bool and ``on_fraction (context,)``;
        * ``eig_real``, ``eig_imag (context, mode)``: eigenvalues of ``W_eff``,
          sorted by real part descending (then imaginary part descending);
        * ``spectral_radius (context,)`` and ``spectral_abscissa (context,)``
          (largest real part; the point is stable when it is < 1);
        * ``singular_value (context, mode_top)``, ``singular_left`` and
          ``singular_right (context, mode_top, unit)``: top singular triplets of
          ``W_eff`` (``W_eff v = s u``); the sign is fixed so the right vector's
          largest-magnitude entry is positive;
        * ``gain_change (context, context_b)``: ``mean_i |g_c - g_d|``;
        * ``switched_on``, ``switched_off (context, context_b)``: fraction of
          units off in ``c`` and on in ``d`` (and the reverse);
          ``switched (context, context_b)``: their sum.

        Attributes ``mode``, ``source`` (``states`` or ``trajectories``),
        ``threshold``, ``max_slope``, ``form``, ``phi``, ``tau``.

    Raises
    ------
    InputError
        Mismatched units or contexts, trajectories of other tonic inputs, bad options.
    """
    circuit = check_circuit(circuit)
    check_choice("mode", mode, GAIN_MODES)
    check_number("threshold", threshold, ge=0, le=1, units="fraction of sup phi'")
    n_modes = check_number("n_modes", n_modes, ge=1, integer=True)
    bank = as_bank(tonic)
    _check_bank_units(bank, circuit)
    if states is None:
        if isinstance(tonic, xr.Dataset) and "x" in tonic.data_vars:
            states = tonic
        else:
            raise InputError(
                "`states` is required (a DataArray (context, unit) of operating points or a trajectories "
                "Dataset with `x`) unless `tonic` is a Dataset holding both `tonic` and `x` (results.nc)"
            )
    state, gain, source = _operating_point(circuit, bank, states, mode, resolve_device(device))
    C, N = gain.shape
    max_slope = _max_slope(circuit.phi)
    on = gain > threshold * max_slope

    w_eff = effective_connectivity(circuit, gain).values
    eig_re, eig_im = np.empty((C, N)), np.empty((C, N))
    k = min(n_modes, N)
    sv, left, right = np.empty((C, k)), np.empty((C, k, N)), np.empty((C, k, N))
    for c in range(C):
        lam = np.linalg.eigvals(w_eff[c])
        order = np.lexsort((-lam.imag, -lam.real))
        eig_re[c], eig_im[c] = lam.real[order], lam.imag[order]
        u, s, vt = np.linalg.svd(w_eff[c])
        vt, u = vt[:k], u[:, :k].T
        signs = np.sign(vt[np.arange(k), np.argmax(np.abs(vt), axis=1)])
        signs = np.where(signs == 0, 1.0, signs)[:, None]
        sv[c], left[c], right[c] = s[:k], u * signs, vt * signs
    radius = np.sqrt(eig_re**2 + eig_im**2).max(axis=1)

    on_f = on.astype(np.float64)
    switched_on = (1.0 - on_f) @ on_f.T / N  # off in c, on in d
    switched_off = on_f @ (1.0 - on_f).T / N
    gain_change = np.mean(np.abs(gain[:, None, :] - gain[None, :, :]), axis=-1)
    pair = ("context", "context_b")
    return xr.Dataset(
        {
            "gain": (("context", "unit"), gain, {"long_name": "effective gain phi' at the operating point"}),
            "state": (("context", "unit"), state, {"long_name": "operating point (state units)"}),
            "on": (("context", "unit"), on, {"long_name": "gain > threshold * sup phi'"}),
            "on_fraction": (("context",), on_f.mean(axis=1), {"long_name": "fraction of units on", "units": "1"}),
            "eig_real": (("context", "mode"), eig_re, {"long_name": "real part of eigenvalues of W_eff"}),
            "eig_imag": (("context", "mode"), eig_im, {"long_name": "imaginary part of eigenvalues of W_eff"}),
            "spectral_radius": (("context",), radius, {"long_name": "largest |eigenvalue| of W_eff"}),
            "spectral_abscissa": (("context",), eig_re[:, 0], {"long_name": "largest real part of eig(W_eff); "
                                                              "stable when < 1"}),
            "singular_value": (("context", "mode_top"), sv, {"long_name": "singular values of W_eff, descending"}),
            "singular_left": (("context", "mode_top", "unit"), left,
                              {"long_name": "left singular vectors of W_eff (unit norm)"}),
            "singular_right": (("context", "mode_top", "unit"), right,
                               {"long_name": "right singular vectors of W_eff (unit norm)"}),
            "gain_change": (pair, gain_change, {"long_name": "mean |gain_c - gain_d| over units"}),
            "switched_on": (pair, switched_on, {"long_name": "fraction of units off in context, on in context_b"}),
            "switched_off": (pair, switched_off, {"long_name": "fraction of units on in context, off in context_b"}),
            "switched": (pair, switched_on + switched_off, {"long_name": "fraction of units switched"}),
        },
        coords={**bank.pair_coords(), "unit": bank.units, "mode": np.arange(N), "mode_top": np.arange(k)},
        attrs={"mode": mode, "source": source, "threshold": float(threshold), "max_slope": max_slope,
               "form": circuit.form, "phi": circuit.phi, "tau": circuit.tau},
    )

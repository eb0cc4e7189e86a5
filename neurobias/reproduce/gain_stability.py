"""Why bias-only learning cannot make oscillations at small gain: the Jacobian of a tanh circuit against g.

For the rate circuit ``tau dr/dt = -r + tanh(W r + b)`` the Jacobian at any
state is ``(-I + D W) / tau`` with ``D = diag(tanh'(W r + b))`` and
``0 < tanh' <= 1``.  A tonic input ``b`` only changes ``D``: it scales the
gains of the units down, never up.  Every eigenvalue ``lambda`` of ``D W``
has ``|lambda| <= ||D W||_2 <= ||W||_2``; so when the spectral norm of ``W``
is below 1, the Jacobian's spectral abscissa is below 0 at every state and
for every tonic input (the flow is contracting: one globally stable fixed
point, no limit cycle).  No tonic input can then reach a Hopf bifurcation,
and bias-only training cannot make an oscillator.  For Gaussian
``W ~ N(0, g^2 / N)`` the spectral norm is about ``2 g`` and the spectral
radius about ``g``.

:func:`gain_stability` measures, per gain and seed, ``||W||_2``, the
spectral radius of ``W`` and, with :func:`~neurobias.analysis.fixed_points.find_fixed_points`,
the largest real part of the Jacobian's eigenvalues (times ``tau``) over the
fixed points of circuits driven by random tonic inputs of several sizes.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from neurobias.analysis.fixed_points import find_fixed_points
from neurobias.circuit.circuit import Circuit
from neurobias.errors import check_number

__all__ = ["gain_stability"]


def gain_stability(circuits: Sequence[Sequence[Circuit]], gains: Sequence[float], *,
                   tonic_scales: Sequence[float] = (0.0, 0.5, 1.0, 2.0, 4.0), n_tonic: int = 8,
                   seed: int = 0) -> xr.Dataset:
    """Spectral norm, spectral radius and the Jacobian's spectral abscissa under random tonic inputs, per gain.

    Parameters
    ----------
    circuits : sequence (seed) of sequences (gain) of Circuit
        Rate-form tanh circuits, ``circuits[s][j]`` at gain ``gains[j]``.
    gains : sequence of float
        The gain of each column of ``circuits`` (coordinate only).
    tonic_scales : sequence of float
        Standard deviations of the random tonic inputs ``b ~ N(0, scale^2)``
        (state units); scale 0 is the circuit without tonic input.
    n_tonic : int
        Random tonic inputs per nonzero scale.
    seed : int
        Seed of the tonic inputs and of the fixed-point search.

    Returns
    -------
    xarray.Dataset
        Dims ``seed``, ``g``: ``spectral_norm`` (``||W||_2``),
        ``spectral_radius`` (``max |eig W|``), ``abscissa``
        (largest real part of an eigenvalue of ``tau J = -I + D W`` over the
        fixed points found for every tonic input, dimensionless; > 0: an
        unstable fixed point), ``oscillatory_unstable`` (fraction of tonic
        inputs with a fixed point whose leading eigenvalue is a complex pair
        with positive real part, i.e. past a Hopf bifurcation).
    """
    n_tonic = check_number("n_tonic", n_tonic, ge=1, integer=True)
    rng = np.random.default_rng(seed)
    shape = (len(circuits), len(gains))
    norm, radius, absc, osc = (np.full(shape, np.nan) for _ in range(4))
    for s, row in enumerate(circuits):
        for j, circuit in enumerate(row):
            W, n = circuit.W_rec, circuit.n_units
            norm[s, j] = float(np.linalg.norm(W, 2))
            radius[s, j] = float(np.max(np.abs(np.linalg.eigvals(W))))
            bank = np.concatenate([rng.normal(0.0, sc, size=(1 if sc == 0 else n_tonic, n)) for sc in tonic_scales])
            fp = find_fixed_points(circuit, bank, n_candidates=16, explore_rounds=0, descent_steps=0, seed=seed)
            fixed = fp.where(fp["kind"] == "fixed", drop=True)
            tau = float(circuit.tau)
            lead = (fixed["eig_real"] * tau).max("mode")
            absc[s, j] = float(lead.max())
            lead_mode = (fixed["eig_real"]).argmax("mode")
            imag_lead = np.abs(fixed["eig_imag"].isel(mode=lead_mode).values)
            hopf = (lead.values > 0) & (imag_lead > 0)
            ctx = fixed["context"].values
            osc[s, j] = len(set(ctx[hopf])) / bank.shape[0]
    coords = {"seed": np.arange(len(circuits)), "g": np.asarray(gains, dtype=np.float64)}
    return xr.Dataset(
        {"spectral_norm": (("seed", "g"), norm, {"long_name": "spectral norm of W_rec"}),
         "spectral_radius": (("seed", "g"), radius, {"long_name": "spectral radius of W_rec"}),
         "abscissa": (("seed", "g"), absc, {"long_name": "largest real part of tau * Jacobian eigenvalues over the "
                                                          "fixed points under random tonic inputs"}),
         "oscillatory_unstable": (("seed", "g"), osc, {"long_name": "fraction of tonic inputs past a Hopf point"})},
        coords=coords)

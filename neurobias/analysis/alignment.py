"""Alignment of the tonic inputs with the structure of the circuit: ``W_rec``'s modes, the readout, the inputs."""
from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from neurobias.analysis._stats import expected_abs_cos
from neurobias.analysis.gain import _check_bank_units
from neurobias.analysis.tonic_patterns import as_bank
from neurobias.circuit.circuit import Circuit, check_circuit
from neurobias.errors import check_number

__all__ = ["tonic_alignment"]


def _modes(W: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Top ``k`` eigenpairs (by real part, then imaginary part, descending) and singular triplets of ``W``."""
    lam, vec = np.linalg.eig(W)
    order = np.lexsort((-lam.imag, -lam.real))[:k]
    lam, vec = lam[order], vec[:, order]
    vec = vec / np.linalg.norm(vec, axis=0, keepdims=True)
    u, s, vt = np.linalg.svd(W)
    return lam, vec, s[:k], u[:, :k], vt[:k].T


def _abs_cos(B: np.ndarray, V: np.ndarray) -> np.ndarray:
    """``|v_k^H b| / |b|`` for unit-norm columns ``v_k`` of ``V``; ``B`` of shape (..., unit)."""
    norm = np.linalg.norm(B, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.abs(B @ V.conj()) / np.where(norm > 0, norm, np.nan)


def _cos(B: np.ndarray, D: np.ndarray) -> np.ndarray:
    """Signed cosine between rows of ``B`` (..., unit) and columns of ``D`` (unit, k); NaN for zero vectors."""
    nb = np.linalg.norm(B, axis=-1, keepdims=True)
    nd = np.linalg.norm(D, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (B @ D) / (np.where(nb > 0, nb, np.nan) * np.where(nd > 0, nd, np.nan))


def tonic_alignment(
    circuit: Circuit, tonic: Any, *, n_modes: int = 10, n_shuffles: int = 100, seed: int = 0
) -> xr.Dataset:
    """How each context's tonic input lines up with ``W_rec``'s modes, the readout and the input weights.

    For the tonic input ``b_c`` and a unit-norm direction ``v``:

    * eigenvectors of ``W_rec`` (top ``n_modes`` by real part of the
      eigenvalue, descending): ``|v^H b_c| / |b_c|``, the magnitude of the
      complex projection onto the normalised (complex) eigenvector.  It is 1 when
      ``b_c`` is a real eigenvector; for a complex pair it is
      ``sqrt((a.b)^2 + (c.b)^2) / |b|`` with ``v = a + i c``, identical for both
      members of the pair, and at most 1;
    * left and right singular vectors of ``W_rec`` (``W_rec v_k = s_k u_k``):
      ``|u_k . b_c| / |b_c|`` and ``|v_k . b_c| / |b_c|`` (right vectors: the
      inputs ``W_rec`` amplifies most; left: the directions it writes to);
    * each readout row ``W_out[o]`` and each input column ``W_in[:, j]``: the
      cosine, signed (``readout_cos``, ``input_cos``) and absolute.

    Null: a direction uniform on the sphere in ``N`` dims has
    ``E|cos| = Gamma(N/2) / (sqrt(pi) Gamma((N+1)/2)) ~ sqrt(2 / (pi N))``
    (``attrs["null_abs_cos"]``; exact for the real directions).  With
    ``n_shuffles > 0`` each context's tonic input also has its units permuted
    ``n_shuffles`` times (keeping its values) and each alignment gets the
    shuffle mean ``<name>_null`` and ``<name>_p = (1 + #{null >= observed}) / (1 + n_shuffles)``.

    Parameters
    ----------
    circuit : Circuit
    tonic : DataArray (context, unit), Dataset with ``tonic``, or array (context, unit)
    n_modes : int
        Number of eigen- and singular modes (capped at the number of units).
    n_shuffles : int
        Number of unit shuffles of the null (0: none).
    seed : int
        Seed of the shuffles.

    Returns
    -------
    xarray.Dataset
        * ``eig_alignment``, ``left_alignment``, ``right_alignment (context, mode)``;
        * ``readout_alignment``, ``readout_cos (context, output)``;
        * ``input_alignment``, ``input_cos (context, input)``;
        * ``eig_real``, ``eig_imag``, ``singular_value (mode,)`` of ``W_rec``;
        * with shuffles, ``<alignment>_null`` and ``<alignment>_p`` of the same dims.

        Zero tonic vectors give NaN.  Attributes ``null_abs_cos``, ``n_shuffles``, ``seed``.
    """
    circuit = check_circuit(circuit)
    n_modes = check_number("n_modes", n_modes, ge=1, integer=True)
    n_shuffles = check_number("n_shuffles", n_shuffles, ge=0, integer=True)
    seed = check_number("seed", seed, ge=0, integer=True)
    bank = as_bank(tonic)
    _check_bank_units(bank, circuit)
    B = bank.values
    N = B.shape[1]
    k = min(n_modes, N)
    lam, vec, s, u, v = _modes(circuit.W_rec, k)

    def measures(X: np.ndarray) -> dict[str, np.ndarray]:
        readout = _cos(X, circuit.W_out.T)
        inp = _cos(X, circuit.W_in)
        return {
            "eig_alignment": _abs_cos(X, vec),
            "left_alignment": _abs_cos(X, u),
            "right_alignment": _abs_cos(X, v),
            "readout_alignment": np.abs(readout),
            "readout_cos": readout,
            "input_alignment": np.abs(inp),
            "input_cos": inp,
        }

    obs = measures(B)
    dims = {"eig_alignment": "mode", "left_alignment": "mode", "right_alignment": "mode",
            "readout_alignment": "output", "readout_cos": "output", "input_alignment": "input",
            "input_cos": "input"}
    long = {
        "eig_alignment": "|v^H b| / |b| with v the unit-norm eigenvector of W_rec",
        "left_alignment": "|u . b| / |b| with u the left singular vector of W_rec",
        "right_alignment": "|v . b| / |b| with v the right singular vector of W_rec",
        "readout_alignment": "|cos| between tonic input and readout row",
        "readout_cos": "cosine between tonic input and readout row",
        "input_alignment": "|cos| between tonic input and input-weight column",
        "input_cos": "cosine between tonic input and input-weight column",
    }
    data: dict[str, Any] = {name: (("context", dims[name]), val, {"long_name": long[name]})
                            for name, val in obs.items()}
    if n_shuffles:
        rng = np.random.default_rng(seed)
        names = ("eig_alignment", "left_alignment", "right_alignment", "readout_alignment", "input_alignment")
        total = {name: np.zeros_like(obs[name]) for name in names}
        count = {name: np.zeros(obs[name].shape) for name in names}
        batch = max(1, 2**22 // max(1, B.size))
        for start in range(0, n_shuffles, batch):
            m = min(batch, n_shuffles - start)
            Bs = np.stack([rng.permuted(B, axis=1) for _ in range(m)])  # (shuffle, context, unit)
            null = measures(Bs)
            for name in names:
                total[name] += null[name].sum(axis=0)
                with np.errstate(invalid="ignore"):
                    count[name] += np.sum(null[name] >= obs[name][None], axis=0)
        for name in names:
            data[f"{name}_null"] = (("context", dims[name]), total[name] / n_shuffles,
                                    {"long_name": f"{long[name]}, mean over unit shuffles of the tonic input"})
            p = (1.0 + count[name]) / (1.0 + n_shuffles)
            data[f"{name}_p"] = (("context", dims[name]), np.where(np.isfinite(obs[name]), p, np.nan),
                                 {"long_name": f"p-value of {name} against unit shuffles: "
                                               "(1 + #{null >= observed}) / (1 + n_shuffles)", "units": "1"})
    data["eig_real"] = (("mode",), lam.real.copy(), {"long_name": "eigenvalues of W_rec, real part"})
    data["eig_imag"] = (("mode",), lam.imag.copy(), {"long_name": "eigenvalues of W_rec, imaginary part"})
    data["singular_value"] = (("mode",), s, {"long_name": "singular values of W_rec, descending"})
    return xr.Dataset(
        data,
        coords={"context": bank.contexts, "mode": np.arange(k), "output": np.array(circuit.output_names, dtype=str),
                "input": np.array(circuit.input_names, dtype=str)},
        attrs={"null_abs_cos": expected_abs_cos(N), "n_shuffles": n_shuffles, "seed": seed},
    )

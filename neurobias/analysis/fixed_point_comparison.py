"""Fixed-point structure across contexts: matching, displacement, spectra and slow subspaces.

* :func:`match_fixed_points_between`: the fixed points of two contexts paired
  by a thresholded Hungarian assignment on Euclidean distance, with the
  displacement, the change of the eigenvalue spectrum and the principal angles
  between the slow subspaces of every matched pair, and the unmatched points of
  each side;
* :func:`compare_fixed_point_structure`: counts by stability per context and,
  per pair of contexts, a summary of the matching.

Input: the Dataset of :func:`neurobias.analysis.find_fixed_points` (one flat
``fp`` dimension with a ``context (fp)`` coordinate), or any Dataset with the
same layout.  Pure functions: no file I/O, no plotting.

Conventions (those of the fixed-point finder, :mod:`neurobias.analysis._spectra`):
eigenvalues of the Jacobian ``J = dF/dx`` of the flow in 1/ms, sorted by real
part descending (ties: imaginary part descending); right eigenvectors of unit
norm; left eigenvectors the rows of ``V^{-1}`` (``left . right = 1``).
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.optimize
import scipy.spatial.distance
import torch
import xarray as xr

from neurobias.analysis._spectra import STABILITIES, eig_sorted, left_vectors
from neurobias.analysis._stats import principal_angles
from neurobias.analysis.tonic_patterns import Bank, as_bank
from neurobias.circuit.circuit import Circuit, check_circuit
from neurobias.circuit.simulate import resolve_device
from neurobias.errors import InputError, check_number

__all__ = [
    "match_fixed_points_between",
    "compare_fixed_point_structure",
    "MATCH_RTOL",
    "KINDS",
]

KINDS: tuple[str, ...] = ("fixed", "slow")
MATCH_RTOL = 0.25
"""Default matching threshold, relative: ``threshold = MATCH_RTOL * (1 + s)`` with ``s`` the RMS norm of the points."""
RESIDUAL_FACTOR = 10.0
"""A point whose recomputed ``max|F|`` exceeds ``RESIDUAL_FACTOR * residual + RESIDUAL_ATOL`` is not the circuit's."""
RESIDUAL_ATOL = 1e-8
_REQUIRED = ("x", "kind", "stability", "index", "eig_real", "eig_imag")


# ------------------------------------------------------------------ validation
@dataclass(frozen=True)
class FixedPointSet:
    """A validated fixed-point Dataset as plain arrays (positions ``p`` along ``fp``).

    Attributes
    ----------
    fp : ndarray of int of shape (p,)
        The ``fp`` labels.
    x : ndarray of shape (p, unit)
        Positions, state units.
    context, kind, stability : ndarray of str of shape (p,)
    index : ndarray of int of shape (p,)
    eig : ndarray of complex of shape (p, mode)
        Eigenvalues of the Jacobian, 1/ms, sorted by real part descending.
    residual : ndarray of shape (p,) or None
    contexts : tuple of str
        Every context, in order (``attrs["contexts"]`` when present: it also
        names contexts without any point).
    inputs : ndarray of shape (len(contexts), input) or None
        Constant input of each context (``attrs["inputs"]``).
    units : ndarray of shape (unit,)
    right : ndarray of complex of shape (p, mode_top, unit) or None
        Right eigenvectors of the leading modes, when stored.
    attrs : dict
    """

    fp: np.ndarray
    x: np.ndarray
    context: np.ndarray
    kind: np.ndarray
    stability: np.ndarray
    index: np.ndarray
    eig: np.ndarray
    residual: np.ndarray | None
    contexts: tuple[str, ...]
    inputs: np.ndarray | None
    units: np.ndarray
    right: np.ndarray | None
    attrs: dict[str, Any]

    @property
    def n_units(self) -> int:
        return int(self.x.shape[1])

    def rows(self, context: str, kinds: tuple[str, ...], *, name: str = "context") -> np.ndarray:
        """Positions of the points of ``context`` whose kind is in ``kinds``."""
        check_context(self, context, name=name)
        return np.flatnonzero((self.context == context) & np.isin(self.kind, kinds))


def _attr_list(value: Any) -> list[Any] | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return [value]
        return parsed if isinstance(parsed, list) else [parsed]
    return list(np.asarray(value).tolist()) if np.ndim(value) else [np.asarray(value).item()]


def as_fixed_points(fixed_points: Any, *, name: str = "fixed_points") -> FixedPointSet:
    """Validate a fixed-point Dataset (layout of :func:`find_fixed_points`) and return its arrays."""
    if not isinstance(fixed_points, xr.Dataset):
        raise InputError(
            f"`{name}` must be the xarray Dataset of find_fixed_points (dims fp, unit, mode); "
            f"got {type(fixed_points).__name__}"
        )
    ds = fixed_points
    missing = [v for v in _REQUIRED if v not in ds.variables]
    if missing or "context" not in ds.coords:
        missing = missing + ([] if "context" in ds.coords else ["context (coordinate)"])
        raise InputError(
            f"`{name}` must be a fixed-point Dataset (as from find_fixed_points) with {', '.join(_REQUIRED)} and a "
            f"`context (fp)` coordinate; missing {missing}"
        )
    dims = {"x": ("fp", "unit"), "eig_real": ("fp", "mode"), "eig_imag": ("fp", "mode"), "kind": ("fp",),
            "stability": ("fp",), "index": ("fp",), "context": ("fp",)}
    for var, want in dims.items():
        if set(ds[var].dims) != set(want):
            raise InputError(f"`{name}` variable `{var}` must have dims {want}; got {tuple(map(str, ds[var].dims))}")
    x = np.asarray(ds["x"].transpose("fp", "unit").values, dtype=np.float64)
    if x.shape[1] < 1:
        raise InputError(f"`{name}` must have at least one unit; got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise InputError(f"`{name}` variable `x` must be finite; it has NaN or infinite entries")
    eig = (np.asarray(ds["eig_real"].transpose("fp", "mode").values, dtype=np.float64)
           + 1j * np.asarray(ds["eig_imag"].transpose("fp", "mode").values, dtype=np.float64))
    context = np.array([str(c) for c in ds["context"].values], dtype=str).reshape(-1)
    kind = np.array([str(k) for k in ds["kind"].values], dtype=str).reshape(-1)
    bad_kind = sorted(set(kind.tolist()) - set(KINDS))
    if bad_kind:
        raise InputError(f"`{name}` variable `kind` must hold 'fixed' or 'slow'; got {bad_kind}")
    listed = _attr_list(ds.attrs.get("contexts"))
    seen = list(dict.fromkeys(context.tolist()))
    if listed is not None and set(seen) <= {str(c) for c in listed}:
        contexts = tuple(str(c) for c in listed)
    else:
        contexts = tuple(seen)
    if len(set(contexts)) != len(contexts):
        raise InputError(f"`{name}` context names must be unique; got {list(contexts)}")
    inputs = None
    raw_inputs = _attr_list(ds.attrs.get("inputs"))
    if raw_inputs is not None and len(raw_inputs):
        try:
            arr = np.asarray(raw_inputs, dtype=np.float64)
        except (TypeError, ValueError):
            arr = np.zeros(0)
        if arr.size % max(len(contexts), 1) == 0 and arr.size:
            inputs = arr.reshape(len(contexts), -1)
    right = None
    if "right_real" in ds.variables and "right_imag" in ds.variables:
        right = (np.asarray(ds["right_real"].transpose("fp", "mode_top", "unit").values, dtype=np.float64)
                 + 1j * np.asarray(ds["right_imag"].transpose("fp", "mode_top", "unit").values, dtype=np.float64))
    residual = np.asarray(ds["residual"].values, dtype=np.float64).reshape(-1) if "residual" in ds.variables else None
    fp = np.asarray(ds["fp"].values).astype(np.int64) if "fp" in ds.coords else np.arange(x.shape[0])
    units = ds["unit"].values.copy() if "unit" in ds.coords else np.arange(x.shape[1])
    return FixedPointSet(
        fp=fp, x=x, context=context, kind=kind,
        stability=np.array([str(s) for s in ds["stability"].values], dtype=str).reshape(-1),
        index=np.asarray(ds["index"].values).astype(np.int64).reshape(-1), eig=eig, residual=residual,
        contexts=contexts, inputs=inputs, units=units, right=right, attrs=dict(ds.attrs),
    )


def check_context(points: FixedPointSet, context: Any, *, name: str = "context") -> str:
    """Raise :class:`InputError` unless ``context`` names a context of ``points``."""
    if not isinstance(context, str) or context not in points.contexts:
        raise InputError(f"`{name}` must be one of the fixed points' contexts {list(points.contexts)}; got {context!r}")
    return context


def check_kinds(value: Any, *, name: str = "kind") -> tuple[str, ...]:
    """``"fixed"``, ``"slow"`` or a sequence of them, as a tuple."""
    kinds = (value,) if isinstance(value, str) else tuple(value) if isinstance(value, Sequence) else None
    if not kinds or any(not isinstance(k, str) or k not in KINDS for k in kinds):
        raise InputError(f"`{name}` must be 'fixed', 'slow' or a sequence of them; got {value!r}")
    return tuple(dict.fromkeys(kinds))


def check_against_circuit(points: FixedPointSet, circuit: Circuit, bank: Bank | None) -> None:
    """Raise :class:`InputError` when the fixed points cannot belong to ``circuit`` (and ``bank``).

    Checks the number of units, the ``form``/``phi``/``tau`` attributes when
    present and, with a tonic bank, that every point's recomputed ``max|F|``
    is at most ``RESIDUAL_FACTOR * residual + RESIDUAL_ATOL``.
    """
    if points.n_units != circuit.n_units:
        raise InputError(
            f"`fixed_points` must have unit = {circuit.n_units} (the circuit's units); got {points.n_units}: "
            "fixed points of another circuit?"
        )
    for attr, value in (("form", circuit.form), ("phi", circuit.phi), ("tau", circuit.tau)):
        stored = points.attrs.get(attr)
        if stored is None:
            continue
        same = np.isclose(float(stored), value, rtol=1e-12) if attr == "tau" else str(stored) == value
        if not same:
            raise InputError(
                f"`fixed_points` were found with {attr} = {stored!r}, but `circuit` has {attr} = {value!r}: "
                "fixed points of another circuit?"
            )
    if bank is None:
        return
    if bank.values.shape[1] != circuit.n_units:
        raise InputError(
            f"`tonic` must have shape (context, unit) with unit = {circuit.n_units} (the circuit's units); "
            f"got {bank.values.shape[1]} units: results of another circuit?"
        )
    if points.residual is None or points.x.shape[0] == 0:
        return
    ext = drive_of(points, circuit, bank)
    with torch.no_grad():
        F = circuit.dynamics().vector_field(torch.tensor(points.x), torch.tensor(ext)).numpy()
    res = np.abs(F).max(axis=1)
    bad = res > RESIDUAL_FACTOR * points.residual + RESIDUAL_ATOL
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"`fixed_points` are not fixed points of `circuit` with `tonic`: point fp = {int(points.fp[i])} of "
            f"context {points.context[i]!r} has max|F| = {res[i]:.3g} per ms, stored residual "
            f"{points.residual[i]:.3g}: fixed points of another circuit or other tonic inputs?"
        )


def drive_of(points: FixedPointSet, circuit: Circuit, bank: Bank) -> np.ndarray:
    """The drive ``ext = W_in u_c + b_c`` of every point, shape (p, unit), state units."""
    where = {c: i for i, c in enumerate(bank.contexts.tolist())}
    absent = sorted(set(points.context.tolist()) - set(where))
    if absent:
        raise InputError(
            f"`tonic` must hold every context of the fixed points; missing {absent} (has {bank.contexts.tolist()})"
        )
    if points.x.shape[0] == 0:
        return np.zeros((0, circuit.n_units))
    ext = bank.values[[where[c] for c in points.context.tolist()]]
    if points.inputs is not None and circuit.n_inputs:
        if points.inputs.shape[1] != circuit.n_inputs:
            raise InputError(
                f"`fixed_points` attribute `inputs` has {points.inputs.shape[1]} input channels per context, "
                f"the circuit {circuit.n_inputs}: fixed points of another circuit?"
            )
        ctx_pos = {c: i for i, c in enumerate(points.contexts)}
        u = points.inputs[[ctx_pos[c] for c in points.context.tolist()]]
        ext = ext + u @ circuit.W_in.T
    return ext


# ------------------------------------------------------------------- spectra
def right_vectors(
    points: FixedPointSet, rows: np.ndarray, n_top: int, circuit: Circuit | None, bank: Bank | None, *,
    device: str | torch.device = "cpu",
) -> tuple[np.ndarray | None, np.ndarray | None, str]:
    """Leading eigenvalues (len(rows), n_top) and right eigenvectors (len(rows), unit, n_top) at ``rows``.

    Taken from the Dataset when it stores at least ``n_top`` eigenvectors,
    else computed from ``circuit``'s Jacobian (:meth:`neurobias.circuit.Dynamics.jacobian`)
    at the points; ``(None, None, "unavailable")`` when neither is possible.
    The third item names the source (``fixed_points`` or ``circuit``).
    """
    if points.right is not None and points.right.shape[1] >= n_top:
        return points.eig[rows, :n_top], points.right[rows, :n_top, :].transpose(0, 2, 1), "fixed_points"
    if circuit is None:
        return None, None, "unavailable"
    values, V, _ = spectra_at(points, rows, circuit, bank, n_top=n_top, left=False, device=device)
    return values[:, :n_top], V, "circuit"


def spectra_at(
    points: FixedPointSet, rows: np.ndarray, circuit: Circuit, bank: Bank | None, *, n_top: int, left: bool,
    device: str | torch.device = "cpu",
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Eigenvalues (m, unit), right vectors (m, unit, n_top) and left vectors (m, n_top, unit) at ``rows``.

    Same decomposition and conventions as the fixed-point finder.  The rate
    form's Jacobian depends on the drive, so it needs the tonic bank.
    """
    if bank is None and circuit.state_is_rate:
        raise InputError(
            "`tonic` is required to compute the Jacobian of a form='rate' circuit at the fixed points "
            "(or pass fixed points found with eigenvectors=True)"
        )
    if bank is None:
        ext = np.zeros((len(rows), circuit.n_units))
    else:
        sub = _subset(points, rows)
        ext = drive_of(sub, circuit, bank)
    with torch.no_grad():
        dev = resolve_device(device)
        J = circuit.dynamics(device=dev).jacobian(torch.tensor(points.x[rows], device=dev),
                                                  torch.tensor(ext, device=dev))
        spec = eig_sorted(J, vectors=True, n_top=None if left else n_top)
    assert spec.vectors is not None
    lefts = left_vectors(spec.vectors, n_top) if left else None
    return spec.values, spec.vectors[:, :, :n_top], lefts


def _subset(points: FixedPointSet, rows: np.ndarray) -> FixedPointSet:
    return FixedPointSet(
        fp=points.fp[rows], x=points.x[rows], context=points.context[rows], kind=points.kind[rows],
        stability=points.stability[rows], index=points.index[rows], eig=points.eig[rows],
        residual=None if points.residual is None else points.residual[rows], contexts=points.contexts,
        inputs=points.inputs, units=points.units, right=None if points.right is None else points.right[rows],
        attrs=points.attrs,
    )


def slow_basis(values: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """A real basis (not orthonormalised) of the span of the leading modes.

    Parameters
    ----------
    values : ndarray of complex of shape (k,)
        The ``k`` leading eigenvalues (sorted, as stored).
    vectors : ndarray of complex of shape (unit, k)
        Their right eigenvectors.

    Returns
    -------
    ndarray of shape (unit, d)
        A real mode contributes its eigenvector, a complex one its real and
        imaginary parts (which span the same real plane as the conjugate
        pair); a conjugate partner of a mode already taken adds nothing.  So
        ``d = k``, or ``k + 1`` when mode ``k - 1`` is complex and its partner
        is mode ``k``.
    """
    cols: list[np.ndarray] = []
    k = values.shape[0]
    j = 0
    while j < k:
        lam = values[j]
        cols.append(vectors[:, j].real)
        if lam.imag != 0:
            cols.append(vectors[:, j].imag)
            if j + 1 < k and np.isclose(values[j + 1], np.conj(lam), rtol=1e-9, atol=0.0):
                j += 1  # the conjugate partner spans the same real plane
        j += 1
    return np.stack(cols, axis=1)


def _angles_deg(A: np.ndarray, B: np.ndarray, n: int) -> np.ndarray:
    """The ``n`` smallest principal angles in degrees (NaN-padded; NaN for a degenerate basis)."""
    try:
        ang = np.degrees(principal_angles(A, B))[:n]
    except InputError:  # eigenvectors numerically parallel (defective Jacobian): no subspace of that dimension
        return np.full(n, np.nan)
    return np.concatenate([ang, np.full(n - ang.size, np.nan)])


# --------------------------------------------------------------------- matching
def default_threshold(xa: np.ndarray, xb: np.ndarray) -> float:
    """``MATCH_RTOL * (1 + s)``, ``s`` the root-mean-square Euclidean norm of the points of both sides."""
    both = np.concatenate([xa, xb])
    s = float(np.sqrt(np.mean(np.sum(both * both, axis=1)))) if both.shape[0] else 0.0
    return MATCH_RTOL * (1.0 + s)


def assign(xa: np.ndarray, xb: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Thresholded optimal assignment between two point sets.

    Maximises ``sum (threshold - d_ij)`` over the matched pairs, every pair
    with ``d_ij <= threshold`` (Euclidean distance): the Hungarian algorithm
    (:func:`scipy.optimize.linear_sum_assignment`) on the cost
    ``min(d_ij - threshold, 0)``, after which pairs farther apart than the
    threshold are dropped.  This prefers more matches and, among as many, the
    closest; identical sets give the identity.

    Returns
    -------
    ia, ib : ndarray of int of shape (match,)
        Matched positions in ``xa`` and ``xb``, ordered by ``ia``.
    d : ndarray of shape (match,)
        Their distances.
    """
    if xa.shape[0] == 0 or xb.shape[0] == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy(), np.zeros(0)
    D = scipy.spatial.distance.cdist(xa, xb)  # from differences: exact zeros for equal points
    ia, ib = scipy.optimize.linear_sum_assignment(np.minimum(D - threshold, 0.0))
    keep = D[ia, ib] <= threshold
    ia, ib = ia[keep].astype(np.int64), ib[keep].astype(np.int64)
    return ia, ib, D[ia, ib]


@dataclass(frozen=True)
class _Modes:
    """Per-point slow bases for the points of interest (positions -> basis or None)."""

    bases: dict[int, np.ndarray]
    source: str


def _slow_modes(points: FixedPointSet, rows: np.ndarray, n_slow: int, circuit: Circuit | None,
                bank: Bank | None, device: str | torch.device) -> _Modes:
    if n_slow == 0:
        return _Modes({}, "none")
    if rows.size == 0:
        return _Modes({}, "no points")
    values, V, source = right_vectors(points, rows, n_slow, circuit, bank, device=device)
    if values is None or V is None:
        return _Modes({}, source)
    return _Modes({int(r): slow_basis(values[i], V[i]) for i, r in enumerate(rows)}, source)


def _pair_stats(points: FixedPointSet, ra: np.ndarray, rb: np.ndarray, threshold: float | None, n_modes: int,
                n_slow: int, modes: _Modes) -> dict[str, Any]:
    thr = default_threshold(points.x[ra], points.x[rb]) if threshold is None else threshold
    ia, ib, d = assign(points.x[ra], points.x[rb], thr)
    pa, pb = ra[ia], rb[ib]
    dlam = points.eig[pb, :n_modes] - points.eig[pa, :n_modes]
    angles = np.full((pa.size, n_slow), np.nan)
    if modes.bases:
        for m, (a, b) in enumerate(zip(pa.tolist(), pb.tolist())):
            angles[m] = _angles_deg(modes.bases[a], modes.bases[b], n_slow)
    return {
        "threshold": thr, "pa": pa, "pb": pb, "distance": d,
        "displacement": points.x[pb] - points.x[pa],
        "eig_change": np.abs(dlam),
        "leading_change": points.eig[pb, 0] - points.eig[pa, 0],
        "slow_angle": angles,
        "unmatched_a": np.setdiff1d(ra, pa), "unmatched_b": np.setdiff1d(rb, pb),
    }


def check_threshold(threshold: Any) -> float | None:
    """``None`` or a non-negative finite distance (state units)."""
    if threshold is None:
        return None
    return check_number("threshold", threshold, ge=0, units="state units, or None")


def _resolve_bank(tonic: Any) -> Bank | None:
    return None if tonic is None else as_bank(tonic)


def prepare_inputs(fixed_points: Any, circuit: Any, tonic: Any) -> tuple[FixedPointSet, Circuit | None, Bank | None]:
    """Validate the fixed points, the optional circuit and tonic bank, and check they belong together."""
    points = as_fixed_points(fixed_points)
    circ = None if circuit is None else check_circuit(circuit)
    bank = _resolve_bank(tonic)
    if bank is not None and circ is None:
        raise InputError("`tonic` is only used with `circuit` (to compute the Jacobians); pass `circuit` too")
    if circ is not None:
        check_against_circuit(points, circ, bank)
    return points, circ, bank


def check_rank(name: str, value: Any, n_units: int, *, low: int) -> int:
    """An integer >= ``low``, capped at ``n_units``."""
    return min(check_number(name, value, ge=low, integer=True), n_units)


def match_fixed_points_between(
    fixed_points: xr.Dataset,
    context_a: str,
    context_b: str,
    *,
    threshold: float | None = None,
    kind: str | Sequence[str] = "fixed",
    circuit: Circuit | None = None,
    tonic: Any = None,
    n_modes: int = 5,
    n_slow: int = 2,
    device: str | torch.device = "cpu",
) -> xr.Dataset:
    """Pair the fixed points of two contexts and compare every matched pair.

    Matching: the points of ``context_a`` and ``context_b`` (of the given
    ``kind``) are assigned one to one by the Hungarian algorithm on their
    Euclidean distance ``d = |x_b - x_a|``, pairs farther apart than
    ``threshold`` being forbidden: the assignment maximises
    ``sum (threshold - d)`` over the matched pairs (more matches first, then
    closer ones; see :func:`assign`).  Points left without a partner are
    reported as unmatched: fixed points that the change of context created or
    destroyed (or moved farther than the threshold).

    Default ``threshold``: ``MATCH_RTOL * (1 + s)`` with ``MATCH_RTOL = 0.25``
    and ``s`` the root-mean-square Euclidean norm of the points of both
    contexts (state units): a point may move by a quarter of the typical
    distance of the points from the origin (the ``1 +`` keeps the threshold
    meaningful when every point sits near the origin, as the finder's
    ``merge_tol`` does).

    For each matched pair:

    * spectra: ``eig_change[k] = |lambda_b,k - lambda_a,k|`` for the
      ``n_modes`` leading eigenvalues, each side sorted by real part
      descending (the finder's order), its maximum ``eig_change_max``, and the
      change of the leading eigenvalue ``leading_change_real/imag``;
    * slow subspaces: the span of the ``n_slow`` slowest modes (largest real
      parts) at each point, as a real basis (a real mode contributes its right
      eigenvector, a complex mode its real and imaginary parts, so a complex
      pair cut by ``n_slow`` is kept whole), and the principal angles between
      the two spans (:func:`neurobias.analysis._stats.principal_angles`), the
      ``n_slow`` smallest, in degrees.  The eigenvectors come from the Dataset
      (``find_fixed_points(..., eigenvectors=True)``) when it stores at least
      ``n_slow`` of them, otherwise from ``circuit``'s Jacobian at the points;
      with neither, the angles are NaN.

    Parameters
    ----------
    fixed_points : xarray.Dataset
        Output of :func:`neurobias.analysis.find_fixed_points` (``x (fp, unit)``,
        ``context (fp)``, ``kind``, ``stability``, ``index``, ``eig_real``,
        ``eig_imag (fp, mode)``).
    context_a, context_b : str
        Context names (may be equal).
    threshold : float, optional
        Largest distance of a matched pair, state units (default: relative, above).
    kind : {"fixed", "slow"} or sequence of them
        Which points take part.
    circuit : Circuit, optional
        The circuit the points belong to: checked against the points (units,
        ``form``, ``phi``, ``tau``, and with ``tonic`` the residuals) and used for
        the eigenvectors when the Dataset has none.
    tonic : DataArray (context, unit), Dataset with ``tonic``, or array, optional
        The tonic inputs the points were found with (needed for the Jacobian of
        a ``form="rate"`` circuit; enables the residual check).
    n_modes : int
        Leading eigenvalues compared (capped at ``unit``).
    n_slow : int
        Dimension of the slow subspaces (0: no angles; capped at ``unit``).
    device : str or torch.device
        Where the Jacobians and their spectra are computed when the points do
        not carry eigenvectors (float64; results are always in host memory).

    Returns
    -------
    xarray.Dataset
        Dimensions ``match``, ``unit``, ``mode`` (``n_modes``), ``slow_dim``
        (``n_slow``), ``unmatched_a``, ``unmatched_b``:

        * ``fp_a``, ``fp_b (match)``: ``fp`` labels of the matched points (pairs
          ordered by ``fp_a``);
        * ``distance (match)``: ``|x_b - x_a|``, state units;
          ``displacement (match, unit)``: ``x_b - x_a``;
        * ``stability_a/b``, ``index_a/b``, ``kind_a/b (match)``;
        * ``eig_change (match, mode)``, ``eig_change_max (match)``,
          ``leading_change_real``, ``leading_change_imag (match)``: 1/ms;
        * ``slow_angle (match, slow_dim)``: principal angles, degrees, ascending;
        * coordinates ``unmatched_a``, ``unmatched_b``: ``fp`` labels of the
          points of each side without a partner.

        Attributes ``context_a``, ``context_b``, ``threshold`` (the value used),
        ``threshold_rule``, ``kind``, ``n_a``, ``n_b``, ``n_modes``, ``n_slow``,
        ``slow_source`` (``fixed_points``, ``circuit``, ``unavailable``, ``none``
        when ``n_slow = 0``, or ``no points``).

    Raises
    ------
    InputError
        Not a fixed-point Dataset, unknown context, bad options, or points that
        do not belong to ``circuit`` / ``tonic``.
    """
    points, circ, bank = prepare_inputs(fixed_points, circuit, tonic)
    kinds = check_kinds(kind)
    thr = check_threshold(threshold)
    n_modes = check_rank("n_modes", n_modes, points.eig.shape[1], low=1)
    n_slow = check_rank("n_slow", n_slow, points.n_units, low=0)
    ra = points.rows(context_a, kinds, name="context_a")
    rb = points.rows(context_b, kinds, name="context_b")
    modes = _slow_modes(points, np.union1d(ra, rb), n_slow, circ, bank, device)
    st = _pair_stats(points, ra, rb, thr, n_modes, n_slow, modes)
    pa, pb = st["pa"], st["pb"]
    match_dims = ("match",)
    data: dict[str, Any] = {
        "fp_a": (match_dims, points.fp[pa], {"long_name": f"fp label of the point of {context_a}"}),
        "fp_b": (match_dims, points.fp[pb], {"long_name": f"fp label of the matched point of {context_b}"}),
        "distance": (match_dims, st["distance"], {"long_name": "|x_b - x_a|", "units": "state units"}),
        "displacement": (("match", "unit"), st["displacement"], {"long_name": "x_b - x_a", "units": "state units"}),
        "stability_a": (match_dims, points.stability[pa]),
        "stability_b": (match_dims, points.stability[pb]),
        "index_a": (match_dims, points.index[pa]),
        "index_b": (match_dims, points.index[pb]),
        "kind_a": (match_dims, points.kind[pa]),
        "kind_b": (match_dims, points.kind[pb]),
        "eig_change": (("match", "mode"), st["eig_change"],
                       {"long_name": "|lambda_b,k - lambda_a,k| of the sorted leading eigenvalues", "units": "1/ms"}),
        "eig_change_max": (match_dims, st["eig_change"].max(axis=1) if pa.size else np.zeros(0),
                           {"long_name": "max_k |lambda_b,k - lambda_a,k|", "units": "1/ms"}),
        "leading_change_real": (match_dims, st["leading_change"].real.copy(),
                                {"long_name": "Re(lambda_b,0 - lambda_a,0)", "units": "1/ms"}),
        "leading_change_imag": (match_dims, st["leading_change"].imag.copy(),
                                {"long_name": "Im(lambda_b,0 - lambda_a,0)", "units": "1/ms"}),
        "slow_angle": (("match", "slow_dim"), st["slow_angle"],
                       {"long_name": "principal angles between the slow subspaces", "units": "degrees"}),
    }
    coords = {
        "match": np.arange(pa.size), "unit": points.units, "mode": np.arange(n_modes), "slow_dim": np.arange(n_slow),
        "unmatched_a": ("unmatched_a", points.fp[st["unmatched_a"]]),
        "unmatched_b": ("unmatched_b", points.fp[st["unmatched_b"]]),
    }
    attrs = {
        "context_a": context_a, "context_b": context_b, "threshold": float(st["threshold"]),
        "threshold_rule": "given" if thr is not None else f"{MATCH_RTOL} * (1 + RMS norm of the points)",
        "kind": list(kinds), "n_a": int(ra.size), "n_b": int(rb.size), "n_modes": n_modes, "n_slow": n_slow,
        "slow_source": modes.source,
    }
    return xr.Dataset(data, coords=coords, attrs=attrs)


# ---------------------------------------------------------------- structure
def _check_pairs(pairs: Any, contexts: tuple[str, ...]) -> list[tuple[str, str]]:
    if pairs is None:
        return [(a, b) for i, a in enumerate(contexts) for b in contexts[i:]]
    out = []
    try:
        items = list(pairs)
    except TypeError:
        raise InputError(f"`pairs` must be a sequence of (context, context_b) name pairs; got {pairs!r}") from None
    for item in items:
        if isinstance(item, str) or not isinstance(item, Sequence) or len(item) != 2:
            raise InputError(f"`pairs` must hold (context, context_b) name pairs; got {item!r}")
        for name in item:
            if not isinstance(name, str) or name not in contexts:
                raise InputError(f"`pairs` must name the fixed points' contexts {list(contexts)}; got {name!r}")
        out.append((str(item[0]), str(item[1])))
    return out


def fixed_point_structure(
    points: FixedPointSet,
    circuit: Circuit | None,
    bank: Bank | None,
    *,
    pairs: list[tuple[str, str]],
    threshold: float | None,
    kinds: tuple[str, ...],
    n_modes: int,
    n_slow: int,
    device: str | torch.device = "cpu",
) -> xr.Dataset:
    """The work of :func:`compare_fixed_point_structure` on validated input (any number of contexts)."""
    ctx = points.contexts
    C = len(ctx)
    sel = np.isin(points.kind, kinds)
    counts = np.array([[int(np.sum(sel & (points.context == c) & (points.stability == s))) for s in STABILITIES]
                       for c in ctx], dtype=np.int64).reshape(C, len(STABILITIES))
    n_points = np.array([int(np.sum(sel & (points.context == c))) for c in ctx], dtype=np.int64)
    modes = _slow_modes(points, np.flatnonzero(sel), n_slow, circuit, bank, device)
    pos = {c: i for i, c in enumerate(ctx)}
    ints = {k: np.full((C, C), -1, dtype=np.int64) for k in ("n_matched", "n_unmatched_a", "n_unmatched_b",
                                                             "n_stability_changed")}
    floats = {k: np.full((C, C), np.nan) for k in ("threshold", "mean_displacement", "max_displacement",
                                                   "mean_eig_change", "max_eig_change", "mean_leading_change",
                                                   "mean_slow_angle")}
    rows = {c: points.rows(c, kinds) for c in ctx}
    for a, b in pairs:
        st = _pair_stats(points, rows[a], rows[b], threshold, n_modes, n_slow, modes)
        m = st["pa"].size
        vals_f = {
            "threshold": st["threshold"],
            "mean_displacement": float(st["distance"].mean()) if m else np.nan,
            "max_displacement": float(st["distance"].max()) if m else np.nan,
            "mean_eig_change": float(st["eig_change"].max(axis=1).mean()) if m else np.nan,
            "max_eig_change": float(st["eig_change"].max()) if m else np.nan,
            "mean_leading_change": float(np.abs(st["leading_change"]).mean()) if m else np.nan,
            "mean_slow_angle": (float(np.mean(st["slow_angle"][:, 0]))
                                if m and n_slow and not np.all(np.isnan(st["slow_angle"][:, 0])) else np.nan),
        }
        changed = int(np.sum(points.stability[st["pa"]] != points.stability[st["pb"]]))
        i, j = pos[a], pos[b]
        for (p, q), (ua, ub) in (((i, j), ("unmatched_a", "unmatched_b")), ((j, i), ("unmatched_b", "unmatched_a"))):
            ints["n_matched"][p, q] = m
            ints["n_unmatched_a"][p, q] = st[ua].size
            ints["n_unmatched_b"][p, q] = st[ub].size
            ints["n_stability_changed"][p, q] = changed
            for k, v in vals_f.items():
                floats[k][p, q] = v
    pair = ("context", "context_b")
    long = {
        "n_matched": "matched points",
        "n_unmatched_a": "points of context without a partner in context_b",
        "n_unmatched_b": "points of context_b without a partner in context",
        "n_stability_changed": "matched pairs whose stability label differs",
        "threshold": "matching threshold (state units)",
        "mean_displacement": "mean |x_b - x_a| over matched pairs (state units)",
        "max_displacement": "max |x_b - x_a| over matched pairs (state units)",
        "mean_eig_change": "mean over matched pairs of max_k |lambda_b,k - lambda_a,k| (1/ms)",
        "max_eig_change": "max over matched pairs and leading modes of |lambda_b,k - lambda_a,k| (1/ms)",
        "mean_leading_change": "mean |lambda_b,0 - lambda_a,0| over matched pairs (1/ms)",
        "mean_slow_angle": "mean over matched pairs of the smallest principal angle between slow subspaces "
                           "(degrees)",
    }
    data: dict[str, Any] = {
        "counts": (("context", "stability"), counts, {"long_name": "points by stability"}),
        "n_points": (("context",), n_points, {"long_name": "points of the selected kind"}),
    }
    for k, v in {**ints, **floats}.items():
        data[k] = (pair, v, {"long_name": long[k]})
    return xr.Dataset(
        data,
        coords={"context": np.array(ctx, dtype=str), "context_b": ("context_b", np.array(ctx, dtype=str)),
                "stability": np.array(STABILITIES, dtype=str)},
        attrs={"kind": list(kinds), "n_modes": n_modes, "n_slow": n_slow, "slow_source": modes.source,
               "threshold_rule": "given" if threshold is not None else
               f"{MATCH_RTOL} * (1 + RMS norm of the points), per pair"},
    )


def compare_fixed_point_structure(
    fixed_points: xr.Dataset,
    *,
    circuit: Circuit | None = None,
    tonic: Any = None,
    pairs: Sequence[tuple[str, str]] | None = None,
    threshold: float | None = None,
    kind: str | Sequence[str] = "fixed",
    n_modes: int = 5,
    n_slow: int = 2,
    device: str | torch.device = "cpu",
) -> xr.Dataset:
    """Fixed-point structure per context and its changes between contexts.

    Per context, the points of the selected ``kind`` counted by stability.
    Per pair of contexts, the matching of :func:`match_fixed_points_between`
    (same options, same default threshold computed per pair) summarised: how
    many points are matched and left over on each side, how far the matched
    ones moved, how much their spectra changed and the angle between their
    slow subspaces.  The matching is symmetric, so ``(c, d)`` and ``(d, c)``
    hold the same values with ``n_unmatched_a`` and ``n_unmatched_b`` swapped;
    the diagonal compares a context with itself (everything matched, zeros).

    Parameters
    ----------
    fixed_points : xarray.Dataset
        Output of :func:`neurobias.analysis.find_fixed_points`, at least two contexts.
    circuit, tonic
        As in :func:`match_fixed_points_between` (checks and slow subspaces).
    pairs : sequence of (str, str), optional
        Pairs of contexts to compare (default: every pair, diagonal included);
        pairs not compared hold -1 (counts) and NaN.
    threshold, kind, n_modes, n_slow, device
        As in :func:`match_fixed_points_between`.

    Returns
    -------
    xarray.Dataset
        * ``counts (context, stability)``: points by stability (``stable``,
          ``marginal``, ``saddle``, ``unstable``); ``n_points (context,)``;
        * ``(context, context_b)``: ``n_matched``, ``n_unmatched_a`` (points of
          ``context`` without a partner), ``n_unmatched_b``,
          ``n_stability_changed``, ``threshold`` (state units),
          ``mean_displacement``, ``max_displacement`` (state units),
          ``mean_eig_change`` (mean over matched pairs of ``eig_change_max``),
          ``max_eig_change``, ``mean_leading_change`` (mean ``|Δλ_0|``, 1/ms),
          ``mean_slow_angle`` (mean smallest principal angle, degrees); NaN
          where nothing is matched.

        Attributes ``kind``, ``n_modes``, ``n_slow``, ``slow_source``, ``threshold_rule``.

    Raises
    ------
    InputError
        Fewer than two contexts, unknown context names in ``pairs``, or the
        errors of :func:`match_fixed_points_between`.
    """
    points, circ, bank = prepare_inputs(fixed_points, circuit, tonic)
    if len(points.contexts) < 2:
        raise InputError(
            f"compare_fixed_point_structure needs at least two contexts in `fixed_points`; got "
            f"{len(points.contexts)} ({list(points.contexts)})"
        )
    kinds = check_kinds(kind)
    thr = check_threshold(threshold)
    n_modes = check_rank("n_modes", n_modes, points.eig.shape[1], low=1)
    n_slow = check_rank("n_slow", n_slow, points.n_units, low=0)
    return fixed_point_structure(points, circ, bank, pairs=_check_pairs(pairs, points.contexts), threshold=thr,
                                 kinds=kinds, n_modes=n_modes, n_slow=n_slow, device=device)

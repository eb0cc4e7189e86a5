"""Line and ring attractors: manifolds of fixed and slow points, and Mante et al.'s selection vectors.

* :func:`detect_manifold`: PCA of the positions of a context's fixed and slow
  points: participation ratio, an estimated dimension (0 isolated points, 1 a
  line, 2 a plane or ring), the global and local tangents, and for a ring a
  closure check;
* :func:`selection_vectors`: Mante, Sussillo, Shenoy & Newsome (2013, Nature
  503:78): at a point of the line attractor of each context, the left
  eigenvector of the slowest mode (the *selection vector*: the input
  component along it is what the line integrates) and the right eigenvector
  (the line direction), and their angles with every input direction.

Pure functions: xarray in, xarray out.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.spatial.distance
import torch
import xarray as xr

from neurobias.analysis._stats import participation_ratio
from neurobias.analysis.fixed_point_comparison import (
    as_fixed_points,
    check_context,
    check_kinds,
    drive_of,
    prepare_inputs,
    spectra_at,
)
from neurobias.circuit.circuit import Circuit
from neurobias.errors import InputError, check_number

__all__ = ["detect_manifold", "selection_vectors", "SHAPES"]

SHAPES: tuple[str, ...] = ("none", "isolated", "line", "ring", "arc", "plane")


def _fraction(name: str, value: Any) -> float:
    ok = not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating))
    if not ok or not np.isfinite(value) or not 0 < value <= 1:
        raise InputError(f"`{name}` must be a number in (0, 1]; got {value!r}")
    return float(value)


def _largest_gap(values: np.ndarray) -> float:
    """Largest gap between consecutive sorted values as a fraction of their range (0 for fewer than 2)."""
    v = np.sort(values)
    span = float(v[-1] - v[0]) if v.size > 1 else 0.0
    return float(np.max(np.diff(v)) / span) if span > 0 else 0.0


def _fit_circle(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares circle through 2-d points (Kasa 1976): centre (2,) and each point's distance to it."""
    A = np.column_stack([2.0 * xy, np.ones(xy.shape[0])])
    sol = np.linalg.lstsq(A, np.sum(xy * xy, axis=1), rcond=None)[0]
    centre = sol[:2]
    return centre, np.sqrt(np.sum((xy - centre) ** 2, axis=1))


def _sign_fix(vt: np.ndarray) -> np.ndarray:
    """Rows with their largest-magnitude entry made positive."""
    if vt.size == 0:
        return vt
    signs = np.sign(vt[np.arange(vt.shape[0]), np.argmax(np.abs(vt), axis=1)])
    return vt * np.where(signs == 0, 1.0, signs)[:, None]


def detect_manifold(
    fixed_points: xr.Dataset,
    context: str,
    *,
    kind: str | Sequence[str] = ("fixed", "slow"),
    max_dim: int = 2,
    var_threshold: float = 0.95,
    min_points: int = 5,
    max_gap: float = 0.25,
    max_radial_cv: float = 0.25,
    n_neighbors: int = 5,
) -> xr.Dataset:
    """Is there a line or ring of fixed and slow points in a context?

    Continuous attractors show up in :func:`neurobias.analysis.find_fixed_points`
    as many slow points (run it with a looser ``slow_q``) and marginal fixed
    points strung along a curve.  The positions ``x_p`` of the context's points
    of the selected ``kind`` are centred and decomposed (PCA, variances
    ``lambda_k = s_k^2 / p``), and the dimension is decided by these rules, in
    order:

    1. fewer than ``min_points`` points, or all at one place: dimension 0
       (``shape = "isolated"``, or ``"none"`` without any point);
    2. ``d`` = the fewest principal components holding ``var_threshold`` of the
       variance; ``d > max_dim``: dimension 0, ``"isolated"`` (no
       low-dimensional structure);
    3. ``d = 1``: a line if the points sample it densely, i.e. the largest gap
       between consecutive projections on PC1 is at most ``max_gap`` of their
       range (dimension 1, ``"line"``); otherwise separate points along a line
       (dimension 0, ``"isolated"``, e.g. the three fixed points of a bistable unit);
    4. ``d = 2``: a circle is fitted to the points in the PC1-PC2 plane (least
       squares, Kasa 1976); ``radial_cv = std(r) / mean(r)`` of their distances
       ``r`` to its centre.  With ``radial_cv <= max_radial_cv`` the points lie
       on a circle: if the largest angular gap between consecutive points
       around the centre is at most ``max_gap`` of the full turn, a closed
       ring (``closed = 1``, ``"ring"``); otherwise an open arc (``"arc"``)
       when its second-largest gap is at most ``max_gap`` of the angle the arc
       covers.  With a larger ``radial_cv``, a plane (``"plane"``) when the
       largest gap of the projections on PC1 and on PC2 is at most ``max_gap``
       of their range.  Otherwise dimension 0, ``"isolated"``.  Rings, arcs
       and planes have dimension 2 (the linear dimension of their span).

    Tangents: ``tangent (unit,)`` is PC1; ``local_tangent (point, unit)`` the
    first principal axis of each point's ``n_neighbors`` nearest points
    (itself included), signed to agree with PC1 (compare it with the right
    eigenvector of the slowest mode to check that the flow is slow along the
    manifold).

    Parameters
    ----------
    fixed_points : xarray.Dataset
        Output of :func:`neurobias.analysis.find_fixed_points`.
    context : str
    kind : {"fixed", "slow"} or sequence of them
        Points used (default both).
    max_dim : int
        Largest dimension reported (1 or 2); more components means "isolated".
    var_threshold : float
        Fraction of variance, in (0, 1].
    min_points : int
        Fewest points that can make a manifold (>= 2).
    max_gap : float
        Largest gap (fraction of the range, or of the full turn for a ring), in (0, 1].
    max_radial_cv : float
        Largest radial coefficient of variation of a ring or arc, in (0, 1].
    n_neighbors : int
        Points in each local PCA (>= 2, capped at the number of points).

    Returns
    -------
    xarray.Dataset
        Dimensions ``point`` (coordinate: the ``fp`` labels), ``component``, ``unit``:

        * ``explained_variance``, ``explained_variance_ratio (component,)``
          (state units squared, fraction); ``loadings (component, unit)``
          (unit norm, largest entry positive); ``scores (point, component)``;
        * ``participation_ratio ()``: ``(sum lambda)^2 / sum lambda^2`` (NaN
          with fewer than two distinct points);
        * ``dimension ()`` (int: 0, 1 or 2), ``shape ()`` (one of :data:`SHAPES`),
          ``n_components_needed ()`` (``d`` of rule 2), ``n_points ()``;
        * ``max_gap ()``: the largest gap of rule 3 or 4 (NaN when not reached);
          ``radial_cv ()`` (around the fitted circle; NaN unless ``d = 2``);
          ``closed ()`` (int8, 1 for a closed ring);
        * ``extent ()``: the standard deviation along PC1 (state units);
        * ``tangent (unit,)``, ``local_tangent (point, unit)``,
          ``tangent_alignment (point,)``: ``|cos|`` between local and global tangent.

        Attributes: ``context``, ``kind`` and every threshold.

    Raises
    ------
    InputError
        Unknown context, bad options, not a fixed-point Dataset.
    """
    points = as_fixed_points(fixed_points)
    check_context(points, context)
    kinds = check_kinds(kind)
    max_dim = check_number("max_dim", max_dim, ge=1, integer=True)
    if max_dim > 2:
        raise InputError(f"`max_dim` must be 1 or 2; got {max_dim}")
    var_threshold = _fraction("var_threshold", var_threshold)
    min_points = check_number("min_points", min_points, ge=2, integer=True)
    max_gap = _fraction("max_gap", max_gap)
    max_radial_cv = _fraction("max_radial_cv", max_radial_cv)
    n_neighbors = check_number("n_neighbors", n_neighbors, ge=2, integer=True)
    rows = points.rows(context, kinds)
    X = points.x[rows]
    p, N = X.shape
    K = min(p, N)
    Xc = X - X.mean(axis=0) if p else X
    if p:
        _, s, vt = np.linalg.svd(Xc, full_matrices=False)
        s, vt = s[:K], _sign_fix(vt[:K])
    else:
        s, vt = np.zeros(0), np.zeros((0, N))
    ev = s * s / max(p, 1)
    total = float(ev.sum())
    ratio = ev / total if total > 0 else np.full(K, np.nan)
    scores = Xc @ vt.T
    pr = participation_ratio(ev) if total > 0 else float("nan")

    needed = int(np.searchsorted(np.cumsum(ratio), var_threshold - 1e-12) + 1) if total > 0 else 0
    dim, shape, gap, radial_cv, closed = 0, "none" if p == 0 else "isolated", np.nan, np.nan, False
    if p >= min_points and total > 0 and needed <= max_dim:
        if needed == 1:
            gap = _largest_gap(scores[:, 0])
            if gap <= max_gap:
                dim, shape = 1, "line"
        else:
            xy = scores[:, :2]
            centre, r = _fit_circle(xy)
            radial_cv = float(np.std(r) / np.mean(r)) if np.all(np.isfinite(r)) and np.mean(r) > 0 else np.inf
            if radial_cv <= max_radial_cv:
                theta = np.sort(np.arctan2(xy[:, 1] - centre[1], xy[:, 0] - centre[0]))
                turn = np.sort(np.diff(np.concatenate([theta, theta[:1] + 2 * np.pi])))
                if turn[-1] / (2 * np.pi) <= max_gap:
                    dim, shape, gap, closed = 2, "ring", float(turn[-1] / (2 * np.pi)), True
                else:  # an open arc: its largest inner gap against the angle it covers
                    gap = float(turn[-2] / (2 * np.pi - turn[-1]))
                    if gap <= max_gap:
                        dim, shape = 2, "arc"
            else:
                gap = max(_largest_gap(scores[:, 0]), _largest_gap(scores[:, 1]))
                if gap <= max_gap:
                    dim, shape = 2, "plane"

    tangent = vt[0] if K else np.full(N, np.nan)
    local = np.full((p, N), np.nan)
    if p >= 2 and total > 0:
        k = min(n_neighbors, p)
        D = scipy.spatial.distance.cdist(X, X, "sqeuclidean")
        near = np.argsort(D, axis=1, kind="stable")[:, :k]
        for i in range(p):
            nb = X[near[i]] - X[near[i]].mean(axis=0)
            t = np.linalg.svd(nb, full_matrices=False)[2][0]
            local[i] = t if t @ tangent >= 0 else -t
    align = np.abs(local @ tangent) if K else np.full(p, np.nan)

    comp = np.arange(K)
    return xr.Dataset(
        {
            "explained_variance": (("component",), ev, {"long_name": "variance of the positions along each axis",
                                                       "units": "state units squared"}),
            "explained_variance_ratio": (("component",), ratio),
            "loadings": (("component", "unit"), vt, {"long_name": "principal axes of the positions (unit norm)"}),
            "scores": (("point", "component"), scores, {"long_name": "centred positions on the axes",
                                                        "units": "state units"}),
            "participation_ratio": ((), pr, {"long_name": "(sum lambda)^2 / sum lambda^2 of the positions"}),
            "dimension": ((), np.int64(dim), {"long_name": "0 isolated points, 1 line, 2 plane or ring"}),
            "shape": ((), shape),
            "n_components_needed": ((), np.int64(needed),
                                    {"long_name": "fewest components holding var_threshold of the variance"}),
            "n_points": ((), np.int64(p)),
            "max_gap": ((), float(gap), {"long_name": "largest gap, fraction of the range (or of the turn, ring)"}),
            "radial_cv": ((), float(radial_cv), {"long_name": "std/mean of the distance to the circle fitted "
                                                              "in the PC1-PC2 plane"}),
            "closed": ((), np.int8(closed), {"long_name": "1 for a closed ring"}),
            "extent": ((), float(np.sqrt(ev[0])) if K else np.nan,
                       {"long_name": "standard deviation along PC1", "units": "state units"}),
            "tangent": (("unit",), tangent, {"long_name": "PC1 of the positions"}),
            "local_tangent": (("point", "unit"), local, {"long_name": "first axis of the nearest points"}),
            "tangent_alignment": (("point",), align, {"long_name": "|cos| between local tangent and PC1"}),
        },
        coords={"point": points.fp[rows], "component": comp, "unit": points.units},
        attrs={"context": context, "kind": list(kinds), "max_dim": max_dim, "var_threshold": var_threshold,
               "min_points": min_points, "max_gap_threshold": max_gap, "max_radial_cv": max_radial_cv,
               "n_neighbors": n_neighbors},
    )


# -------------------------------------------------------------- selection vectors
def _line_angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle in degrees, in [0, 90], between the line through ``a`` (unit,) and each column of ``b`` (unit, k)."""
    na, nb = np.linalg.norm(a), np.linalg.norm(b, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.abs(a @ b) / (na * np.where(nb > 0, nb, np.nan))
    return np.degrees(np.arccos(np.clip(cos, 0.0, 1.0)))


def _input_columns(circuit: Circuit, input_names: Any) -> list[int]:
    names = list(circuit.input_names)
    if circuit.n_inputs == 0:
        raise InputError("`circuit` must have at least one input channel for selection vectors; it has none")
    if input_names is None:
        return list(range(len(names)))
    chosen = [input_names] if isinstance(input_names, str) else list(input_names)
    bad = [n for n in chosen if not isinstance(n, str) or n not in names]
    if bad or not chosen:
        raise InputError(f"`input_names` must name inputs of the circuit {names}; got {input_names!r}")
    return [names.index(n) for n in chosen]


def selection_vectors(
    circuit: Circuit,
    tonic: Any,
    fixed_points: xr.Dataset,
    *,
    input_names: Sequence[str] | None = None,
    kind: str | Sequence[str] = ("fixed", "slow"),
    contexts: Sequence[str] | None = None,
    device: str | torch.device = "cpu",
) -> xr.Dataset:
    """Selection vector and line direction of each context's slowest mode (Mante et al. 2013).

    In each context the point used is the *most central* of its fixed and slow
    points (of the selected ``kind``): the one closest (Euclidean) to their
    mean, i.e. the middle of a line attractor.  There the Jacobian
    ``J = dF/dx`` (:meth:`neurobias.circuit.Dynamics.jacobian`) is
    decomposed; the slowest mode is the eigenvalue with the largest real part
    (for a stable line attractor, the one closest to zero).  Its right
    eigenvector ``r`` (unit norm, largest entry positive) is the local line
    direction and its left eigenvector ``l`` (row of ``V^{-1}``, so
    ``l . r = 1``) the selection vector: linearising, the coordinate
    ``c = l . dx`` obeys ``dc/dt = lambda c + (l . b_j) u_j / tau``, so a pulse of
    input ``j`` moves the state along the line by ``l . b_j`` per unit of
    ``u_j`` and ms / ``tau``, whatever its component along ``r``.

    ``b_j`` is the effective direction of input ``j`` at the point,
    ``tau dF/du_j``: ``W_in[:, j]`` for ``form="current"`` and
    ``phi'(W_rec x + ext) * W_in[:, j]`` for ``form="rate"``
    (:meth:`neurobias.circuit.Dynamics.drive_sensitivity`).  Angles are between
    lines (sign-free), in [0, 90] degrees; dot products are signed with the
    sign convention of ``r``.  If the slowest mode is complex (no line
    attractor), the real parts of ``l`` and ``r`` are reported and
    ``oscillatory`` is 1.

    Parameters
    ----------
    circuit : Circuit
        With at least one input channel.
    tonic : DataArray (context, unit), Dataset with ``tonic``, or array
        The tonic inputs the points were found with (state units).
    fixed_points : xarray.Dataset
        Output of :func:`neurobias.analysis.find_fixed_points` for ``circuit`` and ``tonic``.
    input_names : sequence of str, optional
        Inputs to compare with (default all of ``circuit.input_names``).
    kind : {"fixed", "slow"} or sequence of them
        Points among which the central one is chosen.
    contexts : sequence of str, optional
        Contexts (default all those of ``fixed_points``).
    device : str or torch.device
        Where the Jacobians and their spectra are computed (float64; results
        are always in host memory).

    Returns
    -------
    xarray.Dataset
        Dimensions ``context``, ``input``, ``unit``:

        * ``selection (context, unit)``: ``l``; ``line_direction (context, unit)``: ``r``;
        * ``selection_dot (context, input)``: ``l . b_j``;
          ``selection_angle (context, input)``: angle between ``l`` and ``b_j``, degrees;
        * ``line_dot``, ``line_angle (context, input)``: the same for ``r``;
        * ``input_direction (context, input, unit)``: ``b_j``;
        * ``selection_line_angle (context,)``: angle between ``l`` and ``r``
          (0 for a normal Jacobian), degrees; ``selection_norm (context,)``: ``|l|``
          (>= 1; large for strongly non-normal dynamics);
        * ``slowest_real``, ``slowest_imag``, ``next_real (context,)``: the
          slowest eigenvalue and the real part of the next one, 1/ms;
          ``oscillatory (context,)`` (0/1);
        * ``point (context,)``: ``fp`` label of the point used (-1 and NaN
          everywhere when the context has no point); ``point_x (context, unit)``.

    Raises
    ------
    InputError
        Bad circuit, tonic, fixed points or names; points that are not fixed or
        slow points of ``circuit`` with ``tonic``.
    """
    if tonic is None:
        raise InputError("`tonic` is required: the tonic inputs the fixed points were found with")
    points, circ, bank = prepare_inputs(fixed_points, circuit, tonic)
    assert circ is not None and bank is not None
    kinds = check_kinds(kind)
    cols = _input_columns(circ, input_names)
    if contexts is None:
        ctx_list = list(points.contexts)
    else:
        ctx_list = [contexts] if isinstance(contexts, str) else list(contexts)
        for c in ctx_list:
            check_context(points, c, name="contexts")
    C, N, M = len(ctx_list), circ.n_units, len(cols)
    out = {
        "selection": np.full((C, N), np.nan), "line_direction": np.full((C, N), np.nan),
        "selection_dot": np.full((C, M), np.nan), "selection_angle": np.full((C, M), np.nan),
        "line_dot": np.full((C, M), np.nan), "line_angle": np.full((C, M), np.nan),
        "input_direction": np.full((C, M, N), np.nan),
        "selection_line_angle": np.full(C, np.nan), "selection_norm": np.full(C, np.nan),
        "slowest_real": np.full(C, np.nan), "slowest_imag": np.full(C, np.nan), "next_real": np.full(C, np.nan),
        "oscillatory": np.zeros(C, dtype=np.int8), "point": np.full(C, -1, dtype=np.int64),
        "point_x": np.full((C, N), np.nan),
    }
    ext_all = drive_of(points, circ, bank)
    for c, name in enumerate(ctx_list):
        rows = points.rows(name, kinds)
        if rows.size == 0:
            continue
        X = points.x[rows]
        centre = rows[int(np.argmin(np.sum((X - X.mean(axis=0)) ** 2, axis=1)))]
        one = np.array([centre])
        values, V, L = spectra_at(points, one, circ, bank, n_top=1, left=True, device=device)
        assert L is not None
        lam, r, l_vec = values[0, 0], V[0, :, 0], L[0, 0]
        ext = ext_all[centre]
        with torch.no_grad():
            sens = circ.dynamics().drive_sensitivity(torch.tensor(points.x[centre]), torch.tensor(ext)).numpy()
        B = (circ.tau * sens)[:, None] * circ.W_in[:, cols]  # (unit, input)
        l_re, r_re = l_vec.real.copy(), r.real.copy()
        out["selection"][c], out["line_direction"][c] = l_re, r_re
        out["selection_dot"][c], out["line_dot"][c] = l_re @ B, r_re @ B
        out["selection_angle"][c], out["line_angle"][c] = _line_angle(l_re, B), _line_angle(r_re, B)
        out["input_direction"][c] = B.T
        out["selection_line_angle"][c] = _line_angle(l_re, r_re[:, None])[0]
        out["selection_norm"][c] = float(np.linalg.norm(l_re))
        out["slowest_real"][c], out["slowest_imag"][c] = lam.real, lam.imag
        out["next_real"][c] = values[0, 1].real if values.shape[1] > 1 else np.nan
        out["oscillatory"][c] = int(lam.imag != 0)
        out["point"][c] = int(points.fp[centre])
        out["point_x"][c] = points.x[centre]
    dims = {
        "selection": ("context", "unit"), "line_direction": ("context", "unit"),
        "selection_dot": ("context", "input"), "selection_angle": ("context", "input"),
        "line_dot": ("context", "input"), "line_angle": ("context", "input"),
        "input_direction": ("context", "input", "unit"),
        "selection_line_angle": ("context",), "selection_norm": ("context",), "slowest_real": ("context",),
        "slowest_imag": ("context",), "next_real": ("context",), "oscillatory": ("context",), "point": ("context",),
        "point_x": ("context", "unit"),
    }
    attrs_of = {
        "selection": {"long_name": "left eigenvector of the slowest mode, l . r = 1"},
        "line_direction": {"long_name": "right eigenvector of the slowest mode (unit norm)"},
        "selection_dot": {"long_name": "l . b_j (input j's effective direction)"},
        "selection_angle": {"long_name": "angle between the selection vector and input j", "units": "degrees"},
        "line_dot": {"long_name": "r . b_j"},
        "line_angle": {"long_name": "angle between the line direction and input j", "units": "degrees"},
        "input_direction": {"long_name": "tau dF/du_j at the point"},
        "selection_line_angle": {"long_name": "angle between selection vector and line direction",
                                 "units": "degrees"},
        "selection_norm": {"long_name": "|l|"},
        "slowest_real": {"long_name": "real part of the slowest eigenvalue", "units": "1/ms"},
        "slowest_imag": {"long_name": "imaginary part of the slowest eigenvalue", "units": "1/ms"},
        "next_real": {"long_name": "real part of the second eigenvalue", "units": "1/ms"},
        "oscillatory": {"long_name": "1 if the slowest mode is complex"},
        "point": {"long_name": "fp label of the central point used"},
        "point_x": {"long_name": "the point used", "units": "state units"},
    }
    data = {k: (dims[k], v, attrs_of[k]) for k, v in out.items()}
    return xr.Dataset(
        data,
        coords={"context": np.array(ctx_list, dtype=str), "input": np.array([circ.input_names[j] for j in cols],
                                                                             dtype=str),
                "unit": points.units},
        attrs={"kind": list(kinds), "form": circ.form, "phi": circ.phi, "tau": circ.tau,
               "reference": "Mante, Sussillo, Shenoy & Newsome (2013) Nature 503:78-84"},
    )

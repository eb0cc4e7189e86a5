"""Continuation of fixed points along a path of tonic inputs.

Each fixed point of the start context is followed as the tonic input moves
along ``b(s)``, ``s`` from 0 to 1: by default the straight line
``b(s) = (1 - s) b_A + s b_B``, or any piecewise-linear path through user-given
tonic inputs.  The curve ``{(x, s): F(x, b(s)) = 0}`` is traced by
pseudo-arclength continuation (a tangent predictor and a Newton corrector on
the system ``F(x, s) = 0``, ``t . (y - y_pred) = 0`` with ``y = (x, s)``), so that
branches pass through folds, where ``s`` turns back.  All branches are
continued together in one batch, in float64.

Bifurcations along a branch are detected between consecutive points and then
located by bisection along the arc:

* ``fold`` (saddle-node): the ``s`` component of the tangent changes sign; a
  real eigenvalue of the Jacobian crosses zero there;
* ``branch_point``: a real eigenvalue crosses zero (the sign of ``det J``
  flips) but ``s`` keeps its direction (transcritical or pitchfork points of
  symmetric circuits);
* ``hopf``: a complex-conjugate pair of eigenvalues crosses the imaginary axis
  (the number of unstable complex eigenvalues changes by two).

Everything derives from :func:`neurobias.circuit.dynamics.vector_field`: the
Jacobian in ``x`` is :func:`~neurobias.circuit.dynamics.jacobian` and the
derivative in ``s`` is :func:`~neurobias.circuit.dynamics.drive_sensitivity`
times ``db/ds``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import xarray as xr
from torch import Tensor

from neurobias._threads import one_thread
from neurobias.circuit.circuit import Circuit
from neurobias.circuit.dynamics import drive_sensitivity, jacobian, vector_field
from neurobias.circuit.simulate import resolve_tonic
from neurobias.errors import InputError, describe_shape

__all__ = ["continue_fixed_points"]

_DT = torch.float64


@dataclass(frozen=True)
class _System:
    """The continuation system ``F(x, b(s)) = 0`` with a piecewise-linear path ``b(s)``."""

    W_rec: Tensor
    ext0: Tensor  # (unit,) W_in u, the constant input drive
    knots: Tensor  # (M + 1, unit) tonic inputs at s = 0, 1/M, ..., 1
    tau: float
    phi: str
    form: str
    scale: float  # y holds x / scale: arclength measures the RMS change of x over units

    @property
    def n(self) -> int:
        return self.W_rec.shape[0]

    def _segment(self, s: Tensor) -> tuple[Tensor, Tensor]:
        m = self.knots.shape[0] - 1
        k = torch.clamp(torch.floor(s * m), 0, m - 1).long()
        frac = s * m - k.to(s.dtype)
        lo, hi = self.knots[k], self.knots[k + 1]
        return lo + frac[:, None] * (hi - lo), m * (hi - lo)

    def ext(self, s: Tensor) -> tuple[Tensor, Tensor]:
        """External drive (B, unit) at ``s`` (B,) and its derivative in ``s``."""
        b, db = self._segment(s)
        return self.ext0 + b, db

    def residual(self, y: Tensor) -> Tensor:
        x, s = y[:, :-1] * self.scale, y[:, -1]
        ext, _ = self.ext(s)
        return vector_field(x, ext, self.W_rec, tau=self.tau, phi=self.phi, form=self.form)

    def jac(self, y: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``F`` (B, N), ``dF/dy_x`` (B, N, N) and ``dF/ds`` (B, N) at ``y`` (B, N + 1)."""
        x, s = y[:, :-1] * self.scale, y[:, -1]
        ext, db = self.ext(s)
        kw = dict(tau=self.tau, phi=self.phi, form=self.form)
        F = vector_field(x, ext, self.W_rec, **kw)
        J = jacobian(x, ext, self.W_rec, **kw) * self.scale
        Fs = drive_sensitivity(x, ext, self.W_rec, **kw) * db
        return F, J, Fs

    def jx(self, y: Tensor) -> Tensor:
        """The Jacobian ``dF/dx`` (B, N, N) at ``y``, per ms (unscaled)."""
        x, s = y[:, :-1] * self.scale, y[:, -1]
        ext, _ = self.ext(s)
        return jacobian(x, ext, self.W_rec, tau=self.tau, phi=self.phi, form=self.form)


def _augmented(J: Tensor, Fs: Tensor, row: Tensor) -> Tensor:
    top = torch.cat([J, Fs[..., None]], dim=-1)
    return torch.cat([top, row[:, None, :]], dim=-2)


def _correct(
    system: _System, y: Tensor, row: Tensor, target: Tensor, *, tol: float, max_newton: int
) -> tuple[Tensor, Tensor, Tensor]:
    """Newton on ``F(y) = 0, row . y = target``; returns (y, converged (B,), iterations (B,))."""
    y = y.clone()
    done = torch.zeros(y.shape[0], dtype=torch.bool)
    iters = torch.full((y.shape[0],), max_newton + 1)
    for it in range(max_newton):
        F, J, Fs = system.jac(y)
        g = torch.cat([F, ((row * y).sum(-1) - target)[:, None]], dim=-1)
        ok = (F.abs().amax(-1) <= tol) & (g[:, -1].abs() <= 1e-12 * (1 + target.abs()))
        newly = ok & ~done
        iters[newly] = it
        done |= ok
        if bool(done.all()):
            break
        A = _augmented(J, Fs, row)
        try:
            dy = torch.linalg.solve(A, -g)
        except RuntimeError:  # a singular system for some branch: solve one by one
            dy = torch.zeros_like(y)
            for i in range(y.shape[0]):
                try:
                    dy[i] = torch.linalg.solve(A[i], -g[i])
                except RuntimeError:
                    dy[i] = float("nan")
        step = torch.where(done[:, None], torch.zeros_like(dy), dy)
        y = y + torch.nan_to_num(step, nan=0.0)
        bad = ~torch.isfinite(dy).all(-1) & ~done
        iters[bad] = max_newton + 1
    F = system.residual(y)
    ok = (F.abs().amax(-1) <= tol) & torch.isfinite(y).all(-1)
    iters[ok & ~done] = max_newton
    return y, ok, iters


def _tangent(system: _System, y: Tensor, orient: Tensor) -> Tensor:
    """Unit tangent of the solution curve at ``y`` with ``orient . t > 0``."""
    _, J, Fs = system.jac(y)
    A = _augmented(J, Fs, orient)
    rhs = torch.zeros_like(y)
    rhs[:, -1] = 1.0
    t = torch.linalg.solve(A, rhs)
    return t / torch.linalg.vector_norm(t, dim=-1, keepdim=True)


def _spectrum(J: Tensor, n_modes: int, im_tol: float) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Top modes by real part and the unstable counts (real, complex) of each Jacobian."""
    ev = torch.linalg.eigvals(J)
    order = torch.argsort(ev.real, dim=-1, descending=True)
    ev = torch.gather(ev, -1, order)
    unstable = ev.real > 0
    cplx = ev.imag.abs() > im_tol * (1.0 + ev.abs())
    n_real = (unstable & ~cplx).sum(-1)
    n_cplx = (unstable & cplx).sum(-1)
    k = min(n_modes, ev.shape[-1])
    return ev.real[..., :k], ev.imag[..., :k], n_real, n_cplx


def _hopf_indicator(system: _System, y: Tensor, im_tol: float) -> float:
    """Largest real part among complex eigenvalues (``-inf`` if none)."""
    ev = torch.linalg.eigvals(system.jx(y))[0]
    cplx = ev.imag.abs() > im_tol * (1.0 + ev.abs())
    return float(ev.real[cplx].max()) if bool(cplx.any()) else -math.inf


def _bisect(
    system: _System, y0: Tensor, t0: Tensor, y1: Tensor, indicator, *, tol: float, max_newton: int,
    iterations: int = 60,
) -> Tensor:
    """Bisection along the arc from ``y0`` (tangent ``t0``) to ``y1`` on the sign of ``indicator(y)``."""
    sigma_hi = float((t0 * (y1 - y0)).sum())
    lo, hi = 0.0, sigma_hi
    f_lo = indicator(y0)
    best = y1
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        pred = y0 + mid * t0
        target = (t0 * y0).sum(-1) + mid
        y, ok, _ = _correct(system, pred, t0, target, tol=tol, max_newton=max_newton)
        if not bool(ok.all()):
            break
        best = y
        f_mid = indicator(y)
        if (f_mid > 0) == (f_lo > 0):
            lo, f_lo = mid, f_mid
        else:
            hi = mid
        if abs(hi - lo) <= 1e-13 * (1.0 + abs(sigma_hi)):
            break
    return best


def _as_states(name: str, value: Any, n: int) -> np.ndarray:
    if isinstance(value, xr.Dataset):
        ds = value
        if "x" not in ds:
            raise InputError(f"`{name}` Dataset must have a variable 'x' of dims (fp, unit)")
        if "kind" in ds:
            ds = ds.where(ds["kind"] == "fixed", drop=True) if ds.sizes.get("fp", 0) else ds
        value = ds["x"].values
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim != 2 or arr.shape[1] != n:
        raise InputError(f"`{name}` must have shape (fp, unit) = (n, {n}); got {describe_shape(np.shape(value))}")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"`{name}` must be finite; it has NaN or infinite entries")
    return arr


def _resolve_path(
    circuit: Circuit, *, start: Any, end: Any, tonic: Any, path: Any
) -> tuple[np.ndarray, str, str]:
    n = circuit.n_units
    if path is not None:
        if start is not None or end is not None:
            raise InputError("give either `path` or `start` and `end`, not both")
        knots = np.asarray(path, dtype=np.float64)
        if knots.ndim != 2 or knots.shape[1] != n or knots.shape[0] < 2:
            raise InputError(
                f"`path` must have shape (point, unit) = (>= 2, {n}); got {describe_shape(np.shape(path))}"
            )
        if not np.all(np.isfinite(knots)):
            raise InputError("`path` must be finite; it has NaN or infinite entries")
        return knots, "path[0]", "path[-1]"
    if start is None or end is None:
        raise InputError("give `start` and `end` (context names with `tonic`, or tonic vectors of shape (unit,)), "
                         "or a `path` of shape (point, unit)")
    ends = []
    labels = []
    for name, value in (("start", start), ("end", end)):
        if isinstance(value, str):
            if tonic is None:
                raise InputError(f"`{name}` = {value!r} is a context name; give the tonic bank as `tonic`")
            bank, names = resolve_tonic(tonic, n)
            if value not in names:
                raise InputError(f"`{name}` = {value!r} is not a context; choose from {', '.join(names)}")
            ends.append(bank[names.index(value)])
            labels.append(value)
        else:
            vec = np.asarray(value, dtype=np.float64)
            if vec.shape != (n,):
                raise InputError(f"`{name}` must be a context name or a tonic input of shape (unit,) = ({n},); "
                                 f"got shape {describe_shape(vec.shape)}")
            if not np.all(np.isfinite(vec)):
                raise InputError(f"`{name}` must be finite; it has NaN or infinite entries")
            ends.append(vec)
            labels.append(name)
    return np.stack(ends), labels[0], labels[1]


def continue_fixed_points(
    circuit: Circuit,
    *,
    start: Any = None,
    end: Any = None,
    tonic: Any = None,
    path: Any = None,
    inputs: Any = None,
    fixed_points: Any = None,
    steps: int = 1000,
    h_init: float = 0.01,
    h_max: float = 0.1,
    h_min: float = 1e-7,
    tol: float = 1e-10,
    max_newton: int = 12,
    n_modes: int = 6,
    eig_every: int = 1,
    find_end: bool = True,
    match_tol: float = 1e-6,
    seed: int = 0,
    n_candidates: int = 256,
    progress: bool = False,
) -> xr.Dataset:
    """Follow fixed points as the tonic input moves from one context to another.

    Parameters
    ----------
    circuit : Circuit
    start, end : str or array_like of shape (unit,)
        Tonic inputs at ``s = 0`` and ``s = 1``: context names of ``tonic`` or
        vectors.  The path is ``b(s) = (1 - s) b_start + s b_end``.
    tonic : array_like of shape (context, unit), DataArray or Dataset, optional
        Tonic bank in which ``start`` and ``end`` are looked up.
    path : array_like of shape (point, unit), optional
        Instead of ``start``/``end``: tonic inputs at ``s = 0, 1/M, ..., 1``
        (``M + 1`` points), joined by straight segments.
    inputs : array_like of shape (input,), optional
        Constant external input (default zero).
    fixed_points : array_like of shape (fp, unit) or Dataset, optional
        Fixed points at ``s = 0`` to follow (a :func:`find_fixed_points` Dataset
        of the start context is accepted; only ``kind == "fixed"`` rows are
        used).  Default: found with :func:`find_fixed_points`.
    steps : int
        Maximum number of continuation steps per branch.
    h_init, h_max, h_min : float
        Initial, largest and smallest arclength step in the ``(x, s)`` space, where
        the ``x`` part is measured as the RMS change over units
        (``|dx|^2 / N + ds^2``), so that steps mean the same at any size.
    tol : float
        Newton tolerance on ``max |F|`` (state units per ms).
    max_newton : int
        Newton iterations per corrector; a step that needs more is halved.
    n_modes : int
        Eigenvalues (largest real part first) kept per point.
    eig_every : int
        Compute the spectrum every this many steps (and at both ends); Hopf
        points are located between computed spectra.  1 (default) computes it
        at every point; larger values trade detail for speed on big circuits.
    find_end : bool
        Also find the fixed points at ``s = 1`` and report those no branch reaches.
    match_tol : float
        Relative distance under which a branch end and a fixed point at ``s = 1``
        are the same point (``|x - y| <= match_tol (1 + |y|)``).
    seed, n_candidates : int
        Passed to :func:`find_fixed_points` when it is called.
    progress : bool
        Show a progress bar over continuation steps.

    Returns
    -------
    xarray.Dataset
        Dims ``(branch, step, unit)``, padded with NaN after a branch ends:
        ``x (branch, step, unit)``, ``s (branch, step)``, ``residual (branch, step)``
        (``max |F|``), ``index (branch, step)`` (number of eigenvalues with positive
        real part; -1 where not computed), ``eig_real``, ``eig_imag (branch, step,
        mode)`` (1/ms), ``label (branch, step)`` (``""``, ``start``, ``fold``,
        ``branch_point``, ``hopf``, ``end``); per branch ``n_points``,
        ``end_reason`` (``reached_end``, ``returned_to_start``, ``max_steps``,
        ``step_too_small``), ``start_index``, ``returns_to`` (the branch whose
        start this branch comes back to after a fold, -1 if none); per bifurcation (dim
        ``bifurcation``): ``bif_branch``, ``bif_kind``, ``bif_s``, ``bif_x (bifurcation, unit)``;
        the fixed points at ``s = 1`` that no branch reaches: ``unreached_x
        (unreached, unit)``, ``unreached_index (unreached,)``.  Attributes give the
        settings, ``start_label`` and ``end_label``.
    """
    if not isinstance(circuit, Circuit):
        raise InputError(f"`circuit` must be a neurobias Circuit; got {type(circuit).__name__}")
    for name, value, low in (("steps", steps, 1), ("max_newton", max_newton, 1), ("n_modes", n_modes, 1),
                             ("eig_every", eig_every, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise InputError(f"`{name}` must be an integer >= {low}; got {value!r}")
    for name, value in (("h_init", h_init), ("h_max", h_max), ("h_min", h_min), ("tol", tol),
                        ("match_tol", match_tol)):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise InputError(f"`{name}` must be a positive number; got {value!r}")
    n = circuit.n_units
    knots_np, start_label, end_label = _resolve_path(circuit, start=start, end=end, tonic=tonic, path=path)
    u = np.zeros(circuit.n_inputs) if inputs is None else np.asarray(inputs, dtype=np.float64)
    if u.shape != (circuit.n_inputs,) or not np.all(np.isfinite(u)):
        raise InputError(f"`inputs` must be a finite array of shape (input,) = ({circuit.n_inputs},); "
                         f"got shape {describe_shape(np.shape(inputs))}")
    system = _System(
        W_rec=torch.tensor(circuit.W_rec, dtype=_DT),
        ext0=torch.tensor(circuit.W_in @ u, dtype=_DT),
        knots=torch.tensor(knots_np, dtype=_DT),
        tau=circuit.tau, phi=circuit.phi, form=circuit.form, scale=math.sqrt(n),
    )
    im_tol = 1e-9

    def find(b: np.ndarray) -> np.ndarray:
        from neurobias.analysis.fixed_points import find_fixed_points

        ds = find_fixed_points(circuit, b[None], inputs=u if circuit.n_inputs else None,
                               n_candidates=n_candidates, seed=seed, tol=tol)
        return ds["x"].values[ds["kind"].values == "fixed"]

    one_thread()
    x0 = find(knots_np[0]) if fixed_points is None else _as_states("fixed_points", fixed_points, n)
    n_branch = x0.shape[0]
    # polish the starting points at s = 0 (natural parameter)
    y = torch.cat([torch.tensor(x0, dtype=_DT) / system.scale, torch.zeros(n_branch, 1, dtype=_DT)], dim=-1)
    e_s = torch.zeros(n_branch, n + 1, dtype=_DT)
    e_s[:, -1] = 1.0
    if n_branch:
        y_given = y
        y, ok, _ = _correct(system, y, e_s, torch.zeros(n_branch, dtype=_DT), tol=tol, max_newton=max_newton)
        moved = torch.linalg.vector_norm(y - y_given, dim=-1) > 1e-4 * (1 + torch.linalg.vector_norm(y_given, dim=-1))
        ok = ok & ~moved
        if not bool(ok.all()):
            bad = int((~ok).sum())
            raise InputError(f"{bad} of the given `fixed_points` are not fixed points of the start tonic input "
                             f"(Newton did not reach max|F| <= {tol}); pass fixed points of the start context")
    t = _tangent(system, y, e_s) if n_branch else y.clone()
    h = torch.full((n_branch,), float(h_init), dtype=_DT)
    alive = torch.ones(n_branch, dtype=torch.bool)
    rec_y: list[list[np.ndarray]] = [[y[i].numpy().copy()] for i in range(n_branch)]
    rec_t: list[list[Tensor]] = [[t[i].clone()] for i in range(n_branch)]
    rec_eig: list[dict[int, tuple[np.ndarray, np.ndarray, int, int]]] = [dict() for _ in range(n_branch)]
    rec_sign: list[list[float]] = [[] for _ in range(n_branch)]
    labels: list[list[str]] = [["start"] for _ in range(n_branch)]
    end_reason = ["max_steps"] * n_branch
    bifs: list[tuple[int, str, int, np.ndarray]] = []

    def spectrum_at(i: int, k: int) -> tuple[np.ndarray, np.ndarray, int, int]:
        if k not in rec_eig[i]:
            yy = torch.tensor(rec_y[i][k])[None]
            er, ei, nr, nc = _spectrum(system.jx(yy), n_modes, im_tol)
            rec_eig[i][k] = (er[0].numpy(), ei[0].numpy(), int(nr[0]), int(nc[0]))
        return rec_eig[i][k]

    def det_sign(yy: Tensor) -> Tensor:
        return torch.linalg.slogdet(system.jx(yy))[0]

    if n_branch:
        for i, sg in enumerate(det_sign(y).tolist()):
            rec_sign[i].append(sg)
            spectrum_at(i, 0)

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, desc="continuation", unit="step")
    for _ in range(steps):
        idx = torch.nonzero(alive).flatten()
        if idx.numel() == 0:
            break
        yb, tb, hb = y[idx], t[idx], h[idx]
        pred = yb + hb[:, None] * tb
        row = tb.clone()
        target = (tb * pred).sum(-1)
        s_pred = pred[:, -1]
        land_hi = s_pred > 1.0
        land_lo = (s_pred < 0.0) & (tb[:, -1] < 0)
        land = land_hi | land_lo
        if bool(land.any()):
            s_goal = torch.where(land_hi, torch.ones_like(s_pred), torch.zeros_like(s_pred))
            frac = ((s_goal - yb[:, -1]) / tb[:, -1]).clamp_min(0.0)
            pred = torch.where(land[:, None], yb + frac[:, None] * tb, pred)
            pred[land, -1] = s_goal[land]
            row = torch.where(land[:, None], torch.zeros_like(row), row)
            row[land, -1] = 1.0
            target = torch.where(land, s_goal, target)
        y_new, ok, iters = _correct(system, pred, row, target, tol=tol, max_newton=max_newton)
        jump = torch.linalg.vector_norm(y_new - pred, dim=-1)
        ok = ok & (jump <= torch.maximum(hb, torch.full_like(hb, 1e-3)))
        if bool(ok.any()):
            acc = torch.nonzero(ok).flatten()
            t_new = _tangent(system, y_new[acc], tb[acc])
            signs = det_sign(y_new[acc]).tolist()
        for j, bi in enumerate(idx.tolist()):
            if not bool(ok[j]):
                h[bi] = h[bi] * 0.5
                if float(h[bi]) < h_min:
                    alive[bi] = False
                    end_reason[bi] = "step_too_small"
                continue
            a = int((acc == j).nonzero()[0, 0])
            y[bi] = y_new[j]
            t_old = t[bi].clone()
            t[bi] = t_new[a]
            rec_y[bi].append(y_new[j].numpy().copy())
            rec_t[bi].append(t_new[a].clone())
            rec_sign[bi].append(signs[a])
            labels[bi].append("")
            k = len(rec_y[bi]) - 1
            fold = (float(t_old[-1]) > 0) != (float(t_new[a][-1]) > 0)
            if fold:
                _locate(system, bi, k, "fold", rec_y, rec_t, labels, bifs, tol=tol, max_newton=max_newton,
                        im_tol=im_tol)
            elif rec_sign[bi][k] != rec_sign[bi][k - 1]:
                _locate(system, bi, k, "branch_point", rec_y, rec_t, labels, bifs, tol=tol,
                        max_newton=max_newton, im_tol=im_tol)
            finished = bool(land[j])
            if finished:
                alive[bi] = False
                end_reason[bi] = "reached_end" if bool(land_hi[j]) else "returned_to_start"
                labels[bi][k] = labels[bi][k] or "end"
            if finished or k % eig_every == 0:
                spectrum_at(bi, k)
                _check_hopf(system, bi, k, rec_y, rec_t, rec_eig, labels, bifs, spectrum_at, tol=tol,
                            max_newton=max_newton, im_tol=im_tol)
            if int(iters[j]) <= 3:
                h[bi] = min(float(h[bi]) * 1.5, h_max)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    end_x = np.empty((0, n))
    if find_end:
        end_x = find(knots_np[-1])
    return _assemble(circuit, rec_y, rec_eig, labels, end_reason, bifs, end_x, n_modes=n_modes,
                     match_tol=match_tol, im_tol=im_tol, system=system,
                     attrs=dict(start_label=start_label, end_label=end_label, steps=int(steps), h_init=float(h_init),
                                h_max=float(h_max), tol=float(tol), eig_every=int(eig_every),
                                n_path_points=int(knots_np.shape[0]), tau=circuit.tau, phi=circuit.phi,
                                form=circuit.form,
                                definition="fixed point: F(x) = 0 for the flow, F = neurobias vector_field"))


def _locate(system, bi, k, kind, rec_y, rec_t, labels, bifs, *, tol, max_newton, im_tol) -> None:
    """Locate a fold or branch point between points ``k - 1`` and ``k`` of branch ``bi``."""
    y0 = torch.tensor(rec_y[bi][k - 1])[None]
    y1 = torch.tensor(rec_y[bi][k])[None]
    t0 = rec_t[bi][k - 1][None]
    if kind == "fold":
        def indicator(yy: Tensor) -> float:
            return float(_tangent(system, yy, t0)[0, -1])
    else:
        def indicator(yy: Tensor) -> float:
            return float(torch.linalg.slogdet(system.jx(yy))[0][0])
    yb = _bisect(system, y0, t0, y1, indicator, tol=tol, max_newton=max_newton)
    labels[bi][k] = kind
    bifs.append((bi, kind, k, yb[0].numpy().copy()))


def _check_hopf(system, bi, k, rec_y, rec_t, rec_eig, labels, bifs, spectrum_at, *, tol, max_newton,
                im_tol) -> None:
    """If the unstable complex count changed since the last computed spectrum, locate the Hopf point."""
    prev = [j for j in rec_eig[bi] if j < k]
    if not prev:
        return
    j0 = max(prev)
    if rec_eig[bi][j0][3] == rec_eig[bi][k][3]:
        return
    lo, hi = j0, k
    while hi - lo > 1:  # narrow down to two consecutive points
        mid = (lo + hi) // 2
        if spectrum_at(bi, mid)[3] == rec_eig[bi][lo][3]:
            lo = mid
        else:
            hi = mid
    y0 = torch.tensor(rec_y[bi][lo])[None]
    y1 = torch.tensor(rec_y[bi][hi])[None]
    t0 = rec_t[bi][lo][None]
    yb = _bisect(system, y0, t0, y1, lambda yy: _hopf_indicator(system, yy, im_tol), tol=tol,
                 max_newton=max_newton)
    if labels[bi][hi] in ("", "end"):
        labels[bi][hi] = "hopf"
    bifs.append((bi, "hopf", hi, yb[0].numpy().copy()))


def _assemble(circuit, rec_y, rec_eig, labels, end_reason, bifs, end_x, *, n_modes, match_tol, im_tol, system,
              attrs) -> xr.Dataset:
    n = circuit.n_units
    n_branch = len(rec_y)
    n_step = max((len(r) for r in rec_y), default=0)
    k_modes = min(n_modes, n)
    x = np.full((n_branch, n_step, n), np.nan)
    s = np.full((n_branch, n_step), np.nan)
    res = np.full((n_branch, n_step), np.nan)
    index = np.full((n_branch, n_step), -1, dtype=np.int64)
    er = np.full((n_branch, n_step, k_modes), np.nan)
    ei = np.full((n_branch, n_step, k_modes), np.nan)
    lab = np.full((n_branch, n_step), "", dtype=object)
    for i, pts in enumerate(rec_y):
        arr = np.asarray(pts)
        x[i, : len(pts)] = arr[:, :-1] * system.scale
        s[i, : len(pts)] = arr[:, -1]
        res[i, : len(pts)] = system.residual(torch.tensor(arr)).abs().amax(-1).numpy()
        for k, (r_, i_, nr, nc) in rec_eig[i].items():
            er[i, k], ei[i, k] = r_, i_
            index[i, k] = nr + nc
        lab[i, : len(pts)] = labels[i]
    # the same bifurcation met by two branches (e.g. both sides of a fold) is listed once
    unique: list[tuple[int, str, int, np.ndarray]] = []
    for b in bifs:
        if not any(b[1] == u[1] and np.linalg.norm(b[3] - u[3]) <= match_tol * (1 + np.linalg.norm(u[3]))
                   for u in unique):
            unique.append(b)
    bifs = unique
    bif_x = np.array([b[3][:-1] * system.scale for b in bifs]).reshape(len(bifs), n)
    starts = np.array([r[0][:-1] * system.scale for r in rec_y]).reshape(n_branch, n)
    returns_to = np.full(n_branch, -1, dtype=np.int64)
    for i, (r, why) in enumerate(zip(rec_y, end_reason)):
        if why == "returned_to_start":
            d = np.linalg.norm(starts - r[-1][:-1] * system.scale, axis=1)
            j = int(np.argmin(d))
            if d[j] <= match_tol * (1 + np.linalg.norm(starts[j])):
                returns_to[i] = j
    ds = xr.Dataset(
        {
            "x": (("branch", "step", "unit"), x, {"long_name": "fixed point along the branch"}),
            "s": (("branch", "step"), s, {"long_name": "path parameter: b(s) = tonic input at s"}),
            "residual": (("branch", "step"), res, {"long_name": "max |F(x)|", "units": "state units per ms"}),
            "index": (("branch", "step"), index, {"long_name": "number of eigenvalues with positive real part "
                                                                 "(-1: spectrum not computed)"}),
            "eig_real": (("branch", "step", "mode"), er, {"units": "1/ms"}),
            "eig_imag": (("branch", "step", "mode"), ei, {"units": "1/ms"}),
            "label": (("branch", "step"), lab.astype(str)),
            "n_points": (("branch",), np.array([len(r) for r in rec_y], dtype=np.int64)),
            "end_reason": (("branch",), np.array(end_reason, dtype=str).reshape(n_branch)),
            "returns_to": (("branch",), returns_to, {"long_name": "branch whose start point this branch returns to "
                                                               "(-1: none)"}),
            "start_index": (("branch",), index[:, 0] if n_step else np.zeros(n_branch, dtype=np.int64)),
            "bif_branch": (("bifurcation",), np.array([b[0] for b in bifs], dtype=np.int64)),
            "bif_kind": (("bifurcation",), np.array([b[1] for b in bifs], dtype=str).reshape(len(bifs))),
            "bif_step": (("bifurcation",), np.array([b[2] for b in bifs], dtype=np.int64)),
            "bif_s": (("bifurcation",), np.array([b[3][-1] for b in bifs], dtype=np.float64)),
            "bif_x": (("bifurcation", "unit"), bif_x),
        },
        coords={"branch": np.arange(n_branch), "step": np.arange(n_step), "unit": np.arange(n),
                "mode": np.arange(k_modes)},
        attrs=attrs,
    )
    # fixed points at s = 1 that no branch reaches
    ends = [np.asarray(r[-1][:-1]) * system.scale for r, why in zip(rec_y, end_reason) if why == "reached_end"]
    unreached = []
    for p in end_x:
        if not any(np.linalg.norm(p - q) <= match_tol * (1 + np.linalg.norm(p)) for q in ends):
            unreached.append(p)
    un = np.asarray(unreached).reshape(len(unreached), n)
    un_index = np.zeros(len(unreached), dtype=np.int64)
    if len(unreached):
        yy = torch.cat([torch.tensor(un) / system.scale, torch.ones(len(unreached), 1, dtype=_DT)], dim=-1)
        _, _, nr, nc = _spectrum(system.jx(yy), n_modes, im_tol)
        un_index = (nr + nc).numpy().astype(np.int64)
    ds["unreached_x"] = (("unreached", "unit"), un)
    ds["unreached_index"] = (("unreached",), un_index)
    ds.attrs["n_end_fixed_points"] = int(len(end_x))
    return ds

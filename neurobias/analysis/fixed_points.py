"""Fixed points and slow points of a circuit in each context: :func:`find_fixed_points`.

A *fixed point* of context ``c`` under a constant input ``u`` is a state ``x``
with ``F(x) = 0``, where ``F`` is the flow :func:`neurobias.circuit.dynamics.vector_field`
with drive ``ext = W_in u + b_c`` (``b_c`` the context's tonic input).  For the
rate form stepped with Euler at ``dt = tau`` (the discrete map
``r <- phi(W r + ext)``), the map's fixed points ``x = step(x)`` are exactly
these, since ``step(x) - x = tau F(x)``; for any ``dt`` the Euler map has the
same fixed points as the flow.  See ``docs/fixed_points.md``.
"""
from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import xarray as xr
from torch import Tensor

from neurobias.analysis import _candidates as cand
from neurobias.analysis._dedup import match, merge
from neurobias.analysis._descent import adam_descent
from neurobias.analysis._field import Field
from neurobias.analysis._linalg import n_workers, one_lapack_thread
from neurobias.analysis._newton import SOLVERS, NewtonResult, newton_solve
from neurobias.analysis._spectra import MARGINAL_RTOL, classify, eig_sorted, left_vectors
from neurobias.analysis.krylov import LeadingBatch, leading_eigenvalues_batched
from neurobias.circuit.circuit import Circuit, check_circuit
from neurobias.circuit.simulate import resolve_device, resolve_tonic
from neurobias.circuit.threads import CPU_THREADS
from neurobias.errors import InputError, check_finite, check_number, check_positive, describe_shape

__all__ = [
    "find_fixed_points", "initial_candidates", "classify_states", "resolve_inputs", "resolve_initial_states", "METHOD",
    "CANDIDATE_SOURCES", "KRYLOV_MIN_UNITS", "resolve_solver",
]

#: ``solver="auto"`` is matrix-free (``"krylov"``) from this many units on, dense below.  Measured
#: (``benchmarks/fixed_points.py``, the 243 fixed points of ``mirrored_multistable(N, 5)``, 2 cores, 2026-12-06,
#: docs/performance.md): N = 256 dense 5.8 s / krylov 2.9 s; N = 512 31.7 s / 8.1 s; N = 1024 145 s / 18 s;
#: in the run of 2026-12-07, after the Krylov solvers were made faster, N = 256 4.6 s / 1.7 s (2.7x).
#: Below 512 units the dense path stays the default although it is slower there: it returns every eigenvalue
#: (the matrix-free one the leading ones only), which spectra comparisons between contexts use, and its
#: time at those sizes is seconds.
KRYLOV_MIN_UNITS = 512
LEADING_MODES = 8  # eigenvalues computed first by the matrix-free path (doubled until the count is exact)
#: relative residual of the matrix-free path's Ritz pairs: the fixed points themselves are only known to
#: ``max|F| <= tol = 1e-10``, so eigenvalues to 1e-12 were precision the point does not have (measured on the
#: 512-unit reference circuit: 1e-10 instead of 1e-12 takes 12 % fewer products, eigenvalues within 7e-12
#: relative of LAPACK's, every index unchanged)
SPECTRA_TOL = 1e-10
#: Krylov dimension of one Krylov-Schur cycle for the matrix-free spectra (the default of
#: :func:`~neurobias.analysis.krylov.leading_eigenvalues_batched` is 32 for the 8 values asked).  Measured on the
#: 243 fixed points of ``mirrored_multistable(N, 5)`` with the defaults (one
#: ``find_fixed_points`` per setting, settings alternated, idle 2-core machine, 2026-12-07): N = 2048, 32: 59.8,
#: 71.4, 58.8 s; 48: 46.7, 53.3, 45.7 s; 64: 47.7, 52.4, 46.5 s; N = 4096, 48: 184.0 s, 64: 184.7 s (32: 323 s in
#: the benchmark run of the same day); N = 512, 32: 8.2, 8.0 s; 64: 6.6, 7.6 s.  On the spectra alone (the 243
#: known points at 2048 in one batch), 32: 109,888 products, 35.6 s; 48: 83,549, 29.0 s.  The edge of a random
#: bulk (the eigenvalues after the few outliers) converges in fewer products with more vectors per cycle; an
#: earlier single comparison at 2048 had 64 slower (69.0 against 60.9 s), which these alternated runs do not repeat.
#: N = 1024, 32: 19.8, 19.6 s; 64: 19.0, 20.2 s.  Below ``LEADING_RESTART_MIN_UNITS`` the default cycles are
#: kept: at N = 256 they were faster (32: 3.5, 2.7, 2.5 s; 64: 3.7, 3.2, 3.4 s), the products being cheap there
#: against the orthogonalisation and the small Schur forms that longer cycles cost.  Measured again after the
#: Gram-Schmidt products were made 2.3x faster (:func:`neurobias.analysis.krylov._coefficients`), on the spectra
#: alone (``leading_eigenvalues_batched`` for the 243 known points in one batch, 8 values, 6 vectors, variants
#: in a seeded order per round, medians, 2026-12-07): N = 256, default (32): 1.36 s, 40: 1.30 s, 48: 1.68 s
#: (5 rounds); N = 512, 32: 3.83 s, 48: 3.32 s (5 rounds), 40: 3.12 s, 48: 3.09 s, 56: 3.30 s, 64: 3.39 s
#: (5 rounds); N = 1024, 48: 7.47 s, 64: 8.33 s; N = 2048, 48: 22.97 s, 64: 23.09 s (3 rounds each).  Cycles of
#: 48 are as fast as 64 or faster at every size from 512 on, and each cycle's Schur form costs less than half.
LEADING_RESTART = 48
LEADING_RESTART_MIN_UNITS = 512

#: the families of starting states, in the order of the ``source`` codes
CANDIDATE_SOURCES: tuple[str, ...] = cand.SOURCES

METHOD = "candidates(trajectories+random+user)+adam+damped-newton/levenberg-marquardt+exploration"
SLOW_MERGE_RTOL = 1e-3  # slow points closer than this (relative) are one slow point
EXPLORE_MODES = 6  # leading eigen-directions explored around each new fixed point
FIRST_NEWTON = 10  # Newton iterations before a candidate is retried after a descent
FIRST_PATIENCE = 4
SNAP_RTOL = 1e-3  # a candidate this close (relative) to a converged fixed point is taken to reach it
POOL_RTOL = 1e-2  # exploration candidates closer than this (relative) are tried once
# an exploration candidate y is not solved when a known fixed point p's linearisation explains the flow there:
# |F(y) - J(p)(y - p)| <= SCREEN_RTOL |F(y)| (on the reference circuits, candidates that led to new fixed points
# had ratios >= 0.7; those below 0.3 all returned to a known point)
SCREEN_RTOL = 0.25


def resolve_inputs(inputs: Any, n_ctx: int, n_in: int) -> np.ndarray:
    """Constant inputs as a float64 array of shape (context, input) from None (zeros), (input,) or (context, input).

    Raises
    ------
    InputError
        Another shape, or non-finite values.
    """
    if inputs is None:
        return np.zeros((n_ctx, n_in))
    arr = np.asarray(inputs, dtype=np.float64)
    if arr.ndim == 1 and arr.shape[0] == n_in:
        arr = np.broadcast_to(arr, (n_ctx, n_in)).copy()
    elif not (arr.ndim == 2 and arr.shape == (n_ctx, n_in)):
        raise InputError(
            f"`inputs` must have shape (input,) = ({n_in},) or (context, input) = ({n_ctx}, {n_in}); "
            f"got {describe_shape(arr.shape)}"
        )
    check_finite("inputs", arr)
    return arr


def resolve_initial_states(initial_states: Any, n_ctx: int, n: int) -> np.ndarray:
    """Starting states as a float64 array of shape (context, n, unit).

    From None (``n = 0``), an array of shape (n, unit) (the same in every context) or (context, n, unit).

    Raises
    ------
    InputError
        Another shape, or non-finite values.
    """
    if initial_states is None:
        return np.zeros((n_ctx, 0, n))
    arr = np.asarray(initial_states, dtype=np.float64)
    if arr.ndim == 2 and arr.shape[1] == n:
        arr = np.broadcast_to(arr, (n_ctx, *arr.shape)).copy()
    elif not (arr.ndim == 3 and arr.shape[0] == n_ctx and arr.shape[2] == n):
        raise InputError(
            f"`initial_states` must have shape (n, unit) = (n, {n}) or (context, n, unit) = "
            f"({n_ctx}, n, {n}); got {describe_shape(arr.shape)}"
        )
    check_finite("initial_states", arr)
    return arr


class _Log:
    def __init__(self, on: bool) -> None:
        self.on = on
        self.t0 = time.perf_counter()

    def __call__(self, msg: str) -> None:
        if self.on:
            print(f"[find_fixed_points {time.perf_counter() - self.t0:7.2f} s] {msg}", file=sys.stderr, flush=True)


class _Points:
    """The distinct points found so far (fixed or slow), with their bookkeeping."""

    def __init__(self, n: int, like: Tensor) -> None:
        self.x = like.new_zeros((0, n))
        self.ctx = torch.zeros(0, dtype=torch.long, device=like.device)
        self.residual = like.new_zeros(0)
        self.q = like.new_zeros(0)
        self.hits = torch.zeros(0, dtype=torch.long, device=like.device)
        self.source = torch.zeros(0, dtype=torch.long, device=like.device)
        self.values = np.zeros((0, n), np.complex128)  # eigenvalues, NaN until computed

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def add(self, x: Tensor, ctx: Tensor, residual: Tensor, q: Tensor, source: Tensor, *, rtol: float) -> Tensor:
        """Merge candidates into the set; returns the indices (into the set) of the new points."""
        before = len(self)
        if x.shape[0] == 0:
            return torch.zeros(0, dtype=torch.long, device=self.x.device)
        old = match(x, ctx, self.x, self.ctx, rtol=rtol)
        seen = old >= 0
        if bool(seen.any()):
            self.hits.index_add_(0, old[seen], torch.ones_like(old[seen]))
        rest = torch.nonzero(~seen).squeeze(-1)
        if rest.numel():
            leaders, labels = merge(x[rest], ctx[rest], residual[rest], rtol=rtol)
            lead = rest[leaders]
            hits = torch.bincount(labels, minlength=leaders.numel())
            self.x = torch.cat([self.x, x[lead]])
            self.ctx = torch.cat([self.ctx, ctx[lead]])
            self.residual = torch.cat([self.residual, residual[lead]])
            self.q = torch.cat([self.q, q[lead]])
            self.hits = torch.cat([self.hits, hits])
            self.source = torch.cat([self.source, source[lead]])
            nan = np.full((lead.numel(), self.values.shape[1]), np.nan + 0j)
            self.values = np.concatenate([self.values, nan])
        return torch.arange(before, len(self), device=self.x.device)

    def select(self, keep: Tensor) -> None:
        for name in ("x", "ctx", "residual", "q", "hits", "source"):
            setattr(self, name, getattr(self, name)[keep])
        self.values = self.values[keep.cpu().numpy()]


def resolve_solver(solver: str, n_units: int) -> str:
    """The solver ``"dense"`` or ``"krylov"`` that ``solver`` (``"auto"``, ``"dense"``, ``"krylov"``) means.

    ``"auto"`` is ``"krylov"`` from :data:`KRYLOV_MIN_UNITS` units on.

    Raises
    ------
    InputError
        Another value.
    """
    if solver == "auto":
        return "krylov" if n_units >= KRYLOV_MIN_UNITS else "dense"
    if solver not in SOLVERS:
        raise InputError(f"`solver` must be one of 'auto', {', '.join(repr(v) for v in SOLVERS)}; got {solver!r}")
    return solver


def _leading_spectra(
    field: Field, x: Tensor, ctx: Tensor, *, n_top: int, left: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Like :func:`_spectra`, matrix-free: only the leading eigenvalues, the rest NaN.

    For all points at once, Krylov-Schur computes the eigenvalues of
    ``tau J`` of largest real part from batched products ``J v``
    (:func:`neurobias.analysis.krylov.leading_eigenvalues_batched`: one
    product with the weights per step for the whole batch; cycles of
    :data:`LEADING_RESTART` vectors from :data:`LEADING_RESTART_MIN_UNITS`
    units on, the function's default below), at least
    ``max(LEADING_MODES, n_top)`` of them and, doubling, until the last one
    computed is clearly negative, so that every eigenvalue with a
    non-negative real part (the index, the stability) is among them.  Left
    eigenvectors come from the same computation on ``J^T``, paired by
    eigenvalue and scaled so that ``left_k . right_k = 1``.
    """
    p, n = x.shape
    tau = field.tau
    values = np.full((p, n), np.nan + 0j)
    right = np.zeros((p, n, n_top), np.complex128)
    lefts = np.zeros((p, n_top, n), np.complex128) if left else None
    if p == 0:
        return values, right, lefts
    margin = 1e3 * MARGINAL_RTOL  # dimensionless (tau J): well beyond the marginal tolerance
    gain = field.gain(x, ctx)
    k0 = max(LEADING_MODES, n_top)

    def run(transposed: bool, n_vectors: int) -> LeadingBatch:
        def mv(v: Tensor, sel: Tensor) -> Tensor:
            return tau * (field.JTv_at(gain[sel], v) if transposed else field.Jv_at(gain[sel], v))

        def dense(sel: Tensor) -> Tensor:
            J = field.J_scaled(x[sel], ctx[sel])
            return J.transpose(-1, -2) if transposed else J

        return leading_eigenvalues_batched(mv, p, n, k=k0, margin=margin, n_vectors=n_vectors, dense=dense,
                                           tol=SPECTRA_TOL, dtype=str(x.dtype).removeprefix("torch."),
                                           device=x.device,
                                           restart=LEADING_RESTART if n >= LEADING_RESTART_MIN_UNITS else 0)

    lead = run(False, n_top)
    k = lead.values.shape[1]
    values[:, :k] = lead.values / tau
    if n_top > 0 and lead.vectors is not None:
        right[:] = lead.vectors
        if lefts is not None:
            lt = run(True, k0)
            for i in range(p):
                for j in range(n_top):
                    m = int(np.nanargmin(np.abs(lt.values[i, :k0] - lead.values[i, j])))
                    w = lt.vectors[i, :, m]
                    dot = w @ lead.vectors[i, :, j]
                    lefts[i, j] = w / dot if abs(dot) > 0 else np.nan
    return values, right, lefts


def _spectra(
    field: Field, x: Tensor, ctx: Tensor, *, n_top: int, left: bool, workers: int, solver: str = "dense"
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Sorted eigenvalues (p, unit), top right eigenvectors (p, unit, n_top), top left ones (p, n_top, unit).

    Decomposes ``tau J`` (built in one pass) and divides the eigenvalues by ``tau``
    (``solver="dense"``), or computes the leading ones only (``"krylov"``,
    :func:`_leading_spectra`; the other entries are NaN).
    """
    if solver == "krylov":
        return _leading_spectra(field, x, ctx, n_top=n_top, left=left)
    p, n = x.shape
    values = np.zeros((p, n), np.complex128)
    right = np.zeros((p, n, n_top), np.complex128)
    lefts = np.zeros((p, n_top, n), np.complex128) if left else None
    vectors = n_top > 0
    step = max(1, (1 << 22) // max(1, n * n))
    for s in range(0, p, step):
        sl = slice(s, min(p, s + step))
        spec = eig_sorted(field.J_scaled(x[sl], ctx[sl]), vectors=vectors, n_top=None if left else n_top,
                          workers=workers)
        values[sl] = spec.values / field.tau
        if vectors and spec.vectors is not None:
            right[sl] = spec.vectors[:, :, :n_top]
            if lefts is not None:
                lefts[sl] = left_vectors(spec.vectors, n_top)
    return values, right, lefts


def _solve(
    field: Field, x0: Tensor, ctx0: Tensor, *, tol: float, max_newton: int, descent_steps: int, scale: Tensor,
    max_step: Tensor, known: _Points, workers: int, solver: str,
) -> NewtonResult:
    """Newton / LM from every candidate; those it does not bring to ``tol`` quickly start again after a descent.

    Damped Newton from a raw candidate either converges within a few
    iterations or wanders (on rough landscapes, e.g. chaotic circuits); the
    wanderers are restarted from their original state after ``descent_steps``
    Adam steps on ``q``, which bring them near a zero or a slow point first.
    """
    first = min(max_newton, FIRST_NEWTON) if descent_steps else max_newton
    res = newton_solve(field, x0, ctx0, tol=tol, max_iter=first, max_step=max_step[ctx0], workers=workers,
                       known_x=known.x, known_ctx=known.ctx, snap_rtol=SNAP_RTOL,
                       patience=FIRST_PATIENCE if descent_steps else 8, solver=solver)
    hard = torch.nonzero(~res.converged).squeeze(-1)
    if descent_steps and hard.numel():
        xd = adam_descent(field, x0[hard], ctx0[hard], steps=descent_steps, scale=scale[ctx0[hard]])
        known_x = torch.cat([known.x, res.x[res.converged]])
        known_ctx = torch.cat([known.ctx, ctx0[res.converged]])
        again = newton_solve(field, xd, ctx0[hard], tol=tol, max_iter=max_newton, max_step=max_step[ctx0[hard]],
                             workers=workers, known_x=known_x, known_ctx=known_ctx, snap_rtol=SNAP_RTOL,
                             solver=solver)
        for name in ("x", "residual", "q", "converged", "snapped"):
            getattr(res, name)[hard] = getattr(again, name)
        res.n_iter[hard] += again.n_iter
    return res


def find_fixed_points(
    circuit: Circuit,
    tonic: Any,
    *,
    contexts: Sequence[str] | None = None,
    inputs: Any = None,
    initial_states: Any = None,
    n_candidates: int = 256,
    seed: int = 0,
    tol: float = 1e-10,
    slow_q: float = 1e-6,
    max_newton: int = 50,
    descent_steps: int = 300,
    explore_rounds: int = 8,
    explore_modes: int = EXPLORE_MODES,
    merge_tol: float = 1e-6,
    n_modes: int | None = None,
    eigenvectors: bool = False,
    progress: bool = False,
    device: str | torch.device = "cpu",
    engine: str = "neurobias",
    solver: str = "auto",
) -> xr.Dataset:
    """Find the fixed points (and slow points) of a circuit in every context.

    A fixed point of context ``c`` is a state ``x`` with ``F(x) = 0`` for the
    flow ``F = (-x + A(x)) / tau`` of :func:`neurobias.circuit.dynamics.vector_field`
    (state = currents for ``form="current"``, rates for ``form="rate"``), with
    the constant drive ``ext = W_in u + b_c``.  For the rate form stepped with
    Euler at ``dt = tau``, the fixed points of the map ``x -> step(x)`` are the
    same set (``step(x) - x = tau F(x)``).

    Method: candidates per context (final and intermediate states of simulated
    trajectories plus noise; random states spread over the visited range at
    several scales; ``initial_states``), all contexts in one float64 batch;
    optional Adam descent on ``q = |F|^2 / 2``; damped Newton /
    Levenberg-Marquardt with the analytic Jacobian to ``max|F| <= tol``;
    merging of duplicates; then up to ``explore_rounds`` rounds of new
    candidates around the fixed points just found (along their leading
    eigen-directions, and midpoints and reflections with their nearest
    neighbours; those that the linearisation about a known fixed point
    already explains are not solved), until a round finds nothing new and
    no candidate is left.  Candidates that do not
    converge but end with ``q <= slow_q`` are *slow points*, reported with
    ``kind = "slow"``, never mixed with the fixed points.

    Parameters
    ----------
    circuit : Circuit
    tonic : array_like of shape (context, unit) or (unit,), DataArray or Dataset
        Tonic input per context, anything :func:`neurobias.circuit.simulate.resolve_tonic`
        accepts (e.g. a results Dataset), state units.
    contexts : sequence of str, optional
        Names for, or a selection from, the contexts of ``tonic``.
    inputs : array_like of shape (input,) or (context, input), optional
        Constant input ``u`` (default zero).
    initial_states : array_like of shape (n, unit) or (context, n, unit), optional
        Extra starting states (used in addition to ``n_candidates``).
    n_candidates : int
        Generated starting states per context in the first round (a quarter
        from trajectories, the rest random); each exploration round adds at
        most as many again.
    seed : int
        Seed of every random choice; the same seed gives identical results.
    tol : float
        Convergence threshold on ``max|F|``, state units per ms.
    slow_q : float
        Largest ``q = |F|^2 / 2`` ((state units / ms)^2) of a slow point.
    max_newton : int
        Newton / LM iterations per candidate.
    descent_steps : int
        Adam steps on ``q`` for the candidates that damped Newton does not
        bring to ``tol`` within ``FIRST_NEWTON`` iterations; they then start
        again from their original state, descended (0: no retry).
    explore_rounds : int
        Exploration rounds after the first (0: none).
    explore_modes : int
        Leading eigen-directions scanned around each new fixed point (0: only
        the lines to neighbouring fixed points, no eigenvectors needed).
    merge_tol : float
        Two fixed points of a context are one if
        ``max|a - b| <= merge_tol * (1 + max(|a|_max, |b|_max))``.
    n_modes : int, optional
        Leading modes whose eigenvectors are returned when ``eigenvectors``
        (default ``min(8, unit)``).
    eigenvectors : bool
        Return right and left eigenvectors of the ``n_modes`` leading modes.
    progress : bool
        Print progress to stderr.
    device : str or torch.device
        Where to compute (float64 throughout).

    Returns
    -------
    xarray.Dataset
        One flat dimension ``fp`` over all contexts, with coordinates
        ``context (fp)`` (str) and ``fp``; ``unit``; ``mode`` (0..unit-1);
        variables

        * ``x (fp, unit)``: the point (state units); ``r (fp, unit)``: rates
          (``phi(x)`` for the current form, ``x`` for the rate form);
        * ``residual (fp)``: ``max|F(x)|`` (state units / ms); ``q (fp)``;
        * ``eig_real``, ``eig_imag (fp, mode)``: the eigenvalues of the
          Jacobian (1/ms), by real part descending (all of them with the
          dense solver; the leading ones, then NaN, with ``"krylov"``);
        * ``index (fp)``: eigenvalues with real part above the marginal
          tolerance (unstable directions); ``stability (fp)``: ``"stable"``,
          ``"marginal"``, ``"saddle"`` or ``"unstable"``; ``oscillatory (fp)``
          (0/1): the leading eigenvalue is complex;
        * ``kind (fp)``: ``"fixed"`` or ``"slow"``;
        * ``n_hits (fp)``: candidates that ended at this point; ``source
          (fp)``: family of the first one (``user``, ``trajectory``,
          ``random``, ``explore``);
        * with ``eigenvectors``: ``right_real``, ``right_imag``,
          ``left_real``, ``left_imag (fp, mode_top, unit)``.

        Points are ordered by context, kind (fixed first), index, then state.
        Attributes: the settings, ``contexts`` and per-context counts of
        candidates (``candidates_tried``, ``n_converged``, ``n_slow``,
        ``n_failed``; ``n_screened``: exploration candidates not solved because
        the linearisation about a known fixed point explains the flow there,
        see ``docs/fixed_points.md``) and of distinct points (``n_fixed_points``,
        ``n_slow_points``), aligned with ``contexts``.

    solver : {"auto", "dense", "krylov"}
        How Newton steps and spectra are computed.  ``"dense"``: LU
        factorisations and full eigen-decompositions of the ``unit x unit``
        Jacobian (``O(unit^3)`` per point); ``"krylov"``: matrix-free, from
        products ``J v`` (``O(unit^2)``): Newton-Krylov with batched GMRES
        preconditioned by the exact ``-I / tau`` part of ``J`` (an LU step
        near a fixed point where GMRES stalls), and the
        leading eigenvalues by batched Krylov-Schur, as many as needed for an
        exact ``index`` and at least ``max(8, explore_modes)``; the other
        entries of ``eig_real``/``eig_imag`` are NaN.  ``"auto"``:
        ``"krylov"`` from :data:`KRYLOV_MIN_UNITS` units on.  The result's
        ``attrs["solver"]`` says which was used and ``attrs["eigenvalues"]``
        is ``"all"`` or ``"leading"``.

    Other parameters
    ----------------
    engine : {"neurobias", "brainpy"}
        ``"brainpy"`` runs the same search through BrainPy's ``SlowPointFinder``
        (gradient descent on ``q``; needs the ``brainpy`` extra) from the same
        candidates and returns the same Dataset layout, judged by the same
        residual and classification, so the engines can be compared
        (:func:`neurobias.backends.brainpy.slow_point_finder`).

    Raises
    ------
    InputError
        Naming the offending argument.
    """
    if engine not in ("neurobias", "brainpy"):
        raise InputError(f"`engine` must be 'neurobias' or 'brainpy'; got {engine!r}")
    if engine == "brainpy":
        from neurobias.backends.brainpy import slow_point_finder

        return slow_point_finder(circuit, tonic, contexts=contexts, inputs=inputs, initial_states=initial_states,
                                 n_candidates=n_candidates, seed=seed, tol=tol, slow_q=slow_q, merge_tol=merge_tol,
                                 n_modes=n_modes, eigenvectors=eigenvectors, progress=progress)
    circuit = check_circuit(circuit)
    n_candidates = check_number("n_candidates", n_candidates, ge=0, integer=True)
    seed = check_number("seed", seed, ge=0, integer=True)
    tol = check_positive("tol", tol)
    slow_q = check_positive("slow_q", slow_q)
    merge_tol = check_positive("merge_tol", merge_tol)
    max_newton = check_number("max_newton", max_newton, ge=1, integer=True)
    descent_steps = check_number("descent_steps", descent_steps, ge=0, integer=True)
    explore_rounds = check_number("explore_rounds", explore_rounds, ge=0, integer=True)
    explore_modes = check_number("explore_modes", explore_modes, ge=0, integer=True)
    N = circuit.n_units
    solver = resolve_solver(solver, N)
    n_modes = min(8, N) if n_modes is None else check_number("n_modes", n_modes, ge=0, le=N, integer=True)
    bank, names = resolve_tonic(tonic, N, contexts)
    C = bank.shape[0]
    u = resolve_inputs(inputs, C, circuit.n_inputs)
    init = resolve_initial_states(initial_states, C, N)
    if n_candidates == 0 and init.shape[1] == 0:
        raise InputError("`n_candidates` must be >= 1 when no `initial_states` are given; got 0")
    dev = resolve_device(device)
    ext = u @ circuit.W_in.T + bank
    with torch.no_grad(), _threads(solver) as threads:
        workers = n_workers(threads) if dev.type == "cpu" else 1

        def t(a: np.ndarray) -> Tensor:
            return torch.tensor(np.array(a, dtype=np.float64), dtype=torch.float64, device=dev)

        field = Field(dyn=circuit.dynamics(device=dev), ext=t(ext))
        fixed, slow, stats = _search(
            field, t(init), rng=np.random.default_rng(seed), n_candidates=n_candidates, tol=tol, slow_q=slow_q,
            max_newton=max_newton, descent_steps=descent_steps, explore_rounds=explore_rounds,
            explore_modes=explore_modes, merge_tol=merge_tol, workers=workers, log=_Log(progress), solver=solver,
        )
        all_x = torch.cat([fixed.x, slow.x])
        all_ctx = torch.cat([fixed.ctx, slow.ctx])
        values = np.concatenate([fixed.values, slow.values])
        todo = np.flatnonzero(np.isnan(values[:, 0])) if not eigenvectors else np.arange(len(values))
        sel = torch.as_tensor(todo, dtype=torch.long, device=dev)
        vals, right, lefts = _spectra(field, all_x[sel], all_ctx[sel], n_top=n_modes if eigenvectors else 0,
                                      left=eigenvectors, workers=workers, solver=solver)
        values[todo] = vals
    kind = np.array(["fixed"] * len(fixed) + ["slow"] * len(slow), dtype=str)
    residual = torch.cat([fixed.residual, slow.residual]).cpu().numpy()
    q = torch.cat([fixed.q, slow.q]).cpu().numpy()
    hits = torch.cat([fixed.hits, slow.hits]).cpu().numpy()
    source = np.array(cand.SOURCES, dtype=str)[torch.cat([fixed.source, slow.source]).cpu().numpy()]
    settings = {
        "tol": tol, "slow_q": slow_q, "merge_tol": merge_tol, "seed": seed, "n_candidates": n_candidates,
        "max_newton": max_newton, "descent_steps": descent_steps, "explore_rounds": explore_rounds,
        "explore_modes": explore_modes, "n_modes": n_modes, "solver": solver,
        "eigenvalues": "all" if solver == "dense" else "leading",
    }
    return _to_dataset(
        circuit, names, u, x=all_x.cpu().numpy(), ctx=all_ctx.cpu().numpy(), values=values, kind=kind,
        residual=residual, q=q, hits=hits, source=source, right=right if eigenvectors else None,
        lefts=lefts if eigenvectors else None, stats=stats, settings=settings,
    )


def _threads(solver: str) -> contextlib.AbstractContextManager[int]:
    """The thread scope of a search: one torch thread around LU factorisations (dense), the caller's otherwise.

    The matrix-free path's products use torch's threads; its few factorisations (near fixed points, where
    GMRES stalls: :data:`neurobias.analysis._newton.LU_NEAR_RESIDUAL`) scope one thread themselves, so the
    batched-LU fault of :mod:`neurobias.circuit.threads` cannot arise.
    """
    if solver == "dense":
        return one_lapack_thread()
    return contextlib.nullcontext(CPU_THREADS)


def _tensor(a: np.ndarray, device: torch.device | str = "cpu") -> Tensor:
    return torch.tensor(np.array(a, dtype=np.float64), dtype=torch.float64, device=device)


def initial_candidates(
    circuit: Circuit,
    tonic: Any,
    *,
    contexts: Sequence[str] | None = None,
    inputs: Any = None,
    n_candidates: int = 256,
    seed: int = 0,
) -> xr.DataArray:
    """The first-round starting states of :func:`find_fixed_points`, for another search engine.

    The same generator, in the same order, with the same seed (and the same
    ``tonic``, ``contexts``, ``inputs``):
    ``find_fixed_points(circuit, tonic, n_candidates=n, seed=s)`` starts, in
    every context, from exactly these states (then explores around what it
    finds).  A quarter come from simulated trajectories (plus 2% noise), the
    rest are random states spread over the range the trajectories visit.

    Parameters
    ----------
    circuit : Circuit
    tonic : array_like of shape (context, unit) or (unit,), DataArray or Dataset
        Tonic input per context, state units.
    contexts : sequence of str, optional
        Names for, or a selection from, the contexts of ``tonic``.
    inputs : array_like of shape (input,) or (context, input), optional
        Constant input (default zero).
    n_candidates : int
        Starting states per context (>= 1).
    seed : int
        Seed of every random choice.

    Returns
    -------
    xarray.DataArray of dims (context, candidate, unit)
        State units; coordinate ``source (candidate)``: ``"trajectory"`` or
        ``"random"`` (see :data:`CANDIDATE_SOURCES`).
    """
    circuit = check_circuit(circuit)
    n_candidates = check_number("n_candidates", n_candidates, ge=1, integer=True)
    seed = check_number("seed", seed, ge=0, integer=True)
    bank, names = resolve_tonic(tonic, circuit.n_units, contexts)
    C, N = bank.shape
    u = resolve_inputs(inputs, C, circuit.n_inputs)
    with torch.no_grad():
        field = Field(dyn=circuit.dynamics(), ext=_tensor(u @ circuit.W_in.T + bank))
        rng = np.random.default_rng(seed)
        user = torch.zeros((C, 0, N), dtype=torch.float64)
        n_traj = max(4, min(256, n_candidates // 8))
        visited = cand.visit(field, rng, n_traj, extra=user)
        x0, ctx0, src0 = cand.first_round(field, rng, visited, n_candidates, user)
    out = np.zeros((C, n_candidates, N))
    for c in range(C):
        out[c] = x0[ctx0 == c].numpy()
    source = np.array(CANDIDATE_SOURCES, dtype=str)[src0[ctx0 == 0].numpy()]
    return xr.DataArray(
        out, dims=("context", "candidate", "unit"),
        coords={"context": np.array(names, dtype=str), "source": ("candidate", source)},
        name="candidates", attrs={"long_name": "starting states of the fixed-point search"},
    )


def classify_states(
    circuit: Circuit,
    tonic: Any,
    states: Any,
    *,
    contexts: Sequence[str] | None = None,
    inputs: Any = None,
    tol: float = 1e-10,
    slow_q: float = 1e-6,
    merge_tol: float = 1e-6,
    n_modes: int | None = None,
    eigenvectors: bool = False,
    seed: int = -1,
    device: str | torch.device = "cpu",
) -> xr.Dataset:
    """Judge, merge and classify states found by another search, in the layout of :func:`find_fixed_points`.

    Every state is judged exactly as :func:`find_fixed_points` judges its
    candidates, with the float64 vector field of the circuit:
    ``max|F| <= tol`` is a fixed point (``kind="fixed"``), otherwise
    ``q = |F|^2 / 2 <= slow_q`` a slow point (``kind="slow"``), otherwise a
    failure (counted in ``n_failed``); duplicates are merged with the same
    tolerances, slow points next to fixed points are dropped, and spectra,
    ``index``, ``stability`` and ``oscillatory`` come from the same code.
    Nothing is polished: residuals are those of the given states.

    Parameters
    ----------
    circuit : Circuit
    tonic : array_like of shape (context, unit) or (unit,), DataArray or Dataset
        Tonic input per context, state units.
    states : array_like or DataArray of shape (context, n, unit)
        Final states of the search in each context, state units.  A DataArray
        with a ``source (candidate)`` coordinate (as :func:`initial_candidates`
        gives) labels where each started; otherwise every state is ``"user"``.
    contexts : sequence of str, optional
        Names for, or a selection from, the contexts of ``tonic``.
    inputs : array_like of shape (input,) or (context, input), optional
        Constant input (default zero).
    tol, slow_q, merge_tol, n_modes, eigenvectors
        As in :func:`find_fixed_points`.
    seed : int
        Seed recorded in the attributes (-1: no generated candidates).
    device : str or torch.device
        Where to compute (float64 throughout).

    Returns
    -------
    xarray.Dataset
        The layout of :func:`find_fixed_points` (``attrs["n_candidates"]`` is ``n``).
    """
    circuit = check_circuit(circuit)
    N = circuit.n_units
    tol = check_positive("tol", tol)
    slow_q = check_positive("slow_q", slow_q)
    merge_tol = check_positive("merge_tol", merge_tol)
    n_modes = min(8, N) if n_modes is None else check_number("n_modes", n_modes, ge=0, le=N, integer=True)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < -1:
        raise InputError(f"`seed` must be an integer >= -1; got {seed!r}")
    dev = resolve_device(device)
    bank, names = resolve_tonic(tonic, N, contexts)
    C = bank.shape[0]
    u = resolve_inputs(inputs, C, circuit.n_inputs)
    sources = np.asarray(states["source"].values if isinstance(states, xr.DataArray) and "source" in states.coords
                         else [], dtype=str)
    arr = np.asarray(states, dtype=np.float64)
    if arr.ndim != 3 or arr.shape[0] != C or arr.shape[2] != N:
        raise InputError(f"`states` must have shape (context, n, unit) = ({C}, n, {N}); "
                         f"got {describe_shape(arr.shape)}")
    n = arr.shape[1]
    if sources.size == 0:
        sources = np.full(n, "user")
    unknown = sorted(set(sources.tolist()) - set(CANDIDATE_SOURCES))
    if sources.shape != (n,) or unknown:
        raise InputError(f"`states` coordinate `source` must have {n} entries from {', '.join(CANDIDATE_SOURCES)}; "
                         f"got {sources.shape[0]} entries, unknown {unknown}")
    src = np.array([CANDIDATE_SOURCES.index(v) for v in sources], dtype=np.int64)
    with torch.no_grad(), one_lapack_thread() as threads:
        workers = n_workers(threads) if dev.type == "cpu" else 1
        field = Field(dyn=circuit.dynamics(device=dev), ext=_tensor(u @ circuit.W_in.T + bank, dev))
        x = _tensor(arr.reshape(C * n, N), dev)
        ctx = torch.arange(C, device=dev).repeat_interleave(n)
        source = torch.as_tensor(np.tile(src, C), dtype=torch.long, device=dev)
        F = field.F(x, ctx)
        residual = F.abs().amax(-1)
        q = 0.5 * (F * F).sum(-1)
        finite = torch.isfinite(residual)
        conv = finite & (residual <= tol)
        is_slow = finite & ~conv & (q <= slow_q)
        failed = ~conv & ~is_slow
        stats = {k: np.bincount(ctx[m].cpu().numpy(), minlength=C).astype(np.int64)
                 for k, m in (("tried", torch.ones_like(conv)), ("converged", conv), ("slow", is_slow),
                              ("failed", failed))}
        stats["screened"] = np.zeros(C, dtype=np.int64)  # every given state is judged
        fixed = _Points(N, field.ext)
        slow = _Points(N, field.ext)
        ci = torch.nonzero(conv).squeeze(-1)
        fixed.add(x[ci], ctx[ci], residual[ci], q[ci], source[ci], rtol=merge_tol)
        si = torch.nonzero(is_slow).squeeze(-1)
        slow.add(x[si], ctx[si], residual[si], q[si], source[si], rtol=SLOW_MERGE_RTOL)
        if len(slow) and len(fixed):
            near = match(slow.x, slow.ctx, fixed.x, fixed.ctx, rtol=SLOW_MERGE_RTOL) >= 0
            slow.select(torch.nonzero(~near).squeeze(-1))
        all_x = torch.cat([fixed.x, slow.x])
        all_ctx = torch.cat([fixed.ctx, slow.ctx])
        values, right, lefts = _spectra(field, all_x, all_ctx, n_top=n_modes if eigenvectors else 0,
                                        left=eigenvectors, workers=workers)
    kind = np.array(["fixed"] * len(fixed) + ["slow"] * len(slow), dtype=str)
    settings = {"tol": tol, "slow_q": slow_q, "merge_tol": merge_tol, "seed": int(seed), "n_candidates": n,
                "n_modes": int(n_modes)}
    return _to_dataset(
        circuit, names, u, x=all_x.cpu().numpy(), ctx=all_ctx.cpu().numpy(), values=values, kind=kind,
        residual=torch.cat([fixed.residual, slow.residual]).cpu().numpy(),
        q=torch.cat([fixed.q, slow.q]).cpu().numpy(), hits=torch.cat([fixed.hits, slow.hits]).cpu().numpy(),
        source=np.array(CANDIDATE_SOURCES, dtype=str)[torch.cat([fixed.source, slow.source]).cpu().numpy()],
        right=right if eigenvectors else None, lefts=lefts if eigenvectors else None, stats=stats,
        settings=settings,
    )


def _search(
    field: Field, user: Tensor, *, rng: np.random.Generator, n_candidates: int, tol: float, slow_q: float,
    max_newton: int, descent_steps: int, explore_rounds: int, explore_modes: int, merge_tol: float,
    workers: int, log: _Log, solver: str = "dense",
) -> tuple[_Points, _Points, dict[str, np.ndarray]]:
    """The search: first round, then exploration rounds; returns fixed points, slow points and counts."""
    C, N = field.ext.shape
    dev = field.ext.device
    stats = {k: np.zeros(C, dtype=np.int64) for k in ("tried", "converged", "slow", "failed", "screened")}
    n_traj = max(4, min(256, n_candidates // 8)) if n_candidates else 4
    visited = cand.visit(field, rng, n_traj, extra=user)
    max_step_of = 4.0 * visited.half.amax(-1) + 1.0  # (C,)
    x0, ctx0, src0 = cand.first_round(field, rng, visited, n_candidates, user)
    log(f"{x0.shape[0]} candidates in {C} context(s), {N} units, {solver} solver, {workers} worker thread(s)")
    fixed = _Points(N, field.ext)
    slow = _Points(N, field.ext)
    n_dirs = min(explore_modes, N)
    new_idx = torch.zeros(0, dtype=torch.long, device=dev)
    pool = cand.Pool(field.ext, POOL_RTOL)
    for rnd in range(explore_rounds + 1):
        if rnd > 0:
            if new_idx.numel():
                # scan lines through the points found in the previous round
                vals, right, _ = _spectra(field, fixed.x[new_idx], fixed.ctx[new_idx], n_top=n_dirs,
                                          left=False, workers=workers, solver=solver)
                fixed.values[new_idx.cpu().numpy()] = vals
                dirs = torch.cat([torch.as_tensor(right.real.transpose(0, 2, 1).copy(), device=dev),
                                  torch.as_tensor(right.imag.transpose(0, 2, 1).copy(), device=dev)], dim=1)
                px, pc, ps = cand.explore(field, fixed.x[new_idx], fixed.ctx[new_idx], dirs, fixed.x,
                                          fixed.ctx, visited.half)
                pool.add(px, pc, ps, fixed.x, fixed.ctx)
            # candidates that a known fixed point's linearisation explains would only return to it
            if len(pool):
                seen = cand.explained(field, pool.x, pool.ctx, fixed.x, fixed.ctx, rtol=SCREEN_RTOL)
                stats["screened"] += np.bincount(pool.ctx[seen].cpu().numpy(), minlength=C)
                pool.drop(seen)
            x0, ctx0 = pool.take(max(n_candidates, 1))
            src0 = torch.full((x0.shape[0],), cand.SOURCES.index("explore"), dtype=torch.long, device=dev)
            if x0.shape[0] == 0:
                break
            log(f"round {rnd}: {x0.shape[0]} exploration candidates, {len(pool)} left in the pool")
        res = _solve(field, x0, ctx0, tol=tol, max_newton=max_newton, descent_steps=descent_steps,
                     scale=visited.half, max_step=max_step_of, known=fixed, workers=workers, solver=solver)
        conv = res.converged
        is_slow = ~conv & (res.q <= slow_q)
        failed = ~conv & ~is_slow
        for k, mask in (("tried", torch.ones_like(conv)), ("converged", conv), ("slow", is_slow),
                        ("failed", failed)):
            stats[k] += np.bincount(ctx0[mask].cpu().numpy(), minlength=C)
        c_idx = torch.nonzero(conv).squeeze(-1)
        new_idx = fixed.add(res.x[c_idx], ctx0[c_idx], res.residual[c_idx], res.q[c_idx], src0[c_idx],
                            rtol=merge_tol)
        if new_idx.numel():
            # polish: one more Newton iteration for each new distinct fixed point (one LU per point)
            px, pc = fixed.x[new_idx], fixed.ctx[new_idx]
            pol = newton_solve(field, px, pc, tol=0.0, max_iter=1, max_step=max_step_of[pc], workers=workers,
                               solver=solver)
            better = pol.residual < fixed.residual[new_idx]
            fixed.x[new_idx] = torch.where(better[:, None], pol.x, px)
            fixed.residual[new_idx] = torch.where(better, pol.residual, fixed.residual[new_idx])
            fixed.q[new_idx] = torch.where(better, pol.q, fixed.q[new_idx])
        s_idx = torch.nonzero(is_slow).squeeze(-1)
        slow.add(res.x[s_idx], ctx0[s_idx], res.residual[s_idx], res.q[s_idx], src0[s_idx], rtol=SLOW_MERGE_RTOL)
        log(f"round {rnd}: {x0.shape[0]} candidates, {int(conv.sum())} converged "
            f"(mean {float(res.n_iter.double().mean()) if res.n_iter.numel() else 0:.1f} iterations), "
            f"{int(is_slow.sum())} slow, {int(failed.sum())} failed; {new_idx.numel()} new fixed points, "
            f"{len(fixed)} in all")
        if new_idx.numel() == 0 and len(pool) == 0:
            break
    # slow points that are really (imperfectly converged) fixed points are dropped
    if len(slow) and len(fixed):
        near = match(slow.x, slow.ctx, fixed.x, fixed.ctx, rtol=SLOW_MERGE_RTOL) >= 0
        slow.select(torch.nonzero(~near).squeeze(-1))
    return fixed, slow, stats


def _to_dataset(
    circuit: Circuit, names: Sequence[str], u: np.ndarray, *, x: np.ndarray, ctx: np.ndarray, values: np.ndarray,
    kind: np.ndarray, residual: np.ndarray, q: np.ndarray, hits: np.ndarray, source: np.ndarray,
    right: np.ndarray | None, lefts: np.ndarray | None, stats: dict[str, np.ndarray], settings: dict[str, Any],
) -> xr.Dataset:
    """Sort the points and assemble the output Dataset (layout in :func:`find_fixed_points`)."""
    N = circuit.n_units
    C = len(names)
    x_np, ctx_np = x, ctx
    if right is not None and right.shape[0] != x.shape[0]:
        raise AssertionError("eigenvectors must be given for every point")  # a bug, not user input
    index, stability, osc = classify(values, circuit.tau)
    # deterministic order: context, kind, index, then the state itself
    # (the state rounded, so that float noise in equal entries cannot change the order)
    x_key = np.round(x_np, 8)
    keys = [x_key[:, j] for j in range(N - 1, -1, -1)] + [index, (kind == "slow").astype(int), ctx_np]
    order = np.lexsort(keys) if x_np.shape[0] else np.zeros(0, dtype=np.int64)
    residual, q, hits, source = residual[order], q[order], hits[order], source[order]
    x_np, ctx_np, values = x_np[order], ctx_np[order], values[order]
    index, stability, osc, kind = index[order], stability[order], osc[order], kind[order]
    r_np = circuit.rates(x_np)
    n_fp = x_np.shape[0]
    data: dict[str, Any] = {
        "x": (("fp", "unit"), x_np, {"long_name": "fixed or slow point (currents or rates, by form)",
                                        "units": "state units"}),
        "r": (("fp", "unit"), r_np, {"long_name": "rates phi(x) (form=current) or x (form=rate)"}),
        "residual": (("fp",), residual, {"long_name": "max|F(x)|", "units": "state units per ms"}),
        "q": (("fp",), q, {"long_name": "|F(x)|^2 / 2", "units": "(state units per ms)^2"}),
        "eig_real": (("fp", "mode"), values.real.copy(), {"long_name": "eigenvalues, real part", "units": "1/ms"}),
        "eig_imag": (("fp", "mode"), values.imag.copy(), {"long_name": "eigenvalues, imaginary part", "units": "1/ms"}),
        "index": (("fp",), index.astype(np.int64), {"long_name": "eigenvalues with positive real part"}),
        "stability": (("fp",), stability.astype(str), {"long_name": "stable, marginal, saddle or unstable"}),
        "oscillatory": (("fp",), osc.astype(np.int8), {"long_name": "1 if the leading eigenvalue is complex"}),
        "kind": (("fp",), kind.astype(str), {"long_name": "fixed (max|F| <= tol) or slow (q <= slow_q)"}),
        "n_hits": (("fp",), hits.astype(np.int64), {"long_name": "candidates that ended at this point"}),
        "source": (("fp",), source.astype(str), {"long_name": "family of the first candidate that found it"}),
    }
    coords: dict[str, Any] = {
        "fp": np.arange(n_fp, dtype=np.int64),
        "context": ("fp", np.array(names, dtype=str)[ctx_np] if n_fp else np.zeros(0, dtype=str)),
        "unit": np.arange(N, dtype=np.int64),
        "mode": np.arange(N, dtype=np.int64),
    }
    if right is not None:
        R = right[order].transpose(0, 2, 1)  # (fp, mode_top, unit)
        L = lefts[order] if lefts is not None else np.zeros_like(R)
        coords["mode_top"] = np.arange(R.shape[1], dtype=np.int64)
        for name, arr, what in (("right", R, "right"), ("left", L, "left")):
            for part, values_part in (("real", arr.real), ("imag", arr.imag)):
                data[f"{name}_{part}"] = (("fp", "mode_top", "unit"), values_part.copy(),
                                          {"long_name": f"{what} eigenvectors of the leading modes, {part} part"})
    kinds_per_ctx = {k: np.bincount(ctx_np[kind == k], minlength=C) if n_fp else np.zeros(C, np.int64)
                     for k in ("fixed", "slow")}
    attrs = {
        "definition": "F(x) = 0 for the flow tau dx/dt = -x + A(x) (same set as x = step(x) of Euler maps)",
        "method": METHOD,
        **settings,
        "form": circuit.form,
        "phi": circuit.phi,
        "tau": float(circuit.tau),
        "tau_units": "ms",
        "contexts": list(names),
        "inputs": u.tolist(),
        "candidates_tried": stats["tried"],
        "n_converged": stats["converged"],
        "n_slow": stats["slow"],
        "n_failed": stats["failed"],
        "n_screened": stats["screened"],
        "n_fixed_points": kinds_per_ctx["fixed"].astype(np.int64),
        "n_slow_points": kinds_per_ctx["slow"].astype(np.int64),
    }
    return xr.Dataset(data, coords=coords, attrs=attrs)

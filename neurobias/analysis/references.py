"""Reference circuits whose fixed points are known exactly, and a matcher.

These are the ground truth for :func:`neurobias.analysis.find_fixed_points`
(tests and ``benchmarks/fixed_points.py``) and, later, for the continuation.

* :func:`multistable_chain`: ``n_core`` self-exciting tanh units ("cores"),
  each with three fixed points, plus any number of "slave" units, connected
  one way only (the weight matrix is lower triangular: unit ``i`` receives
  only from units ``j <= i``).  Every combination of core branches gives
  exactly one fixed point, so there are exactly ``3**n_core``; the Jacobian is
  triangular, so its eigenvalues are its diagonal and the index (number of
  unstable directions) is the number of cores on their middle branch.
  ``n_core = 5`` gives the 243 fixed points (32 stable) of the fixed-point
  benchmark at any size ``n_units``.
* :func:`mirrored_multistable`: the same ``3**n_core`` fixed points in a
  *dense* circuit that no permutation makes triangular: the cores receive
  from, and drive, mirrored pairs of follower units whose contributions
  cancel exactly at every fixed point (see its docstring for the proof).
* :func:`saddle_node_ghost` and :func:`fold_bias`: one self-exciting unit
  pushed just past its saddle-node bifurcation: one fixed point and a slow
  "ghost" region where the two annihilated ones were.
* :func:`match_fixed_points`: match found and known points both ways.

A fixed point is a zero of the flow, ``F(x) = 0`` (see
:mod:`neurobias.circuit.dynamics`).  For ``form="rate"`` the fixed points are
``r* = tanh(h*)`` where ``h*`` are those of ``form="current"`` with the same
weights and bias (``h* = W r* + b``), and the spectra agree (``W D`` and
``D W`` have the same eigenvalues).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

from neurobias.circuit.circuit import FORMS, Circuit
from neurobias.errors import InputError, check_choice

__all__ = [
    "KnownFixedPoints",
    "multistable_chain",
    "mirrored_multistable",
    "saddle_node_ghost",
    "fold_bias",
    "fold_point",
    "match_fixed_points",
]


@dataclass(frozen=True)
class KnownFixedPoints:
    """A circuit, a tonic input and the complete set of its fixed points.

    Attributes
    ----------
    circuit : Circuit
    tonic : ndarray of shape (unit,)
        Tonic input (state units) under which the fixed points hold; zero input.
    x : ndarray of shape (fp, unit)
        Every fixed point (states: currents for ``form="current"``, rates for
        ``form="rate"``).
    index : ndarray of shape (fp,), int
        Number of eigenvalues of the Jacobian with positive real part.
    eigenvalues : ndarray of shape (fp, unit)
        Eigenvalues of the Jacobian, 1/ms, sorted by real part descending (real for
        :func:`multistable_chain`, complex for :func:`mirrored_multistable`).
    stable : ndarray of shape (fp,), bool
        ``index == 0``.
    ghosts : ndarray of shape (ghost, unit)
        Centres of slow regions without a fixed point (may be empty).
    """

    circuit: Circuit
    tonic: np.ndarray
    x: np.ndarray
    index: np.ndarray
    eigenvalues: np.ndarray
    stable: np.ndarray
    ghosts: np.ndarray


def fold_point(w: float) -> float:
    """``x_c = arccosh(sqrt(w))`` where ``d/dx (w tanh x - x) = 0``, for ``w > 1``."""
    if not w > 1:
        raise InputError(f"`w` must be > 1 for a fold; got {w!r}")
    return float(np.arccosh(np.sqrt(w)))


def fold_bias(w: float) -> float:
    """Drive at which ``x = w tanh(x) + b`` has its saddle-node bifurcations, ``|b| = b_fold``.

    ``b_fold = w tanh(x_c) - x_c`` with ``x_c = arccosh(sqrt(w))``.  For ``|b| <
    b_fold`` the scalar equation has three roots, for ``|b| > b_fold`` one.
    """
    xc = fold_point(w)
    return float(w * np.tanh(xc) - xc)


def _g(x: np.ndarray, w: np.ndarray, u: np.ndarray) -> np.ndarray:
    return -x + w * np.tanh(x) + u


def _root(w: np.ndarray, u: np.ndarray, lo: np.ndarray, hi: np.ndarray, x0: np.ndarray | None = None) -> np.ndarray:
    """Vectorised root of ``-x + w tanh(x) + u`` in ``[lo, hi]`` where it is monotone (bisection + Newton)."""
    lo, hi = np.array(lo, dtype=np.float64), np.array(hi, dtype=np.float64)
    g_lo = _g(lo, w, u)
    if np.any(g_lo * _g(hi, w, u) > 0):
        raise InputError("internal: root not bracketed (a unit is driven past its fold)")
    x = 0.5 * (lo + hi) if x0 is None else np.clip(x0, lo, hi)
    for _ in range(100):
        gx = _g(x, w, u)
        left = np.sign(gx) == np.sign(g_lo)
        lo = np.where(left, x, lo)
        g_lo = np.where(left, gx, g_lo)
        hi = np.where(left, hi, x)
        dg = -1.0 + w / np.cosh(x) ** 2
        with np.errstate(divide="ignore", invalid="ignore"):
            xn = x - gx / dg
        inside = np.isfinite(xn) & (xn >= lo) & (xn <= hi)
        x_new = np.where(inside, xn, 0.5 * (lo + hi))
        if np.all(np.abs(x_new - x) <= 1e-15 * (1 + np.abs(x))):
            x = x_new
            break
        x = x_new
    return x


def multistable_chain(
    n_units: int = 16,
    n_core: int = 3,
    *,
    x_star: Any = None,
    core_coupling: float = 0.5,
    slave_gain: float = 0.8,
    slave_self: float = 0.3,
    bias_scale: float = 0.5,
    tau: float = 10.0,
    form: str = "current",
    seed: int = 0,
) -> KnownFixedPoints:
    """``n_core`` tristable tanh units driving ``n_units - n_core`` slaves one way: ``3**n_core`` fixed points.

    In current form, ``tau dx/dt = -x + W tanh(x) + b`` with ``W`` lower
    triangular (units ``0 .. n_core-1`` are the cores, the rest slaves):

    * core ``k`` has self-weight ``w_k = x*_k / tanh(x*_k) > 1`` and receives
      from the cores before it with weights scaled so that their total input
      stays below ``core_coupling`` times its fold drive :func:`fold_bias`;
      whatever the upstream cores do, ``x = w_k tanh(x) + u`` has three roots
      (two outer branches and a middle one), so every combination of branches
      is one fixed point: ``3**n_core`` in all, no others;
    * slave ``j`` has self-weight ``s_j ~ U(-slave_self, slave_self)``
      (``|s_j| < 1``: one root), weights ``N(0, slave_gain**2 / j)`` from every
      unit before it and bias ``N(0, bias_scale**2)``.

    The Jacobian ``(-I + W diag(1 - tanh(x)**2)) / tau`` is lower triangular:
    its eigenvalues are ``(-1 + W_ii (1 - tanh(x_i)**2)) / tau``, positive
    exactly for cores on their middle branch, so ``index`` = number of such
    cores and the ``2**n_core`` points with every core on an outer branch are
    the stable ones.  The roots are computed to float64 precision by bracketed
    Newton, branch by branch and unit by unit in order.

    Parameters
    ----------
    n_units : int
        Total units, ``>= n_core``.
    n_core : int
        Tristable units (``3**n_core`` fixed points; keep ``n_core <= 8``).
    x_star : array_like of shape (n_core,), optional
        Outer fixed point of each uncoupled core; default evenly spaced in
        [1.5, 2.5] (distinct, so that the eigenvalues are distinct).
    core_coupling : float
        In [0, 1): upstream core input as a fraction of the fold drive.
    slave_gain, slave_self, bias_scale : float
        Slave weight scale, self-weight bound (< 1) and bias scale.
    tau : float
        Time constant, ms.
    form : {"current", "rate"}
        For ``"rate"`` the fixed points are ``tanh`` of the current-form ones.
    seed : int

    Returns
    -------
    KnownFixedPoints
    """
    n_units, n_core = int(n_units), int(n_core)
    if n_core < 1 or n_core > 10:
        raise InputError(f"`n_core` must be in 1..10; got {n_core}")
    if n_units < n_core:
        raise InputError(f"`n_units` must be >= n_core = {n_core}; got {n_units}")
    if not 0 <= core_coupling < 1:
        raise InputError(f"`core_coupling` must be in [0, 1); got {core_coupling!r}")
    if not 0 <= slave_self < 1:
        raise InputError(f"`slave_self` must be in [0, 1); got {slave_self!r}")
    check_choice("form", form, FORMS)
    rng = np.random.default_rng(seed)
    xs = np.linspace(1.5, 2.5, n_core) if x_star is None else np.asarray(x_star, dtype=np.float64)
    if xs.shape != (n_core,) or np.any(xs <= 0):
        raise InputError(f"`x_star` must be {n_core} positive numbers; got {x_star!r}")
    w_core = xs / np.tanh(xs)
    W = np.zeros((n_units, n_units))
    b = np.zeros(n_units)
    for k in range(n_core):
        W[k, k] = w_core[k]
        if k > 0 and core_coupling > 0:
            c = rng.uniform(-1.0, 1.0, size=k)
            c *= core_coupling * fold_bias(w_core[k]) / np.abs(c).sum()
            W[k, :k] = c
    for j in range(n_core, n_units):
        W[j, j] = rng.uniform(-slave_self, slave_self)
        W[j, :j] = rng.normal(0.0, slave_gain / np.sqrt(j), size=j)
        b[j] = rng.normal(0.0, bias_scale)
    # enumerate branch combinations: 0 = lower, 1 = middle, 2 = upper
    combos = np.array(list(itertools.product((0, 1, 2), repeat=n_core)), dtype=np.int64)
    h = np.zeros((len(combos), n_units))
    for k in range(n_core):
        u = np.tanh(h[:, :k]) @ W[k, :k] + b[k]
        w = np.full(len(combos), W[k, k])
        xc = fold_point(W[k, k])
        big = w + np.abs(u) + 1.0
        lo = np.select([combos[:, k] == 0, combos[:, k] == 1], [-big, -xc], xc)
        hi = np.select([combos[:, k] == 0, combos[:, k] == 1], [-xc, xc], big)
        h[:, k] = _root(w, u, lo, hi)
    for j in range(n_core, n_units):
        u = np.tanh(h[:, :j]) @ W[j, :j] + b[j]
        w = np.full(len(combos), W[j, j])
        span = np.abs(w) + 1.0
        h[:, j] = _root(w, u, u - span, u + span, u + w * np.tanh(u))
    eig = (-1.0 + np.diag(W)[None, :] * (1.0 - np.tanh(h) ** 2)) / tau
    eig = -np.sort(-eig, axis=1)
    index = (combos == 1).sum(axis=1)
    circuit = Circuit.from_arrays(
        W_rec=W, W_out=np.eye(1, n_units), tau=tau, phi="tanh", form=form, seed=seed,
        connectivity="multistable_chain",
    )
    # the fixed points of the two forms correspond one to one: rates r* = tanh(h*) with currents h* = W r* + b
    x = np.tanh(h) if circuit.state_is_rate else h
    return KnownFixedPoints(
        circuit=circuit, tonic=b, x=x, index=index, eigenvalues=eig, stable=index == 0,
        ghosts=np.zeros((0, n_units)),
    )


def mirrored_multistable(
    n_units: int = 512,
    n_core: int = 5,
    *,
    x_star: Any = None,
    core_bias: float = 0.3,
    feedback_gain: float = 1.0,
    drive_gain: float = 1.0,
    follower_gain: float = 0.5,
    bias_scale: float = 0.5,
    tau: float = 10.0,
    form: str = "current",
    spectra: bool = True,
    seed: int = 0,
) -> KnownFixedPoints:
    """A dense, irreducible circuit with exactly ``3**n_core`` fixed points, all known.

    In current form ``tau dx/dt = -x + W tanh(x) + b``, with the units (before a
    random permutation that hides the structure) in four groups: ``n_core``
    cores ``c``, ``P = (n_units - n_core) // 2`` followers ``p``, their mirror
    images ``m`` (``P`` units) and, when ``n_units - n_core`` is odd, one
    observer unit ``z``:

    * ``x_c = diag(w) tanh(x_c) + C (tanh(x_p) + tanh(x_m)) + b_c``
    * ``x_p =  G tanh(x_c) + M (tanh(x_p) - tanh(x_m)) / 2 + b_p``
    * ``x_m = -G tanh(x_c) - M (tanh(x_p) - tanh(x_m)) / 2 - b_p``
    * ``x_z = g_z . tanh(x_c) + h_z . (tanh(x_p) - tanh(x_m)) / 2 + s_z tanh(x_z)``

    with dense Gaussian ``C`` (cores <- followers), ``G`` (followers <- cores)
    and ``M`` (followers <- followers, scaled to spectral norm
    ``follower_gain < 1``).  Every block but the cores' own diagonal is dense
    and the cores, followers and mirrors form one strongly connected graph, so
    ``W`` is not triangular under any permutation (nor block-triangular).

    Why the fixed points are known: the right-hand sides of ``x_p`` and
    ``x_m`` are exact negatives of each other, so at any fixed point
    ``x_m = -x_p``; ``tanh`` is odd, so the followers' feedback onto the cores,
    ``C (tanh(x_p) + tanh(x_m))``, vanishes, and each core solves its own
    scalar equation ``x = w_k tanh(x) + b_k``, which has three roots when
    ``|b_k| < fold_bias(w_k)`` (here ``|b_k| <= core_bias * fold_bias(w_k)``).
    Given the cores, the followers solve ``x_p = G tanh(x_c) + M tanh(x_p) +
    b_p``, a contraction (``|M|_2 < 1``, ``|tanh'| <= 1``): one solution,
    computed here by fixed-point iteration to float64 precision, and ``x_z``
    follows from a scalar contraction (``|s_z| < 1``).  So there are exactly
    ``3**n_core`` fixed points, and no others.

    Index: in the coordinates ``(c, s = (x_p - x_m) / 2, a = (x_p + x_m) / 2, z)``
    the Jacobian ``tau J = -I + W diag(tanh')`` is block triangular (``a``
    decays at rate ``-1``, ``c`` is driven only by ``a``, ``s`` by ``c``), with
    diagonal blocks ``-1 + w_k tanh'(x_c,k)``, ``-I + M diag(tanh'(x_p))``
    (eigenvalues of real part ``< 0`` since ``|M|_2 < 1``), ``-I`` and
    ``-1 + s_z tanh'(x_z)``: the index is the number of cores on their middle
    branch, as for :func:`multistable_chain`.  ``eigenvalues`` holds these
    blocks' eigenvalues (the follower block by a dense ``P x P``
    decomposition), sorted by real part descending.

    Parameters
    ----------
    n_units : int
        Total units, ``>= n_core + 2``.
    n_core : int
        Tristable units, 1..10.
    x_star : array_like of shape (n_core,), optional
        Outer root of each core at zero bias (default evenly spaced in [1.5, 2.5]).
    core_bias : float
        In [0, 1): core biases are uniform in ``+-core_bias * fold_bias(w_k)``.
    feedback_gain, drive_gain : float
        Scales of ``C`` and ``G`` (entries of standard deviation ``gain / sqrt(fan-in)``).
    follower_gain : float
        Spectral norm of ``M``, in [0, 1).
    bias_scale : float
        Standard deviation of the followers' biases ``b_p``.
    tau : float
        Time constant, ms.
    form : {"current", "rate"}
        For ``"rate"`` the fixed points are ``tanh`` of the current-form ones.
    spectra : bool
        Compute the follower block's eigenvalues (``3**n_core`` dense
        decompositions of size ``P``); when False those entries of
        ``eigenvalues`` are NaN (the index is known without them).
    seed : int

    Returns
    -------
    KnownFixedPoints
    """
    n_units, n_core = int(n_units), int(n_core)
    if n_core < 1 or n_core > 10:
        raise InputError(f"`n_core` must be in 1..10; got {n_core}")
    if n_units < n_core + 2:
        raise InputError(f"`n_units` must be >= n_core + 2 = {n_core + 2}; got {n_units}")
    if not 0 <= core_bias < 1:
        raise InputError(f"`core_bias` must be in [0, 1); got {core_bias!r}")
    if not 0 <= follower_gain < 1:
        raise InputError(f"`follower_gain` must be in [0, 1); got {follower_gain!r}")
    if form not in FORMS:
        raise InputError(f"`form` must be one of {', '.join(FORMS)}; got {form!r}")
    rng = np.random.default_rng(seed)
    xs = np.linspace(1.5, 2.5, n_core) if x_star is None else np.asarray(x_star, dtype=np.float64)
    if xs.shape != (n_core,) or np.any(xs <= 0):
        raise InputError(f"`x_star` must be {n_core} positive numbers; got {x_star!r}")
    w_core = xs / np.tanh(xs)
    P = (n_units - n_core) // 2
    has_z = (n_units - n_core) % 2 == 1
    b_c = core_bias * np.array([fold_bias(w) for w in w_core]) * rng.uniform(-1.0, 1.0, n_core)
    C = rng.normal(0.0, feedback_gain / np.sqrt(2 * P), (n_core, P))
    G = rng.normal(0.0, drive_gain / np.sqrt(n_core), (P, n_core))
    M = rng.normal(0.0, 1.0, (P, P))
    M *= follower_gain / np.linalg.norm(M, 2)
    b_p = rng.normal(0.0, bias_scale, P)
    g_z = rng.normal(0.0, drive_gain / np.sqrt(n_core), n_core)
    h_z = rng.normal(0.0, 1.0 / np.sqrt(P), P)
    s_z = float(rng.uniform(-0.5, 0.5))
    # the weights in block order (c, p, m, z)
    ic, ip, im = np.arange(n_core), n_core + np.arange(P), n_core + P + np.arange(P)
    W = np.zeros((n_units, n_units))
    b = np.zeros(n_units)
    W[np.ix_(ic, ic)] = np.diag(w_core)
    W[np.ix_(ic, ip)] = C
    W[np.ix_(ic, im)] = C
    W[np.ix_(ip, ic)] = G
    W[np.ix_(ip, ip)] = M / 2
    W[np.ix_(ip, im)] = -M / 2
    W[np.ix_(im, ic)] = -G
    W[np.ix_(im, ip)] = -M / 2
    W[np.ix_(im, im)] = M / 2
    b[ic], b[ip], b[im] = b_c, b_p, -b_p
    if has_z:
        iz = n_units - 1
        W[iz, ic] = g_z
        W[iz, ip] = h_z / 2
        W[iz, im] = -h_z / 2
        W[iz, iz] = s_z
    # the cores: three roots each (0 = lower, 1 = middle, 2 = upper branch)
    combos = np.array(list(itertools.product((0, 1, 2), repeat=n_core)), dtype=np.int64)
    n_fp = len(combos)
    h = np.zeros((n_fp, n_units))
    for k in range(n_core):
        w = np.full(n_fp, w_core[k])
        u = np.full(n_fp, b_c[k])
        xc = fold_point(w_core[k])
        big = w + np.abs(u) + 1.0
        lo = np.select([combos[:, k] == 0, combos[:, k] == 1], [-big, -xc], xc)
        hi = np.select([combos[:, k] == 0, combos[:, k] == 1], [-xc, xc], big)
        h[:, k] = _root(w, u, lo, hi)
    # the followers: the contraction x_p = G tanh(x_c) + M tanh(x_p) + b_p, by fixed-point iteration
    drive = np.tanh(h[:, ic]) @ G.T + b_p
    xp = drive.copy()
    change = np.inf
    for _ in range(10_000):
        nxt = drive + np.tanh(xp) @ M.T
        step = float(np.max(np.abs(nxt - xp)))
        xp = nxt
        # a contraction: stop at rounding level (the change no longer shrinks)
        if step <= 1e-15 * (1.0 + float(np.max(np.abs(nxt)))) or step >= change:
            break
        change = step
    h[:, ip], h[:, im] = xp, -xp
    if has_z:
        u = np.tanh(h[:, ic]) @ g_z + np.tanh(xp) @ h_z
        w = np.full(n_fp, s_z)
        span = abs(s_z) + 1.0
        h[:, n_units - 1] = _root(w, u, u - span, u + span, u + s_z * np.tanh(u))
    # eigenvalues of the diagonal blocks of tau J in the (c, s, a, z) coordinates
    gain_c = 1.0 - np.tanh(h[:, ic]) ** 2
    gain_p = 1.0 - np.tanh(xp) ** 2
    eig = np.zeros((n_fp, n_units), np.complex128)
    eig[:, :n_core] = -1.0 + w_core * gain_c
    eig[:, n_core:n_core + P] = (np.linalg.eigvals(-np.eye(P) + M[None] * gain_p[:, None, :]) if spectra
                                 else np.nan)
    eig[:, n_core + P:n_core + 2 * P] = -1.0
    if has_z:
        eig[:, -1] = -1.0 + s_z * (1.0 - np.tanh(h[:, -1]) ** 2)
    eig = eig / tau
    eig = np.take_along_axis(eig, np.lexsort((-eig.imag, -eig.real), axis=-1), axis=-1)  # NaN last
    index = (combos == 1).sum(axis=1)
    # hide the structure: one random permutation of the units
    perm = rng.permutation(n_units)
    W, b, h = W[np.ix_(perm, perm)], b[perm], h[:, perm]
    circuit = Circuit.from_arrays(
        W_rec=W, W_out=np.eye(1, n_units), tau=tau, phi="tanh", form=form, seed=seed,
        connectivity="mirrored_multistable",
    )
    x = np.tanh(h) if circuit.state_is_rate else h
    return KnownFixedPoints(
        circuit=circuit, tonic=b, x=x, index=index, eigenvalues=eig, stable=index == 0,
        ghosts=np.zeros((0, n_units)),
    )


def saddle_node_ghost(
    w: float = 2.0, *, margin: float = 1e-3, tau: float = 10.0
) -> KnownFixedPoints:
    """One tanh unit ``tau dx/dt = -x + w tanh(x) + b`` driven just past its fold.

    With ``b = fold_bias(w) + margin`` (``margin > 0``) the lower pair of fixed
    points has annihilated in a saddle-node bifurcation: one fixed point is
    left (on the upper branch, stable) and near ``x = -x_c`` (``x_c`` from
    :func:`fold_point`) the flow is slow, ``F(-x_c) = margin / tau``: a ghost,
    i.e. a slow point with ``q = margin**2 / (2 tau**2)`` but no fixed point.

    Returns
    -------
    KnownFixedPoints
        With ``ghosts`` = ``[[-x_c]]``.
    """
    if not margin > 0:
        raise InputError(f"`margin` must be > 0; got {margin!r}")
    b = fold_bias(w) + margin
    x = _root(np.array([w]), np.array([b]), np.array([fold_point(w)]), np.array([w + b + 1.0]))
    eig = (-1.0 + w * (1.0 - np.tanh(x) ** 2)) / tau
    circuit = Circuit.from_arrays(W_rec=[[w]], W_out=[[1.0]], tau=tau, phi="tanh", form="current")
    return KnownFixedPoints(
        circuit=circuit, tonic=np.array([b]), x=x[:, None], index=np.array([0]),
        eigenvalues=eig[:, None], stable=np.array([True]), ghosts=np.array([[-fold_point(w)]]),
    )


def match_fixed_points(found: Any, known: Any, *, atol: float = 1e-8) -> tuple[np.ndarray, np.ndarray]:
    """Match found and known fixed points both ways (max-norm distance ``<= atol``).

    Parameters
    ----------
    found : array_like of shape (n_found, unit)
    known : array_like of shape (n_known, unit)
    atol : float

    Returns
    -------
    found_match : ndarray of shape (n_found,), int
        Index of the nearest known point within ``atol``, or -1 (a false point).
    known_found : ndarray of shape (n_known,), bool
        Whether some found point lies within ``atol`` (recall).
    """
    f = np.asarray(found, dtype=np.float64).reshape(-1, np.shape(known)[-1])
    k = np.asarray(known, dtype=np.float64)
    if f.shape[0] == 0 or k.shape[0] == 0:
        return np.full(f.shape[0], -1), np.zeros(k.shape[0], dtype=bool)
    found_match = np.full(f.shape[0], -1)
    known_found = np.zeros(k.shape[0], dtype=bool)
    step = max(1, (1 << 24) // max(1, k.size))
    for start in range(0, f.shape[0], step):
        dist = np.max(np.abs(f[start:start + step, None, :] - k[None, :, :]), axis=-1)
        nearest = dist.argmin(axis=1)
        near = dist[np.arange(len(dist)), nearest] <= atol
        found_match[start:start + step] = np.where(near, nearest, -1)
        known_found |= (dist <= atol).any(axis=0)
    return found_match, known_found

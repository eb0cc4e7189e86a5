"""Starting states for the fixed-point search.

Three families for the first round, per context (all random numbers from one
``numpy.random.Generator``, so a seed fixes everything):

* **trajectory**: ``n_traj`` trajectories of the circuit in that context, from
  ``x0 = A(z)`` with ``z ~ N(0, 1)`` per unit (``A`` the drive, i.e. the state
  one Euler step of length ``tau`` after ``z``, which lies in the range the
  dynamics produce), integrated with exponential Euler at ``dt = tau / 2``
  for ``TRAJ_DURATION`` time constants.  The final states (near attractors)
  and states at log-uniformly drawn times along the way (transients pass near
  saddles), plus Gaussian noise of 2% of the visited half-range per unit;
* **random**: spread over the box the trajectories visit: per unit centre
  ``c`` and half-range ``h``; half uniform in ``c +- k h`` and half Gaussian
  ``N(mean, (k std)^2)`` of the visited states, with scale factors
  ``k`` in ``SCALES_UNIFORM`` and ``SCALES_GAUSS``, so that points far from every trajectory (saddles of
  high index, e.g. near the centre of a symmetric circuit) are sampled too;
* **user**: the given ``initial_states``.

Later rounds **explore** around the fixed points found (see
:func:`explore`): along their leading eigen-directions and between
neighbouring fixed points; :class:`Pool` queues those candidates.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from neurobias.analysis._dedup import match, merge
from neurobias.analysis._field import Field
from neurobias.circuit.simulate import integrate

__all__ = ["SOURCES", "Visited", "visit", "first_round", "explore", "Pool"]

SOURCES: tuple[str, ...] = ("user", "trajectory", "random", "explore")
TRAJ_DURATION = 40.0  # in units of tau
SCALES_UNIFORM = (0.1, 0.5, 1.0, 1.5)
SCALES_GAUSS = (0.25, 0.5, 1.0, 2.0)
NOISE = 0.02


@dataclass
class Visited:
    """What the trajectories of each context visit.

    Attributes
    ----------
    states : Tensor of shape (context, traj, time, unit)
    center, half, mean, std : Tensor of shape (context, unit)
        Centre and half-width of the per-unit range; mean and standard deviation.
    """

    states: Tensor
    center: Tensor
    half: Tensor
    mean: Tensor
    std: Tensor


def _normal(rng: np.random.Generator, shape: tuple[int, ...], like: Tensor) -> Tensor:
    return torch.as_tensor(rng.standard_normal(shape), dtype=like.dtype, device=like.device)


def _uniform(rng: np.random.Generator, shape: tuple[int, ...], like: Tensor) -> Tensor:
    return torch.as_tensor(rng.uniform(-1.0, 1.0, shape), dtype=like.dtype, device=like.device)


def visit(field: Field, rng: np.random.Generator, n_traj: int, extra: Tensor | None = None) -> Visited:
    """Simulate ``n_traj`` trajectories per context and summarise the visited range.

    Parameters
    ----------
    field : Field
    rng : numpy.random.Generator
    n_traj : int
    extra : Tensor of shape (context, k, unit), optional
        More states to include in the range (the user's initial states).
    """
    C, N = field.ext.shape
    like = field.ext
    z = _normal(rng, (C, n_traj, N), like)
    ctx = torch.arange(C, device=like.device)[:, None].expand(C, n_traj)
    x0 = field.drive(z, ctx)
    n_steps = int(round(TRAJ_DURATION * 2))
    ext = field.ext[:, None, None, :].expand(C, 1, n_steps, N)
    states = integrate(x0, ext, field.dyn, dt=field.tau / 2, method="exp_euler")
    states = torch.cat([x0.unsqueeze(2), states], dim=2)  # (C, traj, time, N)
    flat = states.reshape(C, -1, N)
    if extra is not None and extra.shape[1]:
        flat = torch.cat([flat, extra], dim=1)
    finite = torch.isfinite(flat).all(-1, keepdim=True)
    flat = torch.where(finite, flat, torch.zeros_like(flat))
    lo, hi = flat.amin(1), flat.amax(1)
    center = 0.5 * (lo + hi)
    half = 0.5 * (hi - lo)
    half = torch.maximum(half, 1e-3 * (1.0 + center.abs()))
    mean = flat.mean(1)
    std = torch.maximum(flat.std(1), half / 4)
    return Visited(states=states, center=center, half=half, mean=mean, std=std)


def first_round(
    field: Field, rng: np.random.Generator, visited: Visited, n_candidates: int, user: Tensor | None
) -> tuple[Tensor, Tensor, Tensor]:
    """Candidates of the first round.

    Parameters
    ----------
    n_candidates : int
        Per context: a quarter from trajectories, the rest random.
    user : Tensor of shape (context, k, unit), optional

    Returns
    -------
    x : Tensor of shape (m, unit)
    ctx : Tensor of shape (m,), long
    source : Tensor of shape (m,), long
        Index into :data:`SOURCES`.
    """
    C, n_traj, T, N = visited.states.shape
    like = field.ext
    xs, cs, ss = [], [], []
    n_tr = min(n_candidates, max(n_traj, n_candidates // 4)) if n_candidates else 0
    n_rand = n_candidates - n_tr
    for c in range(C):
        if user is not None and user.shape[1]:
            xs.append(user[c])
            cs.append(torch.full((user.shape[1],), c, dtype=torch.long))
            ss.append(torch.full((user.shape[1],), 0, dtype=torch.long))
        if n_tr:
            # final states first, then log-uniform times along the trajectories
            n_final = min(n_traj, n_tr)
            traj = np.concatenate([np.arange(n_final), rng.integers(0, n_traj, n_tr - n_final)])
            t = np.concatenate([
                np.full(n_final, T - 1),
                np.floor(np.exp(rng.uniform(0.0, np.log(T), n_tr - n_final))).astype(np.int64) - 1,
            ])
            pts = visited.states[c, torch.as_tensor(traj), torch.as_tensor(np.clip(t, 0, T - 1))]
            pts = pts + NOISE * visited.half[c] * _normal(rng, (n_tr, N), like)
            xs.append(pts)
            cs.append(torch.full((n_tr,), c, dtype=torch.long))
            ss.append(torch.full((n_tr,), 1, dtype=torch.long))
        if n_rand:
            fam = np.arange(n_rand) % (2 * len(SCALES_UNIFORM))
            uni = fam < len(SCALES_UNIFORM)
            k_u = np.asarray(SCALES_UNIFORM)[fam % len(SCALES_UNIFORM)]
            k_g = np.asarray(SCALES_GAUSS)[fam % len(SCALES_UNIFORM)]
            u = _uniform(rng, (n_rand, N), like)
            g = _normal(rng, (n_rand, N), like)
            k_u_t = torch.as_tensor(k_u, dtype=like.dtype, device=like.device)[:, None]
            k_g_t = torch.as_tensor(k_g, dtype=like.dtype, device=like.device)[:, None]
            pts_u = visited.center[c] + k_u_t * visited.half[c] * u
            pts_g = visited.mean[c] + k_g_t * visited.std[c] * g
            pts = torch.where(torch.as_tensor(uni, device=like.device)[:, None], pts_u, pts_g)
            xs.append(pts)
            cs.append(torch.full((n_rand,), c, dtype=torch.long))
            ss.append(torch.full((n_rand,), 2, dtype=torch.long))
    if not xs:
        return like.new_zeros((0, N)), torch.zeros(0, dtype=torch.long), torch.zeros(0, dtype=torch.long)
    return torch.cat(xs), torch.cat(cs).to(like.device), torch.cat(ss).to(like.device)


def _line_minima(
    field: Field, base: Tensor, step: Tensor, ctx: Tensor, s_grid: Tensor, known_s: tuple[float, ...]
) -> tuple[Tensor, Tensor, Tensor]:
    """Local minima of ``q`` along the lines ``base + s step`` sampled at ``s_grid``.

    Minima within one grid spacing of a ``known_s`` value (the known fixed
    points on the line) and at the ends of the grid are ignored.

    Returns
    -------
    x : Tensor of shape (k, unit)
        The states at the minima.
    ctx : Tensor of shape (k,)
    score : Tensor of shape (k,)
        ``q`` at the minimum divided by the largest ``q`` on its line (a deep
        minimum is a promising candidate).
    """
    b, N = base.shape
    S = s_grid.numel()
    out_x, out_c, out_s = [], [], []
    per = max(1, (1 << 21) // max(1, S * N))
    spacing = float((s_grid[1:] - s_grid[:-1]).max()) if S > 1 else 1.0
    near_known = torch.zeros(S, dtype=torch.bool, device=base.device)
    for k in known_s:
        near_known |= (s_grid - k).abs() <= spacing * 1.01
    # q only ranks the states of a line (its local minima become candidates that Newton refines in float64),
    # so the states are formed and q computed in float32: half the cost of the products that dominate the
    # scan; the states at the minima are formed again in float64
    single = field.single
    s32 = s_grid.to(single.ext.dtype)
    for i in range(0, b, per):
        bb, st, cc = base[i:i + per], step[i:i + per], ctx[i:i + per]
        pts = bb.to(s32.dtype)[:, None, :] + s32[None, :, None] * st.to(s32.dtype)[:, None, :]  # (b, S, N)
        f = single.F(pts, cc[:, None])  # one drive per line, broadcast along it
        q = 0.5 * (f * f).sum(-1).to(base.dtype)  # (b, S)
        q = torch.where(torch.isfinite(q), q, torch.full_like(q, float("inf")))
        is_min = torch.zeros_like(q, dtype=torch.bool)
        is_min[:, 1:-1] = (q[:, 1:-1] < q[:, :-2]) & (q[:, 1:-1] < q[:, 2:])
        is_min &= ~near_known[None, :]
        li, si = torch.nonzero(is_min, as_tuple=True)
        if li.numel() == 0:
            continue
        q_max = q.masked_fill(~torch.isfinite(q), 0.0).amax(-1)
        out_x.append(bb[li] + s_grid[si, None] * st[li])
        out_c.append(cc[li])
        out_s.append(q[li, si] / q_max[li].clamp_min(1e-300))
    if not out_x:
        return base.new_zeros((0, N)), ctx.new_zeros(0), base.new_zeros(0)
    return torch.cat(out_x), torch.cat(out_c), torch.cat(out_s)


def _mirrored(same: Tensor, nn: Tensor, valid: Tensor) -> Tensor:
    """Which neighbour lines another new point scans already, in the opposite direction.

    The line from new point ``i`` to its neighbour ``nn[i, s]`` is the line from that neighbour back to
    ``i`` when the neighbour is itself new and has ``i`` among its own valid neighbours.  The neighbour
    grid is symmetric about ``s = 1/2`` (exactly so for the default 29 points, spaced 1/8) and its known
    positions are ``{0, 1}``, so both scans sample the same states (to the rounding of states formed in
    float32) and find the same minima: the scan from the point of the larger index is skipped.

    Parameters
    ----------
    same : Tensor of shape (p, K), bool
        ``same[i, j]``: new point ``i`` is known point ``j`` (the same state in the same context; at most
        one ``j`` per ``i`` and one ``i`` per ``j``, the points of a context being merged).
    nn : Tensor of shape (p, k), long
        The known neighbours of each new point.
    valid : Tensor of shape (p, k), bool
        The lines to scan before this selection.

    Returns
    -------
    Tensor of shape (p, k), bool
        True for the lines to skip.
    """
    p = nn.shape[0]
    pairs = torch.nonzero(same)  # (pairs, 2): (new, known)
    if pairs.numel() == 0:
        return torch.zeros_like(valid)
    new_of_known = torch.full((same.shape[1],), -1, dtype=torch.long, device=nn.device)
    known_of_new = torch.full((p,), -1, dtype=torch.long, device=nn.device)
    new_of_known[pairs[:, 1]] = pairs[:, 0]
    known_of_new[pairs[:, 0]] = pairs[:, 1]
    partner = new_of_known[nn]  # (p, k): the neighbour as a new point, or -1
    rows = torch.arange(p, device=nn.device)
    # does the partner's valid neighbour list hold this point?
    back = (nn[partner.clamp_min(0)] == known_of_new[rows][:, None, None]) & valid[partner.clamp_min(0)]
    return (partner >= 0) & (partner < rows[:, None]) & back.any(-1) & (known_of_new[rows] >= 0)[:, None]


def explore(
    field: Field,
    new_x: Tensor,
    new_ctx: Tensor,
    new_dirs: Tensor,
    known_x: Tensor,
    known_ctx: Tensor,
    half: Tensor,
    *,
    n_neighbours: int = 16,
    reach: float = 2.0,
    n_grid: int = 16,
) -> tuple[Tensor, Tensor, Tensor]:
    """Candidates around newly found fixed points, from cheap scans along lines.

    Two kinds of lines through each new fixed point ``p``:

    * its leading eigen-directions ``d`` (real and imaginary parts of the
      eigenvectors, max-norm 1), scaled by ``h_i``, the visited half-range of
      the unit where ``d`` is largest: ``p + s h_i d`` for ``|s| <= reach``.
      Unstable manifolds of a saddle lead to other fixed points; the slow
      stable directions of an attractor lead to the saddles on its basin
      boundary;
    * the lines to its ``n_neighbours`` nearest known fixed points ``p'`` of
      the same context: ``p + s (p' - p)`` for ``-1.25 <= s <= 2.25``
      (saddles lie between attractors, and attractors beyond saddles).

    ``q`` is evaluated at about ``2 n_grid`` points on each line (``O(unit^2)``
    each, against ``O(unit^3)`` for a Newton step) and every interior local
    minimum of ``q`` away from the known points becomes a candidate, scored by
    its depth (``q`` there over the largest ``q`` on the line; deepest first,
    see :class:`Pool`).

    Parameters
    ----------
    field : Field
    new_x : Tensor of shape (p, unit)
    new_ctx : Tensor of shape (p,)
    new_dirs : Tensor of shape (p, dir, unit)
        Real directions (zero rows are skipped; may have ``dir = 0``).
    known_x, known_ctx : all fixed points found so far (including the new ones)
    half : Tensor of shape (context, unit)

    Returns
    -------
    x : Tensor of shape (m, unit)
    ctx : Tensor of shape (m,), long
    score : Tensor of shape (m,)
    """
    N = new_x.shape[-1]
    xs, cs, ss = [], [], []
    like = new_x
    if new_dirs.shape[1]:
        nonzero = new_dirs.abs().amax(-1) > 1e-9  # real modes have no imaginary direction
        d = new_dirs / new_dirs.abs().amax(-1, keepdim=True).clamp_min(1e-300)  # (p, k, N)
        arg = d.abs().argmax(-1)  # (p, k)
        h = torch.gather(half[new_ctx], 1, arg)  # (p, k)
        step = (h[..., None] * d)[nonzero]
        base = new_x[:, None, :].expand_as(d)[nonzero]
        cc = new_ctx[:, None].expand(-1, d.shape[1])[nonzero]
        grid = torch.linspace(-reach, reach, 2 * n_grid + 1, dtype=like.dtype, device=like.device)
        x, c, sc = _line_minima(field, base, step, cc, grid, (0.0,))
        xs.append(x), cs.append(c), ss.append(sc)
    if n_neighbours > 0 and known_x.shape[0] > 1:
        # direct differences: the matrix-product form of ``cdist`` leaves a point a few 1e-6 from itself, so that
        # it would be its own nearest neighbour (a line of zero length)
        dist = torch.cdist(new_x, known_x, compute_mode="donot_use_mm_for_euclid_dist")  # (p, K)
        other = new_ctx[:, None] != known_ctx[None, :]
        same = (dist == 0) & ~other  # a point of another context may share the state (equal drives)
        other |= same
        dist = torch.where(other, torch.full_like(dist, float("inf")), dist)
        k = min(n_neighbours, known_x.shape[0] - 1)
        dk, nn = torch.topk(dist, k, dim=1, largest=False)
        valid = torch.isfinite(dk) & ~_mirrored(same, nn, torch.isfinite(dk))
        if bool(valid.any()):
            q_pts = known_x[nn][valid]  # (v, N)
            base = new_x[:, None, :].expand(-1, k, -1)[valid]
            cc = new_ctx[:, None].expand(-1, k)[valid]
            grid = torch.linspace(-1.25, 2.25, 2 * n_grid - 3, dtype=like.dtype, device=like.device)
            x, c, sc = _line_minima(field, base, q_pts - base, cc, grid, (0.0, 1.0))
            xs.append(x), cs.append(c), ss.append(sc)
    if not xs:
        return like.new_zeros((0, N)), torch.zeros(0, dtype=torch.long, device=like.device), like.new_zeros(0)
    return torch.cat(xs), torch.cat(cs), torch.cat(ss)


def explained(
    field: Field, x: Tensor, ctx: Tensor, known_x: Tensor, known_ctx: Tensor, *, rtol: float, n_near: int = 3
) -> Tensor:
    """Which candidates lie in the linear regime of a known fixed point of their context.

    A candidate ``y`` is *explained* by a known fixed point ``p`` when the
    linearisation about ``p`` accounts for the flow at ``y``:
    ``|F(y) - J(p) (y - p)| <= rtol |F(y)|`` (2-norms).  Then ``F`` is close to
    the affine map ``J(p) (y - p)``, whose only zero is ``p``, so Newton from
    ``y`` returns to ``p`` and solving it again would find nothing new.  Each
    candidate is checked against its ``n_near`` nearest known fixed points of
    its context; the cost is ``O(unit^2)`` per pair (two products with the
    weights), against ``O(unit^3)`` for one Newton step.

    Returns
    -------
    Tensor of shape (m,), bool
    """
    m = x.shape[0]
    out = torch.zeros(m, dtype=torch.bool, device=x.device)
    if m == 0 or known_x.shape[0] == 0:
        return out
    F = field.F(x, ctx)
    f_norm = F.norm(dim=-1)
    dist = torch.cdist(x, known_x)  # (m, K)
    dist = torch.where(ctx[:, None] == known_ctx[None, :], dist, torch.full_like(dist, float("inf")))
    k = min(n_near, known_x.shape[0])
    dk, nn = torch.topk(dist, k, dim=1, largest=False)
    for j in range(k):
        ok = torch.isfinite(dk[:, j])
        if not bool(ok.any()):
            break
        idx = torch.nonzero(ok & ~out).squeeze(-1)
        if idx.numel() == 0:
            continue
        p = known_x[nn[idx, j]]
        lin = field.Jv(p, ctx[idx], x[idx] - p)
        err = (F[idx] - lin).norm(dim=-1)
        out[idx] = err <= rtol * f_norm[idx]
    return out


class Pool:
    """Exploration candidates waiting for their turn, best (smallest score) first.

    Candidates within ``rtol`` (relative, max-norm) of a pooled candidate or a
    known point of the same context are not added twice.
    """

    def __init__(self, like: Tensor, rtol: float) -> None:
        self.x = like.new_zeros((0, like.shape[-1]))
        self.ctx = torch.zeros(0, dtype=torch.long, device=like.device)
        self.score = like.new_zeros(0)
        self.rtol = rtol

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def add(self, x: Tensor, ctx: Tensor, score: Tensor, known_x: Tensor, known_ctx: Tensor) -> None:
        if x.shape[0] == 0:
            return
        fresh = (match(x, ctx, known_x, known_ctx, rtol=self.rtol) < 0) & (
            match(x, ctx, self.x, self.ctx, rtol=self.rtol) < 0)
        x, ctx, score = x[fresh], ctx[fresh], score[fresh]
        leaders, _ = merge(x, ctx, score, rtol=self.rtol)
        self.x = torch.cat([self.x, x[leaders]])
        self.ctx = torch.cat([self.ctx, ctx[leaders]])
        self.score = torch.cat([self.score, score[leaders]])

    def drop(self, mask: Tensor) -> int:
        """Remove the candidates where ``mask`` is True; returns how many per call were removed."""
        keep = ~mask
        self.x, self.ctx, self.score = self.x[keep], self.ctx[keep], self.score[keep]
        return int(mask.sum())

    def take(self, budget: int) -> tuple[Tensor, Tensor]:
        """Remove and return up to ``budget`` best candidates per context."""
        take = torch.zeros(len(self), dtype=torch.bool, device=self.x.device)
        for c in torch.unique(self.ctx).tolist():
            idx = torch.nonzero(self.ctx == c).squeeze(-1)
            order = torch.from_numpy(np.lexsort((idx.cpu().numpy(), self.score[idx].cpu().numpy())))
            take[idx[order[:budget].to(idx.device)]] = True
        x, ctx = self.x[take], self.ctx[take]
        self.x, self.ctx, self.score = self.x[~take], self.ctx[~take], self.score[~take]
        return x, ctx

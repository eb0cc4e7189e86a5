"""Merging candidates that reached the same point.

Two states ``a`` and ``b`` of the same context are the same point when
``max|a - b| <= rtol * (1 + max(|a|_max, |b|_max))`` (max-norm, state units).
:func:`merge` keeps, in order of preference (smallest key first, e.g. the
residual, then the candidate's position in the batch, so the result is
deterministic), each point that is not within tolerance of a point already
kept (the leader algorithm); every candidate gets the label of the kept point
it matched.  Close pairs are found with one matrix product (a Euclidean
prefilter) and then checked exactly in the max-norm.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

__all__ = ["close_pairs", "merge", "match"]


def close_pairs(x: Tensor, ctx: Tensor, ref: Tensor, ref_ctx: Tensor, *, rtol: float) -> tuple[Tensor, Tensor, Tensor]:
    """All pairs ``(i, j)`` with ``x[i]`` and ``ref[j]`` the same point (same context, within tolerance).

    Returns
    -------
    i, j : Tensor of shape (k,), long
    dist : Tensor of shape (k,)
        Max-norm distance of each pair.
    """
    empty = torch.zeros(0, dtype=torch.long, device=x.device)
    m = x.shape[0]
    if m == 0 or ref.shape[0] == 0:
        return empty, empty, x.new_zeros(0)
    n = x.shape[1]
    size_x = x.abs().amax(-1)
    size_r = ref.abs().amax(-1)
    tol_max = rtol * (1.0 + torch.maximum(size_x.amax(), size_r.amax()))
    # |a - b|_max <= tol implies |a - b|_2^2 <= n tol^2
    sq_x = (x * x).sum(-1)
    sq_r = (ref * ref).sum(-1)
    bound = float(n) * float(tol_max) ** 2
    out_i, out_j, out_d = [], [], []
    step = max(1, (1 << 22) // max(1, ref.shape[0]))
    for s in range(0, m, step):
        xs = x[s:s + step]
        d2 = sq_x[s:s + step, None] + sq_r[None, :] - 2.0 * (xs @ ref.T)
        slack = 1e-12 * (sq_x[s:s + step, None] + sq_r[None, :])  # rounding of the expansion
        cand = (d2 <= bound + slack) & (ctx[s:s + step, None] == ref_ctx[None, :])
        ii, jj = torch.nonzero(cand, as_tuple=True)
        if ii.numel() == 0:
            continue
        d = (xs[ii] - ref[jj]).abs().amax(-1)
        ok = d <= rtol * (1.0 + torch.maximum(size_x[s + ii], size_r[jj]))
        out_i.append(s + ii[ok]), out_j.append(jj[ok]), out_d.append(d[ok])
    if not out_i:
        return empty, empty, x.new_zeros(0)
    return torch.cat(out_i), torch.cat(out_j), torch.cat(out_d)


def match(x: Tensor, ctx: Tensor, ref: Tensor, ref_ctx: Tensor, *, rtol: float) -> Tensor:
    """For each row of ``x``, the nearest row of ``ref`` of the same context within tolerance, or -1.

    Parameters
    ----------
    x : Tensor of shape (m, unit)
    ctx : Tensor of shape (m,), long
    ref : Tensor of shape (p, unit)
    ref_ctx : Tensor of shape (p,), long
    rtol : float

    Returns
    -------
    Tensor of shape (m,), long
    """
    out = torch.full((x.shape[0],), -1, dtype=torch.long, device=x.device)
    ii, jj, d = close_pairs(x, ctx, ref, ref_ctx, rtol=rtol)
    if ii.numel():
        order = torch.from_numpy(np.lexsort((d.cpu().numpy(), ii.cpu().numpy()))).to(x.device)
        ii, jj = ii[order], jj[order]
        first = torch.ones_like(ii, dtype=torch.bool)
        first[1:] = ii[1:] != ii[:-1]
        out[ii[first]] = jj[first]
    return out


def merge(x: Tensor, ctx: Tensor, key: Tensor, *, rtol: float) -> tuple[Tensor, Tensor]:
    """Group candidates into distinct points per context.

    Parameters
    ----------
    x : Tensor of shape (m, unit)
    ctx : Tensor of shape (m,), long
    key : Tensor of shape (m,)
        Preference (smaller is better, e.g. the residual); ties by position.
    rtol : float

    Returns
    -------
    leaders : Tensor of shape (p,), long
        Index into ``x`` of each distinct point, in order of preference.
    labels : Tensor of shape (m,), long
        For each candidate, the position in ``leaders`` of its point.
    """
    m = x.shape[0]
    labels = np.full(m, -1, dtype=np.int64)
    if m == 0:
        return torch.zeros(0, dtype=torch.long, device=x.device), torch.as_tensor(labels, device=x.device)
    order = np.lexsort((np.arange(m), key.detach().cpu().numpy()))
    ii, jj, _ = close_pairs(x, ctx, x, ctx, rtol=rtol)
    ii, jj = ii.cpu().numpy(), jj.cpu().numpy()
    srt = np.argsort(ii, kind="stable")
    ii, jj = ii[srt], jj[srt]
    starts = np.searchsorted(ii, np.arange(m + 1))
    leaders: list[int] = []
    for i in order:
        if labels[i] >= 0:
            continue
        labels[i] = len(leaders)
        nb = jj[starts[i]:starts[i + 1]]
        nb = nb[labels[nb] < 0]
        labels[nb] = len(leaders)
        leaders.append(int(i))
    return (torch.as_tensor(leaders, dtype=torch.long, device=x.device),
            torch.as_tensor(labels, dtype=torch.long, device=x.device))

"""Eigenvalues followed by continuity along a path, and the events read off one tracked eigenvalue.

Sorting eigenvalues (by real part, say) at each point of a path and comparing
the sorted lists mixes up different eigenvalues whenever two of them swap
places.  Here consecutive spectra are *matched*: the assignment that minimises
the summed distance ``|lambda_i - mu_j|`` (the Hungarian algorithm,
:func:`scipy.optimize.linear_sum_assignment`), so that eigenvalue ``i`` at one
point is the same eigenvalue at the next, and every event is read off one
eigenvalue (or one complex-conjugate pair) at a time:

* ``hopf``: a pair with nonzero imaginary part at both ends whose real part
  changes sign (flow);
* ``neimark_sacker``: a pair with nonzero imaginary part whose multiplier
  modulus ``|1 + h tau lambda|`` crosses 1 (map);
* ``period_doubling``: a real eigenvalue whose multiplier ``1 + h tau lambda``
  crosses -1 (map);
* ``collision``: an unstable pair meeting on the real axis (complex at one end,
  real at the other): an unstable focus turning into an unstable node, not a
  bifurcation of the fixed point's stability.

Folds and branch points (a real eigenvalue through zero) are detected with
their own test functions by :func:`neurobias.analysis.continue_fixed_points`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

__all__ = ["match_eigenvalues", "pair_events", "TrackedEvent", "IM_TOL"]

#: relative size of an imaginary part under which an eigenvalue counts as real
IM_TOL = 1e-9


def match_eigenvalues(previous: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Reorder ``current`` so that entry ``i`` is the continuation of ``previous[i]``.

    Parameters
    ----------
    previous, current : ndarray of shape (mode,), complex
        Eigenvalues at two nearby points of a path (any order).

    Returns
    -------
    ndarray of shape (mode,), complex
        ``current`` permuted to minimise ``sum_i |previous[i] - result[i]|``.
    """
    previous = np.asarray(previous, dtype=np.complex128)
    current = np.asarray(current, dtype=np.complex128)
    if previous.shape != current.shape or previous.ndim != 1:
        raise ValueError(f"eigenvalue arrays must have the same shape (mode,); got {previous.shape} and {current.shape}")
    cost = np.abs(previous[:, None] - current[None, :])
    rows, cols = linear_sum_assignment(cost)
    out = np.empty_like(current)
    out[rows] = current[cols]
    return out


def is_complex(values: np.ndarray, im_tol: float = IM_TOL) -> np.ndarray:
    """True where an eigenvalue has a nonzero imaginary part (relative to ``1 + |lambda|``)."""
    values = np.asarray(values)
    return np.abs(values.imag) > im_tol * (1.0 + np.abs(values))


@dataclass(frozen=True)
class TrackedEvent:
    """An event of one tracked eigenvalue between two points of a path.

    Attributes
    ----------
    kind : str
        ``hopf``, ``neimark_sacker``, ``period_doubling`` or ``collision``.
    mode : int
        Position of the eigenvalue in the matched arrays (the member with
        positive imaginary part for a pair).
    before, after : complex
        The eigenvalue at the two points (1/ms).
    ambiguous : bool
        The same eigenvalue also changed type (complex/real) in the interval, so
        the interval must be split before the event can be located.
    """

    kind: str
    mode: int
    before: complex
    after: complex
    ambiguous: bool = False


def _multiplier(lam: complex | np.ndarray, map_scale: float) -> complex | np.ndarray:
    return 1.0 + map_scale * lam


def pair_events(
    before: np.ndarray, after: np.ndarray, *, map_scale: float | None = None, im_tol: float = IM_TOL
) -> list[TrackedEvent]:
    """Events of individual eigenvalues between two matched spectra.

    Parameters
    ----------
    before, after : ndarray of shape (mode,), complex
        Matched eigenvalues (``after[i]`` continues ``before[i]``, see
        :func:`match_eigenvalues`) of the Jacobian ``dF/dx`` in 1/ms.
    map_scale : float, optional
        ``h tau`` (ms) of a discrete map ``x -> x + h tau F(x)`` whose multipliers
        are ``1 + h tau lambda``; when given, period doubling and Neimark-Sacker
        events are reported as well.
    im_tol : float
        Relative tolerance under which an imaginary part counts as zero.

    Returns
    -------
    list of TrackedEvent
        One entry per pair (the member with positive imaginary part) or real
        eigenvalue.
    """
    ca, cb = is_complex(before, im_tol), is_complex(after, im_tol)
    events: list[TrackedEvent] = []
    for i in range(before.shape[0]):
        a, b = complex(before[i]), complex(after[i])
        upper = (ca[i] and a.imag > 0) or (cb[i] and b.imag > 0)
        if ca[i] and cb[i]:
            if a.imag > 0 and b.imag < 0:  # the pair met the real axis and split again inside the interval
                events.append(TrackedEvent("collision", i, a, b, ambiguous=True))
                continue
            if not (a.imag > 0 and b.imag > 0):
                continue  # the lower member of a pair
            if (a.real > 0) != (b.real > 0):
                events.append(TrackedEvent("hopf", i, a, b))
            if map_scale is not None:
                ma, mb = abs(_multiplier(a, map_scale)), abs(_multiplier(b, map_scale))
                if (ma > 1) != (mb > 1):
                    events.append(TrackedEvent("neimark_sacker", i, a, b))
        elif ca[i] != cb[i]:
            if not upper:
                continue
            # a pair meets the real axis (or leaves it) in this interval
            hopf_too = (a.real > 0) != (b.real > 0)
            ns_too = False
            pd_too = False
            if map_scale is not None:
                ma, mb = _multiplier(a, map_scale), _multiplier(b, map_scale)
                ns_too = (abs(ma) > 1) != (abs(mb) > 1)
                pd_too = (ma.real < -1) != (mb.real < -1)
            if hopf_too or ns_too or pd_too:
                events.append(TrackedEvent("collision", i, a, b, ambiguous=True))
            elif a.real > 0 and b.real > 0:
                events.append(TrackedEvent("collision", i, a, b))
            elif map_scale is not None and abs(_multiplier(a, map_scale)) > 1 and abs(_multiplier(b, map_scale)) > 1:
                events.append(TrackedEvent("collision", i, a, b))
        elif map_scale is not None:  # real at both ends
            ma, mb = _multiplier(a, map_scale).real, _multiplier(b, map_scale).real
            if (ma < -1) != (mb < -1):
                events.append(TrackedEvent("period_doubling", i, a, b))
    return events

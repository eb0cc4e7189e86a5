"""The reproduction's flip-flop experiment: counting stable fixed points and memories; the experiment at tiny size.

Ground truth of the counting: a circuit of decoupled bistable units
(``W_rec = diag(w)``, current form), whose fixed points are the products of
the roots of ``x = w_i tanh(x) + b_i`` per unit, computed here with
:func:`scipy.optimize.brentq`; a product of roots is stable exactly when
every root is (the Jacobian is diagonal, ``(-1 + w_i sech^2 x_i) / tau``).
"""
from __future__ import annotations

import itertools
import math
from dataclasses import replace

import numpy as np
import pytest
import xarray as xr
from scipy.optimize import brentq

from neurobias.analysis.fixed_points import find_fixed_points
from neurobias.circuit.circuit import Circuit
from neurobias.errors import InputError
from neurobias.reproduce.criteria import criterion
from neurobias.reproduce.flipflop import (FLIPFLOP_BITS, count_memories, count_stable_fixed_points,
                                          flipflop_memories)
from neurobias.reproduce.settings import USES, SettingsReader, get_settings

W = np.array([2.0, 2.0, 2.0])
TONIC = np.array([[0.1, -0.2, 0.05],   # every unit bistable: 3^3 fixed points, 2^3 stable
                  [0.1, -0.2, 3.0]])   # the third unit past its fold: 3^2 fixed points, 2^2 stable


def _roots(w: float, b: float) -> list[tuple[float, bool]]:
    """Every root of -x + w tanh(x) + b with its stability, bracketed on a fine grid and refined by brentq."""
    f = lambda x: -x + w * math.tanh(x) + b  # noqa: E731
    grid = np.linspace(-abs(w) - abs(b) - 1.0, abs(w) + abs(b) + 1.0, 4001)
    vals = [f(x) for x in grid]
    roots = [brentq(f, grid[i], grid[i + 1], xtol=1e-15) for i in range(grid.size - 1) if vals[i] * vals[i + 1] < 0]
    return [(x, -1.0 + w / math.cosh(x) ** 2 < 0) for x in roots]


def _truth(b: np.ndarray, margin: float) -> tuple[int, int, np.ndarray]:
    """(fixed points, stable ones, their states (stable, unit)) and memories, from the roots per unit."""
    per_unit = [_roots(w, bi) for w, bi in zip(W, b)]
    points = list(itertools.product(*per_unit))
    stable = np.array([[x for x, _ in p] for p in points if all(s for _, s in p)])
    patterns = set()
    for p in points:
        if all(s for _, s in p) and all(abs(math.tanh(x)) >= margin for x, _ in p):
            patterns.add(tuple(int(np.sign(x)) for x, _ in p))
    return len(points), len(stable), stable, len(patterns)


@pytest.fixture(scope="module")
def bistable():
    circuit = Circuit.from_arrays(W_rec=np.diag(W), W_out=np.eye(3), tau=10.0, phi="tanh", form="current")
    fps = find_fixed_points(circuit, TONIC, contexts=["all_bistable", "two_bistable"], n_candidates=256, seed=0)
    return circuit, fps


def test_stable_fixed_points_and_memories_of_decoupled_bistable_units_match_the_roots(bistable):
    circuit, fps = bistable
    names = ["all_bistable", "two_bistable"]
    stable = count_stable_fixed_points(fps)
    assert stable.dims == ("context",) and list(stable["context"].values) == names
    for c, (name, b) in enumerate(zip(names, TONIC)):
        n_fixed, n_stable, states, n_mem = _truth(b, margin=0.5)
        assert (n_fixed, n_stable) == ((27, 8), (9, 4))[c]  # the ground truth itself
        here = fps.sel(fp=(fps.context == name) & (fps.kind == "fixed"))
        assert here.sizes["fp"] == n_fixed
        assert int(stable.sel(context=name)) == n_stable
        # the counted points are the stable products of roots, not just as many
        found = here["x"].values[here["stability"].values == "stable"]
        dist = np.abs(found[:, None, :] - states[None, :, :]).max(axis=2)
        assert np.all(dist.min(axis=1) < 1e-8) and np.all(dist.min(axis=0) < 1e-8)
        assert int(count_memories(fps, circuit).sel(context=name)) == n_mem == (8, 4)[c]
    # a margin above |tanh| of the stable roots of the bistable units (about 0.95): no pattern is held
    assert _truth(TONIC[0], margin=0.99)[3] == 0
    assert count_memories(fps, circuit, margin=0.99).values.tolist() == [0, 0]
    # a point whose residual exceeds the bound is not counted; the contexts can be chosen and ordered
    loose = fps.copy(deep=True)
    first_stable = int(np.flatnonzero((fps.stability.values == "stable") & (fps.kind.values == "fixed"))[0])
    loose["residual"].values[first_stable] = 1e-6
    assert count_stable_fixed_points(loose).values.tolist() == [7, 4]
    assert count_stable_fixed_points(loose, tol=1e-5).values.tolist() == [8, 4]
    assert count_stable_fixed_points(fps, contexts=["two_bistable", "none"]).values.tolist() == [4, 0]


def test_counting_rejects_what_is_not_a_fixed_point_dataset(bistable):
    circuit, fps = bistable
    with pytest.raises(InputError, match="`fps` must be a Dataset of find_fixed_points with variable 'kind'"):
        count_stable_fixed_points(xr.Dataset())
    with pytest.raises(InputError, match="`tol`"):
        count_stable_fixed_points(fps, tol=0.0)
    with pytest.raises(InputError, match="`margin`"):
        count_memories(fps, circuit, margin=-1.0)
    other = Circuit.from_arrays(W_rec=np.eye(4), W_out=np.eye(4))
    with pytest.raises(InputError, match=r"`fps` must hold rates r of shape \(fp, unit\) with unit = 4"):
        count_memories(fps, other)
    with pytest.raises(InputError, match="`circuit`"):
        count_memories(fps, "circuit")


@pytest.mark.filterwarnings("ignore::neurobias.errors.ConvergenceWarning")  # 3 steps need not lower the loss
def test_the_experiment_at_tiny_size_measures_both_claims_per_seed():
    settings = SettingsReader(get_settings("tiny"))
    out = flipflop_memories(settings)
    assert settings.read and settings.read <= set(USES["flipflop"])
    seeds = get_settings("tiny").flipflop_seeds
    assert [c.key for c in out.claims] == ["flipflop_full_memories", "flipflop_bias_memories"]
    for c in out.claims:
        assert c.seeds == seeds and len(c.values) == len(seeds)
        assert all(v == int(v) and 0 <= v <= 2 ** FLIPFLOP_BITS for v in c.values)
        assert c.verdict == "too few seeds"
    assert set(out.figures) == {"williams_flipflop"} and out.wall_s > 0
    table = [line for line in out.markdown.splitlines() if line.startswith("| full") or line.startswith("| bias")]
    tiny = get_settings("tiny")
    assert len(table) == 1 + len(tiny.flipflop_widths) * len(tiny.flipflop_modes) and "| bias+readout |" in out.markdown
    again = flipflop_memories(get_settings("tiny"))  # same seed, same result
    assert again.claims == out.claims and again.markdown == out.markdown
    with pytest.raises(InputError, match="`flipflop_modes` must include 'bias'"):
        flipflop_memories(replace(get_settings("tiny"), flipflop_modes=("bias+readout",)))


def test_full_size_measures_as_many_seeds_as_the_criteria_need():
    full = get_settings("full")
    for key in ("flipflop_full_memories", "flipflop_bias_memories"):
        crit = criterion(key)
        assert crit.threshold == 2 ** FLIPFLOP_BITS and crit.op == ">=" and crit.seeds == 3
        assert len(full.flipflop_seeds) >= crit.seeds
    assert max(full.flipflop_widths) == 1024 and "bias" in full.flipflop_modes

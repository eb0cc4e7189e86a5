"""Sets of units against chance (neurobias.analysis.unit_sets): ground truths by enumeration and sampling."""
from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest

from neurobias.analysis import expected_jaccard, set_overlap, shuffled_correlation
from neurobias.errors import InputError


def _brute_force(n: int, k1: int, k2: int) -> Fraction:
    """E[J] by enumerating every pair of subsets of sizes k1 and k2 (exact rational arithmetic)."""
    total, count = Fraction(0), 0
    for a in itertools.combinations(range(n), k1):
        sa = set(a)
        for b in itertools.combinations(range(n), k2):
            union = len(sa | set(b))
            total += Fraction(len(sa & set(b)), union) if union else Fraction(1)
            count += 1
    return total / count


@pytest.mark.parametrize("n", range(1, 9))
def test_expected_jaccard_equals_enumeration_over_all_subsets(n):
    for k1 in range(n + 1):
        for k2 in range(n + 1):
            if math.comb(n, k1) * math.comb(n, k2) > 5000:
                continue
            assert expected_jaccard(n, k1, k2) == pytest.approx(float(_brute_force(n, k1, k2)), rel=1e-12, abs=1e-15)


def test_expected_jaccard_matches_monte_carlo_for_a_large_population():
    n, k1, k2, draws = 1000, 990, 300, 20000
    rng = np.random.default_rng(1)
    j = np.empty(draws)
    for i in range(draws):
        a = rng.permutation(n) < k1
        b = rng.permutation(n) < k2
        j[i] = (a & b).sum() / (a | b).sum()
    sem = j.std(ddof=1) / math.sqrt(draws)
    assert abs(expected_jaccard(n, k1, k2) - j.mean()) < 4 * sem
    # nearly all units in one set: the Jaccard index is about the other set's fraction
    assert expected_jaccard(n, k1, k2) == pytest.approx(k2 / n, abs=0.01)


def test_corrected_overlap_is_zero_on_average_for_random_sets_and_one_for_identical_sets():
    rng = np.random.default_rng(2)
    n, k1, k2 = 200, 60, 120
    corrected = []
    for _ in range(4000):
        a = rng.permutation(n) < k1
        b = rng.permutation(n) < k2
        corrected.append(set_overlap(a, b).corrected)
    c = np.asarray(corrected)
    assert abs(c.mean()) < 4 * c.std(ddof=1) / math.sqrt(c.size)
    a = rng.random(n) < 0.4
    same = set_overlap(a, a.copy())
    assert same.jaccard == 1.0 and same.corrected == 1.0 and same.n_both == a.sum()
    disjoint = set_overlap(a, ~a)
    assert disjoint.jaccard == 0.0 and disjoint.corrected < 0


def test_degenerate_sets_follow_the_documented_rule():
    none = np.zeros(5, dtype=bool)
    every = np.ones(5, dtype=bool)
    assert expected_jaccard(5, 0, 0) == 1.0 and expected_jaccard(5, 0, 3) == 0.0
    assert math.isnan(set_overlap(none, none).corrected) and set_overlap(none, none).jaccard == 1.0
    assert math.isnan(set_overlap(every, every).corrected)
    one = set_overlap(none, every)
    assert one.jaccard == 0.0 and one.expected == 0.0 and one.corrected == 0.0
    with pytest.raises(InputError, match="`a` must be a boolean array"):
        set_overlap([0, 1], [True, False])
    with pytest.raises(InputError, match="`k1`"):
        expected_jaccard(4, 5, 1)


def test_shuffled_correlation_null_sits_near_zero_for_independent_data():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=500), rng.normal(size=500)
    res = shuffled_correlation(x, y, n_shuffles=2000, seed=0)
    assert abs(res.null_mean) < 0.01
    # the 95th percentile of the null of Pearson r for n = 500 is about 1.645 / sqrt(n)
    assert res.null_quantile == pytest.approx(1.645 / math.sqrt(500), abs=0.015)
    assert res.null_sd == pytest.approx(1 / math.sqrt(499), rel=0.1)
    assert 0.01 < res.p < 0.99 or abs(res.r) < 0.1
    assert res.r == pytest.approx(float(np.corrcoef(x, y)[0, 1]), rel=1e-12)


def test_shuffled_correlation_p_is_small_for_correlated_data_and_repeatable():
    rng = np.random.default_rng(4)
    x = rng.normal(size=300)
    y = x + 0.5 * rng.normal(size=300)
    res = shuffled_correlation(x, y, n_shuffles=500, seed=7)
    assert res.r > 0.8 and res.p == 1 / 501 and res.null_quantile < 0.15
    assert shuffled_correlation(x, y, n_shuffles=500, seed=7) == res
    assert shuffled_correlation(x, y, n_shuffles=500, seed=8).null_quantile != res.null_quantile
    with pytest.raises(InputError, match="`n_shuffles`"):
        shuffled_correlation(x, y, n_shuffles=0)

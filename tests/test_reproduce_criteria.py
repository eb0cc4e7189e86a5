"""The claims table of the reproduction: verdicts from per-seed values, intervals, criterion history."""
from __future__ import annotations

import math

import pytest
from scipy import stats

from neurobias.errors import InputError
from neurobias.reproduce.criteria import CRITERIA, VERDICTS, Criterion, criterion, judge
from neurobias.reproduce.outcome import Claim


def _crit(**kw) -> Criterion:
    base = dict(key="k", claim="c", paper="p", metric="m", op="<=", threshold=0.1, seeds=5, declared="2026-12-05")
    return Criterion(**{**base, **kw})


def test_verdicts_follow_the_rule_across_seeds():
    c = _crit()
    assert judge(c, [0.01] * 5).verdict == "same"
    assert judge(c, [0.01] * 6).verdict == "same"
    assert judge(c, [0.5] * 5).verdict == "different"
    assert judge(c, [0.01, 0.01, 0.5, 0.01, 0.01]).verdict == "mixed"
    assert judge(c, [0.01, 0.5]).verdict == "mixed"  # holds for some seeds: mixed whatever the count
    # one seed (or fewer than declared) never gives "same", nor "different"
    assert judge(c, [0.01]).verdict == "too few seeds"
    assert judge(c, [0.5, 0.5]).verdict == "too few seeds"
    assert judge(c, []).verdict == "not measured" and judge(c, None).n == 0
    assert judge(c, [math.nan] * 5).verdict == "different"  # NaN never meets a criterion
    assert judge(_crit(comparable="protocol unknown"), [0.01] * 5).verdict == "not comparable"
    assert judge(_crit(op=">=", threshold=2.0), [2.0] * 5).verdict == "same"  # the threshold itself holds
    assert set(VERDICTS) == {"same", "mixed", "different", "too few seeds", "not comparable", "not measured"}


def test_intervals_are_clopper_pearson_and_student_t():
    j = judge(_crit(), [0.01, 0.02, 0.5, 0.03, 0.04])
    assert j.n == 5 and j.n_holds == 4
    # Clopper-Pearson from the beta distribution
    assert j.rate_interval[0] == pytest.approx(stats.beta.ppf(0.025, 4, 2), rel=1e-9)
    assert j.rate_interval[1] == pytest.approx(stats.beta.ppf(0.975, 5, 1), rel=1e-9)
    # every value positive: the geometric mean, its t-interval computed on the logarithms (always positive)
    logs = [math.log(x) for x in (0.01, 0.02, 0.5, 0.03, 0.04)]
    m = sum(logs) / 5
    sd = math.sqrt(sum((x - m) ** 2 for x in logs) / 4)
    half = 2.7764451051977987 * sd / math.sqrt(5)  # t(0.975, 4 dof)
    assert j.mean_kind == "geometric mean" and j.mean == pytest.approx(math.exp(m))
    assert j.mean_interval == pytest.approx((math.exp(m - half), math.exp(m + half)))
    assert j.mean_interval[0] > 0 and "geometric mean" in j.summary()
    # a value <= 0: the arithmetic mean and its t-interval
    v = [-0.5, 0.02, 0.5, 0.03, 0.04]
    a = judge(_crit(), v)
    mean = sum(v) / 5
    sd = math.sqrt(sum((x - mean) ** 2 for x in v) / 4)
    half = 2.7764451051977987 * sd / math.sqrt(5)
    assert a.mean_kind == "mean" and a.mean == pytest.approx(mean)
    assert a.mean_interval == pytest.approx((mean - half, mean + half))
    one = judge(_crit(), [0.01])
    assert math.isnan(one.mean_interval[0]) and "one seed: no interval" in one.summary()
    assert one.rate_interval == pytest.approx((0.025, 1.0))


def test_the_table_has_one_row_per_key_and_no_escape_clause():
    keys = [c.key for c in CRITERIA]
    assert len(keys) == len(set(keys))
    for c in CRITERIA:
        assert c.op in ("<=", ">=") and c.seeds >= 3 and math.isfinite(c.threshold)
        assert " or " not in c.rule.split(":")[0], c.rule  # one condition per criterion
        for r in c.history:
            assert r.replaced >= "2026-01-01" and r.reason and r.verdict in VERDICTS
    recurrent = ("sine", "vanderpol_bias_small_g", "vanderpol_full_flat", "lorenz_teacher_forced",
                 "lorenz_closed_loop", "reaching_steps")
    assert all(criterion(k).seeds >= 5 for k in recurrent)
    flat = criterion("vanderpol_full_flat")
    assert flat.op == "<=" and flat.threshold == 2.0  # insensitive: within a factor 2 across g
    assert judge(flat, [8.0] * 5).verdict == "different"
    # the replaced reaching criteria keep their verdicts
    assert [r.verdict for r in criterion("reaching_steps").history] == ["different", "same"]
    with pytest.raises(InputError, match="`key` must be one of"):
        criterion("nope")


def test_a_claim_gets_its_verdict_from_the_table_only():
    c = Claim("sine", "ours", values=(0.01, 0.02, 0.03, 0.04, 0.05), seeds=(0, 1, 2, 3, 4))
    assert c.verdict == "same" and c.claim == criterion("sine").claim
    assert Claim("sine", "ours", values=(0.01,), seeds=(0,)).verdict == "too few seeds"
    with pytest.raises(InputError, match="`values` must have one entry per seed"):
        Claim("sine", "ours", values=(0.01, 0.02), seeds=(0,))
    with pytest.raises(InputError, match="`key`"):
        Claim("nope", "ours")


def test_a_changed_metric_leaves_earlier_values_unjudged_and_keeps_the_old_verdict():
    from neurobias.reproduce.criteria import Revision

    old = Revision(replaced="2026-12-06", rule="old", measured="0.5", verdict="not comparable", reason="r",
                   same_metric=False)
    same = Revision(replaced="2026-12-07", rule="older threshold", measured="x", verdict="same", reason="r")
    c = _crit(op=">=", threshold=0.05, seeds=3, declared="2026-12-06", history=(old, same))
    assert c.metric_since == "2026-12-06"  # a revision that kept the metric does not move the date
    assert _crit().metric_since == ""
    assert judge(c, [0.9] * 3, measured="2026-11-26").verdict == "not measured"
    assert judge(c, [0.9] * 3, measured="2026-12-06").verdict == "same"
    assert judge(c, [0.9] * 3).verdict == "same"  # measured now
    assert judge(c, [0.01] * 3, measured="2026-12-07").verdict == "different"
    assert judge(c, [0.9, 0.01, 0.9], measured="2026-12-08").verdict == "mixed"


@pytest.mark.parametrize("key", ["masks", "bias_variance"])
def test_the_redeclared_claims_judge_new_values_and_not_the_stored_old_ones(key):
    crit = criterion(key)
    assert crit.declared == "2026-12-06" and not crit.comparable and crit.seeds == 3 and crit.op == ">="
    assert crit.threshold == {"masks": 0.05, "bias_variance": 0.5}[key]
    assert crit.metric_since == "2026-12-06"
    (rev,) = crit.history
    assert rev.verdict == "not comparable" and not rev.same_metric and "not compared" in rev.rule
    stored = Claim(key, "old numbers", values=(0.5,), seeds=(0,), measured="2026-11-26")
    assert stored.verdict == "not measured" and stored.earlier_metric and stored.judgement.n == 0
    fresh = Claim(key, "new numbers", values=(0.6, 0.7, 0.8), seeds=(0, 1, 2))
    assert fresh.verdict == "same" and not fresh.earlier_metric
    assert Claim(key, "new", values=(0.0, 0.0, 0.0), seeds=(0, 1, 2), measured="2026-12-06").verdict == "different"


def test_the_section_renders_an_old_metric_as_not_measured_and_shows_its_old_verdict():
    from neurobias.reproduce.driver import render
    from neurobias.reproduce.outcome import Outcome
    from neurobias.reproduce.settings import get_settings

    claims = (Claim("masks", "Jaccard 0.49", values=(0.4883,), seeds=(0,), measured="2026-11-26"),
              Claim("bias_variance", "r 0.535", values=(0.535,), seeds=(0,), measured="2026-11-26"))
    text = render([Outcome(name="multitask", title="t", claims=claims, markdown="m")], settings=get_settings("full"),
                  command="c", wall_s=0.0, figure_paths={}, earlier={"multitask": "2026-11-26"})
    rows = [line for line in text.splitlines() if line.startswith("| mask learning vs bias learning |")
            or line.startswith("| learned biases relate to task variance |")]
    assert len(rows) == 4  # a claims row and a history row each
    claim_rows = [r for r in rows if "earlier metric" in r]
    assert len(claim_rows) == 2 and all(r.rstrip().endswith("| not measured |") for r in claim_rows)
    history = [r for r in rows if r not in claim_rows]
    assert all("| 2026-12-06 |" in r and "| not comparable |" in r for r in history)


def test_the_lorenz_criteria_keep_their_thresholds_and_leave_the_old_protocol_unjudged():
    tf, cl, lyap = (criterion(k) for k in ("lorenz_teacher_forced", "lorenz_closed_loop", "lorenz_lyapunov"))
    assert (tf.op, tf.threshold, tf.declared) == ("<=", 0.5, "2026-11-26")
    assert (cl.op, cl.threshold, cl.declared) == ("<=", 0.2, "2026-12-05")
    for c in (tf, cl):
        rev = c.history[-1]
        assert rev.replaced == "2026-12-06" and not rev.same_metric and "held-out" in rev.reason
        assert c.metric_since == "2026-12-06"
    assert tf.history[-1].verdict == "too few seeds" and "0.196" in tf.history[-1].measured
    assert cl.history[-1].verdict == "not measured"
    # the stored full-size value (one seed, 2026-11-26) measured the old protocol: not judged by the new one
    stored = Claim("lorenz_teacher_forced", "old", values=(0.1962,), seeds=(0,), measured="2026-11-26")
    assert stored.verdict == "not measured" and stored.earlier_metric
    assert Claim("lorenz_teacher_forced", "new", values=(0.4,) * 5, seeds=range(5)).verdict == "same"
    # the attractor criterion: |log2(lambda / true)| <= 1, i.e. within a factor 2 of the Lorenz exponent
    assert (lyap.op, lyap.threshold, lyap.seeds, lyap.declared, lyap.history) == ("<=", 1.0, 5, "2026-12-06", ())
    assert judge(lyap, [abs(math.log2(1.9))] * 5).verdict == "same"
    assert judge(lyap, [abs(math.log2(0.4))] * 5).verdict == "different"
    assert judge(lyap, [math.nan] * 5).verdict == "different"  # no chaos (exponent <= 0) or undefined

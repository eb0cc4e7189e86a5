"""Summaries: the analysis returns counts, the workflows layer writes the sentences (collisions kept apart)."""
from __future__ import annotations

import numpy as np
import xarray as xr

from neurobias.analysis.summary import continuation_events, fixed_point_counts
from neurobias.workflows.prose import summarize_continuation, summarize_fixed_points


def _continuation(kinds: list[str], s: list[float], reasons: list[str], n_unreached: int) -> xr.Dataset:
    return xr.Dataset(
        {"end_reason": (("branch",), np.array(reasons)),
         "bif_kind": (("bifurcation",), np.array(kinds, dtype=str)),
         "bif_s": (("bifurcation",), np.array(s, dtype=np.float64)),
         "unreached_x": (("unreached", "unit"), np.zeros((n_unreached, 2)))},
        attrs={"start_label": "A", "end_label": "B"},
    )


def test_collisions_are_counted_apart_from_bifurcations():
    ds = _continuation(["hopf", "collision", "fold", "collision"], [0.5, 0.7, 0.25, 0.1],
                       ["reached_end", "returned_to_start", "max_steps"], 1)
    ev = continuation_events(ds)
    assert ev["bifurcations"] == [("fold", 0.25), ("hopf", 0.5)]
    assert ev["collisions"] == [("collision", 0.1), ("collision", 0.7)]
    assert (ev["n_branch"], ev["n_reached_end"], ev["n_returned"], ev["n_stopped"], ev["n_unreached"]) == (3, 1, 1, 1, 1)
    text = summarize_continuation(ds)
    assert "Bifurcations: fold at s = 0.250, hopf at s = 0.500." in text
    assert "(no change of stability): s = 0.100, s = 0.700." in text
    assert "3 fixed points of A were followed: 1 reached B, 1 turned back at a fold, 1 stopped early." in text
    assert "1 fixed point of B is reached by no branch from A." in text


def test_bifurcations_on_different_sheets_of_a_folded_branch_read_apart():
    """A branch that folds back crosses the same s again: values equal to three decimals get more digits."""
    ds = _continuation(["fold", "fold", "hopf", "hopf"], [0.272428, 0.271796, 0.073188, 0.5],
                       ["reached_end"], 0)
    text = summarize_continuation(ds)
    assert "Bifurcations: hopf at s = 0.0732, fold at s = 0.2718, fold at s = 0.2724, hopf at s = 0.5000." in text
    same = _continuation(["hopf", "hopf"], [0.5, 0.5], ["reached_end"], 0)  # equal values: no extra digits
    assert "Bifurcations: hopf at s = 0.500, hopf at s = 0.500." in summarize_continuation(same)


def test_only_collisions_means_no_bifurcation():
    ds = _continuation(["collision"], [0.4], ["reached_end"], 0)
    text = summarize_continuation(ds)
    assert "No bifurcation was found on the way." in text
    assert "Collisions of unstable eigenvalue pairs" in text and "s = 0.400" in text
    assert "1 fixed point of A was followed" in text and "no branch" not in text


def test_fixed_point_counts_and_sentence():
    ds = xr.Dataset({
        "context": (("fp",), np.array(["A", "A", "A", "B", "B"])),
        "kind": (("fp",), np.array(["fixed", "fixed", "fixed", "fixed", "slow"])),
        "stability": (("fp",), np.array(["stable", "saddle", "stable", "unstable", "stable"])),
        "oscillatory": (("fp",), np.array([False, False, False, True, False])),
    })
    counts = fixed_point_counts(ds)
    assert counts["n_fixed"].values.tolist() == [3, 1]
    assert counts["n_stable"].values.tolist() == [2, 0]
    assert counts["n_saddle"].values.tolist() == [1, 0]
    assert counts["n_oscillatory"].values.tolist() == [0, 1]
    assert counts["n_slow"].values.tolist() == [0, 1]
    assert summarize_fixed_points(ds) == (
        "A: 3 fixed points (2 stable); B: 1 fixed point (0 stable, 1 with an oscillatory leading mode) "
        "and 1 slow point.")


def test_recording_comparison_without_shuffles_says_there_is_no_null():
    from neurobias.workflows.report import summarize_recording_comparison

    fit = xr.Dataset(attrs={"r2_test": 0.5, "holdout": "trials", "mode": "bias", "noise_ceiling": float("nan")})
    cmp = xr.Dataset({"cca_cca": ((), 0.8), "cca_cca_null": (("cca_shuffle",), np.zeros(0)), "cca_cca_p_value": ((), np.nan),
                      "rsa_rsa": ((), 0.6), "rsa_rsa_null": (("rsa_shuffle",), np.array([0.1, 0.3])),
                      "rsa_rsa_p_value": ((), 0.33)})
    lines = summarize_recording_comparison(fit, cmp).splitlines()  # warnings are errors: no "Mean of empty slice"
    assert lines[1] == "mean CCA: 0.800 (no shuffled null; higher is better)"
    assert lines[2] == "RSA (Spearman): 0.600 (null mean 0.200 over 2, p = 0.33; higher is better)"

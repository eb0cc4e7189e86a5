"""The width law: width needed to come within epsilon of full training, against closed forms."""
from __future__ import annotations

import numpy as np
import pytest

from neurobias.errors import InputError
from neurobias.reproduce.width_law import fit_width_law, matched_accuracy_time, width_law, width_needed


def test_width_needed_interpolates_in_log_width_and_censors():
    w = [64.0, 256.0, 1024.0]
    acc = [0.5, 0.7, 0.9]
    # 0.6 is half-way between 64 and 256 in accuracy, so half-way in log width: 128
    assert width_needed(w, acc, 0.6) == pytest.approx(128.0, rel=1e-12)
    assert width_needed(w, acc, 0.9) == pytest.approx(1024.0, rel=1e-12)
    assert width_needed(w, acc, 0.4) == 64.0
    assert np.isnan(width_needed(w, acc, 0.95))
    # the first crossing counts, not a later dip
    assert width_needed(w, [0.5, 0.95, 0.9], 0.9) == pytest.approx(64 * 4 ** (0.4 / 0.45), rel=1e-12)


def test_a_power_law_curve_gives_its_exponent_back():
    """Bias accuracy = R - c w^(-p): the width to reach R - eps is (c / eps)^(1/p), so k = 1/p exactly."""
    p, c, ref = 0.5, 2.0, 0.99
    w = 2.0 ** np.arange(4, 20, 0.125)  # dense in log width: interpolation error far below the tolerance
    bias = ref - c * w ** (-p)
    full = np.full_like(w, ref)
    eps = (0.1, 0.05, 0.02, 0.01)
    ds = width_law(w, np.stack([bias, bias]), np.stack([full, full]), epsilons=eps)
    expected = (c / np.asarray(eps)) ** (1 / p)
    np.testing.assert_allclose(ds["width_needed"].values[0], expected, rtol=2e-3)
    assert ds["exponent"].values == pytest.approx([1 / p, 1 / p], rel=2e-3)
    assert float(ds["exponent_pooled"]) == pytest.approx(1 / p, rel=2e-3)
    assert np.all(ds["n_censored"].values == 0) and np.all(ds["n_fitted"].values == len(eps))
    for name, var in ds.variables.items():
        assert var.attrs.get("long_name"), name


def test_censored_epsilons_are_left_out_of_the_fit():
    w = [64.0, 128.0, 256.0]
    bias = np.array([[0.80, 0.90, 0.95]])
    full = np.array([[0.99, 0.99, 0.99]])
    ds = width_law(w, bias, full, epsilons=(0.2, 0.1, 0.02))
    assert np.isnan(ds["width_needed"].values[0, 2]) and int(ds["n_censored"].values[2]) == 1
    assert int(ds["n_fitted"].values[0]) == 2
    # two points: the exponent is the slope through them
    w1, w2 = ds["width_needed"].values[0, :2]
    assert float(ds["exponent"].values[0]) == pytest.approx(np.log(w2 / w1) / np.log(0.2 / 0.1), rel=1e-12)
    k, a, n = fit_width_law([0.1, 0.05], [np.nan, 100.0])
    assert n == 1 and np.isnan(k) and np.isnan(a)


@pytest.mark.parametrize(("call", "match"), [
    (lambda: width_needed([64.0, 32.0], [0.1, 0.2], 0.1), "`widths` must be at least 2 positive, strictly increasing"),
    (lambda: width_needed([32.0, 64.0], [0.1], 0.1), "`accuracy` must hold one finite value per width"),
    (lambda: width_law([32.0, 64.0], np.zeros((2, 2)), np.zeros((2, 3))), "`bias_accuracy` and `full_accuracy` must both have shape"),
    (lambda: width_law([32.0, 64.0], np.zeros((1, 2)), np.zeros((1, 2)), epsilons=(0.1,)), "at least 2 values"),
    (lambda: width_law([32.0, 64.0], np.zeros((1, 2)), np.zeros((1, 2)), epsilons=(0.1, 2.0)), "`epsilons` must be"),
    (lambda: fit_width_law([0.1, -0.1], [1.0, 2.0]), "`epsilons` must be positive"),
])
def test_bad_inputs_name_the_argument(call, match):
    with pytest.raises(InputError, match=match):
        call()


def test_matched_accuracy_time_reads_each_modes_time_at_the_width_it_needs():
    w = [64.0, 256.0, 1024.0]
    bias = np.array([[0.5, 0.7, 0.9]])
    full = np.array([[0.85, 0.9, 0.95]])
    # time grows as width^1 for bias, width^2 for full (a power law is exact under log-log interpolation)
    tb = np.array([[1.0, 4.0, 16.0]])
    tf = np.array([[1.0, 16.0, 256.0]])
    ds = matched_accuracy_time(w, bias, full, tb, tf, epsilons=(0.25, 0.15, 0.01))
    # epsilon 0.25: target 0.70: bias at 256 (4 s), full already at 64 (1 s)
    # epsilon 0.15: target 0.80: bias half-way from 256 to 1024 in log width = 512 (8 s), full at 64 (1 s)
    # epsilon 0.01: target 0.94: bias never (NaN); full between 256 and 1024 at 0.8 of the log step
    np.testing.assert_allclose(ds["bias_width"].values[0, :2], [256.0, 512.0], rtol=1e-12)
    np.testing.assert_allclose(ds["bias_seconds"].values[0, :2], [4.0, 8.0], rtol=1e-12)
    np.testing.assert_allclose(ds["full_seconds"].values[0, :2], [1.0, 1.0], rtol=1e-12)
    np.testing.assert_allclose(ds["time_ratio"].values[0, :2], [4.0, 8.0], rtol=1e-12)
    fw = 256.0 * 4.0 ** 0.8
    assert ds["full_width"].values[0, 2] == pytest.approx(fw, rel=1e-12)
    assert ds["full_seconds"].values[0, 2] == pytest.approx(fw ** 2 / 256.0 ** 2 * 16.0, rel=1e-12)
    assert np.isnan(ds["bias_seconds"].values[0, 2]) and np.isnan(ds["time_ratio"].values[0, 2])
    with pytest.raises(InputError, match="`full_seconds` must be positive finite times"):
        matched_accuracy_time(w, bias, full, tb, -tf)

"""Attractor statistics of a scalar series, against values known without the code: Lorenz's Lyapunov exponent,
a sine's, noise's; maxima of known series; spectra of identical and of unrelated series."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from neurobias.errors import InputError
from neurobias.reproduce.attractor_stats import (divergence_curve, largest_lyapunov, lobe_fraction, local_maxima,
                                                 maxima_distance, return_map, spectrum_distance, welch_spectrum)

DT = 0.0085  # Lorenz time units per sample, as the forecasting task samples x
LAMBDA = 0.9056  # largest Lyapunov exponent of the Lorenz system per time unit (sigma 10, rho 28, beta 8/3)
ROSENSTEIN = dict(dim=5, delay=10, theiler=100, fit=(50, 250))


@pytest.fixture(scope="module")
def lorenz_x() -> np.ndarray:
    """20,000 samples of Lorenz's x, integrated by scipy (not the package's integrator), standardised."""
    def f(_t, v):
        x, y, z = v
        return [10.0 * (y - x), x * (28.0 - z) - y, x * y - 8.0 / 3.0 * z]

    n = 20000
    sol = solve_ivp(f, (0.0, 20.0 + n * DT), [1.0, 1.0, 20.0], t_eval=20.0 + np.arange(n) * DT, method="DOP853",
                    rtol=1e-10, atol=1e-10)
    x = sol.y[0]
    return (x - x.mean()) / x.std()


def test_rosenstein_gives_the_lyapunov_exponent_of_lorenz(lorenz_x):
    per_time = largest_lyapunov(lorenz_x, **ROSENSTEIN) / DT
    assert per_time == pytest.approx(LAMBDA, rel=0.2)
    # split into independent runs, the estimate stays (neighbours may come from other runs)
    runs = lorenz_x.reshape(4, 5000)
    assert largest_lyapunov(runs, **ROSENSTEIN) / DT == pytest.approx(LAMBDA, rel=0.3)


def test_rosenstein_gives_zero_for_a_sine_and_no_growth_for_noise():
    k = np.arange(20000, dtype=np.float64)
    sine = np.sin(2 * np.pi * k / 88.3)  # a period not a whole number of samples
    assert abs(largest_lyapunov(sine, **ROSENSTEIN) / DT) < 0.05 * LAMBDA
    noise = np.random.default_rng(0).normal(size=20000)
    curve = divergence_curve(noise, dim=5, delay=10, theiler=100, horizon=250)
    # neighbours of i.i.d. points separate at once to the typical distance and then stay there: no exponential phase
    assert curve[1] - curve[0] > 0.9 * (curve[-1] - curve[0]) > 1.0
    assert abs(largest_lyapunov(noise, **ROSENSTEIN) / DT) < 0.05 * LAMBDA
    # a constant series has no neighbour at a positive distance: undefined
    assert np.isnan(largest_lyapunov(np.ones(2000), **ROSENSTEIN))


def test_local_maxima_and_return_map_of_known_series():
    x = np.array([0.0, 2.0, 1.0, 3.0, 3.0, 0.0, 5.0, 4.0])
    np.testing.assert_array_equal(local_maxima(x), [2.0, 3.0, 5.0])
    np.testing.assert_array_equal(return_map(x), [[2.0, 3.0], [3.0, 5.0]])
    # maxima never pair across runs
    np.testing.assert_array_equal(return_map(np.stack([x, -x])), [[2.0, 3.0], [3.0, 5.0], [-1.0, 0.0]])
    k = np.arange(1000)
    np.testing.assert_allclose(local_maxima(np.sin(2 * np.pi * k / 40 + 0.1)), np.sin(2 * np.pi * 10 / 40 + 0.1),
                               rtol=1e-2)


def test_maxima_distance(lorenz_x):
    assert maxima_distance(lorenz_x, lorenz_x) == 0.0
    # shifting a series by c moves every maximum by c: W1 = c; scale divides
    assert maxima_distance(lorenz_x + 0.3, lorenz_x) == pytest.approx(0.3)
    assert maxima_distance(lorenz_x + 0.3, lorenz_x, scale=0.6) == pytest.approx(0.5)
    assert np.isnan(maxima_distance(np.zeros(100), lorenz_x))
    with pytest.raises(InputError, match="`scale`"):
        maxima_distance(lorenz_x, lorenz_x, scale=0.0)


def test_spectrum_distance(lorenz_x):
    assert spectrum_distance(lorenz_x, lorenz_x) == 0.0
    f, p = welch_spectrum(lorenz_x)
    assert f.shape == p.shape == (129,) and p.sum() == pytest.approx(1.0)
    k = np.arange(lorenz_x.size)
    sine = np.sin(2 * np.pi * k / 8.0)  # all power at 1/8 cycle per sample, where Lorenz's x has almost none
    assert spectrum_distance(sine, lorenz_x) > 0.9
    assert 0.0 < spectrum_distance(lorenz_x[:10000], lorenz_x[10000:]) < 0.2  # two stretches of one attractor
    assert np.isnan(spectrum_distance(np.ones(1000), lorenz_x))


def test_lobe_fraction(lorenz_x):
    # the Lorenz system is symmetric under (x, y) -> (-x, -y): half the time in each lobe
    assert lobe_fraction(lorenz_x, centre=float(np.mean(lorenz_x))) == pytest.approx(0.5, abs=0.1)
    assert lobe_fraction(np.array([-1.0, 2.0, 3.0, -4.0]), centre=0.0) == 0.5
    assert lobe_fraction(np.array([1.0, 2.0, 3.0]), centre=1.5) == pytest.approx(2 / 3)


@pytest.mark.parametrize("call, match", [
    (lambda: local_maxima(np.array([1.0, np.nan, 2.0])), "`series` must be finite"),
    (lambda: local_maxima(np.zeros((2, 2, 2))), r"`series` must have shape \(sample,\) or \(run, sample\)"),
    (lambda: spectrum_distance(np.zeros(100), np.zeros(1000)), "`series` must have shape"),
    (lambda: largest_lyapunov(np.zeros(2000), dim=0, delay=10, theiler=100, fit=(5, 10)), "`dim`"),
    (lambda: largest_lyapunov(np.zeros(2000), dim=3, delay=10, theiler=100, fit=(10, 5)), r"`fit\[1\]`"),
    (lambda: largest_lyapunov(np.zeros(2000), dim=3, delay=10, theiler=100, fit=10), "`fit` must be a pair"),
    (lambda: lobe_fraction(np.zeros(10), centre=float("inf")), "`centre`"),
])
def test_bad_inputs_name_the_argument(call, match):
    with pytest.raises(InputError, match=match):
        call()

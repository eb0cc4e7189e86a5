"""Lorenz forecasting: predict one coordinate of the Lorenz system some steps ahead from its past.

The circuit observes one coordinate of the Lorenz system (Lorenz 1963)

    dx/ds = sigma (y - x),   dy/ds = x (rho - z) - y,   dz/ds = x y - beta z

one sample per integration step, ``sample_interval`` Lorenz time units
apart, on its input channel ``obs``; context ``ahead<h>`` asks for the same
coordinate ``h`` samples ahead on output ``forecast``.  The input at index
``k`` is the (standardised) observation at sample ``k`` and the target at
index ``k`` is the observation at sample ``k + h``: teacher forcing, since
the circuit always sees the true past.  The context ``ahead1`` (one step)
is the one to run in closed loop, feeding each output back as the next
input (:func:`neurobias.reproduce.forecast.closed_loop`).

Trials are windows of a long reference solution (RK4, 2 sub-steps per
sample, 16 independent trajectories from random starts, the first 10 time
units discarded) drawn at random; the reference is computed once per
parameter set and cached.  Observations are standardised by the mean and
standard deviation of the coordinate over the reference, or by a given mean
and standard deviation (``standardisation``): a task on held-out
trajectories (another ``reference_seed``) standardised with the moments of
the training trajectories (:meth:`LorenzForecastTask.raw_moments`), so that
no preprocessing is fitted on held-out data.

Source: the Lorenz forecasting experiment with bias-only learning of
Williams, Ryoo, Jiralerspong, Payeur, Perich, Mazzucato & Lajoie (2024),
"Expressivity of neural networks with random weights and learned biases",
arXiv:2407.00957: one coordinate forecast 27 steps ahead, the half-width at
half-maximum of its autocorrelation (:func:`autocorrelation_hwhm`).
Sampling interval and trial lengths here are this package's own choices.

Mask: 0 for the first ``washout_ms`` (the circuit's state must first
synchronise with the observations), 1 afterwards.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from neurobias.errors import InputError, check_number, check_positive
from neurobias.tasks._registry import register
from neurobias.tasks.base import WILLIAMS_2024, Task, TaskBatch, rk4_samples

__all__ = ["LorenzForecastTask", "lorenz", "autocorrelation_hwhm"]

_COORDS = ("x", "y", "z")


def lorenz(
    state0: np.ndarray, *, n_samples: int, sample_interval: float, substeps: int = 2,
    sigma: float = 10.0, rho: float = 28.0, beta: float = 8.0 / 3.0,
) -> np.ndarray:
    """Integrate the Lorenz system with RK4.

    Parameters
    ----------
    state0 : ndarray of shape (trajectory, 3)
        Initial states ``(x, y, z)``.
    n_samples : int
        Samples returned after the initial state.
    sample_interval : float
        Lorenz time between samples.
    substeps : int
        RK4 steps per sample.
    sigma, rho, beta : float
        Parameters (Lorenz's chaotic values by default).

    Returns
    -------
    ndarray of shape (trajectory, n_samples, 3)
    """
    s = np.array(state0, dtype=np.float64)
    h = sample_interval / substeps

    def f(v: np.ndarray) -> np.ndarray:
        x, y, z = v[:, 0], v[:, 1], v[:, 2]
        return np.stack([sigma * (y - x), x * (rho - z) - y, x * y - beta * z], axis=1)

    return rk4_samples(f, s, h=h, n_samples=n_samples, substeps=substeps)


def autocorrelation_hwhm(series: np.ndarray, *, max_lag: int | None = None) -> float:
    """Half-width at half-maximum of the autocorrelation of ``series``, in samples.

    Parameters
    ----------
    series : ndarray of shape (trajectory, sample) or (sample,)
        Each row's autocorrelation (mean removed per row, biased estimator)
        is averaged over rows.
    max_lag : int, optional
        Largest lag considered (default: a quarter of the length).

    Returns
    -------
    float
        The first lag where the autocorrelation falls to 0.5, linearly
        interpolated between samples; NaN if it never does within ``max_lag``.
    """
    x = np.atleast_2d(np.asarray(series, dtype=np.float64))
    x = x - x.mean(axis=1, keepdims=True)
    n = x.shape[1]
    max_lag = n // 4 if max_lag is None else int(max_lag)
    var = np.mean(x * x)
    ac = np.array([np.mean(x[:, : n - lag] * x[:, lag:]) * (n - lag) / n for lag in range(max_lag + 1)]) / var
    below = np.nonzero(ac <= 0.5)[0]
    if below.size == 0:
        return float("nan")
    k = int(below[0])
    return float(k - 1 + (ac[k - 1] - 0.5) / (ac[k - 1] - ac[k]))


@functools.lru_cache(maxsize=4)
def _reference(sample_interval: float, n_samples: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    start = np.array([1.0, 1.0, 20.0]) + rng.normal(0.0, 5.0, size=(16, 3))
    burn = int(np.ceil(10.0 / sample_interval))
    ref = lorenz(start, n_samples=burn + n_samples, sample_interval=sample_interval)[:, burn:]
    ref.setflags(write=False)
    return ref


@register
class LorenzForecastTask(Task):
    """Forecast a Lorenz coordinate ``h`` samples ahead from its observed past; one horizon per context.

    Input: ``obs``.  Output: ``forecast``.  Contexts: ``"ahead<h>"`` for each
    horizon.  Per-trial conditions: ``start`` (index of the window's first
    sample in the reference) and ``trajectory``.

    Parameters
    ----------
    params : LorenzForecastTask.Params, optional
    dt : float
        Integration step in ms (one observation per step).
    """

    name = "lorenz"
    citation = ("Lorenz EN (1963). Deterministic nonperiodic flow. J Atmos Sci 20:130-141. "
                "Forecasting with bias-only learning: " + WILLIAMS_2024)

    @dataclass(frozen=True)
    class Params:
        """Parameters of :class:`LorenzForecastTask`.

        Attributes
        ----------
        horizons : tuple of int
            Samples ahead of each context; distinct, >= 1.
        coordinate : str
            ``"x"``, ``"y"`` or ``"z"``.
        duration_ms : float
            Trial duration in ms (a multiple of ``dt``; one sample per step).
        washout_ms : float
            Initial part excluded from the loss, in ms (a multiple of ``dt``).
        sample_interval : float
            Lorenz time units between samples (positive).  The default 0.0085
            puts the half-width at half-maximum of the autocorrelation of
            ``x`` near 27 samples, the horizon of Williams et al. (2024).
        reference_samples : int
            Samples per reference trajectory (16 trajectories); trial windows
            must fit in it.  0 (default): ``max(4000, 2 (n_time + max(horizons)
            + 1))``, i.e. 4000 unless the trials are long.
        reference_seed : int
            Seed of the reference trajectories' starting points.
        input_noise : float
            Standard deviation of Gaussian noise added to the observations on
            the input (not to the targets), in standardised units (>= 0); a
            little noise makes a one-step forecaster more stable in closed loop.
        standardisation : tuple of float
            ``()`` (default): observations standardised by the mean and
            standard deviation of the coordinate over this task's own
            reference; ``(mean, sd)``: by these, in Lorenz units (``sd`` > 0),
            e.g. the :meth:`~LorenzForecastTask.raw_moments` of the training
            task for a task on held-out trajectories.
        """

        horizons: tuple[int, ...] = (1, 27)
        coordinate: str = "x"
        duration_ms: float = 400.0
        washout_ms: float = 50.0
        sample_interval: float = 0.0085
        reference_samples: int = 0
        reference_seed: int = 0
        input_noise: float = 0.0
        standardisation: tuple[float, ...] = ()

    def _check_params(self, params: Params) -> None:
        n = self.n_steps(params.duration_ms, "duration_ms")
        washout = self.n_steps(params.washout_ms, "washout_ms", allow_zero=True)
        if washout >= n:
            raise InputError(f"`washout_ms` must be shorter than duration_ms = {params.duration_ms:g}; "
                             f"got {params.washout_ms:g}")
        if len(params.horizons) == 0 or len(set(params.horizons)) != len(params.horizons) \
                or min(params.horizons) < 1:
            raise InputError(f"`horizons` must be distinct integers >= 1; got {params.horizons}")
        if params.coordinate not in _COORDS:
            raise InputError(f"`coordinate` must be one of {', '.join(_COORDS)}; got {params.coordinate!r}")
        check_positive("sample_interval", params.sample_interval)
        need = n + max(params.horizons) + 1
        if params.reference_samples != 0 and params.reference_samples < need:
            raise InputError(
                f"`reference_samples` must be 0 (automatic) or at least n_time + max(horizons) + 1 = "
                f"{need}; got {params.reference_samples}"
            )
        check_number("reference_seed", params.reference_seed, ge=0, integer=True)
        check_number("input_noise", params.input_noise, ge=0)
        if len(params.standardisation) not in (0, 2):
            raise InputError(f"`standardisation` must be () or a pair (mean, sd) in Lorenz units; got "
                             f"{params.standardisation!r}")
        if params.standardisation:
            check_number("standardisation[0]", params.standardisation[0])
            check_number("standardisation[1]", params.standardisation[1], gt=0)

    @property
    def duration_ms(self) -> float:
        return self.params.duration_ms

    @property
    def input_names(self) -> tuple[str, ...]:
        return ("obs",)

    @property
    def output_names(self) -> tuple[str, ...]:
        return ("forecast",)

    @property
    def contexts(self) -> tuple[str, ...]:
        return tuple(f"ahead{h}" for h in self.params.horizons)

    def conditions_table(self) -> dict[str, tuple]:
        return {"horizon_steps": self.params.horizons}

    def _raw(self) -> np.ndarray:
        p = self.params
        samples = int(p.reference_samples) or max(4000, 2 * (self.n_time + max(p.horizons) + 1))
        ref = _reference(float(p.sample_interval), samples, int(p.reference_seed))
        return ref[:, :, _COORDS.index(p.coordinate)]

    def raw_moments(self) -> tuple[float, float]:
        """Mean and standard deviation of the observed coordinate over this task's reference, in Lorenz units."""
        x = self._raw()
        return float(x.mean()), float(x.std())

    def reference(self) -> np.ndarray:
        """The standardised reference series of the observed coordinate, of shape (trajectory, sample).

        Standardised by :meth:`raw_moments` unless ``standardisation`` gives
        the mean and standard deviation to use.
        """
        x = self._raw()
        mean, sd = self.params.standardisation or self.raw_moments()
        return (x - float(mean)) / float(sd)

    def _sample(self, batch: int, context: int, rng: np.random.Generator) -> TaskBatch:
        p = self.params
        series = self.reference()
        n, h_max = self.n_time, max(p.horizons)
        traj = rng.integers(0, series.shape[0], size=batch)
        start = rng.integers(0, series.shape[1] - n - h_max, size=batch)
        windows = series[traj[:, None], start[:, None] + np.arange(n + h_max)[None, :]]
        noise = rng.normal(0.0, 1.0, size=(batch, n)) * p.input_noise
        h = p.horizons[context]
        mask = np.zeros((batch, n, 1))
        mask[:, self.n_steps(p.washout_ms, "washout_ms", allow_zero=True):] = 1.0
        return TaskBatch(
            inputs=(windows[:, :n] + noise)[..., None],
            targets=windows[:, h:h + n, None],
            mask=mask,
            conditions={"start": start.astype(np.float64), "trajectory": traj.astype(np.float64)},
        )

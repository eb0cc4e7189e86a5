"""Closed-loop forecasting with a trained circuit, and forecast scores.

A circuit trained on :class:`neurobias.tasks.lorenz.LorenzForecastTask` in
its ``ahead1`` context maps the observation at step ``k`` to a forecast of
the observation at step ``k + 1``.  :func:`closed_loop` first drives it with
the true observations (teacher forcing, ``n_warmup`` steps) and then feeds
each output back as the next input, so that it runs on its own.
"""
from __future__ import annotations

import numpy as np
import torch

from neurobias.circuit.circuit import Circuit
from neurobias.circuit.threads import one_thread
from neurobias.errors import InputError, check_number, check_shape, describe_shape

__all__ = ["closed_loop", "drive", "nrmse", "valid_prediction_time", "ridge_regression", "lag_matrix",
           "autoregressive_closed_loop"]


def closed_loop(
    circuit: Circuit, tonic: np.ndarray, observations: np.ndarray, *, n_warmup: int, n_free: int, dt: float,
    method: str = "euler",
) -> np.ndarray:
    """Teacher-force ``n_warmup`` steps, then run ``n_free`` steps feeding the output back as input.

    Parameters
    ----------
    circuit : Circuit
        With as many inputs as outputs (the output is fed back to the inputs).
    tonic : ndarray of shape (unit,)
        The tonic input of the one-step-ahead context.
    observations : ndarray of shape (trial, time, input)
        True observations; the first ``n_warmup`` steps drive the circuit.
    n_warmup, n_free : int
        Steps driven by data, then steps run on the circuit's own output.
    dt : float
        Integration step in ms (as in training).
    method : {"euler", "exp_euler"}

    Returns
    -------
    ndarray of shape (trial, n_free, output)
        Entry ``j`` is the forecast of ``observations[:, n_warmup + j]``,
        float64.
    """
    if circuit.n_inputs != circuit.n_outputs or circuit.n_inputs == 0:
        raise InputError(
            f"`circuit` must have as many inputs as outputs to run in closed loop; got {circuit.n_inputs} "
            f"inputs and {circuit.n_outputs} outputs"
        )
    obs, b = _checked(circuit, observations, tonic)
    n_warmup, n_free = (check_number(name, v, ge=1, integer=True) for name, v in (("n_warmup", n_warmup),
                                                                                   ("n_free", n_free)))
    if n_warmup > obs.shape[1]:
        raise InputError(f"`n_warmup` must be at most the {obs.shape[1]} observed steps; got {n_warmup}")
    W = {k: torch.tensor(v, dtype=torch.float64) for k, v in circuit.weights().items()}
    dyn = circuit.dynamics()
    bias = torch.tensor(b, dtype=torch.float64)
    u_all = torch.tensor(obs, dtype=torch.float64)
    x = torch.zeros(obs.shape[0], circuit.n_units, dtype=torch.float64)
    out = np.empty((obs.shape[0], n_free, circuit.n_outputs))
    with one_thread(), torch.no_grad():
        for k in range(n_warmup):
            x = dyn.step(x, u_all[:, k] @ W["W_in"].T + bias, dt=dt, method=method)
        for j in range(n_free):
            z = dyn.readout(x, W["W_out"], W["b_out"])
            out[:, j] = z.numpy()
            x = dyn.step(x, z @ W["W_in"].T + bias, dt=dt, method=method)
    return out


def _checked(circuit: Circuit, observations: np.ndarray, tonic: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``observations`` of shape (trial, time, input) and ``tonic`` of shape (unit,) as float64, checked."""
    obs = np.asarray(observations, dtype=np.float64)
    if obs.ndim != 3 or obs.shape[2] != circuit.n_inputs:
        raise InputError(
            f"`observations` must have shape (trial, time, input = {circuit.n_inputs}); got {describe_shape(obs.shape)}"
        )
    b = np.asarray(tonic, dtype=np.float64)
    check_shape("tonic", b, (circuit.n_units,), dims=("unit",))
    return obs, b


def drive(circuit: Circuit, tonic: np.ndarray, observations: np.ndarray, *, dt: float,
          method: str = "euler") -> tuple[np.ndarray, np.ndarray]:
    """Run ``circuit`` from rest on ``observations`` (teacher forcing): its states and outputs at every step.

    Parameters
    ----------
    circuit : Circuit
    tonic : ndarray of shape (unit,)
    observations : ndarray of shape (trial, time, input)
    dt : float
        Integration step in ms (as in training).
    method : {"euler", "exp_euler"}

    Returns
    -------
    rates : ndarray of shape (trial, time, unit)
        Rates after the input of step ``k`` (the ones the output at ``k`` reads), float64.
    outputs : ndarray of shape (trial, time, output)
        ``W_out r + b_out`` at every step: entry ``k`` is the circuit's
        output after it has seen ``observations[:, :k + 1]``, as in training.
    """
    obs, b = _checked(circuit, observations, tonic)
    W = {k: torch.tensor(v, dtype=torch.float64) for k, v in circuit.weights().items()}
    dyn = circuit.dynamics()
    bias = torch.tensor(b, dtype=torch.float64)
    u_all = torch.tensor(obs, dtype=torch.float64)
    x = torch.zeros(obs.shape[0], circuit.n_units, dtype=torch.float64)
    rates = np.empty((obs.shape[0], obs.shape[1], circuit.n_units))
    with one_thread(), torch.no_grad():
        for k in range(obs.shape[1]):
            x = dyn.step(x, u_all[:, k] @ W["W_in"].T + bias, dt=dt, method=method)
            rates[:, k] = dyn.rates(x).numpy()
    outputs = rates @ circuit.W_out.T + circuit.b_out
    return rates, outputs


def ridge_regression(features: np.ndarray, targets: np.ndarray, *, ridge: float) -> tuple[np.ndarray, np.ndarray]:
    """Least squares with an intercept and an L2 penalty on the weights (not on the intercept).

    Parameters
    ----------
    features : ndarray of shape (sample, feature)
    targets : ndarray of shape (sample, output)
    ridge : float
        Penalty (>= 0) relative to the mean variance of the features: the
        weights minimise ``|y - X w - c|^2 + ridge * mean(var(X)) * n * |w|^2``.

    Returns
    -------
    weights : ndarray of shape (output, feature)
    intercept : ndarray of shape (output,)
    """
    X, Y = np.asarray(features, dtype=np.float64), np.asarray(targets, dtype=np.float64)
    if X.ndim != 2 or Y.ndim != 2 or X.shape[0] != Y.shape[0] or X.shape[0] < 2:
        raise InputError(f"`features` (sample, feature) and `targets` (sample, output) must have the same number "
                         f"(>= 2) of samples; got {describe_shape(X.shape)} and {describe_shape(Y.shape)}")
    ridge = check_number("ridge", ridge, ge=0)
    mx, my = X.mean(axis=0), Y.mean(axis=0)
    Xc, Yc = X - mx, Y - my
    gram = Xc.T @ Xc
    scale = max(float(np.trace(gram)) / X.shape[1], np.finfo(np.float64).tiny)
    w = np.linalg.solve(gram + ridge * scale * np.eye(X.shape[1]), Xc.T @ Yc).T
    return w, my - w @ mx


def lag_matrix(series: np.ndarray, order: int) -> np.ndarray:
    """The last ``order`` samples at every step, newest first.

    Parameters
    ----------
    series : ndarray of shape (run, sample)
    order : int
        Lags (>= 1).

    Returns
    -------
    ndarray of shape (run, sample - order + 1, order)
        Entry ``[r, k, i]`` is ``series[r, k + order - 1 - i]``.
    """
    x = np.asarray(series, dtype=np.float64)
    order = check_number("order", order, ge=1, integer=True)
    if x.ndim != 2 or x.shape[1] < order:
        raise InputError(f"`series` must have shape (run, sample) with at least `order` = {order} samples; "
                         f"got {describe_shape(x.shape)}")
    n = x.shape[1] - order + 1
    return np.stack([x[:, order - 1 - i:order - 1 - i + n] for i in range(order)], axis=2)


def autoregressive_closed_loop(weights: np.ndarray, intercept: float, warmup: np.ndarray, *,
                               n_free: int) -> np.ndarray:
    """Iterate the one-step linear forecast ``x_{k+1} = w . (x_k, x_{k-1}, ...) + c`` on its own output.

    Parameters
    ----------
    weights : ndarray of shape (order,)
        Coefficients, newest sample first.
    intercept : float
    warmup : ndarray of shape (trial, time)
        True observations; the last ``order`` start the recursion (``time >= order``).
    n_free : int

    Returns
    -------
    ndarray of shape (trial, n_free)
        Entry ``j`` forecasts the sample ``j`` steps after the warm-up's last; a
        run that grows without bound gives inf or NaN.
    """
    w = np.asarray(weights, dtype=np.float64).ravel()
    x = np.asarray(warmup, dtype=np.float64)
    n_free = check_number("n_free", n_free, ge=1, integer=True)
    if x.ndim != 2 or x.shape[1] < w.size:
        raise InputError(f"`warmup` must have shape (trial, time) with time >= {w.size}; got "
                         f"{describe_shape(x.shape)}")
    window = x[:, ::-1][:, :w.size].copy()  # newest first
    out = np.empty((x.shape[0], n_free))
    with np.errstate(over="ignore", invalid="ignore"):
        for j in range(n_free):
            nxt = window @ w + float(intercept)
            out[:, j] = nxt
            window = np.concatenate([nxt[:, None], window[:, :-1]], axis=1)
    return out


def nrmse(prediction: np.ndarray, truth: np.ndarray) -> float:
    """Root mean squared error divided by the standard deviation of ``truth`` (arrays of the same shape)."""
    p, t = np.asarray(prediction, dtype=np.float64), np.asarray(truth, dtype=np.float64)
    if p.shape != t.shape:
        raise InputError(f"`prediction` and `truth` must have the same shape; got {p.shape} and {t.shape}")
    return float(np.sqrt(np.mean((p - t) ** 2)) / np.std(t))


def valid_prediction_time(prediction: np.ndarray, truth: np.ndarray, *, scale: float = 1.0,
                          threshold: float = 0.4) -> np.ndarray:
    """Steps until the forecast error first exceeds ``threshold * scale``, per trial.

    Parameters
    ----------
    prediction, truth : ndarray of shape (trial, time, output)
    scale : float
        Standard deviation of the signal (1 for standardised observations).
    threshold : float
        Error threshold as a fraction of ``scale`` (0.4 is the usual choice
        for the valid prediction time of reservoir forecasts, Pathak et al. 2018).

    Returns
    -------
    ndarray of shape (trial,)
        Number of steps before the root-mean-square error over outputs first
        exceeds the threshold (``time`` if it never does), float64.
    """
    p, t = np.asarray(prediction, dtype=np.float64), np.asarray(truth, dtype=np.float64)
    if p.shape != t.shape or p.ndim != 3:
        raise InputError(f"`prediction` and `truth` must both have shape (trial, time, output); got {p.shape}, {t.shape}")
    err = np.sqrt(np.mean((p - t) ** 2, axis=2)) / scale
    over = err > threshold
    return np.where(over.any(axis=1), over.argmax(axis=1), p.shape[1]).astype(np.float64)

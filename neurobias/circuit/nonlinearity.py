"""Transfer functions ``phi`` and their derivatives, written once.

Every function maps a tensor of pre-activations (any shape, dimensionless) to
rates of the same shape.  The derivative is analytic; the Jacobian of the vector
field and the effective gain ``phi'(x)`` used by the analyses come from here.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Callable

import torch
from torch import Tensor

from neurobias.errors import InputError

__all__ = ["Nonlinearity", "get_phi", "jax_phi", "PHI_NAMES"]


@dataclass(frozen=True)
class Nonlinearity:
    """A transfer function and its derivative.

    Attributes
    ----------
    name : str
        Registry name (``"tanh"``, ``"relu"``, ...).
    fn : callable
        ``phi(x)``, elementwise.
    deriv : callable
        ``phi'(x)``, elementwise (for ``relu``, 0 at ``x <= 0``).
    """

    name: str
    fn: Callable[[Tensor], Tensor]
    deriv: Callable[[Tensor], Tensor]


def _sigmoid_deriv(x: Tensor) -> Tensor:
    s = torch.sigmoid(x)
    return s * (1.0 - s)


def _tanh_deriv(x: Tensor) -> Tensor:
    t = torch.tanh(x)
    return 1.0 - t * t


_REGISTRY: dict[str, Nonlinearity] = {
    "tanh": Nonlinearity("tanh", torch.tanh, _tanh_deriv),
    "relu": Nonlinearity("relu", torch.relu, lambda x: (x > 0).to(x.dtype)),
    "softplus": Nonlinearity("softplus", torch.nn.functional.softplus, torch.sigmoid),
    "sigmoid": Nonlinearity("sigmoid", torch.sigmoid, _sigmoid_deriv),
    "linear": Nonlinearity("linear", lambda x: x, torch.ones_like),
}

PHI_NAMES: tuple[str, ...] = tuple(_REGISTRY)


def get_phi(name: str) -> Nonlinearity:
    """Return the :class:`Nonlinearity` registered under ``name``.

    Raises
    ------
    InputError
        If ``name`` is not one of :data:`PHI_NAMES`.
    """
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        close = difflib.get_close_matches(str(name), PHI_NAMES, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise InputError(
            f"`phi` must be one of {', '.join(PHI_NAMES)}; got {name!r}{hint}"
        ) from None


def _jax_table() -> dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]]:
    """``phi`` and ``phi'`` of every registered name written in JAX, with torch's formulas (same values)."""
    import jax.numpy as jnp

    def sigmoid(x: Any) -> Any:
        return 1.0 / (1.0 + jnp.exp(-x))

    def softplus(x: Any) -> Any:  # torch's: x itself above the threshold 20 (beta = 1)
        return jnp.where(x > 20.0, x, jnp.log1p(jnp.exp(jnp.minimum(x, 20.0))))

    def tanh_deriv(x: Any) -> Any:
        t = jnp.tanh(x)
        return 1.0 - t * t

    def sigmoid_deriv(x: Any) -> Any:
        s = sigmoid(x)
        return s * (1.0 - s)

    return {
        "tanh": (jnp.tanh, tanh_deriv),
        "relu": (lambda x: jnp.maximum(x, 0.0), lambda x: (x > 0).astype(x.dtype)),
        "softplus": (softplus, sigmoid),
        "sigmoid": (sigmoid, sigmoid_deriv),
        "linear": (lambda x: x, jnp.ones_like),
    }


def jax_phi(name: str) -> Nonlinearity:
    """The :class:`Nonlinearity` registered under ``name``, written in JAX (``jax`` must be installed).

    Same function and derivative as :func:`get_phi` (the same formulas, so the
    same values up to rounding), for a :class:`neurobias.circuit.Dynamics`
    whose ``W_rec`` is a JAX array.

    Raises
    ------
    InputError
        If ``name`` is not one of :data:`PHI_NAMES`.
    """
    get_phi(name)  # the error for an unknown name
    fn, deriv = _jax_table()[name]
    return Nonlinearity(name, fn, deriv)

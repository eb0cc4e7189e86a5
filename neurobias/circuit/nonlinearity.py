"""Transfer functions ``phi`` and their derivatives, written once.

Every function maps a tensor of pre-activations (any shape, dimensionless) to
rates of the same shape.  The derivative is analytic; the Jacobian of the vector
field and the effective gain ``phi'(x)`` used by the analyses come from here.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Callable

import torch
from torch import Tensor

from neurobias.errors import InputError

__all__ = ["Nonlinearity", "get_phi", "PHI_NAMES"]


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

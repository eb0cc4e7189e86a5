"""The hyperparameter protocol of the recording estimators: ``get_params``/``set_params`` and one table of domains.

:data:`DOMAINS` declares, once, what each hyperparameter name accepts
(``steps``: an integer >= 0, ``mode``: one of the training modes, ...);
every estimator checks its own names against it with
:meth:`Hyperparameters.check_params`, so ``TonicFit``, ``ContextFit`` and the
baselines word the same mistake the same way.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

from neurobias.errors import InputError, is_bool, is_int, is_real, require
from neurobias.fitting.readout import READOUTS
from neurobias.training.model import MODES
from neurobias.training.schedule import SCHEDULES
from neurobias.circuit import DTYPES

__all__ = ["Hyperparameters", "DOMAINS"]


def _int_at_least(lo: int, *, optional: bool = False) -> tuple[Callable[[Any], bool], str]:
    if optional:
        return (lambda v: v is None or (is_int(v) and v >= lo)), f"an integer >= {lo} or None"
    return (lambda v: is_int(v) and v >= lo), f"an integer >= {lo}"


def _positive(what: str = "a positive number", *, optional: bool = False) -> tuple[Callable[[Any], bool], str]:
    if optional:
        return (lambda v: v is None or (is_real(v) and v > 0)), f"{what} or None"
    return (lambda v: is_real(v) and v > 0), what


def _choice(choices: Sequence[str]) -> tuple[Callable[[Any], bool], str]:
    return (lambda v: isinstance(v, str) and v in choices), f"one of {', '.join(choices)}"


_NON_NEGATIVE = ((lambda v: is_real(v) and v >= 0), "a number >= 0")

#: hyperparameter name -> (test, what it expects): the one declaration of each name's domain
DOMAINS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "n_units": _int_at_least(1),
    "steps": _int_at_least(0),
    "seed": _int_at_least(0),
    "n_shuffles": _int_at_least(0),
    "holdout_block": _int_at_least(1),
    "substeps": _int_at_least(1, optional=True),
    "n_latents": _int_at_least(1, optional=True),
    "tau": _positive("a positive number of ms"),
    "g": _NON_NEGATIVE,
    "input_scale": _NON_NEGATIVE,
    "lr": _positive(),
    "weight_lr": _positive(optional=True),
    "lr_min": _NON_NEGATIVE,
    "clip_grad": _NON_NEGATIVE,
    "ridge": _NON_NEGATIVE,
    "mode": _choice(MODES),
    "readout": _choice(READOUTS),
    "schedule": _choice(SCHEDULES),
    "dtype": _choice(tuple(DTYPES)),
    "learn_x0": ((lambda v: is_bool(v)), "True or False"),
    "learn_tonic": ((lambda v: is_bool(v)), "True or False"),
}


class Hyperparameters:
    """``get_params``/``set_params`` read from and written to the keyword options of ``__init__``.

    As in scikit-learn, ``__init__`` stores each option under its own name and
    does nothing else, so an estimator can be cloned with
    ``type(est)(**est.get_params())``.
    """

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Hyperparameters by name (scikit-learn protocol)."""
        return {k: getattr(self, k) for k in inspect.signature(type(self).__init__).parameters if k != "self"}

    def set_params(self, **params: Any) -> Any:
        """Set hyperparameters (scikit-learn protocol); an unknown name raises InputError."""
        valid = self.get_params()
        for k, v in params.items():
            if k not in valid:
                raise InputError(f"{type(self).__name__} has no parameter {k!r}; valid: {sorted(valid)}")
            setattr(self, k, v)
        return self

    def check_params(self, names: Sequence[str] | None = None) -> None:
        """Check each hyperparameter in ``names`` (default: all of them that :data:`DOMAINS` declares).

        Raises
        ------
        InputError
            Naming the first parameter outside its domain, what it expects and what came.
        """
        params = self.get_params()
        for name in (names if names is not None else [k for k in params if k in DOMAINS]):
            ok, expected = DOMAINS[name]
            require(name, ok(params[name]), expected, params[name])

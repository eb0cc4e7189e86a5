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

from neurobias.errors import InputError, check_choice, check_number, coerce
from neurobias.fitting.readout import READOUTS
from neurobias.training.model import MODES
from neurobias.training.schedule import SCHEDULES
from neurobias.circuit import DTYPES

__all__ = ["Hyperparameters", "DOMAINS"]


Check = Callable[[str, Any], Any]


def _number(*, optional: bool = False, **bounds: Any) -> Check:
    """A domain checked by the package's one number validator (:func:`neurobias.errors.check_number`)."""
    def check(name: str, value: Any) -> Any:
        if not optional:
            return check_number(name, value, **bounds)
        if value is None:
            return None
        try:
            return check_number(name, value, **bounds)
        except InputError as e:  # say that None is accepted too
            head, _, got = str(e).partition("; got ")
            raise InputError(f"{head} or None; got {got}") from None
    return check


def _choice(choices: Sequence[str]) -> Check:
    return lambda name, value: check_choice(name, value, choices)


def _flag(name: str, value: Any) -> Any:
    return coerce(value, bool, name=name)


#: hyperparameter name -> its check ``(name, value) -> value``: the one declaration of each name's domain
DOMAINS: dict[str, Check] = {
    "n_units": _number(ge=1, integer=True),
    "steps": _number(ge=0, integer=True),
    "seed": _number(ge=0, integer=True),
    "n_shuffles": _number(ge=0, integer=True),
    "holdout_block": _number(ge=1, integer=True),
    "substeps": _number(ge=1, integer=True, optional=True),
    "n_latents": _number(ge=1, integer=True, optional=True),
    "tau": _number(gt=0, units="ms"),
    "g": _number(ge=0),
    "input_scale": _number(ge=0),
    "lr": _number(gt=0),
    "weight_lr": _number(gt=0, optional=True),
    "lr_min": _number(ge=0),
    "clip_grad": _number(ge=0),
    "ridge": _number(ge=0),
    "mode": _choice(MODES),
    "readout": _choice(READOUTS),
    "schedule": _choice(SCHEDULES),
    "dtype": _choice(tuple(DTYPES)),
    "learn_x0": _flag,
    "learn_tonic": _flag,
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
            DOMAINS[name](name, params[name])

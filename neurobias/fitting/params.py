"""The scikit-learn hyperparameter protocol (``get_params``/``set_params``) shared by the recording estimators."""
from __future__ import annotations

import inspect
from typing import Any

from neurobias.errors import InputError

__all__ = ["Hyperparameters"]


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

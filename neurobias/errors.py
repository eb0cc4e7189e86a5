"""User-facing error types.

Every error a user can cause (bad config, bad arrays, bad files) is raised as a
subclass of :class:`NeurobiasError`.  The CLI prints such errors as one line and
exits with code 2; anything else is a bug and keeps its traceback.
"""
from __future__ import annotations

__all__ = ["NeurobiasError", "ConfigError", "SchemaError", "InputError", "ConvergenceWarning", "describe_shape"]


class NeurobiasError(Exception):
    """Base class of errors caused by user input (never by a bug)."""


class ConfigError(NeurobiasError, ValueError):
    """A configuration file, section, key, value or override is invalid."""


class SchemaError(NeurobiasError, ValueError):
    """A file is not a valid neurobias file of the expected kind and schema version."""


class InputError(NeurobiasError, ValueError):
    """An argument (array, shape, value) given to the API is invalid."""


class ConvergenceWarning(UserWarning):
    """An optimisation ended worse than it began (its best parameters, possibly the initial ones, are returned)."""


def describe_shape(shape: tuple[int, ...]) -> str:
    """Format a shape as ``(a, b)`` for error messages."""
    return "(" + ", ".join(str(int(s)) for s in shape) + ("," if len(shape) == 1 else "") + ")"

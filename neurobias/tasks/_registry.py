"""The task registry: task classes by name."""
from __future__ import annotations

import dataclasses
import difflib
from typing import Any, TypeVar

from neurobias.errors import InputError
from neurobias.tasks.base import Task

__all__ = ["register", "get_task", "available", "make_task"]

_REGISTRY: dict[str, type[Task]] = {}

T = TypeVar("T", bound=type[Task])


def register(cls: T) -> T:
    """Class decorator adding a :class:`Task` subclass to the registry under ``cls.name``.

    Raises
    ------
    TypeError
        If ``cls`` is not a Task subclass with a non-empty ``name``, a
        ``citation`` and a dataclass ``Params``.
    ValueError
        If another class is already registered under the same name.
    """
    if not (isinstance(cls, type) and issubclass(cls, Task)):
        raise TypeError(f"only Task subclasses can be registered; got {cls!r}")
    if not cls.name or not cls.citation:
        raise TypeError(f"{cls.__name__} must define non-empty `name` and `citation`")
    if not dataclasses.is_dataclass(getattr(cls, "Params", None)):
        raise TypeError(f"{cls.__name__}.Params must be a dataclass")
    existing = _REGISTRY.get(cls.name)
    if existing is not None and existing.__qualname__ != cls.__qualname__:
        raise ValueError(f"task name {cls.name!r} is already registered by {existing.__qualname__}")
    _REGISTRY[cls.name] = cls
    return cls


def available() -> tuple[str, ...]:
    """Names of the registered tasks, sorted."""
    return tuple(sorted(_REGISTRY))


def get_task(name: str) -> type[Task]:
    """The task class registered under ``name``.

    Raises
    ------
    InputError
        If ``name`` is unknown; the message lists the available names and the
        closest match.
    """
    if isinstance(name, str) and name in _REGISTRY:
        return _REGISTRY[name]
    close = difflib.get_close_matches(str(name), available(), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise InputError(f"`name` must be one of the registered tasks {available()}; got {name!r}{hint}")


def make_task(name: str, /, *, dt: float, **params: Any) -> Task:
    """Build a registered task from keyword parameters.

    Parameters
    ----------
    name : str
        Registry name (see :func:`available`).
    dt : float
        Integration step in ms.
    **params
        Overrides of the fields of the task's ``Params``; values are checked
        against the field types.

    Returns
    -------
    Task

    Raises
    ------
    InputError
        For an unknown task, an unknown parameter (naming the closest valid
        one), a value of the wrong type or an invalid value.
    """
    cls = get_task(name)
    fields = tuple(field.name for field in dataclasses.fields(cls.Params))
    for key in params:
        if key not in fields:
            close = difflib.get_close_matches(key, fields, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise InputError(
                f"unknown parameter {key!r} for task {name!r}; valid parameters are {fields}{hint}"
            )
    return cls(cls.Params(**params), dt=dt)

"""User-facing error types.

Every error a user can cause (bad config, bad arrays, bad files) is raised as a
subclass of :class:`NeurobiasError`.  The CLI prints such errors as one line and
exits with code 2; anything else is a bug and keeps its traceback.

The checks below (:func:`coerce`, :func:`check_number`, :func:`check_choice`,
:func:`check_shape`, ...) are the one set of argument and config-value checks
of the package; they live here, at the bottom of the layers, so that every
module can use them.
"""
from __future__ import annotations

import difflib
import math
import numbers
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["NeurobiasError", "ConfigError", "SchemaError", "InputError", "ConvergenceWarning", "describe_shape", "describe_type", "suggest", "require", "is_int", "is_real",
           "is_bool", "coerce", "check_choice", "check_number", "check_positive", "check_instance", "check_shape",
           "check_finite", "check_device"]


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


# --------------------------------------------------------------------------- argument checks
# One set of checks for the whole package (the API, the config files, the task parameters).  Each
# returns the value normalised and raises ``error`` (InputError unless told otherwise) naming the
# argument, what was expected and what came.  With ``error=ConfigError`` the name is a config key
# and the message says so (``config key `circuit.tau` must be ...``).

def _label(name: str, error: type[Exception]) -> str:
    return f"config key `{name}`" if issubclass(error, ConfigError) else f"`{name}`"


def suggest(word: object, choices: Sequence[object]) -> str:
    """The closest of ``choices`` to ``word`` as ``"'x'"``, or ``""`` when none is close."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.5)
    return repr(close[0]) if close else ""


def is_bool(value: object) -> bool:
    """True for Python and numpy bools (which are never accepted as numbers)."""
    t = type(value)
    return isinstance(value, bool) or (t.__module__ == "numpy" and t.__name__ in ("bool", "bool_"))


def is_int(value: object) -> bool:
    """True for Python and numpy integers (bools excluded)."""
    return isinstance(value, numbers.Integral) and not is_bool(value)


def is_real(value: object) -> bool:
    """True for finite Python and numpy real numbers (bools excluded)."""
    return isinstance(value, numbers.Real) and not is_bool(value) and math.isfinite(value)


def require(name: str, ok: bool, expected: str, got: object, *, error: type[NeurobiasError] = InputError) -> None:
    """Raise ``error`` naming ``name``, what was ``expected`` and what came (``got``) unless ``ok``."""
    if not ok:
        raise error(f"`{name}` must be {expected}; got {got!r}")


def describe_type(hint: Any) -> str:
    """Words for a type hint in messages: ``int`` -> ``"an int"``; ``tuple[float, ...]`` -> ``"a list of floats"``."""
    origin = typing.get_origin(hint)
    if origin in (tuple, list, Sequence):
        args = typing.get_args(hint)
        if args and args[0] is not Any and (origin is not tuple or (len(args) == 2 and args[1] is Ellipsis)):
            return f"a list of {describe_type(args[0]).removeprefix('an ').removeprefix('a ')}s"
        return f"a list of {len(args)} values" if origin is tuple and args and args[-1] is not Ellipsis else "a list"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(describe_type(a) for a in typing.get_args(hint))
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(hint))
    names = {Mapping: "a table (mapping)", bool: "a bool (true or false)", int: "an int", float: "a float",
             str: "a string", type(None): "none"}
    return names.get(hint, f"a {getattr(hint, '__name__', hint)}")


def coerce(value: Any, hint: Any, *, name: str, error: type[NeurobiasError] = InputError) -> Any:
    """Check ``value`` against the type hint ``hint`` and return it normalised.

    The one type engine of the package (config files, ``--set`` overrides, task
    parameters).  Rules: an int is accepted where a float is expected (and
    becomes a float); a bool is never a number and a number never a bool;
    floats must be finite; lists, tuples and 1-d arrays become tuples
    (``tuple[T, ...]``, ``tuple[A, B]``, ``Sequence[T]``); ``X | None``,
    ``Literal[...]`` and ``Any`` are understood.

    Parameters
    ----------
    value : object
    hint : type hint
    name : str
        The argument or config key, named in the error (items as ``name[i]``).
    error : type, keyword-only
        The exception raised (:class:`InputError` or :class:`ConfigError`).

    Raises
    ------
    InputError or ConfigError
        ``... `name` must be <type>; got <value>``.
    TypeError
        If ``hint`` is a type this engine does not know (a bug, not user input).
    """
    origin = typing.get_origin(hint)

    def fail() -> NeurobiasError:
        shown = repr(list(value)) if isinstance(value, tuple) else repr(value)
        return error(f"{_label(name, error)} must be {describe_type(hint)}; got {shown}")

    if hint is Any or hint is object:
        if isinstance(value, list):
            return tuple(coerce(v, Any, name=f"{name}[{i}]", error=error) for i, v in enumerate(value))
        return value
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        if value is None:
            if type(None) in args:
                return None
            raise fail()
        for arg in args:
            if arg is not type(None):
                try:
                    return coerce(value, arg, name=name, error=error)
                except NeurobiasError:
                    continue
        raise fail()
    if origin is typing.Literal:
        if value in typing.get_args(hint) and not is_bool(value):
            return value
        raise fail()
    if origin in (tuple, list, Sequence):
        if hasattr(value, "tolist") and getattr(value, "ndim", 0) == 1:
            value = value.tolist()
        if not isinstance(value, (list, tuple)):
            raise fail()
        args = typing.get_args(hint)
        if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
            if len(value) != len(args):
                raise error(f"{_label(name, error)} must be a list of {len(args)} values; got {len(value)} values")
        else:
            args = (args[0] if args else Any,) * len(value)
        return tuple(coerce(v, a, name=f"{name}[{i}]", error=error) for i, (v, a) in enumerate(zip(value, args)))
    if hint is bool:
        if is_bool(value):
            return bool(value)
        raise fail()
    if hint is int:
        if isinstance(value, numbers.Integral) and not is_bool(value):
            return int(value)
        raise fail()
    if hint is float:
        if isinstance(value, numbers.Real) and not is_bool(value):
            if not math.isfinite(value):
                raise error(f"{_label(name, error)} must be a finite float; got {value!r}")
            return float(value)
        raise fail()
    if isinstance(hint, type):
        if isinstance(value, hint):
            return value
        raise fail()
    raise TypeError(f"unsupported type {hint!r} for `{name}`")


def check_choice(name: str, value: Any, choices: Sequence[Any], *,
                 error: type[NeurobiasError] = InputError) -> Any:
    """Return ``value`` if it is one of ``choices``; else raise naming the choices and the closest one."""
    if is_bool(value) or value not in tuple(choices):
        close = suggest(value, choices) if isinstance(value, str) else ""
        hint = f" (did you mean {close}?)" if close else ""
        options = ", ".join(repr(c) for c in choices)
        raise error(f"{_label(name, error)} must be one of {options}; got {value!r}{hint}")
    return value


def check_number(name: str, value: Any, *, gt: float | None = None, ge: float | None = None,
                 lt: float | None = None, le: float | None = None, integer: bool = False, units: str = "",
                 error: type[NeurobiasError] = InputError) -> Any:
    """Return ``value`` as an int (``integer=True``) or a finite float within the given bounds.

    Parameters
    ----------
    name : str
        The argument (or config key) named in the error.
    value : object
        An int or float (numpy scalars too; never a bool).
    gt, ge, lt, le : float, optional, keyword-only
        Exclusive / inclusive lower and upper bounds.
    integer : bool, keyword-only
        Require an integer (returned as ``int``); otherwise a float is returned.
    units : str, keyword-only
        Units shown in the error, e.g. ``"ms"``.
    error : type, keyword-only
        :class:`InputError` (default) or :class:`ConfigError`.

    Raises
    ------
    InputError or ConfigError
        ```name` must be a positive float (ms); got -1.0`` and the like.
    """
    what = "int" if integer else "float"
    lo = f"({gt:g}" if gt is not None else (f"[{ge:g}" if ge is not None else None)
    hi = f"{lt:g})" if lt is not None else (f"{le:g}]" if le is not None else None)
    if lo and hi:
        cond = f"a {what} in {lo}, {hi}"
    elif gt == 0:
        cond = f"a positive {what}"
    elif lo or hi:
        op, bound = next((o, b) for o, b in ((">", gt), (">=", ge), ("<", lt), ("<=", le)) if b is not None)
        cond = f"a {what} {op} {bound:g}"
    else:
        cond = f"a {what}"
    message = f"{_label(name, error)} must be {cond.replace('a int', 'an int')}{f' ({units})' if units else ''}"
    try:
        number = coerce(value, int if integer else float, name=name, error=error)
    except NeurobiasError:
        raise error(f"{message}; got {value!r}") from None
    if ((gt is None or number > gt) and (ge is None or number >= ge)
            and (lt is None or number < lt) and (le is None or number <= le)):
        return number
    raise error(f"{message}; got {number!r}")


def check_positive(name: str, value: Any, *, integer: bool = False,
                   error: type[NeurobiasError] = InputError) -> Any:
    """``check_number(name, value, gt=0)``: a positive finite float (or a positive int)."""
    return check_number(name, value, gt=0, integer=integer, error=error)


def check_instance(name: str, value: Any, cls: type, *, what: str | None = None) -> Any:
    """Return ``value`` if it is an instance of ``cls``; else InputError naming the expected and the given type."""
    if not isinstance(value, cls):
        raise InputError(f"`{name}` must be {what or 'a ' + cls.__name__}; got {type(value).__name__}")
    return value


def check_shape(name: str, array: Any, shape: Sequence[int | None], *,
                dims: str | Sequence[str] | None = None) -> Any:
    """Return ``array`` if its shape matches ``shape`` (``None`` matches any length).

    Parameters
    ----------
    name : str
    array : array-like with a ``shape``
    shape : sequence of int or None
        Expected shape; ``None`` for a free axis.
    dims : str or sequence of str, optional, keyword-only
        Axis names, shown in the error: ``("context", "unit")`` or ``"(context, unit)"``.

    Raises
    ------
    InputError
        ```bias` must have shape (context, unit) = (2, 256); got (256,)``.
    """
    got = tuple(getattr(array, "shape", ()))
    if len(got) != len(shape) or any(s is not None and int(s) != g for s, g in zip(shape, got)):
        want = describe_shape(tuple(-1 if s is None else s for s in shape)).replace("-1", "*")
        if dims is not None and not isinstance(dims, str):
            dims = "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"
        raise InputError(f"`{name}` must have shape {f'{dims} = ' if dims else ''}{want}; got {describe_shape(got)}")
    return array


def check_finite(name: str, array: Any) -> Any:
    """Return ``array`` if every entry is finite; else InputError saying how many are not."""
    import numpy as np

    values = np.asarray(array)
    bad = ~np.isfinite(values)
    if bad.any():
        raise InputError(f"`{name}` must be finite; it has {int(bad.sum())} NaN or infinite entries")
    return array


def check_device(device: Any, *, name: str = "device") -> str:
    """Return ``device`` as a string if it names a device neurobias runs on: ``cpu``, ``cuda`` or ``cuda:N``.

    A :class:`torch.device` is accepted too (by its name).  Whether CUDA is
    present is not checked here (a sweep's cells run on other machines):
    :func:`neurobias.circuit.resolve_device` adds that check where the
    computation runs.

    Raises
    ------
    InputError
        ```device` must be 'cpu', 'cuda' or 'cuda:N'; got 'gpu'``.
    """
    text = device if isinstance(device, str) or not hasattr(device, "index") else str(device)
    ok = isinstance(text, str) and (text in ("cpu", "cuda") or (text.startswith("cuda:") and text[5:].isdigit()))
    require(name, ok, "'cpu', 'cuda' or 'cuda:N'", device)
    return text

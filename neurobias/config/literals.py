"""TOML literals of the configs: the one ``--set KEY=VALUE`` override parser and the one TOML value writer.

Every config of the package (run, fit, sweep grid) reads its ``--set`` and
``--grid`` values with :func:`parse_value` and writes its resolved values with
:func:`toml_literal`, so a value written and read back is the same value.
"""
from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from typing import Any

from neurobias.errors import ConfigError

__all__ = ["parse_value", "parse_override", "toml_literal", "toml_document"]

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def parse_value(raw: str) -> Any:
    """Read ``raw`` as a TOML literal (``10``, ``1e-3``, ``true``, ``[1.0, 2.0]``, ``"text"``).

    Anything that is not one TOML literal is returned unchanged, as a bare
    string (``relu``).
    """
    try:
        parsed = tomllib.loads(f"v = {raw}")
    except tomllib.TOMLDecodeError:
        return raw
    return parsed["v"] if set(parsed) == {"v"} else raw


def parse_override(text: Any) -> tuple[tuple[str, ...], Any]:
    """Split one ``--set`` override ``a.b=value`` into its key path and its value.

    Parameters
    ----------
    text : str
        ``key=value`` where ``key`` is dot-separated names (``training.steps``,
        ``seed``) and ``value`` is read by :func:`parse_value`.

    Returns
    -------
    path : tuple of str
        ``("training", "steps")``.
    value : object

    Raises
    ------
    ConfigError
        Not a string, no ``=``, or an empty name in the key.
    """
    if not isinstance(text, str):
        raise ConfigError(f"override must be a 'section.key=value' string; got {text!r}")
    if "=" not in text:
        raise ConfigError(f"malformed override {text!r}: expected 'section.key=value' or 'seed=value'")
    lhs, rhs = text.split("=", 1)
    path = tuple(lhs.strip().split("."))
    if not all(path):
        raise ConfigError(f"malformed override {text!r}: the left side must be 'section.key' or 'seed'; "
                          f"got {lhs.strip()!r}")
    return path, parse_value(rhs.strip())


def _toml_string(s: str) -> str:
    escapes = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t"}
    return '"' + "".join(
        escapes.get(ch) or (f"\\u{ord(ch):04X}" if ord(ch) < 0x20 or ord(ch) == 0x7F else ch) for ch in s
    ) + '"'


def toml_literal(value: Any, key: str = "value") -> str:
    """The TOML literal of ``value`` (bool, int, finite float, str, list or tuple, mapping as inline table).

    ``parse_value(toml_literal(v)) == v`` (tuples read back as lists).

    Raises
    ------
    ConfigError
        A non-finite float, or a value TOML cannot represent; the error names ``key``.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ConfigError(f"config key `{key}` must be finite to be written as TOML; got {value!r}")
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_literal(v, key) for v in value) + "]"
    if isinstance(value, Mapping):
        items = (f"{k if _BARE_KEY.match(str(k)) else _toml_string(str(k))} = {toml_literal(v, f'{key}.{k}')}"
                 for k, v in value.items())
        return "{ " + ", ".join(items) + " }"
    raise ConfigError(f"config key `{key}` holds {type(value).__name__} {value!r}, which TOML cannot represent")


def toml_document(values: Mapping[str, Any]) -> str:
    """Deterministic TOML text: the top-level keys first, then one ``[table]`` per mapping value, in order.

    Values that are None are left out (TOML has no null).  ``tomllib.loads``
    of the text gives ``values`` back, less the None values (tuples as lists).
    """
    lines = [f"{k} = {toml_literal(v, k)}" for k, v in values.items() if v is not None and not isinstance(v, Mapping)]
    for name, table in values.items():
        if isinstance(table, Mapping):
            lines += ["", f"[{name}]", *(f"{k} = {toml_literal(v, f'{name}.{k}')}" for k, v in table.items()
                                        if v is not None)]
    return "\n".join(lines) + "\n"

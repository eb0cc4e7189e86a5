"""Sections of ``docs/results.md`` owned by one script each, replaced in place between markers."""
from __future__ import annotations

import re
from pathlib import Path

from neurobias.io.files import atomic_write_text

__all__ = ["markers", "write_section"]

_HEADER = ("# Measured results\n\nNumbers measured by the scripts in `analyses/`; each section says the command "
           "that produced it, when, and how long it took.\n\n")


def markers(key: str) -> tuple[str, str]:
    """The HTML-comment markers that delimit the section ``key``."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", key):
        raise ValueError(f"key: expected letters, digits, '_', '.' or '-', got {key!r}")
    return f"<!-- {key}:start -->", f"<!-- {key}:end -->"


def write_section(path: str | Path, key: str, body: str) -> None:
    """Replace (or append) the section ``key`` of the Markdown file ``path`` atomically.

    Parameters
    ----------
    path
        The Markdown file (created with a short header when missing).
    key
        Section name; the section is delimited by :func:`markers` ``(key)``.
    body
        Markdown text of the section, without the markers.
    """
    path = Path(path)
    start, end = markers(key)
    text = f"{start}\n{body.strip()}\n{end}\n"
    if path.exists():
        old = path.read_text(encoding="utf-8")
        if start in old and end in old:
            new = re.sub(re.escape(start) + r".*?" + re.escape(end) + r"\n?", lambda _: text, old, flags=re.S)
        else:
            new = old.rstrip("\n") + "\n\n" + text
    else:
        new = _HEADER + text
    atomic_write_text(path, new)

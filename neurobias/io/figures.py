"""Saving matplotlib figures atomically (the only place figures touch the disk)."""
from __future__ import annotations

import io
import os
from pathlib import Path

from matplotlib.figure import Figure

from neurobias.io.files import atomic_write_bytes

__all__ = ["save_figure"]


def save_figure(fig: Figure, path: str | os.PathLike, *, dpi: int = 150) -> Path:
    """Render ``fig`` to PNG (by the suffix of ``path``) in memory, then write it atomically."""
    path = Path(path)
    buf = io.BytesIO()
    fmt = path.suffix.lstrip(".") or "png"
    fig.savefig(buf, format=fmt, dpi=dpi, metadata={"Software": None} if fmt == "png" else None)
    return atomic_write_bytes(path, buf.getvalue())

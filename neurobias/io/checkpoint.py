"""Training checkpoints: one ``.npz`` file (no pickles), written atomically.

A checkpoint holds named float arrays (model state, optimiser state, loss
history) and a JSON metadata string.  Nothing here knows about torch.
"""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from neurobias.errors import SchemaError
from neurobias.io.files import atomic_write_bytes, read_bytes

__all__ = ["save_checkpoint", "load_checkpoint", "CHECKPOINT_VERSION"]

CHECKPOINT_VERSION = 1


def save_checkpoint(path: str | Path, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> Path:
    """Write ``arrays`` and ``meta`` (JSON-serialisable) to ``path`` atomically."""
    buf = io.BytesIO()
    payload = {f"a/{k}": np.asarray(v) for k, v in arrays.items()}
    from neurobias._version import __version__

    full = {**meta, "checkpoint_version": CHECKPOINT_VERSION, "neurobias_version": __version__}
    payload["meta"] = np.array(json.dumps(full, sort_keys=True))
    np.savez(buf, **payload)
    return atomic_write_bytes(path, buf.getvalue())


def load_checkpoint(path: str | Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read a checkpoint written by :func:`save_checkpoint`.

    Raises
    ------
    InputError
        If the file does not exist.
    SchemaError
        If it is not a readable neurobias checkpoint.
    """
    data = read_bytes(path, what="checkpoint")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            meta = json.loads(str(npz["meta"]))
            arrays = {k[2:]: npz[k] for k in npz.files if k.startswith("a/")}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
        raise SchemaError(f"{path} is not a readable neurobias checkpoint ({exc})") from None
    if meta.get("checkpoint_version") != CHECKPOINT_VERSION:
        raise SchemaError(
            f"{path} has checkpoint version {meta.get('checkpoint_version')!r}; this neurobias reads {CHECKPOINT_VERSION}"
        )
    return arrays, meta

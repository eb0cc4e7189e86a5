"""NumPy ``.npz`` recordings (read without pickles)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from neurobias.errors import InputError
from neurobias.recordings.formats.arrays import recording_from_arrays

__all__ = ["load_npz"]


def load_npz(path: str | Path, **mapping: Any) -> xr.Dataset:
    """Read a recording from an ``.npz`` archive (``allow_pickle=False``).

    Parameters
    ----------
    path : path
    **mapping
        As for :func:`neurobias.recordings.load_recording`.

    Returns
    -------
    xarray.Dataset
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"file not found: {p}")
    try:
        with np.load(p, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except ValueError as exc:
        raise InputError(f"{p}: cannot read without pickles ({exc})") from None
    except OSError as exc:
        raise InputError(f"{p} is not a readable .npz file ({exc})") from None
    return recording_from_arrays(arrays, source=str(p), **mapping)

"""MATLAB ``.mat`` recordings (v5/v7, read with :func:`scipy.io.loadmat`)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import xarray as xr

from neurobias.errors import InputError
from neurobias.recordings.formats.arrays import recording_from_arrays

__all__ = ["load_mat"]


def load_mat(path: str | Path, **mapping: Any) -> xr.Dataset:
    """Read a recording from a MATLAB file.

    Parameters
    ----------
    path : path
    **mapping
        Which variables hold what and in which axis order, as for
        :func:`neurobias.recordings.load_recording` (``rate``, ``axes``, ``time``
        or ``bin_ms``, ``conditions``, ...).

    Returns
    -------
    xarray.Dataset
        The canonical recording.
    """
    import scipy.io

    p = Path(path)
    if not p.is_file():
        raise InputError(f"file not found: {p}")
    try:
        arrays = scipy.io.loadmat(str(p), squeeze_me=False)
    except NotImplementedError:
        raise InputError(f"{p} is a MATLAB v7.3 (HDF5) file; save it with -v7 or read it with h5py") from None
    except (ValueError, OSError, TypeError) as exc:
        raise InputError(f"{p} is not a readable MATLAB file ({exc})") from None
    return recording_from_arrays(arrays, source=str(p), **mapping)

"""The fingerprints of the package: sha256 of an array's values (or of a text), and of a file's bytes."""
from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from neurobias.errors import InputError

__all__ = ["sha256_array", "sha256_file"]


def sha256_array(a: Any) -> str:
    """SHA-256 fingerprint of an array's values (or of a text).

    An array is converted to little-endian float64 (``"<f8"``), made
    C-contiguous, and the hash is taken over those raw bytes: the canonical
    bytes of the array as a circuit file stores it.  The shape is *not*
    included (it is stored separately as the dimensions), so an array and its
    ravelled copy have the same fingerprint; the dtype and memory layout are
    irrelevant as long as the float64 values are equal (``-0.0`` and ``0.0``
    differ).  The frozen weights of a training run, the weights in
    ``circuit.nc``, tonic banks and recordings are all fingerprinted this way.
    A ``str`` is hashed as its UTF-8 bytes and ``bytes`` as they are (keys of
    settings and the like).

    Parameters
    ----------
    a : array_like, torch.Tensor, str or bytes
        Real numbers (numpy array, list, torch tensor on any device, or
        anything ``np.asarray`` takes), or a text.

    Returns
    -------
    str
        64 lowercase hex digits.

    Raises
    ------
    InputError
        If ``a`` is complex or not numeric.
    """
    if isinstance(a, str):
        a = a.encode("utf-8")
    if isinstance(a, bytes):
        return hashlib.sha256(a).hexdigest()
    if hasattr(a, "detach") and hasattr(a, "cpu"):  # a torch tensor, without importing torch
        a = a.detach().cpu().numpy()
    arr = np.asarray(a)
    if arr.dtype.kind == "c":
        raise InputError(f"`a` must be real; got a complex array of dtype {arr.dtype}")
    if arr.dtype.kind not in "biuf":
        raise InputError(f"`a` must be a numeric array; got dtype {arr.dtype}")
    return hashlib.sha256(np.ascontiguousarray(arr, dtype="<f8").tobytes(order="C")).hexdigest()


def sha256_file(path: Any, *, what: str = "file") -> str:
    """SHA-256 of a file's bytes, read in blocks of 1 MiB (the check of downloaded and user-supplied data files).

    Parameters
    ----------
    path : str or path-like
    what : str, keyword-only
        What the file is, named in errors (e.g. ``"idx file"``).

    Returns
    -------
    str
        64 lowercase hex digits.

    Raises
    ------
    InputError
        As :func:`neurobias.io.files.read_bytes`: the file is missing, a directory or unreadable.
    """
    from neurobias.io.files import check_readable

    p = check_readable(path, what=what)
    digest = hashlib.sha256()
    try:
        with open(p, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise InputError(f"cannot read {what} {p}: {exc.strerror or exc}") from None  # as read_bytes words it
    return digest.hexdigest()

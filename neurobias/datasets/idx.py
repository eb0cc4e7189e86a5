"""Readers (and a writer) for the idx files of the MNIST family: MNIST, Fashion-MNIST, KMNIST.

The idx format (LeCun et al., http://yann.lecun.com/exdb/mnist/): a 4-byte
magic number ``0x00 0x00 <type> <ndim>``, then ``ndim`` big-endian uint32
dimension sizes, then the values, big-endian, in C order.  Types:
``0x08`` uint8, ``0x09`` int8, ``0x0B`` int16, ``0x0C`` int32, ``0x0D``
float32, ``0x0E`` float64.  Files ending in ``.gz`` are gzip-compressed (as
distributed).  neurobias downloads nothing: point :func:`load_idx_dataset`
at a directory holding the four files of one data set (or set the
environment variable ``NEUROBIAS_<NAME>_DIR``, e.g. ``NEUROBIAS_MNIST_DIR``),
and give the sha256 of the files you expect to have them checked.
"""
from __future__ import annotations

import gzip
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from neurobias.datasets.base import Split
from neurobias.errors import InputError
from neurobias.io.files import atomic_write_bytes, read_bytes
from neurobias.io.hashing import sha256_file

__all__ = ["read_idx", "write_idx", "load_idx_dataset", "IDX_FILES", "idx_directory"]

_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8"),
}
_CODES: dict[str, int] = {"u1": 0x08, "i1": 0x09, "i2": 0x0B, "i4": 0x0C, "f4": 0x0D, "f8": 0x0E}

#: the four file names of an MNIST-family data set (each optionally with ``.gz``)
IDX_FILES: dict[str, str] = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an idx file (gzip-compressed when its name ends in ``.gz``).

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    ndarray
        Of the shape stored in the file, in native byte order (uint8 for
        images and labels of the MNIST family).

    Raises
    ------
    InputError
        If the file is missing, not gzip data when named ``.gz``, or not a
        valid idx file (bad magic number, unknown type, truncated data).
    """
    p = Path(path)
    data = read_bytes(p, what="idx file")
    if p.suffix == ".gz":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise InputError(f"idx file {p} ends in .gz but is not valid gzip data: {exc}") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise InputError(f"idx file {p} must start with the magic bytes 0x00 0x00; got {data[:4]!r}")
    code, ndim = data[2], data[3]
    if code not in _TYPES:
        raise InputError(
            f"idx file {p} has unknown type code {code:#04x}; expected one of "
            f"{', '.join(f'{c:#04x}' for c in _TYPES)}"
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise InputError(f"idx file {p} is truncated: its header announces {ndim} dimensions")
    shape = tuple(int(s) for s in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = _TYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) - header != expected:
        raise InputError(
            f"idx file {p} must hold {expected} bytes of data for shape {shape}; got {len(data) - header}"
        )
    values = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return values.astype(dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike, array: np.ndarray) -> Path:
    """Write ``array`` as an idx file, atomically (gzip-compressed when ``path`` ends in ``.gz``).

    Parameters
    ----------
    path : str or path-like
    array : ndarray
        Of dtype uint8, int8, int16, int32, float32 or float64, with 1 to 255 dimensions.

    Returns
    -------
    pathlib.Path
    """
    arr = np.asarray(array)
    key = arr.dtype.str[1:]
    if key not in _CODES:
        raise InputError(
            f"`array` must have dtype uint8, int8, int16, int32, float32 or float64 for idx; got {arr.dtype}"
        )
    if not 1 <= arr.ndim <= 255:
        raise InputError(f"`array` must have 1 to 255 dimensions for idx; got {arr.ndim}")
    header = bytes([0, 0, _CODES[key], arr.ndim]) + np.asarray(arr.shape, dtype=">u4").tobytes()
    payload = header + np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder(">")).tobytes()
    p = Path(path)
    if p.suffix == ".gz":
        payload = gzip.compress(payload, mtime=0)
    return atomic_write_bytes(p, payload)


def _find(directory: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz"):
        if (directory / name).is_file():
            return directory / name
    raise InputError(f"idx file {stem}[.gz] not found in {directory} (expected the MNIST-family file names)")


def idx_directory(name: str) -> Path:
    """The directory of the data set ``name`` given by the environment variable ``NEUROBIAS_<NAME>_DIR``.

    ``name`` is upper-cased with ``-`` turned into ``_`` (``fashion-mnist`` reads ``NEUROBIAS_FASHION_MNIST_DIR``).
    """
    var = "NEUROBIAS_" + name.upper().replace("-", "_") + "_DIR"
    value = os.environ.get(var)
    if not value:
        raise InputError(f"`directory` was not given and the environment variable {var} is not set; set it to the "
                         f"directory holding the four idx files of {name}")
    return Path(value)


def _check_sha256(path: Path, expected: str) -> None:
    digest = sha256_file(path, what="idx file")
    if digest != expected.lower():
        raise InputError(f"idx file {path} must have sha256 {expected.lower()}; got {digest}")


def load_idx_dataset(directory: str | os.PathLike | None = None, *, name: str = "mnist",
                     sha256: Mapping[str, str] | None = None) -> Split:
    """Load an MNIST-family data set from its four idx files.

    Parameters
    ----------
    directory : str or path-like
        Holds ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
        ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte`` (each
        possibly with ``.gz``), as MNIST, Fashion-MNIST and KMNIST are distributed.
        ``None``: the directory named by the environment variable
        ``NEUROBIAS_<NAME>_DIR`` (:func:`idx_directory`).
    name : str
        Name given to the :class:`Split` (and to the environment variable).
    sha256 : mapping of str to str, optional
        Expected sha256 (hex) of the files as stored (compressed where they
        end in ``.gz``), by key of :data:`IDX_FILES` (``x_train``, ``y_train``,
        ``x_test``, ``y_test``); each given one is checked before reading.

    Returns
    -------
    Split
        Images flattened row-major to (sample, height * width) and scaled from
        0..255 to [0, 1]; labels int64.
    """
    d = idx_directory(name) if directory is None else Path(directory)
    if not d.is_dir():
        raise InputError(f"`directory` must be an existing directory with idx files; got {d}")
    sha256 = dict(sha256 or {})
    unknown = sorted(set(sha256) - set(IDX_FILES))
    if unknown:
        raise InputError(f"`sha256` keys must be among {', '.join(IDX_FILES)}; got {', '.join(unknown)}")
    paths = {key: _find(d, stem) for key, stem in IDX_FILES.items()}
    for key, expected in sha256.items():
        _check_sha256(paths[key], expected)
    arrays = {key: read_idx(path) for key, path in paths.items()}
    for key in ("x_train", "x_test"):
        if arrays[key].ndim < 2:
            raise InputError(f"{IDX_FILES[key]} must hold images (sample, ...); got shape {arrays[key].shape}")
        arrays[key] = arrays[key].reshape(arrays[key].shape[0], -1).astype(np.float64) / 255.0
    for key in ("y_train", "y_test"):
        if arrays[key].ndim != 1:
            raise InputError(f"{IDX_FILES[key]} must hold labels (sample,); got shape {arrays[key].shape}")
        arrays[key] = arrays[key].astype(np.int64)
    return Split.make(name=name, **arrays)

"""Classification data sets for the feed-forward experiments (Williams et al. 2024 reproduction).

Offline sources (:func:`digits`, :func:`mnist1d`), tasks derived from them
(:func:`parity`, :func:`magnitude`, :func:`rotated`, :func:`permuted`), idx
readers for the MNIST family (:func:`read_idx`, :func:`load_idx_dataset`) and
:func:`load`, which builds a data set from its name (``"digits"``,
``"mnist1d"``, ``"digits-parity"``, ``"mnist1d-permuted"``, ...).

Public neural recordings: :func:`fetch` returns the checked file of a
registered recording (:data:`RECORDINGS`), downloaded once with pooch into
the user cache directory or read from the folder named by ``$NEUROBIAS_DATA``.
"""
from __future__ import annotations

from neurobias.datasets.base import Split
from neurobias.datasets.derived import DERIVATIONS, derive, magnitude, pad_features, parity, permuted, rotated
from neurobias.datasets.idx import IDX_FILES, load_idx_dataset, read_idx, write_idx
from neurobias.datasets.recordings import DATA_ENV, RECORDINGS, RecordingSource, fetch, local_data_dir
from neurobias.datasets.sources import digits, mnist1d
from neurobias.errors import InputError

__all__ = [
    "Split", "digits", "mnist1d", "parity", "magnitude", "rotated", "permuted", "pad_features", "derive",
    "DERIVATIONS", "read_idx", "write_idx", "load_idx_dataset", "IDX_FILES", "load", "SOURCES",
    "fetch", "RECORDINGS", "RecordingSource", "DATA_ENV", "local_data_dir",
]

SOURCES = {"digits": digits, "mnist1d": mnist1d}


def load(name: str, *, seed: int = 0) -> Split:
    """A data set by name: a source, optionally followed by ``-<derivation>``.

    Parameters
    ----------
    name : str
        ``"digits"`` or ``"mnist1d"``, e.g. ``"digits-parity"`` or
        ``"mnist1d-magnitude"``; ``rotated`` needs 8x8 images (digits only).
    seed : int
        Seed of the digits train/test split (MNIST-1D keeps its own seed, 42).
    """
    if not isinstance(name, str):
        raise InputError(f"`name` must be a data set name such as 'digits-parity'; got {name!r}")
    source, _, derivation = name.partition("-")
    if source not in SOURCES:
        raise InputError(f"`name` must start with one of {', '.join(SOURCES)}; got {name!r}")
    split = digits(seed=seed) if source == "digits" else mnist1d()
    return derive(split, derivation) if derivation else split

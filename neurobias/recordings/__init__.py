"""Neural recordings: the canonical Dataset, loaders, preprocessing and model-vs-data metrics.

The public names (imported lazily)::

    load_recording(path, ...)    NWB, .mat, .npz, netCDF -> canonical recording Dataset
    make_recording(rate, ...)    arrays -> canonical recording Dataset
    validate(recording)          check one
    preprocess                   binning, smoothing, alignment, trimming, averaging, normalising, PCA
    metrics                      R², CCA, shape distance, RSA, DSA, rotation strength (each with a null)
    set_design, make_design, read_design: the context x stimulus design of the conditions
    churchland2012, chewie2013, mante2013: public recordings (files from neurobias.datasets.fetch)
"""
from __future__ import annotations

import importlib
from typing import Any

_LAZY: dict[str, tuple[str, str]] = {
    "load_recording": ("neurobias.recordings.load", "load_recording"),
    "make_recording": ("neurobias.recordings.dataset", "make_recording"),
    "validate": ("neurobias.recordings.dataset", "validate"),
    "is_single_trial": ("neurobias.recordings.dataset", "is_single_trial"),
    "condition_names": ("neurobias.recordings.dataset", "condition_names"),
    "churchland2012": ("neurobias.recordings.shared", "churchland2012"),
    "chewie2013": ("neurobias.recordings.shared", "chewie2013"),
    "mante2013": ("neurobias.recordings.shared", "mante2013"),
    "set_design": ("neurobias.recordings.design", "set_design"),
    "make_design": ("neurobias.recordings.design", "make_design"),
    "read_design": ("neurobias.recordings.design", "read_design"),
}

__all__ = [*_LAZY, "preprocess", "metrics"]


def __getattr__(name: str) -> Any:
    if name in ("preprocess", "metrics"):
        return importlib.import_module(f"neurobias.recordings.{name}")
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'neurobias.recordings' has no attribute {name!r}")
    value = getattr(importlib.import_module(target[0]), target[1])
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

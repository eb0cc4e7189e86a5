"""The two public data sets in ``../shared/data/`` (never copied into the repository).

``NEUROBIAS_SHARED_DATA`` points elsewhere; by default the folder is
``shared/data`` beside the repository root (``../shared/data`` from it).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import xarray as xr

from neurobias.errors import InputError
from neurobias.recordings.load import load_recording

__all__ = ["shared_data_dir", "CHURCHLAND2012", "CHEWIE2013", "churchland2012", "chewie2013"]

CHURCHLAND2012 = "churchland2012_reach/exampleData.mat"
CHEWIE2013 = "chewie_m1_centerout/chewie_10032013_bin100ms.npz"


def shared_data_dir() -> Path:
    """The shared data folder: ``$NEUROBIAS_SHARED_DATA`` or ``<repo>/../shared/data``."""
    env = os.environ.get("NEUROBIAS_SHARED_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2].parent / "shared" / "data"


def _path(rel: str) -> Path:
    p = shared_data_dir() / rel
    if not p.is_file():
        raise InputError(f"shared data file not found: {p} (set NEUROBIAS_SHARED_DATA to the folder holding {rel})")
    return p


def churchland2012() -> xr.Dataset:
    """Condition-averaged motor cortex during reaching (Churchland et al. 2012), 10 conditions.

    Returns
    -------
    xarray.Dataset
        ``rate (condition, time, neuron)`` = (10, 61, 50), normalised and
        mean-centred as distributed, time -50..550 ms around movement onset.
    """
    return load_recording(
        _path(CHURCHLAND2012), rate="dataTensor", axes=("time", "neuron", "condition"), time="t",
        units="normalised",
        citation="Churchland et al. 2012, Nature 487:51-56; data via Elsayed & Cunningham 2017 (TME)",
        licence="GPL-3.0 (TME repository)",
    )


def chewie2013(*, allow_nan: bool = True) -> xr.Dataset:
    """Single trials of M1 during centre-out reaching to 8 targets (Dyer et al. 2017, monkey C).

    Returns
    -------
    xarray.Dataset
        ``rate (trial, time, neuron)`` = (159, 14, 174) in Hz, 100 ms bins
        (centres 50..1350 ms from the start of the movement epoch), NaN-padded
        after each trial's length; ``condition`` = target ``t0``..``t7``;
        ``behaviour_vel (trial, time, vel_dim0)``.
    """
    p = _path(CHEWIE2013)
    with np.load(p, allow_pickle=False) as z:
        target = z["target"]
        bin_ms = 1000.0 * float(z["bin_s"])
    labels = [f"t{int(k)}" for k in target]
    return load_recording(
        p, rate="rates_hz", axes=("trial", "time", "neuron"), bin_ms=bin_ms, t0_ms=bin_ms / 2, conditions=labels,
        lengths="lengths", behaviour={"vel": "vel"}, units="Hz", allow_nan=allow_nan,
        citation="Dyer et al. 2017, Nature Biomedical Engineering 1:967; data via myow-neuro",
        licence="Apache-2.0 (myow-neuro repository)",
    )

"""Two public recordings as canonical recording Datasets, their files from :func:`neurobias.datasets.fetch`.

The files are never part of the repository: :func:`~neurobias.datasets.fetch`
downloads them once into the user cache directory (checking their sha256),
or reads them from the folder named by ``$NEUROBIAS_DATA``.
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from neurobias.datasets import fetch
from neurobias.recordings.load import load_recording

__all__ = ["churchland2012", "chewie2013"]


def churchland2012() -> xr.Dataset:
    """Condition-averaged motor cortex during reaching (Churchland et al. 2012), 10 conditions.

    The file is ``fetch("churchland2012")`` (downloaded once, or read from ``$NEUROBIAS_DATA``).

    Returns
    -------
    xarray.Dataset
        ``rate (condition, time, neuron)`` = (10, 61, 50), normalised and
        mean-centred as distributed, time -50..550 ms around movement onset.
    """
    return load_recording(
        fetch("churchland2012"), rate="dataTensor", axes=("time", "neuron", "condition"), time="t",
        units="normalised",
        citation="Churchland et al. 2012, Nature 487:51-56; data via Elsayed & Cunningham 2017 (TME)",
        licence="GPL-3.0 (TME repository)",
    )


def chewie2013(*, allow_nan: bool = True) -> xr.Dataset:
    """Single trials of M1 during centre-out reaching to 8 targets (Dyer et al. 2017, monkey C).

    The file is ``fetch("chewie2013")``, which has no public download: it is read from ``$NEUROBIAS_DATA``.

    Returns
    -------
    xarray.Dataset
        ``rate (trial, time, neuron)`` = (159, 14, 174) in Hz, 100 ms bins
        (centres 50..1350 ms from the start of the movement epoch), NaN-padded
        after each trial's length; ``condition`` = target ``t0``..``t7``;
        ``behaviour_vel (trial, time, vel_dim0)``.
    """
    p = fetch("chewie2013")
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

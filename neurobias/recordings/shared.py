"""Public recordings as canonical recording Datasets, their files from :func:`neurobias.datasets.fetch`.

The files are never part of the repository: :func:`~neurobias.datasets.fetch`
downloads them once into the user cache directory (checking their sha256),
or reads them from the folder named by ``$NEUROBIAS_DATA``.
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from neurobias.datasets import fetch
from neurobias.recordings.load import load_recording

__all__ = ["churchland2012", "chewie2013", "mante2013"]


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


def mante2013() -> xr.Dataset:
    """Condition-averaged prefrontal units of Mante et al. (2013), with the context x stimulus design.

    20 units, 2 contexts (``color``, ``motion``) x 6 motion x 6 colour
    coherences, correct trials only, 15 bins of 50 ms (centres 125..825 ms
    after dots onset), rates in Hz. The file's context index 0 (task variable
    -1) is the colour context and 1 (+1) the motion context: correct-trial
    counts vary with colour coherence in the first and with motion coherence
    in the second. A condition in which some unit has no trial is dropped
    (listed in the attribute ``dropped_conditions``).

    Returns
    -------
    xarray.Dataset
        ``rate (condition, time, neuron)`` in Hz with the design
        (:mod:`neurobias.recordings.design`): inputs ``motion`` and ``color``
        (signed coherence, the median over sessions of each level), on
        throughout; ``n_trials (condition, neuron)``; ``rate_variance
        (condition, time, neuron)``: the variance of each average if spike
        counts are Poisson (``rate / (n_trials * bin width)``, Hz²).
    """
    from neurobias.recordings.dataset import make_recording
    from neurobias.recordings.design import set_design

    path = fetch("mante2013")
    with np.load(path, allow_pickle=False) as z:
        rate = np.asarray(z["cond_avg_ctx_motion_color_hz"], dtype=np.float64)  # unit, ctx, motion, color, time
        counts = np.asarray(z["counts_ctx_motion_color"], dtype=np.float64)
        t_s = np.asarray(z["bin_centers_s"], dtype=np.float64)
        names = [str(v) for v in z["unit_names"]]
        motion = np.median(z["motion_coh_levels"], axis=0)
        color = np.median(z["color_coh_levels"], axis=0)
    bin_s = float(np.round(t_s[1] - t_s[0], 6))
    rows, labels, stim, conds, n_tr, dropped = [], [], [], [], [], []
    for k, ctx in enumerate(("color", "motion")):
        for i, m in enumerate(motion):
            for j, c in enumerate(color):
                name = f"{ctx} m{m:+g} c{c:+g}"
                if np.any(counts[:, k, i, j] == 0) or np.isnan(rate[:, k, i, j]).any():
                    dropped.append(name)
                    continue
                rows.append(rate[:, k, i, j].T)
                n_tr.append(counts[:, k, i, j])
                labels.append(ctx)
                stim.append([m, c])
                conds.append(name)
    r = np.stack(rows)
    rec = make_recording(r, time=np.round(1000.0 * t_s, 6), conditions=conds, neurons=names, units="Hz",
                         source="mante2013_pfc/mante2013_subset_condavg.npz",
                         citation="Mante, Sussillo, Shenoy & Newsome 2013, Nature 503:78-84",
                         licence="as distributed with the shared data set")
    rec = set_design(rec, context=labels, stimulus=np.array(stim), inputs=("motion", "color"),
                     window=(0.0, 1000.0 * (t_s[-1] + bin_s)))
    n = np.stack(n_tr)
    rec["n_trials"] = (("condition", "neuron"), n, {"long_name": "correct trials averaged"})
    rec["rate_variance"] = (("condition", "time", "neuron"), r / (n[:, None, :] * bin_s),
                            {"long_name": "variance of the average if spike counts are Poisson", "units": "Hz^2"})
    rec.attrs["dropped_conditions"] = ", ".join(dropped)
    return rec

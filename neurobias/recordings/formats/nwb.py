"""NWB recordings (through pynwb): spike times of the units table binned around trial events."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from neurobias.errors import InputError
from neurobias.recordings.dataset import make_recording
from neurobias.recordings.preprocess import bin_spikes

__all__ = ["load_nwb"]


def load_nwb(
    path: str | Path,
    *,
    event: str = "start_time",
    conditions: str = "condition",
    window_ms: tuple[float, float] = (0.0, 500.0),
    bin_ms: float = 10.0,
    citation: str = "",
    licence: str = "",
) -> xr.Dataset:
    """Read single trials from an NWB file: units' spike times binned around a trial event.

    Parameters
    ----------
    path : path
    event : str
        Column of the trials table with the aligning event time, s (e.g.
        ``start_time`` or ``go_cue_time``).
    conditions : str
        Column of the trials table naming each trial's condition.
    window_ms : (float, float)
        Window around the event, ms.
    bin_ms : float
        Bin width, ms.
    citation, licence : str
        Provenance (the source is the path; the NWB ``session_description`` is
        kept as ``session_description``).

    Returns
    -------
    xarray.Dataset
        Single-trial recording ``rate (trial, time, neuron)`` in Hz, time
        relative to the event.

    Raises
    ------
    InputError
        File missing or unreadable, no units table, no trials table, or a
        missing column (the message lists the columns present).
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"file not found: {p}")
    import pynwb

    try:
        io = pynwb.NWBHDF5IO(str(p), mode="r")
        nwb = io.read()
    except Exception as exc:  # noqa: BLE001 - h5py/hdmf raise many types for bad files
        raise InputError(f"{p} is not a readable NWB file ({type(exc).__name__}: {exc})") from None
    try:
        if nwb.units is None:
            raise InputError(f"{p} has no units table (no spike times to bin); neurobias reads sorted units from NWB")
        if nwb.trials is None:
            raise InputError(f"{p} has no trials table (needed for `event` and `conditions`)")
        cols = list(nwb.trials.colnames) + ["start_time", "stop_time"]
        for what, col in (("event", event), ("conditions", conditions)):
            if col not in cols:
                raise InputError(f"{p}: the trials table has no column {col!r} (`{what}`); it has {sorted(set(cols))}")
        events_ms = 1000.0 * np.asarray(nwb.trials[event].data[:], dtype=np.float64)
        labels = [str(v) for v in nwb.trials[conditions].data[:]]
        n_units = len(nwb.units)
        if n_units == 0:
            raise InputError(f"{p}: the units table is empty")
        spikes = [1000.0 * np.asarray(nwb.units.get_unit_spike_times(i), dtype=np.float64) for i in range(n_units)]
        ids = [str(i) for i in nwb.units.id.data[:]]
        description = str(nwb.session_description)
    finally:
        io.close()
    rate, time = bin_spikes(spikes, event_times=events_ms, window_ms=window_ms, bin_ms=bin_ms)
    rec = make_recording(rate, time=time, conditions=labels, layout="trial", neurons=ids, units="Hz",
                         source=str(p), citation=citation, licence=licence)
    rec.attrs["session_description"] = description
    return rec

"""The canonical recording Dataset, its validator, the loaders (NWB, .mat, .npz, netCDF) and preprocessing."""
from __future__ import annotations

import datetime
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import xarray as xr

from neurobias.errors import InputError
from neurobias.recordings import load_recording, make_recording, validate
from neurobias.recordings import preprocess as P
from conftest import recording_path


def _rec(n_cond: int = 3, n_time: int = 12, n_neuron: int = 5, seed: int = 0) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    return make_recording(rng.normal(size=(n_cond, n_time, n_neuron)), time=10.0 * np.arange(n_time),
                          conditions=[f"c{i}" for i in range(n_cond)], units="normalised", source="test")


def _trials(n_per: int = 4, n_cond: int = 3, n_time: int = 8, n_neuron: int = 4, seed: int = 0) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    labels = [f"c{c}" for c in range(n_cond) for _ in range(n_per)]
    means = rng.normal(size=(n_cond, n_time, n_neuron))
    rate = np.stack([means[int(lab[1:])] + 0.1 * rng.normal(size=(n_time, n_neuron)) for lab in labels])
    return make_recording(rate, time=50.0 + 100.0 * np.arange(n_time), conditions=labels, layout="trial")


# ----------------------------------------------------------------------------- dataset
def test_make_recording_layouts_and_attributes() -> None:
    rec = _rec()
    assert rec["rate"].dims == ("condition", "time", "neuron")
    assert rec.attrs["units"] == "normalised" and rec.attrs["source"] == "test"
    tr = _trials()
    assert tr["rate"].dims == ("trial", "time", "neuron") and tr["condition"].dims == ("trial",)
    assert list(tr["condition"].values[:5]) == ["c0", "c0", "c0", "c0", "c1"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.drop_vars("rate"), "variable `rate`"),
        (lambda r: r.rename({"neuron": "cell"}), "dimensions"),
        (lambda r: r.assign_coords(time=np.r_[0.0, 5.0, 20.0, 10.0 * np.arange(3, 12)]), "evenly spaced"),
        (lambda r: r.assign_coords(time=-10.0 * np.arange(12)), "increasing"),
        (lambda r: r.assign(rate=r["rate"].where(r["time"] < 100)), "NaN"),
        (lambda r: r.assign_attrs(licence=None), "licence"),
        (lambda r: r.assign_coords(neuron=["a", "a", "b", "c", "d"]), "unique"),
        (lambda r: r.assign(rate=r["rate"] * np.inf), "infinite"),
    ],
)
def test_validate_names_the_problem(change, message) -> None:
    with pytest.raises(InputError, match=message):
        validate(change(_rec()))


def test_validate_min_conditions() -> None:
    rec = _rec(n_cond=1)
    validate(rec)
    with pytest.raises(InputError, match="at least 2 conditions; got 1"):
        validate(rec, min_conditions=2)


def test_make_recording_errors() -> None:
    with pytest.raises(InputError, match=r"one entry per time bin of `rate` \(12\); got 5"):
        make_recording(np.zeros((2, 12, 3)), time=np.arange(5), conditions=["a", "b"])
    with pytest.raises(InputError, match="one entry per trial"):
        make_recording(np.zeros((4, 12, 3)), time=np.arange(12), conditions=["a", "b"], layout="trial")
    with pytest.raises(InputError, match="shape"):
        make_recording(np.zeros((12, 3)), time=np.arange(12), conditions=["a"])


# ----------------------------------------------------------------------------- loaders
def test_mat_loader_axis_order_round_trip(tmp_path: Path) -> None:
    rec = _rec(n_cond=3, n_time=7, n_neuron=4)
    tensor = rec["rate"].transpose("time", "neuron", "condition").values
    scipy.io.savemat(tmp_path / "x.mat", {"dataTensor": tensor, "t": rec["time"].values[:, None] / 1000.0})
    got = load_recording(tmp_path / "x.mat", rate="dataTensor", axes=("time", "neuron", "condition"), time="t",
                         time_scale=1000.0, conditions=["c0", "c1", "c2"], units="normalised")
    np.testing.assert_array_equal(got["rate"].values, rec["rate"].values)
    np.testing.assert_allclose(got["time"].values, rec["time"].values)
    assert got.attrs["source"].endswith("x.mat")


def test_mat_loader_errors(tmp_path: Path) -> None:
    scipy.io.savemat(tmp_path / "x.mat", {"dataTensor": np.zeros((7, 4, 3)), "t": np.arange(7)[:, None]})
    with pytest.raises(InputError, match=r"no variable 'rates'.*'dataTensor'"):
        load_recording(tmp_path / "x.mat", rate="rates", axes=("time", "neuron", "condition"), time="t")
    with pytest.raises(InputError, match="is `axes` the right order"):
        load_recording(tmp_path / "x.mat", rate="dataTensor", axes=("neuron", "time", "condition"), time="t")
    with pytest.raises(InputError, match="permutation"):
        load_recording(tmp_path / "x.mat", rate="dataTensor", axes=("time", "time", "condition"), time="t")
    with pytest.raises(InputError, match="file not found"):
        load_recording(tmp_path / "missing.mat", rate="dataTensor", axes=("time", "neuron", "condition"))
    with pytest.raises(InputError, match=r"needs \['axes'\]"):
        load_recording(tmp_path / "x.mat", rate="dataTensor")
    (tmp_path / "bad.mat").write_bytes(b"not a mat file at all" * 10)
    with pytest.raises(InputError, match="not a readable MATLAB file"):
        load_recording(tmp_path / "bad.mat", rate="dataTensor", axes=("time", "neuron", "condition"), time="t")


def test_npz_loader_padding_and_lengths(tmp_path: Path) -> None:
    rate = np.ones((4, 6, 3))
    rate[1, 4:] = np.nan
    rate[3, 5:] = np.nan
    np.savez(tmp_path / "x.npz", r=rate, lengths=np.array([6, 4, 6, 5]), target=np.array([0, 0, 1, 1]))
    kw = dict(rate="r", axes=("trial", "time", "neuron"), bin_ms=100.0, conditions="target")
    with pytest.raises(InputError, match="NaN"):
        load_recording(tmp_path / "x.npz", **kw, lengths="lengths")
    rec = load_recording(tmp_path / "x.npz", **kw, lengths="lengths", allow_nan=True)
    assert np.isnan(rec["rate"].values[1, 4:]).all() and not np.isnan(rec["rate"].values[0]).any()
    with pytest.raises(InputError, match="has 3 entries but 'r' has 4 trials"):
        np.savez(tmp_path / "y.npz", r=rate, lengths=np.array([6, 4, 6]), target=np.array([0, 0, 1, 1]))
        load_recording(tmp_path / "y.npz", **kw, lengths="lengths", allow_nan=True)
    with pytest.raises(InputError, match="`conditions` has 2 entries"):
        np.savez(tmp_path / "z.npz", r=np.ones((4, 6, 3)), target=np.array([0, 1]))
        load_recording(tmp_path / "z.npz", **kw)
    with pytest.raises(InputError, match="need `conditions`"):
        load_recording(tmp_path / "x.npz", rate="r", axes=("trial", "time", "neuron"), bin_ms=100.0)


def test_netcdf_round_trip(tmp_path: Path) -> None:
    from neurobias.io import write_dataset

    rec = _trials()
    write_dataset(rec, tmp_path / "rec.nc", kind="recording")
    got = load_recording(tmp_path / "rec.nc")
    xr.testing.assert_identical(got["rate"], rec["rate"])
    assert got.attrs["kind"] == "recording"
    # a plain netCDF without provenance attributes gets empty ones
    plain = rec.copy()
    plain.attrs = {}
    plain.to_netcdf(tmp_path / "plain.nc", engine="h5netcdf")
    got2 = load_recording(tmp_path / "plain.nc")
    assert got2.attrs["citation"] == "" and got2.attrs["source"].endswith("plain.nc")
    (tmp_path / "bad.nc").write_bytes(b"\x89HDF garbage")
    with pytest.raises(InputError, match="not a readable netCDF4"):
        load_recording(tmp_path / "bad.nc")


def _write_nwb(path: Path, *, units: bool = True) -> dict[str, np.ndarray]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pynwb deprecation chatter while *writing* the fixture
        from pynwb import NWBHDF5IO, NWBFile

        nwb = NWBFile(session_description="tiny test session", identifier="t1",
                      session_start_time=datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc))
        nwb.add_trial_column(name="target", description="reach target")
        starts = np.array([1.0, 3.0, 5.0, 7.0])
        for i, s in enumerate(starts):
            nwb.add_trial(start_time=s, stop_time=s + 1.0, target=f"t{i % 2}")
        spikes = {0: np.array([1.005, 1.015, 1.016, 3.2, 5.05, 7.3]), 1: np.array([3.001, 3.011, 7.099])}
        if units:
            for k, sp in spikes.items():
                nwb.add_unit(spike_times=sp)
        with NWBHDF5IO(str(path), "w") as io:
            io.write(nwb)
    return {"starts": starts}


def test_nwb_loader_bins_spikes(tmp_path: Path) -> None:
    _write_nwb(tmp_path / "x.nwb")
    rec = load_recording(tmp_path / "x.nwb", event="start_time", conditions="target", window_ms=(0.0, 100.0),
                         bin_ms=10.0)
    assert rec["rate"].shape == (4, 10, 2)
    np.testing.assert_allclose(rec["time"].values, 5.0 + 10.0 * np.arange(10))
    counts = rec["rate"].values * 0.01
    # unit 0: trial 0 spikes at 5, 15, 16 ms -> bins 0, 1, 1; trial 2 at 50 ms -> bin 5
    np.testing.assert_allclose(counts[0, :, 0], [1, 2, 0, 0, 0, 0, 0, 0, 0, 0])
    np.testing.assert_allclose(counts[2, :, 0], [0, 0, 0, 0, 0, 1, 0, 0, 0, 0])
    np.testing.assert_allclose(counts[1, :, 1], [1, 1, 0, 0, 0, 0, 0, 0, 0, 0])
    np.testing.assert_allclose(counts[3, :, 1], [0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
    assert list(rec["condition"].values) == ["t0", "t1", "t0", "t1"]
    assert rec.attrs["units"] == "Hz"


def test_nwb_errors(tmp_path: Path) -> None:
    _write_nwb(tmp_path / "nounits.nwb", units=False)
    with pytest.raises(InputError, match="has no units table"):
        load_recording(tmp_path / "nounits.nwb", conditions="target")
    _write_nwb(tmp_path / "x.nwb")
    with pytest.raises(InputError, match="no column 'go_cue'"):
        load_recording(tmp_path / "x.nwb", event="go_cue", conditions="target")
    with pytest.raises(InputError, match="cannot tell the format"):
        load_recording(tmp_path / "x.txt")
    with pytest.raises(InputError, match=r"option\(s\) \['rate'\] do not apply to nwb files"):
        load_recording(tmp_path / "x.nwb", rate="r")
    (tmp_path / "bad.nwb").write_bytes(b"not an HDF5 file")
    with pytest.raises(InputError, match="not a readable NWB file"):
        load_recording(tmp_path / "bad.nwb", conditions="target")


# ----------------------------------------------------------------------------- preprocessing
def test_bin_spikes_counts_and_errors() -> None:
    rate, t = P.bin_spikes([np.array([0.5, 1.5, 1.6, 30.0])], event_times=[0.0, 1.0], window_ms=(0.0, 3.0), bin_ms=1.0)
    np.testing.assert_allclose(rate[:, :, 0] / 1000.0, [[1, 2, 0], [2, 0, 0]])
    np.testing.assert_allclose(t, [0.5, 1.5, 2.5])
    with pytest.raises(InputError, match="whole number of bins"):
        P.bin_spikes([np.zeros(1)], event_times=[0.0], window_ms=(0.0, 2.5), bin_ms=1.0)


def test_smooth_keeps_constants_and_spreads_impulses() -> None:
    rec = _rec(n_cond=2, n_time=21, n_neuron=1)
    const = rec.assign(rate=rec["rate"] * 0 + 3.0)
    np.testing.assert_allclose(P.smooth(const, sigma_ms=20.0)["rate"].values, 3.0)
    imp = np.zeros((2, 21, 1))
    imp[:, 10] = 1.0
    out = P.smooth(rec.assign(rate=(rec["rate"].dims, imp)), sigma_ms=10.0)["rate"].values[0, :, 0]
    assert out.argmax() == 10 and np.isclose(out.sum(), 1.0) and np.isclose(out[9], out[11])


def test_trim_and_condition_average_never_average_padding() -> None:
    rec = _trials(n_per=2, n_cond=2, n_time=6)
    rate = rec["rate"].values.copy()
    rate[1, 4:] = np.nan
    rate[3, 5:] = np.nan
    padded = rec.assign(rate=(rec["rate"].dims, rate))
    with pytest.raises(InputError, match="NaN"):
        P.condition_average(padded)
    trimmed = P.trim_trials(padded)
    assert trimmed.sizes["time"] == 4 and not np.isnan(trimmed["rate"].values).any()
    masked = P.condition_average(padded, nan="mask", min_trials=1)
    assert masked.sizes["time"] == 6
    np.testing.assert_allclose(masked["rate"].values[0, 5], rate[0, 5])  # only the trial with data there
    np.testing.assert_allclose(masked["n_trials"].values[:, 4:], [[1, 1], [2, 1]])
    cut = P.condition_average(padded, nan="mask", min_trials=2)
    assert cut.sizes["time"] == 4
    inside = rate.copy()
    inside[0, 2] = np.nan
    with pytest.raises(InputError, match="inside its data"):
        P.trim_trials(rec.assign(rate=(rec["rate"].dims, inside)))


def test_align_to_event_shifts_whole_bins() -> None:
    rec = _trials(n_per=1, n_cond=2, n_time=6)
    out = P.align_to_event(rec, event_ms=[250.0, 350.0], window_ms=(-100.0, 100.0))
    np.testing.assert_allclose(out["time"].values, [-100.0, 0.0, 100.0])
    np.testing.assert_allclose(out["rate"].values[0], rec["rate"].values[0, 1:4])
    np.testing.assert_allclose(out["rate"].values[1], rec["rate"].values[1, 2:5])
    late = P.align_to_event(rec, event_ms=[550.0, 350.0], window_ms=(-100.0, 100.0))
    assert np.isnan(late["rate"].values[0, 2]).all()


def test_soft_normalize_mean_center_pca() -> None:
    rec = _rec(n_cond=4, n_time=10, n_neuron=6)
    hz = rec.assign(rate=rec["rate"] * 10 + 20)
    sn = P.soft_normalize(hz, soft=5.0)
    span = hz["rate"].max(("condition", "time")) - hz["rate"].min(("condition", "time"))
    np.testing.assert_allclose(sn["rate"].values, (hz["rate"] / (span + 5.0)).values)
    assert sn.attrs["units"] == "normalised"
    mc = P.mean_center(hz)
    np.testing.assert_allclose(mc["rate"].mean("condition").values, 0.0, atol=1e-12)
    full = P.pca_denoise(hz, n_components=6)
    np.testing.assert_allclose(full["rate"].values, hz["rate"].values, atol=1e-10)
    one = P.pca_denoise(hz, n_components=1)["rate"].values.reshape(-1, 6)
    assert np.linalg.matrix_rank(one - one.mean(0), tol=1e-8) == 1
    with pytest.raises(InputError, match=r"`n_components` must be an int in \[1, 6\]"):
        P.pca_denoise(hz, n_components=7)


def test_split_halves_partition_each_condition() -> None:
    rec = _trials(n_per=5, n_cond=3)
    a, b = P.split_halves(rec, seed=1)
    assert set(a["trial"].values) | set(b["trial"].values) == set(rec["trial"].values)
    assert not set(a["trial"].values) & set(b["trial"].values)
    assert [int((a["condition"] == c).sum()) for c in ("c0", "c1", "c2")] == [3, 3, 3]
    a2, _ = P.split_halves(rec, seed=1)
    np.testing.assert_array_equal(a["trial"].values, a2["trial"].values)
    with pytest.raises(InputError, match="single trials"):
        P.split_halves(_rec())


# ----------------------------------------------------------------------------- public recordings
_CHURCHLAND = recording_path("churchland2012")
_CHEWIE = recording_path("chewie2013")
_NO_DATA = "the recording is not in $NEUROBIAS_DATA (the tests never download it)"


@pytest.mark.skipif(_CHURCHLAND is None, reason=_NO_DATA)
def test_churchland2012_loads() -> None:
    from neurobias.recordings import churchland2012

    rec = churchland2012()
    assert rec["rate"].shape == (10, 61, 50)
    np.testing.assert_allclose(rec["time"].values[[0, -1]], [-50.0, 550.0])
    assert "Churchland" in rec.attrs["citation"]


@pytest.mark.skipif(_CHEWIE is None, reason=_NO_DATA)
def test_chewie2013_padding_matches_lengths() -> None:
    from neurobias.recordings import chewie2013

    rec = chewie2013()
    assert rec["rate"].shape == (159, 14, 174)
    with np.load(_CHEWIE) as z:
        lengths, cond_avg = z["lengths"], z["cond_avg_rates_hz"]
    valid = ~np.isnan(rec["rate"].values).any(axis=2)
    np.testing.assert_array_equal(valid.sum(axis=1), lengths)
    avg = P.condition_average(P.trim_trials(rec))
    order = [f"t{k}" for k in range(8)]
    np.testing.assert_allclose(avg["rate"].sel(condition=order).values, cond_avg, rtol=1e-5, atol=1e-4)


def test_loaders_read_the_folder_named_by_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from neurobias.recordings import chewie2013, churchland2012

    monkeypatch.setenv("NEUROBIAS_DATA", str(tmp_path))
    with pytest.raises(InputError, match=r"recording 'churchland2012' not found: .*churchland2012_reach/exampleData\.mat"):
        churchland2012()
    with pytest.raises(InputError, match=r"recording 'chewie2013' not found: .*NEUROBIAS_DATA"):
        chewie2013()

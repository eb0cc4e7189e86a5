"""Sweeps: grids, cell records, failures, restarts and open_sweep (in process, scheduler ``sync``).

The Dask schedulers (a real ``dask scheduler`` with two ``dask worker``
processes, a worker killed mid-sweep, a sweep killed with SIGKILL) are in
``tests/test_sweep_dask.py``.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from neurobias.config import load_config
from neurobias.errors import ConfigError, InputError
from neurobias.sweep import (
    expand_grid,
    load_sweep_config,
    merge_grids,
    metric_over_grid,
    open_sweep,
    parse_grid_option,
    run_sweep,
)
from neurobias.sweep.store import cells_dir, read_record

GRID = {"circuit.g": [1.0, 1.5], "seed": [1, 2]}


@pytest.fixture
def base(tiny_config: Path):
    return load_config(tiny_config)


# --------------------------------------------------------------------------- grids
def test_parse_grid_option_reads_toml_literals_and_keeps_lists_whole():
    assert parse_grid_option("circuit.g=1.0,1.5,2") == ("circuit.g", (1.0, 1.5, 2))
    assert parse_grid_option("circuit.phi=tanh,relu") == ("circuit.phi", ("tanh", "relu"))
    assert parse_grid_option("task.frequencies_hz=[1.0, 2.0],[3.0]") == (
        "task.frequencies_hz", ([1.0, 2.0], [3.0]))
    assert parse_grid_option('output.figures=true,false') == ("output.figures", (True, False))


@pytest.mark.parametrize("text, match", [
    ("circuit.g", "key=v1,v2"),
    ("=1,2", "no key"),
    ("circuit.g=1,,2", "empty value"),
    ("circuit.g=1.0,1.0", "twice"),
])
def test_parse_grid_option_errors_name_the_option(text, match):
    with pytest.raises(InputError, match=match):
        parse_grid_option(text)


def test_expand_grid_is_the_cartesian_product_with_the_last_key_fastest():
    cells = expand_grid({"a.x": [1, 2, 3], "b.y": ["u", "v"]})
    assert [c.name for c in cells] == [f"c{i:04d}" for i in range(6)]
    assert [dict(c.values) for c in cells][:3] == [{"a.x": 1, "b.y": "u"}, {"a.x": 1, "b.y": "v"},
                                                   {"a.x": 2, "b.y": "u"}]
    assert cells[5].position == (2, 1)
    assert cells[1].overrides() == ["a.x=1", 'b.y="v"']


def test_merge_grids_later_values_win_and_order_is_kept():
    merged = merge_grids({"a": [1], "b": [2]}, {"a": [3, 4], "c": [5]})
    assert merged == {"a": (3, 4), "b": (2,), "c": (5,)}
    assert list(merged) == ["a", "b", "c"]


def test_unknown_grid_key_is_refused_before_any_work(base, tmp_path):
    with pytest.raises(ConfigError, match=r"unknown grid key `circuit\.gain`.*valid keys of \[circuit\]"):
        run_sweep(base, {"circuit.gain": [1.0]}, out=tmp_path / "s", scheduler="sync", progress=False)
    with pytest.raises(ConfigError, match="section among"):
        run_sweep(base, {"gain": [1.0]}, out=tmp_path / "s", scheduler="sync", progress=False)
    assert not (tmp_path / "s").exists()


def test_bad_scheduler_workers_and_device_are_input_errors(base, tmp_path):
    for kwargs, match in [({"scheduler": "mpi"}, "scheduler"), ({"scheduler": "tcp://"}, "scheduler"),
                          ({"workers": 0}, "workers"), ({"device": "tpu"}, "device")]:
        with pytest.raises(InputError, match=match):
            run_sweep(base, GRID, out=tmp_path / "s", progress=False, **kwargs)


# --------------------------------------------------------------------------- running, failures, restarts
def test_sweep_runs_every_cell_and_open_sweep_has_the_grid_as_dims(base, tmp_path):
    out = run_sweep(base, GRID, out=tmp_path / "s", scheduler="sync", progress=False)
    assert list(out.records) == ["c0000", "c0001", "c0002", "c0003"] and out.failed == ()
    assert sorted(out.ran) == list(out.records) and out.skipped == ()
    ds = open_sweep(tmp_path / "s")
    assert ds["nmse"].dims == ("circuit.g", "seed", "context")
    assert ds["circuit.g"].values.tolist() == [1.0, 1.5] and ds["seed"].values.tolist() == [1, 2]
    assert ds.attrs["n_ok"] == 4 and ds.attrs["n_failed"] == 0 and json.loads(ds.attrs["errors"]) == {}
    assert (ds["status"] == "ok").all()
    # every cell is the run of its own config: same numbers as reading that cell's results.nc
    from neurobias.io import open_results

    res = open_results(cells_dir(tmp_path / "s") / "c0002" / "results.nc")  # g = 1.5, seed = 1
    np.testing.assert_array_equal(ds["nmse"].sel({"circuit.g": 1.5, "seed": 1}).values, res["nmse"].values)
    np.testing.assert_array_equal(ds["tonic"].sel({"circuit.g": 1.5, "seed": 1}).values, res["tonic"].values)
    from neurobias.config import config_from_toml

    cell_config = config_from_toml(res.attrs["config"])
    assert cell_config.circuit.g == 1.5 and cell_config.seed == 1 and cell_config.training == base.training
    assert ds["final_loss"].sel({"circuit.g": 1.5, "seed": 1}) == res["loss"].values[-1]
    # different seeds and gains give different circuits, hence different results
    assert len({float(v) for v in ds["final_loss"].values.ravel()}) == 4


def test_failing_cells_are_recorded_and_do_not_stop_the_others(base, tmp_path, monkeypatch):
    import neurobias.workflows.run as runner

    real_run = runner.run

    def flaky_run(config, **kwargs):
        if config.seed == 2 and config.circuit.g == 1.0:
            raise RuntimeError("boom in the cell")
        return real_run(config, **kwargs)

    monkeypatch.setattr(runner, "run", flaky_run)
    grid = {"circuit.g": [1.0, -1.0, 1.5], "seed": [1, 2]}  # g = -1 is an invalid config
    out = run_sweep(base, grid, out=tmp_path / "s", scheduler="sync", progress=False)
    assert set(out.failed) == {"c0001", "c0002", "c0003"}
    assert out.records["c0001"].error == "RuntimeError: boom in the cell"
    assert "boom in the cell" in out.records["c0001"].traceback
    assert out.records["c0002"].error.startswith("ConfigError: config key `circuit.g` must be")
    ds = open_sweep(tmp_path / "s")
    assert ds.attrs["n_ok"] == 3 and ds.attrs["n_failed"] == 3
    errors = json.loads(ds.attrs["errors"])
    assert set(errors) == {"c0001", "c0002", "c0003"} and errors["c0001"] == "RuntimeError: boom in the cell"
    failed = ds.sel({"circuit.g": -1.0})
    assert np.isnan(failed["nmse"]).all() and np.isnan(failed["final_loss"]).all()
    assert (failed["status"] == "failed").all() and all("circuit.g" in e for e in failed["error"].values)
    assert np.isfinite(ds["nmse"].sel({"circuit.g": 1.5})).all()
    assert not (cells_dir(tmp_path / "s") / "c0001" / "results.nc").exists()
    # a failed cell stays failed on restart, unless asked to retry
    monkeypatch.setattr(runner, "run", real_run)
    again = run_sweep(base, grid, out=tmp_path / "s", scheduler="sync", progress=False)
    assert again.ran == () and set(again.failed) == {"c0001", "c0002", "c0003"}
    retried = run_sweep(base, grid, out=tmp_path / "s", scheduler="sync", progress=False, retry_failed=True)
    assert sorted(retried.ran) == ["c0001", "c0002", "c0003"]
    assert set(retried.failed) == {"c0002", "c0003"}  # the invalid configs fail again; the flaky one now runs


def test_every_cell_invalid_is_a_config_error(base, tmp_path):
    with pytest.raises(ConfigError, match="no cell of the grid has a valid config"):
        run_sweep(base, {"circuit.g": [-1.0, -2.0]}, out=tmp_path / "s", scheduler="sync", progress=False)


def test_restart_skips_finished_cells_and_redoes_unfinished_ones(base, tmp_path):
    out_dir = tmp_path / "s"
    run_sweep(base, GRID, out=out_dir, scheduler="sync", progress=False)
    cells = cells_dir(out_dir)
    stamp = {p.name: (p / "cell.json").stat().st_mtime_ns for p in cells.iterdir()}
    # simulate an interrupted sweep: one cell never committed, one attempt left half-written
    import shutil

    shutil.rmtree(cells / "c0003")
    (cells / ".c0003.tmp-deadbeef0000").mkdir()
    (cells / ".c0003.tmp-deadbeef0000" / "results.nc").write_bytes(b"partial")
    again = run_sweep(base, GRID, out=out_dir, scheduler="sync", progress=False)
    assert again.ran == ("c0003",) and again.skipped == ("c0000", "c0001", "c0002")
    for name in again.skipped:
        assert (cells / name / "cell.json").stat().st_mtime_ns == stamp[name]
    assert sorted(p.name for p in cells.iterdir()) == ["c0000", "c0001", "c0002", "c0003"]
    assert read_record(out_dir, "c0003").status == "ok"


def test_a_sweep_directory_of_another_grid_or_config_is_refused(base, tmp_path):
    run_sweep(base, {"seed": [1]}, out=tmp_path / "s", scheduler="sync", progress=False)
    with pytest.raises(InputError, match="another grid"):
        run_sweep(base, {"seed": [1, 2]}, out=tmp_path / "s", scheduler="sync", progress=False)
    from neurobias.config import apply_overrides

    with pytest.raises(InputError, match="another base config"):
        run_sweep(apply_overrides(base, ["training.lr=0.5"]), {"seed": [1]}, out=tmp_path / "s", scheduler="sync",
              progress=False)


def test_open_sweep_of_a_partial_sweep_marks_pending_cells(base, tmp_path):
    run_sweep(base, GRID, out=tmp_path / "s", scheduler="sync", progress=False)
    import shutil

    shutil.rmtree(cells_dir(tmp_path / "s") / "c0000")
    ds = open_sweep(tmp_path / "s")
    assert ds["status"].values.tolist() == [["pending", "ok"], ["ok", "ok"]]
    assert ds.attrs["n_pending"] == 1 and np.isnan(ds["nmse"].values[0, 0]).all()
    with pytest.raises(InputError, match="not a sweep directory"):
        open_sweep(tmp_path)


def test_metric_over_grid_averages_the_other_keys(base, tmp_path):
    run_sweep(base, {"circuit.g": [1.0, 1.5], "seed": [1, 2], "training.lr": [0.02, 0.04]}, out=tmp_path / "s",
          scheduler="sync", progress=False)
    ds = open_sweep(tmp_path / "s")
    da = metric_over_grid(ds, "final_loss", x="seed")
    assert da.dims == ("seed", "circuit.g") and "training.lr" in da.attrs["averaged_over"]
    np.testing.assert_allclose(da.values, ds["final_loss"].mean("training.lr").transpose("seed", "circuit.g"))
    one = metric_over_grid(ds, "nmse", context="sine_40Hz")
    np.testing.assert_allclose(one.values, ds["nmse"].sel(context="sine_40Hz").mean("training.lr"))
    with pytest.raises(InputError, match="`metric` must be one of"):
        metric_over_grid(ds, "accuracy")
    with pytest.raises(InputError, match="`x` must be a grid key"):
        metric_over_grid(ds, "nmse", x="circuit.tau")


# --------------------------------------------------------------------------- config files and the CLI
SWEEP_TABLE = """
[sweep]
scheduler = "sync"
workers = 1

[sweep.grid]
"circuit.g" = [1.0, 1.5]
"""


def test_the_sweep_table_is_read_by_sweep_and_skipped_by_run(tiny_config):
    tiny_config.write_text(tiny_config.read_text() + SWEEP_TABLE)
    config, settings = load_sweep_config(tiny_config)
    assert settings.grid == {"circuit.g": (1.0, 1.5)} and settings.scheduler == "sync" and settings.workers == 1
    assert load_config(tiny_config) == config  # `neurobias run` takes the same file
    tiny_config.write_text(tiny_config.read_text() + "\n[sweep.extra]\nx = 1\n")
    with pytest.raises(ConfigError, match="unknown config key `sweep.extra`"):
        load_sweep_config(tiny_config)


def test_cli_sweep_and_sweep_report(tiny_config, tmp_path, run_cli):
    tiny_config.write_text(tiny_config.read_text() + SWEEP_TABLE)
    out = tmp_path / "s"
    rc, stdout, stderr = run_cli(["sweep", tiny_config, "--grid", "seed=3,4", "--out", out, "--no-progress",
                                  "--set", "training.steps=3"])
    assert rc == 0, stderr
    assert "4 cells; 4 run now, 0 finished before; 4 ok, 0 failed" in stdout
    ds = open_sweep(out)
    assert ds["status"].dims == ("circuit.g", "seed") and ds.attrs["n_ok"] == 4
    assert (ds["steps_done"] == 3).all()
    rc, stdout, stderr = run_cli(["sweep-report", out, "--metric", "final_loss", "--x", "seed"])
    assert rc == 0, stderr
    png = out / "figures" / "sweep_final_loss.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"figure: {png}" in stdout and "4 ok, 0 failed" in stdout


@pytest.mark.parametrize("argv, match", [
    (["--grid", "circuit.g"], "--grid must look like key=v1,v2"),
    (["--grid", "circuit.gain=1,2"], "unknown grid key `circuit.gain`"),
    (["--grid", "seed=1", "--grid", "seed=2"], "given twice"),
    ([], "give at least one --grid"),
    (["--grid", "seed=1", "--scheduler", "mpi"], "`scheduler` must be"),
])
def test_cli_sweep_errors_are_one_line(tiny_config, tmp_path, run_cli, argv, match):
    rc, stdout, stderr = run_cli(["sweep", tiny_config, "--out", tmp_path / "s", *argv])
    assert rc == 2 and stderr.count("\n") == 1 and stderr.startswith("neurobias: error: ")
    assert match in stderr


def test_cli_sweep_report_of_a_missing_sweep(tmp_path, run_cli):
    rc, _, stderr = run_cli(["sweep-report", tmp_path])
    assert rc == 2 and "not a sweep directory" in stderr


def test_plot_sweep_metric_draws_a_line_over_one_key_and_marks_failed_cells():
    import xarray as xr

    from neurobias.plotting.sweep import plot_sweep_metric

    da = xr.DataArray([0.5, np.nan, 0.2], dims=["circuit.g"], coords={"circuit.g": [1.0, 1.5, 2.0]},
                      attrs={"metric": "nmse", "averaged_over": "context", "context": ""})
    ax = plot_sweep_metric(da)
    (line,) = ax.get_lines()
    np.testing.assert_array_equal(line.get_ydata(), [0.5, np.nan, 0.2])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "1.5", "2"]
    assert [t.get_text() for t in ax.texts] == ["failed"]
    assert ax.get_xlabel() == "circuit.g" and ax.get_title() == "nmse (mean over context)"
    with pytest.raises(InputError, match="one or two grid keys"):
        plot_sweep_metric(xr.DataArray(np.zeros((2, 2, 2)), dims=["a", "b", "c"]))

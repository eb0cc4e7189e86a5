"""Run directories that cannot mislead, and messages that say what was passed and what is expected.

* ``neurobias run`` into a directory that already holds a run refuses (one line naming ``--resume`` and
  ``--overwrite``, exit 2, nothing changed); ``--overwrite`` removes every file of the old run, its analyses
  and its report included, and lists the files it kept; ``--resume`` continues the run.
* A file passed where a run directory is expected, ``--device cuda`` on a CPU-only build of torch, and
  ``neurobias info`` on a file that is not netCDF/HDF5 each give one line saying what came and what is expected.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import torch

import neurobias as nb
from neurobias.errors import InputError
from neurobias.workflows.rundir import RUN_PRODUCTS, RunDir

SETS = ["--no-progress", "--set", "training.steps=3"]


def _snapshot(d: Path) -> dict[str, str]:
    """Every file under ``d`` (relative path) with the sha256 of its bytes."""
    return {str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(d.rglob("*")) if p.is_file()}


@pytest.fixture
def analysed_run(tiny_config: Path, tmp_path: Path, run_cli) -> Path:
    """A tiny run with figures, its fixed points, comparison and report, and one file of the user's."""
    out = tmp_path / "run"
    rc, _, err = run_cli(["run", tiny_config, "--out", out, *SETS, "--set", "output.figures=true"])
    assert rc == 0, err
    for argv in (["fixed-points", out, "--candidates", "8"], ["compare-contexts", out], ["report", out]):
        rc, _, err = run_cli(argv)
        assert rc == 0, err
    (out / "notes.txt").write_text("my notes on this run\n", encoding="utf-8")
    return out


def test_run_into_an_existing_run_refuses_and_changes_nothing(analysed_run: Path, tiny_config: Path, run_cli):
    before = _snapshot(analysed_run)
    rc, out, err = run_cli(["run", tiny_config, "--out", analysed_run, *SETS])
    assert rc == 2 and out == ""
    assert len(err.splitlines()) == 1, err
    assert "already holds a run" in err and "--resume" in err and "--overwrite" in err
    assert str(analysed_run) in err
    assert len(err) < 400 and "more files" in err  # an analysed run holds many files: a few are named
    assert _snapshot(analysed_run) == before


def test_run_refuses_an_interrupted_run_without_resume(tiny_config: Path, tmp_path: Path, run_cli):
    # a run killed during training leaves only its checkpoint: a plain rerun would silently start over
    out = tmp_path / "run"
    rc, _, err = run_cli(["run", tiny_config, "--out", out, *SETS, "--set", "training.checkpoint_every=1"])
    assert rc == 0, err
    for name in ("circuit.nc", "results.nc"):
        (out / name).unlink()
    before = _snapshot(out)
    rc, _, err = run_cli(["run", tiny_config, "--out", out, *SETS, "--set", "training.checkpoint_every=1"])
    assert rc == 2 and "checkpoint.npz" in err and "--resume" in err and len(err.splitlines()) == 1
    assert _snapshot(out) == before


def test_run_into_an_empty_or_foreign_directory_is_allowed(tiny_config: Path, tmp_path: Path, run_cli):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "README.txt").write_text("not a run's file\n", encoding="utf-8")
    rc, _, err = run_cli(["run", tiny_config, "--out", out, *SETS])
    assert rc == 0, err
    assert (out / "results.nc").is_file() and (out / "README.txt").read_text(encoding="utf-8") == "not a run's file\n"


def test_overwrite_removes_the_old_run_its_analyses_and_report(analysed_run: Path, tiny_config: Path, run_cli):
    old_fp = analysed_run / "fixed_points.nc"
    for name in ("fixed_points.nc", "comparison.nc", "report.html", "results.nc", "circuit.nc"):
        assert (analysed_run / name).is_file(), name
    old_results = (analysed_run / "results.nc").read_bytes()
    rc, out, err = run_cli(["run", tiny_config, "--out", analysed_run, *SETS, "--seed", "11", "--overwrite"])
    assert rc == 0, err
    # the new run's files, nothing of the old run's analyses, the user's file kept and named in one line
    assert not old_fp.exists()
    assert not (analysed_run / "comparison.nc").exists() and not (analysed_run / "report.html").exists()
    assert not (analysed_run / "figures").exists()  # the old figures went; this run writes none
    assert (analysed_run / "results.nc").read_bytes() != old_results
    assert int(nb.open_results(analysed_run / "results.nc").attrs["seed"]) == 11
    assert (analysed_run / "notes.txt").is_file()
    kept = [line for line in out.splitlines() if line.startswith("kept in")]
    assert len(kept) == 1 and "notes.txt" in kept[0], out
    # the analyses commands no longer find a stale file: the report says they are not computed yet
    rc, _, err = run_cli(["report", analysed_run])
    assert rc == 0, err
    page = (analysed_run / "report.html").read_text(encoding="utf-8")
    assert "Not computed yet: run <code>neurobias fixed-points" in page


def test_overwrite_keeps_unknown_files_in_figures(analysed_run: Path, tiny_config: Path):
    (analysed_run / "figures" / "sketch.svg").write_text("<svg/>", encoding="utf-8")
    config = nb.apply_overrides(nb.load_config(tiny_config), ["training.steps=3"])
    output = nb.run(config, out=analysed_run, overwrite=True, progress=False)
    assert output.kept == ["figures/sketch.svg", "notes.txt"]
    assert sorted(p.name for p in (analysed_run / "figures").iterdir()) == ["sketch.svg"]
    assert [p.name for p in RunDir(analysed_run).present()] == ["circuit.nc", "results.nc", "checkpoint.npz"]


def test_resume_continues_the_run_in_place(tiny_config: Path, tmp_path: Path, run_cli, same_arrays):
    sets = [*SETS, "--set", "training.checkpoint_every=1"]
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        rc, _, err = run_cli(["run", tiny_config, "--out", d, *sets])
        assert rc == 0, err
    rc, _, err = run_cli(["fixed-points", b, "--candidates", "8", "--no-figures"])
    assert rc == 0, err
    rc, _, err = run_cli(["run", tiny_config, "--out", b, *sets, "--resume"])
    assert rc == 0, err
    # the finished run resumed to the same files; its analysis still belongs to it
    same_arrays(a / "results.nc", b / "results.nc", kind="results")
    assert RunDir(b).read("fixed_points").sizes["fp"] >= 1


def test_resume_refuses_a_run_without_checkpoint(tiny_config: Path, tmp_path: Path, run_cli):
    out = tmp_path / "run"
    rc, _, err = run_cli(["run", tiny_config, "--out", out, *SETS])
    assert rc == 0, err
    (out / "checkpoint.npz").unlink()  # e.g. removed to save space
    before = _snapshot(out)
    rc, _, err = run_cli(["run", tiny_config, "--out", out, *SETS, "--resume"])
    assert rc == 2 and len(err.splitlines()) == 1
    assert "cannot resume" in err and "checkpoint.npz" in err and "--overwrite" in err
    assert _snapshot(out) == before


def test_resume_and_overwrite_exclude_each_other(tiny_config: Path, tmp_path: Path, run_cli):
    rc, _, err = run_cli(["run", tiny_config, "--out", tmp_path / "r", *SETS, "--resume", "--overwrite"])
    assert rc == 2 and "--overwrite" in err and "--resume" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "r").exists()
    config = nb.load_config(tiny_config)
    with pytest.raises(InputError, match="`resume` and `overwrite` exclude each other"):
        nb.run(config, out=tmp_path / "r", resume=True, overwrite=True)
    with pytest.raises(InputError, match="`overwrite=True` needs an output directory"):
        nb.run(config, overwrite=True)
    assert not (tmp_path / "r").exists()


def test_run_products_are_all_removed_by_clear(tmp_path: Path):
    d = RunDir(tmp_path / "r")
    (tmp_path / "r" / "figures").mkdir(parents=True)
    for product in RUN_PRODUCTS.values():
        (d.path / product.filename).write_bytes(b"x")
    d.figure("loss").write_bytes(b"x")
    (d.path / "figures" / ".loss.tmp-h-1-0123456789ab.png").write_bytes(b"")  # an interrupted write: not listed
    (d.path / "other.csv").write_bytes(b"x")
    assert len(d.present()) == len(RUN_PRODUCTS) + 1
    assert d.others() == ["other.csv"]
    removed = d.clear()
    assert len(removed) == len(RUN_PRODUCTS) + 1
    assert d.present() == [] and sorted(p.name for p in d.path.iterdir()) == ["figures", "other.csv"]


# --------------------------------------------------------------------------- messages
@pytest.mark.parametrize("command", [["fixed-points"], ["continue", "--from", "a", "--to", "b"], ["compare-contexts"],
                                     ["report"]])
def test_a_file_where_a_run_directory_is_expected(tiny_run, run_cli, command):
    results = Path(tiny_run["dir"]) / "results.nc"
    rc, out, err = run_cli([command[0], results, *command[1:]])
    assert rc == 2 and out == ""
    assert len(err.splitlines()) == 1, err
    assert f"expected a run directory" in err and f"got the file {results}" in err
    assert f"{results.parent} may be the run directory that holds it" in err
    assert "not found" not in err and f"--out {results}" not in err  # no advice to create a directory named after it


def test_a_foreign_file_where_a_run_directory_is_expected(tmp_path: Path, run_cli):
    notes = tmp_path / "notes.txt"
    notes.write_text("x", encoding="utf-8")
    rc, _, err = run_cli(["fixed-points", notes])
    assert rc == 2 and len(err.splitlines()) == 1
    assert f"expected a run directory" in err and f"got the file {notes}" in err and "holds it" not in err


@pytest.mark.skipif(torch.version.cuda is not None, reason="this torch is a CUDA build: the CPU-only message is "
                    "not reachable")
def test_device_cuda_on_a_cpu_only_torch_says_how_to_install_a_cuda_build(tiny_config: Path, tmp_path: Path,
                                                                         run_cli):
    rc, out, err = run_cli(["run", tiny_config, "--out", tmp_path / "r", "--device", "cuda", *SETS])
    assert rc == 2 and out == "" and len(err.splitlines()) == 1, err
    assert "CPU-only build" in err
    assert "pip install torch==" in err and "--index-url https://download.pytorch.org/whl/cu" in err
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("name", ["README.md", "pyproject.toml"])
def test_info_on_a_file_that_is_not_netcdf(run_cli, name):
    path = Path(__file__).resolve().parents[1] / name
    rc, out, err = run_cli(["info", path])
    assert rc == 2 and out == "" and len(err.splitlines()) == 1, err
    assert f"{path} is not a readable netCDF4/HDF5 file: it is not netCDF4/HDF5 at all" in err
    assert "no file neurobias wrote" in err and "cut short" not in err


def test_info_on_a_truncated_netcdf_file_still_says_cut_short(tiny_run, tmp_path: Path, run_cli):
    data = (Path(tiny_run["dir"]) / "results.nc").read_bytes()
    cut = tmp_path / "cut.nc"
    cut.write_bytes(data[: len(data) // 3])
    rc, _, err = run_cli(["info", cut])
    assert rc == 2 and len(err.splitlines()) == 1
    assert "cut short" in err and "not netCDF4/HDF5 at all" not in err

"""RunDir and FitDir: the one table of file names, the checks on reading, and the created-directory clean-up."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from neurobias.errors import InputError
from neurobias.io.schema import KINDS
from neurobias.workflows.rundir import FIT_PRODUCTS, RUN_PRODUCTS, FitDir, RunDir, first_missing, remove_created


def test_every_product_has_a_schema_kind_or_is_not_a_dataset():
    for table in (RUN_PRODUCTS, FIT_PRODUCTS):
        for name, product in table.items():
            if product.filename.endswith(".nc"):
                assert product.kind in KINDS, name
            else:
                assert product.kind == "", name
            assert product.command.startswith("neurobias "), name
    names = [p.filename for p in RUN_PRODUCTS.values()]
    assert len(names) == len(set(names))


def test_paths_come_from_the_table(tmp_path):
    d = RunDir(tmp_path / "run")
    assert d.file("results") == tmp_path / "run" / "results.nc"
    assert d.file("fixed_points") == tmp_path / "run" / "fixed_points.nc"
    assert d.figure("pca") == tmp_path / "run" / "figures" / "pca.png"
    assert d.command("fixed_points") == f"neurobias fixed-points {tmp_path / 'run'}"
    assert FitDir(tmp_path).file("fit") == tmp_path / "fit.nc"
    with pytest.raises(InputError, match=r"a run directory has no file 'fit'; it has circuit, results, "):
        d.file("fit")
    with pytest.raises(InputError, match=r"report.html of a run directory is not a Dataset file"):
        d.write("report", None)


def test_open_names_what_is_missing_and_how_to_write_it(tmp_path):
    with pytest.raises(InputError, match=r"run directory not found: .*neurobias run CONFIG --out"):
        RunDir(tmp_path / "nothing").open()
    with pytest.raises(InputError, match=r"is not a run directory: circuit.nc is missing"):
        RunDir(tmp_path).open()


def test_a_run_directory_reads_its_own_files(tiny_run):
    d = RunDir(tiny_run["dir"])
    circuit, results = d.open()
    assert d.contexts() == [str(c) for c in results["context"].values]
    assert circuit.n_units == results.sizes["unit"]
    prov = d.provenance()
    assert prov["run_seed"] == int(results.attrs["seed"])
    assert prov["tonic_sha256"] == results.attrs["tonic_sha256"]
    assert d.read_if_present("fixed_points") is None


def test_a_comparison_of_other_contexts_is_refused(tiny_run, tmp_path):
    from neurobias.analysis.context_comparison import compare_contexts

    run_dir = tmp_path / "run"
    shutil.copytree(tiny_run["dir"], run_dir)
    d = RunDir(run_dir)
    circuit, results = d.open()
    ds = d.stamp(compare_contexts(circuit, results, n_shuffles=0))
    renamed = ds.assign_coords(context=[f"other_{c}" for c in ds["context"].values])
    d.write("comparison", renamed)  # the same fingerprints: only the contexts tell it apart
    with pytest.raises(InputError, match=r"comparison.nc does not belong to this run .*`neurobias compare-contexts"):
        d.read("comparison")
    d.write("comparison", ds)
    back = d.read("comparison")
    np.testing.assert_array_equal(back["tonic_correlation"].values, ds["tonic_correlation"].values)


def test_first_missing_and_remove_created(tmp_path):
    assert first_missing(tmp_path) is None
    target = tmp_path / "a" / "b" / "c"
    created = first_missing(target)
    assert created == tmp_path / "a"
    target.mkdir(parents=True)
    remove_created(created)
    assert not (tmp_path / "a").exists() and tmp_path.exists()
    remove_created(None)

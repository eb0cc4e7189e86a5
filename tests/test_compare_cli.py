"""``neurobias compare-contexts``: comparison.nc, its figures, the report's comparison section, bad input."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from conftest import CHROMIUM, NO_CHROMIUM, chromium_page
from neurobias.io import read_dataset, write_dataset

FIGURES = ("similarity.png", "pca.png", "task_variance.png", "matched.png", "spectra.png")


@pytest.fixture(scope="module")
def compared_run(tmp_path_factory, tiny_run):
    """A copy of the tiny run with fixed points, a comparison and a report; and what compare-contexts printed."""
    import contextlib
    import io

    from neurobias.cli import main

    run_dir = tmp_path_factory.mktemp("compared") / "run"
    shutil.copytree(tiny_run["dir"], run_dir)
    assert main(["fixed-points", str(run_dir), "--candidates", "32"]) == 0
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["compare-contexts", str(run_dir), "--shuffles", "50"]) == 0
    assert main(["report", str(run_dir)]) == 0
    return {"dir": run_dir, "stdout": buf.getvalue()}


def _section(text: str, sid: str) -> str:
    start = text.index(f'<section id="{sid}">')
    return text[start:text.index("</section>", start)]


def test_comparison_file_is_valid_and_complete(compared_run):
    ds = read_dataset(compared_run["dir"] / "comparison.nc", kind="comparison")
    names = ["sine_20Hz", "sine_40Hz"]
    assert [str(c) for c in ds["context"].values] == names
    assert [str(c) for c in ds["context_b"].values] == names
    cos = ds["tonic_cosine"].values
    np.testing.assert_allclose(cos, cos.T)
    np.testing.assert_allclose(np.diag(cos), 1.0)
    np.testing.assert_allclose(np.diag(ds["tonic_distance"].values), 0.0, atol=1e-12)
    assert ds.sizes["pca_shuffle"] == 50 and ds.sizes["pca_component"] == 1
    parts = ds.attrs["parts"].split(", ")
    for part in ("tonic", "pca", "gain", "alignment", "task_variance", "fixed_points", "matches", "manifold"):
        assert part in parts, part
    # the sine task has no input channel: no selection vectors, and the file says so
    assert "selection" not in parts and "selection vectors" in ds.attrs["skipped"]
    # the trials of a sine context are identical: task variance is taken over time
    assert ds.attrs["tv_across"] == "time"
    assert ds["tv_norm"].dims == ("context", "unit") and ds["gain"].dims == ("context", "unit")
    fp = read_dataset(compared_run["dir"] / "fixed_points.nc", kind="fixed_points")
    n_fixed = [int(np.sum((fp["context"].values.astype(str) == c) & (fp["kind"].values.astype(str) == "fixed")))
               for c in names]
    assert ds["fp_counts"].sum("stability").values.tolist() == n_fixed
    assert int(ds["fp_n_matched"].values[0, 1]) == ds.sizes["fp_match"]
    assert set(ds["fp_match_a"].values.tolist()) <= set(fp["fp"].values.tolist())
    assert ds.attrs["config"]  # provenance travels with the analysis


def test_compare_prints_summary_and_files(compared_run):
    out = compared_run["stdout"]
    assert "Tonic inputs: the two contexts' tonic inputs have cosine similarity" in out
    assert "Fixed points per context" in out
    assert f"comparison: {compared_run['dir'] / 'comparison.nc'}" in out
    for name in FIGURES:
        assert f"figure: {Path(name).stem}: " in out
        assert (compared_run["dir"] / "figures" / name).stat().st_size > 1000


def test_report_shows_the_comparison(compared_run):
    text = (compared_run["dir"] / "report.html").read_text()
    section = _section(text, "comparison")
    assert "Not computed yet" not in section
    assert "Tonic inputs:" in section and "Per pair of contexts" in section
    srcs = re.findall(r'<img src="([^"]+)" alt="([^"]+)"', section)
    assert [alt for _, alt in srcs] == ["similarity", "pca", "task_variance", "matched"]
    assert all(s.startswith("data:image/png;base64,") for s, _ in srcs)


@pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)
def test_comparison_section_in_a_real_headless_browser(compared_run):
    with chromium_page() as (page, errors, _):
        page.goto((compared_run["dir"] / "report.html").resolve().as_uri())
        page.wait_for_load_state("load")
        assert errors == []
        assert page.locator("section#comparison").is_visible()
        widths = page.eval_on_selector_all("section#comparison img",
                                           "els => els.map(e => e.complete ? e.naturalWidth : 0)")
        assert len(widths) == 4 and min(widths) > 100
        assert page.locator("section#comparison table").count() == 2


def test_without_fixed_points_the_comparison_says_what_to_run(run_cli, tiny_run, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(tiny_run["dir"], run_dir)
    rc, out, err = run_cli(["compare-contexts", run_dir, "--no-figures", "--shuffles", "0"])
    assert rc == 0, err
    assert f"neurobias fixed-points {run_dir}" in out
    assert not (run_dir / "figures" / "similarity.png").exists()
    ds = read_dataset(run_dir / "comparison.nc", kind="comparison")
    # the file says what is missing; the command that computes it is the CLI's to say (above), not the Dataset's
    assert "fixed_points" not in ds.attrs["parts"] and "no fixed points" in ds.attrs["skipped"]
    assert "neurobias" not in ds.attrs["skipped"]
    assert ds.sizes["pca_shuffle"] == 0 and np.isnan(float(ds["pca_p_value"]))
    assert run_cli(["report", run_dir])[0] == 0
    section = _section((run_dir / "report.html").read_text(), "comparison")
    assert "Not computed yet" not in section and "Fixed points not compared yet" in section


def _twin_contexts(results: xr.Dataset, fixed_points: xr.Dataset) -> tuple[xr.Dataset, xr.Dataset]:
    """Results and fixed points with two contexts ``a`` and ``b``, both copies of the first context."""
    first = str(results["context"].values[0])
    res = results.isel(context=[0, 0]).assign_coords(context=["a", "b"])
    sel = fixed_points.isel(fp=np.flatnonzero(fixed_points["context"].values.astype(str) == first))
    fa = sel.assign_coords(context=("fp", np.full(sel.sizes["fp"], "a")))
    fb = sel.assign_coords(context=("fp", np.full(sel.sizes["fp"], "b")))
    fp = xr.concat([fa, fb], dim="fp").assign_coords(fp=np.arange(2 * sel.sizes["fp"]))
    fp.attrs = {k: v for k, v in fixed_points.attrs.items() if k not in ("contexts", "inputs")}
    fp.attrs["contexts"] = ["a", "b"]
    return res, fp


def test_identical_contexts_give_zero_distances_and_identity_matching(compared_run):
    from neurobias.analysis.context_comparison import compare_contexts
    from neurobias.workflows.report import summarize_comparison
    from neurobias.io import open_circuit, open_results

    d = compared_run["dir"]
    circuit = open_circuit(d / "circuit.nc")
    res, fp = _twin_contexts(open_results(d / "results.nc"), read_dataset(d / "fixed_points.nc", kind="fixed_points"))
    ds = compare_contexts(circuit, res, fp, n_shuffles=10, seed=1)
    np.testing.assert_array_equal(ds["tonic_distance"].values, 0.0)
    np.testing.assert_allclose(ds["tonic_cosine"].values, 1.0)
    np.testing.assert_array_equal(ds["gain_change"].values, 0.0)
    np.testing.assert_array_equal(ds["switched"].values, 0.0)
    assert float(ds["pca_total_variance"]) == 0.0
    n = int(ds["fp_counts"].sel(context="a").sum())
    counts = ds["fp_counts"]
    assert n > 0 and counts.sel(context="b").values.tolist() == counts.sel(context="a").values.tolist()
    assert int(ds["fp_n_matched"].sel(context="a", context_b="b")) == n
    assert int(ds["fp_n_unmatched_a"].sel(context="a", context_b="b")) == 0
    assert float(ds["fp_mean_displacement"].sel(context="a", context_b="b")) == 0.0
    # identity matching: point k of a is paired with its copy, point k of b; spectra identical
    fixed_a = fp["fp"].values[(fp["context"].values == "a") & (fp["kind"].values.astype(str) == "fixed")]
    np.testing.assert_array_equal(ds["fp_match_a"].values, fixed_a)
    np.testing.assert_array_equal(ds["fp_match_b"].values, fixed_a + fp.sizes["fp"] // 2)
    np.testing.assert_array_equal(ds["fp_match_distance"].values, 0.0)
    np.testing.assert_array_equal(ds["fp_match_eig_change"].values, 0.0)
    tv = ds["tv_norm"].values
    np.testing.assert_array_equal(tv[0][np.isfinite(tv[0])], 1.0)
    assert "cosine similarity 1" in summarize_comparison(ds)
    # and the combined Dataset fits in one file of kind comparison
    ds.attrs["config"] = ""
    write_dataset(ds, d.parent / "twins.nc", kind="comparison")
    assert read_dataset(d.parent / "twins.nc", kind="comparison").sizes["context"] == 2


def _broken_run(tiny_run: dict, tmp_path: Path, how: str) -> Path:
    run_dir = tmp_path / how
    shutil.copytree(tiny_run["dir"], run_dir)
    res = read_dataset(run_dir / "results.nc", kind="results")
    if how == "one_context":
        write_dataset(res.isel(context=[0]), run_dir / "results.nc", kind="results")
    elif how == "fewer_units":
        write_dataset(res.isel(unit=slice(0, 8)), run_dir / "results.nc", kind="results")
    elif how == "other_fixed_points":
        from neurobias.analysis import find_fixed_points
        from neurobias.io import open_circuit

        fp = find_fixed_points(open_circuit(run_dir / "circuit.nc"), res, n_candidates=16)
        fp["x"] = fp["x"] + 0.5  # no longer fixed points of this circuit
        write_dataset(fp, run_dir / "fixed_points.nc", kind="fixed_points")
    return run_dir


@pytest.mark.parametrize(
    ("how", "pattern"),
    [
        ("one_context", r"compare-contexts needs at least two contexts; .*results.nc has one \(sine_20Hz\)"),
        ("fewer_units", r"results.nc has 8 units but .*circuit.nc has 16: the files come from different runs"),
        ("other_fixed_points", r"`fixed_points` are not fixed points of `circuit` with `tonic`"),
    ],
)
def test_bad_input_one_line_exit_2(run_cli, tiny_run, tmp_path, how, pattern):
    run_dir = _broken_run(tiny_run, tmp_path, how)
    rc, out, err = run_cli(["compare-contexts", run_dir])
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("neurobias: error:")
    assert re.search(pattern, lines[0]), lines[0]
    assert out == ""
    assert not (run_dir / "comparison.nc").exists()


@pytest.mark.parametrize(("argv", "pattern"), [
    (["--shuffles", "-1"], r"--shuffles must be >= 0"),
    (["--seed", "-2"], r"--seed must be >= 0"),
])
def test_bad_options_one_line_exit_2(run_cli, tiny_run, argv, pattern):
    rc, out, err = run_cli(["compare-contexts", tiny_run["dir"], *argv])
    assert rc == 2 and re.search(pattern, err) and len(err.strip().splitlines()) == 1


def test_compare_contexts_in_python_needs_two_contexts(tiny_run):
    from neurobias.analysis.context_comparison import compare_contexts
    from neurobias.errors import InputError
    from neurobias.io import open_circuit, open_results

    circuit = open_circuit(tiny_run["dir"] / "circuit.nc")
    res = open_results(tiny_run["dir"] / "results.nc")
    with pytest.raises(InputError, match="needs at least two contexts"):
        compare_contexts(circuit, res.isel(context=[1]))


def test_permuting_units_changes_no_statistic(tiny_run):
    """Relabelling the units of the circuit and of the results leaves every per-context and per-pair number."""
    from neurobias import Circuit
    from neurobias.analysis.context_comparison import compare_contexts
    from neurobias.io import open_circuit, open_results

    circuit = open_circuit(tiny_run["dir"] / "circuit.nc")
    res = open_results(tiny_run["dir"] / "results.nc")
    perm = np.random.default_rng(3).permutation(circuit.n_units)
    permuted = Circuit.from_arrays(W_rec=circuit.W_rec[np.ix_(perm, perm)], W_in=circuit.W_in[perm],
                                   W_out=circuit.W_out[:, perm], b_out=circuit.b_out, tau=circuit.tau,
                                   phi=circuit.phi, form=circuit.form, input_names=circuit.input_names,
                                   output_names=circuit.output_names)
    res_p = res.isel(unit=perm).assign_coords(unit=np.arange(circuit.n_units))
    a = compare_contexts(circuit, res, n_shuffles=0)
    b = compare_contexts(permuted, res_p, n_shuffles=0)
    for name in ("tonic_norm", "tonic_cosine", "tonic_correlation", "tonic_distance", "pca_explained_variance",
                 "pca_scores", "pca_participation_ratio", "on_fraction", "spectral_abscissa", "gain_change",
                 "switched", "gain_spectral_radius", "gain_singular_value", "align_eig", "align_readout"):
        np.testing.assert_allclose(b[name].values, a[name].values, rtol=1e-9, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(b["gain"].values, a["gain"].values[:, perm], rtol=1e-12)
    np.testing.assert_allclose(b["tv_norm"].values, a["tv_norm"].values[:, perm], rtol=1e-12)
    assert b.attrs["cluster_k"] == a.attrs["cluster_k"]
    np.testing.assert_array_equal(b["cluster"].values, a["cluster"].values[perm])

"""Every kind of file neurobias writes explains itself: one schema test over all of them.

One module-scoped fixture produces every file kind through the real commands
at tiny sizes (a sine run and a context-integration run, each with
fixed-points, continue, compare-contexts and simulate; a recording fitted and
compared with fit-recordings and compare-recordings; the periodic orbits of a
2-unit oscillator and their continuation).  Then each file is opened with
xarray and checked: its kind is registered in the schema (with its required
variables, validated on reading), every data variable and coordinate has a
non-empty ``long_name``, every dimension has a coordinate, units agree with
the schema's, and docs/schema.md has a section for the kind.

The lists of kinds come from the code, not from this file: every kind of
``neurobias.io.schema.SPECS`` and every netCDF product of the run and fit
directories (``RUN_PRODUCTS``, ``FIT_PRODUCTS``) must be among the files
produced here, so a new kind or product fails until it is produced (add the
command that writes it to :func:`every_file`).
"""
from __future__ import annotations

import contextlib
import io
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from neurobias.errors import ConvergenceWarning
from neurobias.io.schema import KINDS, SPECS
from neurobias.workflows.rundir import FIT_PRODUCTS, RUN_PRODUCTS

from conftest import TINY_TOML, write_tiny_config

REPO = Path(__file__).resolve().parents[1]
SCHEMA_DOC = REPO / "docs" / "schema.md"

#: a second run whose circuit has inputs and whose trials differ (selection vectors, trial conditions)
INPUT_TOML = """\
seed = 3
[circuit]
n_units = 16
[task]
name = "context_integration"
coherences = [-0.5, 0.5]
fixation_ms = 20.0
stimulus_ms = 50.0
decision_ms = 20.0
[training]
steps = 3
batch_size = 2
checkpoint_every = 0
[simulation]
dt = 10.0
[output]
n_trials = 4
figures = false
"""

FIT_TOML = """\
seed = 5
[preprocess]
trim = true
[fit]
n_units = 12
steps = 3
holdout_block = 3
n_shuffles = 3
[compare]
n_shuffles = 3
dsa_shuffles = 1
"""


def _cli(argv: list[object]) -> None:
    from neurobias.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        rc = main([str(a) for a in argv])
    assert rc == 0, f"neurobias {' '.join(map(str, argv))} failed:\n{out.getvalue()}"


@pytest.fixture(scope="module")
def every_file(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every file kind, produced by the real commands: ``{"run": dir, "input_run": dir, "fit": dir, "base": dir}``."""
    from neurobias import Circuit
    from neurobias.analysis.periodic_orbits import continue_periodic_orbits, find_periodic_orbits
    from neurobias.fitting.synthetic import synthetic_recording
    from neurobias.io import write_dataset

    base = tmp_path_factory.mktemp("every_file")
    config = write_tiny_config(base / "tiny.toml", TINY_TOML)
    dirs = {"base": base, "run": base / "run", "input_run": base / "input_run", "fit": base / "fit",
            "context_fit": base / "context_fit"}

    # a run directory: every RUN_PRODUCTS file, and a trajectories file
    run = dirs["run"]
    _cli(["run", config, "--out", run, "--no-progress"])
    _cli(["fixed-points", run, "--no-figures"])
    _cli(["continue", run, "--from", "sine_20Hz", "--to", "sine_40Hz", "--steps", "30", "--no-figures"])
    _cli(["compare-contexts", run, "--no-figures"])
    _cli(["periodic-orbits", run, "--no-figures"])
    _cli(["report", run])
    _cli(["simulate", run / "circuit.nc", run / "results.nc", "--out", base / "trajectories.nc"])
    _cli(["simulate", run / "circuit.nc", run / "results.nc", "--duration", "20", "--out",
          base / "trajectories_no_input.nc"])

    # a circuit with inputs and trials that differ: selection vectors, task variance across trials
    other = dirs["input_run"]
    with warnings.catch_warnings():  # 3 steps need not lower the loss: the files are what is checked here
        warnings.simplefilter("ignore", ConvergenceWarning)
        _cli(["run", write_tiny_config(base / "inputs.toml", INPUT_TOML), "--out", other, "--no-progress"])
    _cli(["fixed-points", other, "--no-figures"])
    _cli(["compare-contexts", other, "--no-figures"])
    _cli(["simulate", other / "circuit.nc", other / "results.nc", "--trials", "2", "--out",
          base / "trajectories_inputs.nc"])

    # a recording fitted and compared: every FIT_PRODUCTS file
    circuit = Circuit.random(10, n_inputs=0, n_outputs=0, g=1.2, tau=20.0, seed=1)
    rng = np.random.default_rng(1)
    rec = synthetic_recording(circuit, rng.normal(0, 0.6, (3, 10)), x0=rng.normal(0, 0.6, (3, 10)),
                              units=np.arange(4), n_time=10, bin_ms=5.0)
    write_dataset(rec, base / "recording_input.nc", kind="recording")
    (base / "fit.toml").write_text(FIT_TOML, encoding="utf-8")
    _cli(["fit-recordings", base / "recording_input.nc", "--config", base / "fit.toml", "--out", dirs["fit"],
          "--no-progress", "--no-figures"])
    _cli(["compare-recordings", dirs["fit"], "--no-progress", "--no-figures"])

    # the context model with cross-validation: crossval.nc
    from test_context_fit_cli import _config, _recording

    context_rec = _recording(base / "context_recording.nc")
    context_cfg = _config(base / "context_fit.toml", crossval='baselines = ["condition_tonic", "linear"]')
    _cli(["fit-recordings", context_rec, "--config", context_cfg, "--out", dirs["context_fit"], "--no-progress",
          "--no-figures"])

    # periodic orbits of a 2-unit oscillator (a Hopf cycle) and the cycle followed along a tonic path
    osc = Circuit.from_arrays(W_rec=[[1.5, -1.0], [1.0, 1.5]], W_out=[[1.0, 0.5]], tau=10.0)
    orbits = find_periodic_orbits(osc, np.array([[0.0, 0.0], [3.0, 3.0]]))
    write_dataset(orbits, base / "periodic_orbits.nc", kind="periodic_orbits")
    cycles = continue_periodic_orbits(osc, orbits.isel(orbit=[0]), start=np.zeros(2), end=np.array([0.6, 0.3]),
                                      steps=3)
    write_dataset(cycles, base / "orbit_continuation.nc", kind="orbit_continuation")
    return dirs


def _netcdf_files(base: Path) -> list[Path]:
    return sorted(p for p in base.rglob("*.nc") if not p.name.startswith("."))


def _kind_of(path: Path) -> str:
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return str(ds.attrs.get("kind", ""))


def _products() -> list[tuple[str, str, str]]:
    """(directory, product name, kind) of every netCDF product of a run or fit directory."""
    return [(where, name, product.kind) for where, table in (("run", RUN_PRODUCTS), ("fit", FIT_PRODUCTS))
            for name, product in table.items() if product.kind]


@pytest.mark.parametrize("where,name,kind", _products(), ids=[f"{w}-{n}" for w, n, _ in _products()])
def test_every_directory_product_is_produced(every_file: dict[str, Path], where: str, name: str, kind: str) -> None:
    table = RUN_PRODUCTS if where == "run" else FIT_PRODUCTS
    # the tiny sine run does not oscillate, so its cycles are followed on a 2-unit oscillator in `base`;
    # crossval.nc comes from the context model's fit directory
    places = ("run", "base") if where == "run" else ("fit", "context_fit")
    found = [every_file[p] / table[name].filename for p in places if (every_file[p] / table[name].filename).is_file()]
    path = found[0] if found else every_file[where] / table[name].filename
    assert path.is_file(), (
        f"the {where} directory product `{name}` ({table[name].filename}) was not produced by the schema test: "
        f"add the command that writes it ({table[name].command}) to every_file() in {Path(__file__).name}")
    assert _kind_of(path) == kind


@pytest.mark.parametrize("kind", KINDS)
def test_every_schema_kind_has_a_file(every_file: dict[str, Path], kind: str) -> None:
    kinds = {_kind_of(p) for p in _netcdf_files(every_file["base"])}
    assert kind in kinds, (f"no file of kind {kind!r} was produced by the schema test: add the command that "
                           f"writes one to every_file() in {Path(__file__).name}")


def test_every_file_is_of_a_registered_kind(every_file: dict[str, Path]) -> None:
    files = _netcdf_files(every_file["base"])
    assert len(files) >= len(KINDS)
    for path in files:
        assert _kind_of(path) in KINDS, path


def _file_problems(path: Path) -> list[str]:
    from neurobias.io import read_dataset

    ds = read_dataset(path)  # validates the kind's required variables, dims, dtypes and attributes
    kind = str(ds.attrs["kind"])
    spec = SPECS[kind]
    problems: list[str] = []
    for name, var in ds.variables.items():
        what = "coordinate" if name in ds.coords else "variable"
        long_name = var.attrs.get("long_name")
        if not isinstance(long_name, str) or not long_name.strip():
            problems.append(f"{what} `{name}` has no long_name")
        units = var.attrs.get("units")
        if units is not None and (not isinstance(units, str) or not units.strip()):
            problems.append(f"{what} `{name}` has an empty or non-text units attribute {units!r}")
    for dim in ds.dims:
        if dim not in ds.coords:
            problems.append(f"dimension `{dim}` has no coordinate")
    for name, vspec in {**spec.variables, **spec.coords}.items():
        units = str(ds[name].attrs.get("units", ""))
        if units != vspec.units:
            problems.append(f"`{name}` has units {units!r}; the schema says {vspec.units!r}")
    for prefix, vspec in spec.optional_variables.items():
        for name in ds.data_vars:
            if str(name).startswith(prefix) and vspec.units and ds[name].attrs.get("units") != vspec.units:
                problems.append(f"`{name}` has units {ds[name].attrs.get('units')!r}; the schema says {vspec.units!r}")
    return problems


def test_every_variable_and_coordinate_of_every_file_is_described(every_file: dict[str, Path]) -> None:
    report = {}
    for path in _netcdf_files(every_file["base"]):
        problems = _file_problems(path)
        if problems:
            report[str(path.relative_to(every_file["base"]))] = problems
    assert not report, "files that do not explain themselves:\n" + "\n".join(
        f"  {name}: {'; '.join(problems)}" for name, problems in report.items())


def test_the_files_hold_the_optional_parts_too(every_file: dict[str, Path]) -> None:
    """The tiny runs exercise the optional groups of the comparison and the continuation, so they are checked."""
    from neurobias.io import read_dataset

    sine = read_dataset(every_file["run"] / "comparison.nc", kind="comparison")
    for name in ("fp_match_distance", "manifold_dimension", "align_eig_null", "gain_singular_value", "tv"):
        assert name in sine.data_vars, name
    with_inputs = read_dataset(every_file["input_run"] / "comparison.nc", kind="comparison")
    assert any(str(n).startswith("sel_") for n in with_inputs.data_vars)
    results = read_dataset(every_file["input_run"] / "results.nc", kind="results")
    assert any(str(n).startswith("trial_") for n in results.data_vars)
    sine_results = read_dataset(every_file["run"] / "results.nc", kind="results")
    assert sine_results["condition_frequency_hz"].attrs["units"] == "Hz"  # the task's condition, by its suffix
    cont = read_dataset(every_file["run"] / "continuation.nc", kind="continuation")
    assert {"bifurcation", "unreached"} <= set(cont.coords)


def test_every_spec_entry_is_described() -> None:
    for kind, spec in SPECS.items():
        assert spec.description, kind
        for name, vspec in {**spec.variables, **spec.coords, **spec.optional_variables}.items():
            assert vspec.description.strip(), f"{kind}: `{name}`"


@pytest.mark.parametrize("kind", KINDS)
def test_docs_describe_every_kind_and_its_required_names(kind: str) -> None:
    text = SCHEMA_DOC.read_text(encoding="utf-8")
    sections = re.split(r"^## ", text, flags=re.M)
    section = next((s for s in sections if s.startswith(f"kind = `{kind}`")), None)
    assert section is not None, f"docs/schema.md has no section '## kind = `{kind}`'"
    for name in (*SPECS[kind].variables, *SPECS[kind].coords, *SPECS[kind].attrs):
        assert f"`{name}" in section, f"docs/schema.md, kind {kind}: `{name}` is not described"


def test_one_weight_fingerprint_in_results_circuit_info_and_report(every_file: dict[str, Path]) -> None:
    """results.nc's fingerprint of each weight = hashlib over circuit.nc's float64 values = info's = the report's."""
    import hashlib

    from neurobias.cli import main
    from neurobias.io import read_dataset
    from neurobias.io.circuit import WEIGHT_NAMES

    run = every_file["run"]
    results = read_dataset(run / "results.nc", kind="results")
    circuit = read_dataset(run / "circuit.nc", kind="circuit")
    page = (run / "report.html").read_text(encoding="utf-8")
    shown = {}
    for name in ("circuit.nc", "results.nc"):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main(["info", str(run / name)]) == 0
        shown[name] = out.getvalue()
    assert str(results.attrs["training_mode"]) == "bias"
    for weight in WEIGHT_NAMES:
        values = np.asarray(circuit[weight].values)
        independent = hashlib.sha256(np.ascontiguousarray(values, dtype="<f8").tobytes()).hexdigest()
        after = results.attrs[f"weights_sha256_after_{weight}"]
        assert after == independent == circuit.attrs[f"sha256_{weight}"], weight
        assert results.attrs[f"weights_sha256_before_{weight}"] == after, weight  # bias mode: weights untouched
        for name, text in shown.items():
            assert re.search(rf"^\s+{weight}\s+{after}\b", text, flags=re.M), (name, weight, text)
        assert f"<td class=\"l\">{weight}</td><td class=\"l\">{after}</td><td class=\"l\">unchanged</td>" in page
    assert "(unchanged by training)" in shown["results.nc"]


def test_describe_coordinates_fills_only_what_is_missing() -> None:
    """The kind's spec first, then the dimension table (a prefixed dim takes its tail's meaning); input untouched."""
    from neurobias.io.schema import COORDINATES, describe_coordinates

    ds = xr.Dataset(
        {"v": (("unit", "cca_shuffle", "mystery"), np.zeros((2, 3, 1)))},
        coords={"unit": np.arange(2), "cca_shuffle": np.arange(3), "mystery": [0],
                "time": ("time", [5.0, 10.0], {"units": "ms"}),
                "context": ("context", ["a"], {"long_name": "my own words"})},
    )
    out = describe_coordinates(ds, "results")
    assert out["unit"].attrs == {"long_name": SPECS["results"].coords["unit"].description}
    assert out["cca_shuffle"].attrs == {"long_name": COORDINATES["shuffle"][0]}
    assert out["time"].attrs == {"units": "ms", "long_name": SPECS["results"].coords["time"].description}
    assert out["context"].attrs == {"long_name": "my own words"}
    assert "long_name" not in out["mystery"].attrs  # no meaning known: left for the schema test to report
    assert out["v"].attrs == {}  # data variables are described where they are computed, never here
    assert all(not ds[name].attrs.get("long_name") for name in ("unit", "cca_shuffle", "time"))

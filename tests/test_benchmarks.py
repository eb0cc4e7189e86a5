"""Every benchmark script that ``make bench`` runs runs here at a tiny size, with its outputs redirected.

Each script runs as ``make bench`` runs it: a subprocess started from the
repository root.  Size options make each run take seconds, and every output
goes to the test's directory: the JSON (``--results`` or ``--json``), the
figure (``--figure``) and, for the scripts that write a section of
``docs/performance.md``, a copy of that file (``--doc``).  The test checks the
JSON's rows and times, the PNG signature, the replaced section (the rest of
the copy kept), and that nothing under ``benchmarks/`` or ``docs/`` was
written: ``git status`` and every file's size and modification time are the
same before and after.
"""
from __future__ import annotations

import importlib.util
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PERFORMANCE = ROOT / "docs" / "performance.md"
PNG = b"\x89PNG\r\n\x1a\n"
WATCHED = ("benchmarks", "docs")

needs_brainpy = pytest.mark.skipif(
    importlib.util.find_spec("brainpy") is None or importlib.util.find_spec("jax") is None,
    reason="BrainPy is not installed (pip install 'neurobias[brainpy]'); this benchmark compares against it",
)


def repo_state() -> tuple[dict[str, tuple[int, int]], str | None]:
    """Size and mtime of every file under ``benchmarks/`` and ``docs/``, and their ``git status`` (None without git)."""
    files = {}
    for top in WATCHED:
        for p in sorted((ROOT / top).rglob("*")):
            if p.is_file():
                st = p.stat()
                files[p.relative_to(ROOT).as_posix()] = (st.st_size, st.st_mtime_ns)
    status = None
    if shutil.which("git") and (ROOT / ".git").exists():
        status = subprocess.run(["git", "status", "--porcelain", "--ignored", "--untracked-files=all", "--",
                                 *WATCHED], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return files, status


def run_bench(script: str, *args: object) -> subprocess.CompletedProcess:
    """Run ``benchmarks/<script>`` from the repository root; check it leaves ``benchmarks/`` and ``docs/`` alone."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg"}
    before = repo_state()
    proc = subprocess.run([sys.executable, f"benchmarks/{script}", *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    after = repo_state()
    assert proc.returncode == 0, f"{script} exited {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    changed = sorted(k for k in before[0].keys() | after[0].keys() if before[0].get(k) != after[0].get(k))
    assert not changed, f"{script} wrote into the repository: {changed}"
    assert before[1] == after[1], f"git status changed:\n{before[1]}\n->\n{after[1]}"
    return proc


def load_bench(script: str):  # noqa: ANN201 - a module
    """The benchmark script ``benchmarks/<script>`` imported as a module (its ``main`` not run)."""
    spec = importlib.util.spec_from_file_location(f"bench_{Path(script).stem}", ROOT / "benchmarks" / script)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench


def positive(value: object) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


def check_png(path: Path) -> None:
    assert path.read_bytes()[:8] == PNG, f"{path} is not a PNG"


def check_doc(path: Path, key: str, heading: str, results: Path) -> None:
    """The section ``key`` of the copy ``path`` of docs/performance.md is new; the text around it is kept."""
    start, end = f"<!-- {key}:start -->", f"<!-- {key}:end -->"
    old, new = PERFORMANCE.read_text(encoding="utf-8"), path.read_text(encoding="utf-8")
    assert new.count(start) == 1 and new.count(end) == 1
    before, rest = new.split(start)
    section, after = rest.split(end)
    assert section.strip().startswith(heading)
    assert f"`{results.resolve()}`" in section  # the section names the results file it was made from
    if start in old and end in old:
        assert (before, after) == (old.split(start)[0], old.split(end)[1])


def test_fixed_points(tmp_path: Path) -> None:
    out, fig = tmp_path / "fixed_points.json", tmp_path / "fixed_points.png"
    run_bench("fixed_points.py", "--sizes", 16, "--cores", 2, "--scaling-cores", 2, "--candidates", 16,
              "--repeats", 1, "--json", out, "--figure", fig)
    payload = json.loads(out.read_text(encoding="utf-8"))
    assert [(r["N"], r["k"], r["solver"]) for r in payload["rows"]] == [
        (16, 2, "dense"), (16, 2, "krylov"), (256, 2, "dense"), (256, 2, "krylov")]
    for r in payload["rows"]:
        assert positive(r["wall_s"]) and r["cpu_s"] >= 0 and r["known"] == 9 and r["false"] == 0
    check_png(fig)


def test_fixed_points_trained_circuits_skips_and_section(tmp_path: Path) -> None:
    out, fig, doc = tmp_path / "fp.json", tmp_path / "fp.png", tmp_path / "performance.md"
    shutil.copyfile(PERFORMANCE, doc)
    run_bench("fixed_points.py", "--sizes", 8, 16, "--cores", 2, "--scaling-cores", "--candidates", 16,
              "--trained", 8, "--cache", tmp_path / "cache", "--dense-max-units", 8, "--results", out,
              "--figure", fig, "--section", "--doc", doc)
    rows = json.loads(out.read_text(encoding="utf-8"))["rows"]
    assert [(r["N"], r["circuit"], r["solver"], bool(r.get("skipped"))) for r in rows] == [
        (8, "mirrored", "dense", False), (8, "mirrored", "krylov", False), (8, "trained", "dense", False),
        (8, "trained", "krylov", False), (16, "mirrored", "dense", True), (16, "mirrored", "krylov", False)]
    trained = [r for r in rows if r["circuit"] == "trained"]
    for r in trained:  # both solvers ran on the same trained circuit: each found what the other found
        assert r["found"] >= 1 and r["max_residual"] <= 1e-10
        assert r["agreement"][1] == r["found"] and 0 <= r["agreement"][0] <= r["found"]
        assert sum(v["fixed"] for v in r["per_context"].values()) == r["found"]
    assert (tmp_path / "cache" / "demo_8" / "circuit.nc").exists()  # trained once, kept for the next run
    check_png(fig)
    check_doc(doc, "matrix_free_fixed_points", "## Fixed points: dense and matrix-free side by side", out)
    section = doc.read_text(encoding="utf-8")
    assert "not run: dense skipped above 8 units" in section
    assert "the 4096-unit reference circuit analysed (every fixed point found) in under 300 s: not measured in this run." in section


def test_fixed_point_goal_verdicts_need_complete_correct_searches() -> None:
    bench = load_bench("fixed_points.py")
    base = {"circuit": "mirrored", "k": 5, "known": 243, "stable_known": 32, "index1_known": 80, "false": 0,
            "max_residual": 1e-15, "wall_s": 1.0, "cpu_s": 1.0, "solver": "krylov", "index_ok": True,
            "found": 243, "stable_found": 32, "index1_found": 80}
    good = [dict(base, N=n) for n in (512, 2048, 4096)]
    assert all("**met**" in line for line in bench.goal_lines(good))
    slow = [dict(r, wall_s=1e4) for r in good]
    assert all("**NOT met**" in line for line in bench.goal_lines(slow))
    bad = [dict(base, N=512, k=3, known=27, found=27),  # another circuit: does not count
           dict(base, N=2048, false=7), dict(base, N=4096, found=3)]
    lines = bench.goal_lines(bad)
    assert "not measured" in lines[0] and "**NOT met**" in lines[1] and "**NOT met**" in lines[2]
    assert "**NOT met**" in bench.goal_lines([dict(base, N=512, index_ok=False)])[0]
    assert "**NOT met**" in bench.goal_lines([dict(base, N=512, max_residual=1e-9)])[0]
    skipped = [{"N": 512, "k": 5, "circuit": "mirrored", "solver": "dense", "skipped": "too big"}]
    assert "not measured" in bench.goal_lines(skipped)[0]


@needs_brainpy
def test_brainpy_fixed_points(tmp_path: Path) -> None:
    out, fig = tmp_path / "brainpy.json", tmp_path / "brainpy.png"
    run_bench("brainpy_fixed_points.py", "--sizes", 8, "--cores", 1, "--growth-size", 8, "--candidates", 16,
              "--brainpy-iters", 20, "--num-batch", 10, "--float32-iters", 10, "--json", out, "--figure", fig)
    rows = json.loads(out.read_text(encoding="utf-8"))["rows"]
    engines = ["neurobias", "neurobias (same starts only)", "brainpy SlowPointFinder"]
    assert [(r["N"], r["k"], r["engine"]) for r in rows] == (
        [(8, 5, e) for e in [*engines, "brainpy SlowPointFinder, float32"]] + [(8, 1, e) for e in engines])
    assert all(positive(r["wall_s"]) for r in rows)
    check_png(fig)


@needs_brainpy
def test_simulation(tmp_path: Path) -> None:
    out, fig, doc = tmp_path / "simulation.json", tmp_path / "simulation.png", tmp_path / "performance.md"
    shutil.copyfile(PERFORMANCE, doc)
    run_bench("simulation.py", "--sizes", 16, 24, "--batches", 2, "--steps", 5, "--repeats", 2,
              "--results", out, "--figure", fig, "--doc", doc)
    payload = json.loads(out.read_text(encoding="utf-8"))
    variants = {"neurobias.simulate", "neurobias.simulate_torch", "neurobias.simulate_jax", "neurobias.integrate",
                "neurobias.integrate_1thread", "torch_2threads", "torch_naive", "matmul", "matmul_1thread",
                "brainpy_record", "brainpy_none", "jax_scan"}
    for n in (16, 24):
        rows = [r for r in payload["rows"] if (r["N"], r["batch"], r["T"]) == (n, 2, 5)]
        assert {r["variant"] for r in rows} == variants and len(rows) == len(variants)
        for r in rows:
            assert positive(r["median_s"]) and len(r["times_s"]) == 2 and all(map(positive, r["times_s"]))
            assert r["auto_engine"] == "torch"  # far below the work for which auto picks JAX
        first = {r["variant"]: r.get("first_call_s") for r in rows}
        assert positive(first["neurobias.simulate_jax"]) and positive(first["neurobias.simulate_torch"])
    assert len(payload["rows"]) == 2 * len(variants)
    assert payload["repeats"] == 2 and payload["T"] == 5
    assert 0 <= payload["agreement_max_abs"] < 1e-4
    assert 0 <= payload["agreement_engines_max_abs"] < 1e-4
    check_png(fig)
    check_doc(doc, "simulation", "## Simulation throughput", out)
    # --report-only redraws the figure and the section from the JSON
    fig2, doc2 = tmp_path / "again.png", tmp_path / "again.md"
    shutil.copyfile(PERFORMANCE, doc2)
    run_bench("simulation.py", "--report-only", "--results", out, "--figure", fig2, "--doc", doc2)
    check_png(fig2)
    check_doc(doc2, "simulation", "## Simulation throughput", out)


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is not installed (pip install "
                    "'neurobias[jax]'); this benchmark compares simulate's JAX engine with torch")
def test_engine_choice(tmp_path: Path) -> None:
    out, fig, doc = tmp_path / "engine_choice.json", tmp_path / "engine_choice.png", tmp_path / "performance.md"
    shutil.copyfile(PERFORMANCE, doc)
    run_bench("engine_choice.py", "--grid", "8,2,5", "16,3,4", "--repeats", 2, "--results", out, "--figure", fig,
              "--doc", doc)
    payload = json.loads(out.read_text(encoding="utf-8"))
    assert [(r["N"], r["rows"], r["T"]) for r in payload["rows"]] == [(8, 2, 5), (16, 3, 4)]
    for r in payload["rows"]:
        assert r["auto"] == "torch" and r["work"] == r["rows"] * r["N"] ** 2 * r["T"]
        assert all(positive(r[k]) for k in ("torch_s", "jax_s", "jax_first_s"))
        assert len(r["times_s"]["torch"]) == len(r["times_s"]["jax"]) == 2
    check_png(fig)
    check_doc(doc, "engine_choice", "## Which engine: torch or JAX", out)


def test_training(tmp_path: Path) -> None:
    out, fig, doc = tmp_path / "training.json", tmp_path / "training.png", tmp_path / "performance.md"
    shutil.copyfile(PERFORMANCE, doc)
    run_bench("training.py", "--repeats", 1, "--mode-size", 32, "--mode-batch", 4, "--mode-steps", 10,
              "--memory-size", 32, "--memory-batch", 4, "--memory-steps", 40, "--memory-chunk", 10,
              "--growth-sizes", 8, 16, 32, "--growth-contexts", 1, 2, "--growth-steps", 5,
              "--results", out, "--figure", fig, "--doc", doc)
    p = json.loads(out.read_text(encoding="utf-8"))
    assert (p["mode_N"], p["mode_batch"], p["mode_T"], p["repeats"]) == (32, 4, 10, 1)
    for mode in ("bias", "full"):
        assert positive(p["modes"][mode]["median_s"]) and len(p["modes"][mode]["times_s"]) == 1
    mem = p["memory"]
    assert (mem["N"], mem["batch"], mem["T"], mem["chunk"]) == (32, 4, 40, 10)
    assert math.isfinite(mem["peak_mib_without"]) and math.isfinite(mem["peak_mib_with"])
    assert mem["max_abs_grad_difference"] <= 1e-4 * mem["max_abs_grad"]
    assert p["growth_N"]["N"] == [8, 16, 32] and p["growth_contexts"]["contexts"] == [1, 2]
    for key in ("growth_N", "growth_contexts"):
        assert all(map(positive, p[key]["ms_per_step"])) and math.isfinite(p[key]["slope"])
    check_png(fig)
    check_doc(doc, "training", "## Training", out)


def test_sweep(tmp_path: Path) -> None:
    out, fig, doc = tmp_path / "sweep.json", tmp_path / "sweep.png", tmp_path / "performance.md"
    shutil.copyfile(PERFORMANCE, doc)
    run_bench("sweep.py", "--rounds", 1, "--cells", 2, "--steps", 2, "--results", out, "--figure", fig, "--doc", doc)
    p = json.loads(out.read_text(encoding="utf-8"))
    assert (p["rounds"], p["cells"], p["steps"]) == (1, 2, 2)
    assert sorted(p["wall_s"]) == ["1", "2"] and all(len(ts) == 1 and positive(ts[0]) for ts in p["wall_s"].values())
    assert positive(p["median_cell_s"]) and positive(p["speedup"])
    check_png(fig)
    check_doc(doc, "sweep", "## Sweep scaling", out)


def test_continuation_random_and_demo_cases(tmp_path: Path) -> None:
    out, fig, doc = tmp_path / "continuation.json", tmp_path / "continuation.png", tmp_path / "performance.md"
    shutil.copyfile(PERFORMANCE, doc)
    run_bench("continuation.py", "--sizes", 24, 32, "--trained", 8, "--cache", tmp_path / "cache",
              "--dense-max-units", 24, "--results", out, "--figure", fig, "--doc", doc)
    payload = json.loads(out.read_text(encoding="utf-8"))
    rows = payload["rows"]
    assert [(r["case"], r["n_units"], r["solver"], "skipped" in r) for r in rows] == [
        ("random", 24, "dense", False), ("random", 24, "krylov", False), ("random", 32, "dense", True),
        ("random", 32, "krylov", False), ("demo", 8, "dense", False), ("demo", 8, "krylov", False)]
    for r in rows:
        if "skipped" not in r:
            assert positive(r["wall_s"]) and r["max_residual"] <= 1e-10 and r["points"] >= 2
    demo = [r for r in rows if r["case"] == "demo"]
    assert demo[0]["bifurcations"] == demo[1]["bifurcations"]  # both solvers follow the same branch
    assert [r["linear_solver"] for r in demo] == ["lu", "gmres with reused lu"]
    assert (tmp_path / "cache" / "demo_8" / "fixed_points.nc").exists()  # searched once, outside the timing
    check_png(fig)
    check_doc(doc, "continuation", "### Fixed-point continuation", out)
    section = doc.read_text(encoding="utf-8")
    assert "not run: dense skipped above 24 units" in section
    assert "at 2048 units in under 60 s with the default settings: **not measured** in this run." in section


def test_continuation_goal_needs_the_dense_solvers_bifurcations() -> None:
    bench = load_bench("continuation.py")
    row = dict(case="demo", n_units=2048, solver="krylov", default=True, wall_s=50.0, cpu_s=60.0,
               max_residual=1e-11, all_located=True, end_reason=["reached_end"], bifurcations={"hopf": 2},
               bif_s=[0.1, 0.8])
    dense = dict(row, solver="dense", default=False, wall_s=300.0)
    assert "**not judged**" in bench.goal_lines([row])[0]
    assert "**met**" in bench.goal_lines([row, dense])[0]
    assert "**NOT met**" in bench.goal_lines([row, dict(dense, bif_s=[0.1, 0.9])])[0]
    assert "**NOT met**" in bench.goal_lines([dict(row, bifurcations={}, bif_s=[]), dense])[0]
    assert "**NOT met**" in bench.goal_lines([dict(row, wall_s=60.5), dense])[0]
    skipped = {k: v for k, v in row.items() if k != "wall_s"} | {"skipped": "not run"}
    assert "**not measured**" in bench.goal_lines([skipped, dense])[0]

"""Every command in README.md runs, on tiny settings, so the README cannot drift from the code.

The README's fenced code blocks are extracted in order:

* shell blocks (no language, ``sh``, ``bash`` or ``console``): every line is a
  command. ``neurobias ...`` lines run in-process (``neurobias.cli.main``) with
  paths under ``runs/`` moved into the test's directory and the tiny settings
  the README's "Development" section names (:func:`tiny_argv`); ``make demo``
  runs the Makefile's demo as written, at full size
  (:func:`test_readme_make_demo_as_written`, slow), and at tiny size twice
  through its ``DEMO``/``DEMO_ARGS``/``FP_ARGS`` variables (a second
  ``make demo`` replaces the first); a ``$(neurobias ...)`` inside a command
  runs first and its output takes its place, as in a shell; ``neurobias data
  fetch`` reads the folder ``$NEUROBIAS_DATA`` names and must print a file in
  it (the tests never download; a line whose recording is absent there is
  skipped); ``make lab`` is checked with ``make -n`` and by importing
  JupyterLab where the ``notebooks`` extra is installed
  (:func:`test_make_lab_opens_the_notebooks_with_jupyterlab`: no server is
  started); ``make docs`` with ``make -n``: ``tests/test_docs.py`` builds the
  site with the same Sphinx command and opens it in chromium;
  ``make test``, ``make bench`` and ``make reproduce`` are checked with
  ``make -n`` (running the suite inside itself, or hours of benchmarks, is not a
  test; ``make reproduce QUICK=1`` is run by ``tests/test_reproduce.py``).
  Any other command fails the test, so a new kind of command must be taught here.

``make`` runs with the environment that runs the tests (``VENV`` set to it and its install stamps taken
as done, ``make -o``), so that no test ever creates or installs an environment.
* ``python`` blocks run in order in the test's directory (where ``models``
  points at the repository's), with tiny settings: configs loaded through
  ``neurobias.load_config`` get :data:`conftest.TINY_SETS`, and literal sizes
  in the code (``steps=300``, ``Circuit.random(128``, ...) are made small.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from conftest import TINY_SETS, recording_path

# the README's commands run here with a few training steps, which need not lower the loss
pytestmark = pytest.mark.filterwarnings("ignore::neurobias.errors.ConvergenceWarning")

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SHELL = {"", "sh", "bash", "console", "shell"}


def blocks() -> list[tuple[str, str]]:
    """``(language, code)`` of every fenced block of the README, in order."""
    text = README.read_text(encoding="utf-8")
    return [(m.group(1).strip().lower(), m.group(2)) for m in re.finditer(r"^```([^\n`]*)\n(.*?)^```", text,
                                                                        flags=re.S | re.M)]


def shell_commands() -> list[str]:
    out = []
    for lang, code in blocks():
        if lang in SHELL:
            for line in code.splitlines():
                line = line.split(" #", 1)[0].strip()
                if line and not line.startswith("#"):
                    out.append(line)
    return out


def python_blocks() -> list[str]:
    return [code for lang, code in blocks() if lang == "python"]


# literal sizes in README code made tiny (pattern, replacement)
PY_TINY = [
    (r"\bsteps=\d+", "steps=3"),
    (r"\bn_trials=\d+", "n_trials=1"),
    (r"Circuit\.random\(\d+", "Circuit.random(16"),
    (r"\bduration=\d+(\.\d+)?", "duration=100.0"),
    (r"\bn_candidates=\d+", "n_candidates=8"),
]


def tiny_argv(argv: list[str], work: Path) -> list[str]:
    """A README ``neurobias`` command made tiny and moved into ``work``."""
    out = []
    for a in argv:
        if a.startswith("runs/"):
            a = str(work / a)
        elif a.startswith("models/"):
            a = str(ROOT / a)
        out.append(a)
    cmd = out[0] if out else ""
    if cmd in ("run", "sweep"):
        for s in TINY_SETS:
            out += ["--set", s]
        out.append("--no-progress")
    if cmd == "fit-recordings":
        import tomllib

        config = Path(out[out.index("--config") + 1]) if "--config" in out else None
        model = tomllib.loads(config.read_text(encoding="utf-8")).get("fit", {}).get("model", "condition") \
            if config is not None else "condition"
        if model == "condition":
            out += ["--set", "fit.n_units=64", "--set", "fit.steps=150", "--set", "fit.n_shuffles=3"]
        else:  # the context models have no per-fit null; their cross-validation is made tiny
            out += ["--set", "fit.n_units=32", "--set", "fit.steps=5", "--set", "crossval.n_shuffles=3", "--set",
                    'crossval.baselines=["linear"]']
        out += ["--no-progress", "--no-figures"]
    if cmd == "compare-recordings":
        out += ["--set", "compare.n_shuffles=3", "--set", "compare.dsa_shuffles=1", "--no-progress"]
    if cmd == "fixed-points" and "--candidates" not in out:
        out += ["--candidates", "8"]
    if cmd == "continue" and "--steps" not in out:
        out += ["--steps", "30"]
    return out


def make_argv(*args: str) -> list[str]:
    """``make -C ROOT ARGS`` with the environment running the tests as the Makefile's ``VENV``, never installing."""
    venv = Path(sys.prefix)
    done = [a for stamp in (".torch", ".installed-base", ".installed-dev", ".installed-docs", ".installed-notebooks")
            for a in ("-o", str(venv / stamp))]
    return ["make", "-C", str(ROOT), f"VENV={venv}", *done, *args]


def _make_env() -> dict[str, str]:
    # the environment's `neurobias` must import this checkout (the one under test)
    path = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(ROOT) + (os.pathsep + path if path else "")}


DEMO_FILES = ("circuit.nc", "results.nc", "fixed_points.nc", "continuation.nc", "comparison.nc", "report.html")


def test_readme_has_quick_start_commands() -> None:
    commands = shell_commands()
    assert commands[:2] == ["make demo", "make test"], commands[:2]


@pytest.mark.slow  # a few minutes on two cores: the tiny demo twice, a sweep, a recording fit and its comparison
def test_readme_shell_commands(tmp_path: Path, run_cli) -> None:
    commands = shell_commands()
    assert commands
    env = _make_env()
    for line in commands:
        words = shlex.split(line)
        if words[:2] == ["make", "demo"]:
            demo = tmp_path / "runs" / "demo"
            tiny = " ".join(f"--set {s}" for s in TINY_SETS) + " --no-progress"
            for seed in (1, 2):  # a second `make demo` replaces the first demo (with its analyses and report)
                proc = subprocess.run(make_argv("demo", f"DEMO={demo}", f"DEMO_ARGS={tiny} --seed {seed}",
                                                "FP_ARGS=--candidates 8", "CONT_ARGS=--steps 30"),
                                      capture_output=True, text=True, env=env, timeout=600)
                assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
                for name in DEMO_FILES:
                    assert (demo / name).is_file(), name
                from neurobias.io import read_dataset

                assert int(read_dataset(demo / "results.nc").attrs["seed"]) == seed
                for name in ("fixed_points.nc", "continuation.nc", "comparison.nc"):  # none left of the first demo
                    assert int(read_dataset(demo / name).attrs["run_seed"]) == seed, name
        elif words[0] == "make":
            proc = subprocess.run(make_argv("-n", *words[1:]), capture_output=True, text=True, env=env, timeout=60)
            assert proc.returncode == 0, f"`{line}`: {proc.stderr}"
            assert proc.stdout.strip(), f"`{line}` does nothing"
        elif words[0] == "neurobias":
            fetched = re.findall(r"\bdata fetch (\w+)", line) + re.findall(r"\bfit-recordings (mante2013)\b", line)
            if any(recording_path(name) is None for name in fetched):
                continue  # the recording is not in $NEUROBIAS_DATA (tests/test_recordings.py says so); no download
            # command substitution `$(neurobias ...)`: run the inner command, put its output in its place
            for inner in re.findall(r"\$\((neurobias [^)]*)\)", line):
                rc, out, err = run_cli(tiny_argv(shlex.split(inner)[1:], tmp_path))
                assert rc == 0, f"`{inner}` failed: {err}"
                line = line.replace(f"$({inner})", shlex.quote(out.strip()))
            words = shlex.split(line)
            rc, out, err = run_cli(tiny_argv(words[1:], tmp_path))
            assert rc == 0, f"`{line}` failed: {err}"
            if words[1:3] == ["data", "fetch"]:
                # read from the folder $NEUROBIAS_DATA names, the checked file's path printed
                fetched_path = Path(out.strip())
                folder = Path(os.environ["NEUROBIAS_DATA"])
                assert fetched_path.is_file() and fetched_path.resolve() == recording_path(words[3]).resolve(), out
                assert fetched_path.resolve().is_relative_to(folder.resolve()), (out, folder)
        else:
            pytest.fail(f"README command not covered by this test: `{line}`")


def test_readme_python_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import neurobias as nb

    codes = python_blocks()
    assert codes
    (tmp_path / "models").symlink_to(ROOT / "models")
    for name in ("data", "notebooks"):
        if (ROOT / name).exists():
            (tmp_path / name).symlink_to(ROOT / name)
    monkeypatch.chdir(tmp_path)
    load = nb.load_config

    def tiny_load(path, *args, **kwargs):  # noqa: ANN001, ANN202
        return nb.apply_overrides(load(path, *args, **kwargs), list(TINY_SETS))

    monkeypatch.setattr(nb, "load_config", tiny_load)
    for i, code in enumerate(codes):
        for pattern, repl in PY_TINY:
            code = re.sub(pattern, repl, code)
        try:
            exec(compile(code, f"README.md python block {i + 1}", "exec"), {"__name__": f"readme_{i}"})
        except Exception as exc:  # noqa: BLE001 - report which block failed
            pytest.fail(f"README python block {i + 1} failed: {type(exc).__name__}: {exc}\n{code}")


def test_readme_states_the_tiny_sizes_its_test_uses(tmp_path: Path) -> None:
    """Every size this test adds to a README command is written in the README's "Development" section."""
    text = " ".join(README.read_text(encoding="utf-8").split("## Development", 1)[1].split())
    for cmd in (["run", "models/demo.toml"], ["sweep", "models/demo.toml"], ["fit-recordings", "X"],
                ["compare-recordings", "X"], ["fixed-points", "X"], ["continue", "X"]):
        added = tiny_argv(cmd, tmp_path)[len(cmd):]
        pairs = [f"{a} {b}" for a, b in zip(added, added[1:]) if a in ("--set", "--candidates", "--steps")]
        assert pairs, cmd
        for pair in pairs:
            assert f"`{pair}" in text or f" {pair}" in text, f"the README does not say the test uses `{pair}`"


def test_readme_links_exist() -> None:
    text = README.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#]+)\)", text):
        if not re.match(r"https?://", target):
            assert (ROOT / target).exists(), f"README links to a missing file: {target}"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_readme_make_demo_as_written(tmp_path: Path) -> None:
    """``make demo`` at its full size (about two minutes on two cores); only its output folder is moved."""
    demo = tmp_path / "runs" / "demo"
    proc = subprocess.run(make_argv("demo", f"DEMO={demo}"), capture_output=True, text=True, env=_make_env(),
                          timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    for name in DEMO_FILES:
        assert (demo / name).is_file(), name
    # what the README says the demo does: three sines learned by one fixed 256-unit circuit
    from neurobias.io import read_dataset

    results = read_dataset(demo / "results.nc")
    assert results.sizes["unit"] == 256 and [str(c) for c in results["context"].values] == [
        "sine_1Hz", "sine_2Hz", "sine_3Hz"]
    assert float(results["nmse"].max()) < 0.01, results["nmse"].values
    assert f"report: {demo / 'report.html'}" in proc.stdout


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_lab_opens_the_notebooks_with_jupyterlab() -> None:
    """``make lab`` installs the ``notebooks`` extra and starts JupyterLab on notebooks/ (checked, not started)."""
    proc = subprocess.run(make_argv("-n", "lab"), capture_output=True, text=True, env=_make_env(), timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"/jupyter lab --notebook-dir=notebooks\b", proc.stdout), proc.stdout
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    names = {re.split(r"[<>=!~ ;\[]", req, maxsplit=1)[0].lower() for req in extras["notebooks"]}
    assert {"jupyterlab", "ipykernel"} <= names, extras["notebooks"]
    fresh = subprocess.run(["make", "-n", "-C", str(ROOT), "VENV=/nonexistent-venv", "lab"], capture_output=True,
                           text=True, timeout=60)
    assert "[notebooks]" in fresh.stdout, fresh.stdout  # from a fresh clone it installs the extra first
    pytest.importorskip("jupyterlab", reason="the notebooks extra (make lab) is not installed")
    version = subprocess.run([sys.executable, "-m", "jupyterlab", "--version"], capture_output=True, text=True,
                             env=_make_env(), timeout=120)
    assert version.returncode == 0 and re.fullmatch(r"\d+\.\d+.*", version.stdout.strip()), version
    assert int(version.stdout.split(".")[0]) >= 4
    assert sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb")), "no notebook for `make lab` to open"


def test_make_docs_is_the_build_tests_test_docs_runs() -> None:
    """``make docs`` and ``tests/test_docs.py`` (which builds the site and opens it in chromium) run one Sphinx build."""
    recipe = re.search(r"^docs:.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(encoding="utf-8"), flags=re.M)
    assert recipe and "-m sphinx -b html -W --keep-going -E docs" in recipe.group(1), recipe
    test_docs = (ROOT / "tests" / "test_docs.py").read_text(encoding="utf-8")
    for flag in ('"-W"', '"--keep-going"', '"-E"'):
        assert flag in test_docs, flag


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_test_runs_pytest() -> None:
    proc = subprocess.run(["make", "-n", "-C", str(ROOT), "test"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "pytest" in proc.stdout

"""Helpers shared by the benchmark scripts: machine description, timing, output options and publishing.

Each of ``simulation.py``, ``training.py`` and ``sweep.py`` writes a JSON file
of its results, a figure and a marker section of ``docs/performance.md``
(:func:`publish`); ``--results``, ``--figure`` and ``--doc`` choose other files
(:func:`add_output_options`).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
IMG = ROOT / "docs" / "img"
PERFORMANCE = ROOT / "docs" / "performance.md"


def machine_info() -> dict[str, object]:
    """What ran the benchmark (written next to every result); switches torch to one thread first, as neurobias does."""
    torch.set_num_threads(1)  # for the whole benchmark process, as neurobias's loops and solves run
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import neurobias

    return {
        "cpu": model or platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(v, 2) for v in load],
        "python": platform.python_version(),
        "torch": torch.__version__,
        "neurobias": neurobias.__version__,
        "torch_threads": torch.get_num_threads(),
        "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


#: Seed of the order in which :func:`interleaved` runs the variants of each round.
ORDER_SEED = 0


def interleaved(variants: dict[str, Callable[[], object]], repeats: int) -> dict[str, list[float]]:
    """Warm every variant up once, then time each once per round, ``repeats`` rounds; seconds per call.

    Each round runs the variants in its own order, a permutation drawn with :data:`ORDER_SEED` (the same
    orders on every run).  In a fixed order a variant always ran at the same place and after the same
    predecessor: in the simulation benchmark (2026-12-07), ``simulate`` with ``engine="auto"`` and with
    ``engine="jax"``, the same code, differed in every round (by 7-11 % in the medians), each in its own
    direction at N = 512 and 2048.  Drift and what a predecessor leaves behind (memory to free, threads
    still spinning) now fall on every variant alike.
    """
    for fn in variants.values():
        fn()
    names = list(variants)
    times: dict[str, list[float]] = {k: [] for k in variants}
    rng = np.random.default_rng(ORDER_SEED)
    for _ in range(repeats):
        for name in rng.permutation(names):
            t0 = time.perf_counter()
            variants[name]()
            times[name].append(time.perf_counter() - t0)
    return times


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def write_json(path: Path, payload: dict[str, object]) -> Path:
    from neurobias.io.files import atomic_write_text

    atomic_write_text(path, json.dumps(payload, indent=2) + "\n")
    return path


def add_output_options(parser: argparse.ArgumentParser, name: str) -> None:
    """``--results``, ``--figure`` and ``--doc`` of the benchmark ``name`` (defaults: the repository's files)."""
    parser.add_argument("--results", type=Path, default=RESULTS / f"{name}.json", metavar="FILE",
                        help=f"JSON file of the results (default benchmarks/results/{name}.json)")
    parser.add_argument("--figure", type=Path, default=IMG / f"bench_{name}.png", metavar="FILE",
                        help=f"figure (default docs/img/bench_{name}.png)")
    parser.add_argument("--doc", type=Path, default=PERFORMANCE, metavar="FILE",
                        help=f"Markdown file whose '{name}' section is replaced (default docs/performance.md)")


def shown(path: Path) -> str:
    """``path`` as the report names it: relative to the repository when inside it."""
    path = Path(path).resolve()
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)


def figure_link(alt: str, figure: Path) -> str:
    """A Markdown image link to ``figure`` from ``docs/performance.md``, or ``""`` when the figure is outside ``docs/``."""
    where = shown(figure)
    return f"![{alt}]({Path(where).relative_to('docs').as_posix()})" if where.startswith("docs/") else ""


def command_line() -> str:
    return "python " + " ".join([str(Path(sys.argv[0]).relative_to(ROOT)) if Path(sys.argv[0]).is_absolute()
                                 else sys.argv[0], *sys.argv[1:]])


def machine_line(info: dict[str, object]) -> str:
    return (f"{info['cpu']}, {info['cpus']} CPUs, load average {info['load_average_at_start'][0]} at the start "
            f"(a machine shared with other jobs), torch {info['torch']} on {info['torch_threads']} thread(s), "
            f"neurobias {info['neurobias']}, {info['date_utc']}")


def rerender(name: str, args: argparse.Namespace, *, figure: Callable[[list, Path], None],
             report: Callable[[dict[str, object], Path, Path], str]) -> None:
    """``--report-only``: redraw the figure and rewrite the section ``name`` from the ``--results`` JSON."""
    from neurobias.io.results_doc import write_section

    payload = json.loads(Path(args.results).read_text(encoding="utf-8"))
    figure(payload["rows"], args.figure)
    write_section(args.doc, name, report(payload, args.results, args.figure))


def publish(name: str, payload: dict[str, object], args: argparse.Namespace, *, draw: Callable[[Path], None],
            report: Callable[[dict[str, object], Path, Path], str]) -> str:
    """Write ``payload`` to ``--results``, the figure (``draw(path)``) and the section ``name`` of ``--doc``.

    Returns the section's Markdown text; prints where each file went.
    """
    from neurobias.io.results_doc import write_section

    path = write_json(args.results, payload)
    draw(args.figure)
    text = report(payload, args.results, args.figure)
    write_section(args.doc, name, text)
    print(f"results: {path}\nfigure: {args.figure}\nsection `{name}` of {args.doc}")
    return text

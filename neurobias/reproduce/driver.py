"""Run the reproduction of Williams et al. (2024) and write its section of a results document."""
from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path

import matplotlib
import torch
from tqdm.auto import tqdm

from neurobias.errors import InputError
from neurobias.io.figures import save_figure
from neurobias.io.results_doc import write_section
from neurobias.reproduce.feedforward_experiments import multitask, width_scaling
from neurobias.reproduce.outcome import Outcome
from neurobias.reproduce.recurrent_experiments import lorenz_forecast, reaching, sine, vanderpol_gain
from neurobias.reproduce.settings import EXPERIMENT_NAMES, Settings, get_settings

__all__ = ["EXPERIMENTS", "reproduce", "render", "SECTION_KEY"]

SECTION_KEY = "williams"

#: the experiments, in the order they run
EXPERIMENTS: dict[str, Callable[..., Outcome]] = {
    "width": width_scaling,
    "multitask": multitask,
    "sine": sine,
    "vanderpol": vanderpol_gain,
    "lorenz": lorenz_forecast,
    "reaching": reaching,
}
assert tuple(EXPERIMENTS) == EXPERIMENT_NAMES  # one list of names, also used by the CLI without importing torch


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render(outcomes: Sequence[Outcome], *, settings: Settings, command: str, wall_s: float,
           figure_paths: dict[str, str], cpu_s: float | None = None) -> str:
    """The Markdown section: setting, command, wall time, the claims table, then each experiment's tables and figures."""
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, 1 torch thread"
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    size_note = {
        "full": "**Full size.**",
        "quick": "**Quick setting (small sizes): these numbers are NOT the full-size reproduction**; run "
                 "`make reproduce` for that (estimated a few hours on 2 cores, see docs/williams.md).",
        "medium": "**Medium setting: larger than quick but still NOT the full-size reproduction**; run "
                  "`make reproduce` for that (estimated a few hours on 2 cores, see docs/williams.md).",
        "tiny": "**Tiny setting (test size): numbers are meaningless except as a smoke test.**",
    }[settings.name]
    lines = [
        "## Reproduction of Williams et al. 2024 (arXiv:2407.00957)", "",
        f"{size_note} Setting `{settings.name}`; what each setting trains is in `neurobias/reproduce/settings.py` "
        "and what we chose where the paper's setup is unknown is in `docs/williams.md`.", "",
        "Command (repository root):", "", "```", command, "```", "",
        f"Wall time **{wall_s:.0f} s** in all ({', '.join(f'{o.name} {o.wall_s:.0f} s' for o in outcomes)})"
        + (f", CPU time of the process {cpu_s:.0f} s" if cpu_s is not None else "")
        + f" on {machine}; measured {when}. (Wall time depends on what else runs on the machine; CPU time much less.)",
        "",
        "### Claims", "",
        "Every row is measured by the command above; the verdict is computed from the measured numbers by the "
        "criterion in the last column.", "",
        "| claim | paper | ours | same or different | criterion / why |", "|---|---|---|---|---|",
    ]
    for o in outcomes:
        for c in o.claims:
            lines.append(f"| {_cell(c.claim)} | {_cell(c.paper)} | {_cell(c.ours)} | {c.verdict} | {_cell(c.why)} |")
    for o in outcomes:
        lines += ["", f"### {o.title}", "", o.markdown.strip(), ""]
        for stem in o.figures:
            lines.append(f"![{stem}]({figure_paths[stem]})")
    return "\n".join(lines) + "\n"


def reproduce(
    *, size: str = "quick", out: str | os.PathLike | None = None, doc: str | os.PathLike | None = None,
    only: Sequence[str] | None = None, command: str = "neurobias reproduce", progress: bool = True,
) -> list[Outcome]:
    """Run the experiments and write figures and the ``williams`` section of a results document.

    Parameters
    ----------
    size : {"tiny", "quick", "medium", "full"}
        Sizes from :mod:`neurobias.reproduce.settings`.
    out : path, optional
        Directory of the figures (``williams_*.png``). Default ``docs/img`` for
        ``full``, ``runs/reproduce-<size>`` otherwise.
    doc : path, optional
        Markdown file whose ``williams`` section is replaced. Default
        ``docs/results.md`` for ``full``, ``<out>/results.md`` otherwise.
    only : sequence of str, optional
        Names of the experiments to run (keys of :data:`EXPERIMENTS`); all by default.
    command : str
        The command recorded in the document.
    progress : bool
        Progress bars.

    Returns
    -------
    list of Outcome
    """
    settings = get_settings(size)
    names = list(EXPERIMENTS) if not only else list(only)
    unknown = [n for n in names if n not in EXPERIMENTS]
    if unknown:
        raise InputError(f"`only` must name experiments among {', '.join(EXPERIMENTS)}; got {', '.join(unknown)}")
    out_dir = Path(out) if out is not None else Path("docs/img" if size == "full" else f"runs/reproduce-{size}")
    doc_path = Path(doc) if doc is not None else (Path("docs/results.md") if size == "full" else out_dir / "results.md")
    matplotlib.use("Agg")
    t0, c0 = time.perf_counter(), time.process_time()
    outcomes, paths = [], {}
    for name in tqdm(names, desc="reproduce", unit="experiment", disable=not progress):
        outcome = EXPERIMENTS[name](settings, progress=progress)
        for stem, fig in outcome.figures.items():
            path = save_figure(fig, out_dir / f"{stem}.png", dpi=110)
            paths[stem] = os.path.relpath(path, doc_path.parent)
        outcomes.append(outcome)
    body = render(outcomes, settings=settings, command=command, wall_s=time.perf_counter() - t0, figure_paths=paths,
                  cpu_s=time.process_time() - c0)
    write_section(doc_path, SECTION_KEY, body)
    return outcomes

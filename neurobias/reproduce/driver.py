"""Run the reproduction of Williams et al. (2024) and write its section of a results document."""
from __future__ import annotations

import inspect
import json
import multiprocessing
import os
import platform
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, replace
from datetime import datetime, timezone
from pathlib import Path

import matplotlib
import torch
from tqdm.auto import tqdm

from neurobias.circuit.threads import one_thread
from neurobias._version import __version__
from neurobias.errors import InputError, NeurobiasError, check_number
from neurobias.io.figures import save_figure
from neurobias.io.files import atomic_write_text
from neurobias.io.results_doc import write_section
from neurobias.reproduce.criteria import CLAIMS_OF, criterion
from neurobias.reproduce.feedforward_experiments import multitask, width_scaling
from neurobias.reproduce.flipflop import flipflop_memories
from neurobias.reproduce.outcome import Claim, Outcome
from neurobias.reproduce.recurrent_experiments import lorenz_forecast, reaching, sine, vanderpol_gain
from neurobias.reproduce.settings import EXPERIMENT_NAMES, USES, Settings, SettingsReader, get_settings

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
    "flipflop": flipflop_memories,
}
assert tuple(EXPERIMENTS) == EXPERIMENT_NAMES  # one list of names, also used by the CLI without importing torch


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, 1 torch thread per process"


def render(outcomes: Sequence[Outcome], *, settings: Settings, command: str, wall_s: float,
           figure_paths: Mapping[str, str], jobs: int = 1, earlier: Mapping[str, str] | None = None,
           missing: Sequence[str] = (), differences: str | None = None) -> str:
    """The Markdown section: setting, command, wall time, the claims table, then each experiment's tables and figures.

    Parameters
    ----------
    outcomes : sequence of Outcome
        In the order they appear.
    settings : Settings
    command : str
        The command recorded in the section.
    wall_s : float
        Wall time of the call that wrote the section, in seconds.
    figure_paths : mapping of str to str
        Figure stem to its path relative to the document.
    jobs : int
        Worker processes of that call.
    earlier : mapping of str to str, optional
        Experiments whose outcome comes from an earlier call, to the date it was measured.
    missing : sequence of str
        Experiments neither run by this call nor stored by an earlier one.
    differences : str, optional
        Link (relative to the document) to where the differences from the
        paper are discussed; added to the last column of every row whose
        verdict is "different".
    """
    earlier = dict(earlier or {})
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    size_note = {
        "full": "**Full size.**",
        "quick": "**Quick setting (small sizes): these numbers are NOT the full-size reproduction**; run "
                 "`make reproduce` for that (a few hours on 2 cores, see docs/williams.md).",
        "medium": "**Medium setting: larger than quick but still NOT the full-size reproduction**; run "
                  "`make reproduce` for that (a few hours on 2 cores, see docs/williams.md).",
        "tiny": "**Tiny setting (test size): numbers are meaningless except as a smoke test.**",
    }[settings.name]

    ran = [o for o in outcomes if o.name not in earlier]

    def timing(o: Outcome) -> str:
        cpu = f" / {o.cpu_s:.0f}" if o.cpu_s else ""
        return f"{o.name} {o.wall_s:.0f}{cpu} s" + (f" (measured {earlier[o.name]} by an earlier call)"
                                                     if o.name in earlier and ran else "")

    total_cpu = sum(o.cpu_s for o in ran)
    if ran:
        call = (f"Wall time **{wall_s:.0f} s** for the call, with {jobs} worker process{'es' if jobs > 1 else ''}"
                + (f" (CPU time {total_cpu:.0f} s)" if total_cpu else "") + f", on {_machine()}; measured {when}.")
    else:
        dates = sorted(set(earlier.values()))
        call = (f"This section was rendered on {when} from the outcomes stored by earlier calls (no experiment ran "
                f"in the call that wrote it), measured {', '.join(dates)} on {_machine()}. CPU time of all "
                f"experiments {sum(o.cpu_s for o in outcomes):.0f} s.")
    lines = [
        "## Reproduction of Williams et al. 2024 (arXiv:2407.00957)", "",
        f"{size_note} Setting `{settings.name}`; what each setting trains is in `neurobias/reproduce/settings.py` "
        "and what we chose where the paper's setup is unknown is in `docs/williams.md`.", "",
        "Command (repository root):", "", "```", command, "```", "",
        call + " Per experiment, wall / CPU time: "
        + ", ".join(timing(o) for o in outcomes) + ". Each experiment (or each of its seeds, where they are spread "
        "over processes) runs on one torch thread, and its CPU time counts every process it used, so it is what it "
        "costs on idle cores; its wall time grows with what else runs on the machine.",
        "",
    ]
    if missing:
        lines += [f"Not in this section: {', '.join(missing)} (run `neurobias reproduce --size {settings.name} "
                  f"--only {' '.join(missing)}`).", ""]
    lines += [
        "### Claims", "",
        "Every criterion is declared in one table (`neurobias/reproduce/criteria.py`) with the date it was "
        "declared; where that date is later than the run it judges, the row says so. The verdict is computed from the per-seed values by that table alone: "
        "**same** when the criterion holds for every seed and at least the declared number of seeds was measured, "
        "**mixed** when it holds for some seeds only, **different** when it holds for none, **too few seeds** when "
        "fewer seeds than declared were measured (one seed never gives *same*), **not comparable** where our "
        "setting or the paper's numbers do not allow a comparison, **not measured** where no value of the "
        "criterion's current metric is stored (values measured before the metric changed are not judged by the "
        "new rule). Intervals: 95 % Clopper-Pearson for the success "
        "rate, 95 % Student t for the mean (for the geometric mean, on the logarithms, when every value is positive).", "",
        "| claim | paper | ours | criterion (declared) | per-seed values | across seeds | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    revised = []
    for o in outcomes:
        for c in o.claims:
            crit, j = c.criterion, c.judgement
            per_seed = ", ".join(f"seed {s}: {v:.3g}" for s, v in zip(c.seeds, c.values)) or "not measured"
            if c.earlier_metric:
                per_seed = (f"{per_seed} of the earlier metric (measured {c.measured}, before the metric of "
                            f"{crit.metric_since}; its verdict is in the criteria changed below)")
            verdict = c.verdict + (f" ([discussion]({differences}))" if differences and c.verdict == "different" else "")
            measured = earlier.get(o.name, when)
            declared = (f"declared {crit.declared}" if crit.declared <= measured
                        else f"declared {crit.declared}, after the run of {measured}")
            lines.append(f"| {_cell(crit.claim)} | {_cell(crit.paper)} | {_cell(c.ours)} | "
                         f"{_cell(crit.rule)} ({declared}) | {_cell(per_seed)} | {_cell(j.summary())} | "
                         f"{verdict} |")
            revised += [(crit, r) for r in crit.history]
    for name in missing:  # their criteria stand with their history, unjudged
        for key in CLAIMS_OF.get(name, ()):
            crit = criterion(key)
            lines.append(f"| {_cell(crit.claim)} | {_cell(crit.paper)} | no outcome of `{name}` at this setting | "
                         f"{_cell(crit.rule)} (declared {crit.declared}) | not measured | | not measured |")
            revised += [(crit, r) for r in crit.history]
    if revised:
        lines += ["", "### Criteria changed after a run", "",
                  "Each replaced criterion, what it measured and the verdict it gave, kept as it was:", "",
                  "| claim | replaced | old criterion | it measured | its verdict | why replaced |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| {_cell(crit.claim)} | {r.replaced} | {_cell(r.rule)} | {_cell(r.measured)} | {r.verdict} | "
                  f"{_cell(r.reason)} |" for crit, r in revised]
    for o in outcomes:
        lines += ["", f"### {o.title}", "", o.markdown.strip(), ""]
        for stem in o.figures:
            lines.append(f"![{stem}]({figure_paths[stem]})")
    return "\n".join(lines) + "\n"


def _same_sizes(stored: dict, settings: Settings, name: str) -> bool:
    """True when the stored sizes equal ``settings`` on every parameter experiment ``name`` reads."""
    now = json.loads(json.dumps(asdict(settings)))
    return all(f in stored and stored[f] == now[f] for f in USES[name])


def _store_outcome(path: Path, outcome: Outcome, settings: Settings) -> None:
    """Write one finished experiment (claims, Markdown, times, figure files) as JSON."""
    record = {
        # a claim's date of measurement is the record's ("measured" below), given back to it when read
        "name": outcome.name, "title": outcome.title,
        "claims": [{k: v for k, v in asdict(c).items() if k != "measured"} for c in outcome.claims],
        "markdown": outcome.markdown, "figures": {stem: Path(f).name for stem, f in outcome.figures.items()},
        "wall_s": outcome.wall_s, "cpu_s": outcome.cpu_s, "size": settings.name,
        "reads": sorted(outcome.reads), "sizes": asdict(settings), "measured": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        "neurobias": __version__,
    }
    atomic_write_text(path, json.dumps(record, indent=1))


def _load_outcome(path: Path, settings: Settings, out_dir: Path) -> tuple[Outcome, str] | None:
    """The stored outcome at ``path`` and its date, if it was measured with ``settings`` and its figures exist."""
    try:
        rec = json.loads(path.read_text(encoding="utf-8"))
        if rec["size"] != settings.name or not _same_sizes(rec["sizes"], settings, rec["name"]):
            return None
        figures = {stem: out_dir / name for stem, name in rec["figures"].items()}
        if not all(f.is_file() for f in figures.values()):
            return None
        claims = tuple(Claim(**{**c, "measured": str(rec["measured"])}) for c in rec["claims"])
        outcome = Outcome(name=rec["name"], title=rec["title"], claims=claims,
                          markdown=rec["markdown"], figures=figures, wall_s=float(rec["wall_s"]),
                          cpu_s=float(rec["cpu_s"]))
        return outcome, str(rec["measured"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


@one_thread()
def _run_one(name: str, size: str, out_dir: str, progress: bool, workers: int = 1) -> Outcome:
    """Run one experiment, save its figures in ``out_dir``; the outcome's figures become the PNG paths.

    A module-level function, so that it can run in a worker process.
    Experiments that spread their seeds over processes (a ``workers``
    parameter) get ``workers``; their CPU time then counts these processes
    too.
    """
    matplotlib.use("Agg")
    settings = SettingsReader(get_settings(size))
    fn = EXPERIMENTS[name]
    extra = {"workers": workers} if _takes_workers(name) else {}
    c0 = time.process_time()
    children0 = _children_cpu()
    outcome = fn(settings, progress=progress, **extra)
    cpu = time.process_time() - c0 + _children_cpu() - children0
    paths = {stem: save_figure(fig, Path(out_dir) / f"{stem}.png", dpi=110) for stem, fig in outcome.figures.items()}
    return replace(outcome, figures=paths, cpu_s=cpu, reads=tuple(sorted(settings.read)))


def _children_cpu() -> float:
    """CPU seconds of this process's finished child processes (user and system)."""
    t = os.times()
    return t.children_user + t.children_system


def _takes_workers(name: str) -> bool:
    """True when experiment ``name`` can spread its seeds over worker processes (a ``workers`` parameter)."""
    return "workers" in inspect.signature(EXPERIMENTS[name]).parameters


def _allocation(names: Sequence[str], jobs: int) -> tuple[int, dict[str, int]]:
    """Processes for the experiments (at most one each) and seed workers per experiment.

    The ``jobs`` left over once every experiment has a process go, in equal
    shares, to the experiments that spread their seeds (:func:`_takes_workers`).
    """
    pool = max(1, min(jobs, len(names)))
    spread = [n for n in names if _takes_workers(n)]
    extra = (jobs - pool) // len(spread) if spread else 0
    return pool, {n: 1 + extra if n in spread else 1 for n in names}


def processes_used(names: Sequence[str], jobs: int) -> int:
    """The most processes that run experiments or their seeds at once (see :func:`_allocation`)."""
    if not names:
        return 1
    pool, workers = _allocation(names, jobs)
    return pool + sum(w - 1 for w in workers.values()) if pool > 1 else max(workers.values())


def _finished(names: Sequence[str], size: str, out_dir: str, *, jobs: int,
              progress: bool) -> Iterator[tuple[str, Outcome | Exception]]:
    """Run the experiments ``names`` (in ``jobs`` spawned worker processes above 1) and yield each as it ends.

    With more ``jobs`` than experiments, the spare ones go to the experiments
    that spread their seeds over processes (:func:`_allocation`).
    Yields ``(name, outcome)``, or ``(name, exception)`` for one that failed: the others go on.
    """
    pool, workers = _allocation(names, jobs)
    if pool == 1:
        for name in names:
            try:
                yield name, _run_one(name, size, out_dir, progress, workers[name])
            except Exception as exc:  # noqa: BLE001 - reported by the caller once all have run
                yield name, exc
        return
    with ProcessPoolExecutor(max_workers=pool, mp_context=multiprocessing.get_context("spawn")) as pool_:
        futures = {pool_.submit(_run_one, name, size, out_dir, False, workers[name]): name for name in names}
        for fut in as_completed(futures):
            exc = fut.exception()
            yield futures[fut], (fut.result() if exc is None else exc)


def reproduce(
    *, size: str = "quick", out: str | os.PathLike | None = None, doc: str | os.PathLike | None = None,
    only: Sequence[str] | None = None, jobs: int = 1, command: str = "neurobias reproduce", progress: bool = True,
    render_only: bool = False,
) -> list[Outcome]:
    """Run the experiments and write figures and the ``williams`` section of a results document.

    Every finished experiment is also stored as JSON under ``<out>/outcomes/``
    (``docs/outcomes/``, committed with the repository, for the full size
    with the default ``out``): its claims with the per-seed values of their
    metrics, the seeds, and every size parameter.  Verdicts are not stored:
    they are computed from the values by :data:`~neurobias.reproduce.criteria.CRITERIA`
    whenever the section is written, so ``render_only`` reproduces the
    section from a fresh clone.  A call with ``only`` reruns those experiments and writes a
    section that also holds the stored outcomes of the others, where they
    were measured at the same settings and their figures exist: one
    experiment can be redone without redoing the hours of the rest.

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
    jobs : int
        Worker processes; above 1, experiments run in parallel in separate
        processes (one torch thread each), submitted in the order of
        :data:`EXPERIMENTS` (the longest first at full size). With more jobs
        than experiments, the experiments that measure several seeds
        (``multitask``, ``vanderpol``) spread their seeds over the spare
        processes. Results do not depend on it: every experiment and seed
        seeds its own generators.
    command : str
        The command recorded in the document.
    progress : bool
        Progress bars (with ``jobs > 1`` one bar over experiments only).
        An experiment that fails does not stop the others: they finish and
        are stored, then ``RuntimeError`` names the failed ones.
    render_only : bool
        Run nothing: write the section from the stored outcomes alone (for
        example after the text of the section changed).

    Returns
    -------
    list of Outcome
        The experiments run by this call, in the order of :data:`EXPERIMENTS`;
        their ``figures`` map each figure stem to the PNG file written.
    """
    settings = get_settings(size)
    jobs = check_number("jobs", jobs, ge=1, integer=True)
    if render_only and only:
        raise InputError("`render_only` runs nothing: give it without `only`")
    names = [] if render_only else list(EXPERIMENTS) if not only else [n for n in EXPERIMENTS if n in set(only)]
    unknown = [n for n in (only or ()) if n not in EXPERIMENTS]
    if unknown:
        raise InputError(f"`only` must name experiments among {', '.join(EXPERIMENTS)}; got {', '.join(unknown)}")
    out_dir = Path(out) if out is not None else Path("docs/img" if size == "full" else f"runs/reproduce-{size}")
    doc_path = Path(doc) if doc is not None else (Path("docs/results.md") if size == "full" else out_dir / "results.md")
    store = Path("docs/outcomes") if size == "full" and out is None else out_dir / "outcomes"
    if names:
        out_dir.mkdir(parents=True, exist_ok=True)
        store.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    done: dict[str, Outcome] = {}
    errors: list[tuple[str, BaseException]] = []
    with tqdm(total=len(names), desc="reproduce", unit="experiment", disable=not progress or not names) as bar:
        for name, result in _finished(names, size, str(out_dir), jobs=jobs, progress=progress):
            if isinstance(result, Outcome):
                done[name] = result
                _store_outcome(store / f"{name}.json", result, settings)
            else:
                errors.append((name, result))
            bar.set_postfix_str(name)
            bar.update()
    if errors:
        name, exc = errors[0]
        if isinstance(exc, NeurobiasError):  # a user or environment error (say, a full disk): one line from the CLI
            raise exc
        failed = " ".join(n for n, _ in errors)
        raise RuntimeError(f"experiment(s) {failed} failed (the others are stored in {store}; rerun with "
                           f"--only {failed}): {name}: {exc}") from exc
    wall = time.perf_counter() - t0
    outcomes, earlier, missing = [], {}, []
    for name in EXPERIMENTS:
        if name in done:
            outcomes.append(done[name])
            continue
        stored = _load_outcome(store / f"{name}.json", settings, out_dir)
        if stored is None:
            missing.append(name)
        else:
            outcomes.append(stored[0])
            earlier[name] = stored[1]
    if render_only and not outcomes:
        raise InputError(f"`render_only`: no stored outcome of size {size!r} in {store} (run the experiments first)")
    paths = {stem: os.path.relpath(f, doc_path.parent) for o in outcomes for stem, f in o.figures.items()}
    # the discussion of differences sits next to the results document (docs/williams.md beside docs/results.md)
    differences = ("williams.md#differences-at-full-size"
                   if settings.name == "full" and (doc_path.parent / "williams.md").is_file() else None)
    body = render(outcomes, settings=settings, command=command, wall_s=wall, figure_paths=paths,
                  jobs=processes_used(names, jobs), earlier=earlier, missing=missing, differences=differences)
    write_section(doc_path, SECTION_KEY, body)
    return [done[name] for name in names]

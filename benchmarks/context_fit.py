"""Wall time of the context-tonic fit on the Mante et al. (2013) data: every held-out-condition fold, with and without nested tuning.

The model and folds of ``analyses/mante_fit.py``: ``ContextFit`` in bias mode
(fixed circuit, linear readout), 512 units, 200 Adam steps, 71 conditions x
15 bins, six folds (one motion coherence held out in both contexts), soft
normalisation and centring from each fold's fitted part; with nested tuning
the five (tau, g, input scale) candidates of that script and two inner folds
(eleven fits per fold), without it one fit per fold. Goal: the tuned fit of
all folds in under 10 minutes on 2 cores. Needs the recording
(``NEUROBIAS_DATA`` or ``neurobias data fetch mante2013``)::

    python benchmarks/context_fit.py
"""
from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import PERFORMANCE, RESULTS, ROOT, command_line, machine_info, machine_line, write_json  # noqa: E402

GOAL_S = 600.0


def _script():
    spec = importlib.util.spec_from_file_location("mante_fit", ROOT / "analyses" / "mante_fit.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--units", type=int, default=512)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--tune-folds", type=int, default=2)
    p.add_argument("--results", type=Path, default=RESULTS / "context_fit.json")
    p.add_argument("--doc", type=Path, default=PERFORMANCE)
    a = p.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from neurobias.fitting.context_fit import ContextFit
    from neurobias.fitting.crossval import cross_validate
    from neurobias.io.results_doc import write_section
    from neurobias.recordings.shared import mante2013

    from neurobias.errors import NeurobiasError

    try:
        rec = mante2013()
    except NeurobiasError as e:  # the recording is not on this machine: say so, measure nothing
        print(f"context_fit: skipped, the Mante et al. (2013) recording is not available: {e}")
        return 0
    info = machine_info()
    script = _script()
    est = ContextFit(mode="bias", readout="linear", n_units=a.units, steps=a.steps, **script.CONTEXT_KW)
    common = dict(scheme="conditions", by="motion", soft=5.0, center=True, noise_variance=rec["rate_variance"].values,
                  n_shuffles=0, seed=0)
    t0 = time.perf_counter()
    plain = cross_validate(est, rec, **common)
    t_plain = time.perf_counter() - t0
    t0 = time.perf_counter()
    tuned = cross_validate(est, rec, tune=script.TUNE_RECURRENT, tune_by="motion", tune_folds=a.tune_folds, **common)
    t_tuned = time.perf_counter() - t0
    n_folds = plain.sizes["fold"]
    fits = len(script.TUNE_RECURRENT) * a.tune_folds + 1
    payload = {"machine": info, "command": command_line(), "units": a.units, "steps": a.steps, "folds": n_folds,
               "fits_per_fold_tuned": fits, "seconds_untuned": t_plain, "seconds_tuned": t_tuned,
               "r2_untuned": float(plain["r2"]), "r2_tuned": float(tuned["r2"]), "goal_s": GOAL_S}
    write_json(a.results, payload)
    text = "\n".join([
        "## Context fit on the Mante et al. (2013) data: every fold",
        "",
        f"Command: `{command_line()}`. {machine_line(info)}",
        "",
        f"`ContextFit` in bias mode (fixed circuit, linear readout), {a.units} units, {a.steps} Adam steps per fit, "
        f"71 conditions x 15 bins, all {n_folds} held-out-condition folds (one motion coherence each):",
        "",
        "| | fits per fold | wall time | R² of the pooled held-out predictions |",
        "|---|---|---|---|",
        f"| without tuning (the given tau, g, input scale) | 1 | {t_plain:.0f} s | {float(plain['r2']):.3f} |",
        f"| nested tuning ({len(script.TUNE_RECURRENT)} candidates, {a.tune_folds} inner folds) | {fits} | "
        f"{t_tuned:.0f} s ({t_tuned / 60:.1f} min) | {float(tuned['r2']):.3f} |",
        "",
        f"Goal: the tuned fit of every fold in under {GOAL_S / 60:.0f} minutes on 2 cores: "
        f"**{'met' if t_tuned <= GOAL_S else 'NOT met'}**"
        + ("" if info["load_average_at_start"][0] < 1.0 else
           f" (measured with load average {info['load_average_at_start'][0]:.1f} at the start: the machine was not "
           "idle)") + f". Raw numbers: `{a.results.relative_to(ROOT) if a.results.is_relative_to(ROOT) else a.results}`.",
    ])
    write_section(a.doc, "context_fit", text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

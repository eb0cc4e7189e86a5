"""The report of a real (small) demo run does not contradict itself and does not overclaim.

The run is the demo's config at 64 units with a target loss it reaches early, then the demo's analyses.
Every expected number is read from the files (``results.nc``, ``fixed_points.nc``, ``continuation.nc``,
``comparison.nc``) and from the config, never from the report code:

* one step count: the steps taken, of the steps configured, with the early stop said in words;
* no p-value for the alignment of three contexts' tonic inputs (two components explain 100 % by construction);
* the continuation in one sentence: its bifurcations and the fixed point of the end context it reaches;
* the fixed points matched by distance and those joined by the continuation: the same count or the
  difference explained.
"""
from __future__ import annotations

import contextlib
import html
import io
import re
from pathlib import Path

import numpy as np
import pytest

from neurobias.io import read_dataset

pytestmark = pytest.mark.filterwarnings("ignore::neurobias.errors.ConvergenceWarning")

ROOT = Path(__file__).resolve().parents[1]
STEPS, TARGET = 200, 0.2
SETS = ("circuit.n_units=64", f"training.steps={STEPS}", f"training.target_loss={TARGET}",
        "task.duration_ms=500.0", "output.figures=false")


def _main(argv: list[str]) -> str:
    from neurobias.cli import main

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = main([str(a) for a in argv])
    assert rc == 0, f"{argv}: exit {rc}\n{buf.getvalue()}"
    return buf.getvalue()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A small demo run with every analysis and its report; returns the directory, the page and the outputs."""
    d = tmp_path_factory.mktemp("report") / "demo"
    sets = [a for s in SETS for a in ("--set", s)]
    outputs = {"run": _main(["run", ROOT / "models" / "demo.toml", "--out", d, "--no-progress", *sets])}
    outputs["fixed-points"] = _main(["fixed-points", d, "--candidates", "16", "--no-figures"])
    outputs["continue"] = _main(["continue", d, "--from", "sine_1Hz", "--to", "sine_3Hz", "--no-figures",
                                  "--no-orbits"])  # following the limit cycles adds minutes here
    outputs["compare"] = _main(["compare-contexts", d, "--shuffles", "20", "--no-figures"])
    _main(["report", d])
    page = (d / "report.html").read_text(encoding="utf-8")
    text = html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<img[^>]*>", "", page)))
    return {"dir": d, "page": page, "text": " ".join(text.split()), "outputs": outputs}


def _paragraph(text: str, start: str) -> str:
    i = text.index(start)
    return text[i:text.index(".", text.index(":", i) + 1) + 1] if "." in text[i:] else text[i:]


def test_one_step_count_and_the_early_stop(demo):
    results = read_dataset(Path(demo["dir"]) / "results.nc")
    done = int(results.attrs["steps_done"])
    assert done < STEPS, f"the run did not stop early (the test needs a target loss of {TARGET} reached)"
    loss = results["loss"].values
    assert loss.size == done + 1 and loss[-1] <= TARGET < loss[0]
    text = demo["text"]
    assert f"optimiser steps {done} of {STEPS} (target loss reached)" in text
    assert f"{done} optimiser steps (updates of the trained parameters) of the {STEPS} configured" in text
    assert f"Training stopped early, at step {done} of {STEPS}, because the loss reached the target loss" in text
    assert f"({done + 1} values)" in text
    # the contradiction of two step counts is gone
    assert f"{done + 1} optimiser steps" not in text and re.search(r"(?<!optimiser )\bsteps \d+\b", text) is None
    assert f"trained {done} of {STEPS} steps" in demo["outputs"]["run"] and "stopped early" in demo["outputs"]["run"]


def test_no_p_value_for_the_alignment_of_three_contexts(demo):
    comparison = read_dataset(Path(demo["dir"]) / "comparison.nc")
    assert comparison.sizes["context"] == 3 and comparison.sizes["pca_component"] == 2
    assert np.isfinite(float(comparison["pca_p_value"]))  # computed and stored, but no test by construction
    for where in (demo["text"], demo["outputs"]["compare"]):
        i = where.index("Dimensionality:")
        paragraph = where[i:where.index("Task variance", i)]
        assert "2 components explain 100% of the variance by construction" in paragraph
        assert "p =" not in paragraph and "than chance" not in paragraph


def test_the_continuation_in_one_sentence(demo):
    d = Path(demo["dir"])
    cont, fixed = read_dataset(d / "continuation.nc"), read_dataset(d / "fixed_points.nc")
    found = re.findall(r'<p class="meaning">(.*?)</p>', demo["page"], flags=re.S)
    assert len(found) == 1, found
    sentence = html.unescape(found[0])
    assert sentence.startswith("As the tonic input moves in a straight line from sine_1Hz's (s = 0) to "
                               "sine_3Hz's (s = 1)")
    assert sentence.count(". ") == 0 and sentence.endswith(".")  # one sentence per branch; this run has one
    assert cont.sizes["branch"] == 1
    n = int(cont["n_points"].values[0])
    index = cont["index"].values[0, :n]
    kinds = [str(k) for k, b in zip(cont["bif_kind"].values, cont["bif_branch"].values) if int(b) == 0]
    assert sentence.count("Hopf bifurcation") == kinds.count("hopf")
    assert sentence.count("fold") >= min(1, kinds.count("fold"))
    start_words = "stable" if index[0] == 0 else f"a saddle with {int(index[0])} unstable direction"
    assert f"sine_1Hz's fixed point fp = " in sentence and f"({start_words}" in sentence
    if str(cont["end_reason"].values[0]) == "reached_end":
        # the fixed point of sine_3Hz it reaches, found here from the files
        mine = fixed["context"].values.astype(str) == "sine_3Hz"
        dist = np.linalg.norm(fixed["x"].values[mine] - cont["x"].values[0, n - 1], axis=1)
        if dist.min() < 1e-6:
            fp = int(fixed["fp"].values[mine][int(np.argmin(dist))])
            assert f"arrives at sine_3Hz's fixed point fp = {fp}" in sentence
        else:
            assert "that the fixed-point search did not find" in sentence
    else:
        assert "arrives at" not in sentence


def test_matched_fixed_points_and_the_continuation_agree_or_the_page_says_why(demo):
    d = Path(demo["dir"])
    comparison, cont, fixed = (read_dataset(d / f"{n}.nc") for n in ("comparison", "continuation", "fixed_points"))
    names = [str(c) for c in comparison["context"].values]
    matched = int(comparison["fp_n_matched"].values[names.index("sine_1Hz"), names.index("sine_3Hz")])
    mine = fixed["context"].values.astype(str) == "sine_3Hz"
    joined = 0
    for b in range(cont.sizes["branch"]):
        n = int(cont["n_points"].values[b])
        if str(cont["end_reason"].values[b]) == "reached_end":
            joined += int(np.linalg.norm(fixed["x"].values[mine] - cont["x"].values[b, n - 1], axis=1).min() < 1e-6)
    text = demo["text"]
    assert "Two ways to pair the fixed points of sine_1Hz and sine_3Hz" in text
    assert f"paired {matched};" in text and f"carried {joined} of them onto a fixed point of sine_3Hz" in text
    assert ("The counts differ" in text) == (matched != joined)
    assert "fixed points matched by distance" in text  # the table's column says which matching it counts


def test_the_progress_bar_says_why_it_stops_short(tiny_config, tmp_path, run_cli):
    rc, out, err = run_cli(["run", tiny_config, "--out", tmp_path / "r", "--set", "training.target_loss=100.0"])
    assert rc == 0, err
    assert "stopped early at step 0" in err and "<= target 100" in err
    assert "trained 0 of 5 steps" in out and "stopped early" in out

"""Tests of the reproduction driver (neurobias.reproduce) and ``neurobias reproduce``, at the tiny size.

The quick setting (``make reproduce QUICK=1``) takes minutes; CI runs every
experiment through the same code at the ``tiny`` size instead.
"""
from __future__ import annotations

import re

import pytest

from neurobias.cli import main
from neurobias.errors import InputError
from neurobias.io.results_doc import markers
from neurobias.reproduce import EXPERIMENTS, SECTION_KEY, get_settings, reproduce


def test_every_experiment_runs_and_writes_its_section_and_figures(tmp_path):
    doc = tmp_path / "results.md"
    doc.write_text("# Measured results\n\nother text\n")
    outcomes = reproduce(size="tiny", out=tmp_path / "img", doc=doc, progress=False, command="pytest")
    assert [o.name for o in outcomes] == list(EXPERIMENTS)
    text = doc.read_text()
    start, end = markers(SECTION_KEY)
    assert "other text" in text and start in text and end in text
    section = text.split(start)[1].split(end)[0]
    assert "Tiny setting" in section
    rows = [line for line in section.splitlines() if re.match(r"\| .* \| (same|different|not comparable|not measured) \|", line)]
    assert len(rows) == sum(len(o.claims) for o in outcomes)
    for o in outcomes:
        assert o.wall_s > 0
        for stem in o.figures:
            png = tmp_path / "img" / f"{stem}.png"
            assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            assert f"](img/{stem}.png)" in section


def test_only_runs_the_named_experiment(tmp_path):
    outcomes = reproduce(size="tiny", out=tmp_path, only=["sine"], progress=False)
    assert [o.name for o in outcomes] == ["sine"]
    assert (tmp_path / "results.md").exists() and (tmp_path / "williams_sine.png").exists()
    with pytest.raises(InputError, match="`only`"):
        reproduce(size="tiny", out=tmp_path, only=["nope"], progress=False)
    with pytest.raises(InputError, match="`size`"):
        get_settings("huge")


def test_cli_reproduce(tmp_path, capsys):
    assert main(["reproduce", "--quick", "--only", "nope"]) == 2
    assert "invalid choice" in capsys.readouterr().err
    assert main(["reproduce", "--quick", "--size", "full"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("neurobias: error: `--quick` and `--size full`") and err.count("\n") == 1
    with pytest.raises(SystemExit) as exc:
        main(["reproduce", "--help"])
    assert exc.value.code == 0
    assert "neurobias reproduce --quick" in capsys.readouterr().out


def test_settings_sizes_grow():
    tiny, quick, medium, full = (get_settings(n) for n in ("tiny", "quick", "medium", "full"))
    assert max(tiny.widths) < max(quick.widths) < max(medium.widths) < max(full.widths) == 2 ** 14
    assert min(full.widths) == 2 ** 6 and len(full.seeds) == 3
    assert full.mt_width == 32000 and full.lorenz_units == 1024

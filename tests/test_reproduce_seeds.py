"""Tests of an experiment's seeds spread over worker processes (neurobias.reproduce.seeds.map_seeds).

A seed's measurement seeds its own generators, so the numbers must not depend
on how many processes share the seeds; the size parameters the workers read
must reach the parent's record of them (a stored outcome is valid while they
keep their values).
"""
from __future__ import annotations

import dataclasses
import math

import pytest

from neurobias.errors import InputError
from neurobias.reproduce.feedforward_experiments import multitask, multitask_measurements
from neurobias.reproduce.seeds import map_seeds
from neurobias.reproduce.settings import SettingsReader, get_settings

pytestmark = pytest.mark.filterwarnings("ignore::neurobias.errors.ConvergenceWarning")


def _same(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return len(a) == len(b) and all((math.isnan(x) and math.isnan(y)) or x == y for x, y in zip(a, b))


def test_multitask_seeds_in_two_processes_equal_one_process():
    settings = dataclasses.replace(get_settings("tiny"), mt_seeds=(0, 1))
    here = multitask(SettingsReader(settings), workers=1)
    reader = SettingsReader(settings)
    spread = multitask(reader, workers=2)
    assert [c.key for c in here.claims] == [c.key for c in spread.claims]
    for a, b in zip(here.claims, spread.claims):
        assert a.seeds == b.seeds == (0, 1)
        assert _same(a.values, b.values), (a.key, a.values, b.values)
    assert here.markdown == spread.markdown
    # the workers' reads reach the parent: every size parameter the measurement uses, the seeds included
    assert {"mt_width", "mt_steps", "mt_samples", "ff_batch", "mt_seeds"} <= set(reader.read)
    # two seeds are two different networks
    gaps = here.claims[0].values
    sil = here.claims[1].values
    assert gaps != (gaps[0],) * 2 or sil[0] != sil[1]


def test_a_seed_measured_alone_equals_the_same_seed_in_a_set():
    settings = get_settings("tiny")
    alone = multitask_measurements(settings, seed=1)
    spread = map_seeds(multitask_measurements, settings, (0, 1), workers=2)
    assert list(spread) == [0, 1]
    assert alone["accuracy"].equals(spread[1]["accuracy"])
    assert alone["nulls"].equals(spread[1]["nulls"])
    assert not spread[0]["accuracy"].equals(spread[1]["accuracy"])


@pytest.mark.parametrize("workers", [0, -1, 1.5, "2"])
def test_workers_must_be_a_positive_integer(workers):
    with pytest.raises(InputError, match="workers"):
        map_seeds(multitask_measurements, get_settings("tiny"), (0,), workers=workers)


@pytest.mark.parametrize("seeds", [(), (0, 0, 1)])
def test_seeds_must_be_distinct_and_present(seeds):
    with pytest.raises(InputError, match="`seeds` must be distinct"):
        map_seeds(multitask_measurements, get_settings("tiny"), seeds, workers=2)


def test_spare_jobs_go_to_the_experiments_that_spread_their_seeds():
    from neurobias.reproduce.driver import _allocation, processes_used

    names = ["width", "multitask", "sine", "vanderpol", "lorenz", "reaching", "flipflop"]
    pool, workers = _allocation(names, 16)
    assert pool == 7 and workers["multitask"] == workers["vanderpol"] == 5
    assert all(workers[n] == 1 for n in names if n not in ("multitask", "vanderpol"))
    assert processes_used(names, 16) == 15
    assert _allocation(names, 2) == (2, {n: 1 for n in names})
    assert _allocation(["multitask"], 3) == (1, {"multitask": 3}) and processes_used(["multitask"], 3) == 3
    assert _allocation(["sine"], 3) == (1, {"sine": 1}) and processes_used(["sine"], 3) == 1
    assert processes_used([], 4) == 1


def test_reproduce_with_spare_jobs_spreads_the_seeds_and_counts_their_cpu_time(tmp_path, monkeypatch):
    from neurobias.reproduce import reproduce, settings as settings_module

    two = dataclasses.replace(get_settings("tiny"), mt_seeds=(0, 1))
    monkeypatch.setitem(settings_module.SETTINGS, "tiny", two)
    one_process = reproduce(size="tiny", out=tmp_path / "a", only=["multitask"], jobs=1, progress=False)[0]
    spread = reproduce(size="tiny", out=tmp_path / "b", only=["multitask"], jobs=2, progress=False)[0]
    for a, b in zip(one_process.claims, spread.claims):
        assert a.seeds == b.seeds == (0, 1) and _same(a.values, b.values), a.key
    # the seeds ran in two child processes: their CPU time is counted, though this process did little
    assert spread.cpu_s > 0.5 * one_process.cpu_s
    assert "with 2 worker processes" in (tmp_path / "b" / "results.md").read_text()

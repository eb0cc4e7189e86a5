"""``neurobias periodic-orbits`` and ``neurobias continue`` with cycles, end to end, against independent computations.

The run directory holds a 16-unit circuit with two decoupled oscillating
2-unit blocks (units 0-1 and 2-3) whose other units only listen.  Context
``osc_a`` drives block 2 far from its cycle (block 1 oscillates), context
``osc_b`` the other way round, so along the straight path between them block 1's
cycle dies at one Hopf point, block 2's is born at another, and in between the
circuit settles at a stable fixed point.  The references never call the code
under test: periods from free SciPy simulations (DOP853, rtol 1e-10, section
crossings over 10 s located with brentq), Hopf points from the 2-D fixed point
of each block (Newton by hand) where the trace of its Jacobian vanishes
(brentq), and the resting output from a long free simulation.
"""
from __future__ import annotations

import shutil

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

from neurobias.io import read_dataset

TAU = 10.0
BLOCKS = ((1.2, 2.0, np.array([3.0, 3.0])), (1.1, 1.0, np.array([2.0, 1.0])))  # (a, w, far tonic input)
N = 16


def _circuit_and_bank(*, b_rests: bool = False):
    from neurobias.circuit import Circuit

    rng = np.random.default_rng(3)
    W = np.zeros((N, N))
    for k, (a, w, _) in enumerate(BLOCKS):
        W[2 * k:2 * k + 2, 2 * k:2 * k + 2] = [[a, -w], [w, a]]
    W[4:, :4] = 0.5 * rng.standard_normal((N - 4, 4))
    bank = np.zeros((2, N))
    bank[:, 4:] = 0.2 * rng.standard_normal(N - 4)
    bank[0, 2:4] = BLOCKS[1][2]  # osc_a: block 2 pushed away, block 1 free
    bank[1, 0:2] = BLOCKS[0][2]  # osc_b: block 1 pushed away, block 2 free
    if b_rests:
        bank[1, 2:4] = BLOCKS[1][2]  # osc_b: both blocks pushed away, no oscillation
    c = Circuit.from_arrays(W_rec=W, W_out=rng.standard_normal((1, N)) / 4, b_out=[0.1], tau=TAU,
                            output_names=["z"])
    return c, bank


def _flow(W, b):
    return lambda _t, x: (-x + W @ np.tanh(x) + b) / TAU


def _free_period(W, b) -> float:
    """Mean interval between upward crossings of unit 0 or 2 (whichever oscillates) over 10 s (ms)."""
    opts = dict(method="DOP853", rtol=1e-10, atol=1e-12)
    warm = solve_ivp(_flow(W, b), (0.0, 3000.0), np.full(N, 0.01), **opts)
    sol = solve_ivp(_flow(W, b), (0.0, 10000.0), warm.y[:, -1], dense_output=True, **opts)
    unit = int(np.argmax(np.ptp(sol.y[:4], axis=1)))
    level = 0.5 * (sol.y[unit].max() + sol.y[unit].min())
    g = sol.y[unit] - level
    times = [brentq(lambda t: sol.sol(t)[unit] - level, sol.t[i], sol.t[i + 1], xtol=1e-12)
             for i in np.nonzero((g[:-1] < 0) & (g[1:] >= 0))[0]]
    assert len(times) > 10
    return float((times[-1] - times[0]) / (len(times) - 1))


def _block_hopf(a: float, w: float, b_of_s) -> float:
    """``s`` where the block's fixed point has a Jacobian of zero trace (its Hopf point), by Newton and brentq."""
    W = np.array([[a, -w], [w, a]])

    def fixed(s: float, x: np.ndarray) -> np.ndarray:
        b = b_of_s(s)
        for _ in range(50):
            F = -x + W @ np.tanh(x) + b
            if np.abs(F).max() < 1e-14:
                break
            x = x - np.linalg.solve(-np.eye(2) + W * (1.0 / np.cosh(x) ** 2)[None, :], F)
        assert np.abs(-x + W @ np.tanh(x) + b).max() < 1e-13
        return x

    def trace_at(x: np.ndarray) -> float:
        return float(np.trace(-np.eye(2) + W * (1.0 / np.cosh(x) ** 2)[None, :]))

    grid = np.linspace(0.0, 1.0, 401)
    xs = [np.zeros(2)]
    for s in grid:  # natural-parameter continuation: each Newton starts at the previous fixed point
        xs.append(fixed(s, xs[-1]))
    xs = xs[1:]
    t = np.array([trace_at(x) for x in xs])
    k = np.nonzero(np.diff(np.sign(t)))[0]
    assert len(k) == 1

    def trace(s: float) -> float:
        return trace_at(fixed(s, xs[k[0]]))

    return brentq(trace, grid[k[0]], grid[k[0] + 1], xtol=1e-14)


def _make_run(run_dir, tiny_run, *, b_rests: bool = False):
    from neurobias.io import open_results, save_circuit, write_dataset

    shutil.copytree(tiny_run["dir"], run_dir)
    c, bank = _circuit_and_bank(b_rests=b_rests)
    save_circuit(c, run_dir / "circuit.nc")
    results = open_results(run_dir / "results.nc").assign_coords(context=["osc_a", "osc_b"])
    results["tonic"].values[:] = bank
    write_dataset(results, run_dir / "results.nc", kind="results")
    return run_dir, c, bank


@pytest.fixture(scope="module")
def oscillating_run(tmp_path_factory, tiny_run):
    """A copy of the tiny run whose circuit and tonic inputs are replaced by the two-block oscillator."""
    return _make_run(tmp_path_factory.mktemp("osc") / "run", tiny_run)


@pytest.fixture(scope="module")
def analysed(oscillating_run):
    from neurobias.cli import main

    run_dir, c, bank = oscillating_run
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["periodic-orbits", str(run_dir)]) == 0
        orbit_text = buf.getvalue()
        assert main(["continue", str(run_dir), "--from", "osc_a", "--to", "osc_b"]) == 0
        cont_text = buf.getvalue()[len(orbit_text):]
        assert main(["report", str(run_dir)]) == 0
    return run_dir, c, bank, orbit_text, cont_text


def test_each_context_cycle_has_the_period_of_a_long_free_simulation(analysed):
    run_dir, c, bank, text, _ = analysed
    po = read_dataset(run_dir / "periodic_orbits.nc", kind="periodic_orbits")
    assert po["context"].values.tolist() == ["osc_a", "osc_b"]
    assert po["converged"].values.tolist() == [True, True]
    for i in range(2):
        T_ref = _free_period(c.W_rec, bank[i])
        assert float(po["period"][i]) == pytest.approx(T_ref, rel=1e-4)
        assert po["stability"].values[i] == "stable"
    for name, var in po.data_vars.items():
        assert var.attrs.get("long_name"), name
    # the trained frequency of the run travels next to the free one, and each context has its line
    np.testing.assert_array_equal(po["trained_frequency"].values, [20.0, 40.0])
    lines = text.strip().splitlines()
    assert lines[0].startswith("osc_a: oscillates freely at") and lines[1].startswith("osc_b: oscillates freely at")
    for i, trained in enumerate((20.0, 40.0)):
        f = 1000.0 / _free_period(c.W_rec, bank[i])
        word = "faster" if f > trained else "slower"
        assert f"{f:.4g} Hz" in lines[i] and f"{100 * abs(f - trained) / trained:.1f} % {word} than the trained " \
            f"{trained:g} Hz" in lines[i]
    assert (run_dir / "figures" / "orbits.png").stat().st_size > 1000


def test_cycle_branches_end_at_the_hopf_points(analysed):
    run_dir, _, _, _, text = analysed
    cyc = read_dataset(run_dir / "orbit_continuation.nc", kind="orbit_continuation")
    fp = read_dataset(run_dir / "continuation.nc", kind="continuation")
    (a1, w1, B1), (a2, w2, B2) = BLOCKS
    s1 = _block_hopf(a1, w1, lambda s: s * B1)  # block 1's cycle dies as its input grows
    s2 = _block_hopf(a2, w2, lambda s: (1.0 - s) * B2)  # block 2's is born as its input falls
    assert 0.0 < s1 < s2 < 1.0
    hopf = np.sort(fp["bif_s"].values[fp["bif_kind"].values.astype(str) == "hopf"])
    np.testing.assert_allclose(hopf, [s1, s2], atol=1e-8)
    assert cyc["end_reason"].values.tolist() == ["hopf", "hopf"]
    assert cyc["branch_context"].values.tolist() == ["osc_a", "osc_b"]
    ends = cyc["end_s"].values
    np.testing.assert_allclose(ends, [s1, s2], atol=1e-3)
    np.testing.assert_allclose(cyc["hopf_s"].values, hopf, atol=1e-12)
    np.testing.assert_allclose(cyc["hopf_difference"].values, ends - hopf, atol=1e-15)
    assert np.all(np.abs(cyc["hopf_difference"].values) <= 1e-3)
    assert f"The cycle of osc_a ends at s = {ends[0]:.6f}" in text and f"Hopf point of the fixed-point continuation is at s = " \
        f"{hopf[0]:.6f}" in text
    assert (run_dir / "figures" / "bifurcation.png").stat().st_size > 1000


def test_between_the_hopf_points_the_circuit_settles_where_a_free_simulation_does(analysed):
    run_dir, c, bank, _, text = analysed
    from neurobias.analysis.periodic_orbits import oscillation_along_path

    fp = read_dataset(run_dir / "continuation.nc", kind="continuation")
    cyc = read_dataset(run_dir / "orbit_continuation.nc", kind="orbit_continuation")
    path = oscillation_along_path(fp, cyc, c)
    assert path["interval_kind"].values.tolist() == ["oscillates", "settles", "oscillates"]
    mid = float(path["settle_s"][1])
    b = (1 - mid) * bank[0] + mid * bank[1]
    sol = solve_ivp(_flow(c.W_rec, b), (0.0, 5000.0), np.zeros(N), method="DOP853", rtol=1e-11, atol=1e-13)
    x_end = sol.y[:, -1]
    assert np.abs(_flow(c.W_rec, b)(0, x_end)).max() < 1e-10  # at rest
    z_ref = c.W_out @ np.tanh(x_end) + c.b_out
    np.testing.assert_allclose(path["settle_z"].values[1], z_ref, atol=1e-8)
    assert f"the circuit settles at a stable fixed point (at s = {mid:.3g}, output z = {z_ref[0]:.3g}" in text


def test_report_says_where_the_circuit_oscillates(analysed):
    run_dir = analysed[0]
    page = (run_dir / "report.html").read_text()
    assert '<section id="oscillations">' in page
    assert "The circuit oscillates for 0 &lt;= s &lt;=" in page and "no followed cycle exists" in page
    assert "Not computed yet" not in page.split('<section id="oscillations">')[1].split("</section>")[0]


def test_a_context_at_rest_is_reported_not_converged_and_only_the_other_cycle_is_followed(tiny_run, tmp_path,
                                                                                          run_cli):
    run_dir, c, bank = _make_run(tmp_path / "run", tiny_run, b_rests=True)
    rc, out, _ = run_cli(["periodic-orbits", run_dir, "--no-figures"])
    assert rc == 0
    lines = out.strip().splitlines()
    assert lines[0].startswith("osc_a: oscillates freely at")
    assert lines[1].startswith("osc_b: no limit cycle (the simulated trajectory settles at a fixed point")
    po = read_dataset(run_dir / "periodic_orbits.nc", kind="periodic_orbits")
    assert po["converged"].values.tolist() == [True, False] and np.isnan(po["period"].values[1])
    rc, out, _ = run_cli(["continue", run_dir, "--from", "osc_a", "--to", "osc_b", "--no-figures"])
    assert rc == 0
    cyc = read_dataset(run_dir / "orbit_continuation.nc", kind="orbit_continuation")
    assert cyc["branch_context"].values.tolist() == ["osc_a"] and cyc["end_reason"].values.tolist() == ["hopf"]
    a, w, B = BLOCKS[0]
    assert float(cyc["end_s"][0]) == pytest.approx(_block_hopf(a, w, lambda s: s * B), abs=1e-3)
    assert "no followed cycle exists; the circuit settles at a stable fixed point" in out


def test_no_orbits_removes_an_older_cycle_file_and_the_report_asks_for_it(analysed, tmp_path, capsys):
    from neurobias.cli import main

    run_dir = tmp_path / "run"
    shutil.copytree(analysed[0], run_dir)
    assert main(["continue", str(run_dir), "--from", "osc_b", "--to", "osc_a", "--no-orbits", "--no-figures"]) == 0
    out = capsys.readouterr().out
    # both contexts oscillate: without their cycles followed, a stable fixed point on the path does not mean
    # that the circuit settles there
    assert "no cycle was followed; the fixed points followed include a stable one (at s = " in out
    assert "whether the circuit oscillates instead was not examined" in out
    assert "settles" not in out and "no followed cycle exists" not in out
    assert not (run_dir / "orbit_continuation.nc").exists()
    assert main(["report", str(run_dir)]) == 0
    page = (run_dir / "report.html").read_text()
    assert "Cycles along the path from osc_b to osc_a not computed yet" in page


@pytest.mark.parametrize(
    ("argv", "pattern"),
    [
        (["periodic-orbits", "{missing}"], r"run directory not found"),
        (["periodic-orbits", "{run}", "--context", "nope"], r"--context 'nope' is not a context of .*; choose from "
                                                              r"osc_a, osc_b"),
        (["periodic-orbits", "{run}", "--duration", "0"], r"`--duration` must be a positive"),
        (["continue", "{run}", "--from", "osc_a", "--to", "nope"], r"--to 'nope' is not a context"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(oscillating_run, tmp_path, capsys, argv, pattern):
    import re

    from neurobias.cli import main

    run_dir = tmp_path / "run"
    shutil.copytree(oscillating_run[0], run_dir)
    before = sorted(p.name for p in run_dir.rglob("*"))
    args = [a.format(run=run_dir, missing=tmp_path / "none") for a in argv]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and re.search(pattern, err), err
    assert sorted(p.name for p in run_dir.rglob("*")) == before


def test_continuation_summary_lists_collisions_apart_from_bifurcations():
    import xarray as xr

    from neurobias.workflows.prose import summarize_continuation

    ds = xr.Dataset({"end_reason": (("branch",), np.array(["reached_end"])),
                     "bif_kind": (("bifurcation",), np.array(["collision", "hopf", "fold"])),
                     "bif_s": (("bifurcation",), np.array([0.2, 0.3, 0.7]))},
                    attrs={"start_label": "a", "end_label": "b"})
    text = summarize_continuation(ds)
    assert "Bifurcations: hopf at s = 0.300, fold at s = 0.700." in text
    assert "Collisions of unstable eigenvalue pairs on the real axis (no change of stability): s = 0.200." in text
    assert "collision" not in text.split("Bifurcations:")[1].split(".")[0]


def test_a_cycle_followed_only_part_of_the_way_leaves_open_whether_the_circuit_settles(analysed):
    """With cycle branches stopped by their step budget, a stable fixed point beyond them is reported as such,
    not as where the circuit settles (the cycle may well go on there)."""
    from neurobias.analysis.periodic_orbits import continue_periodic_orbits, oscillation_along_path
    from neurobias.workflows.report import summarize_path

    run_dir, c, bank, _, _ = analysed
    fp = read_dataset(run_dir / "continuation.nc", kind="continuation")
    orbits = read_dataset(run_dir / "periodic_orbits.nc", kind="periodic_orbits")
    cyc = continue_periodic_orbits(c, orbits, start=bank[0], end=bank[1], steps=2)
    assert cyc["end_reason"].values.tolist() == ["max_steps", "max_steps"]
    text = summarize_path(oscillation_along_path(fp, cyc, c))
    assert "was followed no further than s = " in text
    assert "whether the circuit oscillates instead was not examined (a cycle was followed only part of the way)" \
        in text
    assert "settles" not in text

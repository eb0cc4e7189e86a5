"""Tests of neurobias.plotting on synthetic ``results`` Datasets."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from neurobias.errors import InputError
from neurobias.plotting import figure_set, plot_loss, plot_outputs, plot_rates, plot_tonic


def make_results(
    n_context: int = 3,
    n_output: int = 2,
    n_input: int = 0,
    n_unit: int = 16,
    n_time: int = 40,
    n_trial: int = 2,
    n_step: int = 30,
    mask_start: int = 5,
    seed: int = 0,
) -> xr.Dataset:
    """A small, valid-looking ``results`` Dataset with sine targets."""
    rng = np.random.default_rng(seed)
    time = np.arange(n_time, dtype=float) * 2.0
    freq = 2.0 + np.arange(n_context)
    phase = np.arange(n_output)[None, None, None, :] * 0.5
    target = np.sin(
        2 * np.pi * freq[:, None, None, None] * time[None, None, :, None] / 1000.0 + phase
    ) * np.ones((n_context, n_trial, n_time, n_output))
    z = target + 0.05 * rng.standard_normal(target.shape)
    mask = np.ones_like(target)
    mask[:, :, :mask_start, :] = 0.0
    x = rng.standard_normal((n_context, n_trial, n_time, n_unit))
    step = np.arange(n_step)
    dims4 = ("context", "trial", "time")
    return xr.Dataset(
        {
            "tonic": (("context", "unit"), rng.standard_normal((n_context, n_unit))),
            "loss": (("step",), np.exp(-step / 10.0) + 1e-3),
            "lr": (("step",), 1e-3 * np.minimum(1.0, (step + 1) / 5.0)),
            "x": ((*dims4, "unit"), x),
            "r": ((*dims4, "unit"), np.tanh(x)),
            "z": ((*dims4, "output"), z),
            "target": ((*dims4, "output"), target),
            "mask": ((*dims4, "output"), mask),
            "inputs": ((*dims4, "input"), rng.standard_normal((n_context, n_trial, n_time, n_input))),
            "nmse": (("context",), rng.uniform(0.001, 0.1, n_context)),
        },
        coords={
            "context": [f"sine_{f:g}Hz" for f in freq],
            "trial": np.arange(n_trial),
            "time": time,
            "step": step,
            "unit": np.arange(n_unit),
            "output": [f"out{o}" for o in range(n_output)],
            "input": np.array([f"in{i}" for i in range(n_input)], dtype=str),
        },
        attrs={"training_mode": "bias", "task": "sine", "seed": 0, "steps_done": n_step},
    )


def _new_axes(n: int = 1) -> list[Axes]:
    fig = Figure(layout="constrained")
    return list(np.atleast_1d(fig.subplots(n, 1, squeeze=False)[:, 0]))


# --- plot_loss ---------------------------------------------------------------


def test_plot_loss_returns_axes_with_loss_and_lr():
    results = make_results()
    ax = plot_loss(results)
    assert isinstance(ax, Axes)
    fig = ax.figure
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2  # loss and its learning-rate twin
    twin = next(a for a in fig.axes if a is not ax)
    assert len(ax.lines) == 1 and len(twin.lines) == 1
    assert ax.get_yscale() == "log"
    np.testing.assert_allclose(ax.lines[0].get_ydata(), results["loss"].values)
    np.testing.assert_allclose(twin.lines[0].get_ydata(), results["lr"].values)
    title = ax.get_title()
    assert "bias" in title and f"{results['loss'].values[-1]:.3g}" in title


def test_plot_loss_draws_on_given_axes():
    (given,) = _new_axes()
    assert plot_loss(make_results(), ax=given) is given
    assert len(given.lines) == 1


def test_plot_loss_with_no_steps():
    ax = plot_loss(make_results(n_step=0))
    assert "no steps" in ax.get_title()


# --- plot_outputs ------------------------------------------------------------


@pytest.mark.parametrize("n_context", [1, 5, 10])
@pytest.mark.parametrize("n_output", [1, 3, 8])
def test_plot_outputs_lines_per_output_per_context(n_context, n_output):
    results = make_results(n_context=n_context, n_output=n_output, n_input=0)
    assert results.sizes["input"] == 0
    fig = plot_outputs(results)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == n_context
    for ax, name in zip(fig.axes, results["context"].values):
        assert len(ax.lines) == 2 * n_output
        assert ax.get_title(loc="left").startswith(str(name))
        assert "NMSE" in ax.get_title(loc="left")
        assert len(ax.patches) >= 1  # the shaded, unmasked start
    assert fig.axes[-1].get_xlabel() == "time (ms)"
    (legend,) = fig.legends  # one figure legend beside all rows
    labels = [t.get_text() for t in legend.get_texts()]
    assert [f"out{o}" for o in range(n_output)] == labels[:n_output]


def test_plot_outputs_target_dashed_then_z_solid():
    results = make_results(n_context=2, n_output=2)
    fig = plot_outputs(results, trial=1)
    target_line, z_line = fig.axes[1].lines[:2]
    assert target_line.get_linestyle() == "--" and z_line.get_linestyle() == "-"
    np.testing.assert_allclose(z_line.get_xdata(), results["time"].values)
    np.testing.assert_allclose(
        z_line.get_ydata(), results["z"].isel(context=1, trial=1, output=0).values
    )
    np.testing.assert_allclose(
        target_line.get_ydata(), results["target"].isel(context=1, trial=1, output=0).values
    )


def test_plot_outputs_no_shading_when_all_in_loss():
    fig = plot_outputs(make_results(n_context=2, mask_start=0))
    assert all(len(ax.patches) == 0 for ax in fig.axes)


def test_plot_outputs_per_output_masks():
    results = make_results(n_context=2, n_output=2)
    results["mask"][:, :, :, 1] = 1.0
    results["mask"][:, :, -3:, 1] = 0.0
    fig = plot_outputs(results)
    assert all(len(ax.patches) == 2 for ax in fig.axes)


def test_plot_outputs_draws_on_given_axes():
    axes = _new_axes(3)
    fig = plot_outputs(make_results(n_context=3), axes=axes)
    assert fig is axes[0].figure
    assert all(len(ax.lines) == 4 for ax in axes)
    assert axes[0].get_legend() is not None and not fig.legends


def test_plot_outputs_rejects_wrong_number_of_axes():
    with pytest.raises(InputError, match="3 matplotlib Axes"):
        plot_outputs(make_results(n_context=3), axes=_new_axes(2))


def test_plot_outputs_rejects_bad_trial():
    with pytest.raises(InputError, match="trial"):
        plot_outputs(make_results(n_trial=2), trial=2)


# --- plot_tonic --------------------------------------------------------------


@pytest.mark.parametrize("n_context", [1, 5])
@pytest.mark.parametrize("sort", [True, False])
def test_plot_tonic_heat_map_symmetric(n_context, sort):
    results = make_results(n_context=n_context, n_unit=32)
    ax = plot_tonic(results, sort=sort)
    assert isinstance(ax, Axes)
    assert len(ax.images) == 1
    vmin, vmax = ax.images[0].get_clim()
    assert vmin == -vmax
    assert vmax == pytest.approx(np.abs(results["tonic"].values).max())
    shown = np.asarray(ax.images[0].get_array())
    assert shown.shape == (n_context, 32)
    # sorting only permutes units
    np.testing.assert_allclose(np.sort(shown, axis=1), np.sort(results["tonic"].values, axis=1))
    if not sort:
        np.testing.assert_allclose(shown, results["tonic"].values)
    fig = ax.figure
    assert len(fig.axes) == 2  # heat map and colourbar
    assert ax.images[0].colorbar.ax.get_ylabel() == "tonic input"
    assert [t.get_text() for t in ax.get_yticklabels()] == list(results["context"].values)


def test_plot_tonic_sort_labels():
    one = plot_tonic(make_results(n_context=1))
    shown = np.asarray(one.images[0].get_array())[0]
    assert np.all(np.diff(shown) >= 0)
    assert "sine_2Hz" in one.get_xlabel()
    several = plot_tonic(make_results(n_context=3))
    assert "principal direction" in several.get_xlabel()
    assert "sorted" not in plot_tonic(make_results(), sort=False).get_xlabel()


def test_plot_tonic_zero_bank():
    results = make_results(n_context=2)
    results["tonic"][:] = 0.0
    vmin, vmax = plot_tonic(results).images[0].get_clim()
    assert vmin == -vmax and vmax > 0


def test_plot_tonic_draws_on_given_axes():
    (given,) = _new_axes()
    assert plot_tonic(make_results(), ax=given) is given
    assert len(given.images) == 1


# --- plot_rates --------------------------------------------------------------


@pytest.mark.parametrize("n_context", [1, 5])
def test_plot_rates_lines_per_context(n_context):
    results = make_results(n_context=n_context, n_unit=16)
    fig = plot_rates(results, n_units=4)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == n_context
    for ax, name in zip(fig.axes, results["context"].values):
        assert len(ax.lines) == 4
        assert ax.get_title() == str(name)
    np.testing.assert_allclose(
        fig.axes[-1].lines[2].get_ydata(),
        results["r"].isel(context=-1, trial=0, unit=2).values,
    )


def test_plot_rates_clips_n_units_and_takes_axes():
    axes = _new_axes(2)
    fig = plot_rates(make_results(n_context=2, n_unit=5), n_units=8, axes=axes)
    assert fig is axes[0].figure
    assert all(len(ax.lines) == 5 for ax in axes)
    assert axes[0].get_xlabel() == "time (ms)"


def test_plot_rates_rejects_bad_n_units():
    with pytest.raises(InputError, match="n_units"):
        plot_rates(make_results(), n_units=0)


# --- figure_set and saving ---------------------------------------------------


@pytest.mark.parametrize("n_context", [1, 5])
def test_figure_set_saves_four_pngs(tmp_path, n_context):
    figures = figure_set(make_results(n_context=n_context, n_input=0))
    assert set(figures) == {"loss", "outputs", "tonic", "rates"}
    for name, fig in figures.items():
        assert isinstance(fig, Figure)
        path = tmp_path / f"{name}.png"
        fig.savefig(path, dpi=80)  # low dpi keeps the test quick
        assert path.stat().st_size > 0
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_figures_are_independent():
    first = figure_set(make_results())
    second = figure_set(make_results())
    assert all(first[k] is not second[k] for k in first)


# --- errors ------------------------------------------------------------------


def test_missing_variable_is_named():
    with pytest.raises(InputError, match="mask"):
        plot_outputs(make_results().drop_vars("mask"))


def test_wrong_dims_are_named():
    results = make_results()
    results["tonic"] = results["tonic"].isel(context=0)
    with pytest.raises(InputError, match=r"tonic.*\('context', 'unit'\)"):
        plot_tonic(results)


def test_not_a_dataset():
    with pytest.raises(InputError, match="xarray.Dataset"):
        plot_loss(make_results()["loss"])


def test_no_pyplot():
    """The plotting layer never imports pyplot, so no GUI backend or global state is involved."""
    code = (
        "import sys\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from test_plotting import make_results\n"
        "from neurobias.plotting import figure_set\n"
        "figure_set(make_results())\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-W", "error", "-c", code], check=True)

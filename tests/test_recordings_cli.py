"""The fit-recordings and compare-recordings commands, end to end on tiny files."""
from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest

from neurobias.fitting.synthetic import synthetic_recording
from neurobias.io import read_dataset, write_dataset

TINY_FIT = """\
seed = 3
[preprocess]
trim = true
[fit]
n_units = 16
steps = 4
holdout_block = 3
n_shuffles = 5
[compare]
n_shuffles = 4
dsa_shuffles = 0
metrics = ["r2", "cca", "shape", "rsa", "rotation", "fixed_points"]
fp_candidates = 8
"""


def _recording(path: Path) -> Path:
    from neurobias import Circuit

    circuit = Circuit.random(12, n_inputs=0, n_outputs=0, g=1.2, tau=20.0, seed=0)
    rng = np.random.default_rng(0)
    rec = synthetic_recording(circuit, rng.normal(0, 0.6, (3, 12)), x0=rng.normal(0, 0.6, (3, 12)),
                              units=np.arange(5), n_time=12, bin_ms=5.0)
    rec.attrs["citation"] = "Doe & Roe 2020"
    write_dataset(rec, path, kind="recording")
    return path


def test_fit_and_compare_end_to_end(tmp_path: Path, run_cli) -> None:
    rec = _recording(tmp_path / "rec.nc")
    (tmp_path / "fit.toml").write_text(TINY_FIT, encoding="utf-8")
    out = tmp_path / "fit"
    rc, stdout, stderr = run_cli(["fit-recordings", rec, "--config", tmp_path / "fit.toml", "--out", out,
                                  "--no-progress"])
    assert rc == 0, stderr
    assert "held-out R2" in stdout and "time holdout" in stdout
    fit = read_dataset(out / "fit.nc", kind="fit")
    assert fit.attrs["seed"] == 3 and fit.sizes["unit"] == 16 and fit.sizes["step"] == 4
    assert (out / "circuit.nc").is_file() and (out / "recording.nc").is_file()
    assert (out / "figures" / "r2_neurons.png").stat().st_size > 1000
    rc, stdout, stderr = run_cli(["compare-recordings", out, "--no-progress"])
    assert rc == 0, stderr
    cmp = read_dataset(out / "comparison.nc", kind="recording_comparison")
    assert cmp.sizes["shuffle"] == 4 and "fp_n_fixed_points" in cmp and "dsa_dsa" not in cmp
    assert float(cmp["r2"]) == pytest.approx(fit.attrs["r2_test"])
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="recordings"' in html and "data:image/png;base64" in html and "Doe &amp; Roe 2020" in html
    for name in ("pcs", "metrics_null", "r2_neurons", "fit_loss"):
        assert (out / "figures" / f"{name}.png").stat().st_size > 1000
    assert "mean CCA" in stdout


def test_user_errors_are_one_line_and_write_nothing(tmp_path: Path, run_cli) -> None:
    rec = _recording(tmp_path / "rec.nc")
    (tmp_path / "fit.toml").write_text(TINY_FIT, encoding="utf-8")
    out = tmp_path / "never"
    cases = [
        (["--set", "fit.bogus=1"], "unknown config key `fit.bogus`"),
        (["--set", "fit.steps=many"], "config key `fit.steps` must be an int; got 'many'"),
        (["--set", "fit.conditions=1"], "unknown config key `fit.conditions`"),
        (["--set", "fit.holdout=trials"], "needs single trials"),
    ]
    for extra, message in cases:
        rc, _, stderr = run_cli(["fit-recordings", rec, "--config", tmp_path / "fit.toml", "--out", out,
                                 "--no-progress", *extra])
        assert rc == 2 and message in stderr, stderr
        assert len(stderr.strip().splitlines()) == 1
    one = read_dataset(rec).isel(condition=[0])
    write_dataset(one, tmp_path / "one.nc", kind="recording")
    rc, _, stderr = run_cli(["fit-recordings", tmp_path / "one.nc", "--config", tmp_path / "fit.toml", "--out", out])
    assert rc == 2 and "at least 2 conditions; got 1" in stderr
    assert not out.exists()
    rc, _, stderr = run_cli(["compare-recordings", tmp_path])
    assert rc == 2 and "has no fit.nc" in stderr
    # NaN padding left in (trim off) and a time axis that disagrees with the rate's
    rate = np.ones((4, 6, 3))
    rate[1, 4:] = np.nan
    np.savez(tmp_path / "pad.npz", r=rate, c=np.array([0, 0, 1, 1]), t=np.arange(5.0))
    base = ["--set", 'recording.rate="r"', "--set", 'recording.axes=["trial","time","neuron"]', "--set",
            'recording.conditions="c"']
    for extra, message in (
        (["--set", "recording.bin_ms=10.0", "--set", "recording.allow_nan=true", "--set", "preprocess.trim=false"],
         "`rate` holds NaN"),
        (["--set", 'recording.time="t"'], "'t' has 5 entries but the `time` axis of 'r' has 6"),
    ):
        rc, _, stderr = run_cli(["fit-recordings", tmp_path / "pad.npz", "--config", tmp_path / "fit.toml", "--out",
                                 out, *base, *extra])
        assert rc == 2 and message in stderr, stderr
        assert len(stderr.strip().splitlines()) == 1
    assert not out.exists()


@pytest.mark.parametrize("cmd", ["fit-recordings", "compare-recordings"])
def test_help_has_examples(cmd: str, capsys: pytest.CaptureFixture[str]) -> None:
    from neurobias.cli import main

    with pytest.raises(SystemExit) as exc:
        main([cmd, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "example:" in out and f"neurobias {cmd} " in out


def test_shipped_configs_parse() -> None:
    from neurobias.config.fit import fit_config_to_toml, load_fit_config

    root = Path(__file__).resolve().parents[1]
    for name in ("fit_reach.toml", "fit_chewie.toml"):
        cfg = load_fit_config(root / "models" / name)
        assert cfg["fit"]["mode"] == "bias" and cfg["fit"]["n_units"] == 512
        again = load_fit_config(None, overrides=())
        assert again["fit"]["steps"] == 1000
        assert tomllib.loads(fit_config_to_toml(cfg))["fit"]["n_units"] == 512
        assert load_fit_config(None, text=fit_config_to_toml(cfg)) == cfg  # what fit.nc stores reads back equal
        tuned = load_fit_config(root / "models" / name, overrides=["fit.weight_lr=1e-3", "fit.mode=full"])
        assert tuned["fit"]["weight_lr"] == 1e-3 and load_fit_config(None, text=fit_config_to_toml(tuned)) == tuned

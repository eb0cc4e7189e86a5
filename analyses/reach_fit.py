"""Fit one fixed random circuit, one tonic input per condition, to two motor-cortex data sets.

1. Churchland et al. (2012), condition-averaged motor cortex during reaching (10
   conditions, 50 neurons, 61 bins of 10 ms): bias-only fit with 512 units and
   the recorded neurons as model units (``models/fit_reach.toml``), scored on
   held-out blocks of time bins; the same with every weight trained (``full``)
   as the baseline; the shuffled-condition null.
2. Dyer et al. (2017), single trials of monkey C's M1 during centre-out
   reaching (8 targets, 174 neurons, 100 ms bins; ``models/fit_chewie.toml``):
   fit on the average of one random half of each target's trials, scored on the
   other half against the split-half noise ceiling; bias-only and full.

For each bias-only fit it then computes every model-vs-data metric with its
null (``neurobias compare-recordings``). It writes the run directories under
``--out`` and the section ``reach_fit`` of ``docs/results.md``.

Run from the repository root (the recordings come from ``neurobias.datasets.fetch``: ``$NEUROBIAS_DATA``
or the download cache)::

    python analyses/reach_fit.py --out runs/reach_fit
"""
from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Fit tonic inputs per condition to the two shared reach data sets and "
                                "write the measured numbers to docs/results.md.")
    p.add_argument("--out", default="runs/reach_fit", help="directory for the run directories")
    p.add_argument("--steps", type=int, default=None, help="override fit.steps of both configs")
    p.add_argument("--units", type=int, default=None, help="override fit.n_units of both configs")
    p.add_argument("--n-shuffles", type=int, default=None, help="override the null sizes")
    p.add_argument("--reuse", action="store_true",
                   help="keep run directories that already hold fit.nc (and comparison.nc) written with the same "
                   "config instead of fitting again (their stored fit times are reported)")
    p.add_argument("--weight-lr", type=float, default=1e-3,
                   help="learning rate of the weights in the full-training baseline (default 0.001)")
    p.add_argument("--no-doc", action="store_true", help="do not write docs/results.md")
    return p.parse_args(argv)


def _fit_and_compare(name: str, recording: Path, config: str, out: Path, overrides: list[str],
                     compare: bool, reuse: bool) -> dict:
    from neurobias.config.fit import load_fit_config
    from neurobias.workflows.recording_fit import compare_fit_dir, fit_recording_file

    from neurobias.io import read_dataset

    cfg = load_fit_config(ROOT / "models" / config, overrides=overrides)
    d = out / name
    if reuse and (d / "fit.nc").is_file() and (not compare or (d / "comparison.nc").is_file()):
        old = read_dataset(d / "fit.nc", kind="fit")
        if load_fit_config(None, text=old.attrs["config"]) == cfg:
            print(f"{name}: reusing {d} (same config)", flush=True)
            row = {"name": name, "fit": old, "fit_s": float(old.attrs["wall_time_s"]), "cmp": None, "reused": True}
            if compare:
                row["cmp"] = read_dataset(d / "comparison.nc", kind="recording_comparison")
            return row
        print(f"{name}: {d} holds another config; fitting again", flush=True)
    t0 = time.perf_counter()
    fitted = fit_recording_file(recording, config=cfg, out=d, progress=True)
    row = {"name": name, "fit": fitted.dataset, "fit_s": time.perf_counter() - t0, "cmp": None, "reused": False}
    print(fitted.summary, flush=True)
    if compare:
        t1 = time.perf_counter()
        cmp = compare_fit_dir(out / name, progress=True)
        row["cmp"], row["cmp_s"] = cmp.dataset, time.perf_counter() - t1
        print(cmp.summary, flush=True)
    return row


def _f(v: float) -> str:
    return "n/a" if v != v else f"{v:.3f}"


def _metric_rows(cmp) -> list[str]:  # noqa: ANN001
    from neurobias.plotting.recordings import METRIC_PANELS

    rows = []
    for var, label, better in METRIC_PANELS:
        if var in cmp and f"{var}_null" in cmp:
            null = cmp[f"{var}_null"].values
            rows.append(f"| {label} | {_f(float(cmp[var]))} | {_f(float(null.mean()))} ± {_f(float(null.std()))} "
                        f"(n = {null.size}) | {float(cmp[f'{var}_p_value']):.3g} | {better} |")
    return rows


def section(rows: dict, wall_s: float, cmd: str) -> str:
    ch_b, ch_f, cw_b, cw_f = (rows[k] for k in ("churchland_bias", "churchland_full", "chewie_bias", "chewie_full"))
    lines = [
        "## Fitting circuits to motor-cortex recordings (`analyses/reach_fit.py`)",
        "",
        "One fixed random circuit, one learned tonic input (and initial state) per condition; the recorded neurons "
        "are a fixed random subset of the model's units (`readout = \"subset\"`). `bias`: only tonic inputs and "
        "initial states learn, every synapse stays fixed; `full`: every weight learns too (baseline; weights at "
        "learning rate `weight_lr`, tonic inputs at `lr`).",
        "",
        f"Command: `{cmd}` on a 2-core machine shared with other jobs ({platform.machine()}, Python "
        f"{platform.python_version()}): {wall_s / 60:.1f} min for this invocation"
        + (f", reusing {n_reused} run(s) fitted and compared by an earlier invocation with the same config"
           if (n_reused := sum(bool(r.get("reused")) for r in rows.values())) else "")
        + f"; the four fits took {sum(r['fit_s'] for r in rows.values()) / 60:.1f} min (per run in the table)"
        + "".join(f", the comparison of {r['name']} {r['cmp'].attrs['wall_time_s'] / 60:.1f} min"
                  for r in rows.values() if r["cmp"] is not None and "wall_time_s" in r["cmp"].attrs)
        + ".",
        "",
        "| data set | held out | units | mode | held-out R² | fitted R² | noise ceiling | shuffled-condition null "
        "(mean) | fit time |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label, r in (("Churchland 2012 (10 cond. averages, 50 neurons)", ch_b), ("", ch_f),
                     ("Chewie / Dyer 2017 (8 targets, 174 neurons)", cw_b), ("", cw_f)):
        a = r["fit"].attrs
        null = r["fit"]["r2_null"].values
        held = {"time": "every 2nd 50 ms block", "trials": "other half of trials"}.get(a["holdout"], a["holdout"])
        lines.append(f"| {label} | {held} | {a['n_units']} | {a['mode']} | **{_f(a['r2_test'])}** | "
                     f"{_f(a['r2_train'])} | {_f(a['noise_ceiling'])} | {_f(float(null.mean()))} | "
                     f"{r['fit_s']:.0f} s{' (reused)' if r.get('reused') else ''} |")
    for title, r in (("Churchland 2012, bias-only fit", ch_b), ("Chewie, bias-only fit", cw_b)):
        if r["cmp"] is None:
            continue
        lines += ["", f"**{title}: model vs data** (held-out target vs model read-out; p = (1 + #null at least "
                  "as good) / (1 + n)):", "", "| metric | observed | null mean ± sd | p | better |",
                  "| --- | --- | --- | --- | --- |", *_metric_rows(r["cmp"])]
        if "fp_n_fixed_points" in r["cmp"]:
            c = r["cmp"]
            lines.append("")
            lines.append("Fixed points of the fitted circuit per condition (fixed / stable): " + ", ".join(
                f"{k} {int(n)}/{int(s)}" for k, n, s in zip(c["condition"].values, c["fp_n_fixed_points"].values,
                                                              c["fp_n_stable"].values)) + ".")
    lines += [
        "",
        "Notes: the Churchland data are condition averages only, so there is no noise ceiling; the held-out bins "
        "are interleaved with fitted ones (R² counts held-out bins only), while the trajectory metrics use whole "
        "trajectories, fitted bins included. For Chewie every trial is cut to the shortest length (9 bins of "
        "100 ms), smoothed (Gaussian, sigma 50 ms), soft-normalised (5 Hz) and mean-centred per neuron; the noise ceiling is the R² of one half's "
        "condition average predicting the other's: a noisy predictor, so a model that averages the noise out "
        "can exceed it (the full-training fit does). The shuffled-condition null permutes the model's conditions. "
        "DSA nulls permute conditions independently at every bin (DSA pools conditions, so a whole-condition "
        "permutation would leave it unchanged).",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from neurobias.datasets import fetch
    from neurobias.errors import NeurobiasError

    files = {}
    for name in ("churchland2012", "chewie2013"):
        try:
            files[name] = fetch(name)
        except NeurobiasError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    out = Path(args.out)
    common: list[str] = []
    if args.steps is not None:
        common.append(f"fit.steps={args.steps}")
    if args.units is not None:
        common.append(f"fit.n_units={args.units}")
    if args.n_shuffles is not None:
        common += [f"fit.n_shuffles={args.n_shuffles}", f"compare.n_shuffles={args.n_shuffles}"]
    t0 = time.perf_counter()
    rows = {}
    for ds_name, path, config in (("churchland", files["churchland2012"], "fit_reach.toml"),
                                  ("chewie", files["chewie2013"], "fit_chewie.toml")):
        for mode in ("bias", "full"):
            extra = [f"fit.mode={mode}"] + ([f"fit.weight_lr={args.weight_lr}"] if mode == "full" else [])
            rows[f"{ds_name}_{mode}"] = _fit_and_compare(f"{ds_name}_{mode}", path, config, out,
                                                         [*common, *extra], compare=mode == "bias", reuse=args.reuse)
    wall = time.perf_counter() - t0
    cmd = "python analyses/reach_fit.py " + " ".join(argv if argv is not None else sys.argv[1:])
    text = section(rows, wall, cmd.strip())
    print(text)
    if not args.no_doc:
        from neurobias.io.results_doc import write_section

        write_section(ROOT / "docs" / "results.md", "reach_fit", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

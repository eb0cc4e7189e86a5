"""Simulation throughput: neurobias against BrainPy, plain JAX, a naive torch loop and the matmuls alone.

The same circuit (N units, ``tau dx/dt = -x + W tanh(x) + b``, ``W ~ N(0, g^2/N)``,
g = 1.5, tau = 10 ms, dt = 1 ms, Euler, float32) is run for T steps on a batch
of B trials, every variant returning (or recording) the whole trajectory
unless its name says otherwise:

* ``neurobias.simulate``: the public function with ``engine="auto"``, the Dataset with ``x``, ``r``, ``z``
  (the engine it picks, :func:`neurobias.circuit.choose_engine`, is in the results);
* ``neurobias.simulate_torch``: the same with ``engine="torch"`` (torch on one intra-op thread, the batch
  split over Python threads);
* ``neurobias.simulate_jax``: the same with ``engine="jax"`` (the loop compiled by XLA, compiled once in the
  warm-up);
* ``neurobias.integrate``: the torch kernel, the trajectory tensor (batch, time, unit);
* ``torch_2threads``: the same kernel on two torch intra-op threads, the batch not split;
* ``brainpy_record``: ``bp.DSRunner`` with a monitor on the state;
* ``brainpy_none``: ``bp.DSRunner`` recording nothing (only the final state);
* ``jax_scan``: plain JAX, ``jax.lax.scan`` under ``jit`` returning the trajectory;
* ``torch_naive``: a Python loop of torch ops appending each state to a list, then ``stack``;
* ``matmul``: the T matrix products alone, ``(B, N) @ (N, N)``, split over the
  same Python threads as ``neurobias.simulate`` (the roofline of the method);
* ``matmul_1thread``: the same on one thread.

Every variant runs once to warm up (JAX/BrainPy compile then), then the
variants are timed in turn, ``--repeats`` rounds, so that drift of a shared
machine hits all of them alike; the medians and their ratios come from one
run.  torch runs on one intra-op thread (neurobias never raises it: see
``neurobias/circuit/threads.py``); JAX and BrainPy use XLA's own thread pool.

Writes ``benchmarks/results/simulation.json``, ``docs/img/bench_simulation.png``
and the ``simulation`` section of ``docs/performance.md`` (``--results``,
``--figure`` and ``--doc`` choose other files).

Usage: ``python benchmarks/simulation.py [--quick] [--repeats 3] [--sizes N ...] [--batches B ...] [--steps T]
[--results FILE] [--figure FILE] [--doc FILE]``
"""
from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402 - the shared helpers of the benchmarks
    ORDER_SEED,
    add_output_options,
    command_line,
    interleaved,
    machine_info,
    machine_line,
    median,
    publish,
    rerender,
    shown,
)

G, TAU, DT = 1.5, 10.0, 1.0


# --------------------------------------------------------------------------- the variants
def _weights(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, G / np.sqrt(n), size=(n, n)), rng.normal(0.0, 0.5, size=n)


def torch_variants(n: int, batch: int, steps: int) -> dict[str, Callable[[], object]]:
    import neurobias as nb
    from neurobias.circuit import CPU_THREADS
    from neurobias.circuit.simulate import _row_blocks, integrate

    torch.set_num_threads(1)  # the whole process on one thread, as neurobias's loops run
    W_np, b_np = _weights(n)
    circuit = nb.Circuit.from_arrays(W_rec=W_np, W_out=np.zeros((1, n)), tau=TAU, phi="tanh", form="current")
    W = torch.tensor(W_np, dtype=torch.float32)
    dyn = circuit.dynamics(dtype="float32")
    b = torch.tensor(b_np, dtype=torch.float32)
    x0 = torch.zeros(batch, n)
    ext = b.expand(batch, steps, n)
    blocks = _row_blocks(batch, n, torch.device("cpu"), 0.0)
    tonic = np.broadcast_to(b_np, (1, n))

    def simulate(engine: str = "auto") -> object:
        return nb.simulate(circuit, tonic, duration=steps * DT, dt=DT, n_trials=batch, dtype="float32",
                           engine=engine)

    def integrate_() -> object:
        with torch.no_grad():
            return integrate(x0, ext, dyn, dt=DT)

    def integrate_1thread() -> object:  # the batch not split over Python threads
        module = sys.modules["neurobias.circuit.simulate"]
        saved, module.CPU_THREADS = module.CPU_THREADS, 1
        try:
            return integrate_()
        finally:
            module.CPU_THREADS = saved

    def integrate_2threads() -> object:  # torch's own two intra-op threads, the batch not split
        torch.set_num_threads(2)
        try:
            return integrate_1thread()
        finally:
            torch.set_num_threads(1)

    def naive() -> object:
        with torch.no_grad():
            x, xs = x0, []
            for _ in range(steps):
                x = x + DT / TAU * (-x + torch.tanh(x) @ W.T + b)
                xs.append(x)
            return torch.stack(xs, dim=1)

    xm = torch.randn(batch, n)
    out = torch.empty(batch, n)

    def matmul_rows(rows: slice) -> None:
        for _ in range(steps):
            torch.mm(xm[rows], W.T, out=out[rows])

    def matmul() -> None:
        if len(blocks) == 1:
            return matmul_rows(blocks[0])
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(len(blocks)) as pool:
            list(pool.map(matmul_rows, blocks))

    def matmul_1thread() -> None:
        matmul_rows(slice(0, batch))

    del CPU_THREADS
    variants = {"neurobias.simulate": simulate, "neurobias.simulate_torch": lambda: simulate("torch")}
    if importlib.util.find_spec("jax") is not None:
        variants["neurobias.simulate_jax"] = lambda: simulate("jax")
    return {**variants, "neurobias.integrate": integrate_, "torch_2threads": integrate_2threads,
            "neurobias.integrate_1thread": integrate_1thread, "torch_naive": naive,
            "matmul": matmul, "matmul_1thread": matmul_1thread}


def jax_variants(n: int, batch: int, steps: int) -> dict[str, Callable[[], object]]:
    import brainpy as bp
    import brainpy.math as bm
    import jax
    import jax.numpy as jnp

    W_np, b_np = _weights(n)
    W = jnp.asarray(W_np, dtype=jnp.float32)
    b = jnp.asarray(b_np, dtype=jnp.float32)
    x0 = jnp.zeros((batch, n), dtype=jnp.float32)
    h = DT / TAU

    @jax.jit
    def scan(x0: jax.Array) -> jax.Array:
        def body(x: jax.Array, _: None) -> tuple[jax.Array, jax.Array]:
            x = x + h * (-x + jnp.tanh(x) @ W.T + b)
            return x, x

        return jax.lax.scan(body, x0, None, length=steps)[1]

    class Net(bp.DynamicalSystem):
        def __init__(self) -> None:
            super().__init__(mode=bm.BatchingMode(batch))
            self.W, self.b = bm.asarray(W), bm.asarray(b)
            self.x = bm.Variable(jnp.zeros((batch, n), dtype=jnp.float32), batch_axis=0)

        def update(self) -> None:
            x = self.x.value
            self.x.value = x + h * (-x + jnp.tanh(x) @ bm.as_jax(self.W).T + bm.as_jax(self.b))

    net_rec, net_none = Net(), Net()
    runner_rec = bp.DSRunner(net_rec, monitors=["x"], dt=DT, progress_bar=False)
    runner_none = bp.DSRunner(net_none, monitors=[], dt=DT, progress_bar=False)

    def brainpy_record() -> object:
        net_rec.x.value = x0
        runner_rec.run(steps * DT)
        return jax.block_until_ready(runner_rec.mon["x"])

    def brainpy_none() -> object:
        net_none.x.value = x0
        runner_none.run(steps * DT)
        return jax.block_until_ready(net_none.x.value)

    def jax_scan() -> object:
        return jax.block_until_ready(scan(x0))

    return {"brainpy_record": brainpy_record, "brainpy_none": brainpy_none, "jax_scan": jax_scan}


def check_agreement(n: int, batch: int, steps: int) -> dict[str, float]:
    """Max |difference| of the last state: neurobias's torch kernel against JAX's scan and BrainPy, and
    ``simulate``'s two engines against each other (float32)."""
    jv = jax_variants(n, batch, steps)
    tv = torch_variants(n, batch, steps)
    ours = tv["neurobias.integrate"]()[:, -1].numpy()
    theirs = np.asarray(jv["jax_scan"]())[-1]
    rec = np.asarray(jv["brainpy_record"]())
    rec_last = rec[:, -1] if rec.shape[0] == batch else rec[-1]
    out = {"external": float(max(np.abs(ours - theirs).max(), np.abs(ours - rec_last).max()))}
    if "neurobias.simulate_jax" in tv:
        x_t = tv["neurobias.simulate_torch"]()["x"].values
        x_j = tv["neurobias.simulate_jax"]()["x"].values
        out["engines"] = float(np.abs(x_t - x_j).max())
    return out


# --------------------------------------------------------------------------- report
VARIANTS = ["matmul", "matmul_1thread", "neurobias.simulate", "neurobias.simulate_torch", "neurobias.simulate_jax",
            "neurobias.integrate", "neurobias.integrate_1thread", "torch_2threads", "jax_scan", "brainpy_none",
            "brainpy_record", "torch_naive"]
HEADS = ["matmuls alone (s)", "matmuls, 1 thread (s)", "simulate, auto (s)", "simulate, torch (s)",
         "simulate, jax (s)", "integrate (s)", "integrate, 1 thread (s)", "integrate, 2 torch threads (s)",
         "JAX scan (s)", "DSRunner none (s)", "DSRunner record (s)", "naive torch (s)"]


def figure(rows: list[dict[str, object]], path: Path) -> None:
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    from neurobias.io.figures import save_figure

    configs = sorted({(r["N"], r["batch"]) for r in rows})
    variants = VARIANTS
    fig = Figure(figsize=(8.5, 3.8), layout="constrained")
    ax = fig.add_subplot()
    width = 0.8 / len(variants)
    colours = matplotlib.colormaps["tab20"].colors  # one colour per variant (the default cycle has 10)
    for i, (v, head) in enumerate(zip(variants, HEADS, strict=True)):
        vals = [next((r["median_s"] for r in rows if (r["N"], r["batch"]) == c and r["variant"] == v), np.nan)
                for c in configs]
        ax.bar(np.arange(len(configs)) + (i - len(variants) / 2 + 0.5) * width, vals, width,
               label=head.removesuffix(" (s)"), color=colours[i % len(colours)])
    ax.set_xticks(np.arange(len(configs)), [f"N={n}\nbatch {b}" for n, b in configs])
    ax.set_yscale("log")
    # plain numbers (0.3, not 3 x 10^-1), the minor ticks labelled at 2, 3 and 5 times a power of ten only
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(FuncFormatter(
        lambda v, _: f"{v:g}" if v > 0 and round(v / 10 ** np.floor(np.log10(v))) in (2, 3, 5) else ""))
    ax.set_ylabel(f"median seconds for {rows[0]['T']} steps")
    ax.set_title("Simulation, tanh Euler float32, whole trajectory (except DSRunner none and the matmuls)",
                 fontsize=9)
    ax.legend(fontsize=6, ncols=3)
    save_figure(fig, path)


def report(payload: dict[str, object], results: Path, figure_path: Path) -> str:
    rows = payload["rows"]
    lines = [
        "## Simulation throughput",
        "",
        f"Command: `{payload['command']}`. Machine: {machine_line(payload['machine'])}. "
        f"Medians of {payload['repeats']} interleaved rounds after a warm-up "
        f"({payload.get('order', 'the variants in the same order every round')}), T = {payload['T']} steps, "
        "tanh, Euler, float32, the whole trajectory returned (except `brainpy_none`). "
        "`simulate, auto` is `neurobias.simulate` as a user calls it (`engine=\"auto\"`); `simulate, torch` and "
        "`simulate, jax` force an engine. The torch engine runs on one intra-op thread and splits the batch over "
        f"{payload['threads']} Python thread(s); `integrate, 2 torch threads` is the same kernel on two torch "
        "intra-op threads instead; the JAX engine, JAX's scan and BrainPy use XLA's thread pool, and the warm-up "
        "compiles the JAX engine's kernel (a compiled kernel is reused by every later call of the same shapes). "
        f"Raw numbers: `{shown(results)}`; figure: `{shown(figure_path)}`.",
        "",
        "| N | batch | auto picks | " + " | ".join(HEADS)
        + " | DSRunner none / simulate | DSRunner record / simulate | simulate torch / jax |",
        "|" + "---|" * (3 + len(HEADS) + 3),
    ]
    configs = sorted({(r["N"], r["batch"]) for r in rows})
    verdicts = []
    for n, b in configs:
        here = [r for r in rows if (r["N"], r["batch"]) == (n, b)]
        m = {r["variant"]: r["median_s"] for r in here}
        auto = next((r.get("auto_engine") for r in here if r.get("auto_engine")), "?")
        sim = m["neurobias.simulate"]
        cells = [f"{m.get(v, float('nan')):.3f}" for v in VARIANTS]
        ratios = [m.get("brainpy_none", np.nan) / sim, m.get("brainpy_record", np.nan) / sim,
                  m["neurobias.simulate_torch"] / m.get("neurobias.simulate_jax", np.nan)]
        lines.append(f"| {n} | {b} | {auto} | " + " | ".join(cells) + " | "
                     + " | ".join(f"{r:.2f}" for r in ratios) + " |")
        verdicts.append((n, b, auto, m, ratios))
    lines += ["", "Goal: `simulate` (as called, `engine=\"auto\"`) at most as slow as DSRunner recording nothing, "
              "measured in the same process, with the whole trajectory returned (`x`, `r`, `z` in a Dataset, "
              "while DSRunner keeps only the final state)."]
    for n, b, auto, m, (r_none, r_rec, r_engines) in verdicts:
        sim = m["neurobias.simulate"]
        t1, t2 = m["neurobias.integrate_1thread"], m["torch_2threads"]
        lines.append(
            f"- N = {n}, batch {b}: `simulate` (auto picks {auto}) takes {sim:.3f} s, DSRunner recording nothing "
            f"{m.get('brainpy_none', float('nan')):.3f} s, i.e. {r_none:.2f}x our time: "
            f"**{'met' if r_none >= 1 else 'NOT met'}**. DSRunner recording the state takes {r_rec:.2f}x our time. "
            f"The torch engine takes {r_engines:.2f}x the JAX engine's time; torch's kernel on two intra-op "
            f"threads takes {t2 / t1:.2f}x its time on one."
        )
    lines += ["", "What `simulate` does beyond the loop: it returns a Dataset with the state `x`, the rates "
              "`r = tanh(x)` (a second trajectory of the same size: the circuit here has `form='current'`) and "
              "the readout `z` in host memory. DSRunner records the state only, or nothing.",
              "", "Notes: `bp.DSRunner.run` compiles its loop again on every call (`jax_log_compiles` shows one "
              "`jit(scan)` compilation per `run`), and that compilation is part of what a DSRunner user waits for, "
              "so it is inside its times; the JAX engine of `simulate` and `jax_scan` compile once per shape (the "
              "warm-up), so a first call with new shapes costs the compilation more (first calls below)."]
    for n, b, auto, m, _ in verdicts:
        here = {r["variant"]: r.get("first_call_s") for r in rows if (r["N"], r["batch"]) == (n, b)}
        if here.get("neurobias.simulate_jax") is not None:
            lines.append(f"- N = {n}, batch {b}: a first call of `simulate` takes "
                         f"{here['neurobias.simulate_jax']:.3f} s with the JAX engine (compilation included) and "
                         f"{here['neurobias.simulate_torch']:.3f} s with torch.")
    lines += ["", "On a machine shared with other jobs the XLA thread pool and torch's threads compete "
              "with them alike; the rounds are interleaved so that drift hits every variant"
              + (", and each round's own order spreads what one variant leaves behind for the next (memory "
                 "to free, threads still spinning) over all of them." if "order" in payload else ".")]
    text = (f"Agreement check: the last state of `neurobias.integrate` and of the JAX and BrainPy runs "
            f"differ by at most {payload['agreement_max_abs']:.1e}")
    if payload.get("agreement_engines_max_abs") is not None:
        text += (f"; `simulate`'s torch and JAX engines, over the whole trajectory, by at most "
                 f"{payload['agreement_engines_max_abs']:.1e}")
    lines += ["", text + f" (float32, N = {payload['agreement_N']})."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report-only", action="store_true",
                        help="rewrite the --doc section and the --figure from the --results JSON, run nothing")
    parser.add_argument("--quick", action="store_true", help="N = 256, 512 at batch 64 only")
    parser.add_argument("--sizes", type=int, nargs="+", default=None, metavar="N",
                        help="circuit sizes (default 256 512 2048; --quick: 256 512)")
    parser.add_argument("--batches", type=int, nargs="+", default=None, metavar="B",
                        help="batch sizes, each run with every N (default 64 256; --quick: 64)")
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds after the warm-up (default 3)")
    parser.add_argument("--steps", type=int, default=1000, help="time steps T of every run (default 1000)")
    add_output_options(parser, "simulation")
    args = parser.parse_args()
    if args.report_only:
        rerender("simulation", args, figure=figure, report=report)
        return
    from neurobias.circuit import choose_engine

    info = machine_info()
    ns = args.sizes or ([256, 512] if args.quick else [256, 512, 2048])
    batches = args.batches or ([64] if args.quick else [64, 256])
    sizes = [(n, b) for n in ns for b in batches]
    rows: list[dict[str, object]] = []
    for n, b in sizes:
        variants = {**torch_variants(n, b, args.steps), **jax_variants(n, b, args.steps)}
        first = {}
        for name in ("neurobias.simulate_jax", "neurobias.simulate_torch"):  # a first call: JAX compiles here
            if name in variants:
                t0 = time.perf_counter()
                variants[name]()
                first[name] = time.perf_counter() - t0
        times = interleaved(variants, args.repeats)
        auto = choose_engine(n_units=n, n_rows=b, n_steps=args.steps)
        for name, ts in times.items():
            rows.append({"N": n, "batch": b, "T": args.steps, "variant": name, "median_s": median(ts), "times_s": ts,
                         "auto_engine": auto, **({"first_call_s": first[name]} if name in first else {})})
            print(f"N={n:5d} batch={b:4d} {name:22s} {median(ts):8.3f} s", flush=True)
        del variants
    from neurobias.circuit import CPU_THREADS

    agree_n = 256
    agree = check_agreement(agree_n, 8, 200)
    payload = {"machine": info, "command": command_line(), "repeats": args.repeats, "T": args.steps,
               "order": f"each round in its own order, a permutation drawn with seed {ORDER_SEED}",
               "threads": CPU_THREADS, "rows": rows, "agreement_max_abs": agree["external"],
               "agreement_engines_max_abs": agree.get("engines"),
               "agreement_N": agree_n}
    publish("simulation", payload, args, draw=lambda path: figure(rows, path), report=report)


if __name__ == "__main__":
    main()

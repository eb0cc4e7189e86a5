"""Training cost: bias vs full mode, BPTT memory with and without checkpointing, growth with N and contexts.

* **bias vs full**: one training step (forward through T steps, backward
  through time, Adam) of a tanh circuit, float32, one context x batch trials.
  In bias mode the weights are buffers, so autograd never forms a weight
  gradient: the backward pass does one matrix product per step instead of two.
* **checkpointing**: the peak resident memory of one forward + backward at
  T = 2000, without and with gradient checkpointing over time chunks
  (``train(checkpoint_chunk=...)``), each in a fresh process; the loss and
  gradients of both are compared (identical).
* **growth**: time per time step of a training step against N (batch fixed),
  and against the number of contexts trained together (trials per context
  fixed), with the fitted log-log slopes.

Writes ``benchmarks/results/training.json``, ``docs/img/bench_training.png``
and the ``training`` section of ``docs/performance.md`` (``--results``,
``--figure`` and ``--doc`` choose other files).  The sizes of each part have
options (``--mode-*``, ``--memory-*``, ``--growth-*``; see ``--help``), the
defaults being the sizes above.

Usage: ``python benchmarks/training.py [--quick] [--repeats 5] [--results FILE] [--figure FILE] [--doc FILE]``
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402 - the shared helpers of the benchmarks
    add_output_options,
    command_line,
    interleaved,
    machine_info,
    machine_line,
    median,
    shown,
    publish,
)


def make_model(n: int, contexts: int, mode: str, *, dtype: torch.dtype = torch.float32, seed: int = 0):  # noqa: ANN201
    import neurobias as nb
    from neurobias.training.model import CircuitModel
    from neurobias.training.tonic import TonicBank

    circuit = nb.Circuit.random(n, n_inputs=2, n_outputs=2, g=1.5, seed=seed)
    bank = TonicBank(contexts, n, init_std=0.1, rng=np.random.default_rng(seed), dtype=dtype)
    return CircuitModel(circuit, bank, mode=mode, dtype=dtype)


def step_fn(n: int, contexts: int, trials: int, steps: int, mode: str, *, chunk: int = 0,
            dtype: torch.dtype = torch.float32):  # noqa: ANN201
    """A closure doing one training step (forward, backward through time, Adam); returns the loss."""
    torch.set_num_threads(1)  # the whole process on one thread, as neurobias's loops run
    model = make_model(n, contexts, mode, dtype=dtype)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=1e-3)
    g = torch.Generator().manual_seed(1)
    inputs = torch.randn(contexts, trials, steps, 2, generator=g, dtype=dtype)
    target = torch.randn(contexts, trials, steps, 2, generator=g, dtype=dtype)
    x0 = torch.zeros(contexts, trials, n, dtype=dtype)

    def one_step() -> float:
        opt.zero_grad(set_to_none=True)
        _, z = model(inputs, x0, dt=1.0, method="euler", checkpoint_chunk=chunk)
        loss = ((z - target) ** 2).mean()
        loss.backward()
        opt.step()
        return float(loss.detach())

    return one_step, model


def memory_child(chunk: int, n: int, batch: int, steps: int) -> None:
    """In a fresh process: peak RSS growth of one forward + backward; prints JSON with loss and gradient."""
    torch.set_num_threads(1)  # the whole process on one thread, as neurobias's loops run
    model = make_model(n, 1, "bias")
    g = torch.Generator().manual_seed(1)
    inputs = torch.randn(1, batch, steps, 2, generator=g)
    target = torch.randn(1, batch, steps, 2, generator=g)
    x0 = torch.zeros(1, batch, n)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    _, z = model(inputs, x0, dt=1.0, method="euler", checkpoint_chunk=chunk)
    loss = ((z - target) ** 2).mean()
    loss.backward()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    grad = model.bank.offsets.grad.numpy()
    print(json.dumps({"peak_growth_mib": (peak - before) / 1024.0, "loss": float(loss),
                      "grad": grad.ravel().tolist()}))


def memory(n: int, batch: int, steps: int, chunk: int) -> dict[str, object]:
    out = {}
    for c in (0, chunk):
        proc = subprocess.run([sys.executable, __file__, "--memory-child", str(c), "--n", str(n), "--batch", str(batch),
                               "--steps", str(steps)], capture_output=True, text=True, check=True)
        out[c] = json.loads(proc.stdout.strip().splitlines()[-1])
    g0, g1 = np.array(out[0]["grad"]), np.array(out[chunk]["grad"])
    return {"N": n, "batch": batch, "T": steps, "chunk": chunk,
            "peak_mib_without": out[0]["peak_growth_mib"], "peak_mib_with": out[chunk]["peak_growth_mib"],
            "loss_identical": out[0]["loss"] == out[chunk]["loss"],
            "max_abs_grad_difference": float(np.abs(g0 - g1).max()), "max_abs_grad": float(np.abs(g0).max())}


def slope(x: list[float], y: list[float]) -> float:
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def figure(payload: dict[str, object], path: Path) -> None:
    from matplotlib.figure import Figure

    from neurobias.io.figures import save_figure

    fig = Figure(figsize=(7.5, 3.0), layout="constrained")
    ax1, ax2, ax3 = fig.subplots(1, 3)
    modes = payload["modes"]
    ax1.bar(list(modes), [modes[m]["median_s"] for m in modes], color=["C0", "C3"])
    ax1.set_ylabel("seconds per training step")
    ax1.set_title(f"N={payload['mode_N']}, batch {payload['mode_batch']}, T={payload['mode_T']}", fontsize=8)
    gn = payload["growth_N"]
    ax2.loglog(gn["N"], gn["ms_per_step"], "o-")
    ref = np.array(gn["N"], dtype=float)
    ax2.loglog(ref, gn["ms_per_step"][-1] * (ref / ref[-1]) ** 2, "k--", lw=0.8, label="~N^2")
    ax2.set_xlabel("units N")
    ax2.set_ylabel("ms per time step")
    ax2.set_title(f"slope {gn['slope']:.2f} (batch {gn['batch']})", fontsize=8)
    ax2.legend(fontsize=7)
    gc = payload["growth_contexts"]
    ax3.loglog(gc["contexts"], gc["ms_per_step"], "o-", color="C2")
    c = np.array(gc["contexts"], dtype=float)
    ax3.loglog(c, gc["ms_per_step"][0] * c, "k--", lw=0.8, label="linear")
    ax3.set_xlabel("contexts trained together")
    ax3.set_title(f"slope {gc['slope']:.2f} (N={gc['N']}, {gc['trials']} trials each)", fontsize=8)
    ax3.legend(fontsize=7)
    from matplotlib.ticker import NullFormatter

    for ax, ticks in ((ax2, gn["N"]), (ax3, gc["contexts"])):
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.yaxis.set_minor_formatter(NullFormatter())
    save_figure(fig, path)


def report(p: dict[str, object], results: Path, figure_path: Path) -> str:
    modes, mem = p["modes"], p["memory"]
    ratio = modes["bias"]["median_s"] / modes["full"]["median_s"]
    gn, gc = p["growth_N"], p["growth_contexts"]
    lines = [
        "## Training",
        "",
        f"Command: `{p['command']}`. Machine: {machine_line(p['machine'])}. Medians of {p['repeats']} interleaved "
        "rounds after a warm-up; float32, tanh, Euler, one training step = forward through time, backward through "
        f"time and an Adam step. Raw numbers: `{shown(results)}`; figure: "
        f"`{shown(figure_path)}`.",
        "",
        "| step | median (s) |",
        "|---|---|",
        f"| `bias` mode, N = {p['mode_N']}, batch {p['mode_batch']}, T = {p['mode_T']} | "
        f"{modes['bias']['median_s']:.3f} |",
        f"| `full` mode, same | {modes['full']['median_s']:.3f} |",
        "",
        f"Bias step / full step = **{ratio:.3f}** (goal <= 0.7: {'met' if ratio <= 0.7 else 'NOT met'}; "
        "expected about 2/3 from the count of matrix products, so the margin is within a loaded machine's noise). "
        "In bias "
        "mode the weights are buffers, so the backward pass forms no weight gradient (one matrix product per time "
        "step instead of two; `tests/test_devices.py` counts them).",
        "",
        f"BPTT memory at T = {mem['T']} (N = {mem['N']}, batch {mem['batch']}, bias mode), peak resident-memory "
        f"growth of one forward + backward in a fresh process: **{mem['peak_mib_without']:.0f} MiB** without "
        f"checkpointing, **{mem['peak_mib_with']:.0f} MiB** with `checkpoint_chunk={mem['chunk']}` "
        f"(x{mem['peak_mib_without'] / max(mem['peak_mib_with'], 1e-9):.1f} less). Loss identical: "
        f"{mem['loss_identical']}; largest gradient difference {mem['max_abs_grad_difference']:.1e} "
        f"(largest gradient {mem['max_abs_grad']:.1e}): float32 rounding, because the tonic gradient is summed "
        "chunk by chunk; in float64 `tests/test_devices.py` finds losses equal and gradients equal to 1e-15, and "
        "`train(checkpoint_chunk=3)` gives the same tonic inputs and losses as without.",
        "",
        f"Growth: time per time step against N (batch {gn['batch']}): log-log slope **{gn['slope']:.2f}** over "
        f"N = {', '.join(map(str, gn['N']))} (~N^2 expected once the matrix products dominate; per-step overhead "
        f"flattens small N). Against the number of contexts trained together (N = {gc['N']}, {gc['trials']} "
        f"trials each): slope **{gc['slope']:.2f}** over {', '.join(map(str, gc['contexts']))} contexts "
        "(below 1: sublinear while the batch is small).",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller growth grids")
    parser.add_argument("--repeats", type=int, default=5, help="timed rounds after the warm-up (default 5)")
    sizes = parser.add_argument_group("sizes")
    sizes.add_argument("--mode-size", type=int, default=512, metavar="N", help="N of bias vs full (default 512)")
    sizes.add_argument("--mode-batch", type=int, default=64, metavar="B", help="batch of bias vs full (default 64)")
    sizes.add_argument("--mode-steps", type=int, default=200, metavar="T", help="T of bias vs full (default 200)")
    sizes.add_argument("--memory-size", type=int, default=512, metavar="N", help="N of the memory runs (default 512)")
    sizes.add_argument("--memory-batch", type=int, default=64, metavar="B",
                       help="batch of the memory runs (default 64)")
    sizes.add_argument("--memory-steps", type=int, default=2000, metavar="T",
                       help="T of the memory runs (default 2000)")
    sizes.add_argument("--memory-chunk", type=int, default=50, metavar="C",
                       help="checkpoint_chunk of the checkpointed memory run (default 50)")
    sizes.add_argument("--growth-sizes", type=int, nargs="+", default=None, metavar="N",
                       help="N values of the growth with N, at batch 64; at least 3, the smallest left out of the "
                            "slope (default 64 128 256 512 1024; --quick: up to 512)")
    sizes.add_argument("--growth-contexts", type=int, nargs="+", default=None, metavar="C",
                       help="numbers of contexts of the growth with contexts, at N = 256, 4 trials each; at least 2 "
                            "(default 1 2 4 8 16; --quick: up to 8)")
    sizes.add_argument("--growth-steps", type=int, default=100, metavar="T", help="T of the growth runs (default 100)")
    add_output_options(parser, "training")
    parser.add_argument("--memory-child", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, default=512, help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=64, help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=2000, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child is not None:
        memory_child(args.memory_child, args.n, args.batch, args.steps)
        return
    Ns = args.growth_sizes or ([64, 128, 256, 512] if args.quick else [64, 128, 256, 512, 1024])
    Cs = args.growth_contexts or ([1, 2, 4, 8] if args.quick else [1, 2, 4, 8, 16])
    if len(Ns) < 3:
        parser.error("--growth-sizes: at least 3 values (the slope leaves out the smallest)")
    if len(Cs) < 2:
        parser.error("--growth-contexts: at least 2 values")
    info = machine_info()
    n, batch, T = args.mode_size, args.mode_batch, args.mode_steps
    fns = {mode: step_fn(n, 1, batch, T, mode)[0] for mode in ("bias", "full")}
    times = interleaved(fns, args.repeats)
    modes = {m: {"median_s": median(ts), "times_s": ts} for m, ts in times.items()}
    print(f"bias {modes['bias']['median_s']:.3f} s, full {modes['full']['median_s']:.3f} s", flush=True)
    mem = memory(args.memory_size, args.memory_batch, args.memory_steps, args.memory_chunk)
    print(f"memory: {mem['peak_mib_without']:.0f} MiB without, {mem['peak_mib_with']:.0f} MiB with", flush=True)
    growth_T = args.growth_steps
    fns_n = {str(k): step_fn(k, 1, 64, growth_T, "bias")[0] for k in Ns}
    tn = interleaved(fns_n, args.repeats)
    ms_n = [median(tn[str(k)]) / growth_T * 1e3 for k in Ns]
    fns_c = {str(c): step_fn(256, c, 4, growth_T, "bias")[0] for c in Cs}
    tc = interleaved(fns_c, args.repeats)
    ms_c = [median(tc[str(c)]) / growth_T * 1e3 for c in Cs]
    payload = {
        "machine": info, "command": command_line(), "repeats": args.repeats,
        "mode_N": n, "mode_batch": batch, "mode_T": T, "modes": modes, "memory": mem,
        "growth_N": {"N": Ns, "batch": 64, "T": growth_T, "ms_per_step": ms_n, "slope": slope(Ns[1:], ms_n[1:])},
        "growth_contexts": {"contexts": Cs, "N": 256, "trials": 4, "T": growth_T, "ms_per_step": ms_c,
                            "slope": slope(Cs, ms_c)},
    }
    print(publish("training", payload, args, draw=lambda path: figure(payload, path), report=report))


if __name__ == "__main__":
    main()

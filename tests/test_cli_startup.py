"""The command line starts fast: building the parser (``--help``, ``--version``, any user error found while
parsing) imports none of the heavy libraries; each command imports what it needs when it runs."""
from __future__ import annotations

import subprocess
import sys

HEAVY = ("torch", "xarray", "scipy", "dask", "distributed", "sklearn", "pynwb", "jax", "brainpy", "matplotlib",
         "h5py", "mnist1d", "DSA")


def test_parser_imports_nothing_heavy() -> None:
    code = ("import sys, neurobias.cli as c; p = c.build_parser(); "
            "print(','.join(sorted({m.split('.')[0] for m in sys.modules} & set(sys.argv[1].split(',')))))")
    proc = subprocess.run([sys.executable, "-c", code, ",".join(HEAVY)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "", f"building the parser imported: {proc.stdout.strip()}"


def test_every_command_is_registered_and_has_an_example() -> None:
    from neurobias.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")  # noqa: SLF001
    names = set(sub.choices)
    assert {"run", "simulate", "fixed-points", "continue", "compare-contexts", "report", "info"} <= names
    for name, p in sub.choices.items():
        assert p.epilog and "example" in p.epilog and f"neurobias {name}" in p.epilog, name

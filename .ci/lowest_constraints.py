"""Print pip constraints that pin every direct dependency of pyproject.toml to its lower bound.

``make test-oldest`` installs the project with them (``pip install -c FILE``), so the lower bounds
written in ``pyproject.toml`` are tested, not only the newest releases.  Usage::

    python .ci/lowest_constraints.py [EXTRA ...] > lowest.txt

Direct dependencies of the base set and of the named extras are pinned to ``==`` their ``>=`` bound
(an exact ``==`` pin stays as it is), and :data:`CAPS` caps a few transitive dependencies whose newest
releases the lowest direct versions cannot live with; ``torch`` is left out (``make`` installs torch==2.13.0, the CPU
build, first).  A dependency without a lower bound is an error: every bound must be tested.
"""
from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SKIP = {"torch"}
#: caps on transitive dependencies that the lowest direct versions cannot live with (newest releases otherwise)
CAPS = {
    # matplotlib < 3.10.7 calls pyparsing names that pyparsing 3.3 deprecates: a DeprecationWarning on import,
    # an error under the test suite's warnings-as-errors (matplotlib issue 30617)
    "pyparsing": "<3.3",
}


def lowest(requirements: list[str]) -> dict[str, str]:
    pins: dict[str, str] = {}
    for req in requirements:
        m = re.match(r"^\s*([A-Za-z0-9_.-]+)(\[[^\]]*\])?\s*(.*)$", req)
        if m is None:
            raise SystemExit(f"cannot read requirement {req!r}")
        name, spec = m.group(1).lower().replace("_", "-"), m.group(3)
        if name in SKIP or name == "neurobias":
            continue
        exact = re.search(r"==\s*([^,;\s]+)", spec)
        low = re.search(r">=\s*([^,;\s]+)", spec)
        if exact:
            pins[name] = exact.group(1)
        elif low:
            pins[name] = low.group(1)
        else:
            raise SystemExit(f"requirement {req!r} has no lower bound")
    return pins


def main(extras: list[str]) -> int:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    reqs = list(project["dependencies"])
    optional = project.get("optional-dependencies", {})
    for extra in extras:
        if extra not in optional:
            raise SystemExit(f"no extra {extra!r} in pyproject.toml (extras: {', '.join(optional)})")
        reqs += optional[extra]
    for name, version in sorted(lowest(reqs).items()):
        print(f"{name}=={version}")
    for name, spec in sorted(CAPS.items()):
        print(f"{name}{spec}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

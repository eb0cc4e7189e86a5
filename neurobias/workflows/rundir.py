"""The directories the commands write: their file names, staleness checks, provenance and atomic commits.

This module alone knows the layout of a run directory (``neurobias run``), of a
fit directory (``neurobias fit-recordings``) and of a sweep directory
(``neurobias sweep``).  Adding an output file means adding one :class:`Product`
to the table of its directory; the commands ask the directory for paths.

::

    RUN_DIR/circuit.nc  results.nc  checkpoint.npz     written by ``neurobias run``
    RUN_DIR/fixed_points.nc  continuation.nc  comparison.nc  report.html
    RUN_DIR/periodic_orbits.nc  orbit_continuation.nc
    RUN_DIR/figures/<name>.png
    FIT_DIR/recording.nc  circuit.nc  fit.nc  comparison.nc  report.html  figures/<name>.png
    SWEEP_DIR/sweep.json  cells/<cell>/cell.json + a run directory per cell

Every result file carries the provenance of :func:`neurobias.io.circuit.provenance_attrs`
(the config, the seed and the fingerprints of the weights, the tonic inputs and
the recording); an analysis file whose fingerprints differ from those of the
directory's current ``circuit.nc`` and ``results.nc`` is refused as stale, with
the command that computes it again.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xarray as xr

from neurobias.errors import InputError

__all__ = [
    "Product",
    "RUN_PRODUCTS",
    "FIT_PRODUCTS",
    "SWEEP_MANIFEST",
    "SWEEP_CELL_RECORD",
    "SWEEP_CELLS",
    "RunDir",
    "FitDir",
    "first_missing",
    "save_figure",
    "remove_created",
]

FIGURES = "figures"


@dataclass(frozen=True)
class Product:
    """One file of a directory.

    Attributes
    ----------
    filename : str
        Its name inside the directory.
    kind : str
        Its schema kind (``neurobias.io.schema``), or ``""`` for a file that is not a Dataset.
    command : str
        The command that writes it, with ``{dir}`` for the directory (used in messages).
    per_context : bool
        Whether the file has the run's ``context`` and ``unit`` axes, checked when it is read.
    """

    filename: str
    kind: str
    command: str
    per_context: bool = False


#: the files of a run directory, by name
RUN_PRODUCTS: dict[str, Product] = {
    "circuit": Product("circuit.nc", "circuit", "neurobias run CONFIG --out {dir}"),
    "results": Product("results.nc", "results", "neurobias run CONFIG --out {dir}"),
    "checkpoint": Product("checkpoint.npz", "", "neurobias run CONFIG --out {dir}"),
    "fixed_points": Product("fixed_points.nc", "fixed_points", "neurobias fixed-points {dir}"),
    "continuation": Product("continuation.nc", "continuation", "neurobias continue {dir} --from A --to B"),
    "periodic_orbits": Product("periodic_orbits.nc", "periodic_orbits", "neurobias periodic-orbits {dir}"),
    "orbit_continuation": Product("orbit_continuation.nc", "orbit_continuation",
                                  "neurobias continue {dir} --from A --to B"),
    "comparison": Product("comparison.nc", "comparison", "neurobias compare-contexts {dir}", per_context=True),
    "report": Product("report.html", "", "neurobias report {dir}"),
}

#: the files of a fit directory (a circuit fitted to a recording), by name
FIT_PRODUCTS: dict[str, Product] = {
    "recording": Product("recording.nc", "recording", "neurobias fit-recordings RECORDING --out {dir}"),
    "circuit": Product("circuit.nc", "circuit", "neurobias fit-recordings RECORDING --out {dir}"),
    "fit": Product("fit.nc", "fit", "neurobias fit-recordings RECORDING --out {dir}"),
    "crossval": Product("crossval.nc", "crossval", "neurobias fit-recordings RECORDING --config CONFIG --out {dir} "
                        "(with a [crossval] table)"),
    "comparison": Product("comparison.nc", "recording_comparison", "neurobias compare-recordings {dir}"),
    "report": Product("report.html", "", "neurobias compare-recordings {dir}"),
}

#: the manifest of a sweep directory, the record of each cell and the folder of the cells
SWEEP_MANIFEST = "sweep.json"
SWEEP_CELL_RECORD = "cell.json"
SWEEP_CELLS = "cells"


def save_figure(fig: Any, path: str | os.PathLike) -> Path:
    """Save a Matplotlib Figure, or the top-level Figure of an Axes, atomically as PNG at ``path``."""
    from matplotlib.axes import Axes

    from neurobias.io.figures import save_figure as save
    from neurobias.plotting import root_figure

    return save(root_figure(fig) if isinstance(fig, Axes) else fig, path)


def first_missing(path: str | os.PathLike) -> Path | None:
    """The outermost directory of ``path`` (itself or an ancestor) that does not exist yet, or None.

    Removing it after a failure removes every directory the failed call created.
    """
    p = Path(path).absolute()
    if os.path.exists(p):  # os.path, not Path: False (not OSError) for a name too long
        return None
    while not os.path.exists(p.parent) and p.parent != p:
        p = p.parent
    return p


def remove_created(created: Path | None) -> None:
    """Remove a directory returned by :func:`first_missing` (after a failed call), if any."""
    if created is not None:
        shutil.rmtree(created, ignore_errors=True)


class _Directory:
    """A directory with a table of named products (the shared part of :class:`RunDir` and :class:`FitDir`)."""

    products: dict[str, Product] = {}
    what = "directory"

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"

    def file(self, name: str) -> Path:
        """The path of product ``name`` (a key of the directory's product table)."""
        try:
            return self.path / self.products[name].filename
        except KeyError:
            raise InputError(f"a {self.what} has no file {name!r}; it has {', '.join(self.products)}") from None

    def figure(self, name: str) -> Path:
        """The path of figure ``name`` (``figures/<name>.png``)."""
        return self.path / FIGURES / f"{name}.png"

    def has(self, name: str) -> bool:
        """Whether product ``name`` exists."""
        return self.file(name).is_file()

    def command(self, name: str) -> str:
        """The command that writes product ``name`` into this directory."""
        return self.products[name].command.format(dir=self.path)

    def require(self, *names: str) -> None:
        """Raise InputError unless the directory exists and holds every product in ``names``."""
        if os.path.exists(self.path) and not os.path.isdir(self.path):
            known = {p.filename for p in self.products.values()}
            hint = (f"; {self.path.parent} may be the {self.what} that holds it"
                    if self.path.name in known else f" (`{self.command(names[0])}` writes one)")
            raise InputError(f"expected a {self.what} (a folder holding "
                             f"{', '.join(self.products[n].filename for n in names)}); got the file {self.path}{hint}")
        if not os.path.isdir(self.path):
            raise InputError(f"{self.what} not found: {self.path} (write one with `{self.command(names[0])}`)")
        for name in names:
            if not self.has(name):
                raise InputError(f"{self.path} is not a {self.what}: {self.products[name].filename} is missing "
                                 f"(write it with `{self.command(name)}`)")

    def check_writable(self, target: Path, *, figures: bool = False, what: str = "output file") -> None:
        """Report an output that cannot be written before any work starts (nothing is created)."""
        from neurobias.io.files import check_writable_file

        check_writable_file(target, what=what)
        if figures:
            check_writable_file(self.figure("check"), what="figure")

    def present(self) -> list[Path]:
        """Every file of this directory's product table, and every ``figures/*.png``, that exists (sorted)."""
        if not os.path.isdir(self.path):
            return []
        found = [self.file(name) for name in self.products if self.has(name)]
        figures = self.path / FIGURES
        if figures.is_dir():
            found += sorted(p for p in figures.glob("*.png") if p.is_file() and not p.name.startswith("."))
        return found

    def others(self) -> list[str]:
        """The names of the entries of this directory that are not its products (paths relative to it, sorted).

        Hidden entries (temporary files of interrupted atomic writes) are left out.
        """
        if not os.path.isdir(self.path):
            return []
        known = set(self.present())
        out = []
        for p in sorted(self.path.iterdir()):
            if p.name.startswith("."):
                continue
            if p.name == FIGURES and p.is_dir():
                out += [f"{FIGURES}/{q.name}" for q in sorted(p.iterdir())
                        if not q.name.startswith(".") and q not in known]
            elif p not in known:
                out.append(p.name + ("/" if p.is_dir() else ""))
        return out

    def clear(self) -> list[Path]:
        """Remove every product of this directory (and its figures); returns the paths removed.

        Files the product table does not name are left where they are (see :meth:`others`); the
        ``figures`` folder is removed when nothing else is left in it.
        """
        removed = self.present()
        for path in removed:
            path.unlink(missing_ok=True)
        figures = self.path / FIGURES
        if figures.is_dir() and not any(figures.iterdir()):
            figures.rmdir()
        return removed

    def write(self, name: str, ds: xr.Dataset, *, out: str | os.PathLike | None = None) -> Path:
        """Write Dataset product ``name`` atomically (to ``out`` instead when given); returns the path."""
        from neurobias.io import write_dataset

        path = self.file(name)
        kind = self.products[name].kind
        if not kind:
            raise InputError(f"{path.name} of a {self.what} is not a Dataset file; write it with write_text")
        return write_dataset(ds, Path(out) if out is not None else path, kind=kind)

    def write_text(self, name: str, text: str, *, out: str | os.PathLike | None = None) -> Path:
        """Write text product ``name`` (e.g. the HTML report) atomically; returns the path."""
        from neurobias.io import atomic_write_text

        return atomic_write_text(Path(out) if out is not None else self.file(name), text)

    def discard(self, name: str) -> bool:
        """Remove product ``name`` if it exists (it no longer describes what its sibling files hold).

        Returns whether a file was removed.
        """
        path = self.file(name)
        if path.is_file():
            path.unlink()
            return True
        return False

    def write_figures(self, figures: dict[str, Any]) -> dict[str, Path]:
        """Save each figure (a Matplotlib Figure or Axes) atomically; returns ``{"figure_<name>": path}``."""
        return {f"figure_{name}": save_figure(fig, self.figure(name)) for name, fig in figures.items()}


class RunDir(_Directory):
    """A run directory: what ``neurobias run`` writes, and the analyses computed from it.

    Parameters
    ----------
    path : path
        The directory (it need not exist yet for :meth:`file` and :meth:`figure`).

    Notes
    -----
    :meth:`open` reads the circuit and the results once; :meth:`read` reads an
    analysis file and refuses one computed from another circuit or other tonic
    inputs (a run redone into the same directory leaves the older analysis
    files behind); :meth:`stamp` adds the provenance those checks read.
    """

    products = RUN_PRODUCTS
    what = "run directory"

    def __init__(self, path: str | os.PathLike) -> None:
        super().__init__(path)
        self._opened: tuple[Any, xr.Dataset] | None = None

    def open(self) -> tuple[Any, xr.Dataset]:
        """The run's circuit and results Dataset, checked to belong together."""
        if self._opened is None:
            from neurobias.io import open_circuit, open_results

            self.require("circuit", "results")
            circuit = open_circuit(self.file("circuit"))
            results = open_results(self.file("results"))
            if results.sizes["unit"] != circuit.n_units:
                raise InputError(f"{self.file('results')} has {results.sizes['unit']} units but "
                                 f"{self.file('circuit')} has {circuit.n_units}: the files come from different runs")
            self._opened = (circuit, results)
        return self._opened

    @property
    def circuit(self) -> Any:
        """The run's :class:`~neurobias.circuit.Circuit`."""
        return self.open()[0]

    @property
    def results(self) -> xr.Dataset:
        """The run's ``results`` Dataset."""
        return self.open()[1]

    def contexts(self) -> list[str]:
        """The run's context names, in order."""
        return [str(c) for c in self.results["context"].values]

    def provenance(self) -> dict[str, Any]:
        """The provenance attributes of a file computed from this run (config, seed, fingerprints)."""
        from neurobias.io.circuit import provenance_attrs

        circuit, results = self.open()
        return provenance_attrs(circuit, config_toml=str(results.attrs.get("config", "")),
                                seed=int(results.attrs.get("seed", -1)), tonic=results["tonic"].values)

    def stamp(self, ds: xr.Dataset) -> xr.Dataset:
        """``ds`` with this run's provenance attributes added (in place; returned for chaining)."""
        ds.attrs.update(self.provenance())
        return ds

    def read(self, name: str) -> xr.Dataset:
        """Read analysis product ``name``, refusing one computed from another circuit or other tonic inputs.

        A file without fingerprints is accepted as it is.  A comparison must
        also have the run's contexts and units.
        """
        from neurobias.io import read_dataset

        path = self.file(name)
        ds = read_dataset(path, kind=self.products[name].kind)
        expected = {k: v for k, v in self.provenance().items() if k.startswith("circuit_sha256_") or k == "tonic_sha256"}
        stale = sorted(k for k, v in expected.items() if k in ds.attrs and str(ds.attrs[k]) != v)
        if stale:
            what = "other tonic inputs" if stale == ["tonic_sha256"] else "another circuit"
            raise InputError(
                f"{path} was computed from {what} than the run in {self.path} ({', '.join(stale)} differ: "
                f"the run was redone after it was written); compute it again with `{self.command(name)}` "
                "or delete it")
        if self.products[name].per_context:
            got = [str(c) for c in ds["context"].values]
            want = self.contexts()
            n_units = self.results.sizes["unit"]
            if got != want or ds.sizes.get("unit") != n_units:
                raise InputError(f"{path} does not belong to this run (contexts {got}, {ds.sizes.get('unit')} "
                                 f"units; the run has {want}, {n_units} units): run `{self.command(name)}` again")
        return ds

    def read_if_present(self, name: str) -> xr.Dataset | None:
        """:meth:`read` when product ``name`` exists, otherwise None."""
        return self.read(name) if self.has(name) else None


class FitDir(_Directory):
    """A fit directory: a circuit fitted to a recording (``neurobias fit-recordings``) and its comparison.

    Parameters
    ----------
    path : path
        The directory.
    """

    products = FIT_PRODUCTS
    what = "fit directory"

    def read(self, name: str) -> xr.Dataset:
        """Read Dataset product ``name``."""
        from neurobias.io import read_dataset

        return read_dataset(self.file(name), kind=self.products[name].kind)

    def read_if_present(self, name: str) -> xr.Dataset | None:
        """:meth:`read` when product ``name`` exists, otherwise None."""
        return self.read(name) if self.has(name) else None

"""Sphinx configuration of the neurobias documentation (``make docs`` builds it into ``docs/_build/html``).

Three kinds of pages:

* the Markdown pages of ``docs/`` (MyST), listed in ``index.md``;
* the API reference, one page per public name of ``neurobias.__all__``
  (``api.rst`` is written here, at every build, from ``__all__``, so it
  follows the package; autosummary + numpydoc render the docstrings);
* the notebooks of ``notebooks/``, executed at build time by MyST-NB with
  their figures.  They run on the smaller sizes of :data:`NOTEBOOK_SIZES`
  (the build must stay fast): a copy of each notebook is written to
  ``docs/notebooks/`` with those sizes appended to its ``parameters`` cell,
  visibly, and a hidden first cell that makes ``notebooks/`` its working
  directory (so its relative paths hold).
"""
from __future__ import annotations

import inspect
import json
import os
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))

import neurobias  # noqa: E402

project = "neurobias"
author = "the neurobias developers"
copyright = "the neurobias developers"  # noqa: A001 - Sphinx's name
release = neurobias.__version__
version = release

extensions = [
    "myst_nb",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
html_theme = "pydata_sphinx_theme"
html_title = f"neurobias {release}"
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2}
# an explicit mode: the theme's script otherwise logs an error for the empty mode of a page opened from disk
html_context = {"default_mode": "light"}
html_static_path: list[str] = []

# ----------------------------------------------------------------------------- Markdown (MyST)
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3
# docs pages link to files of the repository outside docs/ (data/README.md, ...): point them at the source
myst_url_schemes = ["http", "https", "mailto"]

# ----------------------------------------------------------------------------- API reference
autosummary_generate = True
autodoc_typehints = "none"  # numpydoc shows the documented types
autodoc_member_order = "bysource"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False


def _public_api() -> list[tuple[str, str]]:
    """``(name, kind)`` of every class and function of ``neurobias.__all__``, in its order."""
    out = []
    for name in neurobias.__all__:
        obj = getattr(neurobias, name)
        if inspect.isclass(obj):
            out.append((name, "class"))
        elif callable(obj):
            out.append((name, "function"))
    return out


def _write_api_page() -> None:
    lines = [
        "API reference",
        "=============",
        "",
        "The public API: every name of ``neurobias.__all__`` (``import neurobias as nb``), each on its own page,",
        f"from its docstring. ``nb.__version__`` is ``{release!r}``. The pure analyses live in",
        "``neurobias.analysis``, the plots in ``neurobias.plotting``.",
        "",
    ]
    for kind, title in (("function", "Functions"), ("class", "Classes")):
        names = [n for n, k in _public_api() if k == kind]
        lines += [title, "-" * len(title), "", ".. currentmodule:: neurobias", "", ".. autosummary::",
                  "   :toctree: api", "", *(f"   {n}" for n in names), ""]
    _write_if_changed(DOCS / "api.rst", "\n".join(lines))
    # pages autosummary generated for names that are no longer public would be orphans (a warning)
    public = {n for n, _ in _public_api()}
    for page in (DOCS / "api").glob("neurobias.*.rst"):
        if page.stem.removeprefix("neurobias.") not in public:
            page.unlink()


# ----------------------------------------------------------------------------- notebooks
nb_execution_mode = "force"
nb_execution_timeout = 900
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True

#: sizes of the documentation build, appended to each notebook's ``parameters`` cell
NOTEBOOK_SIZES: dict[str, dict[str, object]] = {
    "01_train_and_simulate": {"N_UNITS": 64, "STEPS": 150},
    "02_fixed_points_and_continuation": {"N_UNITS": 64, "STEPS": 150, "CANDIDATES": 32},
    "03_fit_a_recording": {"N_UNITS": 64, "STEPS": 200, "SHUFFLES": 5},
}


def _write_if_changed(path: Path, text: str) -> None:
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _write_notebook_copies() -> None:
    out_root = Path(tempfile.gettempdir()) / "neurobias-docs-notebooks"
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        sizes = NOTEBOOK_SIZES.get(path.stem)
        if sizes is None:
            raise RuntimeError(f"docs/conf.py: give notebook {path.name} its build sizes in NOTEBOOK_SIZES")
        params = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
        if len(params) != 1:
            raise RuntimeError(f"notebook {path.name} needs exactly one cell tagged `parameters`")
        values = dict(sizes)
        if "OUT =" in _source(params[0]):
            values["OUT"] = str(out_root / path.stem)
        params[0]["source"] = (_source(params[0]).rstrip("\n") + "\n\n# sizes of the documentation build "
                               "(smaller than above, so that the site builds in minutes)\n"
                               + "\n".join(f"{k} = {v!r}" for k, v in values.items()))
        chdir = {"cell_type": "code", "execution_count": None, "id": "docs-working-directory",
                 "metadata": {"tags": ["remove-cell"]}, "outputs": [],
                 "source": f"import os\nos.chdir({str(ROOT / 'notebooks')!r})"}
        nb["cells"].insert(0, chdir)
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                cell["outputs"], cell["execution_count"] = [], None
        _write_if_changed(DOCS / "notebooks" / path.name, json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


_write_api_page()
_write_notebook_copies()

"""The documentation site builds with warnings as errors (as ``make docs`` does), and reads in a real browser.

The site is built once per module into a temporary folder with Sphinx
(``-W --keep-going -E``: every warning fails, nothing reused from an earlier
build); the notebooks are executed during the build.  Chromium (through
Playwright) then opens the pages from disk and checks that they load
without errors or network requests, that every image decodes
(``naturalWidth > 0``), that the API reference lists each public name of
``neurobias.__all__`` once with its own page, and that the notebook pages
show executed output and figures.
"""
from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import CHROMIUM, NO_CHROMIUM, chromium_page, recording_path

pytest.importorskip("sphinx", reason="the docs extra (make docs) is not installed")
pytest.importorskip("myst_nb", reason="the docs extra (make docs) is not installed")
pytest.importorskip("numpydoc", reason="the docs extra (make docs) is not installed")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
GUIDES = sorted(p.stem for p in (ROOT / "docs").glob("*.md") if p.stem != "index")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built site (``index.html``'s folder)."""
    if recording_path("churchland2012") is None:
        pytest.skip("notebook 3 reads recording 'churchland2012', which is not in $NEUROBIAS_DATA (no download in tests)")
    out = tmp_path_factory.mktemp("docs") / "html"
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}  # the notebooks draw inline
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-E", "-q",
                           str(ROOT / "docs"), str(out)], capture_output=True, text=True, env=env, timeout=1500)
    # the kernels' own chatter on stderr is not a Sphinx warning (-W turns those into a non-zero exit)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return out


def _public_names() -> list[str]:
    import neurobias

    return [n for n in neurobias.__all__ if inspect.isclass(getattr(neurobias, n)) or callable(getattr(neurobias, n))]


def test_every_page_is_built(site: Path) -> None:
    for name in ("index", "api", *GUIDES):
        assert (site / f"{name}.html").is_file(), name
    for name in NOTEBOOKS:
        assert (site / "notebooks" / f"{name}.html").is_file(), name
    for name in _public_names():
        assert (site / "api" / f"neurobias.{name}.html").is_file(), name


@pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)
def test_site_in_a_real_browser(site: Path, tmp_path: Path) -> None:
    def load(page, rel: str) -> None:  # noqa: ANN001
        page.goto((site / rel).resolve().as_uri())
        page.wait_for_load_state("load")

    def image_widths(page) -> list[int]:  # noqa: ANN001
        return page.eval_on_selector_all("article img", "els => els.map(e => e.complete ? e.naturalWidth : 0)")

    with chromium_page() as (page, errors, requests):
        # the front page: the demo figure and links to every notebook, guide and the API reference
        load(page, "index.html")
        assert "neurobias" in page.title()
        widths = image_widths(page)
        assert widths and min(widths) > 0, widths
        links = set(page.eval_on_selector_all("article a[href]", "els => els.map(e => e.getAttribute('href'))"))
        for name in (*(f"notebooks/{n}.html" for n in NOTEBOOKS), *(f"{g}.html" for g in GUIDES), "api.html"):
            assert name in links, (name, sorted(links))

        # every guide page loads and its images decode
        for name in GUIDES:
            load(page, f"{name}.html")
            assert page.locator("article h1").count() == 1, name
            assert min(image_widths(page), default=1) > 0, name

        # the API reference: each public name once, each with its page, parameters rendered by numpydoc
        load(page, "api.html")
        table = page.eval_on_selector_all("article table.autosummary td:first-child a.reference code",
                                          "els => els.map(e => e.textContent.trim())")
        names = [t.removeprefix("neurobias.") for t in table]
        assert sorted(names) == sorted(_public_names()), names
        load(page, "api/neurobias.find_fixed_points.html")
        assert page.locator("dl.field-list dt", has_text="Parameters").count() >= 1
        assert "circuit" in page.locator("article").inner_text()

        # the notebooks: executed output and figures
        for name in NOTEBOOKS:
            load(page, f"notebooks/{name}.html")
            outputs = page.locator("div.cell_output")
            assert outputs.count() >= 3, name
            assert page.locator("div.output.traceback, div.output.error").count() == 0, name
            widths = image_widths(page)
            assert len(widths) >= 2 and min(widths) > 100, (name, widths)
        page.screenshot(path=str(tmp_path / "notebook.png"), full_page=True)

    assert errors == [], errors
    assert all(u.startswith(("file:", "data:")) for u in requests), [u for u in requests
                                                                      if not u.startswith(("file:", "data:"))]
    assert (tmp_path / "notebook.png").stat().st_size > 10_000

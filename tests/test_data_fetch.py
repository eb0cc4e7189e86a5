"""``neurobias.datasets.fetch`` and ``neurobias data``: recordings from a local folder or downloaded with a checksum.

Nothing is downloaded from the internet here: downloads go to an HTTP server
on localhost started by the test, the cache directory is redirected into
``tmp_path`` (``XDG_CACHE_HOME``), and the real registry is checked against
the local copies in ``$NEUROBIAS_DATA`` where they exist.
"""
from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import recording_path
from neurobias.datasets import RECORDINGS, RecordingSource, fetch
from neurobias.errors import InputError

# sha256 of b"abc": the first test vector of FIPS 180-2 (independent of the code under test)
ABC = b"abc"
ABC_SHA256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An HTTP server on localhost serving ``tmp_path / "www"``: yields ``(base URL, folder)``."""
    www = tmp_path / "www"
    www.mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(www)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", www
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


@pytest.fixture
def no_local(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No $NEUROBIAS_DATA, and the user cache directory inside ``tmp_path`` (returned)."""
    monkeypatch.delenv("NEUROBIAS_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _register(monkeypatch: pytest.MonkeyPatch, *, url: str | None, sha256: str = ABC_SHA256,
              path: str = "toy_lab/abc.bin") -> RecordingSource:
    entry = RecordingSource(name="toy", path=path, sha256=sha256, url=url, description="three bytes",
                            citation="none", licence="CC0", source="this test")
    monkeypatch.setitem(RECORDINGS, "toy", entry)
    return entry


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens there once the socket is closed


# ----------------------------------------------------------------------------- local folder
def test_local_folder_is_read_and_checked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _register(monkeypatch, url="http://127.0.0.1:9/never-used")
    (tmp_path / "toy_lab").mkdir()
    (tmp_path / "toy_lab" / "abc.bin").write_bytes(ABC)
    monkeypatch.setenv("NEUROBIAS_DATA", str(tmp_path))
    assert fetch("toy") == (tmp_path / "toy_lab" / "abc.bin").resolve()
    # data_dir= wins over the variable
    other = tmp_path / "other"
    (other / "toy_lab").mkdir(parents=True)
    (other / "toy_lab" / "abc.bin").write_bytes(ABC)
    assert fetch("toy", data_dir=other) == (other / "toy_lab" / "abc.bin").resolve()


def test_local_file_with_another_checksum_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _register(monkeypatch, url=None)
    (tmp_path / "toy_lab").mkdir()
    (tmp_path / "toy_lab" / "abc.bin").write_bytes(b"abd")
    monkeypatch.setenv("NEUROBIAS_DATA", str(tmp_path))
    with pytest.raises(InputError, match=f"has sha256 [0-9a-f]{{64}}; expected {ABC_SHA256}"):
        fetch("toy")


def test_missing_local_file_names_path_url_and_checksum(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _register(monkeypatch, url="https://example.org/abc.bin")
    monkeypatch.setenv("NEUROBIAS_DATA", str(tmp_path))
    with pytest.raises(InputError) as info:
        fetch("toy")
    msg = str(info.value)
    for part in (str(tmp_path / "toy_lab" / "abc.bin"), "https://example.org/abc.bin", ABC_SHA256, "NEUROBIAS_DATA"):
        assert part in msg, (part, msg)


@pytest.mark.parametrize("name", sorted(RECORDINGS))
def test_registry_checksums_match_the_local_copies(name: str) -> None:
    path = recording_path(name)
    if path is None:
        pytest.skip(f"recording {name!r} is not in $NEUROBIAS_DATA")
    assert fetch(name) == path.resolve()


def test_registry_entries_are_complete() -> None:
    assert {"churchland2012", "chewie2013"} <= set(RECORDINGS)
    for name, entry in RECORDINGS.items():
        assert entry.name == name
        assert len(entry.sha256) == 64 and int(entry.sha256, 16) >= 0
        assert entry.url is None or entry.url.startswith("https://")
        assert entry.citation and entry.licence and entry.source and entry.description
    # the examples' recording can be downloaded
    assert RECORDINGS["churchland2012"].url is not None


def test_unknown_name() -> None:
    with pytest.raises(InputError, match=r"`name` must be one of the registered recordings .*churchland2012.*; "
                                         r"got 'nope'"):
        fetch("nope")


# ----------------------------------------------------------------------------- download through pooch
def test_download_once_into_the_cache(monkeypatch: pytest.MonkeyPatch, server: tuple[str, Path],
                                      no_local: Path) -> None:
    base, www = server
    (www / "abc.bin").write_bytes(ABC)
    _register(monkeypatch, url=f"{base}/abc.bin")
    path = fetch("toy")
    assert path == (no_local / "neurobias" / "toy_lab" / "abc.bin").resolve()
    assert path.read_bytes() == ABC
    # the second call uses the cached copy: the server's file is gone
    (www / "abc.bin").unlink()
    assert fetch("toy") == path


def test_download_with_wrong_checksum_keeps_nothing(monkeypatch: pytest.MonkeyPatch, server: tuple[str, Path],
                                                   no_local: Path) -> None:
    base, www = server
    (www / "abc.bin").write_bytes(b"not abc")
    _register(monkeypatch, url=f"{base}/abc.bin")
    with pytest.raises(InputError, match=rf"does not match its checksum \(sha256 {ABC_SHA256}; or set NEUROBIAS_DATA"):
        fetch("toy")
    folder = no_local / "neurobias" / "toy_lab"
    assert not folder.exists() or not any(folder.iterdir()), list(folder.iterdir())


def test_offline_message_names_url_checksum_and_variable(monkeypatch: pytest.MonkeyPatch, no_local: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/abc.bin"
    _register(monkeypatch, url=url)
    with pytest.raises(InputError) as info:
        fetch("toy")
    msg = str(info.value)
    assert "\n" not in msg
    for part in (url, ABC_SHA256, "NEUROBIAS_DATA", "toy_lab/abc.bin"):
        assert part in msg, (part, msg)


def test_recording_without_public_url(monkeypatch: pytest.MonkeyPatch, no_local: Path) -> None:
    _register(monkeypatch, url=None)
    with pytest.raises(InputError, match=rf"has no public download \(CC0\); set NEUROBIAS_DATA to a folder holding "
                                         rf"toy_lab/abc\.bin \(sha256 {ABC_SHA256}\)"):
        fetch("toy")


# ----------------------------------------------------------------------------- CLI
def test_cli_data_fetch_prints_the_path(run_cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _register(monkeypatch, url=None)
    (tmp_path / "toy_lab").mkdir()
    (tmp_path / "toy_lab" / "abc.bin").write_bytes(ABC)
    monkeypatch.setenv("NEUROBIAS_DATA", str(tmp_path))
    rc, out, err = run_cli(["data", "fetch", "toy"])
    assert (rc, err) == (0, "")
    assert out == f"{(tmp_path / 'toy_lab' / 'abc.bin').resolve()}\n"


def test_cli_data_user_errors_are_one_line(run_cli, no_local: Path) -> None:
    rc, out, err = run_cli(["data", "fetch", "nope"])
    assert rc == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("neurobias: error: `name` must be one of"), err
    rc, out, err = run_cli(["data", "fetch", "chewie2013"])
    assert rc == 2 and "has no public download" in err and err.count("\n") == 1, err


def test_cli_data_list(run_cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NEUROBIAS_DATA", str(tmp_path))
    (tmp_path / "churchland2012_reach").mkdir()
    (tmp_path / "churchland2012_reach" / "exampleData.mat").write_bytes(b"")
    rc, out, err = run_cli(["data", "list"])
    assert (rc, err) == (0, "")
    assert out.startswith(f"recordings are read from {tmp_path} ($NEUROBIAS_DATA)")
    for name, entry in RECORDINGS.items():
        assert f"\n{name}: " in out and entry.sha256 in out
    assert "churchland2012_reach/exampleData.mat (present)" in out
    assert "chewie_m1_centerout/chewie_10032013_bin100ms.npz (absent)" in out

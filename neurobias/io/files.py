"""Plain-file helpers: reading whole files and atomic writes.

Everything here uses the standard library only, so that light modules (such as
:mod:`neurobias.config`) can read and write files through :mod:`neurobias.io`
without importing xarray.

Atomic-write scheme
-------------------
A file is first written to a hidden temporary file in the *same directory* as
the target (``.<stem>.tmp-<host>-<pid>-<random><suffix>``, so the suffix
and thus the format is kept), flushed and ``fsync``-ed, then moved over the
target with :func:`os.replace`, which is atomic on POSIX and Windows.  If
anything fails, the temporary file is removed and an existing target is left
untouched: readers see either the old file or the complete new one, never a
partial one.  A writer killed outright (SIGKILL, power loss) cannot remove its
temporary file; the next write of the same target on the same host removes
the temporary files whose process no longer runs.
"""
from __future__ import annotations

import contextlib
import os
import secrets
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

from neurobias.errors import InputError, check_instance

__all__ = [
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_writable_dir",
    "check_writable_file",
    "check_readable",
    "read_bytes",
    "read_text",
]

PathLike = str | os.PathLike


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def read_bytes(path: PathLike, *, what: str = "file") -> bytes:
    """Read a whole file.

    Parameters
    ----------
    path : str or path-like
        The file to read.
    what : str
        What the file is, used in error messages (e.g. ``"config file"``).

    Returns
    -------
    bytes

    Raises
    ------
    InputError
        ``"<what> not found: <path>"`` if it does not exist, or a message
        naming the path and the reason if it cannot be read (a directory,
        no permission).
    """
    p = check_readable(path, what=what)
    try:
        return p.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {what} {p}: {_reason(exc)}") from None


def check_readable(path: PathLike, *, what: str = "file") -> Path:
    """``path`` as a Path if it names an existing file (not a directory); else InputError naming it and ``what``."""
    p = Path(path)
    if not os.path.exists(p):  # os.path, not Path: False (not OSError) for a name too long
        raise InputError(f"{what} not found: {p}")
    if os.path.isdir(p):
        raise InputError(f"{what} {p} is a directory, not a file")
    return p


def read_text(path: PathLike, *, what: str = "file", encoding: str = "utf-8") -> str:
    """Read a whole text file (UTF-8 by default); see :func:`read_bytes`.

    Raises
    ------
    InputError
        As :func:`read_bytes`, or if the bytes are not valid ``encoding``.
    """
    data = read_bytes(path, what=what)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InputError(f"{what} {Path(path)} is not valid {encoding} text: {exc}") from None


_HOST = "".join(c if c.isalnum() else "_" for c in socket.gethostname())[:32] or "host"


def _temp_name(path: Path) -> Path:
    # host and pid in the name let a later write remove what a killed writer left (see _remove_stale_temps)
    return path.with_name(f".{path.stem}.tmp-{_HOST}-{os.getpid()}-{secrets.token_hex(6)}{path.suffix}")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists but not ours, or cannot tell: leave its files alone
    return True


_PROBE_PREFIX = ".neurobias-write-test-"


def _remove_stale_temps(target: Path) -> None:
    """Delete temporary files of ``target`` left by writers of this host that no longer run (e.g. SIGKILLed)."""
    _remove_stale(target.parent, f".{target.stem}.tmp-", target.suffix)


def _remove_stale(directory: Path, stem_prefix: str, suffix: str) -> None:
    """Delete ``<stem_prefix><host>-<pid>-...<suffix>`` files of ``directory`` whose writer (this host) is gone."""
    prefix = f"{stem_prefix}{_HOST}-"
    try:
        siblings = list(directory.iterdir())
    except OSError:
        return
    for sib in siblings:
        name = sib.name
        if not (name.startswith(prefix) and name.endswith(suffix)):
            continue
        pid_text = name[len(prefix):].split("-", 1)[0]
        if pid_text.isdigit() and int(pid_text) != os.getpid() and not _pid_alive(int(pid_text)):
            with contextlib.suppress(OSError):
                sib.unlink()


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    # Makes the rename durable on POSIX; not possible (nor needed) everywhere.
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: PathLike) -> Iterator[Path]:
    """Context manager yielding a temporary path that replaces ``path`` on success.

    Write the complete file to the yielded path inside the ``with`` block; on
    normal exit it is fsync-ed and moved over ``path`` with :func:`os.replace`.
    If the block raises, the temporary file is deleted, ``path`` is left as it
    was, and the exception propagates.  Missing parent directories are created.

    Parameters
    ----------
    path : str or path-like
        The final file.

    Yields
    ------
    pathlib.Path
        The temporary file, in the same directory, with the same suffix.

    Raises
    ------
    InputError
        If the directory cannot be created, ``path`` is a directory, or the
        temporary file cannot be synced or moved (the OS reason is given).
    """
    target = Path(path)
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create directory {parent} for {target}: {_reason(exc)}") from None
    if os.path.isdir(target):
        raise InputError(f"cannot write {target}: it is a directory")
    _remove_stale_temps(target)
    tmp = _temp_name(target)
    try:
        yield tmp
        if not tmp.exists():
            raise InputError(f"cannot write {target}: the writer did not create the temporary file {tmp}")
        try:
            _fsync_path(tmp)
            os.replace(tmp, target)
        except OSError as exc:
            raise InputError(f"cannot write {target}: {_reason(exc)}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(parent)


def atomic_write_bytes(path: PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, rename).

    Parameters
    ----------
    path : str or path-like
        Target file; parent directories are created.
    data : bytes

    Returns
    -------
    pathlib.Path
        The target path.

    Raises
    ------
    InputError
        If ``data`` is not bytes or the file cannot be written.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise InputError(f"`data` must be bytes; got {type(data).__name__}")
    target = Path(path)
    with atomic_path(target) as tmp:
        try:
            with open(tmp, "xb") as fh:
                fh.write(data)
                fh.flush()
        except OSError as exc:
            raise InputError(f"cannot write {target}: {_reason(exc)}") from None
    return target


def atomic_write_text(path: PathLike, text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically, encoded with ``encoding`` (UTF-8).

    See :func:`atomic_write_bytes`.
    """
    check_instance("text", text, str, what="a str")
    return atomic_write_bytes(path, text.encode(encoding))


def check_writable_dir(path: PathLike) -> Path:
    """Make sure ``path`` is a directory this process can write to.

    Creates the directory (and its parents) if needed, then creates and
    deletes a temporary file in it.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    pathlib.Path
        The directory.

    Raises
    ------
    InputError
        Naming the path and the reason, if it exists but is not a directory,
        cannot be created, or is not writable.
    """
    d = Path(path)
    if os.path.exists(d) and not os.path.isdir(d):
        raise InputError(f"output directory {d} exists and is not a directory")
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create output directory {d}: {_reason(exc)}") from None
    _remove_stale(d, _PROBE_PREFIX, "")
    try:
        fd, name = tempfile.mkstemp(dir=d, prefix=f"{_PROBE_PREFIX}{_HOST}-{os.getpid()}-")
        os.close(fd)
        os.unlink(name)
    except OSError as exc:
        raise InputError(f"output directory {d} is not writable: {_reason(exc)}") from None
    return d


def _nearest_existing(path: Path) -> Path:
    p = path
    while not os.path.exists(p) and p.parent != p:
        p = p.parent
    return p


def check_writable_file(path: PathLike, *, what: str = "output file") -> Path:
    """Make sure ``path`` can be written, leaving nothing behind.

    For commands that compute for a while before they write: call it first,
    so that a file in the way of the output directory, a read-only directory
    or file system, a name that is too long or a target that is a directory is
    reported before the work starts.  It does what the atomic write will do
    (see :func:`atomic_path`): creates the missing parent directories and the
    temporary file next to ``path``, then removes both again.  This is a test
    by doing, so it also holds for root, for whom permission bits do not
    apply.  Running out of disk space later cannot be foreseen.

    Parameters
    ----------
    path : str or path-like
        The file that will be written.
    what : str
        What the file is, for the messages (e.g. ``"fixed-points file"``).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    InputError
        Naming the path and the reason: ``path`` is a directory, an ancestor
        is a regular file, a directory cannot be created, or no file can be
        created in it (read-only, no permission, name too long).
    """
    target = Path(path)
    if os.path.isdir(target):
        raise InputError(f"cannot write {what} {target}: it is a directory")
    base = _nearest_existing(target.parent)
    if not os.path.isdir(base):
        raise InputError(f"cannot write {what} {target}: {base} is a file, not a directory")
    missing = [p for p in (target.parent, *target.parent.parents) if not os.path.exists(p)][::-1]
    created: list[Path] = []
    try:
        for d in missing:
            try:
                d.mkdir()
            except OSError as exc:
                raise InputError(f"cannot write {what} {target}: cannot create directory {d} ({_reason(exc)})") from None
            created.append(d)
        tmp = _temp_name(target)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.close(fd)
            os.unlink(tmp)
        except OSError as exc:
            where = target.parent if os.path.exists(target.parent) else base
            raise InputError(f"cannot write {what} {target}: no file can be created in {where} "
                             f"({_reason(exc)})") from None
    finally:
        for d in reversed(created):
            with contextlib.suppress(OSError):
                d.rmdir()
    return target

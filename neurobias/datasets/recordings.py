"""Public neural recordings, one command away: a registry of URLs and sha256 checksums, fetched with pooch.

:func:`fetch` returns the path of a recording's file after checking its
sha256 against the registry (:data:`RECORDINGS`):

* when the environment variable ``NEUROBIAS_DATA`` (:data:`DATA_ENV`) names a
  folder (or ``data_dir=`` is given), the file is read from that folder, at
  the recording's relative path (``churchland2012_reach/exampleData.mat``, ...),
  and nothing is downloaded: offline machines and the test suite work this way;
* otherwise the file is downloaded once, through pooch, into the user cache
  directory (``pooch.os_cache("neurobias")``, e.g. ``~/.cache/neurobias`` on
  Linux) and checked; later calls find it there.

Recordings whose licence forbids redistribution, or that are a conversion
made for this project, have no download URL: :func:`fetch` says where the
original lives and which folder to place the file in.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from neurobias.errors import InputError
from neurobias.io.hashing import sha256_file

__all__ = ["DATA_ENV", "RecordingSource", "RECORDINGS", "fetch", "local_data_dir", "cache_dir"]

#: environment variable naming a local folder that holds the recordings (no download then)
DATA_ENV = "NEUROBIAS_DATA"


@dataclass(frozen=True)
class RecordingSource:
    """One registered recording: where it lives, its checksum and how to cite it.

    Attributes
    ----------
    name : str
        Registry name (``neurobias data fetch NAME``).
    path : str
        Path of the file relative to the data folder (``$NEUROBIAS_DATA``) and
        to the cache directory.
    sha256 : str
        Hex sha256 of the file's bytes.
    url : str or None
        Public download URL (pinned to a commit where the host allows), or
        ``None`` when the file cannot be downloaded (see ``source``).
    description : str
        What the file holds (shapes, units).
    citation : str
        Publications to cite.
    licence : str
        The licence under which the file is distributed.
    source : str
        Where the file (or the original it was converted from) is published.
    """

    name: str
    path: str
    sha256: str
    url: str | None
    description: str
    citation: str
    licence: str
    source: str


#: the registry: name -> :class:`RecordingSource`
RECORDINGS: dict[str, RecordingSource] = {
    entry.name: entry
    for entry in (
        RecordingSource(
            name="churchland2012",
            path="churchland2012_reach/exampleData.mat",
            sha256="c9fc29793264c908ccc2430f780a763a0f4730064608789a98278ea364e267e1",
            url=("https://raw.githubusercontent.com/gamaleldin/TME/"
                 "ad1adf835e72dbba012406b5a3af30701adc8993/data/exampleData.mat"),
            description=("condition-averaged motor cortex (monkey) during reaching: 10 conditions, 50 neurons, "
                         "61 bins of 10 ms from -50 to 550 ms around movement onset; normalised and mean-centred"),
            citation=("Churchland et al. 2012, Nature 487:51-56; Elsayed & Cunningham 2017, "
                      "Nature Neuroscience 20:1310-1318"),
            licence="GPL-3.0 (TME repository)",
            source="file data/exampleData.mat of https://github.com/gamaleldin/TME",
        ),
        RecordingSource(
            name="chewie2013",
            path="chewie_m1_centerout/chewie_10032013_bin100ms.npz",
            sha256="347f4e3e130d076857f8a703f44546f5db8430df79cbe33fcf111354e0d4bc8d",
            url=None,
            description=("single trials of M1 (monkey C) during centre-out reaching to 8 targets: 159 trials, "
                         "14 bins of 100 ms, 174 neurons, Hz, with hand kinematics"),
            citation="Dyer et al. 2017, Nature Biomedical Engineering 1:967-976",
            licence="Apache-2.0 (myow-neuro repository)",
            source=("arrays converted with numpy from data/mihi-chewie/processed/"
                    "full-chewie-10032013-bin0.10-vel_thresh0.00.pkl of https://github.com/nerdslab/myow-neuro "
                    "(a pickle, which neurobias does not load)"),
        ),
        RecordingSource(
            name="mante2013",
            path="mante2013_pfc/mante2013_subset_condavg.npz",
            sha256="3c59de43a295c7ad9c1e22ef8d2328db2b8d98966c549f0d01fae49404a5af6d",
            url=None,
            description=("condition-averaged prefrontal cortex (monkey A) during context-dependent integration: "
                         "20 units, 2 contexts x 6 motion x 6 colour coherences, 15 bins of 50 ms, Hz"),
            citation="Mante, Sussillo, Shenoy & Newsome 2013, Nature 503:78-84",
            licence="no redistribution (the Mante lab's data release terms)",
            source="averaged with numpy from 20 single-unit files of the original Mante et al. 2013 data release",
        ),
    )
}


def local_data_dir() -> Path | None:
    """The local data folder named by ``$NEUROBIAS_DATA``, or ``None`` when the variable is unset or empty."""
    value = os.environ.get(DATA_ENV, "").strip()
    return Path(value).expanduser() if value else None


def cache_dir() -> Path:
    """The user cache directory that downloads go to (``pooch.os_cache("neurobias")``)."""
    import pooch

    return Path(pooch.os_cache("neurobias"))


def _entry(name: object) -> RecordingSource:
    if not isinstance(name, str) or name not in RECORDINGS:
        raise InputError(f"`name` must be one of the registered recordings {', '.join(sorted(RECORDINGS))}; "
                         f"got {name!r}")
    return RECORDINGS[name]


def fetch(name: str, *, data_dir: str | os.PathLike[str] | None = None, progress: bool = False) -> Path:
    """The path of a registered recording's file, checked against its sha256.

    Parameters
    ----------
    name : str
        A key of :data:`RECORDINGS` (``"churchland2012"``, ``"chewie2013"``,
        ``"mante2013"``).
    data_dir : path-like, optional
        A local folder holding the recordings at their relative paths
        (``RECORDINGS[name].path``); nothing is downloaded then. Default:
        ``$NEUROBIAS_DATA`` when set, else the file is downloaded (once) into
        the user cache directory (:func:`cache_dir`).
    progress : bool
        Show a progress bar while downloading (needs tqdm, a dependency).

    Returns
    -------
    pathlib.Path
        The absolute path of the checked file.

    Raises
    ------
    neurobias.errors.InputError
        Unknown name; the file is missing from the local folder; its sha256
        differs from the registry's; the download failed (the message names
        the URL, the checksum and ``NEUROBIAS_DATA``); or the recording has no
        public URL and no local copy.
    """
    entry = _entry(name)
    local = Path(data_dir).expanduser() if data_dir is not None else local_data_dir()
    where = f"set {DATA_ENV} to a folder holding {entry.path}"
    if local is not None:
        path = (local / entry.path).resolve()
        if not path.is_file():
            origin = f"download it from {entry.url}" if entry.url else f"its source: {entry.source}"
            raise InputError(f"recording {name!r} not found: {path} (the local data folder "
                             f"{'`data_dir`' if data_dir is not None else '$' + DATA_ENV} is {local}; "
                             f"{origin}; sha256 {entry.sha256})")
        digest = sha256_file(path, what="recording file")
        if digest != entry.sha256:
            raise InputError(f"recording {name!r} at {path} has sha256 {digest}; expected {entry.sha256} "
                             f"(a different or damaged file)")
        return path
    if entry.url is None:
        raise InputError(f"recording {name!r} has no public download ({entry.licence}); {where} "
                         f"(sha256 {entry.sha256}); its source: {entry.source}")
    return _download(entry, progress=progress)


def _download(entry: RecordingSource, *, progress: bool) -> Path:
    import pooch
    import requests

    target = cache_dir() / entry.path
    if target.is_file() and sha256_file(target, what="recording file") == entry.sha256:
        return target.resolve()
    downloader = pooch.HTTPDownloader(progressbar=progress, timeout=60)
    advice = f"sha256 {entry.sha256}; or set {DATA_ENV} to a folder holding {entry.path}"
    try:
        # pooch writes to a temporary file, checks the hash, then moves it into place (atomic)
        got = pooch.retrieve(entry.url, known_hash=f"sha256:{entry.sha256}", fname=target.name,
                             path=target.parent, downloader=downloader, progressbar=progress)
    except requests.RequestException as exc:
        reason = type(exc).__name__
        raise InputError(f"could not download recording {entry.name!r} from {entry.url} ({reason}); {advice}") \
            from exc
    except ValueError as exc:
        if "hash" not in str(exc).lower():
            raise
        raise InputError(f"the file downloaded for recording {entry.name!r} from {entry.url} does not match "
                         f"its checksum ({advice}); nothing was kept") from exc
    return Path(got).resolve()

"""What an experiment returns: measured claims, a Markdown section and a figure."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from matplotlib.figure import Figure

if TYPE_CHECKING:
    from neurobias.reproduce.settings import Settings

__all__ = ["Claim", "Outcome", "verdict", "size_note"]


@dataclass(frozen=True)
class Claim:
    """One row of the claims table.

    Attributes
    ----------
    claim : str
        The paper's claim, in words.
    paper : str
        The paper's number or figure, as far as it is known here.
    ours : str
        Our measured number(s).
    verdict : str
        ``"same"``, ``"different"`` or ``"not comparable"``, decided by the
        criterion in ``why`` from the measured numbers.
    why : str
        The criterion applied, and the reason where different.
    """

    claim: str
    paper: str
    ours: str
    verdict: str
    why: str


def verdict(ok: bool) -> str:
    """``"same"`` when the criterion holds, else ``"different"``."""
    return "same" if ok else "different"


def size_note(settings: Settings) -> str:
    """Why-text for a different verdict below full size: the size may be the reason (not verified)."""
    if settings.name == "full":
        return ""
    return (f"; measured at the {settings.name} size only (smaller networks, shorter training than the paper): "
            "possibly a size effect, not verified at full size")


@dataclass(frozen=True)
class Outcome:
    """The result of one experiment.

    Attributes
    ----------
    name : str
        Experiment name (``"width"``, ``"multitask"``, ...).
    title : str
    claims : tuple of Claim
    markdown : str
        Tables and notes of the experiment's subsection (without its heading).
    figures : dict of str to Figure or Path
        Figures by file stem (``williams_<name>...``): an experiment function
        returns matplotlib Figures; :func:`~neurobias.reproduce.reproduce`
        returns the paths of the PNG files it wrote instead.
    wall_s : float
        Wall time of the experiment in seconds.
    cpu_s : float
        CPU time of the process that ran it, in seconds (0 where not measured).
    """

    name: str
    title: str
    claims: tuple[Claim, ...]
    markdown: str
    figures: dict[str, Figure | Path] = field(default_factory=dict)
    wall_s: float = 0.0
    cpu_s: float = 0.0

"""What an experiment returns: measured claims, a Markdown section and a figure."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from matplotlib.figure import Figure

from neurobias.errors import InputError
from neurobias.reproduce.criteria import Criterion, Judgement, criterion, judge

if TYPE_CHECKING:
    from neurobias.reproduce.settings import Settings

__all__ = ["Claim", "Outcome"]


@dataclass(frozen=True)
class Claim:
    """One measured row of the claims table; its criterion and verdict come from :data:`~neurobias.reproduce.criteria.CRITERIA`.

    Attributes
    ----------
    key : str
        The claim's key in the criteria table.
    ours : str
        Our measured number(s), in words.
    values : tuple of float
        The criterion's metric, one value per seed (empty where not measured).
    seeds : tuple of int
        The seeds (circuit and training) of ``values``.
    measured : str
        Date (ISO) the values were measured, for values read back from a
        stored outcome; empty for values measured now.  Values measured
        before the criterion's metric changed are not judged by it.
    """

    key: str
    ours: str
    values: tuple[float, ...] = ()
    seeds: tuple[int, ...] = ()
    measured: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", tuple(float(v) for v in self.values))
        object.__setattr__(self, "seeds", tuple(int(s) for s in self.seeds))
        if len(self.values) != len(self.seeds):
            raise InputError(f"`values` must have one entry per seed ({len(self.seeds)}); got {len(self.values)}")
        criterion(self.key)

    @property
    def criterion(self) -> Criterion:
        """The pre-declared criterion of this claim."""
        return criterion(self.key)

    @property
    def judgement(self) -> Judgement:
        """The verdict and its numbers, computed from ``values`` by the criterion."""
        return judge(self.criterion, self.values, measured=self.measured)

    @property
    def earlier_metric(self) -> bool:
        """Whether ``values`` measure a metric the criterion has since replaced."""
        return bool(self.measured) and self.measured < self.criterion.metric_since

    @property
    def claim(self) -> str:
        """The paper's claim, in words."""
        return self.criterion.claim

    @property
    def paper(self) -> str:
        """What the paper reports."""
        return self.criterion.paper

    @property
    def verdict(self) -> str:
        """One of :data:`~neurobias.reproduce.criteria.VERDICTS`."""
        return self.judgement.verdict


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
        CPU time of the process that ran it and of the worker processes that ran its seeds, in seconds
        (0 where not measured).
    reads : tuple of str
        The size parameters (fields of :class:`~neurobias.reproduce.settings.Settings`) the experiment read.
    """

    name: str
    title: str
    claims: tuple[Claim, ...]
    markdown: str
    figures: dict[str, Figure | Path] = field(default_factory=dict)
    wall_s: float = 0.0
    cpu_s: float = 0.0
    reads: tuple[str, ...] = ()

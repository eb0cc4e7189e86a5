"""Independent random streams derived from one seed.

Every random draw of a run comes from a stream named by a spawn key, so that a
step's batch does not depend on how many draws came before it; this is what
makes ``--resume`` give the same result as an uninterrupted run.
"""
from __future__ import annotations

import numpy as np

__all__ = ["stream", "BANK", "BATCH", "EVAL"]

BANK, BATCH, EVAL = 1, 2, 3


def stream(seed: int, *key: int) -> np.random.Generator:
    """A generator for the stream ``key`` of ``seed`` (e.g. ``stream(seed, BATCH, step)``)."""
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=tuple(int(k) for k in key)))

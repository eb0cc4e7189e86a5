"""Bridges to other simulators, each imported lazily by its own module.

* :mod:`neurobias.backends.brainpy`: a neurobias circuit as a BrainPy
  dynamical system and back (``to_brainpy``, ``from_brainpy``) and BrainPy's
  ``SlowPointFinder`` on the neurobias vector field (``slow_point_finder``).
  Needs the optional extra ``neurobias[brainpy]``; BrainPy is imported only
  when one of its functions is called.

Importing this package imports nothing heavy.
"""
from __future__ import annotations

__all__: list[str] = []

"""The tonic-input bank: the only trainable tensor in ``bias`` mode.

The bank produces tonic inputs of shape (context, unit) from one of these
parametrisations:

* ``full``: every unit of every context has its own learned value (default);
* ``subset``: a fixed random ``fraction`` of units receive tonic input, the rest
  get exactly zero;
* ``lowrank``: ``b_c = B z_c`` with ``B`` a fixed random (unit, rank) matrix with
  ``N(0, 1)`` entries and ``z_c`` learned;
* any of these with ``shared_baseline``: ``b_c = b_0 + offset_c`` where the
  baseline ``b_0`` is shared by all contexts and learned too (it lives in the same
  subspace as the offsets: masked for ``subset``, ``B z_0`` for ``lowrank``).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from neurobias.errors import InputError, check_choice, check_number

__all__ = ["TonicBank", "PARAMETRIZATIONS"]

PARAMETRIZATIONS: tuple[str, ...] = ("full", "subset", "lowrank")


class TonicBank(nn.Module):
    """Learned tonic inputs, one vector per context.

    Parameters
    ----------
    n_contexts, n_units : int
    parametrization : {"full", "subset", "lowrank"}
    fraction : float
        Fraction of units receiving tonic input (``subset``), in (0, 1].
    rank : int
        Rank of the bank (``lowrank``), >= 1.
    shared_baseline : bool
        Add a learned baseline shared by all contexts.
    init_std : float
        Standard deviation of the initial learned values (0: start at zero).
    rng : numpy.random.Generator
        Draws the fixed mask or basis, then the initial values.
    dtype : torch.dtype
    """

    def __init__(
        self,
        n_contexts: int,
        n_units: int,
        *,
        parametrization: str = "full",
        fraction: float = 0.5,
        rank: int = 4,
        shared_baseline: bool = False,
        init_std: float = 0.0,
        rng: np.random.Generator,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__()
        check_choice("parametrization", parametrization, PARAMETRIZATIONS)
        if n_contexts < 1:
            raise InputError(f"`n_contexts` must be >= 1; got {n_contexts}")
        self.parametrization = parametrization
        self.shared_baseline = bool(shared_baseline)
        width = n_units
        mask = np.ones(n_units)
        basis = None
        if parametrization == "subset":
            if not (0.0 < fraction <= 1.0):
                raise InputError(f"`fraction` must be in (0, 1]; got {fraction!r}")
            k = max(1, int(round(fraction * n_units)))
            mask = np.zeros(n_units)
            mask[rng.choice(n_units, size=k, replace=False)] = 1.0
        elif parametrization == "lowrank":
            rank = check_number("rank", rank, ge=1, le=n_units, integer=True, units=f"n_units = {n_units}")
            basis = rng.normal(size=(n_units, rank))
            width = rank
        self.register_buffer("mask", torch.tensor(mask, dtype=dtype))
        self.register_buffer("basis", torch.tensor(basis if basis is not None else np.zeros((n_units, 0)), dtype=dtype))
        init = rng.normal(0.0, init_std, size=(n_contexts, width)) if init_std > 0 else np.zeros((n_contexts, width))
        self.offsets = nn.Parameter(torch.tensor(init, dtype=dtype))
        if self.shared_baseline:
            self.baseline = nn.Parameter(torch.zeros(width, dtype=dtype))

    def forward(self) -> Tensor:
        """Tonic inputs of shape (context, unit)."""
        coef = self.offsets
        if self.shared_baseline:
            coef = coef + self.baseline
        if self.parametrization == "lowrank":
            return coef @ self.basis.T
        return coef * self.mask

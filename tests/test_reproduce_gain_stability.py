"""The Jacobian of a tanh rate circuit against the gain: closed forms on 2-unit circuits."""
from __future__ import annotations

import numpy as np
import pytest

from neurobias.circuit.circuit import Circuit
from neurobias.reproduce.gain_stability import gain_stability


def _spiral(s: float, w: float) -> Circuit:
    """W = [[s, -w], [w, s]]: eigenvalues s +- i w, spectral norm sqrt(s^2 + w^2)."""
    return Circuit.from_arrays(W_rec=np.array([[s, -w], [w, s]]), tau=10.0, phi="tanh", form="rate")


def test_abscissa_spectral_norm_and_hopf_on_a_spiral():
    ds = gain_stability([[_spiral(0.3, 0.5), _spiral(1.5, 1.0)]], [0.5, 1.5], n_tonic=4)
    assert ds["spectral_norm"].values[0] == pytest.approx([np.hypot(0.3, 0.5), np.hypot(1.5, 1.0)], rel=1e-12)
    assert ds["spectral_radius"].values[0] == pytest.approx([np.hypot(0.3, 0.5), np.hypot(1.5, 1.0)], rel=1e-12)
    small, large = ds["abscissa"].values[0]
    # ||W||_2 < 1: every fixed point under every tonic input is stable, at most -1 + ||W||_2
    assert small < 0 and small <= -1 + np.hypot(0.3, 0.5) + 1e-9
    # without tonic input the origin is a fixed point with Jacobian -I + W: abscissa s - 1 = 0.5, a complex pair;
    # a tonic input only lowers the gains (tanh' <= 1), so no input does better than -1 + ||W||_2
    assert 0.5 - 1e-9 <= large <= -1 + np.hypot(1.5, 1.0) + 1e-9
    assert ds["oscillatory_unstable"].values[0, 0] == 0.0
    assert ds["oscillatory_unstable"].values[0, 1] > 0.0
    assert all("long_name" in ds[v].attrs for v in ds.data_vars)

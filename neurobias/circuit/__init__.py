"""The core: fixed-weight circuits, the vector field, integrators and simulation.

Knows nothing of tasks, training, analysis, files, plotting or the CLI.
"""
from neurobias.circuit.circuit import FORMS, Circuit
from neurobias.circuit.dynamics import (
    METHODS,
    drive,
    euler_step,
    exp_euler_step,
    jacobian,
    noise_scale,
    step,
    vector_field,
)
from neurobias.circuit.nonlinearity import PHI_NAMES, Nonlinearity, get_phi
from neurobias.circuit.simulate import integrate, resolve_tonic, simulate

__all__ = [
    "Circuit", "FORMS", "METHODS", "PHI_NAMES", "Nonlinearity", "get_phi", "drive", "vector_field",
    "euler_step", "exp_euler_step", "step", "jacobian", "noise_scale", "integrate", "simulate",
    "resolve_tonic",
]

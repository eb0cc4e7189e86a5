"""The core: fixed-weight circuits, the vector field, integrators and simulation.

Knows nothing of tasks, training, analysis, files, plotting or the CLI.  The
only package that knows the form of the dynamics: everything else asks a
:class:`Circuit` or its :class:`Dynamics`.
"""
from neurobias.circuit.circuit import DTYPES, Circuit, check_circuit, torch_dtype
from neurobias.circuit.dynamics import FORMS, METHODS, Dynamics, noise_scale, step_fraction
from neurobias.circuit.nonlinearity import PHI_NAMES, Nonlinearity, get_phi, jax_phi
from neurobias.circuit.simulate import (ENGINES, JAX_MIN_UNITS, JAX_MIN_WORK, choose_engine, integrate, resolve_device,
                                       resolve_tonic, simulate)
from neurobias.circuit.threads import CPU_THREADS, one_thread

__all__ = [
    "Circuit", "Dynamics", "FORMS", "METHODS", "PHI_NAMES", "DTYPES", "Nonlinearity", "get_phi", "torch_dtype",
    "noise_scale", "step_fraction", "integrate", "simulate", "resolve_tonic", "resolve_device", "one_thread",
    "CPU_THREADS", "check_circuit", "choose_engine", "ENGINES", "JAX_MIN_UNITS", "JAX_MIN_WORK", "jax_phi",
]

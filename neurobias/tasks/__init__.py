"""Tasks: what a circuit must do in each behavioural context.

Each task lives in its own module, cites its source and registers itself
under a name::

    from neurobias.tasks import make_task
    task = make_task("flipflop", dt=1.0, n_bits=2)
    batch = task.sample(16, "inverted", rng)

See :mod:`neurobias.tasks.base` for the protocol and the time convention.
"""
from neurobias.tasks._registry import available, get_task, make_task, register
from neurobias.tasks.base import Task, TaskBatch

# Task modules register themselves on import; keep them below the registry.
from neurobias.tasks.context_integration import ContextIntegrationTask  # noqa: E402
from neurobias.tasks.flipflop import FlipFlopTask  # noqa: E402
from neurobias.tasks.lorenz import LorenzForecastTask  # noqa: E402
from neurobias.tasks.reaching import ReachingTask  # noqa: E402
from neurobias.tasks.sine import SineTask  # noqa: E402
from neurobias.tasks.vanderpol import VanDerPolTask  # noqa: E402

__all__ = [
    "Task",
    "TaskBatch",
    "register",
    "get_task",
    "available",
    "make_task",
    "SineTask",
    "ContextIntegrationTask",
    "FlipFlopTask",
    "VanDerPolTask",
    "LorenzForecastTask",
    "ReachingTask",
]

"""Training tonic inputs (and, by mode, weights) of a fixed circuit on a task."""
from neurobias.training.losses import masked_mse, nmse
from neurobias.training.model import MODES, CircuitModel
from neurobias.training.optimise import OptimResult, ParamGroup, optimise
from neurobias.training.schedule import SCHEDULES, geometric_schedule, learning_rate
from neurobias.training.tonic import PARAMETRIZATIONS, TonicBank
from neurobias.training.train import TrainResult, train

__all__ = [
    "MODES", "SCHEDULES", "PARAMETRIZATIONS", "TonicBank", "CircuitModel", "TrainResult",
    "train", "masked_mse", "nmse", "learning_rate", "geometric_schedule", "optimise", "ParamGroup", "OptimResult",
]

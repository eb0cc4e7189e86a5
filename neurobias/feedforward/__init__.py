"""Feed-forward networks with fixed random weights and learned biases (Williams et al. 2024).

:class:`BiasNet` holds the network (modes ``bias``, ``readout``,
``bias+readout``, ``full``, ``mask``; masks trained by annealed sigmoids,
the paper's method, or a straight-through estimator); :func:`fit` trains it on one or
several :class:`neurobias.datasets.Split` tasks and checks that the fixed
tensors' bytes did not change; :func:`accuracy` and :func:`hidden_activity`
score and read it.
"""
from neurobias.feedforward.fit import FitResult, accuracy, fit, hidden_activity
from neurobias.feedforward.model import FF_MODES, INITS, MASK_METHODS, BiasNet, trained_parameter_count

__all__ = ["BiasNet", "FF_MODES", "INITS", "MASK_METHODS", "trained_parameter_count", "FitResult", "fit", "accuracy",
           "hidden_activity"]

"""A feed-forward network with fixed random weights whose hidden biases (or masks) are learned.

The model of Williams et al. (2024, arXiv:2407.00957), section on
feed-forward networks: ``h_l = relu(W_l h_{l-1} + b_l)``, logits
``W_out h_L + b_out``, with every weight drawn once at random and, in the
``bias`` mode, only the biases trained.  One network can serve several tasks:
each task has its own hidden biases (and output bias), the weights are
shared; each task also has its own fixed random readout of
``max(n_classes)`` outputs, of which the first ``n_classes`` of the task are
used.

Modes (what is trained; everything else is a buffer, hashed before and after
training):

* ``bias``: hidden biases and output bias, per task;
* ``readout``: readout weights and output bias (a random-features model);
* ``bias+readout``: both;
* ``full``: everything, weights included;
* ``mask``: a gate per hidden unit and task, ``h * m``, learned through
  real-valued scores ``s``, biases fixed at their random values; plus the
  output bias.  At evaluation the mask is binary, ``m = 1[sigmoid(s) > 0.5]
  = 1[s > 0]``.  During training (``mask_method``):

  - ``"sigmoid"`` (the paper's method, the default): ``m = sigmoid(s / T)``,
    a soft gate whose temperature ``T`` is annealed by :func:`fit`
    (geometrically from ``T0`` to ``T1`` over the steps), so that the gates
    approach the binary mask they become at evaluation;
  - ``"straight_through"``: ``m = 1[s > 0]`` forward, with the gradient of
    ``sigmoid(s)`` backward (straight-through estimator).

Initialisation (``init``): ``"uniform"``: weights and biases
``U[-gamma, gamma]`` (the paper's feed-forward choice, gamma = 0.1);
``"gaussian"``: ``N(0, 1 / fan_in)``.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor, nn

from neurobias.errors import InputError, check_choice, check_number
from neurobias.io.hashing import sha256_array

__all__ = ["BiasNet", "FF_MODES", "INITS", "MASK_METHODS", "trained_parameter_count"]

FF_MODES: tuple[str, ...] = ("bias", "readout", "bias+readout", "full", "mask")
MASK_METHODS: tuple[str, ...] = ("sigmoid", "straight_through")
INITS: tuple[str, ...] = ("uniform", "gaussian")

# which tensors each mode trains
_TRAINED: dict[str, frozenset[str]] = {
    "bias": frozenset({"biases", "b_out"}),
    "readout": frozenset({"W_out", "b_out"}),
    "bias+readout": frozenset({"biases", "W_out", "b_out"}),
    "full": frozenset({"weights", "biases", "W_out", "b_out"}),
    "mask": frozenset({"scores", "b_out"}),
}


def _positive_int(name: str, value: object) -> int:
    return check_number(name, value, gt=0, integer=True)


def _draw(rng: np.random.Generator, shape: tuple[int, ...], fan_in: int, init: str, gamma: float) -> np.ndarray:
    if init == "uniform":
        return rng.uniform(-gamma, gamma, size=shape)
    return rng.normal(0.0, 1.0 / np.sqrt(fan_in), size=shape)


class _StraightThrough(torch.autograd.Function):
    """``1[s > 0]`` forward, ``sigmoid'(s)`` backward (straight-through estimator)."""

    @staticmethod
    def forward(ctx, scores: Tensor) -> Tensor:  # type: ignore[override]
        ctx.save_for_backward(scores)
        return (scores > 0).to(scores.dtype)

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:  # type: ignore[override]
        (scores,) = ctx.saved_tensors
        s = torch.sigmoid(scores)
        return grad * s * (1.0 - s)


class BiasNet(nn.Module):
    """Feed-forward ReLU network with fixed random weights and per-task learned biases.

    Parameters
    ----------
    n_inputs : int
        Input features.
    hidden : sequence of int
        Widths of the hidden layers (at least one).
    n_outputs : int or sequence of int
        Classes of each task (one int: every task has that many).
    n_tasks : int
        Number of tasks (one bias vector per task and hidden layer).
    mode : {"bias", "readout", "bias+readout", "full", "mask"}
    mask_method : {"sigmoid", "straight_through"}
        How the ``mask`` mode trains its gates (see the module's docstring);
        ignored by the other modes.
    init : {"uniform", "gaussian"}
    gamma : float
        Half-width of the uniform initialisation.
    seed : int
        Seed of :func:`numpy.random.default_rng` drawing, in order: each hidden
        layer's weights then its biases (for all tasks), the readouts, then the
        mask scores.
    dtype : torch.dtype

    Attributes
    ----------
    weights : list of Tensor of shape (width_l, fan_in)
    biases : list of Tensor of shape (task, width_l)
    W_out : Tensor of shape (task, max_output, width_L)
    b_out : Tensor of shape (task, max_output)
    scores : list of Tensor of shape (task, width_l)
        Mask scores (``mask`` mode; unused otherwise).
    temperature : float or None
        Temperature ``T`` of the soft gates ``sigmoid(s / T)`` of the
        ``"sigmoid"`` method; ``None`` (the default, and always outside
        :func:`fit`'s steps) gives the binary evaluation mask ``1[s > 0]``.
    """

    def __init__(
        self, n_inputs: int, hidden: Sequence[int], n_outputs: int | Sequence[int], *, n_tasks: int = 1,
        mode: str = "bias", mask_method: str = "sigmoid", init: str = "uniform", gamma: float = 0.1, seed: int = 0,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__()
        n_in = _positive_int("n_inputs", n_inputs)
        if isinstance(hidden, (int, np.integer)) or len(hidden) == 0:
            raise InputError(f"`hidden` must be a non-empty sequence of layer widths; got {hidden!r}")
        widths = tuple(_positive_int("hidden", w) for w in hidden)
        n_tasks = _positive_int("n_tasks", n_tasks)
        outs = (n_outputs,) * n_tasks if isinstance(n_outputs, (int, np.integer)) else tuple(n_outputs)
        if len(outs) != n_tasks:
            raise InputError(f"`n_outputs` must have one entry per task ({n_tasks}); got {len(outs)}")
        outs = tuple(_positive_int("n_outputs", o) for o in outs)
        check_choice("mode", mode, FF_MODES)
        check_choice("mask_method", mask_method, MASK_METHODS)
        check_choice("init", init, INITS)
        check_number("gamma", gamma, gt=0)
        check_number("seed", seed, ge=0, integer=True)
        self.mask_method = mask_method
        self.temperature: float | None = None
        self.mode, self.init, self.gamma, self.seed = mode, init, float(gamma), int(seed)
        self.n_inputs, self.widths, self.n_outputs, self.n_tasks = n_in, widths, outs, n_tasks
        rng = np.random.default_rng(seed)
        trained = _TRAINED[mode]
        fan_in = n_in
        weights, biases = [], []
        for width in widths:
            weights.append(_draw(rng, (width, fan_in), fan_in, init, gamma))
            biases.append(_draw(rng, (n_tasks, width), fan_in, init, gamma))
            fan_in = width
        w_out = _draw(rng, (n_tasks, max(outs), fan_in), fan_in, init, gamma)
        scores = [rng.normal(0.0, 0.01, size=(n_tasks, w)) for w in widths]

        def hold(name: str, arr: np.ndarray, train: bool) -> Tensor:
            t = torch.tensor(arr, dtype=dtype)
            if train:
                setattr(self, name, nn.Parameter(t))
            else:
                self.register_buffer(name, t)
            return getattr(self, name)

        self._layers = tuple(range(len(widths)))
        for i, (w, b, s) in enumerate(zip(weights, biases, scores)):
            hold(f"weight{i}", w, "weights" in trained)
            hold(f"bias{i}", b, "biases" in trained)
            hold(f"score{i}", s, "scores" in trained)
        hold("W_out", w_out, "W_out" in trained)
        hold("b_out", np.zeros((n_tasks, max(outs))), "b_out" in trained)

    # ---------------------------------------------------------------- access
    @property
    def weights(self) -> list[Tensor]:
        return [getattr(self, f"weight{i}") for i in self._layers]

    @property
    def biases(self) -> list[Tensor]:
        return [getattr(self, f"bias{i}") for i in self._layers]

    @property
    def scores(self) -> list[Tensor]:
        return [getattr(self, f"score{i}") for i in self._layers]

    def masks(self) -> list[Tensor]:
        """Binary (evaluation) masks ``1[s > 0] = 1[sigmoid(s) > 0.5]`` of shape (task, width_l), one per layer."""
        return [(s.detach() > 0).to(s.dtype) for s in self.scores]

    def frozen_names(self) -> tuple[str, ...]:
        """Names of the tensors this mode keeps fixed."""
        return tuple(name for name, _ in self.named_buffers())

    def frozen_hashes(self) -> dict[str, str]:
        """Fingerprint (:func:`neurobias.io.hashing.sha256_array`) of every fixed tensor, by name."""
        return {name: sha256_array(buf) for name, buf in self.named_buffers()}

    # --------------------------------------------------------------- forward
    def hidden(self, x: Tensor, task: int) -> list[Tensor]:
        """Hidden activities of every layer for task ``task``.

        Parameters
        ----------
        x : Tensor of shape (sample, input)
        task : int

        Returns
        -------
        list of Tensor of shape (sample, width_l)
        """
        if not 0 <= task < self.n_tasks:
            raise InputError(f"`task` must be in [0, {self.n_tasks - 1}]; got {task!r}")
        h, out = x, []
        for i in self._layers:
            h = torch.relu(h @ self.weights[i].T + self.biases[i][task])
            if self.mode == "mask":
                h = h * self._gate(self.scores[i][task])
            out.append(h)
        return out

    def _gate(self, scores: Tensor) -> Tensor:
        """The mask of ``scores`` of shape (width_l,): soft while a temperature is set (sigmoid method), else binary."""
        if self.mask_method == "straight_through":
            return _StraightThrough.apply(scores)
        if self.temperature is None:
            return (scores > 0).to(scores.dtype)
        return torch.sigmoid(scores / self.temperature)

    def forward(self, x: Tensor, task: int = 0) -> Tensor:
        """Logits of shape (sample, n_outputs[task]) for inputs of shape (sample, input)."""
        h = self.hidden(x, task)[-1]
        k = self.n_outputs[task]
        return h @ self.W_out[task, :k].T + self.b_out[task, :k]


def trained_parameter_count(n_inputs: int, hidden: Sequence[int], n_outputs: int, *, mode: str) -> int:
    """Number of trained scalars of a one-task :class:`BiasNet` in ``mode``.

    ``bias``: hidden biases + output biases; ``readout``: readout weights +
    output biases; ``bias+readout``: both; ``full``: all weights and biases;
    ``mask``: one score per hidden unit + output biases.
    """
    check_choice("mode", mode, FF_MODES)
    widths = list(hidden)
    n_hidden = sum(widths)
    readout = widths[-1] * n_outputs
    weights = sum(a * b for a, b in zip(widths, [n_inputs, *widths[:-1]]))
    return {
        "bias": n_hidden + n_outputs,
        "readout": readout + n_outputs,
        "bias+readout": n_hidden + readout + n_outputs,
        "full": weights + n_hidden + readout + n_outputs,
        "mask": n_hidden + n_outputs,
    }[mode]

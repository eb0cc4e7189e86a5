"""The task protocol: :class:`Task` and the :class:`TaskBatch` it samples.

A task describes what a circuit must do in each of its behavioural contexts:
the external inputs it receives, the outputs it must produce and where the
loss counts.  The context itself is *not* an input channel: it reaches the
circuit only through the context's tonic input, which is what gets trained.
Every task therefore draws its inputs independently of the context: with the
same random generator state, :meth:`Task.sample` returns identical inputs for
every context and only the targets, masks and context-dependent conditions
differ.

Time convention
---------------
``dt`` is the integration step in ms.  A trial has ``n_time`` steps; the input
at index ``k`` drives step ``k`` and the state after step ``k`` (read out into
``targets[:, k]``) lies at time ``(k + 1) * dt`` ms, so ``Task.time`` is
``dt * (1, 2, ..., n_time)``.  The initial state sits at time 0.
"""
from __future__ import annotations

import dataclasses
import numbers
import typing
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from neurobias.errors import InputError, check_choice, check_instance, check_number, coerce

__all__ = ["Task", "TaskBatch", "WILLIAMS_2024", "rk4_samples"]

# the reference several tasks reproduce (their ``citation``)
WILLIAMS_2024 = (
    "Williams E, Ryoo A, Jiralerspong T, Payeur A, Perich MG, Mazzucato L, "
    "Lajoie G (2024). Expressivity of neural networks with random weights and "
    "learned biases. arXiv:2407.00957."
)


@dataclass(frozen=True)
class TaskBatch:
    """A batch of trials of one task.

    Arrays come from :meth:`Task.sample` with the shapes below, or from
    :meth:`Task.sample_all` with an extra leading ``context`` axis.  All arrays
    are C-contiguous float64.

    Attributes
    ----------
    inputs : ndarray of shape (trial, time, input)
        External input; ``inputs[:, k]`` drives integration step ``k``.  The
        ``input`` axis may have length 0 (tasks without inputs).
    targets : ndarray of shape (trial, time, output)
        Desired output at time ``(k + 1) * dt`` ms for index ``k``.
    mask : ndarray of shape (trial, time, output)
        Loss weight, each entry 0.0 or 1.0.
    conditions : dict of str to ndarray of shape (trial,)
        Per-trial condition values (float64), e.g. coherences or the correct
        choice.
    """

    inputs: np.ndarray
    targets: np.ndarray
    mask: np.ndarray
    conditions: dict[str, np.ndarray]


def rk4_samples(f: typing.Callable[[np.ndarray], np.ndarray], state: np.ndarray, *, h: float, n_samples: int,
                substeps: int) -> np.ndarray:
    """Integrate ``ds/dt = f(s)`` with classical RK4 and keep every ``substeps``-th state.

    Parameters
    ----------
    f : callable
        The vector field, ``(trajectory, dim) -> (trajectory, dim)``.
    state : ndarray of shape (trajectory, dim)
        Initial states (float64).
    h : float
        RK4 step, in the system's time units.
    n_samples, substeps : int
        Samples returned after the initial state; RK4 steps per sample.

    Returns
    -------
    ndarray of shape (trajectory, n_samples, dim)
        The states at times ``substeps * h, 2 substeps * h, ...``.
    """
    out = np.empty((state.shape[0], n_samples, state.shape[1]))
    for k in range(n_samples):
        for _ in range(substeps):
            k1 = f(state)
            k2 = f(state + 0.5 * h * k1)
            k3 = f(state + 0.5 * h * k2)
            k4 = f(state + h * k3)
            state = state + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        out[:, k] = state
    return out


def _as_float64(array: np.ndarray) -> np.ndarray:
    # Always a fresh, writable, C-contiguous copy (subclasses may hand out
    # read-only broadcast views; torch.from_numpy warns on those).
    return np.array(array, dtype=np.float64, order="C")


class Task:
    """Base class of all tasks.

    Subclasses define a frozen dataclass ``Params`` (typed defaults only), the
    class attributes ``name`` and ``citation``, the properties
    ``input_names``, ``output_names`` and ``contexts`` and the methods
    ``_check_params``, ``duration_ms``, ``_sample`` and ``conditions_table``.

    Parameters
    ----------
    params : Task.Params, optional
        Task parameters; the defaults of ``Params`` when omitted.  Values are
        validated and coerced (ints to floats, lists to tuples); the result is
        available as :attr:`params`.
    dt : float
        Integration step in ms; must be positive and divide every duration of
        the task.

    Raises
    ------
    InputError
        If ``dt`` or a parameter is invalid, or a duration is not a multiple
        of ``dt``.
    """

    name: ClassVar[str] = ""
    citation: ClassVar[str] = ""
    Params: ClassVar[type]

    def __init__(self, params: Any = None, *, dt: float) -> None:
        if params is None:
            params = self.Params()
        check_instance("params", params, self.Params, what=f"a {type(self).__name__}.Params instance or None")
        self._dt = check_number("dt", dt, gt=0, units="ms")
        self._params = coerce_params(params)
        self._check_params(self._params)
        self._n_time = self.n_steps(self.duration_ms, "duration_ms")

    # ------------------------------------------------------------------ hooks
    def _check_params(self, params: Any) -> None:
        """Check value constraints beyond types; raise InputError naming the field."""

    @property
    def duration_ms(self) -> float:
        """Trial duration in ms."""
        raise NotImplementedError

    @property
    def input_names(self) -> tuple[str, ...]:
        """Names of the input channels (may be empty)."""
        raise NotImplementedError

    @property
    def output_names(self) -> tuple[str, ...]:
        """Names of the output channels."""
        raise NotImplementedError

    @property
    def contexts(self) -> tuple[str, ...]:
        """Names of the behavioural contexts, in order."""
        raise NotImplementedError

    def conditions_table(self) -> dict[str, tuple]:
        """What distinguishes the contexts.

        Returns
        -------
        dict of str to tuple
            One entry per column; each tuple holds one scalar value (float,
            int, bool or str) per context, in the order of :attr:`contexts`.
        """
        raise NotImplementedError

    def _sample(self, batch: int, context: int, rng: np.random.Generator) -> TaskBatch:
        raise NotImplementedError

    # ------------------------------------------------------------ properties
    @property
    def params(self) -> Any:
        """The validated, coerced parameters (a frozen ``Params`` instance)."""
        return self._params

    @property
    def dt(self) -> float:
        """Integration step in ms."""
        return self._dt

    @property
    def n_time(self) -> int:
        """Number of integration steps per trial."""
        return self._n_time

    @property
    def time(self) -> np.ndarray:
        """Times of the states after each step, of shape (time,), in ms: ``dt * (1..n_time)``."""
        return self._dt * np.arange(1, self._n_time + 1, dtype=np.float64)

    @property
    def n_inputs(self) -> int:
        return len(self.input_names)

    @property
    def n_outputs(self) -> int:
        return len(self.output_names)

    @property
    def n_contexts(self) -> int:
        return len(self.contexts)

    # --------------------------------------------------------------- helpers
    def n_steps(self, duration_ms: float, field: str, *, allow_zero: bool = False) -> int:
        """Convert a duration in ms to a number of steps of ``dt``.

        Raises
        ------
        InputError
            If ``duration_ms`` is not a whole multiple of ``dt`` (to 1e-9
            relative precision), or is zero when ``allow_zero`` is False.
        """
        ratio = duration_ms / self._dt
        steps = round(ratio)
        if abs(ratio - steps) > 1e-9 * max(1.0, abs(ratio)):
            raise InputError(
                f"`{field}` must be a whole multiple of `dt` = {self._dt:g} ms; "
                f"got {duration_ms:g} ms ({ratio:g} steps)"
            )
        if steps < 0 or (steps == 0 and not allow_zero):
            least = "non-negative" if allow_zero else "at least one step of `dt`"
            raise InputError(f"`{field}` must be {least} (dt = {self._dt:g} ms); got {duration_ms:g} ms")
        return int(steps)

    def context_index(self, context: int | str) -> int:
        """Index of a context given by index or name.

        Raises
        ------
        InputError
            If the name is unknown (the message lists the contexts and the
            closest match) or the index is out of range.
        """
        contexts = self.contexts
        if isinstance(context, str):
            return contexts.index(check_choice("context", context, contexts))
        if isinstance(context, (bool, np.bool_)) or not isinstance(context, numbers.Integral):
            raise InputError(
                f"`context` must be a context name (str) or index (int); got {type(context).__name__}"
            )
        if not 0 <= int(context) < len(contexts):
            raise InputError(
                f"`context` index must be in [0, {len(contexts) - 1}] for task {self.name!r}; got {context}"
            )
        return int(context)

    # ---------------------------------------------------------------- public
    def sample(self, batch: int, context: int | str, rng: np.random.Generator) -> TaskBatch:
        """Sample a batch of trials in one context.

        Parameters
        ----------
        batch : int
            Number of trials (positive).
        context : int or str
            Context index or name (see :attr:`contexts`).
        rng : numpy.random.Generator
            Source of all randomness.  The draws do not depend on ``context``:
            the same generator state gives the same inputs in every context.

        Returns
        -------
        TaskBatch
            ``inputs`` of shape (trial, time, input), ``targets`` and ``mask``
            of shape (trial, time, output), ``conditions`` of shape (trial,).
        """
        check_number("batch", batch, gt=0, integer=True)
        index = self.context_index(context)
        check_instance("rng", rng, np.random.Generator, what="a numpy.random.Generator")
        out = self._sample(int(batch), index, rng)
        result = TaskBatch(
            inputs=_as_float64(out.inputs),
            targets=_as_float64(out.targets),
            mask=_as_float64(out.mask),
            conditions={key: _as_float64(value) for key, value in out.conditions.items()},
        )
        n_trial, n_time = int(batch), self._n_time
        expected = {
            "inputs": (n_trial, n_time, self.n_inputs),
            "targets": (n_trial, n_time, self.n_outputs),
            "mask": (n_trial, n_time, self.n_outputs),
        }
        for field, shape in expected.items():  # guards subclasses; never a user error
            assert getattr(result, field).shape == shape, (field, getattr(result, field).shape, shape)
        for key, value in result.conditions.items():
            assert value.shape == (n_trial,), (key, value.shape)
        return result

    def sample_all(self, batch: int, rng: np.random.Generator) -> TaskBatch:
        """Sample ``batch`` trials in every context, stacked along a leading context axis.

        Contexts are sampled in the order of :attr:`contexts` with the same
        generator, one after the other, so each context gets its own fresh
        trials (not the same trials relabelled) and the result is determined
        by the generator's state.

        Parameters
        ----------
        batch : int
            Number of trials per context (positive).
        rng : numpy.random.Generator
            Source of all randomness.

        Returns
        -------
        TaskBatch
            ``inputs`` of shape (context, trial, time, input), ``targets`` and
            ``mask`` of shape (context, trial, time, output), each condition of
            shape (context, trial).
        """
        check_number("batch", batch, gt=0, integer=True)
        batches = [self.sample(batch, index, rng) for index in range(self.n_contexts)]
        keys = batches[0].conditions.keys()
        return TaskBatch(
            inputs=np.stack([b.inputs for b in batches]),
            targets=np.stack([b.targets for b in batches]),
            mask=np.stack([b.mask for b in batches]),
            conditions={key: np.stack([b.conditions[key] for b in batches]) for key in keys},
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._params!r}, dt={self._dt!r})"


# ------------------------------------------------------------------ parameters
def coerce_params(params: Any) -> Any:
    """Validate the types of a ``Params`` dataclass instance and return a coerced copy.

    The types are checked by :func:`neurobias.errors.coerce` (the package's one
    type engine, also used by the configs): ints are accepted for floats;
    lists and 1-d arrays for tuples; floats must be finite.

    Raises
    ------
    InputError
        Naming the field, the expected type and what came.
    """
    hints = typing.get_type_hints(type(params))
    values = {
        field.name: coerce(getattr(params, field.name), hints[field.name], name=field.name)
        for field in dataclasses.fields(params)
    }
    return dataclasses.replace(params, **values)

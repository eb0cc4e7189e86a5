"""Sizes of the reproduction: ``tiny`` (tests), ``quick`` (minutes), ``medium`` (about half an hour) and ``full`` (hours on 2 cores)."""
from __future__ import annotations

from dataclasses import dataclass

from neurobias.errors import check_choice

__all__ = ["Settings", "SETTINGS", "get_settings", "EXPERIMENT_NAMES", "USES", "SettingsReader"]

#: the experiments of the reproduction, in the order they run
EXPERIMENT_NAMES: tuple[str, ...] = ("width", "multitask", "sine", "vanderpol", "lorenz", "reaching", "flipflop")


@dataclass(frozen=True)
class Settings:
    """Every size parameter of the experiments (see docs/williams.md for what each controls).

    Attributes
    ----------
    name : str
    widths : tuple of int
        Hidden widths of the feed-forward scaling curve.
    seeds : tuple of int
        Network seeds of the scaling curve.
    ff_datasets : tuple of str
        Data sets of the scaling curve.
    ff_steps, ff_batch : int
        Adam steps and minibatch size of feed-forward training.
    mt_width : int
        Hidden width of the multi-task network.
    mt_steps : int
        Adam steps of multi-task training (one minibatch of every task per step).
    mt_samples : int
        Test samples per task used for task variance.
    mt_seeds : tuple of int
        Seeds (weights, training and nulls) of the multi-task networks.
    rnn_units : int
        Units of the sine, Van der Pol and reaching circuits.
    rnn_steps : int
        Adam steps of recurrent training (reaching: at most this many).
    rnn_batch : int
        Trials per context per step.
    vdp_gains : tuple of float
        Gains g of the random recurrent weights in the Van der Pol sweep.
    lorenz_units, lorenz_steps : int
        Units and Adam steps of the Lorenz forecaster.
    lorenz_free : int
        Closed-loop steps evaluated.
    eval_trials : int
        Evaluation trials per context.
    rnn_seeds : tuple of int
        Seeds (circuit and training) of the sine, Van der Pol and reaching experiments.
    lorenz_seeds : tuple of int
        Seeds (circuit and training) of the Lorenz experiment.
    lorenz_long : int
        Samples of the long closed-loop runs whose attractor statistics are
        compared with the true system's (at least ``lorenz_free``).
    flipflop_units : int
        Units of the fully trained 3-bit flip-flop circuit (the reference) and of the learning-rate tuning runs.
    flipflop_widths : tuple of int
        Widths of the bias-only (and bias+readout) flip-flop circuits.
    flipflop_steps, flipflop_batch : int
        Adam steps and trials per step of every flip-flop training run (learning-rate tuning runs included).
    flipflop_seeds : tuple of int
        Seeds (circuit and training) of the flip-flop experiment.
    flipflop_modes : tuple of str
        Training modes compared with full training across ``flipflop_widths``.
    """

    name: str
    widths: tuple[int, ...]
    seeds: tuple[int, ...]
    ff_datasets: tuple[str, ...]
    ff_steps: int
    ff_batch: int
    mt_width: int
    mt_steps: int
    mt_samples: int
    rnn_units: int
    rnn_steps: int
    rnn_batch: int
    vdp_gains: tuple[float, ...]
    lorenz_units: int
    lorenz_steps: int
    lorenz_free: int
    eval_trials: int
    rnn_seeds: tuple[int, ...] = (0,)
    lorenz_seeds: tuple[int, ...] = (0,)
    lorenz_long: int = 1000
    flipflop_units: int = 128
    flipflop_widths: tuple[int, ...] = (128, 256)
    flipflop_steps: int = 800
    flipflop_batch: int = 32
    flipflop_seeds: tuple[int, ...] = (0,)
    flipflop_modes: tuple[str, ...] = ("bias",)
    mt_seeds: tuple[int, ...] = (0,)


SETTINGS: dict[str, Settings] = {
    "tiny": Settings(
        name="tiny", widths=(16, 256), seeds=(0,), ff_datasets=("digits",), ff_steps=40, ff_batch=64,
        mt_width=64, mt_steps=20, mt_samples=40, rnn_units=24, rnn_steps=4, rnn_batch=2, vdp_gains=(0.5, 1.5),
        lorenz_units=24, lorenz_steps=4, lorenz_free=30, eval_trials=4, lorenz_long=400,
        flipflop_units=12, flipflop_widths=(8, 12), flipflop_steps=3, flipflop_batch=2,
        flipflop_seeds=(0,), flipflop_modes=("bias", "bias+readout"),
    ),
    "quick": Settings(
        name="quick", widths=(64, 128, 256, 512, 1024, 2048), seeds=(0,), ff_datasets=("digits",),
        ff_steps=300, ff_batch=128, mt_width=1024, mt_steps=300, mt_samples=300, rnn_units=128, rnn_steps=150,
        rnn_batch=4, vdp_gains=(0.5, 1.0, 1.5), lorenz_units=256, lorenz_steps=100, lorenz_free=200,
        eval_trials=16, lorenz_long=1000,
        flipflop_units=128, flipflop_widths=(64, 256), flipflop_steps=100, flipflop_batch=16,
        flipflop_seeds=(0,), flipflop_modes=("bias",),
    ),
    "medium": Settings(
        name="medium", widths=tuple(2 ** k for k in range(6, 14)), seeds=(0,), ff_datasets=("digits",),
        ff_steps=1000, ff_batch=128, mt_width=2048, mt_steps=1000, mt_samples=300, rnn_units=128, rnn_steps=400,
        rnn_batch=4, vdp_gains=(0.5, 1.0, 1.5, 2.0), lorenz_units=384, lorenz_steps=500, lorenz_free=300,
        eval_trials=16, lorenz_long=2000,
        flipflop_units=128, flipflop_widths=(128, 256, 512), flipflop_steps=600, flipflop_batch=32,
        flipflop_seeds=(0,), flipflop_modes=("bias", "bias+readout"),
    ),
    "full": Settings(
        name="full", widths=tuple(2 ** k for k in range(6, 15)), seeds=(0, 1, 2),
        ff_datasets=("digits", "mnist1d"), ff_steps=3000, ff_batch=128, mt_width=32000, mt_steps=2000,
        mt_samples=300, rnn_units=200, rnn_steps=1500, rnn_batch=8, vdp_gains=(0.25, 0.5, 1.0, 1.5, 2.0),
        lorenz_units=1024, lorenz_steps=1000, lorenz_free=400, eval_trials=32, rnn_seeds=(0, 1, 2, 3, 4),
        lorenz_seeds=(0, 1, 2, 3, 4), lorenz_long=4000,
        flipflop_units=128, flipflop_widths=(128, 256, 512, 1024), flipflop_steps=1000, flipflop_batch=32,
        flipflop_seeds=(0, 1, 2), flipflop_modes=("bias", "bias+readout"), mt_seeds=(0, 1, 2),
    ),
}

#: the size parameters each experiment reads: a stored outcome stays valid while these keep their values
#: (checked at every run: an experiment that reads a parameter not listed here fails its test)
USES: dict[str, tuple[str, ...]] = {
    "width": ("widths", "seeds", "ff_datasets", "ff_steps", "ff_batch"),
    "multitask": ("mt_width", "mt_steps", "mt_samples", "ff_batch", "mt_seeds"),
    "sine": ("rnn_units", "rnn_steps", "rnn_seeds"),
    "vanderpol": ("rnn_units", "rnn_steps", "rnn_batch", "vdp_gains", "eval_trials", "rnn_seeds"),
    "lorenz": ("lorenz_units", "lorenz_steps", "lorenz_free", "rnn_batch", "eval_trials", "lorenz_seeds",
               "lorenz_long"),
    "reaching": ("rnn_units", "rnn_steps", "rnn_batch", "eval_trials", "rnn_seeds"),
    "flipflop": ("flipflop_units", "flipflop_widths", "flipflop_steps", "flipflop_batch", "flipflop_seeds",
                 "flipflop_modes", "eval_trials"),
}
assert tuple(USES) == EXPERIMENT_NAMES


class SettingsReader:
    """``settings`` that remembers which size parameters were read (``.read``), so an outcome can say what it used."""

    def __init__(self, settings: Settings) -> None:
        object.__setattr__(self, "_settings", settings)
        object.__setattr__(self, "read", set())

    def __getattr__(self, name: str):  # noqa: ANN204
        value = getattr(object.__getattribute__(self, "_settings"), name)
        if name != "name":
            object.__getattribute__(self, "read").add(name)
        return value


def get_settings(name: str) -> Settings:
    """The :class:`Settings` called ``name`` (``"tiny"``, ``"quick"``, ``"medium"`` or ``"full"``)."""
    return SETTINGS[check_choice("size", name, tuple(SETTINGS))]

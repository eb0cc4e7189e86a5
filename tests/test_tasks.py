"""Tests of the task protocol, the registry and every registered task."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from neurobias.errors import InputError
from neurobias.tasks import (
    ContextIntegrationTask,
    FlipFlopTask,
    SineTask,
    Task,
    TaskBatch,
    available,
    get_task,
    make_task,
    register,
)

DT = 2.0
BATCH = 5

all_tasks = pytest.mark.parametrize("name", available())


def _make(name: str, dt: float = DT) -> Task:
    return get_task(name)(dt=dt)


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# --------------------------------------------------------------- every task
def test_registry_is_not_empty():
    assert len(available()) >= 3
    assert available() == tuple(sorted(available()))


@all_tasks
def test_class_metadata(name):
    cls = get_task(name)
    assert issubclass(cls, Task)
    assert cls.name == name
    assert isinstance(cls.citation, str) and cls.citation
    assert dataclasses.is_dataclass(cls.Params)
    assert cls.Params.__dataclass_params__.frozen
    assert type(cls(dt=DT).params) is cls.Params


@all_tasks
def test_names_and_contexts(name):
    task = _make(name)
    assert len(task.contexts) >= 2
    assert len(set(task.contexts)) == len(task.contexts)
    assert all(isinstance(c, str) and c for c in task.contexts)
    assert len(task.output_names) >= 1
    for names in (task.input_names, task.output_names):
        assert isinstance(names, tuple) and len(set(names)) == len(names)


@all_tasks
def test_conditions_table_has_one_value_per_context(name):
    task = _make(name)
    table = task.conditions_table()
    assert table
    for column, values in table.items():
        assert isinstance(column, str)
        assert isinstance(values, tuple) and len(values) == len(task.contexts)
        assert all(isinstance(v, (bool, int, float, str)) for v in values)


@all_tasks
def test_time_axis(name):
    task = _make(name)
    assert task.time.shape == (task.n_time,)
    assert task.time.dtype == np.float64
    np.testing.assert_allclose(np.diff(task.time), DT)
    assert task.time[0] == pytest.approx(DT)
    assert task.time[-1] == pytest.approx(task.duration_ms)


@all_tasks
def test_sample_shapes_and_values(name):
    task = _make(name)
    for context in range(task.n_contexts):
        batch = task.sample(BATCH, context, _rng())
        assert isinstance(batch, TaskBatch)
        assert batch.inputs.shape == (BATCH, task.n_time, len(task.input_names))
        assert batch.targets.shape == (BATCH, task.n_time, len(task.output_names))
        assert batch.mask.shape == batch.targets.shape
        for array in (batch.inputs, batch.targets, batch.mask):
            assert array.dtype == np.float64
            assert array.flags.c_contiguous and array.flags.writeable
            assert np.all(np.isfinite(array))
        assert set(np.unique(batch.mask)) <= {0.0, 1.0}
        assert batch.mask.sum() > 0
        assert batch.conditions
        for values in batch.conditions.values():
            assert values.shape == (BATCH,) and values.dtype == np.float64
            assert np.all(np.isfinite(values))


@all_tasks
def test_sample_all_stacks_contexts_in_order(name):
    task = _make(name)
    stacked = task.sample_all(BATCH, _rng(3))
    n_ctx = task.n_contexts
    assert stacked.inputs.shape == (n_ctx, BATCH, task.n_time, len(task.input_names))
    assert stacked.targets.shape == (n_ctx, BATCH, task.n_time, len(task.output_names))
    assert stacked.mask.shape == stacked.targets.shape
    rng = _rng(3)
    for c in range(n_ctx):
        single = task.sample(BATCH, c, rng)
        np.testing.assert_array_equal(stacked.inputs[c], single.inputs)
        np.testing.assert_array_equal(stacked.targets[c], single.targets)
        np.testing.assert_array_equal(stacked.mask[c], single.mask)
        assert stacked.conditions.keys() == single.conditions.keys()
        for key, values in single.conditions.items():
            np.testing.assert_array_equal(stacked.conditions[key][c], values)


@all_tasks
def test_same_seed_same_batch(name):
    task = _make(name)
    for context in task.contexts:
        a, b = task.sample(BATCH, context, _rng(7)), task.sample(BATCH, context, _rng(7))
        np.testing.assert_array_equal(a.inputs, b.inputs)
        np.testing.assert_array_equal(a.targets, b.targets)
        np.testing.assert_array_equal(a.mask, b.mask)
        for key in a.conditions:
            np.testing.assert_array_equal(a.conditions[key], b.conditions[key])


@all_tasks
def test_different_seed_different_inputs(name):
    task = _make(name)
    if not task.input_names:  # nothing random to compare (e.g. autonomous generation)
        return
    a, b = task.sample(BATCH, 0, _rng(1)), task.sample(BATCH, 0, _rng(2))
    assert not np.array_equal(a.inputs, b.inputs)


@all_tasks
def test_inputs_do_not_depend_on_context(name):
    task = _make(name)
    reference = task.sample(BATCH, 0, _rng(11))
    for context in range(1, task.n_contexts):
        other = task.sample(BATCH, context, _rng(11))
        np.testing.assert_array_equal(other.inputs, reference.inputs)
        assert other.conditions.keys() == reference.conditions.keys()


@all_tasks
def test_targets_differ_between_contexts(name):
    task = _make(name)
    targets = [task.sample(BATCH, c, _rng(5)).targets for c in range(task.n_contexts)]
    assert any(not np.array_equal(targets[0], t) for t in targets[1:])


@all_tasks
def test_context_by_name_equals_by_index(name):
    task = _make(name)
    for index, context in enumerate(task.contexts):
        a, b = task.sample(2, context, _rng()), task.sample(2, index, _rng())
        np.testing.assert_array_equal(a.targets, b.targets)
        assert task.context_index(context) == index


@all_tasks
@pytest.mark.parametrize("dt", [1.0, 5.0])
def test_duration_consistent_across_dt(name, dt):
    coarse, fine = _make(name, dt=dt), _make(name, dt=DT)
    assert coarse.duration_ms == fine.duration_ms
    assert coarse.n_time * dt == pytest.approx(fine.n_time * DT)
    assert coarse.time[-1] == pytest.approx(fine.time[-1])


@all_tasks
def test_make_task_defaults(name):
    task = make_task(name, dt=DT)
    assert type(task) is get_task(name)
    assert task.params == get_task(name).Params()
    assert task.dt == DT
    assert name in repr(task) or type(task).__name__ in repr(task)


@all_tasks
def test_every_param_rejects_wrong_type(name):
    for field in dataclasses.fields(get_task(name).Params):
        with pytest.raises(InputError, match=f"`{field.name}"):
            make_task(name, dt=DT, **{field.name: object()})


@all_tasks
def test_params_instance_of_wrong_class_rejected(name):
    with pytest.raises(InputError, match="`params`"):
        get_task(name)(object(), dt=DT)


# ---------------------------------------------------------- bad arguments
@pytest.mark.parametrize("batch", [-3, 0, 2.5, True, "4"])
def test_bad_batch(batch):
    task = _make("sine")
    with pytest.raises(InputError, match=r"`batch` must be a positive int; got "):
        task.sample(batch, 0, _rng())
    with pytest.raises(InputError, match="`batch`"):
        task.sample_all(batch, _rng())


def test_unknown_context_name_suggests_closest():
    task = make_task("flipflop", dt=DT)
    with pytest.raises(InputError, match=r"`context`.*'invertd'.*did you mean 'inverted'"):
        task.sample(2, "invertd", _rng())


@pytest.mark.parametrize("context", [-1, 2, 2.0])
def test_bad_context_index(context):
    with pytest.raises(InputError, match="`context`"):
        make_task("flipflop", dt=DT).sample(2, context, _rng())


def test_rng_must_be_generator():
    with pytest.raises(InputError, match="`rng` must be a numpy.random.Generator"):
        make_task("flipflop", dt=DT).sample(2, 0, 0)


def test_unknown_task_lists_available():
    with pytest.raises(InputError) as info:
        get_task("flipflp")
    message = str(info.value)
    assert all(repr(n) in message for n in available())
    assert "did you mean 'flipflop'" in message
    with pytest.raises(InputError, match="'nope'"):
        make_task("nope", dt=DT)


def test_unknown_param_names_closest():
    with pytest.raises(InputError, match=r"unknown parameter 'n_bit'.*did you mean 'n_bits'"):
        make_task("flipflop", dt=DT, n_bit=2)


@pytest.mark.parametrize("dt", [-1.0, 0.0, float("nan"), float("inf"), "1", True])
def test_bad_dt(dt):
    with pytest.raises(InputError, match=r"`dt` must be a positive float \(ms\); got "):
        make_task("sine", dt=dt)


def test_duration_not_multiple_of_dt():
    with pytest.raises(InputError, match=r"`duration_ms` must be a whole multiple of `dt` = 3 ms"):
        make_task("sine", dt=3.0)
    with pytest.raises(InputError, match="`stimulus_ms`"):
        make_task("context_integration", dt=1.0, stimulus_ms=750.5, decision_ms=149.5)
    with pytest.raises(InputError, match="`pulse_ms`"):
        make_task("flipflop", dt=4.0, pulse_ms=10.0)


def test_wrong_param_type_message():
    with pytest.raises(InputError, match=r"`n_bits` must be an int; got 2.0"):
        make_task("flipflop", dt=DT, n_bits=2.0)
    with pytest.raises(InputError, match=r"`frequencies_hz\[1\]` must be a float; got '2'"):
        make_task("sine", dt=DT, frequencies_hz=(1.0, "2"))
    with pytest.raises(InputError, match="`mask_fixation` must be a bool"):
        make_task("context_integration", dt=DT, mask_fixation=1)
    with pytest.raises(InputError, match=r"`amplitude` must be a finite float; got nan"):
        make_task("sine", dt=DT, amplitude=float("nan"))


def test_params_are_coerced():
    task = make_task("sine", dt=1, frequencies_hz=[1, 2], duration_ms=500)
    assert task.params.frequencies_hz == (1.0, 2.0)
    assert isinstance(task.params.duration_ms, float) and isinstance(task.dt, float)


def test_register_rejects_bad_classes():
    with pytest.raises(TypeError):
        register(int)

    class Duplicate(SineTask):
        pass

    with pytest.raises(ValueError, match="already registered"):
        register(Duplicate)
    assert get_task("sine") is SineTask


# -------------------------------------------------------------------- sine
def test_sine_target_is_analytic():
    params = SineTask.Params(frequencies_hz=(1.5, 4.0), amplitude=0.7, phase_rad=0.3, duration_ms=600.0)
    task = SineTask(params, dt=2.0)
    t = 2.0 * np.arange(1, 301)
    assert task.contexts == ("sine_1.5Hz", "sine_4Hz")
    for c, f in enumerate(params.frequencies_hz):
        batch = task.sample(3, c, _rng())
        expected = 0.7 * np.sin(2 * np.pi * f * t / 1000.0 + 0.3)
        np.testing.assert_allclose(batch.targets[:, :, 0], np.broadcast_to(expected, (3, 300)), rtol=0, atol=1e-12)
        np.testing.assert_array_equal(batch.conditions["frequency_hz"], f)
        assert batch.inputs.shape == (3, 300, 0)


def test_sine_mask_start():
    task = make_task("sine", dt=5.0, mask_start_ms=52.0)
    mask = task.sample(1, 0, _rng()).mask[0, :, 0]
    np.testing.assert_array_equal(mask, (task.time > 52.0).astype(float))
    assert mask[:10].sum() == 0 and mask[10:].all()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"frequencies_hz": (2.0, 2.0)}, "frequencies_hz"),
        ({"frequencies_hz": ()}, "frequencies_hz"),
        ({"frequencies_hz": (2.0, -1.0)}, "frequencies_hz"),
        ({"frequencies_hz": (2.0, 300.0)}, "frequencies_hz"),  # above 500 / dt = 250 Hz
        ({"amplitude": 0.0}, "amplitude"),
        ({"mask_start_ms": 1000.0}, "mask_start_ms"),
        ({"duration_ms": 0.0}, "duration_ms"),
    ],
)
def test_sine_bad_params(params, field):
    with pytest.raises(InputError, match=f"`{field}`"):
        make_task("sine", dt=DT, **params)


# ---------------------------------------------------------------- flipflop
def _reference_flipflop(inputs: np.ndarray, sign: float, trained: list[int]):
    """Last-pulse memory by a plain loop over trials, channels and steps."""
    targets = np.zeros_like(inputs)
    mask = np.zeros_like(inputs)
    n_trial, n_time, n_bits = inputs.shape
    for b in range(n_trial):
        for i in range(n_bits):
            last = 0.0
            for k in range(n_time):
                if inputs[b, k, i] != 0:
                    last = inputs[b, k, i]
                if last != 0 and i in trained:
                    targets[b, k, i] = sign * last
                    mask[b, k, i] = 1.0
    return targets, mask


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_flipflop_matches_reference(seed):
    conventions = ("normal", "inverted", "only_bit1")
    task = FlipFlopTask(
        FlipFlopTask.Params(n_bits=3, duration_ms=400.0, pulse_ms=10.0, pulse_rate_hz=15.0, conventions=conventions),
        dt=5.0,
    )
    rules = {"normal": (1.0, [0, 1, 2]), "inverted": (-1.0, [0, 1, 2]), "only_bit1": (1.0, [1])}
    for c, convention in enumerate(conventions):
        batch = task.sample(4, c, _rng(seed))
        assert set(np.unique(batch.inputs)) <= {-1.0, 0.0, 1.0}
        targets, mask = _reference_flipflop(batch.inputs, *rules[convention])
        np.testing.assert_array_equal(batch.targets, targets)
        np.testing.assert_array_equal(batch.mask, mask)
        np.testing.assert_array_equal(batch.conditions["n_pulses"], (batch.inputs != 0).sum(axis=(1, 2)) / 2)
    table = task.conditions_table()
    assert table["sign"] == (1.0, -1.0, 1.0)
    assert table["bit0_trained"] == (True, True, False)
    assert table["bit1_trained"] == (True, True, True)


def test_flipflop_pulses_do_not_depend_on_dt():
    params = FlipFlopTask.Params(pulse_ms=10.0, duration_ms=300.0, pulse_rate_hz=10.0)
    fine = FlipFlopTask(params, dt=1.0).sample(3, "inverted", _rng(4))
    coarse = FlipFlopTask(params, dt=5.0).sample(3, "inverted", _rng(4))
    np.testing.assert_array_equal(fine.inputs[:, ::5], coarse.inputs)
    np.testing.assert_array_equal(fine.targets[:, 4::5], coarse.targets)
    np.testing.assert_array_equal(fine.mask[:, 4::5], coarse.mask)


def test_flipflop_pulse_rate():
    task = make_task("flipflop", dt=5.0, n_bits=2, pulse_rate_hz=5.0, duration_ms=2000.0)
    n_pulses = task.sample(2000, 0, _rng(0)).conditions["n_pulses"]
    expected = 2 * 200 * -np.expm1(-5.0 * 10.0 / 1000.0)  # channels x slots x probability per slot
    assert n_pulses.mean() == pytest.approx(expected, rel=0.03)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"n_bits": 0}, "n_bits"),
        ({"conventions": ("normal", "sideways")}, "conventions"),
        ({"conventions": ("normal", "only_bit3")}, "conventions"),
        ({"conventions": ("normal", "normal")}, "conventions"),
        ({"conventions": ()}, "conventions"),
        ({"pulse_rate_hz": 0.0}, "pulse_rate_hz"),
        ({"pulse_ms": 2000.0}, "pulse_ms"),
    ],
)
def test_flipflop_bad_params(params, field):
    with pytest.raises(InputError, match=f"`{field}`"):
        make_task("flipflop", dt=DT, **params)


# ----------------------------------------------------- context integration
def test_context_integration_targets_follow_relevant_coherence():
    task = make_task("context_integration", dt=DT)
    n_fix, n_stim = 50, 375  # 100 ms and 750 ms at dt = 2 ms
    for c, stream in enumerate(task.contexts):
        batch = task.sample(200, stream, _rng(9))
        relevant = batch.conditions[f"{stream}_coherence"]
        np.testing.assert_array_equal(batch.conditions["choice"], np.sign(relevant))
        decision = batch.targets[:, n_fix + n_stim :, 0]
        np.testing.assert_array_equal(decision, np.broadcast_to(np.sign(relevant)[:, None], decision.shape))
        assert np.all(batch.targets[:, : n_fix + n_stim] == 0)
        np.testing.assert_array_equal(batch.mask[:, :n_fix], 1.0)
        np.testing.assert_array_equal(batch.mask[:, n_fix : n_fix + n_stim], 0.0)
        np.testing.assert_array_equal(batch.mask[:, n_fix + n_stim :], 1.0)
        assert np.all(batch.inputs[:, :n_fix] == 0) and np.all(batch.inputs[:, n_fix + n_stim :] == 0)
        assert set(np.abs(relevant)) <= {0.05, 0.15, 0.5}
        assert task.input_names[c] == stream


def test_context_integration_noise_free_inputs_equal_coherences():
    task = make_task("context_integration", dt=5.0, input_noise=0.0, fixation_ms=0.0, mask_fixation=False)
    batch = task.sample(20, "color", _rng(0))
    stimulus = batch.inputs[:, :150]
    np.testing.assert_array_equal(stimulus[..., 0], np.broadcast_to(batch.conditions["motion_coherence"][:, None], (20, 150)))
    np.testing.assert_array_equal(stimulus[..., 1], np.broadcast_to(batch.conditions["color_coherence"][:, None], (20, 150)))
    assert batch.mask[:, :150].sum() == 0


@pytest.mark.parametrize("dt", [1.0, 5.0])
def test_context_integration_noise_scales_with_dt(dt):
    task = make_task("context_integration", dt=dt, input_noise=0.8, coherences=(0.5,))
    batch = task.sample(100, 0, _rng(1))
    n_fix, n_stim = round(100 / dt), round(750 / dt)
    noise = batch.inputs[:, n_fix : n_fix + n_stim] - 0.5
    assert noise.std() * np.sqrt(dt) == pytest.approx(0.8, rel=0.02)


def test_context_integration_zero_coherence_is_unmasked_choice():
    task = make_task("context_integration", dt=DT, coherences=(0.0, 0.5))
    batch = task.sample(100, "motion", _rng(2))
    zero = batch.conditions["motion_coherence"] == 0
    assert zero.any() and (~zero).any()
    assert np.all(batch.conditions["choice"][zero] == 0)
    assert np.all(batch.targets[zero] == 0)
    assert np.all(batch.mask[zero, 425:] == 0) and np.all(batch.mask[~zero, 425:] == 1)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"coherences": (0.0,)}, "coherences"),
        ({"coherences": ()}, "coherences"),
        ({"input_noise": -1.0}, "input_noise"),
        ({"fixation_ms": -10.0}, "fixation_ms"),
        ({"decision_ms": 0.0}, "decision_ms"),
    ],
)
def test_context_integration_bad_params(params, field):
    with pytest.raises(InputError, match=f"`{field}`"):
        make_task("context_integration", dt=DT, **params)


def test_context_integration_class_export():
    assert get_task("context_integration") is ContextIntegrationTask

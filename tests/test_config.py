"""Tests of neurobias.config: defaults, TOML round trips, validation, overrides."""
from __future__ import annotations

import dataclasses
import tomllib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import neurobias.tasks as tasks
from neurobias.config import (
    CircuitConfig,
    FrozenParams,
    OutputConfig,
    RunConfig,
    SimulationConfig,
    TaskConfig,
    TonicConfig,
    TrainingConfig,
    apply_overrides,
    config_from_dict,
    config_from_toml,
    config_to_dict,
    config_to_toml,
    default_config,
    load_config,
    toml_literal,
)
from neurobias.errors import ConfigError, coerce


# --------------------------------------------------------------------------- defaults
def test_defaults_are_the_documented_ones():
    cfg = default_config()
    assert cfg.seed == 0
    assert dataclasses.asdict(cfg.circuit) == dict(
        n_units=256, connectivity="gaussian", g=1.5, p=0.1, exc_fraction=0.8, gamma=0.1,
        input_init="gaussian", input_scale=1.0, readout_init="gaussian", readout_scale=1.0,
        tau=10.0, phi="tanh", form="current",
    )
    assert cfg.task.name == "sine"
    assert cfg.task.params["frequencies_hz"] == (2.0, 3.0, 4.0)
    assert dataclasses.asdict(cfg.tonic) == dict(
        parametrization="full", fraction=0.5, rank=4, shared_baseline=False, init_std=0.0
    )
    assert dataclasses.asdict(cfg.training) == dict(
        mode="bias", steps=1000, lr=0.01, batch_size=8, clip_grad=1.0, schedule="cosine",
        lr_min=0.0, target_loss=0.0, checkpoint_every=100, log_every=10, dtype="float32", checkpoint_chunk=0,
            restarts=1,
    )
    assert dataclasses.asdict(cfg.simulation) == dict(dt=1.0, noise_std=0.0, method="euler", x0_std=0.0)
    assert dataclasses.asdict(cfg.output) == dict(n_trials=4, figures=True)
    assert cfg == RunConfig()


def test_config_is_frozen_and_hashable():
    cfg = default_config()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.seed = 3  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.circuit.tau = 3.0  # type: ignore[misc]
    with pytest.raises((TypeError, AttributeError)):
        cfg.task.params["amplitude"] = 2.0  # type: ignore[index]
    assert hash(cfg) == hash(default_config())
    assert {cfg: 1}[default_config()] == 1


@pytest.mark.parametrize("name", tasks.available())
def test_task_config_resolves_every_default_of_every_registered_task(name):
    tc = TaskConfig(name=name)
    params_cls = tasks.get_task(name).Params
    defaults = params_cls()
    assert set(tc.params) == {f.name for f in dataclasses.fields(params_cls)}
    for f in dataclasses.fields(params_cls):
        default = getattr(defaults, f.name)
        assert tc.params[f.name] == (tuple(default) if isinstance(default, list) else default)
    assert tc.make_params() == params_cls(**dict(tc.params))
    # and the whole run config round-trips for every task
    cfg = RunConfig(task=tc)
    assert config_from_toml(config_to_toml(cfg)) == cfg
    assert cfg.make_task().name == name


def test_frozen_params_mapping_semantics():
    fp = FrozenParams({"a": 1, "b": (1.0, 2.0)})
    assert fp == {"a": 1, "b": (1.0, 2.0)}
    assert fp == FrozenParams([("b", (1.0, 2.0)), ("a", 1)])
    assert hash(fp) == hash(FrozenParams([("b", (1.0, 2.0)), ("a", 1)]))
    assert list(fp) == ["a", "b"] and len(fp) == 2
    with pytest.raises(AttributeError):
        fp.x = 1  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- TOML round trips
def test_toml_round_trip_and_determinism(tmp_path):
    cfg = default_config()
    text = config_to_toml(cfg)
    assert text == config_to_toml(default_config())
    assert config_from_toml(text) == cfg
    path = tmp_path / "run.toml"
    path.write_text(text, encoding="utf-8")
    assert load_config(path) == cfg
    assert load_config(str(path)) == cfg
    # every key is written
    data = tomllib.loads(text)
    assert set(data) == {"seed", "circuit", "task", "tonic", "training", "simulation", "output"}
    assert set(data["circuit"]) == {f.name for f in dataclasses.fields(CircuitConfig)}
    assert set(data["task"]) == {"name", *cfg.task.params}


def test_dict_round_trip_and_plain_types():
    cfg = default_config()
    d = config_to_dict(cfg)
    assert d["task"]["frequencies_hz"] == [2.0, 3.0, 4.0]  # lists, TOML-shaped
    assert config_from_dict(d) == cfg


def test_partial_config_takes_defaults_and_coerces(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(
        'seed = 7\n[circuit]\nn_units = 16\ntau = 20\n[task]\nfrequencies_hz = [1, 2]\n'
        '[output]\nfigures = false\n',
        encoding="utf-8",
    )
    cfg = load_config(path)
    assert cfg.seed == 7
    assert cfg.circuit.n_units == 16
    assert cfg.circuit.tau == 20.0 and isinstance(cfg.circuit.tau, float)
    assert cfg.task.params["frequencies_hz"] == (1.0, 2.0)
    assert all(isinstance(f, float) for f in cfg.task.params["frequencies_hz"])
    assert cfg.task.params["duration_ms"] == 1000.0
    assert cfg.output.figures is False
    assert cfg.training == TrainingConfig()


def test_toml_string_escaping():
    for s in ['plain', 'quote " and \\ backslash', "tab\tnew\nline", "\x00\x1f\x7f", "ünïcödé ☃ 😀", ""]:
        assert tomllib.loads("v = " + toml_literal(s))["v"] == s


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",))))
def test_toml_string_escaping_property(s):
    assert tomllib.loads("v = " + toml_literal(s))["v"] == s


_finite = dict(allow_nan=False, allow_infinity=False)


@st.composite
def run_configs(draw):
    circuit = CircuitConfig(
        n_units=draw(st.integers(1, 512)),
        connectivity=draw(st.sampled_from(["gaussian", "sparse", "dale", "uniform"])),
        g=draw(st.floats(0, 10, **_finite)),
        p=draw(st.floats(1e-6, 1, **_finite)),
        exc_fraction=draw(st.floats(1e-6, 1 - 1e-6, **_finite)),
        gamma=draw(st.floats(1e-9, 1e3, **_finite)),
        input_init=draw(st.sampled_from(["gaussian", "uniform"])),
        input_scale=draw(st.floats(0, 1e3, **_finite)),
        readout_init=draw(st.sampled_from(["gaussian", "uniform"])),
        readout_scale=draw(st.floats(0, 1e3, **_finite)),
        tau=draw(st.floats(1e-3, 1e4, **_finite)),
        phi=draw(st.sampled_from(["tanh", "relu", "softplus", "sigmoid", "linear"])),
        form=draw(st.sampled_from(["current", "rate"])),
    )
    freqs = draw(st.lists(st.floats(0.01, 400, **_finite), min_size=1, max_size=5, unique=True))
    task = draw(
        st.sampled_from(
            [TaskConfig(name="sine", params={"frequencies_hz": freqs, "amplitude": 2.5})]
            + [TaskConfig(name=n) for n in tasks.available()]
        )
    )
    tonic = TonicConfig(
        parametrization=draw(st.sampled_from(["full", "subset", "lowrank"])),
        fraction=draw(st.floats(1e-6, 1, **_finite)),
        rank=draw(st.integers(1, circuit.n_units)),
        shared_baseline=draw(st.booleans()),
        init_std=draw(st.floats(0, 10, **_finite)),
    )
    lr = draw(st.floats(1e-8, 10, **_finite))
    training = TrainingConfig(
        mode=draw(st.sampled_from(["bias", "bias+readout", "readout", "full"])),
        steps=draw(st.integers(0, 10**6)),
        lr=lr,
        batch_size=draw(st.integers(1, 1024)),
        clip_grad=draw(st.floats(0, 100, **_finite)),
        schedule=draw(st.sampled_from(["constant", "cosine", "step"])),
        lr_min=draw(st.floats(0, lr, **_finite)),
        target_loss=draw(st.floats(0, 10, **_finite)),
        checkpoint_every=draw(st.integers(0, 10**4)),
        log_every=draw(st.integers(1, 10**4)),
        dtype=draw(st.sampled_from(["float32", "float64"])),
    )
    simulation = SimulationConfig(
        dt=draw(st.sampled_from([0.1, 0.5, 1.0])),
        noise_std=draw(st.floats(0, 10, **_finite)),
        method=draw(st.sampled_from(["euler", "exp_euler"])),
        x0_std=draw(st.floats(0, 10, **_finite)),
    )
    output = OutputConfig(n_trials=draw(st.integers(1, 100)), figures=draw(st.booleans()))
    return RunConfig(
        seed=draw(st.integers(0, 2**63 - 1)),
        circuit=circuit, task=task, tonic=tonic, training=training, simulation=simulation,
        output=output,
    )


@settings(max_examples=60, deadline=None)
@given(run_configs())
def test_config_round_trip_property(cfg):
    text = config_to_toml(cfg)
    back = config_from_toml(text)
    assert back == cfg
    assert hash(back) == hash(cfg)
    assert config_to_toml(back) == text
    assert config_from_dict(config_to_dict(cfg)) == cfg


# --------------------------------------------------------------------------- load errors
def _load_text(tmp_path, text):
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match=r"config file not found: .*nope\.toml"):
        load_config(tmp_path / "nope.toml")


def test_directory_is_not_a_config(tmp_path):
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path)


def test_not_utf8(tmp_path):
    path = tmp_path / "c.toml"
    path.write_bytes(b"seed = 1\n# \xff\xfe\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(path)


def test_malformed_toml_names_the_line(tmp_path):
    with pytest.raises(ConfigError, match=r"malformed TOML in config file .*line 3"):
        _load_text(tmp_path, "seed = 1\n[circuit]\ntau = = 3\n")


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("[circut]\nn_units = 3\n", r"unknown config section `\[circut\]`; did you mean `circuit`\?"),
        ("sed = 3\n", r"unknown top-level config key `sed`; did you mean `seed`\?"),
        ("[circuit]\ntua = 3.0\n", r"unknown config key `circuit.tua`; did you mean `circuit.tau`\?"),
        ("[task]\nfrequency_hz = [1.0]\n", r"unknown config key `task.frequency_hz` for task 'sine'; did you mean `task.frequencies_hz`\?"),
        ("circuit = 3\n", r"config section `\[circuit\]` must be a table"),
        ("[circuit]\nn_units = 2.5\n", r"config key `circuit.n_units` must be an int; got 2.5"),
        ("[circuit]\nn_units = true\n", r"config key `circuit.n_units` must be an int; got True"),
        ("[circuit]\ntau = true\n", r"config key `circuit.tau` must be a float; got True"),
        ("[circuit]\ntau = \"10\"\n", r"config key `circuit.tau` must be a float; got '10'"),
        ("[circuit]\ntau = -1.0\n", r"config key `circuit.tau` must be a positive float \(ms\); got -1.0"),
        ("[circuit]\ntau = nan\n", r"config key `circuit.tau` must be a finite float; got nan"),
        ("[circuit]\np = 1.5\n", r"config key `circuit.p` must be a float in \(0, 1\]; got 1.5"),
        ("[circuit]\nexc_fraction = 1\n", r"config key `circuit.exc_fraction` must be a float in \(0, 1\); got 1.0"),
        ("[circuit]\nphi = \"tanhh\"\n", r"config key `circuit.phi` must be one of .*; got 'tanhh' \(did you mean 'tanh'\?\)"),
        ("[circuit]\nn_units = 0\n", r"config key `circuit.n_units` must be a positive int; got 0"),
        ("seed = -1\n", r"config key `seed` must be an int >= 0; got -1"),
        ("[output]\nfigures = 1\n", r"config key `output.figures` must be a bool \(true or false\); got 1"),
        ("[output]\nn_trials = 0\n", r"config key `output.n_trials` must be an int >= 1; got 0"),
        ("[training]\nclip_grad = -1\n", r"config key `training.clip_grad` must be a positive float, or 0"),
        ("[training]\nlr = 0.1\nlr_min = 0.2\n", r"config key `training.lr_min` must lie in \[0, training.lr = 0.1\]"),
        ("[training]\nlog_every = 0\n", r"config key `training.log_every` must be an int >= 1"),
        ("[training]\nmode = \"bias+readuot\"\n", r"`training.mode` .* \(did you mean 'bias\+readout'\?\)"),
        ("[simulation]\ndt = 0\n", r"config key `simulation.dt` must be a positive float \(ms\); got 0.0"),
        ("[simulation]\nmethod = \"rk4\"\n", r"config key `simulation.method` must be one of 'euler', 'exp_euler'; got 'rk4'"),
        ("[tonic]\nrank = 0\n", r"config key `tonic.rank` must be an int >= 1; got 0"),
        ("[circuit]\nn_units = 4\n[tonic]\nparametrization = \"lowrank\"\nrank = 5\n",
         r"config key `tonic.rank` must be <= circuit.n_units = 4"),
        ("[task]\nname = \"sin\"\n", r"config key `task.name` must be one of the registered tasks .*got 'sin' \(did you mean 'sine'\?\)"),
        ("[task]\nname = 3\n", r"config key `task.name` must be a string; got 3"),
        ("[task]\nfrequencies_hz = 2.0\n", r"config key `task.frequencies_hz` must be a list of floats; got 2.0"),
        ("[task]\nfrequencies_hz = [2.0, \"x\"]\n", r"config key `task.frequencies_hz\[1\]` must be a float; got 'x'"),
        ("[task]\nfrequencies_hz = [2.0, 600.0]\n", r"config section `task` is invalid for task 'sine' with dt = 1 ms: .*frequencies_hz"),
        ("[task]\nduration_ms = 100.5\n", r"config section `task` is invalid for task 'sine' with dt = 1 ms"),
    ],
)
def test_load_errors_are_one_line_and_name_the_key(tmp_path, text, pattern):
    with pytest.raises(ConfigError, match=pattern) as info:
        _load_text(tmp_path, text)
    msg = str(info.value)
    assert "\n" not in msg
    assert "c.toml" in msg


def test_unrelated_sections_are_ignored_for_rank_when_not_lowrank():
    cfg = config_from_dict({"circuit": {"n_units": 2}, "tonic": {"rank": 8}})
    assert cfg.tonic.rank == 8


def test_direct_construction_is_validated():
    with pytest.raises(ConfigError, match=r"`circuit.tau` must be a positive float"):
        CircuitConfig(tau=0.0)
    with pytest.raises(ConfigError, match=r"RunConfig.circuit must be a CircuitConfig"):
        RunConfig(circuit={"n_units": 3})  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"unknown config key `task.amp`; |unknown config key `task.amp` for task 'sine'; did you mean `task.amplitude`"):
        TaskConfig(name="sine", params={"amp": 1.0})
    assert CircuitConfig(n_units=3, tau=5).tau == 5.0


def test_config_from_dict_rejects_non_mapping():
    with pytest.raises(ConfigError, match="must be a mapping"):
        config_from_dict([1, 2])  # type: ignore[arg-type]


# --------------------------------------------------------------------------- overrides
def test_overrides_parse_toml_literals_and_bare_words():
    cfg = apply_overrides(
        default_config(),
        [
            "training.steps=10",
            "training.lr=1e-3",
            "circuit.tau=20",
            "circuit.phi=relu",
            'circuit.form="rate"',
            "output.figures=false",
            "task.frequencies_hz=[1.0, 2]",
            " seed = 5 ",
        ],
    )
    assert cfg.training.steps == 10
    assert cfg.training.lr == 1e-3
    assert cfg.circuit.tau == 20.0 and isinstance(cfg.circuit.tau, float)
    assert cfg.circuit.phi == "relu"
    assert cfg.circuit.form == "rate"
    assert cfg.output.figures is False
    assert cfg.task.params["frequencies_hz"] == (1.0, 2.0)
    assert cfg.seed == 5
    # untouched keys keep their values; the input is not modified
    assert cfg.circuit.n_units == 256
    assert default_config().training.steps == 1000


def test_later_override_wins_and_empty_list_is_noop():
    cfg = default_config()
    assert apply_overrides(cfg, []) == cfg
    assert apply_overrides(cfg, ["training.steps=1", "training.steps=2"]).training.steps == 2


@pytest.mark.parametrize(
    ("override", "pattern"),
    [
        ("training.steps", r"malformed override 'training.steps': expected 'section.key=value'"),
        ("steps=3", r"malformed override 'steps=3': the left side must be 'section.key' or 'seed'"),
        ("training.steps.x=3", r"malformed override"),
        ("=3", r"malformed override"),
        ("trainig.steps=3", r"unknown config section `trainig` in override 'trainig.steps=3'; did you mean `training`\?"),
        ("training.step=3", r"unknown config key `training.step` in override 'training.step=3'; did you mean `training.steps`\?"),
        ("task.frequency_hz=[1.0]", r"unknown config key `task.frequency_hz` in override .*did you mean `task.frequencies_hz`\?"),
        ("training.steps=abc", r"override 'training.steps=abc': config key `training.steps` must be an int; got 'abc'"),
        ("training.steps=1.5", r"config key `training.steps` must be an int; got 1.5"),
        ("circuit.g=true", r"config key `circuit.g` must be a float; got True"),
        ("output.figures=yes", r"config key `output.figures` must be a bool \(true or false\); got 'yes'"),
        ("task.frequencies_hz=3", r"config key `task.frequencies_hz` must be a list of floats; got 3"),
        ("seed=x", r"config key `seed` must be an int; got 'x'"),
        ("circuit.phi=relux", r"config key `circuit.phi` must be one of .*\(did you mean 'relu'\?\)"),
        ("training.lr=-1", r"config key `training.lr` must be a positive float; got -1.0"),
        ("task.name=flipflopp", r"override 'task.name=flipflopp': config key `task.name` must be one of the registered tasks"),
    ],
)
def test_override_errors(override, pattern):
    with pytest.raises(ConfigError, match=pattern):
        apply_overrides(default_config(), [override])


def test_override_rejects_non_string_and_non_sequence():
    with pytest.raises(ConfigError, match="must be a 'section.key=value' string"):
        apply_overrides(default_config(), [3])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="`overrides` must be a sequence"):
        apply_overrides(default_config(), "training.steps=3")  # type: ignore[arg-type]


def test_task_switch_drops_defaults_of_the_old_task():
    cfg = apply_overrides(default_config(), ["task.name=flipflop"])
    assert cfg.task == TaskConfig(name="flipflop")


def test_task_switch_carries_shared_non_default_params_and_applies_new_ones_in_any_order():
    cfg = apply_overrides(default_config(), ["task.duration_ms=500"])
    # task param given before the switch still applies to the new task
    switched = apply_overrides(cfg, ["task.n_bits=2", "task.name=flipflop"])
    assert switched.task.name == "flipflop"
    assert switched.task.params["duration_ms"] == 500.0  # carried over
    assert switched.task.params["n_bits"] == 2
    assert switched.task.params["pulse_ms"] == TaskConfig(name="flipflop").params["pulse_ms"]


def test_task_switch_rejects_non_default_params_the_new_task_lacks():
    cfg = apply_overrides(default_config(), ["task.amplitude=2.0"])
    with pytest.raises(ConfigError, match=r"override 'task.name=flipflop': task 'sine' parameter\(s\) `task.amplitude`"):
        apply_overrides(cfg, ["task.name=flipflop"])


def test_override_of_same_task_name_keeps_params():
    cfg = apply_overrides(default_config(), ["task.amplitude=2.0"])
    assert apply_overrides(cfg, ["task.name=sine"]) == cfg


def test_override_result_round_trips():
    cfg = apply_overrides(default_config(), ["task.name=flipflop", "circuit.n_units=8", "tonic.rank=2"])
    assert config_from_toml(config_to_toml(cfg)) == cfg


# --------------------------------------------------------------------------- docs
def test_docs_describe_every_config_key():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "config.md").read_text(encoding="utf-8")
    assert "| `seed` |" in text
    for section in (CircuitConfig, TonicConfig, TrainingConfig, SimulationConfig, OutputConfig):
        assert f"## `[{section._name}]`" in text
        for f in dataclasses.fields(section):
            assert f"| `{f.name}` |" in text, f"{section._name}.{f.name} missing from docs/config.md"
    for name in tasks.available():
        assert f"`{name}`" in text


def test_numpy_scalars_follow_the_same_type_rules():
    import numpy as np

    cfg = config_from_dict({"circuit": {"n_units": np.int64(8), "tau": np.float32(5.0)}, "output": {"figures": np.bool_(False)}})
    assert cfg.circuit.n_units == 8 and type(cfg.circuit.n_units) is int
    assert cfg.circuit.tau == 5.0 and type(cfg.circuit.tau) is float
    assert cfg.output.figures is False
    with pytest.raises(ConfigError, match="`circuit.n_units` must be an int"):
        config_from_dict({"circuit": {"n_units": np.bool_(True)}})
    with pytest.raises(ConfigError, match="`circuit.tau` must be a float"):
        config_from_dict({"circuit": {"tau": np.True_}})


# --------------------------------------------------------------------------- choices come from their owners
def test_choice_lists_are_those_of_the_owning_modules():
    from neurobias.circuit import FORMS, PHI_NAMES
    from neurobias.circuit.connectivity import CONNECTIVITIES, WEIGHT_INITS
    from neurobias.circuit.dynamics import METHODS
    from neurobias.training.model import MODES
    from neurobias.training.schedule import SCHEDULES
    from neurobias.training.tonic import PARAMETRIZATIONS
    from neurobias.circuit import DTYPES

    owned = {"circuit.phi": PHI_NAMES, "circuit.form": FORMS, "circuit.connectivity": CONNECTIVITIES,
             "circuit.input_init": WEIGHT_INITS, "circuit.readout_init": WEIGHT_INITS, "simulation.method": METHODS,
             "training.mode": MODES, "training.schedule": SCHEDULES, "tonic.parametrization": PARAMETRIZATIONS,
             "training.dtype": tuple(DTYPES)}
    for key, choices in owned.items():
        for choice in choices:  # every choice of the owner is accepted ...
            cfg = apply_overrides(default_config(), [f"{key}={choice}"])
            section, name = key.split(".")
            assert getattr(getattr(cfg, section), name) == choice
        with pytest.raises(ConfigError) as info:  # ... and the error lists exactly the owner's choices
            apply_overrides(default_config(), [f"{key}=nope"])
        assert f"must be one of {', '.join(repr(c) for c in choices)}; got 'nope'" in str(info.value)


# --------------------------------------------------------------------------- the fit config
def test_fit_config_defaults_are_tonicfit_defaults():
    import inspect

    from neurobias.config.fit import FIT_KEYS
    from neurobias.fitting import TonicFit

    params = inspect.signature(TonicFit.__init__).parameters
    assert {k: p.default for k, p in params.items() if k not in ("self", "circuit", "conditions", "units",
                                                                  "progress", "device")} == {
        k: default for k, (_, default) in FIT_KEYS.items()}
    for key, (hint, default) in FIT_KEYS.items():  # each declared type takes its default
        assert coerce(default, hint, name=key) == default


def test_fit_config_types_overrides_and_round_trip(tmp_path):
    from neurobias.config.fit import COMPARE_DEFAULTS, fit_config_to_toml, load_fit_config

    path = tmp_path / "fit.toml"
    path.write_text("seed = 4\n[fit]\nsteps = 20\ng = 2\n[preprocess]\nsmooth_ms = 5\n[compare]\nmetrics = ['r2']\n")
    cfg = load_fit_config(path, overrides=["fit.weight_lr=1e-3", "fit.mode=full", "compare.n_shuffles=3"])
    assert cfg["seed"] == cfg["fit"]["seed"] == 4
    assert cfg["fit"]["steps"] == 20 and cfg["fit"]["g"] == 2.0 and type(cfg["fit"]["g"]) is float
    assert cfg["fit"]["weight_lr"] == 1e-3 and cfg["fit"]["mode"] == "full"
    assert cfg["preprocess"]["smooth_ms"] == 5.0 and cfg["preprocess"]["trim"] is True
    assert cfg["compare"] == {**COMPARE_DEFAULTS, "metrics": ("r2",), "n_shuffles": 3}
    assert load_fit_config(None, text=fit_config_to_toml(cfg)) == cfg
    assert load_fit_config(path, seed=9)["fit"]["seed"] == 9
    assert load_fit_config(None, overrides=["seed=2"])["seed"] == 2


@pytest.mark.parametrize(
    ("overrides", "pattern"),
    [
        (["fit.steps=many"], r"^config key `fit.steps` must be an int; got 'many'$"),
        (["fit.weight_lr=x"], r"^config key `fit.weight_lr` must be a float or none; got 'x'$"),
        (["fit.stpes=3"], r"^unknown config key `fit.stpes`; did you mean 'steps'\? \(valid keys: n_units, "),
        (["fitt.steps=3"], r"^unknown config table `\[fitt\]`; did you mean 'fit'\?"),
        (["preprocess.mean_center=rows"], r"^config key `preprocess.mean_center` must be one of 'none', 'condition', "
                                          r"'all'; got 'rows'$"),
        (["compare.metrics=3"], r"^config key `compare.metrics` must be a list of strings; got 3$"),
        (["fit.mode=biass"], r"^config key `fit.mode` must be one of 'bias', .*; got 'biass' \(did you mean 'bias'\?\)$"),
        (["fit.readout=all"], r"^config key `fit.readout` must be one of 'subset', 'linear'; got 'all'$"),
        (["fit.phi=tan"], r"^config key `fit.phi` must be one of .*'tanh'.*; got 'tan'"),
        (["fit.schedule=linear"], r"^config key `fit.schedule` must be one of 'constant', 'cosine', 'step'; got "),
        (["seed=-1"], r"^config key `seed` must be an int >= 0; got -1$"),
        (["fit.a.b=1"], r"^malformed override 'fit.a.b=1'"),
        (["fit.steps"], r"^malformed override 'fit.steps'"),
    ],
)
def test_fit_config_errors_name_the_key(overrides, pattern):
    from neurobias.config.fit import load_fit_config

    with pytest.raises(ConfigError, match=pattern):
        load_fit_config(None, overrides=overrides)


def test_compare_overrides():
    from neurobias.config.fit import compare_overrides

    assert compare_overrides(["compare.n_shuffles=5", "compare.metrics=['r2', 'cca']"]) == {
        "n_shuffles": 5, "metrics": ("r2", "cca")}
    with pytest.raises(ConfigError, match=r"^override 'fit.steps=3': only compare.KEY with KEY in metrics, "):
        compare_overrides(["fit.steps=3"])
    with pytest.raises(ConfigError, match=r"^config key `compare.n_shuffles` must be an int; got 1.5$"):
        compare_overrides(["compare.n_shuffles=1.5"])

"""The one type engine and the one set of argument checks (neurobias.errors), and the one override parser."""
from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from neurobias.config.literals import parse_override, parse_value, toml_document, toml_literal
from neurobias.errors import (
    ConfigError,
    InputError,
    check_choice,
    check_finite,
    check_instance,
    check_number,
    check_positive,
    check_shape,
    coerce,
    describe_type,
)


# --------------------------------------------------------------------------- coerce, type by type
@pytest.mark.parametrize(
    ("value", "hint", "expected"),
    [
        (3, int, 3),
        (np.int64(3), int, 3),
        (3, float, 3.0),
        (np.float32(0.5), float, 0.5),
        (True, bool, True),
        (np.bool_(False), bool, False),
        ("relu", str, "relu"),
        ([1, 2.5], tuple[float, ...], (1.0, 2.5)),
        (np.array([1, 2]), tuple[int, ...], (1, 2)),
        ([1, "a"], tuple[int, str], (1, "a")),
        (["a", "b"], Sequence[str], ("a", "b")),
        (None, float | None, None),
        (2, float | None, 2.0),
        ("x", Literal["x", "y"], "x"),
        ([1, [2, 3]], Any, (1, (2, 3))),
        ({"a": 1}, Mapping, {"a": 1}),
    ],
)
def test_coerce_accepts_and_normalises(value, hint, expected):
    out = coerce(value, hint, name="k")
    assert out == expected
    assert type(out) is type(expected)
    if isinstance(expected, tuple):
        assert [type(v) for v in out] == [type(v) for v in expected]


@pytest.mark.parametrize(
    ("value", "hint", "message"),
    [
        (2.5, int, "`k` must be an int; got 2.5"),
        (True, int, "`k` must be an int; got True"),
        (True, float, "`k` must be a float; got True"),
        ("1", float, "`k` must be a float; got '1'"),
        (math.nan, float, "`k` must be a finite float; got nan"),
        (math.inf, float, "`k` must be a finite float; got inf"),
        (1, bool, "`k` must be a bool (true or false); got 1"),
        (3, str, "`k` must be a string; got 3"),
        (3.0, tuple[float, ...], "`k` must be a list of floats; got 3.0"),
        ([1.0, "x"], tuple[float, ...], "`k[1]` must be a float; got 'x'"),
        ([1], tuple[int, str], "`k` must be a list of 2 values; got 1 values"),
        ("z", Literal["x", "y"], "`k` must be one of 'x', 'y'; got 'z'"),
        ("a", float | None, "`k` must be a float or none; got 'a'"),
        (None, float, "`k` must be a float; got None"),
        ([1], Mapping, "`k` must be a table (mapping); got [1]"),
    ],
)
def test_coerce_errors_name_key_expected_and_got(value, hint, message):
    with pytest.raises(InputError) as info:
        coerce(value, hint, name="k")
    assert str(info.value) == message


def test_coerce_nested_keys_and_config_errors():
    with pytest.raises(ConfigError) as info:
        coerce([[1.0], [2.0, "x"]], tuple[tuple[float, ...], ...], name="task.points", error=ConfigError)
    assert str(info.value) == "config key `task.points[1][1]` must be a float; got 'x'"
    assert not isinstance(info.value, InputError)


def test_coerce_rejects_unknown_hints_as_a_bug():
    with pytest.raises(TypeError, match="unsupported type"):
        coerce(1, dict[str, int], name="k")


def test_describe_type():
    assert describe_type(int) == "an int"
    assert describe_type(tuple[float, ...]) == "a list of floats"
    assert describe_type(tuple[Any, ...]) == "a list"
    assert describe_type(int | None) == "an int or none"


# --------------------------------------------------------------------------- argument checks
@pytest.mark.parametrize(
    ("kwargs", "value", "message"),
    [
        (dict(gt=0), -1, "`x` must be a positive float; got -1.0"),
        (dict(gt=0, units="ms"), 0, "`x` must be a positive float (ms); got 0.0"),
        (dict(ge=1, integer=True), 0, "`x` must be an int >= 1; got 0"),
        (dict(ge=1, integer=True), 1.5, "`x` must be an int >= 1; got 1.5"),
        (dict(gt=0, le=1), 1.5, "`x` must be a float in (0, 1]; got 1.5"),
        (dict(gt=0, lt=1), 1, "`x` must be a float in (0, 1); got 1.0"),
        (dict(ge=0, le=3, integer=True), 4, "`x` must be an int in [0, 3]; got 4"),
        (dict(lt=2), 2, "`x` must be a float < 2; got 2.0"),
        (dict(le=2), 3, "`x` must be a float <= 2; got 3.0"),
        (dict(gt=1), 1, "`x` must be a float > 1; got 1.0"),
        (dict(), "a", "`x` must be a float; got 'a'"),
        (dict(gt=0), math.nan, "`x` must be a positive float; got nan"),
        (dict(gt=0), True, "`x` must be a positive float; got True"),
    ],
)
def test_check_number_errors(kwargs, value, message):
    with pytest.raises(InputError) as info:
        check_number("x", value, **kwargs)
    assert str(info.value) == message


def test_check_number_returns_normalised_values_at_the_bounds():
    assert check_number("x", 0, ge=0) == 0.0 and type(check_number("x", 0, ge=0)) is float
    assert check_number("x", np.int32(3), ge=0, le=3, integer=True) == 3
    assert type(check_number("x", np.int32(3), integer=True)) is int
    assert check_positive("x", 1e-300) == 1e-300
    assert check_positive("n", 2, integer=True) == 2
    with pytest.raises(ConfigError, match=r"^config key `a.b` must be a positive int; got 0$"):
        check_positive("a.b", 0, integer=True, error=ConfigError)


def test_check_choice():
    assert check_choice("phi", "tanh", ("tanh", "relu")) == "tanh"
    with pytest.raises(InputError) as info:
        check_choice("phi", "tanhh", ("tanh", "relu"))
    assert str(info.value) == "`phi` must be one of 'tanh', 'relu'; got 'tanhh' (did you mean 'tanh'?)"
    with pytest.raises(InputError, match=r"^`n` must be one of 0, 1; got True$"):
        check_choice("n", True, (0, 1))  # a bool is not the int 1
    with pytest.raises(ConfigError, match=r"^config key `circuit.form` must be one of 'current', 'rate'; got 3$"):
        check_choice("circuit.form", 3, ("current", "rate"), error=ConfigError)


def test_check_instance_shape_and_finite():
    assert check_instance("x", 1, int) == 1
    with pytest.raises(InputError, match=r"^`x` must be a neurobias Circuit; got int$"):
        check_instance("x", 1, str, what="a neurobias Circuit")
    with pytest.raises(InputError, match=r"^`x` must be a str; got int$"):
        check_instance("x", 1, str)
    a = np.zeros((2, 256))
    assert check_shape("bias", a, (2, 256)) is a
    assert check_shape("bias", a, (None, 256)) is a
    with pytest.raises(InputError) as info:
        check_shape("bias", np.zeros(256), (2, 256), dims=("context", "unit"))
    assert str(info.value) == "`bias` must have shape (context, unit) = (2, 256); got (256,)"
    with pytest.raises(InputError, match=r"^`w` must have shape \(\*, 3\); got \(2, 4\)$"):
        check_shape("w", np.zeros((2, 4)), (None, 3))
    assert check_finite("w", [1.0, 2.0]) == [1.0, 2.0]
    with pytest.raises(InputError, match=r"^`w` must be finite; it has 2 NaN or infinite entries$"):
        check_finite("w", [np.nan, 1.0, -np.inf])


# --------------------------------------------------------------------------- the override parser and TOML literals
@pytest.mark.parametrize(
    ("text", "path", "value"),
    [
        ("training.steps=10", ("training", "steps"), 10),
        ("circuit.g = 1.5", ("circuit", "g"), 1.5),
        ("circuit.phi=relu", ("circuit", "phi"), "relu"),
        ('task.name="sine"', ("task", "name"), "sine"),
        ("output.figures=false", ("output", "figures"), False),
        ("task.frequencies_hz=[1.0, 2]", ("task", "frequencies_hz"), [1.0, 2]),
        ("seed=3", ("seed",), 3),
        ("a.b=x=y", ("a", "b"), "x=y"),
        ("a.b=", ("a", "b"), ""),
    ],
)
def test_parse_override(text, path, value):
    assert parse_override(text) == (path, value)


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("training.steps", r"malformed override 'training.steps': expected 'section.key=value'"),
        ("=3", r"malformed override '=3': the left side must be"),
        ("a..b=3", r"malformed override 'a..b=3'"),
        (3, r"override must be a 'section.key=value' string; got 3"),
    ],
)
def test_parse_override_errors(text, pattern):
    with pytest.raises(ConfigError, match=pattern):
        parse_override(text)


_scalars = st.one_of(st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=False, allow_infinity=False),
                     st.text(alphabet=st.characters(blacklist_categories=("Cs",))))


@given(st.one_of(_scalars, st.lists(_scalars, max_size=4), st.dictionaries(st.text(min_size=1), _scalars, max_size=3)))
def test_toml_literal_reads_back_as_the_same_value(value):
    text = toml_literal(value)
    assert tomllib.loads(f"v = {text}")["v"] == value
    if not isinstance(value, (str, dict)):
        assert parse_value(text) == value


def test_toml_literal_errors_name_the_key():
    with pytest.raises(ConfigError, match=r"config key `circuit.g` must be finite to be written as TOML; got nan"):
        toml_literal(math.nan, "circuit.g")
    with pytest.raises(ConfigError, match=r"config key `k` holds object"):
        toml_literal(object(), "k")


def test_toml_document_order_tables_and_none():
    values = {"seed": 3, "note": None, "b": {"x": 1.5, "skip": None, "opts": {"k": [1, 2]}}, "a": {"s": "t"}}
    text = toml_document(values)
    assert text == 'seed = 3\n\n[b]\nx = 1.5\nopts = { k = [1, 2] }\n\n[a]\ns = "t"\n'
    assert tomllib.loads(text) == {"seed": 3, "b": {"x": 1.5, "opts": {"k": [1, 2]}}, "a": {"s": "t"}}


def test_is_int_is_real_and_require():
    import numpy as np

    from neurobias.errors import ConfigError, InputError, is_int, is_real, require

    assert is_int(3) and is_int(np.int64(3)) and not is_int(True) and not is_int(np.bool_(True)) and not is_int(3.0)
    assert is_real(2.5) and is_real(np.float32(1)) and is_real(4) and not is_real(float("inf"))
    assert not is_real(float("nan")) and not is_real(False) and not is_real("1")
    require("steps", True, "an integer >= 0", -1)
    with pytest.raises(InputError, match=r"^`steps` must be an integer >= 0; got -1$"):
        require("steps", False, "an integer >= 0", -1)
    with pytest.raises(ConfigError, match="`lr` must be a positive number; got 'x'"):
        require("lr", False, "a positive number", "x", error=ConfigError)

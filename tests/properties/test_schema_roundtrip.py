"""Schema round trip (Hypothesis): random valid Datasets of every file kind survive write_dataset + read_dataset.

The Datasets are generated from :data:`neurobias.io.schema.SPECS` itself, so a
kind added to the schema is covered without touching this file: every required
variable and coordinate with its exact dims and a random dtype of its class,
optional variables of each pattern, every required attribute of its type, and
extra attributes (global and per variable).  Sizes include 0 (empty
dimensions); floats include NaN, infinities and -0.0; strings any Unicode text
but NUL.  Read back, everything must be identical: names, dims, dtypes (strings
may come back as object arrays of str), the bytes of every number, and every
attribute plus the header (``kind``, ``schema_version``, ``neurobias_version``).
"""
from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import neurobias
from neurobias.io import read_dataset, write_dataset
from neurobias.io.schema import KINDS, SCHEMA_VERSION, SPECS, VariableSpec

SETTINGS = settings(max_examples=10, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

TEXT = st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=6)
NAME = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
FLOATS = st.floats(allow_nan=True, allow_infinity=True, width=64)
INT64 = st.integers(-(2**63), 2**63 - 1)
# dtypes a variable of each dtype class may have on disk
DTYPES = {
    "float": ("float64", "float32"),
    "real": ("float64", "int64", "int32"),
    "int": ("int64", "int32", "int8", "uint16"),
    "str": ("str",),
    "numeric": ("bool", "int8", "float64"),
    "scalar": ("float64", "int64", "str", "bool"),
}


@st.composite
def values(draw, dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    if dtype == "str":
        flat = draw(st.lists(TEXT, min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
        return np.array(flat, dtype=str).reshape(shape)
    if dtype.startswith("float"):
        elements = st.floats(allow_nan=True, allow_infinity=True, width=int(dtype[5:]))
        return draw(hnp.arrays(dtype, shape, elements=elements))
    return draw(hnp.arrays(dtype, shape))


@st.composite
def attribute(draw, typ: str | None = None):  # noqa: ANN201
    """A value of attribute type ``typ`` of the schema, or (None) any value netCDF stores as it is."""
    if typ == "float":
        return draw(FLOATS)
    if typ == "int":
        return draw(INT64)
    if typ == "str":
        return draw(TEXT)
    if typ == "sha256":
        return draw(st.from_regex(r"[0-9a-f]{64}", fullmatch=True))
    kind = draw(st.sampled_from(["float", "int", "str", "float_array", "int_array", "str_list"]))
    if kind in ("float", "int", "str"):
        return draw(attribute(kind))
    if kind == "str_list":
        return draw(st.lists(TEXT.filter(bool), min_size=2, max_size=4))
    dtype = "float64" if kind == "float_array" else "int64"
    return draw(hnp.arrays(dtype, st.integers(2, 4), elements=FLOATS if kind == "float_array" else INT64))


def _dims(kind: str) -> list[str]:
    spec = SPECS[kind]
    specs = [*spec.variables.values(), *spec.coords.values(), *spec.optional_variables.values()]
    return sorted({d for v in specs for d in v.dims})


@st.composite
def datasets(draw, kind: str) -> xr.Dataset:
    spec = SPECS[kind]
    sizes = {d: draw(st.integers(0, 3)) for d in _dims(kind)}

    def variable(name: str, v: VariableSpec) -> tuple:
        dtype = draw(st.sampled_from(DTYPES[v.dtype]))
        attrs = draw(st.dictionaries(st.sampled_from(["long_name", "units", "note"]), TEXT, max_size=2))
        return (v.dims, draw(values(dtype, tuple(sizes[d] for d in v.dims))), attrs)

    data_vars = {name: variable(name, v) for name, v in spec.variables.items()}
    for prefix, v in spec.optional_variables.items():
        for suffix in draw(st.lists(NAME, max_size=2, unique=True)):
            data_vars[prefix + suffix] = variable(prefix + suffix, v)
    coords = {name: variable(name, v) for name, v in spec.coords.items()}
    attrs = {name: draw(attribute(typ)) for name, typ in spec.attrs.items()}
    for before, after, typ in spec.paired_attr_prefixes:
        for suffix in draw(st.lists(NAME, max_size=2, unique=True)):
            attrs[before + suffix] = draw(attribute(typ))
            attrs[after + suffix] = draw(attribute(typ))
    extra = draw(st.dictionaries(NAME.map(lambda s: "x_" + s), attribute(), max_size=4))
    return xr.Dataset(data_vars, coords=coords, attrs={**attrs, **extra})


def _same_values(a: np.ndarray, b: np.ndarray, name: str) -> None:
    assert a.shape == b.shape, name
    if a.size == 0:
        return  # an empty array carries no values (its dtype may change, see neurobias.io.schema)
    if a.dtype.kind in "USO":
        assert b.dtype.kind in "USO", (name, b.dtype)
        assert [str(v) for v in a.ravel()] == [str(v) for v in b.ravel()], name
        return
    assert a.dtype == b.dtype, (name, a.dtype, b.dtype)
    assert a.tobytes() == b.tobytes(), name  # bitwise: NaN payloads and -0.0 included


def _same_attr(a: object, b: object, name: str) -> None:
    if isinstance(a, str) or (isinstance(a, list) and a and isinstance(a[0], str)):
        assert a == b, (name, a, b)
        return
    xa, xb = np.asarray(a), np.asarray(b)
    assert xa.shape == xb.shape, (name, a, b)
    assert (xa.dtype.kind in "iu") == (xb.dtype.kind in "iu"), (name, a, b)
    assert np.array_equal(xa, xb, equal_nan=True), (name, a, b)


def assert_round_trip(original: xr.Dataset, back: xr.Dataset, kind: str) -> None:
    assert set(back.data_vars) == set(original.data_vars)
    assert set(back.coords) == set(original.coords)
    assert dict(back.sizes) == dict(original.sizes)
    for name, var in original.variables.items():
        got = back.variables[name]
        assert got.dims == var.dims, name
        _same_values(np.asarray(var.values), np.asarray(got.values), str(name))
        if name in original.coords and not str(var.attrs.get("long_name", "")).strip():
            # write_dataset describes a coordinate that came without a description
            # (neurobias.io.schema.describe_coordinates); nothing else may be added
            assert set(var.attrs) <= set(got.attrs) <= set(var.attrs) | {"long_name", "units"}, name
            assert isinstance(got.attrs["long_name"], str) and got.attrs["long_name"].strip(), name
            kept = {key: value for key, value in var.attrs.items() if key not in ("long_name", "units")}
        else:
            assert set(got.attrs) == set(var.attrs), name
            kept = dict(var.attrs)
        for key, value in kept.items():
            _same_attr(value, got.attrs[key], f"{name}.{key}")
    header = {"kind": kind, "schema_version": SCHEMA_VERSION, "neurobias_version": neurobias.__version__}
    assert set(back.attrs) == set(original.attrs) | set(header)
    for key, value in {**original.attrs, **header}.items():
        _same_attr(value, back.attrs[key], key)


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_round_trips(kind, tmp_path_factory):
    directory = tmp_path_factory.mktemp(kind)

    @SETTINGS
    @given(ds=datasets(kind))
    def round_trip(ds: xr.Dataset) -> None:
        path = write_dataset(ds, directory / "file.nc", kind=kind)
        assert_round_trip(ds, read_dataset(path, kind=kind), kind)

    round_trip()
